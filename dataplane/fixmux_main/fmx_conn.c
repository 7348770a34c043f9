/* fixmux_main: TCP connections of the stack <-> connection ids and venue sessions of the
 * multiplexer. See fmx_app.h for the model.
 *
 * Receiving: a received mbuf that is a single directly writable segment is handed to the
 * multiplexer in place (ctl_mux_*_segment); when the multiplexer forwards its message with the
 * header rewritten inside that mbuf (io.*_send_inplace), the mbuf itself is queued on the
 * destination's TCP connection, so the body is never copied. Chains and shared mbufs are
 * handed over as bytes (ctl_mux_*_bytes), which the multiplexer copies into its reassembly
 * buffer. What the multiplexer sends otherwise (io.*_send: its own messages, and forwarded
 * messages it could not rewrite in place) is copied into fresh mbufs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "fmx_app.h"

const char *const fmx_counter_names[FMX__COUNTERS] = {
	"tcp_accepted",         "tcp_refused_no_slot", "venue_connects",  "venue_connect_fails",
	"bytes_from_users",     "bytes_to_users",      "bytes_from_venues", "bytes_to_venues",
	"sends_backlogged",     "backlog_overflows",   "sends_no_mbuf",
	"segments_in_place",    "segments_copied",     "sent_in_place",
};

/* Connections not logged on yet (refused logons, strangers) need slots beside the users'
 * configured client sessions. */
#define FMX_SPARE_SLOTS 64u

/* ------------------------------------------------------------------------------------------
 * Client slots: a FIFO of free ones, a dense list of those in use, a list of closes to report
 * ---------------------------------------------------------------------------------------- */

uint32_t fmx_client_slots(const struct ctl_config *cfg)
{
	uint64_t n = FMX_SPARE_SLOTS;
	for (uint32_t u = 0; u < cfg->n_users; u++)
		n += cfg->users[u].n_sessions;
	return n < CTL_MUX_MAX_CONNS ? (uint32_t)n : CTL_MUX_MAX_CONNS;
}

static void slot_free(struct fmx_app *a, struct fmx_conn *c)
{
	if (c->kind != FMX_CLIENT || c->used || c->report || c->on_free_list)
		return;
	c->on_free_list = true;
	a->free_ids[(a->free_head + a->free_n) % a->n_clients] = c->id;
	a->free_n++;
}

/* The least recently freed slot that is still free (a slot is on the list at most once; one
 * that was taken again since it was put there is skipped). */
static struct fmx_conn *slot_take(struct fmx_app *a)
{
	while (a->free_n) {
		struct fmx_conn *c = &a->clients[a->free_ids[a->free_head]];
		a->free_head = (a->free_head + 1) % a->n_clients;
		a->free_n--;
		c->on_free_list = false;
		if (!c->used && !c->report)
			return c;
	}
	return NULL;
}

static void live_add(struct fmx_app *a, struct fmx_conn *c)
{
	c->live_idx = a->n_live;
	a->live[a->n_live++] = c->id;
}

static void live_remove(struct fmx_app *a, struct fmx_conn *c)
{
	uint32_t last = a->live[--a->n_live];
	a->live[c->live_idx] = last;
	a->clients[last].live_idx = c->live_idx;
}

/* The close is reported by fmx_settle() once the multiplexer's current call has returned.
 * The list is a ring with room for every connection: each is on it at most once. */
static void mark_report(struct fmx_conn *c)
{
	struct fmx_app *a = c->side->app;
	c->report = true;
	if (c->on_report_list)
		return;
	uint32_t cap = a->n_clients + a->cfg->n_sessions;
	c->on_report_list = true;
	a->reports[(a->report_head + a->n_reports) % cap] = c;
	a->n_reports++;
}

