/* tcp_in.c - segment arrival (RFC 9293 §3.10.7) with RFC 5961, 7323, 6298, 5681, 6582. */
#include <string.h>

#include "dp_stack_priv.h"

struct seg {
	uint32_t seq, ack, len; /* len: payload bytes */
	uint32_t orig_len;      /* len as received (an old duplicate's data is cut to 0) */
	uint32_t wnd;           /* raw window field */
	uint8_t flags;
	bool has_mss, has_ws, has_ts, has_sackp;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
};

static void parse_options(struct dp_stack *st, const uint8_t *o, uint32_t n, struct seg *s)
{
	uint32_t i = 0;
	while (i < n) {
		uint8_t kind = o[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			goto bad;
		uint8_t l = o[i + 1];
		switch (kind) {
		case 2:
			if (l != 4)
				goto bad;
			s->has_mss = true;
			s->mss = (uint16_t)((o[i + 2] << 8) | o[i + 3]);
			break;
		case 3:
			if (l != 3)
				goto bad;
			s->has_ws = true;
			s->ws = o[i + 2];
			break;
		case 8:
			if (l != 10)
				goto bad;
			s->has_ts = true;
			memcpy(&s->tsval, o + i + 2, 4);
			memcpy(&s->tsecr, o + i + 6, 4);
			s->tsval = rte_be_to_cpu_32(s->tsval);
			s->tsecr = rte_be_to_cpu_32(s->tsecr);
			break;
		case 4:
			if (l != 2)
				goto bad;
			s->has_sackp = true;
			break;
		default: /* SACK blocks (not used by our sender yet) and others are ignored */
			break;
		}
		i += l;
	}
	return;
bad:
	/* What was parsed before the malformed option is kept; the rest is ignored, as other
	 * stacks do, and counted. */
	dp_ctr_inc(st, DP_CTR_TCP_BAD_OPTIONS);
}

/* Removes n bytes from the front of a (possibly chained) mbuf; drops segments that become
 * empty. Returns the new head (NULL if nothing is left). */
static struct rte_mbuf *trim_front(struct rte_mbuf *m, uint32_t n)
{
	while (m && (n > 0 || (m->data_len == 0 && m->next))) {
		if (n >= m->data_len && m->next) {
			struct rte_mbuf *next = m->next;
			next->pkt_len = m->pkt_len - m->data_len;
			next->nb_segs = (uint16_t)(m->nb_segs - 1);
			n -= m->data_len;
			m->next = NULL;
			m->nb_segs = 1;
			rte_pktmbuf_free_seg(m);
			m = next;
		} else {
			if (n > m->data_len)
				n = m->data_len;
			rte_pktmbuf_adj(m, (uint16_t)n);
			n = 0;
			if (m->data_len == 0 && m->next == NULL)
				break;
		}
	}
	if (m && m->pkt_len == 0) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

/* Keeps only the first keep bytes. */
static void trim_to(struct rte_mbuf *m, uint32_t keep)
{
	if (keep >= m->pkt_len)
		return;
	uint32_t acc = 0;
	uint16_t segs = 0;
	struct rte_mbuf *s = m;
	for (; s; s = s->next) {
		segs++;
		if (acc + s->data_len >= keep) {
			s->data_len = (uint16_t)(keep - acc);
			break;
		}
		acc += s->data_len;
	}
	if (s && s->next) {
		rte_pktmbuf_free(s->next);
		s->next = NULL;
	}
	m->nb_segs = segs;
	m->pkt_len = keep;
}

static void update_rtt(struct dp_stack *st, struct dp_conn *c, uint32_t r)
{
	if (r == 0)
		r = 1;
	if (!c->rtt_valid) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
		c->rtt_valid = true;
	} else {
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
	}
	uint64_t rto = (uint64_t)c->srtt_us + RTE_MAX((uint32_t)DP_TIMER_TICK_US, 4 * c->rttvar_us);
	if (rto < st->cfg.rto_min_us)
		rto = st->cfg.rto_min_us;
	if (rto > st->cfg.rto_max_us)
		rto = st->cfg.rto_max_us;
	c->rto_us = (uint32_t)rto;
}

static void set_mss(struct dp_stack *st, struct dp_conn *c, const struct seg *s)
{
	uint32_t peer = s->has_mss ? s->mss : 536;
	uint32_t mss = RTE_MIN(peer, (uint32_t)st->cfg.mss);
	if (c->ts_ok)
		mss -= 12; /* RFC 6691: options come out of the MSS */
	/* A tiny announced MSS would make us send one-byte segments forever: clamp as other
	 * stacks do (Linux uses 48). */
	c->mss = (uint16_t)RTE_MAX(mss, 64u);
	c->peer_mss = (uint16_t)peer;
}

static void negotiate(struct dp_stack *st, struct dp_conn *c, const struct seg *s)
{
	if (st->cfg.window_scaling && s->has_ws) {
		c->ws_ok = true;
		c->snd_ws = RTE_MIN(s->ws, (uint8_t)14); /* RFC 7323 §2.3 */
		c->rcv_ws = st->cfg.wscale;
	} else {
		c->ws_ok = false;
		c->snd_ws = c->rcv_ws = 0;
	}
	c->sack_ok = st->cfg.sack && s->has_sackp;
	if (st->cfg.timestamps && s->has_ts) {
		c->ts_ok = true;
		c->ts_recent = s->tsval;
		c->ts_recent_us = st->now_us;
	} else {
		c->ts_ok = false;
	}
	set_mss(st, c, s);
}

static void established(struct dp_stack *st, struct dp_conn *c)
{
	c->state = DP_TCP_ESTABLISHED;
	c->cwnd = st->cfg.init_cwnd_segs * c->mss;
	c->nrtx = 0;
	c->last_rx_us = st->now_us;
	if (st->cfg.keepalive_idle_us)
		dp_timer_arm(&st->wheel, &c->t_long, st->now_us + st->cfg.keepalive_idle_us);
}

static void challenge_ack(struct dp_stack *st, struct dp_conn *c)
{
	if (!tcp_challenge_ack_allowed(st))
		return;
	c->stats.challenge_acks++;
	dp_ctr_inc(st, DP_CTR_TCP_CHALLENGE_ACKS);
	tcp_send_ack(st, c);
}

static void listen_input(struct dp_stack *st, struct dp_conn *l, const struct rte_ipv4_hdr *ip,
			 const struct rte_tcp_hdr *th, const struct seg *s)
{
	if (s->flags & TCP_FL_RST)
		return;
	if (s->flags & TCP_FL_ACK) {
		tcp_send_rst_reply(st, ip, th, s->len);
		return;
	}
	if (!(s->flags & TCP_FL_SYN) || (s->flags & TCP_FL_FIN))
		return;
	if (l->n_children >= l->backlog) {
		/* No RST: the client's SYN retransmission tries again later. */
		dp_ctr_inc(st, DP_CTR_DROP_TCP_BACKLOG);
		return;
	}
	struct dp_conn *c = tcp_conn_alloc(st);
	if (c == NULL) {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_NO_CONN_SLOT);
		return;
	}
	c->lip = st->cfg.ip;
	c->lport = l->lport;
	c->rip = rte_be_to_cpu_32(ip->src_addr);
	c->rport = rte_be_to_cpu_16(th->src_port);
	c->passive = true;
	c->listener = l->idx;
	l->n_children++;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	negotiate(st, c, s);
	c->iss = tcp_isn(st, c->lip, c->lport, c->rip, c->rport);
	c->ts_offset = (uint32_t)(tcp_isn(st, c->rip, c->rport, c->lip, c->lport) * 2654435761u);
	c->snd_una = c->snd_max = c->iss;
	c->snd_end = c->iss + 1;
	c->sq_head_seq = c->iss + 1;
	c->sq_hint_seq = c->sq_head_seq;
	c->snd_wnd = s->wnd; /* never scaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	c->state = DP_TCP_SYN_RCVD;
	c->last_ack_sent = c->rcv_nxt;
	tcp_hash_insert(st, c);
	dp_ctr_inc(st, DP_CTR_TCP_PASSIVE_OPENS);
	tcp_send_syn(st, c);
}

static void syn_sent_input(struct dp_stack *st, struct dp_conn *c, const struct rte_ipv4_hdr *ip,
			   const struct rte_tcp_hdr *th, const struct seg *s)
{
	bool ack_ok = false;
	if (s->flags & TCP_FL_ACK) {
		if (TCP_SEQ_LEQ(s->ack, c->iss) || TCP_SEQ_GT(s->ack, c->snd_max)) {
			tcp_send_rst_reply(st, ip, th, s->len);
			return;
		}
		ack_ok = true;
	}
	if (s->flags & TCP_FL_RST) {
		if (ack_ok) {
			c->stats.rsts_in++;
			dp_ctr_inc(st, DP_CTR_TCP_RSTS_IN);
			dp_ctr_inc(st, DP_CTR_TCP_CONNECT_FAILS);
			tcp_conn_done(st, c, DP_TCP_EREFUSED);
		}
		return;
	}
	if (!(s->flags & TCP_FL_SYN))
		return;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	negotiate(st, c, s);
	c->snd_wnd = s->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	if (ack_ok) {
		if (c->nrtx == 0) /* Karn: only a SYN sent once gives an RTT sample */
			update_rtt(st, c, (uint32_t)(st->now_us - c->rtt_start_us));
		c->snd_una = s->ack;
		c->snd_nxt = TCP_SEQ_MAX(c->snd_nxt, s->ack);
		dp_timer_cancel(&st->wheel, &c->t_rtx);
		established(st, c);
		dp_conn_event(st, c, DP_EV_CONNECTED);
		c->ack_pending = true;
		tcp_burst_note(st, c);
	} else {
		/* Simultaneous open (RFC 9293 §3.5 figure 7). */
		c->state = DP_TCP_SYN_RCVD;
		c->nrtx = 0;
		dp_timer_cancel(&st->wheel, &c->t_rtx);
		tcp_send_syn(st, c);
	}
}

