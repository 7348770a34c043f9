/* bench: timing and reporting shared by the benchmark programs (see bench_util.h). */
#define _GNU_SOURCE /* nftw */
#include "bench_util.h"

#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

static double ticks_per_ns = 1.0;
static volatile uint64_t sink;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_ticks(void)
{
#if HAVE_TSC
	/* lfence before: earlier work has finished; after: later work has not started. */
	_mm_lfence();
	uint64_t t = __rdtsc();
	_mm_lfence();
	return t;
#else
	return mono_ns();
#endif
}

double bench_calibrate(void)
{
#if HAVE_TSC
	/* Three 20 ms windows; the TSC is constant and non-stop on the machines this runs on
	 * (constant_tsc nonstop_tsc in /proc/cpuinfo), so the median window is the rate. */
	double r[3];
	for (int k = 0; k < 3; k++) {
		uint64_t n0 = mono_ns(), t0 = bench_ticks();
		while (mono_ns() - n0 < 20000000u)
			;
		uint64_t n1 = mono_ns(), t1 = bench_ticks();
		r[k] = (double)(t1 - t0) / (double)(n1 - n0);
	}
	if (r[0] > r[1]) { double t = r[0]; r[0] = r[1]; r[1] = t; }
	if (r[1] > r[2]) { double t = r[1]; r[1] = r[2]; r[2] = t; }
	if (r[0] > r[1]) { double t = r[0]; r[0] = r[1]; r[1] = t; }
	ticks_per_ns = r[1];
#else
	ticks_per_ns = 1.0;
#endif
	return ticks_per_ns;
}

double bench_ticks_per_ns(void)
{
	return ticks_per_ns;
}

const char *bench_clock_name(void)
{
	return HAVE_TSC ? "tsc" : "clock_gettime";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double run_batch(bench_fn fn, void *ctx, uint32_t batch)
{
	uint64_t acc = 0;
	uint64_t t0 = bench_ticks();

	for (uint32_t i = 0; i < batch; i++)
		acc += fn(ctx, i);
	uint64_t t1 = bench_ticks();
	sink += acc;
	return (double)(t1 - t0) / ticks_per_ns;
}

void bench_measure(bench_fn fn, void *ctx, double budget_ms, uint32_t max_batch,
		   uint32_t min_samples, struct bench_stats *st)
{
	/* Find the batch that costs about 50 us: long enough to hide the fenced clock reads
	 * (~30 ns), short enough that many samples fit and an interruption spoils few. */
	uint32_t batch = 1;
	double t;
	for (;;) {
		t = run_batch(fn, ctx, batch);
		if (t >= 50000.0 || batch >= max_batch)
			break;
		batch = batch * 2 > max_batch ? max_batch : batch * 2;
	}
	uint32_t samples = (uint32_t)(budget_ms * 1e6 / (t > 1.0 ? t : 1.0));
	if (samples < min_samples)
		samples = min_samples;
	if (samples > 200000)
		samples = 200000;
	double *v = malloc(samples * sizeof(*v));
	if (!v)
		bench_fail("out of memory for %u samples", samples);
	for (uint32_t k = 0; k < samples / 10 + 1; k++) /* warm caches and predictors */
		run_batch(fn, ctx, batch);
	double sum = 0;
	for (uint32_t k = 0; k < samples; k++) {
		v[k] = run_batch(fn, ctx, batch) / batch;
		sum += v[k];
	}
	qsort(v, samples, sizeof(*v), cmp_double);
	st->samples = samples;
	st->batch = batch;
	st->min_ns = v[0];
	st->median_ns = v[samples / 2];
	uint32_t i99 = (uint32_t)ceil(0.99 * samples);
	st->p99_ns = v[i99 ? i99 - 1 : 0];
	st->mean_ns = sum / samples;
	st->msgs_per_s = st->mean_ns > 0 ? 1e9 / st->mean_ns : 0;
	free(v);
}

double bench_ratio_interleaved(bench_fn a, void *ctx_a, bench_fn b, void *ctx_b,
			       double budget_ms, int rounds)
{
	double r[64];
	struct bench_stats sa, sb;

	if (rounds < 1)
		rounds = 1;
	if (rounds > 64)
		rounds = 64;
	for (int i = 0; i < rounds; i++) {
		bench_measure(a, ctx_a, budget_ms / rounds / 2, 1000, 30, &sa);
		bench_measure(b, ctx_b, budget_ms / rounds / 2, 1000, 30, &sb);
		r[i] = sb.median_ns / sa.median_ns;
	}
	qsort(r, (size_t)rounds, sizeof(r[0]), cmp_double);
	return r[rounds / 2];
}

void bench_parse_opts(int argc, char **argv, struct bench_opts *o, const char *extra_usage)
{
	memset(o, 0, sizeof(*o));
	o->budget_ms = 300;
	o->iterations = 1000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			o->json = true;
		} else if (!strcmp(argv[i], "--callgrind")) {
			o->callgrind = true;
		} else if (!strcmp(argv[i], "--budget-ms") && i + 1 < argc) {
			o->budget_ms = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
			o->iterations = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr,
				"usage: %s [--json] [--budget-ms N] [--callgrind [--iterations N]]\n"
				"  --json         one JSON object per figure, one per line\n"
				"  --budget-ms N  measuring time per figure in ms (default 300)\n"
				"  --callgrind    run each workload --iterations times (default 1000)\n"
				"                 without timing, for valgrind --tool=callgrind\n%s",
				argv[0], extra_usage ? extra_usage : "");
			exit(2);
		}
	}
}

