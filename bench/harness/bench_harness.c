/* fixmux-bench: open-loop end-to-end latency harness (issue 7, docs/benchmarks.md
 * "## fixmux-bench (end to end)"). This file: the command line and the phase driver.
 *
 * The same traffic runs once per phase: through fixmux (--fixmux), through the QuickFIX relay
 * (--qf-relay) and straight to the venue simulator (--direct), one after the other in the same
 * process, and the ratios are printed. In each phase --threads threads (bench_worker.c) carry
 * the users, each with its own histograms, merged at the end; the driver starts them on a
 * common clock, reads fixmux's internal latency around the fixmux phase (--latency-cmd) and
 * collects the per-second rows.
 */
#define _GNU_SOURCE
#include "bench_dpnet.h"
#include "bench_harness.h"
#include "bench_hist.h"
#include "bench_util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

struct bench_cfg bench_cfg = {
	.scenario = SCN_ORDERS, .users = 10, .rate = 1000, .duration_s = 10, .warmup_s = 1,
	.drain_s = 5, .prefix = "u", .progress = true, .threads = 1, .md_subs = 1,
	.md_symbols = 4, .dp_dev = "net_memif0", .dp_ip = "198.18.0.1/24", .dp_idle = "spin",
};
volatile int bench_stop;

static void on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------
 * One phase
 * ---------------------------------------------------------------------------------------- */

static void internal_before(const struct phase *ph, struct result *r)
{
	uint64_t v[INT_DIRS][IV__N];

	if (bench_cfg.latency_cmd == NULL || strcmp(ph->name, "fixmux") != 0)
		return;
	/* With a reset the percentiles are this phase's alone; without, since fixmux started. */
	if (bench_cfg.latency_reset_cmd != NULL) {
		if (bench_internal_run(bench_cfg.latency_reset_cmd, r->in.why, sizeof(r->in.why)) != 0)
			return;
		r->in.reset = true;
	}
	if (bench_internal_fetch(bench_cfg.latency_cmd, v, r->in.why, sizeof(r->in.why)) != 0)
		return;
	for (int d = 0; d < INT_DIRS; d++)
		r->in.before_count[d] = v[d][IV_COUNT];
}

static void internal_after(const struct phase *ph, struct result *r)
{
	if (bench_cfg.latency_cmd == NULL || strcmp(ph->name, "fixmux") != 0 || r->in.why[0])
		return;
	if (bench_internal_fetch(bench_cfg.latency_cmd, r->in.v, r->in.why, sizeof(r->in.why)) == 0)
		r->in.have = true;
}

