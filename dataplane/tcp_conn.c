/* tcp_conn.c - connection slots, lookup, timers and the socket-like API. */
#include <string.h>

#include <rte_jhash.h>

#include "dp_stack_priv.h"

static const char *const state_names[DP_TCP_STATE_COUNT] = {
	"CLOSED",     "LISTEN",     "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",  "LAST_ACK", "TIME_WAIT",
};

const char *dp_tcp_state_name(enum dp_tcp_state s)
{
	return s < DP_TCP_STATE_COUNT ? state_names[s] : "?";
}

/* ---------------------------------------------------------------- slots and lookup */

static uint32_t tuple_hash(const struct dp_stack *st, uint32_t lip, uint16_t lport,
			   uint32_t rip, uint16_t rport)
{
	return rte_jhash_3words(lip, rip, ((uint32_t)lport << 16) | rport, 0) & st->hash_mask;
}

static void conn_reset(struct dp_stack *st, struct dp_conn *c)
{
	/* Keep what belongs to the slot (queues, generation, event-list membership). */
	struct dp_conn keep = *c;
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->idx = keep.idx;
	c->gen = keep.gen;
	c->ev_listed = keep.ev_listed;
	c->in_ack_list = keep.in_ack_list;
	c->sq = keep.sq;
	c->sq_cap = keep.sq_cap;
	c->rq = keep.rq;
	c->rq_cap = keep.rq_cap;
	c->ooo = keep.ooo;
	c->ooo_cap = keep.ooo_cap;
	c->acceptq = keep.acceptq;
	c->hnext = DP_IDX_NONE;
	c->listener = DP_IDX_NONE;
	c->rto_us = st->cfg.rto_initial_us;
	c->mss = 536; /* RFC 9293 §3.7.1 default until the peer's MSS option says otherwise */
	c->ssthresh = UINT32_MAX / 2;
	tcp_timers_init(st, c);
}

struct dp_conn *tcp_conn_alloc(struct dp_stack *st)
{
	if (st->free_head == DP_IDX_NONE)
		return NULL;
	struct dp_conn *c = &st->conns[st->free_head];
	st->free_head = c->hnext;
	conn_reset(st, c);
	c->kind = CONN_TCP;
	c->state = DP_TCP_CLOSED;
	st->in_use++;
	return c;
}

static void hash_remove(struct dp_stack *st, struct dp_conn *c)
{
	if (!c->in_hash)
		return;
	uint32_t *p = &st->hash[tuple_hash(st, c->lip, c->lport, c->rip, c->rport)];
	while (*p != DP_IDX_NONE) {
		if (*p == c->idx) {
			*p = c->hnext;
			break;
		}
		p = &st->conns[*p].hnext;
	}
	c->in_hash = false;
	c->hnext = DP_IDX_NONE;
}

void tcp_hash_insert(struct dp_stack *st, struct dp_conn *c)
{
	uint32_t b = tuple_hash(st, c->lip, c->lport, c->rip, c->rport);
	c->hnext = st->hash[b];
	st->hash[b] = c->idx;
	c->in_hash = true;
}

struct dp_conn *tcp_lookup(struct dp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
			   uint16_t rport)
{
	uint32_t i = st->hash[tuple_hash(st, lip, lport, rip, rport)];
	while (i != DP_IDX_NONE) {
		struct dp_conn *c = &st->conns[i];
		if (c->lport == lport && c->rport == rport && c->rip == rip && c->lip == lip)
			return c;
		i = c->hnext;
	}
	return NULL;
}

struct dp_conn *tcp_find_listener(struct dp_stack *st, uint32_t lip, uint16_t lport)
{
	(void)lip;
	for (uint32_t i = 0; i < st->n_listeners; i++) {
		struct dp_conn *l = &st->conns[st->listeners[i]];
		if (l->lport == lport)
			return l;
	}
	return NULL;
}

