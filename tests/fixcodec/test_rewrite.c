/* Header rewrite for forwarding: the body never moves, the result frames and parses with a
 * correct checksum, too little headroom writes nothing. */
#include <criterion/criterion.h>
#include <string.h>

#include "fix_encode.h"
#include "guard.h"

#define T0 (1795693771LL * 1000000000) /* 2026-11-26 11:49:31 UTC */
#define SLACK 64                          /* canary bytes in front of the headroom */

static const char *const begin[] = {"FIX.4.2", "FIX.4.4", "FIXT.1.1"};

struct placed {
	struct guard g;
	char *msg;      /* the message; headroom bytes before it, a guard page after it */
	size_t len;
	char *lo;       /* first canary byte */
	struct fix_field f[64];
	struct fix_msg m;
};

/* Builds spec, places it before a guard page with headroom (+ SLACK canary bytes in front)
 * and parses it. */
static void place(struct placed *pl, const char *spec, size_t headroom)
{
	char tmp[2048];
	size_t n = tmsg_build(tmp, sizeof(tmp), spec);
	cr_assert_gt(n, 0);
	pl->msg = guard_place_room(&pl->g, tmp, n, headroom + SLACK);
	cr_assert_not_null(pl->msg);
	pl->len = n;
	pl->lo = pl->msg - headroom - SLACK;
	memset(pl->lo, 0xa5, headroom + SLACK);
	pl->m.fields = pl->f;
	pl->m.cap = 64;
	cr_assert_eq(fix_parse(&pl->m, pl->msg, n), FIX_OK);
}

static bool canary_intact(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] != 0xa5)
			return false;
	return true;
}

static bool val_is(const struct fix_msg *m, uint32_t tag, const char *v, size_t len)
{
	const struct fix_field *f = fix_find(m, tag, 0);
	return f != NULL && f->len == len && memcmp(f->val, v, len) == 0;
}

#define STR(s) ((struct fix_str){(s), sizeof(s) - 1})

static void check_forward(enum fix_version in, enum fix_version outv, bool poss_dup, bool route)
{
	char spec[512];
	snprintf(spec, sizeof(spec),
		 "8=%s|35=D|34=17|49=CLIENT01|52=20261126-11:49:30.000|56=LMAX.Orders|"
		 "11=ORD-1|21=1|38=100|40=2|44=1.08345|54=1|55=EUR/USD|95=5|96=a|b|c|"
		 "60=20261126-11:49:30|",
		 begin[in - 1]);
	struct placed pl;
	place(&pl, spec, FIX_MAX_REWRITE_HEADER);
	const char *body = pl.msg + pl.m.hdr.body_off;
	size_t body_len = pl.m.hdr.trailer_off - pl.m.hdr.body_off;
	char copy[512];
	memcpy(copy, body, body_len);
	const char *clordid = fix_find(&pl.m, 11, 0)->val;
	const char *raw = fix_find(&pl.m, 96, 0)->val;

	struct fix_time_cache tc;
	fix_time_cache_init(&tc);
	struct fix_out_header h = {
		.ver = outv,
		.msg_type = "D",
		.sender = STR("FIXMUX"),
		.target = STR("LMAX"),
		.seq = 123456789,
		.sending_time_ns = T0 + 250000000,
		.precision = FIX_TIME_MS,
		.poss_dup = poss_dup,
		.orig_sending_time_ns = T0 - 1000000000,
		.tc = &tc,
	};
	if (route) {
		h.on_behalf_of = STR("CLIENT01");
		h.deliver_to = STR("DESK7");
	}
	char *out = NULL;
	size_t out_len = 0;
	int rc = fix_rewrite(&pl.m, &h, FIX_MAX_REWRITE_HEADER, &out, &out_len);
	cr_assert_eq(rc, FIX_OK, "%s", fix_strerror(rc));

	/* The body did not move and was not touched. */
	cr_expect_eq(memcmp(body, copy, body_len), 0);
	cr_expect(out < body && out >= pl.msg - FIX_MAX_REWRITE_HEADER);
	cr_expect(canary_intact(pl.lo, SLACK), "nothing written before the headroom");

	/* The result frames (checksum verified) and parses to the new header, the same body. */
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	int err;
	cr_assert_eq(fix_frame(&f, out, out_len, &err), (long)out_len, "%s", fix_strerror(err));
	struct fix_field nf[64];
	struct fix_msg nm = {.fields = nf, .cap = 64};
	cr_assert_eq(fix_parse(&nm, out, out_len), FIX_OK);
	cr_expect_eq(out + nm.hdr.body_off, body, "body at the same address");
	cr_expect_eq(nm.hdr.body_sum, pl.m.hdr.body_sum);
	cr_expect_eq(fix_find(&nm, 11, 0)->val, clordid, "field pointers unchanged");
	cr_expect_eq(fix_find(&nm, 96, 0)->val, raw);
	cr_expect_eq(fix_find(&nm, 96, 0)->len, 5);
	cr_expect_eq(nm.hdr.ver, outv);
	cr_expect_str_eq(nm.hdr.msg_type, "D");
	cr_expect_eq(nm.hdr.seq, 123456789);
	cr_expect(val_is(&nm, 49, "FIXMUX", 6));
	cr_expect(val_is(&nm, 56, "LMAX", 4));
	cr_expect(val_is(&nm, 52, "20261126-11:49:31.250", 21));
	cr_expect_eq(nm.hdr.poss_dup, poss_dup);
	if (poss_dup)
		cr_expect(val_is(&nm, 122, "20261126-11:49:30.000", 21));
	else
		cr_expect_null(fix_find(&nm, 122, 0));
	if (route) {
		cr_expect(val_is(&nm, 115, "CLIENT01", 8));
		cr_expect(val_is(&nm, 128, "DESK7", 5));
	} else {
		cr_expect_eq(nm.hdr.i_on_behalf_of, -1);
		cr_expect_eq(nm.hdr.i_deliver_to, -1);
	}
	cr_expect_eq(nm.dup_tag, 0);
	guard_free(&pl.g);
}

