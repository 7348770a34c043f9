/* Dictionary validation: the verdicts of the QuickFIX acceptance scenarios (every I line of
 * every scenario of every version, checked against the Reject or BusinessMessageReject the
 * scenario expects next, or against acceptance), each failure class with its exact verdict,
 * every data format, repeating groups (order, delimiter, nesting, counts) and hostile input.
 * Messages are written as in the scenarios: '|' for SOH, without 9 and 10 (added here). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fix_dict.h"
#include "guard.h"

#define MAX_FIELDS 1024
#define TIME_NOW "20261126-12:00:00"

struct tmsg {
	struct fix_msg m;
	struct fix_field fields[MAX_FIELDS];
	char buf[16384];
	int rc;
};

/* Replaces <TIME>, <TIME+n>, <TIME-n> by a fixed timestamp, '|' by SOH. */
static size_t expand(char *out, size_t cap, const char *in)
{
	size_t n = 0;
	while (*in) {
		if (strncmp(in, "<TIME", 5) == 0 && strchr(in, '>')) {
			size_t l = strlen(TIME_NOW);
			cr_assert_lt(n + l, cap);
			memcpy(out + n, TIME_NOW, l);
			n += l;
			in = strchr(in, '>') + 1;
			continue;
		}
		cr_assert_lt(n + 1, cap);
		out[n++] = *in == '|' ? '\001' : *in;
		in++;
	}
	out[n] = 0;
	return n;
}

/* Builds 8=..|9=len|<rest>10=sum| from "8=...|<rest>" and parses it into t. */
static int build(struct tmsg *t, const char *text)
{
	char body[sizeof(t->buf)];
	size_t n = expand(body, sizeof(body), text);
	char *first = memchr(body, '\001', n);
	cr_assert_not_null(first, "no SOH in %s", text);
	size_t blen = n - (size_t)(first + 1 - body);
	int k = snprintf(t->buf, sizeof(t->buf), "%.*s\0019=%zu\001", (int)(first + 1 - body - 1),
			 body, blen);
	cr_assert_lt((size_t)k + blen + 8, sizeof(t->buf));
	memcpy(t->buf + k, first + 1, blen);
	size_t len = (size_t)k + blen;
	unsigned sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += (unsigned char)t->buf[i];
	len += (size_t)snprintf(t->buf + len, sizeof(t->buf) - len, "10=%03u\001", sum % 256);
	memset(&t->m, 0, sizeof(t->m));
	t->m.fields = t->fields;
	t->m.cap = MAX_FIELDS;
	t->rc = fix_parse(&t->m, t->buf, len);
	return t->rc;
}

static const struct fix_msgtype_set *echo_app(const struct fix_dict *d)
{
	/* The acceptor of the scenarios handles NewOrderSingle and SecurityDefinition only. */
	static struct fix_msgtype_set s[FIX_VER__COUNT];
	enum fix_version ver = fix_dict_version(d);
	fix_msgtype_set_clear(&s[ver]);
	cr_assert_eq(fix_msgtype_set_add(d, &s[ver], "D"), 0);
	cr_assert_eq(fix_msgtype_set_add(d, &s[ver], "d"), 0);
	return &s[ver];
}

static struct fix_verdict check(enum fix_version ver, const char *text)
{
	static struct tmsg t;
	struct fix_verdict v;
	int rc = build(&t, text);
	cr_assert(fix_validate_parsed(fix_dict_get(ver), &t.m, rc, NULL, &v),
		  "parse failed (%s) for %s", fix_strerror(rc), text);
	return v;
}

static void expect_ok(enum fix_version ver, const char *text)
{
	struct fix_verdict v = check(ver, text);
	cr_expect(v.ok, "expected valid, got %d/%u \"%s\" for %s", v.reason, v.ref_tag,
		  v.text ? v.text : "", text);
}

#define NO_REF LONG_MIN

/* ref NO_REF: no RefTagID expected. */
static void expect_rj(enum fix_version ver, const char *text, int reason, long ref)
{
	struct fix_verdict v = check(ver, text);
	cr_expect(!v.ok, "expected reject %d/%ld for %s", reason, ref, text);
	if (v.ok)
		return;
	cr_expect_eq(v.reason, reason, "reason %d, expected %d for %s", v.reason, reason, text);
	cr_expect_eq(v.has_ref_tag, ref != NO_REF, "has_ref_tag for %s", text);
	if (ref != NO_REF)
		cr_expect_eq((long)(int32_t)v.ref_tag, ref, "ref tag %ld, expected %ld for %s",
			     (long)(int32_t)v.ref_tag, ref, text);
	cr_expect_str_eq(v.text, fix_reject_text(reason));
}

/* ---- the acceptance scenarios -------------------------------------------------------------- */

struct expect {
	char type;         /* 0: accepted; '3' Reject; 'j' BusinessMessageReject; 'x' unchecked */
	char text[128];
	bool has_ref;      /* 371 present */
	long ref;
	int reason;        /* -1: no 373 */
};

static const char *field(const char *msg, const char *tag)
{
	/* value of "|tag=" in an SOH-separated message */
	char key[16];
	snprintf(key, sizeof(key), "\001%s=", tag);
	const char *p = strstr(msg, key);
	return p ? p + strlen(key) : NULL;
}

static void value(char *out, size_t cap, const char *v)
{
	size_t n = 0;
	while (v && v[n] && v[n] != '\001' && n + 1 < cap) {
		out[n] = v[n];
		n++;
	}
	out[n] = 0;
}

