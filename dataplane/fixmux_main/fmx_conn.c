/* fixmux_main: TCP connections of the stack <-> connection ids and venue sessions of the
 * multiplexer. See fmx_app.h for the model.
 *
 * Copies, for now: received payload is handed to ctl_mux_*_bytes() segment by segment (the
 * multiplexer copies it into its reassembly buffer and frames it there), and what the
 * multiplexer sends is copied into fresh mbufs. The zero-copy forwarding path of
 * ARCHITECTURE.md (body left in the received mbuf, header rebuilt in its headroom) needs the
 * multiplexer's routing decisions on the data path and is future work (docs/architecture.md).
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "fmx_app.h"

const char *const fmx_counter_names[FMX__COUNTERS] = {
	"tcp_accepted",         "tcp_refused_no_slot", "venue_connects",  "venue_connect_fails",
	"bytes_from_users",     "bytes_to_users",      "bytes_from_venues", "bytes_to_venues",
	"sends_backlogged",     "backlog_overflows",   "sends_no_mbuf",
};

/* ------------------------------------------------------------------------------------------
 * Sending: copy into mbufs, hand to the stack, keep what it refuses in order
 * ---------------------------------------------------------------------------------------- */

static void backlog_free(struct fmx_conn *c)
{
	while (c->bl_n) {
		rte_pktmbuf_free(c->bl[c->bl_head]);
		c->bl_head = (c->bl_head + 1) % FMX_BACKLOG;
		c->bl_n--;
	}
	c->bl_head = 0;
}

/* Gives the handle back to the stack: an orderly FIN after what is queued, or a reset. */
static void conn_release(struct fmx_conn *c, bool abortive)
{
	backlog_free(c);
	if (abortive)
		dp_tcp_abort(c->side->st, c->h);
	else
		dp_tcp_close(c->side->st, c->h);
	c->used = false;
	c->closing = false;
	c->established = false;
	c->h = DP_CONN_INVALID;
}

/* The connection cannot carry its stream any more (bytes would be lost): reset it and tell
 * the multiplexer once the current call has returned. */
static void conn_fail(struct fmx_conn *c, const char *why)
{
	conn_release(c, true);
	c->report = true;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

/* Sends the backlog in order; stops at the first refusal. */
static unsigned backlog_flush(struct fmx_conn *c)
{
	unsigned work = 0;
	while (c->bl_n) {
		int rc = dp_tcp_send(c->side->st, c->h, c->bl[c->bl_head]);
		if (rc == DP_TCP_EAGAIN)
			break;
		if (rc != DP_TCP_OK) {
			conn_fail(c, "connection failed while sending");
			return work;
		}
		c->bl_head = (c->bl_head + 1) % FMX_BACKLOG;
		c->bl_n--;
		work++;
	}
	if (c->bl_n == 0 && c->closing)
		conn_release(c, false);
	return work;
}

/* Copies bytes into an mbuf chain (DP_MBUF_HEADROOM in front of the first segment is left
 * free, as the stack's contract allows) and queues it. 0, or -1 if the connection was reset. */
/* Internal latency: a copy of what arrived on one side, handed to the stack of the other
 * side within the multiplexer call that the received bytes made (a reply to the sender itself,
 * such as a reject, is not a forwarded copy and is not counted). Measured from the RX burst
 * that carried the message's last byte. */
static inline void lat_sent(struct fmx_app *a, const struct fmx_conn *c)
{
	if (a->lat_from == 1u + FMX_CLIENT && c->kind == FMX_VENUE)
		fmx_hist_record(&a->lat[FMX_LAT_CLIENT_TO_VENUE], rte_rdtsc() - a->lat_rx_tsc);
	else if (a->lat_from == 1u + FMX_VENUE && c->kind == FMX_CLIENT)
		fmx_hist_record(&a->lat[FMX_LAT_VENUE_TO_CLIENT], rte_rdtsc() - a->lat_rx_tsc);
}

static int conn_send(struct fmx_app *a, struct fmx_conn *c, const char *bytes, size_t len)
{
	struct rte_mbuf *head = NULL;
	while (len > 0) {
		struct rte_mbuf *m = dp_mbuf_alloc_tx(c->side->port.pool);
		if (m != NULL) {
			uint16_t room = rte_pktmbuf_tailroom(m);
			uint16_t n = len < room ? (uint16_t)len : room;
			memcpy(rte_pktmbuf_append(m, n), bytes, n);
			bytes += n;
			len -= n;
		}
		/* Filled before it is chained: rte_pktmbuf_chain() adds the segment's length to
		 * the head's pkt_len, which the stack takes as the length of the whole chain. */
		if (m == NULL || (head != NULL && rte_pktmbuf_chain(head, m) != 0)) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			a->ctr[FMX_NO_MBUF]++;
			conn_fail(c, "out of mbufs while sending");
			return -1;
		}
		if (head == NULL)
			head = m;
	}
	if (head == NULL)
		return 0;
	if (c->bl_n == 0) {
		int rc = dp_tcp_send(c->side->st, c->h, head);
		if (rc == DP_TCP_OK) {
			lat_sent(a, c);
			return 0;
		}
		if (rc != DP_TCP_EAGAIN) {
			rte_pktmbuf_free(head);
			conn_fail(c, "connection failed while sending");
			return -1;
		}
	}
	if (c->bl_n == FMX_BACKLOG) {
		rte_pktmbuf_free(head);
		a->ctr[FMX_BACKLOG_OVERFLOWS]++;
		conn_fail(c, "peer not reading: send backlog full");
		return -1;
	}
	c->bl[(c->bl_head + c->bl_n) % FMX_BACKLOG] = head;
	c->bl_n++;
	a->ctr[FMX_BACKLOGGED]++;
	lat_sent(a, c);
	return 0;
}

