/* Poll-mode loop and role table. */
#include "dp_lcore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#define DEFAULT_SLOW_EVERY 1024

void dp_lcore_loop_init(struct dp_lcore_loop *l, const struct dp_idle_conf *idle)
{
	memset(l, 0, sizeof(*l));
	dp_idle_init(&l->idle, idle);
	l->slow_every = DEFAULT_SLOW_EVERY;
	atomic_init(&l->stop, false);
}

int dp_lcore_add(struct dp_lcore_loop *l, const char *name, dp_work_fn fn, void *arg)
{
	if (l->n_agents >= DP_LCORE_AGENTS_MAX || fn == NULL)
		return -1;
	l->agents[l->n_agents++] = (struct dp_agent){ name, fn, arg };
	return 0;
}

uint64_t dp_lcore_now_us(void)
{
	/* 128-bit product: the TSC counts from boot and times 10^6 overflows 64 bits. */
	return (uint64_t)((__uint128_t)rte_get_tsc_cycles() * 1000000u / rte_get_tsc_hz());
}

unsigned dp_lcore_once(struct dp_lcore_loop *l, uint64_t now_us)
{
	unsigned work = 0;
	for (unsigned i = 0; i < l->n_agents; i++)
		work += l->agents[i].do_work(l->agents[i].arg, now_us);
	l->iterations++;
	unsigned every = l->slow_every ? l->slow_every : DEFAULT_SLOW_EVERY;
	if (l->slow.do_work != NULL && l->iterations % every == 0)
		work += l->slow.do_work(l->slow.arg, now_us);
	l->work += work;
	if (work == 0)
		l->idle_iterations++;
	dp_idle(&l->idle, work);
	return work;
}

int dp_lcore_run(void *loop)
{
	struct dp_lcore_loop *l = loop;
	while (!atomic_load_explicit(&l->stop, memory_order_relaxed))
		dp_lcore_once(l, dp_lcore_now_us());
	return 0;
}

void dp_lcore_stop(struct dp_lcore_loop *l)
{
	atomic_store(&l->stop, true);
}

static const char *const role_names[DP_ROLE_COUNT] = {
	[DP_ROLE_CLIENT] = "client",
	[DP_ROLE_VENUE] = "venue",
	[DP_ROLE_CONTROL] = "control",
};

const char *dp_role_name(enum dp_role r)
{
	return (unsigned)r < DP_ROLE_COUNT ? role_names[r] : "?";
}

