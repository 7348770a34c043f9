/* fix_parse's fast path against the reference parser (fix_parse_ref): the same result, field
 * index, header struct, body bounds and sum, repeats and errors for every input, whichever
 * path takes it. Inputs: ordinary and odd messages, every alignment of fields across the
 * 16- and 64-byte blocks of the SOH scan, every message length before a guard page, every
 * truncation, every single-byte mutation, every field-index capacity. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "../../fixcodec/fix_codec_pvt.h"
#include "guard.h"

#define CAP 512

static struct fix_field ff[CAP], rf[CAP];

/* Parses buf[0, len) with both parsers (field index capacity cap) and asserts they agree on
 * everything a caller can see. Returns fix_parse's result. */
static int agree(const char *buf, size_t len, uint32_t cap, const char *what)
{
	struct fix_msg a = { .fields = ff, .cap = cap }, b = { .fields = rf, .cap = cap };
	memset(ff, 0x5a, sizeof(ff));
	memset(rf, 0xa5, sizeof(rf));
	int ra = fix_parse(&a, buf, len);
	int rb = fix_parse_ref(&b, buf, len);
	cr_assert_eq(ra, rb, "%s: fix_parse %d (%s), reference %d (%s)", what, ra,
		     fix_strerror(ra), rb, fix_strerror(rb));
	cr_assert_eq(a.nfields, b.nfields, "%s: %u fields, reference %u", what, a.nfields,
		     b.nfields);
	cr_assert(a.buf == b.buf && a.len == b.len, "%s: buf/len", what);
	cr_assert_eq(a.err_tag, b.err_tag, "%s: err_tag %u, reference %u", what, a.err_tag,
		     b.err_tag);
	cr_assert_eq(a.dup_tag, b.dup_tag, "%s: dup_tag %u, reference %u", what, a.dup_tag,
		     b.dup_tag);
	for (uint32_t i = 0; i < a.nfields && i < cap; i++)
		cr_assert(ff[i].tag == rf[i].tag && ff[i].val == rf[i].val && ff[i].len == rf[i].len,
			  "%s: field %u: %u/%u/%p, reference %u/%u/%p", what, i, ff[i].tag,
			  ff[i].len, (const void *)ff[i].val, rf[i].tag, rf[i].len,
			  (const void *)rf[i].val);
	const struct fix_header *x = &a.hdr, *y = &b.hdr;
	cr_assert(x->ver == y->ver && memcmp(x->msg_type, y->msg_type, 4) == 0 &&
		  x->msg_type_len == y->msg_type_len && x->poss_dup == y->poss_dup &&
		  x->poss_resend == y->poss_resend && x->seq == y->seq && x->seq_err == y->seq_err,
		  "%s: header values", what);
	cr_assert(x->i_sender == y->i_sender && x->i_target == y->i_target &&
		  x->i_sending_time == y->i_sending_time &&
		  x->i_orig_sending_time == y->i_orig_sending_time &&
		  x->i_on_behalf_of == y->i_on_behalf_of && x->i_deliver_to == y->i_deliver_to &&
		  x->i_appl_ver == y->i_appl_ver, "%s: header indexes", what);
	cr_assert(x->body_length == y->body_length && x->body_off == y->body_off &&
		  x->trailer_off == y->trailer_off && x->body_sum == y->body_sum &&
		  x->n_header == y->n_header,
		  "%s: body: length %u/%u off %u/%u trailer %u/%u sum %u/%u n_header %d/%d", what,
		  x->body_length, y->body_length, x->body_off, y->body_off, x->trailer_off,
		  y->trailer_off, x->body_sum, y->body_sum, x->n_header, y->n_header);
	return ra;
}

static char buf[8192];

static size_t build(const char *spec)
{
	size_t n = tmsg_build(buf, sizeof(buf), spec);
	cr_assert_gt(n, 0, "spec too long: %s", spec);
	return n;
}

#define HDR "8=FIX.4.4|35=D|49=ALICE|56=LMAX.Orders|34=12345|52=20261126-12:00:00.123|"
#define NOS HDR "11=ORD-1|1=ACC0042|21=1|55=EUR/USD|54=1|60=20261126-12:00:00.120|" \
	    "38=1000000|40=2|44=1.08525|59=0|100=XLON|58=rebalance desk 3|"

/* Messages each path must take the same way: the first ones are fast-path material, the
 * others make it give up at various points. */
