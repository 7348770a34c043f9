/* fixmux_main: a side's agent (fmx_app.h): one DPDK port and its TCP/IP stack, run by one
 * lcore. It is the only code that calls dp_tcp_*() and the port. What the stack reports
 * (accepted and opened connections, payload mbufs, closes) goes to the multiplexer's agent as
 * messages; what the multiplexer wants (send, close, connect, release a slot) comes back as
 * messages. The same code runs whether the side has an lcore of its own or shares the main
 * lcore with the multiplexer agent.
 *
 * Lifetimes. A client slot is taken at accept and announced (FMX_EV_ACCEPTED); the side ends
 * the lifetime with exactly one FMX_EV_CLOSED (peer's FIN or reset, a failed send, or the
 * multiplexer's close); the multiplexer answers that with FMX_CMD_RELEASE, its last message
 * about the slot, and only then, with the handle given back too, the slot is free again. A
 * venue session's connection attempts are numbered by the multiplexer (gen): events carry
 * their attempt's number, so those of an older attempt still in flight are recognised.
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "fmx_app.h"

static inline void bl_publish(struct fmx_conn *c)
{
	atomic_store_explicit(&c->bl_pub, c->bl_n, memory_order_relaxed);
}

static void backlog_free(struct fmx_side *s, struct fmx_conn *c)
{
	(void)s;
	while (c->bl_n) {
		rte_pktmbuf_free(c->bl[c->bl_head]);
		c->bl_head = (c->bl_head + 1) % FMX_BACKLOG;
		c->bl_n--;
	}
	c->bl_head = 0;
	bl_publish(c);
}

/* ------------------------------------------------------------------------------------------
 * Client slots: a FIFO of free ones, a dense list of those in use
 * ---------------------------------------------------------------------------------------- */

static void slot_free(struct fmx_side *s, struct fmx_conn *c)
{
	struct fmx_app *a = s->app;
	if (c->kind != FMX_CLIENT || c->used || c->mux_has || c->on_free_list)
		return;
	c->on_free_list = true;
	s->free_ids[(s->free_head + s->free_n) % a->n_clients] = c->id;
	s->free_n++;
}

static struct fmx_conn *slot_take(struct fmx_side *s)
{
	struct fmx_app *a = s->app;
	while (s->free_n) {
		struct fmx_conn *c = &a->clients[s->free_ids[s->free_head]];
		s->free_head = (s->free_head + 1) % a->n_clients;
		s->free_n--;
		c->on_free_list = false;
		if (!c->used && !c->mux_has)
			return c;
	}
	return NULL;
}

static void live_add(struct fmx_side *s, struct fmx_conn *c)
{
	c->live_idx = s->n_live;
	s->live[s->n_live++] = c->id;
}

static void live_remove(struct fmx_side *s, struct fmx_conn *c)
{
	uint32_t last = s->live[--s->n_live];
	s->live[c->live_idx] = last;
	s->app->clients[last].live_idx = c->live_idx;
}

/* ------------------------------------------------------------------------------------------
 * Connections
 * ---------------------------------------------------------------------------------------- */

/* Gives the handle back to the stack: an orderly FIN after what is queued, or a reset. */
static void conn_release(struct fmx_side *s, struct fmx_conn *c, bool abortive)
{
	backlog_free(s, c);
	if (abortive)
		dp_tcp_abort(s->st, c->h);
	else
		dp_tcp_close(s->st, c->h);
	if (c->kind == FMX_CLIENT && c->used)
		live_remove(s, c);
	c->used = false;
	c->closing = false;
	c->established = false;
	c->h = DP_CONN_INVALID;
	slot_free(s, c);
}

/* Tells the multiplexer the lifetime is over (once). */
static void conn_gone(struct fmx_side *s, struct fmx_conn *c, enum fmx_why why, int err)
{
	if (c->gone_posted)
		return;
	c->gone_posted = true;
	struct fmx_msg m = {.type = FMX_EV_CLOSED, .kind = (uint8_t)c->kind, .id = c->id,
			    .gen = c->gen, .arg = why, .err = err};
	/* The FIFO holds every connection's close several times over; failing here would mean
	 * the multiplexer's agent has stopped. */
	fmx_post(&s->to_mux, &m);
}

/* The connection cannot carry its stream any more (bytes would be lost): reset it. */
static void conn_fail(struct fmx_side *s, struct fmx_conn *c, enum fmx_why why)
{
	conn_release(s, c, true);
	conn_gone(s, c, why, 0);
}

