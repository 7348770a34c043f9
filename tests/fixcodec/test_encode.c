/* Encoder and SendingTime formatting: every message encoded must frame and parse back to the
 * values given, with a correct BodyLength and CheckSum. */
#include <criterion/criterion.h>
#include <string.h>

#include "fix_encode.h"
#include "guard.h"

#define T0 (1795693771LL * 1000000000) /* 2026-11-26 11:49:31 UTC */

static struct fix_field fields[128];

/* Frames and parses an encoded message; asserts both succeed. */
static void frame_and_parse(char *p, size_t n, struct fix_msg *m)
{
	struct fix_framer f;
	fix_framer_init(&f, 1 << 20);
	int err;
	cr_assert_eq(fix_frame(&f, p, n, &err), (long)n, "framing: %s", fix_strerror(err));
	m->fields = fields;
	m->cap = 128;
	cr_assert_eq(fix_parse(m, p, n), FIX_OK);
}

static bool val_is(const struct fix_msg *m, uint32_t tag, const char *v)
{
	const struct fix_field *f = fix_find(m, tag, 0);
	return f != NULL && f->len == strlen(v) && memcmp(f->val, v, f->len) == 0;
}

Test(encode, format_utc_precisions_and_cache)
{
	struct fix_time_cache c;
	fix_time_cache_init(&c);
	cr_expect_eq(c.day_start_ns, -1);
	char out[32];
	size_t n = fix_format_utc(&c, T0, FIX_TIME_S, out);
	cr_expect_eq(n, 17);
	cr_expect_eq(memcmp(out, "20261126-11:49:31", 17), 0);
	cr_expect_eq(c.day_start_ns, T0 - (11 * 3600 + 49 * 60 + 31) * 1000000000LL);
	cr_expect_str_eq(c.date, "20261126");
	n = fix_format_utc(&c, T0 + 123456789, FIX_TIME_MS, out);
	cr_expect_eq(n, 21);
	cr_expect_eq(memcmp(out, "20261126-11:49:31.123", 21), 0);
	n = fix_format_utc(&c, T0 + 123456789, FIX_TIME_US, out);
	cr_expect_eq(memcmp(out, "20261126-11:49:31.123456", n), 0);
	cr_expect_eq(n, 24);
	n = fix_format_utc(&c, T0 + 5, FIX_TIME_NS, out);
	cr_expect_eq(n, 27);
	cr_expect_eq(memcmp(out, "20261126-11:49:31.000000005", n), 0);
	/* Next day and a day in the past: the cache follows. */
	n = fix_format_utc(&c, T0 + 13 * 3600 * 1000000000LL, FIX_TIME_S, out);
	cr_expect_eq(memcmp(out, "20261127-00:49:31", n), 0);
	n = fix_format_utc(&c, 0, FIX_TIME_S, out);
	cr_expect_eq(memcmp(out, "19700101-00:00:00", n), 0);
	n = fix_format_utc(NULL, 951782400LL * 1000000000 - 1, FIX_TIME_MS, out);
	cr_expect_eq(memcmp(out, "20000228-23:59:59.999", n), 0, "%.*s", (int)n, out);
	n = fix_format_utc(NULL, 951782400LL * 1000000000, FIX_TIME_S, out);
	cr_expect_eq(memcmp(out, "20000229-00:00:00", n), 0);
}

Test(encode, format_utc_round_trips_with_the_parser)
{
	struct fix_time_cache c;
	fix_time_cache_init(&c);
	for (int64_t ns = 0; ns < 4102444800LL * 1000000000; ns += 7777777777777777LL) {
		char out[32];
		size_t n = fix_format_utc(&c, ns, FIX_TIME_NS, out);
		int64_t back;
		cr_assert_eq(fix_get_utc_timestamp(out, n, &back), FIX_OK, "%.*s", (int)n, out);
		cr_assert_eq(back, ns, "%.*s", (int)n, out);
	}
}

