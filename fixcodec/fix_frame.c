/* Framing: finds complete FIX messages in a TCP byte stream using BeginString, BodyLength and
 * the CheckSum trailer only, so data fields holding SOH frame correctly. */
#include "fix_codec_pvt.h"

/* Longest BeginString value accepted ("FIXT.1.1" is 8); anything longer is garbage. */
#define MAX_BEGIN_VALUE 16

void fix_framer_init(struct fix_framer *f, uint32_t max_msg)
{
	f->max_msg = max_msg;
	f->want = 0;
	f->hdr_len = 0;
	f->scan = 0;
}

/* 16 zero bytes then 16 0xff: loaded at offset r it keeps the last r bytes of a chunk. */
const uint8_t fix_sum_tail_mask[32] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

uint32_t fix_sum(const char *p, size_t len)
{
	return fix_sum_inline(p, len);
}

static void reset(struct fix_framer *f)
{
	f->want = 0;
	f->hdr_len = 0;
	f->scan = 0;
}

void fix_framer_reset(struct fix_framer *f)
{
	reset(f);
}

/* Bytes to discard so that the buffer starts at the next "8=FIX" after buf[0]; a trailing
 * partial "8=FI" is kept because the rest of it may still arrive. Always at least 1. */
static size_t skip_to_begin(const char *buf, size_t len)
{
	size_t i = 1;
	while (i < len) {
		const char *q = memchr(buf + i, '8', len - i);
		if (q == NULL)
			return len;
		i = (size_t)(q - buf);
		size_t avail = len - i;
		if (memcmp(q, "8=FIX", avail < 5 ? avail : 5) == 0)
			return i;
		i++;
	}
	return len;
}

__attribute__((cold)) static long garbled(struct fix_framer *f, int *err, int code, size_t skip)
{
	reset(f);
	if (err != NULL)
		*err = code;
	return -(long)skip;
}

__attribute__((cold)) static long garbled_begin(struct fix_framer *f, const char *buf, size_t len,
						int *err, int code)
{
	return garbled(f, err, code, skip_to_begin(buf, len));
}

/* Reads "8=FIX...<SOH>9=<n><SOH>" and sets f->want and f->hdr_len. Returns 1 when done,
 * 0 when more bytes are needed, < 0 when garbled (as fix_frame). */
static long read_header(struct fix_framer *f, const char *buf, size_t len, int *err)
{
	if (len < 5)
		return memcmp(buf, "8=FIX", len) == 0 ? 0 :
			garbled_begin(f, buf, len, err, FIX_E_BAD_BEGIN);
	if (memcmp(buf, "8=FIX", 5) != 0)
		return garbled_begin(f, buf, len, err, FIX_E_BAD_BEGIN);

	size_t lim = len < 2 + MAX_BEGIN_VALUE + 1 ? len : 2 + MAX_BEGIN_VALUE + 1;
	const char *soh;
	/* "FIX.4.x" and "FIXT.1.1" end at 9 and 10: look there before searching (the SOH must
	 * be the first one after "8=FIX"). */
	bool clear4 = lim > 9 && buf[5] != FIX_SOH && buf[6] != FIX_SOH && buf[7] != FIX_SOH &&
		      buf[8] != FIX_SOH;
	if (clear4 && buf[9] == FIX_SOH)
		soh = buf + 9;
	else if (clear4 && lim > 10 && buf[10] == FIX_SOH)
		soh = buf + 10;
	else
		soh = memchr(buf + 5, FIX_SOH, lim - 5);
	if (soh == NULL)
		return lim < 2 + MAX_BEGIN_VALUE + 1 ? 0 :
			garbled_begin(f, buf, len, err, FIX_E_BAD_BEGIN);
	size_t i = (size_t)(soh - buf) + 1;

	if (i >= len)
		return 0;
	if (buf[i] != '9')
		return garbled_begin(f, buf, len, err, FIX_E_BAD_BODY_LENGTH);
	if (++i >= len)
		return 0;
	if (buf[i] != '=')
		return garbled_begin(f, buf, len, err, FIX_E_BAD_BODY_LENGTH);
	size_t digits = ++i;
	uint64_t n = 0;
	for (; i < len; i++) {
		unsigned c = (unsigned char)buf[i] - '0';
		if (c > 9)
			break;
		n = n * 10 + c;
		/* A huge BodyLength is refused as soon as its digits say so (the SOH after the
		 * digits is at i + 1 at the earliest, so this bound is exact), without waiting for
		 * bytes that would never be accepted. n stays far below overflow. */
		if (n + i + 2 + 7 > f->max_msg)
			return garbled_begin(f, buf, len, err, FIX_E_TOO_BIG);
	}
	if (i >= len)
		return 0;
	if (i == digits || buf[i] != FIX_SOH)
		return garbled_begin(f, buf, len, err, FIX_E_BAD_BODY_LENGTH);
	f->hdr_len = (uint32_t)(i + 1);
	f->want = (uint32_t)(i + 1 + n + 7);
	f->scan = f->want - 8; /* the SOH before "10=" */
	return 1;
}

