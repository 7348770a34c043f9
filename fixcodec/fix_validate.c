/* fixcodec: validation of a parsed message against a generated dictionary.
 *
 * One pass over the fields in message order, no allocation, state on the stack (sized by the
 * generator, fix_dict_limits.h). Every problem found is a candidate; the verdict is the
 * candidate QuickFIX would report, so Rejects match the acceptance scenarios when several
 * problems coexist. QuickFIX checks, in this order (DataDictionary::validate):
 *   1. structure: a header field after the body, or a body field after the trailer (14),
 *      reporting the first such field in message order;
 *   2. MsgType unknown to the dictionary (11, no RefTagID);
 *   3. required fields: header, then trailer, then body, each by ascending tag; then inside
 *      the body's repeating groups;
 *   4. every field of the header, then the trailer, then the body, by ascending tag: for a
 *      tag's first occurrence: empty value (4), data format (6), enumeration (5), tag unknown
 *      to the version (0), tag not in the message type (2), NumInGroup not matching the
 *      instances (16); its second occurrence: repeated tag (13).
 * We also check what QuickFIX leaves unchecked and rank it last: values, order and nested
 * counts inside repeating groups (5. in message order). A candidate's rank is
 * (phase, section, tag or position); the smallest wins, the earliest among equals.
 */
#include <string.h>

#include "fix_dict.h"
#include "dict/fix_dict_tables.h"

enum { PH_STRUCT, PH_MSGTYPE, PH_REQ, PH_ITER, PH_GROUP, PH_NONE };
enum { SEC_HDR, SEC_TRL, SEC_BODY, SEC_GROUP };

struct cand {
	uint32_t phase, rank, a, b;
	int reason;
	uint32_t tag;
	bool has_tag;
};

struct frame {
	const struct fix_dict_ctx *c;
	uint64_t declared;      /* the NumInGroup value */
	bool count_ok;          /* declared is a number */
	uint32_t count_tag;
	uint32_t count_pos;     /* position of the NumInGroup field */
	uint32_t instances;
	bool pseudo;            /* members seen before the first delimiter */
	int last_order;         /* definition position of the instance's last member */
	uint32_t start_pos;     /* position of the current instance's first field */
	uint32_t top_tag;       /* NumInGroup tag of the outermost group around this one */
	uint32_t top_rank;      /* section of the outermost group (header or body) */
	uint64_t seen[FIX_DICT_MAX_GROUP_WORDS];
};

struct vstate {
	const struct fix_dict *d;
	bool any_group_order;   /* fix_validate_opts.any_group_order */
	struct cand best;
	uint32_t depth;
	struct frame stk[FIX_DICT_MAX_DEPTH + 1];
};

__attribute__((cold, noinline)) static void note(struct vstate *st, uint32_t phase, uint32_t rank,
						  uint32_t a, uint32_t b, int reason,
						  uint32_t tag, bool has_tag)
{
	struct cand *c = &st->best;
	if (phase > c->phase || (phase == c->phase &&
	    (rank > c->rank || (rank == c->rank && (a > c->a || (a == c->a && b >= c->b))))))
		return;
	c->phase = phase;
	c->rank = rank;
	c->a = a;
	c->b = b;
	c->reason = reason;
	c->tag = tag;
	c->has_tag = has_tag;
}

/* ---- value formats ----------------------------------------------------------------------- */

static inline bool is_digit(char c)
{
	return (unsigned)(c - '0') < 10u;
}

static bool all_digits(const char *v, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (!is_digit(v[i]))
			return false;
	return true;
}

