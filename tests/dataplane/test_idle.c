/* Idle strategies: parsing, the back-off's phases in order, reset on work, bounded sleeps. */
#include <string.h>

#include <criterion/criterion.h>

#include "dp_idle.h"

static char err[256];

Test(idle, parse_each_strategy_and_refuse_nonsense)
{
	struct dp_idle_conf c;
	cr_assert_eq(dp_idle_parse(&c, "spin", err, sizeof(err)), 0);
	cr_expect_eq(c.kind, DP_IDLE_SPIN);
	cr_assert_eq(dp_idle_parse(&c, "backoff", err, sizeof(err)), 0);
	cr_expect_eq(c.kind, DP_IDLE_BACKOFF);
	cr_assert_eq(dp_idle_parse(&c, "backoff:250", err, sizeof(err)), 0);
	cr_expect_eq(c.max_ns, 250000);
	cr_assert_eq(dp_idle_parse(&c, "sleep:50", err, sizeof(err)), 0);
	cr_expect_eq(c.kind, DP_IDLE_SLEEP);
	cr_expect_eq(c.max_ns, 50000);
	cr_expect_eq(dp_idle_parse(&c, "snooze", err, sizeof(err)), -1);
	cr_expect(strstr(err, "snooze") != NULL, "%s", err);
	cr_expect_eq(dp_idle_parse(&c, "sleep:", err, sizeof(err)), -1);
	cr_expect_eq(dp_idle_parse(&c, "sleep:0", err, sizeof(err)), -1);
	cr_expect_eq(dp_idle_parse(&c, "sleep:1x", err, sizeof(err)), -1);
	cr_expect_eq(dp_idle_parse(&c, "spin:5", err, sizeof(err)), -1);
	cr_expect_eq(dp_idle_parse(&c, "spinning", err, sizeof(err)), -1);
}

Test(idle, spin_never_pauses_yields_or_sleeps)
{
	struct dp_idle i;
	struct dp_idle_conf c = { .kind = DP_IDLE_SPIN };
	dp_idle_init(&i, &c);
	for (int n = 0; n < 10000; n++)
		dp_idle(&i, 0);
	cr_expect_eq(i.n_pause + i.n_yield + i.n_sleep, 0);
}

Test(idle, backoff_goes_spin_pause_yield_then_growing_sleep)
{
	struct dp_idle i;
	struct dp_idle_conf c = { .kind = DP_IDLE_BACKOFF, .spins = 3, .pauses = 4, .yields = 2,
				  .min_ns = 1000, .max_ns = 8000 };
	dp_idle_init(&i, &c);
	const enum dp_idle_phase want[] = {
		DP_IDLE_PHASE_SPIN,  DP_IDLE_PHASE_SPIN,  DP_IDLE_PHASE_SPIN,  DP_IDLE_PHASE_PAUSE,
		DP_IDLE_PHASE_PAUSE, DP_IDLE_PHASE_PAUSE, DP_IDLE_PHASE_PAUSE, DP_IDLE_PHASE_YIELD,
		DP_IDLE_PHASE_YIELD, DP_IDLE_PHASE_SLEEP, DP_IDLE_PHASE_SLEEP,
	};
	for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++) {
		cr_assert_eq(dp_idle_phase(&i), want[n], "idle iteration %zu", n);
		dp_idle(&i, 0);
	}
	cr_expect_eq(i.n_pause, 4);
	cr_expect_eq(i.n_yield, 2);
	cr_expect_eq(i.n_sleep, 2);
	/* 1 us, 2 us slept; next 4 us, then 8 us, then capped at 8 us */
	cr_expect_eq(i.sleep_ns, 4000);
	dp_idle(&i, 0);
	dp_idle(&i, 0);
	cr_expect_eq(i.sleep_ns, 8000, "sleep grew past max_ns");
}

Test(idle, work_resets_the_backoff)
{
	struct dp_idle i;
	struct dp_idle_conf c = { .kind = DP_IDLE_BACKOFF, .spins = 1, .pauses = 1, .yields = 1,
				  .min_ns = 1000, .max_ns = 4000 };
	dp_idle_init(&i, &c);
	for (int n = 0; n < 6; n++)
		dp_idle(&i, 0);
	cr_assert_eq(dp_idle_phase(&i), DP_IDLE_PHASE_SLEEP);
	cr_assert_gt(i.sleep_ns, 1000);
	dp_idle(&i, 5);
	cr_expect_eq(dp_idle_phase(&i), DP_IDLE_PHASE_SPIN);
	cr_expect_eq(i.sleep_ns, 1000);
}

Test(idle, sleep_sleeps_every_idle_iteration_only)
{
	struct dp_idle i;
	struct dp_idle_conf c;
	cr_assert_eq(dp_idle_parse(&c, "sleep:1", err, sizeof(err)), 0);
	dp_idle_init(&i, &c);
	dp_idle(&i, 0);
	dp_idle(&i, 1);
	dp_idle(&i, 0);
	cr_expect_eq(i.n_sleep, 2);
}

Test(idle, backoff_defaults_are_filled_in)
{
	struct dp_idle i;
	struct dp_idle_conf c = { .kind = DP_IDLE_BACKOFF };
	dp_idle_init(&i, &c);
	cr_expect_gt(i.conf.spins, 0);
	cr_expect_gt(i.conf.yields, 0, "the default back-off must yield on a shared box");
	cr_expect_gt(i.conf.min_ns, 0);
	cr_expect_geq(i.conf.max_ns, i.conf.min_ns);
	cr_expect_str_eq(dp_idle_kind_name(DP_IDLE_BACKOFF), "backoff");
}
