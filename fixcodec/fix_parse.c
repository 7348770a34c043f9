/* Zero-copy parsing of a framed message into the caller's field index, in one pass that also
 * fills the session header, detects repeated tags and delimits the body. */
#include "fix_codec_pvt.h"

/* Tags below this are checked for repeats with a bitmap on the stack (128 bytes to clear);
 * larger ones (1128, user-defined 5000+) against a short list, which is rarely long. */
#define DUP_BITMAP_TAGS 1024u
#define DUP_BIG_LIST 32u

/* First SOH at or after p. buf[len-1] is SOH (checked first), so the scalar tail needs no
 * bound; the 16-byte loads stop 16 bytes before the end so they never cross it. */
static inline const char *find_soh(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i soh = _mm_set1_epi8(FIX_SOH);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, soh));
		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#else
	(void)end;
#endif
	while (*p != FIX_SOH)
		p++;
	return p;
}

/* A field whose tag is not a positive decimal below 2^31, or that has no '='. Works out the
 * error and the best err_tag, and returns the start of the next field. */
__attribute__((cold)) static const char *bad_field(const char *f, int *code, uint32_t *err_tag)
{
	const char *p = f;
	while (*p != '=' && *p != FIX_SOH)
		p++;
	const char *eq = p;
	bool neg = f < eq && *f == '-';
	const char *d = neg ? f + 1 : f;
	uint64_t v = 0;
	bool numeric = d < eq;
	for (const char *q = d; q < eq && numeric; q++) {
		unsigned c = (unsigned char)*q - '0';
		if (c > 9)
			numeric = false;
		else if ((v = v * 10 + c) > FIX_MAX_TAG + 1ull)
			numeric = false;
	}
	/* The value of a negative tag is kept as its two's complement ("-1" -> 0xffffffff), as
	 * QuickFIX's scenario 14a reports it in RefTagID; unreadable or too large tags give 0. */
	if (!numeric)
		*err_tag = 0;
	else if (neg)
		*err_tag = (uint32_t)(0 - (uint32_t)v);
	else
		*err_tag = v <= FIX_MAX_TAG ? (uint32_t)v : 0;
	*code = *eq == '=' ? FIX_E_BAD_TAG : FIX_E_NO_EQUALS;
	if (*eq == '=')
		p = eq + 1;
	while (*p != FIX_SOH)
		p++;
	return p + 1;
}

static void header_field(struct fix_msg *m, uint32_t tag, uint32_t i, const char *v, uint32_t len)
{
	struct fix_header *h = &m->hdr;
	int16_t idx = i <= INT16_MAX ? (int16_t)i : -1;
	switch (tag) {
	case 8:
		h->ver = fix_version_from(v, len);
		break;
	case 9: {
		uint64_t n;
		if (fix_parse_u64(v, len, &n) == FIX_OK && n <= UINT32_MAX)
			h->body_length = (uint32_t)n;
		else
			h->body_length = UINT32_MAX; /* cannot match: reported as a bad BodyLength */
		break;
	}
	case 35:
		h->msg_type_len = len < 255 ? (uint8_t)len : 255;
		if (len < sizeof(h->msg_type)) {
			memcpy(h->msg_type, v, len);
			h->msg_type[len] = '\0';
		}
		break;
	case 34: {
		uint64_t n;
		h->seq_err = fix_parse_u64(v, len, &n);
		if (h->seq_err == FIX_OK)
			h->seq = n;
		else
			h->seq_err = FIX_E_FORMAT;
		break;
	}
	case 43:
		h->poss_dup = len == 1 && v[0] == 'Y';
		break;
	case 97:
		h->poss_resend = len == 1 && v[0] == 'Y';
		break;
	case 49:
		h->i_sender = idx;
		break;
	case 56:
		h->i_target = idx;
		break;
	case 52:
		h->i_sending_time = idx;
		break;
	case 122:
		h->i_orig_sending_time = idx;
		break;
	case 115:
		h->i_on_behalf_of = idx;
		break;
	case 128:
		h->i_deliver_to = idx;
		break;
	case 1128:
		h->i_appl_ver = idx;
		break;
	default:
		break;
	}
}

static void header_init(struct fix_header *h)
{
	h->ver = FIX_VER_UNKNOWN;
	memset(h->msg_type, 0, sizeof(h->msg_type));
	h->msg_type_len = 0;
	h->poss_dup = false;
	h->poss_resend = false;
	h->seq = 0;
	h->seq_err = FIX_E_NOT_FOUND;
	h->i_sender = h->i_target = h->i_sending_time = h->i_orig_sending_time = -1;
	h->i_on_behalf_of = h->i_deliver_to = h->i_appl_ver = -1;
	h->body_length = 0;
	h->body_off = h->trailer_off = h->body_sum = 0;
	h->n_header = 0;
}

__attribute__((cold)) static bool big_tag_seen(const struct fix_msg *m, uint32_t n, uint32_t tag)
{
	for (uint32_t k = 0; k < n; k++)
		if (m->fields[k].tag == tag)
			return true;
	return false;
}

