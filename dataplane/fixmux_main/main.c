/* fixmux: the appliance process.
 *
 *   fixmux [EAL options] -- --config FILE [--duration S] [--stats-file F]
 *
 * The configuration (docs/configuration.md) names the client-side and venue-side DPDK ports
 * by device name (net_tap0, a PCI address, ...); virtual devices come from the caller's EAL
 * options (--vdev net_tap0,iface=fmxc0 ...). The multiplexer and the control work run on the
 * main lcore; the client and venue sides run there too, or on the lcores [appliance] cores
 * gives them when the EAL enables those (see docs/architecture.md, "The fixmux process").
 *
 *   --config FILE      required
 *   --duration S       shut down (as on SIGTERM) after S seconds
 *   --stats-file F     the counters as JSON, rewritten every 200 ms and at exit
 *
 * Operations: the commands of fixmuxctl (docs/operations.md) are registered with DPDK's
 * telemetry library, so the EAL must run with telemetry (no --no-telemetry); the socket is
 * /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2.
 *
 * Exit status: 0 after an orderly shutdown (SIGTERM, SIGINT, --duration), 1 when start-up
 * fails (configuration errors carry the loader's "FILE:LINE: [section] key: rule" message),
 * 2 for a bad command line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "fmx_app.h"

#define SHUTDOWN_TIMEOUT_US 5000000u /* users and venues get this long to log out */
#define FLUSH_TIMEOUT_US 1000000u    /* then this long for the last bytes to leave */
#define POLL_EVERY_US 1000u          /* ctl_mux_poll(): session timers */
#define STATS_EVERY_US 1000000u    /* the summary line on stdout */
#define STATS_FILE_EVERY_US 200000u /* the --stats-file rewrite: tests wait on it */
#define POOL_MBUFS_MIN 8192u
#define POOL_MBUFS_MAX 65536u
#define POOL_MBUFS_PER_CONN 8u /* RX, send queues, backlogs: a working average, not a bound */
#define LISTEN_BACKLOG 128u

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static __attribute__((noreturn, format(printf, 2, 3))) void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fixmux: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(status);
}

static void usage(void)
{
	die(2, "usage: fixmux [EAL options] -- --config FILE [--duration S] [--stats-file F]");
}

struct opts {
	const char *config;
	const char *stats_file;
	uint64_t duration_s;
};

/* The application's options are parsed before the EAL starts, so that a bad command line or
 * configuration is reported without touching any device. */
static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"config", required_argument, 0, 'c'},
		{"duration", required_argument, 0, 'd'},
		{"stats-file", required_argument, 0, 's'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	memset(o, 0, sizeof(*o));
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'd': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > 86400u * 365u)
				die(2, "--duration: '%s' is not a number of seconds", optarg);
			o->duration_s = v;
			break;
		}
		case 's':
			o->stats_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->config == NULL)
		usage();
}

static const char *ip_str(uint32_t ip, char *buf, size_t cap)
{
	struct in_addr in = {.s_addr = htonl(ip)};
	inet_ntop(AF_INET, &in, buf, (socklen_t)cap);
	return buf;
}

/* TCP connection slots of a side's stack: its users' connections and venue sessions, twice
 * (a connection fixmux closed first stays in TIME_WAIT for a minute after its slot was
 * reused: venue sessions that reconnect and users that log on and off), plus the listener's
 * connections not yet accepted; never fewer than STACK_CONNS_MIN. */
#define STACK_CONNS_MIN 512u
static uint32_t side_conns(const struct fmx_app *a, bool clients, bool venues)
{
	uint32_t n = 0;
	if (clients)
		n += 2 * a->n_clients + LISTEN_BACKLOG;
	if (venues)
		n += 2 * a->cfg->n_sessions;
	return n > STACK_CONNS_MIN ? n : STACK_CONNS_MIN;
}