/* FIN once the backlog is out; a venue connection still opening is reset. */
static void conn_close(struct fmx_side *s, struct fmx_conn *c)
{
	if (!c->used || c->closing)
		return;
	if (!c->established && c->kind == FMX_VENUE) {
		conn_release(s, c, true);
		return;
	}
	c->closing = true;
	if (c->bl_n == 0)
		conn_release(s, c, false);
}

/* Sends the backlog in order; stops at the first refusal. */
static unsigned backlog_flush(struct fmx_side *s, struct fmx_conn *c)
{
	unsigned work = 0;
	while (c->bl_n) {
		int rc = dp_tcp_send(s->st, c->h, c->bl[c->bl_head]);
		if (rc == DP_TCP_EAGAIN)
			break;
		if (rc != DP_TCP_OK) {
			conn_fail(s, c, FMX_WHY_SEND_FAILED);
			return work;
		}
		c->bl_head = (c->bl_head + 1) % FMX_BACKLOG;
		c->bl_n--;
		work++;
	}
	bl_publish(c);
	if (c->bl_n == 0 && c->closing)
		conn_release(s, c, false);
	return work;
}

/* Hands an mbuf chain to the stack, or to the backlog behind what waits there already (the
 * stream's order). The chain is the connection's from now on: true, or false if the
 * connection was reset. */
static bool conn_queue(struct fmx_side *s, struct fmx_conn *c, struct rte_mbuf *m)
{
	if (c->bl_n == 0) {
		int rc = dp_tcp_send(s->st, c->h, m);
		if (rc == DP_TCP_OK)
			return true;
		if (rc != DP_TCP_EAGAIN) {
			rte_pktmbuf_free(m);
			conn_fail(s, c, FMX_WHY_SEND_FAILED);
			return false;
		}
	}
	if (c->bl_n == FMX_BACKLOG) {
		rte_pktmbuf_free(m);
		s->ctr[FMX_S_BACKLOG_OVERFLOWS]++;
		conn_fail(s, c, FMX_WHY_BACKLOG_FULL);
		return false;
	}
	c->bl[(c->bl_head + c->bl_n) % FMX_BACKLOG] = m;
	c->bl_n++;
	bl_publish(c);
	s->ctr[FMX_S_BACKLOGGED]++;
	return true;
}

/* ------------------------------------------------------------------------------------------
 * The multiplexer's commands
 * ---------------------------------------------------------------------------------------- */

static struct fmx_conn *slot_of(struct fmx_side *s, const struct fmx_msg *m)
{
	struct fmx_app *a = s->app;
	if (m->kind == FMX_CLIENT)
		return s->clients && m->id < a->n_clients ? &a->clients[m->id] : NULL;
	return s->venues && m->id < a->cfg->n_sessions ? &a->venues[m->id] : NULL;
}

static void cmd_connect(struct fmx_side *s, struct fmx_conn *c, const struct fmx_msg *m)
{
	/* A new attempt replaces whatever the old connection had left to say. */
	if (c->used)
		conn_release(s, c, true);
	c->gen = m->gen;
	c->gone_posted = false;
	int rc = 0;
	dp_conn_t h = dp_tcp_connect(s->st, m->arg, m->port, 0, &rc);
	s->ctr[FMX_S_VENUE_CONNECTS]++;
	if (h == DP_CONN_INVALID) {
		s->ctr[FMX_S_VENUE_CONNECT_FAILS]++;
		conn_gone(s, c, FMX_WHY_CONNECT_FAILED, rc);
		return;
	}
	c->h = h;
	c->used = true;
	c->closing = false;
	c->established = false;
	dp_tcp_set_user(s->st, h, c);
}

static void side_command(struct fmx_side *s, const struct fmx_msg *m)
{
	struct fmx_conn *c = slot_of(s, m);
	if (c == NULL) { /* cannot happen: the multiplexer's agent checks ids */
		rte_pktmbuf_free(m->m);
		return;
	}
	bool current = c->kind == FMX_CLIENT || c->gen == m->gen;
	switch (m->type) {
	case FMX_CMD_SEND:
		if (!current || !c->used || c->closing || c->gone_posted ||
		    (c->kind == FMX_VENUE && !c->established))
			rte_pktmbuf_free(m->m); /* the connection ended meanwhile */
		else if (conn_queue(s, c, m->m) && m->tsc != 0)
			/* a forwarded copy: internal latency until it is the stack's (or waits in
			 * the backlog) */
			fmx_hist_record(&s->lat[c->kind == FMX_VENUE ? FMX_LAT_CLIENT_TO_VENUE :
								   FMX_LAT_VENUE_TO_CLIENT],
					rte_rdtsc() - m->tsc);
		break;
	case FMX_CMD_CLOSE:
		if (current)
			conn_close(s, c);
		if (c->kind == FMX_CLIENT)
			conn_gone(s, c, FMX_WHY_CLOSED, 0);
		break;
	case FMX_CMD_CONNECT:
		if (c->kind == FMX_VENUE)
			cmd_connect(s, c, m);
		break;
	case FMX_CMD_RELEASE:
		c->mux_has = false;
		slot_free(s, c);
		break;
	default:
		break;
	}
}