Test(rewrite, every_version_pair_and_option)
{
	for (int in = 1; in <= 3; in++)
		for (int o = 1; o <= 3; o++)
			for (int pd = 0; pd < 2; pd++)
				for (int r = 0; r < 2; r++)
					check_forward((enum fix_version)in, (enum fix_version)o, pd, r);
}

static struct fix_out_header simple_header(void)
{
	return (struct fix_out_header){
		.ver = FIX_VER_44,
		.msg_type = "8",
		.sender = STR("VENUE"),
		.target = STR("USER1"),
		.seq = 5,
		.sending_time_ns = T0,
		.precision = FIX_TIME_US,
	};
}

#define ER "8=FIX.4.4|35=8|34=9|49=LMAX|52=20261126-11:49:31|56=FIXMUX|37=O1|11=ORD-1|" \
	   "17=E1|150=0|39=0|55=EUR/USD|54=1|151=100|14=0|6=0|"

Test(rewrite, exact_headroom_ok_one_less_writes_nothing)
{
	struct fix_out_header h = simple_header();
	/* Measure what this header needs. */
	struct placed pl;
	place(&pl, ER, FIX_MAX_REWRITE_HEADER);
	char *out;
	size_t out_len;
	cr_assert_eq(fix_rewrite(&pl.m, &h, FIX_MAX_REWRITE_HEADER, &out, &out_len), FIX_OK);
	size_t hlen = (size_t)(pl.msg + pl.m.hdr.body_off - out);
	size_t need = hlen > pl.m.hdr.body_off ? hlen - pl.m.hdr.body_off : 0;
	guard_free(&pl.g);
	cr_assert_gt(need, 0, "a longer header than the original needs headroom");

	place(&pl, ER, need);
	cr_expect_eq(fix_rewrite(&pl.m, &h, need, &out, &out_len), FIX_OK);
	cr_expect_eq(out, pl.msg - need, "starts exactly at the headroom's first byte");
	cr_expect(canary_intact(pl.lo, SLACK));
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	cr_expect_eq(fix_frame(&f, out, out_len, NULL), (long)out_len);
	guard_free(&pl.g);

	place(&pl, ER, need - 1);
	char before[4096];
	size_t span = SLACK + need - 1 + pl.len;
	memcpy(before, pl.lo, span);
	out = NULL;
	out_len = 0;
	cr_expect_eq(fix_rewrite(&pl.m, &h, need - 1, &out, &out_len), FIX_E_NO_ROOM);
	cr_expect_eq(memcmp(before, pl.lo, span), 0, "nothing written at all");
	cr_expect_null(out);
	cr_expect_eq(out_len, 0);
	guard_free(&pl.g);
}