static void free_queues(struct dp_conn *c)
{
	for (; c->sq_len; c->sq_len--) {
		rte_pktmbuf_free(c->sq[c->sq_head]);
		c->sq_head = (c->sq_head + 1) % c->sq_cap;
	}
	c->sq_bytes = 0;
	for (; c->rq_len; c->rq_len--) {
		rte_pktmbuf_free(c->rq[c->rq_head]);
		c->rq_head = (c->rq_head + 1) % c->rq_cap;
	}
	c->rq_bytes = 0;
	for (uint32_t i = 0; i < c->n_ooo; i++)
		if (c->ooo[i].m)
			rte_pktmbuf_free(c->ooo[i].m);
	c->n_ooo = 0;
	c->ooo_bytes = 0;
}

static void cancel_timers(struct dp_stack *st, struct dp_conn *c)
{
	dp_timer_cancel(&st->wheel, &c->t_rtx);
	dp_timer_cancel(&st->wheel, &c->t_delack);
	dp_timer_cancel(&st->wheel, &c->t_long);
}

static void unlink_child(struct dp_stack *st, struct dp_conn *c)
{
	if (c->listener == DP_IDX_NONE)
		return;
	struct dp_conn *l = &st->conns[c->listener];
	/* Remove from the accept queue if it waits there (rare path: a reset before accept). */
	for (uint32_t i = 0; i < l->aq_len; i++) {
		uint32_t pos = (l->aq_head + i) % st->cfg.max_backlog;
		if (l->acceptq[pos] != c->idx)
			continue;
		for (uint32_t j = i; j + 1 < l->aq_len; j++)
			l->acceptq[(l->aq_head + j) % st->cfg.max_backlog] =
				l->acceptq[(l->aq_head + j + 1) % st->cfg.max_backlog];
		l->aq_len--;
		break;
	}
	l->n_children--;
	c->listener = DP_IDX_NONE;
}

void tcp_conn_free(struct dp_stack *st, struct dp_conn *c)
{
	if (c->kind == CONN_FREE)
		return;
	cancel_timers(st, c);
	free_queues(c);
	hash_remove(st, c);
	unlink_child(st, c);
	if (c->kind == CONN_LISTENER) {
		for (uint32_t i = 0; i < st->n_listeners; i++)
			if (st->listeners[i] == c->idx) {
				st->listeners[i] = st->listeners[--st->n_listeners];
				break;
			}
	} else {
		c->hnext = st->free_head;
		st->free_head = c->idx;
		st->in_use--;
	}
	c->kind = CONN_FREE;
	c->state = DP_TCP_CLOSED;
	c->app_owned = false;
	c->ev_flags = 0;
	c->gen++;
}

void tcp_conn_done(struct dp_stack *st, struct dp_conn *c, int err)
{
	cancel_timers(st, c);
	c->state = DP_TCP_CLOSED;
	hash_remove(st, c);
	if (err) /* a reset or timeout discards everything (RFC 9293 §3.10.7.4) */
		free_queues(c);
	else
		for (; c->sq_len; c->sq_len--) { /* all acknowledged anyway */
			rte_pktmbuf_free(c->sq[c->sq_head]);
			c->sq_head = (c->sq_head + 1) % c->sq_cap;
		}
	if (c->app_owned) {
		c->err = err;
		dp_conn_event(st, c, DP_EV_CLOSED);
	} else {
		tcp_conn_free(st, c);
	}
}

void tcp_enter_time_wait(struct dp_stack *st, struct dp_conn *c)
{
	c->state = DP_TCP_TIME_WAIT;
	dp_timer_cancel(&st->wheel, &c->t_rtx);
	dp_timer_cancel(&st->wheel, &c->t_delack);
	dp_timer_arm(&st->wheel, &c->t_long, st->now_us + st->cfg.time_wait_us);
}

