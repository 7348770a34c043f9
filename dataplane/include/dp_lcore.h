/* dp_lcore: the poll-mode loop of one lcore and the mapping of roles onto lcores.
 *
 * A loop runs a few agents in turn; each agent's do_work() returns the work it did (packets,
 * messages, timers). The clock is read once per iteration and handed to every agent. If an
 * iteration did nothing, the lcore's idle strategy runs (dp_idle.h). A slow agent (stats,
 * control requests) runs every slow_every iterations only.
 *
 * Roles: "--roles client:1,venue:1,control:0" maps each role to one or more lcores; a
 * role may appear several times (client:1,client:2: RSS spreads clients over both) and an
 * lcore may carry several roles (client:1,venue:1 on a 2-core box). "--idle 0:sleep,1:backoff"
 * chooses the idle strategy per lcore; unlisted lcores get the default passed in.
 */
#ifndef DP_LCORE_H
#define DP_LCORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_idle.h"

#define DP_LCORE_AGENTS_MAX 8
/* Largest lcore id a role table accepts (RTE_MAX_LCORE is 128 in the stock build). */
#define DP_LCORE_ID_MAX 127
#define DP_ROLE_ENTRIES_MAX 32

/* now_us: the iteration's clock (microseconds from the TSC). Returns the work done. */
typedef unsigned (*dp_work_fn)(void *arg, uint64_t now_us);

struct dp_agent {
	const char *name;
	dp_work_fn do_work;
	void *arg;
};

struct dp_lcore_loop {
	struct dp_agent agents[DP_LCORE_AGENTS_MAX];
	unsigned n_agents;
	struct dp_agent slow;      /* optional; do_work NULL = none */
	unsigned slow_every;       /* iterations between slow runs; 0 means 1024 */
	struct dp_idle idle;
	atomic_bool stop;          /* set from any thread to end dp_lcore_run() */
	/* written by the loop's lcore only */
	uint64_t iterations, idle_iterations, work;
};

void dp_lcore_loop_init(struct dp_lcore_loop *l, const struct dp_idle_conf *idle);
/* Adds an agent; -1 if the loop is full. Start-up only. */
int dp_lcore_add(struct dp_lcore_loop *l, const char *name, dp_work_fn fn, void *arg);
/* One iteration at now_us: every agent, maybe the slow one, then idle if nothing was done.
 * Returns the work done. */
unsigned dp_lcore_once(struct dp_lcore_loop *l, uint64_t now_us);
/* Loops until stop is set; lcore_function_t-compatible (arg = struct dp_lcore_loop *). */
int dp_lcore_run(void *loop);
void dp_lcore_stop(struct dp_lcore_loop *l);
/* Microseconds from the TSC, for now_us. */
uint64_t dp_lcore_now_us(void);

enum dp_role {
	DP_ROLE_CLIENT,
	DP_ROLE_VENUE,
	DP_ROLE_CONTROL,
	DP_ROLE_COUNT
};

const char *dp_role_name(enum dp_role r);

struct dp_role_entry {
	enum dp_role role;
	unsigned lcore;
};

struct dp_role_map {
	struct dp_role_entry e[DP_ROLE_ENTRIES_MAX];
	unsigned n;
	/* idle strategy per lcore; has_idle[l] false = use the default */
	struct dp_idle_conf idle[DP_LCORE_ID_MAX + 1];
	bool has_idle[DP_LCORE_ID_MAX + 1];
};

/* Parses a --roles value into m (which it clears first; idle choices are kept). Rejects
 * unknown roles, bad lcore numbers, empty items and duplicates. 0 / -1 with err. */
int dp_roles_parse(struct dp_role_map *m, const char *spec, char *err, size_t errlen);
/* Parses a --idle value ("<lcore>:<strategy>[,...]", strategies as dp_idle_parse()). */
int dp_roles_parse_idle(struct dp_role_map *m, const char *spec, char *err, size_t errlen);
/* -1 with err unless every role in required_mask (1 << DP_ROLE_x) has an lcore. */
int dp_roles_require(const struct dp_role_map *m, unsigned required_mask, char *err,
		     size_t errlen);
/* -1 with err if a mapped lcore is not enabled in the EAL (needs rte_eal_init()). */
int dp_roles_check_eal(const struct dp_role_map *m, char *err, size_t errlen);
/* The lcores that carry role r, in the order given; returns how many (may exceed max). */
unsigned dp_roles_lcores(const struct dp_role_map *m, enum dp_role r, unsigned *out, unsigned max);
/* Bit mask of the roles lcore carries (1 << DP_ROLE_x). */
unsigned dp_roles_of_lcore(const struct dp_role_map *m, unsigned lcore);
/* The idle configuration for lcore: its own, or dflt. */
const struct dp_idle_conf *dp_roles_idle(const struct dp_role_map *m, unsigned lcore,
					 const struct dp_idle_conf *dflt);

#endif /* DP_LCORE_H */
