/* fixmux-bench-codec: fixcodec on realistic messages (NewOrderSingle ~200 B, ExecutionReport
 * ~300 B, MarketDataIncrementalRefresh with a 4-entry group): frame+parse,
 * frame+parse+validate, encode, header rewrite; and, in the same run, QuickFIX C++ parsing
 * the same bytes with and without its data dictionary. Every workload is checked before it is
 * timed: a benchmark of a wrong result fails instead of printing figures. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "fix_msg.h"
#include "fix_dict.h"
#include "fix_encode.h"
#if BENCH_HAVE_QUICKFIX
#include "bench_quickfix.h"
#endif

#define MAX_FIELDS 128
#define HEADROOM 512

/* A field of a benchmark message: its wire text, and how the encoder writes it. */
struct fspec {
	uint32_t tag;
	char kind; /* s string, c char, u unsigned, d decimal, t UTCTimestamp */
	const char *text;
};

#define S(t, v) { t, 's', v }
#define C(t, v) { t, 'c', v }
#define U(t, v) { t, 'u', v }
#define D(t, v) { t, 'd', v }
#define T(t, v) { t, 't', v }

static const struct fspec nos_fields[] = {
	S(49, "ALICE"), S(56, "LMAX.Orders"), U(34, "12345"), T(52, "20261126-12:00:00.123"),
	S(11, "ORD-20261126-000042"), S(1, "ACC0042"), C(21, "1"), S(55, "EUR/USD"),
	C(54, "1"), T(60, "20261126-12:00:00.120"), D(38, "1000000"), C(40, "2"),
	D(44, "1.08525"), C(59, "0"), S(100, "XLON"), S(58, "rebalance desk 3"),
};

static const struct fspec er_fields[] = {
	S(49, "LMAX.Orders"), S(56, "ALICE"), U(34, "67890"), T(52, "20261126-12:00:00.125"),
	S(37, "OID-7788123456"), S(11, "ORD-20261126-000042"), S(17, "EXE-20261126-0000000123"),
	C(150, "F"), C(39, "1"), S(1, "ACC0042"), S(55, "EUR/USD"), C(54, "1"),
	D(38, "1000000"), C(40, "2"), D(44, "1.08525"), C(59, "0"), D(32, "250000"),
	D(31, "1.08524"), D(151, "750000"), D(14, "250000"), D(6, "1.08524"),
	T(60, "20261126-12:00:00.124"), S(58, "Partial fill on LMAX, 250000 of 1000000"),
};

static const struct fspec md_fields[] = {
	S(49, "LMAX.Pricing"), S(56, "ALICE"), U(34, "4242424"), T(52, "20261126-12:00:00.126"),
	S(262, "MDR-EURUSD-1"), U(268, "4"),
	C(279, "0"), C(269, "0"), S(278, "B1-000981"), S(55, "EUR/USD"), D(270, "1.08520"),
	S(15, "EUR"), D(271, "1000000"), S(273, "12:00:00.120"),
	C(279, "0"), C(269, "1"), S(278, "A1-000982"), S(55, "EUR/USD"), D(270, "1.08530"),
	S(15, "EUR"), D(271, "2000000"), S(273, "12:00:00.120"),
	C(279, "2"), C(269, "0"), S(278, "B1-000975"), S(55, "EUR/USD"), D(270, "1.08510"),
	S(15, "EUR"), D(271, "3000000"), S(273, "12:00:00.121"),
	C(279, "1"), C(269, "1"), S(278, "A1-000977"), S(55, "EUR/USD"), D(270, "1.08535"),
	S(15, "EUR"), D(271, "5000000"), S(273, "12:00:00.121"),
};

struct encval {
	uint64_t u;
	int64_t ns;
	int prec;
	int64_t mant;
	uint8_t scale;
};

struct bmsg {
	const char *name;
	const char *type;
	const struct fspec *f;
	size_t nf;
	char wire[1024];
	size_t len;
	struct encval ev[64];
	/* parse */
	struct fix_framer fr;
	struct fix_msg m;
	struct fix_field fields[MAX_FIELDS];
	/* rewrite: the message at rbuf + HEADROOM, parsed once */
	char rbuf[HEADROOM + 1024];
	struct fix_msg rm;
	struct fix_field rfields[MAX_FIELDS];
	char ebuf[1024];
	bool ok_validate, ok_encode, ok_rewrite, ok_qf[3];
};