Test(rewrite, shorter_header_needs_no_headroom)
{
	struct placed pl;
	place(&pl, "8=FIXT.1.1|35=8|34=9|49=A-LONG-SENDER-COMP-ID|52=20261126-11:49:31.123456|"
		   "56=A-LONG-TARGET-COMP-ID|1128=9|37=O1|11=X|", 0);
	struct fix_out_header h = simple_header();
	char *out;
	size_t out_len;
	cr_expect_eq(fix_rewrite(&pl.m, &h, 0, &out, &out_len), FIX_OK);
	cr_expect(out > pl.msg, "the new header starts inside the old one");
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	cr_expect_eq(fix_frame(&f, out, out_len, NULL), (long)out_len);
	guard_free(&pl.g);
}

Test(rewrite, strings_may_point_into_the_old_header)
{
	struct placed pl;
	place(&pl, ER, 0);
	/* Swap the CompIDs, taking them from the message being overwritten. */
	const struct fix_field *s = &pl.m.fields[pl.m.hdr.i_sender];
	const struct fix_field *t = &pl.m.fields[pl.m.hdr.i_target];
	struct fix_out_header h = simple_header();
	h.sender = (struct fix_str){t->val, t->len};
	h.target = (struct fix_str){s->val, s->len};
	h.ver = FIX_VER_44;
	h.precision = FIX_TIME_S;
	char *out;
	size_t out_len;
	cr_assert_eq(fix_rewrite(&pl.m, &h, 0, &out, &out_len), FIX_OK);
	struct fix_field nf[64];
	struct fix_msg nm = {.fields = nf, .cap = 64};
	cr_assert_eq(fix_parse(&nm, out, out_len), FIX_OK);
	cr_expect(val_is(&nm, 49, "FIXMUX", 6));
	cr_expect(val_is(&nm, 56, "LMAX", 4));
	guard_free(&pl.g);
}

Test(rewrite, strings_near_the_new_header_or_in_the_body)
{
	/* Strings just before where the new header goes (in the headroom) are taken as
	 * possibly overlapping and go the safe way; strings inside the body (which is not
	 * written) go the direct way. Either way the header is right and the strings are
	 * not clobbered. */
	struct placed pl;
	place(&pl, ER, FIX_MAX_REWRITE_HEADER);
	char *room = pl.msg - FIX_MAX_REWRITE_HEADER;
	memcpy(room, "FIXMUX", 6);
	const struct fix_field *acct = fix_find(&pl.m, 55, 0); /* in the body */
	cr_assert_not_null(acct);
	struct fix_out_header h = simple_header();
	h.sender = (struct fix_str){room, 6};
	h.on_behalf_of = (struct fix_str){acct->val, acct->len};
	h.ver = FIX_VER_44;
	char *out;
	size_t out_len;
	cr_assert_eq(fix_rewrite(&pl.m, &h, FIX_MAX_REWRITE_HEADER, &out, &out_len), FIX_OK);
	cr_assert(out > room + 6, "the header did not reach the string before it");
	cr_assert_eq(memcmp(room, "FIXMUX", 6), 0);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	cr_assert_eq(fix_frame(&f, out, out_len, NULL), (long)out_len);
	struct fix_field nf[64];
	struct fix_msg nm = {.fields = nf, .cap = 64};
	cr_assert_eq(fix_parse(&nm, out, out_len), FIX_OK);
	cr_expect(val_is(&nm, 49, "FIXMUX", 6));
	cr_expect(val_is(&nm, 115, acct->val, acct->len));
	guard_free(&pl.g);
}

