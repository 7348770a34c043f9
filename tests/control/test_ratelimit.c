/* Token bucket: burst, steady refill, unlimited, refund, no overflow after long idleness. */
#include <criterion/criterion.h>

#include "ctl_ratelimit.h"

#define MS 1000000LL

Test(bucket, burst_then_refill_at_the_rate)
{
	struct ctl_bucket b;
	int64_t t = 1000 * MS;
	ctl_bucket_init(&b, 100, 10, t); /* 100/s, burst 10 */
	for (int i = 0; i < 10; i++)
		cr_assert(ctl_bucket_take(&b, t), "burst message %d", i);
	cr_assert_not(ctl_bucket_take(&b, t), "the 11th at once is refused");
	cr_assert_not(ctl_bucket_take(&b, t + 9 * MS), "9 ms refill less than one token");
	cr_assert(ctl_bucket_take(&b, t + 10 * MS), "10 ms at 100/s is one token");
	cr_assert_not(ctl_bucket_take(&b, t + 10 * MS));
	/* One second later: 100 tokens, but the bucket holds 10. */
	int ok = 0;
	for (int i = 0; i < 50; i++)
		ok += ctl_bucket_take(&b, t + 1010 * MS);
	cr_assert_eq(ok, 10);
	cr_assert_eq(b.passed, 21);
	cr_assert_eq(b.refused, 3 + 40);
}

Test(bucket, steady_rate_over_a_simulated_minute)
{
	struct ctl_bucket b;
	ctl_bucket_init(&b, 1000, 1, 0);
	int ok = 0;
	/* Offered at 2000/s for 60 s: about 1000/s pass. */
	for (int64_t t = 0; t < 60000 * MS; t += MS / 2)
		ok += ctl_bucket_take(&b, t);
	cr_assert(ok >= 59999 && ok <= 60001, "passed %d", ok);
}

Test(bucket, zero_rate_is_unlimited)
{
	struct ctl_bucket b;
	ctl_bucket_init(&b, 0, 0, 0);
	for (int i = 0; i < 100000; i++)
		cr_assert(ctl_bucket_take(&b, 0));
}

Test(bucket, long_idleness_does_not_overflow)
{
	struct ctl_bucket b;
	ctl_bucket_init(&b, 10000000, 5, 0);
	for (int i = 0; i < 5; i++)
		ctl_bucket_take(&b, 0);
	int64_t ten_years = 315360000LL * 1000000000LL;
	int ok = 0;
	for (int i = 0; i < 10; i++)
		ok += ctl_bucket_take(&b, ten_years);
	cr_assert_eq(ok, 5, "refilled to the burst, not beyond, not wrapped");
}

Test(bucket, refund_returns_a_token)
{
	struct ctl_bucket b;
	ctl_bucket_init(&b, 1, 1, 0);
	cr_assert(ctl_bucket_take(&b, 0));
	cr_assert_not(ctl_bucket_take(&b, 0));
	ctl_bucket_refund(&b);
	cr_assert(ctl_bucket_take(&b, 0));
}
