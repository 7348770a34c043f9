/* fixmux's internal latency histogram (fmx_app.h, fmx_lat.c): log-linear buckets, percentiles
 * never below the truth and at most one bucket (6.25 %) above it. */
#include <criterion/criterion.h>
#include <string.h>

#include "fmx_app.h"

static struct fmx_hist h;

static void reset(void)
{
	memset(&h, 0, sizeof(h));
}

TestSuite(lat_hist, .init = reset);

Test(lat_hist, bucket_index_is_monotonic_and_within_the_table)
{
	unsigned prev = 0;
	for (uint64_t v = 0; v < 100000; v++) {
		unsigned i = fmx_hist_index(v);
		cr_assert_geq(i, prev, "index went down at %lu", (unsigned long)v);
		prev = i;
	}
	cr_assert_lt(fmx_hist_index(UINT64_MAX), FMX_LAT_BUCKETS);
	cr_assert_eq(fmx_hist_index(15), 15, "small values are exact");
	cr_assert_eq(fmx_hist_index(16), 16);
}

Test(lat_hist, percentiles_are_never_below_and_at_most_a_sixteenth_above)
{
	/* 1..10000: the p-th percentile is p * 10000. */
	for (uint64_t v = 1; v <= 10000; v++)
		fmx_hist_record(&h, v);
	static const double ps[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		uint64_t want = (uint64_t)(ps[k] * 10000 + 0.5);
		uint64_t got = fmx_hist_percentile(&h, ps[k]);
		cr_assert_geq(got, want, "p%g: %lu < %lu", ps[k] * 100, (unsigned long)got,
			      (unsigned long)want);
		cr_assert_leq(got, want + want / 16, "p%g: %lu too far above %lu", ps[k] * 100,
			      (unsigned long)got, (unsigned long)want);
	}
	cr_assert_eq(fmx_hist_percentile(&h, 1.0), 10000, "the maximum is exact");
	cr_assert_eq(h.min, 1);
	cr_assert_eq(h.n, 10000);
}

Test(lat_hist, an_outlier_shows_only_in_the_tail)
{
	for (int i = 0; i < 9999; i++)
		fmx_hist_record(&h, 1000);
	fmx_hist_record(&h, 5000000);
	cr_assert_leq(fmx_hist_percentile(&h, 0.999), 1000 + 1000 / 16);
	cr_assert_eq(fmx_hist_percentile(&h, 1.0), 5000000);
}

Test(lat_hist, empty_reports_zero)
{
	cr_assert_eq(fmx_hist_percentile(&h, 0.5), 0);
}

Test(lat_hist, since_a_baseline_counts_only_what_came_after)
{
	for (int i = 0; i < 1000; i++)
		fmx_hist_record(&h, 100);
	fmx_hist_record(&h, 9000000);
	static struct fmx_hist base;
	base = h;
	for (int i = 0; i < 100; i++)
		fmx_hist_record(&h, 2000 + (uint64_t)i);
	fmx_hist_since(&h, &base);
	cr_assert_eq(h.n, 100);
	cr_assert_eq(h.sum, 100 * 2000 + 99 * 100 / 2);
	/* The old outlier and the old small values are gone from the percentiles. */
	cr_assert_eq(fmx_hist_percentile(&h, 1.0), h.max);
	cr_assert_geq(h.max, 2099);
	cr_assert_leq(h.max, 2099 + 2099 / 16, "max bounded by its bucket: %lu",
		      (unsigned long)h.max);
	cr_assert_leq(h.min, 2000);
	cr_assert_geq(h.min, 2000 - 2000 / 16, "min bounded by its bucket: %lu",
		      (unsigned long)h.min);
	cr_assert_geq(fmx_hist_percentile(&h, 0.5), 2049);
}

Test(lat_hist, since_a_baseline_with_nothing_new_is_empty)
{
	for (int i = 0; i < 10; i++)
		fmx_hist_record(&h, 500);
	static struct fmx_hist base;
	base = h;
	fmx_hist_since(&h, &base);
	cr_assert_eq(h.n, 0);
	cr_assert_eq(fmx_hist_percentile(&h, 0.99), 0);
	cr_assert_eq(h.max, 0);
}

Test(lat_hist, since_an_empty_baseline_changes_nothing)
{
	fmx_hist_record(&h, 7);
	fmx_hist_record(&h, 70000);
	static struct fmx_hist base; /* zero */
	fmx_hist_since(&h, &base);
	cr_assert_eq(h.n, 2);
	cr_assert_eq(h.min, 7);
	cr_assert_eq(h.max, 70000);
}
