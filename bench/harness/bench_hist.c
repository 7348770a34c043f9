/* bench: log-linear latency histogram (see bench_hist.h). */
#include "bench_hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_COUNT (1u << BENCH_HIST_SUB_BITS)        /* 2048 */
#define HALF_BITS (BENCH_HIST_SUB_BITS - 1)          /* 10 */
#define HALF_COUNT (1u << HALF_BITS)                 /* 1024 */

/* Range b holds values [1024 << b, 2048 << b) (range 0 holds 0..2047), each sub-bucket 1 << b
 * wide: the position of the highest set bit picks the range, the next 10 bits the sub-bucket. */
static uint32_t bucket_of(uint64_t v)
{
	return (uint32_t)(63 - __builtin_clzll(v | (SUB_COUNT - 1))) - HALF_BITS;
}

static uint32_t index_of(uint64_t v)
{
	uint32_t b = bucket_of(v);
	uint32_t sub = (uint32_t)(v >> b);

	return ((b + 1) << HALF_BITS) + (sub - HALF_COUNT);
}

static uint64_t value_of(uint32_t i)
{
	int b = (int)(i >> HALF_BITS) - 1;
	uint64_t sub = (i & (HALF_COUNT - 1)) + HALF_COUNT;

	if (b < 0) {
		b = 0;
		sub -= HALF_COUNT;
	}
	return sub << b;
}

uint64_t bench_hist_lowest_equivalent(uint64_t v)
{
	uint32_t b = bucket_of(v);

	return (v >> b) << b;
}

uint64_t bench_hist_highest_equivalent(uint64_t v)
{
	return bench_hist_lowest_equivalent(v) + (1ull << bucket_of(v)) - 1;
}

int bench_hist_init(struct bench_hist *h, uint64_t highest)
{
	memset(h, 0, sizeof(*h));
	if (highest < SUB_COUNT || highest > (1ull << 62))
		return -1;
	uint32_t buckets = 1;
	for (uint64_t untrackable = SUB_COUNT; untrackable <= highest; untrackable <<= 1)
		buckets++;
	h->highest = highest;
	h->bucket_count = buckets;
	h->counts_len = (buckets + 1) << HALF_BITS;
	h->counts = calloc(h->counts_len, sizeof(h->counts[0]));
	if (h->counts == NULL)
		return -1;
	bench_hist_reset(h);
	return 0;
}

void bench_hist_free(struct bench_hist *h)
{
	free(h->counts);
	h->counts = NULL;
}

void bench_hist_reset(struct bench_hist *h)
{
	memset(h->counts, 0, h->counts_len * sizeof(h->counts[0]));
	h->total = h->saturated = h->max = 0;
	h->min = UINT64_MAX;
	h->sum = h->sum_sq = 0;
}

void bench_hist_record(struct bench_hist *h, uint64_t v)
{
	if (v > h->highest) {
		v = h->highest;
		h->saturated++;
	}
	h->counts[index_of(v)]++;
	h->total++;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->sum += (double)v;
	h->sum_sq += (double)v * (double)v;
}

int bench_hist_add(struct bench_hist *dst, const struct bench_hist *src)
{
	if (dst->counts_len != src->counts_len)
		return -1;
	for (uint32_t i = 0; i < src->counts_len; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->saturated += src->saturated;
	if (src->total > 0) {
		if (src->min < dst->min)
			dst->min = src->min;
		if (src->max > dst->max)
			dst->max = src->max;
	}
	dst->sum += src->sum;
	dst->sum_sq += src->sum_sq;
	return 0;
}

uint64_t bench_hist_percentile(const struct bench_hist *h, double p)
{
	if (h->total == 0)
		return 0;
	if (p > 100)
		p = 100;
	uint64_t want = (uint64_t)(p / 100.0 * (double)h->total + 0.5);
	if (want < 1)
		want = 1;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < h->counts_len; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			uint64_t v = bench_hist_highest_equivalent(value_of(i));
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

double bench_hist_mean(const struct bench_hist *h)
{
	return h->total ? h->sum / (double)h->total : 0;
}

double bench_hist_stddev(const struct bench_hist *h)
{
	if (h->total == 0)
		return 0;
	double m = bench_hist_mean(h);
	double var = h->sum_sq / (double)h->total - m * m;
	return var > 0 ? sqrt(var) : 0;
}

static void row(FILE *f, bool csv, double value, double pct, uint64_t count)
{
	double q = pct / 100.0;

	if (csv) {
		if (q < 1.0)
			fprintf(f, "%.3f,%.12f,%llu,%.2f\n", value, q, (unsigned long long)count,
				1.0 / (1.0 - q));
		else
			fprintf(f, "%.3f,%.12f,%llu,Infinity\n", value, q, (unsigned long long)count);
	} else if (q < 1.0) {
		fprintf(f, "%12.3f %14.12f %10llu %14.2f\n", value, q, (unsigned long long)count,
			1.0 / (1.0 - q));
	} else {
		fprintf(f, "%12.3f %14.12f %10llu\n", value, q, (unsigned long long)count);
	}
}

void bench_hist_write_distribution(const struct bench_hist *h, FILE *f, double unit_div, bool csv)
{
	const double ticks_per_half = 5;

	if (csv)
		fprintf(f, "Value,Percentile,TotalCount,1/(1-Percentile)\n");
	else
		fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
			"1/(1-Percentile)");
	if (h->total > 0) {
		/* As HdrHistogram's percentile iterator: the reporting step halves every time the
		 * distance to 100 % halves, so the tail gets as many rows as the body. */
		double level = 0;
		uint64_t seen = 0;
		for (uint32_t i = 0; i < h->counts_len && seen < h->total; i++) {
			if (h->counts[i] == 0)
				continue;
			seen += h->counts[i];
			double reached = 100.0 * (double)seen / (double)h->total;
			uint64_t v = bench_hist_highest_equivalent(value_of(i));
			if (v > h->max)
				v = h->max;
			while (reached >= level && level < 100) {
				row(f, csv, (double)v / unit_div, level, seen);
				double half = pow(2, floor(log2(100.0 / (100.0 - level))) + 1);
				level += 100.0 / (ticks_per_half * half);
				/* At the last value, stop once a step is finer than one count. */
				if (seen == h->total &&
				    (100.0 - level) / 100.0 * (double)h->total < 1.0)
					break;
			}
		}
		row(f, csv, (double)h->max / unit_div, 100.0, h->total);
	}
	if (!csv) {
		fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n",
			bench_hist_mean(h) / unit_div, bench_hist_stddev(h) / unit_div);
		fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n",
			(double)h->max / unit_div, (unsigned long long)h->total);
		fprintf(f, "#[Buckets = %12u, SubBuckets     = %12u]\n", h->bucket_count, SUB_COUNT);
	}
}
