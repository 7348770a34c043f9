/* Parser: field index, header struct, body delimitation and sum, repeated tags, bad tags,
 * empty values, data fields with SOH, hostile input before a guard page. */
#include <criterion/criterion.h>

#include "fix_msg.h"
#include "guard.h"

#define NOS "8=FIX.4.4|35=D|34=2|49=TW44|52=20261126-11:49:31.123|56=ISLD|11=ID|21=3|" \
	    "40=1|54=1|55=INTC|60=20261126-11:49:31|"

static char buf[65536];
static struct fix_field fields[512];
static struct fix_msg msg;

static size_t build(const char *spec)
{
	size_t n = tmsg_build(buf, sizeof(buf), spec);
	cr_assert(n > 0);
	return n;
}

static int parse(size_t n)
{
	msg.fields = fields;
	msg.cap = 512;
	return fix_parse(&msg, buf, n);
}

static bool field_is(const struct fix_field *f, uint32_t tag, const char *val)
{
	return f != NULL && f->tag == tag && f->len == strlen(val) &&
	       memcmp(f->val, val, f->len) == 0;
}

Test(parse, new_order_single_fields_and_header)
{
	size_t n = build(NOS);
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.buf, buf);
	cr_expect_eq(msg.len, n);
	cr_expect_eq(msg.nfields, 14);
	cr_expect(field_is(&fields[0], 8, "FIX.4.4"));
	cr_expect(field_is(&fields[2], 35, "D"));
	cr_expect(field_is(&fields[7], 11, "ID"));
	cr_expect(field_is(&fields[12], 60, "20261126-11:49:31"));
	cr_expect_eq(fields[13].tag, 10);
	cr_expect(fields[7].val > buf && fields[6].val < buf + n, "values point into the buffer");

	const struct fix_header *h = &msg.hdr;
	cr_expect_eq(h->ver, FIX_VER_44);
	cr_expect_str_eq(h->msg_type, "D");
	cr_expect_eq(h->msg_type_len, 1);
	cr_expect_eq(h->seq, 2);
	cr_expect_eq(h->seq_err, FIX_OK);
	cr_expect_eq(h->i_sender, 4);
	cr_expect_eq(h->i_sending_time, 5);
	cr_expect_eq(h->i_target, 6);
	cr_expect_eq(h->i_orig_sending_time, -1);
	cr_expect_eq(h->i_on_behalf_of, -1);
	cr_expect_eq(h->i_deliver_to, -1);
	cr_expect_eq(h->i_appl_ver, -1);
	cr_expect_not(h->poss_dup);
	cr_expect_not(h->poss_resend);
	cr_expect_eq(h->n_header, 7);
	cr_expect_eq(memcmp(buf + h->body_off, "11=ID\001", 6), 0);
	cr_expect_eq(h->trailer_off, n - 7);
	cr_expect_eq(memcmp(buf + h->trailer_off, "10=", 3), 0);
	cr_expect_eq(h->body_sum, fix_sum(buf + h->body_off, h->trailer_off - h->body_off));
	cr_expect_eq(h->body_length, h->trailer_off - 12 - 4);
	cr_expect_eq(msg.dup_tag, 0);
}

Test(parse, versions_and_fixt_appl_ver)
{
	size_t n = build("8=FIX.4.2|35=0|34=7|49=A|56=B|");
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.hdr.ver, FIX_VER_42);
	cr_expect_eq(msg.hdr.body_off, msg.hdr.trailer_off, "no body");
	cr_expect_eq(msg.hdr.body_sum, 0);
	cr_expect_eq(msg.hdr.n_header, 6);
	n = build("8=FIXT.1.1|35=AE|34=9|49=A|56=B|1128=9|43=Y|97=Y|122=20261126-11:49:31|"
		  "115=OB|128=DT|571=X|");
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.hdr.ver, FIX_VER_T11);
	cr_expect_str_eq(msg.hdr.msg_type, "AE");
	cr_expect_eq(msg.hdr.i_appl_ver, 6);
	cr_expect(msg.hdr.poss_dup);
	cr_expect(msg.hdr.poss_resend);
	cr_expect_eq(msg.hdr.i_orig_sending_time, 9);
	cr_expect(field_is(&fields[msg.hdr.i_on_behalf_of], 115, "OB"));
	cr_expect(field_is(&fields[msg.hdr.i_deliver_to], 128, "DT"));
	cr_expect_eq(memcmp(buf + msg.hdr.body_off, "571=X", 5), 0);
	n = build("8=FIX.5.0|35=0|34=1|49=A|56=B|");
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.hdr.ver, FIX_VER_UNKNOWN, "the session layer decides about BeginString");
}

