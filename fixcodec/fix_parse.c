/* Zero-copy parsing of a framed message into the caller's field index, in one pass that also
 * fills the session header, detects repeated tags and delimits the body. */
#include "fix_codec_pvt.h"

/* Tags below this are checked for repeats with a bitmap on the stack (128 bytes to clear);
 * larger ones (1128, user-defined 5000+) against a short list, which is rarely long. */
#define DUP_BITMAP_TAGS 1024u
#define DUP_BIG_LIST 32u

/* Bit i set when p[i] is SOH, for 64 bytes. */
static inline uint64_t soh_mask64(const char *p)
{
#ifdef __SSE2__
	const __m128i soh = _mm_set1_epi8(FIX_SOH);
	uint64_t m0 = (uint32_t)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), soh));
	uint64_t m1 = (uint32_t)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), soh));
	uint64_t m2 = (uint32_t)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), soh));
	uint64_t m3 = (uint32_t)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), soh));
	return m0 | m1 << 16 | m2 << 32 | m3 << 48;
#else
	uint64_t m = 0;
	for (unsigned i = 0; i < 64; i++)
		m |= (uint64_t)(p[i] == FIX_SOH) << i;
	return m;
#endif
}

/* SOH bits of buf[base, min(base + 64, len)), never reading outside buf[0, len): the last
 * partial block is read as the 64 bytes ending at len; a message shorter than 64 bytes as
 * 16-byte chunks, the last one ending at len (copying it aside instead would make the loads
 * wait for the copy's stores). */
static inline uint64_t block_mask(const char *buf, size_t base, size_t len)
{
	size_t r = len - base;
	if (r >= 64)
		return soh_mask64(buf + base);
	if (len >= 64)
		return soh_mask64(buf + len - 64) >> (64 - r);
#ifdef __SSE2__
	if (len >= 16) {
		const __m128i soh = _mm_set1_epi8(FIX_SOH);
		uint64_t m = 0;
		size_t off = 0;
		for (; off + 16 <= len; off += 16)
			m |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
				     _mm_loadu_si128((const __m128i *)(const void *)(buf + off)), soh))
			     << off;
		if (off < len) {
			uint32_t last = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(const void *)(buf + len - 16)), soh));
			m |= (uint64_t)(last >> (16 - (len - off))) << off;
		}
		return m;
	}
#endif
	char tmp[64];
	memset(tmp, 0, sizeof(tmp));
	memcpy(tmp, buf + base, r);
	return soh_mask64(tmp);
}

