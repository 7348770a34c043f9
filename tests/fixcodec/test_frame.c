/* Framer: complete / need more / garbled on a byte stream, including hostile input placed
 * right before a guard page. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "fix_msg.h"
#include "guard.h"

#define NOS "8=FIX.4.4|35=D|34=2|49=TW44|52=20261126-11:49:31.123|56=ISLD|11=ID|21=3|" \
	    "40=1|54=1|55=INTC|60=20261126-11:49:31|"

static size_t build(char *out, const char *spec)
{
	size_t n = tmsg_build(out, 65536, spec);
	cr_assert(n > 0);
	return n;
}

Test(frame, complete_message_returns_its_length)
{
	char m[512];
	size_t n = build(m, NOS);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err = -1;
	cr_expect_eq(fix_frame(&f, m, n, &err), (long)n);
	cr_expect_eq(err, FIX_OK);
	cr_expect_eq(f.want, 0, "state reset after a complete message");
}

Test(frame, every_prefix_needs_more_with_guard_page)
{
	char m[512];
	size_t n = build(m, NOS);
	for (size_t k = 0; k < n; k++) {
		struct guard g;
		char *p = guard_place(&g, m, k);
		cr_assert_not_null(p);
		struct fix_framer f;
		fix_framer_init(&f, 4096);
		int err = -1;
		cr_expect_eq(fix_frame(&f, p, k, &err), 0, "prefix %zu", k);
		cr_expect_eq(err, FIX_E_NEED_MORE);
		guard_free(&g);
	}
	struct guard g;
	char *p = guard_place(&g, m, n);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	cr_expect_eq(fix_frame(&f, p, n, NULL), (long)n);
	guard_free(&g);
}

Test(frame, resumes_with_the_same_framer_byte_by_byte)
{
	char m[512];
	size_t n = build(m, NOS);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(fix_frame(&f, m, k, NULL), 0, "prefix %zu", k);
	cr_expect_neq(f.want, 0, "the length is remembered once the header is read");
	cr_expect_eq(f.want, n);
	cr_expect_eq(fix_frame(&f, m, n, NULL), (long)n);
}

Test(frame, two_messages_back_to_back)
{
	char m[1024];
	size_t a = build(m, NOS);
	size_t b = build(m + a, "8=FIX.4.4|35=0|34=3|49=TW44|52=20261126-11:49:31|56=ISLD|");
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	cr_expect_eq(fix_frame(&f, m, a + b, NULL), (long)a);
	cr_expect_eq(fix_frame(&f, m + a, b, NULL), (long)b);
}

Test(frame, garbage_before_a_message_skips_to_begin)
{
	char m[1024] = "garbage 8=FIY 8=F";
	size_t g = strlen(m);
	size_t n = build(m + g, NOS);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	long r = fix_frame(&f, m, g + n, &err);
	cr_assert_lt(r, 0);
	cr_expect_eq(err, FIX_E_BAD_BEGIN);
	cr_expect_eq(-r, (long)g, "skip lands on 8=FIX");
	cr_expect_eq(memcmp(m - r, "8=FIX", 5), 0);
	cr_expect_eq(fix_frame(&f, m - r, g + n + r, NULL), (long)n);
}

Test(frame, garbage_only_keeps_a_trailing_partial_begin)
{
	char m[] = "xxxxxx8=FI";
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	cr_expect_eq(fix_frame(&f, m, strlen(m), &err), -6);
	cr_expect_eq(err, FIX_E_BAD_BEGIN);
	char z[] = "zzzz";
	cr_expect_eq(fix_frame(&f, z, 4, &err), -4);
	char one[] = "8";
	cr_expect_eq(fix_frame(&f, one, 1, &err), 0);
}

Test(frame, wrong_checksum_discards_the_whole_message)
{
	char m[1024];
	size_t n = tmsg_build_raw(m, sizeof(m), "8=FIX.4.4|35=0|34=2|49=TW44|56=ISLD|", "26", "256");
	cr_assert_gt(n, 0);
	size_t n2 = build(m + n, "8=FIX.4.4|35=0|34=2|49=TW44|56=ISLD|");
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	cr_expect_eq(fix_frame(&f, m, n + n2, &err), -(long)n);
	cr_expect_eq(err, FIX_E_BAD_CHECKSUM);
	cr_expect_eq(fix_frame(&f, m + n, n2, &err), (long)n2);
}

Test(frame, checksum_off_by_one_is_garbled)
{
	char m[512];
	size_t n = build(m, NOS);
	m[n - 2] = m[n - 2] == '9' ? '0' : (char)(m[n - 2] + 1);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	cr_expect_eq(fix_frame(&f, m, n, &err), -(long)n);
	cr_expect_eq(err, FIX_E_BAD_CHECKSUM);
}

Test(frame, non_digit_and_short_checksums_are_garbled)
{
	const char *bad[] = {"1a3", "12", "0", "1234", "-12", " 12"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char m[512];
		size_t n = tmsg_build_raw(m, sizeof(m), "8=FIX.4.4|35=0|34=2|49=TW44|56=ISLD|", "26",
					  bad[i]);
		size_t n2 = build(m + n, "8=FIX.4.4|35=0|34=3|49=TW44|56=ISLD|");
		struct fix_framer f;
		fix_framer_init(&f, 4096);
		int err;
		long r = fix_frame(&f, m, n + n2, &err);
		cr_expect_eq(r, -(long)n, "checksum '%s': %ld", bad[i], r);
		cr_expect_eq(err, FIX_E_BAD_CHECKSUM, "checksum '%s'", bad[i]);
	}
}

Test(frame, missing_soh_after_checksum)
{
	char m[512];
	size_t n = build(m, NOS);
	m[n - 1] = 'X';
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	/* Nothing says where this message ends: wait for more, within max_msg. */
	cr_expect_eq(fix_frame(&f, m, n, NULL), 0);
	struct fix_framer small;
	fix_framer_init(&small, (uint32_t)n);
	int err;
	long r = fix_frame(&small, m, n, &err);
	cr_expect_lt(r, 0);
	cr_expect_eq(err, FIX_E_BAD_BODY_LENGTH);
	cr_expect_eq(-r, (long)n, "no other 8=FIX: discard everything");
}

