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

/* The outcome of a validation: ok, or the Reject(3) fields to send.
 *
 * Building the Reject as the QuickFIX acceptance scenarios expect it:
 *   45 = MsgSeqNum of the message, 372 = its MsgType,
 *   58 = text, 371 = ref_tag when has_ref_tag, 373 = reason when send_reason.
 * send_reason is false where the version's SessionRejectReason(373) has no such value: FIX.4.2
 * stops at 11, so its Rejects for a repeated tag (13), a tag out of order (14) or a wrong
 * NumInGroup (16) carry 58 and 371 only.
 * ref_tag is a tag number as parsed; when fix_validate_parsed() reports a negative tag
 * ("-1=HI") it holds the two's complement, so print it as (int32_t)ref_tag.
 *
 * unsupported_msgtype: only fix_validate_app() sets it, for a message that is valid for the
 * dictionary but whose application MsgType the caller does not handle (scenario 2r, the same
 * in FIX.4.2, 4.4 and FIXT.1.1): the answer is a BusinessMessageReject(j) with
 * 380 = business_reason (3, Unsupported Message Type), 58 = text, 372, 45; no Reject(3).
 * A MsgType the dictionary does not know at all ("35=*", scenario 2q) is a session Reject with
 * reason 11 "Invalid MsgType" and no 371. */
struct fix_verdict {
	bool ok;
	int reason;              /* SessionRejectReason (373), when !ok */
	uint32_t ref_tag;        /* RefTagID (371), 0 when none applies */
	bool has_ref_tag;
	const char *text;        /* Text (58) as the QuickFIX acceptance scenarios expect it */
	bool unsupported_msgtype; /* see above: a BusinessMessageReject is due instead */
	bool send_reason;        /* 373 exists with this value in the version */
	int business_reason;     /* BusinessRejectReason (380) when unsupported_msgtype */
};

/* Validates a parsed message against dictionary d: header/body/trailer order, required tags,
 * tags defined for the message type, undefined tags, empty values, enum values, data formats,
 * repeated tags (group-aware), repeating-group counts, order and delimiters, MsgType. When
 * several problems coexist, the one QuickFIX reports wins (order in docs/fixcodec.md,
 * "Dictionary and validation"). Safe on any fix_msg; never allocates. d or m NULL: ok.
 * It does not check BeginString against d's version (the session layer's Logout case). */
void fix_validate(const struct fix_dict *d, const struct fix_msg *m, struct fix_verdict *v);

/* As fix_validate, then, for a valid application message whose MsgType is not in app (the
 * application message types the caller handles; NULL: all), a verdict with
 * unsupported_msgtype set. Admin messages (0 1 2 3 4 5 A, and FIXT's n) are never refused. */
struct fix_msgtype_set {
	uint64_t bits[4];  /* one bit per message of the dictionary it was built for */
};
void fix_msgtype_set_clear(struct fix_msgtype_set *s);
/* Adds a MsgType; -1 if d does not define it. */
int fix_msgtype_set_add(const struct fix_dict *d, struct fix_msgtype_set *s, const char *msg_type);
void fix_validate_app(const struct fix_dict *d, const struct fix_msg *m,
		      const struct fix_msgtype_set *app, struct fix_verdict *v);

/* Options of fix_validate_parsed(). All zero: QuickFIX's defaults, which the acceptance
 * scenarios expect. */
#define FIX_USER_TAG_MIN 5000u /* user-defined tags: 5000 and up (QuickFIX's FIELD::UserMin) */
struct fix_validate_opts {
	const struct fix_msgtype_set *app; /* application MsgTypes handled, as for
					    * fix_validate_app(); NULL: all */
	bool allow_user_tags; /* tags >= FIX_USER_TAG_MIN the dictionary does not define, or does
			       * not define for the message type, pass (values must still be
			       * non-empty, and of the right format where the tag is defined):
			       * QuickFIX's ValidateUserDefinedFields=N, for counterparties with
			       * custom tags */
	bool any_group_order; /* inside a repeating-group instance, members may come in any
			       * order (the delimiter must still be first and a member may not
			       * repeat): what QuickFIX accepts. Off: FIX's rule, the definition's
			       * order, else 15 "Repeating group fields out of order". */
};

/* Validates what fix_parse() produced, rc being its return value (o may be NULL). The parser
 * goes on after two errors, and so does this:
 *  - FIX_E_NO_VALUE ("56=<SOH>", kept with an empty value): validated like any message, so
 *    the verdict is the one QuickFIX gives (e.g. a missing required tag wins);
 *  - FIX_E_BAD_TAG (tag 0, negative, unreadable: skipped by the parser, its number in
 *    m->err_tag as two's complement): reason 0 "Invalid tag number", 371 = m->err_tag
 *    (print it as (int32_t)), ranked where QuickFIX ranks it (first of the body's fields).
 * Returns true with v filled for those and for FIX_OK; false for every other error: the
 * message is garbled, which FIX says to ignore (no Reject, MsgSeqNum not incremented). */
bool fix_validate_parsed(const struct fix_dict *d, const struct fix_msg *m, int rc,
			 const struct fix_validate_opts *o, struct fix_verdict *v);

/* Standard text of a SessionRejectReason, as QuickFIX writes it in 58 ("Invalid tag number",
 * "SendingTime accuracy problem", ...); NULL for a reason without one. */
const char *fix_reject_text(int reason);
/* true when SessionRejectReason(373) = reason may be sent in d's version (d NULL: FIX.4.4). */
bool fix_dict_reason_allowed(const struct fix_dict *d, int reason);

/* Dictionary queries the session layer and the router need. */
bool fix_dict_has_msgtype(const struct fix_dict *d, const char *msg_type);
bool fix_dict_is_admin_msgtype(const char *msg_type); /* 0 1 2 3 4 5 A */
/* Field type name ("INT", "STRING", ...) of tag in d, NULL if undefined. */
const char *fix_dict_field_type(const struct fix_dict *d, uint32_t tag);
const char *fix_dict_field_name(const struct fix_dict *d, uint32_t tag);
/* Name of the message ("NewOrderSingle"), NULL if d does not define msg_type. */
const char *fix_dict_msg_name(const struct fix_dict *d, const char *msg_type);
/* The version a dictionary is for (FIX_VER_UNKNOWN for NULL). */
enum fix_version fix_dict_version(const struct fix_dict *d);

#endif
