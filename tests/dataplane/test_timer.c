/* The timer wheel: never early, fires at the first tick at or after expiry, late advances,
 * timers beyond one revolution, cancel and re-arm from callbacks. No DPDK needed. */
#include <criterion/criterion.h>

#include "dp_timer.h"

#define SLOTS 64

static struct dp_timer slots[SLOTS];
static struct dp_timer_wheel w;
static uint64_t fired_at[16];
static int fired_n[16];

static void note(struct dp_timer *t, void *arg, uint64_t now)
{
	(void)t;
	int i = (int)(intptr_t)arg;
	fired_at[i] = now;
	fired_n[i]++;
}

static void setup(void)
{
	dp_timer_wheel_init(&w, slots, SLOTS, 1, 1000);
	for (int i = 0; i < 16; i++) {
		fired_at[i] = 0;
		fired_n[i] = 0;
	}
}

TestSuite(timer, .init = setup);

Test(timer, fires_exactly_at_expiry_never_before)
{
	struct dp_timer t;
	dp_timer_init(&t, note, (void *)0);
	dp_timer_arm(&w, &t, 1010);
	cr_assert(dp_timer_armed(&t));
	for (uint64_t now = 1001; now < 1010; now++)
		cr_assert_eq(dp_timer_advance(&w, now), 0u);
	cr_assert_eq(dp_timer_advance(&w, 1010), 1u);
	cr_assert_eq(fired_at[0], 1010u);
	cr_assert(!dp_timer_armed(&t));
	cr_assert_eq(dp_timer_advance(&w, 5000), 0u, "one shot");
}

Test(timer, beyond_one_revolution_and_late_advance)
{
	struct dp_timer a, b;
	dp_timer_init(&a, note, (void *)0);
	dp_timer_init(&b, note, (void *)1);
	dp_timer_arm(&w, &a, 1000 + 3 * SLOTS + 5); /* same slot as +5, three turns later */
	dp_timer_arm(&w, &b, 1005);
	dp_timer_advance(&w, 1005);
	cr_assert_eq(fired_n[1], 1);
	cr_assert_eq(fired_n[0], 0, "a timer three revolutions away waits");
	dp_timer_advance(&w, 1000 + 3 * SLOTS + 4);
	cr_assert_eq(fired_n[0], 0);
	/* A very late call still fires it once, with the late time. */
	dp_timer_advance(&w, 1000000);
	cr_assert_eq(fired_n[0], 1);
	cr_assert_eq(fired_at[0], 1000000u);
}

Test(timer, past_expiry_fires_on_next_advance)
{
	dp_timer_advance(&w, 2000);
	struct dp_timer t;
	dp_timer_init(&t, note, (void *)0);
	dp_timer_arm(&w, &t, 1500);
	cr_assert_eq(dp_timer_advance(&w, 2000), 0u, "same tick as last processed");
	cr_assert_eq(dp_timer_advance(&w, 2001), 1u);
}

Test(timer, cancel_and_rearm)
{
	struct dp_timer t;
	dp_timer_init(&t, note, (void *)0);
	dp_timer_arm(&w, &t, 1100);
	dp_timer_cancel(&w, &t);
	dp_timer_cancel(&w, &t); /* idempotent */
	dp_timer_advance(&w, 1200);
	cr_assert_eq(fired_n[0], 0);
	dp_timer_arm(&w, &t, 1300);
	dp_timer_arm(&w, &t, 1250); /* re-arm moves it */
	dp_timer_advance(&w, 1260);
	cr_assert_eq(fired_n[0], 1);
	cr_assert_eq(fired_at[0], 1260u);
	cr_assert_eq(w.armed, 0u);
}

static struct dp_timer chain[4];

static void cancel_next(struct dp_timer *t, void *arg, uint64_t now)
{
	(void)t;
	int i = (int)(intptr_t)arg;
	fired_n[i]++;
	fired_at[i] = now;
	if (i == 0)
		dp_timer_cancel(&w, &chain[1]); /* same slot, not yet run */
	if (i == 2)
		dp_timer_arm(&w, &chain[2], now + 10); /* periodic */
}

Test(timer, callbacks_may_cancel_others_and_rearm_themselves)
{
	for (int i = 0; i < 3; i++)
		dp_timer_init(&chain[i], cancel_next, (void *)(intptr_t)i);
	dp_timer_arm(&w, &chain[0], 1050);
	dp_timer_arm(&w, &chain[1], 1050);
	dp_timer_arm(&w, &chain[2], 1040);
	dp_timer_advance(&w, 1075);
	cr_assert_eq(fired_n[0], 1);
	cr_assert_eq(fired_n[1], 0, "cancelled by a callback in the same slot");
	cr_assert_eq(fired_n[2], 1, "re-armed at now + 10 = 1085: not yet");
	dp_timer_advance(&w, 1085);
	cr_assert_eq(fired_n[2], 2);
	cr_assert_eq(fired_at[2], 1085u);
	dp_timer_cancel(&w, &chain[2]);
	cr_assert_eq(w.armed, 0u);
}

Test(timer, clock_going_backwards_is_ignored)
{
	struct dp_timer t;
	dp_timer_init(&t, note, (void *)0);
	dp_timer_arm(&w, &t, 1100);
	dp_timer_advance(&w, 1050);
	cr_assert_eq(dp_timer_advance(&w, 10), 0u);
	cr_assert_eq(dp_timer_advance(&w, 1100), 1u);
}