Test(encode, new_order_single_round_trip)
{
	char buf[1024];
	struct fix_time_cache tc;
	fix_time_cache_init(&tc);
	struct fix_encoder e;
	fix_enc_begin(&e, buf, sizeof(buf), FIX_VER_44, "D", &tc);
	fix_enc_uint(&e, 34, 1234);
	fix_enc_cstr(&e, 49, "CLIENT01");
	fix_enc_time(&e, 52, T0 + 123000000, FIX_TIME_MS);
	fix_enc_cstr(&e, 56, "LMAX.Orders");
	fix_enc_cstr(&e, 11, "ORD-1");
	fix_enc_char(&e, 21, '1');
	fix_enc_decimal(&e, 38, (struct fix_decimal){1000000, 0});
	fix_enc_char(&e, 40, '2');
	fix_enc_decimal(&e, 44, (struct fix_decimal){108345, 5});
	fix_enc_int(&e, 5001, -42);
	fix_enc_bool(&e, 5002, true);
	fix_enc_bool(&e, 5003, false);
	fix_enc_decimal(&e, 5004, (struct fix_decimal){-5, 3});
	fix_enc_decimal(&e, 5005, (struct fix_decimal){INT64_MIN, 0});
	fix_enc_int(&e, 5006, INT64_MIN);
	fix_enc_uint(&e, 5007, UINT64_MAX);
	fix_enc_str(&e, 58, "a|b", 3);
	char *out = NULL;
	size_t n = fix_enc_finish(&e, &out);
	cr_assert_gt(n, 0);
	cr_expect(out >= buf && out + n <= buf + sizeof(buf));
	cr_expect_eq(memcmp(out, "8=FIX.4.4\0019=", 12), 0);
	cr_expect_eq(memcmp(out + strcspn(out + 12, "\001") + 13, "35=D\001", 5), 0);
	struct fix_msg m;
	frame_and_parse(out, n, &m);
	cr_expect_str_eq(m.hdr.msg_type, "D");
	cr_expect_eq(m.hdr.seq, 1234);
	cr_expect(val_is(&m, 52, "20261126-11:49:31.123"));
	cr_expect(val_is(&m, 56, "LMAX.Orders"));
	cr_expect(val_is(&m, 38, "1000000"));
	cr_expect(val_is(&m, 44, "1.08345"));
	cr_expect(val_is(&m, 5001, "-42"));
	cr_expect(val_is(&m, 5002, "Y"));
	cr_expect(val_is(&m, 5003, "N"));
	cr_expect(val_is(&m, 5004, "-0.005"));
	cr_expect(val_is(&m, 5005, "-9223372036854775808"));
	cr_expect(val_is(&m, 5006, "-9223372036854775808"));
	cr_expect(val_is(&m, 5007, "18446744073709551615"));
	cr_expect(val_is(&m, 58, "a|b"));
	struct fix_decimal d;
	const struct fix_field *px = fix_find(&m, 44, 0);
	cr_assert_eq(fix_get_decimal(px->val, px->len, &d), FIX_OK);
	cr_expect_eq(fix_decimal_cmp(d, (struct fix_decimal){108345, 5}), 0);
}

Test(encode, every_version_and_raw_body)
{
	enum fix_version vs[] = {FIX_VER_42, FIX_VER_44, FIX_VER_T11};
	for (size_t i = 0; i < 3; i++) {
		char buf[256];
		struct fix_encoder e;
		fix_enc_begin(&e, buf, sizeof(buf), vs[i], "0", NULL);
		fix_enc_uint(&e, 34, 2);
		fix_enc_cstr(&e, 49, "A");
		fix_enc_time(&e, 52, T0, FIX_TIME_S);
		fix_enc_cstr(&e, 56, "B");
		fix_enc_raw(&e, "112=HELLO\001", 10);
		char *out;
		size_t n = fix_enc_finish(&e, &out);
		cr_assert_gt(n, 0);
		struct fix_msg m;
		frame_and_parse(out, n, &m);
		cr_expect_eq(m.hdr.ver, vs[i]);
		cr_expect(val_is(&m, 112, "HELLO"));
		cr_expect(val_is(&m, 52, "20261126-11:49:31"));
	}
}

Test(encode, no_room_is_sticky_and_never_overflows)
{
	char ref[256];
	struct fix_encoder e;
	fix_enc_begin(&e, ref, sizeof(ref), FIX_VER_44, "D", NULL);
	fix_enc_cstr(&e, 49, "SENDER");
	fix_enc_cstr(&e, 56, "TARGET");
	fix_enc_uint(&e, 34, 77);
	fix_enc_time(&e, 52, T0, FIX_TIME_NS);
	char *out;
	size_t full = fix_enc_finish(&e, &out);
	cr_assert_gt(full, 0);
	/* Every capacity: either a correct message or FIX_E_NO_ROOM, with no write past cap
	 * (the buffer ends at a guard page). */
	bool ok_seen = false;
	for (size_t cap = 0; cap < 120; cap++) {
		struct guard g;
		char *p = guard_place(&g, "", 0);
		cr_assert_not_null(p);
		char *b = p - cap;
		fix_enc_begin(&e, b, cap, FIX_VER_44, "D", NULL);
		fix_enc_cstr(&e, 49, "SENDER");
		fix_enc_cstr(&e, 56, "TARGET");
		fix_enc_uint(&e, 34, 77);
		fix_enc_time(&e, 52, T0, FIX_TIME_NS);
		out = NULL;
		size_t n = fix_enc_finish(&e, &out);
		if (n == 0) {
			cr_expect_eq(e.err, FIX_E_NO_ROOM, "cap %zu", cap);
			cr_expect_null(out);
		} else {
			ok_seen = true;
			struct fix_msg m;
			frame_and_parse(out, n, &m);
			cr_expect(val_is(&m, 52, "20261126-11:49:31.000000000"));
		}
		guard_free(&g);
	}
	cr_expect(ok_seen, "large enough capacities succeed");
	fix_enc_begin(&e, ref, sizeof(ref), FIX_VER_UNKNOWN, "D", NULL);
	cr_expect_eq(fix_enc_finish(&e, &out), 0);
	cr_expect_eq(e.err, FIX_E_BAD_BEGIN);
}