static void side_open(struct fmx_app *a, struct fmx_side *s, const char *what, const char *dev,
		      const struct ctl_ipv4_net *net, uint32_t gateway, uint32_t max_conns)
{
	uint64_t mbufs = (uint64_t)max_conns * POOL_MBUFS_PER_CONN;
	if (mbufs < POOL_MBUFS_MIN)
		mbufs = POOL_MBUFS_MIN;
	if (mbufs > POOL_MBUFS_MAX)
		mbufs = POOL_MBUFS_MAX;
	char err[256];
	char pool[32];
	snprintf(pool, sizeof(pool), "fmx_pool_%u", a->n_sides);
	s->what = what;
	s->app = a;
	s->ip = net->addr;
	if (rte_eth_dev_count_avail() == 0)
		die(1, "no DPDK port: give the devices with EAL options (e.g. --vdev net_tap0)");
	struct dp_port_conf pc = {
		.dev = dev,
		.n_rxd = 512,
		.n_txd = 512,
		.pool_conf = {.name = pool, .n_mbufs = (uint32_t)mbufs},
	};
	if (dp_port_open(&s->port, &pc, err, sizeof(err)) != 0)
		die(1, "[appliance] %s_port '%s': %s", what, dev, err);
	struct dp_stack_config sc;
	dp_stack_config_defaults(&sc);
	sc.mac = s->port.mac;
	sc.ip = net->addr;
	sc.netmask = net->prefix ? ~0u << (32 - net->prefix) : 0;
	sc.gateway = gateway;
	sc.pool = s->port.pool;
	/* Checksums the port computes itself (none over net_ring/net_memif): software else. */
	sc.tx_csum = s->port.csum;
	sc.socket_id = SOCKET_ID_ANY;
	sc.max_conns = max_conns;
	sc.max_backlog = LISTEN_BACKLOG;
	/* The stack and the port are the side's lcore's; the multiplexer's lcore writes into
	 * the pool too (copies it sends), which rte_mempool allows from any lcore. */
	s->st = dp_stack_create(&sc, err, sizeof(err));
	if (s->st == NULL)
		die(1, "%s stack: %s", what, err);
	a->n_sides++;
}

static unsigned control_work(void *arg, uint64_t now_us);

/* First agent of every iteration: both clocks, once. CLOCK_REALTIME comes from the vDSO (no
 * system call); it is the multiplexer's time because FIX timestamps are UTC. */
unsigned fmx_clock_work(void *arg, uint64_t now_us)
{
	struct fmx_app *a = arg;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	a->now_us = now_us;
	a->now_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	return 0;
}

static void stop_loops(struct fmx_app *a)
{
	dp_lcore_stop(&a->loop);
	for (unsigned i = 0; i < a->n_sides; i++)
		dp_lcore_stop(&a->sides[i].loop);
}

static unsigned mux_work(void *arg, uint64_t now_us)
{
	(void)now_us;
	return fmx_mux_work(arg);
}

static unsigned control_work(void *arg, uint64_t now_us)
{
	struct fmx_app *a = arg;
	/* Commands it posts (heartbeats, resends, Logouts) count as work, so that the loop does
	 * not idle before the sides have taken them. */
	uint64_t posts = a->posts;
	unsigned work = 0;
	if (!a->stopping && (stop_signal || (a->duration_us && now_us - a->start_us >=
								  a->duration_us))) {
		a->stopping = true;
		a->stop_started_us = now_us;
		fprintf(stderr, "fixmux: shutting down: logging out every user and venue session\n");
	}
	if (now_us - a->last_poll_us >= POLL_EVERY_US) {
		a->last_poll_us = now_us;
		/* fixmuxctl's request, if one waits: run here, between two multiplexer calls. */
		work += fmx_ctl_poll(a);
		if (!a->stopping) {
			ctl_mux_poll(a->mux, a->now_ns);
		} else if (!a->mux_down) {
			a->mux_down = ctl_mux_shutdown(a->mux, a->now_ns);
			if (!a->mux_down && now_us - a->stop_started_us >= SHUTDOWN_TIMEOUT_US) {
				fprintf(stderr, "fixmux: shutdown: not everyone logged out within "
						"5 s; leaving anyway\n");
				a->shutdown_timed_out = true;
				a->mux_down = true;
			}
			if (a->mux_down)
				a->stop_started_us = now_us; /* now the flush timeout */
		}
		fmx_settle(a);
		if (a->stopping)
			atomic_store_explicit(&a->flush_sides, true, memory_order_relaxed);
		work += fmx_mux_flush(a);
	}
	if (a->mux_down && (fmx_pending_out(a) == 0 ||
			    now_us - a->stop_started_us >= FLUSH_TIMEOUT_US))
		stop_loops(a);
	if (now_us - a->last_stats_us >= STATS_EVERY_US) {
		a->last_stats_us = now_us;
		if (a->log_level >= FMX_LOG_INFO)
			fmx_stats_line(a);
	}
	if (a->stats_file != NULL && now_us - a->last_stats_file_us >= STATS_FILE_EVERY_US) {
		a->last_stats_file_us = now_us;
		fmx_stats_write(a);
	}
	return work + (unsigned)(a->posts - posts);
}

