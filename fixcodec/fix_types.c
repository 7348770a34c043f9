/* Error names, versions, tag facts and typed accessors. */
#include "fix_codec_pvt.h"

static const char *const err_names[FIX_E__COUNT] = {
	[FIX_OK] = "ok",
	[FIX_E_NEED_MORE] = "need more bytes",
	[FIX_E_BAD_BEGIN] = "bad BeginString",
	[FIX_E_BAD_BODY_LENGTH] = "bad BodyLength",
	[FIX_E_TOO_BIG] = "message too big",
	[FIX_E_BAD_CHECKSUM] = "bad checksum",
	[FIX_E_MSGTYPE_NOT_THIRD] = "MsgType not third",
	[FIX_E_BAD_TAG] = "invalid tag number",
	[FIX_E_NO_VALUE] = "tag specified without a value",
	[FIX_E_NO_EQUALS] = "field without '='",
	[FIX_E_TOO_MANY_FIELDS] = "too many fields",
	[FIX_E_BAD_DATA_LENGTH] = "data field length mismatch",
	[FIX_E_FORMAT] = "incorrect data format",
	[FIX_E_RANGE] = "value out of range",
	[FIX_E_NOT_FOUND] = "tag not found",
	[FIX_E_NO_ROOM] = "buffer too small",
};

const char *fix_strerror(int err)
{
	if (err < 0 || err >= FIX_E__COUNT || err_names[err] == NULL)
		return "unknown error";
	return err_names[err];
}

enum fix_version fix_version_from(const char *s, size_t len)
{
	if (len == 7 && memcmp(s, "FIX.4.", 6) == 0) {
		if (s[6] == '4')
			return FIX_VER_44;
		if (s[6] == '2')
			return FIX_VER_42;
	} else if (len == 8 && memcmp(s, "FIXT.1.1", 8) == 0) {
		return FIX_VER_T11;
	}
	return FIX_VER_UNKNOWN;
}

const char *fix_version_str(enum fix_version v)
{
	switch (v) {
	case FIX_VER_42:
		return "FIX.4.2";
	case FIX_VER_44:
		return "FIX.4.4";
	case FIX_VER_T11:
		return "FIXT.1.1";
	default:
		return NULL;
	}
}

/* Length tag -> data tag for every data field of FIX 4.2, 4.4, FIXT.1.1 and 5.0 SP2, taken
 * from the standard's field list (type LENGTH named "<X>Len"/"<X>Length" and the DATA or
 * XMLDATA field "<X>"). Tag numbers are global across versions, so one table serves all.
 * Sorted by length tag for the binary search. Not data lengths: 9 BodyLength, 383
 * MaxMessageSize. Some pairs are not adjacent numbers (1525 -> 1527, 2372 -> 2371, ...). */
static const uint32_t data_pairs[][2] = {
	{90, 91}, {93, 89}, {95, 96}, {212, 213}, {348, 349}, {350, 351}, {352, 353},
	{354, 355}, {356, 357}, {358, 359}, {360, 361}, {362, 363}, {364, 365}, {445, 446},
	{618, 619}, {621, 622}, {1184, 1185}, {1277, 1278}, {1280, 1281}, {1282, 1283},
	{1397, 1398}, {1401, 1402}, {1403, 1404}, {1468, 1469}, {1525, 1527}, {1578, 1579},
	{1620, 1621}, {1664, 1665}, {1678, 1697}, {1733, 1734}, {1871, 1872}, {1874, 1875},
	{2072, 2073}, {2074, 2075}, {2111, 2112}, {2179, 2180}, {2287, 2288}, {2351, 2352},
	{2372, 2371}, {2481, 2482}, {2494, 2493}, {2522, 2521}, {2637, 2638}, {2651, 2652},
	{2665, 2666}, {2715, 2716}, {2718, 2719}, {2721, 2722}, {2797, 2798}, {2802, 2801},
	{2809, 2808}, {2815, 2814}, {40004, 40005}, {40008, 40009}, {40978, 40979},
	{40980, 40981}, {40982, 40983}, {40984, 40985}, {40986, 40987}, {40988, 40989},
	{41083, 41084}, {41101, 41102}, {41107, 41108}, {41256, 41257}, {41320, 41321},
	{41324, 41325}, {41458, 41459}, {41476, 41477}, {41482, 41483}, {41653, 41654},
	{41710, 41711}, {41806, 41807}, {41811, 41812}, {41873, 41874}, {41969, 41970},
	{42025, 42026}, {42171, 42172}, {42451, 42452}, {42652, 42653}, {42947, 42948},
	{43109, 42684}, {43110, 42486}, {43111, 42982},
};