Test(parse, bad_tags_are_reported_with_their_value)
{
	/* QuickFIX scenario 14a: 0=HI and -1=HI are rejected with 371=0 and 371=-1. */
	struct {
		const char *field;
		int err;
		uint32_t tag;
	} cases[] = {
		{"0=HI", FIX_E_BAD_TAG, 0},
		{"-1=HI", FIX_E_BAD_TAG, (uint32_t)-1},
		{"-25=HI", FIX_E_BAD_TAG, (uint32_t)-25},
		{"99999999999=HI", FIX_E_BAD_TAG, 0},
		{"2147483648=HI", FIX_E_BAD_TAG, 0},
		{"4garbled9=TW", FIX_E_BAD_TAG, 0},
		{"=HI", FIX_E_BAD_TAG, 0},
		{"58", FIX_E_NO_EQUALS, 58},
		{"abc", FIX_E_NO_EQUALS, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char spec[256];
		snprintf(spec, sizeof(spec), "8=FIX.4.4|35=0|34=3|49=TW44|56=ISLD|%s|112=X|",
			 cases[i].field);
		size_t n = build(spec);
		struct guard g;
		char *p = guard_place(&g, buf, n);
		msg.fields = fields;
		msg.cap = 512;
		cr_expect_eq(fix_parse(&msg, p, n), cases[i].err, "%s", cases[i].field);
		cr_expect_eq(msg.err_tag, cases[i].tag, "%s: err_tag %u", cases[i].field,
			     msg.err_tag);
		cr_expect_eq(msg.hdr.seq, 3, "header still read");
		cr_expect_eq(msg.hdr.i_target, 5);
		cr_expect(field_is(fix_find(&msg, 112, 0), 112, "X"), "parse went on");
		guard_free(&g);
	}
	size_t n = build("8=FIX.4.4|35=0|34=3|49=TW44|56=ISLD|2147483647=HI|5000=x|");
	cr_expect_eq(parse(n), FIX_OK, "large tags are the validator's business");
}

Test(parse, empty_value_reports_tag_and_keeps_the_field)
{
	/* QuickFIX scenario 14d: 56= gives Reject 373=4 371=56. */
	size_t n = build("8=FIX.4.4|35=0|34=2|49=TW44|52=20261126-11:49:31|56=|");
	cr_expect_eq(parse(n), FIX_E_NO_VALUE);
	cr_expect_eq(msg.err_tag, 56);
	cr_expect_eq(msg.hdr.i_target, 6);
	cr_expect_eq(fields[6].len, 0);
	cr_expect_eq(msg.hdr.seq, 2);
}

Test(parse, first_error_wins)
{
	size_t n = build("8=FIX.4.4|35=0|34=2|49=|0=x|");
	cr_expect_eq(parse(n), FIX_E_NO_VALUE);
	cr_expect_eq(msg.err_tag, 49);
}

Test(parse, repeated_tag_recorded_once)
{
	/* QuickFIX scenario 14h: 40 twice. Groups are the validator's business. */
	size_t n = build("8=FIX.4.4|35=D|34=2|49=TW44|56=ISLD|11=ID|21=1|40=1|40=2|54=1|5001=a|"
			 "5001=b|54=2|");
	cr_expect_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.dup_tag, 40);
	n = build("8=FIX.4.4|35=D|34=2|49=TW44|56=ISLD|5001=a|7001=c|5001=b|");
	cr_expect_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.dup_tag, 5001, "large tags too");
	n = build("8=FIX.4.4|35=D|34=2|34=3|49=TW44|56=ISLD|");
	cr_expect_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.dup_tag, 34);
	cr_expect_eq(msg.hdr.seq, 2, "first occurrence wins");
}

Test(parse, many_large_tags_still_find_repeats)
{
	char spec[4096] = "8=FIX.4.4|35=D|34=2|49=TW44|56=ISLD|";
	for (int t = 0; t < 100; t++)
		sprintf(spec + strlen(spec), "%d=v|", 6000 + t);
	strcat(spec, "6070=again|");
	size_t n = build(spec);
	cr_expect_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.dup_tag, 6070);
}

Test(parse, header_tag_in_body_still_fills_header)
{
	/* QuickFIX scenario 14g: the validator rejects 34 out of order; the session needs it. */
	size_t n = build("8=FIX.4.4|35=D|11=id|21=3|40=1|54=1|55=MSFT|34=2|49=TW44|56=ISLD|");
	cr_expect_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.hdr.n_header, 3);
	cr_expect_eq(memcmp(buf + msg.hdr.body_off, "11=id", 5), 0);
	cr_expect_eq(msg.hdr.seq, 2);
	cr_expect_eq(msg.hdr.i_sender, 9);
}

