/* fixmux-bench: reporting (table, JSON, percentile files) and the histogram self-test. */
#define _GNU_SOURCE
#include "bench_harness.h"
#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------
 * Reporting
 * ---------------------------------------------------------------------------------------- */

static const double pcts[] = { 50, 90, 99, 99.9, 99.99 };
static const char *const pct_names[] = { "p50", "p90", "p99", "p99.9", "p99.99" };
#define NPCT (sizeof(pcts) / sizeof(pcts[0]))
static const char *const scn_names[ST__COUNT] = { "orders", "md" };
static const unsigned scn_bits[ST__COUNT] = { SCN_ORDERS, SCN_MD };

static void write_stream(const struct result *r, const struct stream_res *st, const char *sfx)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s%s.hgrm", bench_cfg.out_dir, r->phase, sfx);
	if ((f = fopen(path, "w")) != NULL) {
		bench_hist_write_distribution(&st->lat, f, 1000.0, false);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%s%s.csv", bench_cfg.out_dir, r->phase, sfx);
	if ((f = fopen(path, "w")) != NULL) {
		bench_hist_write_distribution(&st->lat, f, 1000.0, true);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%s%s-timeline.csv", bench_cfg.out_dir, r->phase, sfx);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "second,answered,p50_us,p90_us,p99_us,max_us\n");
		for (uint32_t i = 0; i < st->nrows; i++)
			fprintf(f, "%u,%llu,%.3f,%.3f,%.3f,%.3f\n", st->rows[i].t,
				(unsigned long long)st->rows[i].answered, st->rows[i].p50 / 1e3,
				st->rows[i].p90 / 1e3, st->rows[i].p99 / 1e3, st->rows[i].max / 1e3);
		fclose(f);
	}
}

void bench_write_files(const struct result *r)
{
	if (bench_cfg.out_dir == NULL)
		return;
	if (bench_cfg.scenario & SCN_ORDERS)
		write_stream(r, &r->st[ST_ORDERS], "");
	if (bench_cfg.scenario & SCN_MD)
		write_stream(r, &r->st[ST_MD], "-md");
}

static void print_ratio(const struct result *res, int ia, int ib, int s)
{
	if (ia < 0 || ib < 0 || res[ia].st[s].lat.total == 0 || res[ib].st[s].lat.total == 0)
		return;
	const struct bench_hist *a = &res[ia].st[s].lat, *b = &res[ib].st[s].lat;
	if (bench_cfg.json)
		printf("{\"bench\":\"fixmux-bench\",\"scenario\":\"%s\",\"ratio\":\"%s/%s\"",
		       scn_names[s], res[ia].phase, res[ib].phase);
	else
		printf("%-8s %5s %9s %9s", "ratio", "", "", "");
	for (size_t p = 0; p < NPCT; p++) {
		double x = (double)bench_hist_percentile(a, pcts[p]) /
			   (double)bench_hist_percentile(b, pcts[p]);
		if (bench_cfg.json)
			printf(",\"%s\":%.3f", pct_names[p], x);
		else
			printf(" %8.2fx", x);
	}
	double mx = (double)a->max / (double)b->max;
	if (bench_cfg.json)
		printf(",\"max\":%.3f}\n", mx);
	else
		printf(" %8.2fx   (%s / %s)\n", mx, res[ia].phase, res[ib].phase);
}

/* Per-thread counts: they add up to the phase's. */
static void json_threads(const struct result *r, int s)
{
	printf(",\"threads\":[");
	for (uint32_t t = 0; t < r->threads; t++) {
		const struct thread_res *x = &r->thr[t];
		if (s == ST_ORDERS)
			printf("%s{\"thread\":%u,\"users\":%u,\"sent\":%llu,\"answered\":%llu,"
			       "\"recorded\":%llu}", t ? "," : "", t, x->users,
			       (unsigned long long)x->sent, (unsigned long long)x->answered,
			       (unsigned long long)x->recorded);
		else
			printf("%s{\"thread\":%u,\"users\":%u,\"updates\":%llu,\"recorded\":%llu}",
			       t ? "," : "", t, x->users, (unsigned long long)x->md_updates,
			       (unsigned long long)x->md_recorded);
	}
	printf("]");
}

static void json_latency(const struct bench_hist *h)
{
	for (size_t p = 0; p < NPCT; p++)
		printf(",\"%s_us\":%.3f", pct_names[p], bench_hist_percentile(h, pcts[p]) / 1e3);
	printf(",\"max_us\":%.3f,\"mean_us\":%.3f", (double)h->max / 1e3,
	       bench_hist_mean(h) / 1e3);
}