static struct bmsg msgs[] = {
	{ .name = "NOS", .type = "D", .f = nos_fields, .nf = sizeof(nos_fields) / sizeof(nos_fields[0]) },
	{ .name = "ExecReport", .type = "8", .f = er_fields, .nf = sizeof(er_fields) / sizeof(er_fields[0]) },
	{ .name = "MDIncRefresh", .type = "X", .f = md_fields, .nf = sizeof(md_fields) / sizeof(md_fields[0]) },
};
#define N_MSGS (sizeof(msgs) / sizeof(msgs[0]))

/* A part that gives a wrong result on one message is reported and left out of the figures;
 * the others still run, and the program exits 1 at the end. */
static unsigned check_failures;

__attribute__((format(printf, 2, 3))) static bool soft_fail(bool *ok, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "BENCHMARK CHECK FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	check_failures++;
	*ok = false;
	return false;
}

/* ---- the reference wire text, built independently of the codec ---- */

static void build_wire(struct bmsg *b)
{
	char body[1024];
	size_t n = (size_t)snprintf(body, sizeof(body), "35=%s\001", b->type);

	for (size_t i = 0; i < b->nf; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%u=%s\001", b->f[i].tag,
				      b->f[i].text);
	int len = snprintf(b->wire, sizeof(b->wire), "8=FIX.4.4\0019=%zu\001%s", n, body);
	unsigned sum = 0;
	for (int k = 0; k < len; k++)
		sum += (unsigned char)b->wire[k];
	len += snprintf(b->wire + len, sizeof(b->wire) - (size_t)len, "10=%03u\001", sum % 256);
	b->len = (size_t)len;
}