Test(parse, data_field_with_soh_and_trailer_text)
{
	size_t n = build("8=FIX.4.4|35=A|34=1|49=TW44|56=ISLD|95=16|96=a|10=123|8=FIX|b|98=0|");
	struct guard g;
	char *p = guard_place(&g, buf, n);
	msg.fields = fields;
	msg.cap = 512;
	cr_assert_eq(fix_parse(&msg, p, n), FIX_OK);
	const struct fix_field *d = fix_find(&msg, 96, 0);
	cr_assert_not_null(d);
	cr_expect_eq(d->len, 16);
	cr_expect_eq(memcmp(d->val, "a\00110=123\0018=FIX\001b", 16), 0);
	cr_expect(field_is(fix_find(&msg, 98, 0), 98, "0"));
	cr_expect_eq(msg.dup_tag, 0, "8 and 10 inside data are not fields");
	guard_free(&g);
}

Test(parse, data_fields_of_every_version)
{
	/* EncodedText (354/355) in 4.2, EncodedLegIssuer (618/619) in 4.4, a 5.0 SP2 pair that is
	 * not numbered consecutively (1525 -> 1527), and SecureData (90/91) in the header. */
	size_t n = build("8=FIXT.1.1|35=B|34=1|49=A|56=B|90=3|91=x|y|148=h|354=2|355=|||"
			 "618=3|619=a|b|1525=2|1527=|||");
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(fix_find(&msg, 91, 0)->len, 3);
	cr_expect_eq(fix_find(&msg, 355, 0)->len, 2);
	cr_expect_eq(fix_find(&msg, 619, 0)->len, 3);
	cr_expect_eq(fix_find(&msg, 1527, 0)->len, 2);
	cr_expect_eq(msg.hdr.n_header, 8, "90/91 are header fields");
}

Test(parse, data_length_mismatch)
{
	const char *bad[] = {
		"8=FIX.4.4|35=A|34=1|49=A|56=B|95=5|96=abc|98=0|",   /* SOH not after 5 bytes */
		"8=FIX.4.4|35=A|34=1|49=A|56=B|95=500|96=abc|98=0|", /* beyond the message */
		"8=FIX.4.4|35=A|34=1|49=A|56=B|95=x|96=abc|98=0|",   /* unreadable length */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = build(bad[i]);
		cr_expect_eq(parse(n), FIX_E_BAD_DATA_LENGTH, "%s", bad[i]);
		cr_expect_eq(msg.err_tag, 96);
	}
	/* A data tag without its length is read up to the SOH. */
	size_t n = build("8=FIX.4.4|35=A|34=1|49=A|56=B|96=abc|98=0|");
	cr_expect_eq(parse(n), FIX_OK);
}

Test(parse, signature_is_trailer)
{
	size_t n = build("8=FIX.4.4|35=0|34=1|49=A|56=B|112=T|93=3|89=s|g|");
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(memcmp(buf + msg.hdr.trailer_off, "93=3", 4), 0);
	cr_expect_eq(msg.hdr.body_sum, fix_sum("112=T\001", 6));
}

Test(parse, too_many_fields)
{
	size_t n = build(NOS);
	msg.fields = fields;
	msg.cap = 10;
	cr_expect_eq(fix_parse(&msg, buf, n), FIX_E_TOO_MANY_FIELDS);
	msg.cap = 14;
	cr_expect_eq(fix_parse(&msg, buf, n), FIX_OK);
	msg.cap = 13;
	cr_expect_eq(fix_parse(&msg, buf, n), FIX_E_TOO_MANY_FIELDS);
	cr_expect_eq(msg.err_tag, 10);
}

Test(parse, structure_errors)
{
	char m[256];
	struct {
		const char *text;
		int err;
	} cases[] = {
		{"9=5|8=FIX.4.4|35=0|10=000|", FIX_E_BAD_BEGIN},
		{"8=FIX.4.4|35=0|9=5|10=000|", FIX_E_BAD_BODY_LENGTH},
		{"8=FIX.4.4|9=5|34=1|35=0|10=000|", FIX_E_MSGTYPE_NOT_THIRD},
		{"8=FIX.4.4|9=5|35=0|", FIX_E_BAD_CHECKSUM},
		{"8=FIX.4.4|9=5|35=0|10=000|58=x|", FIX_E_BAD_CHECKSUM},
		{"8=FIX.4.4|9=5|35=0|10=00|", FIX_E_BAD_CHECKSUM},
		{"8=FIX.4.4|9=5|35=0|10=000", FIX_E_BAD_CHECKSUM},
		{"8=FIX.4.4|9=6|35=0|10=000|", FIX_E_BAD_BODY_LENGTH},
		{"8=FIX.4.4|9=x|35=0|10=000|", FIX_E_BAD_BODY_LENGTH},
		{"8=FIX.4.4|9=5|35=0|10=000|", FIX_OK},
		{"|", FIX_E_BAD_BEGIN},
		{"", FIX_E_BAD_BEGIN},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(m, cases[i].text);
		tsoh(m);
		struct guard g;
		char *p = guard_place(&g, m, strlen(m));
		msg.fields = fields;
		msg.cap = 512;
		cr_expect_eq(fix_parse(&msg, p, strlen(m)), cases[i].err, "%s", cases[i].text);
		guard_free(&g);
	}
}