uint32_t fix_data_tag_for_length(uint32_t tag)
{
	size_t lo = 0, hi = sizeof(data_pairs) / sizeof(data_pairs[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (data_pairs[mid][0] == tag)
			return data_pairs[mid][1];
		if (data_pairs[mid][0] < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

#define H FIX_TC_HDR
#define L FIX_TC_LEN
#define T FIX_TC_TRL
/* Standard header tags of FIX 4.2, 4.4 and FIXT.1.1 (union), trailer tags, data lengths. */
const uint8_t fix_tag_class_small[FIX_TC_SMALL] = {
	[8] = H, [9] = H, [34] = H, [35] = H, [43] = H, [49] = H, [50] = H, [52] = H, [56] = H,
	[57] = H, [90] = H | L, [91] = H, [97] = H, [115] = H, [116] = H, [122] = H, [128] = H,
	[129] = H, [142] = H, [143] = H, [144] = H, [145] = H, [212] = H | L, [213] = H,
	[347] = H, [369] = H, [370] = H, [627] = H, [628] = H, [629] = H, [630] = H,
	[10] = T, [89] = T, [93] = T | L,
	[95] = L, [348] = L, [350] = L, [352] = L, [354] = L, [356] = L, [358] = L, [360] = L,
	[362] = L, [364] = L, [445] = L, [618] = L, [621] = L,
};
#undef H
#undef L
#undef T

uint8_t fix_tag_class_big(uint32_t tag)
{
	if (tag == 1128 || tag == 1129 || tag == 1156)
		return FIX_TC_HDR;
	return fix_data_tag_for_length(tag) != 0 ? FIX_TC_LEN : 0;
}

bool fix_is_header_tag(uint32_t tag)
{
	return (fix_tag_class(tag) & FIX_TC_HDR) != 0;
}

bool fix_is_trailer_tag(uint32_t tag)
{
	return (fix_tag_class(tag) & FIX_TC_TRL) != 0;
}

const struct fix_field *fix_find(const struct fix_msg *m, uint32_t tag, uint32_t from)
{
	for (uint32_t i = from; i < m->nfields; i++)
		if (m->fields[i].tag == tag)
			return &m->fields[i];
	return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Typed accessors
 * ------------------------------------------------------------------------------------------- */

int fix_get_uint(const char *v, size_t len, uint64_t *out)
{
	return fix_parse_u64(v, len, out);
}

int fix_get_int(const char *v, size_t len, int64_t *out)
{
	bool neg = len > 0 && v[0] == '-';
	uint64_t u;
	int rc = fix_parse_u64(v + neg, len - neg, &u);
	if (rc != FIX_OK)
		return rc;
	if (neg) {
		if (u > (uint64_t)INT64_MAX + 1)
			return FIX_E_RANGE;
		*out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	} else {
		if (u > (uint64_t)INT64_MAX)
			return FIX_E_RANGE;
		*out = (int64_t)u;
	}
	return FIX_OK;
}

int fix_get_bool(const char *v, size_t len, bool *out)
{
	if (len != 1 || (v[0] != 'Y' && v[0] != 'N'))
		return FIX_E_FORMAT;
	*out = v[0] == 'Y';
	return FIX_OK;
}

int fix_get_char(const char *v, size_t len, char *out)
{
	/* FIX char: one alphanumeric or punctuation character (no space, no control byte). */
	if (len != 1 || (unsigned char)v[0] <= ' ' || (unsigned char)v[0] >= 0x7f)
		return FIX_E_FORMAT;
	*out = v[0];
	return FIX_OK;
}

static inline bool digits(const char *p, size_t n, unsigned *out)
{
	unsigned x = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)p[i] - '0';
		if (c > 9)
			return false;
		x = x * 10 + c;
	}
	*out = x;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
int64_t fix_days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

int fix_get_utc_timestamp(const char *v, size_t len, int64_t *ns)
{
	unsigned y, mo, d, hh, mi, ss, frac = 0;
	if (len < 17 || len == 18 || len > 27)
		return FIX_E_FORMAT;
	if (!digits(v, 4, &y) || !digits(v + 4, 2, &mo) || !digits(v + 6, 2, &d) || v[8] != '-' ||
	    !digits(v + 9, 2, &hh) || v[11] != ':' || !digits(v + 12, 2, &mi) || v[14] != ':' ||
	    !digits(v + 15, 2, &ss))
		return FIX_E_FORMAT;
	if (len > 17) {
		size_t nf = len - 18;
		if (v[17] != '.' || !digits(v + 18, nf, &frac))
			return FIX_E_FORMAT;
		for (size_t i = nf; i < 9; i++)
			frac *= 10;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || hh > 23 || mi > 59 ||
	    ss > 60)
		return FIX_E_RANGE;
	/* int64 nanoseconds reach 2262-04-11; refuse anything from 2262 on and before 1970. */
	if (y < 1970 || y > 2261)
		return FIX_E_RANGE;
	int64_t secs = fix_days_from_civil((int)y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss;
	*ns = secs * 1000000000 + frac;
	return FIX_OK;
}

int fix_get_decimal(const char *v, size_t len, struct fix_decimal *out)
{
	size_t i = 0;
	bool neg = false;
	if (len > 0 && v[0] == '-') {
		neg = true;
		i = 1;
	}
	uint64_t mant = 0;
	unsigned sig = 0, ndig = 0, scale = 0;
	bool point = false;
	for (; i < len; i++) {
		unsigned c = (unsigned char)v[i] - '0';
		if (c <= 9) {
			ndig++;
			if (point)
				scale++;
			if (mant != 0 || c != 0)
				sig++;
			mant = mant * 10 + c;
			if (sig > 18)
				return FIX_E_RANGE;
		} else if (v[i] == '.' && !point) {
			point = true;
		} else {
			return FIX_E_FORMAT;
		}
	}
	if (ndig == 0)
		return FIX_E_FORMAT;
	if (scale > 18)
		return FIX_E_RANGE;
	out->mantissa = neg ? -(int64_t)mant : (int64_t)mant;
	out->scale = (uint8_t)scale;
	return FIX_OK;
}

int fix_decimal_cmp(struct fix_decimal a, struct fix_decimal b)
{
	static const int64_t pow10[19] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
		10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
		1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
	};
	/* Mantissas have at most 18 digits and scales at most 18, so the scaled product fits in
	 * 128 bits exactly. Larger scales (built by hand) are clamped, which only blurs digits
	 * beyond the 18th decimal. */
	unsigned sa = a.scale > 18 ? 18 : a.scale, sb = b.scale > 18 ? 18 : b.scale;
	__extension__ __int128 x = a.mantissa, y = b.mantissa;
	if (sa < sb)
		x *= pow10[sb - sa];
	else
		y *= pow10[sa - sb];
	return x < y ? -1 : x > y;
}

int fix_msg_get_uint(const struct fix_msg *m, uint32_t tag, uint64_t *out)
{
	const struct fix_field *f = fix_find(m, tag, 0);
	return f == NULL ? FIX_E_NOT_FOUND : fix_get_uint(f->val, f->len, out);
}

int fix_msg_get_int(const struct fix_msg *m, uint32_t tag, int64_t *out)
{
	const struct fix_field *f = fix_find(m, tag, 0);
	return f == NULL ? FIX_E_NOT_FOUND : fix_get_int(f->val, f->len, out);
}

const char fix_digit_pairs[200] = {
	'0', '0', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5', '0', '6', '0', '7', '0', '8',
	'0', '9', '1', '0', '1', '1', '1', '2', '1', '3', '1', '4', '1', '5', '1', '6', '1', '7',
	'1', '8', '1', '9', '2', '0', '2', '1', '2', '2', '2', '3', '2', '4', '2', '5', '2', '6',
	'2', '7', '2', '8', '2', '9', '3', '0', '3', '1', '3', '2', '3', '3', '3', '4', '3', '5',
	'3', '6', '3', '7', '3', '8', '3', '9', '4', '0', '4', '1', '4', '2', '4', '3', '4', '4',
	'4', '5', '4', '6', '4', '7', '4', '8', '4', '9', '5', '0', '5', '1', '5', '2', '5', '3',
	'5', '4', '5', '5', '5', '6', '5', '7', '5', '8', '5', '9', '6', '0', '6', '1', '6', '2',
	'6', '3', '6', '4', '6', '5', '6', '6', '6', '7', '6', '8', '6', '9', '7', '0', '7', '1',
	'7', '2', '7', '3', '7', '4', '7', '5', '7', '6', '7', '7', '7', '8', '7', '9', '8', '0',
	'8', '1', '8', '2', '8', '3', '8', '4', '8', '5', '8', '6', '8', '7', '8', '8', '8', '9',
	'9', '0', '9', '1', '9', '2', '9', '3', '9', '4', '9', '5', '9', '6', '9', '7', '9', '8',
	'9', '9',
};
