/* fixcodec: dictionary queries over the generated tables (dict/fix_dict_*.c). */
#include <string.h>

#include "fix_dict.h"
#include "dict/fix_dict_tables.h"

/* XML type names, indexed by enum fix_dict_type (gen_dict.py TYPES). */
static const char *const type_names[FIX_DT__COUNT] = {
	"STRING", "CHAR", "BOOLEAN", "INT", "SEQNUM", "LENGTH", "NUMINGROUP", "TAGNUM",
	"DAYOFMONTH", "FLOAT", "QTY", "PRICE", "PRICEOFFSET", "AMT", "PERCENTAGE",
	"UTCTIMESTAMP", "UTCTIMEONLY", "UTCDATEONLY", "UTCDATE", "LOCALMKTDATE", "MONTHYEAR",
	"MULTIPLEVALUESTRING", "MULTIPLECHARVALUE", "MULTIPLESTRINGVALUE", "DATA", "XMLDATA",
	"CURRENCY", "EXCHANGE", "COUNTRY", "LANGUAGE", "LOCALMKTTIME", "TZTIMEONLY",
	"TZTIMESTAMP", "XID", "XIDREF",
};

const struct fix_dict *fix_dict_get(enum fix_version v)
{
	switch (v) {
	case FIX_VER_42:
		return &fix_dict_fix42;
	case FIX_VER_44:
		return &fix_dict_fix44;
	case FIX_VER_T11:
		return &fix_dict_fixt11;
	default:
		return NULL;
	}
}

enum fix_version fix_dict_version(const struct fix_dict *d)
{
	return d ? d->ver : FIX_VER_UNKNOWN;
}

bool fix_dict_has_msgtype(const struct fix_dict *d, const char *msg_type)
{
	return d && msg_type && fix_dict_msg_find(d, msg_type, (uint32_t)strnlen(msg_type, 5)) >= 0;
}

const char *fix_dict_msg_name(const struct fix_dict *d, const char *msg_type)
{
	if (!d || !msg_type)
		return NULL;
	int i = fix_dict_msg_find(d, msg_type, (uint32_t)strnlen(msg_type, 5));
	return i < 0 ? NULL : d->names + d->msgs[i].name_off;
}

bool fix_dict_is_admin_msgtype(const char *msg_type)
{
	return msg_type && msg_type[0] && !msg_type[1] && strchr("012345A", msg_type[0]);
}

const char *fix_dict_field_type(const struct fix_dict *d, uint32_t tag)
{
	int i = d ? fix_dict_field_index(d, tag) : -1;
	return i < 0 ? NULL : type_names[d->fields[i].type];
}

const char *fix_dict_field_name(const struct fix_dict *d, uint32_t tag)
{
	int i = d ? fix_dict_field_index(d, tag) : -1;
	return i < 0 ? NULL : d->names + d->name_off[i];
}

void fix_msgtype_set_clear(struct fix_msgtype_set *s)
{
	memset(s, 0, sizeof(*s));
}

int fix_msgtype_set_add(const struct fix_dict *d, struct fix_msgtype_set *s, const char *msg_type)
{
	if (!d || !msg_type)
		return -1;
	int i = fix_dict_msg_find(d, msg_type, (uint32_t)strnlen(msg_type, 5));
	if (i < 0 || i >= 256)
		return -1;
	s->bits[i / 64] |= 1ull << (i % 64);
	return 0;
}

const char *fix_reject_text(int reason)
{
	/* The texts QuickFIX puts in 58, which the acceptance scenarios compare literally. */
	switch (reason) {
	case FIX_RJ_INVALID_TAG: return "Invalid tag number";
	case FIX_RJ_REQUIRED_TAG_MISSING: return "Required tag missing";
	case FIX_RJ_TAG_NOT_DEFINED_FOR_MSGTYPE: return "Tag not defined for this message type";
	case FIX_RJ_UNDEFINED_TAG: return "Undefined Tag";
	case FIX_RJ_TAG_WITHOUT_VALUE: return "Tag specified without a value";
	case FIX_RJ_VALUE_OUT_OF_RANGE: return "Value is incorrect (out of range) for this tag";
	case FIX_RJ_INCORRECT_DATA_FORMAT: return "Incorrect data format for value";
	case FIX_RJ_DECRYPTION_PROBLEM: return "Decryption problem";
	case FIX_RJ_SIGNATURE_PROBLEM: return "Signature problem";
	case FIX_RJ_COMPID_PROBLEM: return "CompID problem";
	case FIX_RJ_SENDING_TIME_ACCURACY: return "SendingTime accuracy problem";
	case FIX_RJ_INVALID_MSGTYPE: return "Invalid MsgType";
	case FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE: return "Tag appears more than once";
	case FIX_RJ_TAG_OUT_OF_ORDER: return "Tag specified out of required order";
	case FIX_RJ_REPEATING_GROUP_ORDER: return "Repeating group fields out of order";
	case FIX_RJ_INCORRECT_NUMINGROUP: return "Incorrect NumInGroup count for repeating group";
	case FIX_RJ_NON_DATA_VALUE_INCLUDES_DELIMITER:
		return "Non Data value includes field delimiter (SOH character)";
	default: return NULL;
	}
}

bool fix_dict_reason_allowed(const struct fix_dict *d, int reason)
{
	if (!d)
		d = &fix_dict_fix44;
	if (reason == FIX_RJ_OTHER)
		return d->ver != FIX_VER_42;
	return reason >= 0 && reason < 32 && (d->reject_reasons >> reason & 1u);
}