/* What the scenario expects of an I line, from the E line answering it. Rejects that the
 * session layer gives for reasons no dictionary can see (CompID, SendingTime, OrigSendingTime
 * missing on a PossDup, a SequenceReset going backwards) mean "valid for the dictionary". */
static void expected_of(const char *e, struct expect *x)
{
	memset(x, 0, sizeof(*x));
	x->ref = -1;
	x->reason = -1;
	if (!e)
		return;
	char mt[8], buf[128];
	value(mt, sizeof(mt), field(e, "35"));
	if (strcmp(mt, "j") == 0) {
		x->type = 'j';
		value(x->text, sizeof(x->text), field(e, "58"));
		return;
	}
	if (strcmp(mt, "3") != 0)
		return;
	value(x->text, sizeof(x->text), field(e, "58"));
	if (field(e, "371")) {
		value(buf, sizeof(buf), field(e, "371"));
		x->has_ref = true;
		x->ref = atol(buf);
	}
	if (field(e, "373")) {
		value(buf, sizeof(buf), field(e, "373"));
		x->reason = atoi(buf);
	}
	value(buf, sizeof(buf), field(e, "372"));
	bool session = x->reason == FIX_RJ_COMPID_PROBLEM ||
		       x->reason == FIX_RJ_SENDING_TIME_ACCURACY ||
		       (x->reason == FIX_RJ_REQUIRED_TAG_MISSING && x->has_ref && x->ref == 122) ||
		       (strcmp(buf, "4") == 0 && x->reason == FIX_RJ_VALUE_OUT_OF_RANGE);
	if (!session)
		x->type = '3';
}

struct tally {
	int lines, rejects, unsupported;
};

static void run_line(const struct fix_dict *d, const char *file, int lineno, const char *i_line,
		     const char *e_line, struct tally *n)
{
	static struct tmsg t;
	char text[8192];
	/* Lines that carry their own 9 or 10, or do not start with 8, test the framer. */
	if (strncmp(i_line, "8=", 2) != 0 || strstr(i_line, "\0019=") || strstr(i_line, "\00110="))
		return;
	snprintf(text, sizeof(text), "%s", i_line);
	int rc = build(&t, text);
	struct expect x;
	expected_of(e_line, &x);
	if (e_line && strcmp(e_line, "DISCONNECT") == 0)
		return; /* the session layer disconnects (e.g. a Logon it refuses): no verdict due */
	struct fix_verdict v;
	struct fix_validate_opts o = {.app = echo_app(d)};
	if (!fix_validate_parsed(d, &t.m, rc, &o, &v)) {
		/* garbled for the parser: the scenario must not expect a Reject for it */
		cr_expect_eq(x.type, 0, "%s:%d: parse error %s but the scenario expects %c", file,
			     lineno, fix_strerror(rc), x.type);
		return;
	}
	n->lines++;
	if (x.type == 0) {
		cr_expect(v.ok, "%s:%d: expected valid, got reason %d ref %d \"%s\"", file, lineno,
			  v.reason, (int)v.ref_tag, v.text ? v.text : "");
		return;
	}
	if (x.type == 'j') {
		n->unsupported++;
		cr_expect(!v.ok && v.unsupported_msgtype, "%s:%d: expected unsupported MsgType", file,
			  lineno);
		cr_expect_eq(v.business_reason, 3, "%s:%d", file, lineno);
		if (v.text)
			cr_expect_str_eq(v.text, x.text, "%s:%d", file, lineno);
		return;
	}
	n->rejects++;
	cr_expect(!v.ok && !v.unsupported_msgtype, "%s:%d: expected Reject \"%s\"", file, lineno,
		  x.text);
	if (v.ok)
		return;
	cr_expect_str_eq(v.text, x.text, "%s:%d: text \"%s\", expected \"%s\"", file, lineno, v.text,
			 x.text);
	cr_expect_eq(v.has_ref_tag, x.has_ref, "%s:%d: 371 present %d", file, lineno, v.has_ref_tag);
	if (x.has_ref)
		cr_expect_eq((long)(int32_t)v.ref_tag, x.ref, "%s:%d: 371=%ld, expected %ld", file,
			     lineno, (long)(int32_t)v.ref_tag, x.ref);
	cr_expect_eq(v.send_reason, x.reason >= 0, "%s:%d: 373 present %d", file, lineno,
		     v.send_reason);
	if (x.reason >= 0)
		cr_expect_eq(v.reason, x.reason, "%s:%d: 373=%d, expected %d", file, lineno, v.reason,
			     x.reason);
}

/* Strips the "I" / "IN," / "E" / "EN," prefix; NULL for other lines. */
static const char *msg_of(const char *line, char kind)
{
	if (line[0] != kind)
		return NULL;
	const char *p = line + 1;
	const char *q = p;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q > p && *q == ',')
		p = q + 1;
	return strncmp(p, "8=", 2) == 0 || strncmp(p, "35=", 3) == 0 ? p : NULL;
}