void tcp_sq_ack(struct dp_stack *st, struct dp_conn *c, uint32_t ack)
{
	while (c->sq_len) {
		struct rte_mbuf *m = c->sq[c->sq_head];
		uint32_t len = rte_pktmbuf_data_len(m);
		if (TCP_SEQ_LT(ack, c->sq_head_seq + len))
			break;
		c->sq_head_seq += len;
		c->sq_bytes -= len;
		c->sq_head = (c->sq_head + 1) % c->sq_cap;
		c->sq_len--;
		if (c->sq_hint > 0) {
			c->sq_hint--;
		} else {
			c->sq_hint_seq = c->sq_head_seq;
		}
		rte_pktmbuf_free(m); /* drops the application's reference kept since send() */
	}
	if (c->want_writable && c->app_owned && c->sq_bytes < st->cfg.snd_buf &&
	    c->sq_len < c->sq_cap) {
		c->want_writable = false;
		dp_conn_event(st, c, DP_EV_WRITABLE);
	}
}

bool tcp_challenge_ack_allowed(struct dp_stack *st)
{
	/* RFC 5961 §7: a stack-wide budget per second so challenge ACKs cannot be used to
	 * amplify or to probe for the window. */
	if (st->now_us - st->chal_window_start_us >= 1000000) {
		st->chal_window_start_us = st->now_us;
		st->chal_count = 0;
	}
	if (st->chal_count >= st->cfg.challenge_ack_per_s) {
		dp_ctr_inc(st, DP_CTR_TCP_CHALLENGE_ACKS_LIMITED);
		return false;
	}
	st->chal_count++;
	return true;
}

/* Connections touched while a burst is processed get their output and ACK at its end, so one
 * burst of segments costs one ACK per connection, not one per segment. */
void tcp_burst_note(struct dp_stack *st, struct dp_conn *c)
{
	if (!c->in_burst_list) {
		c->in_burst_list = true;
		st->burst_list[st->burst_len++] = c->idx;
	}
}

void tcp_burst_end(struct dp_stack *st)
{
	for (uint32_t i = 0; i < st->burst_len; i++) {
		struct dp_conn *c = &st->conns[st->burst_list[i]];
		c->in_burst_list = false;
		if (c->kind != CONN_TCP)
			continue;
		tcp_output(st, c);
		if (c->ack_pending) {
			if (st->cfg.delayed_ack && c->delack_segs < 2) {
				if (!dp_timer_armed(&c->t_delack))
					dp_timer_arm(&st->wheel, &c->t_delack,
						     st->now_us + st->cfg.delack_us);
			} else if (st->cfg.ack_at_tx_burst) {
				if (!c->in_ack_list) {
					c->in_ack_list = true;
					st->ack_list[st->ack_len++] = c->idx;
				}
			} else {
				tcp_send_ack(st, c);
			}
		}
		tcp_check_invariants(st, c);
	}
	st->burst_len = 0;
}

void tcp_ack_flush(struct dp_stack *st)
{
	for (uint32_t i = 0; i < st->ack_len; i++) {
		struct dp_conn *c = &st->conns[st->ack_list[i]];
		c->in_ack_list = false;
		/* A data segment sent since has carried it (xmit() clears ack_pending). */
		if (c->kind == CONN_TCP && c->ack_pending && c->state != DP_TCP_CLOSED)
			tcp_send_ack(st, c);
	}
	st->ack_len = 0;
}

/* ---------------------------------------------------------------- timers */

