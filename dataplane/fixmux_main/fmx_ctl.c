/* fixmux_main: the operator's commands over DPDK telemetry (fixmuxctl, dpdk-telemetry.py).
 *
 * Telemetry callbacks run on DPDK's telemetry threads (one per connected client), while the
 * multiplexer, the stacks and the loop's state belong to the main lcore. So a callback never
 * touches them: it posts the request in a single-slot mailbox and waits, with a timeout, for
 * the loop to answer. The loop looks at the mailbox once per slow check (every millisecond,
 * with ctl_mux_poll), runs the request on its own thread, and writes the answer as text lines
 * into the mailbox's buffer; the callback turns those into the rte_tel_data DPDK serialises.
 * The loop side takes no lock: the slot's state word (release/acquire) hands the buffer from
 * one thread to the other. The mutex below only orders telemetry clients among themselves.
 *
 * Answer lines: "<t>\t<key>\t<value>\n" with t = s (string), u (unsigned) for a value of the
 * reply's dictionary, S / U for the next element of a column (an array under key): tables are
 * sent as columns because DPDK 22.11 accepts only arrays as containers in a dictionary. An
 * "e" line makes the whole reply a JSON string: the error, which fixmuxctl prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_telemetry.h>

#include "fmx_app.h"

#define MB_OUT (64 * 1024)
#define MB_TIMEOUT_NS 2000000000LL /* a loop that does not answer in 2 s is stuck */
#define MB_COLS 32

enum { MB_IDLE = 0, MB_POSTED, MB_TAKEN, MB_DONE };

static struct {
	_Atomic unsigned state;
	char cmd[64];
	char params[512];
	/* written by the loop between TAKEN and DONE */
	size_t len;
	bool overflow;
	char out[MB_OUT];
} mb;

static pthread_mutex_t mb_lock = PTHREAD_MUTEX_INITIALIZER; /* telemetry threads only */

static const char *const log_level_names[] = {"error", "warning", "info", "debug"};

/* ------------------------------------------------------------------------------------------
 * The loop's side: the answer, line by line
 * ---------------------------------------------------------------------------------------- */

