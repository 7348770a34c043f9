/* fixmux-bench: what the harness's parts share: the phase driver and options
 * (bench_harness.c), the sender/receiver threads (bench_worker.c), fixmux's internal latency
 * from its telemetry (bench_internal.c) and the reporting (bench_report.c).
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include "bench_hist.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define HIST_HIGHEST 100000000000ull  /* 100 s in ns */
#define MAX_PHASES 3
#define MAX_SECONDS 3600
#define MAX_USERS 1024
#define MAX_THREADS 16
#define MAX_USER_SUBS 16              /* market-data subscriptions one session carries */

/* What a run measures: orders (NewOrderSingle -> first ExecutionReport), market data (the
 * venue's stamped increments -> their arrival at the user), or both at once ("mix"). */
#define SCN_ORDERS 1u
#define SCN_MD 2u

/* The two latency streams a phase can carry, reported separately. */
enum stream { ST_ORDERS = 0, ST_MD, ST__COUNT };

struct phase {
	const char *name;     /* "fixmux", "qfrelay" or "direct" */
	char host[64];
	uint16_t port;
	const char *target;   /* TargetCompID */
	char tag;             /* first letter of ClOrdIDs and MDReqIDs */
	uint32_t users;       /* sessions carrying the schedule in this phase */
};

struct second_row {
	uint32_t t;
	uint64_t answered;
	uint64_t p50, p90, p99, max;
};

struct stream_res {
	struct bench_hist lat;      /* the measured part of the run, all threads merged */
	struct second_row *rows;    /* per second, all threads merged */
	uint32_t nrows;
};

/* One thread's share, reported in --json so a reader can see the merge add up. */
struct thread_res {
	uint32_t users;
	uint64_t sent, answered, recorded;     /* orders */
	uint64_t md_updates, md_recorded;      /* market data */
};

/* fixmux's own latency (`fixmuxctl --json latency`) read before the schedule starts and after
 * the drain, before the users log out (the last user's Logout makes fixmux log out of the
 * venue, which it would count as forwarded): the counts' difference is this phase's traffic.
 * With --latency-reset-cmd (`fixmuxctl latency reset`, run first) the percentiles are the
 * phase's alone; without, fixmux's histograms since it started. */
#define INT_DIRS 2  /* client_to_venue, venue_to_client */
enum { IV_COUNT = 0, IV_MIN, IV_P50, IV_P90, IV_P99, IV_P999, IV_P9999, IV_MAX, IV_MEAN,
       IV__N };
struct internal_lat {
	bool have;
	bool reset;                   /* fixmux's histograms were reset as the phase began */
	char why[160];
	uint64_t before_count[INT_DIRS];
	uint64_t v[INT_DIRS][IV__N];  /* nanoseconds (IV_COUNT: messages) */
};

struct result {
	const char *phase;
	bool userspace;             /* the users on fixmux's stack (fixmux-bench-dp) */
	uint32_t users, threads, subs;
	uint64_t sent, answered, rejected, unanswered, other_rejects, fills;
	uint64_t md_snapshots, md_updates, md_rejects, md_unstamped;
	struct stream_res st[ST__COUNT];
	struct bench_hist lag;      /* harness send lag (orders) */
	struct thread_res thr[MAX_THREADS];
	struct internal_lat in;
	double elapsed_s;
	bool ok;
	char why[256];
};

/* The command line's settings. */
struct bench_cfg {
	unsigned scenario;          /* SCN_ORDERS | SCN_MD */
	uint32_t users;
	double rate;
	double duration_s;
	double warmup_s;
	double drain_s;
	const char *prefix;
	char password[128];
	const char *out_dir;
	bool json;
	bool progress;
	bool spin;
	uint32_t threads;
	int cores[MAX_THREADS];     /* --cores: CPU of thread i (ncores 0: not pinned) */
	int ncores;
	uint32_t md_subs;           /* subscriptions per user of the fixmux phase */
	uint32_t md_symbols;        /* distinct symbols they are spread over */
	double md_rate;             /* the simulator's --md-rate, for the report only */
	const char *latency_cmd;    /* prints fixmux's `fixmuxctl --json latency` */
	const char *latency_reset_cmd; /* `fixmuxctl latency reset`, run before the phase */
	const char *dpdk;           /* fixmux-bench-dp: EAL arguments; the fixmux phase's users
				     * then run on fixmux's own TCP/IP stack over dp_dev */
	const char *dp_dev, *dp_ip, *dp_idle;
	struct phase phases[MAX_PHASES];
	int nphases;
};
extern struct bench_cfg bench_cfg;
extern volatile int bench_stop;     /* SIGINT/SIGTERM */