static void rtx_fire(struct dp_timer *t, void *arg, uint64_t now)
{
	(void)t;
	struct dp_conn *c = arg;
	struct dp_stack *st = c->st;
	switch (c->state) {
	case DP_TCP_SYN_SENT:
	case DP_TCP_SYN_RCVD:
		if (c->nrtx >= st->cfg.syn_retries) {
			if (c->state == DP_TCP_SYN_SENT)
				dp_ctr_inc(st, DP_CTR_TCP_CONNECT_FAILS);
			dp_ctr_inc(st, DP_CTR_TCP_TIMEOUTS);
			tcp_conn_done(st, c, DP_TCP_ETIMEDOUT);
			return;
		}
		c->nrtx++;
		c->stats.retransmits++;
		dp_ctr_inc(st, DP_CTR_TCP_RETRANSMITS);
		tcp_send_syn(st, c);
		tcp_arm_rtx(st, c);
		return;
	case DP_TCP_CLOSED:
	case DP_TCP_LISTEN:
	case DP_TCP_TIME_WAIT:
		return;
	default:
		break;
	}
	/* A peer that keeps answering while its window is closed is slow, not dead: its
	 * probes and retransmissions do not count towards the abort (as Linux). A peer silent for
	 * a whole backed-off RTO after rtx_max attempts is dead, window or not. */
	bool silent = c->nrtx == 0 || c->last_rx_us < c->rtx_sent_us;
	bool give_up = c->nrtx >= st->cfg.rtx_max && (c->snd_wnd != 0 || silent);
	if (c->persist) {
		if (c->snd_wnd > 0 || c->snd_nxt == c->snd_end) { /* retry after no mbuf */
			c->persist = false;
			c->nrtx = 0;
			tcp_output(st, c);
		} else if (give_up) {
			dp_ctr_inc(st, DP_CTR_TCP_TIMEOUTS);
			tcp_send_rst(st, c);
			tcp_conn_done(st, c, DP_TCP_ETIMEDOUT);
			return;
		} else {
			tcp_send_probe(st, c);
			c->rtx_sent_us = now;
			if (c->nrtx < 255)
				c->nrtx++;
			tcp_arm_rtx(st, c);
		}
		tcp_check_invariants(st, c);
		return;
	}
	if (c->snd_una == c->snd_max)
		return;
	if (give_up) {
		dp_ctr_inc(st, DP_CTR_TCP_TIMEOUTS);
		tcp_send_rst(st, c);
		tcp_conn_done(st, c, DP_TCP_ETIMEDOUT);
		return;
	}
	c->stats.rto_expiries++;
	dp_ctr_inc(st, DP_CTR_TCP_RTO_EXPIRIES);
	/* RFC 5681 §3.1 eq. 4 on the first expiry; RFC 6298 §5.5 back-off; RFC 6582 §3.2
	 * step 4: recovery ends and recover = highest sequence sent. */
	uint32_t flight = c->snd_max - c->snd_una;
	if (c->nrtx == 0)
		c->ssthresh = RTE_MAX(flight / 2, 2u * c->mss);
	c->cwnd = c->mss;
	c->in_recovery = false;
	c->dupacks = 0;
	c->recover = c->snd_max;
	if (c->nrtx < 255)
		c->nrtx++;
	c->rtx_sent_us = now;
	c->rtt_timing = false;
	c->snd_nxt = c->snd_una;
	/* Go back: retransmit from snd_una as the window allows; with a closed window the first
	 * segment is resent anyway, acting as the probe. */
	tcp_output(st, c);
	if (c->snd_nxt == c->snd_una) {
		uint32_t sent = tcp_retransmit_one(st, c);
		c->snd_nxt = c->snd_una + sent;
		if (c->fin_queued && TCP_SEQ_GEQ(c->snd_nxt, c->snd_end) &&
		    TCP_SEQ_GT(c->snd_max, c->snd_end))
			c->snd_nxt = c->snd_end + 1;
	} else {
		/* tcp_output counted its resend already */
	}
	tcp_arm_rtx(st, c);
	tcp_check_invariants(st, c);
}

static void delack_fire(struct dp_timer *t, void *arg, uint64_t now)
{
	(void)t;
	(void)now;
	struct dp_conn *c = arg;
	if (c->ack_pending && c->kind == CONN_TCP)
		tcp_send_ack(c->st, c);
}