static unsigned side_commands(struct fmx_side *s)
{
	struct fmx_msg msgs[FMX_BURST];
	unsigned n, work = 0;
	while ((n = fmx_take(&s->to_side, msgs, FMX_BURST)) > 0) {
		for (unsigned i = 0; i < n; i++)
			side_command(s, &msgs[i]);
		work += n;
	}
	return work;
}

/* ------------------------------------------------------------------------------------------
 * Stack events
 * ---------------------------------------------------------------------------------------- */

/* Every received mbuf goes to the multiplexer as it is; a closing connection's are dropped. */
static void conn_recv(struct fmx_side *s, struct fmx_conn *c)
{
	struct rte_mbuf *bufs[FMX_BURST];
	int n;
	while (c->used && (n = dp_tcp_recv(s->st, c->h, bufs, FMX_BURST)) > 0) {
		for (int i = 0; i < n; i++) {
			if (!c->used || c->closing || c->gone_posted) {
				rte_pktmbuf_free(bufs[i]);
				continue;
			}
			struct fmx_msg m = {.type = FMX_EV_DATA, .kind = (uint8_t)c->kind,
					    .id = c->id, .gen = c->gen, .m = bufs[i],
					    .tsc = s->rx_tsc};
			if (!fmx_post(&s->to_mux, &m)) {
				rte_pktmbuf_free(bufs[i]);
				s->ctr[FMX_S_OVERLOAD]++;
				conn_fail(s, c, FMX_WHY_OVERLOAD);
			}
		}
	}
}

static void accept_all(struct fmx_side *s)
{
	struct fmx_app *a = s->app;
	dp_conn_t h;
	while ((h = dp_tcp_accept(s->st, a->listener)) != DP_CONN_INVALID) {
		s->ctr[FMX_S_ACCEPTED]++;
		struct dp_tcp_info info;
		if (dp_tcp_get_info(s->st, h, &info) != 0) {
			dp_tcp_abort(s->st, h);
			continue;
		}
		struct fmx_conn *c = slot_take(s);
		if (c == NULL) {
			s->ctr[FMX_S_REFUSED_NO_SLOT]++;
			dp_tcp_abort(s->st, h);
			continue;
		}
		c->h = h;
		c->used = true;
		c->mux_has = true;
		c->gone_posted = false;
		c->closing = false;
		c->established = true;
		live_add(s, c);
		dp_tcp_set_user(s->st, h, c);
		struct fmx_msg m = {.type = FMX_EV_ACCEPTED, .kind = FMX_CLIENT, .id = c->id,
				    .arg = info.remote_ip};
		if (!fmx_post(&s->to_mux, &m)) {
			s->ctr[FMX_S_OVERLOAD]++;
			c->mux_has = false; /* never announced */
			conn_release(s, c, true);
		}
	}
}

static void on_event(struct fmx_side *s, const struct dp_event *ev)
{
	struct fmx_conn *c = ev->user;
	/* Slots are reused once a handle is given back: an event for the old handle must not
	 * reach the new connection. */
	if (c == NULL || !c->used || c->h != ev->conn)
		return;
	if (ev->flags & DP_EV_CONNECTED && c->kind == FMX_VENUE && !c->established) {
		c->established = true;
		struct fmx_msg m = {.type = FMX_EV_CONNECTED, .kind = FMX_VENUE, .id = c->id,
				    .gen = c->gen};
		fmx_post(&s->to_mux, &m);
	}
	if (ev->flags & (DP_EV_READABLE | DP_EV_PEER_FIN | DP_EV_CLOSED))
		conn_recv(s, c);
	if (!c->used || c->h != ev->conn)
		return;
	if (ev->flags & DP_EV_WRITABLE)
		backlog_flush(s, c);
	if (!c->used || c->h != ev->conn)
		return;
	bool closed = ev->flags & DP_EV_CLOSED;
	bool fin = (ev->flags & DP_EV_PEER_FIN) || dp_tcp_peer_closed(s->st, c->h);
	if (!closed && !fin)
		return;
	if (c->closing) {
		/* We closed it first; the peer's FIN or reset ends it. */
		if (closed)
			conn_release(s, c, false);
		return;
	}
	if (c->kind == FMX_VENUE && !c->established)
		s->ctr[FMX_S_VENUE_CONNECT_FAILS]++;
	conn_gone(s, c, closed ? FMX_WHY_STACK : FMX_WHY_PEER_FIN, closed ? ev->err : 0);
	if (closed)
		conn_release(s, c, false);
	else
		conn_close(s, c); /* answer the peer's FIN with ours after what is queued */
}