int fmx_conns_init(struct fmx_app *a)
{
	a->n_clients = fmx_client_slots(a->cfg);
	a->clients = calloc(a->n_clients, sizeof(*a->clients));
	a->free_ids = calloc(a->n_clients, sizeof(*a->free_ids));
	a->live = calloc(a->n_clients, sizeof(*a->live));
	a->reports = calloc(a->n_clients + a->cfg->n_sessions, sizeof(*a->reports));
	a->venues = calloc(a->cfg->n_sessions ? a->cfg->n_sessions : 1, sizeof(*a->venues));
	if (!a->clients || !a->free_ids || !a->live || !a->reports || !a->venues)
		return -1;
	for (uint32_t i = 0; i < a->n_clients; i++) {
		struct fmx_conn *c = &a->clients[i];
		c->kind = FMX_CLIENT;
		c->id = i;
		c->side = a->cs;
		slot_free(a, c);
	}
	for (uint32_t i = 0; i < a->cfg->n_sessions; i++) {
		a->venues[i].kind = FMX_VENUE;
		a->venues[i].id = i;
		a->venues[i].side = a->vs;
	}
	return 0;
}

void fmx_conns_free(struct fmx_app *a)
{
	free(a->clients);
	free(a->free_ids);
	free(a->live);
	free(a->reports);
	free(a->venues);
	a->clients = a->venues = NULL;
	a->free_ids = a->live = NULL;
	a->reports = NULL;
}

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
	struct fmx_app *a = c->side->app;
	backlog_free(c);
	if (abortive)
		dp_tcp_abort(c->side->st, c->h);
	else
		dp_tcp_close(c->side->st, c->h);
	if (c->kind == FMX_CLIENT && c->used)
		live_remove(a, c);
	c->used = false;
	c->closing = false;
	c->established = false;
	c->h = DP_CONN_INVALID;
	slot_free(a, c);
}

/* The connection cannot carry its stream any more (bytes would be lost): reset it and tell
 * the multiplexer once the current call has returned. */