static void long_fire(struct dp_timer *t, void *arg, uint64_t now)
{
	struct dp_conn *c = arg;
	struct dp_stack *st = c->st;
	switch (c->state) {
	case DP_TCP_TIME_WAIT:
	case DP_TCP_FIN_WAIT_2: /* orphaned: the application closed, the peer never did */
		tcp_conn_done(st, c, 0);
		return;
	case DP_TCP_ESTABLISHED:
	case DP_TCP_CLOSE_WAIT:
		break;
	default:
		return;
	}
	if (st->cfg.keepalive_idle_us == 0)
		return;
	uint64_t idle_until = c->last_rx_us + st->cfg.keepalive_idle_us;
	if (now < idle_until) {
		c->ka_probes = 0;
		dp_timer_arm(&st->wheel, t, idle_until);
		return;
	}
	if (c->ka_probes >= st->cfg.keepalive_probes) {
		dp_ctr_inc(st, DP_CTR_TCP_TIMEOUTS);
		tcp_send_rst(st, c);
		tcp_conn_done(st, c, DP_TCP_ETIMEDOUT);
		return;
	}
	c->ka_probes++;
	tcp_send_keepalive(st, c);
	dp_timer_arm(&st->wheel, t, now + st->cfg.keepalive_intvl_us);
}

void tcp_timers_init(struct dp_stack *st, struct dp_conn *c)
{
	(void)st;
	dp_timer_init(&c->t_rtx, rtx_fire, c);
	dp_timer_init(&c->t_delack, delack_fire, c);
	dp_timer_init(&c->t_long, long_fire, c);
}

/* ---------------------------------------------------------------- API */

dp_conn_t dp_tcp_listen(struct dp_stack *st, uint16_t port, uint32_t backlog, int *rc)
{
	int r = DP_TCP_OK;
	struct dp_conn *l = NULL;
	if (port == 0) {
		r = DP_TCP_EINVAL;
		goto out;
	}
	if (tcp_find_listener(st, st->cfg.ip, port)) {
		r = DP_TCP_EADDRINUSE;
		goto out;
	}
	for (uint32_t i = st->cfg.max_conns; i < st->nconns; i++)
		if (st->conns[i].kind == CONN_FREE) {
			l = &st->conns[i];
			break;
		}
	if (l == NULL) {
		r = DP_TCP_ENOMEM;
		goto out;
	}
	conn_reset(st, l);
	l->kind = CONN_LISTENER;
	l->state = DP_TCP_LISTEN;
	l->lip = st->cfg.ip;
	l->lport = port;
	l->backlog = RTE_MAX(1u, RTE_MIN(backlog, st->cfg.max_backlog));
	l->app_owned = true;
	st->listeners[st->n_listeners++] = l->idx;
out:
	if (rc)
		*rc = r;
	return l ? dp_conn_handle(l) : DP_CONN_INVALID;
}

dp_conn_t dp_tcp_accept(struct dp_stack *st, dp_conn_t listener)
{
	struct dp_conn *l = dp_conn_get(st, listener);
	if (l == NULL || l->kind != CONN_LISTENER || l->aq_len == 0)
		return DP_CONN_INVALID;
	struct dp_conn *c = &st->conns[l->acceptq[l->aq_head]];
	l->aq_head = (l->aq_head + 1) % st->cfg.max_backlog;
	l->aq_len--;
	l->n_children--;
	c->listener = DP_IDX_NONE;
	c->app_owned = true;
	c->accepted = true;
	if (c->ev_flags)
		dp_conn_event(st, c, 0); /* flags gathered before accept become visible now */
	return dp_conn_handle(c);
}

