/* Header rewrite for forwarding: a new header in front of the body, a new trailer after it;
 * the body bytes stay where they are. */
#include "fix_encode.h"
#include "fix_codec_pvt.h"

/* Length of a formatted UTCTimestamp at precision p (as fix_format_utc writes it). */
static inline size_t time_len(enum fix_time_precision p)
{
	unsigned d = (unsigned)p > 9 ? 9 : (unsigned)p;
	return d == 0 ? 17 : 18 + d;
}

static inline char *put_tag(char *w, const char *tag_eq, size_t tl)
{
	fix_copy(w, tag_eq, tl);
	return w + tl;
}

static inline char *put_field(char *w, const char *tag_eq, size_t tl, const char *v, size_t vl)
{
	w = put_tag(w, tag_eq, tl);
	fix_copy(w, v, vl);
	w[vl] = FIX_SOH;
	return w + vl + 1;
}

static inline char *put_time(char *w, const char *tag_eq, size_t tl, struct fix_time_cache *tc,
			     int64_t ns, enum fix_time_precision p)
{
	w = put_tag(w, tag_eq, tl);
	w += fix_format_utc(tc, ns, p, w);
	*w = FIX_SOH;
	return w + 1;
}

/* Writes the whole new header (8 to the last header field) at w, exactly hlen bytes. */
static void write_header(char *w, const struct fix_out_header *h, const char *bs, size_t bsl,
			 size_t mtl, size_t body_length, struct fix_time_cache *tc)
{
	w = put_field(w, "8=", 2, bs, bsl);
	w = put_tag(w, "9=", 2);
	w += fix_u64_to_str(body_length, w);
	*w++ = FIX_SOH;
	w = put_field(w, "35=", 3, h->msg_type, mtl);
	w = put_tag(w, "34=", 3);
	w += fix_u64_to_str(h->seq, w);
	*w++ = FIX_SOH;
	if (h->poss_dup)
		w = put_field(w, "43=", 3, "Y", 1);
	w = put_field(w, "49=", 3, h->sender.p, h->sender.len);
	w = put_time(w, "52=", 3, tc, h->sending_time_ns, h->precision);
	w = put_field(w, "56=", 3, h->target.p, h->target.len);
	if (h->on_behalf_of.len != 0)
		w = put_field(w, "115=", 4, h->on_behalf_of.p, h->on_behalf_of.len);
	if (h->poss_dup)
		w = put_time(w, "122=", 4, tc, h->orig_sending_time_ns, h->precision);
	if (h->deliver_to.len != 0)
		w = put_field(w, "128=", 4, h->deliver_to.p, h->deliver_to.len);
	if (h->extra.len != 0)
		memcpy(w, h->extra.p, h->extra.len);
}

static inline bool overlaps(struct fix_str s, const char *lo, const char *hi)
{
	return s.len != 0 && s.p < hi && s.p + s.len > lo;
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

	/* Lengths first, so the header can be written straight to where it ends at the body. */
	size_t mtl = strlen(h->msg_type);
	size_t tml = time_len(h->precision);
	size_t rest = (3 + mtl + 1) + (3 + fix_u64_digits(h->seq) + 1) +
		      (3 + h->sender.len + 1) + (3 + tml + 1) + (3 + h->target.len + 1) +
		      h->extra.len;
	if (h->poss_dup)
		rest += 5 + (4 + tml + 1);
	if (h->on_behalf_of.len != 0)
		rest += 4 + h->on_behalf_of.len + 1;
	if (h->deliver_to.len != 0)
		rest += 4 + h->deliver_to.len + 1;
	if (rest > FIX_MAX_REWRITE_HEADER)
		return FIX_E_NO_ROOM;
	size_t body_len = trailer_off - body_off;
	size_t bsl = strlen(bs);
	size_t body_length = rest + body_len;
	size_t hlen = 2 + bsl + 1 + 2 + fix_u64_digits(body_length) + 1 + rest;
	if (hlen > body_off + headroom)
		return FIX_E_NO_ROOM;

	struct fix_time_cache local;
	struct fix_time_cache *tc = h->tc;
	if (tc == NULL) {
		fix_time_cache_init(&local);
		tc = &local;
	}
	/* m->buf is the caller's writable buffer (documented); the const is the parser's view. */
	char *body = (char *)(uintptr_t)m->buf + body_off;
	char *start = body - hlen;
	const char *mt_end = h->msg_type + mtl;
	bool alias = overlaps(h->sender, start, body) || overlaps(h->target, start, body) ||
		     overlaps(h->on_behalf_of, start, body) ||
		     overlaps(h->deliver_to, start, body) || overlaps(h->extra, start, body) ||
		     (h->msg_type < body && mt_end > start);
	if (__builtin_expect(!alias, 1)) {
		write_header(start, h, bs, bsl, mtl, body_length, tc);
	} else {
		/* h's strings live where the new header goes (e.g. CompIDs taken from the old
		 * header): assemble it aside first. */
		char tmp[FIX_MAX_REWRITE_HEADER + 40];
		write_header(tmp, h, bs, bsl, mtl, body_length, tc);
		memcpy(start, tmp, hlen);
	}
	uint32_t sum = fix_sum_inline(start, hlen) + m->hdr.body_sum;
	fix_put_trailer(body + body_len, sum);
	*out = start;
	*out_len = hlen + body_len + 7;
	return FIX_OK;
}