static void json_error(const struct result *r)
{
	if (!r->ok)
		printf(",\"error\":\"%s\"", r->why);
	printf("}\n");
}

static void row_orders(const struct result *r)
{
	const struct bench_hist *h = &r->st[ST_ORDERS].lat;

	if (bench_cfg.json) {
		printf("{\"bench\":\"fixmux-bench\",\"scenario\":\"orders\",\"phase\":\"%s\","
		       "\"transport\":\"%s\",\"users\":%u,\"rate\":%.0f,\"duration_s\":%.1f,\"ok\":%s,"
		       "\"sent\":%llu,\"answered\":%llu,\"recorded\":%llu,\"unanswered\":%llu,"
		       "\"rejected\":%llu",
		       r->phase, r->userspace ? "userspace" : "kernel", r->users, bench_cfg.rate,
		       bench_cfg.duration_s, r->ok ? "true" : "false", (unsigned long long)r->sent,
		       (unsigned long long)r->answered, (unsigned long long)h->total,
		       (unsigned long long)r->unanswered, (unsigned long long)r->rejected);
		json_latency(h);
		printf(",\"send_lag_p99_us\":%.3f,\"send_lag_max_us\":%.3f",
		       bench_hist_percentile(&r->lag, 99) / 1e3, (double)r->lag.max / 1e3);
		json_threads(r, ST_ORDERS);
		json_error(r);
		return;
	}
	printf("%-8s %5u %9llu %9llu", r->userspace ? "fixmux*" : r->phase, r->users,
	       (unsigned long long)r->sent, (unsigned long long)r->answered);
	for (size_t p = 0; p < NPCT; p++)
		printf(" %9.1f", bench_hist_percentile(h, pcts[p]) / 1e3);
	printf(" %9.1f %9.1f %10.1f%s%s\n", (double)h->max / 1e3, bench_hist_mean(h) / 1e3,
	       bench_hist_percentile(&r->lag, 99) / 1e3, r->ok ? "" : "  FAILED: ",
	       r->ok ? "" : r->why);
}

static void row_md(const struct result *r)
{
	const struct bench_hist *h = &r->st[ST_MD].lat;

	if (bench_cfg.json) {
		printf("{\"bench\":\"fixmux-bench\",\"scenario\":\"md\",\"phase\":\"%s\","
		       "\"transport\":\"%s\",\"users\":%u,\"subs\":%u,\"symbols\":%u,\"md_rate\":%.0f,"
		       "\"duration_s\":%.1f,\"ok\":%s,\"snapshots\":%llu,\"updates\":%llu,"
		       "\"recorded\":%llu,\"md_rejects\":%llu,\"unstamped\":%llu",
		       r->phase, r->userspace ? "userspace" : "kernel", r->users, r->subs,
		       bench_cfg.md_symbols, bench_cfg.md_rate,
		       bench_cfg.duration_s, r->ok ? "true" : "false",
		       (unsigned long long)r->md_snapshots, (unsigned long long)r->md_updates,
		       (unsigned long long)h->total, (unsigned long long)r->md_rejects,
		       (unsigned long long)r->md_unstamped);
		json_latency(h);
		json_threads(r, ST_MD);
		json_error(r);
		return;
	}
	printf("%-8s %5u %9llu %9llu", r->userspace ? "fixmux*" : r->phase, r->users,
	       (unsigned long long)r->md_updates, (unsigned long long)h->total);
	for (size_t p = 0; p < NPCT; p++)
		printf(" %9.1f", bench_hist_percentile(h, pcts[p]) / 1e3);
	printf(" %9.1f %9.1f%s%s\n", (double)h->max / 1e3, bench_hist_mean(h) / 1e3,
	       r->ok ? "" : "  FAILED: ", r->ok ? "" : r->why);
}

static void row_threads(const struct result *r, int s)
{
	if (bench_cfg.json || r->threads < 2)
		return;
	printf("%8s threads:", "");
	for (uint32_t t = 0; t < r->threads; t++)
		printf(" [%u] %u users %llu %s", t, r->thr[t].users,
		       (unsigned long long)(s == ST_ORDERS ? r->thr[t].recorded : r->thr[t].md_recorded),
		       "recorded");
	printf("\n");
}

