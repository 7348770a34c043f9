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

/* The header's checksum is added up from the bytes it is made of while they are copied (the
 * words that move the caller's strings, the digit pairs, the time cache's second, the tag
 * constants), not read back from the fresh header: 16-byte loads over bytes just written by
 * small stores cannot be served by store forwarding and wait for the stores to retire
 * (measured: about 8 ns of the rewrite's 35). */

/* Byte sum of the 8 bytes of x (PSADBW; a SWAR fold without SSE2). */
static inline __attribute__((always_inline)) uint32_t sum8(uint64_t x)
{
#ifdef __SSE2__
	__m128i v = _mm_cvtsi64_si128((long long)x);
	return (uint32_t)_mm_cvtsi128_si32(_mm_sad_epu8(v, _mm_setzero_si128()));
#else
	x = (x & 0x00ff00ff00ff00ffull) + ((x >> 8) & 0x00ff00ff00ff00ffull);
	return (uint32_t)((x * 0x0001000100010001ull) >> 48);
#endif
}

/* fix_copy that returns the byte sum of the n bytes, taken from the words it moves; never
 * touches a byte outside [src, src+n) or [dst, dst+n). */
static inline __attribute__((always_inline)) uint32_t copy_sum(char *dst, const char *src,
								size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
		/* b's low 16 - n bytes are a's; a shift of 64 (n == 8) is done as two. */
		return sum8(a) + sum8((b >> (8 * (16 - n) / 2)) >> (8 * (16 - n) / 2));
	}
	if (n >= 4 && n < 8) {
		uint32_t a, b;
		memcpy(&a, src, 4);
		memcpy(&b, src + n - 4, 4);
		memcpy(dst, &a, 4);
		memcpy(dst + n - 4, &b, 4);
		return sum8((uint64_t)a | ((uint64_t)b >> (8 * (8 - n))) << 32);
	}
	if (n < 4) {
		uint32_t sum = 0;
		for (size_t i = 0; i < n; i++) {
			dst[i] = src[i];
			sum += (unsigned char)src[i];
		}
		return sum;
	}
	memcpy(dst, src, n);
	return fix_sum_inline(src, n);
}

/* Byte sums of "tag=" constants, at compile time. */
#define TAG2(a) ((a) + '=')
#define TAG3(a, b) ((a) + (b) + '=')
#define TAG4(a, b, c) ((a) + (b) + (c) + '=')

static inline __attribute__((always_inline)) char *put_tag(char *w, const char *tag_eq, size_t tl)
{
	memcpy(w, tag_eq, tl); /* tl is a constant at every call: one or two moves */
	return w + tl;
}

static inline __attribute__((always_inline)) char *
put_field(char *w, uint32_t *sum, const char *tag_eq, size_t tl, uint32_t tag_sum, const char *v,
	  size_t vl)
{
	w = put_tag(w, tag_eq, tl);
	*sum += tag_sum + copy_sum(w, v, vl) + FIX_SOH;
	w[vl] = FIX_SOH;
	return w + vl + 1;
}

/* Two digits of r (0..99) at out; returns their byte sum, from the word that moves them. */
static inline __attribute__((always_inline)) uint32_t put_pair(char *out, unsigned r)
{
	uint16_t d;
	memcpy(&d, fix_digit_pairs + 2 * r, 2);
	memcpy(out, &d, 2);
	return (d & 0xffu) + (d >> 8);
}

/* SendingTime at millisecond precision within the cached second (nearly every forwarded
 * message) without the call and the checks of fix_format_utc, which handles the rest. */
static inline __attribute__((always_inline)) size_t
put_utc(struct fix_time_cache *tc, int64_t ns, enum fix_time_precision p, char *out, uint32_t *sum)
{
	uint64_t in_sec = (uint64_t)(ns - tc->sec_start_ns);
	size_t n;
	if (p == FIX_TIME_MS && ns >= 0 && tc->sec_start_ns >= 0 && tc->second[0] != '\0' &&
	    in_sec < 1000000000u) {
		unsigned ms = (unsigned)in_sec / 1000000u;
		memcpy(out, tc->second, 17);
		out[17] = '.';
		out[18] = (char)('0' + ms / 100);
		*sum += '.' + '0' + ms / 100 + put_pair(out + 19, ms % 100);
		n = 21;
	} else {
		n = fix_format_utc(tc, ns, p, out);
		/* The fraction, one byte at a time: byte loads from wider stores forward. */
		*sum += fix_sum_fresh(out + 17, n - 17);
	}
	/* The first 17 bytes are always tc->second's, which is written once a second. */
	uint64_t a, b;
	memcpy(&a, tc->second, 8);
	memcpy(&b, tc->second + 8, 8);
	*sum += sum8(a) + sum8(b) + (unsigned char)tc->second[16];
	return n;
}

