/* tcp_out.c - building and sending TCP segments. Payload is never copied: a segment is a
 * header mbuf from the stack's pool chained to indirect mbufs attached to the application's
 * mbufs in the send queue (the attach takes a reference, the driver's free drops it). */
#include <string.h>

#include "dp_stack_priv.h"

#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_TS 8
#define OPT_SACKP 4
#define OPT_SACK 5
/* Out-of-order blocks looked at when building SACK options (at most 4 fit anyway). */
#define DP_SACK_BLOCKS_SCAN 8

static uint8_t put_ts(const struct dp_stack *st, const struct dp_conn *c, uint8_t flags,
		      uint8_t *o);
static uint8_t put_sack(const struct dp_conn *c, uint8_t *o, uint8_t room);

static uint32_t ts_now(const struct dp_stack *st, const struct dp_conn *c)
{
	/* A 1 ms timestamp clock (RFC 7323 §5.4 asks for 1 ms..1 s per tick), offset per
	 * connection so the clock is not visible across connections. */
	return (uint32_t)(st->now_us / 1000) + c->ts_offset;
}

uint32_t tcp_rcv_window(const struct dp_stack *st, const struct dp_conn *c)
{
	uint32_t used = c->rq_bytes + c->ooo_bytes;
	uint32_t space = st->cfg.rcv_buf > used ? st->cfg.rcv_buf - used : 0;
	/* Each arriving segment takes a queue slot; do not invite more than the slots hold. */
	uint32_t slots = c->rq_cap - c->rq_len;
	slots = slots > c->n_ooo ? slots - c->n_ooo : 0;
	if ((uint64_t)slots * c->mss < space)
		space = slots * c->mss;
	uint32_t maxw = (uint32_t)65535 << c->rcv_ws;
	return space < maxw ? space : maxw;
}

/* The window field for a segment, and the right edge it announces (never moved left). */
static uint16_t window_field(const struct dp_stack *st, struct dp_conn *c)
{
	uint32_t space = tcp_rcv_window(st, c);
	uint32_t cur = TCP_SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* Receiver silly window avoidance (RFC 9293 §3.8.6.2.2): move the edge only by at
	 * least min(buffer / 2, MSS). */
	uint32_t thresh = RTE_MIN(st->cfg.rcv_buf / 2, (uint32_t)c->mss);
	uint32_t wnd = cur;
	if (space > cur && space - cur >= thresh)
		wnd = space;
	/* Round up so the edge the peer computes is never left of rcv_adv. */
	uint32_t field = (wnd + (1u << c->rcv_ws) - 1) >> c->rcv_ws;
	if (field > 65535)
		field = 65535;
	uint32_t edge = c->rcv_nxt + (field << c->rcv_ws);
	if (TCP_SEQ_GT(edge, c->rcv_adv))
		c->rcv_adv = edge;
	return (uint16_t)field;
}

static uint8_t build_opts(const struct dp_stack *st, const struct dp_conn *c, uint8_t flags,
			  uint32_t len, uint8_t *o)
{
	uint8_t n = 0;
	if (flags & TCP_FL_SYN) {
		o[n++] = OPT_MSS;
		o[n++] = 4;
		o[n++] = (uint8_t)(st->cfg.mss >> 8);
		o[n++] = (uint8_t)st->cfg.mss;
		/* On a SYN-ACK, only echo what the peer's SYN offered (RFC 7323 §2.2, §3.2). */
		bool synack = (flags & TCP_FL_ACK) != 0;
		if (st->cfg.window_scaling && (!synack || c->ws_ok)) {
			o[n++] = OPT_NOP;
			o[n++] = OPT_WS;
			o[n++] = 3;
			o[n++] = st->cfg.wscale;
		}
		bool sackp = st->cfg.sack && (!synack || c->sack_ok);
		bool ts = st->cfg.timestamps && (!synack || c->ts_ok);
		if (sackp) { /* with timestamps its two bytes take the place of two NOPs */
			if (!ts) {
				o[n++] = OPT_NOP;
				o[n++] = OPT_NOP;
			}
			o[n++] = OPT_SACKP;
			o[n++] = 2;
		}
		if (!ts)
			return n;
		if (!sackp) {
			o[n++] = OPT_NOP;
			o[n++] = OPT_NOP;
		}
		return (uint8_t)(n + put_ts(st, c, flags, o + n));
	}
	if (c->ts_ok) {
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
		n = (uint8_t)(n + put_ts(st, c, flags, o + n));
	}
	/* Only on segments without data: the send MSS leaves no room for SACK blocks. */
	if (c->sack_ok && c->n_ooo && (flags & TCP_FL_ACK) && len == 0)
		n = (uint8_t)(n + put_sack(c, o + n, (uint8_t)(40 - n)));
	return n;
}

