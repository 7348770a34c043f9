/* The poll loop (agents, slow agent cadence, idle on no work, stop) and the --roles / --idle
 * option parsing into a role table. */
#include <pthread.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dp_lcore.h"
#include "dp_test_eal.h"

static char err[256];

struct counter {
	unsigned calls;
	unsigned work_per_call;
	uint64_t last_now;
};

static unsigned count_work(void *arg, uint64_t now_us)
{
	struct counter *c = arg;
	c->calls++;
	c->last_now = now_us;
	return c->work_per_call;
}

Test(lcore, every_agent_runs_each_iteration_with_the_same_clock)
{
	struct dp_lcore_loop l;
	struct dp_idle_conf idle = { .kind = DP_IDLE_SPIN };
	dp_lcore_loop_init(&l, &idle);
	struct counter a = { .work_per_call = 2 }, b = { .work_per_call = 1 };
	cr_assert_eq(dp_lcore_add(&l, "a", count_work, &a), 0);
	cr_assert_eq(dp_lcore_add(&l, "b", count_work, &b), 0);
	cr_expect_eq(dp_lcore_once(&l, 42), 3);
	cr_expect_eq(a.last_now, 42);
	cr_expect_eq(b.last_now, 42);
	cr_expect_eq(l.work, 3);
	cr_expect_eq(l.idle_iterations, 0);
}

Test(lcore, idle_strategy_runs_only_when_nothing_was_done)
{
	struct dp_lcore_loop l;
	struct dp_idle_conf idle = { .kind = DP_IDLE_BACKOFF, .spins = 1, .pauses = 100 };
	dp_lcore_loop_init(&l, &idle);
	struct counter a = { .work_per_call = 0 };
	dp_lcore_add(&l, "a", count_work, &a);
	for (int i = 0; i < 5; i++)
		dp_lcore_once(&l, 0);
	cr_expect_eq(l.idle_iterations, 5);
	cr_expect_eq(l.idle.n_pause, 4);
	a.work_per_call = 1;
	dp_lcore_once(&l, 0);
	cr_expect_eq(l.idle.idle_iters, 0, "work did not reset the back-off");
}

Test(lcore, slow_agent_runs_every_n_iterations)
{
	struct dp_lcore_loop l;
	struct dp_idle_conf idle = { .kind = DP_IDLE_SPIN };
	dp_lcore_loop_init(&l, &idle);
	struct counter fast = { .work_per_call = 1 }, slow = { .work_per_call = 1 };
	dp_lcore_add(&l, "fast", count_work, &fast);
	l.slow = (struct dp_agent){ "slow", count_work, &slow };
	l.slow_every = 10;
	for (int i = 0; i < 95; i++)
		dp_lcore_once(&l, 0);
	cr_expect_eq(fast.calls, 95);
	cr_expect_eq(slow.calls, 9);
}

Test(lcore, agent_table_is_bounded)
{
	struct dp_lcore_loop l;
	struct dp_idle_conf idle = { .kind = DP_IDLE_SPIN };
	dp_lcore_loop_init(&l, &idle);
	struct counter c = { 0 };
	for (int i = 0; i < DP_LCORE_AGENTS_MAX; i++)
		cr_assert_eq(dp_lcore_add(&l, "x", count_work, &c), 0);
	cr_expect_eq(dp_lcore_add(&l, "x", count_work, &c), -1);
	cr_expect_eq(dp_lcore_add(&l, "x", NULL, &c), -1);
}

static void *stopper(void *arg)
{
	struct counter *c = ((void **)arg)[1];
	struct dp_lcore_loop *l = ((void **)arg)[0];
	while (__atomic_load_n(&c->calls, __ATOMIC_RELAXED) < 100)
		sched_yield();
	dp_lcore_stop(l);
	return NULL;
}

Test(lcore, run_returns_after_stop_from_another_thread, .init = dp_test_eal_init)
{
	struct dp_lcore_loop l;
	struct dp_idle_conf idle = { .kind = DP_IDLE_BACKOFF, .min_ns = 1000, .max_ns = 100000 };
	dp_lcore_loop_init(&l, &idle);
	struct counter c = { .work_per_call = 0 };
	dp_lcore_add(&l, "idle", count_work, &c);
	void *args[2] = { &l, &c };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, stopper, args), 0);
	cr_expect_eq(dp_lcore_run(&l), 0);
	pthread_join(t, NULL);
	cr_expect_geq(c.calls, 100);
	cr_expect_gt(c.last_now, 0, "the loop did not pass the TSC clock");
}