/* fixmux's own latency beside the external figures of its phase. */
static void row_internal(const struct result *r)
{
	static const char *const dirs[INT_DIRS] = { "client_to_venue", "venue_to_client" };
	static const int col[] = { IV_P50, IV_P90, IV_P99, IV_P999, IV_P9999 };

	if (bench_cfg.latency_cmd == NULL || strcmp(r->phase, "fixmux") != 0)
		return;
	if (!r->in.have) {
		if (bench_cfg.json)
			printf("{\"bench\":\"fixmux-bench\",\"scenario\":\"internal\","
			       "\"phase\":\"%s\",\"error\":\"%s\"}\n", r->phase, r->in.why);
		else
			printf("fixmux internal latency not available: %s\n", r->in.why);
		return;
	}
	if (!bench_cfg.json)
		printf("\nfixmux's internal latency (fixmuxctl latency: from the RX burst to the TCP "
		       "send, in fixmux; histograms %s, %s phase count in "
		       "brackets), microseconds\n%-16s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n",
		       r->in.reset ? "reset as the phase began" : "since fixmux started",
		       r->phase, "direction", "count", "[phase]", "p50", "p90", "p99", "p99.9",
		       "p99.99", "max", "mean");
	for (int d = 0; d < INT_DIRS; d++) {
		const uint64_t *v = r->in.v[d];
		uint64_t phase = v[IV_COUNT] - r->in.before_count[d];
		if (bench_cfg.json) {
			printf("{\"bench\":\"fixmux-bench\",\"scenario\":\"internal\","
			       "\"phase\":\"%s\",\"direction\":\"%s\",\"scope\":\"%s\","
			       "\"count\":%llu,\"count_phase\":%llu,\"min_us\":%.3f",
			       r->phase, dirs[d], r->in.reset ? "since_reset" : "since_start", (unsigned long long)v[IV_COUNT],
			       (unsigned long long)phase, v[IV_MIN] / 1e3);
			for (size_t p = 0; p < NPCT; p++)
				printf(",\"%s_us\":%.3f", pct_names[p], v[col[p]] / 1e3);
			printf(",\"max_us\":%.3f,\"mean_us\":%.3f}\n", v[IV_MAX] / 1e3,
			       v[IV_MEAN] / 1e3);
			continue;
		}
		printf("%-16s %9llu %9llu", dirs[d], (unsigned long long)v[IV_COUNT],
		       (unsigned long long)phase);
		for (size_t p = 0; p < NPCT; p++)
			printf(" %9.3f", v[col[p]] / 1e3);
		printf(" %9.3f %9.3f\n", v[IV_MAX] / 1e3, v[IV_MEAN] / 1e3);
	}
}

void bench_report(const struct result *res, int nres)
{
	for (int s = 0; s < ST__COUNT; s++) {
		if (!(bench_cfg.scenario & scn_bits[s]))
			continue;
		if (!bench_cfg.json && s == ST_ORDERS) {
			printf("\nscenario orders: NewOrderSingle -> first ExecutionReport, %u users, "
			       "%.0f orders/s in total, %.1f s (first %.1f s not recorded), latency "
			       "from the intended send time, microseconds\n",
			       bench_cfg.users, bench_cfg.rate, bench_cfg.duration_s,
			       bench_cfg.warmup_s);
			printf("%-8s %5s %9s %9s %9s %9s %9s %9s %9s %9s %9s %10s\n", "phase", "users",
			       "sent", "answered", "p50", "p90", "p99", "p99.9", "p99.99", "max",
			       "mean", "lag p99");
		} else if (!bench_cfg.json) {
			printf("\nscenario md: increment stamped by the venue (MDEntryTime, its "
			       "intended send time) -> arrival at the user, %u subscriptions over %u "
			       "symbols, %.0f increments/s each, %.1f s (first %.1f s not recorded), "
			       "microseconds\n",
			       bench_cfg.users * bench_cfg.md_subs, bench_cfg.md_symbols,
			       bench_cfg.md_rate, bench_cfg.duration_s, bench_cfg.warmup_s);
			printf("%-8s %5s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "phase", "users",
			       "received", "recorded", "p50", "p90", "p99", "p99.9", "p99.99", "max",
			       "mean");
		}
		for (int i = 0; i < nres; i++) {
			if (s == ST_ORDERS)
				row_orders(&res[i]);
			else
				row_md(&res[i]);
			row_threads(&res[i], s);
		}
		/* The hop's cost: each phase over the direct one, and fixmux over the relay. */
		int idir = -1, ifmx = -1, iqf = -1;
		for (int i = 0; i < nres; i++) {
			if (strcmp(res[i].phase, "direct") == 0)
				idir = i;
			else if (strcmp(res[i].phase, "fixmux") == 0)
				ifmx = i;
			else if (strcmp(res[i].phase, "qfrelay") == 0)
				iqf = i;
		}
		const int pairs[][2] = { { ifmx, idir }, { iqf, idir }, { ifmx, iqf } };
		for (size_t k = 0; k < 3; k++)
			print_ratio(res, pairs[k][0], pairs[k][1], s);
	}
	for (int i = 0; i < nres; i++)
		if (res[i].userspace && !bench_cfg.json)
			printf("fixmux*: the users on fixmux's own TCP/IP stack over %s (user space, "
			       "no kernel on the users' side)\n", bench_cfg.dp_dev);
	for (int i = 0; i < nres; i++)
		row_internal(&res[i]);
	fflush(stdout);
}