static void conn_fail(struct fmx_conn *c, const char *why)
{
	mark_report(c); /* first: the released slot must not look free */
	snprintf(c->why, sizeof(c->why), "%s", why);
	conn_release(c, true);
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

/* Hands an mbuf chain to the connection's stack, or to its backlog behind what waits there
 * already (the stream's order). The chain is the connection's from now on: 0, or -1 if the
 * connection was reset (the chain freed). */
static int conn_queue(struct fmx_app *a, struct fmx_conn *c, struct rte_mbuf *head)
{
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

/* Copies bytes into an mbuf chain (DP_MBUF_HEADROOM in front of the first segment is left
 * free, as the stack's contract allows) and queues it. 0, or -1 if the connection was reset. */
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
	return conn_queue(a, c, head);
}

/* io.*_send_inplace: [msg, msg + len) lies in the mbuf being handed to the multiplexer
 * (a->rx_m); that mbuf, trimmed to exactly those bytes, is what the connection sends. The
 * bytes in front of msg were the old header (now free headroom), those after it the old
 * trailer's tail or nothing. The mbuf came from the receiving port's pool and may go out on
 * the other port: the stack only attaches indirect mbufs of its own pool to it, and it
 * returns to its own pool when the last reference goes. 0, or -1 if not sent. */
static int conn_send_inplace(struct fmx_app *a, struct fmx_conn *c, const char *msg, size_t len)
{
	struct rte_mbuf *m = a->rx_m;
	const char *buf = m ? (const char *)m->buf_addr : NULL;
	/* Outside a segment call, a second call for the same mbuf, or bytes outside it would
	 * break the contract: the bytes still go out, as a copy. */
	if (m == NULL || a->rx_taken || len == 0 || msg < buf || len > m->buf_len ||
	    (size_t)(msg - buf) > m->buf_len - len)
		return conn_send(a, c, msg, len);
	a->rx_taken = true;
	m->data_off = (uint16_t)(msg - buf);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	m->ol_flags = 0; /* the receive flags are not the transmit's */
	if (conn_queue(a, c, m) != 0)
		return -1;
	a->ctr[FMX_SENT_IN_PLACE]++;
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

/* The client connection the multiplexer may send on, or NULL. */
static struct fmx_conn *client_out(struct fmx_app *a, uint32_t conn)
{
	if (conn >= a->n_clients)
		return NULL;
	struct fmx_conn *c = &a->clients[conn];
	return c->used && !c->closing ? c : NULL;
}

static void io_client_send(void *arg, uint32_t conn, const char *bytes, size_t len)
{
	struct fmx_app *a = arg;
	struct fmx_conn *c = client_out(a, conn);
	if (c != NULL && conn_send(a, c, bytes, len) == 0)
		a->ctr[FMX_BYTES_TO_USERS] += len;
}

static void io_client_send_inplace(void *arg, uint32_t conn, const char *msg, size_t len)
{
	struct fmx_app *a = arg;
	struct fmx_conn *c = client_out(a, conn);
	if (c != NULL && conn_send_inplace(a, c, msg, len) == 0)
		a->ctr[FMX_BYTES_TO_USERS] += len;
}

static void io_client_close(void *arg, uint32_t conn, const char *why)
{
	struct fmx_app *a = arg;
	(void)why; /* the multiplexer logs it */
	if (conn >= a->n_clients)
		return;
	struct fmx_conn *c = &a->clients[conn];
	if (!c->used)
		return;
	/* The multiplexer keeps the id until it hears ctl_mux_client_closed(). */
	mark_report(c);
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
		mark_report(c);
		snprintf(c->why, sizeof(c->why), "cannot open a connection (stack error %d)", rc);
		return;
	}
	c->h = h;
	c->used = true;
	c->closing = false;
	c->established = false;
	dp_tcp_set_user(a->vs->st, h, c);
}

/* The venue connection the multiplexer may send on, or NULL. */
static struct fmx_conn *venue_out(struct fmx_app *a, uint32_t vs)
{
	if (vs >= a->cfg->n_sessions)
		return NULL;
	struct fmx_conn *c = &a->venues[vs];
	return c->used && !c->closing && c->established ? c : NULL;
}

static void io_venue_send(void *arg, uint32_t vs, const char *bytes, size_t len)
{
	struct fmx_app *a = arg;
	struct fmx_conn *c = venue_out(a, vs);
	if (c != NULL && conn_send(a, c, bytes, len) == 0)
		a->ctr[FMX_BYTES_TO_VENUES] += len;
}

static void io_venue_send_inplace(void *arg, uint32_t vs, const char *msg, size_t len)
{
	struct fmx_app *a = arg;
	struct fmx_conn *c = venue_out(a, vs);
	if (c != NULL && conn_send_inplace(a, c, msg, len) == 0)
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
	mark_report(c);
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
		.client_send_inplace = io_client_send_inplace,
		.venue_send_inplace = io_venue_send_inplace,
	};
}

void fmx_settle(struct fmx_app *a)
{
	/* Reporting a close may make the multiplexer close more (a user's failure takes the
	 * venue session down, which logs the other users out): those join the list while it is
	 * being worked off. */
	uint32_t cap = a->n_clients + a->cfg->n_sessions;
	while (a->n_reports) {
		struct fmx_conn *c = a->reports[a->report_head];
		a->report_head = (a->report_head + 1) % cap;
		a->n_reports--;
		c->on_report_list = false;
		if (!c->report)
			continue; /* a venue's new connection attempt replaced it */
		c->report = false;
		if (c->kind == FMX_CLIENT) {
			ctl_mux_client_closed(a->mux, c->id, a->now_ns);
			slot_free(a, c);
		} else {
			ctl_mux_venue_closed(a->mux, c->id, c->why, a->now_ns);
		}
	}
}

/* ------------------------------------------------------------------------------------------
 * Receiving and stack events
 * ---------------------------------------------------------------------------------------- */

/* A received mbuf the multiplexer may rewrite and the stack may then send as it is: one
 * segment, its data in its own buffer (not indirect, not external) and no other reference. */
