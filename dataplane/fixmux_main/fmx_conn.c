/* fixmux_main: the multiplexer's agent: the sides' messages -> ctl_mux, ctl_mux's callbacks ->
 * messages to the sides (fmx_app.h). It never touches a stack or a port; the multiplexer is
 * not thread-safe and runs here only.
 *
 * Receiving: a payload mbuf that is a single directly writable segment is handed to the
 * multiplexer in place (ctl_mux_*_segment); when the multiplexer forwards its message with the
 * header rewritten inside that mbuf (io.*_send_inplace), the mbuf itself goes to the
 * destination's side to be sent, so the body is never copied. Chains and shared mbufs are
 * handed over as bytes (ctl_mux_*_bytes), which the multiplexer copies into its reassembly
 * buffer. What the multiplexer sends otherwise (io.*_send: its own messages, and forwarded
 * messages it could not rewrite in place) is copied into fresh mbufs of the destination
 * port's pool (rte_mempool is safe to use from any lcore).
 *
 * Re-entrancy: the multiplexer answers through callbacks while the agent is inside a
 * ctl_mux_*() call. A close is therefore only marked (fmx_mconn.report) and reported by
 * fmx_settle() once the outer call has returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "fmx_app.h"

const char *const fmx_counter_names[FMX_ALL_COUNTERS] = {
	/* the sides' (enum fmx_side_counter) */
	"tcp_accepted", "tcp_refused_no_slot", "venue_connects", "venue_connect_fails",
	"sends_backlogged", "backlog_overflows", "ring_overloads",
	/* the multiplexer agent's (enum fmx_counter) */
	"bytes_from_users", "bytes_to_users", "bytes_from_venues", "bytes_to_venues",
	"sends_no_mbuf", "segments_in_place", "segments_copied", "sent_in_place", "ring_waits",
};

uint64_t fmx_counter(const struct fmx_app *a, unsigned i)
{
	if (i >= FMX_S__COUNTERS)
		return a->ctr[i - FMX_S__COUNTERS];
	uint64_t n = 0;
	for (unsigned s = 0; s < a->n_sides; s++)
		n += a->sides[s].ctr[i];
	return n;
}

/* Connections not logged on yet (refused logons, strangers) need slots beside the users'
 * configured client sessions. */
#define FMX_SPARE_SLOTS 64u
/* Each ring's size, and the FIFO behind it: the multiplexer's may have to take every message
 * kept for an offline user at once (its Logon delivers them). */
#define FMX_RING_SIZE 16384u
#define FMX_SIDE_FIFO 65536u
#define FMX_MUX_FIFO (2u * CTL_MUX_MAX_PENDING)
/* Side messages taken per iteration: the agent must also serve timers and the other side. */
#define FMX_MUX_BUDGET 1024u

uint32_t fmx_client_slots(const struct ctl_config *cfg)
{
	uint64_t n = FMX_SPARE_SLOTS;
	for (uint32_t u = 0; u < cfg->n_users; u++)
		n += cfg->users[u].n_sessions;
	return n < CTL_MUX_MAX_CONNS ? (uint32_t)n : CTL_MUX_MAX_CONNS;
}

