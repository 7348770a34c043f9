/* dp_timer.c - hashed timer wheel; see dp_timer.h. */
#include "dp_timer.h"

#include <stddef.h>

void dp_timer_wheel_init(struct dp_timer_wheel *w, struct dp_timer *slots, uint32_t nslots,
			 uint32_t tick_us, uint64_t now_us)
{
	w->slots = slots;
	w->nslots = nslots;
	w->tick_us = tick_us ? tick_us : 1;
	w->now_us = now_us;
	w->next_tick = now_us / w->tick_us;
	w->armed = 0;
	for (uint32_t i = 0; i < nslots; i++) {
		slots[i].next = &slots[i];
		slots[i].prev = &slots[i];
	}
}

void dp_timer_init(struct dp_timer *t, dp_timer_fn fn, void *arg)
{
	t->next = t->prev = NULL;
	t->expire_us = 0;
	t->fn = fn;
	t->arg = arg;
}

static void unlink_timer(struct dp_timer_wheel *w, struct dp_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
	w->armed--;
}

void dp_timer_cancel(struct dp_timer_wheel *w, struct dp_timer *t)
{
	if (t->prev)
		unlink_timer(w, t);
}

void dp_timer_arm(struct dp_timer_wheel *w, struct dp_timer *t, uint64_t expire_us)
{
	if (t->prev)
		unlink_timer(w, t);
	t->expire_us = expire_us;
	/* Round up: a timer must never fire before its expiry. A tick already processed would never
	 * be walked again, so an expiry in the past goes to the next tick to be processed. */
	uint64_t tick = (expire_us + w->tick_us - 1) / w->tick_us;
	if (tick < w->next_tick)
		tick = w->next_tick;
	struct dp_timer *head = &w->slots[tick & (w->nslots - 1)];
	t->next = head;
	t->prev = head->prev;
	head->prev->next = t;
	head->prev = t;
	w->armed++;
}

unsigned dp_timer_advance(struct dp_timer_wheel *w, uint64_t now_us)
{
	if (now_us < w->now_us)
		return 0; /* the clock must be monotonic; ignore a step back */
	w->now_us = now_us;
	uint64_t last = now_us / w->tick_us;
	if (last < w->next_tick || w->armed == 0) {
		if (last >= w->next_tick)
			w->next_tick = last + 1;
		return 0;
	}
	/* More than one revolution late: every slot is walked once, which sees every timer. */
	uint64_t first = w->next_tick;
	if (last - first >= w->nslots)
		first = last - w->nslots + 1;
	unsigned fired = 0;
	for (uint64_t tick = first; tick <= last; tick++) {
		struct dp_timer *head = &w->slots[tick & (w->nslots - 1)];
		if (head->next == head)
			continue;
		/* Move the slot to a local list first: callbacks may cancel or re-arm any timer,
		 * including ones still waiting in this list, and the list stays consistent. */
		struct dp_timer local;
		local.next = head->next;
		local.prev = head->prev;
		local.next->prev = &local;
		local.prev->next = &local;
		head->next = head->prev = head;
		/* A timer armed from a callback with an expiry <= now lands in next_tick's slot. */
		w->next_tick = tick + 1;
		while (local.next != &local) {
			struct dp_timer *t = local.next;
			unlink_timer(w, t);
			if (t->expire_us <= now_us) {
				t->fn(t, t->arg, now_us);
				fired++;
			} else {
				dp_timer_arm(w, t, t->expire_us);
			}
		}
	}
	w->next_tick = last + 1;
	return fired;
}
