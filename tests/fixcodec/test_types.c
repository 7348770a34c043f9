/* Typed accessors, versions, error names. */
#include <criterion/criterion.h>
#include <string.h>

#include "fix_msg.h"
#include "guard.h"

#define S(x) (x), strlen(x)

Test(types, uint_ok_format_range)
{
	uint64_t v = 7;
	cr_expect_eq(fix_get_uint(S("0"), &v), FIX_OK);
	cr_expect_eq(v, 0);
	cr_expect_eq(fix_get_uint(S("000123"), &v), FIX_OK);
	cr_expect_eq(v, 123);
	cr_expect_eq(fix_get_uint(S("18446744073709551615"), &v), FIX_OK);
	cr_expect_eq(v, UINT64_MAX);
	v = 7;
	cr_expect_eq(fix_get_uint(S("18446744073709551616"), &v), FIX_E_RANGE);
	cr_expect_eq(fix_get_uint(S("99999999999999999999999"), &v), FIX_E_RANGE);
	cr_expect_eq(fix_get_uint(S(""), &v), FIX_E_FORMAT);
	cr_expect_eq(fix_get_uint(S("-1"), &v), FIX_E_FORMAT);
	cr_expect_eq(fix_get_uint(S("12a"), &v), FIX_E_FORMAT);
	cr_expect_eq(fix_get_uint(S(" 1"), &v), FIX_E_FORMAT);
	cr_expect_eq(fix_get_uint(S("99999999999999999999999x"), &v), FIX_E_FORMAT,
		     "format wins over overflow");
	cr_expect_eq(v, 7, "output untouched on error");
}

Test(types, int_ok_format_range)
{
	int64_t v = 7;
	cr_expect_eq(fix_get_int(S("-42"), &v), FIX_OK);
	cr_expect_eq(v, -42);
	cr_expect_eq(fix_get_int(S("9223372036854775807"), &v), FIX_OK);
	cr_expect_eq(v, INT64_MAX);
	cr_expect_eq(fix_get_int(S("-9223372036854775808"), &v), FIX_OK);
	cr_expect_eq(v, INT64_MIN);
	v = 7;
	cr_expect_eq(fix_get_int(S("9223372036854775808"), &v), FIX_E_RANGE);
	cr_expect_eq(fix_get_int(S("-9223372036854775809"), &v), FIX_E_RANGE);
	cr_expect_eq(fix_get_int(S("-"), &v), FIX_E_FORMAT);
	cr_expect_eq(fix_get_int(S("+1"), &v), FIX_E_FORMAT);
	cr_expect_eq(fix_get_int(S("1.0"), &v), FIX_E_FORMAT);
	cr_expect_eq(fix_get_int(S(""), &v), FIX_E_FORMAT);
	cr_expect_eq(v, 7);
}

Test(types, bool_and_char)
{
	bool b = false;
	cr_expect_eq(fix_get_bool(S("Y"), &b), FIX_OK);
	cr_expect(b);
	cr_expect_eq(fix_get_bool(S("N"), &b), FIX_OK);
	cr_expect_not(b);
	b = true;
	cr_expect_eq(fix_get_bool(S("y"), &b), FIX_E_FORMAT);
	cr_expect_eq(fix_get_bool(S("YN"), &b), FIX_E_FORMAT);
	cr_expect_eq(fix_get_bool(S(""), &b), FIX_E_FORMAT);
	cr_expect(b);
	char c = 0;
	cr_expect_eq(fix_get_char(S("1"), &c), FIX_OK);
	cr_expect_eq(c, '1');
	cr_expect_eq(fix_get_char(S("~"), &c), FIX_OK);
	cr_expect_eq(fix_get_char(S("12"), &c), FIX_E_FORMAT);
	cr_expect_eq(fix_get_char(S(""), &c), FIX_E_FORMAT);
	cr_expect_eq(fix_get_char(S(" "), &c), FIX_E_FORMAT);
	cr_expect_eq(fix_get_char("\001", 1, &c), FIX_E_FORMAT);
	cr_expect_eq(fix_get_char("\x80", 1, &c), FIX_E_FORMAT);
	cr_expect_eq(c, '~');
}