static uint8_t put_ts(const struct dp_stack *st, const struct dp_conn *c, uint8_t flags,
		      uint8_t *o)
{
	uint8_t n = 0;
	o[n++] = OPT_TS;
	o[n++] = 10;
	uint32_t v = rte_cpu_to_be_32(ts_now(st, c));
	memcpy(o + n, &v, 4);
	uint32_t e = rte_cpu_to_be_32((flags & TCP_FL_ACK) ? c->ts_recent : 0);
	memcpy(o + n + 4, &e, 4);
	return (uint8_t)(n + 8);
}

/* RFC 2018 SACK blocks for the out-of-order queue: contiguous entries merge into one block;
 * the block holding the latest arrival goes first (§4), then the others from the left. */
static uint8_t put_sack(const struct dp_conn *c, uint8_t *o, uint8_t room)
{
	if (room < 2 + 2 + 8)
		return 0;
	unsigned max = (unsigned)(room - 4) / 8;
	uint32_t left[DP_SACK_BLOCKS_SCAN], right[DP_SACK_BLOCKS_SCAN];
	unsigned nb = 0;
	for (uint32_t i = 0; i < c->n_ooo && nb < DP_SACK_BLOCKS_SCAN; i++) {
		uint32_t s = c->ooo[i].seq, e = s + c->ooo[i].len;
		if (c->ooo[i].len == 0)
			continue; /* a bare FIN: SACK blocks cover data */
		if (nb && right[nb - 1] == s) {
			right[nb - 1] = e;
		} else {
			left[nb] = s;
			right[nb] = e;
			nb++;
		}
	}
	unsigned first = 0;
	for (unsigned b = 0; b < nb; b++)
		if (TCP_SEQ_GEQ(c->ooo_last_seq, left[b]) && TCP_SEQ_LT(c->ooo_last_seq, right[b]))
			first = b;
	uint8_t n = 0;
	o[n++] = OPT_NOP;
	o[n++] = OPT_NOP;
	o[n++] = OPT_SACK;
	uint8_t *lenp = &o[n++];
	unsigned put = 0;
	for (unsigned k = 0; k < nb && put < max; k++) {
		unsigned b = k == 0 ? first : (k <= first ? k - 1 : k);
		uint32_t l = rte_cpu_to_be_32(left[b]), r = rte_cpu_to_be_32(right[b]);
		memcpy(o + n, &l, 4);
		memcpy(o + n + 4, &r, 4);
		n = (uint8_t)(n + 8);
		put++;
	}
	*lenp = (uint8_t)(2 + 8 * put);
	return n;
}

/* Attaches payload [seq, seq + len) of the send queue to h. Returns the bytes attached (fewer
 * if mbufs ran out or the piece limit was reached). */
