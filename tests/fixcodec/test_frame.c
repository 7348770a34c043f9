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

/* ---------------------------------------------------------------------------------------------
 * The QuickFIX acceptance scenarios' inbound messages, sent the way their runner sends them
 * (BodyLength and CheckSum added where the line has none, <TIME...> replaced).
 * ------------------------------------------------------------------------------------------- */

#include <dirent.h>

/* Builds the wire bytes of an "I" line; *explicit_len_or_sum says whether the line carries
 * its own 9 or 10 (the scenarios' deliberately broken messages). */
static size_t wire(const char *line, char *out, size_t cap, bool *explicit)
{
	char spec[4096];
	size_t n = 0;
	for (const char *p = line; *p && *p != '\r' && *p != '\n' && n + 32 < sizeof(spec);) {
		if (*p == '<') {
			const char *q = strchr(p, '>');
			cr_assert_not_null(q);
			n += (size_t)sprintf(spec + n, "20261126-11:49:31");
			p = q + 1;
		} else {
			spec[n++] = *p++;
		}
	}
	spec[n] = '\0';
	bool has9 = strstr(spec, "\0019=") != NULL;
	bool has10 = strstr(spec, "\00110=") != NULL;
	*explicit = has9 || has10;
	if (has9 && !has10) {
		unsigned sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += (unsigned char)spec[i];
		return (size_t)snprintf(out, cap, "%s10=%03u\001", spec, sum & 0xff);
	}
	if (!has9) {
		/* BodyLength after BeginString; CheckSum too unless the line has its own. */
		const char *soh = strchr(spec, '\001');
		cr_assert_not_null(soh);
		size_t blen = (size_t)(soh - spec) + 1;
		size_t body = has10 ? (size_t)(strstr(spec, "\00110=") + 1 - (spec + blen)) :
			n - blen;
		int w = snprintf(out, cap, "%.*s9=%zu\001%s", (int)blen, spec, body, spec + blen);
		if (has10)
			return (size_t)w;
		unsigned sum = 0;
		for (int i = 0; i < w; i++)
			sum += (unsigned char)out[i];
		return (size_t)w + (size_t)snprintf(out + w, cap - (size_t)w, "10=%03u\001", sum & 0xff);
	}
	return (size_t)snprintf(out, cap, "%s", spec);
}

/* The value of tag in an expected ("E") line, or NULL. */
static const char *expected_value(const char *line, const char *tag_eq, char *val, size_t cap)
{
	const char *p = strstr(line, tag_eq);
	if (p == NULL)
		return NULL;
	p += strlen(tag_eq);
	size_t n = strcspn(p, "\001\r\n");
	snprintf(val, cap, "%.*s", (int)n, p);
	return val;
}

Test(frame, quickfix_scenario_messages)
{
	static const char *const dirs[] = {"fix42", "fix44", "fix50sp2"};
	size_t framed = 0, garbled = 0, rejected = 0;
	for (size_t d = 0; d < 3; d++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/definitions/%s", FIXMUX_QUICKFIX_REF, dirs[d]);
		DIR *dir = opendir(path);
		cr_assert_not_null(dir, "%s", path);
		struct dirent *de;
		while ((de = readdir(dir)) != NULL) {
			if (strstr(de->d_name, ".def") == NULL)
				continue;
			char fp[2048];
			snprintf(fp, sizeof(fp), "%s/%s", path, de->d_name);
			FILE *fh = fopen(fp, "r");
			cr_assert_not_null(fh);
			static char lines[512][4096];
			size_t nl = 0;
			while (nl < 512 && fgets(lines[nl], sizeof(lines[nl]), fh) != NULL)
				nl++;
			fclose(fh);
			for (size_t i = 0; i < nl; i++) {
				const char *l = lines[i];
				if (l[0] != 'I' || strchr(l, '\001') == NULL)
					continue;
				const char *msg = l + 1;
				if (msg[0] >= '0' && msg[0] <= '9' && msg[1] == ',')
					msg += 2; /* "I2,8=..." names a connection */
				char w[8192];
				bool explicit;
				size_t n = wire(msg, w, sizeof(w), &explicit);
				struct guard g;
				char *p = guard_place(&g, w, n);
				struct fix_framer f;
				fix_framer_init(&f, 4096);
				int err;
				long r = fix_frame(&f, p, n, &err);
				if (explicit) {
					/* Every hand-made 9 or 10 in the scenarios is wrong: the message
					 * is garbled, or (BodyLength too long) waits for bytes that will
					 * make it garbled. */
					cr_expect_leq(r, 0, "%s:%zu framed", de->d_name, i + 1);
					garbled++;
					guard_free(&g);
					continue;
				}
				if (strncmp(strchr(msg, '\001') + 1, "35=", 3) != 0) {
					/* Scenario 2t: 34 before 35, ignored as garbled. */
					cr_expect_lt(r, 0, "%s:%zu", de->d_name, i + 1);
					cr_expect_eq(err, FIX_E_MSGTYPE_NOT_THIRD);
					garbled++;
					guard_free(&g);
					continue;
				}
				cr_expect_eq(r, (long)n, "%s:%zu: %s", de->d_name, i + 1,
					     fix_strerror(err));
				framed++;
				struct fix_field fl[256];
				struct fix_msg m = {.fields = fl, .cap = 256};
				int rc = fix_parse(&m, p, n);
				guard_free(&g);
				if (rc == FIX_OK)
					continue;
				/* Otherwise the scenario expects a Reject naming the tag. */
				rejected++;
				const char *e = NULL;
				for (size_t k = i + 1; k < nl && e == NULL; k++)
					if (lines[k][0] == 'E')
						e = lines[k];
				cr_assert_not_null(e, "%s:%zu", de->d_name, i + 1);
				char v371[32], v373[32];
				cr_assert_not_null(expected_value(e, "\001371=", v371, sizeof(v371)),
						   "%s:%zu: %s, but no reject expected", de->d_name, i + 1,
						   fix_strerror(rc));
				cr_assert_not_null(expected_value(e, "\001373=", v373, sizeof(v373)));
				cr_expect_eq((int32_t)m.err_tag, atoi(v371), "%s:%zu", de->d_name, i + 1);
				if (rc == FIX_E_BAD_TAG)
					cr_expect_str_eq(v373, "0", "%s:%zu", de->d_name, i + 1);
				else if (rc == FIX_E_NO_VALUE)
					cr_expect_str_eq(v373, "4", "%s:%zu", de->d_name, i + 1);
				else
					cr_expect_fail("%s:%zu: unexpected %s", de->d_name, i + 1,
						       fix_strerror(rc));
			}
		}
		closedir(dir);
	}
	cr_expect_gt(framed, 700);
	cr_expect_eq(garbled, 33, "30 with their own 9 or 10, 3 with 35 not third");
	cr_expect_geq(rejected, 9, "14a (0 and -1, three versions) and 14d");
}

