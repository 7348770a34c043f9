/* control: run-time administration of the multiplexer (fixmuxctl's changes and views). Every
 * function runs on the multiplexer's thread, between two of the owner's calls: fixmux hands
 * the requests of its telemetry thread over to its poll loop, never calling these from
 * elsewhere. Changes are logged through io.log so the operator's actions are in the record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_mux_pvt.h"
/* The session internals name their own CTL_TEXT_MAX (used by no struct they declare): the
 * configuration's is not needed below. Needed here: a session's proposed HeartBtInt, its
 * state, last receive time and sequence-number store, which ctl_session.h does not expose. */
#undef CTL_TEXT_MAX
#include "ctl_session_pvt.h"

static const char *const vs_state_names[] = {"down", "connecting", "logon", "up", "logout"};

const char *ctl_mux_venue_state_name(enum ctl_mux_venue_state st)
{
	return (unsigned)st < sizeof(vs_state_names) / sizeof(vs_state_names[0]) ?
		       vs_state_names[st] :
		       "?";
}

int ctl_mux_find_user(const struct ctl_mux *m, const char *name)
{
	for (uint32_t i = 0; i < m->cfg->n_users; i++)
		if (strcmp(m->cfg->users[i].name, name) == 0)
			return (int)i;
	return -1;
}

int ctl_mux_find_session(const struct ctl_mux *m, const char *name)
{
	for (uint32_t i = 0; i < m->cfg->n_sessions; i++)
		if (strcmp(m->cfg->sessions[i].name, name) == 0)
			return (int)i;
	return -1;
}

static struct mux_user *link_of(const struct ctl_mux *m, uint32_t user, uint32_t vs)
{
	for (uint32_t i = 0; i < m->n_users; i++)
		if (m->users[i].user == user && m->users[i].vs == vs)
			return &m->users[i];
	return NULL;
}

/* The rate of a bucket as configured: cap is burst x 1e9 nanomessages. */
static uint32_t bucket_burst(const struct ctl_bucket *b)
{
	return b->rate ? (uint32_t)(b->cap / 1000000000ull) : 0;
}

int ctl_mux_session_info(const struct ctl_mux *m, uint32_t vs, struct ctl_mux_session_info *out)
{
	if (vs >= m->cfg->n_sessions)
		return -1;
	const struct mux_venue *v = &m->venues[vs];
	memset(out, 0, sizeof(*out));
	out->state = v->st;
	out->next_in = ctl_session_next_in(v->s);
	out->next_out = ctl_session_next_out(v->s);
	out->heartbeat_s = v->s->cfg.heartbeat_s;
	out->users_attached = v->n_users;
	for (uint32_t k = 0; k < v->n_users; k++) {
		out->users_online += v->users[k]->st == US_ONLINE;
		out->pending += v->users[k]->pend_n;
	}
	out->last_activity = v->s->t_last_recv; /* also set when the connection opened */
	out->rate = (uint32_t)v->bucket.rate;
	out->burst = bucket_burst(&v->bucket);
	out->rate_refused = v->bucket.refused;
	out->filter_rules = v->filter ? (uint32_t)fix_filter_rule_count(v->filter) : 0;
	return 0;
}