int fix_parse(struct fix_msg *m, const char *buf, size_t len)
{
	struct fix_header *h = &m->hdr;
	header_init(h);
	m->buf = buf;
	m->len = (uint32_t)len;
	m->nfields = 0;
	m->err_tag = 0;
	m->dup_tag = 0;
	if (len < 2 || len > UINT32_MAX)
		return FIX_E_BAD_BEGIN;
	/* The last byte is the sentinel every scan below stops at. */
	if (buf[len - 1] != FIX_SOH)
		return FIX_E_BAD_CHECKSUM;

	const char *p = buf;
	const char *end = buf + len;
	struct fix_field *fl = m->fields;
	uint32_t cap = m->cap;
	uint32_t n = 0;
	uint64_t seen[DUP_BITMAP_TAGS / 64] = {0};
	uint32_t big[DUP_BIG_LIST];
	uint32_t nbig = 0;
	uint32_t pend_tag = 0;   /* data tag announced by the previous Length field */
	size_t pend_len = 0;     /* its length; SIZE_MAX when the Length value was unreadable */
	bool in_header = true;
	int soft = FIX_OK;       /* first error after which parsing can go on */

	while (p < end) {
		const char *f = p;
		uint64_t t = 0;
		unsigned c;
		while ((c = (unsigned char)*p - '0') <= 9) {
			t = t * 10 + c;
			p++;
			if (t > FIX_MAX_TAG)
				break;
		}
		if (__builtin_expect(*p != '=' || t == 0, 0)) {
			int code;
			uint32_t et;
			p = bad_field(f, &code, &et);
			if (soft == FIX_OK) {
				soft = code;
				m->err_tag = et;
			}
			continue;
		}
		uint32_t tag = (uint32_t)t;
		const char *v = p + 1;
		const char *e;
		if (tag == pend_tag) {
			/* Data fields are read by the announced length: they may hold SOH. */
			if (pend_len >= (size_t)(end - v) || v[pend_len] != FIX_SOH) {
				m->err_tag = tag;
				m->nfields = n;
				return FIX_E_BAD_DATA_LENGTH;
			}
			e = v + pend_len;
		} else {
			e = find_soh(v, end);
		}
		pend_tag = 0;
		if (__builtin_expect(n == cap, 0)) {
			m->err_tag = tag;
			m->nfields = n;
			return FIX_E_TOO_MANY_FIELDS;
		}
		uint32_t vlen = (uint32_t)(e - v);
		fl[n].val = v;
		fl[n].tag = tag;
		fl[n].len = vlen;
		if (__builtin_expect(vlen == 0, 0) && soft == FIX_OK) {
			soft = FIX_E_NO_VALUE;
			m->err_tag = tag;
		}

		bool dup;
		if (tag < DUP_BITMAP_TAGS) {
			uint64_t bit = 1ull << (tag & 63);
			dup = (seen[tag >> 6] & bit) != 0;
			seen[tag >> 6] |= bit;
		} else {
			dup = false;
			for (uint32_t k = 0; k < nbig && !dup; k++)
				dup = big[k] == tag;
			if (!dup && nbig == DUP_BIG_LIST)
				dup = big_tag_seen(m, n, tag);
			if (!dup && nbig < DUP_BIG_LIST)
				big[nbig++] = tag;
		}
		if (__builtin_expect(dup, 0) && m->dup_tag == 0)
			m->dup_tag = tag;

		unsigned cls = fix_tag_class(tag);
		if (cls & FIX_TC_HDR) {
			/* The first occurrence wins, wherever it is: a header tag in the body is the
			 * validator's "out of order" case, and the session still needs its value. */
			if (!dup)
				header_field(m, tag, n, v, vlen);
		} else if (in_header) {
			in_header = false;
			h->body_off = (uint32_t)(f - buf);
			h->n_header = n <= INT16_MAX ? (int16_t)n : INT16_MAX;
		}
		if (__builtin_expect(cls & FIX_TC_LEN, 0)) {
			uint64_t dl;
			pend_tag = fix_data_tag_for_length(tag);
			pend_len = fix_parse_u64(v, vlen, &dl) == FIX_OK && dl < len ? (size_t)dl :
				SIZE_MAX;
		}
		n++;
		p = e + 1;
	}
	m->nfields = n;

	/* Structure: what the framer checks, checked again so fix_parse is safe on its own. */
	if (n < 4 || fl[0].tag != 8 || fl[0].val != buf + 2)
		return FIX_E_BAD_BEGIN;
	if (fl[1].tag != 9)
		return FIX_E_BAD_BODY_LENGTH;
	if (fl[2].tag != 35)
		return FIX_E_MSGTYPE_NOT_THIRD;
	const struct fix_field *ck = &fl[n - 1];
	if (ck->tag != 10 || ck->val + ck->len + 1 != end || ck->len != 3)
		return FIX_E_BAD_CHECKSUM;
	uint32_t off10 = (uint32_t)(ck->val - 3 - buf);
	uint32_t after9 = (uint32_t)(fl[1].val + fl[1].len + 1 - buf);
	if (h->body_length != off10 - after9) {
		m->err_tag = 9;
		return FIX_E_BAD_BODY_LENGTH;
	}
	uint32_t trailer = off10;
	if (n >= 6 && fl[n - 2].tag == 89 && fl[n - 3].tag == 93)
		trailer = (uint32_t)(fl[n - 3].val - 3 - buf);
	h->trailer_off = trailer;
	/* Field 10 is never a header tag, so body_off was set; with no body it is the trailer. */
	if (h->body_off > trailer)
		h->body_off = trailer;
	h->body_sum = fix_sum_inline(buf + h->body_off, trailer - h->body_off);
	return soft;
}