static void run_file(const struct fix_dict *d, const char *path, struct tally *n)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s", path);
	static char lines[512][8192];
	int count = 0;
	while (count < 512 && fgets(lines[count], sizeof(lines[count]), f)) {
		lines[count][strcspn(lines[count], "\r\n")] = 0;
		count++;
	}
	fclose(f);
	for (int i = 0; i < count; i++) {
		const char *in = msg_of(lines[i], 'I');
		if (!in)
			continue;
		const char *e = NULL;
		for (int j = i + 1; j < count && !msg_of(lines[j], 'I'); j++) {
			if ((e = msg_of(lines[j], 'E')) != NULL)
				break;
			if (lines[j][0] == 'e' && strstr(lines[j], "DISCONNECT")) {
				e = "DISCONNECT";
				break;
			}
		}
		run_line(d, path, i + 1, in, e, n);
	}
}

static void run_dir(enum fix_version ver, const char *sub)
{
	char dir[1024], path[2048];
	snprintf(dir, sizeof(dir), "%s/definitions/%s", FIXMUX_QUICKFIX_REF, sub);
	DIR *dh = opendir(dir);
	cr_assert_not_null(dh, "no scenarios in %s", dir);
	struct dirent *de;
	struct tally n = {0};
	int files = 0;
	while ((de = readdir(dh)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".def") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		run_file(fix_dict_get(ver), path, &n);
		files++;
	}
	closedir(dh);
	/* The suite has ~60 scenarios per version with ~25 dictionary Rejects and one 2r. */
	cr_expect_gt(files, 50);
	cr_expect_gt(n.lines, 200, "only %d lines validated", n.lines);
	cr_expect_geq(n.rejects, 20, "only %d Rejects checked", n.rejects);
	cr_expect_eq(n.unsupported, 1);
}

Test(scenarios, fix42_every_message_gets_the_expected_verdict)
{
	run_dir(FIX_VER_42, "fix42");
}

Test(scenarios, fix44_every_message_gets_the_expected_verdict)
{
	run_dir(FIX_VER_44, "fix44");
}

Test(scenarios, fix50sp2_every_message_gets_the_expected_verdict)
{
	run_dir(FIX_VER_T11, "fix50sp2");
}

/* ---- failure classes, each version ----------------------------------------------------- */

#define H42 "8=FIX.4.2|35=D|34=2|49=TW|52=<TIME>|56=ISLD|"
#define H44 "8=FIX.4.4|35=D|34=2|49=TW|52=<TIME>|56=ISLD|"
#define H50 "8=FIXT.1.1|35=D|34=2|49=TW|52=<TIME>|56=ISLD|"
#define NOS "11=ID|21=1|40=1|54=1|38=100|55=INTC|60=<TIME>|"

static const struct {
	enum fix_version ver;
	const char *hdr;
} vers[] = {{FIX_VER_42, H42}, {FIX_VER_44, H44}, {FIX_VER_T11, H50}};

static void each(const char *body, int reason, long ref)
{
	char text[2048];
	for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", vers[i].hdr, body);
		if (reason < 0)
			expect_ok(vers[i].ver, text);
		else
			expect_rj(vers[i].ver, text, reason, ref);
	}
}

Test(classes, valid_new_order_single_is_accepted)
{
	each(NOS, -1, 0);
}

Test(classes, undefined_tag_is_invalid_tag_number)
{
	each(NOS "9999=X|", FIX_RJ_INVALID_TAG, 9999);
	each(NOS "70000=X|", FIX_RJ_INVALID_TAG, 70000);
}

Test(classes, tag_zero_and_negative_tag_are_invalid_tag_number)
{
	each(NOS "0=X|", FIX_RJ_INVALID_TAG, 0);
	each(NOS "-5=X|", FIX_RJ_INVALID_TAG, -5);
}

Test(classes, required_body_tag_missing_reports_the_lowest_missing_tag)
{
	each("21=1|40=1|60=<TIME>|", FIX_RJ_REQUIRED_TAG_MISSING, 11);
}

Test(classes, required_header_tag_missing_wins_over_body)
{
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=D|34=2|52=<TIME>|56=ISLD|21=1|", FIX_RJ_REQUIRED_TAG_MISSING,
		  49);
	expect_rj(FIX_VER_42, "8=FIX.4.2|35=0|49=TW|52=<TIME>|56=ISLD|", FIX_RJ_REQUIRED_TAG_MISSING, 34);
}

Test(classes, tag_of_another_message_type_is_not_defined_for_it)
{
	each(NOS "112=X|", FIX_RJ_TAG_NOT_DEFINED_FOR_MSGTYPE, 112);
}

Test(classes, empty_value_is_tag_without_value)
{
	each(NOS "58=|", FIX_RJ_TAG_WITHOUT_VALUE, 58);
}

Test(classes, enum_value_out_of_range)
{
	each("11=ID|21=1|40=Z|54=1|38=100|55=INTC|60=<TIME>|", FIX_RJ_VALUE_OUT_OF_RANGE, 40);
	each(NOS "59=Z|", FIX_RJ_VALUE_OUT_OF_RANGE, 59);
	/* a CHAR of two bytes is a format error first */
	each(NOS "59=77|", FIX_RJ_INCORRECT_DATA_FORMAT, 59);
}

Test(classes, wrong_format_is_incorrect_data_format)
{
	each("11=ID|21=1|40=1|54=1|38=1e5|55=INTC|60=<TIME>|", FIX_RJ_INCORRECT_DATA_FORMAT, 38);
	each(NOS "126=20040415|", FIX_RJ_INCORRECT_DATA_FORMAT, 126);
}