Test(types, utc_timestamp_precisions)
{
	int64_t ns = 0;
	cr_expect_eq(fix_get_utc_timestamp(S("19700101-00:00:00"), &ns), FIX_OK);
	cr_expect_eq(ns, 0);
	/* 2026-11-26 11:49:31 UTC is 1795693771 s since the epoch. */
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11:49:31"), &ns), FIX_OK);
	cr_expect_eq(ns, 1795693771LL * 1000000000);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11:49:31.123"), &ns), FIX_OK);
	cr_expect_eq(ns, 1795693771LL * 1000000000 + 123000000);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11:49:31.123456"), &ns), FIX_OK);
	cr_expect_eq(ns, 1795693771LL * 1000000000 + 123456000);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11:49:31.123456789"), &ns), FIX_OK);
	cr_expect_eq(ns, 1795693771LL * 1000000000 + 123456789);
	cr_expect_eq(fix_get_utc_timestamp(S("20240229-23:59:60"), &ns), FIX_OK, "leap day, leap s");
	cr_expect_eq(fix_get_utc_timestamp(S("20000229-00:00:00"), &ns), FIX_OK);
}

Test(types, utc_timestamp_rejects_bad_dates)
{
	int64_t ns = 5;
	cr_expect_eq(fix_get_utc_timestamp(S("20261326-11:49:31"), &ns), FIX_E_RANGE, "month 13");
	cr_expect_eq(fix_get_utc_timestamp(S("20260230-11:49:31"), &ns), FIX_E_RANGE, "Feb 30");
	cr_expect_eq(fix_get_utc_timestamp(S("20250229-11:49:31"), &ns), FIX_E_RANGE, "not leap");
	cr_expect_eq(fix_get_utc_timestamp(S("19000229-11:49:31"), &ns), FIX_E_RANGE);
	cr_expect_eq(fix_get_utc_timestamp(S("20260001-11:49:31"), &ns), FIX_E_RANGE, "month 0");
	cr_expect_eq(fix_get_utc_timestamp(S("20260100-11:49:31"), &ns), FIX_E_RANGE, "day 0");
	cr_expect_eq(fix_get_utc_timestamp(S("20260431-11:49:31"), &ns), FIX_E_RANGE);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-24:00:00"), &ns), FIX_E_RANGE);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-23:60:00"), &ns), FIX_E_RANGE);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-23:59:61"), &ns), FIX_E_RANGE);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126 11:49:31"), &ns), FIX_E_FORMAT);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11-49-31"), &ns), FIX_E_FORMAT);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11:49:31."), &ns), FIX_E_FORMAT);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11:49:31.1234567890"), &ns), FIX_E_FORMAT);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11:49:3"), &ns), FIX_E_FORMAT);
	cr_expect_eq(fix_get_utc_timestamp(S("2026112a-11:49:31"), &ns), FIX_E_FORMAT);
	cr_expect_eq(fix_get_utc_timestamp(S("20261126-11:49:31,123"), &ns), FIX_E_FORMAT);
	cr_expect_eq(fix_get_utc_timestamp(S(""), &ns), FIX_E_FORMAT);
	cr_expect_eq(ns, 5);
}

Test(types, utc_timestamp_before_guard_page)
{
	const char *t = "20261126-11:49:31.123";
	for (size_t k = 0; k <= strlen(t); k++) {
		struct guard g;
		char *p = guard_place(&g, t, k);
		int64_t ns;
		int rc = fix_get_utc_timestamp(p, k, &ns);
		cr_expect_eq(rc == FIX_OK, k == 17 || k >= 19, "len %zu", k);
		guard_free(&g);
	}
}

Test(types, decimal_parse)
{
	struct fix_decimal d = {7, 7};
	cr_expect_eq(fix_get_decimal(S("002000.00"), &d), FIX_OK);
	cr_expect_eq(d.mantissa, 200000);
	cr_expect_eq(d.scale, 2);
	cr_expect_eq(fix_get_decimal(S("-1.5"), &d), FIX_OK);
	cr_expect_eq(d.mantissa, -15);
	cr_expect_eq(d.scale, 1);
	cr_expect_eq(fix_get_decimal(S("42"), &d), FIX_OK);
	cr_expect_eq(d.mantissa, 42);
	cr_expect_eq(d.scale, 0);
	cr_expect_eq(fix_get_decimal(S(".5"), &d), FIX_OK);
	cr_expect_eq(d.mantissa, 5);
	cr_expect_eq(d.scale, 1);
	cr_expect_eq(fix_get_decimal(S("1.08345"), &d), FIX_OK);
	cr_expect_eq(d.mantissa, 108345);
	cr_expect_eq(d.scale, 5);
	cr_expect_eq(fix_get_decimal(S("999999999999999999"), &d), FIX_OK, "18 digits");
	cr_expect_eq(fix_get_decimal(S("0.000000000000000001"), &d), FIX_OK);
	cr_expect_eq(d.scale, 18);
	d.mantissa = 7;
	cr_expect_eq(fix_get_decimal(S("1234567890123456789"), &d), FIX_E_RANGE, "19 digits");
	cr_expect_eq(fix_get_decimal(S("0.0000000000000000001"), &d), FIX_E_RANGE);
	cr_expect_eq(fix_get_decimal(S(""), &d), FIX_E_FORMAT);
	cr_expect_eq(fix_get_decimal(S("-"), &d), FIX_E_FORMAT);
	cr_expect_eq(fix_get_decimal(S("."), &d), FIX_E_FORMAT);
	cr_expect_eq(fix_get_decimal(S("1.2.3"), &d), FIX_E_FORMAT);
	cr_expect_eq(fix_get_decimal(S("1e5"), &d), FIX_E_FORMAT);
	cr_expect_eq(fix_get_decimal(S("+1"), &d), FIX_E_FORMAT);
	cr_expect_eq(d.mantissa, 7);
}