static const char *const specs[] = {
	NOS,
	"8=FIX.4.2|35=0|49=A|56=B|34=1|52=20261126-12:00:00|",              /* no body */
	"8=FIXT.1.1|35=D|1128=9|49=A|56=B|34=7|52=20261126-12:00:00|11=X|", /* big header tag */
	HDR "5001=a|5002=b|5003=c|12345=d|1234567=e|",                       /* big user tags */
	HDR "269=0|270=1.1|269=1|270=1.2|269=2|270=1.3|",                    /* repeats */
	HDR "11=a|49=BOB|34=99|11=b|",                                       /* header tags late */
	HDR "11=a|10=123|55=X|",                                             /* 10 in the body */
	HDR "11=a|95=5|96=ab\001cd|55=X|",                                   /* data with SOH */
	HDR "11=a|93=3|89=sig|",                                             /* signature */
	HDR "011=a|55=X|",                                                   /* leading zero */
	HDR "0=a|55=X|",                                                     /* tag 0 */
	HDR "-5=a|55=X|",                                                    /* negative tag */
	HDR "12345678=a|55=X|",                                              /* 8-digit tag */
	HDR "1234567890=a|55=X|",                                            /* 10 digits */
	HDR "99999999999=a|55=X|",                                           /* overflow */
	HDR "11=|55=X|",                                                     /* empty value */
	HDR "11a=x|55=X|",                                                   /* not digits */
	HDR "novalue|55=X|",                                                 /* no '=' */
	HDR "||55=X|",                                                       /* empty field */
	HDR "=x|55=X|",                                                      /* no tag */
	HDR "58=a=b==c|55=X=Y|",                                             /* '=' in values */
	"8=FIX.4.4|35=D|34=abc|43=Y|97=Y|49=A|56=B|52=x|122=y|115=C|128=D|11=X|",
	"8=FIX.4.4|35=ABCD|49=A|11=X|",                                      /* long MsgType */
	"8=FIX.4.4|49=A|35=D|11=X|",                                         /* 35 not third */
	"9=5|8=FIX.4.4|35=D|11=X|",
};

Test(parse_fast, agrees_with_the_reference_on_ordinary_and_odd_messages)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		size_t n = build(specs[i]);
		agree(buf, n, CAP, specs[i]);
	}
	/* More distinct tags of 1024 and up than the fast path's list holds. */
	char spec[4096] = HDR;
	for (int t = 0; t < 40; t++)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), "%d=v|", 5000 + t);
	snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), "5003=again|");
	size_t n = build(spec);
	cr_assert_eq(agree(buf, n, CAP, "41 big tags"), FIX_OK);
	struct fix_msg m = { .fields = ff, .cap = CAP };
	cr_assert_eq(fix_parse(&m, buf, n), FIX_OK);
	cr_assert_eq(m.dup_tag, 5003);
}

Test(parse_fast, takes_ordinary_messages_right)
{
	/* What the fast path produces, checked on its own terms (not only against the
	 * reference). */
	size_t n = build(NOS);
	struct fix_msg m = { .fields = ff, .cap = CAP };
	cr_assert_eq(fix_parse(&m, buf, n), FIX_OK);
	cr_assert_eq(m.nfields, 20);
	cr_assert_eq(m.hdr.ver, FIX_VER_44);
	cr_assert_str_eq(m.hdr.msg_type, "D");
	cr_assert_eq(m.hdr.seq, 12345);
	cr_assert_eq(m.hdr.n_header, 7);
	cr_assert_eq(ff[m.hdr.i_target].len, 11);
	cr_assert_eq(memcmp(ff[m.hdr.i_target].val, "LMAX.Orders", 11), 0);
	cr_assert_eq(ff[7].tag, 11);
	cr_assert_eq(m.hdr.body_off, (uint32_t)(ff[7].val - 3 - buf));
	cr_assert_eq(m.hdr.trailer_off, n - 7);
	cr_assert_eq(m.hdr.body_sum, fix_sum(buf + m.hdr.body_off, n - 7 - m.hdr.body_off));
	cr_assert_eq(m.dup_tag, 0);
	cr_assert_eq(ff[19].tag, 10);
	cr_assert_eq(ff[19].len, 3);
}

