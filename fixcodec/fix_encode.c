/* Encoding into caller buffers (checksum accumulated while appending) and SendingTime
 * formatting with the date part cached. No allocation, no system call. */
#include "fix_encode.h"
#include "fix_codec_pvt.h"

#define NS_PER_SEC 1000000000LL
#define NS_PER_DAY (86400LL * NS_PER_SEC)
#define TRAILER_LEN 7 /* "10=ddd<SOH>" */

static inline void put2(char *out, unsigned v)
{
	memcpy(out, fix_digit_pairs + 2 * v, 2);
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
 * civil_from_days). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400) + (*m <= 2);
}

void fix_time_cache_init(struct fix_time_cache *c)
{
	c->day_start_ns = -1;
	memset(c->date, 0, sizeof(c->date));
	memset(c->second, 0, sizeof(c->second));
	c->sec_start_ns = -1;
}

/* The date changes once a day: recomputing it is the slow part, so it is kept with the
 * day's start and only the time of day is formatted per call. */
static void cache_day(struct fix_time_cache *c, int64_t ns)
{
	int64_t days = ns / NS_PER_DAY;
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	put2(c->date, (unsigned)y / 100 % 100);
	put2(c->date + 2, (unsigned)y % 100);
	put2(c->date + 4, m);
	put2(c->date + 6, d);
	c->date[8] = '\0';
	c->day_start_ns = days * NS_PER_DAY;
}