static void ooo_insert(struct dp_stack *st, struct dp_conn *c, uint32_t seq,
		       struct rte_mbuf *m, uint32_t len, bool fin)
{
	uint32_t end = seq + len;
	uint32_t i = 0;
	if (len == 0) {
		/* A bare FIN beyond a hole: mark the segment it follows, or keep it alone. */
		if (m)
			rte_pktmbuf_free(m);
		m = NULL;
		for (i = 0; i < c->n_ooo; i++) {
			struct tcp_ooo *o = &c->ooo[i];
			if (o->seq + o->len == seq) {
				o->fin = o->fin || fin;
				return;
			}
			if (TCP_SEQ_GEQ(o->seq, seq))
				break;
		}
		goto insert;
	}
	while (i < c->n_ooo) {
		struct tcp_ooo *o = &c->ooo[i];
		uint32_t oend = o->seq + o->len;
		if (TCP_SEQ_LEQ(oend, seq)) {
			i++;
			continue;
		}
		if (TCP_SEQ_GEQ(o->seq, end))
			break;
		if (TCP_SEQ_LEQ(o->seq, seq) && TCP_SEQ_GEQ(oend, end)) {
			o->fin = o->fin || (fin && oend == end);
			if (m)
				rte_pktmbuf_free(m);
			return; /* nothing new: the data already held wins (first copy kept) */
		}
		if (TCP_SEQ_LEQ(o->seq, seq)) { /* overlaps our front */
			uint32_t cut = oend - seq;
			m = trim_front(m, cut);
			seq = oend;
			len -= cut;
			i++;
			continue;
		}
		if (TCP_SEQ_LEQ(oend, end)) {
			/* the new segment covers the old one entirely: the old one goes */
			if (o->fin && oend == end)
				fin = true;
			c->ooo_bytes -= o->len;
			if (o->m)
				rte_pktmbuf_free(o->m);
			memmove(o, o + 1, (c->n_ooo - i - 1) * sizeof(*o));
			c->n_ooo--;
			continue;
		}
		/* overlaps our tail: keep the older data */
		trim_to(m, o->seq - seq);
		len = o->seq - seq;
		end = o->seq;
		fin = false;
		break;
	}
	if (len == 0 && !fin) {
		if (m)
			rte_pktmbuf_free(m);
		return;
	}
insert:
	if (c->n_ooo == c->ooo_cap) {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_OOO_FULL);
		if (m)
			rte_pktmbuf_free(m);
		return;
	}
	memmove(&c->ooo[i + 1], &c->ooo[i], (c->n_ooo - i) * sizeof(c->ooo[0]));
	c->ooo[i] = (struct tcp_ooo){.seq = seq, .len = len, .fin = fin, .m = len ? m : NULL};
	if (!len && m)
		rte_pktmbuf_free(m);
	c->n_ooo++;
	c->ooo_bytes += len;
}