int ctl_mux_user_info(const struct ctl_mux *m, uint32_t user, uint32_t vs,
		      struct ctl_mux_user_info *out)
{
	const struct mux_user *u = link_of(m, user, vs);
	if (u == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->online = u->st == US_ONLINE;
	out->connected = u->conn >= 0;
	out->src = u->conn >= 0 ? m->conns[u->conn].src : 0;
	out->next_in = ctl_session_next_in(u->s);
	out->next_out = ctl_session_next_out(u->s);
	out->pending = u->pend_n;
	out->last_activity = u->s->t_last_recv;
	out->rate = (uint32_t)u->bucket.rate;
	out->burst = bucket_burst(&u->bucket);
	out->rate_refused = u->bucket.refused;
	out->filter_rules = u->filter ? (uint32_t)fix_filter_rule_count(u->filter) : 0;
	return 0;
}

int ctl_mux_logout_user(struct ctl_mux *m, uint32_t user, const char *why, int64_t now)
{
	if (user >= m->cfg->n_users)
		return -1;
	m->now = now;
	int n = 0;
	for (uint32_t i = 0; i < m->n_users; i++) {
		struct mux_user *u = &m->users[i];
		if (u->user != user || u->st != US_ONLINE || u->we_logged_out)
			continue;
		/* we_logged_out makes its disconnect an orderly one: the venue session stays up for
		 * the other users (user_gone in ctl_mux.c). */
		u->we_logged_out = true;
		ctl_session_logout(u->s, now, why ? why : "logged out by the operator");
		n++;
	}
	mux_log(m, "admin: user %s: logged out of %d session(s) by the operator",
		m->cfg->users[user].name, n);
	return n;
}

static int check_rate(uint32_t rate, uint32_t burst, char *err, size_t err_cap)
{
	if (burst != 0 && rate == 0) {
		snprintf(err, err_cap, "a burst needs a rate (rate 0 means unlimited)");
		return -1;
	}
	return 0;
}

int ctl_mux_set_user_rate(struct ctl_mux *m, uint32_t user, uint32_t rate, uint32_t burst,
			  int64_t now, char *err, size_t err_cap)
{
	if (user >= m->cfg->n_users) {
		snprintf(err, err_cap, "no such user");
		return -1;
	}
	if (check_rate(rate, burst, err, err_cap) != 0)
		return -1;
	for (uint32_t i = 0; i < m->n_users; i++)
		if (m->users[i].user == user)
			ctl_bucket_init(&m->users[i].bucket, rate, burst, now);
	mux_log(m, "admin: user %s: rate limit %u/s burst %u%s", m->cfg->users[user].name, rate,
		burst ? burst : rate, rate ? "" : " (unlimited)");
	return 0;
}

int ctl_mux_set_session_rate(struct ctl_mux *m, uint32_t vs, uint32_t rate, uint32_t burst,
			     int64_t now, char *err, size_t err_cap)
{
	if (vs >= m->cfg->n_sessions) {
		snprintf(err, err_cap, "no such venue session");
		return -1;
	}
	if (check_rate(rate, burst, err, err_cap) != 0)
		return -1;
	ctl_bucket_init(&m->venues[vs].bucket, rate, burst, now);
	mux_log(m, "admin: venue session %s: rate limit %u/s burst %u%s",
		m->cfg->sessions[vs].name, rate, burst ? burst : rate, rate ? "" : " (unlimited)");
	return 0;
}

/* Finds the scope of the new configuration with the running one's name; NULL if the file
 * does not name it (its rules then stay as they are). */
static const struct ctl_guard_cfg *new_session_guard(const struct ctl_config *nc, const char *name)
{
	for (uint32_t i = 0; i < nc->n_sessions; i++)
		if (strcmp(nc->sessions[i].name, name) == 0)
			return &nc->sessions[i].guard;
	return NULL;
}

static const struct ctl_guard_cfg *new_user_guard(const struct ctl_config *nc, const char *name)
{
	for (uint32_t i = 0; i < nc->n_users; i++)
		if (strcmp(nc->users[i].name, name) == 0)
			return &nc->users[i].guard;
	return NULL;
}

int ctl_mux_reload_filters(struct ctl_mux *m, const char *path, char *err, size_t err_cap)
{
	struct ctl_config nc;
	char lerr[512];
	if (ctl_config_load(&nc, path, lerr, sizeof(lerr)) != 0) {
		snprintf(err, err_cap, "old rules kept: %s", lerr);
		mux_log(m, "admin: filter reload from %s refused: %s", path, err);
		return -1;
	}
	const struct ctl_config *cfg = m->cfg;
	/* Slots: venue sessions first, then every client session (each owns its database, as
	 * at start-up). A NULL guard: the file does not name the scope. */
	size_t n = cfg->n_sessions + m->n_users;
	struct fix_filter **nf = calloc(n ? n : 1, sizeof(*nf));
	const struct ctl_guard_cfg **g = calloc(n ? n : 1, sizeof(*g));
	int rc = -1;
	if (!nf || !g) {
		snprintf(lerr, sizeof(lerr), "out of memory");
		goto broken;
	}
	for (size_t k = 0; k < n; k++) {
		const char *name;
		if (k < cfg->n_sessions) {
			name = cfg->sessions[k].name;
			g[k] = new_session_guard(&nc, name);
		} else {
			name = cfg->users[m->users[k - cfg->n_sessions].user].name;
			g[k] = new_user_guard(&nc, name);
		}
		if (g[k] && mux_compile_filter(g[k], &nf[k], name, lerr, sizeof(lerr)) != 0)
			goto broken;
		/* Growing the one scratch in place is safe here: scans run on this thread only,
		 * and a grown scratch still fits every old database, so a failure half-way leaves
		 * the old rules able to run. */
		if (nf[k] && (m->scratch_hs ? fix_filter_scratch_grow(&m->scratch_hs, nf[k]) :
					      ((m->scratch_hs = fix_filter_scratch_new(nf[k])) ?
						       0 :
						       -1)) != 0) {
			snprintf(lerr, sizeof(lerr), "cannot allocate Hyperscan scratch");
			goto broken;
		}
	}
	/* Everything compiled: swap. */
	uint32_t rules = 0;
	for (size_t k = 0; k < n; k++) {
		if (!g[k])
			continue;
		struct fix_filter **slot = k < cfg->n_sessions ?
						   &m->venues[k].filter :
						   &m->users[k - cfg->n_sessions].filter;
		fix_filter_free(*slot);
		*slot = nf[k];
		nf[k] = NULL;
		rules += *slot ? (uint32_t)fix_filter_rule_count(*slot) : 0;
	}
	mux_log(m, "admin: filter rules reloaded from %s: %u rule(s) in force over %zu scope(s)",
		path, rules, n);
	rc = 0;
	goto out;
broken:
	snprintf(err, err_cap, "old rules kept: %s", lerr);
	mux_log(m, "admin: filter reload from %s refused: %s", path, err);
out:
	for (size_t k = 0; nf && k < n; k++)
		fix_filter_free(nf[k]);
	free(nf);
	free(g);
	ctl_config_free(&nc);
	return rc;
}

int ctl_mux_set_heartbeat(struct ctl_mux *m, uint32_t vs, uint32_t seconds, char *err,
			  size_t err_cap)
{
	if (seconds == 0 || seconds > 3600) {
		snprintf(err, err_cap, "heartbeat must be 1..3600 seconds");
		return -1;
	}
	if (vs != UINT32_MAX && vs >= m->cfg->n_sessions) {
		snprintf(err, err_cap, "no such venue session");
		return -1;
	}
	for (uint32_t i = 0; i < m->cfg->n_sessions; i++) {
		if (vs != UINT32_MAX && i != vs)
			continue;
		/* The initiator proposes cfg.heartbeat_s in its next Logon (ctl_session.c takes
		 * hbi_s from it at connect); the running interval stays until then. */
		m->venues[i].s->cfg.heartbeat_s = seconds;
		mux_log(m, "admin: venue session %s: heartbeat %u s from the next Logon",
			m->cfg->sessions[i].name, seconds);
	}
	return 0;
}

int ctl_mux_set_seqs(struct ctl_mux *m, uint32_t vs, uint64_t next_in, uint64_t next_out,
		     bool force, char *err, size_t err_cap)
{
	if (vs >= m->cfg->n_sessions) {
		snprintf(err, err_cap, "no such venue session");
		return -1;
	}
	if (next_in == 0 || next_out == 0) {
		snprintf(err, err_cap, "sequence numbers start at 1");
		return -1;
	}
	struct ctl_session *s = m->venues[vs].s;
	const char *name = m->cfg->sessions[vs].name;
	if (s->state != CTL_ST_DISCONNECTED) {
		if (!force) {
			snprintf(err, err_cap,
				 "venue session %s is %s: refused while it is connected (force "
				 "overrides)",
				 name, ctl_mux_venue_state_name(m->venues[vs].st));
			return -1;
		}
		ctl_set_next_in(s, next_in);
		s->next_out = next_out;
		if (s->store.ops->set_next_out(s->store.ctx, next_out) != 0) {
			snprintf(err, err_cap, "the store refused the new numbers");
			return -1;
		}
	} else if (ctl_session_set_seqs(s, next_in, next_out) != 0) {
		snprintf(err, err_cap, "the store refused the new numbers");
		return -1;
	}
	mux_log(m, "admin: venue session %s: next in %llu, next out %llu%s", name,
		(unsigned long long)next_in, (unsigned long long)next_out,
		s->state != CTL_ST_DISCONNECTED ? " (forced while connected)" : "");
	return 0;
}