Test(classes, repeated_tag_outside_groups)
{
	each(NOS "58=a|58=b|", FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE, 58);
	/* a repeated header tag too */
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=D|34=2|49=TW|49=TW|52=<TIME>|56=ISLD|" NOS,
		  FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE, 49);
}

Test(classes, header_tag_after_body_is_out_of_order)
{
	each(NOS "50=SUB|", FIX_RJ_TAG_OUT_OF_ORDER, 50);
}

Test(classes, body_tag_after_trailer_is_out_of_order)
{
	each(NOS "93=2|89=AB|58=late|", FIX_RJ_TAG_OUT_OF_ORDER, 58);
}

Test(classes, unknown_msgtype_is_invalid_msgtype_without_ref_tag)
{
	expect_rj(FIX_VER_42, "8=FIX.4.2|35=ZZ|34=2|49=TW|52=<TIME>|56=ISLD|", FIX_RJ_INVALID_MSGTYPE,
		  NO_REF);
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=AE5|34=2|49=TW|52=<TIME>|56=ISLD|",
		  FIX_RJ_INVALID_MSGTYPE, NO_REF);
	/* an FIX.4.4 message type FIX.4.2 does not have */
	expect_rj(FIX_VER_42, "8=FIX.4.2|35=AE|34=2|49=TW|52=<TIME>|56=ISLD|", FIX_RJ_INVALID_MSGTYPE,
		  NO_REF);
	/* structure outranks it, as in QuickFIX */
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=*|49=TW|58=x|34=2|52=<TIME>|56=ISLD|",
		  FIX_RJ_TAG_OUT_OF_ORDER, 34);
}

Test(classes, check_order_follows_quickfix)
{
	/* required missing (55 absent) beats an enumeration error */
	expect_rj(FIX_VER_42, H42 "11=ID|21=9|40=1|54=1|60=<TIME>|", FIX_RJ_REQUIRED_TAG_MISSING, 55);
	/* a repeated body tag: the second occurrence is reported */
	expect_rj(FIX_VER_44, H44 NOS "40=w|", FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE, 40);
	/* header errors beat body errors whatever the position */
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=D|34=2|49=TW|52=<TIME>|56=ISLD|115=|11=ID|21=3|38=100|"
		  "40=w|54=1|55=INTC|60=<TIME>|", FIX_RJ_TAG_WITHOUT_VALUE, 115);
	/* body errors by ascending tag, not by position */
	expect_rj(FIX_VER_44, H44 "11=ID|21=1|40=1|54=X|38=100|55=INTC|60=<TIME>|18=~|",
		  FIX_RJ_VALUE_OUT_OF_RANGE, 18);
	/* a tag's first occurrence is checked before its repetition */
	expect_rj(FIX_VER_44, H44 NOS "58=|58=b|", FIX_RJ_TAG_WITHOUT_VALUE, 58);
}

Test(classes, fix42_rejects_omit_reasons_the_version_lacks)
{
	struct fix_verdict v = check(FIX_VER_42, H42 NOS "58=a|58=b|");
	cr_expect(!v.ok);
	cr_expect_eq(v.reason, FIX_RJ_TAG_APPEARS_MORE_THAN_ONCE);
	cr_expect(!v.send_reason);
	v = check(FIX_VER_44, H44 NOS "58=a|58=b|");
	cr_expect(v.send_reason);
	v = check(FIX_VER_42, "8=FIX.4.2|35=*|34=2|49=TW|52=<TIME>|56=ISLD|");
	cr_expect(v.send_reason);
	cr_expect_eq(v.reason, FIX_RJ_INVALID_MSGTYPE);
}

Test(classes, fixt_admin_bodies_know_only_session_fields)
{
	/* QuickFIX validates FIXT admin messages with FIXT11.xml alone: 55 is unknown there */
	expect_rj(FIX_VER_T11, "8=FIXT.1.1|35=0|34=2|49=TW|52=<TIME>|56=ISLD|55=X|",
		  FIX_RJ_INVALID_TAG, 55);
	expect_rj(FIX_VER_T11, "8=FIXT.1.1|35=0|34=2|49=TW|52=<TIME>|56=ISLD|58=X|",
		  FIX_RJ_TAG_NOT_DEFINED_FOR_MSGTYPE, 58);
	expect_ok(FIX_VER_T11, "8=FIXT.1.1|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=30|1137=9|");
	expect_rj(FIX_VER_T11, "8=FIXT.1.1|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=30|",
		  FIX_RJ_REQUIRED_TAG_MISSING, 1137);
}

/* ---- unsupported application message types (scenario 2r) -------------------------------- */