/* ------------------------------------------------------------------------------------------
 * Self-test of the histogram (the ctest "bench/harness_hist" runs it): known distributions
 * must come back within the histogram's resolution, and merging must equal recording.
 * ---------------------------------------------------------------------------------------- */

int bench_selftest(void)
{
	struct bench_hist a, b, c;
	int bad = 0;

	if (bench_hist_init(&a, HIST_HIGHEST) || bench_hist_init(&b, HIST_HIGHEST) ||
	    bench_hist_init(&c, HIST_HIGHEST))
		bench_fail("out of memory");
	/* 1..1 000 000 ns once each: percentile p is p * 10 000 ns, to 1 part in 1024. */
	for (uint64_t v = 1; v <= 1000000; v++) {
		bench_hist_record(v & 1 ? &a : &b, v);
		bench_hist_record(&c, v);
	}
	bench_hist_add(&a, &b);
	for (uint32_t i = 0; i < a.counts_len; i++)
		bad += a.counts[i] != c.counts[i];
	if (bad)
		fprintf(stderr, "selftest: merged histogram differs in %d counters\n", bad);
	const double want[][2] = { { 50, 500000 }, { 90, 900000 }, { 99, 990000 },
				   { 99.9, 999000 }, { 99.99, 999900 }, { 100, 1000000 } };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		double got = (double)bench_hist_percentile(&a, want[i][0]);
		if (got < want[i][1] || got > want[i][1] * (1 + 1.0 / 1024)) {
			fprintf(stderr, "selftest: p%g = %.0f, want %.0f (+1/1024)\n", want[i][0], got,
				want[i][1]);
			bad++;
		}
	}
	if (a.total != 1000000 || a.min != 1 || a.max != 1000000 ||
	    fabs(bench_hist_mean(&a) - 500000.5) > 1e-3) {
		fprintf(stderr, "selftest: total/min/max/mean wrong\n");
		bad++;
	}
	/* Exact below 2048; 3 significant digits everywhere. */
	for (uint64_t v = 1; v < HIST_HIGHEST; v = v * 3 + 1) {
		uint64_t lo = bench_hist_lowest_equivalent(v), hi = bench_hist_highest_equivalent(v);
		if (lo > v || hi < v || (v < 2048 && lo != hi) ||
		    (double)(hi - lo) > (double)v / 1000.0 + (v < 2048 ? 0 : 1)) {
			fprintf(stderr, "selftest: %llu in [%llu, %llu]\n", (unsigned long long)v,
				(unsigned long long)lo, (unsigned long long)hi);
			bad++;
		}
	}
	/* Beyond the highest trackable value: counted as saturated, kept as the highest. */
	bench_hist_record(&c, HIST_HIGHEST * 2);
	if (c.saturated != 1 || c.max != HIST_HIGHEST) {
		fprintf(stderr, "selftest: saturation not counted\n");
		bad++;
	}
	/* The distribution text ends with the maximum at percentile 1.0 and the footer. */
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	bench_hist_write_distribution(&a, f, 1000.0, false);
	fclose(f);
	if (strstr(text, "1000.000 1.000000000000    1000000\n") == NULL ||
	    strstr(text, "#[Max     =     1000.000, Total count    =      1000000]") == NULL) {
		fprintf(stderr, "selftest: distribution text:\n%s", text);
		bad++;
	}
	free(text);
	bench_hist_free(&a);
	bench_hist_free(&b);
	bench_hist_free(&c);
	printf("fixmux-bench selftest: %s\n", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}