/* Appends in-order payload to the receive queue. Returns false if the queue is full. */
static bool rq_push(struct dp_stack *st, struct dp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	if (!c->app_owned && c->accepted) {
		rte_pktmbuf_free(m); /* the application has closed: nobody will read it */
		return true;
	}
	if (c->rq_len == c->rq_cap) {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_RCV_QUEUE_FULL);
		return false;
	}
	c->rq[(c->rq_head + c->rq_len) % c->rq_cap] = m;
	c->rq_len++;
	c->rq_bytes += len;
	dp_conn_event(st, c, DP_EV_READABLE);
	return true;
}

static void fin_input(struct dp_stack *st, struct dp_conn *c)
{
	c->rcv_nxt++;
	c->peer_fin = true;
	dp_conn_event(st, c, DP_EV_PEER_FIN | DP_EV_READABLE);
	switch (c->state) {
	case DP_TCP_SYN_RCVD:
	case DP_TCP_ESTABLISHED:
		c->state = DP_TCP_CLOSE_WAIT;
		break;
	case DP_TCP_FIN_WAIT_1:
		c->state = DP_TCP_CLOSING;
		break;
	case DP_TCP_FIN_WAIT_2:
		tcp_enter_time_wait(st, c);
		break;
	default:
		break;
	}
}

