/* dp_idle: what a poll loop does when an iteration found no work.
 *   spin    - return at once (a dedicated core in production);
 *   backoff - spin, then rte_pause(), then sched_yield(), then nanosleep() doubling from
 *             min_ns to max_ns (cores shared with other processes: tests, demos, this box);
 *   sleep   - nanosleep(sleep_ns) every idle iteration (background roles).
 * Any work resets the back-off. Chosen per lcore, see dp_lcore.h. */
#ifndef DP_IDLE_H
#define DP_IDLE_H

#include <stddef.h>
#include <stdint.h>

enum dp_idle_kind {
	DP_IDLE_SPIN,
	DP_IDLE_BACKOFF,
	DP_IDLE_SLEEP,
};

enum dp_idle_phase {
	DP_IDLE_PHASE_SPIN,
	DP_IDLE_PHASE_PAUSE,
	DP_IDLE_PHASE_YIELD,
	DP_IDLE_PHASE_SLEEP,
};

struct dp_idle_conf {
	enum dp_idle_kind kind;
	uint32_t spins;   /* backoff: idle iterations that just spin; default 64 */
	uint32_t pauses;  /* backoff: then iterations with rte_pause(); default 64 */
	uint32_t yields;  /* backoff: then iterations with sched_yield(); default 16 */
	uint64_t min_ns;  /* backoff: first nanosleep; default 1 us */
	uint64_t max_ns;  /* backoff: longest nanosleep; default 1 ms. sleep: the fixed sleep */
};

struct dp_idle {
	struct dp_idle_conf conf;
	uint32_t idle_iters;   /* consecutive idle iterations */
	uint64_t sleep_ns;     /* next nanosleep in the back-off's sleep phase */
	/* how often each action was taken, for tests and telemetry */
	uint64_t n_pause, n_yield, n_sleep;
};

/* Parses "spin", "backoff", "backoff:<max_us>", "sleep" (1 ms) or "sleep:<us>". */
int dp_idle_parse(struct dp_idle_conf *c, const char *spec, char *err, size_t errlen);
void dp_idle_init(struct dp_idle *i, const struct dp_idle_conf *c);
const char *dp_idle_kind_name(enum dp_idle_kind k);

/* The phase the next idle iteration would be in. */
enum dp_idle_phase dp_idle_phase(const struct dp_idle *i);

void dp_idle_wait(struct dp_idle *i);

/* Call once per loop iteration with the work it did. */
static inline void dp_idle(struct dp_idle *i, unsigned work)
{
	if (work != 0) {
		i->idle_iters = 0;
		i->sleep_ns = i->conf.min_ns;
		return;
	}
	if (i->conf.kind == DP_IDLE_SPIN)
		return;
	dp_idle_wait(i);
}

#endif /* DP_IDLE_H */