Test(encode, body_length_digits_grow_with_the_body)
{
	static char buf[200000];
	static char big[150000];
	memset(big, 'x', sizeof(big));
	struct fix_encoder e;
	fix_enc_begin(&e, buf, sizeof(buf), FIX_VER_T11, "B", NULL);
	fix_enc_str(&e, 58, big, sizeof(big));
	char *out;
	size_t n = fix_enc_finish(&e, &out);
	cr_assert_gt(n, 0);
	struct fix_msg m;
	frame_and_parse(out, n, &m);
	cr_expect_eq(m.hdr.body_length, 5 + 4 + sizeof(big));
}

Test(encode, data_field_with_soh)
{
	char buf[256];
	struct fix_encoder e;
	fix_enc_begin(&e, buf, sizeof(buf), FIX_VER_44, "A", NULL);
	fix_enc_uint(&e, 34, 1);
	fix_enc_cstr(&e, 49, "A");
	fix_enc_cstr(&e, 56, "B");
	fix_enc_data(&e, 95, 96, "a\00110=000\001b", 10);
	fix_enc_uint(&e, 98, 0);
	char *out;
	size_t n = fix_enc_finish(&e, &out);
	cr_assert_gt(n, 0);
	struct fix_msg m;
	frame_and_parse(out, n, &m);
	const struct fix_field *d = fix_find(&m, 96, 0);
	cr_assert_not_null(d);
	cr_expect_eq(d->len, 10);
	cr_expect_eq(memcmp(d->val, "a\00110=000\001b", 10), 0);
	cr_expect(val_is(&m, 95, "10"));
	cr_expect(val_is(&m, 98, "0"));
}

Test(encode, numbers_of_every_length_round_trip)
{
	char buf[2048];
	struct fix_encoder e;
	fix_enc_begin(&e, buf, sizeof(buf), FIX_VER_44, "0", NULL);
	uint64_t v = 0;
	for (uint32_t i = 0; i < 20; i++) {
		fix_enc_uint(&e, 6000 + i, v);
		fix_enc_uint(&e, 7000 + i, v == 0 ? 0 : v - 1);
		v = v == 0 ? 1 : v * 10;
	}
	fix_enc_uint(&e, 8000, UINT64_MAX);
	char *out;
	size_t n = fix_enc_finish(&e, &out);
	cr_assert_gt(n, 0);
	struct fix_msg m;
	frame_and_parse(out, n, &m);
	v = 0;
	for (uint32_t i = 0; i < 20; i++) {
		uint64_t got;
		cr_expect_eq(fix_msg_get_uint(&m, 6000 + i, &got), FIX_OK);
		cr_expect_eq(got, v);
		cr_expect_eq(fix_msg_get_uint(&m, 7000 + i, &got), FIX_OK);
		cr_expect_eq(got, v == 0 ? 0 : v - 1);
		v = v == 0 ? 1 : v * 10;
	}
	cr_expect(val_is(&m, 8000, "18446744073709551615"));
}

Test(encode, every_fraction_precision)
{
	char out[32];
	const char *want[] = {"20261126-11:49:31", "20261126-11:49:31.9",
			      "20261126-11:49:31.98", "20261126-11:49:31.987",
			      "20261126-11:49:31.9876", "20261126-11:49:31.98765",
			      "20261126-11:49:31.987654", "20261126-11:49:31.9876543",
			      "20261126-11:49:31.98765432", "20261126-11:49:31.987654321"};
	for (int p = 0; p <= 9; p++) {
		size_t n = fix_format_utc(NULL, T0 + 987654321, (enum fix_time_precision)p, out);
		cr_expect_eq(n, strlen(want[p]), "precision %d", p);
		cr_expect_eq(memcmp(out, want[p], n), 0, "precision %d: %.*s", p, (int)n, out);
	}
}

Test(encode, zero_initialized_time_cache_is_empty)
{
	struct fix_time_cache c;
	memset(&c, 0, sizeof(c));
	char out[32];
	size_t n = fix_format_utc(&c, 500000000, FIX_TIME_MS, out);
	cr_expect_eq(memcmp(out, "19700101-00:00:00.500", n), 0, "%.*s", (int)n, out);
	memset(&c, 0, sizeof(c));
	n = fix_format_utc(&c, T0, FIX_TIME_S, out);
	cr_expect_eq(memcmp(out, "20261126-11:49:31", n), 0, "%.*s", (int)n, out);
}