Test(rewrite, extra_header_fields_and_signature_dropped)
{
	struct placed pl;
	place(&pl, "8=FIX.4.4|35=8|34=9|49=LMAX|56=FIXMUX|37=O1|11=X|93=3|89=s|g|", 128);
	struct fix_out_header h = simple_header();
	h.ver = FIX_VER_T11;
	h.extra = STR("1128=9\00150=DESK1\001");
	char *out;
	size_t out_len;
	cr_assert_eq(fix_rewrite(&pl.m, &h, 128, &out, &out_len), FIX_OK);
	struct fix_framer f;
	fix_framer_init(&f, 4096);
	cr_assert_eq(fix_frame(&f, out, out_len, NULL), (long)out_len);
	struct fix_field nf[64];
	struct fix_msg nm = {.fields = nf, .cap = 64};
	cr_assert_eq(fix_parse(&nm, out, out_len), FIX_OK);
	cr_expect(val_is(&nm, 1128, "9", 1));
	cr_expect(val_is(&nm, 50, "DESK1", 5));
	cr_expect_geq(nm.hdr.i_appl_ver, 0);
	cr_expect_null(fix_find(&nm, 89, 0), "signature dropped");
	cr_expect_null(fix_find(&nm, 93, 0));
	cr_expect(val_is(&nm, 11, "X", 1));
	guard_free(&pl.g);
}

Test(rewrite, errors_write_nothing)
{
	struct placed pl;
	place(&pl, ER, FIX_MAX_REWRITE_HEADER);
	char before[4096];
	size_t span = SLACK + FIX_MAX_REWRITE_HEADER + pl.len;
	memcpy(before, pl.lo, span);
	char *out = NULL;
	size_t out_len = 0;
	struct fix_out_header h = simple_header();
	h.ver = FIX_VER_UNKNOWN;
	cr_expect_eq(fix_rewrite(&pl.m, &h, FIX_MAX_REWRITE_HEADER, &out, &out_len),
		     FIX_E_BAD_BEGIN);
	h = simple_header();
	h.msg_type = NULL;
	cr_expect_eq(fix_rewrite(&pl.m, &h, FIX_MAX_REWRITE_HEADER, &out, &out_len), FIX_E_FORMAT);
	h = simple_header();
	static char huge[600];
	memset(huge, 'S', sizeof(huge));
	h.sender = (struct fix_str){huge, sizeof(huge)};
	cr_expect_eq(fix_rewrite(&pl.m, &h, FIX_MAX_REWRITE_HEADER, &out, &out_len),
		     FIX_E_NO_ROOM, "header above FIX_MAX_REWRITE_HEADER");
	cr_expect_eq(memcmp(before, pl.lo, span), 0);
	cr_expect_null(out);
	guard_free(&pl.g);
}

/* The rewrite writes MsgSeqNum and BodyLength with straight-line code up to 4 digits and a
 * loop beyond, and SendingTime from the time cache's second (milliseconds) or through
 * fix_format_utc (other precisions, a new second, a new day): every digit count, precision
 * and cache state gives the exact text, and the checksum is right. */