static void prepare_values(struct bmsg *b)
{
	for (size_t i = 0; i < b->nf; i++) {
		const char *t = b->f[i].text;
		struct encval *v = &b->ev[i];
		switch (b->f[i].kind) {
		case 'u':
			v->u = strtoull(t, NULL, 10);
			break;
		case 'd': {
			const char *dot = strchr(t, '.');
			char digits[32];
			size_t k = 0;
			for (const char *p = t; *p; p++)
				if (*p != '.')
					digits[k++] = *p;
			digits[k] = 0;
			v->mant = strtoll(digits, NULL, 10);
			v->scale = dot ? (uint8_t)strlen(dot + 1) : 0;
			break;
		}
		case 't': {
			struct tm tm = { 0 };
			int ms = 0;
			sscanf(t, "%4d%2d%2d-%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			       &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
			tm.tm_year -= 1900;
			tm.tm_mon -= 1;
			v->ns = (int64_t)timegm(&tm) * 1000000000 + (int64_t)ms * 1000000;
			break;
		}
		default:
			break;
		}
	}
}

/* ---- frame + parse (+ validate) ---- */

static inline uint64_t frame_parse(struct bmsg *b)
{
	int err;
	long n = fix_frame(&b->fr, b->wire, b->len, &err);

	b->m.fields = b->fields;
	b->m.cap = MAX_FIELDS;
	if (n <= 0 || fix_parse(&b->m, b->wire, (size_t)n) != FIX_OK)
		return 0;
	return b->m.nfields;
}

static uint64_t run_frame_parse(void *ctx, uint32_t i)
{
	(void)i;
	return frame_parse(ctx);
}

static void check_frame_parse(struct bmsg *b)
{
	int err = 0;

	fix_framer_init(&b->fr, 8192);
	long n = fix_frame(&b->fr, b->wire, b->len, &err);
	if (n != (long)b->len)
		bench_fail("%s: fix_frame returned %ld for a %zu-byte message (%s)", b->name, n,
			   b->len, fix_strerror(err));
	b->m.fields = b->fields;
	b->m.cap = MAX_FIELDS;
	int rc = fix_parse(&b->m, b->wire, b->len);
	if (rc != FIX_OK)
		bench_fail("%s: fix_parse: %s (tag %u)", b->name, fix_strerror(rc), b->m.err_tag);
	/* 8, 9, 35, every listed field, 10 */
	if (b->m.nfields != b->nf + 4)
		bench_fail("%s: parsed %u fields, the message has %zu", b->name, b->m.nfields,
			   b->nf + 4);
	if (strcmp(b->m.hdr.msg_type, b->type) != 0 || b->m.hdr.seq != b->ev[2].u)
		bench_fail("%s: header extracted wrong (35=%s 34=%llu)", b->name, b->m.hdr.msg_type,
			   (unsigned long long)b->m.hdr.seq);
	if (frame_parse(b) != b->nf + 4)
		bench_fail("%s: the timed frame+parse disagrees with the check", b->name);
}

static const struct fix_dict *dict44;

static uint64_t run_frame_parse_validate(void *ctx, uint32_t i)
{
	struct bmsg *b = ctx;
	struct fix_verdict v;

	(void)i;
	if (!frame_parse(b))
		return 0;
	fix_validate(dict44, &b->m, &v);
	return v.ok;
}

static void check_validate(struct bmsg *b)
{
	struct fix_verdict v;

	b->ok_validate = true;
	if (!frame_parse(b))
		bench_fail("%s: frame+parse failed", b->name);
	fix_validate(dict44, &b->m, &v);
	if (!v.ok)
		soft_fail(&b->ok_validate, "%s: fix_validate rejects it: reason %d tag %u: %s",
			  b->name, v.reason, v.ref_tag, v.text ? v.text : "");
	else if (run_frame_parse_validate(b, 0) != 1)
		soft_fail(&b->ok_validate, "%s: the timed frame+parse+validate disagrees", b->name);
}

/* ---- encode ---- */

static struct fix_time_cache enc_tc;

static size_t encode(struct bmsg *b, char **out)
{
	struct fix_encoder e;

	fix_enc_begin(&e, b->ebuf, sizeof(b->ebuf), FIX_VER_44, b->type, &enc_tc);
	for (size_t i = 0; i < b->nf; i++) {
		const struct fspec *f = &b->f[i];
		const struct encval *v = &b->ev[i];
		switch (f->kind) {
		case 'u':
			fix_enc_uint(&e, f->tag, v->u);
			break;
		case 'c':
			fix_enc_char(&e, f->tag, f->text[0]);
			break;
		case 'd':
			fix_enc_decimal(&e, f->tag,
					(struct fix_decimal){ .mantissa = v->mant, .scale = v->scale });
			break;
		case 't':
			fix_enc_time(&e, f->tag, v->ns, FIX_TIME_MS);
			break;
		default:
			fix_enc_cstr(&e, f->tag, f->text);
			break;
		}
	}
	return fix_enc_finish(&e, out);
}

static uint64_t run_encode(void *ctx, uint32_t i)
{
	char *out;

	(void)i;
	return encode(ctx, &out);
}

static void check_encode(struct bmsg *b)
{
	char *out = NULL;
	size_t n = encode(b, &out);

	b->ok_encode = true;
	if (n != b->len || memcmp(out, b->wire, n) != 0)
		soft_fail(&b->ok_encode, "%s: the encoder wrote\n  %.*s\nexpected\n  %.*s",
			  b->name, (int)n, out ? out : "", (int)b->len, b->wire);
}

/* ---- header rewrite ---- */

static struct fix_time_cache rw_tc;
static struct fix_out_header rw_hdr;
static const int64_t rw_now = 1795694400123000000LL; /* 2026-11-26T12:00:00.123Z */

static void rewrite_setup(struct bmsg *b)
{
	memcpy(b->rbuf + HEADROOM, b->wire, b->len);
	b->rm.fields = b->rfields;
	b->rm.cap = MAX_FIELDS;
	if (fix_parse(&b->rm, b->rbuf + HEADROOM, b->len) != FIX_OK)
		bench_fail("%s: parse for rewrite failed", b->name);
}

static uint64_t run_rewrite(void *ctx, uint32_t i)
{
	struct bmsg *b = ctx;
	char *out;
	size_t len;

	/* Only what changes per message is set (no header copy in the timed loop). */
	rw_hdr.msg_type = b->type;
	rw_hdr.seq = 1000 + i; /* each forwarded message gets the next sequence number */
	if (fix_rewrite(&b->rm, &rw_hdr, HEADROOM, &out, &len) != FIX_OK)
		return 0;
	return len;
}

static bool rewrite_ok(struct bmsg *b)
{
	struct fix_out_header h = rw_hdr;
	char *out;
	size_t len;
	int err = 0;

	h.msg_type = b->type;
	h.seq = 777;
	int rc = fix_rewrite(&b->rm, &h, HEADROOM, &out, &len);
	if (rc != FIX_OK)
		return soft_fail(&b->ok_rewrite, "%s: fix_rewrite: %s", b->name, fix_strerror(rc));
	struct fix_framer fr;
	fix_framer_init(&fr, 8192);
	long n = fix_frame(&fr, out, len, &err);
	if (n != (long)len)
		return soft_fail(&b->ok_rewrite, "%s: the rewritten message does not frame "
				 "(%ld, %s): %.*s", b->name, n, fix_strerror(err), (int)len, out);
	struct fix_field f[MAX_FIELDS];
	struct fix_msg m = { .fields = f, .cap = MAX_FIELDS };
	if (fix_parse(&m, out, len) != FIX_OK || m.hdr.seq != 777 ||
	    strcmp(m.hdr.msg_type, b->type) != 0)
		return soft_fail(&b->ok_rewrite, "%s: the rewritten message parses wrong: %.*s",
				 b->name, (int)len, out);
	if (m.hdr.i_sender < 0 || f[m.hdr.i_sender].len != 6 ||
	    memcmp(f[m.hdr.i_sender].val, "FIXMUX", 6) != 0)
		return soft_fail(&b->ok_rewrite, "%s: SenderCompID not rewritten", b->name);
	/* The body is the original's, byte for byte. */
	size_t blen = b->rm.hdr.trailer_off - b->rm.hdr.body_off;
	if (m.hdr.trailer_off - m.hdr.body_off != blen ||
	    memcmp(out + m.hdr.body_off, b->wire + b->rm.hdr.body_off, blen) != 0)
		return soft_fail(&b->ok_rewrite, "%s: the body changed in the rewrite", b->name);
	return true;
}

static void rewrite_prepare(void)
{
	fix_time_cache_init(&rw_tc);
	rw_hdr = (struct fix_out_header){
		.ver = FIX_VER_44,
		.sender = { "FIXMUX", 6 },
		.target = { "LMAX", 4 },
		.sending_time_ns = rw_now,
		.precision = FIX_TIME_MS,
		.tc = &rw_tc,
	};
	for (size_t k = 0; k < N_MSGS; k++)
		rewrite_setup(&msgs[k]);
}

static void check_rewrite(struct bmsg *b)
{
	b->ok_rewrite = true;
	rewrite_ok(b);
}

/* ---- QuickFIX ---- */

#if BENCH_HAVE_QUICKFIX
struct qf_ctx {
	int idx;
	enum bench_qf_mode mode;
};

static uint64_t run_qf(void *ctx, uint32_t i)
{
	struct qf_ctx *c = ctx;

	(void)i;
	return (uint64_t)(bench_qf_parse(c->idx, c->mode) + 1);
}

static void check_qf(int idx, enum bench_qf_mode mode)
{
	struct bmsg *b = &msgs[idx];

	b->ok_qf[mode] = true;
	if (bench_qf_parse(idx, mode) != 0) {
		soft_fail(&b->ok_qf[mode], "%s: QuickFIX (mode %d) threw: %s", b->name, mode,
			  bench_qf_last_error());
		return;
	}
	int n = bench_qf_fields();
	/* Without the dictionary QuickFIX keeps the repeated group tags only once per tag in
	 * its field map, so only the dictionary modes must see every field. */
	if (mode != BENCH_QF_PARSE && n != (int)b->nf + 4)
		soft_fail(&b->ok_qf[mode], "%s: QuickFIX (mode %d) found %d fields, the message "
			  "has %zu", b->name, mode, n, b->nf + 4);
	if (mode != BENCH_QF_PARSE && b->type[0] == 'X' && bench_qf_groups(268) != 4)
		soft_fail(&b->ok_qf[mode], "%s: QuickFIX found %d MDEntries, not 4", b->name,
			  bench_qf_groups(268));
}
#endif

/* ---- callgrind mode: the counted functions, one per message (see callgrind.sh) ---- */

__attribute__((noinline)) static uint64_t cg_loop(struct bmsg *b, uint32_t n)
{
	uint64_t acc = 0;

	for (uint32_t i = 0; i < n; i++)
		acc += frame_parse(b);
	return acc;
}
__attribute__((noinline)) uint64_t cg_frame_parse_NOS(uint32_t n) { return cg_loop(&msgs[0], n); }
__attribute__((noinline)) uint64_t cg_frame_parse_ExecReport(uint32_t n) { return cg_loop(&msgs[1], n); }
__attribute__((noinline)) uint64_t cg_frame_parse_MDIncRefresh(uint32_t n) { return cg_loop(&msgs[2], n); }

__attribute__((noinline)) static uint64_t cg_rw_loop(struct bmsg *b, uint32_t n)
{
	uint64_t acc = 0;

	for (uint32_t i = 0; i < n; i++)
		acc += run_rewrite(b, i) != 0;
	return acc;
}
__attribute__((noinline)) uint64_t cg_rewrite_NOS(uint32_t n) { return cg_rw_loop(&msgs[0], n); }
__attribute__((noinline)) uint64_t cg_rewrite_ExecReport(uint32_t n) { return cg_rw_loop(&msgs[1], n); }
__attribute__((noinline)) uint64_t cg_rewrite_MDIncRefresh(uint32_t n) { return cg_rw_loop(&msgs[2], n); }

static int callgrind_mode(const struct bench_opts *o)
{
	uint64_t acc = cg_frame_parse_NOS(o->iterations) + cg_frame_parse_ExecReport(o->iterations) +
		       cg_frame_parse_MDIncRefresh(o->iterations);
	uint64_t want = 0;

	for (size_t k = 0; k < N_MSGS; k++)
		want += (uint64_t)(msgs[k].nf + 4) * o->iterations;
	if (acc != want)
		bench_fail("callgrind mode: frame+parse results wrong (%llu, want %llu)",
			   (unsigned long long)acc, (unsigned long long)want);
	rewrite_prepare();
	acc = cg_rewrite_NOS(o->iterations) + cg_rewrite_ExecReport(o->iterations) +
	      cg_rewrite_MDIncRefresh(o->iterations);
	if (acc != (uint64_t)N_MSGS * o->iterations)
		bench_fail("callgrind mode: a header rewrite failed");
	printf("callgrind mode: %u iterations of each workload per message done\n",
	       o->iterations);
	return 0;
}

/* ---- main ---- */

static void row(const struct bench_opts *o, const char *work, const char *impl,
		const struct bmsg *b, const struct bench_stats *st, const char *rname,
		double ratio)
{
	bench_print_row(o, "codec", work, impl, b->name, st, rname, ratio);
}

static void note(const struct bench_opts *o, const char *what)
{
	if (o->json)
		printf("{\"bench\":\"codec\",\"note\":\"%s\"}\n", what);
	else
		printf("(%s)\n", what);
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	const char *qf_dict = FIXMUX_QUICKFIX_REF "/spec/FIX44.xml";

	bench_parse_opts(argc, argv, &o, NULL);
	for (size_t k = 0; k < N_MSGS; k++) {
		build_wire(&msgs[k]);
		prepare_values(&msgs[k]);
		check_frame_parse(&msgs[k]);
	}
	if (o.callgrind)
		return callgrind_mode(&o);
	bench_calibrate();
	bench_print_meta(&o, "codec");
	if (!o.json) {
		for (size_t k = 0; k < N_MSGS; k++)
			printf("  %-13s %zu bytes, %zu fields\n", msgs[k].name, msgs[k].len,
			       msgs[k].nf + 4);
	}
#if BENCH_HAVE_QUICKFIX
	{
		const char *wires[N_MSGS];
		size_t lens[N_MSGS];
		char err[512];
		for (size_t k = 0; k < N_MSGS; k++) {
			wires[k] = msgs[k].wire;
			lens[k] = msgs[k].len;
		}
		if (bench_qf_init(qf_dict, wires, lens, (int)N_MSGS, err, sizeof(err)) != 0)
			bench_fail("%s", err);
		for (int k = 0; k < (int)N_MSGS; k++)
			for (int mode = 0; mode < 3; mode++)
				check_qf(k, (enum bench_qf_mode)mode);
	}
#else
	(void)qf_dict;
#endif
	dict44 = fix_dict_get(FIX_VER_44);
	if (!dict44)
		bench_fail("no FIX.4.4 dictionary");
	for (size_t k = 0; k < N_MSGS; k++)
		check_validate(&msgs[k]);
	fix_time_cache_init(&enc_tc);
	for (size_t k = 0; k < N_MSGS; k++)
		check_encode(&msgs[k]);
	rewrite_prepare();
	for (size_t k = 0; k < N_MSGS; k++)
		check_rewrite(&msgs[k]);

	const double bud = o.budget_ms;
	for (size_t k = 0; k < N_MSGS; k++) {
		struct bmsg *b = &msgs[k];
		struct bench_stats fp, st;
		char title[96];

		snprintf(title, sizeof(title), "%s (%zu bytes)", b->name, b->len);
		bench_print_table_header(&o, title);
		bench_measure(run_frame_parse, b, bud, 1000, 30, &fp);
#if BENCH_HAVE_QUICKFIX
		struct bench_stats qf[3];
		for (int mode = 0; mode < 3; mode++) {
			struct qf_ctx q = { (int)k, (enum bench_qf_mode)mode };
			if (b->ok_qf[mode])
				bench_measure(run_qf, &q, bud, 1000, 30, &qf[mode]);
		}
		if (b->ok_qf[BENCH_QF_PARSE])
			row(&o, "frame+parse", "fixcodec", b, &fp, "faster than quickfix parse",
			    qf[BENCH_QF_PARSE].median_ns / fp.median_ns);
		else
			row(&o, "frame+parse", "fixcodec", b, &fp, NULL, 0);
		if (b->ok_qf[BENCH_QF_PARSE])
			row(&o, "parse", "quickfix", b, &qf[BENCH_QF_PARSE], NULL, 0);
		if (b->ok_qf[BENCH_QF_PARSE_DD])
			row(&o, "parse (dictionary)", "quickfix", b, &qf[BENCH_QF_PARSE_DD],
			    "slower than fixcodec frame+parse",
			    qf[BENCH_QF_PARSE_DD].median_ns / fp.median_ns);
		if (b->ok_qf[BENCH_QF_PARSE]) {
			/* The headline ratio, robust to the other tenants' load changing between
			 * the rows above: alternating rounds, median of the round ratios. */
			struct qf_ctx q = { (int)k, BENCH_QF_PARSE };
			double r = bench_ratio_interleaved(run_frame_parse, b, run_qf, &q,
							   4 * bud, 7);
			if (o.json)
				printf("{\"bench\":\"codec\",\"workload\":\"ratio\",\"msg\":\"%s\","
				       "\"figure\":\"quickfix parse / fixcodec frame+parse\","
				       "\"ratio\":%.2f,\"method\":\"median of 7 alternating rounds\","
				       "\"target_min\":15}\n", b->name, r);
			else
				printf("%-22s fixcodec frame+parse is %.1fx faster than quickfix parse "
				       "(median of 7 alternating rounds)\n", "", r);
		}
#else
		row(&o, "frame+parse", "fixcodec", b, &fp, NULL, 0);
#endif
		if (b->ok_validate) {
			bench_measure(run_frame_parse_validate, b, bud, 1000, 30, &st);
#if BENCH_HAVE_QUICKFIX
			if (b->ok_qf[BENCH_QF_PARSE_VALIDATE])
				row(&o, "frame+parse+validate", "fixcodec", b, &st,
				    "faster than quickfix parse+validate",
				    qf[BENCH_QF_PARSE_VALIDATE].median_ns / st.median_ns);
			else
#endif
				row(&o, "frame+parse+validate", "fixcodec", b, &st, NULL, 0);
		} else {
			note(&o, "frame+parse+validate not measured: its check failed (see above)");
		}
#if BENCH_HAVE_QUICKFIX
		if (b->ok_qf[BENCH_QF_PARSE_VALIDATE])
			row(&o, "parse+validate", "quickfix", b, &qf[BENCH_QF_PARSE_VALIDATE], NULL,
			    0);
#endif
		if (b->ok_encode) {
			bench_measure(run_encode, b, bud, 1000, 30, &st);
			row(&o, "encode", "fixcodec", b, &st, NULL, 0);
		} else {
			note(&o, "encode not measured: its check failed (see above)");
		}
		if (b->ok_rewrite) {
			bench_measure(run_rewrite, b, bud, 1000, 30, &st);
			row(&o, "header rewrite", "fixcodec", b, &st, NULL, 0);
		} else {
			note(&o, "header rewrite not measured: its check failed (see above)");
		}
		(void)st;
	}
#if BENCH_HAVE_QUICKFIX
	bench_qf_fini();
#else
	note(&o, "QuickFIX comparison not built: pkg-config finds no quickfix");
#endif
	if (check_failures) {
		fprintf(stderr, "%u check(s) failed: the figures above leave those parts out\n",
			check_failures);
		return 1;
	}
	return 0;
}
