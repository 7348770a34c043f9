/* fixmux-bench: open-loop end-to-end latency harness (issue 7, docs/benchmarks.md
 * "## fixmux-bench (end to end)").
 *
 * N FIX 4.4 users on kernel TCP sockets, one epoll loop, one thread. Orders go out on a fixed
 * schedule: order k of the run is due at start + k / rate and belongs to user k mod N. Its
 * latency is taken from that *intended* time to the arrival of its first ExecutionReport
 * (matched by ClOrdID), so when the harness, the kernel, fixmux or the venue stalls, every order
 * that should have gone out during the stall carries the stall in its latency: there is no
 * coordinated omission. How late the harness itself put each order on the socket is kept in a
 * second histogram ("send lag") so a reader can tell the harness's own lateness apart.
 *
 * The same schedule runs once per phase: through fixmux (--fixmux) and straight to the venue
 * simulator (--direct), one after the other in the same process, and the ratio is printed.
 */
#define _GNU_SOURCE
#include "bench_harness.h"
#include "bench_hist.h"
#include "bench_util.h"
#include "fix_encode.h"
#include "fix_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RX_CAP (32u * 1024)
#define TX_CAP (512u * 1024)   /* virtual until used: calloc maps it lazily */
#define MAX_FIELDS 96
#define RING_BITS 21                  /* orders in flight tracked: 2 M */
#define RING_MASK ((1u << RING_BITS) - 1)

enum ustate { U_CLOSED = 0, U_LOGON_SENT, U_ACTIVE, U_LOGOUT_SENT };

struct user {
	int fd;
	enum ustate st;
	char name[32];
	uint64_t seq_out;
	uint64_t last_tx;     /* ticks */
	struct fix_framer fr;
	uint32_t rx_len;
	uint32_t tx_off, tx_len;
	bool want_out;        /* EPOLLOUT armed */
	char rx[RX_CAP];
	char tx[TX_CAP];
};

struct bench_cfg bench_cfg = {
	.users = 10, .rate = 1000, .duration_s = 10, .warmup_s = 1, .drain_s = 5,
	.prefix = "u", .progress = true,
};

static struct user *users;
static uint64_t *ring;        /* intended send tick of order k at k & RING_MASK, 0 = answered */
static struct fix_time_cache tcache;
static double tpn;            /* ticks per ns */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t ticks_to_ns(uint64_t t)
{
	return (uint64_t)((double)t / tpn);
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------
 * Sending
 * ---------------------------------------------------------------------------------------- */

static int ep;

static void arm(struct user *u, int idx, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u32 = (uint32_t)idx };

	if (u->want_out != out && epoll_ctl(ep, EPOLL_CTL_MOD, u->fd, &ev) == 0)
		u->want_out = out;
}

/* Writes what is queued; a full socket leaves the rest queued with EPOLLOUT armed. */
static int flush(struct user *u, int idx)
{
	while (u->tx_off < u->tx_len) {
		ssize_t n = write(u->fd, u->tx + u->tx_off, u->tx_len - u->tx_off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -1;
		}
		u->tx_off += (uint32_t)n;
	}
	if (u->tx_off == u->tx_len)
		u->tx_off = u->tx_len = 0;
	arm(u, idx, u->tx_len != 0);
	return 0;
}

/* Starts a message with the standard header of user u. */
static void begin(struct fix_encoder *e, char *buf, size_t cap, struct user *u, const char *type,
		  const char *target, int64_t now_ns)
{
	fix_enc_begin(e, buf, cap, FIX_VER_44, type, &tcache);
	fix_enc_cstr(e, 49, u->name);
	fix_enc_cstr(e, 56, target);
	fix_enc_uint(e, 34, u->seq_out);
	fix_enc_time(e, 52, now_ns, FIX_TIME_US);
}

static int queue(struct user *u, int idx, struct fix_encoder *e)
{
	char *msg;
	size_t len = fix_enc_finish(e, &msg);

	if (len == 0)
		return -1;
	if (u->tx_off > 0 && u->tx_len + len > TX_CAP) {
		memmove(u->tx, u->tx + u->tx_off, u->tx_len - u->tx_off);
		u->tx_len -= u->tx_off;
		u->tx_off = 0;
	}
	/* The peer stopped reading for 512 kB: an open-loop run cannot wait for it. */
	if (u->tx_len + len > TX_CAP)
		return -1;
	memcpy(u->tx + u->tx_len, msg, len);
	u->tx_len += (uint32_t)len;
	u->seq_out++;
	u->last_tx = bench_ticks();
	return flush(u, idx);
}

