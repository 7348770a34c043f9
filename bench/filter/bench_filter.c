/* fixmux-bench-filter: cost per message of the Hyperscan filters for 1, 10, 100 and 1000
 * rules, against a loop of POSIX regexec over the same rules, on a corpus of NewOrderSingle
 * messages. Every verdict of the Hyperscan filter is checked against regexec's first. */
#define _GNU_SOURCE
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "fix_filter.h"

#define N_MSG 64
#define MAX_FIELDS 64
#define MAX_RULES 1000

struct bmsg {
	char buf[512];
	struct fix_field fields[MAX_FIELDS];
	struct fix_msg m;
};

static struct bmsg corpus[N_MSG];

/* Splits "tag=value<SOH>..." into fields. Outside the timed loops; the filter only reads the
 * field index, so this stands in for fix_parse, which bench/codec measures. */
static void split(struct bmsg *b, size_t len)
{
	struct fix_msg *m = &b->m;
	const char *p = b->buf, *end = b->buf + len;

	memset(m, 0, sizeof(*m));
	m->buf = b->buf;
	m->len = (uint32_t)len;
	m->fields = b->fields;
	m->cap = MAX_FIELDS;
	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *soh = memchr(p, FIX_SOH, (size_t)(end - p));
		if (!eq || !soh || m->nfields == MAX_FIELDS)
			bench_fail("corpus message %.40s is malformed", b->buf);
		struct fix_field *f = &b->fields[m->nfields++];
		f->tag = (uint32_t)strtoul(p, NULL, 10);
		f->val = eq + 1;
		f->len = (uint32_t)(soh - eq - 1);
		p = soh + 1;
	}
}

static const char *symbols[] = { "EUR/USD", "USD/JPY", "GBP/USD", "AUD/USD", "USD/CHF",
				  "USD/RUB", "EUR/GBP", "USD/CAD" };
static const char *texts[] = { "rebalance", "hedge leg 2", "client spoof test", "",
			       "month end fixing" };

/* A realistic NewOrderSingle, ~200 bytes; a few hit the fixed rules below. */
static void make_corpus(void)
{
	for (int i = 0; i < N_MSG; i++) {
		struct bmsg *b = &corpus[i];
		char body[400];
		const char *text = texts[i % 5];
		int n = snprintf(body, sizeof(body),
				 "35=D\00149=%s\00156=LMAX.Orders\00134=%d\001"
				 "52=20261126-12:00:00.123\00111=%s-%08d\0011=%s%04d\001"
				 "55=%s\00154=%d\00138=%d\00140=2\00144=1.08%03d\00159=0\001"
				 "60=20261126-12:00:00.120\001%s%s%s",
				 i % 13 == 0 ? "BANNED7" : "DESK3", 1000 + i,
				 i % 9 == 0 ? "ALGO" : "ORD", 4711 + i,
				 i % 11 == 0 ? "TEST" : "ACC", i, symbols[i % 8], 1 + i % 2,
				 i % 7 == 0 ? 150000000 : 1000000 + i, i, text[0] ? "58=" : "",
				 text, text[0] ? "\001" : "");
		int len = snprintf(b->buf, sizeof(b->buf), "8=FIX.4.4\0019=%d\001%s", n, body);
		unsigned sum = 0;
		for (int k = 0; k < len; k++)
			sum += (unsigned char)b->buf[k];
		len += snprintf(b->buf + len, sizeof(b->buf) - (size_t)len, "10=%03u\001",
				sum % 256);
		split(b, (size_t)len);
	}
}

/* Rule i of every rule set: the same prefix for every size, so 10 rules are the first 10 of
 * the 1000. The first six are the ones an operator writes first and some of the corpus hits;
 * the rest are generated lists (symbols, accounts, order-id prefixes, words, quantities)
 * that mostly do not match, which is what a large production rule set looks like. */
static char rule_names[MAX_RULES][32], rule_exprs[MAX_RULES][64];
static struct fix_filter_rule rules[MAX_RULES];