Test(parse_fast, fields_straddle_every_block_boundary)
{
	/* A filler value of 1 to 140 bytes shifts every later field by one byte at a time, so
	 * each field's tag, '=' and SOH fall on every offset of the 16- and 64-byte blocks. The
	 * message also starts at every offset of a 64-byte line. */
	static char spec[1024], moved[2048];
	for (int k = 1; k <= 140; k++) {
		snprintf(spec, sizeof(spec), HDR "58=%.*s|" "11=ORD-1|1=A|55=EUR/USD|54=1|"
			 "38=100|40=2|44=1.5|59=0|100=XLON|269=0|269=1|",
			 k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
		size_t n = build(spec);
		for (size_t off = 0; off < 64; off++) {
			memcpy(moved + off, buf, n);
			char what[64];
			snprintf(what, sizeof(what), "filler %d, offset %zu", k, off);
			cr_assert_eq(agree(moved + off, n, CAP, what), FIX_OK, "%s", what);
			struct fix_msg m = { .fields = ff, .cap = CAP };
			cr_assert_eq(fix_parse(&m, moved + off, n), FIX_OK);
			cr_assert_eq(m.nfields, 7 + 1 + 11 + 1);
			cr_assert_eq(m.dup_tag, 269);
			cr_assert_eq(ff[7].tag, 58);
			cr_assert_eq(ff[7].len, (uint32_t)k);
		}
	}
}

Test(parse_fast, every_length_right_before_a_guard_page)
{
	/* Messages from the shortest the fast path takes up to several blocks, each ending
	 * exactly at an unreadable page: no read may cross it. */
	static char spec[1024];
	for (int k = 0; k <= 200; k++) {
		snprintf(spec, sizeof(spec), "8=FIX.4.4|35=0|%s%.*s|", k ? "58=" : "",
			 k ? k : 0, "0123456789012345678901234567890123456789012345678901234567890123"
				   "4567890123456789012345678901234567890123456789012345678901234567"
				   "8901234567890123456789012345678901234567890123456789012345678901"
				   "2345678901234567");
		if (k == 0)
			snprintf(spec, sizeof(spec), "8=FIX.4.4|35=0|");
		size_t n = build(spec);
		struct guard g;
		char *p = guard_place(&g, buf, n);
		cr_assert_not_null(p);
		char what[32];
		snprintf(what, sizeof(what), "length %zu", n);
		cr_assert_eq(agree(p, n, CAP, what), FIX_OK, "%s", what);
		/* And every truncation of it, still ending at the guard page. */
		for (size_t cut = 1; cut < n; cut++) {
			struct guard t;
			char *q = guard_place(&t, buf, cut);
			cr_assert_not_null(q);
			agree(q, cut, CAP, "truncated");
			guard_free(&t);
		}
		guard_free(&g);
	}
}

Test(parse_fast, every_single_byte_mutation)
{
	static const char bytes[] = { '\001', '=', '0', '1', '9', 'a', '-', '\0', (char)0xff };
	static char mutated[1024];
	size_t n = build(NOS "269=0|269=1|");
	for (size_t i = 0; i < n; i++)
		for (size_t b = 0; b < sizeof(bytes); b++) {
			memcpy(mutated, buf, n);
			mutated[i] = bytes[b];
			char what[48];
			snprintf(what, sizeof(what), "byte %zu = 0x%02x", i, (unsigned char)bytes[b]);
			agree(mutated, n, CAP, what);
		}
}

Test(parse_fast, every_field_index_capacity)
{
	size_t n = build(NOS "269=0|269=1|");
	for (uint32_t cap = 0; cap <= 30; cap++) {
		char what[32];
		snprintf(what, sizeof(what), "cap %u", cap);
		int rc = agree(buf, n, cap, what);
		cr_assert_eq(rc, cap >= 22 ? FIX_OK : FIX_E_TOO_MANY_FIELDS, "%s: %d", what, rc);
	}
}

Test(parse_fast, random_messages_from_fix_tokens)
{
	/* Messages assembled from FIX-looking pieces (valid and broken tags, values with '=',
	 * SOH in odd places, data fields) with a fixed seed: both paths must agree on each. */
	static const char *const pieces[] = {
		"11=A|", "55=EUR/USD|", "269=0|", "270=1.5|", "49=X|", "34=7|", "1128=9|",
		"5000=u|", "95=3|96=a|b|", "95=9|96=a|", "0=z|", "=|", "|", "58=a=b|", "10=000|",
		"123456=q|", "43=Y|", "97=N|", "52=20261126-12:00:00|", "x=1|", "44=|", "93=2|89=s|",
	};
	static char spec[4096];
	srand(42);
	for (int r = 0; r < 3000; r++) {
		snprintf(spec, sizeof(spec), "8=FIX.4.4|35=D|");
		int k = rand() % 30;
		for (int i = 0; i < k; i++) {
			size_t l = strlen(spec);
			snprintf(spec + l, sizeof(spec) - l, "%s",
				 pieces[rand() % (sizeof(pieces) / sizeof(pieces[0]))]);
		}
		size_t n = tmsg_build(buf, sizeof(buf), spec);
		cr_assert_gt(n, 0);
		agree(buf, n, (uint32_t)(rand() % 40), spec);
	}
}

Test(parse_fast, special_bits_match_the_tag_class_table)
{
	for (uint32_t t = 0; t < FIX_TC_SMALL; t++) {
		bool special = (fix_tag_special_bits[t & 15] >> (t >> 4)) & 1;
		cr_assert_eq(special, fix_tag_class_small[t] != 0, "tag %u", t);
	}
}

Test(parse_fast, byte_sum_matches_a_byte_loop_for_every_length_and_alignment)
{
	/* fix_sum (PSADBW, 32 bytes per step, a masked last chunk) gives the body sum and the
	 * framer's checksum; here against a plain loop, every length up to 300 at 32
	 * alignments, each ending right before a guard page. */
	static unsigned char src[400];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 151 + 7);
	for (size_t len = 0; len <= 300; len++)
		for (size_t off = 0; off < 32; off++) {
			struct guard g;
			char *p = guard_place(&g, src + off, len);
			cr_assert(p != NULL || len == 0);
			uint32_t want = 0;
			for (size_t i = 0; i < len; i++)
				want += src[off + i];
			cr_assert_eq(fix_sum(p, len), want, "len %zu off %zu", len, off);
			guard_free(&g);
		}
}