/* Delivers in-order payload and whatever the out-of-order queue can now add. */
static void data_input(struct dp_stack *st, struct dp_conn *c, struct rte_mbuf *m, uint32_t seq,
		       uint32_t len, bool fin)
{
	if (TCP_SEQ_GT(seq, c->rcv_nxt)) {
		c->stats.ooo_segs_in++;
		dp_ctr_inc(st, DP_CTR_TCP_OOO_SEGS_IN);
		c->ooo_last_seq = seq;
		ooo_insert(st, c, seq, m, len, fin);
		/* RFC 5681 §4.2: an out-of-order segment is acknowledged at once (a duplicate
		 * ACK that drives the sender's fast retransmit). */
		tcp_send_ack(st, c);
		return;
	}
	bool had_ooo = c->n_ooo > 0;
	if (len) {
		if (!rq_push(st, c, m, len)) {
			c->ack_pending = true;
			tcp_burst_note(st, c);
			rte_pktmbuf_free(m);
			return;
		}
		c->rcv_nxt += len;
		c->stats.bytes_in += len;
	} else if (m) {
		rte_pktmbuf_free(m);
	}
	while (!fin && c->n_ooo && TCP_SEQ_LEQ(c->ooo[0].seq, c->rcv_nxt)) {
		struct tcp_ooo o = c->ooo[0];
		memmove(&c->ooo[0], &c->ooo[1], (c->n_ooo - 1) * sizeof(o));
		c->n_ooo--;
		c->ooo_bytes -= o.len;
		uint32_t cut = c->rcv_nxt - o.seq;
		if (cut >= o.len) {
			if (o.m)
				rte_pktmbuf_free(o.m);
			if (o.fin && cut == o.len)
				fin = true;
			continue;
		}
		struct rte_mbuf *om = trim_front(o.m, cut);
		uint32_t olen = o.len - cut;
		if (!rq_push(st, c, om, olen)) {
			rte_pktmbuf_free(om);
			break;
		}
		c->rcv_nxt += olen;
		c->stats.bytes_in += olen;
		fin = o.fin;
	}
	if (fin)
		fin_input(st, c);
	c->ack_pending = true;
	c->delack_segs++;
	if (had_ooo || fin)
		c->delack_segs = 2; /* RFC 5681 §4.2: ACK at once when a gap is filled */
	tcp_burst_note(st, c);
}