Test(rewrite, every_number_length_precision_and_cache_state)
{
	static const enum fix_time_precision prec[] = { FIX_TIME_S, FIX_TIME_MS, FIX_TIME_US,
							FIX_TIME_NS };
	static const int64_t times[] = {
		T0,                          /* whole second */
		T0 + 7000000,                /* same second: the cached-second path */
		T0 + 999999999,              /* last nanosecond of it */
		T0 + 1000000000,             /* next second: the cache refreshes */
		(T0 / 86400000000000LL + 1) * 86400000000000LL - 1, /* 23:59:59.999999999 */
		(T0 / 86400000000000LL + 1) * 86400000000000LL,     /* next day */
	};
	struct fix_time_cache tc;
	fix_time_cache_init(&tc);
	uint64_t seq = 0;
	for (int digits = 1; digits <= 20; digits++) {
		seq = digits == 1 ? 7 : digits == 20 ? UINT64_MAX : seq * 10 + (uint64_t)(digits % 10);
		for (size_t p = 0; p < sizeof(prec) / sizeof(prec[0]); p++)
			for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
				/* A filler in the body moves BodyLength through 2 to 4 digits. */
				char spec[2048];
				int fill = (int)((digits * 97 + t * 31) % 1200);
				snprintf(spec, sizeof(spec),
					 "8=FIX.4.4|35=D|34=1|49=A|52=20261126-11:49:30|56=B|58=%0*d|",
					 fill ? fill : 1, 0);
				struct placed pl;
				place(&pl, spec, FIX_MAX_REWRITE_HEADER);
				struct fix_out_header h = {
					.ver = FIX_VER_44, .msg_type = "D", .sender = STR("FIXMUX"),
					.target = STR("LMAX"), .seq = seq,
					.sending_time_ns = times[t], .precision = prec[p], .tc = &tc,
				};
				char *out;
				size_t out_len;
				cr_assert_eq(fix_rewrite(&pl.m, &h, FIX_MAX_REWRITE_HEADER, &out,
							 &out_len), FIX_OK);
				struct fix_framer f;
				fix_framer_init(&f, 4096);
				int err;
				cr_assert_eq(fix_frame(&f, out, out_len, &err), (long)out_len,
					     "seq %llu prec %d time %zu: %s",
					     (unsigned long long)seq, prec[p], t, fix_strerror(err));
				struct fix_field nf[64];
				struct fix_msg nm = { .fields = nf, .cap = 64 };
				cr_assert_eq(fix_parse(&nm, out, out_len), FIX_OK);
				cr_assert_eq(nm.hdr.seq, seq);
				char want[32], seqtxt[24];
				struct fix_time_cache fresh;
				fix_time_cache_init(&fresh);
				size_t wl = fix_format_utc(&fresh, times[t], prec[p], want);
				cr_assert(val_is(&nm, 52, want, wl), "seq %llu prec %d time %zu",
					  (unsigned long long)seq, prec[p], t);
				snprintf(seqtxt, sizeof(seqtxt), "%llu", (unsigned long long)seq);
				cr_assert(val_is(&nm, 34, seqtxt, strlen(seqtxt)));
				guard_free(&pl.g);
			}
	}
}

/* The rewrite adds the header's checksum up from the strings it copies (by the words that
 * move them: 1-3, 4-7, 8-16 and longer strings take different paths): CompIDs and routing
 * IDs of every length from 1 to 40, with PossDupFlag, still give a correct checksum. */
Test(rewrite, every_string_length_keeps_the_checksum_right)
{
	static const char ids[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct fix_time_cache tc;
	fix_time_cache_init(&tc);
	for (size_t n = 1; n <= 40; n++) {
		struct placed pl;
		place(&pl, ER, FIX_MAX_REWRITE_HEADER);
		struct fix_out_header h = simple_header();
		h.ver = (enum fix_version)(1 + n % 3);
		h.sender = (struct fix_str){ids, n};
		h.target = (struct fix_str){ids + 41 - n, n};
		h.on_behalf_of = (struct fix_str){ids + 3, n};
		h.deliver_to = (struct fix_str){ids + 7, (n * 7) % 40 + 1};
		h.poss_dup = n & 1;
		h.orig_sending_time_ns = T0 - 1000000;
		h.precision = (enum fix_time_precision)(3 * (n % 4));
		h.tc = &tc;
		char *out;
		size_t out_len;
		cr_assert_eq(fix_rewrite(&pl.m, &h, FIX_MAX_REWRITE_HEADER, &out, &out_len), FIX_OK);
		struct fix_framer f;
		fix_framer_init(&f, 4096);
		int err;
		cr_assert_eq(fix_frame(&f, out, out_len, &err), (long)out_len, "length %zu: %s", n,
			     fix_strerror(err));
		struct fix_field nf[64];
		struct fix_msg nm = {.fields = nf, .cap = 64};
		cr_assert_eq(fix_parse(&nm, out, out_len), FIX_OK);
		cr_expect(val_is(&nm, 49, ids, n));
		cr_expect(val_is(&nm, 56, ids + 41 - n, n));
		cr_expect(val_is(&nm, 115, ids + 3, n));
		cr_expect_eq(nm.hdr.poss_dup, (n & 1) != 0);
		guard_free(&pl.g);
	}
}