static int send_simple(struct user *u, int idx, const char *type, const char *target,
		       uint32_t tag, const char *val, size_t vlen)
{
	char buf[512];
	struct fix_encoder e;

	begin(&e, buf, sizeof(buf), u, type, target, realtime_ns());
	if (tag != 0)
		fix_enc_str(&e, tag, val, vlen);
	return queue(u, idx, &e);
}

static int send_logon(struct user *u, int idx, const char *target)
{
	char buf[512];
	struct fix_encoder e;

	begin(&e, buf, sizeof(buf), u, "A", target, realtime_ns());
	fix_enc_uint(&e, 98, 0);
	fix_enc_uint(&e, 108, 30);
	/* Every run starts both sequences at 1, so runs can follow each other on one appliance
	 * (whose user sessions otherwise keep their numbers across logons). */
	fix_enc_char(&e, 141, 'Y');
	fix_enc_cstr(&e, 553, u->name);
	fix_enc_cstr(&e, 554, bench_cfg.password);
	return queue(u, idx, &e);
}

static int send_order(struct user *u, int idx, const struct phase *ph, uint64_t k, int64_t now_ns)
{
	char buf[512], id[40];
	struct fix_encoder e;
	int n = snprintf(id, sizeof(id), "%c%x-%llu", ph->tag, (unsigned)getpid() & 0xfffff,
			 (unsigned long long)k);

	begin(&e, buf, sizeof(buf), u, "D", ph->target, now_ns);
	fix_enc_str(&e, 11, id, (size_t)n);
	fix_enc_char(&e, 21, '1');
	fix_enc_cstr(&e, 55, "EUR/USD");
	fix_enc_char(&e, 54, (k & 1) ? '2' : '1');
	fix_enc_time(&e, 60, now_ns, FIX_TIME_US);
	fix_enc_uint(&e, 38, 1000);
	fix_enc_char(&e, 40, '2');
	fix_enc_cstr(&e, 44, "1.1");
	return queue(u, idx, &e);
}

/* ------------------------------------------------------------------------------------------
 * Receiving
 * ---------------------------------------------------------------------------------------- */

struct run {
	const struct phase *ph;
	struct result *r;
	struct bench_hist interval;
	uint64_t next_k;          /* orders scheduled so far */
	uint64_t outstanding;
	uint64_t measure_from;    /* orders due before this tick are warm-up: matched, not recorded */
	uint32_t active;
	uint32_t closed;
	bool failed;
};

/* Keeps the first failure of a run: fmt takes a (a user name) and b[0..blen) (peer text). */
static void fail_run(struct run *rn, const char *fmt, const char *a, const char *b, int blen)
{
	if (!rn->failed) {
		snprintf(rn->r->why, sizeof(rn->r->why), fmt, a, blen, b);
		/* The text goes into a JSON string: no quotes, backslashes or control bytes. */
		for (char *p = rn->r->why; *p; p++)
			if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
				*p = '\'';
		rn->failed = true;
	}
}

static const struct fix_field *field(const struct fix_msg *m, uint32_t tag)
{
	return fix_find(m, tag, 0);
}

static void on_exec(struct run *rn, const struct fix_msg *m, uint64_t now)
{
	const struct fix_field *id = field(m, 11), *et = field(m, 150);
	if (id == NULL)
		return;
	if (et != NULL && et->len == 1 && et->val[0] == '8')
		rn->r->rejected++;
	if (et != NULL && et->len == 1 && (et->val[0] == 'F' || et->val[0] == '2'))
		rn->r->fills++;
	const char *dash = memchr(id->val, '-', id->len);
	if (dash == NULL || id->val[0] != rn->ph->tag)
		return;
	uint64_t k;
	if (fix_get_uint(dash + 1, (size_t)(id->val + id->len - dash - 1), &k) != FIX_OK)
		return;
	if (k >= rn->next_k || rn->next_k - k > RING_MASK)
		return;
	uint64_t due = ring[k & RING_MASK];
	if (due == 0)
		return; /* the fill after the acknowledgement */
	ring[k & RING_MASK] = 0;
	rn->outstanding--;
	rn->r->answered++;
	if (due >= rn->measure_from)
		bench_hist_record(&rn->interval, now > due ? ticks_to_ns(now - due) : 0);
}

