/* control: a token bucket in integer arithmetic (no floating point, no clock of its own).
 * Tokens are kept in nanomessages so that any rate from 1/s up refills smoothly from
 * nanosecond timestamps.
 */
#ifndef CTL_RATELIMIT_H
#define CTL_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ctl_bucket {
	uint64_t rate;     /* messages per second; 0 = unlimited */
	uint64_t cap;      /* burst * 1e9 */
	uint64_t tokens;   /* nanomessages */
	int64_t last_ns;
	uint64_t passed, refused;
};

static inline void ctl_bucket_init(struct ctl_bucket *b, uint32_t rate, uint32_t burst,
				   int64_t now)
{
	b->rate = rate;
	b->cap = (uint64_t)(burst ? burst : rate) * 1000000000ull;
	b->tokens = b->cap;
	b->last_ns = now;
	b->passed = b->refused = 0;
}

/* Takes one token if there is one. */
static inline bool ctl_bucket_take(struct ctl_bucket *b, int64_t now)
{
	if (b->rate == 0) {
		b->passed++;
		return true;
	}
	if (now > b->last_ns) {
		/* Clamp the elapsed time so elapsed * rate cannot overflow: a full refill needs at
		 * most cap / rate ns. */
		uint64_t dt = (uint64_t)(now - b->last_ns);
		uint64_t full = b->cap / b->rate + 1;
		if (dt > full)
			dt = full;
		b->tokens += dt * b->rate;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
		b->last_ns = now;
	}
	if (b->tokens >= 1000000000ull) {
		b->tokens -= 1000000000ull;
		b->passed++;
		return true;
	}
	b->refused++;
	return false;
}

/* Refills and tells whether a token is there, without taking it. */
static inline bool ctl_bucket_has(struct ctl_bucket *b, int64_t now)
{
	if (b->rate == 0)
		return true;
	if (!ctl_bucket_take(b, now)) {
		b->refused--;
		return false;
	}
	b->tokens += 1000000000ull;
	b->passed--;
	return true;
}

/* Gives a token back (a message a later check refused after this bucket had passed it). */
static inline void ctl_bucket_refund(struct ctl_bucket *b)
{
	if (b->rate == 0)
		return;
	b->tokens += 1000000000ull;
	if (b->tokens > b->cap)
		b->tokens = b->cap;
	b->passed--;
}

#endif
