/* Dictionary queries: what the generated tables say about fields, types, messages and reject
 * reasons of each version, and what the FIXT.1.1 merge (FIXT11.xml session layer, FIX50SP2.xml
 * application messages) takes from where. (That the committed tables equal a fresh generation
 * is the ctest test fixcodec_dict_tables_match_generator, tests/fixcodec/dict.cmake.) */
#include <criterion/criterion.h>
#include <string.h>

#include "fix_dict.h"

Test(dict, one_dictionary_per_supported_version)
{
	cr_expect_null(fix_dict_get(FIX_VER_UNKNOWN));
	cr_expect_null(fix_dict_get(FIX_VER__COUNT));
	for (int v = FIX_VER_42; v < FIX_VER__COUNT; v++) {
		const struct fix_dict *d = fix_dict_get((enum fix_version)v);
		cr_assert_not_null(d);
		cr_expect_eq(fix_dict_version(d), (enum fix_version)v);
	}
	cr_expect_neq(fix_dict_get(FIX_VER_42), fix_dict_get(FIX_VER_44));
}

Test(dict, field_names_and_types)
{
	const struct fix_dict *d42 = fix_dict_get(FIX_VER_42);
	const struct fix_dict *d44 = fix_dict_get(FIX_VER_44);
	cr_expect_str_eq(fix_dict_field_name(d44, 44), "Price");
	cr_expect_str_eq(fix_dict_field_type(d44, 44), "PRICE");
	cr_expect_str_eq(fix_dict_field_type(d44, 38), "QTY");
	cr_expect_str_eq(fix_dict_field_type(d44, 52), "UTCTIMESTAMP");
	cr_expect_str_eq(fix_dict_field_type(d44, 34), "SEQNUM");
	cr_expect_str_eq(fix_dict_field_type(d44, 268), "NUMINGROUP");
	cr_expect_str_eq(fix_dict_field_type(d44, 18), "MULTIPLEVALUESTRING");
	/* FIX.4.2 has neither SEQNUM nor NUMINGROUP: MsgSeqNum is an INT there */
	cr_expect_str_eq(fix_dict_field_type(d42, 34), "INT");
	cr_expect_str_eq(fix_dict_field_name(d42, 21), "HandlInst");
	/* undefined tags */
	cr_expect_null(fix_dict_field_name(d42, 999));
	cr_expect_null(fix_dict_field_type(d44, 0));
	cr_expect_null(fix_dict_field_type(d44, 5000));
	cr_expect_null(fix_dict_field_type(d42, 1128)); /* ApplVerID came with FIX 5.0 */
	cr_expect_null(fix_dict_field_name(NULL, 44));
}

Test(dict, fixt_merges_session_and_application_definitions)
{
	const struct fix_dict *d = fix_dict_get(FIX_VER_T11);
	/* session fields from FIXT11.xml: XmlData is DATA there, XMLDATA in FIX50SP2.xml */
	cr_expect_str_eq(fix_dict_field_type(d, 213), "DATA");
	cr_expect_str_eq(fix_dict_field_name(d, 1137), "DefaultApplVerID");
	/* application fields, including the large tag numbers of FIX 5.0 SP2 */
	cr_expect_str_eq(fix_dict_field_type(d, 44), "PRICE");
	cr_expect_not_null(fix_dict_field_name(d, 50002));
	cr_expect_null(fix_dict_field_name(d, 50003));
	cr_expect_str_eq(fix_dict_field_type(d, 50002), "INT");
}

Test(dict, message_types)
{
	const struct fix_dict *d42 = fix_dict_get(FIX_VER_42);
	const struct fix_dict *d44 = fix_dict_get(FIX_VER_44);
	const struct fix_dict *d50 = fix_dict_get(FIX_VER_T11);
	cr_expect(fix_dict_has_msgtype(d42, "D"));
	cr_expect(fix_dict_has_msgtype(d42, "A"));
	cr_expect(!fix_dict_has_msgtype(d42, "AE")); /* TradeCaptureReport: FIX.4.4 on */
	cr_expect(fix_dict_has_msgtype(d44, "AE"));
	cr_expect(fix_dict_has_msgtype(d50, "AE"));
	cr_expect(fix_dict_has_msgtype(d50, "A"));
	cr_expect(fix_dict_has_msgtype(d50, "n")); /* XMLnonFIX, FIXT11.xml */
	cr_expect(!fix_dict_has_msgtype(d44, "*"));
	cr_expect(!fix_dict_has_msgtype(d44, ""));
	cr_expect(!fix_dict_has_msgtype(d44, "DD"));
	cr_expect(!fix_dict_has_msgtype(d44, "D\x80"));
	cr_expect(!fix_dict_has_msgtype(d44, "ABCDE"));
	cr_expect(!fix_dict_has_msgtype(d44, NULL));
	cr_expect_str_eq(fix_dict_msg_name(d44, "D"), "NewOrderSingle");
	cr_expect_str_eq(fix_dict_msg_name(d50, "0"), "Heartbeat");
	cr_expect_str_eq(fix_dict_msg_name(d50, "8"), "ExecutionReport");
	cr_expect_null(fix_dict_msg_name(d42, "AE"));
}