Test(app, valid_but_unhandled_application_msgtype_is_unsupported)
{
	static struct tmsg t;
	struct fix_verdict v;
	const struct fix_dict *d = fix_dict_get(FIX_VER_44);
	struct fix_msgtype_set s;
	fix_msgtype_set_clear(&s);
	cr_assert_eq(fix_msgtype_set_add(d, &s, "D"), 0);
	cr_assert_eq(fix_msgtype_set_add(d, &s, "*"), -1);

	build(&t, "8=FIX.4.4|35=R|34=2|49=TW|52=<TIME>|56=ISLD|131=Q1|146=1|55=EUR/USD|");
	fix_validate_app(d, &t.m, &s, &v);
	cr_expect(!v.ok && v.unsupported_msgtype);
	cr_expect_eq(v.business_reason, 3);
	cr_expect_str_eq(v.text, "Unsupported Message Type");
	/* the same message is fine with no set, and admin messages are never unsupported */
	fix_validate_app(d, &t.m, NULL, &v);
	cr_expect(v.ok);
	build(&t, "8=FIX.4.4|35=1|34=2|49=TW|52=<TIME>|56=ISLD|112=X|");
	fix_validate_app(d, &t.m, &s, &v);
	cr_expect(v.ok);
	/* an invalid message gets its Reject, not the BusinessMessageReject */
	build(&t, "8=FIX.4.4|35=R|34=2|49=TW|52=<TIME>|56=ISLD|146=1|55=EUR/USD|");
	fix_validate_app(d, &t.m, &s, &v);
	cr_expect(!v.ok && !v.unsupported_msgtype);
	cr_expect_eq(v.reason, FIX_RJ_REQUIRED_TAG_MISSING);
	cr_expect_eq(v.ref_tag, 131);
}

/* ---- data formats --------------------------------------------------------------------------- */

struct fmt_case {
	uint32_t tag;
	const char *good[6];
	const char *bad[8];
};

/* FIX.4.4 NewOrderSingle fields of each type. */
static const struct fmt_case fmt_cases[] = {
	{38, {"100", "0.5", "-1.25", "1.", ".5", "002000.00"},        /* QTY */
	 {"+1", "1e3", "1.2.3", "-", ".", " 1", "1,5", "abc"}},
	{44, {"1.1", "100", "0", NULL}, {"1.1.", "x", "--1", NULL}},  /* PRICE */
	{126, {"20261126-12:00:00", "20261126-23:59:60", "20261126-12:00:00.123",
	       "20261126-12:00:00.123456789", NULL},                 /* UTCTIMESTAMP */
	 {"20261126", "20261126-24:00:00", "20261326-12:00:00", "20261126-12:60:00",
	  "20261126 12:00:00", "20261126-12:00:00.", "2026112-12:00:00", "20261100-12:00:00"}},
	{432, {"20261126", NULL}, {"2026112", "20261132", "2026-11-26", "20261126-1", NULL}},
	{168, {"20261126-00:00:00", NULL}, {"20261126-0:00:00", NULL}},
	{114, {"Y", "N", NULL}, {"y", "YES", "1", NULL}},            /* BOOLEAN */
	{18, {"1", "1 2 A", "G", NULL},                                /* MULTIPLEVALUESTRING */
	 {"1  2", "1 ", " 1", "T", "1 T", NULL}},
	{200, {"202611", "20261126", "202611w2", NULL},                /* MONTHYEAR */
	 {"2026", "202613", "202611w9", "2026110", "202611x1", NULL}},
	{583, {"ABC", "a b", NULL}, {NULL}},                           /* STRING */
	{226, {"5", "-5", NULL}, {"y", "5.0", "1-", NULL}},            /* INT */
	{59, {"0", "6", NULL}, {"00", "Z", NULL}},                     /* CHAR with enum */
};

/* NOS without OrderQty (38), so the cases can supply it. */
#define NOS_NO38 "11=ID|21=1|40=1|54=1|55=INTC|60=<TIME>|"

Test(formats, each_type_accepts_its_format_and_refuses_others)
{
	char text[2048];
	const struct fix_dict *d = fix_dict_get(FIX_VER_44);
	for (size_t c = 0; c < sizeof(fmt_cases) / sizeof(fmt_cases[0]); c++) {
		const struct fmt_case *fc = &fmt_cases[c];
		cr_assert_not_null(fix_dict_field_type(d, fc->tag));
		for (int i = 0; i < 6 && fc->good[i]; i++) {
			snprintf(text, sizeof(text), H44 NOS_NO38 "%u=%s|", fc->tag, fc->good[i]);
			expect_ok(FIX_VER_44, text);
		}
		for (int i = 0; i < 8 && fc->bad[i]; i++) {
			snprintf(text, sizeof(text), H44 NOS_NO38 "%u=%s|", fc->tag, fc->bad[i]);
			struct fix_verdict v = check(FIX_VER_44, text);
			cr_expect(!v.ok, "%u=%s accepted (%s)", fc->tag, fc->bad[i],
				  fix_dict_field_type(d, fc->tag));
			if (!v.ok) {
				cr_expect(v.reason == FIX_RJ_INCORRECT_DATA_FORMAT ||
					  v.reason == FIX_RJ_VALUE_OUT_OF_RANGE,
					  "%u=%s: reason %d", fc->tag, fc->bad[i], v.reason);
				cr_expect_eq(v.ref_tag, fc->tag);
			}
		}
	}
}

Test(formats, types_of_the_session_fields)
{
	/* SEQNUM, LENGTH, INT, CHAR in the header and admin messages */
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=0|34=-2|49=TW|52=<TIME>|56=ISLD|",
		  FIX_RJ_INCORRECT_DATA_FORMAT, 34);
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=2|34=2|49=TW|52=<TIME>|56=ISLD|7=1|16=x|",
		  FIX_RJ_INCORRECT_DATA_FORMAT, 16);
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=3.5|",
		  FIX_RJ_INCORRECT_DATA_FORMAT, 108);
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=4|34=2|49=TW|52=<TIME>|56=ISLD|123=X|36=5|",
		  FIX_RJ_INCORRECT_DATA_FORMAT, 123);
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=30|141=Y|789=0.1|",
		  FIX_RJ_INCORRECT_DATA_FORMAT, 789);
	expect_ok(FIX_VER_44, "8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=30|141=Y|789=1|");
	/* RawData (96) may hold SOH; its length field is checked as LENGTH */
	expect_ok(FIX_VER_44, "8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=ISLD|95=3|96=a\001b|98=0|108=30|");
}

