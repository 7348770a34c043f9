/* fixmux-bench: the users' connections of a harness thread: FIX messages out (Logon, orders,
 * MarketDataRequests), bytes in and out of kernel sockets (epoll) or of fixmux's own TCP/IP
 * stack (bench_dpnet.c), and what the harness does with each message it receives: an
 * ExecutionReport ends its order's latency, an increment's MDEntryTime starts its own. */
#define _GNU_SOURCE
#include "bench_dpnet.h"
#include "bench_md.h"
#include "bench_util.h"
#include "bench_worker_pvt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

void bench_fail_run(struct worker *w, const char *fmt, const char *a, const char *b, int blen)
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

int bench_send_simple(struct worker *w, struct user *u, const char *type, uint32_t tag,
		       const char *val, size_t vlen)
{
	char buf[512];
	struct fix_encoder e;

	begin(w, &e, buf, sizeof(buf), u, type, realtime_ns());
	if (tag != 0)
		fix_enc_str(&e, tag, val, vlen);
	return queue(w, u, &e);
}

int bench_send_logon(struct worker *w, struct user *u)
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

int bench_send_order(struct worker *w, struct user *u, uint64_t k, int64_t now_ns)
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
int bench_send_md_request(struct worker *w, struct user *u, uint32_t g, char kind)
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

static void on_md(struct worker *w, struct user *u, const struct fix_msg *m, int64_t now_rt,
		  bool snapshot)
{
	const struct fix_field *id = field(m, 262);
	int64_t g = id != NULL && id->val[0] == w->pr->ph->tag ? id_number(id) : -1;
	uint32_t users = w->pr->ph->users;

	/* Subscription g belongs to user g mod users as its (g / users)-th. */
	if (g < 0 || (uint32_t)(g % users) != u->idx || (uint32_t)(g / users) >= u->nsub) {
		bench_fail_run(w, "%s: market data for an MDReqID it does not own: %.*s", u->name,
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
	int64_t tod = t != NULL ? bench_time_of_day_ns(t->val, t->len) : -1;
	if (tod < 0) {
		w->md_unstamped++;
		return;
	}
	int64_t stamp, lat = bench_md_latency(now_rt, tod, &stamp);
	if (stamp >= w->md_from_rt && stamp < w->md_to_rt)
		bench_hist_record(&w->interval[ST_MD], lat > 0 ? (uint64_t)lat : 0);
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
		bench_fail_run(w, "%s: MarketDataRequestReject: %.*s", u->name, txt ? txt->val : "",
			 txt ? (int)txt->len : 0);
	} else if (strcmp(t, "A") == 0) {
		if (u->st == U_LOGON_SENT) {
			u->st = U_ACTIVE;
			w->active++;
		}
	} else if (strcmp(t, "1") == 0) {
		const struct fix_field *req = field(m, 112);
		if (bench_send_simple(w, u, "0", req ? 112 : 0, req ? req->val : "", req ? req->len : 0))
			bench_fail_run(w, "%s: cannot answer a TestRequest%.*s", u->name, "", 0);
	} else if (strcmp(t, "5") == 0) {
		if (u->st != U_LOGOUT_SENT)
			bench_fail_run(w, "%s: logged out by the peer: %.*s", u->name,
				 txt ? txt->val : "", txt ? (int)txt->len : 0);
		if (u->st == U_ACTIVE)
			w->active--;
		u->st = U_CLOSED;
	} else if (strcmp(t, "3") == 0 || strcmp(t, "j") == 0) {
		w->other_rejects++;
		bench_fail_run(w, "%s: session or business reject: %.*s", u->name, txt ? txt->val : "",
			 txt ? (int)txt->len : 0);
	}
}

void bench_release(struct worker *w, struct user *u)
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
	bench_release(w, u);
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
			bench_fail_run(w, "%s: a message longer than %.*s bytes", u->name, "32768", 5);
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
				bench_fail_run(w, "%s: connection closed by the peer%.*s", u->name, "", 0);
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
				bench_fail_run(w, "%s: garbled bytes from the peer: %.*s", u->name,
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
		/* A short read drained the socket (level-triggered epoll calls again if more
		 * came); the user-space stack reports a connection once per arrival, so it is read
		 * until it has nothing left. */
		if (!w->dp && (size_t)n < RX_CAP / 2)
			break;
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
			bench_fail_run(w, "%s: write failed%.*s", u->name, "", 0);
		if (r[i].flags & BENCH_DP_READABLE)
			on_readable(w, u, now, now_rt);
	}
}

void bench_poll_once(struct worker *w, uint64_t timeout_ns)
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
			bench_fail_run(w, "%s: write failed%.*s", u->name, "", 0);
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(w, u, now, now_rt);
	}
}

/* ------------------------------------------------------------------------------------------
 * Connecting
 * ---------------------------------------------------------------------------------------- */

int bench_connect_user(struct worker *w, const struct phase *ph, struct user *u)
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
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(u - w->u) };
	if ((w->ep < 0 && (w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, u->fd, &ev) != 0) {
		close(u->fd);
		u->fd = -1;
		return -1;
	}
	return 0;
}
