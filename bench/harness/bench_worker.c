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
 * The users' connections are kernel sockets (epoll), or in fixmux-bench-dp (--dpdk) for the
 * fixmux phase connections of fixmux's own TCP/IP stack (bench_dpnet.c, one thread).
 *
 * Every thread keeps its own histograms (a whole-run one per stream and one per second),
 * merged at the end by the driver; a second's histograms are merged under a mutex once a
 * second, never per message.
 */
#define _GNU_SOURCE
#include "bench_dpnet.h"
#include "bench_harness.h"
#include "bench_hist.h"
#include "bench_util.h"
#include "fix_encode.h"
#include "fix_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RX_CAP (32u * 1024)
#define TX_CAP (512u * 1024)   /* virtual until used: calloc maps it lazily */
#define MAX_FIELDS 128
#define RING_BITS 20                  /* orders in flight tracked per thread: 1 M */
#define RING_MASK ((1u << RING_BITS) - 1)
#define DAY_NS (86400ll * 1000000000ll)
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

static uint64_t ticks_to_ns(const struct worker *w, uint64_t t)
{
	return (uint64_t)((double)t / w->tpn);
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool aborted(const struct worker *w)
{
	return bench_stop || __atomic_load_n(&w->pr->abort_run, __ATOMIC_RELAXED);
}

/* Keeps the thread's first failure (fmt takes a user name a and b[0..blen) of peer text) and
 * stops the other threads: a failed run is over for everyone. */
static void fail_run(struct worker *w, const char *fmt, const char *a, const char *b, int blen)
{
	if (w->failed)
		return;
	snprintf(w->why, sizeof(w->why), fmt, a, blen, b);
	/* The text goes into a JSON string: no quotes, backslashes or control bytes. */
	for (char *p = w->why; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '\'';
	w->failed = true;
	__atomic_store_n(&w->pr->abort_run, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------------------------
 * Sending
 * ---------------------------------------------------------------------------------------- */

static void arm(struct worker *w, struct user *u, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0),
				  .data.u32 = (uint32_t)(u - w->u) };

	if (w->dp)
		u->want_out = out; /* the stack says when a connection can take more */
	else if (u->want_out != out && epoll_ctl(w->ep, EPOLL_CTL_MOD, u->fd, &ev) == 0)
		u->want_out = out;
}

/* Writes what is queued; a full socket leaves the rest queued with EPOLLOUT armed. */
static int flush(struct worker *w, struct user *u)
{
	while (u->tx_off < u->tx_len) {
		if (w->dp) {
			long n = bench_dp_write(u->h, u->tx + u->tx_off, u->tx_len - u->tx_off);
			if (n < 0)
				return -1;
			if (n == 0)
				break;
			u->tx_off += (uint32_t)n;
			continue;
		}
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
	arm(w, u, u->tx_len != 0);
	return 0;
}

/* Starts a message with the standard header of user u. */
static void begin(struct worker *w, struct fix_encoder *e, char *buf, size_t cap,
		  struct user *u, const char *type, int64_t now_ns)
{
	fix_enc_begin(e, buf, cap, FIX_VER_44, type, &w->tcache);
	fix_enc_cstr(e, 49, u->name);
	fix_enc_cstr(e, 56, w->pr->ph->target);
	fix_enc_uint(e, 34, u->seq_out);
	fix_enc_time(e, 52, now_ns, FIX_TIME_US);
}

static int queue(struct worker *w, struct user *u, struct fix_encoder *e)
{
	char *msg;
	size_t len = fix_enc_finish(e, &msg);

	if (len == 0 || u->fd < 0)
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
	return flush(w, u);
}

static int send_simple(struct worker *w, struct user *u, const char *type, uint32_t tag,
		       const char *val, size_t vlen)
{
	char buf[512];
	struct fix_encoder e;

	begin(w, &e, buf, sizeof(buf), u, type, realtime_ns());
	if (tag != 0)
		fix_enc_str(&e, tag, val, vlen);
	return queue(w, u, &e);
}

static int send_logon(struct worker *w, struct user *u)
{
	char buf[512];
	struct fix_encoder e;

	begin(w, &e, buf, sizeof(buf), u, "A", realtime_ns());
	fix_enc_uint(&e, 98, 0);
	fix_enc_uint(&e, 108, 30);
	/* Every run starts both sequences at 1, so runs can follow each other on one appliance
	 * (whose user sessions otherwise keep their numbers across logons). */
	fix_enc_char(&e, 141, 'Y');
	fix_enc_cstr(&e, 553, u->name);
	fix_enc_cstr(&e, 554, bench_cfg.password);
	return queue(w, u, &e);
}

static int send_order(struct worker *w, struct user *u, uint64_t k, int64_t now_ns)
{
	char buf[512], id[48];
	struct fix_encoder e;
	/* Unique over threads and runs: fixmux refuses a ClOrdID another user owns. */
	int n = snprintf(id, sizeof(id), "%c%x-%u-%llu", w->pr->ph->tag,
			 (unsigned)getpid() & 0xfffff, w->id, (unsigned long long)k);

	begin(w, &e, buf, sizeof(buf), u, "D", now_ns);
	fix_enc_str(&e, 11, id, (size_t)n);
	fix_enc_char(&e, 21, '1');
	fix_enc_cstr(&e, 55, "EUR/USD");
	fix_enc_char(&e, 54, (k & 1) ? '2' : '1');
	fix_enc_time(&e, 60, now_ns, FIX_TIME_US);
	fix_enc_uint(&e, 38, 1000);
	fix_enc_char(&e, 40, '2');
	fix_enc_cstr(&e, 44, "1.1");
	return queue(w, u, &e);
}

/* Subscription g (over all users) of the phase: symbol g mod md_symbols, so users share
 * symbols (the venue's increments for one symbol fan out to several users). kind '1'
 * subscribes, '2' unsubscribes. */
static int send_md_request(struct worker *w, struct user *u, uint32_t g, char kind)
{
	char buf[512], id[48], sym[16];
	struct fix_encoder e;
	int n = snprintf(id, sizeof(id), "%cM%x-%u", w->pr->ph->tag, (unsigned)getpid() & 0xfffff,
			 g);
	int sn = snprintf(sym, sizeof(sym), "SYM%03u", g % bench_cfg.md_symbols);

	begin(w, &e, buf, sizeof(buf), u, "V", realtime_ns());
	fix_enc_str(&e, 262, id, (size_t)n);
	fix_enc_char(&e, 263, kind);
	fix_enc_uint(&e, 264, 1);
	fix_enc_uint(&e, 267, 2);
	fix_enc_char(&e, 269, '0');
	fix_enc_char(&e, 269, '1');
	fix_enc_uint(&e, 146, 1);
	fix_enc_str(&e, 55, sym, (size_t)sn);
	return queue(w, u, &e);
}

/* ------------------------------------------------------------------------------------------
 * Receiving
 * ---------------------------------------------------------------------------------------- */

static const struct fix_field *field(const struct fix_msg *m, uint32_t tag)
{
	return fix_find(m, tag, 0);
}

/* The number after the last '-' of an ID we made, or -1. */
static int64_t id_number(const struct fix_field *f)
{
	const char *dash = memrchr(f->val, '-', f->len);
	uint64_t k;

	if (dash == NULL ||
	    fix_get_uint(dash + 1, (size_t)(f->val + f->len - dash - 1), &k) != FIX_OK)
		return -1;
	return (int64_t)k;
}

static void on_exec(struct worker *w, const struct fix_msg *m, uint64_t now)
{
	const struct fix_field *id = field(m, 11), *et = field(m, 150);
	if (id == NULL)
		return;
	if (et != NULL && et->len == 1 && et->val[0] == '8')
		w->rejected++;
	if (et != NULL && et->len == 1 && (et->val[0] == 'F' || et->val[0] == '2'))
		w->fills++;
	int64_t k = id_number(id);
	if (k < 0 || id->val[0] != w->pr->ph->tag || (uint64_t)k >= w->next_k ||
	    w->next_k - (uint64_t)k > RING_MASK)
		return;
	uint64_t due = w->ring[k & RING_MASK];
	if (due == 0)
		return; /* the fill after the acknowledgement */
	w->ring[k & RING_MASK] = 0;
	w->outstanding--;
	w->answered++;
	if (due >= w->measure_from) {
		bench_hist_record(&w->interval[ST_ORDERS], now > due ? ticks_to_ns(w, now - due) : 0);
	}
}

/* "HH:MM:SS.fraction" (UTCTimeOnly) as ns since midnight, or -1. */
static int64_t time_of_day_ns(const char *v, size_t len)
{
	if (len < 8 || v[2] != ':' || v[5] != ':')
		return -1;
	int64_t s = 0, frac = 0, scale = 1000000000;
	for (size_t i = 0; i < 8; i++) {
		if (i == 2 || i == 5)
			continue;
		if (v[i] < '0' || v[i] > '9')
			return -1;
	}
	s = ((v[0] - '0') * 10 + (v[1] - '0')) * 3600 + ((v[3] - '0') * 10 + (v[4] - '0')) * 60 +
	    (v[6] - '0') * 10 + (v[7] - '0');
	if (len > 8) {
		if (v[8] != '.' || len == 9 || len > 18)
			return -1;
		for (size_t i = 9; i < len; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			scale /= 10;
			frac += (v[i] - '0') * scale;
		}
	}
	return s * 1000000000 + frac;
}

static void on_md(struct worker *w, struct user *u, const struct fix_msg *m, int64_t now_rt,
		  bool snapshot)
{
	const struct fix_field *id = field(m, 262);
	int64_t g = id != NULL && id->val[0] == w->pr->ph->tag ? id_number(id) : -1;
	uint32_t users = w->pr->ph->users;

	/* Subscription g belongs to user g mod users as its (g / users)-th. */
	if (g < 0 || (uint32_t)(g % users) != u->idx || (uint32_t)(g / users) >= u->nsub) {
		fail_run(w, "%s: market data for an MDReqID it does not own: %.*s", u->name,
			 id ? id->val : "", id ? (int)id->len : 0);
		return;
	}
	if (snapshot) {
		u->snaps++;
		w->md_snapshots++;
		return;
	}
	u->sub_got[g / users]++;
	w->md_updates++;
	const struct fix_field *t = field(m, 273);
	int64_t tod = t != NULL ? time_of_day_ns(t->val, t->len) : -1;
	if (tod < 0) {
		w->md_unstamped++;
		return;
	}
	/* The stamp is a time of day: its date is the one that puts it nearest to now. */
	int64_t diff = ((now_rt % DAY_NS) - tod + DAY_NS) % DAY_NS;
	if (diff > DAY_NS / 2)
		diff -= DAY_NS; /* stamped after its arrival: impossible on one clock; shown as 0 */
	int64_t stamp = now_rt - diff;
	if (stamp >= w->md_from_rt && stamp < w->md_to_rt) {
		bench_hist_record(&w->interval[ST_MD], diff > 0 ? (uint64_t)diff : 0);
	}
}

static void on_message(struct worker *w, struct user *u, const struct fix_msg *m, uint64_t now,
		       int64_t now_rt)
{
	const char *t = m->hdr.msg_type;
	const struct fix_field *txt = field(m, 58);

	if (strcmp(t, "8") == 0) {
		on_exec(w, m, now);
	} else if (strcmp(t, "X") == 0 || strcmp(t, "W") == 0) {
		on_md(w, u, m, now_rt, t[0] == 'W');
	} else if (strcmp(t, "Y") == 0) {
		w->md_rejects++;
		fail_run(w, "%s: MarketDataRequestReject: %.*s", u->name, txt ? txt->val : "",
			 txt ? (int)txt->len : 0);
	} else if (strcmp(t, "A") == 0) {
		if (u->st == U_LOGON_SENT) {
			u->st = U_ACTIVE;
			w->active++;
		}
	} else if (strcmp(t, "1") == 0) {
		const struct fix_field *req = field(m, 112);
		if (send_simple(w, u, "0", req ? 112 : 0, req ? req->val : "", req ? req->len : 0))
			fail_run(w, "%s: cannot answer a TestRequest%.*s", u->name, "", 0);
	} else if (strcmp(t, "5") == 0) {
		if (u->st != U_LOGOUT_SENT)
			fail_run(w, "%s: logged out by the peer: %.*s", u->name,
				 txt ? txt->val : "", txt ? (int)txt->len : 0);
		if (u->st == U_ACTIVE)
			w->active--;
		u->st = U_CLOSED;
	} else if (strcmp(t, "3") == 0 || strcmp(t, "j") == 0) {
		w->other_rejects++;
		fail_run(w, "%s: session or business reject: %.*s", u->name, txt ? txt->val : "",
			 txt ? (int)txt->len : 0);
	}
}

static void release(struct worker *w, struct user *u)
{
	if (u->fd < 0)
		return;
	if (w->dp) {
		bench_dp_close(u->h);
	} else {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, u->fd, NULL);
		close(u->fd);
	}
	u->fd = -1;
}

static void close_user(struct worker *w, struct user *u)
{
	if (u->st == U_ACTIVE)
		w->active--;
	u->st = U_CLOSED;
	release(w, u);
	w->closed++;
}

/* Reads what the socket has and handles every complete message. */
static void on_readable(struct worker *w, struct user *u, uint64_t now, int64_t now_rt)
{
	struct fix_field fields[MAX_FIELDS];
	struct fix_msg m = { .fields = fields, .cap = MAX_FIELDS };

	for (;;) {
		if (u->rx_len == RX_CAP) {
			/* Only a message longer than the buffer leaves it full after framing. */
			fail_run(w, "%s: a message longer than %.*s bytes", u->name, "32768", 5);
			u->rx_len = 0;
			fix_framer_reset(&u->fr);
		}
		ssize_t n;
		if (w->dp) {
			long r = bench_dp_read(u->h, u->rx + u->rx_len, RX_CAP - u->rx_len);
			if (r == BENCH_DP_EAGAIN)
				break;
			n = r;
			errno = 0; /* a failure is not an EINTR of an earlier call */
		} else {
			n = read(u->fd, u->rx + u->rx_len, RX_CAP - u->rx_len);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (u->st != U_LOGOUT_SENT && u->st != U_CLOSED)
				fail_run(w, "%s: connection closed by the peer%.*s", u->name, "", 0);
			close_user(w, u);
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
				fail_run(w, "%s: garbled bytes from the peer: %.*s", u->name,
					 fix_strerror(err), (int)strlen(fix_strerror(err)));
				off += (uint32_t)-fl;
				continue;
			}
			if (fix_parse(&m, u->rx + off, (size_t)fl) == FIX_OK)
				on_message(w, u, &m, now, now_rt);
			off += (uint32_t)fl;
			if (u->fd < 0)
				return;
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
static void poll_once_dp(struct worker *w, uint64_t timeout_ns)
{
	struct bench_dp_ready r[64];
	int n = bench_dp_poll(r, 64, timeout_ns);
	uint64_t now = bench_ticks();
	int64_t now_rt = (bench_cfg.scenario & SCN_MD) ? realtime_ns() : 0;

	for (int i = 0; i < n; i++) {
		if (r[i].user >= w->nu)
			continue;
		struct user *u = &w->u[r[i].user];
		if (u->fd < 0)
			continue;
		if ((r[i].flags & BENCH_DP_WRITABLE) && u->tx_len > 0 && flush(w, u) != 0)
			fail_run(w, "%s: write failed%.*s", u->name, "", 0);
		if (r[i].flags & BENCH_DP_READABLE)
			on_readable(w, u, now, now_rt);
	}
}

static void poll_once(struct worker *w, uint64_t timeout_ns)
{
	if (w->dp) {
		poll_once_dp(w, timeout_ns);
		return;
	}
	struct epoll_event evs[64];
	struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000u),
			       .tv_nsec = (long)(timeout_ns % 1000000000u) };
	int n = epoll_pwait2(w->ep, evs, 64, &ts, NULL);
	uint64_t now = bench_ticks();
	int64_t now_rt = (bench_cfg.scenario & SCN_MD) ? realtime_ns() : 0;

	for (int i = 0; i < n; i++) {
		struct user *u = &w->u[evs[i].data.u32];
		if (u->fd < 0)
			continue;
		if ((evs[i].events & EPOLLOUT) && flush(w, u) != 0)
			fail_run(w, "%s: write failed%.*s", u->name, "", 0);
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(w, u, now, now_rt);
	}
}

/* ------------------------------------------------------------------------------------------
 * The thread
 * ---------------------------------------------------------------------------------------- */

static int connect_user(struct worker *w, const struct phase *ph, struct user *u)
{
	if (w->dp) {
		long h = bench_dp_connect(ph->host, ph->port, (uint32_t)(u - w->u));
		if (h < 0)
			return -1;
		u->h = (uint32_t)h;
		u->fd = DP_FD;
		return 0;
	}
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
		release(w, &w->u[k]);
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

	if (!w->dp)
		w->ep = epoll_create1(EPOLL_CLOEXEC);
	for (uint32_t k = 0; k < w->nu; k++) {
		struct user *u = &w->u[k];
		if (connect_user(w, ph, u) != 0) {
			char e[160];
			snprintf(e, sizeof(e), "cannot connect to %s:%u: %s", ph->host, ph->port,
				 strerror(errno));
			fail_run(w, "%s: %.*s", u->name, e, (int)strlen(e));
			return false;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = k };
		if (!w->dp)
			epoll_ctl(w->ep, EPOLL_CTL_ADD, u->fd, &ev);
		u->st = U_LOGON_SENT;
		if (send_logon(w, u) != 0) {
			fail_run(w, "%s: cannot send the Logon%.*s", u->name, "", 0);
			return false;
		}
	}
	uint64_t t0 = bench_ticks();
	while (w->active < w->nu && !w->failed && !aborted(w) && bench_ticks() - t0 < 20 * tps)
		poll_once(w, 10000000);
	if (w->active < w->nu) {
		char e[64];
		snprintf(e, sizeof(e), "only %u of %u users logged on within 20 s", w->active, w->nu);
		fail_run(w, "thread %s%.*s", e, "", 0);
		return false;
	}
	/* Every subscription answered by its snapshot before the clock starts. */
	uint32_t want = 0, have = 0;
	for (uint32_t k = 0; k < w->nu; k++) {
		struct user *u = &w->u[k];
		for (uint32_t j = 0; j < u->nsub; j++)
			if (send_md_request(w, u, u->idx + j * ph->users, '1') != 0) {
				fail_run(w, "%s: cannot send a MarketDataRequest%.*s", u->name, "", 0);
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
		poll_once(w, 10000000);
	}
	if (have < want && !w->failed) {
		char e[96];
		snprintf(e, sizeof(e), "%u of %u subscriptions answered within 20 s", have, want);
		fail_run(w, "thread %s%.*s", e, "", 0);
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
			fail_run(w, "%sthread cannot be pinned to its --cores CPU%.*s", "", "", 0);
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
			if (u->st != U_ACTIVE || send_order(w, u, k, now_ns) != 0) {
				fail_run(w, "%s: cannot send (connection lost or 512 kB unsent)%.*s",
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
					if (send_md_request(w, &w->u[k], w->u[k].idx + j * pr->ph->users,
							    '2') != 0)
						fail_run(w, "%s: cannot unsubscribe%.*s", w->u[k].name,
							 "", 0);
			md_open = false;
		}
		if (now >= next_second) {
			roll_second(w, ++second);
			next_second += tps;
			/* Heartbeats for users idle longer than 25 s (HeartBtInt 30). */
			for (uint32_t k = 0; k < w->nu; k++)
				if (w->u[k].st == U_ACTIVE && now - w->u[k].last_tx > 25 * tps)
					send_simple(w, &w->u[k], "0", 0, "", 0);
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
		poll_once(w, timeout);
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
					fail_run(w, "%s: %.*s", w->u[k].name, e, (int)strlen(e));
				}
	}

logout:
	/* The driver reads fixmux's counts between these two, while every user is still on. */
	pthread_barrier_wait(&pr->measured);
	pthread_barrier_wait(&pr->resume);
	/* Orderly logout: a Logout each, then up to 3 s for the answers. */
	for (uint32_t k = 0; k < w->nu; k++)
		if (w->u[k].st == U_ACTIVE) {
			send_simple(w, &w->u[k], "5", 0, "", 0);
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
		poll_once(w, 10000000);
	}
	w->failed = was_failed;
	for (uint32_t k = 0; k < w->nu; k++)
		release(w, &w->u[k]);
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