static __attribute__((format(printf, 3, 4))) void put(char type, const char *key,
						      const char *fmt, ...)
{
	char val[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	for (char *p = val; *p; p++)
		if (*p == '\t' || *p == '\n')
			*p = ' ';
	int n = snprintf(mb.out + mb.len, MB_OUT - mb.len, "%c\t%s\t%s\n", type, key, val);
	if (n < 0 || (size_t)n >= MB_OUT - mb.len) {
		mb.overflow = true;
		return;
	}
	mb.len += (size_t)n;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	char why[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	mb.len = 0;
	put('e', "error", "%s", why);
}

static const char *ip_str(uint32_t ip, char *buf, size_t cap)
{
	struct in_addr in = {.s_addr = htonl(ip)};
	inet_ntop(AF_INET, &in, buf, (socklen_t)cap);
	return buf;
}

/* Milliseconds since a multiplexer timestamp, or -1 for never. */
static long long ago_ms(const struct fmx_app *a, int64_t t)
{
	return t ? (long long)((a->now_ns - t) / 1000000) : -1;
}

static void h_status(struct fmx_app *a, char *params)
{
	(void)params;
	unsigned conns = fmx_client_conns(a);
	put('s', "state", "%s", a->stopping ? "stopping" : "running");
	put('u', "pid", "%d", (int)getpid());
	put('u', "uptime_s", "%" PRIu64, (a->now_us - a->start_us) / 1000000u);
	put('s', "config", "%s", a->config_path);
	put('u', "venue_sessions", "%u", a->cfg->n_sessions);
	put('u', "venue_sessions_up", "%u", fmx_venues_up(a));
	put('u', "users", "%u", a->cfg->n_users);
	put('u', "users_online", "%u", fmx_users_online(a));
	put('u', "client_connections", "%u", conns);
	put('u', "lcore", "%u", rte_lcore_id());
	put('s', "idle", "%s", a->idle_spec);
	put('s', "log_level", "%s", log_level_names[a->log_level]);
	put('u', "loop_iterations", "%" PRIu64, a->loop.iterations);
	put('u', "loop_idle_iterations", "%" PRIu64, a->loop.idle_iterations);
}

static unsigned venue_backlog(const struct fmx_app *a, uint32_t vs)
{
	return atomic_load_explicit(&a->venues[vs].bl_pub, memory_order_relaxed);
}

static void h_sessions(struct fmx_app *a, char *params)
{
	(void)params;
	for (uint32_t vs = 0; vs < a->cfg->n_sessions; vs++) {
		struct ctl_mux_session_info si;
		ctl_mux_session_info(a->mux, vs, &si);
		put('S', "session", "%s", a->cfg->sessions[vs].name);
		put('S', "state", "%s", ctl_mux_venue_state_name(si.state));
		put('U', "next_in", "%" PRIu64, si.next_in);
		put('U', "next_out", "%" PRIu64, si.next_out);
		put('U', "heartbeat_s", "%u", si.heartbeat_s);
		put('U', "users", "%u", si.users_attached);
		put('U', "online", "%u", si.users_online);
		put('U', "pending", "%" PRIu64, si.pending);
		put('U', "send_backlog", "%u", venue_backlog(a, vs));
		put('S', "last_rx_ms_ago", "%lld", ago_ms(a, si.last_activity));
		put('U', "rate", "%u", si.rate);
		put('U', "burst", "%u", si.burst);
		put('U', "rate_limited", "%" PRIu64, si.rate_refused);
		put('U', "filter_rules", "%u", si.filter_rules);
	}
}

static void h_users(struct fmx_app *a, char *params)
{
	(void)params;
	for (uint32_t u = 0; u < a->cfg->n_users; u++) {
		const struct ctl_user_cfg *uc = &a->cfg->users[u];
		for (uint32_t k = 0; k < uc->n_sessions; k++) {
			uint32_t vs = uc->sessions[k];
			struct ctl_mux_user_info ui;
			if (ctl_mux_user_info(a->mux, u, vs, &ui) != 0)
				continue;
			char ip[INET_ADDRSTRLEN];
			put('S', "user", "%s", uc->name);
			put('S', "session", "%s", a->cfg->sessions[vs].name);
			put('S', "state", "%s",
			    ui.online ? "online" : ui.connected ? "connected" : "offline");
			put('S', "address", "%s", ui.connected ? ip_str(ui.src, ip, sizeof(ip)) : "-");
			put('U', "next_in", "%" PRIu64, ui.next_in);
			put('U', "next_out", "%" PRIu64, ui.next_out);
			put('U', "pending", "%" PRIu64, ui.pending);
			put('S', "last_rx_ms_ago", "%lld", ago_ms(a, ui.last_activity));
			put('U', "rate", "%u", ui.rate);
			put('U', "burst", "%u", ui.burst);
			put('U', "rate_limited", "%" PRIu64, ui.rate_refused);
			put('U', "filter_rules", "%u", ui.filter_rules);
		}
	}
}

static void h_stats(struct fmx_app *a, char *params)
{
	(void)params;
	for (int i = 0; i < CTL_MUX__COUNTERS; i++)
		put('u', ctl_mux_counter_names[i], "%" PRIu64,
		    ctl_mux_counter(a->mux, (enum ctl_mux_counter)i));
	for (unsigned i = 0; i < FMX_ALL_COUNTERS; i++)
		put('u', fmx_counter_names[i], "%" PRIu64, fmx_counter(a, i));
	/* Each port's device counters (rte_eth_stats), under "port_<side>_<counter>". */
	for (unsigned s = 0; s < a->n_sides; s++) {
		struct rte_eth_stats es;
		if (rte_eth_stats_get(a->sides[s].port.port_id, &es) != 0)
			continue;
		const char *w = a->sides[s].what;
		char key[64];
		static const char *const names[] = {"ipackets", "opackets", "ibytes", "obytes",
						    "imissed", "ierrors", "oerrors", "rx_nombuf"};
		const uint64_t vals[] = {es.ipackets, es.opackets, es.ibytes, es.obytes,
					 es.imissed, es.ierrors, es.oerrors, es.rx_nombuf};
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			snprintf(key, sizeof(key), "port_%s_%s", w, names[i]);
			put('u', key, "%" PRIu64, vals[i]);
		}
	}
	for (unsigned s = 0; s < a->n_sides; s++) {
		uint64_t sc[DP_CTR_COUNT];
		dp_stack_counters(a->sides[s].st, sc);
		for (int i = 0; i < DP_CTR_COUNT; i++) {
			char key[96];
			snprintf(key, sizeof(key), "%s_%s", a->sides[s].what,
				 dp_stack_counter_names[i]);
			put('u', key, "%" PRIu64, sc[i]);
		}
	}
}

/* Every side's histogram of direction d, merged. */
static void lat_merged(const struct fmx_app *a, int d, struct fmx_hist *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned s = 0; s < a->n_sides; s++)
		fmx_hist_merge(out, &a->sides[s].lat[d]);
}