static uint32_t attach_payload(struct dp_stack *st, struct dp_conn *c, struct rte_mbuf *h,
			       uint32_t seq, uint32_t len)
{
	uint32_t pos = c->sq_head_seq, done = 0, i = 0;
	if (c->sq_hint < c->sq_len && TCP_SEQ_GEQ(seq, c->sq_hint_seq)) {
		i = c->sq_hint;
		pos = c->sq_hint_seq;
	}
	struct rte_mbuf *tail = h;
	unsigned pieces = 0;
	for (; i < c->sq_len && done < len; i++) {
		struct rte_mbuf *m = c->sq[(c->sq_head + i) % c->sq_cap];
		uint32_t mlen = rte_pktmbuf_data_len(m);
		uint32_t want = seq + done;
		if (TCP_SEQ_GEQ(want, pos + mlen)) {
			pos += mlen;
			continue;
		}
		c->sq_hint = i;
		c->sq_hint_seq = pos;
		if (pieces == DP_SEG_PIECES_MAX)
			break;
		uint32_t off = want - pos;
		uint32_t plen = RTE_MIN(mlen - off, len - done);
		struct rte_mbuf *ind = rte_pktmbuf_alloc(st->cfg.pool);
		if (ind == NULL) {
			dp_ctr_inc(st, DP_CTR_DROP_NO_MBUF);
			break;
		}
		rte_pktmbuf_attach(ind, m);
		ind->data_off = (uint16_t)(ind->data_off + off);
		ind->data_len = (uint16_t)plen;
		ind->pkt_len = plen;
		tail->next = ind;
		tail = ind;
		h->nb_segs++;
		h->pkt_len += plen;
		pieces++;
		done += plen;
		pos += mlen;
	}
	return done;
}

/* True when no payload piece but the last has an odd length, so every piece of the chain
 * starts on a 16-bit word of the TCP segment (the header segment's TCP part is a multiple of 4
 * bytes). Only then is the TCP checksum left to the PMD: net_tap in DPDK 22.11 sums the
 * pieces in 16-bit words one after the other, which goes wrong when a piece starts at an odd
 * offset (the same mistake as rte_raw_cksum_mbuf(), see docs/tcp.md). */
static bool pieces_even(const struct rte_mbuf *h)
{
	for (const struct rte_mbuf *m = h->next; m != NULL && m->next != NULL; m = m->next)
		if (m->data_len & 1)
			return false;
	return true;
}