static inline bool mbuf_in_place_ok(const struct rte_mbuf *m)
{
	return m->next == NULL && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
	       m->data_len > 0;
}

/* Hands every received byte to the multiplexer in order: single writable segments in place,
 * the segments of anything else as bytes. A closing connection's bytes are dropped. Returns
 * mbufs taken. */
static unsigned conn_recv(struct fmx_app *a, struct fmx_conn *c)
{
	unsigned work = 0;
	struct rte_mbuf *bufs[FMX_BURST];
	int n;
	a->lat_from = 1u + c->kind;
	a->lat_rx_tsc = c->side->rx_tsc;
	enum fmx_counter bytes_in = c->kind == FMX_CLIENT ? FMX_BYTES_FROM_USERS :
							    FMX_BYTES_FROM_VENUES;
	while (c->used && (n = dp_tcp_recv(c->side->st, c->h, bufs, FMX_BURST)) > 0) {
		for (int i = 0; i < n; i++) {
			struct rte_mbuf *m = bufs[i];
			/* A callback may have closed the connection half-way. */
			if (c->used && !c->closing && mbuf_in_place_ok(m)) {
				char *p = rte_pktmbuf_mtod(m, char *);
				size_t room = rte_pktmbuf_headroom(m);
				a->ctr[bytes_in] += m->data_len;
				a->ctr[FMX_SEGMENTS_IN_PLACE]++;
				a->rx_m = m;
				a->rx_taken = false;
				if (c->kind == FMX_CLIENT)
					ctl_mux_client_segment(a->mux, c->id, p, m->data_len, room,
							       a->now_ns);
				else
					ctl_mux_venue_segment(a->mux, c->id, p, m->data_len, room,
							      a->now_ns);
				a->rx_m = NULL;
				if (!a->rx_taken)
					rte_pktmbuf_free(m);
				continue;
			}
			for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
				if (!c->used || c->closing)
					break;
				const char *p = rte_pktmbuf_mtod(s, const char *);
				a->ctr[bytes_in] += s->data_len;
				a->ctr[FMX_SEGMENTS_COPIED]++;
				if (c->kind == FMX_CLIENT)
					ctl_mux_client_bytes(a->mux, c->id, p, s->data_len, a->now_ns);
				else
					ctl_mux_venue_bytes(a->mux, c->id, p, s->data_len, a->now_ns);
			}
			rte_pktmbuf_free(m);
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
		struct dp_tcp_info info;
		if (dp_tcp_get_info(st, h, &info) != 0) {
			dp_tcp_abort(st, h);
			continue;
		}
		struct fmx_conn *c = slot_take(a);
		if (c == NULL) {
			a->ctr[FMX_REFUSED_NO_SLOT]++;
			dp_tcp_abort(st, h);
			continue;
		}
		c->h = h;
		c->used = true;
		live_add(a, c);
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
	mark_report(c);
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
	/* Downwards: a connection that finishes closing leaves the dense list by swapping the
	 * last one (already visited) into its place. */
	for (uint32_t i = a->n_live; i-- > 0;) {
		if (i >= a->n_live)
			continue;
		struct fmx_conn *c = &a->clients[a->live[i]];
		if (c->bl_n)
			work += backlog_flush(c);
	}
	for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
		if (a->venues[i].used && a->venues[i].bl_n)
			work += backlog_flush(&a->venues[i]);
	fmx_settle(a);
	return work + fmx_tx_all(a);
}

unsigned fmx_pending_out(const struct fmx_app *a)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < a->n_live; i++)
		n += a->clients[a->live[i]].bl_n;
	for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
		n += a->venues[i].bl_n;
	for (unsigned i = 0; i < a->n_sides; i++)
		n += dp_stack_tx_pending(a->sides[i].st);
	return n;
}

void fmx_release_all(struct fmx_app *a)
{
	while (a->n_live)
		conn_release(&a->clients[a->live[a->n_live - 1]], false);
	for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
		if (a->venues[i].used)
			conn_release(&a->venues[i], false);
}
