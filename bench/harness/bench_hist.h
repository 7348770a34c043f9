/* bench: a log-linear latency histogram in the manner of HdrHistogram (Gil Tene's design,
 * written again here from its published description; no code taken).
 *
 * Values are integers (the harness records nanoseconds). Each power-of-two range of values is
 * split into 2048 linear sub-buckets, so any recorded value is kept to within 1 part in 1024
 * (better than 3 significant decimal digits) with memory fixed at creation: about 27 x 1024
 * counters for a highest trackable value of 100 s in nanoseconds. Two histograms made with
 * the same highest value have the same layout and merge by adding counters, which is how the
 * harness keeps one histogram per reporting interval and one for the whole run.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bench_hist {
	uint64_t highest;        /* largest value kept exactly; larger ones count as this */
	uint64_t total;          /* values recorded */
	uint64_t saturated;      /* values above highest (recorded as highest) */
	uint64_t min, max;       /* exact extremes of what was recorded */
	double sum;              /* for the mean */
	double sum_sq;           /* for the standard deviation */
	uint32_t bucket_count;   /* power-of-two ranges */
	uint32_t counts_len;
	uint64_t *counts;
};

/* Sub-bucket layout: 2048 sub-buckets per range (1024 in every range after the first, which
 * covers 0..2047 exactly), i.e. a relative resolution of 1/1024. */
#define BENCH_HIST_SUB_BITS 11

/* Allocates the counters for values 0..highest (highest >= 2048). Returns 0 or -1. */
int bench_hist_init(struct bench_hist *h, uint64_t highest);
void bench_hist_free(struct bench_hist *h);
void bench_hist_reset(struct bench_hist *h);
void bench_hist_record(struct bench_hist *h, uint64_t v);
/* dst += src; both made with the same highest (same layout). Returns 0 or -1. */
int bench_hist_add(struct bench_hist *dst, const struct bench_hist *src);

/* The value at or below which p percent (0..100) of the recorded values fall, reported as the
 * highest value equivalent to it (so a percentile is never understated), and capped at the exact
 * maximum. 0 for an empty histogram. */
uint64_t bench_hist_percentile(const struct bench_hist *h, double p);
double bench_hist_mean(const struct bench_hist *h);
double bench_hist_stddev(const struct bench_hist *h);

/* HdrHistogram's percentile-distribution text ("Value Percentile TotalCount 1/(1-Percentile)",
 * 5 ticks per half distance, the #[Mean ...] footer), values divided by unit_div (1000 for
 * microseconds from nanoseconds). csv: the same rows as CSV with a header line. */
void bench_hist_write_distribution(const struct bench_hist *h, FILE *f, double unit_div, bool csv);

/* Index arithmetic, exposed for the self-test. */
uint64_t bench_hist_lowest_equivalent(uint64_t v);
uint64_t bench_hist_highest_equivalent(uint64_t v);

#endif