int fmx_conns_init(struct fmx_app *a, char *err, size_t err_cap)
{
	uint32_t nv = a->cfg->n_sessions ? a->cfg->n_sessions : 1;
	a->n_clients = fmx_client_slots(a->cfg);
	a->clients = calloc(a->n_clients, sizeof(*a->clients));
	a->venues = calloc(nv, sizeof(*a->venues));
	a->mclients = calloc(a->n_clients, sizeof(*a->mclients));
	a->mvenues = calloc(nv, sizeof(*a->mvenues));
	a->reports = calloc(a->n_clients + nv, sizeof(*a->reports));
	struct fmx_side *cs = a->cs;
	cs->free_ids = calloc(a->n_clients, sizeof(*cs->free_ids));
	cs->live = calloc(a->n_clients, sizeof(*cs->live));
	if (!a->clients || !a->venues || !a->mclients || !a->mvenues || !a->reports ||
	    !cs->free_ids || !cs->live) {
		snprintf(err, err_cap, "out of memory (%u client connection slots)", a->n_clients);
		return -1;
	}
	for (uint32_t i = 0; i < a->n_clients; i++) {
		struct fmx_conn *c = &a->clients[i];
		c->kind = FMX_CLIENT;
		c->id = i;
		c->side = cs;
		c->on_free_list = true;
		cs->free_ids[i] = i;
	}
	cs->free_n = a->n_clients;
	for (uint32_t i = 0; i < a->cfg->n_sessions; i++) {
		a->venues[i].kind = FMX_VENUE;
		a->venues[i].id = i;
		a->venues[i].side = a->vs;
	}
	for (unsigned i = 0; i < a->n_sides; i++) {
		struct fmx_side *s = &a->sides[i];
		char name[32];
		snprintf(name, sizeof(name), "fmx_to_mux_%u", i);
		if (fmx_outbox_init(&s->to_mux, name, FMX_RING_SIZE,
				    FMX_SIDE_FIFO + a->n_clients + nv, err, err_cap) != 0)
			return -1;
		snprintf(name, sizeof(name), "fmx_to_side_%u", i);
		if (fmx_outbox_init(&s->to_side, name, FMX_RING_SIZE, FMX_MUX_FIFO, err,
				    err_cap) != 0)
			return -1;
	}
	return 0;
}

void fmx_conns_free(struct fmx_app *a)
{
	for (unsigned i = 0; i < a->n_sides; i++) {
		fmx_outbox_free(&a->sides[i].to_mux);
		fmx_outbox_free(&a->sides[i].to_side);
	}
	free(a->cs->free_ids);
	free(a->cs->live);
	free(a->clients);
	free(a->venues);
	free(a->mclients);
	free(a->mvenues);
	free(a->reports);
}

/* ------------------------------------------------------------------------------------------
 * Toward the sides
 * ---------------------------------------------------------------------------------------- */

/* Internal latency: a copy of what arrived on one side, sent toward the other side within
 * the multiplexer call that the received bytes made, carries the TSC of the RX burst that
 * brought the message's last byte; the destination side records the time when it hands the
 * copy to its stack (a reply to the sender itself, such as a reject, is not a forwarded copy
 * and carries 0). */
static inline uint64_t lat_tsc(const struct fmx_app *a, enum fmx_kind to)
{
	return a->lat_from == 1u + (to == FMX_VENUE ? FMX_CLIENT : FMX_VENUE) ? a->lat_rx_tsc : 0;
}

static void mark_report(struct fmx_app *a, struct fmx_mconn *mc)
{
	mc->report = true;
	if (mc->on_report_list)
		return;
	uint32_t cap = a->n_clients + (a->cfg->n_sessions ? a->cfg->n_sessions : 1);
	mc->on_report_list = true;
	a->reports[(a->report_head + a->n_reports) % cap] = mc;
	a->n_reports++;
}

static struct fmx_side *side_for(struct fmx_app *a, enum fmx_kind k)
{
	return k == FMX_CLIENT ? a->cs : a->vs;
}

static bool post_cmd(struct fmx_app *a, enum fmx_kind k, struct fmx_msg *m)
{
	struct fmx_outbox *o = &side_for(a, k)->to_side;
	bool waited = o->n > 0;
	m->kind = (uint8_t)k;
	if (!fmx_post(o, m))
		return false;
	a->posts++;
	if (waited || o->n > 0)
		a->ctr[FMX_RING_WAITS]++;
	return true;
}

/* The connection's stream has a hole (a message could not be queued): the multiplexer is told
 * it failed, and the side is asked to close it (a FIN after what went before; the command
 * queue being full, the side learns it when there is room again - the multiplexer ignores the
 * connection meanwhile). */