size_t fix_format_utc(struct fix_time_cache *c, int64_t ns, enum fix_time_precision p, char *out)
{
	struct fix_time_cache local;
	if (c == NULL) {
		fix_time_cache_init(&local);
		c = &local;
	}
	if (ns < 0)
		ns = 0;
	uint64_t in_sec = (uint64_t)(ns - c->sec_start_ns);
	/* An empty text also means empty, so a zero-initialized cache works without init. */
	if (c->sec_start_ns < 0 || c->second[0] == '\0' || in_sec >= NS_PER_SEC) {
		int64_t tod = ns - c->day_start_ns;
		if (c->day_start_ns < 0 || c->date[0] == '\0' || tod < 0 || tod >= NS_PER_DAY) {
			cache_day(c, ns);
			tod = ns - c->day_start_ns;
		}
		unsigned secs = (unsigned)(tod / NS_PER_SEC);
		memcpy(c->second, c->date, 8);
		c->second[8] = '-';
		put2(c->second + 9, secs / 3600);
		c->second[11] = ':';
		put2(c->second + 12, secs / 60 % 60);
		c->second[14] = ':';
		put2(c->second + 15, secs % 60);
		c->sec_start_ns = c->day_start_ns + (int64_t)secs * NS_PER_SEC;
		in_sec = (uint64_t)(ns - c->sec_start_ns);
	}
	memcpy(out, c->second, 17);
	unsigned frac = (unsigned)in_sec;
	unsigned digits = (unsigned)p > 9 ? 9 : (unsigned)p;
	if (digits == 0)
		return 17;
	out[17] = '.';
	switch (digits) {
	case 3: /* the usual precisions as straight-line code: no loop over digits */
		frac /= 1000000;
		out[18] = (char)('0' + frac / 100);
		put2(out + 19, frac % 100);
		return 21;
	case 6:
		frac /= 1000;
		put2(out + 18, frac / 10000);
		put2(out + 20, frac / 100 % 100);
		put2(out + 22, frac % 100);
		return 24;
	case 9:
		out[18] = (char)('0' + frac / 100000000);
		put2(out + 19, frac / 1000000 % 100);
		put2(out + 21, frac / 10000 % 100);
		put2(out + 23, frac / 100 % 100);
		put2(out + 25, frac % 100);
		return 27;
	default:
		for (unsigned i = digits; i < 9; i++)
			frac /= 10;
		for (unsigned i = digits; i > 0; i--) {
			out[17 + i] = (char)('0' + frac % 10);
			frac /= 10;
		}
		return 18 + digits;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Encoder
 * ------------------------------------------------------------------------------------------- */

/* Reserves n bytes (and always room for the trailer); false, with the sticky error set, when
 * they do not fit. */
static inline bool reserve(struct fix_encoder *e, size_t n)
{
	if (__builtin_expect(e->err != FIX_OK, 0))
		return false;
	if (__builtin_expect(e->pos + n + TRAILER_LEN > e->cap, 0)) {
		e->err = FIX_E_NO_ROOM;
		return false;
	}
	return true;
}

/* "tag=" at the current position; the caller reserved room. Returns bytes written. */
static inline size_t put_tag(char *out, uint32_t tag)
{
	size_t n = fix_u64_to_str(tag, out);
	out[n] = '=';
	return n + 1;
}

/* Accounts for the n bytes just written at pos: the checksum grows field by field, so
 * finish never rereads the body. */
static inline void commit(struct fix_encoder *e, size_t n)
{
	e->sum += fix_sum_fresh(e->buf + e->pos, n);
	e->pos += n;
}

void fix_enc_begin(struct fix_encoder *e, char *buf, size_t cap, enum fix_version ver,
		   const char *msg_type, struct fix_time_cache *tc)
{
	e->buf = buf;
	e->cap = cap;
	e->ver = ver;
	e->tc = tc;
	e->err = FIX_OK;
	e->sum = 0;
	e->pos = e->body_start = 0;
	const char *bs = fix_version_str(ver);
	if (bs == NULL) {
		e->err = FIX_E_BAD_BEGIN;
		return;
	}
	/* The gap fits "8=<BeginString><SOH>9=<n><SOH>" for any n below cap; finish writes it
	 * right-aligned, so the message may start a few bytes into buf. */
	size_t gap = 2 + strlen(bs) + 1 + 2 + fix_u64_digits(cap) + 1;
	if (gap + TRAILER_LEN > cap) {
		e->err = FIX_E_NO_ROOM;
		return;
	}
	e->pos = e->body_start = gap;
	fix_enc_cstr(e, 35, msg_type);
}

void fix_enc_str(struct fix_encoder *e, uint32_t tag, const char *s, size_t len)
{
	if (!reserve(e, 10 + 1 + len + 1))
		return;
	char *o = e->buf + e->pos;
	size_t n = put_tag(o, tag);
	/* The value's sum comes from the caller's bytes, not from the fresh copy. */
	e->sum += fix_sum_fresh(o, n) + fix_sum_inline(s, len) + FIX_SOH;
	fix_copy(o + n, s, len);
	n += len;
	o[n++] = FIX_SOH;
	e->pos += n;
}

void fix_enc_cstr(struct fix_encoder *e, uint32_t tag, const char *s)
{
	fix_enc_str(e, tag, s, strlen(s));
}

void fix_enc_uint(struct fix_encoder *e, uint32_t tag, uint64_t v)
{
	if (!reserve(e, 10 + 1 + 20 + 1))
		return;
	char *o = e->buf + e->pos;
	size_t n = put_tag(o, tag);
	n += fix_u64_to_str(v, o + n);
	o[n++] = FIX_SOH;
	commit(e, n);
}

void fix_enc_int(struct fix_encoder *e, uint32_t tag, int64_t v)
{
	if (!reserve(e, 10 + 1 + 21 + 1))
		return;
	char *o = e->buf + e->pos;
	size_t n = put_tag(o, tag);
	uint64_t u = (uint64_t)v;
	if (v < 0) {
		o[n++] = '-';
		u = 0 - u;
	}
	n += fix_u64_to_str(u, o + n);
	o[n++] = FIX_SOH;
	commit(e, n);
}

void fix_enc_char(struct fix_encoder *e, uint32_t tag, char c)
{
	fix_enc_str(e, tag, &c, 1);
}

void fix_enc_bool(struct fix_encoder *e, uint32_t tag, bool v)
{
	fix_enc_char(e, tag, v ? 'Y' : 'N');
}

void fix_enc_decimal(struct fix_encoder *e, uint32_t tag, struct fix_decimal d)
{
	/* |mantissa| has at most 19 digits; with the scale clamped to 18 the text is at most
	 * "-0." plus 19 digits. */
	unsigned scale = d.scale > 18 ? 18 : d.scale;
	char digits[20];
	uint64_t u = d.mantissa < 0 ? 0 - (uint64_t)d.mantissa : (uint64_t)d.mantissa;
	size_t nd = fix_u64_to_str(u, digits);
	char txt[48];
	size_t n = 0;
	if (d.mantissa < 0)
		txt[n++] = '-';
	if (scale == 0) {
		memcpy(txt + n, digits, nd);
		n += nd;
	} else if (nd > scale) {
		memcpy(txt + n, digits, nd - scale);
		n += nd - scale;
		txt[n++] = '.';
		memcpy(txt + n, digits + nd - scale, scale);
		n += scale;
	} else {
		txt[n++] = '0';
		txt[n++] = '.';
		memset(txt + n, '0', scale - nd);
		n += scale - nd;
		memcpy(txt + n, digits, nd);
		n += nd;
	}
	fix_enc_str(e, tag, txt, n);
}

void fix_enc_time(struct fix_encoder *e, uint32_t tag, int64_t ns, enum fix_time_precision p)
{
	if (!reserve(e, 10 + 1 + 27 + 1))
		return;
	char *o = e->buf + e->pos;
	size_t n = put_tag(o, tag);
	n += fix_format_utc(e->tc, ns, p, o + n);
	o[n++] = FIX_SOH;
	commit(e, n);
}

void fix_enc_data(struct fix_encoder *e, uint32_t len_tag, uint32_t data_tag, const void *bytes,
		  size_t len)
{
	fix_enc_uint(e, len_tag, len);
	fix_enc_str(e, data_tag, bytes, len);
}

void fix_enc_raw(struct fix_encoder *e, const char *bytes, size_t len)
{
	if (!reserve(e, len))
		return;
	memcpy(e->buf + e->pos, bytes, len);
	e->sum += fix_sum_inline(bytes, len);
	e->pos += len;
}

size_t fix_enc_finish(struct fix_encoder *e, char **out)
{
	if (e->err != FIX_OK)
		return 0;
	const char *bs = fix_version_str(e->ver);
	size_t bsl = strlen(bs);
	size_t body = e->pos - e->body_start;
	char num[20];
	size_t nd = fix_u64_to_str(body, num);
	size_t start = e->body_start - (3 + nd) - (3 + bsl);
	char *o = e->buf + start;
	o[0] = '8';
	o[1] = '=';
	memcpy(o + 2, bs, bsl);
	o[2 + bsl] = FIX_SOH;
	o += 3 + bsl;
	o[0] = '9';
	o[1] = '=';
	memcpy(o + 2, num, nd);
	o[2 + nd] = FIX_SOH;
	uint32_t sum = fix_sum_inline(e->buf + start, e->body_start - start) + e->sum;
	fix_put_trailer(e->buf + e->pos, sum);
	*out = e->buf + start;
	return e->pos + TRAILER_LEN - start;
}
