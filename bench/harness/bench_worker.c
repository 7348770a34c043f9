/* fixmux-bench: one sender/receiver thread (see bench_harness.h).
 *
 * Thread i carries the users u with u % threads == i on its own epoll loop. Orders: the thread
 * has its share of the total rate on its own fixed schedule, order j due at start + j / rate_i,
 * belonging to its user j mod n_i; its latency runs from that *intended* time to the first
 * ExecutionReport (matched by ClOrdID), so a stall anywhere is carried by every order that
 * should have gone out during it (no coordinated omission). How late the thread itself put an
 * order on its socket goes to a second histogram ("send lag"). Market data: the simulator
 * (--md-rate) stamps every increment with its own intended send time in MDEntryTime(273), to
 * the nanosecond, and its latency runs from that stamp to the increment's arrival here (both
 * CLOCK_REALTIME on one machine), open loop at the venue's rate.
 *
 * The users' connections (bench_conn.c) are kernel sockets (epoll), or in fixmux-bench-dp
 * (--dpdk) for the fixmux phase connections of fixmux's own TCP/IP stack (bench_dpnet.c, one
 * thread).
 *
 * Every thread keeps its own histograms (a whole-run one per stream and one per second),
 * merged at the end by the driver; a second's histograms are merged under a mutex once a
 * second, never per message.
 */
#define _GNU_SOURCE
#include "bench_dpnet.h"
#include "bench_util.h"
#include "bench_worker_pvt.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct worker *bench_worker_new(struct phase_run *pr, uint32_t id)
{
	struct worker *w = calloc(1, sizeof(*w));
	uint32_t users = pr->ph->users;

	if (w == NULL)
		return NULL;
	w->pr = pr;
	w->id = id;
	w->ep = -1;
	/* fixmux-bench-dp: the fixmux phase's users on the user-space stack (one thread). */
	w->dp = bench_dp_active() && strcmp(pr->ph->name, "fixmux") == 0;
	w->tpn = bench_ticks_per_ns();
	for (uint32_t i = id; i < users; i += pr->nthreads)
		w->nu++;
	w->u = calloc(w->nu ? w->nu : 1, sizeof(*w->u));
	w->ring = malloc(sizeof(uint64_t) << RING_BITS);
	int bad = w->u == NULL || w->ring == NULL || bench_hist_init(&w->lag, HIST_HIGHEST);
	for (int s = 0; s < ST__COUNT; s++)
		bad |= bench_hist_init(&w->lat[s], HIST_HIGHEST) ||
		       bench_hist_init(&w->interval[s], HIST_HIGHEST);
	if (bad) {
		bench_worker_free(w);
		return NULL;
	}
	memset(w->ring, 0, sizeof(uint64_t) << RING_BITS);
	for (uint32_t k = 0; k < w->nu; k++) {
		struct user *u = &w->u[k];
		u->fd = -1;
		u->idx = id + k * pr->nthreads;
		snprintf(u->name, sizeof(u->name), "%s%03u", bench_cfg.prefix, u->idx + 1);
		u->seq_out = 1;
		fix_framer_init(&u->fr, RX_CAP);
		if (bench_cfg.scenario & SCN_MD)
			for (uint32_t g = u->idx; g < pr->subs_total; g += users)
				u->nsub++;
	}
	/* This thread's share of the orders, in proportion to its users, so that the shares add
	 * up to the schedule exactly. */
	uint64_t total = (uint64_t)(bench_cfg.duration_s * bench_cfg.rate), mine = 0;
	for (uint32_t k = 0; k < w->nu; k++) /* user i's share of the total, as if dealt out */
		mine += total / users + (w->u[k].idx < total % users ? 1 : 0);
	w->total = bench_cfg.scenario & SCN_ORDERS ? mine : 0;
	return w;
}

void bench_worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	for (uint32_t k = 0; w->u != NULL && k < w->nu; k++)
		bench_release(w, &w->u[k]);
	if (w->ep >= 0)
		close(w->ep);
	bench_hist_free(&w->lag);
	for (int s = 0; s < ST__COUNT; s++) {
		bench_hist_free(&w->lat[s]);
		bench_hist_free(&w->interval[s]);
	}
	free(w->u);
	free(w->ring);
	free(w);
}

/* The second's intervals go to the shared rows and into this thread's run totals. */
static void roll_second(struct worker *w, uint32_t t)
{
	for (int s = 0; s < ST__COUNT; s++) {
		struct bench_hist *h = &w->interval[s];
		bench_second_add(w->pr, (enum stream)s, t, h);
		bench_hist_add(&w->lat[s], h);
		bench_hist_reset(h);
	}
}