static inline __attribute__((always_inline)) char *
put_time(char *w, uint32_t *sum, const char *tag_eq, size_t tl, uint32_t tag_sum,
	 struct fix_time_cache *tc, int64_t ns, enum fix_time_precision p)
{
	w = put_tag(w, tag_eq, tl);
	w += put_utc(tc, ns, p, w, sum);
	*w = FIX_SOH;
	*sum += tag_sum + FIX_SOH;
	return w + 1;
}

/* Decimal digits of v, n of them (fix_u64_digits(v)), at out; returns their byte sum.
 * BodyLength and MsgSeqNum have at most 4 digits nearly always: straight-line code for
 * those, no divide-by-100 chain. */
static inline __attribute__((always_inline)) uint32_t put_digits(char *out, uint64_t v,
								  unsigned n)
{
	if (n <= 4) {
		unsigned x = (unsigned)v, hi = x / 100, lo = x % 100;
		switch (n) {
		case 4:
			return put_pair(out, hi) + put_pair(out + 2, lo);
		case 3:
			out[0] = (char)('0' + hi);
			return '0' + hi + put_pair(out + 1, lo);
		case 2:
			return put_pair(out, lo);
		default:
			out[0] = (char)('0' + lo);
			return '0' + lo;
		}
	}
	uint32_t sum = 0;
	char *p = out + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		sum += put_pair(p, r);
	}
	if (v >= 10) {
		sum += put_pair(p - 2, (unsigned)v);
	} else {
		p[-1] = (char)('0' + v);
		sum += '0' + (unsigned)v;
	}
	return sum;
}

static inline __attribute__((always_inline)) char *
put_uint(char *w, uint32_t *sum, const char *tag_eq, size_t tl, uint32_t tag_sum, uint64_t v,
	 unsigned n)
{
	w = put_tag(w, tag_eq, tl);
	*sum += tag_sum + put_digits(w, v, n) + FIX_SOH;
	w[n] = FIX_SOH;
	return w + n + 1;
}

/* Writes the whole new header (8 to the last header field) at w, exactly hlen bytes, and
 * returns its byte sum. Inline in the usual (not aliased) case: the call with nine
 * arguments cost as much as a field. */
static inline __attribute__((always_inline)) uint32_t
write_header(char *w, const struct fix_out_header *h, const char *bs, size_t bsl, size_t mtl,
	     size_t body_length, unsigned bl_digits, unsigned seq_digits, struct fix_time_cache *tc)
{
	uint32_t sum = 0;
	w = put_field(w, &sum, "8=", 2, TAG2('8'), bs, bsl);
	w = put_uint(w, &sum, "9=", 2, TAG2('9'), body_length, bl_digits);
	w = put_field(w, &sum, "35=", 3, TAG3('3', '5'), h->msg_type, mtl);
	w = put_uint(w, &sum, "34=", 3, TAG3('3', '4'), h->seq, seq_digits);
	if (h->poss_dup)
		w = put_field(w, &sum, "43=", 3, TAG3('4', '3'), "Y", 1);
	w = put_field(w, &sum, "49=", 3, TAG3('4', '9'), h->sender.p, h->sender.len);
	w = put_time(w, &sum, "52=", 3, TAG3('5', '2'), tc, h->sending_time_ns, h->precision);
	w = put_field(w, &sum, "56=", 3, TAG3('5', '6'), h->target.p, h->target.len);
	if (h->on_behalf_of.len != 0)
		w = put_field(w, &sum, "115=", 4, TAG4('1', '1', '5'), h->on_behalf_of.p,
			      h->on_behalf_of.len);
	if (h->poss_dup)
		w = put_time(w, &sum, "122=", 4, TAG4('1', '2', '2'), tc,
			     h->orig_sending_time_ns, h->precision);
	if (h->deliver_to.len != 0)
		w = put_field(w, &sum, "128=", 4, TAG4('1', '2', '8'), h->deliver_to.p,
			      h->deliver_to.len);
	if (h->extra.len != 0)
		sum += copy_sum(w, h->extra.p, h->extra.len);
	return sum;
}

__attribute__((noinline, cold)) static uint32_t
write_header_aside(char *w, const struct fix_out_header *h, const char *bs, size_t bsl, size_t mtl,
		   size_t body_length, unsigned bl_digits, unsigned seq_digits,
		   struct fix_time_cache *tc)
{
	return write_header(w, h, bs, bsl, mtl, body_length, bl_digits, seq_digits, tc);
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
	uint32_t sum;
	if (__builtin_expect(!alias, 1)) {
		sum = write_header(start, h, bs, bsl, mtl, body_length, bl_digits, seq_digits, tc);
	} else {
		/* h's strings live where the new header goes (e.g. CompIDs taken from the old
		 * header): assemble it aside first. */
		char tmp[FIX_MAX_REWRITE_HEADER + 40];
		sum = write_header_aside(tmp, h, bs, bsl, mtl, body_length, bl_digits, seq_digits,
					 tc);
		memcpy(start, tmp, hlen);
	}
	sum += m->hdr.body_sum;
	fix_put_trailer(body + body_len, sum);
	*out = start;
	*out_len = hlen + body_len + 7;
	return FIX_OK;
}