/* The multiplexer is done with the connection: FIN after everything it sent. */
static void conn_close(struct fmx_conn *c)
{
	if (!c->used || c->closing)
		return;
	if (!c->established && c->kind == FMX_VENUE) {
		conn_release(c, true); /* still opening: nothing to flush */
		return;
	}
	c->closing = true;
	if (c->bl_n == 0)
		conn_release(c, false);
}

/* ------------------------------------------------------------------------------------------
 * The multiplexer's callbacks
 * ---------------------------------------------------------------------------------------- */

static void io_client_send(void *arg, uint32_t conn, const char *bytes, size_t len)
{
	struct fmx_app *a = arg;
	if (conn >= CTL_MUX_MAX_CONNS)
		return;
	struct fmx_conn *c = &a->clients[conn];
	if (!c->used || c->closing)
		return;
	if (conn_send(a, c, bytes, len) == 0)
		a->ctr[FMX_BYTES_TO_USERS] += len;
}

static void io_client_close(void *arg, uint32_t conn, const char *why)
{
	struct fmx_app *a = arg;
	(void)why; /* the multiplexer logs it */
	if (conn >= CTL_MUX_MAX_CONNS)
		return;
	struct fmx_conn *c = &a->clients[conn];
	if (!c->used)
		return;
	/* The multiplexer keeps the id until it hears ctl_mux_client_closed(). */
	c->report = true;
	conn_close(c);
}

static void io_venue_connect(void *arg, uint32_t vs, uint32_t addr, uint16_t port)
{
	struct fmx_app *a = arg;
	if (vs >= a->cfg->n_sessions)
		return;
	struct fmx_conn *c = &a->venues[vs];
	/* A new attempt replaces whatever the old connection had left to say. */
	if (c->used)
		conn_release(c, true);
	c->report = false;
	int rc = 0;
	dp_conn_t h = dp_tcp_connect(a->vs->st, addr, port, 0, &rc);
	a->ctr[FMX_VENUE_CONNECTS]++;
	if (h == DP_CONN_INVALID) {
		a->ctr[FMX_VENUE_CONNECT_FAILS]++;
		c->report = true;
		snprintf(c->why, sizeof(c->why), "cannot open a connection (stack error %d)", rc);
		return;
	}
	c->h = h;
	c->used = true;
	c->closing = false;
	c->established = false;
	dp_tcp_set_user(a->vs->st, h, c);
}

static void io_venue_send(void *arg, uint32_t vs, const char *bytes, size_t len)
{
	struct fmx_app *a = arg;
	if (vs >= a->cfg->n_sessions)
		return;
	struct fmx_conn *c = &a->venues[vs];
	if (!c->used || c->closing || !c->established)
		return;
	if (conn_send(a, c, bytes, len) == 0)
		a->ctr[FMX_BYTES_TO_VENUES] += len;
}

/* The venue connection is busy when its backlog is nearly full: the margin leaves room for
 * the session's own messages (heartbeats, resend answers) and for the message in hand. */
#define FMX_VENUE_BUSY_MARGIN 16

static bool io_venue_busy(void *arg, uint32_t vs)
{
	const struct fmx_app *a = arg;
	if (vs >= a->cfg->n_sessions)
		return false;
	return a->venues[vs].bl_n >= FMX_BACKLOG - FMX_VENUE_BUSY_MARGIN;
}

static void io_venue_close(void *arg, uint32_t vs, const char *why)
{
	struct fmx_app *a = arg;
	if (vs >= a->cfg->n_sessions)
		return;
	struct fmx_conn *c = &a->venues[vs];
	if (!c->used)
		return;
	c->report = true;
	snprintf(c->why, sizeof(c->why), "%s", why ? why : "closed by fixmux");
	conn_close(c);
}

