/* Header rewrite for forwarding: a new header in front of the body, a new trailer after it;
 * the body bytes stay where they are. */
#include "fix_encode.h"
#include "fix_codec_pvt.h"

struct hbuf {
	char *p;
	char *end;
	bool full;
};

static inline void put(struct hbuf *b, const void *s, size_t n)
{
	if ((size_t)(b->end - b->p) < n) {
		b->full = true;
		return;
	}
	memcpy(b->p, s, n);
	b->p += n;
}

/* "tag=" with the tag given as text (all tags here are fixed). */
static inline void put_field(struct hbuf *b, const char *tag_eq, size_t tl, const char *v,
			     size_t vl)
{
	if ((size_t)(b->end - b->p) < tl + vl + 1) {
		b->full = true;
		return;
	}
	fix_copy(b->p, tag_eq, tl);
	fix_copy(b->p + tl, v, vl);
	b->p[tl + vl] = FIX_SOH;
	b->p += tl + vl + 1;
}

static inline void put_time(struct hbuf *b, const char *tag_eq, size_t tl,
			    struct fix_time_cache *tc, int64_t ns, enum fix_time_precision p)
{
	char t[32];
	size_t n = fix_format_utc(tc, ns, p, t);
	put_field(b, tag_eq, tl, t, n);
}

int fix_rewrite(const struct fix_msg *m, const struct fix_out_header *h, size_t headroom,
		char **out, size_t *out_len)
{
	const char *bs = fix_version_str(h->ver);
	if (bs == NULL)
		return FIX_E_BAD_BEGIN;
	if (h->msg_type == NULL || h->msg_type[0] == '\0')
		return FIX_E_FORMAT;
	uint32_t body_off = m->hdr.body_off, trailer_off = m->hdr.trailer_off;
	if (trailer_off < body_off || (size_t)trailer_off + 7 > m->len)
		return FIX_E_NO_ROOM;

	/* Everything after BodyLength, assembled aside: h's strings may live in the old header
	 * that the new one overwrites. */
	char rest[FIX_MAX_REWRITE_HEADER];
	struct hbuf b = {rest, rest + sizeof(rest), false};
	struct fix_time_cache local;
	struct fix_time_cache *tc = h->tc;
	if (tc == NULL) {
		fix_time_cache_init(&local);
		tc = &local;
	}
	char num[20];
	put_field(&b, "35=", 3, h->msg_type, strlen(h->msg_type));
	put_field(&b, "34=", 3, num, fix_u64_to_str(h->seq, num));
	if (h->poss_dup)
		put_field(&b, "43=", 3, "Y", 1);
	put_field(&b, "49=", 3, h->sender.p, h->sender.len);
	put_time(&b, "52=", 3, tc, h->sending_time_ns, h->precision);
	put_field(&b, "56=", 3, h->target.p, h->target.len);
	if (h->on_behalf_of.len != 0)
		put_field(&b, "115=", 4, h->on_behalf_of.p, h->on_behalf_of.len);
	if (h->poss_dup)
		put_time(&b, "122=", 4, tc, h->orig_sending_time_ns, h->precision);
	if (h->deliver_to.len != 0)
		put_field(&b, "128=", 4, h->deliver_to.p, h->deliver_to.len);
	if (h->extra.len != 0)
		put(&b, h->extra.p, h->extra.len);
	if (b.full)
		return FIX_E_NO_ROOM;
	size_t rest_len = (size_t)(b.p - rest);

	size_t body_len = trailer_off - body_off;
	char pre[40];
	size_t bsl = strlen(bs);
	pre[0] = '8';
	pre[1] = '=';
	memcpy(pre + 2, bs, bsl);
	size_t pl = 2 + bsl;
	pre[pl++] = FIX_SOH;
	pre[pl++] = '9';
	pre[pl++] = '=';
	pl += fix_u64_to_str(rest_len + body_len, pre + pl);
	pre[pl++] = FIX_SOH;

	size_t hlen = pl + rest_len;
	if (hlen > body_off + headroom)
		return FIX_E_NO_ROOM;
	/* m->buf is the caller's writable buffer (documented); the const is the parser's view. */
	char *body = (char *)(uintptr_t)m->buf + body_off;
	char *start = body - hlen;
	memcpy(start, pre, pl);
	memcpy(start + pl, rest, rest_len);
	uint32_t sum = fix_sum_inline(start, hlen) + m->hdr.body_sum;
	fix_put_trailer(body + body_len, sum);
	*out = start;
	*out_len = hlen + body_len + 7;
	return FIX_OK;
}