static int parse_lcore(const char *s, unsigned *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > DP_LCORE_ID_MAX) {
		snprintf(err, errlen, "\"%s\" is not an lcore id (0..%d)", s, DP_LCORE_ID_MAX);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Splits spec on ',' and calls fn(item) for each "a:b" item. */
static int each_pair(const char *what, const char *spec,
		     int (*fn)(void *ctx, const char *a, const char *b, char *err, size_t errlen),
		     void *ctx, char *err, size_t errlen)
{
	if (spec == NULL || spec[0] == '\0') {
		snprintf(err, errlen, "%s: empty", what);
		return -1;
	}
	const char *p = spec;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char item[64];
		if (len == 0 || len >= sizeof(item)) {
			snprintf(err, errlen, "%s: bad item at \"%.20s\"", what, p);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		/* The lcore/role separator is the first ':'; idle specs may contain another. */
		char *colon = strchr(item, ':');
		if (colon == NULL || colon == item || colon[1] == '\0') {
			snprintf(err, errlen, "%s: \"%s\" is not <a>:<b>", what, item);
			return -1;
		}
		*colon = '\0';
		char inner[128];
		if (fn(ctx, item, colon + 1, inner, sizeof(inner)) != 0) {
			snprintf(err, errlen, "%s: %s", what, inner);
			return -1;
		}
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static int add_role(void *ctx, const char *role, const char *lcore, char *err, size_t errlen)
{
	struct dp_role_map *m = ctx;
	int r = -1;
	for (int i = 0; i < DP_ROLE_COUNT; i++)
		if (strcmp(role, role_names[i]) == 0)
			r = i;
	if (r < 0) {
		snprintf(err, errlen, "unknown role \"%s\" (client, venue, control)", role);
		return -1;
	}
	unsigned l;
	if (parse_lcore(lcore, &l, err, errlen) != 0)
		return -1;
	for (unsigned i = 0; i < m->n; i++)
		if (m->e[i].role == (enum dp_role)r && m->e[i].lcore == l) {
			snprintf(err, errlen, "%s:%u given twice", role, l);
			return -1;
		}
	if (m->n >= DP_ROLE_ENTRIES_MAX) {
		snprintf(err, errlen, "more than %d role entries", DP_ROLE_ENTRIES_MAX);
		return -1;
	}
	m->e[m->n++] = (struct dp_role_entry){ (enum dp_role)r, l };
	return 0;
}

int dp_roles_parse(struct dp_role_map *m, const char *spec, char *err, size_t errlen)
{
	m->n = 0;
	if (each_pair("--roles", spec, add_role, m, err, errlen) != 0) {
		m->n = 0;
		return -1;
	}
	return 0;
}

static int add_idle(void *ctx, const char *lcore, const char *strategy, char *err, size_t errlen)
{
	struct dp_role_map *m = ctx;
	unsigned l;
	if (parse_lcore(lcore, &l, err, errlen) != 0)
		return -1;
	if (m->has_idle[l]) {
		snprintf(err, errlen, "lcore %u given twice", l);
		return -1;
	}
	if (dp_idle_parse(&m->idle[l], strategy, err, errlen) != 0)
		return -1;
	m->has_idle[l] = true;
	return 0;
}

int dp_roles_parse_idle(struct dp_role_map *m, const char *spec, char *err, size_t errlen)
{
	memset(m->has_idle, 0, sizeof(m->has_idle));
	if (each_pair("--idle", spec, add_idle, m, err, errlen) != 0) {
		memset(m->has_idle, 0, sizeof(m->has_idle));
		return -1;
	}
	return 0;
}

int dp_roles_require(const struct dp_role_map *m, unsigned required_mask, char *err,
		     size_t errlen)
{
	for (int r = 0; r < DP_ROLE_COUNT; r++) {
		if (!(required_mask & (1u << r)))
			continue;
		if (dp_roles_lcores(m, (enum dp_role)r, NULL, 0) == 0) {
			snprintf(err, errlen, "--roles: no lcore for role %s", role_names[r]);
			return -1;
		}
	}
	return 0;
}

int dp_roles_check_eal(const struct dp_role_map *m, char *err, size_t errlen)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->e[i].lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(m->e[i].lcore)) {
			snprintf(err, errlen, "--roles: %s:%u but lcore %u is not enabled (-l/--lcores)",
				 role_names[m->e[i].role], m->e[i].lcore, m->e[i].lcore);
			return -1;
		}
	return 0;
}

unsigned dp_roles_lcores(const struct dp_role_map *m, enum dp_role r, unsigned *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->n; i++)
		if (m->e[i].role == r) {
			if (n < max)
				out[n] = m->e[i].lcore;
			n++;
		}
	return n;
}

unsigned dp_roles_of_lcore(const struct dp_role_map *m, unsigned lcore)
{
	unsigned mask = 0;
	for (unsigned i = 0; i < m->n; i++)
		if (m->e[i].lcore == lcore)
			mask |= 1u << m->e[i].role;
	return mask;
}

const struct dp_idle_conf *dp_roles_idle(const struct dp_role_map *m, unsigned lcore,
					 const struct dp_idle_conf *dflt)
{
	if (lcore <= DP_LCORE_ID_MAX && m->has_idle[lcore])
		return &m->idle[lcore];
	return dflt;
}