Test(roles, parse_maps_roles_onto_lcores)
{
	static struct dp_role_map m;
	cr_assert_eq(dp_roles_parse(&m, "client:1,venue:1,control:0", err, sizeof(err)), 0, "%s", err);
	unsigned l[4];
	cr_expect_eq(dp_roles_lcores(&m, DP_ROLE_CLIENT, l, 4), 1);
	cr_expect_eq(l[0], 1);
	cr_expect_eq(dp_roles_lcores(&m, DP_ROLE_CONTROL, l, 4), 1);
	cr_expect_eq(l[0], 0);
	cr_expect_eq(dp_roles_of_lcore(&m, 1), (1u << DP_ROLE_CLIENT) | (1u << DP_ROLE_VENUE));
	cr_expect_eq(dp_roles_of_lcore(&m, 0), 1u << DP_ROLE_CONTROL);
	cr_expect_eq(dp_roles_of_lcore(&m, 5), 0);
	cr_expect_eq(dp_roles_require(&m, 7, err, sizeof(err)), 0);
}

Test(roles, a_role_on_several_lcores_keeps_their_order)
{
	static struct dp_role_map m;
	cr_assert_eq(dp_roles_parse(&m, "client:3,client:2,venue:4", err, sizeof(err)), 0);
	unsigned l[1];
	cr_expect_eq(dp_roles_lcores(&m, DP_ROLE_CLIENT, l, 1), 2, "count beyond max is reported");
	cr_expect_eq(l[0], 3);
	cr_expect_eq(dp_roles_require(&m, 1u << DP_ROLE_CONTROL, err, sizeof(err)), -1);
	cr_expect(strstr(err, "control") != NULL, "%s", err);
}

Test(roles, parse_rejects_bad_input_with_a_message)
{
	static struct dp_role_map m;
	const char *bad[] = { "",          "client",       "client:",     ":1",
			      "trader:1",  "client:x",     "client:-1",   "client:128",
			      "client:1,", "client:1,,venue:1", "client:1,client:1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_expect_eq(dp_roles_parse(&m, bad[i], err, sizeof(err)), -1, "accepted \"%s\"", bad[i]);
		cr_expect(strstr(err, "--roles") != NULL, "\"%s\": message \"%s\"", bad[i], err);
		cr_expect_eq(m.n, 0, "a failed parse left entries");
	}
}

Test(roles, idle_per_lcore_with_default_for_the_rest)
{
	static struct dp_role_map m;
	cr_assert_eq(dp_roles_parse(&m, "client:1,control:0", err, sizeof(err)), 0);
	cr_assert_eq(dp_roles_parse_idle(&m, "0:sleep:100,1:spin", err, sizeof(err)), 0, "%s", err);
	struct dp_idle_conf dflt = { .kind = DP_IDLE_BACKOFF };
	cr_expect_eq(dp_roles_idle(&m, 0, &dflt)->kind, DP_IDLE_SLEEP);
	cr_expect_eq(dp_roles_idle(&m, 0, &dflt)->max_ns, 100000);
	cr_expect_eq(dp_roles_idle(&m, 1, &dflt)->kind, DP_IDLE_SPIN);
	cr_expect_eq(dp_roles_idle(&m, 2, &dflt), &dflt);
	cr_expect_eq(dp_roles_parse_idle(&m, "1:spin,1:sleep", err, sizeof(err)), -1);
	cr_expect_eq(dp_roles_parse_idle(&m, "1:nap", err, sizeof(err)), -1);
	cr_expect(strstr(err, "nap") != NULL, "%s", err);
}

Test(roles, lcores_not_enabled_in_the_eal_are_refused, .init = dp_test_eal_init)
{
	static struct dp_role_map m;
	cr_assert_eq(dp_roles_parse(&m, "client:0,venue:0,control:0", err, sizeof(err)), 0);
	cr_expect_eq(dp_roles_check_eal(&m, err, sizeof(err)), 0, "%s", err);
	/* the test EAL runs with -l 0 only */
	cr_assert_eq(dp_roles_parse(&m, "client:0,venue:1", err, sizeof(err)), 0);
	cr_expect_eq(dp_roles_check_eal(&m, err, sizeof(err)), -1);
	cr_expect(strstr(err, "venue:1") != NULL, "%s", err);
}