Test(parse, every_prefix_and_suffix_before_guard_page)
{
	size_t n = build("8=FIX.4.4|35=A|34=1|49=TW44|56=ISLD|95=16|96=a|10=123|8=FIX|b|98=0|"
			 "108=30|");
	for (size_t k = 0; k <= n; k++) {
		struct guard g;
		char *p = guard_place(&g, buf, k);
		msg.fields = fields;
		msg.cap = 512;
		int rc = fix_parse(&msg, p, k);
		cr_expect_eq(rc == FIX_OK, k == n, "prefix %zu: %d", k, rc);
		guard_free(&g);
		p = guard_place(&g, buf + k, n - k);
		(void)fix_parse(&msg, p, n - k);
		guard_free(&g);
	}
}

Test(parse, is_header_trailer_and_data_tags)
{
	uint32_t hdr[] = {8, 9, 34, 35, 43, 49, 50, 52, 56, 57, 90, 91, 97, 115, 116, 122, 128,
			  129, 142, 143, 144, 145, 212, 213, 347, 369, 370, 627, 628, 629, 630,
			  1128, 1129, 1156};
	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++)
		cr_expect(fix_is_header_tag(hdr[i]), "%u", hdr[i]);
	cr_expect_not(fix_is_header_tag(11));
	cr_expect_not(fix_is_header_tag(10));
	cr_expect_not(fix_is_header_tag(1137));
	cr_expect_not(fix_is_header_tag(0));
	cr_expect(fix_is_trailer_tag(10));
	cr_expect(fix_is_trailer_tag(89));
	cr_expect(fix_is_trailer_tag(93));
	cr_expect_not(fix_is_trailer_tag(35));
	cr_expect_eq(fix_data_tag_for_length(95), 96);
	cr_expect_eq(fix_data_tag_for_length(93), 89);
	cr_expect_eq(fix_data_tag_for_length(90), 91);
	cr_expect_eq(fix_data_tag_for_length(621), 622);
	cr_expect_eq(fix_data_tag_for_length(1525), 1527);
	cr_expect_eq(fix_data_tag_for_length(43111), 42982);
	cr_expect_eq(fix_data_tag_for_length(9), 0, "BodyLength is not a data length");
	cr_expect_eq(fix_data_tag_for_length(383), 0);
	cr_expect_eq(fix_data_tag_for_length(96), 0);
}

Test(parse, find_from_position)
{
	size_t n = build("8=FIX.4.4|35=D|34=2|49=A|56=B|600=a|600=b|");
	cr_assert_eq(parse(n), FIX_OK);
	const struct fix_field *a = fix_find(&msg, 600, 0);
	cr_assert(field_is(a, 600, "a"));
	const struct fix_field *b = fix_find(&msg, 600, (uint32_t)(a - fields) + 1);
	cr_expect(field_is(b, 600, "b"));
	cr_expect_null(fix_find(&msg, 600, (uint32_t)(b - fields) + 1));
	cr_expect_null(fix_find(&msg, 601, 0));
}

Test(parse, seq_errors)
{
	size_t n = build("8=FIX.4.4|35=0|49=A|56=B|");
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.hdr.seq_err, FIX_E_NOT_FOUND);
	n = build("8=FIX.4.4|35=0|34=1x|49=A|56=B|");
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.hdr.seq_err, FIX_E_FORMAT);
	cr_expect_eq(msg.hdr.seq, 0);
	n = build("8=FIX.4.4|35=ABCD|34=1|49=A|56=B|");
	cr_assert_eq(parse(n), FIX_OK);
	cr_expect_eq(msg.hdr.msg_type_len, 4);
	cr_expect_str_eq(msg.hdr.msg_type, "", "too long to copy: empty, never a wrong type");
}

Test(parse, framed_then_parsed_max_size)
{
	char spec[70000];
	strcpy(spec, "8=FIX.4.4|35=0|34=2|49=TW44|56=ISLD|58=");
	size_t k = strlen(spec);
	memset(spec + k, 'a', 60000);
	strcpy(spec + k + 60000, "|");
	size_t n = build(spec);
	struct guard g;
	char *p = guard_place(&g, buf, n);
	struct fix_framer f;
	fix_framer_init(&f, (uint32_t)n);
	cr_expect_eq(fix_frame(&f, p, n, NULL), (long)n);
	msg.fields = fields;
	msg.cap = 512;
	cr_expect_eq(fix_parse(&msg, p, n), FIX_OK);
	cr_expect_eq(fix_find(&msg, 58, 0)->len, 60000);
	guard_free(&g);
}
