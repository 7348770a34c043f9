/* fixmux-bench (bench/harness): per-thread histograms merged at the end must equal one
 * histogram of everything, and fixmux's latency answer (fixmuxctl --json latency) must be read
 * column by column whatever the order of its directions, or refused with the reason. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "bench_harness.h"
#include "bench_hist.h"
#include "bench_md.h"

/* Needed by bench_harness.h's users; the tested files do not touch them. */
struct bench_cfg bench_cfg;
volatile int bench_stop;

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 17;
}

Test(bench_hist, per_thread_histograms_merge_to_one_histogram_of_everything)
{
	enum { T = 4 };
	static struct bench_hist th[T], all, merged;
	cr_assert_eq(bench_hist_init(&all, HIST_HIGHEST), 0);
	cr_assert_eq(bench_hist_init(&merged, HIST_HIGHEST), 0);
	uint64_t seed = 7;
	for (int t = 0; t < T; t++) {
		cr_assert_eq(bench_hist_init(&th[t], HIST_HIGHEST), 0);
		/* Each thread sees its own range: 1 us .. 10 ms apart, so the merged tail comes from
		 * one thread and the body from another. */
		uint64_t scale = 1000ull << (3 * t);
		for (int i = 0; i < 20000 + 5000 * t; i++) {
			uint64_t v = scale + lcg(&seed) % (scale * 4);
			bench_hist_record(&th[t], v);
			bench_hist_record(&all, v);
		}
	}
	bench_hist_record(&th[2], HIST_HIGHEST * 3); /* saturated in one thread */
	bench_hist_record(&all, HIST_HIGHEST * 3);
	for (int t = 0; t < T; t++)
		cr_assert_eq(bench_hist_add(&merged, &th[t]), 0);
	cr_assert_eq(merged.total, all.total);
	cr_assert_eq(merged.saturated, 1);
	cr_assert_eq(merged.min, all.min);
	cr_assert_eq(merged.max, all.max);
	cr_assert_eq(memcmp(merged.counts, all.counts, all.counts_len * sizeof(all.counts[0])), 0,
		     "the merged counters are the counters of everything");
	const double p[] = {0, 50, 90, 99, 99.9, 99.99, 100};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		cr_assert_eq(bench_hist_percentile(&merged, p[i]), bench_hist_percentile(&all, p[i]),
			     "p%g", p[i]);
	cr_assert_float_eq(bench_hist_mean(&merged), bench_hist_mean(&all), 1e-6 * bench_hist_mean(&all));
	/* The order of the merge does not matter. */
	bench_hist_reset(&merged);
	for (int t = T - 1; t >= 0; t--)
		bench_hist_add(&merged, &th[t]);
	cr_assert_eq(memcmp(merged.counts, all.counts, all.counts_len * sizeof(all.counts[0])), 0);
	for (int t = 0; t < T; t++)
		bench_hist_free(&th[t]);
	bench_hist_free(&all);
	bench_hist_free(&merged);
}

Test(bench_hist, an_idle_thread_changes_nothing_and_layouts_must_match)
{
	static struct bench_hist a, idle, other;
	cr_assert_eq(bench_hist_init(&a, HIST_HIGHEST), 0);
	cr_assert_eq(bench_hist_init(&idle, HIST_HIGHEST), 0);
	cr_assert_eq(bench_hist_init(&other, 1000000), 0);
	bench_hist_record(&a, 5000);
	bench_hist_record(&a, 7000);
	cr_assert_eq(bench_hist_add(&a, &idle), 0);
	cr_assert_eq(a.total, 2);
	cr_assert_eq(a.min, 5000, "an empty histogram's minimum is not a value");
	cr_assert_eq(a.max, 7000);
	/* Into an empty one: the extremes come from the source. */
	cr_assert_eq(bench_hist_add(&idle, &a), 0);
	cr_assert_eq(idle.min, 5000);
	cr_assert_eq(idle.max, 7000);
	bench_hist_record(&other, 10);
	cr_assert_eq(bench_hist_add(&a, &other), -1, "another layout is refused");
	cr_assert_eq(a.total, 2, "and changes nothing");
	bench_hist_free(&a);
	bench_hist_free(&idle);
	bench_hist_free(&other);
}

/* As fixmuxctl --json latency prints it (docs/operations.md), nested in the command's key. */
static const char answer[] =
	"{\"/fixmux/latency\": {\"direction\": [\"client_to_venue\", \"venue_to_client\"], "
	"\"count\": [600, 1200], \"min_ns\": [2565, 1500], \"p50_ns\": [29256, 10727], "
	"\"p90_ns\": [58513, 21454], \"p99_ns\": [97523, 40959], \"p99_9_ns\": [221947, 324518], "
	"\"p99_99_ns\": [221947, 324518], \"max_ns\": [221947, 324518], "
	"\"mean_ns\": [32325, 12465]}}\n";