static void run_phase(const struct phase *ph, struct result *r)
{
	static struct phase_run pr;
	struct worker *w[MAX_THREADS] = { 0 };
	pthread_t th[MAX_THREADS];
	uint32_t nt = bench_cfg.threads < ph->users ? bench_cfg.threads : ph->users;
	/* The user-space stack belongs to one thread. */
	bool userspace = bench_dp_active() && strcmp(ph->name, "fixmux") == 0;
	if (userspace)
		nt = 1;
	const uint64_t tps = (uint64_t)(bench_ticks_per_ns() * 1e9);

	memset(&pr, 0, sizeof(pr));
	pr.ph = ph;
	pr.r = r;
	pr.nthreads = nt;
	/* The same subscriptions in every phase, spread over that phase's users. */
	pr.subs_total = (bench_cfg.scenario & SCN_MD) ? bench_cfg.users * bench_cfg.md_subs : 0;
	r->phase = ph->name;
	r->userspace = userspace;
	r->users = ph->users;
	r->threads = nt;
	r->subs = pr.subs_total;
	r->ok = false;
	if ((pr.subs_total + ph->users - 1) / ph->users > MAX_USER_SUBS) {
		snprintf(r->why, sizeof(r->why), "%u subscriptions over %u sessions: at most %d each",
			 pr.subs_total, ph->users, MAX_USER_SUBS);
		return;
	}
	pthread_mutex_init(&pr.mu, NULL);
	pthread_barrier_init(&pr.ready, NULL, nt + 1);
	pthread_barrier_init(&pr.go, NULL, nt + 1);
	pthread_barrier_init(&pr.measured, NULL, nt + 1);
	pthread_barrier_init(&pr.resume, NULL, nt + 1);
	for (int s = 0; s < ST__COUNT; s++)
		for (int i = 0; i < 5; i++)
			if (bench_hist_init(i < 4 ? &pr.slot[s][i].h : &pr.late[s].h, HIST_HIGHEST) != 0)
				bench_fail("out of memory");
	for (uint32_t i = 0; i < nt; i++)
		if ((w[i] = bench_worker_new(&pr, i)) == NULL)
			bench_fail("out of memory");
	for (uint32_t i = 0; i < nt; i++)
		if (pthread_create(&th[i], NULL, bench_worker_main, w[i]) != 0)
			bench_fail("cannot start a thread");

	/* Every thread has logged its users on (or failed): read fixmux's counts, start the
	 * clock 10 ms from now so that every thread is waiting when order 0 is due. */
	pthread_barrier_wait(&pr.ready);
	if (!__atomic_load_n(&pr.abort_run, __ATOMIC_RELAXED))
		internal_before(ph, r);
	pr.start = bench_ticks() + tps / 100;
	pr.start_rt = realtime_ns() + 10000000;
	pthread_barrier_wait(&pr.go);
	uint64_t t0 = pr.start;
	pthread_barrier_wait(&pr.measured);
	if (!__atomic_load_n(&pr.abort_run, __ATOMIC_RELAXED) && !bench_stop)
		internal_after(ph, r);
	else if (r->in.why[0] == 0)
		snprintf(r->in.why, sizeof(r->in.why), "not read: the phase failed");
	pthread_barrier_wait(&pr.resume);
	for (uint32_t i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	/* The user-space stack's last FINs and ACKs (its thread is gone: this one drives it). */
	if (userspace)
		bench_dp_drain(200);
	r->elapsed_s = (double)(bench_ticks() - t0) / (double)tps;
	bench_second_flush(&pr);

	bool ok = true;
	for (uint32_t i = 0; i < nt; i++)
		ok &= bench_worker_merge(w[i], r);
	/* A thread's failure is already in r->why; the others are the phase's own. */
	if (!ok) {
		r->ok = false;
	} else if (bench_stop) {
		snprintf(r->why, sizeof(r->why), "interrupted");
	} else if (r->unanswered > 0) {
		snprintf(r->why, sizeof(r->why), "%llu orders without an ExecutionReport after %.1f s",
			 (unsigned long long)r->unanswered, bench_cfg.drain_s);
	} else if (r->rejected > 0) {
		snprintf(r->why, sizeof(r->why), "%llu orders rejected (150=8)",
			 (unsigned long long)r->rejected);
	} else if (r->md_unstamped > 0) {
		snprintf(r->why, sizeof(r->why), "%llu increments without MDEntryTime(273): run the "
			 "simulator with --md-rate", (unsigned long long)r->md_unstamped);
	} else {
		r->ok = true;
	}
	for (uint32_t i = 0; i < nt; i++)
		bench_worker_free(w[i]);
	for (int s = 0; s < ST__COUNT; s++) {
		for (int i = 0; i < 4; i++)
			bench_hist_free(&pr.slot[s][i].h);
		bench_hist_free(&pr.late[s].h);
	}
	pthread_barrier_destroy(&pr.ready);
	pthread_barrier_destroy(&pr.go);
	pthread_barrier_destroy(&pr.measured);
	pthread_barrier_destroy(&pr.resume);
	pthread_mutex_destroy(&pr.mu);
	if (!r->ok && r->why[0] == 0)
		snprintf(r->why, sizeof(r->why), "failed");
}

/* ------------------------------------------------------------------------------------------
 * Command line
 * ---------------------------------------------------------------------------------------- */

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: fixmux-bench [--fixmux HOST:PORT] [--direct HOST:PORT] [options]\n"
		"  --fixmux HOST:PORT     phase 1: through fixmux (users log on with 553/554)\n"
		"  --fixmux-target ID     TargetCompID towards fixmux (default SIM.Orders)\n"
		"  --qf-relay HOST:PORT   phase 2: through the QuickFIX relay (orders only)\n"
		"  --qf-relay-target ID   TargetCompID towards the relay (default QFRELAY)\n"
		"  --direct HOST:PORT     phase 3: straight to the venue simulator (baseline)\n"
		"  --direct-target ID     TargetCompID towards the simulator (default SIMVENUE)\n"
		"  --scenario S           orders (default), md (market data) or mix (both at once)\n"
		"  --users N              FIX sessions (1..%d, default 10), named PREFIX001...\n"
		"  --direct-users M       sessions of the direct phase (default min(N, 64): the\n"
		"                         simulator holds 64 sessions); same total traffic\n"
		"  --user-prefix P        default u\n"
		"  --password-file F      password sent in 554 (first line of F)\n"
		"  --rate R               orders per second over all users (default 1000)\n"
		"  --md-subs S            market-data subscriptions per user (default 1)\n"
		"  --md-symbols K         symbols they are spread over (default 4): users share them\n"
		"  --md-rate R            the simulator's --md-rate (increments/s per subscription),\n"
		"                         for the report\n"
		"  --duration S           seconds of sending per phase (default 10)\n"
		"  --warmup S             first seconds not recorded (default 1)\n"
		"  --drain S              wait for late reports after the last order (default 5)\n"
		"  --threads T            sender/receiver threads, users dealt out (default 1, max %d)\n"
		"  --cores LIST           pin thread i to CPU LIST[i mod len] (e.g. 2,3)\n"
		"  --latency-cmd CMD      shell command printing fixmux's `fixmuxctl --json latency`:\n"
		"                         run before and after the fixmux phase, reported beside it\n"
		"  --latency-reset-cmd CMD  shell command resetting them (`fixmuxctl latency reset`)\n"
		"                         before the phase: its percentiles are then the phase's\n"
		"  --dpdk 'EAL ARGS'      fixmux-bench-dp: the fixmux phase's users on fixmux's own\n"
		"                         TCP/IP stack (one thread), over the DPDK port --dp-dev\n"
		"  --dp-dev DEV           its port (default net_memif0)\n"
		"  --dp-ip A.B.C.D/N      its address (default 198.18.0.1/24)\n"
		"  --dp-idle SPEC         its idle strategy: spin (default), backoff[:MAX_US], sleep\n"
		"  --out-dir D            write PHASE.hgrm, PHASE.csv, PHASE-timeline.csv (PHASE-md.*)\n"
		"  --spin                 never sleep in epoll_wait\n"
		"  --no-progress          no progress line each second on stderr\n"
		"  --json                 one JSON object per figure on stdout\n"
		"  --selftest             check the histogram and exit\n"
		"Exit status: 0 when every order got its ExecutionReport and every subscription its\n"
		"increments in every phase, 1 otherwise.\n",
		MAX_USERS, MAX_THREADS);
	exit(rc);
}