/* ---- repeating groups -------------------------------------------------------------------- */

#define MDH "8=FIX.4.4|35=X|34=2|49=TW|52=<TIME>|56=ISLD|"

Test(groups, valid_groups_and_nesting_are_accepted)
{
	expect_ok(FIX_VER_44, MDH "268=2|279=0|269=0|55=EUR/USD|270=1.1|271=1000000|"
		  "279=2|269=1|55=EUR/USD|454=2|455=A|456=1|455=B|456=2|270=1.2|");
	expect_ok(FIX_VER_44, MDH "268=1|279=0|");
	/* zero instances (scenario 21) */
	expect_ok(FIX_VER_44, "8=FIX.4.4|35=d|34=2|49=TW|52=<TIME>|56=ISLD|320=A|322=B|323=6|"
		  "55=TBS|454=0|");
}

Test(groups, count_mismatch)
{
	expect_rj(FIX_VER_44, MDH "268=3|279=0|279=1|", FIX_RJ_INCORRECT_NUMINGROUP, 268);
	expect_rj(FIX_VER_44, MDH "268=1|279=0|279=1|", FIX_RJ_INCORRECT_NUMINGROUP, 268);
	/* nested */
	expect_rj(FIX_VER_44, MDH "268=1|279=0|55=X|454=3|455=A|", FIX_RJ_INCORRECT_NUMINGROUP, 454);
}

Test(groups, delimiter_must_come_first)
{
	expect_rj(FIX_VER_44, MDH "268=1|269=0|279=0|", FIX_RJ_REPEATING_GROUP_ORDER, 269);
}

Test(groups, members_follow_the_definition_order)
{
	expect_rj(FIX_VER_44, MDH "268=1|279=0|270=1.5|269=0|", FIX_RJ_REPEATING_GROUP_ORDER, 269);
	/* a member twice in one instance */
	expect_rj(FIX_VER_44, MDH "268=1|279=0|270=1.5|270=1.6|", FIX_RJ_REPEATING_GROUP_ORDER, 270);
}

Test(groups, required_member_missing_in_an_instance)
{
	/* NewOrderCross: every NoSides instance needs ClOrdID (11) after Side (54) */
	const char *h = "8=FIX.4.4|35=s|34=2|49=TW|52=<TIME>|56=ISLD|548=C1|549=1|550=0|";
	char text[512];
	snprintf(text, sizeof(text), "%s552=2|54=1|11=A|54=2|11=B|55=X|60=<TIME>|40=1|", h);
	expect_ok(FIX_VER_44, text);
	snprintf(text, sizeof(text), "%s552=2|54=1|11=A|54=2|55=X|60=<TIME>|40=1|", h);
	expect_rj(FIX_VER_44, text, FIX_RJ_REQUIRED_TAG_MISSING, 11);
	/* a body-level required field missing wins over the group's */
	snprintf(text, sizeof(text), "%s552=2|54=1|11=A|54=2|55=X|60=<TIME>|", h);
	expect_rj(FIX_VER_44, text, FIX_RJ_REQUIRED_TAG_MISSING, 40);
}

Test(groups, values_inside_groups_are_checked)
{
	expect_rj(FIX_VER_44, MDH "268=1|279=9|", FIX_RJ_VALUE_OUT_OF_RANGE, 279);
	expect_rj(FIX_VER_44, MDH "268=1|279=0|270=x|", FIX_RJ_INCORRECT_DATA_FORMAT, 270);
	expect_rj(FIX_VER_44, MDH "268=1|279=0|270=|", FIX_RJ_TAG_WITHOUT_VALUE, 270);
}

Test(groups, a_group_member_outside_its_group_is_not_defined_for_the_message)
{
	expect_rj(FIX_VER_44, MDH "268=1|279=0|262=R|270=1|", FIX_RJ_TAG_NOT_DEFINED_FOR_MSGTYPE, 270);
}

Test(groups, header_group)
{
	expect_ok(FIX_VER_44, "8=FIX.4.4|35=0|34=2|49=TW|52=<TIME>|56=ISLD|627=1|628=HOP|629=<TIME>|");
	expect_rj(FIX_VER_44, "8=FIX.4.4|35=0|34=2|49=TW|52=<TIME>|56=ISLD|627=2|628=HOP|",
		  FIX_RJ_INCORRECT_NUMINGROUP, 627);
}

/* ---- hostile input -------------------------------------------------------------------------- */

