/* fixcodec: layout of the generated dictionary tables (fix_dict_*.c, written by gen_dict.py).
 * Private to fix_dict.c and fix_validate.c; the layout is a contract with the generator.
 *
 * A dictionary is a handful of flat arrays:
 *  - fields: one 8-byte record per defined tag (type, flags, header/trailer slot, enumeration),
 *    found by a direct index for tags below n_lo and by binary search above (FIX 5.0 SP2 has a
 *    few tags in the 20000s-50000s that a direct table would pay 100 KB for);
 *  - contexts: the header, the trailer, every message body and every repeating group (shared
 *    between messages when identical). A context's members are found by tag through an
 *    open-addressing hash table of slot numbers (multiplicative hash, load at most 0.7,
 *    multiplier chosen by the generator so probes stay short); a member's "slot" is its rank by tag within the context, so one bit
 *    per slot gives "seen" (repeated tags) and "required" bitmaps, and the lowest missing
 *    required slot is the lowest missing tag (the one QuickFIX reports);
 *  - enumerations: single-byte values as a 128-bit set, longer ones as a list sorted by
 *    (length, bytes) of (offset << 8 | length) into a value pool;
 *  - messages: packed MsgType (up to 4 bytes, little-endian) found through the same kind of
 *    hash table, each naming its body context.
 */
#ifndef FIX_DICT_TABLES_H
#define FIX_DICT_TABLES_H

#include <stdint.h>

#include "fix_msg.h"
#include "fix_dict_limits.h"

/* Field types (ids fixed by gen_dict.py TYPES). */
enum fix_dict_type {
	FIX_DT_STRING, FIX_DT_CHAR, FIX_DT_BOOLEAN, FIX_DT_INT, FIX_DT_SEQNUM, FIX_DT_LENGTH,
	FIX_DT_NUMINGROUP, FIX_DT_TAGNUM, FIX_DT_DAYOFMONTH, FIX_DT_FLOAT, FIX_DT_QTY,
	FIX_DT_PRICE, FIX_DT_PRICEOFFSET, FIX_DT_AMT, FIX_DT_PERCENTAGE, FIX_DT_UTCTIMESTAMP,
	FIX_DT_UTCTIMEONLY, FIX_DT_UTCDATEONLY, FIX_DT_UTCDATE, FIX_DT_LOCALMKTDATE,
	FIX_DT_MONTHYEAR, FIX_DT_MULTIPLEVALUESTRING, FIX_DT_MULTIPLECHARVALUE,
	FIX_DT_MULTIPLESTRINGVALUE, FIX_DT_DATA, FIX_DT_XMLDATA, FIX_DT_CURRENCY, FIX_DT_EXCHANGE,
	FIX_DT_COUNTRY, FIX_DT_LANGUAGE, FIX_DT_LOCALMKTTIME, FIX_DT_TZTIMEONLY, FIX_DT_TZTIMESTAMP,
	FIX_DT_XID, FIX_DT_XIDREF,
	FIX_DT__COUNT
};

/* Field flags. */
#define FIX_DF_HDR 1u   /* standard header field */
#define FIX_DF_TRL 2u   /* standard trailer field */
#define FIX_DF_SES 4u   /* defined for the header/trailer and admin message bodies */
#define FIX_DF_APP 8u   /* defined for application message bodies */
#define FIX_DF_MULTI 16u /* space-separated values, each checked against the enumeration */
#define FIX_DF_PLAIN 32u /* no format and no enumeration: any non-empty value is valid */
#define FIX_DF_GROUP 64u /* opens a repeating group somewhere (NumInGroup of some group) */

struct fix_dict_field {
	uint8_t type;     /* enum fix_dict_type */
	uint8_t flags;    /* FIX_DF_* */
	uint8_t nh_slot;  /* slot in the header or trailer context when HDR/TRL */
	uint8_t pad;
	uint16_t enum_id; /* 0: no enumeration */
};

struct fix_dict_enum {
	uint64_t chars[2]; /* single-byte values: bit c set when value "c" is allowed (c < 128) */
	uint32_t first;    /* multi-byte values: enum_vals[first .. first+count) */
	uint32_t count;
};

/* A member of a context. It carries a copy of the field's record, so the validator's common
 * case (a body field) costs two dependent loads: hash entry, then this. */
struct fix_dict_slot {
	uint16_t tag;
	uint16_t sub;   /* context of the repeating group this NumInGroup tag opens, 0: none */
	uint16_t order; /* position in the definition (groups: members must follow it) */
	struct fix_dict_field f;
};

