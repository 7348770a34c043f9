/* bench: timing and reporting shared by the benchmark programs.
 *
 * Timing: the TSC (rdtsc, fenced) around a batch of messages, converted with a frequency
 * calibrated against CLOCK_MONOTONIC_RAW at start-up; clock_gettime where there is no TSC.
 * One sample = one batch; many samples are sorted for the median and p99 of the per-message
 * cost (the batch mean), so a single slow message cannot be seen, but a slow batch can.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calibrates the tick source once; returns ticks per nanosecond. */
double bench_calibrate(void);
uint64_t bench_ticks(void);          /* serialised read of the tick counter */
double bench_ticks_per_ns(void);     /* after bench_calibrate */
const char *bench_clock_name(void);  /* "tsc" or "clock_gettime" */

/* Runs fn(ctx, i) for i in [0, batch) per sample; returns nothing: results in st. The body
 * returns a value that is accumulated into a sink so the compiler cannot drop the work. */
typedef uint64_t (*bench_fn)(void *ctx, uint32_t i);

struct bench_stats {
	double median_ns;    /* per message */
	double p99_ns;
	double mean_ns;
	double min_ns;
	double msgs_per_s;   /* from the mean */
	uint32_t samples;
	uint32_t batch;
};

/* Measures fn with an automatically chosen batch (about sample_us of work per sample, at
 * most max_batch) and as many samples as fit in budget_ms (at least min_samples). */
void bench_measure(bench_fn fn, void *ctx, double budget_ms, uint32_t max_batch,
		   uint32_t min_samples, struct bench_stats *st);

/* The ratio cost(b)/cost(a) on a machine whose load changes: a and b measured in alternation
 * for `rounds` rounds (each a and b get budget_ms / rounds / 2), the median of the per-round
 * ratios of medians. */
double bench_ratio_interleaved(bench_fn a, void *ctx_a, bench_fn b, void *ctx_b,
			       double budget_ms, int rounds);

/* Options every benchmark accepts. */
struct bench_opts {
	bool json;           /* --json: one JSON object per figure, one per line */
	double budget_ms;    /* --budget-ms N: time per figure (default 300) */
	bool callgrind;      /* --callgrind: few iterations, no timing (see callgrind.sh) */
	uint32_t iterations; /* --iterations N (callgrind mode) */
};
/* Parses argv; exits with usage on an unknown option. extra_usage may be NULL. */
void bench_parse_opts(int argc, char **argv, struct bench_opts *o, const char *extra_usage);

/* The options of the benchmarks that write journals: takes --dir DIR and --count N out of
 * argv (dir and count keep their defaults when absent) and returns the new argc; the rest is
 * left for bench_parse_opts. */
int bench_take_dir_count(int argc, char **argv, const char **dir, uint32_t *count);
/* Removes a directory and everything under it (a benchmark's scratch journals). */
void bench_rm_tree(const char *dir);

/* Prints the machine and run header (CPU model, kernel, date, clock) on the human output or
 * as a JSON "meta" object. */
void bench_print_meta(const struct bench_opts *o, const char *bench);

/* One figure: a human table row or a JSON line. ratio_name/ratio may be NULL/0 for none. */
void bench_print_row(const struct bench_opts *o, const char *bench, const char *workload,
		     const char *impl, const char *msg, const struct bench_stats *st,
		     const char *ratio_name, double ratio);
void bench_print_table_header(const struct bench_opts *o, const char *title);

/* Fails the benchmark: prints why and exits 1 (a benchmark that measured a wrong result
 * must not print figures as if it were right). */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#ifdef __cplusplus
}
#endif
#endif