static void mux_conn_failed(struct fmx_app *a, enum fmx_kind k, uint32_t id)
{
	struct fmx_mconn *mc = k == FMX_CLIENT ? &a->mclients[id] : &a->mvenues[id];
	if (mc->closing)
		return;
	mc->closing = true;
	snprintf(mc->why, sizeof(mc->why), "fixmux overloaded: send queue full");
	mark_report(a, mc);
}

/* Queues an mbuf chain toward the connection's side. */
static int send_mbuf(struct fmx_app *a, enum fmx_kind k, uint32_t id, struct rte_mbuf *m)
{
	struct fmx_msg msg = {.type = FMX_CMD_SEND, .id = id, .m = m, .tsc = lat_tsc(a, k)};
	if (k == FMX_VENUE)
		msg.gen = a->mvenues[id].gen;
	if (!post_cmd(a, k, &msg)) {
		rte_pktmbuf_free(m);
		mux_conn_failed(a, k, id);
		return -1;
	}
	return 0;
}

/* Copies bytes into an mbuf chain of the destination port's pool (DP_MBUF_HEADROOM in front
 * of the first segment is left free, as the stack's contract allows) and queues it. */
static int send_copy(struct fmx_app *a, enum fmx_kind k, uint32_t id, const char *bytes,
		     size_t len)
{
	struct rte_mempool *pool = side_for(a, k)->port.pool;
	struct rte_mbuf *head = NULL;
	while (len > 0) {
		struct rte_mbuf *m = dp_mbuf_alloc_tx(pool);
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
			mux_conn_failed(a, k, id);
			return -1;
		}
		if (head == NULL)
			head = m;
	}
	return head == NULL ? 0 : send_mbuf(a, k, id, head);
}

/* io.*_send_inplace: [msg, msg + len) lies in the mbuf being handed to the multiplexer
 * (a->rx_m); that mbuf, trimmed to exactly those bytes, is what the connection sends. The
 * bytes in front of msg were the old header (now free headroom), those after it the old
 * trailer's tail or nothing. The mbuf came from the receiving port's pool and may go out on
 * the other port: the stack only attaches indirect mbufs of its own pool to it (it needs no
 * headroom in it, dp_stack.h), and it returns to its own pool when the last reference goes. */