static void set_phase(const char *name, const char *arg, const char *target, char tag,
		      uint32_t nusers)
{
	struct phase *ph = &bench_cfg.phases[bench_cfg.nphases++];
	const char *colon = strrchr(arg, ':');

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(ph->host) || atoi(colon + 1) <= 0 ||
	    atoi(colon + 1) > 65535) {
		fprintf(stderr, "fixmux-bench: --%s '%s': expected IPV4:PORT\n", name, arg);
		exit(2);
	}
	memcpy(ph->host, arg, (size_t)(colon - arg));
	ph->port = (uint16_t)atoi(colon + 1);
	ph->name = name;
	ph->target = target;
	ph->tag = tag;
	ph->users = nusers;
}

static double num(const char *opt, const char *v, double lo, double hi)
{
	char *end;
	double x = strtod(v, &end);

	if (*v == 0 || *end != 0 || !(x >= lo && x <= hi)) {
		fprintf(stderr, "fixmux-bench: --%s '%s': expected a number from %g to %g\n", opt, v,
			lo, hi);
		exit(2);
	}
	return x;
}

static void parse_cores(const char *v)
{
	char *copy = strdup(v), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (bench_cfg.ncores == MAX_THREADS) {
			fprintf(stderr, "fixmux-bench: --cores '%s': at most %d\n", v, MAX_THREADS);
			exit(2);
		}
		bench_cfg.cores[bench_cfg.ncores++] = (int)num("cores", t, 0, 4095);
	}
	free(copy);
	if (bench_cfg.ncores == 0)
		usage(2);
}