static void make_rules(void)
{
	static const struct fix_filter_rule fixed[] = {
		{ "no-rub", 55, "^USD/RUB$", FIX_FILTER_DENY },
		{ "big-qty", 38, "^[0-9]{9,}$", FIX_FILTER_ALERT },
		{ "no-test-accounts", 1, "^TEST", FIX_FILTER_DENY },
		{ "word-spoof", 58, "spoof", FIX_FILTER_ALERT },
		{ "algo-orders", 11, "^ALGO-", FIX_FILTER_ALERT },
		{ "banned-desk", 49, "^BANNED[0-9]*$", FIX_FILTER_DENY },
	};
	for (int i = 0; i < MAX_RULES; i++) {
		if (i < 6) {
			rules[i] = fixed[i];
			continue;
		}
		char a = (char)('A' + i % 26), b = (char)('A' + (i / 26) % 26);
		struct fix_filter_rule *r = &rules[i];
		switch (i % 5) {
		case 0:
			r->tag = 55;
			snprintf(rule_exprs[i], 64, "^X%c%c/Y%c%c$", a, b, b, a);
			break;
		case 1:
			r->tag = 1;
			snprintf(rule_exprs[i], 64, "^ACC%04d[0-9]$", 5000 + i);
			break;
		case 2:
			r->tag = 11;
			snprintf(rule_exprs[i], 64, "^Q%c%c-[0-9]+$", a, b);
			break;
		case 3:
			r->tag = 58;
			snprintf(rule_exprs[i], 64, "forbid%c%c%d", a, b, i);
			break;
		default:
			r->tag = 38;
			snprintf(rule_exprs[i], 64, "^%d[0-9]{3}$", 70000 + i);
			break;
		}
		snprintf(rule_names[i], 32, "gen-%d", i);
		r->name = rule_names[i];
		r->regex = rule_exprs[i];
		r->action = i % 3 == 0 ? FIX_FILTER_DENY : FIX_FILTER_ALERT;
	}
}

/* ---- the POSIX baseline: every rule, every field of its tag ---- */

struct posix_set {
	regex_t re[MAX_RULES];
	size_t n;
};

static void posix_build(struct posix_set *p, size_t n)
{
	p->n = n;
	for (size_t i = 0; i < n; i++)
		if (regcomp(&p->re[i], rules[i].regex, REG_EXTENDED | REG_NOSUB) != 0)
			bench_fail("regcomp of rule %s failed", rules[i].name);
}

static void posix_scan(struct posix_set *p, const struct fix_msg *m, struct fix_filter_result *r)
{
	r->deny = -1;
	r->n_alerts = 0;
	for (size_t i = 0; i < p->n; i++) {
		for (uint32_t k = 0; k < m->nfields; k++) {
			const struct fix_field *f = &m->fields[k];
			if (f->tag != rules[i].tag)
				continue;
			/* REG_STARTEND (glibc): the value is not NUL-terminated. */
			regmatch_t pm = { .rm_so = 0, .rm_eo = f->len };
			if (regexec(&p->re[i], f->val, 1, &pm, REG_STARTEND) != 0)
				continue;
			if (rules[i].action == FIX_FILTER_DENY) {
				if (r->deny < 0)
					r->deny = (int)i;
			} else if (r->n_alerts < FIX_FILTER_MAX_ALERTS) {
				r->alerts[r->n_alerts++] = (uint32_t)i;
			} else {
				r->n_alerts++;
			}
			break; /* a rule counts once per message */
		}
	}
}

static void posix_free(struct posix_set *p)
{
	for (size_t i = 0; i < p->n; i++)
		regfree(&p->re[i]);
}

struct run_ctx {
	const struct fix_filter *f;
	struct fix_filter_scratch *s;
	struct posix_set *p;
};

static uint64_t run_hs(void *arg, uint32_t i)
{
	struct run_ctx *c = arg;
	struct fix_filter_result r;

	fix_filter_scan(c->f, c->s, &corpus[i % N_MSG].m, &r);
	return (uint64_t)(r.deny + 1) + r.n_alerts;
}

static uint64_t run_posix(void *arg, uint32_t i)
{
	struct run_ctx *c = arg;
	struct fix_filter_result r;

	posix_scan(c->p, &corpus[i % N_MSG].m, &r);
	return (uint64_t)(r.deny + 1) + r.n_alerts;
}

/* callgrind mode: the counted functions, one per rule-set size (see bench/filter/callgrind.sh) */
__attribute__((noinline)) static uint64_t cg_loop(struct run_ctx *c, uint32_t n)
{
	uint64_t acc = 0;

	for (uint32_t i = 0; i < n; i++)
		acc += run_hs(c, i);
	return acc;
}
__attribute__((noinline)) uint64_t cg_filter_rules_1(struct run_ctx *c, uint32_t n) { return cg_loop(c, n); }
__attribute__((noinline)) uint64_t cg_filter_rules_10(struct run_ctx *c, uint32_t n) { return cg_loop(c, n); }
__attribute__((noinline)) uint64_t cg_filter_rules_100(struct run_ctx *c, uint32_t n) { return cg_loop(c, n); }
__attribute__((noinline)) uint64_t cg_filter_rules_1000(struct run_ctx *c, uint32_t n) { return cg_loop(c, n); }