/* A new baseline: `latency` reports what is recorded from now on. The sides' own
 * histograms are not touched (they are written on their lcores). */
static void h_latency_reset(struct fmx_app *a, char *params)
{
	(void)params;
	uint64_t n[FMX_LAT__DIRS];
	for (int d = 0; d < FMX_LAT__DIRS; d++) {
		lat_merged(a, d, &a->lat_base[d]);
		n[d] = a->lat_base[d].n;
	}
	put('s', "result", "%s", "latency histograms reset");
	put('u', "client_to_venue_before", "%" PRIu64, n[FMX_LAT_CLIENT_TO_VENUE]);
	put('u', "venue_to_client_before", "%" PRIu64, n[FMX_LAT_VENUE_TO_CLIENT]);
}

static void h_latency(struct fmx_app *a, char *params)
{
	(void)params;
	static const struct {
		const char *name;
		double p;
	} pct[] = {{"p50_ns", .5},     {"p90_ns", .9},       {"p99_ns", .99},
		   {"p99_9_ns", .999}, {"p99_99_ns", .9999}};
	uint64_t hz = rte_get_tsc_hz();
	/* Each side records what it sends; a side on another lcore may be adding to its
	 * histogram meanwhile (counts only grow: a moment-old view). */
	static struct fmx_hist merged;
	for (int d = 0; d < FMX_LAT__DIRS; d++) {
		lat_merged(a, d, &merged);
		fmx_hist_since(&merged, &a->lat_base[d]);
		const struct fmx_hist *h = &merged;
		put('S', "direction", "%s", fmx_lat_dir_names[d]);
		put('U', "count", "%" PRIu64, h->n);
		put('U', "min_ns", "%" PRIu64, h->n ? (uint64_t)((double)h->min * 1e9 / (double)hz) : 0);
		for (size_t k = 0; k < sizeof(pct) / sizeof(pct[0]); k++)
			put('U', pct[k].name, "%" PRIu64,
			    (uint64_t)((double)fmx_hist_percentile(h, pct[k].p) * 1e9 / (double)hz));
		put('U', "max_ns", "%" PRIu64, (uint64_t)((double)h->max * 1e9 / (double)hz));
		put('U', "mean_ns", "%" PRIu64,
		    h->n ? (uint64_t)((double)h->sum / (double)h->n * 1e9 / (double)hz) : 0);
	}
}