/* ------------------------------------------------------------------------------------------
 * The threads (bench_worker.c). Thread i carries the users u with u % threads == i, its own
 * epoll loop, its own histograms and its own share of the order schedule.
 * ---------------------------------------------------------------------------------------- */

struct worker;

/* Everything the threads of one phase share; the driver fills it. */
struct phase_run {
	const struct phase *ph;
	struct result *r;
	uint32_t nthreads;
	uint32_t subs_total;            /* market-data subscriptions over all users */
	pthread_barrier_t ready;        /* threads: users logged on and subscribed */
	pthread_barrier_t go;           /* driver: start set (or abort) */
	pthread_barrier_t measured;     /* threads: sending and draining over, users on */
	pthread_barrier_t resume;       /* driver: fixmux's counts read; threads log out */
	uint64_t start;                 /* ticks: order 0 due, the measurement's origin */
	int64_t start_rt;               /* CLOCK_REALTIME ns at start */
	int abort_run;                  /* atomic: a thread failed, or the logons did */
	/* Per-second histograms merged over the threads (a mutex once a second per thread). */
	pthread_mutex_t mu;
	struct sec_slot {
		uint32_t t, contributed;
		struct bench_hist h;
	} slot[ST__COUNT][4];
	struct sec_slot late[ST__COUNT];  /* a second handed in after its slot moved on */
};

/* Allocates thread id's state (its users, ring, histograms). NULL when out of memory. */
struct worker *bench_worker_new(struct phase_run *pr, uint32_t id);
void *bench_worker_main(void *w);
/* Adds the thread's counts and histograms into pr->r (after join); returns false and copies
 * its failure into r->why (when r has none yet) if it failed. */
bool bench_worker_merge(struct worker *w, struct result *r);
void bench_worker_free(struct worker *w);

/* A thread's second t of stream s is over: its interval histogram goes into the shared slot;
 * the last thread to give second t prints the progress line and keeps the row. */
void bench_second_add(struct phase_run *pr, enum stream s, uint32_t t,
		      const struct bench_hist *h);
/* After join: rows of seconds some thread never gave (the last, partial ones). */
void bench_second_flush(struct phase_run *pr);

/* ------------------------------------------------------------------------------------------
 * fixmux's internal latency (bench_internal.c).
 * ---------------------------------------------------------------------------------------- */

/* Parses fixmuxctl's JSON answer to `latency` (columns of arrays, possibly nested in an outer
 * object) into v[direction][IV_*]. Returns 0, or -1 with the reason in why. */
int bench_internal_parse(const char *text, uint64_t v[INT_DIRS][IV__N], char *why, size_t cap);
/* Runs cmd (a shell command printing that JSON) and parses its output. */
int bench_internal_fetch(const char *cmd, uint64_t v[INT_DIRS][IV__N], char *why, size_t cap);
/* Runs a command whose output does not matter: 0 when it exits 0, else -1 with why. */
int bench_internal_run(const char *cmd, char *why, size_t cap);

/* ------------------------------------------------------------------------------------------
 * Reporting (bench_report.c).
 * ---------------------------------------------------------------------------------------- */

/* The summary table (or JSON lines) of every phase and the ratios between them. */
void bench_report(const struct result *res, int nres);
/* PHASE.hgrm, PHASE.csv, PHASE-timeline.csv (orders) and PHASE-md.* (market data) into
 * bench_cfg.out_dir (if set). */
void bench_write_files(const struct result *r);
/* The histogram's self-test (--selftest); returns the exit status. */
int bench_selftest(void);

#endif