struct fix_dict_ctx {
	uint32_t hent;   /* hash table at hents[hent], 1 << bits slot numbers, 0xffff empty */
	uint32_t slot;   /* members at slots[slot .. slot+n), sorted by tag */
	uint32_t req;    /* required bitmap at req[req .. req + (n+63)/64) */
	uint32_t mult;   /* hash multiplier */
	uint16_t n;
	uint8_t bits;
	uint8_t pad;
	uint16_t delim;  /* groups: the delimiter (first member) */
	uint16_t count_tag; /* groups: the NumInGroup tag */
};

struct fix_dict_msg {
	uint32_t key;   /* MsgType bytes, little-endian, zero-padded */
	uint16_t ctx;   /* body context */
	uint8_t admin;
	uint8_t pad;
	uint32_t name_off;
};

#define FIX_DICT_HT_TAGS 1024u

/* Contexts 0 and 1 are always the header and the trailer. */
#define FIX_DICT_CTX_HDR 0
#define FIX_DICT_CTX_TRL 1

struct fix_dict {
	enum fix_version ver;
	const char *begin_string;
	const uint16_t *lo;        /* tag < n_lo: field index + 1, 0 when undefined */
	uint32_t n_lo;
	const uint32_t *hi_tags;   /* sorted tags >= n_lo */
	const uint16_t *hi_idx;    /* their field index + 1 */
	uint32_t n_hi;
	const uint32_t *tags;      /* field index -> tag */
	const struct fix_dict_field *fields;
	const uint32_t *name_off;  /* field index -> name in names */
	uint32_t n_fields;
	const struct fix_dict_enum *enums;
	const uint32_t *enum_vals;
	const char *vpool;
	const uint16_t *hents;
	const struct fix_dict_slot *slots;
	const uint64_t *req;
	const struct fix_dict_ctx *ctxs;
	uint32_t n_ctxs;
	const struct fix_dict_msg *msgs;
	uint32_t n_msgs;
	const uint16_t *mt_hash;   /* message index + 1, 0 when empty */
	uint32_t mt_mult;
	uint32_t mt_bits;
	const char *names;
	const uint64_t *ht;        /* bit t (t < FIX_DICT_HT_TAGS): t is a header/trailer tag */
	uint32_t reject_reasons;   /* bit r: SessionRejectReason r is defined in this version */
};

extern const struct fix_dict fix_dict_fix42;
extern const struct fix_dict fix_dict_fix44;
extern const struct fix_dict fix_dict_fixt11;

/* Field index of tag, or -1 when d does not define it. */
static inline int fix_dict_field_index(const struct fix_dict *d, uint32_t tag)
{
	if (tag < d->n_lo)
		return (int)d->lo[tag] - 1;
	uint32_t lo = 0, hi = d->n_hi;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (d->hi_tags[mid] < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->n_hi && d->hi_tags[lo] == tag ? (int)d->hi_idx[lo] - 1 : -1;
}

/* Slot of tag in context c, or -1 when it is not a member. */
static inline int fix_dict_ctx_find(const struct fix_dict *d, const struct fix_dict_ctx *c,
				    uint32_t tag)
{
	if (tag == 0 || tag > 0xffffu)
		return -1;
	const uint16_t *h = d->hents + c->hent;
	const struct fix_dict_slot *s = d->slots + c->slot;
	uint32_t mask = (1u << c->bits) - 1;
	uint32_t i = (uint32_t)(tag * c->mult) >> (32 - c->bits);
	for (;;) {
		uint16_t e = h[i];
		if (e == 0xffff)
			return -1;
		if (s[e].tag == tag)
			return e;
		i = (i + 1) & mask;
	}
}

/* Message index of MsgType bytes mt[0..len), or -1. */
static inline int fix_dict_msg_find(const struct fix_dict *d, const char *mt, uint32_t len)
{
	if (len == 0 || len > 4)
		return -1;
	uint32_t key = 0;
	for (uint32_t i = 0; i < len; i++) {
		if (mt[i] == 0)
			return -1;
		key |= (uint32_t)(unsigned char)mt[i] << (8 * i);
	}
	uint32_t mask = (1u << d->mt_bits) - 1;
	uint32_t i = (key * d->mt_mult) >> (32 - d->mt_bits);
	for (;;) {
		uint16_t e = d->mt_hash[i];
		if (e == 0)
			return -1;
		if (d->msgs[e - 1].key == key)
			return e - 1;
		i = (i + 1) & mask;
	}
}

#endif