int main(int argc, char **argv)
{
	enum { OPT_FIXMUX = 256, OPT_FTARGET, OPT_DIRECT, OPT_DTARGET, OPT_USERS, OPT_PREFIX, OPT_PW,
	       OPT_RATE, OPT_DUR, OPT_WARM, OPT_DRAIN, OPT_OUT, OPT_SPIN, OPT_NOPROG, OPT_JSON,
	       OPT_SELF, OPT_DUSERS, OPT_QF, OPT_QTARGET, OPT_SCN, OPT_THREADS, OPT_CORES,
	       OPT_LATCMD, OPT_LATRESET, OPT_MDSUBS, OPT_MDSYMS, OPT_MDRATE, OPT_DPDK, OPT_DPDEV, OPT_DPIP,
	       OPT_DPIDLE };
	static const struct option lo[] = {
		{ "fixmux", 1, 0, OPT_FIXMUX }, { "fixmux-target", 1, 0, OPT_FTARGET },
		{ "qf-relay", 1, 0, OPT_QF }, { "qf-relay-target", 1, 0, OPT_QTARGET },
		{ "direct", 1, 0, OPT_DIRECT }, { "direct-target", 1, 0, OPT_DTARGET },
		{ "users", 1, 0, OPT_USERS }, { "direct-users", 1, 0, OPT_DUSERS },
		{ "user-prefix", 1, 0, OPT_PREFIX }, { "password-file", 1, 0, OPT_PW },
		{ "rate", 1, 0, OPT_RATE }, { "duration", 1, 0, OPT_DUR },
		{ "warmup", 1, 0, OPT_WARM }, { "drain", 1, 0, OPT_DRAIN },
		{ "out-dir", 1, 0, OPT_OUT }, { "spin", 0, 0, OPT_SPIN },
		{ "no-progress", 0, 0, OPT_NOPROG }, { "json", 0, 0, OPT_JSON },
		{ "scenario", 1, 0, OPT_SCN }, { "threads", 1, 0, OPT_THREADS },
		{ "cores", 1, 0, OPT_CORES }, { "latency-cmd", 1, 0, OPT_LATCMD },
		{ "latency-reset-cmd", 1, 0, OPT_LATRESET },
		{ "md-subs", 1, 0, OPT_MDSUBS }, { "md-symbols", 1, 0, OPT_MDSYMS },
		{ "md-rate", 1, 0, OPT_MDRATE }, { "dpdk", 1, 0, OPT_DPDK },
		{ "dp-dev", 1, 0, OPT_DPDEV }, { "dp-ip", 1, 0, OPT_DPIP },
		{ "dp-idle", 1, 0, OPT_DPIDLE },
		{ "selftest", 0, 0, OPT_SELF }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *fixmux = NULL, *direct = NULL, *ftarget = "SIM.Orders", *dtarget = "SIMVENUE";
	const char *qfrelay = NULL, *qtarget = "QFRELAY";
	uint32_t direct_users = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case OPT_FIXMUX: fixmux = optarg; break;
		case OPT_FTARGET: ftarget = optarg; break;
		case OPT_DIRECT: direct = optarg; break;
		case OPT_QF: qfrelay = optarg; break;
		case OPT_QTARGET: qtarget = optarg; break;
		case OPT_DTARGET: dtarget = optarg; break;
		case OPT_USERS: bench_cfg.users = (uint32_t)num("users", optarg, 1, MAX_USERS); break;
		case OPT_PREFIX: bench_cfg.prefix = optarg; break;
		case OPT_DUSERS: direct_users = (uint32_t)num("direct-users", optarg, 1, MAX_USERS); break;
		case OPT_PW: {
			FILE *f = fopen(optarg, "r");
			if (f == NULL || fgets(bench_cfg.password, sizeof(bench_cfg.password), f) == NULL) {
				fprintf(stderr, "fixmux-bench: --password-file '%s': cannot read\n",
					optarg);
				exit(2);
			}
			fclose(f);
			bench_cfg.password[strcspn(bench_cfg.password, "\r\n")] = 0;
			break;
		}
		case OPT_RATE: bench_cfg.rate = num("rate", optarg, 1, 10000000); break;
		case OPT_DUR: bench_cfg.duration_s = num("duration", optarg, 0.1, MAX_SECONDS - 10); break;
		case OPT_WARM: bench_cfg.warmup_s = num("warmup", optarg, 0, 600); break;
		case OPT_DRAIN: bench_cfg.drain_s = num("drain", optarg, 0, 600); break;
		case OPT_OUT: bench_cfg.out_dir = optarg; break;
		case OPT_SPIN: bench_cfg.spin = true; break;
		case OPT_NOPROG: bench_cfg.progress = false; break;
		case OPT_JSON: bench_cfg.json = true; break;
		case OPT_SCN:
			if (strcmp(optarg, "orders") == 0)
				bench_cfg.scenario = SCN_ORDERS;
			else if (strcmp(optarg, "md") == 0)
				bench_cfg.scenario = SCN_MD;
			else if (strcmp(optarg, "mix") == 0)
				bench_cfg.scenario = SCN_ORDERS | SCN_MD;
			else {
				fprintf(stderr, "fixmux-bench: --scenario '%s': orders, md or mix\n",
					optarg);
				exit(2);
			}
			break;
		case OPT_THREADS: bench_cfg.threads = (uint32_t)num("threads", optarg, 1, MAX_THREADS); break;
		case OPT_CORES: parse_cores(optarg); break;
		case OPT_LATCMD: bench_cfg.latency_cmd = optarg; break;
		case OPT_LATRESET: bench_cfg.latency_reset_cmd = optarg; break;
		case OPT_MDSUBS: bench_cfg.md_subs = (uint32_t)num("md-subs", optarg, 1, MAX_USER_SUBS); break;
		case OPT_MDSYMS: bench_cfg.md_symbols = (uint32_t)num("md-symbols", optarg, 1, 999); break;
		case OPT_MDRATE: bench_cfg.md_rate = num("md-rate", optarg, 1, 1000000); break;
		case OPT_DPDK: bench_cfg.dpdk = optarg; break;
		case OPT_DPDEV: bench_cfg.dp_dev = optarg; break;
		case OPT_DPIP: bench_cfg.dp_ip = optarg; break;
		case OPT_DPIDLE: bench_cfg.dp_idle = optarg; break;
		case OPT_SELF: return bench_selftest();
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc || (fixmux == NULL && direct == NULL && qfrelay == NULL))
		usage(2);
	if (qfrelay != NULL && (bench_cfg.scenario & SCN_MD)) {
		fprintf(stderr, "fixmux-bench: --qf-relay: the QuickFIX relay forwards orders only "
				"(use --scenario orders)\n");
		exit(2);
	}
	if (bench_cfg.warmup_s >= bench_cfg.duration_s)
		bench_cfg.warmup_s = 0;
	if (fixmux)
		set_phase("fixmux", fixmux, ftarget, 'F', bench_cfg.users);
	if (qfrelay)
		set_phase("qfrelay", qfrelay, qtarget, 'Q', bench_cfg.users);
	if (direct)
		set_phase("direct", direct, dtarget, 'D',
			  direct_users ? direct_users : (bench_cfg.users < 64 ? bench_cfg.users : 64));

	if (bench_cfg.dpdk != NULL) {
		char err[256];
		if (fixmux == NULL ||
		    bench_dp_init(bench_cfg.dpdk, bench_cfg.dp_dev, bench_cfg.dp_ip, bench_cfg.dp_idle,
				  err, sizeof(err)) != 0) {
			fprintf(stderr, "fixmux-bench: --dpdk: %s\n",
				fixmux == NULL ? "the user-space stack carries the fixmux phase: give "
						 "--fixmux" : err);
			exit(2);
		}
	}
	/* The default 50 us timer slack would make every timed sleep 50 us late. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	bench_calibrate();

	struct bench_opts bo = { .json = bench_cfg.json };
	bench_print_meta(&bo, "fixmux-bench");
	struct result res[MAX_PHASES];
	int ok = 1, nrun = 0;
	memset(res, 0, sizeof(res));
	while (nrun < bench_cfg.nphases && !bench_stop) {
		struct result *r = &res[nrun];
		if (bench_hist_init(&r->lag, HIST_HIGHEST) != 0)
			bench_fail("out of memory");
		for (int s = 0; s < ST__COUNT; s++)
			if (bench_hist_init(&r->st[s].lat, HIST_HIGHEST) != 0 ||
			    (r->st[s].rows = calloc(MAX_SECONDS, sizeof(struct second_row))) == NULL)
				bench_fail("out of memory");
		run_phase(&bench_cfg.phases[nrun], r);
		bench_write_files(r);
		ok &= r->ok;
		nrun++;
	}
	/* A phase that an interrupt kept from starting is not reported, and fails the run. */
	ok &= nrun == bench_cfg.nphases;
	bench_report(res, nrun);
	for (int i = 0; i < nrun; i++) {
		if (!res[i].ok)
			fprintf(stderr, "fixmux-bench: %s: %s\n", res[i].phase, res[i].why);
		bench_hist_free(&res[i].lag);
		for (int s = 0; s < ST__COUNT; s++) {
			bench_hist_free(&res[i].st[s].lat);
			free(res[i].st[s].rows);
		}
	}
	return ok ? 0 : 1;
}