/* Both implementations must give the same verdict on every message of the corpus. */
static unsigned check_verdicts(struct run_ctx *c, size_t n)
{
	unsigned flagged = 0;

	for (int i = 0; i < N_MSG; i++) {
		struct fix_filter_result h, p;
		if (fix_filter_scan(c->f, c->s, &corpus[i].m, &h) != FIX_OK)
			bench_fail("fix_filter_scan failed on message %d (%zu rules)", i, n);
		posix_scan(c->p, &corpus[i].m, &p);
		if (h.deny != p.deny || h.n_alerts != p.n_alerts)
			bench_fail("message %d, %zu rules: hyperscan deny %d alerts %u, regexec "
				   "deny %d alerts %u", i, n, h.deny, h.n_alerts, p.deny,
				   p.n_alerts);
		for (uint32_t k = 0; k < h.n_alerts && k < FIX_FILTER_MAX_ALERTS; k++)
			if (h.alerts[k] != p.alerts[k])
				bench_fail("message %d, %zu rules: alert %u differs", i, n, k);
		flagged += h.deny >= 0 || h.n_alerts > 0;
	}
	return flagged;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1, 10, 100, 1000 };
	static struct posix_set posix;
	struct bench_opts o;
	struct run_ctx ctx[4];
	double hs_median[4] = { 0 }, hs_min[4] = { 0 };

	bench_parse_opts(argc, argv, &o, NULL);
	bench_calibrate();
	make_corpus();
	make_rules();
	if (!o.callgrind) {
		bench_print_meta(&o, "filter");
		bench_print_table_header(&o, "Filters: ns per NewOrderSingle (64 variants, ~220 B)");
	}
	for (size_t k = 0; k < 4; k++) {
		size_t n = sizes[k];
		char err[256], work[32];
		double t0 = now_ms();
		struct fix_filter *f = fix_filter_build(rules, n, err, sizeof(err));
		double build_ms = now_ms() - t0;
		if (!f)
			bench_fail("build of %zu rules: %s", n, err);
		struct run_ctx *c = &ctx[k];
		*c = (struct run_ctx){ .f = f, .s = fix_filter_scratch_new(f), .p = &posix };
		if (!c->s)
			bench_fail("scratch for %zu rules", n);
		posix_build(&posix, n);
		unsigned flagged = check_verdicts(c, n);

		snprintf(work, sizeof(work), "filter %zu rules", n);
		struct bench_stats hs, px;
		if (o.callgrind) {
			uint64_t (*const cg[])(struct run_ctx *, uint32_t) = {
				cg_filter_rules_1, cg_filter_rules_10, cg_filter_rules_100,
				cg_filter_rules_1000
			};
			cg[k](c, o.iterations);
			posix_free(&posix);
			continue;
		}
		bench_measure(run_hs, c, o.budget_ms, 1000, 30, &hs);
		bench_measure(run_posix, c, o.budget_ms, 1000, 30, &px);
		hs_median[k] = hs.median_ns;
		hs_min[k] = hs.min_ns;
		bench_print_row(&o, "filter", work, "hyperscan", "NOS", &hs, "speed-up over regexec",
				px.median_ns / hs.median_ns);
		bench_print_row(&o, "filter", work, "posix-regexec", "NOS", &px, NULL, 0);
		if (o.json)
			printf("{\"bench\":\"filter\",\"workload\":\"build\",\"rules\":%zu,"
			       "\"build_ms\":%.2f,\"flagged_msgs\":%u,\"corpus_msgs\":%d}\n",
			       n, build_ms, flagged, N_MSG);
		else
			printf("%-22s (built in %.1f ms; %u of %d messages flagged, same verdicts "
			       "as regexec)\n", "", build_ms, flagged, N_MSG);
		posix_free(&posix);
	}
	if (!o.callgrind) {
		/* On a shared machine the two table rows may see different loads; alternating
		 * rounds make the scaling figure robust to that. */
		double inter = bench_ratio_interleaved(run_hs, &ctx[1], run_hs, &ctx[3],
						       6 * o.budget_ms, 9);
		double med = hs_median[3] / hs_median[1], best = hs_min[3] / hs_min[1];
		if (o.json)
			printf("{\"bench\":\"filter\",\"workload\":\"scaling\",\"figure\":"
			       "\"1000 rules vs 10 rules\",\"ratio\":%.2f,\"ratio_medians\":%.2f,"
			       "\"ratio_mins\":%.2f,\"target_max\":2.0}\n", inter, med, best);
		else
			printf("\n1000 rules cost %.2fx of 10 rules (median of 9 alternating rounds; "
			       "table medians %.2fx, best samples %.2fx; target: at most 2x)\n", inter,
			       med, best);
	}
	for (size_t k = 0; k < 4; k++) {
		fix_filter_scratch_free(ctx[k].s);
		fix_filter_free((struct fix_filter *)ctx[k].f);
	}
	return 0;
}