Test(hostile, numingroup_huge_negative_or_not_a_number)
{
	expect_rj(FIX_VER_44, MDH "268=4294967297|279=0|", FIX_RJ_INCORRECT_NUMINGROUP, 268);
	expect_rj(FIX_VER_44, MDH "268=99999999999999999999999|279=0|", FIX_RJ_INCORRECT_DATA_FORMAT,
		  268);
	expect_rj(FIX_VER_44, MDH "268=-1|279=0|", FIX_RJ_INCORRECT_DATA_FORMAT, 268);
	expect_rj(FIX_VER_44, MDH "268=x|279=0|", FIX_RJ_INCORRECT_DATA_FORMAT, 268);
	expect_rj(FIX_VER_44, MDH "268=|279=0|", FIX_RJ_TAG_WITHOUT_VALUE, 268);
	/* FIX.4.2 counts are INT: "-1" is well formed there, but matches no instance count */
	expect_rj(FIX_VER_42, H42 NOS "386=-1|336=X|", FIX_RJ_INCORRECT_NUMINGROUP, 386);
	expect_rj(FIX_VER_42, H42 NOS "386=-0|336=X|", FIX_RJ_INCORRECT_NUMINGROUP, 386);
	expect_ok(FIX_VER_42, H42 NOS "386=-0|");
	expect_ok(FIX_VER_42, H42 NOS "386=2|336=X|336=Y|");
}

Test(hostile, deep_and_odd_group_nesting_stays_in_bounds)
{
	/* Groups opened many times over, counts without members, members without counts:
	 * whatever the verdict, validation must finish without touching memory it does not
	 * own (run under ASan in the sanitizer build). */
	static char text[14000];
	size_t n = (size_t)snprintf(text, sizeof(text), "%s", MDH);
	for (int i = 0; i < 100 && n + 64 < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "268=1|279=0|55=X|454=1|455=A|"
				      "604=1|605=B|");
	struct fix_verdict v = check(FIX_VER_44, text);
	cr_expect(!v.ok);
	/* a body of nothing but NumInGroup tags of all sorts */
	n = (size_t)snprintf(text, sizeof(text), "%s", MDH);
	for (uint32_t tag = 1; tag < 1000 && n + 16 < sizeof(text); tag++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%u=1|", tag % 2 ? 268 : 454);
	v = check(FIX_VER_44, text);
	cr_expect(!v.ok);
}

Test(hostile, every_dictionary_survives_every_tag)
{
	/* One message per version holding every tag from 1 to 7000 (and some larger ones) with
	 * the value "1": groups open and close in every possible way. */
	static char text[16384];
	int validated = 0;
	for (size_t k = 0; k < sizeof(vers) / sizeof(vers[0]); k++) {
		for (uint32_t start = 1; start < 7000; start += 900) {
			size_t n = (size_t)snprintf(text, sizeof(text), "%s", vers[k].hdr);
			for (uint32_t tag = start; tag < start + 900 && n + 16 < sizeof(text); tag++) {
				if (tag == 8 || tag == 9 || tag == 10 || tag == 35)
					continue;
				n += (size_t)snprintf(text + n, sizeof(text) - n, "%u=1|", tag);
			}
			static struct tmsg t;
			int rc = build(&t, text);
			struct fix_verdict v;
			if (fix_validate_parsed(fix_dict_get(vers[k].ver), &t.m, rc, NULL, &v)) {
				cr_expect(!v.ok);
				validated++;
			}
		}
	}
	cr_expect_gt(validated, 10);
}

Test(hostile, null_and_empty_inputs)
{
	struct fix_verdict v;
	fix_validate(NULL, NULL, &v);
	cr_expect(v.ok);
	struct fix_msg m;
	memset(&m, 0, sizeof(m));
	fix_validate(fix_dict_get(FIX_VER_44), &m, &v);
	cr_expect(!v.ok);
	cr_expect_eq(v.reason, FIX_RJ_REQUIRED_TAG_MISSING);
	cr_expect_eq(v.ref_tag, 8);
	cr_expect(!fix_validate_parsed(fix_dict_get(FIX_VER_44), &m, FIX_E_BAD_CHECKSUM, NULL, &v));
}

/* Every prefix of values of every checked type, each placed to end right before an unreadable
 * page and validated through a hand-built field index: no check reads past a value's length
 * (the word-at-a-time date and time checks included). */
Test(hostile, value_checks_never_read_past_the_value)
{
	static const struct {
		uint32_t tag;
		const char *val;
	} cases[] = {
		{126, "20261126-12:00:00.123456789"}, /* UTCTIMESTAMP */
		{432, "20261126"},                    /* LOCALMKTDATE */
		{200, "202611w2"},                    /* MONTHYEAR */
		{200, "20261126"},
		{38, "-1000000.25"},                  /* QTY */
		{18, "1 2 A G"},                      /* MULTIPLEVALUESTRING */
		{167, "FUT"},                         /* STRING with multi-byte enumeration */
		{167, "TBONDX"},
		{226, "-123456"},                     /* INT */
		{114, "Y"},                           /* BOOLEAN */
		{59, "0"},                            /* CHAR */
		{58, "free text"},                    /* STRING */
	};
	static const struct fix_field base[] = {
		{"FIX.4.4", 8, 7}, {"100", 9, 3}, {"D", 35, 1}, {"2", 34, 1}, {"TW", 49, 2},
		{"20261126-12:00:00", 52, 17}, {"ISLD", 56, 4}, {"ID", 11, 2}, {"1", 21, 1},
		{"1", 40, 1}, {"1", 54, 1}, {"INTC", 55, 4}, {"20261126-12:00:00", 60, 17},
	};
	const size_t nb = sizeof(base) / sizeof(base[0]);
	const struct fix_dict *d = fix_dict_get(FIX_VER_44);
	int accepted = 0, refused = 0;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t full = strlen(cases[c].val);
		for (size_t len = 0; len <= full; len++) {
			struct guard g;
			char *val = guard_place(&g, cases[c].val, len);
			cr_assert_not_null(val);
			struct fix_field fields[16];
			memcpy(fields, base, sizeof(base));
			fields[nb] = (struct fix_field){val, cases[c].tag, (uint32_t)len};
			fields[nb + 1] = (struct fix_field){"000", 10, 3};
			struct fix_msg m;
			memset(&m, 0, sizeof(m));
			m.fields = fields;
			m.nfields = (uint32_t)nb + 2;
			m.cap = 16;
			struct fix_verdict v;
			fix_validate(d, &m, &v);
			if (v.ok) {
				accepted++;
			} else {
				refused++;
				cr_expect_eq(v.ref_tag, cases[c].tag, "%u=%.*s: reason %d on %u",
					     cases[c].tag, (int)len, cases[c].val, v.reason, v.ref_tag);
			}
			guard_free(&g);
		}
	}
	/* the full values are valid, most prefixes are not */
	cr_expect_geq(accepted, 12);
	cr_expect_geq(refused, 40);
}