dp_conn_t dp_tcp_connect(struct dp_stack *st, uint32_t ip, uint16_t port, uint16_t local_port,
			 int *rc)
{
	int r = DP_TCP_OK;
	struct dp_conn *c = NULL;
	if (ip == 0 || port == 0) {
		r = DP_TCP_EINVAL;
		goto out;
	}
	if (local_port == 0) {
		for (unsigned tries = 0; tries < 16384; tries++) {
			uint16_t p = st->next_ephemeral++;
			if (st->next_ephemeral == 0 || st->next_ephemeral < DP_EPHEMERAL_FIRST)
				st->next_ephemeral = DP_EPHEMERAL_FIRST;
			if (!tcp_lookup(st, st->cfg.ip, p, ip, port) &&
			    !tcp_find_listener(st, st->cfg.ip, p)) {
				local_port = p;
				break;
			}
		}
		if (local_port == 0) {
			r = DP_TCP_EADDRINUSE;
			goto out;
		}
	} else if (tcp_lookup(st, st->cfg.ip, local_port, ip, port)) {
		r = DP_TCP_EADDRINUSE;
		goto out;
	}
	c = tcp_conn_alloc(st);
	if (c == NULL) {
		r = DP_TCP_ENOMEM;
		goto out;
	}
	c->lip = st->cfg.ip;
	c->lport = local_port;
	c->rip = ip;
	c->rport = port;
	c->app_owned = true;
	c->accepted = true;
	c->iss = tcp_isn(st, c->lip, c->lport, c->rip, c->rport);
	c->snd_una = c->snd_max = c->iss;
	c->snd_end = c->iss + 1;
	c->sq_head_seq = c->iss + 1;
	c->sq_hint_seq = c->sq_head_seq;
	c->rcv_ws = st->cfg.window_scaling ? st->cfg.wscale : 0;
	c->ts_offset = (uint32_t)(tcp_isn(st, c->rip, c->rport, c->lip, c->lport) * 2654435761u);
	c->state = DP_TCP_SYN_SENT;
	tcp_hash_insert(st, c);
	dp_ctr_inc(st, DP_CTR_TCP_ACTIVE_OPENS);
	tcp_send_syn(st, c);
out:
	if (rc)
		*rc = r;
	return c ? dp_conn_handle(c) : DP_CONN_INVALID;
}

static bool can_send_state(enum dp_tcp_state s)
{
	return s == DP_TCP_ESTABLISHED || s == DP_TCP_CLOSE_WAIT || s == DP_TCP_SYN_SENT ||
	       s == DP_TCP_SYN_RCVD;
}

static bool pool_short(const struct dp_stack *st)
{
	return st->cfg.pool_reserve &&
	       rte_mempool_avail_count(st->cfg.pool) < st->cfg.pool_reserve;
}

uint32_t dp_tcp_send_space(const struct dp_stack *st, dp_conn_t h)
{
	const struct dp_conn *c = dp_conn_get(st, h);
	if (c == NULL || c->kind != CONN_TCP || !can_send_state(c->state) || c->fin_queued ||
	    c->sq_len >= c->sq_cap || pool_short(st))
		return 0;
	return c->sq_bytes < st->cfg.snd_buf ? st->cfg.snd_buf - c->sq_bytes : 0;
}

int dp_tcp_send(struct dp_stack *st, dp_conn_t h, struct rte_mbuf *m)
{
	struct dp_conn *c = dp_conn_get(st, h);
	if (c == NULL || c->kind != CONN_TCP || m == NULL)
		return DP_TCP_EINVAL;
	if (!can_send_state(c->state) || c->fin_queued)
		return DP_TCP_ENOTCONN;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	/* One oversized mbuf into an empty queue is accepted, or it could never be sent. */
	if (c->sq_len + m->nb_segs > c->sq_cap ||
	    (c->sq_bytes > 0 && c->sq_bytes + len > st->cfg.snd_buf) || pool_short(st)) {
		c->want_writable = true;
		return DP_TCP_EAGAIN;
	}
	/* The queue holds single segments, so a chain is split into its segments: each keeps
	 * its own reference and is freed as soon as its bytes are acknowledged. */
	while (m) {
		struct rte_mbuf *next = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (m->data_len == 0) {
			rte_pktmbuf_free(m);
		} else {
			c->sq[(c->sq_head + c->sq_len) % c->sq_cap] = m;
			c->sq_len++;
		}
		m = next;
	}
	c->sq_bytes += len;
	c->snd_end += len;
	if (st->in_rx_burst)
		tcp_burst_note(st, c);
	else
		tcp_output(st, c);
	return DP_TCP_OK;
}