/* Logon (and subscriptions) of this thread's users; true when all are ready. */
static bool log_on(struct worker *w, uint64_t tps)
{
	const struct phase *ph = w->pr->ph;

	for (uint32_t k = 0; k < w->nu; k++) {
		struct user *u = &w->u[k];
		if (bench_connect_user(w, ph, u) != 0) {
			char e[160];
			snprintf(e, sizeof(e), "cannot connect to %s:%u: %s", ph->host, ph->port,
				 strerror(errno));
			bench_fail_run(w, "%s: %.*s", u->name, e, (int)strlen(e));
			return false;
		}
		u->st = U_LOGON_SENT;
		if (bench_send_logon(w, u) != 0) {
			bench_fail_run(w, "%s: cannot send the Logon%.*s", u->name, "", 0);
			return false;
		}
	}
	uint64_t t0 = bench_ticks();
	while (w->active < w->nu && !w->failed && !aborted(w) && bench_ticks() - t0 < 20 * tps)
		bench_poll_once(w, 10000000);
	if (w->active < w->nu) {
		char e[64];
		snprintf(e, sizeof(e), "only %u of %u users logged on within 20 s", w->active, w->nu);
		bench_fail_run(w, "thread %s%.*s", e, "", 0);
		return false;
	}
	/* Every subscription answered by its snapshot before the clock starts. */
	uint32_t want = 0, have = 0;
	for (uint32_t k = 0; k < w->nu; k++) {
		struct user *u = &w->u[k];
		for (uint32_t j = 0; j < u->nsub; j++)
			if (bench_send_md_request(w, u, u->idx + j * ph->users, '1') != 0) {
				bench_fail_run(w, "%s: cannot send a MarketDataRequest%.*s", u->name, "", 0);
				return false;
			}
		want += u->nsub;
	}
	t0 = bench_ticks();
	for (;;) {
		have = 0;
		for (uint32_t k = 0; k < w->nu; k++)
			have += w->u[k].snaps;
		if (have >= want || w->failed || aborted(w) || bench_ticks() - t0 > 20 * tps)
			break;
		bench_poll_once(w, 10000000);
	}
	if (have < want && !w->failed) {
		char e[96];
		snprintf(e, sizeof(e), "%u of %u subscriptions answered within 20 s", have, want);
		bench_fail_run(w, "thread %s%.*s", e, "", 0);
	}
	return !w->failed;
}