Test(types, decimal_compare_exactly)
{
	struct fix_decimal a = {200000, 2}, b = {2000, 0}, c = {-15, 1}, d = {1, 18};
	cr_expect_eq(fix_decimal_cmp(a, b), 0, "2000.00 == 2000");
	cr_expect_gt(fix_decimal_cmp(a, c), 0);
	cr_expect_lt(fix_decimal_cmp(c, a), 0);
	cr_expect_gt(fix_decimal_cmp(d, (struct fix_decimal){0, 0}), 0);
	cr_expect_lt(fix_decimal_cmp((struct fix_decimal){999999999999999999, 0},
				     (struct fix_decimal){1, 0}) * -1, 0);
	cr_expect_lt(fix_decimal_cmp((struct fix_decimal){108345, 5},
				     (struct fix_decimal){108346, 5}), 0);
	cr_expect_eq(fix_decimal_cmp((struct fix_decimal){999999999999999999, 0},
				     (struct fix_decimal){999999999999999999, 0}), 0);
	cr_expect_lt(fix_decimal_cmp((struct fix_decimal){999999999999999999, 18},
				     (struct fix_decimal){999999999999999999, 0}), 0,
		     "no overflow across scales");
}

Test(types, versions)
{
	cr_expect_eq(fix_version_from(S("FIX.4.2")), FIX_VER_42);
	cr_expect_eq(fix_version_from(S("FIX.4.4")), FIX_VER_44);
	cr_expect_eq(fix_version_from(S("FIXT.1.1")), FIX_VER_T11);
	cr_expect_eq(fix_version_from(S("FIX.4.3")), FIX_VER_UNKNOWN);
	cr_expect_eq(fix_version_from(S("FIX.4.4 ")), FIX_VER_UNKNOWN);
	cr_expect_eq(fix_version_from(S("")), FIX_VER_UNKNOWN);
	cr_expect_str_eq(fix_version_str(FIX_VER_42), "FIX.4.2");
	cr_expect_str_eq(fix_version_str(FIX_VER_44), "FIX.4.4");
	cr_expect_str_eq(fix_version_str(FIX_VER_T11), "FIXT.1.1");
	cr_expect_null(fix_version_str(FIX_VER_UNKNOWN));
	cr_expect_null(fix_version_str(FIX_VER__COUNT));
}

Test(types, strerror_names_every_code)
{
	for (int e = 0; e < FIX_E__COUNT; e++) {
		const char *s = fix_strerror(e);
		cr_assert_not_null(s);
		cr_expect_str_neq(s, "unknown error", "code %d has a name", e);
		for (int f = 0; f < e; f++)
			cr_expect_str_neq(s, fix_strerror(f), "codes %d and %d differ", e, f);
	}
	cr_expect_str_eq(fix_strerror(FIX_E_BAD_CHECKSUM), "bad checksum");
	cr_expect_str_eq(fix_strerror(-1), "unknown error");
	cr_expect_str_eq(fix_strerror(FIX_E__COUNT), "unknown error");
}

Test(types, msg_getters)
{
	char buf[256];
	size_t n = tmsg_build(buf, sizeof(buf), "8=FIX.4.4|35=2|34=5|49=A|56=B|7=10|16=0|999=-3|");
	struct fix_field f[32];
	struct fix_msg m = {.fields = f, .cap = 32};
	cr_assert_eq(fix_parse(&m, buf, n), FIX_OK);
	uint64_t u = 9;
	int64_t i = 9;
	cr_expect_eq(fix_msg_get_uint(&m, 7, &u), FIX_OK);
	cr_expect_eq(u, 10);
	cr_expect_eq(fix_msg_get_uint(&m, 999, &u), FIX_E_FORMAT);
	cr_expect_eq(fix_msg_get_uint(&m, 123, &u), FIX_E_NOT_FOUND);
	cr_expect_eq(u, 10);
	cr_expect_eq(fix_msg_get_int(&m, 999, &i), FIX_OK);
	cr_expect_eq(i, -3);
	cr_expect_eq(fix_msg_get_int(&m, 123, &i), FIX_E_NOT_FOUND);
}