static void h_config(struct fmx_app *a, char *params)
{
	(void)params;
	const struct ctl_appliance_cfg *ac = &a->cfg->app;
	char ip[INET_ADDRSTRLEN];
	static const char *const fsync_names[] = {"none", "batch", "always"};
	put('s', "file", "%s", a->config_path);
	put('s', "client_port", "%s", ac->client_port);
	put('s', "venue_port", "%s", ac->venue_port);
	put('s', "client_address", "%s/%u", ip_str(ac->client_addr.addr, ip, sizeof(ip)),
	    ac->client_addr.prefix);
	put('s', "venue_address", "%s/%u", ip_str(ac->venue_addr.addr, ip, sizeof(ip)),
	    ac->venue_addr.prefix);
	put('u', "listen_port", "%u", ac->listen_port);
	put('s', "store_dir", "%s", ac->store_dir);
	put('s', "fsync", "%s", fsync_names[ac->fsync]);
	put('s', "cores", "%s", ac->cores[0] ? ac->cores : "-");
	put('s', "idle", "%s", a->idle_spec);
	put('u', "max_msg", "%u", ac->max_msg);
	put('u', "logon_failures_per_min", "%u", ac->logon_failures_per_min);
	/* What is in force now (run-time changes included), per venue session. */
	for (uint32_t vs = 0; vs < a->cfg->n_sessions; vs++) {
		const struct ctl_vsession_cfg *c = &a->cfg->sessions[vs];
		struct ctl_mux_session_info si;
		ctl_mux_session_info(a->mux, vs, &si);
		put('S', "session", "%s", c->name);
		put('S', "session_address", "%s:%u", ip_str(c->addr, ip, sizeof(ip)), c->port);
		put('S', "session_type", "%s", ctl_session_type_str(c->type));
		put('U', "session_heartbeat_s", "%u", si.heartbeat_s);
		put('U', "session_rate", "%u", si.rate);
		put('U', "session_filter_rules", "%u", si.filter_rules);
	}
}