int dp_tcp_recv(struct dp_stack *st, dp_conn_t h, struct rte_mbuf **bufs, unsigned n)
{
	struct dp_conn *c = dp_conn_get(st, h);
	if (c == NULL || c->kind != CONN_TCP)
		return DP_TCP_EINVAL;
	unsigned k = 0;
	while (k < n && c->rq_len) {
		struct rte_mbuf *m = c->rq[c->rq_head];
		c->rq_head = (c->rq_head + 1) % c->rq_cap;
		c->rq_len--;
		c->rq_bytes -= rte_pktmbuf_pkt_len(m);
		bufs[k++] = m;
	}
	if (k && c->state != DP_TCP_CLOSED && !c->peer_fin) {
		/* Window update when reading reopened a window the peer may be stuck on. */
		uint32_t cur = TCP_SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
		uint32_t space = tcp_rcv_window(st, c);
		if (space > cur && space - cur >= st->cfg.rcv_buf / 2) {
			if (st->in_rx_burst) {
				c->ack_pending = true;
				tcp_burst_note(st, c);
			} else {
				tcp_send_ack(st, c);
			}
		}
	}
	return (int)k;
}

static void shutdown_write(struct dp_stack *st, struct dp_conn *c)
{
	if (c->fin_queued)
		return;
	switch (c->state) {
	case DP_TCP_ESTABLISHED:
	case DP_TCP_SYN_RCVD:
		c->fin_queued = true;
		if (c->state == DP_TCP_ESTABLISHED)
			c->state = DP_TCP_FIN_WAIT_1;
		break;
	case DP_TCP_CLOSE_WAIT:
		c->fin_queued = true;
		c->state = DP_TCP_LAST_ACK;
		break;
	default:
		return;
	}
	tcp_output(st, c);
	tcp_check_invariants(st, c);
}

int dp_tcp_shutdown_write(struct dp_stack *st, dp_conn_t h)
{
	struct dp_conn *c = dp_conn_get(st, h);
	if (c == NULL || c->kind != CONN_TCP)
		return DP_TCP_EINVAL;
	shutdown_write(st, c);
	return DP_TCP_OK;
}

static void close_listener(struct dp_stack *st, struct dp_conn *l)
{
	for (uint32_t i = 0; i < st->cfg.max_conns; i++) {
		struct dp_conn *c = &st->conns[i];
		if (c->kind == CONN_TCP && c->listener == l->idx) {
			tcp_send_rst(st, c);
			tcp_conn_free(st, c);
		}
	}
	tcp_conn_free(st, l);
}

int dp_tcp_close(struct dp_stack *st, dp_conn_t h)
{
	struct dp_conn *c = dp_conn_get(st, h);
	if (c == NULL)
		return DP_TCP_EINVAL;
	if (c->kind == CONN_LISTENER) {
		close_listener(st, c);
		return DP_TCP_OK;
	}
	c->app_owned = false;
	c->ev_flags = 0;
	switch (c->state) {
	case DP_TCP_CLOSED:
	case DP_TCP_SYN_SENT:
		tcp_conn_free(st, c);
		return DP_TCP_OK;
	default:
		break;
	}
	if (c->rq_len || c->n_ooo) {
		/* Unread data would be lost silently: tell the peer with a RST (RFC 2525 §2.17),
		 * as other stacks do. */
		tcp_send_rst(st, c);
		tcp_conn_free(st, c);
		return DP_TCP_OK;
	}
	shutdown_write(st, c);
	if (c->state == DP_TCP_FIN_WAIT_2)
		dp_timer_arm(&st->wheel, &c->t_long, st->now_us + st->cfg.fin_wait2_us);
	return DP_TCP_OK;
}