Test(frame, body_length_too_short_discards_through_own_trailer)
{
	/* QuickFIX scenario 2m: 9=30 is too short, the next message is processed. */
	char m[1024];
	size_t n = tmsg_build_raw(m, sizeof(m), NOS, "30", "000");
	size_t n2 = build(m + n, "8=FIX.4.4|35=0|34=3|49=TW44|56=ISLD|");
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	cr_expect_eq(fix_frame(&f, m, n + n2, &err), -(long)n);
	cr_expect_eq(err, FIX_E_BAD_BODY_LENGTH);
	cr_expect_eq(fix_frame(&f, m + n, n2, NULL), (long)n2);
}

Test(frame, body_length_too_long_swallows_the_next_message)
{
	/* QuickFIX scenario 2m: 9 too long by a few bytes; the framer waits for the bytes, then
	 * the message extends to the next message's trailer and both are discarded. */
	char body[512];
	build(body, NOS);
	char m[2048];
	char len[16];
	/* "8=FIX.4.4<SOH>9=" is 12 bytes: declare 14 bytes more than the real body. */
	snprintf(len, sizeof(len), "%d", atoi(body + 12) + 14);
	size_t n = tmsg_build_raw(m, sizeof(m), NOS, len, "000");
	size_t n2 = build(m + n, "8=FIX.4.4|35=0|34=3|49=TW44|56=ISLD|52=20261126-11:49:31|");
	size_t n3 = build(m + n + n2, "8=FIX.4.4|35=0|34=4|49=TW44|56=ISLD|");
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	cr_expect_eq(fix_frame(&f, m, n, NULL), 0, "waits for the declared length");
	for (size_t k = n; k < n + n2; k++)
		cr_assert_eq(fix_frame(&f, m, k, NULL), 0, "prefix %zu", k);
	int err;
	cr_expect_eq(fix_frame(&f, m, n + n2 + n3, &err), -(long)(n + n2));
	cr_expect_eq(err, FIX_E_BAD_BODY_LENGTH);
	cr_expect_eq(fix_frame(&f, m + n + n2, n3, NULL), (long)n3);
}

Test(frame, huge_body_length_is_refused_as_soon_as_read)
{
	char m[] = "8=FIX.4.4|9=99999999";
	tsoh(m);
	struct fix_framer f;
	fix_framer_init(&f, 65536);
	int err;
	struct guard g;
	char *p = guard_place(&g, m, strlen(m));
	long r = fix_frame(&f, p, strlen(m), &err);
	cr_expect_eq(r, -(long)strlen(m));
	cr_expect_eq(err, FIX_E_TOO_BIG);
	guard_free(&g);
	char m2[] = "8=FIX.4.4|9=123456789012345678901234567890|";
	tsoh(m2);
	cr_expect_lt(fix_frame(&f, m2, strlen(m2), &err), 0);
	cr_expect_eq(err, FIX_E_TOO_BIG);
}