static int send_inplace(struct fmx_app *a, enum fmx_kind k, uint32_t id, const char *msg,
			size_t len)
{
	struct rte_mbuf *m = a->rx_m;
	const char *buf = m ? (const char *)m->buf_addr : NULL;
	/* Outside a segment call, a second call for the same mbuf, or bytes outside it would
	 * break the contract: the bytes still go out, as a copy. */
	if (m == NULL || a->rx_taken || len == 0 || msg < buf || len > m->buf_len ||
	    (size_t)(msg - buf) > m->buf_len - len)
		return send_copy(a, k, id, msg, len);
	a->rx_taken = true;
	m->data_off = (uint16_t)(msg - buf);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	m->ol_flags = 0; /* the receive flags are not the transmit's */
	if (send_mbuf(a, k, id, m) != 0)
		return -1;
	a->ctr[FMX_SENT_IN_PLACE]++;
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * The multiplexer's callbacks
 * ---------------------------------------------------------------------------------------- */

static bool client_ok(struct fmx_app *a, uint32_t conn)
{
	return conn < a->n_clients && a->mclients[conn].open && !a->mclients[conn].closing;
}

static bool venue_ok(struct fmx_app *a, uint32_t vs)
{
	return vs < a->cfg->n_sessions && a->mvenues[vs].open && !a->mvenues[vs].closing &&
	       a->mvenues[vs].established;
}

static void io_client_send(void *arg, uint32_t conn, const char *bytes, size_t len)
{
	struct fmx_app *a = arg;
	if (client_ok(a, conn) && send_copy(a, FMX_CLIENT, conn, bytes, len) == 0)
		a->ctr[FMX_BYTES_TO_USERS] += len;
}

static void io_client_send_inplace(void *arg, uint32_t conn, const char *msg, size_t len)
{
	struct fmx_app *a = arg;
	if (client_ok(a, conn) && send_inplace(a, FMX_CLIENT, conn, msg, len) == 0)
		a->ctr[FMX_BYTES_TO_USERS] += len;
}

static void io_client_close(void *arg, uint32_t conn, const char *why)
{
	struct fmx_app *a = arg;
	(void)why; /* the multiplexer logs it */
	if (conn >= a->n_clients)
		return;
	struct fmx_mconn *mc = &a->mclients[conn];
	if (!mc->open || mc->closing)
		return;
	mc->closing = true;
	/* The multiplexer keeps the id until it hears ctl_mux_client_closed(). */
	mark_report(a, mc);
	struct fmx_msg m = {.type = FMX_CMD_CLOSE, .id = conn};
	post_cmd(a, FMX_CLIENT, &m);
}

static void io_venue_connect(void *arg, uint32_t vs, uint32_t addr, uint16_t port)
{
	struct fmx_app *a = arg;
	if (vs >= a->cfg->n_sessions)
		return;
	struct fmx_mconn *mc = &a->mvenues[vs];
	/* A new attempt replaces whatever the old connection had left to say. */
	mc->gen++;
	mc->open = true;
	mc->closing = false;
	mc->established = false;
	mc->report = false;
	struct fmx_msg m = {.type = FMX_CMD_CONNECT, .id = vs, .gen = mc->gen, .arg = addr,
			    .port = port};
	if (!post_cmd(a, FMX_VENUE, &m)) {
		snprintf(mc->why, sizeof(mc->why), "fixmux overloaded: cannot open a connection");
		mark_report(a, mc);
	}
}

static void io_venue_send(void *arg, uint32_t vs, const char *bytes, size_t len)
{
	struct fmx_app *a = arg;
	if (venue_ok(a, vs) && send_copy(a, FMX_VENUE, vs, bytes, len) == 0)
		a->ctr[FMX_BYTES_TO_VENUES] += len;
}

static void io_venue_send_inplace(void *arg, uint32_t vs, const char *msg, size_t len)
{
	struct fmx_app *a = arg;
	if (venue_ok(a, vs) && send_inplace(a, FMX_VENUE, vs, msg, len) == 0)
		a->ctr[FMX_BYTES_TO_VENUES] += len;
}

/* The venue connection is busy when its backlog is nearly full: the margin leaves room for
 * the session's own messages (heartbeats, resend answers) and for the message in hand. The
 * side publishes the backlog's length; what is still in the ring toward it counts too. */
#define FMX_VENUE_BUSY_MARGIN 16

static bool io_venue_busy(void *arg, uint32_t vs)
{
	const struct fmx_app *a = arg;
	if (vs >= a->cfg->n_sessions)
		return false;
	uint32_t bl = atomic_load_explicit(&a->venues[vs].bl_pub, memory_order_relaxed);
	return bl >= FMX_BACKLOG - FMX_VENUE_BUSY_MARGIN;
}

static void io_venue_close(void *arg, uint32_t vs, const char *why)
{
	struct fmx_app *a = arg;
	if (vs >= a->cfg->n_sessions)
		return;
	struct fmx_mconn *mc = &a->mvenues[vs];
	if (!mc->open || mc->closing)
		return;
	mc->closing = true;
	snprintf(mc->why, sizeof(mc->why), "%s", why ? why : "closed by fixmux");
	mark_report(a, mc);
	struct fmx_msg m = {.type = FMX_CMD_CLOSE, .id = vs, .gen = mc->gen};
	post_cmd(a, FMX_VENUE, &m);
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

static void release_slot(struct fmx_app *a, uint32_t id)
{
	struct fmx_mconn *mc = &a->mclients[id];
	memset(mc, 0, sizeof(*mc));
	struct fmx_msg m = {.type = FMX_CMD_RELEASE, .id = id};
	post_cmd(a, FMX_CLIENT, &m);
}

void fmx_settle(struct fmx_app *a)
{
	/* Reporting a close may make the multiplexer close more (a user's failure takes the
	 * venue session down, which logs the other users out): those join the ring while it is
	 * being worked off. */
	uint32_t cap = a->n_clients + (a->cfg->n_sessions ? a->cfg->n_sessions : 1);
	while (a->n_reports) {
		struct fmx_mconn *mc = a->reports[a->report_head];
		a->report_head = (a->report_head + 1) % cap;
		a->n_reports--;
		mc->on_report_list = false;
		if (!mc->report)
			continue; /* a venue's new connection attempt replaced it */
		mc->report = false;
		if (mc >= a->mclients && mc < a->mclients + a->n_clients) {
			uint32_t id = (uint32_t)(mc - a->mclients);
			mc->open = false;
			a->n_open--;
			ctl_mux_client_closed(a->mux, id, a->now_ns);
			if (mc->side_gone)
				release_slot(a, id);
		} else {
			uint32_t vs = (uint32_t)(mc - a->mvenues);
			mc->open = false;
			ctl_mux_venue_closed(a->mux, vs, mc->why, a->now_ns);
		}
	}
}

/* ------------------------------------------------------------------------------------------
 * The sides' messages
 * ---------------------------------------------------------------------------------------- */

static const char *close_reason(const struct fmx_msg *m, char *buf, size_t cap)
{
	switch (m->arg) {
	case FMX_WHY_STACK:
		switch (m->err) {
		case DP_TCP_ERESET:
			return "connection reset by the peer";
		case DP_TCP_ETIMEDOUT:
			return "connection timed out";
		case DP_TCP_EREFUSED:
			return "connection refused";
		default:
			return "connection closed by the peer";
		}
	case FMX_WHY_SEND_FAILED:
		return "connection failed while sending";
	case FMX_WHY_BACKLOG_FULL:
		return "peer not reading: send backlog full";
	case FMX_WHY_NO_MBUF:
		return "out of mbufs while sending";
	case FMX_WHY_CONNECT_FAILED:
		snprintf(buf, cap, "cannot open a connection (stack error %d)", m->err);
		return buf;
	case FMX_WHY_OVERLOAD:
		return "fixmux overloaded: receive queue full";
	default:
		return "connection closed by the peer";
	}
}

static inline bool mbuf_in_place_ok(const struct rte_mbuf *m)
{
	return m->next == NULL && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
	       m->data_len > 0;
}

/* Hands a received mbuf to the multiplexer: a single writable segment in place, the segments
 * of anything else as bytes. */
static void mux_data(struct fmx_app *a, const struct fmx_msg *msg, struct fmx_mconn *mc)
{
	struct rte_mbuf *m = msg->m;
	bool client = msg->kind == FMX_CLIENT;
	enum fmx_counter bytes_in = client ? FMX_BYTES_FROM_USERS : FMX_BYTES_FROM_VENUES;
	a->lat_from = 1u + msg->kind;
	a->lat_rx_tsc = msg->tsc;
	if (mbuf_in_place_ok(m)) {
		char *p = rte_pktmbuf_mtod(m, char *);
		size_t room = rte_pktmbuf_headroom(m);
		a->ctr[bytes_in] += m->data_len;
		a->ctr[FMX_SEGMENTS_IN_PLACE]++;
		a->rx_m = m;
		a->rx_taken = false;
		if (client)
			ctl_mux_client_segment(a->mux, msg->id, p, m->data_len, room, a->now_ns);
		else
			ctl_mux_venue_segment(a->mux, msg->id, p, m->data_len, room, a->now_ns);
		a->rx_m = NULL;
		if (!a->rx_taken)
			rte_pktmbuf_free(m);
	} else {
		for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
			/* A callback may have closed the connection half-way. */
			if (!mc->open || mc->closing)
				break;
			const char *p = rte_pktmbuf_mtod(s, const char *);
			a->ctr[bytes_in] += s->data_len;
			a->ctr[FMX_SEGMENTS_COPIED]++;
			if (client)
				ctl_mux_client_bytes(a->mux, msg->id, p, s->data_len, a->now_ns);
			else
				ctl_mux_venue_bytes(a->mux, msg->id, p, s->data_len, a->now_ns);
		}
		rte_pktmbuf_free(m);
	}
	a->lat_from = 0;
}

static void mux_client_msg(struct fmx_app *a, const struct fmx_msg *m)
{
	if (m->id >= a->n_clients) {
		rte_pktmbuf_free(m->m);
		return;
	}
	struct fmx_mconn *mc = &a->mclients[m->id];
	switch (m->type) {
	case FMX_EV_ACCEPTED:
		memset(mc, 0, sizeof(*mc));
		mc->open = true;
		a->n_open++;
		ctl_mux_client_accepted(a->mux, m->id, m->arg, a->now_ns);
		break;
	case FMX_EV_DATA:
		if (mc->open && !mc->closing)
			mux_data(a, m, mc);
		else
			rte_pktmbuf_free(m->m);
		break;
	case FMX_EV_CLOSED:
		mc->side_gone = true;
		if (mc->open)
			mark_report(a, mc); /* its release follows the report */
		else
			release_slot(a, m->id);
		break;
	default:
		rte_pktmbuf_free(m->m);
		break;
	}
}

static void mux_venue_msg(struct fmx_app *a, const struct fmx_msg *m)
{
	if (m->id >= a->cfg->n_sessions) {
		rte_pktmbuf_free(m->m);
		return;
	}
	struct fmx_mconn *mc = &a->mvenues[m->id];
	/* Events of an earlier attempt, or of a connection the multiplexer closed already. */
	bool current = m->gen == mc->gen && mc->open && !mc->closing;
	switch (m->type) {
	case FMX_EV_CONNECTED:
		if (current && !mc->established) {
			mc->established = true;
			ctl_mux_venue_connected(a->mux, m->id, a->now_ns);
		}
		break;
	case FMX_EV_DATA:
		if (current)
			mux_data(a, m, mc);
		else
			rte_pktmbuf_free(m->m);
		break;
	case FMX_EV_CLOSED:
		if (current) {
			char buf[FMX_WHY_MAX];
			snprintf(mc->why, sizeof(mc->why), "%s", close_reason(m, buf, sizeof(buf)));
			mc->closing = true;
			mark_report(a, mc);
		}
		break;
	default:
		rte_pktmbuf_free(m->m);
		break;
	}
}

/* While commands wait for room toward a side, input waits too: the multiplexer's answers
 * would only pile up. */
static bool mux_blocked(const struct fmx_app *a)
{
	for (unsigned i = 0; i < a->n_sides; i++)
		if (a->sides[i].to_side.n)
			return true;
	return false;
}

unsigned fmx_mux_work(struct fmx_app *a)
{
	struct fmx_msg msgs[FMX_BURST];
	unsigned work = fmx_mux_flush(a);
	for (unsigned i = 0; i < a->n_sides; i++) {
		struct fmx_side *s = &a->sides[i];
		unsigned n;
		while (work < FMX_MUX_BUDGET && !mux_blocked(a) &&
		       (n = fmx_take(&s->to_mux, msgs, FMX_BURST)) > 0) {
			for (unsigned k = 0; k < n; k++) {
				if (msgs[k].kind == FMX_CLIENT)
					mux_client_msg(a, &msgs[k]);
				else
					mux_venue_msg(a, &msgs[k]);
				fmx_settle(a);
			}
			work += n;
		}
	}
	return work + fmx_mux_flush(a);
}

unsigned fmx_mux_flush(struct fmx_app *a)
{
	unsigned work = 0;
	for (unsigned i = 0; i < a->n_sides; i++)
		work += fmx_outbox_flush(&a->sides[i].to_side);
	return work;
}

unsigned fmx_pending_out(const struct fmx_app *a)
{
	unsigned n = 0;
	for (unsigned i = 0; i < a->n_sides; i++) {
		const struct fmx_side *s = &a->sides[i];
		n += fmx_outbox_count(&s->to_side);
		n += atomic_load_explicit(&s->pending_pub, memory_order_acquire);
	}
	return n;
}
