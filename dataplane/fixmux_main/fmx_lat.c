/* fixmux_main: percentiles of the internal latency histograms (control path). */
#include <math.h>
#include <string.h>

#include "fmx_app.h"

const char *const fmx_lat_dir_names[FMX_LAT__DIRS] = {"client_to_venue", "venue_to_client"};

/* The highest value a bucket holds: the value a percentile reports, so that a percentile is
 * never below the truth. */
static uint64_t bucket_high(unsigned i)
{
	if (i < (1u << FMX_LAT_SUB_BITS))
		return i;
	unsigned e = (i >> FMX_LAT_SUB_BITS) + FMX_LAT_SUB_BITS - 1;
	uint64_t m = (1u << FMX_LAT_SUB_BITS) | (i & ((1u << FMX_LAT_SUB_BITS) - 1));
	return ((m + 1) << (e - FMX_LAT_SUB_BITS)) - 1;
}

void fmx_hist_merge(struct fmx_hist *dst, const struct fmx_hist *src)
{
	if (src->n == 0)
		return;
	if (dst->n == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->sum += src->sum;
	for (unsigned i = 0; i < FMX_LAT_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t fmx_hist_percentile(const struct fmx_hist *h, double p)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t)ceil(p * (double)h->n);
	if (want == 0)
		want = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < FMX_LAT_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want)
			return bucket_high(i) < h->max ? bucket_high(i) : h->max;
	}
	return h->max;
}

/* The lowest value a bucket holds. */
static uint64_t bucket_low(unsigned i)
{
	return i == 0 ? 0 : bucket_high(i - 1) + 1;
}

void fmx_hist_since(struct fmx_hist *h, const struct fmx_hist *base)
{
	if (base->n == 0)
		return;
	if (base->n >= h->n) {
		memset(h, 0, sizeof(*h));
		return;
	}
	h->n -= base->n;
	h->sum -= base->sum;
	unsigned lo = FMX_LAT_BUCKETS, hi = 0;
	for (unsigned i = 0; i < FMX_LAT_BUCKETS; i++) {
		h->b[i] -= base->b[i];
		if (h->b[i] != 0) {
			if (lo == FMX_LAT_BUCKETS)
				lo = i;
			hi = i;
		}
	}
	/* The exact extremes since the baseline are not kept: the buckets bound them (the
	 * lowest value of the lowest bucket, the highest of the highest, within the
	 * whole run's exact extremes). */
	uint64_t mn = bucket_low(lo), mx = bucket_high(hi);
	h->min = mn > h->min ? mn : h->min;
	h->max = mx < h->max ? mx : h->max;
}