static void on_message(struct run *rn, struct user *u, int idx, const struct fix_msg *m,
		       uint64_t now)
{
	const char *t = m->hdr.msg_type;
	const struct fix_field *txt = field(m, 58);

	if (strcmp(t, "8") == 0) {
		on_exec(rn, m, now);
	} else if (strcmp(t, "A") == 0) {
		if (u->st == U_LOGON_SENT) {
			u->st = U_ACTIVE;
			rn->active++;
		}
	} else if (strcmp(t, "1") == 0) {
		const struct fix_field *req = field(m, 112);
		if (send_simple(u, idx, "0", rn->ph->target, req ? 112 : 0, req ? req->val : "",
				req ? req->len : 0) != 0)
			fail_run(rn, "%s: cannot answer a TestRequest%.*s", u->name, "", 0);
	} else if (strcmp(t, "5") == 0) {
		if (u->st != U_LOGOUT_SENT)
			fail_run(rn, "%s: logged out by the peer: %.*s", u->name,
				 txt ? txt->val : "", txt ? (int)txt->len : 0);
		if (u->st == U_ACTIVE)
			rn->active--;
		u->st = U_CLOSED;
	} else if (strcmp(t, "3") == 0 || strcmp(t, "j") == 0) {
		rn->r->other_rejects++;
		fail_run(rn, "%s: session or business reject: %.*s", u->name,
			 txt ? txt->val : "", txt ? (int)txt->len : 0);
	}
}

/* Reads what the socket has and handles every complete message. */
static void on_readable(struct run *rn, int idx, uint64_t now)
{
	struct user *u = &users[idx];
	struct fix_field fields[MAX_FIELDS];
	struct fix_msg m = { .fields = fields, .cap = MAX_FIELDS };

	for (;;) {
		if (u->rx_len == RX_CAP) {
			/* Only a message longer than the buffer leaves it full after framing. */
			fail_run(rn, "%s: a message longer than %.*s bytes", u->name, "32768", 5);
			u->rx_len = 0;
			fix_framer_reset(&u->fr);
		}
		ssize_t n = read(u->fd, u->rx + u->rx_len, RX_CAP - u->rx_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (u->st != U_LOGOUT_SENT && u->st != U_CLOSED)
				fail_run(rn, "%s: connection closed by the peer%.*s", u->name, "", 0);
			if (u->st == U_ACTIVE)
				rn->active--;
			u->st = U_CLOSED;
			epoll_ctl(ep, EPOLL_CTL_DEL, u->fd, NULL);
			close(u->fd);
			u->fd = -1;
			rn->closed++;
			return;
		}
		u->rx_len += (uint32_t)n;
		uint32_t off = 0;
		for (;;) {
			int err = 0;
			long fl = fix_frame(&u->fr, u->rx + off, u->rx_len - off, &err);
			if (fl == 0)
				break;
			if (fl < 0) {
				fail_run(rn, "%s: garbled bytes from the peer: %.*s", u->name,
					 fix_strerror(err), (int)strlen(fix_strerror(err)));
				off += (uint32_t)-fl;
				continue;
			}
			if (fix_parse(&m, u->rx + off, (size_t)fl) == FIX_OK)
				on_message(rn, u, idx, &m, now);
			off += (uint32_t)fl;
		}
		if (off > 0) {
			memmove(u->rx, u->rx + off, u->rx_len - off);
			u->rx_len -= off;
		}
		if ((size_t)n < RX_CAP / 2)
			break; /* drained; level-triggered epoll calls again if more came */
	}
}

/* One pass over the ready sockets, waiting at most timeout_ns (0 polls). */
static void poll_once(struct run *rn, uint64_t timeout_ns)
{
	struct epoll_event evs[64];
	struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000u),
			       .tv_nsec = (long)(timeout_ns % 1000000000u) };
	int n = epoll_pwait2(ep, evs, 64, &ts, NULL);
	uint64_t now = bench_ticks();

	for (int i = 0; i < n; i++) {
		int idx = (int)evs[i].data.u32;
		struct user *u = &users[idx];
		if (u->fd < 0)
			continue;
		if (evs[i].events & EPOLLOUT) {
			if (flush(u, idx) != 0)
				fail_run(rn, "%s: write failed%.*s", u->name, "", 0);
		}
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(rn, idx, now);
	}
}