static unsigned num2(const char *p)
{
	return (unsigned)(p[0] - '0') * 10u + (unsigned)(p[1] - '0');
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the SWAR checks assume little-endian");

static inline uint64_t load8(const char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return x;
}

/* Eight ASCII digits, tested at once: each byte's high nibble is 3 and adding 6 to each byte
 * does not carry out of the nibble (so the low nibble is at most 9). */
static inline bool digits8(uint64_t x)
{
	const uint64_t hi = 0xF0F0F0F0F0F0F0F0ull, three = 0x3030303030303030ull;
	return (x & hi) == three && ((x + 0x0606060606060606ull) & hi) == three;
}

/* YYYYMMDD */
static bool fmt_date(const char *v)
{
	if (!digits8(load8(v)))
		return false;
	unsigned mon = num2(v + 4), day = num2(v + 6);
	return mon - 1u < 12u && day - 1u < 31u;
}

/* HH:MM:SS[.f{1,12}] (FIX 5.0 allows down to picoseconds; 60 is a leap second). */
static bool fmt_time(const char *v, uint32_t len)
{
	if (len < 8)
		return false;
	/* The colons are bytes 2 and 5 of the little-endian word; put digits in their place. */
	const uint64_t colons = 0x0000FF0000FF0000ull;
	uint64_t x = load8(v);
	if ((x & colons) != 0x00003A00003A0000ull ||
	    !digits8((x & ~colons) | 0x0000300000300000ull))
		return false;
	if (num2(v) > 23 || num2(v + 3) > 59 || num2(v + 6) > 60)
		return false;
	if (len == 8)
		return true;
	return v[8] == '.' && len >= 10 && len <= 21 && all_digits(v + 9, len - 9);
}

/* -?digits with at most 18 of them (fits int64). */
static bool fmt_int(const char *v, uint32_t len)
{
	if (len && v[0] == '-') {
		v++;
		len--;
	}
	return len >= 1 && len <= 18 && all_digits(v, len);
}

/* -?d*[.d*] with at least one digit: FIX float, no '+', no exponent ("1." and ".5" pass, as in
 * QuickFIX). */
static inline bool fmt_float(const char *v, uint32_t len)
{
	uint32_t i = len && v[0] == '-';
	uint32_t digits = 0;
	bool dot = false;
	for (; i < len; i++) {
		if (is_digit(v[i]))
			digits++;
		else if (v[i] == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digits > 0;
}

/* YYYYMM, YYYYMMDD or YYYYMMwN (week 1-5). */
static bool fmt_monthyear(const char *v, uint32_t len)
{
	if (len < 6 || !all_digits(v, 6) || num2(v + 4) < 1 || num2(v + 4) > 12)
		return false;
	if (len == 6)
		return true;
	if (len == 8 && v[6] == 'w')
		return v[7] >= '1' && v[7] <= '5';
	return len == 8 && all_digits(v + 6, 2) && num2(v + 6) >= 1 && num2(v + 6) <= 31;
}

/* Space-separated non-empty values; single characters for MULTIPLECHARVALUE. */
static bool fmt_multi(const char *v, uint32_t len, bool chars)
{
	uint32_t tok = 0;
	for (uint32_t i = 0; i < len; i++) {
		if (v[i] == ' ') {
			if (tok == 0)
				return false;
			tok = 0;
		} else if (++tok > 1 && chars) {
			return false;
		}
	}
	return tok > 0;
}

static bool fmt_ok(uint8_t type, const char *v, uint32_t len)
{
	switch (type) {
	case FIX_DT_CHAR:
		return len == 1;
	case FIX_DT_BOOLEAN:
		return len == 1 && (v[0] == 'Y' || v[0] == 'N');
	case FIX_DT_INT:
		return fmt_int(v, len);
	case FIX_DT_SEQNUM:
	case FIX_DT_LENGTH:
	case FIX_DT_NUMINGROUP:
	case FIX_DT_TAGNUM:
		return len <= 18 && all_digits(v, len);
	case FIX_DT_DAYOFMONTH:
		if (len == 1)
			return v[0] >= '1' && v[0] <= '9';
		return len == 2 && all_digits(v, 2) && num2(v) >= 1 && num2(v) <= 31;
	case FIX_DT_FLOAT:
	case FIX_DT_QTY:
	case FIX_DT_PRICE:
	case FIX_DT_PRICEOFFSET:
	case FIX_DT_AMT:
	case FIX_DT_PERCENTAGE:
		return fmt_float(v, len);
	case FIX_DT_UTCTIMESTAMP:
		return len >= 17 && v[8] == '-' && fmt_date(v) && fmt_time(v + 9, len - 9);
	case FIX_DT_UTCTIMEONLY:
		return fmt_time(v, len);
	case FIX_DT_UTCDATEONLY:
	case FIX_DT_UTCDATE:
	case FIX_DT_LOCALMKTDATE:
		return len == 8 && fmt_date(v);
	case FIX_DT_MONTHYEAR:
		return fmt_monthyear(v, len);
	case FIX_DT_MULTIPLECHARVALUE:
		return fmt_multi(v, len, true);
	case FIX_DT_MULTIPLEVALUESTRING:
	case FIX_DT_MULTIPLESTRINGVALUE:
		return fmt_multi(v, len, false);
	default:
		/* STRING, DATA and the string-like types: any bytes (the parser has excluded SOH
		 * outside data fields). */
		return true;
	}
}

static bool in_enum_list(const struct fix_dict *d, const struct fix_dict_enum *e, const char *v,
			 uint32_t len)
{
	uint32_t lo = e->first, hi = e->first + e->count;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		uint32_t ent = d->enum_vals[mid];
		uint32_t elen = ent & 0xffu;
		int cmp = elen < len ? -1 : elen > len ? 1 : memcmp(d->vpool + (ent >> 8), v, len);
		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static inline bool in_enum(const struct fix_dict *d, const struct fix_dict_enum *e,
			   const char *v, uint32_t len)
{
	if (len == 1) {
		unsigned c = (unsigned char)v[0];
		return c < 128 && (e->chars[c >> 6] >> (c & 63) & 1u);
	}
	return in_enum_list(d, e, v, len);
}

/* The types seen in nearly every message, checked inline; -1 ok, else the reason, or -2 when
 * the type is not one of them. */
static inline __attribute__((always_inline)) int check_common(const struct fix_dict *d,
							      const struct fix_dict_field *r,
							      const char *v, uint32_t len)
{
	switch (r->type) {
	case FIX_DT_CHAR:
		if (len != 1)
			return len ? FIX_RJ_INCORRECT_DATA_FORMAT : FIX_RJ_TAG_WITHOUT_VALUE;
		if (r->enum_id) {
			const struct fix_dict_enum *e = &d->enums[r->enum_id];
			unsigned c = (unsigned char)v[0];
			if (c >= 128 || !(e->chars[c >> 6] >> (c & 63) & 1u))
				return FIX_RJ_VALUE_OUT_OF_RANGE;
		}
		return -1;
	case FIX_DT_SEQNUM:
	case FIX_DT_LENGTH:
		if (len == 0)
			return FIX_RJ_TAG_WITHOUT_VALUE;
		return len <= 18 && all_digits(v, len) ? -1 : FIX_RJ_INCORRECT_DATA_FORMAT;
	case FIX_DT_UTCTIMESTAMP:
		/* SendingTime and TransactTime are in nearly every message: "YYYYMMDD-HH:MM:SS"
		 * as three 8-byte words, then the fraction. */
		if (len >= 17 && len <= 30 && v[8] == '-') {
			const uint64_t colons = 0x0000FF0000FF0000ull;
			uint64_t dt = load8(v), tm = load8(v + 9);
			if (digits8(dt) && (tm & colons) == 0x00003A00003A0000ull &&
			    digits8((tm & ~colons) | 0x0000300000300000ull) &&
			    num2(v + 4) - 1u < 12u && num2(v + 6) - 1u < 31u && num2(v + 9) <= 23 &&
			    num2(v + 12) <= 59 && num2(v + 15) <= 60 &&
			    (len == 17 || (v[17] == '.' && len >= 19 && all_digits(v + 18, len - 18))))
				return -1;
		}
		return len ? FIX_RJ_INCORRECT_DATA_FORMAT : FIX_RJ_TAG_WITHOUT_VALUE;
	case FIX_DT_QTY:
	case FIX_DT_PRICE:
	case FIX_DT_AMT:
	case FIX_DT_FLOAT:
		if (len == 0)
			return FIX_RJ_TAG_WITHOUT_VALUE;
		return fmt_float(v, len) ? -1 : FIX_RJ_INCORRECT_DATA_FORMAT;
	default:
		return -2;
	}
}

/* -1 when the value suits the field, else the SessionRejectReason. */
static int check_value(const struct fix_dict *d, const struct fix_dict_field *r, const char *v,
		       uint32_t len)
{
	if (len == 0)
		return FIX_RJ_TAG_WITHOUT_VALUE;
	if (!fmt_ok(r->type, v, len))
		return FIX_RJ_INCORRECT_DATA_FORMAT;
	if (r->enum_id) {
		const struct fix_dict_enum *e = &d->enums[r->enum_id];
		if (!(r->flags & FIX_DF_MULTI))
			return in_enum(d, e, v, len) ? -1 : FIX_RJ_VALUE_OUT_OF_RANGE;
		uint32_t s = 0;
		for (uint32_t i = 0; i <= len; i++) {
			if (i == len || v[i] == ' ') {
				if (!in_enum(d, e, v + s, i - s))
					return FIX_RJ_VALUE_OUT_OF_RANGE;
				s = i + 1;
			}
		}
	}
	return -1;
}

/* ---- repeating groups -------------------------------------------------------------------- */

static void instance_end(struct vstate *st, struct frame *g)
{
	const struct fix_dict *d = st->d;
	uint32_t words = (g->c->n + 63u) / 64u;
	for (uint32_t w = 0; w < words; w++) {
		uint64_t missing = d->req[g->c->req + w] & ~g->seen[w];
		if (missing) {
			uint32_t tag = d->slots[g->c->slot + w * 64 + (uint32_t)__builtin_ctzll(missing)].tag;
			note(st, PH_REQ, SEC_GROUP, g->top_tag, g->start_pos,
			     FIX_RJ_REQUIRED_TAG_MISSING, tag, true);
			return;
		}
	}
}

static void group_end(struct vstate *st)
{
	struct frame *g = &st->stk[--st->depth];
	if (g->instances)
		instance_end(st, g);
	if (g->count_ok && g->declared != g->instances) {
		/* QuickFIX compares the counts of the outermost groups only, while iterating the
		 * header or body by tag; nested groups we rank with the in-group checks. */
		if (st->depth == 0)
			note(st, PH_ITER, g->top_rank, g->count_tag, 0, FIX_RJ_INCORRECT_NUMINGROUP,
			     g->count_tag, true);
		else
			note(st, PH_GROUP, 0, g->count_pos, 0, FIX_RJ_INCORRECT_NUMINGROUP,
			     g->count_tag, true);
	}
}

static void group_begin(struct vstate *st, uint16_t sub, const struct fix_field *f, uint32_t pos,
			uint32_t top_tag, uint32_t top_rank)
{
	if (st->depth > FIX_DICT_MAX_DEPTH)
		return; /* cannot happen: nesting follows the dictionary, whose depth is bounded */
	struct frame *g = &st->stk[st->depth++];
	g->c = &st->d->ctxs[sub];
	g->count_tag = f->tag;
	g->count_pos = pos;
	g->count_ok = f->len > 0 && f->len <= 18 && all_digits(f->val, f->len);
	g->declared = 0;
	if (g->count_ok)
		for (uint32_t i = 0; i < f->len; i++)
			g->declared = g->declared * 10 + (uint64_t)(f->val[i] - '0');
	else if (f->len > 1 && f->len <= 19 && f->val[0] == '-' &&
		 all_digits(f->val + 1, f->len - 1)) {
		/* FIX.4.2 types its NumInGroup fields INT, so "-1" passes the format check there:
		 * a negative count matches no number of instances ("-0" is 0, as for QuickFIX). */
		g->count_ok = true;
		for (uint32_t i = 1; i < f->len; i++)
			if (f->val[i] != '0')
				g->declared = UINT64_MAX;
	}
	g->instances = 0;
	g->pseudo = false;
	g->last_order = -1;
	g->start_pos = pos;
	g->top_tag = top_tag;
	g->top_rank = top_rank;
}

/* A field that is a member (slot) of the innermost group. */
static void group_member(struct vstate *st, const struct fix_field *f, uint32_t pos, int slot)
{
	const struct fix_dict *d = st->d;
	struct frame *g = &st->stk[st->depth - 1];
	const struct fix_dict_slot *s = &d->slots[g->c->slot + (uint32_t)slot];

	if (f->tag == g->c->delim) {
		if (g->instances)
			instance_end(st, g);
		g->instances++;
		g->pseudo = false;
		g->start_pos = pos;
		g->last_order = -1;
		memset(g->seen, 0, sizeof(g->seen));
	} else if (g->instances == 0 && !g->pseudo) {
		/* The first field after NumInGroup must be the delimiter. What comes before it is
		 * not counted as an instance (QuickFIX would count it and then report a wrong
		 * NumInGroup, hiding the real problem). */
		note(st, PH_GROUP, 0, pos, 0, FIX_RJ_REPEATING_GROUP_ORDER, f->tag, true);
		g->pseudo = true;
		g->last_order = -1;
		memset(g->seen, 0, sizeof(g->seen));
	} else if (st->any_group_order ?
		   (g->seen[(uint32_t)slot / 64] >> ((uint32_t)slot % 64) & 1u) != 0 :
		   (int)s->order <= g->last_order) {
		/* Out of the definition's order, or repeated inside one instance. */
		note(st, PH_GROUP, 0, pos, 0, FIX_RJ_REPEATING_GROUP_ORDER, f->tag, true);
	}
	if ((int)s->order > g->last_order)
		g->last_order = s->order;
	g->seen[(uint32_t)slot / 64] |= 1ull << ((uint32_t)slot % 64);

	int r = (s->f.flags & FIX_DF_PLAIN) ? (f->len ? -1 : FIX_RJ_TAG_WITHOUT_VALUE) :
		check_value(d, &s->f, f->val, f->len);
	if (r >= 0)
		note(st, PH_GROUP, 0, pos, 0, r, f->tag, true);
	if (s->sub)
		group_begin(st, s->sub, f, pos, g->top_tag, g->top_rank);
}

/* ---- the pass ---------------------------------------------------------------------------- */

static const struct fix_field *find_msgtype(const struct fix_msg *m, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (m->fields[i].tag == 35)
			return &m->fields[i];
	return NULL;
}

/* Validates m into v; bad_tag (when has_bad) is a field the parser had to skip. Returns the
 * message index of m's MsgType, -1 when unknown. */
static int run(const struct fix_dict *d, const struct fix_msg *m, struct fix_verdict *v,
	       bool has_bad, uint32_t bad_tag, const struct fix_validate_opts *o)
{
	bool user_tags = o && o->allow_user_tags;
	struct vstate st;
	st.d = d;
	st.any_group_order = o && o->any_group_order;
	st.best.phase = PH_NONE;
	st.depth = 0;
	if (has_bad)
		note(&st, PH_ITER, SEC_BODY, 0, 0, FIX_RJ_INVALID_TAG, bad_tag, true);

	uint32_t n = m->nfields;
	if (m->cap && n > m->cap)
		n = m->cap;
	if (!m->fields)
		n = 0;

	const struct fix_field *mt = find_msgtype(m, n);
	int mi = mt ? fix_dict_msg_find(d, mt->val, mt->len) : -1;
	if (mt && mi < 0)
		note(&st, PH_MSGTYPE, 0, 0, 0, FIX_RJ_INVALID_MSGTYPE, 0, false);
	const struct fix_dict_ctx *body = mi >= 0 ? &d->ctxs[d->msgs[mi].ctx] : NULL;
	uint8_t need = mi >= 0 && d->msgs[mi].admin ? FIX_DF_SES : FIX_DF_APP;
	const struct fix_dict_ctx *hctx = &d->ctxs[FIX_DICT_CTX_HDR];
	const struct fix_dict_ctx *tctx = &d->ctxs[FIX_DICT_CTX_TRL];

	uint64_t hseen = 0, tseen = 0;
	/* Fixed size, so zeroing is a few vector stores (a variable-length memset became
	 * "rep stos", whose start-up cost was a fifth of a whole validation). */
	uint64_t bseen[FIX_DICT_MAX_WORDS] = {0};
	uint32_t bwords = body ? (body->n + 63u) / 64u : 0;
	int section = SEC_HDR;

	/* The body's hash table, hoisted: the calls in the loop (cold as they are) would make
	 * the compiler reload it for every field otherwise. */
	const uint16_t *bh = body ? d->hents + body->hent : NULL;
	const struct fix_dict_slot *bs = body ? d->slots + body->slot : NULL;
	const uint32_t bmult = body ? body->mult : 0;
	const uint32_t bshift = body ? 32u - body->bits : 0;
	const uint32_t bmask = body ? (1u << body->bits) - 1 : 0;
	const uint64_t *ht = d->ht;

	for (uint32_t i = 0; i < n; i++) {
		const struct fix_field *f = &m->fields[i];
		uint32_t tag = f->tag;

		while (st.depth) {
			int slot = fix_dict_ctx_find(d, st.stk[st.depth - 1].c, tag);
			if (slot >= 0)
				break;
			group_end(&st);
		}
		if (st.depth) {
			group_member(&st, f, i, fix_dict_ctx_find(d, st.stk[st.depth - 1].c, tag));
			continue;
		}

		/* Most fields are members of the message body: one probe of its table gives the
		 * field. Header and trailer tags (a bitmap for the small ones) and everything the
		 * body does not know take the slower way through the field index. */
		int slot = -1;
		const struct fix_dict_field *r;
		bool small_ht = tag < FIX_DICT_HT_TAGS && (ht[tag >> 6] >> (tag & 63) & 1u);
		if (bh && !small_ht && tag - 1u < 0xffffu) {
			uint32_t k = (tag * bmult) >> bshift;
			for (;;) {
				uint16_t e = bh[k];
				if (e == 0xffff)
					break;
				if (bs[e].tag == tag) {
					slot = e;
					break;
				}
				k = (k + 1) & bmask;
			}
		}
		if (slot >= 0) {
			const struct fix_dict_slot *s = &bs[slot];
			r = &s->f;
			if (section == SEC_TRL)
				note(&st, PH_STRUCT, 0, i, 0, FIX_RJ_TAG_OUT_OF_ORDER, tag, true);
			section = section == SEC_TRL ? SEC_TRL : SEC_BODY;
			uint64_t bit = 1ull << ((uint32_t)slot % 64);
			if (bseen[(uint32_t)slot / 64] & bit) {
				note(&st, PH_ITER, SEC_BODY, tag, 0, FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE,
				     tag, true);
				continue;
			}
			bseen[(uint32_t)slot / 64] |= bit;
			int rs = (r->flags & FIX_DF_PLAIN) ? (f->len ? -1 : FIX_RJ_TAG_WITHOUT_VALUE) :
				 check_common(d, r, f->val, f->len);
			if (rs == -2)
				rs = check_value(d, r, f->val, f->len);
			if (rs >= 0)
				note(&st, PH_ITER, SEC_BODY, tag, 0, rs, tag, true);
			if (s->sub)
				group_begin(&st, s->sub, f, i, tag, SEC_BODY);
			continue;
		}

		int fi = fix_dict_field_index(d, tag);
		r = fi >= 0 ? &d->fields[fi] : NULL;
		if (r && (r->flags & (FIX_DF_HDR | FIX_DF_TRL))) {
			bool hdr = r->flags & FIX_DF_HDR;
			uint32_t rank = hdr ? SEC_HDR : SEC_TRL;
			if (hdr && section != SEC_HDR)
				note(&st, PH_STRUCT, 0, i, 0, FIX_RJ_TAG_OUT_OF_ORDER, tag, true);
			if (!hdr)
				section = SEC_TRL;
			uint64_t *seen = hdr ? &hseen : &tseen;
			uint64_t bit = 1ull << r->nh_slot;
			if (*seen & bit) {
				note(&st, PH_ITER, rank, tag, 0, FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE, tag,
				     true);
				continue;
			}
			*seen |= bit;
			int rs = (r->flags & FIX_DF_PLAIN) ? (f->len ? -1 : FIX_RJ_TAG_WITHOUT_VALUE) :
				 check_common(d, r, f->val, f->len);
			if (rs == -2)
				rs = check_value(d, r, f->val, f->len);
			if (rs >= 0)
				note(&st, PH_ITER, rank, tag, 0, rs, tag, true);
			if (r->flags & FIX_DF_GROUP) {
				const struct fix_dict_ctx *c = hdr ? hctx : tctx;
				uint16_t sub = d->slots[c->slot + r->nh_slot].sub;
				if (sub)
					group_begin(&st, sub, f, i, tag, rank);
			}
			continue;
		}

		/* Not a member of the body (or MsgType unknown): always an error but for the
		 * structure check, ranked as QuickFIX ranks it. */
		if (section == SEC_TRL)
			note(&st, PH_STRUCT, 0, i, 0, FIX_RJ_TAG_OUT_OF_ORDER, tag, true);
		else
			section = SEC_BODY;
		if (!body)
			continue;
		int rs;
		if (r)
			rs = check_value(d, r, f->val, f->len);
		else
			rs = f->len == 0 ? FIX_RJ_TAG_WITHOUT_VALUE : -1;
		/* User-defined tags, when allowed, are checked for a value (and a format where the
		 * dictionary knows them) only: QuickFIX's ValidateUserDefinedFields=N. */
		bool user = user_tags && tag >= FIX_USER_TAG_MIN;
		if (rs < 0 && !user && !(r && (r->flags & need)))
			rs = FIX_RJ_INVALID_TAG;
		if (rs < 0 && !user)
			rs = FIX_RJ_TAG_NOT_DEFINED_FOR_MSGTYPE;
		if (rs >= 0)
			note(&st, PH_ITER, SEC_BODY, tag, 0, rs, tag, true);
	}
	while (st.depth)
		group_end(&st);

	/* Required fields, lowest tag first: slots are numbered by tag. */
	uint64_t miss = d->req[hctx->req] & ~hseen;
	if (miss)
		note(&st, PH_REQ, SEC_HDR, 0, 0, FIX_RJ_REQUIRED_TAG_MISSING,
		     d->slots[hctx->slot + (uint32_t)__builtin_ctzll(miss)].tag, true);
	miss = d->req[tctx->req] & ~tseen;
	if (miss)
		note(&st, PH_REQ, SEC_TRL, 0, 0, FIX_RJ_REQUIRED_TAG_MISSING,
		     d->slots[tctx->slot + (uint32_t)__builtin_ctzll(miss)].tag, true);
	for (uint32_t w = 0; w < bwords; w++) {
		miss = d->req[body->req + w] & ~bseen[w];
		if (miss) {
			note(&st, PH_REQ, SEC_BODY, 0, 0, FIX_RJ_REQUIRED_TAG_MISSING,
			     d->slots[body->slot + w * 64 + (uint32_t)__builtin_ctzll(miss)].tag, true);
			break;
		}
	}

	if (st.best.phase == PH_NONE)
		return mi;
	v->ok = false;
	v->reason = st.best.reason;
	v->has_ref_tag = st.best.has_tag;
	v->ref_tag = st.best.has_tag ? st.best.tag : 0;
	v->text = fix_reject_text(st.best.reason);
	v->send_reason = fix_dict_reason_allowed(d, st.best.reason);
	return mi;
}

static void verdict_init(struct fix_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->ok = true;
}

void fix_validate(const struct fix_dict *d, const struct fix_msg *m, struct fix_verdict *v)
{
	verdict_init(v);
	if (!d || !m)
		return;
	run(d, m, v, false, 0, NULL);
}

static void validate_app(const struct fix_dict *d, const struct fix_msg *m,
			 const struct fix_msgtype_set *app, struct fix_verdict *v, bool has_bad,
			 uint32_t bad_tag, const struct fix_validate_opts *o)
{
	verdict_init(v);
	if (!d || !m)
		return;
	int mi = run(d, m, v, has_bad, bad_tag, o);
	if (!v->ok || !app || mi < 0 || d->msgs[mi].admin)
		return;
	if (mi < 256 && (app->bits[mi / 64] >> (mi % 64) & 1u))
		return;
	v->ok = false;
	v->unsupported_msgtype = true;
	v->reason = FIX_RJ_OTHER;
	v->business_reason = 3; /* BusinessRejectReason: Unsupported Message Type */
	v->text = "Unsupported Message Type";
}

void fix_validate_app(const struct fix_dict *d, const struct fix_msg *m,
		      const struct fix_msgtype_set *app, struct fix_verdict *v)
{
	validate_app(d, m, app, v, false, 0, NULL);
}

bool fix_validate_parsed(const struct fix_dict *d, const struct fix_msg *m, int rc,
			 const struct fix_validate_opts *o, struct fix_verdict *v)
{
	verdict_init(v);
	if (rc != FIX_OK && rc != FIX_E_NO_VALUE && rc != FIX_E_BAD_TAG)
		return false;
	validate_app(d, m, o ? o->app : NULL, v, rc == FIX_E_BAD_TAG, m ? m->err_tag : 0, o);
	return true;
}