int dp_tcp_abort(struct dp_stack *st, dp_conn_t h)
{
	struct dp_conn *c = dp_conn_get(st, h);
	if (c == NULL)
		return DP_TCP_EINVAL;
	if (c->kind == CONN_LISTENER) {
		close_listener(st, c);
		return DP_TCP_OK;
	}
	if (c->state != DP_TCP_CLOSED && c->state != DP_TCP_SYN_SENT &&
	    c->state != DP_TCP_TIME_WAIT)
		tcp_send_rst(st, c);
	tcp_conn_free(st, c);
	return DP_TCP_OK;
}

void dp_tcp_set_user(struct dp_stack *st, dp_conn_t h, void *user)
{
	struct dp_conn *c = dp_conn_get(st, h);
	if (c)
		c->user = user;
}

void *dp_tcp_get_user(const struct dp_stack *st, dp_conn_t h)
{
	struct dp_conn *c = dp_conn_get(st, h);
	return c ? c->user : NULL;
}

enum dp_tcp_state dp_tcp_state(const struct dp_stack *st, dp_conn_t h)
{
	struct dp_conn *c = dp_conn_get(st, h);
	return c ? c->state : DP_TCP_CLOSED;
}

bool dp_tcp_peer_closed(const struct dp_stack *st, dp_conn_t h)
{
	struct dp_conn *c = dp_conn_get(st, h);
	return c ? c->peer_fin : false;
}

int dp_tcp_get_info(const struct dp_stack *st, dp_conn_t h, struct dp_tcp_info *in)
{
	struct dp_conn *c = dp_conn_get(st, h);
	if (c == NULL)
		return DP_TCP_EINVAL;
	memset(in, 0, sizeof(*in));
	in->state = c->state;
	in->local_ip = c->lip;
	in->remote_ip = c->rip;
	in->local_port = c->lport;
	in->remote_port = c->rport;
	in->snd_una = c->snd_una;
	in->snd_nxt = c->snd_nxt;
	in->snd_wnd = c->snd_wnd;
	in->rcv_nxt = c->rcv_nxt;
	in->rcv_wnd = TCP_SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	in->cwnd = c->cwnd;
	in->ssthresh = c->ssthresh;
	in->srtt_us = c->srtt_us;
	in->rttvar_us = c->rttvar_us;
	in->rto_us = c->rto_us;
	in->mss = c->mss;
	in->snd_wscale = c->snd_ws;
	in->rcv_wscale = c->rcv_ws;
	in->ts_ok = c->ts_ok;
	in->ws_ok = c->ws_ok;
	in->unacked_bytes = c->snd_max - c->snd_una;
	in->queued_bytes = c->sq_bytes;
	in->rcv_queued_bytes = c->rq_bytes;
	in->ooo_segs = c->n_ooo;
	in->snd_max = c->snd_max;
	in->recover = c->recover;
	in->dupacks = c->dupacks;
	in->nrtx = c->nrtx;
	in->in_recovery = c->in_recovery;
	in->persist = c->persist;
	in->rtx_armed = dp_timer_armed(&c->t_rtx);
	in->rtx_expire_us = in->rtx_armed ? c->t_rtx.expire_us : 0;
	in->last_rx_us = c->last_rx_us;
	const struct tcp_conn_stats *s = &c->stats;
	in->segs_in = s->segs_in;
	in->segs_out = s->segs_out;
	in->bytes_in = s->bytes_in;
	in->bytes_out = s->bytes_out;
	in->retransmits = s->retransmits;
	in->rto_expiries = s->rto_expiries;
	in->fast_retransmits = s->fast_retransmits;
	in->dup_acks_in = s->dup_acks_in;
	in->ooo_segs_in = s->ooo_segs_in;
	in->zero_window_probes = s->zero_window_probes;
	in->zero_window_seen = s->zero_window_seen;
	in->challenge_acks = s->challenge_acks;
	in->paws_drops = s->paws_drops;
	in->rsts_in = s->rsts_in;
	in->rsts_out = s->rsts_out;
	return DP_TCP_OK;
}