/* Chooses each side's lcore from [appliance] cores (the first lcore of its role). Every role
 * stays on the main lcore when the key is empty or names an lcore the EAL did not enable
 * (the layout is then reported, not imposed: a one-core run of a configuration written for a
 * larger machine). The control role (the multiplexer) is the main lcore's: it is the thread
 * that serves the telemetry mailbox and the signals. */
static void place_sides(struct fmx_app *a, const struct dp_role_map *roles, const char *spec,
			const char *config, char *layout, size_t cap)
{
	unsigned main_lcore = rte_lcore_id();
	unsigned lc[DP_ROLE_COUNT];
	bool apply = spec[0] != '\0';
	for (int r = 0; r < DP_ROLE_COUNT; r++) {
		unsigned l = main_lcore;
		if (dp_roles_lcores(roles, (enum dp_role)r, &l, 1) == 0)
			l = main_lcore;
		if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l))
			apply = false;
		lc[r] = l;
	}
	if (apply && lc[DP_ROLE_CONTROL] != main_lcore)
		die(1, "%s: [appliance] cores: control:%u, but the control role runs on the main "
		       "lcore (the first of the EAL's -l), %u", config, lc[DP_ROLE_CONTROL],
		    main_lcore);
	if (apply && a->cs == a->vs && lc[DP_ROLE_CLIENT] != lc[DP_ROLE_VENUE])
		die(1, "%s: [appliance] cores: client_port and venue_port are one device, which has "
		       "one stack: the client and venue roles must share an lcore", config);
	a->cs->lcore = apply ? lc[DP_ROLE_CLIENT] : main_lcore;
	if (a->vs != a->cs)
		a->vs->lcore = apply ? lc[DP_ROLE_VENUE] : main_lcore;
	a->multi_lcore = a->cs->lcore != main_lcore || a->vs->lcore != main_lcore;
	if (!apply)
		snprintf(layout, cap, "every role on lcore %u%s", main_lcore,
			 spec[0] ? " (an lcore of the layout is not enabled by the EAL)" : "");
	else
		snprintf(layout, cap, "client side on lcore %u, venue side on lcore %u, control on "
			 "lcore %u", a->cs->lcore, a->vs->lcore, main_lcore);
}

