/* fixmux-bench: what a harness thread (bench_worker.c) and its users' connections
 * (bench_conn.c) share. Private to bench/harness. */
#ifndef BENCH_WORKER_PVT_H
#define BENCH_WORKER_PVT_H

#include "bench_harness.h"
#include "bench_hist.h"
#include "fix_encode.h"
#include "fix_msg.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define RX_CAP (32u * 1024)
#define TX_CAP (512u * 1024)   /* virtual until used: calloc maps it lazily */
#define MAX_FIELDS 128
#define RING_BITS 20                  /* orders in flight tracked per thread: 1 M */
#define RING_MASK ((1u << RING_BITS) - 1)
#define DP_FD (1 << 30)               /* u->fd of a user on the user-space stack */

enum ustate { U_CLOSED = 0, U_LOGON_SENT, U_ACTIVE, U_LOGOUT_SENT };

struct user {
	int fd;               /* kernel socket, DP_FD on the user-space stack, -1 closed */
	uint32_t h;           /* the user-space stack's connection handle */
	enum ustate st;
	uint32_t idx;         /* in the phase: user idx+1 is named PREFIX<idx+1> */
	char name[32];
	uint64_t seq_out;
	uint64_t last_tx;     /* ticks */
	struct fix_framer fr;
	uint32_t rx_len;
	uint32_t tx_off, tx_len;
	bool want_out;        /* EPOLLOUT armed */
	uint32_t nsub;        /* its subscriptions: global numbers idx + j * users */
	uint32_t snaps;       /* snapshots received */
	uint64_t sub_got[MAX_USER_SUBS];
	char rx[RX_CAP];
	char tx[TX_CAP];
};

struct worker {
	struct phase_run *pr;
	uint32_t id;
	struct user *u;       /* this thread's users */
	uint32_t nu;
	bool dp;              /* the users are on the user-space stack (bench_dpnet.c) */
	int ep;
	uint64_t *ring;       /* intended send tick of order j at j & RING_MASK, 0 = answered */
	struct fix_time_cache tcache;
	double tpn;           /* ticks per ns */
	struct bench_hist lat[ST__COUNT], interval[ST__COUNT], lag;
	/* orders */
	uint64_t total;       /* this thread's share of the schedule */
	uint64_t next_k, outstanding, measure_from;
	uint64_t sent, answered, rejected, unanswered, other_rejects, fills;
	/* market data */
	int64_t md_from_rt, md_to_rt;   /* stamps recorded: [start + warmup, start + duration) */
	uint64_t md_snapshots, md_updates, md_rejects, md_unstamped;
	uint32_t active, closed;
	bool failed;
	char why[256];
};

static inline uint64_t ticks_to_ns(const struct worker *w, uint64_t t)
{
	return (uint64_t)((double)t / w->tpn);
}

static inline int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline bool aborted(const struct worker *w)
{
	return bench_stop || __atomic_load_n(&w->pr->abort_run, __ATOMIC_RELAXED);
}

/* Keeps the thread's first failure (fmt takes a user name a, then b[0..blen) of peer text) and
 * stops the other threads: a failed run is over for everyone. */
void bench_fail_run(struct worker *w, const char *fmt, const char *a, const char *b, int blen);
/* Queue a message on u's connection and write what the connection takes: 0, or -1 when the
 * connection is lost or 512 kB are unsent. */
int bench_send_simple(struct worker *w, struct user *u, const char *type, uint32_t tag,
		      const char *val, size_t vlen);
int bench_send_logon(struct worker *w, struct user *u);
int bench_send_order(struct worker *w, struct user *u, uint64_t k, int64_t now_ns);
/* Subscription g of the phase: kind '1' subscribes, '2' unsubscribes. */
int bench_send_md_request(struct worker *w, struct user *u, uint32_t g, char kind);
/* One pass over the connections that can read or write, waiting at most timeout_ns. */
void bench_poll_once(struct worker *w, uint64_t timeout_ns);
/* Opens u's connection (kernel socket, or the user-space stack): 0 or -1. */
int bench_connect_user(struct worker *w, const struct phase *ph, struct user *u);
/* Closes u's connection if it is open. */
void bench_release(struct worker *w, struct user *u);

#endif