/* The trailer is not where BodyLength put it. Like QuickFIX, take the message to end at the
 * first "<SOH>10=...<SOH>" from the declared position on, and discard it all. */
__attribute__((cold)) static long find_extent(struct fix_framer *f, const char *buf, size_t len,
					      int *err)
{
	size_t lim = len < f->max_msg ? len : f->max_msg;
	size_t s = f->scan;
	while (s + 4 <= lim) {
		const char *q = memchr(buf + s, FIX_SOH, lim - s - 3);
		if (q == NULL) {
			s = lim - 3;
			break;
		}
		s = (size_t)(q - buf);
		if (q[1] == '1' && q[2] == '0' && q[3] == '=') {
			const char *e = memchr(q + 4, FIX_SOH, lim - (s + 4));
			if (e == NULL)
				break;
			int code = s == (size_t)f->want - 8 ? FIX_E_BAD_CHECKSUM : FIX_E_BAD_BODY_LENGTH;
			return garbled(f, err, code, (size_t)(e - buf) + 1);
		}
		s++;
	}
	if (lim >= f->max_msg)
		return garbled_begin(f, buf, len, err, FIX_E_BAD_BODY_LENGTH);
	f->scan = (uint32_t)s;
	return 0;
}

static inline long frame(struct fix_framer *f, const char *buf, size_t len, int *err)
{
	if (f->want == 0) {
		long r = read_header(f, buf, len, err);
		if (r <= 0)
			return r;
	}
	size_t want = f->want;
	if (len >= want) {
		const char *t = buf + want - 8;
		unsigned d0 = (unsigned char)t[4] - '0';
		unsigned d1 = (unsigned char)t[5] - '0';
		unsigned d2 = (unsigned char)t[6] - '0';
		if (t[0] == FIX_SOH && t[1] == '1' && t[2] == '0' && t[3] == '=' && d0 <= 9 &&
		    d1 <= 9 && d2 <= 9 && t[7] == FIX_SOH) {
			size_t hdr = f->hdr_len;
			if (hdr + 3 > want - 8 || memcmp(buf + hdr, "35=", 3) != 0)
				return garbled(f, err, FIX_E_MSGTYPE_NOT_THIRD, want);
			if ((fix_sum_inline(buf, want - 7) & 0xff) != d0 * 100 + d1 * 10 + d2)
				return garbled(f, err, FIX_E_BAD_CHECKSUM, want);
			reset(f);
			if (err != NULL)
				*err = FIX_OK;
			return (long)want;
		}
	} else if (len + 7 < want) {
		return 0;
	}
	return find_extent(f, buf, len, err);
}

long fix_frame(struct fix_framer *f, const char *buf, size_t len, int *err)
{
	long r = frame(f, buf, len, err);
	if (r == 0 && err != NULL)
		*err = FIX_E_NEED_MORE;
	return r;
}