/* Scenario 2m as one TCP stream: QuickFIX drops the message with the short BodyLength, and
 * the one with the long BodyLength together with the message after it. */
Test(frame, quickfix_scenario_2m_stream)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/definitions/fix44/2m_BodyLengthValueNotCorrect.def",
		 FIXMUX_QUICKFIX_REF);
	FILE *fh = fopen(path, "r");
	cr_assert_not_null(fh);
	static char stream[16384];
	size_t len = 0;
	char line[4096];
	while (fgets(line, sizeof(line), fh) != NULL) {
		if (line[0] != 'I')
			continue;
		bool explicit;
		len += wire(line + 1, stream + len, sizeof(stream) - len, &explicit);
	}
	fclose(fh);
	/* Seq numbers of the messages the framer delivers, in order. */
	uint64_t seqs[16];
	size_t ns = 0, off = 0;
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	while (off < len) {
		long r = fix_frame(&f, stream + off, len - off, NULL);
		cr_assert_neq(r, 0, "stuck at %zu", off);
		if (r > 0) {
			struct fix_field fl[64];
			struct fix_msg m = {.fields = fl, .cap = 64};
			cr_assert_eq(fix_parse(&m, stream + off, (size_t)r), FIX_OK);
			cr_assert_lt(ns, 16);
			seqs[ns++] = m.hdr.seq;
			off += (size_t)r;
		} else {
			off += (size_t)-r;
		}
	}
	/* Logon 1; [34=2 short, dropped]; 3; 2 (resent); [34=4 long + 34=5, dropped]; 4; 5;
	 * Logout 7. */
	uint64_t want[] = {1, 3, 2, 4, 5, 7};
	cr_assert_eq(ns, sizeof(want) / sizeof(want[0]), "%zu messages", ns);
	for (size_t i = 0; i < ns; i++)
		cr_expect_eq(seqs[i], want[i], "message %zu", i);
}

Test(frame, reset_forgets_a_partial_message)
{
	char m[512];
	size_t n = build(m, NOS);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	cr_assert_eq(fix_frame(&f, m, 40, NULL), 0);
	cr_assert_eq(f.want, n, "header read, length remembered");
	/* The caller drops its buffer; the next bytes are a different, shorter message. */
	fix_framer_reset(&f);
	cr_expect_eq(f.want, 0);
	cr_expect_eq(f.max_msg, 4096);
	char hb[256];
	size_t k = build(hb, "8=FIX.4.4|35=0|34=3|49=TW44|56=ISLD|");
	cr_expect_eq(fix_frame(&f, hb, k, NULL), (long)k);
}

Test(frame, begin_string_of_any_length_ends_at_its_first_soh)
{
	/* Short and long BeginStrings (the framer leaves the version to the session layer). */
	const char *specs[] = {"8=FIX.4|35=0|34=1|", "8=FIX|35=0|34=1|", "8=FIX.5.0SP2|35=0|34=1|",
			       "8=FIXT.1.1|35=0|34=1|", "8=FIX.4.2|35=0|34=1|"};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		char m[256];
		size_t n = build(m, specs[i]);
		struct fix_framer f;
		fix_framer_init(&f, 4096);
		cr_expect_eq(fix_frame(&f, m, n, NULL), (long)n, "%s", specs[i]);
	}
	/* An SOH at 7 ends BeginString even though byte 9 is an SOH too. */
	char bad[] = "8=FIX.4|9|35=0|10=000|";
	tsoh(bad);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	cr_expect_lt(fix_frame(&f, bad, strlen(bad), &err), 0);
	cr_expect_eq(err, FIX_E_BAD_BODY_LENGTH);
}