static void io_log(void *arg, const char *line)
{
	const struct fmx_app *a = arg;
	/* Control path only: logons, logouts, refusals, venue state changes. The operator's
	 * own changes ("admin: ...") are always written, whatever the log level. */
	if (a->log_level >= FMX_LOG_INFO || strncmp(line, "admin:", 6) == 0)
		fprintf(stderr, "fixmux: %s\n", line);
}

void fmx_io_init(struct fmx_app *a, struct ctl_mux_io *io)
{
	*io = (struct ctl_mux_io){
		.arg = a,
		.client_send = io_client_send,
		.client_close = io_client_close,
		.venue_connect = io_venue_connect,
		.venue_send = io_venue_send,
		.venue_close = io_venue_close,
		.log = io_log,
		.venue_busy = io_venue_busy,
	};
}

void fmx_settle(struct fmx_app *a)
{
	/* Reporting a close may make the multiplexer close more (a user's failure takes the
	 * venue session down, which logs the other users out): loop until quiet. */
	bool again = true;
	while (again) {
		again = false;
		for (uint32_t i = 0; i < CTL_MUX_MAX_CONNS; i++) {
			if (a->clients[i].report) {
				a->clients[i].report = false;
				ctl_mux_client_closed(a->mux, i, a->now_ns);
				again = true;
			}
		}
		for (uint32_t i = 0; i < a->cfg->n_sessions; i++) {
			if (a->venues[i].report) {
				a->venues[i].report = false;
				ctl_mux_venue_closed(a->mux, i, a->venues[i].why, a->now_ns);
				again = true;
			}
		}
	}
}

/* ------------------------------------------------------------------------------------------
 * Receiving and stack events
 * ---------------------------------------------------------------------------------------- */

/* Hands every received byte to the multiplexer, segment by segment (it copies them into its
 * reassembly buffer); a closing connection's bytes are dropped. Returns mbufs taken. */
static unsigned conn_recv(struct fmx_app *a, struct fmx_conn *c)
{
	unsigned work = 0;
	struct rte_mbuf *bufs[FMX_BURST];
	int n;
	a->lat_from = 1u + c->kind;
	a->lat_rx_tsc = c->side->rx_tsc;
	while (c->used && (n = dp_tcp_recv(c->side->st, c->h, bufs, FMX_BURST)) > 0) {
		for (int i = 0; i < n; i++) {
			for (struct rte_mbuf *s = bufs[i]; s != NULL; s = s->next) {
				/* A callback may have closed the connection half-way. */
				if (!c->used || c->closing)
					break;
				const char *p = rte_pktmbuf_mtod(s, const char *);
				if (c->kind == FMX_CLIENT) {
					a->ctr[FMX_BYTES_FROM_USERS] += s->data_len;
					ctl_mux_client_bytes(a->mux, c->id, p, s->data_len, a->now_ns);
				} else {
					a->ctr[FMX_BYTES_FROM_VENUES] += s->data_len;
					ctl_mux_venue_bytes(a->mux, c->id, p, s->data_len, a->now_ns);
				}
			}
			rte_pktmbuf_free(bufs[i]);
		}
		work += (unsigned)n;
	}
	a->lat_from = 0;
	return work;
}

static const char *close_reason(int err)
{
	switch (err) {
	case DP_TCP_ERESET:
		return "connection reset by the peer";
	case DP_TCP_ETIMEDOUT:
		return "connection timed out";
	case DP_TCP_EREFUSED:
		return "connection refused";
	default:
		return "connection closed by the peer";
	}
}

static void accept_all(struct fmx_app *a)
{
	struct dp_stack *st = a->cs->st;
	dp_conn_t h;
	while ((h = dp_tcp_accept(st, a->listener)) != DP_CONN_INVALID) {
		a->ctr[FMX_ACCEPTED]++;
		struct fmx_conn *c = NULL;
		for (uint32_t i = 0; i < CTL_MUX_MAX_CONNS && c == NULL; i++)
			if (!a->clients[i].used && !a->clients[i].report)
				c = &a->clients[i];
		struct dp_tcp_info info;
		if (c == NULL || dp_tcp_get_info(st, h, &info) != 0) {
			a->ctr[FMX_REFUSED_NO_SLOT]++;
			dp_tcp_abort(st, h);
			continue;
		}
		c->h = h;
		c->used = true;
		c->closing = false;
		c->established = true;
		dp_tcp_set_user(st, h, c);
		ctl_mux_client_accepted(a->mux, c->id, info.remote_ip, a->now_ns);
	}
}