static void xmit_raw(struct dp_stack *st, struct rte_mbuf *h, uint32_t lip, uint16_t lport,
		     uint32_t rip, uint16_t rport, uint32_t seq, uint32_t ack, uint8_t flags,
		     uint16_t win, const uint8_t *opts, uint8_t optlen)
{
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(h, struct rte_tcp_hdr *,
							 DP_ETH_HLEN + DP_IP_HLEN);
	th->src_port = rte_cpu_to_be_16(lport);
	th->dst_port = rte_cpu_to_be_16(rport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32((flags & TCP_FL_ACK) ? ack : 0);
	th->data_off = (uint8_t)(((DP_TCP_HLEN + optlen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (optlen)
		memcpy(th + 1, opts, optlen);
	/* The IPv4 header is completed by dp_ip_output; the checksum needs its addresses. */
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(h, struct rte_ipv4_hdr *, DP_ETH_HLEN);
	ip->src_addr = rte_cpu_to_be_32(lip);
	ip->dst_addr = rte_cpu_to_be_32(rip);
	ip->next_proto_id = IPPROTO_TCP;
	uint32_t l4_off = DP_ETH_HLEN + DP_IP_HLEN;
	uint32_t l4_len = rte_pktmbuf_pkt_len(h) - l4_off;
	if ((st->cfg.tx_csum & DP_STACK_TX_CSUM_TCP) && pieces_even(h)) {
		th->cksum = dp_l4_phdr_sum(ip, l4_len);
		h->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	} else {
		th->cksum = dp_l4_cksum(ip, h, l4_off, l4_len);
	}
	h->l4_len = (uint8_t)(DP_TCP_HLEN + optlen);
	dp_ctr_inc(st, DP_CTR_TCP_SEGS_OUT);
	dp_ip_output(st, h, rip, IPPROTO_TCP);
}

/* Sends one segment of connection c. Returns the payload bytes sent, or -1 if no mbuf. */
static int64_t xmit(struct dp_stack *st, struct dp_conn *c, uint32_t seq, uint32_t len,
		    uint8_t flags)
{
	struct rte_mbuf *h = dp_alloc_hdr(st);
	if (h == NULL)
		return -1;
	uint8_t opts[40];
	uint8_t optlen = build_opts(st, c, flags, len, opts);
	if (rte_pktmbuf_append(h, DP_ETH_HLEN + DP_IP_HLEN + DP_TCP_HLEN + optlen) == NULL) {
		rte_pktmbuf_free(h);
		return -1;
	}
	if (len) {
		uint32_t got = attach_payload(st, c, h, seq, len);
		if (got < len)
			flags &= (uint8_t)~TCP_FL_FIN; /* the FIN follows the last byte only */
		len = got;
		if (len == 0 && !(flags & (TCP_FL_FIN | TCP_FL_SYN))) {
			rte_pktmbuf_free(h);
			return -1;
		}
	}
	uint16_t win;
	if (flags & TCP_FL_SYN) /* RFC 7323 §2.2: the window in a SYN is never scaled */
		win = (uint16_t)RTE_MIN(tcp_rcv_window(st, c), 65535u);
	else
		win = window_field(st, c);
	if (flags & TCP_FL_SYN) {
		uint32_t edge = c->rcv_nxt + win;
		if (TCP_SEQ_GT(edge, c->rcv_adv))
			c->rcv_adv = edge;
	}
	if (flags & TCP_FL_ACK) {
		c->ack_pending = false;
		c->delack_segs = 0;
		c->last_ack_sent = c->rcv_nxt;
		if (dp_timer_armed(&c->t_delack))
			dp_timer_cancel(&st->wheel, &c->t_delack);
	}
	c->stats.segs_out++;
	c->stats.bytes_out += len;
	if (win == 0 && c->state >= DP_TCP_ESTABLISHED)
		dp_ctr_inc(st, DP_CTR_TCP_ZERO_WINDOW_SEEN);
	xmit_raw(st, h, c->lip, c->lport, c->rip, c->rport, seq, c->rcv_nxt, flags, win, opts,
		 optlen);
	return len;
}

void tcp_arm_rtx(struct dp_stack *st, struct dp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto_us << RTE_MIN(c->nrtx, 20u);
	if (rto > st->cfg.rto_max_us)
		rto = st->cfg.rto_max_us;
	dp_timer_arm(&st->wheel, &c->t_rtx, st->now_us + rto);
}

uint32_t tcp_ack_seq(const struct dp_conn *c)
{
	/* snd_max, not snd_nxt: after a timeout snd_nxt is rewound, and an ACK numbered below
	 * what the peer already holds would be unacceptable to it (BSD does the same). But never
	 * beyond the right edge of the peer's window: a peer whose window closed while we had
	 * data in flight beyond the new edge (Linux under memory pressure, or its window gone to
	 * zero while its application is blocked writing to us) finds SEG.SEQ = SND.MAX outside
	 * its window and drops the ACK unread (RFC 9293 §3.10.7.4; Linux's tcp_sequence()); with
	 * a zero window only SEG.SEQ = RCV.NXT passes. Both ends then wait for each other's
	 * backed-off retransmissions: the faults_bursts interop stall. The window's edge is as
	 * new as we can be sure the peer accepts (a scaled window is rounded down, so the
	 * peer's true edge is never left of ours). Linux's own tcp_acceptable_seq() allows
	 * snd_nxt up to one scale unit beyond the edge; Linux 6.18 drops exactly those ACKs
	 * when its window is zero and its receive queue is not empty (seen: 424 bytes beyond a
	 * zero window with a scale of 1024), so no slack here. */
	uint32_t edge = c->snd_una + c->snd_wnd;
	return TCP_SEQ_GEQ(edge, c->snd_max) ? c->snd_max : edge;
}

void tcp_send_ack(struct dp_stack *st, struct dp_conn *c)
{
	xmit(st, c, tcp_ack_seq(c), 0, TCP_FL_ACK);
}

void tcp_send_syn(struct dp_stack *st, struct dp_conn *c)
{
	uint8_t fl = c->state == DP_TCP_SYN_SENT ? TCP_FL_SYN : (TCP_FL_SYN | TCP_FL_ACK);
	if (c->nrtx == 0)
		c->rtt_start_us = st->now_us; /* the handshake gives the first RTT sample */
	xmit(st, c, c->iss, 0, fl);
	c->snd_nxt = c->iss + 1;
	if (TCP_SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	if (!dp_timer_armed(&c->t_rtx))
		tcp_arm_rtx(st, c);
}

void tcp_send_rst(struct dp_stack *st, struct dp_conn *c)
{
	c->stats.rsts_out++;
	dp_ctr_inc(st, DP_CTR_TCP_RSTS_OUT);
	xmit(st, c, c->snd_nxt, 0, TCP_FL_RST | TCP_FL_ACK);
}

void tcp_send_rst_reply(struct dp_stack *st, const struct rte_ipv4_hdr *ip,
			const struct rte_tcp_hdr *th, uint32_t seglen)
{
	/* RFC 9293 §3.10.7.1: never answer a RST; with ACK, seq = SEG.ACK; else
	 * seq = 0, ACK = SEG.SEQ + SEG.LEN. */
	if (th->tcp_flags & TCP_FL_RST)
		return;
	struct rte_mbuf *h = dp_alloc_hdr(st);
	if (h == NULL)
		return;
	if (rte_pktmbuf_append(h, DP_ETH_HLEN + DP_IP_HLEN + DP_TCP_HLEN) == NULL) {
		rte_pktmbuf_free(h);
		return;
	}
	uint32_t seq = 0, ack = 0;
	uint8_t fl = TCP_FL_RST;
	if (th->tcp_flags & TCP_FL_ACK) {
		seq = rte_be_to_cpu_32(th->recv_ack);
	} else {
		ack = rte_be_to_cpu_32(th->sent_seq) + seglen;
		fl |= TCP_FL_ACK;
	}
	dp_ctr_inc(st, DP_CTR_TCP_RSTS_OUT);
	xmit_raw(st, h, rte_be_to_cpu_32(ip->dst_addr), rte_be_to_cpu_16(th->dst_port),
		 rte_be_to_cpu_32(ip->src_addr), rte_be_to_cpu_16(th->src_port), seq, ack, fl, 0,
		 NULL, 0);
}

void tcp_send_keepalive(struct dp_stack *st, struct dp_conn *c)
{
	/* SEG.SEQ = SND.UNA - 1 with no data: the peer must answer with an ACK (RFC 9293
	 * §3.8.4); SND.UNA - 1 is old whatever is in flight. */
	dp_ctr_inc(st, DP_CTR_TCP_KEEPALIVE_PROBES);
	xmit(st, c, c->snd_una - 1, 0, TCP_FL_ACK);
}

void tcp_send_probe(struct dp_stack *st, struct dp_conn *c)
{
	/* Zero-window probe: one byte of new data beyond the closed window (RFC 9293
	 * §3.8.6.1). snd_nxt does not move; snd_max covers the byte so its ACK is acceptable. */
	c->stats.zero_window_probes++;
	dp_ctr_inc(st, DP_CTR_TCP_ZERO_WINDOW_PROBES);
	if (TCP_SEQ_LT(c->snd_nxt, c->snd_end)) {
		if (xmit(st, c, c->snd_nxt, 1, TCP_FL_ACK) > 0 &&
		    TCP_SEQ_GT(c->snd_nxt + 1, c->snd_max))
			c->snd_max = c->snd_nxt + 1;
	} else {
		tcp_send_keepalive(st, c);
	}
}

uint32_t tcp_retransmit_one(struct dp_stack *st, struct dp_conn *c)
{
	uint32_t data_end = c->snd_end;
	uint32_t top = TCP_SEQ_MIN(c->snd_max, data_end);
	uint32_t len = TCP_SEQ_GT(top, c->snd_una) ? RTE_MIN(top - c->snd_una, (uint32_t)c->mss) : 0;
	uint8_t fl = TCP_FL_ACK;
	/* The FIN rides on the segment if it had been sent and this segment reaches it. */
	if (c->fin_queued && TCP_SEQ_GT(c->snd_max, data_end) && c->snd_una + len == data_end)
		fl |= TCP_FL_FIN;
	if (len == 0 && !(fl & TCP_FL_FIN))
		return 0;
	if (len)
		fl |= TCP_FL_PSH;
	c->stats.retransmits++;
	dp_ctr_inc(st, DP_CTR_TCP_RETRANSMITS);
	if (c->rtt_timing && TCP_SEQ_GEQ(c->rtt_seq, c->snd_una))
		c->rtt_timing = false; /* Karn: never time a retransmitted segment */
	int64_t sent = xmit(st, c, c->snd_una, len, fl);
	return sent > 0 ? (uint32_t)sent : 0;
}

void tcp_output(struct dp_stack *st, struct dp_conn *c)
{
	switch (c->state) {
	case DP_TCP_ESTABLISHED:
	case DP_TCP_CLOSE_WAIT:
	case DP_TCP_FIN_WAIT_1:
	case DP_TCP_CLOSING:
	case DP_TCP_LAST_ACK:
		break;
	default:
		return;
	}
	bool no_mbuf = false;
	for (;;) {
		if (TCP_SEQ_GT(c->snd_nxt, c->snd_end))
			break; /* FIN already sent */
		/* RFC 3042 limited transmit: the first two duplicate ACKs each let one new
		 * segment out beyond cwnd, so a small window still gets its three duplicates. */
		uint32_t lt = (!c->in_recovery && c->dupacks > 0 && c->dupacks < 3 &&
			       c->snd_nxt == c->snd_max) ? c->dupacks * (uint32_t)c->mss : 0;
		uint32_t wnd = RTE_MIN(c->snd_wnd, c->cwnd + lt);
		uint32_t inflight = c->snd_nxt - c->snd_una;
		uint32_t usable = wnd > inflight ? wnd - inflight : 0;
		uint32_t unsent = c->snd_end - c->snd_nxt;
		uint32_t len = RTE_MIN(RTE_MIN(unsent, usable), (uint32_t)c->mss);
		bool fin = c->fin_queued && len == unsent;
		if (len == 0 && !fin)
			break;
		if (len < c->mss && len < unsent) {
			/* Sender silly window avoidance (RFC 9293 §3.8.6.2.1): a window-limited
			 * small segment waits unless nothing is in flight. */
			if (inflight > 0 && len < c->max_snd_wnd / 2)
				break;
		}
		if (st->cfg.nagle && len < c->mss && inflight > 0 && !fin)
			break;
		bool retrans = TCP_SEQ_LT(c->snd_nxt, c->snd_max);
		uint8_t fl = TCP_FL_ACK | (len ? TCP_FL_PSH : 0) | (fin ? TCP_FL_FIN : 0);
		int64_t sent = xmit(st, c, c->snd_nxt, len, fl);
		if (sent < 0) {
			no_mbuf = true;
			break;
		}
		if (retrans) {
			c->stats.retransmits++;
			dp_ctr_inc(st, DP_CTR_TCP_RETRANSMITS);
		} else if (!c->rtt_timing && sent > 0) {
			c->rtt_timing = true;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start_us = st->now_us;
		}
		if ((uint32_t)sent < len)
			fin = false;
		c->snd_nxt += (uint32_t)sent + (fin ? 1 : 0);
		if (TCP_SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (!dp_timer_armed(&c->t_rtx) || c->persist) {
			c->persist = false;
			tcp_arm_rtx(st, c);
		}
		if (fin || (uint32_t)sent < len)
			break;
	}
	/* Data waits and nothing is in flight, so no ACK will come to restart output: a closed
	 * window (the persist timer probes) or an empty mbuf pool (the same timer retries). */
	if (c->snd_una == c->snd_max && TCP_SEQ_LEQ(c->snd_nxt, c->snd_end) &&
	    (c->snd_nxt != c->snd_end || (c->fin_queued && no_mbuf)) &&
	    (c->snd_wnd == 0 || no_mbuf) && !dp_timer_armed(&c->t_rtx)) {
		c->persist = true;
		tcp_arm_rtx(st, c);
	}
}

void tcp_check_invariants(struct dp_stack *st, struct dp_conn *c)
{
	/* Unacknowledged data (or SYN/FIN) must always have the retransmission timer armed,
	 * otherwise the connection can stall forever on one lost segment. */
	if (c->kind == CONN_TCP && c->snd_una != c->snd_max && c->state != DP_TCP_CLOSED &&
	    c->state != DP_TCP_TIME_WAIT && !dp_timer_armed(&c->t_rtx)) {
		dp_ctr_inc(st, DP_CTR_INVARIANT_RTX_TIMER);
#if DP_CHECK_INVARIANTS_ABORT
		rte_panic("dp_stack: %s conn %u has %u unacked bytes and no RTO timer\n",
			  dp_tcp_state_name(c->state), c->idx, c->snd_max - c->snd_una);
#endif
	}
}