static void new_ack(struct dp_stack *st, struct dp_conn *c, const struct seg *s)
{
	uint32_t acked = s->ack - c->snd_una;
	if (c->rtt_timing && TCP_SEQ_GT(s->ack, c->rtt_seq)) {
		update_rtt(st, c, (uint32_t)(st->now_us - c->rtt_start_us));
		c->rtt_timing = false;
	}
	c->nrtx = 0;
	tcp_sq_ack(st, c, s->ack);
	c->snd_una = s->ack;
	if (TCP_SEQ_GT(s->ack, c->snd_nxt))
		c->snd_nxt = s->ack;
	if (c->in_recovery) {
		if (TCP_SEQ_GEQ(s->ack, c->recover)) {
			/* RFC 6582 §3.2 step 3: full ACK, deflate. */
			uint32_t flight = c->snd_max - c->snd_una;
			c->cwnd = RTE_MIN(c->ssthresh, RTE_MAX(flight, (uint32_t)c->mss) + c->mss);
			c->in_recovery = false;
			c->dupacks = 0;
		} else {
			/* Partial ACK: resend the next hole, deflate by the amount acked, and
			 * restart the timer (RFC 6582 §3.2 step 5). */
			tcp_retransmit_one(st, c);
			c->cwnd = (c->cwnd > acked ? c->cwnd - acked : 0) +
				  (acked >= c->mss ? c->mss : 0);
			if (c->cwnd < c->mss)
				c->cwnd = c->mss;
			tcp_arm_rtx(st, c);
		}
	} else {
		c->dupacks = 0;
		if (c->cwnd < c->ssthresh)
			c->cwnd += RTE_MIN(acked, (uint32_t)c->mss); /* slow start, L = 1 SMSS */
		else
			c->cwnd += RTE_MAX(1u, (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd));
	}
	if (c->snd_una == c->snd_max) {
		if (!c->persist)
			dp_timer_cancel(&st->wheel, &c->t_rtx);
	} else {
		c->persist = false;
		tcp_arm_rtx(st, c); /* RFC 6298 §5.3 */
	}
}

static void fin_acked(struct dp_stack *st, struct dp_conn *c)
{
	switch (c->state) {
	case DP_TCP_FIN_WAIT_1:
		c->state = DP_TCP_FIN_WAIT_2;
		if (!c->app_owned)
			dp_timer_arm(&st->wheel, &c->t_long, st->now_us + st->cfg.fin_wait2_us);
		break;
	case DP_TCP_CLOSING:
		tcp_enter_time_wait(st, c);
		break;
	case DP_TCP_LAST_ACK:
		tcp_conn_done(st, c, 0);
		break;
	default:
		break;
	}
}

/* Returns false if the segment must be dropped after the ACK field was looked at. */
static bool ack_input(struct dp_stack *st, struct dp_conn *c, const struct seg *s)
{
	/* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]. */
	if (TCP_SEQ_GT(s->ack, c->snd_max) ||
	    TCP_SEQ_LT(s->ack, c->snd_una - c->max_snd_wnd)) {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_BAD_ACK);
		challenge_ack(st, c);
		return false;
	}
	uint32_t wnd = s->wnd << c->snd_ws;
	if (TCP_SEQ_GT(s->ack, c->snd_una)) {
		new_ack(st, c, s);
	} else if (s->ack == c->snd_una && s->orig_len == 0 &&
		   !(s->flags & (TCP_FL_SYN | TCP_FL_FIN)) && c->snd_max != c->snd_una &&
		   wnd == c->snd_wnd && !c->persist) {
		/* RFC 5681 §2 duplicate ACK. */
		c->dupacks++;
		c->stats.dup_acks_in++;
		dp_ctr_inc(st, DP_CTR_TCP_DUP_ACKS_IN);
		if (c->in_recovery) {
			c->cwnd += c->mss; /* inflate: a segment has left the network */
		} else if (c->dupacks == 3 && TCP_SEQ_GT(s->ack - 1, c->recover - 1) ) {
			/* RFC 6582 §3.2 step 2: only when the ACK covers more than recover,
			 * so one loss event does not trigger twice. */
			uint32_t flight = c->snd_max - c->snd_una;
			c->ssthresh = RTE_MAX(flight / 2, 2u * c->mss);
			c->recover = c->snd_max;
			c->in_recovery = true;
			c->stats.fast_retransmits++;
			dp_ctr_inc(st, DP_CTR_TCP_FAST_RETRANSMITS);
			tcp_retransmit_one(st, c);
			c->cwnd = c->ssthresh + 3u * c->mss;
		}
	}
	/* Window update (RFC 9293 §3.10.7.4, SND.WL1/WL2 rule). */
	if (TCP_SEQ_LT(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && TCP_SEQ_LEQ(c->snd_wl2, s->ack))) {
		if (wnd == 0 && c->snd_wnd != 0) {
			c->stats.zero_window_seen++;
			dp_ctr_inc(st, DP_CTR_TCP_ZERO_WINDOW_SEEN);
		}
		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (wnd > 0 && c->persist) {
			c->persist = false;
			c->nrtx = 0;
			if (c->snd_una == c->snd_max)
				dp_timer_cancel(&st->wheel, &c->t_rtx);
			else
				tcp_arm_rtx(st, c);
		}
	}
	if (c->fin_queued && TCP_SEQ_GT(c->snd_una, c->snd_end))
		fin_acked(st, c);
	return true;
}

