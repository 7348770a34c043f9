/* Idle strategies for poll loops. */
#include "dp_idle.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_pause.h>

static void nap(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	/* A signal cutting the sleep short only makes the loop poll sooner. */
	nanosleep(&ts, NULL);
}

const char *dp_idle_kind_name(enum dp_idle_kind k)
{
	switch (k) {
	case DP_IDLE_SPIN:
		return "spin";
	case DP_IDLE_BACKOFF:
		return "backoff";
	case DP_IDLE_SLEEP:
		return "sleep";
	}
	return "?";
}

static int parse_us(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 10000000ull) {
		snprintf(err, errlen, "idle: \"%s\" is not a duration in us (1..10000000)", s);
		return -1;
	}
	*ns = v * 1000u;
	return 0;
}

int dp_idle_parse(struct dp_idle_conf *c, const char *spec, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	if (len == 4 && strncmp(spec, "spin", 4) == 0 && colon == NULL) {
		c->kind = DP_IDLE_SPIN;
		return 0;
	}
	if (len == 7 && strncmp(spec, "backoff", 7) == 0)
		c->kind = DP_IDLE_BACKOFF;
	else if (len == 5 && strncmp(spec, "sleep", 5) == 0)
		c->kind = DP_IDLE_SLEEP;
	else {
		snprintf(err, errlen, "idle: unknown strategy \"%s\" (spin, backoff[:max_us], sleep[:us])",
			 spec);
		return -1;
	}
	if (colon != NULL)
		return parse_us(colon + 1, &c->max_ns, err, errlen);
	return 0;
}

void dp_idle_init(struct dp_idle *i, const struct dp_idle_conf *c)
{
	memset(i, 0, sizeof(*i));
	i->conf = *c;
	if (i->conf.kind == DP_IDLE_BACKOFF) {
		if (i->conf.spins == 0)
			i->conf.spins = 64;
		if (i->conf.pauses == 0)
			i->conf.pauses = 64;
		if (i->conf.yields == 0)
			i->conf.yields = 16;
		if (i->conf.min_ns == 0)
			i->conf.min_ns = 1000;
	}
	if (i->conf.max_ns == 0)
		i->conf.max_ns = 1000000;
	if (i->conf.min_ns > i->conf.max_ns)
		i->conf.min_ns = i->conf.max_ns;
	i->sleep_ns = i->conf.min_ns;
}

enum dp_idle_phase dp_idle_phase(const struct dp_idle *i)
{
	const struct dp_idle_conf *c = &i->conf;
	switch (c->kind) {
	case DP_IDLE_SPIN:
		return DP_IDLE_PHASE_SPIN;
	case DP_IDLE_SLEEP:
		return DP_IDLE_PHASE_SLEEP;
	case DP_IDLE_BACKOFF:
		break;
	}
	uint64_t n = i->idle_iters;
	if (n < c->spins)
		return DP_IDLE_PHASE_SPIN;
	if (n < (uint64_t)c->spins + c->pauses)
		return DP_IDLE_PHASE_PAUSE;
	if (n < (uint64_t)c->spins + c->pauses + c->yields)
		return DP_IDLE_PHASE_YIELD;
	return DP_IDLE_PHASE_SLEEP;
}

void dp_idle_wait(struct dp_idle *i)
{
	if (i->conf.kind == DP_IDLE_SLEEP) {
		i->n_sleep++;
		nap(i->conf.max_ns);
		return;
	}
	switch (dp_idle_phase(i)) {
	case DP_IDLE_PHASE_SPIN:
		break;
	case DP_IDLE_PHASE_PAUSE:
		i->n_pause++;
		rte_pause();
		break;
	case DP_IDLE_PHASE_YIELD:
		i->n_yield++;
		sched_yield();
		break;
	case DP_IDLE_PHASE_SLEEP:
		i->n_sleep++;
		nap(i->sleep_ns);
		i->sleep_ns = i->sleep_ns * 2 > i->conf.max_ns ? i->conf.max_ns : i->sleep_ns * 2;
		return; /* stay in the sleep phase: no need to count further */
	}
	i->idle_iters++;
}