int main(int argc, char **argv)
{
	/* EAL options before "--", ours after it. */
	int dd = 1;
	while (dd < argc && strcmp(argv[dd], "--") != 0)
		dd++;
	if (dd == argc)
		usage();
	char *app_argv[64];
	int app_argc = argc - dd;
	if (app_argc > (int)(sizeof(app_argv) / sizeof(app_argv[0])) - 1)
		usage();
	app_argv[0] = argv[0];
	for (int i = 1; i < app_argc; i++)
		app_argv[i] = argv[dd + i];
	app_argv[app_argc] = NULL;
	struct opts o;
	parse_opts(&o, app_argc, app_argv);

	static struct ctl_config cfg;
	char err[512];
	if (ctl_config_load(&cfg, o.config, err, sizeof(err)) != 0)
		die(1, "%s", err);
	const struct ctl_appliance_cfg *ac = &cfg.app;
	if (ac->client_port[0] == '\0')
		die(1, "%s: [appliance] client_port: is required by fixmux (a DPDK device name)",
		    o.config);
	if (ac->venue_port[0] == '\0')
		die(1, "%s: [appliance] venue_port: is required by fixmux (a DPDK device name)",
		    o.config);
	if (ac->client_addr.addr == 0 || ac->venue_addr.addr == 0)
		die(1, "%s: [appliance] client_address and venue_address: are required by fixmux",
		    o.config);
	bool shared = strcmp(ac->client_port, ac->venue_port) == 0;
	if (shared && ac->client_addr.addr != ac->venue_addr.addr)
		die(1, "%s: [appliance] venue_address: client_port and venue_port are one device, "
		       "which has one stack and one address: venue_address must equal "
		       "client_address", o.config);

	/* One device has one stack with one next hop for everything off-link. */
	uint32_t shared_gw = ac->client_gateway ? ac->client_gateway : ac->venue_gateway;
	if (shared && ac->client_gateway && ac->venue_gateway &&
	    ac->client_gateway != ac->venue_gateway)
		die(1, "%s: [appliance] client_gateway: client_port and venue_port are one device, "
		       "which has one stack and one next hop: client_gateway and venue_gateway "
		       "must be equal (or only one given)", o.config);

	/* The role layout is checked now; it is applied once the EAL says which lcores exist. */
	struct dp_role_map roles;
	memset(&roles, 0, sizeof(roles));
	if (ac->cores[0] != '\0' && dp_roles_parse(&roles, ac->cores, err, sizeof(err)) != 0)
		die(1, "%s: [appliance] cores: %s", o.config, err);

	int eal = rte_eal_init(dd, argv);
	if (eal < 0)
		die(1, "EAL start-up failed: %s", rte_strerror(rte_errno));

	static struct fmx_app a;
	a.cfg = &cfg;
	a.stats_file = o.stats_file;
	a.config_path = o.config;
	a.log_level = FMX_LOG_INFO;
	a.duration_us = o.duration_s * 1000000u;
	a.n_clients = fmx_client_slots(&cfg);
	side_open(&a, &a.sides[0], shared ? "shared" : "client", ac->client_port,
		  &ac->client_addr, shared ? shared_gw : ac->client_gateway,
		  side_conns(&a, true, shared));
	a.cs = &a.sides[0];
	if (shared) {
		a.vs = a.cs;
	} else {
		side_open(&a, &a.sides[1], "venue", ac->venue_port, &ac->venue_addr,
			  ac->venue_gateway, side_conns(&a, false, true));
		a.vs = &a.sides[1];
	}
	a.cs->clients = true;
	a.vs->venues = true;
	if (fmx_conns_init(&a, err, sizeof(err)) != 0)
		die(1, "%s", err);
	char layout[160];
	place_sides(&a, &roles, ac->cores, o.config, layout, sizeof(layout));

	a.start_us = a.last_stats_us = a.last_stats_file_us = a.last_poll_us = dp_lcore_now_us();
	fmx_clock_work(&a, a.start_us);
	/* The stack's calls take the time of its last poll. */
	for (unsigned i = 0; i < a.n_sides; i++)
		dp_stack_poll(a.sides[i].st, a.now_us);
	int rc = 0;
	a.listener = dp_tcp_listen(a.cs->st, ac->listen_port, LISTEN_BACKLOG, &rc);
	if (a.listener == DP_CONN_INVALID)
		die(1, "listen on port %u: stack error %d", ac->listen_port, rc);

	struct ctl_mux_io io;
	fmx_io_init(&a, &io);
	a.mux = ctl_mux_create(&cfg, &io, a.now_ns, err, sizeof(err));
	if (a.mux == NULL)
		die(1, "%s", err);

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct dp_idle_conf idle;
	static const char *const idle_names[] = {"spin", "backoff", "sleep"};
	if (dp_idle_parse(&idle, idle_names[ac->idle], err, sizeof(err)) != 0)
		die(1, "%s", err);
	dp_lcore_loop_init(&a.loop, &idle);
	snprintf(a.idle_spec, sizeof(a.idle_spec), "%s", idle_names[ac->idle]);
	fmx_ctl_register(&a);
	/* The agents are the roles' units of work. On the main lcore: the clock, the sides that
	 * share it, the multiplexer (the sides' messages into ctl_mux), the shared sides'
	 * commands and TX again, so that what the multiplexer forwarded leaves in the same
	 * iteration and before control (timers, journal syncs, shutdown, statistics,
	 * fixmuxctl), which may take milliseconds: a message the journals say was sent should be
	 * on the wire as soon as possible. A side with an lcore of its own
	 * runs its whole agent there, in its own loop with that lcore's idle strategy. Both
	 * layouts go through the same rings (docs/architecture.md, "Cores"). */
	unsigned main_lcore = rte_lcore_id();
	dp_lcore_add(&a.loop, "clock", fmx_clock_work, &a);
	for (unsigned i = 0; i < a.n_sides; i++)
		if (a.sides[i].lcore == main_lcore)
			dp_lcore_add(&a.loop, a.sides[i].what, fmx_side_work, &a.sides[i]);
	dp_lcore_add(&a.loop, "mux", mux_work, &a);
	for (unsigned i = 0; i < a.n_sides; i++)
		if (a.sides[i].lcore == main_lcore)
			dp_lcore_add(&a.loop, a.sides[i].what, fmx_side_out_work, &a.sides[i]);
	dp_lcore_add(&a.loop, "control", control_work, &a);
	/* Sides elsewhere: one loop per lcore (the first side's), carrying every side there. */
	for (unsigned i = 0; i < a.n_sides; i++) {
		struct fmx_side *s = &a.sides[i];
		if (s->lcore == main_lcore)
			continue;
		struct fmx_side *owner = s;
		for (unsigned k = 0; k < i; k++)
			if (a.sides[k].lcore == s->lcore)
				owner = &a.sides[k];
		if (owner == s)
			dp_lcore_loop_init(&s->loop, dp_roles_idle(&roles, s->lcore, &idle));
		dp_lcore_add(&owner->loop, s->what, fmx_side_work, s);
	}

	char ip1[INET_ADDRSTRLEN], ip2[INET_ADDRSTRLEN];
	printf("fixmux: listening on %s:%u (%s port %s), venues from %s (%s port %s); "
	       "%u venue session(s), %u user(s); %s (cores = %s), idle %s\n",
	       ip_str(a.cs->ip, ip1, sizeof(ip1)), ac->listen_port, a.cs->what, a.cs->port.name,
	       ip_str(a.vs->ip, ip2, sizeof(ip2)), a.vs->what, a.vs->port.name, cfg.n_sessions,
	       cfg.n_users, layout, ac->cores[0] ? ac->cores : "-", idle_names[ac->idle]);
	fflush(stdout);

	for (unsigned i = 0; i < a.n_sides; i++)
		if (a.sides[i].loop.n_agents > 0 &&
		    rte_eal_remote_launch(dp_lcore_run, &a.sides[i].loop, a.sides[i].lcore) != 0)
			die(1, "cannot start lcore %u", a.sides[i].lcore);
	dp_lcore_run(&a.loop);
	stop_loops(&a);
	rte_eal_mp_wait_lcore();

	fmx_stats_line(&a);
	fmx_stats_write(&a);
	/* One thread from here on. Let the FINs of the connections given back out before the
	 * ports go away. */
	for (unsigned i = 0; i < a.n_sides; i++)
		fmx_side_release(&a.sides[i]);
	for (int i = 0; i < 100; i++) {
		unsigned left = 0;
		for (unsigned s = 0; s < a.n_sides; s++)
			left += fmx_side_drain(&a.sides[s], dp_lcore_now_us());
		if (left == 0)
			break;
	}
	ctl_mux_destroy(a.mux); /* flushes and closes the journals */
	/* Every stack before any port: a stack may still hold mbufs of the other port's pool
	 * (messages forwarded in place), which go back to that pool when it is destroyed. */
	for (unsigned i = 0; i < a.n_sides; i++)
		dp_stack_destroy(a.sides[i].st);
	for (unsigned i = 0; i < a.n_sides; i++)
		dp_port_close(&a.sides[i].port);
	fmx_conns_free(&a);
	ctl_config_free(&cfg);
	rte_eal_cleanup();
	return 0;
}
