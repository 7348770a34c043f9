/* fixcodec internals shared by the framer, parser, encoder and rewrite. Not part of the API. */
#ifndef FIX_CODEC_PVT_H
#define FIX_CODEC_PVT_H

#include <stdint.h>
#include <string.h>

#include "fix_msg.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Tag classes, looked up once per field by the parser. Tags below FIX_TC_SMALL use a table;
 * the few larger special tags (1128, 1129, 1156 and the FIX 5.0 data lengths) a function. */
#define FIX_TC_HDR 1u  /* standard header tag of some supported version */
#define FIX_TC_LEN 2u  /* Length tag of a data field (95 for 96, ...) */
#define FIX_TC_TRL 4u  /* standard trailer tag (93, 89, 10) */
#define FIX_TC_SMALL 1024u

/* The library is built position-independent: hidden visibility lets the codec's own tables
 * be addressed directly instead of through the GOT (one load less per lookup). */
#define FIX_PVT_DATA __attribute__((visibility("hidden")))

extern FIX_PVT_DATA const uint8_t fix_tag_class_small[FIX_TC_SMALL];
uint8_t fix_tag_class_big(uint32_t tag);

/* Bit tag / 16 of word tag % 16 set for every tag below FIX_TC_SMALL whose class is not 0
 * (the fast parser's one test per field; fix_parse.c). */
extern FIX_PVT_DATA const uint64_t fix_tag_special_bits[16];

static inline uint8_t fix_tag_class(uint32_t tag)
{
	return tag < FIX_TC_SMALL ? fix_tag_class_small[tag] : fix_tag_class_big(tag);
}

/* Largest tag number accepted: tags are FIX "int" values, and keeping them below 2^31 lets
 * fix_msg.err_tag carry a negative tag as its two's complement without ambiguity. */
#define FIX_MAX_TAG 2147483647u

/* Byte sum of [p, p+len). SSE2's PSADBW adds 16 bytes per instruction; a last partial
 * chunk is read as the 16 bytes ending at p+len with the already counted ones masked off, so
 * nothing outside [p, p+len) is ever read (the guard-page tests rely on that). */
extern FIX_PVT_DATA const uint8_t fix_sum_tail_mask[32];
static inline uint32_t fix_sum_inline(const char *p, size_t len)
{
	uint32_t s = 0;
	size_t i = 0;
#ifdef __SSE2__
	if (len >= 16) {
		const __m128i zero = _mm_setzero_si128();
		/* Two accumulators, 32 bytes per step: half the loop overhead, two chains. */
		__m128i acc = zero, acc2 = zero;
		for (; i + 32 <= len; i += 32) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
			acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
			acc2 = _mm_add_epi64(acc2, _mm_sad_epu8(w, zero));
		}
		if (i + 16 <= len) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
			i += 16;
		}
		size_t r = len - i;
		if (r != 0) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + len - 16));
			__m128i k = _mm_loadu_si128((const __m128i *)(const void *)
						    (fix_sum_tail_mask + r));
			acc2 = _mm_add_epi64(acc2, _mm_sad_epu8(_mm_and_si128(v, k), zero));
		}
		acc = _mm_add_epi64(acc, acc2);
		return (uint32_t)_mm_cvtsi128_si32(acc) +
		       (uint32_t)_mm_cvtsi128_si32(_mm_unpackhi_epi64(acc, acc));
	}
#endif
	for (; i < len; i++)
		s += (unsigned char)p[i];
	return s;
}

/* Unsigned decimal digits only: FIX_OK, FIX_E_FORMAT (empty or a non-digit, which wins over
 * overflow) or FIX_E_RANGE (more than 2^64-1). */
static inline int fix_parse_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	int over = 0;
	if (len == 0)
		return FIX_E_FORMAT;
	if (len <= 19) {
		/* Nineteen digits cannot overflow: no check per digit (BodyLength, MsgSeqNum). */
		for (size_t i = 0; i < len; i++) {
			unsigned c = (unsigned char)v[i] - '0';
			if (c > 9)
				return FIX_E_FORMAT;
			n = n * 10 + c;
		}
		*out = n;
		return FIX_OK;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)v[i] - '0';
		if (c > 9)
			return FIX_E_FORMAT;
		if (n > 1844674407370955161ull || (n == 1844674407370955161ull && c > 5))
			over = 1;
		n = n * 10 + c;
	}
	if (over)
		return FIX_E_RANGE;
	*out = n;
	return FIX_OK;
}

/* The reference parser: handles every input, field by field. fix_parse runs a faster path for
 * the common case and falls back to this one for everything else; tests and the fuzzer
 * compare the two. Same contract as fix_parse. */
int fix_parse_ref(struct fix_msg *m, const char *buf, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t fix_days_from_civil(int y, unsigned m, unsigned d);

/* "00".."99": two digits per table load when formatting numbers. */
extern FIX_PVT_DATA const char fix_digit_pairs[200];

/* Writes "10=ddd<SOH>" (7 bytes) for a byte sum. Inline: the rewrite's last step. */
static inline void fix_put_trailer(char *out, uint32_t sum)
{
	unsigned ck = sum & 0xff;
	out[0] = '1';
	out[1] = '0';
	out[2] = '=';
	out[3] = (char)('0' + ck / 100);
	memcpy(out + 4, fix_digit_pairs + 2 * (ck % 100), 2);
	out[6] = FIX_SOH;
}

/* Number of decimal digits of v (1..20), by comparisons rather than divisions. */
static inline unsigned fix_u64_digits(uint64_t v)
{
	unsigned n = 1;
	for (;;) {
		if (v < 10)
			return n;
		if (v < 100)
			return n + 1;
		if (v < 1000)
			return n + 2;
		if (v < 10000)
			return n + 3;
		v /= 10000;
		n += 4;
	}
}

/* Writes the decimal digits of v at out (no NUL), returns how many (1..20). Two digits per
 * step, written backwards from the known end: no temporary, no memcpy. */
static inline size_t fix_u64_to_str(uint64_t v, char *out)
{
	unsigned n = fix_u64_digits(v);
	char *p = out + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, fix_digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, fix_digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return n;
}

/* memcpy for the short strings of FIX fields (CompIDs, IDs, symbols): up to 16 bytes with
 * two overlapping loads and stores, which the compiler turns into plain moves instead of a
 * library call; never touches a byte outside [src, src+n) or [dst, dst+n). */
static inline void fix_copy(char *dst, const char *src, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;
		memcpy(&a, src, 4);
		memcpy(&b, src + n - 4, 4);
		memcpy(dst, &a, 4);
		memcpy(dst + n - 4, &b, 4);
	} else if (n < 4) {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	} else {
		memcpy(dst, src, n);
	}
}

/* Byte sum of bytes just written by small stores, one byte at a time: a 16-byte load over
 * them cannot be served by store forwarding and stalls until the stores retire (measured:
 * encoding 30% slower with PSADBW on its own output). */
static inline uint32_t fix_sum_fresh(const char *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += (unsigned char)p[i];
	return s;
}

#endif