Test(frame, max_size_exactly_ok_one_more_too_big)
{
	char spec[700];
	char m[1024];
	strcpy(spec, "8=FIX.4.4|35=0|34=2|49=TW44|56=ISLD|58=");
	size_t k = strlen(spec);
	memset(spec + k, 'a', 400);
	strcpy(spec + k + 400, "|");
	size_t n = build(m, spec);
	struct fix_framer f;
	fix_framer_init(&f, (uint32_t)n);
	cr_expect_eq(fix_frame(&f, m, n, NULL), (long)n);
	spec[k + 400] = 'a';
	strcpy(spec + k + 401, "|");
	size_t n1 = build(m, spec);
	cr_assert_eq(n1, n + 1);
	int err;
	cr_expect_lt(fix_frame(&f, m, n1, &err), 0);
	cr_expect_eq(err, FIX_E_TOO_BIG);
	/* Refused from the header alone, before the body has arrived. */
	cr_expect_lt(fix_frame(&f, m, 20, &err), 0);
	cr_expect_eq(err, FIX_E_TOO_BIG);
}

Test(frame, non_digit_or_missing_body_length)
{
	const char *bad[] = {"8=FIX.4.4|9=1a|35=0|10=000|", "8=FIX.4.4|9=|35=0|10=000|",
			     "8=FIX.4.4|9=-5|35=0|10=000|", "8=FIX.4.4|35=0|9=5|10=000|",
			     "8=FIX.4.4|34=3|35=0|49=TW44|10=000|"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char m[128];
		strcpy(m, bad[i]);
		tsoh(m);
		struct guard g;
		char *p = guard_place(&g, m, strlen(m));
		struct fix_framer f;
		fix_framer_init(&f, 4096);
		int err;
		long r = fix_frame(&f, p, strlen(m), &err);
		cr_expect_eq(r, -(long)strlen(m), "%s", bad[i]);
		cr_expect_eq(err, FIX_E_BAD_BODY_LENGTH, "%s", bad[i]);
		guard_free(&g);
	}
}

Test(frame, msgtype_not_third_discards_the_message)
{
	/* QuickFIX scenario 2t: 35 first, then 8, 9 ... */
	char m[512];
	size_t n = build(m + 5, "8=FIX.4.4|34=2|35=0|49=TW44|56=ISLD|");
	memcpy(m, "35=0\001", 5);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	cr_expect_eq(fix_frame(&f, m, n + 5, &err), -5);
	cr_expect_eq(err, FIX_E_BAD_BEGIN);
	cr_expect_eq(fix_frame(&f, m + 5, n, &err), -(long)n);
	cr_expect_eq(err, FIX_E_MSGTYPE_NOT_THIRD);
}

Test(frame, begin_string_without_soh)
{
	char m[] = "8=FIX.4.4.4.4.4.4.4.4.4.4.4";
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	cr_expect_eq(fix_frame(&f, m, strlen(m), &err), -(long)strlen(m));
	cr_expect_eq(err, FIX_E_BAD_BEGIN);
	cr_expect_eq(fix_frame(&f, m, 12, &err), 0, "still could be a BeginString");
}

Test(frame, soh_and_trailer_text_inside_data_field)
{
	char m[512];
	size_t n = build(m, "8=FIX.4.4|35=A|34=1|49=TW44|56=ISLD|95=16|96=a|10=123|8=FIX|b|"
			    "98=0|108=30|");
	struct guard g;
	char *p = guard_place(&g, m, n);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(fix_frame(&f, p, k, NULL), 0);
	cr_expect_eq(fix_frame(&f, p, n, NULL), (long)n);
	guard_free(&g);
}

Test(frame, sum_is_the_byte_sum)
{
	char b[300];
	uint32_t s = 0;
	for (size_t i = 0; i < sizeof(b); i++) {
		b[i] = (char)(i * 7 + 200);
		s += (unsigned char)b[i];
	}
	cr_expect_eq(fix_sum(b, sizeof(b)), s);
	cr_expect_eq(fix_sum(b, 0), 0);
	cr_expect_eq(fix_sum(b + 1, 5), (unsigned char)b[1] + (unsigned char)b[2] +
		     (unsigned char)b[3] + (unsigned char)b[4] + (unsigned char)b[5]);
}