/* block_mask with its usual case, a whole block, inline (the fast path's blocks). */
static inline __attribute__((always_inline)) uint64_t block_mask_fast(const char *buf, size_t base,
								     size_t len)
{
	if (len - base >= 64)
		return soh_mask64(buf + base);
	return block_mask(buf, base, len);
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

static inline __attribute__((always_inline)) void header_field(struct fix_msg *m, uint32_t tag, uint32_t i, const char *v, uint32_t len)
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

/* Parse state, kept out of *m (see fl/cap below). */
struct pstate {
	struct fix_msg *m;
	/* Copies of m's fields: the project builds with -fno-strict-aliasing, so reading them
	 * through m after each store into fields[] would reload them every time. */
	struct fix_field *fl;
	uint32_t cap;
	uint32_t len;
	const char *buf;
	const char *end;
	uint32_t n;
	uint32_t nbig;
	uint32_t pend_tag;   /* data tag announced by the previous Length field, 0 if none */
	size_t pend_len;     /* its length; SIZE_MAX when the Length value was unreadable */
	bool in_header;
	int soft;            /* first error after which parsing can go on */
	/* The arrays live apart (struct ptabs), which leaves the compiler free to keep the
	 * scalars above in registers. */
	uint64_t *seen;
	uint32_t *big;
};

struct ptabs {
	uint64_t seen[DUP_BITMAP_TAGS / 64];
	uint32_t big[DUP_BIG_LIST];
};

/* Records field (tag, value [v, e)) that started at f: index entry, empty value, repeat,
 * header struct, body start, announced data length. Returns FIX_OK, or the error that stops
 * the parse (FIX_E_TOO_MANY_FIELDS). */
static inline __attribute__((always_inline)) int add_field(struct pstate *st, const char *f,
							    uint32_t tag, const char *v,
							    const char *e)
{
	struct fix_msg *m = st->m;
	uint32_t n = st->n;
	if (__builtin_expect(n == st->cap, 0)) {
		m->err_tag = tag;
		return FIX_E_TOO_MANY_FIELDS;
	}
	uint32_t vlen = (uint32_t)(e - v);
	struct fix_field *fl = &st->fl[n];
	fl->val = v;
	fl->tag = tag;
	fl->len = vlen;
	if (__builtin_expect(vlen == 0, 0) && st->soft == FIX_OK) {
		st->soft = FIX_E_NO_VALUE;
		m->err_tag = tag;
	}

	bool dup;
	if (tag < DUP_BITMAP_TAGS) {
		uint64_t bit = 1ull << (tag & 63);
		dup = (st->seen[tag >> 6] & bit) != 0;
		st->seen[tag >> 6] |= bit;
	} else {
		dup = false;
		for (uint32_t k = 0; k < st->nbig && !dup; k++)
			dup = st->big[k] == tag;
		if (!dup && st->nbig == DUP_BIG_LIST)
			dup = big_tag_seen(m, n, tag);
		if (!dup && st->nbig < DUP_BIG_LIST)
			st->big[st->nbig++] = tag;
	}
	if (__builtin_expect(dup, 0) && m->dup_tag == 0)
		m->dup_tag = tag;

	unsigned cls = fix_tag_class(tag);
	if (cls & FIX_TC_HDR) {
		/* The first occurrence wins, wherever it is: a header tag in the body is the
		 * validator's "out of order" case, and the session still needs its value. */
		if (!dup)
			header_field(m, tag, n, v, vlen);
	} else if (st->in_header) {
		st->in_header = false;
		m->hdr.body_off = (uint32_t)(f - st->buf);
		m->hdr.n_header = n <= INT16_MAX ? (int16_t)n : INT16_MAX;
	}
	if (__builtin_expect(cls & FIX_TC_LEN, 0)) {
		uint64_t dl;
		st->pend_tag = fix_data_tag_for_length(tag);
		st->pend_len = fix_parse_u64(v, vlen, &dl) == FIX_OK && dl < st->len ? (size_t)dl :
			SIZE_MAX;
	}
	st->n = n + 1;
	return FIX_OK;
}

/* The end (SOH) of a data field's value read by its announced length, or NULL. */
static inline const char *data_end(struct pstate *st, const char *v)
{
	if (st->pend_len >= (size_t)(st->end - v) || v[st->pend_len] != FIX_SOH)
		return NULL;
	return v + st->pend_len;
}

static inline void clear_seen(uint64_t *seen)
{
#ifdef __SSE2__
	/* Eight plain vector stores: GCC turns a memset of this size into "rep stos", whose
	 * start-up costs more than the whole clear. */
	const __m128i z = _mm_setzero_si128();
	__m128i *sv = (__m128i *)(void *)seen;
	_mm_storeu_si128(sv + 0, z);
	_mm_storeu_si128(sv + 1, z);
	_mm_storeu_si128(sv + 2, z);
	_mm_storeu_si128(sv + 3, z);
	_mm_storeu_si128(sv + 4, z);
	_mm_storeu_si128(sv + 5, z);
	_mm_storeu_si128(sv + 6, z);
	_mm_storeu_si128(sv + 7, z);
	_Static_assert(DUP_BITMAP_TAGS / 8 == 8 * sizeof(__m128i), "seen[] is eight vectors");
#else
	memset(seen, 0, DUP_BITMAP_TAGS / 8);
#endif
}

/* The checks on the whole field list that both parsers share, then the body's bounds and sum.
 * Returns soft when the structure is right. */
static inline int finish(struct fix_msg *m, const char *buf, size_t len, uint32_t n, int soft)
{
	struct fix_header *h = &m->hdr;
	const struct fix_field *fl = m->fields;
	m->nfields = n;

	/* Structure: what the framer checks, checked again so fix_parse is safe on its own. */
	if (n < 1 || fl[0].tag != 8 || fl[0].val != buf + 2)
		return FIX_E_BAD_BEGIN;
	if (n < 2 || fl[1].tag != 9)
		return FIX_E_BAD_BODY_LENGTH;
	if (n < 3 || fl[2].tag != 35)
		return FIX_E_MSGTYPE_NOT_THIRD;
	const struct fix_field *ck = &fl[n - 1];
	if (n < 4 || ck->tag != 10 || ck->val + ck->len + 1 != buf + len || ck->len != 3)
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

int fix_parse_ref(struct fix_msg *m, const char *buf, size_t len)
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
	/* The last byte is the sentinel every scalar scan below stops at. */
	if (buf[len - 1] != FIX_SOH)
		return FIX_E_BAD_CHECKSUM;

	/* Field by field: the lists need no clearing, only the bitmap. */
	struct pstate st;
	struct ptabs tabs;
	st.seen = tabs.seen;
	st.big = tabs.big;
	st.m = m;
	st.fl = m->fields;
	st.cap = m->cap;
	st.len = (uint32_t)len;
	st.buf = buf;
	st.end = buf + len;
	st.n = 0;
	st.nbig = 0;
	st.pend_tag = 0;
	st.pend_len = 0;
	st.in_header = true;
	st.soft = FIX_OK;
	clear_seen(tabs.seen);
	int rc;

	/* Every field ends at the next SOH: the SOH positions of a whole 64-byte block come
	 * from one bit mask, so finding the next field is a bit-clear, not a dependent
	 * load-compare chain per field, and the fields' tags are read independently. A data
	 * field (read by its announced length) clears the SOH bits inside its value. */
	size_t s = 0, base = 0;
	uint64_t bits = block_mask(buf, 0, len);
	for (;;) {
		while (bits == 0) {
			base += 64;
			if (base >= len)
				goto done;
			bits = block_mask(buf, base, len);
			if (s > base)
				bits &= ~0ull << (s - base);
		}
		size_t e = base + (size_t)__builtin_ctzll(bits);
		bits &= bits - 1;

		const char *f = buf + s;
		const char *p = f;
		uint32_t t = (unsigned char)*p - '0';
		unsigned c;
		/* buf[e] is SOH, so the digit loop stops there at the latest. Nine digits cannot
		 * overflow; a tenth takes the careful path below. */
		if (__builtin_expect(t <= 9, 1)) {
			p++;
			while ((c = (unsigned char)*p - '0') <= 9 && p - f < 9) {
				t = t * 10 + c;
				p++;
			}
		} else {
			t = 0;
		}
		/* t - 1 wraps for 0: one compare refuses both tag 0 and a non-digit start. */
		if (__builtin_expect(*p != '=' || t - 1 >= FIX_MAX_TAG, 0)) {
			if (*p != '=' && (unsigned)((unsigned char)*p - '0') <= 9) {
				/* Ten digits or more: valid up to FIX_MAX_TAG. */
				uint64_t big = t;
				while ((c = (unsigned char)*p - '0') <= 9 && big <= FIX_MAX_TAG) {
					big = big * 10 + c;
					p++;
				}
				if (*p == '=' && big <= FIX_MAX_TAG) {
					t = (uint32_t)big;
					goto tag_ok;
				}
			}
			int code;
			uint32_t et;
			(void)bad_field(f, &code, &et);
			if (st.soft == FIX_OK) {
				st.soft = code;
				m->err_tag = et;
			}
			st.pend_tag = 0;
			s = e + 1;
			continue;
		}
tag_ok:;
		uint32_t tag = t;
		const char *v = p + 1;
		if (__builtin_expect(tag == st.pend_tag, 0)) {
			/* Data fields are read by the announced length: they may hold SOH. */
			const char *de = data_end(&st, v);
			if (de == NULL)
				goto bad_data;
			size_t e2 = (size_t)(de - buf);
			if (e2 != e) {
				/* e is the first SOH after the tag, so e2 > e: forget the SOHs inside. */
				e = e2;
				if (e2 - base < 63) {
					bits &= ~0ull << (e2 - base + 1);
				} else {
					bits = 0;
					base = ((e2 + 1) & ~(size_t)63) - 64;
				}
			}
		}
		st.pend_tag = 0;
		if ((rc = add_field(&st, f, tag, v, buf + e)) != FIX_OK)
			goto hard;
		s = e + 1;
	}
done:
	return finish(m, buf, len, st.n, st.soft);

bad_data:
	m->err_tag = st.pend_tag;
	rc = FIX_E_BAD_DATA_LENGTH;
hard:
	m->nfields = st.n;
	return rc;
}

/* ---------------------------------------------------------------------------------------------
 * The fast path: well-formed messages without data fields, which is nearly all traffic.
 *
 * It relies on what such a message guarantees and gives up (returns BAIL) the moment the
 * message is anything else, leaving the whole message to fix_parse_ref above, which handles
 * every case. Nothing it wrote before giving up survives: the reference parser starts over,
 * so the two always agree (tests/fixcodec/test_parse_fast.c and the fuzzer compare them).
 *
 * - The message ends with "<SOH>10=xxx<SOH>" (checked first), so every field before the
 *   trailer starts at least 9 bytes before the end: its tag bytes p[0..7] can be read without
 *   a bounds check, and tags of 1 to 3 digits are decoded without a loop.
 * - Field ends come from the SSE2 SOH masks of 64-byte blocks, as in the reference parser.
 * - The repeat bitmap is laid out as word tag % 16, bit tag / 16, so that consecutive fields
 *   do not chain through one memory word, and fix_tag_special_bits has the same layout: one
 *   test per field says "plain field, not seen before"; repeats, header, trailer and data
 *   length tags take the slower branch.
 * - It gives up on: a tag of 8 digits or more, with a leading zero, tag 0, anything not digits
 *   before '=' (bad tag, missing '='), an empty value, a data field's Length tag (the data is
 *   read by its length, which the reference parser does), a full field index, more than
 *   DUP_BIG_LIST distinct tags of 1024 or more, and messages shorter than FAST_MIN_LEN.
 * ------------------------------------------------------------------------------------------- */

#define BAIL (-1)
#define FAST_MIN_LEN 32u

/* A tag of up to 7 digits followed by '=' at p, by a digit loop (reads at most p[0..7]): sets
 * *tag and returns the number of digits, or 0. */
static inline unsigned scan_tag(const char *p, uint32_t *tag)
{
	uint32_t t = (unsigned char)p[0] - '0';
	unsigned i = 1, c;
	if (t > 9)
		return 0;
	while ((c = (unsigned char)p[i] - '0') <= 9) {
		t = t * 10 + c;
		if (++i == 8)
			return 0;
	}
	if (p[i] != '=')
		return 0;
	*tag = t;
	return i;
}

/* Tag of 4 to 7 digits at p (p[0..3] known to be digits): returns it in the low 32 bits and
 * the number of its digits in the high ones, or 0. Reads at most p[0..7]. */
__attribute__((noinline)) static uint64_t long_tag(const char *p)
{
	uint32_t t;
	unsigned i = scan_tag(p, &t);
	return i == 0 ? 0 : (uint64_t)i << 32 | t;
}

/* The tag at p (p[0..7] readable): returns it in the low 32 bits and the number of its
 * digits in the high ones (one value, so nothing goes through memory), or 0 when it is not
 * 1 to 7 digits without a leading zero (the reference parser takes "035" as 35; the fast
 * path leaves such oddities to it). Tags of 1 to 3 digits, nearly all, take no loop. */
static inline __attribute__((always_inline)) uint64_t tag_at(const char *p)
{
	unsigned c0 = (unsigned char)p[0] - '1', c1 = (unsigned char)p[1] - '0';
	unsigned c2 = (unsigned char)p[2] - '0';
	if (c0 > 8) /* also refuses '0': tag 0 and leading zeros */
		return 0;
	if (c1 > 9)
		return 1ull << 32 | (c0 + 1);
	if (c2 > 9)
		return 2ull << 32 | ((c0 + 1) * 10 + c1);
	if ((unsigned)((unsigned char)p[3] - '0') > 9)
		return 3ull << 32 | ((c0 + 1) * 100 + c1 * 10 + c2);
	return long_tag(p);
}

/* Bit tag / 16 of word tag % 16 is set when fix_tag_class_small[tag] != 0 (header, trailer
 * and data-length tags): with the repeat bitmap laid out the same way, one test per field
 * catches both a repeat and a tag that needs more than recording. tests/fixcodec checks it
 * against the class table. */
FIX_PVT_DATA const uint64_t fix_tag_special_bits[16] = {
	0x0000000000400300ull, 0x0000000000800348ull, 0x0000000000c0000cull, 0x0000008000000084ull,
	0x0000008000402088ull, 0x0000008000002000ull, 0x0000008000400000ull, 0x0000000000000000ull,
	0x0000000000400009ull, 0x0000000000000029ull, 0x00000040004000a1ull, 0x0000000000200024ull,
	0x0000000000600000ull, 0x0000004008000020ull, 0x0000000000200100ull, 0x0000000000000120ull,
};

/* Class and repeat of a tag of 1024 or more (user-defined 5000+, FIX 5.0's 1128...): the
 * short list. Returns false when it is full (the reference parser handles that). */
__attribute__((noinline)) static bool big_tag(uint32_t *big, uint32_t *nbig, uint32_t tag,
					      unsigned *cls, bool *dup)
{
	*cls = fix_tag_class_big(tag);
	*dup = false;
	for (uint32_t k = 0; k < *nbig; k++)
		if (big[k] == tag) {
			*dup = true;
			return true;
		}
	if (*nbig == DUP_BIG_LIST)
		return false;
	big[(*nbig)++] = tag;
	return true;
}

/* The slow part of a field: a repeat or a special tag (or a tag of 1024 and more). Returns
 * false to give up. */
static inline __attribute__((always_inline)) bool special_field(
	struct fix_msg *m, struct ptabs *tabs, uint32_t *nbig, uint32_t *dup_tag, uint32_t tag,
	uint32_t idx, const char *v, uint32_t vlen, bool was_seen, unsigned *clsp)
{
	unsigned cls;
	bool dup;
	if (tag < DUP_BITMAP_TAGS) {
		cls = fix_tag_class_small[tag];
		dup = was_seen;
	} else if (!big_tag(tabs->big, nbig, tag, &cls, &dup)) {
		return false;
	}
	if (dup && *dup_tag == 0)
		*dup_tag = tag;
	if (cls & FIX_TC_LEN)
		return false; /* a data field follows: read by its length, in the reference */
	/* The first occurrence of a header tag wins, wherever it is. */
	if ((cls & FIX_TC_HDR) && !dup)
		header_field(m, tag, idx, v, vlen);
	*clsp = cls;
	return true;
}

/* The fast loop over the fields from p: with HEADER, until the first non-header tag has been
 * recorded (it sets body_off and n_header), else until the trailer. A macro rather than a
 * function so that its state (bits, base, p, f ...) stays in the registers of
 * fast_parse_body; it returns BAIL from there to give up. */
#define FAST_FIELD_LOOP(HEADER)                                                             \
	for (;;) {                                                                          \
		while (__builtin_expect(bits == 0, 0)) {                                    \
			base += 64;                                                         \
			bb += 64;                                                           \
			bits = block_mask_fast(buf, base, len);                             \
		}                                                                           \
		const char *e = bb + (unsigned)__builtin_ctzll(bits);                       \
		bits &= bits - 1;                                                           \
		uint64_t tl = tag_at(p);                                                    \
		uint32_t tag = (uint32_t)tl;                                                \
		const char *q = p + (tl >> 32);                                             \
		if (tl == 0 || *q != '=' || q + 1 == e || (CHECK_CAP && f == fend))        \
			return BAIL;                                                        \
		const char *v = q + 1;                                                      \
		uint32_t vlen = (uint32_t)(e - v);                                          \
		f->val = v;                                                                 \
		f->tag = tag;                                                               \
		f->len = vlen;                                                              \
		unsigned cls = 0;                                                           \
		if (__builtin_expect(tag < DUP_BITMAP_TAGS, 1)) {                           \
			/* Word tag % 16, bit tag / 16: consecutive fields (8, 9, 35, 49,  \
			 * 56, 34...) mostly touch different words, so a field's load does \
			 * not wait for the previous field's store. */                     \
			uint64_t bit = 1ull << (tag >> 4);                                  \
			uint64_t word = tabs.seen[tag & 15];                                \
			tabs.seen[tag & 15] = word | bit;                                   \
			if (__builtin_expect(((word | fix_tag_special_bits[tag & 15]) & bit) \
						     != 0, HEADER) &&                          \
			    !special_field(m, &tabs, &nbig, &dup_tag, tag, (uint32_t)(f - f0), \
					   v, vlen, (word & bit) != 0, &cls))              \
				return BAIL;                                                \
		} else if (!special_field(m, &tabs, &nbig, &dup_tag, tag, (uint32_t)(f - f0), \
					  v, vlen, false, &cls)) {                          \
			return BAIL;                                                        \
		}                                                                           \
		if (HEADER && !(cls & FIX_TC_HDR)) {                                        \
			h->body_off = (uint32_t)(p - buf);                                  \
			h->n_header = (int16_t)(f - f0 <= INT16_MAX ? f - f0 : INT16_MAX);  \
			f++;                                                                \
			p = e + 1;                                                          \
			break;                                                              \
		}                                                                           \
		f++;                                                                        \
		p = e + 1;                                                                  \
		if (p == lim) {                                                             \
			if (HEADER) {                                                       \
				/* No body: it starts (empty) where the trailer does. */    \
				h->body_off = (uint32_t)(lim - buf);                        \
				h->n_header = (int16_t)(f - f0 <= INT16_MAX ? f - f0 :      \
								       INT16_MAX);      \
			}                                                                   \
			break;                                                              \
		}                                                                           \
	}

static inline __attribute__((always_inline)) int fast_parse_body(struct fix_msg *m,
								  const char *buf, size_t len,
								  const bool CHECK_CAP)
{
	struct fix_header *h = &m->hdr;
	header_init(h);
	m->buf = buf;
	m->len = (uint32_t)len;
	m->nfields = 0;
	m->err_tag = 0;
	m->dup_tag = 0;

	struct ptabs tabs;
	clear_seen(tabs.seen);
	uint32_t nbig = 0, dup_tag = 0;
	struct fix_field *const f0 = m->fields;
	struct fix_field *f = f0;
	struct fix_field *const fend = f0 + m->cap;
	const char *const lim = buf + len - 7; /* "10=" */
	const char *p = buf;
	const char *bb = buf; /* buf + base */
	size_t base = 0;
	uint64_t bits = block_mask_fast(buf, 0, len);
	const char *e;

	/* 8, 9 and 35 open every message the fast path takes (else the reference parser
	 * reports it): read straight, without the tag decoding and the switch. Each starts at
	 * or before lim, so its first 8 bytes are readable. */
#define NEXT_SOH()                                                                          \
	do {                                                                                \
		while (__builtin_expect(bits == 0, 0)) {                                    \
			base += 64;                                                         \
			bb += 64;                                                           \
			bits = block_mask_fast(buf, base, len);                             \
		}                                                                           \
		e = bb + (unsigned)__builtin_ctzll(bits);                                   \
		bits &= bits - 1;                                                           \
	} while (0)
	if ((CHECK_CAP && m->cap < 3) || buf[0] != '8' || buf[1] != '=')
		return BAIL;
	NEXT_SOH();
	if (e == buf + 2 || e[1] != '9' || e[2] != '=')
		return BAIL;
	f[0].val = buf + 2;
	f[0].tag = 8;
	f[0].len = (uint32_t)(e - (buf + 2));
	h->ver = fix_version_from(buf + 2, f[0].len);
	p = e + 3;
	NEXT_SOH();
	if (e == p || e[1] != '3' || e[2] != '5' || e[3] != '=')
		return BAIL;
	f[1].val = p;
	f[1].tag = 9;
	f[1].len = (uint32_t)(e - p);
	uint64_t bl;
	h->body_length = fix_parse_u64(p, f[1].len, &bl) == FIX_OK && bl <= UINT32_MAX ?
		(uint32_t)bl : UINT32_MAX; /* cannot match: reported as a bad BodyLength */
	p = e + 4;
	NEXT_SOH();
	if (e == p)
		return BAIL;
	f[2].val = p;
	f[2].tag = 35;
	f[2].len = (uint32_t)(e - p);
	h->msg_type_len = f[2].len < 255 ? (uint8_t)f[2].len : 255;
	if (f[2].len < sizeof(h->msg_type)) {
		memcpy(h->msg_type, p, f[2].len);
		h->msg_type[f[2].len] = '\0';
	}
	tabs.seen[8 & 15] |= 1ull << (8 >> 4);
	tabs.seen[9 & 15] |= 1ull << (9 >> 4);
	tabs.seen[35 & 15] |= 1ull << (35 >> 4);
	f += 3;
	p = e + 1;

	/* The rest of the header (each field looked at by header_field), then the body, where
	 * header tags (out of order) are rare. p + 8 <= buf + len - 1 in both (the trailer
	 * follows), so tag_at may read p[0..7]. */
	if (p == lim) {
		h->body_off = (uint32_t)(lim - buf);
		h->n_header = 3;
	} else {
		FAST_FIELD_LOOP(true)
		if (p != lim)
			FAST_FIELD_LOOP(false)
	}
#undef NEXT_SOH

	/* "10=xxx", checked by fast_parse, recorded like any other field. */
	if (f == fend)
		return BAIL;
	f->val = lim + 3;
	f->tag = 10;
	f->len = 3;
	if ((tabs.seen[10] & 1u) && dup_tag == 0)
		dup_tag = 10;
	f++;
	m->dup_tag = dup_tag;
	m->nfields = (uint32_t)(f - f0);
	/* What finish checks, less what the fast path already knows: 8, 9 and 35 first, the
	 * trailer last, no signature (93 is a data length tag: given up on). */
	uint32_t off10 = (uint32_t)(lim - buf);
	uint32_t after9 = (uint32_t)(f0[1].val + f0[1].len + 1 - buf);
	if (h->body_length != off10 - after9) {
		m->err_tag = 9;
		return FIX_E_BAD_BODY_LENGTH;
	}
	h->trailer_off = off10;
	h->body_sum = fix_sum_inline(buf + h->body_off, off10 - h->body_off);
	return FIX_OK;
}

static inline __attribute__((always_inline)) int fast_parse(struct fix_msg *m, const char *buf,
							     size_t len)
{
	if (len < FAST_MIN_LEN || len > UINT32_MAX)
		return BAIL;
	/* "<SOH>10=" + three bytes none of which is SOH + SOH: the trailer, as the reference
	 * parser would split it. */
	const char *t = buf + len - 8;
	if (t[0] != FIX_SOH || t[1] != '1' || t[2] != '0' || t[3] != '=' || t[4] == FIX_SOH ||
	    t[5] == FIX_SOH || t[6] == FIX_SOH || t[7] != FIX_SOH)
		return BAIL;
	/* Every field but the trailer takes at least 4 bytes ("1=x<SOH>"): with room for that
	 * many, the field index cannot overflow and the loop need not check it. */
	if (m->cap >= (len - 7) / 4 + 1)
		return fast_parse_body(m, buf, len, false);
	return fast_parse_body(m, buf, len, true);
}

int fix_parse(struct fix_msg *m, const char *buf, size_t len)
{
	int rc = fast_parse(m, buf, len);
	if (__builtin_expect(rc != BAIL, 1))
		return rc;
	return fix_parse_ref(m, buf, len);
}