void *bench_worker_main(void *arg)
{
	struct worker *w = arg;
	struct phase_run *pr = w->pr;
	const uint64_t tps = (uint64_t)(w->tpn * 1e9);

	if (bench_cfg.ncores > 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(bench_cfg.cores[w->id % (uint32_t)bench_cfg.ncores], &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			bench_fail_run(w, "%sthread cannot be pinned to its --cores CPU%.*s", "", "", 0);
	}
	if (!w->failed)
		log_on(w, tps);
	pthread_barrier_wait(&pr->ready);
	pthread_barrier_wait(&pr->go);
	if (aborted(w))
		goto logout;

	/* The schedule: this thread's order j is due at start + j * period. */
	const uint64_t start = pr->start;
	const double period = w->total ? bench_cfg.duration_s * (double)tps / (double)w->total : 0;
	const uint64_t end = start + (uint64_t)(bench_cfg.duration_s * (double)tps);
	w->measure_from = start + (uint64_t)(bench_cfg.warmup_s * (double)tps);
	w->md_from_rt = pr->start_rt + (int64_t)(bench_cfg.warmup_s * 1e9);
	w->md_to_rt = pr->start_rt + (int64_t)(bench_cfg.duration_s * 1e9);
	uint64_t next_second = start + tps, due = start;
	uint32_t second = 0;
	bool sending = w->total > 0, md_open = (bench_cfg.scenario & SCN_MD) != 0;
	uint64_t drain_end = end + (uint64_t)(bench_cfg.drain_s * (double)tps);
	/* After the unsubscribes, increments already on their way still arrive for a while. */
	uint64_t md_linger = end + (uint64_t)((bench_cfg.drain_s < 0.5 ? bench_cfg.drain_s : 0.5) *
					      (double)tps);

	while (!w->failed && !aborted(w)) {
		uint64_t now = bench_ticks();
		int64_t now_ns = realtime_ns();
		while (sending && due <= now) {
			uint64_t k = w->next_k;
			struct user *u = &w->u[k % w->nu];
			if (w->ring[k & RING_MASK] != 0) {
				w->outstanding--; /* 1 M orders ago and never answered */
				w->unanswered++;
			}
			w->ring[k & RING_MASK] = due;
			w->next_k++;
			w->outstanding++;
			if (u->st != U_ACTIVE || bench_send_order(w, u, k, now_ns) != 0) {
				bench_fail_run(w, "%s: cannot send (connection lost or 512 kB unsent)%.*s",
					 u->name, "", 0);
				break;
			}
			w->sent++;
			uint64_t after = bench_ticks();
			if (due >= w->measure_from)
				bench_hist_record(&w->lag, after > due ? ticks_to_ns(w, after - due) : 0);
			due = start + (uint64_t)((double)w->next_k * period);
			if (w->next_k >= w->total)
				sending = false;
		}
		if (md_open && now >= end) {
			for (uint32_t k = 0; k < w->nu; k++)
				for (uint32_t j = 0; j < w->u[k].nsub; j++)
					if (bench_send_md_request(w, &w->u[k], w->u[k].idx + j * pr->ph->users,
							    '2') != 0)
						bench_fail_run(w, "%s: cannot unsubscribe%.*s", w->u[k].name,
							 "", 0);
			md_open = false;
		}
		if (now >= next_second) {
			roll_second(w, ++second);
			next_second += tps;
			/* Heartbeats for users idle longer than 25 s (HeartBtInt 30). */
			for (uint32_t k = 0; k < w->nu; k++)
				if (w->u[k].st == U_ACTIVE && now - w->u[k].last_tx > 25 * tps)
					bench_send_simple(w, &w->u[k], "0", 0, "", 0);
		}
		bool orders_done = !sending && (w->outstanding == 0 || now >= drain_end);
		bool md_done = !(bench_cfg.scenario & SCN_MD) || (!md_open && now >= md_linger);
		if (orders_done && md_done)
			break;
		/* Sleep in epoll until 20 us before the next order is due, then poll: spinning all
		 * the time would take a whole core from fixmux and the simulator on a 2-core box,
		 * and a late wake-up is not hidden anyway (it is latency, and it is in "send lag"). */
		uint64_t wake = sending ? due : next_second;
		if (md_open && end < wake)
			wake = end;
		else if (!md_open && (bench_cfg.scenario & SCN_MD) && md_linger > now &&
			 md_linger < wake)
			wake = md_linger;
		uint64_t timeout = 0, early = 20 * tps / 1000000;
		if (!bench_cfg.spin && wake > now + early)
			timeout = ticks_to_ns(w, wake - now - early);
		bench_poll_once(w, timeout);
	}
	roll_second(w, ++second);
	w->unanswered += w->outstanding;
	if (!w->failed && !bench_stop && !aborted(w)) {
		for (uint32_t k = 0; k < w->nu; k++)
			for (uint32_t j = 0; j < w->u[k].nsub; j++)
				if (w->u[k].sub_got[j] == 0) {
					char e[64];
					snprintf(e, sizeof(e), "subscription %u got no increment",
						 w->u[k].idx + j * pr->ph->users);
					bench_fail_run(w, "%s: %.*s", w->u[k].name, e, (int)strlen(e));
				}
	}

logout:
	/* The driver reads fixmux's counts between these two, while every user is still on. */
	pthread_barrier_wait(&pr->measured);
	pthread_barrier_wait(&pr->resume);
	/* Orderly logout: a Logout each, then up to 3 s for the answers. */
	for (uint32_t k = 0; k < w->nu; k++)
		if (w->u[k].st == U_ACTIVE) {
			bench_send_simple(w, &w->u[k], "5", 0, "", 0);
			w->u[k].st = U_LOGOUT_SENT;
		}
	uint64_t t0 = bench_ticks();
	bool was_failed = w->failed;
	w->failed = true; /* keep the first failure text; later ones are consequences */
	while (bench_ticks() - t0 < 3 * tps) {
		uint32_t open = 0;
		for (uint32_t k = 0; k < w->nu; k++)
			open += w->u[k].fd >= 0 && w->u[k].st != U_CLOSED;
		if (open == 0)
			break;
		bench_poll_once(w, 10000000);
	}
	w->failed = was_failed;
	for (uint32_t k = 0; k < w->nu; k++)
		bench_release(w, &w->u[k]);
	return NULL;
}

bool bench_worker_merge(struct worker *w, struct result *r)
{
	struct thread_res *t = &r->thr[w->id];

	t->users = w->nu;
	t->sent = w->sent;
	t->answered = w->answered;
	t->recorded = w->lat[ST_ORDERS].total;
	t->md_updates = w->md_updates;
	t->md_recorded = w->lat[ST_MD].total;
	r->sent += w->sent;
	r->answered += w->answered;
	r->rejected += w->rejected;
	r->unanswered += w->unanswered;
	r->other_rejects += w->other_rejects;
	r->fills += w->fills;
	r->md_snapshots += w->md_snapshots;
	r->md_updates += w->md_updates;
	r->md_rejects += w->md_rejects;
	r->md_unstamped += w->md_unstamped;
	for (int s = 0; s < ST__COUNT; s++)
		bench_hist_add(&r->st[s].lat, &w->lat[s]);
	bench_hist_add(&r->lag, &w->lag);
	if (w->failed && r->why[0] == 0)
		snprintf(r->why, sizeof(r->why), "%s", w->why);
	return !w->failed;
}