Test(dict, admin_message_types)
{
	const char *admin[] = {"0", "1", "2", "3", "4", "5", "A"};
	for (size_t i = 0; i < sizeof(admin) / sizeof(admin[0]); i++)
		cr_expect(fix_dict_is_admin_msgtype(admin[i]), "%s", admin[i]);
	cr_expect(!fix_dict_is_admin_msgtype("D"));
	cr_expect(!fix_dict_is_admin_msgtype("AE"));
	cr_expect(!fix_dict_is_admin_msgtype("0A"));
	cr_expect(!fix_dict_is_admin_msgtype(""));
	cr_expect(!fix_dict_is_admin_msgtype(NULL));
}

Test(dict, reject_reasons_per_version)
{
	const struct fix_dict *d42 = fix_dict_get(FIX_VER_42);
	const struct fix_dict *d44 = fix_dict_get(FIX_VER_44);
	const struct fix_dict *d50 = fix_dict_get(FIX_VER_T11);
	/* FIX.4.2's SessionRejectReason stops at 11 (Invalid MsgType) */
	for (int r = 0; r <= 11; r++)
		cr_expect(fix_dict_reason_allowed(d42, r), "%d", r);
	cr_expect(!fix_dict_reason_allowed(d42, FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE));
	cr_expect(!fix_dict_reason_allowed(d42, FIX_RJ_TAG_OUT_OF_ORDER));
	cr_expect(!fix_dict_reason_allowed(d42, FIX_RJ_INCORRECT_NUMINGROUP));
	cr_expect(!fix_dict_reason_allowed(d42, FIX_RJ_OTHER));
	for (int r = 0; r <= 17; r++)
		cr_expect(fix_dict_reason_allowed(d44, r), "%d", r);
	cr_expect(fix_dict_reason_allowed(d44, FIX_RJ_OTHER));
	cr_expect(fix_dict_reason_allowed(d50, 18));
	cr_expect(!fix_dict_reason_allowed(d44, -1));
	cr_expect(!fix_dict_reason_allowed(d44, 40));
}

Test(dict, reject_texts_are_quickfix_s)
{
	cr_expect_str_eq(fix_reject_text(FIX_RJ_INVALID_TAG), "Invalid tag number");
	cr_expect_str_eq(fix_reject_text(FIX_RJ_VALUE_OUT_OF_RANGE),
			 "Value is incorrect (out of range) for this tag");
	cr_expect_str_eq(fix_reject_text(FIX_RJ_INCORRECT_NUMINGROUP),
			 "Incorrect NumInGroup count for repeating group");
	cr_expect_str_eq(fix_reject_text(FIX_RJ_SENDING_TIME_ACCURACY),
			 "SendingTime accuracy problem");
	cr_expect_str_eq(fix_reject_text(FIX_RJ_COMPID_PROBLEM), "CompID problem");
	cr_expect_null(fix_reject_text(FIX_RJ_OTHER));
	cr_expect_null(fix_reject_text(-1));
}

Test(dict, msgtype_sets)
{
	const struct fix_dict *d = fix_dict_get(FIX_VER_T11);
	struct fix_msgtype_set s;
	fix_msgtype_set_clear(&s);
	cr_expect_eq(fix_msgtype_set_add(d, &s, "D"), 0);
	cr_expect_eq(fix_msgtype_set_add(d, &s, "AE"), 0);
	cr_expect_eq(fix_msgtype_set_add(d, &s, "ZZ"), -1);
	cr_expect_eq(fix_msgtype_set_add(NULL, &s, "D"), -1);
	int bits = 0;
	for (int i = 0; i < 4; i++)
		bits += __builtin_popcountll(s.bits[i]);
	cr_expect_eq(bits, 2);
}