static void cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(out, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');
			if (p) {
				p += 2;
				p[strcspn(p, "\n")] = 0;
				snprintf(out, len, "%s", p);
			}
			break;
		}
	}
	fclose(f);
}

void bench_print_meta(const struct bench_opts *o, const char *bench)
{
	char cpu[256], date[64];
	struct utsname u;
	time_t now = time(NULL);

	double load[3] = { -1, -1, -1 };

	cpu_model(cpu, sizeof(cpu));
	uname(&u);
	/* Other processes' load is the main noise source on a shared box: print it with the
	 * figures so a reader can judge them. */
	if (getloadavg(load, 3) < 1)
		load[0] = -1;
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (o->json) {
		printf("{\"bench\":\"%s\",\"meta\":true,\"cpu\":\"%s\",\"cpus\":%ld,"
		       "\"kernel\":\"%s\",\"date\":\"%s\",\"clock\":\"%s\","
		       "\"ticks_per_ns\":%.4f,\"loadavg_1min\":%.2f}\n",
		       bench, cpu, sysconf(_SC_NPROCESSORS_ONLN), u.release, date,
		       bench_clock_name(), ticks_per_ns, load[0]);
	} else {
		printf("%s: %s, %ld CPUs, Linux %s, %s, clock %s (%.3f GHz), load average "
		       "%.2f\n", bench, cpu, sysconf(_SC_NPROCESSORS_ONLN), u.release, date,
		       bench_clock_name(), ticks_per_ns, load[0]);
	}
	fflush(stdout);
}

void bench_print_table_header(const struct bench_opts *o, const char *title)
{
	if (o->json)
		return;
	printf("\n%s\n%-22s %-12s %-14s %9s %10s %10s %13s  %s\n", title, "workload", "message",
	       "implementation", "min ns", "median ns", "p99 ns", "msgs/s", "ratio (medians)");
}

void bench_print_row(const struct bench_opts *o, const char *bench, const char *workload,
		     const char *impl, const char *msg, const struct bench_stats *st,
		     const char *ratio_name, double ratio)
{
	if (o->json) {
		printf("{\"bench\":\"%s\",\"workload\":\"%s\",\"msg\":\"%s\",\"impl\":\"%s\","
		       "\"median_ns\":%.2f,\"p99_ns\":%.2f,\"mean_ns\":%.2f,\"min_ns\":%.2f,"
		       "\"msgs_per_s\":%.0f,\"samples\":%u,\"batch\":%u,\"clock\":\"%s\"",
		       bench, workload, msg, impl, st->median_ns, st->p99_ns, st->mean_ns,
		       st->min_ns, st->msgs_per_s, st->samples, st->batch, bench_clock_name());
		if (ratio_name)
			printf(",\"ratio_name\":\"%s\",\"ratio\":%.2f", ratio_name, ratio);
		printf("}\n");
	} else {
		printf("%-22s %-12s %-14s %9.1f %10.1f %10.1f %13.0f", workload, msg, impl,
		       st->min_ns, st->median_ns, st->p99_ns, st->msgs_per_s);
		if (ratio_name)
			printf("  %.2fx %s", ratio, ratio_name);
		printf("\n");
	}
	fflush(stdout);
}

void bench_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "BENCHMARK CHECK FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

int bench_take_dir_count(int argc, char **argv, const char **dir, uint32_t *count)
{
	int k = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			*dir = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			*count = (uint32_t)strtoul(argv[++i], NULL, 10);
		else
			argv[k++] = argv[i];
	}
	return k;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb, (void)flag, (void)f;
	return remove(p);
}

void bench_rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