static unsigned side_events(struct fmx_side *s)
{
	struct dp_event ev[FMX_BURST];
	unsigned n, work = 0;
	while ((n = dp_stack_events(s->st, ev, FMX_BURST)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (s->clients && ev[i].conn == s->app->listener)
				accept_all(s);
			else
				on_event(s, &ev[i]);
		}
		work += n;
	}
	return work;
}

/* ------------------------------------------------------------------------------------------
 * The agent
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

/* Shutdown: backlogs otherwise move on DP_EV_WRITABLE only. */
static unsigned side_flush_backlogs(struct fmx_side *s)
{
	struct fmx_app *a = s->app;
	unsigned work = 0;
	if (s->clients) {
		/* Downwards: a connection that finishes closing leaves the dense list by swapping
		 * the last one (already visited) into its place. */
		for (uint32_t i = s->n_live; i-- > 0;) {
			if (i >= s->n_live)
				continue;
			struct fmx_conn *c = &a->clients[s->live[i]];
			if (c->bl_n)
				work += backlog_flush(s, c);
		}
	}
	if (s->venues)
		for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
			if (a->venues[i].used && a->venues[i].bl_n)
				work += backlog_flush(s, &a->venues[i]);
	return work;
}

static void side_publish(struct fmx_side *s)
{
	struct fmx_app *a = s->app;
	uint32_t n = dp_stack_tx_pending(s->st) + s->to_mux.n;
	if (atomic_load_explicit(&a->flush_sides, memory_order_relaxed)) {
		/* Only counted while shutting down, when it matters. */
		if (s->clients)
			for (uint32_t i = 0; i < s->n_live; i++)
				n += a->clients[s->live[i]].bl_n;
		if (s->venues)
			for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
				n += a->venues[i].bl_n;
	}
	atomic_store_explicit(&s->pending_pub, n, memory_order_release);
}

unsigned fmx_side_work(void *arg, uint64_t now_us)
{
	struct fmx_side *s = arg;
	struct rte_mbuf *pkts[FMX_BURST];
	unsigned work = side_commands(s);
	uint16_t n = dp_port_rx(&s->port, 0, pkts, FMX_BURST);
	if (n) {
		s->rx_tsc = rte_rdtsc();
		work += dp_stack_rx_burst(s->st, now_us, pkts, n);
	}
	work += dp_stack_poll(s->st, now_us);
	work += side_events(s);
	if (atomic_load_explicit(&s->app->flush_sides, memory_order_relaxed))
		work += side_flush_backlogs(s);
	work += fmx_outbox_flush(&s->to_mux);
	work += side_tx(s);
	side_publish(s);
	return work;
}

unsigned fmx_side_out_work(void *arg, uint64_t now_us)
{
	struct fmx_side *s = arg;
	(void)now_us;
	unsigned work = side_commands(s);
	work += fmx_outbox_flush(&s->to_mux);
	work += side_tx(s);
	side_publish(s);
	return work;
}

static void free_msgs(struct fmx_outbox *o)
{
	struct fmx_msg msgs[FMX_BURST];
	unsigned n;
	fmx_outbox_flush(o);
	while ((n = fmx_take(o, msgs, FMX_BURST)) > 0) {
		for (unsigned i = 0; i < n; i++)
			rte_pktmbuf_free(msgs[i].m); /* NULL is fine */
		fmx_outbox_flush(o);
	}
	for (; o->n; o->n--, o->head = (o->head + 1) % o->cap)
		rte_pktmbuf_free(o->q[o->head].m);
}

void fmx_side_release(struct fmx_side *s)
{
	struct fmx_app *a = s->app;
	side_commands(s); /* the last FINs the multiplexer asked for */
	free_msgs(&s->to_side);
	free_msgs(&s->to_mux);
	if (s->clients)
		while (s->n_live)
			conn_release(s, &a->clients[s->live[s->n_live - 1]], false);
	if (s->venues)
		for (uint32_t i = 0; i < a->cfg->n_sessions; i++)
			if (a->venues[i].used)
				conn_release(s, &a->venues[i], false);
}

unsigned fmx_side_drain(struct fmx_side *s, uint64_t now_us)
{
	dp_stack_poll(s->st, now_us);
	side_tx(s);
	return dp_stack_tx_pending(s->st);
}
