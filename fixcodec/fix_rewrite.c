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
	memcpy(w, tag_eq, tl); /* tl is a constant at every call: one or two moves */
	return w + tl;
}

static inline char *put_field(char *w, const char *tag_eq, size_t tl, const char *v, size_t vl)
{
	w = put_tag(w, tag_eq, tl);
	fix_copy(w, v, vl);
	w[vl] = FIX_SOH;
	return w + vl + 1;
}

/* SendingTime at millisecond precision within the cached second (nearly every forwarded
 * message) without the call and the checks of fix_format_utc, which handles the rest. */
static inline size_t put_utc(struct fix_time_cache *tc, int64_t ns, enum fix_time_precision p,
			     char *out)
{
	uint64_t in_sec = (uint64_t)(ns - tc->sec_start_ns);
	if (p == FIX_TIME_MS && ns >= 0 && tc->sec_start_ns >= 0 && tc->second[0] != '\0' &&
	    in_sec < 1000000000u) {
		unsigned ms = (unsigned)in_sec / 1000000u;
		memcpy(out, tc->second, 17);
		out[17] = '.';
		out[18] = (char)('0' + ms / 100);
		memcpy(out + 19, fix_digit_pairs + 2 * (ms % 100), 2);
		return 21;
	}
	return fix_format_utc(tc, ns, p, out);
}

static inline char *put_time(char *w, const char *tag_eq, size_t tl, struct fix_time_cache *tc,
			     int64_t ns, enum fix_time_precision p)
{
	w = put_tag(w, tag_eq, tl);
	w += put_utc(tc, ns, p, w);
	*w = FIX_SOH;
	return w + 1;
}

/* Decimal digits of v, n of them (fix_u64_digits(v)), at out. BodyLength and MsgSeqNum have
 * at most 4 digits nearly always: straight-line code for those, no divide-by-100 chain. */
static inline void put_digits(char *out, uint64_t v, unsigned n)
{
	if (n <= 4) {
		unsigned x = (unsigned)v, hi = x / 100, lo = x % 100;
		switch (n) {
		case 4:
			memcpy(out, fix_digit_pairs + 2 * hi, 2);
			memcpy(out + 2, fix_digit_pairs + 2 * lo, 2);
			return;
		case 3:
			out[0] = (char)('0' + hi);
			memcpy(out + 1, fix_digit_pairs + 2 * lo, 2);
			return;
		case 2:
			memcpy(out, fix_digit_pairs + 2 * lo, 2);
			return;
		default:
			out[0] = (char)('0' + lo);
			return;
		}
	}
	char *p = out + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, fix_digit_pairs + 2 * r, 2);
	}
	if (v >= 10)
		memcpy(p - 2, fix_digit_pairs + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
}

static inline char *put_uint(char *w, const char *tag_eq, size_t tl, uint64_t v, unsigned n)
{
	w = put_tag(w, tag_eq, tl);
	put_digits(w, v, n);
	w[n] = FIX_SOH;
	return w + n + 1;
}

/* Writes the whole new header (8 to the last header field) at w, exactly hlen bytes. Inline
 * in the usual (not aliased) case: the call with nine arguments cost as much as a field. */
static inline __attribute__((always_inline)) void
write_header(char *w, const struct fix_out_header *h, const char *bs, size_t bsl, size_t mtl,
	     size_t body_length, unsigned bl_digits, unsigned seq_digits, struct fix_time_cache *tc)
{
	w = put_field(w, "8=", 2, bs, bsl);
	w = put_uint(w, "9=", 2, body_length, bl_digits);
	w = put_field(w, "35=", 3, h->msg_type, mtl);
	w = put_uint(w, "34=", 3, h->seq, seq_digits);
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

__attribute__((noinline, cold)) static void
write_header_aside(char *w, const struct fix_out_header *h, const char *bs, size_t bsl, size_t mtl,
		   size_t body_length, unsigned bl_digits, unsigned seq_digits,
		   struct fix_time_cache *tc)
{
	write_header(w, h, bs, bsl, mtl, body_length, bl_digits, seq_digits, tc);
}

/* Whether a string of the new header may lie in the bytes the header overwrites,
 * [start, body). Every string is shorter than FIX_MAX_REWRITE_HEADER (checked before), so
 * one that overlaps starts in [start - FIX_MAX_REWRITE_HEADER, body): one subtraction and
 * one unsigned compare per string (on integers: the pointers need not point into one
 * object). A string that merely starts in the FIX_MAX_REWRITE_HEADER bytes before start
 * counts too, which only sends the rewrite down the safe path. */
static inline bool near(const char *p, uintptr_t lo, uintptr_t span)
{
	return (uintptr_t)p - lo < span;
}

int fix_rewrite(const struct fix_msg *m, const struct fix_out_header *h, size_t headroom,
		char **out, size_t *out_len)
{
	/* BeginString without the call to fix_version_str (which must agree: the tests
	 * compare the rewritten 8= with it for every version). */
	const char *bs;
	size_t bsl;
	switch (h->ver) {
	case FIX_VER_42:
		bs = "FIX.4.2";
		bsl = 7;
		break;
	case FIX_VER_44:
		bs = "FIX.4.4";
		bsl = 7;
		break;
	case FIX_VER_T11:
		bs = "FIXT.1.1";
		bsl = 8;
		break;
	default:
		return FIX_E_BAD_BEGIN;
	}
	if (h->msg_type == NULL || h->msg_type[0] == '\0')
		return FIX_E_FORMAT;
	uint32_t body_off = m->hdr.body_off, trailer_off = m->hdr.trailer_off;
	if (trailer_off < body_off || (size_t)trailer_off + 7 > m->len)
		return FIX_E_NO_ROOM;

	/* Lengths first, so the header can be written straight to where it ends at the body. */
	size_t mtl = 0; /* MsgType values are 1 to 3 bytes: no strlen call */
	while (h->msg_type[mtl] != '\0')
		mtl++;
	size_t tml = time_len(h->precision);
	unsigned seq_digits = fix_u64_digits(h->seq);
	size_t rest = (3 + mtl + 1) + (3 + seq_digits + 1) +
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
	size_t body_length = rest + body_len;
	unsigned bl_digits = fix_u64_digits(body_length);
	size_t hlen = 2 + bsl + 1 + 2 + bl_digits + 1 + rest;
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
	uintptr_t lo = (uintptr_t)start - FIX_MAX_REWRITE_HEADER;
	uintptr_t span = hlen + FIX_MAX_REWRITE_HEADER;
	bool alias = near(h->sender.p, lo, span) | near(h->target.p, lo, span) |
		     near(h->on_behalf_of.p, lo, span) | near(h->deliver_to.p, lo, span) |
		     near(h->extra.p, lo, span) | near(h->msg_type, lo, span);
	if (__builtin_expect(!alias, 1)) {
		write_header(start, h, bs, bsl, mtl, body_length, bl_digits, seq_digits, tc);
	} else {
		/* h's strings live where the new header goes (e.g. CompIDs taken from the old
		 * header): assemble it aside first. */
		char tmp[FIX_MAX_REWRITE_HEADER + 40];
		write_header_aside(tmp, h, bs, bsl, mtl, body_length, bl_digits, seq_digits, tc);
		memcpy(start, tmp, hlen);
	}
	uint32_t sum = fix_sum_inline(start, hlen) + m->hdr.body_sum;
	fix_put_trailer(body + body_len, sum);
	*out = start;
	*out_len = hlen + body_len + 7;
	return FIX_OK;
}