Test(bench_internal, columns_by_direction)
{
	uint64_t v[INT_DIRS][IV__N];
	char why[160] = "";
	cr_assert_eq(bench_internal_parse(answer, v, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(v[0][IV_COUNT], 600);
	cr_assert_eq(v[1][IV_COUNT], 1200);
	cr_assert_eq(v[0][IV_P50], 29256);
	cr_assert_eq(v[1][IV_P999], 324518);
	cr_assert_eq(v[0][IV_MEAN], 32325);
	cr_assert_eq(v[1][IV_MIN], 1500);

	/* The other order of rows: still client_to_venue in [0]. */
	char swapped[sizeof(answer)];
	memcpy(swapped, answer, sizeof(answer));
	char *d = strstr(swapped, "[\"client_to_venue\", \"venue_to_client\"]");
	memcpy(d, "[\"venue_to_client\", \"client_to_venue\"]", 38);
	cr_assert_eq(bench_internal_parse(swapped, v, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(v[0][IV_COUNT], 1200);
	cr_assert_eq(v[1][IV_COUNT], 600);
}

Test(bench_internal, a_broken_answer_is_refused_with_the_reason)
{
	uint64_t v[INT_DIRS][IV__N];
	char why[160];
	const struct {
		const char *text, *named;
	} cases[] = {
		{"{\"error\": \"no fixmux running\"}", "no client_to_venue"},
		{"{\"direction\": [\"client_to_venue\", \"venue_to_client\"], \"count\": [1, 2]}",
		 "no column min_ns"},
		{"{\"direction\": [\"client_to_venue\", \"venue_to_client\"], \"count\": [1]}",
		 "column count: not two numbers"},
		{"{\"direction\": [\"client_to_venue\", \"venue_to_client\"], \"count\": [-1, 2]}",
		 "column count: not two numbers"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = 0;
		cr_assert_eq(bench_internal_parse(cases[i].text, v, why, sizeof(why)), -1, "case %zu", i);
		cr_assert(strstr(why, cases[i].named) != NULL, "case %zu: '%s'", i, why);
	}
}

Test(bench_internal, the_command_output_or_its_failure)
{
	uint64_t v[INT_DIRS][IV__N];
	char why[160] = "", cmd[1024];
	snprintf(cmd, sizeof(cmd), "printf '%%s' '%s'", answer);
	cr_assert_eq(bench_internal_fetch(cmd, v, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(v[1][IV_COUNT], 1200);
	/* fixmuxctl --json prints {"error": ...} and exits 1 when fixmux is not there. */
	cr_assert_eq(bench_internal_fetch("echo '{\"error\": \"no fixmux running with file prefix x\"}'; "
					  "exit 1",
					  v, why, sizeof(why)),
		     -1);
	cr_assert(strstr(why, "status 1") != NULL && strstr(why, "no fixmux running") != NULL,
		  "%s", why);
	cr_assert(strchr(why, '"') == NULL, "the reason goes into a JSON string: %s", why);
}

/* The simulator's MDEntryTime: a time of day to the nanosecond. */
Test(bench_md, time_of_day)
{
	cr_assert_eq(bench_time_of_day_ns("13:05:09.000123456", 18), 47109000123456ll);
	cr_assert_eq(bench_time_of_day_ns("13:05:09", 8), 47109000000000ll);
	cr_assert_eq(bench_time_of_day_ns("13:05:09.5", 10), 47109500000000ll, "fewer decimals");
	const char *bad[] = {"13:05", "13-05-09", "1a:05:09", "24:00:00", "13:05:09.",
			     "13:05:09.1234567890", "13:05:09,5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(bench_time_of_day_ns(bad[i], strlen(bad[i])), -1, "'%s'", bad[i]);
}

/* The stamp's date is the one nearest to the arrival: a burst stamped just before midnight and
 * received just after it is 100 us late, not a day early. */
Test(bench_md, latency_across_midnight)
{
	const int64_t day = BENCH_DAY_NS;
	const int64_t midnight = 20418ll * day; /* 2025-11-26 00:00 UTC */
	int64_t stamp;
	int64_t tod = bench_time_of_day_ns("23:59:59.999950000", 18);
	cr_assert_eq(bench_md_latency(midnight + 50000, tod, &stamp), 100000);
	cr_assert_eq(stamp, midnight - 50000);
	tod = bench_time_of_day_ns("12:00:00.000000000", 18);
	cr_assert_eq(bench_md_latency(midnight + day / 2 + 2500, tod, &stamp), 2500);
	cr_assert_eq(stamp, midnight + day / 2);
	/* Stamped after its arrival (not one clock): negative, the caller records 0. */
	cr_assert_eq(bench_md_latency(midnight + day / 2 - 10, tod, &stamp), -10);
}

/* ------------------------------------------------------------------------------------------
 * Per-second rows merged over the threads (bench_second.c).
 * ---------------------------------------------------------------------------------------- */

static struct phase ph = { .name = "fixmux" };
static struct result res;
static struct phase_run pr;

static void sec_setup(uint32_t nthreads)
{
	memset(&pr, 0, sizeof(pr));
	memset(&res, 0, sizeof(res));
	pr.ph = &ph;
	pr.r = &res;
	pr.nthreads = nthreads;
	pthread_mutex_init(&pr.mu, NULL);
	for (int s = 0; s < ST__COUNT; s++) {
		for (int i = 0; i < 4; i++)
			cr_assert_eq(bench_hist_init(&pr.slot[s][i].h, HIST_HIGHEST), 0);
		cr_assert_eq(bench_hist_init(&pr.late[s].h, HIST_HIGHEST), 0);
		res.st[s].rows = calloc(MAX_SECONDS, sizeof(struct second_row));
	}
}

static void sec_teardown(void)
{
	for (int s = 0; s < ST__COUNT; s++) {
		for (int i = 0; i < 4; i++)
			bench_hist_free(&pr.slot[s][i].h);
		bench_hist_free(&pr.late[s].h);
		free(res.st[s].rows);
	}
	pthread_mutex_destroy(&pr.mu);
}

/* One thread's second t: n values of v ns. */
static void hand_in(uint32_t t, uint64_t v, uint64_t n)
{
	static struct bench_hist h;
	if (h.counts == NULL)
		cr_assert_eq(bench_hist_init(&h, HIST_HIGHEST), 0);
	bench_hist_reset(&h);
	for (uint64_t i = 0; i < n; i++)
		bench_hist_record(&h, v);
	bench_second_add(&pr, ST_ORDERS, t, &h);
}

static uint64_t rows_total(void)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < res.st[ST_ORDERS].nrows; i++)
		n += res.st[ST_ORDERS].rows[i].answered;
	return n;
}

Test(bench_second, a_row_once_every_thread_has_given_its_second)
{
	sec_setup(3);
	hand_in(1, 1000, 10);   /* thread 0 */
	hand_in(1, 5000, 10);   /* thread 2 */
	cr_assert_eq(res.st[ST_ORDERS].nrows, 0, "second 1 waits for thread 1");
	hand_in(2, 1000, 7);    /* thread 0 is on to second 2 */
	hand_in(1, 3000, 10);   /* thread 1 */
	cr_assert_eq(res.st[ST_ORDERS].nrows, 1);
	const struct second_row *r = &res.st[ST_ORDERS].rows[0];
	cr_assert_eq(r->t, 1);
	cr_assert_eq(r->answered, 30);
	cr_assert(r->p50 >= 3000 && r->p50 < 3004, "the merged median: %llu", (unsigned long long)r->p50);
	cr_assert(r->max == 5000);
	bench_second_flush(&pr);
	cr_assert_eq(res.st[ST_ORDERS].nrows, 2, "the last second, partial, at the end");
	cr_assert_eq(res.st[ST_ORDERS].rows[1].t, 2);
	cr_assert_eq(rows_total(), 37);
	sec_teardown();
}

Test(bench_second, a_thread_4_s_behind_loses_nothing)
{
	sec_setup(2);
	for (uint32_t t = 1; t <= 6; t++)
		hand_in(t, 1000, 100); /* thread 0 runs ahead */
	for (uint32_t t = 1; t <= 6; t++)
		hand_in(t, 2000, 1);   /* thread 1 catches up late */
	bench_second_flush(&pr);
	cr_assert_eq(rows_total(), 606, "every value in some row");
	const struct second_row *rows = res.st[ST_ORDERS].rows;
	for (uint32_t i = 1; i < res.st[ST_ORDERS].nrows; i++)
		cr_assert_leq(rows[i - 1].t, rows[i].t, "rows in second order");
	/* Seconds 3 to 6 were still waiting for thread 1 and got its share; 1 and 2 had to
	 * make room and got a late row each. */
	uint32_t merged = 0, late = 0;
	for (uint32_t i = 0; i < res.st[ST_ORDERS].nrows; i++) {
		merged += rows[i].answered == 101;
		late += rows[i].answered == 1;
	}
	cr_assert_eq(merged, 4);
	cr_assert_eq(late, 2);
	sec_teardown();
}