/* Splits params on blanks into at most max words; the count. */
static int words(char *p, char **w, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(p, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

static bool number(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return false;
	*out = v;
	return true;
}

static void done(const char *what)
{
	put('s', "result", "ok");
	put('s', "change", "%s", what);
}

static void h_set_heartbeat(struct fmx_app *a, char *params)
{
	char *w[3];
	int n = words(params, w, 2);
	uint64_t s;
	if (n < 1 || n > 2 || !number(w[0], 3600, &s)) {
		fail("usage: set heartbeat SECONDS [SESSION]");
		return;
	}
	uint32_t vs = UINT32_MAX;
	if (n == 2) {
		int i = ctl_mux_find_session(a->mux, w[1]);
		if (i < 0) {
			fail("no venue session '%s'", w[1]);
			return;
		}
		vs = (uint32_t)i;
	}
	char err[256];
	if (ctl_mux_set_heartbeat(a->mux, vs, (uint32_t)s, err, sizeof(err)) != 0) {
		fail("%s", err);
		return;
	}
	char what[128];
	snprintf(what, sizeof(what), "heartbeat %" PRIu64 " s at the next Logon of %s", s,
		 n == 2 ? w[1] : "every venue session");
	done(what);
}

static void h_set_rate(struct fmx_app *a, char *params)
{
	char *w[5];
	int n = words(params, w, 4);
	uint64_t rate, burst = 0;
	if (n < 3 || n > 4 || (strcmp(w[0], "user") && strcmp(w[0], "session")) ||
	    !number(w[2], UINT32_MAX, &rate) || (n == 4 && !number(w[3], UINT32_MAX, &burst))) {
		fail("usage: set rate user|session NAME RATE [BURST] (messages per second; 0 = "
		     "unlimited)");
		return;
	}
	bool user = w[0][0] == 'u';
	int i = user ? ctl_mux_find_user(a->mux, w[1]) : ctl_mux_find_session(a->mux, w[1]);
	if (i < 0) {
		fail("no %s '%s'", user ? "user" : "venue session", w[1]);
		return;
	}
	char err[256];
	int rc = user ? ctl_mux_set_user_rate(a->mux, (uint32_t)i, (uint32_t)rate,
					      (uint32_t)burst, a->now_ns, err, sizeof(err)) :
			ctl_mux_set_session_rate(a->mux, (uint32_t)i, (uint32_t)rate,
						 (uint32_t)burst, a->now_ns, err, sizeof(err));
	if (rc != 0) {
		fail("%s", err);
		return;
	}
	char what[160];
	snprintf(what, sizeof(what), "%s %s: rate %" PRIu64 "/s burst %" PRIu64, w[0], w[1], rate,
		 burst ? burst : rate);
	done(what);
}

static void h_reload_filters(struct fmx_app *a, char *params)
{
	char *w[2];
	int n = words(params, w, 1);
	if (n > 1) {
		fail("usage: reload-filters [FILE] (default: the file fixmux started with)");
		return;
	}
	const char *path = n == 1 ? w[0] : a->config_path;
	char err[1024];
	if (ctl_mux_reload_filters(a->mux, path, err, sizeof(err)) != 0) {
		fail("%s", err);
		return;
	}
	char what[CTL_PATH_MAX + 32];
	snprintf(what, sizeof(what), "filters reloaded from %s", path);
	done(what);
}

static void h_logout(struct fmx_app *a, char *params)
{
	char *w[2];
	if (words(params, w, 1) != 1) {
		fail("usage: logout USER");
		return;
	}
	int u = ctl_mux_find_user(a->mux, w[0]);
	if (u < 0) {
		fail("no user '%s'", w[0]);
		return;
	}
	int n = ctl_mux_logout_user(a->mux, (uint32_t)u, "logged out by the operator", a->now_ns);
	fmx_settle(a);
	char what[128];
	snprintf(what, sizeof(what), "user %s: Logout sent on %d session(s)", w[0], n);
	done(what);
	put('u', "sessions", "%d", n);
}

static void h_set_seqs(struct fmx_app *a, char *params)
{
	char *w[5];
	int n = words(params, w, 4);
	uint64_t in, out;
	bool force = n == 4 && (!strcmp(w[3], "force") || !strcmp(w[3], "--force"));
	if (n < 3 || (n == 4 && !force) || !number(w[1], UINT64_MAX, &in) ||
	    !number(w[2], UINT64_MAX, &out)) {
		fail("usage: set-seqs SESSION NEXT_IN NEXT_OUT [--force]");
		return;
	}
	int vs = ctl_mux_find_session(a->mux, w[0]);
	if (vs < 0) {
		fail("no venue session '%s'", w[0]);
		return;
	}
	char err[256];
	if (ctl_mux_set_seqs(a->mux, (uint32_t)vs, in, out, force, err, sizeof(err)) != 0) {
		fail("%s", err);
		return;
	}
	char what[160];
	snprintf(what, sizeof(what), "%s: next in %" PRIu64 ", next out %" PRIu64, w[0], in, out);
	done(what);
}

static void h_log_level(struct fmx_app *a, char *params)
{
	char *w[2];
	if (words(params, w, 1) != 1) {
		fail("usage: log-level error|warning|info|debug");
		return;
	}
	for (int i = 0; i < (int)(sizeof(log_level_names) / sizeof(log_level_names[0])); i++) {
		if (strcmp(w[0], log_level_names[i]) == 0) {
			a->log_level = i;
			/* DPDK's own logs follow: error -> ERR ... debug -> DEBUG. */
			static const uint32_t rte_levels[] = {RTE_LOG_ERR, RTE_LOG_WARNING,
							      RTE_LOG_INFO, RTE_LOG_DEBUG};
			rte_log_set_global_level(rte_levels[i]);
			fprintf(stderr, "fixmux: admin: log level %s\n", w[0]);
			char what[64];
			snprintf(what, sizeof(what), "log level %s", w[0]);
			done(what);
			return;
		}
	}
	fail("unknown log level '%s' (error, warning, info, debug)", w[0]);
}

static void h_idle(struct fmx_app *a, char *params)
{
	char *w[2];
	if (words(params, w, 1) != 1) {
		fail("usage: idle spin|backoff|sleep (also backoff:MAX_US, sleep:US)");
		return;
	}
	struct dp_idle_conf c;
	char err[128];
	if (dp_idle_parse(&c, w[0], err, sizeof(err)) != 0) {
		fail("%s", err);
		return;
	}
	/* The loop reads its idle state only between iterations, on this thread. */
	dp_idle_init(&a->loop.idle, &c);
	snprintf(a->idle_spec, sizeof(a->idle_spec), "%s", w[0]);
	fprintf(stderr, "fixmux: admin: idle strategy %s\n", w[0]);
	char what[64];
	snprintf(what, sizeof(what), "idle strategy %s", w[0]);
	done(what);
}

struct fmx_cmd {
	const char *name;
	void (*fn)(struct fmx_app *a, char *params);
	const char *help;
};

static const struct fmx_cmd cmds[] = {
	{"/fixmux/status", h_status, "Process state, sessions up, users online. No parameters"},
	{"/fixmux/sessions", h_sessions,
	 "Venue sessions: state, sequence numbers, users, pending, backlog, limits"},
	{"/fixmux/users", h_users, "Client sessions: state, address, sequence numbers, pending"},
	{"/fixmux/stats", h_stats, "Counters of the multiplexer, the process and the stacks"},
	{"/fixmux/latency", h_latency,
	 "Internal latency percentiles: client RX -> venue TX, venue RX -> client TX"},
	{"/fixmux/latency_reset", h_latency_reset,
	 "Starts the latency percentiles afresh (counts from now on). No parameters"},
	{"/fixmux/config", h_config, "The configuration in force"},
	{"/fixmux/set_heartbeat", h_set_heartbeat,
	 "Parameters: SECONDS [SESSION]. HeartBtInt proposed at the next venue Logon"},
	{"/fixmux/set_rate", h_set_rate, "Parameters: user|session NAME RATE [BURST]"},
	{"/fixmux/reload_filters", h_reload_filters,
	 "Parameters: [FILE]. Filter rules from the file; a broken file keeps the old rules"},
	{"/fixmux/logout", h_logout, "Parameters: USER. Logs the user out of every session"},
	{"/fixmux/set_seqs", h_set_seqs,
	 "Parameters: SESSION NEXT_IN NEXT_OUT [force]. Refused while connected unless forced"},
	{"/fixmux/log_level", h_log_level, "Parameters: error|warning|info|debug"},
	{"/fixmux/idle", h_idle, "Parameters: spin|backoff|sleep. The poll loop's idle strategy"},
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

unsigned fmx_ctl_poll(struct fmx_app *a)
{
	unsigned posted = MB_POSTED;
	if (atomic_load_explicit(&mb.state, memory_order_acquire) != MB_POSTED ||
	    !atomic_compare_exchange_strong_explicit(&mb.state, &posted, MB_TAKEN,
						     memory_order_acquire, memory_order_relaxed))
		return 0;
	mb.len = 0;
	mb.overflow = false;
	const struct fmx_cmd *c = NULL;
	for (size_t i = 0; i < N_CMDS; i++)
		if (strcmp(cmds[i].name, mb.cmd) == 0)
			c = &cmds[i];
	if (c == NULL)
		fail("unknown command %s", mb.cmd);
	else
		c->fn(a, mb.params);
	if (mb.overflow)
		fail("the answer does not fit in %d bytes", MB_OUT);
	atomic_store_explicit(&mb.state, MB_DONE, memory_order_release);
	return 1;
}

/* ------------------------------------------------------------------------------------------
 * The telemetry thread's side
 * ---------------------------------------------------------------------------------------- */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Waits until the slot is in one of the states of mask (bits), up to the deadline. */
static bool wait_state(unsigned mask, int64_t deadline)
{
	const struct timespec nap = {0, 50000};
	while (!(mask & (1u << atomic_load_explicit(&mb.state, memory_order_acquire)))) {
		if (mono_ns() >= deadline)
			return false;
		nanosleep(&nap, NULL);
	}
	return true;
}

struct col {
	const char *key;
	struct rte_tel_data *d;
};

/* The loop's answer lines into d (see the header comment). */
static void to_tel(char *text, struct rte_tel_data *d)
{
	struct col cols[MB_COLS];
	int n_cols = 0;
	char *save = NULL;
	if (strncmp(text, "e\t", 2) == 0) {
		char *why = strchr(text + 2, '\t');
		why = why ? why + 1 : text;
		why[strcspn(why, "\n")] = '\0';
		rte_tel_data_string(d, why);
		return;
	}
	rte_tel_data_start_dict(d);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char type = line[0];
		char *key = line + 2;
		char *val = strchr(key, '\t');
		if (line[1] != '\t' || val == NULL)
			continue;
		*val++ = '\0';
		if (type == 's') {
			rte_tel_data_add_dict_string(d, key, val);
		} else if (type == 'u') {
			rte_tel_data_add_dict_u64(d, key, strtoull(val, NULL, 10));
		} else if (type == 'S' || type == 'U') {
			int k = 0;
			while (k < n_cols && strcmp(cols[k].key, key) != 0)
				k++;
			if (k == n_cols) {
				if (n_cols == MB_COLS)
					continue;
				cols[k].key = key;
				cols[k].d = rte_tel_data_alloc();
				if (cols[k].d == NULL)
					continue;
				rte_tel_data_start_array(cols[k].d, type == 'S' ? RTE_TEL_STRING_VAL :
										  RTE_TEL_U64_VAL);
				n_cols++;
			}
			if (type == 'S')
				rte_tel_data_add_array_string(cols[k].d, val);
			else
				rte_tel_data_add_array_u64(cols[k].d, strtoull(val, NULL, 10));
		}
	}
	for (int k = 0; k < n_cols; k++)
		if (rte_tel_data_add_dict_container(d, cols[k].key, cols[k].d, 0) != 0)
			rte_tel_data_free(cols[k].d);
}

static int tel_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	pthread_mutex_lock(&mb_lock);
	int64_t deadline = mono_ns() + MB_TIMEOUT_NS;
	/* A request abandoned after a timeout may still be in the loop's hands. */
	if (!wait_state(1u << MB_IDLE | 1u << MB_DONE, deadline)) {
		rte_tel_data_string(d, "fixmux is busy: its poll loop has not finished an earlier "
				       "request");
		pthread_mutex_unlock(&mb_lock);
		return 0;
	}
	snprintf(mb.cmd, sizeof(mb.cmd), "%s", cmd);
	snprintf(mb.params, sizeof(mb.params), "%s", params ? params : "");
	atomic_store_explicit(&mb.state, MB_POSTED, memory_order_release);
	if (!wait_state(1u << MB_DONE, deadline)) {
		/* Withdraw the request unless the loop has taken it: then it will run, and a
		 * change must not be reported as not done. */
		unsigned posted = MB_POSTED;
		if (atomic_compare_exchange_strong(&mb.state, &posted, MB_IDLE)) {
			rte_tel_data_string(d, "fixmux did not answer within 2 s: its poll loop is "
					       "not running (starting up or shutting down?)");
			pthread_mutex_unlock(&mb_lock);
			return 0;
		}
		if (!wait_state(1u << MB_DONE, mono_ns() + MB_TIMEOUT_NS)) {
			rte_tel_data_string(d, "fixmux took the request but did not finish it "
					       "within 2 s; see its log for the outcome");
			pthread_mutex_unlock(&mb_lock);
			return 0;
		}
	}
	to_tel(mb.out, d);
	atomic_store_explicit(&mb.state, MB_IDLE, memory_order_release);
	pthread_mutex_unlock(&mb_lock);
	return 0;
}

void fmx_ctl_register(struct fmx_app *a)
{
	(void)a;
	for (size_t i = 0; i < N_CMDS; i++)
		if (rte_telemetry_register_cmd(cmds[i].name, tel_cb, cmds[i].help) != 0)
			fprintf(stderr, "fixmux: telemetry: cannot register %s\n", cmds[i].name);
}