/* Filler for shifting the fields after it across the 64-byte blocks one byte at a time. */
static const char filler[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

Test(parse_fast, equals_signs_inside_values_at_every_block_offset)
{
	/* FIX values may hold '=': the field's tag ends at the first '=' after its start and
	 * the value runs to the SOH, '=' included. Runs of 1 to 70 '=' (longer than a block),
	 * a value that is only '=', that starts or ends with '=', shifted over every offset of
	 * the 64-byte blocks; each must parse, and the same way on both paths. */
	static char spec[1024], run[80];
	static const int runs[] = { 1, 2, 3, 15, 16, 17, 63, 64, 65, 70 };
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		memset(run, '=', (size_t)runs[r]);
		run[runs[r]] = '\0';
		for (int k = 1; k <= 129; k++) {
			snprintf(spec, sizeof(spec),
				 HDR "58=%.*s|" "11=%s|55==X|1=a=|44=1.5|100=%sq|59=0|", k, filler,
				 run, run);
			size_t n = build(spec);
			char what[48];
			snprintf(what, sizeof(what), "run %d, filler %d", runs[r], k);
			cr_assert_eq(agree(buf, n, CAP, what), FIX_OK, "%s", what);
			struct fix_msg m = { .fields = ff, .cap = CAP };
			cr_assert_eq(fix_parse(&m, buf, n), FIX_OK);
			cr_assert_eq(m.nfields, 7 + 7 + 1, "%s", what);
			cr_assert(ff[8].tag == 11 && ff[8].len == (uint32_t)runs[r] &&
				  memcmp(ff[8].val, run, ff[8].len) == 0, "%s: 11", what);
			cr_assert(ff[9].tag == 55 && ff[9].len == 2 && memcmp(ff[9].val, "=X", 2) == 0,
				  "%s: 55", what);
			cr_assert(ff[10].tag == 1 && ff[10].len == 2 && memcmp(ff[10].val, "a=", 2) == 0,
				  "%s: 1", what);
			cr_assert(ff[11].tag == 44 && ff[11].len == 3, "%s: 44", what);
			cr_assert(ff[12].tag == 100 && ff[12].len == (uint32_t)runs[r] + 1, "%s: 100",
				  what);
			cr_assert_eq(m.dup_tag, 0);
		}
	}
}

Test(parse_fast, fields_without_tag_or_equals_at_every_block_offset)
{
	/* Fields that are only an SOH, only '=', only '=' signs, or a tag with no '=' before
	 * the SOH (while a later field has one), shifted over every offset of the 64-byte
	 * blocks: the message is refused with the same error and err_tag on both paths, and
	 * never taken as well-formed. */
	static const char *const bad[] = {
		"|", "||", "=|", "==|", "===x|", "=5|", "58|", "58|55=X|", "5a=1|", "58=x||",
	};
	static char spec[1024];
	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
		for (int k = 1; k <= 129; k++) {
			snprintf(spec, sizeof(spec), HDR "58=%.*s|11=A|%s55=EUR/USD|", k, filler,
				 bad[b]);
			size_t n = build(spec);
			char what[64];
			snprintf(what, sizeof(what), "\"%s\" after filler %d", bad[b], k);
			int rc = agree(buf, n, CAP, what);
			cr_assert_neq(rc, FIX_OK, "%s", what);
			cr_assert(rc == FIX_E_NO_EQUALS || rc == FIX_E_BAD_TAG, "%s: %s", what,
				  fix_strerror(rc));
		}
}
