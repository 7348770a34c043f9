/* fixcodec: FIX data dictionaries (the project's own compact tables, generated from the FIX
 * standard's facts by fixcodec/dict/gen_dict.py) and message validation against them.
 */
#ifndef FIX_DICT_H
#define FIX_DICT_H

#include "fix_msg.h"

struct fix_dict; /* opaque; one per version, static const tables */

/* The dictionary for a version (FIX_VER_T11 = FIXT.1.1 session + FIX 5.0 SP2 application). */
const struct fix_dict *fix_dict_get(enum fix_version v);

/* SessionRejectReason(373) values. */
enum fix_reject_reason {
	FIX_RJ_INVALID_TAG = 0,
	FIX_RJ_REQUIRED_TAG_MISSING = 1,
	FIX_RJ_TAG_NOT_DEFINED_FOR_MSGTYPE = 2,
	FIX_RJ_UNDEFINED_TAG = 3,
	FIX_RJ_TAG_WITHOUT_VALUE = 4,
	FIX_RJ_VALUE_OUT_OF_RANGE = 5,
	FIX_RJ_INCORRECT_DATA_FORMAT = 6,
	FIX_RJ_DECRYPTION_PROBLEM = 7,
	FIX_RJ_SIGNATURE_PROBLEM = 8,
	FIX_RJ_COMPID_PROBLEM = 9,
	FIX_RJ_SENDING_TIME_ACCURACY = 10,
	FIX_RJ_INVALID_MSGTYPE = 11,
	FIX_RJ_XML_VALIDATION = 12,
	FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE = 13,
	FIX_RJ_TAG_OUT_OF_ORDER = 14,
	FIX_RJ_REPEATING_GROUP_ORDER = 15,
	FIX_RJ_INCORRECT_NUMINGROUP = 16,
	FIX_RJ_NON_DATA_VALUE_INCLUDES_DELIMITER = 17,
	FIX_RJ_OTHER = 99,
};

/* The outcome of a validation: ok, or the Reject(3) fields to send. */
struct fix_verdict {
	bool ok;
	int reason;              /* SessionRejectReason (373), when !ok */
	uint32_t ref_tag;        /* RefTagID (371), 0 when none applies */
	bool has_ref_tag;
	const char *text;        /* Text (58) as the QuickFIX acceptance scenarios expect it */
	/* Set for an unknown MsgType of an application message: FIX says a
	 * BusinessMessageReject(j) with 380=3 is due instead of a session Reject where the
	 * version has it; the session layer decides. */
	bool unsupported_msgtype;
};

/* Validates a parsed message against dictionary d: header/body/trailer order, required tags,
 * tags defined for the message type, undefined tags, empty values, enum values, data formats,
 * repeated tags (group-aware), repeating-group counts, MsgType. Never allocates. */
void fix_validate(const struct fix_dict *d, const struct fix_msg *m, struct fix_verdict *v);

/* Dictionary queries the session layer and the router need. */
bool fix_dict_has_msgtype(const struct fix_dict *d, const char *msg_type);
bool fix_dict_is_admin_msgtype(const char *msg_type); /* 0 1 2 3 4 5 A */
/* Field type name ("INT", "STRING", ...) of tag in d, NULL if undefined. */
const char *fix_dict_field_type(const struct fix_dict *d, uint32_t tag);
const char *fix_dict_field_name(const struct fix_dict *d, uint32_t tag);

#endif