static bool seq_acceptable(const struct dp_conn *c, uint32_t seq, uint32_t seglen)
{
	uint32_t wnd = TCP_SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	if (seglen == 0) {
		if (wnd == 0)
			return seq == c->rcv_nxt;
		return TCP_SEQ_GEQ(seq, c->rcv_nxt) && TCP_SEQ_LT(seq, c->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	uint32_t last = seq + seglen - 1;
	return (TCP_SEQ_GEQ(seq, c->rcv_nxt) && TCP_SEQ_LT(seq, c->rcv_nxt + wnd)) ||
	       (TCP_SEQ_GEQ(last, c->rcv_nxt) && TCP_SEQ_LT(last, c->rcv_nxt + wnd));
}

static void conn_input(struct dp_stack *st, struct dp_conn *c, struct rte_mbuf *m,
		       const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *th, struct seg *s)
{
	c->stats.segs_in++;
	c->last_rx_us = st->now_us;
	if (c->state == DP_TCP_SYN_SENT) {
		syn_sent_input(st, c, ip, th, s);
		rte_pktmbuf_free(m);
		return;
	}
	uint8_t fl = s->flags;
	uint32_t seglen = s->len + ((fl & TCP_FL_SYN) ? 1 : 0) + ((fl & TCP_FL_FIN) ? 1 : 0);

	/* A retransmitted SYN while we wait in SYN_RCVD: our SYN-ACK was lost. */
	if (c->state == DP_TCP_SYN_RCVD && (fl & TCP_FL_SYN) && !(fl & (TCP_FL_ACK | TCP_FL_RST)) &&
	    s->seq == c->irs) {
		tcp_send_syn(st, c);
		goto drop;
	}
	/* A new SYN for a connection in TIME_WAIT, above the old sequence space (and with a newer
	 * timestamp if any): the old incarnation is over, the listener takes the new one
	 * (RFC 9293 §3.6.1 note, RFC 6191). */
	if (c->state == DP_TCP_TIME_WAIT && (fl & TCP_FL_SYN) && !(fl & (TCP_FL_ACK | TCP_FL_RST)) &&
	    TCP_SEQ_GT(s->seq, c->rcv_nxt) &&
	    (!c->ts_ok || !s->has_ts || TCP_SEQ_GT(s->tsval, c->ts_recent))) {
		struct dp_conn *l = tcp_find_listener(st, c->lip, c->lport);
		if (l) {
			tcp_conn_done(st, c, 0);
			listen_input(st, l, ip, th, s);
			goto drop;
		}
	}
	/* PAWS (RFC 7323 §5.3): a timestamp older than ts_recent marks an old duplicate. */
	if (c->ts_ok && s->has_ts && !(fl & TCP_FL_RST) && TCP_SEQ_LT(s->tsval, c->ts_recent)) {
		/* RFC 7323 §5.5: after 24 days idle ts_recent is stale, not the segment. */
		if (st->now_us - c->ts_recent_us <= 24ull * 86400 * 1000000) {
			c->stats.paws_drops++;
			dp_ctr_inc(st, DP_CTR_DROP_TCP_PAWS);
			tcp_send_ack(st, c);
			goto drop;
		}
	}
	uint32_t wnd = TCP_SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	bool ok = seq_acceptable(c, s->seq, seglen);
	if (!ok && wnd == 0 && s->seq == c->rcv_nxt && !(fl & (TCP_FL_SYN | TCP_FL_RST))) {
		/* A zero-window probe: the data cannot be taken, but its ACK and window are
		 * valid (RFC 9293 §3.10.7.4 "special allowance"); answer with our ACK. */
		s->len = 0;
		fl &= (uint8_t)~TCP_FL_FIN;
		s->flags = fl;
		seglen = 0;
		c->ack_pending = true;
		tcp_burst_note(st, c);
		ok = true;
	}
	if (!ok && (fl & TCP_FL_ACK) && !(fl & (TCP_FL_SYN | TCP_FL_RST)) &&
	    TCP_SEQ_LEQ(s->seq + seglen, c->rcv_nxt) && c->state != DP_TCP_TIME_WAIT) {
		/* An old duplicate (e.g. a go-back-N retransmission of data we already have):
		 * the data goes, but its ACK field is current and is used, as BSD does. Without
		 * this, two senders that both rewound after a timeout would each discard the
		 * other's ACKs. The duplicate is acknowledged at once. */
		dp_ctr_inc(st, DP_CTR_DROP_TCP_OUT_OF_WINDOW);
		tcp_send_ack(st, c);
		s->len = 0;
		fl &= (uint8_t)~TCP_FL_FIN;
		s->flags = fl;
		s->seq = c->rcv_nxt;
		seglen = 0;
		ok = true;
	}
	if (!ok) {
		if (fl & TCP_FL_RST)
			goto drop;
		if (fl & TCP_FL_SYN) {
			challenge_ack(st, c); /* RFC 5961 §4 */
			goto drop;
		}
		dp_ctr_inc(st, DP_CTR_DROP_TCP_OUT_OF_WINDOW);
		if (c->state == DP_TCP_TIME_WAIT && (fl & TCP_FL_FIN))
			dp_timer_arm(&st->wheel, &c->t_long, st->now_us + st->cfg.time_wait_us);
		tcp_send_ack(st, c);
		goto drop;
	}
	if (fl & TCP_FL_RST) {
		c->stats.rsts_in++;
		dp_ctr_inc(st, DP_CTR_TCP_RSTS_IN);
		if (s->seq != c->rcv_nxt) { /* RFC 5961 §3.2: in window but not exact */
			challenge_ack(st, c);
			goto drop;
		}
		if (c->state == DP_TCP_SYN_RCVD && c->passive && !c->accepted)
			tcp_conn_free(st, c); /* back to LISTEN: the listener simply forgets it */
		else if (c->state == DP_TCP_TIME_WAIT)
			/* Both FINs were exchanged: the connection ended in order, the RST only
			 * shortens TIME_WAIT (e.g. the peer answered a late duplicate of ours). */
			tcp_conn_done(st, c, 0);
		else
			tcp_conn_done(st, c, c->state == DP_TCP_SYN_RCVD ? DP_TCP_EREFUSED
									: DP_TCP_ERESET);
		goto drop;
	}
	if (fl & TCP_FL_SYN) {
		challenge_ack(st, c); /* RFC 5961 §4: any SYN in a synchronized state */
		goto drop;
	}
	if (!(fl & TCP_FL_ACK))
		goto drop;
	if (c->ts_ok && s->has_ts && TCP_SEQ_LEQ(s->seq, c->last_ack_sent) &&
	    TCP_SEQ_LEQ(c->last_ack_sent, s->seq + seglen)) {
		c->ts_recent = s->tsval; /* RFC 7323 §4.3 */
		c->ts_recent_us = st->now_us;
	}
	if (c->state == DP_TCP_SYN_RCVD) {
		if (TCP_SEQ_LEQ(s->ack, c->snd_una) || TCP_SEQ_GT(s->ack, c->snd_max)) {
			tcp_send_rst_reply(st, ip, th, s->len);
			goto drop;
		}
		if (c->nrtx == 0)
			update_rtt(st, c, (uint32_t)(st->now_us - c->rtt_start_us));
		c->snd_una = s->ack;
		c->snd_nxt = TCP_SEQ_MAX(c->snd_nxt, s->ack);
		c->snd_wnd = s->wnd << c->snd_ws;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		dp_timer_cancel(&st->wheel, &c->t_rtx);
		bool fin_pending = c->fin_queued;
		established(st, c);
		if (fin_pending)
			c->state = DP_TCP_FIN_WAIT_1;
		if (c->passive && !c->accepted) {
			struct dp_conn *l = &st->conns[c->listener];
			l->acceptq[(l->aq_head + l->aq_len) % st->cfg.max_backlog] = c->idx;
			l->aq_len++;
			dp_conn_event(st, l, DP_EV_ACCEPT);
		} else {
			dp_conn_event(st, c, DP_EV_CONNECTED);
		}
	} else if (!ack_input(st, c, s)) {
		goto drop;
	}
	if (c->kind != CONN_TCP || c->state == DP_TCP_CLOSED)
		goto drop; /* the ACK completed LAST_ACK */

	switch (c->state) {
	case DP_TCP_ESTABLISHED:
	case DP_TCP_FIN_WAIT_1:
	case DP_TCP_FIN_WAIT_2:
		break;
	default:
		/* After the peer's FIN no new data can come; a retransmitted FIN was already
		 * answered by the acceptability test. */
		if (s->len || (fl & TCP_FL_FIN)) {
			c->ack_pending = true;
			tcp_burst_note(st, c);
		}
		tcp_burst_note(st, c);
		goto drop;
	}
	uint32_t seq = s->seq, len = s->len;
	bool fin = (fl & TCP_FL_FIN) != 0;
	if (TCP_SEQ_LT(seq, c->rcv_nxt)) { /* already have the front */
		uint32_t cut = c->rcv_nxt - seq;
		if (cut >= len) {
			len = 0;
			if (m) {
				rte_pktmbuf_free(m);
				m = NULL;
			}
			if (fin && cut > s->len)
				fin = false; /* the FIN too was old */
		} else {
			m = trim_front(m, cut);
			len -= cut;
		}
		seq = c->rcv_nxt;
	}
	if (TCP_SEQ_GT(seq + len, c->rcv_adv)) { /* beyond the window: keep what fits */
		uint32_t keep = c->rcv_adv - seq;
		trim_to(m, keep);
		len = keep;
		fin = false;
	}
	if (len == 0 && m) {
		rte_pktmbuf_free(m);
		m = NULL;
	} else if (len) {
		m = trim_front(m, 0); /* drop empty leading segments (header mbufs) */
	}
	if (len || fin)
		data_input(st, c, m, seq, len, fin);
	else
		tcp_burst_note(st, c); /* the ACK may have opened the window: output at burst end */
	return;
drop:
	if (m)
		rte_pktmbuf_free(m);
}

void tcp_input(struct dp_stack *st, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
	       uint32_t l4_off)
{
	uint32_t l4_len = rte_pktmbuf_pkt_len(m) - l4_off;
	if (l4_len < DP_TCP_HLEN || rte_pktmbuf_data_len(m) < l4_off + DP_TCP_HLEN) {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_BAD_HDR);
		goto drop;
	}
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, l4_off);
	uint32_t doff = (uint32_t)(th->data_off >> 4) * 4;
	if (doff < DP_TCP_HLEN || doff > l4_len || rte_pktmbuf_data_len(m) < l4_off + doff) {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_BAD_HDR);
		goto drop;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	    dp_l4_cksum(ip, m, l4_off, l4_len) != 0) {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_CSUM);
		goto drop;
	}
	dp_ctr_inc(st, DP_CTR_TCP_SEGS_IN);
	struct seg s = {0};
	s.seq = rte_be_to_cpu_32(th->sent_seq);
	s.ack = rte_be_to_cpu_32(th->recv_ack);
	s.wnd = rte_be_to_cpu_16(th->rx_win);
	s.flags = th->tcp_flags & 0x3f;
	s.len = l4_len - doff;
	s.orig_len = s.len;
	if (doff > DP_TCP_HLEN)
		parse_options(st, (const uint8_t *)(th + 1), doff - DP_TCP_HLEN, &s);
	uint32_t rip = rte_be_to_cpu_32(ip->src_addr);
	uint16_t sport = rte_be_to_cpu_16(th->src_port);
	uint16_t dport = rte_be_to_cpu_16(th->dst_port);
	if (sport == 0 || dport == 0 || rip == 0 || rip == UINT32_MAX || (rip >> 28) == 0xe) {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_BAD_HDR);
		goto drop;
	}
	struct dp_conn *c = tcp_lookup(st, st->cfg.ip, dport, rip, sport);
	if (c) {
		/* Headers stay readable: adj only moves data_off. */
		rte_pktmbuf_adj(m, (uint16_t)(l4_off + doff));
		conn_input(st, c, m, ip, th, &s);
		tcp_check_invariants(st, c);
		return;
	}
	struct dp_conn *l = tcp_find_listener(st, st->cfg.ip, dport);
	if (l) {
		listen_input(st, l, ip, th, &s);
	} else {
		dp_ctr_inc(st, DP_CTR_DROP_TCP_NO_CONN);
		tcp_send_rst_reply(st, ip, th,
				   s.len + ((s.flags & TCP_FL_SYN) ? 1 : 0) +
					   ((s.flags & TCP_FL_FIN) ? 1 : 0));
	}
drop:
	rte_pktmbuf_free(m);
}