/* ------------------------------------------------------------------------------------------
 * One phase
 * ---------------------------------------------------------------------------------------- */

static int connect_user(const struct phase *ph, struct user *u)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(ph->port) };
	int one = 1;

	if (inet_pton(AF_INET, ph->host, &sa.sin_addr) != 1)
		return -1;
	u->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		return -1;
	setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(u->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(u->fd);
		u->fd = -1;
		return -1;
	}
	fcntl(u->fd, F_SETFL, fcntl(u->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void roll_second(struct run *rn, uint32_t t)
{
	struct result *r = rn->r;
	struct bench_hist *h = &rn->interval;

	if (r->nrows < MAX_SECONDS && h->total > 0) {
		struct second_row *row = &r->rows[r->nrows++];
		row->t = t;
		row->answered = h->total;
		row->p50 = bench_hist_percentile(h, 50);
		row->p90 = bench_hist_percentile(h, 90);
		row->p99 = bench_hist_percentile(h, 99);
		row->max = h->max;
	}
	if (bench_cfg.progress)
		fprintf(stderr, "fixmux-bench [%s] %3us  sent %9llu  answered %9llu  in flight %6llu"
			"  this second: p50 %9.1f  p99 %9.1f  max %9.1f us\n", rn->ph->name, t,
			(unsigned long long)r->sent, (unsigned long long)r->answered,
			(unsigned long long)rn->outstanding, bench_hist_percentile(h, 50) / 1e3,
			bench_hist_percentile(h, 99) / 1e3, (double)h->max / 1e3);
	bench_hist_add(&r->lat, h);
	bench_hist_reset(h);
}

static void run_phase(const struct phase *ph, struct result *r)
{
	struct run rn = { .ph = ph, .r = r };
	const uint64_t tps = (uint64_t)(tpn * 1e9);
	uint32_t n = ph->users;

	r->phase = ph->name;
	r->users = n;
	r->ok = false;
	if (bench_hist_init(&rn.interval, HIST_HIGHEST) != 0)
		bench_fail("out of memory");
	memset(ring, 0, sizeof(uint64_t) << RING_BITS);
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (uint32_t i = 0; i < n; i++) {
		struct user *u = &users[i];
		memset(u, 0, offsetof(struct user, rx));
		snprintf(u->name, sizeof(u->name), "%s%03u", bench_cfg.prefix, i + 1);
		u->seq_out = 1;
		fix_framer_init(&u->fr, RX_CAP);
		if (connect_user(ph, u) != 0) {
			snprintf(r->why, sizeof(r->why), "%s: cannot connect to %s:%u: %s", u->name,
				 ph->host, ph->port, strerror(errno));
			goto out;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		epoll_ctl(ep, EPOLL_CTL_ADD, u->fd, &ev);
		u->st = U_LOGON_SENT;
		if (send_logon(u, (int)i, ph->target) != 0) {
			snprintf(r->why, sizeof(r->why), "%s: cannot send the Logon", u->name);
			goto out;
		}
	}
	uint64_t t0 = bench_ticks();
	while (rn.active < n && !rn.failed && !stop_flag && bench_ticks() - t0 < 20 * tps)
		poll_once(&rn, 10000000);
	if (rn.active < n) {
		if (!rn.failed)
			snprintf(r->why, sizeof(r->why), "only %u of %u users logged on within 20 s",
				 rn.active, n);
		goto out;
	}

	/* The schedule: order k is due at start + k * period. */
	const double period = (double)tps / bench_cfg.rate;
	const uint64_t start = bench_ticks() + tps / 100;
	const uint64_t end = start + (uint64_t)(bench_cfg.duration_s * (double)tps);
	const uint64_t total = (uint64_t)(bench_cfg.duration_s * bench_cfg.rate);
	rn.measure_from = start + (uint64_t)(bench_cfg.warmup_s * (double)tps);
	uint64_t next_second = start + tps, due = start;
	uint32_t second = 0;
	bool sending = true;
	uint64_t drain_end = 0;

	while (!rn.failed && !stop_flag) {
		uint64_t now = bench_ticks();
		int64_t now_ns = realtime_ns();
		while (sending && due <= now) {
			uint64_t k = rn.next_k;
			uint32_t idx = (uint32_t)(k % n);
			if (ring[k & RING_MASK] != 0) {
				rn.outstanding--; /* 2 M orders ago and never answered */
				r->unanswered++;
			}
			ring[k & RING_MASK] = due;
			rn.next_k++;
			rn.outstanding++;
			if (users[idx].st != U_ACTIVE ||
			    send_order(&users[idx], (int)idx, ph, k, now_ns) != 0) {
				fail_run(&rn, "%s: cannot send (connection lost or 512 kB unsent)%.*s",
					 users[idx].name, "", 0);
				break;
			}
			r->sent++;
			uint64_t after = bench_ticks();
			if (due >= rn.measure_from)
				bench_hist_record(&r->lag, after > due ? ticks_to_ns(after - due) : 0);
			due = start + (uint64_t)((double)rn.next_k * period);
			if (rn.next_k >= total) {
				sending = false;
				drain_end = end + (uint64_t)(bench_cfg.drain_s * (double)tps);
			}
		}
		if (now >= next_second) {
			roll_second(&rn, ++second);
			next_second += tps;
			/* Heartbeats for users idle longer than 25 s (HeartBtInt 30). */
			for (uint32_t i = 0; i < n; i++)
				if (users[i].st == U_ACTIVE && now - users[i].last_tx > 25 * tps)
					send_simple(&users[i], (int)i, "0", ph->target, 0, "", 0);
		}
		if (!sending && (rn.outstanding == 0 || now >= drain_end))
			break;
		/* Sleep in epoll until 20 us before the next order is due, then poll: spinning all
		 * the time would take a whole core from fixmux and the simulator on a 2-core box,
		 * and a late wake-up is not hidden anyway (it is latency, and it is in "send lag"). */
		uint64_t wake = sending ? due : next_second;
		uint64_t timeout = 0, early = 20 * tps / 1000000;
		if (!bench_cfg.spin && wake > now + early)
			timeout = ticks_to_ns(wake - now - early);
		poll_once(&rn, timeout);
	}
	r->elapsed_s = (double)(bench_ticks() - start) / (double)tps;
	roll_second(&rn, ++second);
	r->unanswered += rn.outstanding;
	if (!rn.failed && stop_flag)
		snprintf(r->why, sizeof(r->why), "interrupted");
	else if (!rn.failed && r->unanswered > 0)
		snprintf(r->why, sizeof(r->why), "%llu orders without an ExecutionReport after %.1f s",
			 (unsigned long long)r->unanswered, bench_cfg.drain_s);
	else if (!rn.failed && r->rejected > 0)
		snprintf(r->why, sizeof(r->why), "%llu orders rejected (150=8)",
			 (unsigned long long)r->rejected);
	else if (!rn.failed)
		r->ok = true;

	/* Orderly logout: a Logout each, then up to 3 s for the answers. */
	for (uint32_t i = 0; i < n; i++)
		if (users[i].st == U_ACTIVE) {
			send_simple(&users[i], (int)i, "5", ph->target, 0, "", 0);
			users[i].st = U_LOGOUT_SENT;
		}
	t0 = bench_ticks();
	rn.failed = true; /* keep the first failure text; later ones are consequences */
	while (rn.closed < n && bench_ticks() - t0 < 3 * tps) {
		uint32_t open = 0;
		for (uint32_t i = 0; i < n; i++)
			open += users[i].fd >= 0 && users[i].st != U_CLOSED;
		if (open == 0)
			break;
		poll_once(&rn, 10000000);
	}
out:
	for (uint32_t i = 0; i < n; i++)
		if (users[i].fd >= 0) {
			close(users[i].fd);
			users[i].fd = -1;
		}
	close(ep);
	bench_hist_free(&rn.interval);
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
		"  --qf-relay HOST:PORT   phase 2: through the QuickFIX relay (fixmux-qf-relay)\n"
		"  --qf-relay-target ID   TargetCompID towards the relay (default QFRELAY)\n"
		"  --direct HOST:PORT     phase 3: straight to the venue simulator (baseline)\n"
		"  --direct-target ID     TargetCompID towards the simulator (default SIMVENUE)\n"
		"  --users N              FIX sessions (1..%d, default 10), named PREFIX001...\n"
		"  --direct-users M       sessions of the direct phase (default min(N, 64): the\n"
		"                         simulator holds 64 sessions); same total rate\n"
		"  --user-prefix P        default u\n"
		"  --password-file F      password sent in 554 (first line of F)\n"
		"  --rate R               orders per second over all users (default 1000)\n"
		"  --duration S           seconds of sending per phase (default 10)\n"
		"  --warmup S             first seconds not recorded (default 1)\n"
		"  --drain S              wait for late reports after the last order (default 5)\n"
		"  --out-dir D            write PHASE.hgrm, PHASE.csv, PHASE-timeline.csv\n"
		"  --spin                 never sleep in epoll_wait\n"
		"  --no-progress          no progress line each second on stderr\n"
		"  --json                 one JSON object per figure on stdout\n"
		"  --selftest             check the histogram and exit\n"
		"Exit status: 0 when every order got its ExecutionReport in every phase, 1 otherwise.\n",
		MAX_USERS);
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

int main(int argc, char **argv)
{
	enum { OPT_FIXMUX = 256, OPT_FTARGET, OPT_DIRECT, OPT_DTARGET, OPT_USERS, OPT_PREFIX, OPT_PW, OPT_RATE,
	       OPT_DUR, OPT_WARM, OPT_DRAIN, OPT_OUT, OPT_SPIN, OPT_NOPROG, OPT_JSON, OPT_SELF, OPT_DUSERS, OPT_QF, OPT_QTARGET };
	static const struct option lo[] = {
		{ "fixmux", 1, 0, OPT_FIXMUX }, { "fixmux-target", 1, 0, OPT_FTARGET },
		{ "qf-relay", 1, 0, OPT_QF }, { "qf-relay-target", 1, 0, OPT_QTARGET },
		{ "direct", 1, 0, OPT_DIRECT }, { "direct-target", 1, 0, OPT_DTARGET },
		{ "users", 1, 0, OPT_USERS }, { "direct-users", 1, 0, OPT_DUSERS }, { "user-prefix", 1, 0, OPT_PREFIX },
		{ "password-file", 1, 0, OPT_PW }, { "rate", 1, 0, OPT_RATE },
		{ "duration", 1, 0, OPT_DUR }, { "warmup", 1, 0, OPT_WARM }, { "drain", 1, 0, OPT_DRAIN },
		{ "out-dir", 1, 0, OPT_OUT }, { "spin", 0, 0, OPT_SPIN },
		{ "no-progress", 0, 0, OPT_NOPROG }, { "json", 0, 0, OPT_JSON },
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
		case OPT_SELF: return bench_selftest();
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc || (fixmux == NULL && direct == NULL && qfrelay == NULL))
		usage(2);
	if (bench_cfg.warmup_s >= bench_cfg.duration_s)
		bench_cfg.warmup_s = 0;
	if (fixmux)
		set_phase("fixmux", fixmux, ftarget, 'F', bench_cfg.users);
	if (qfrelay)
		set_phase("qfrelay", qfrelay, qtarget, 'Q', bench_cfg.users);
	if (direct)
		set_phase("direct", direct, dtarget, 'D',
			  direct_users ? direct_users : (bench_cfg.users < 64 ? bench_cfg.users : 64));

	/* The default 50 us timer slack would make every timed sleep 50 us late. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	tpn = bench_calibrate();
	users = calloc(bench_cfg.users, sizeof(*users));
	ring = malloc(sizeof(uint64_t) << RING_BITS);
	if (users == NULL || ring == NULL)
		bench_fail("out of memory");
	for (uint32_t i = 0; i < bench_cfg.users; i++)
		users[i].fd = -1;

	struct bench_opts bo = { .json = bench_cfg.json };
	bench_print_meta(&bo, "fixmux-bench");
	struct result res[MAX_PHASES];
	int ok = 1, nrun = 0;
	memset(res, 0, sizeof(res));
	while (nrun < bench_cfg.nphases && !stop_flag) {
		struct result *r = &res[nrun];
		if (bench_hist_init(&r->lat, HIST_HIGHEST) || bench_hist_init(&r->lag, HIST_HIGHEST) ||
		    (r->rows = calloc(MAX_SECONDS, sizeof(struct second_row))) == NULL)
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
		bench_hist_free(&res[i].lat);
		bench_hist_free(&res[i].lag);
		free(res[i].rows);
	}
	free(users);
	free(ring);
	return ok ? 0 : 1;
}
