/*
 * dp_timer.h - a hashed timer wheel with microsecond ticks, driven by the caller's clock.
 *
 * Timers are intrusive (embedded in the object they time), so arming never allocates. A timer
 * lives in slot (expiry / tick) % slots; a slot holds every timer whose expiry maps there,
 * including those more than one revolution away, which are simply skipped until their turn.
 * Advancing walks at most one revolution of slots, so a late call costs a bounded amount.
 * One wheel per lcore; no locks.
 */
#ifndef DP_TIMER_H
#define DP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct dp_timer;
typedef void (*dp_timer_fn)(struct dp_timer *t, void *arg, uint64_t now_us);

struct dp_timer {
	struct dp_timer *next, *prev; /* slot list; prev == NULL means not armed */
	uint64_t expire_us;
	dp_timer_fn fn;
	void *arg;
};

struct dp_timer_wheel {
	struct dp_timer *slots; /* list heads (sentinels), nslots of them */
	uint32_t nslots;        /* power of two */
	uint32_t tick_us;
	uint64_t now_us;        /* time of the last advance */
	uint64_t next_tick;     /* first tick not yet processed */
	uint32_t armed;
};

/* nslots must be a power of two; slots points to nslots caller-provided sentinels. */
void dp_timer_wheel_init(struct dp_timer_wheel *w, struct dp_timer *slots, uint32_t nslots,
			 uint32_t tick_us, uint64_t now_us);
void dp_timer_init(struct dp_timer *t, dp_timer_fn fn, void *arg);
/* (Re)arms t to fire at the first tick at or after expire_us (never before). */
void dp_timer_arm(struct dp_timer_wheel *w, struct dp_timer *t, uint64_t expire_us);
void dp_timer_cancel(struct dp_timer_wheel *w, struct dp_timer *t);
static inline bool dp_timer_armed(const struct dp_timer *t)
{
	return t->prev != 0;
}
/* Fires every timer whose expiry is <= now_us; callbacks may re-arm or cancel any timer.
 * Returns the number of timers fired. */
unsigned dp_timer_advance(struct dp_timer_wheel *w, uint64_t now_us);

#endif /* DP_TIMER_H */