Test(options, user_defined_tags_pass_when_allowed)
{
	static struct tmsg t;
	struct fix_verdict v;
	const struct fix_dict *d = fix_dict_get(FIX_VER_44);
	struct fix_validate_opts o = {.allow_user_tags = true};
	int rc = build(&t, H44 NOS "5000=X|9999=custom|");
	cr_assert(fix_validate_parsed(d, &t.m, rc, NULL, &v));
	cr_expect(!v.ok);
	cr_expect_eq(v.reason, FIX_RJ_INVALID_TAG);
	cr_expect_eq(v.ref_tag, 5000);
	cr_assert(fix_validate_parsed(d, &t.m, rc, &o, &v));
	cr_expect(v.ok);
	/* still refused: an empty user tag, and undefined tags below 5000 */
	rc = build(&t, H44 NOS "5000=|");
	cr_assert(fix_validate_parsed(d, &t.m, rc, &o, &v));
	cr_expect(!v.ok);
	cr_expect_eq(v.reason, FIX_RJ_TAG_WITHOUT_VALUE);
	rc = build(&t, H44 NOS "4999=X|");
	cr_assert(fix_validate_parsed(d, &t.m, rc, &o, &v));
	cr_expect(!v.ok);
	cr_expect_eq(v.reason, FIX_RJ_INVALID_TAG);
	/* and the app set applies through the options too */
	struct fix_msgtype_set s;
	fix_msgtype_set_clear(&s);
	fix_msgtype_set_add(d, &s, "F");
	o.app = &s;
	rc = build(&t, H44 NOS "5000=X|");
	cr_assert(fix_validate_parsed(d, &t.m, rc, &o, &v));
	cr_expect(!v.ok && v.unsupported_msgtype);
}

Test(options, group_members_in_any_order_when_allowed)
{
	static struct tmsg t;
	struct fix_verdict v;
	const struct fix_dict *d = fix_dict_get(FIX_VER_44);
	struct fix_validate_opts o = {.any_group_order = true};
	int rc = build(&t, MDH "268=1|279=0|270=1.5|269=0|");
	cr_assert(fix_validate_parsed(d, &t.m, rc, NULL, &v));
	cr_expect(!v.ok);
	cr_expect_eq(v.reason, FIX_RJ_REPEATING_GROUP_ORDER);
	cr_assert(fix_validate_parsed(d, &t.m, rc, &o, &v));
	cr_expect(v.ok);
	/* a member twice in one instance, or before the delimiter, is still out of order */
	rc = build(&t, MDH "268=1|279=0|270=1.5|269=0|270=1.6|");
	cr_assert(fix_validate_parsed(d, &t.m, rc, &o, &v));
	cr_expect(!v.ok);
	cr_expect_eq(v.reason, FIX_RJ_REPEATING_GROUP_ORDER);
	cr_expect_eq(v.ref_tag, 270);
	rc = build(&t, MDH "268=1|269=0|279=0|");
	cr_assert(fix_validate_parsed(d, &t.m, rc, &o, &v));
	cr_expect(!v.ok);
	cr_expect_eq(v.ref_tag, 269);
}

Test(groups, the_same_rules_in_every_version)
{
	/* NoTradingSessions (386) of NewOrderSingle: TradingSessionID (336) delimits, and from
	 * FIX.4.4 on TradingSessionSubID (625) follows it */
	each(NOS "386=2|336=1|336=2|", -1, 0);
	each(NOS "386=3|336=1|336=2|", FIX_RJ_INCORRECT_NUMINGROUP, 386);
	each(NOS "386=1|", FIX_RJ_INCORRECT_NUMINGROUP, 386);
	expect_ok(FIX_VER_T11, H50 NOS "386=2|336=1|625=1|336=2|");
	expect_rj(FIX_VER_T11, H50 NOS "386=1|625=1|336=1|", FIX_RJ_REPEATING_GROUP_ORDER, 625);
	expect_rj(FIX_VER_T11, H50 NOS "386=1|336=1|625=1|625=2|", FIX_RJ_REPEATING_GROUP_ORDER,
		  625);
	expect_rj(FIX_VER_44, H44 NOS "386=1|625=1|336=1|", FIX_RJ_REPEATING_GROUP_ORDER, 625);
	/* FIX.4.2's group has no 625: it ends the group and is not a NewOrderSingle field */
	expect_rj(FIX_VER_42, H42 NOS "386=1|336=1|625=1|", FIX_RJ_INVALID_TAG, 625);
}