static void on_event(struct fmx_app *a, const struct dp_event *ev)
{
	struct fmx_conn *c = ev->user;
	/* Slots are reused once a handle is given back: an event for the old handle must not
	 * reach the new connection. */
	if (c == NULL || !c->used || c->h != ev->conn)
		return;
	if (ev->flags & DP_EV_CONNECTED && c->kind == FMX_VENUE && !c->established) {
		c->established = true;
		ctl_mux_venue_connected(a->mux, c->id, a->now_ns);
		fmx_settle(a);
	}
	if (ev->flags & (DP_EV_READABLE | DP_EV_PEER_FIN | DP_EV_CLOSED)) {
		conn_recv(a, c);
		fmx_settle(a);
	}
	if (!c->used || c->h != ev->conn)
		return;
	if (ev->flags & DP_EV_WRITABLE)
		backlog_flush(c);
	if (!c->used || c->h != ev->conn)
		return;
	bool closed = ev->flags & DP_EV_CLOSED;
	bool fin = (ev->flags & DP_EV_PEER_FIN) || dp_tcp_peer_closed(c->side->st, c->h);
	if (!closed && !fin)
		return;
	if (c->closing) {
		/* We closed it first; the peer's FIN or reset ends it. */
		if (closed)
			conn_release(c, false);
		return;
	}
	if (c->kind == FMX_VENUE && !c->established)
		a->ctr[FMX_VENUE_CONNECT_FAILS]++;
	snprintf(c->why, sizeof(c->why), "%s", closed ? close_reason(ev->err) :
							close_reason(0));
	c->report = true;
	if (closed)
		conn_release(c, false);
	else
		conn_close(c); /* answer the peer's FIN with ours after what is queued */
	fmx_settle(a);
}

static unsigned side_events(struct fmx_app *a, struct fmx_side *s)
{
	struct dp_event ev[FMX_BURST];
	unsigned n, work = 0;
	while ((n = dp_stack_events(s->st, ev, FMX_BURST)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (s == a->cs && ev[i].conn == a->listener)
				accept_all(a);
			else
				on_event(a, &ev[i]);
		}
		work += n;
	}
	fmx_settle(a);
	return work;
}

/* ------------------------------------------------------------------------------------------
 * Agents
 * ---------------------------------------------------------------------------------------- */

static unsigned side_tx(struct fmx_side *s)
{
	struct rte_mbuf *pkts[FMX_BURST];
	unsigned work = 0, k;
	while ((k = dp_stack_tx_burst(s->st, pkts, FMX_BURST)) > 0) {
		uint16_t sent = dp_port_tx(&s->port, 0, pkts, (uint16_t)k);
		/* A full TX ring: TCP retransmits what was lost, so dropping is correct. */
		for (unsigned i = sent; i < k; i++)
			rte_pktmbuf_free(pkts[i]);
		work += k;
		if (sent < k)
			break;
	}
	return work;
}

unsigned fmx_side_work(void *arg, uint64_t now_us)
{
	struct fmx_side *s = arg;
	struct fmx_app *a = s->app;
	struct rte_mbuf *pkts[FMX_BURST];
	unsigned work = 0;
	uint16_t n = dp_port_rx(&s->port, 0, pkts, FMX_BURST);
	if (n) {
		s->rx_tsc = rte_rdtsc();
		work += dp_stack_rx_burst(s->st, now_us, pkts, n);
	}
	work += dp_stack_poll(s->st, now_us);
	work += side_events(a, s);
	work += side_tx(s);
	return work;
}

unsigned fmx_tx_all(struct fmx_app *a)
{
	unsigned work = 0;
	for (unsigned i = 0; i < a->n_sides; i++)
		work += side_tx(&a->sides[i]);
	return work;
}

unsigned fmx_flush(struct fmx_app *a)
{
	unsigned work = 0;
	for (uint32_t i = 0; i < CTL_MUX_MAX_CONNS; i++)
		if (a->clients[i].used && a->clients[i].bl_n)
			work += backlog_flush(&a->clients[i]);
	for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
		if (a->venues[i].used && a->venues[i].bl_n)
			work += backlog_flush(&a->venues[i]);
	fmx_settle(a);
	return work + fmx_tx_all(a);
}

unsigned fmx_pending_out(const struct fmx_app *a)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < CTL_MUX_MAX_CONNS; i++)
		n += a->clients[i].bl_n;
	for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
		n += a->venues[i].bl_n;
	for (unsigned i = 0; i < a->n_sides; i++)
		n += dp_stack_tx_pending(a->sides[i].st);
	return n;
}

void fmx_release_all(struct fmx_app *a)
{
	for (uint32_t i = 0; i < CTL_MUX_MAX_CONNS; i++)
		if (a->clients[i].used)
			conn_release(&a->clients[i], false);
	for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
		if (a->venues[i].used)
			conn_release(&a->venues[i], false);
}
