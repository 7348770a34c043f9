/* tcp_test_peer.h - a scripted TCP peer for white-box stack tests: one stack instance, a
 * virtual clock, crafted segments in, parsed segments out. Header-only, test code. */
#ifndef TCP_TEST_PEER_H
#define TCP_TEST_PEER_H

#include <string.h>
#include <stdlib.h>

#include <criterion/criterion.h>
#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "../../dataplane/dp_stack_priv.h"
#include "dp_stack.h"
#include "dp_test_eal.h"

/* RTE_IPV4() shifts an int into the sign bit (undefined behaviour under UBSan). */
#define TP_IPV4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define US_IP TP_IPV4(198, 18, 0, 1)
#define PEER_IP TP_IPV4(198, 18, 0, 2)
#define US_PORT 5001
#define PEER_PORT 40000
#define PEER_ISS 1000000u
#define F_FIN RTE_TCP_FIN_FLAG
#define F_SYN RTE_TCP_SYN_FLAG
#define F_RST RTE_TCP_RST_FLAG
#define F_PSH RTE_TCP_PSH_FLAG
#define F_ACK RTE_TCP_ACK_FLAG

static const struct rte_ether_addr us_mac = {{0x02, 0, 0, 0, 0, 1}};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 2}};

/* One captured segment. */
struct cap {
	uint8_t flags;
	uint32_t seq, ack, len;
	uint16_t win;
	uint16_t sport, dport;
	bool has_mss, has_ws, has_ts, has_sackp;
	unsigned n_sack;
	uint32_t sack_l[4], sack_r[4];
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint8_t data[2048];
	bool is_arp;
	uint16_t arp_op;
	uint32_t arp_tip;
	bool is_icmp;
	uint8_t icmp_type;
	uint32_t ip_dst;
	uint8_t ttl;
};

static struct rte_mempool *tp_pool;
static struct dp_stack *tp_st;
static uint64_t tp_now = 1000000; /* virtual clock, us */
static struct dp_stack_config tp_cfg;

/* Options the crafted peer segments carry. */
struct popts {
	int mss;     /* 0 = none */
	int ws;      /* -1 = none */
	bool ts;
	bool sackp;
	uint32_t tsval, tsecr;
};

static inline void tp_defaults(void)
{
	dp_stack_config_defaults(&tp_cfg);
	tp_cfg.mac = us_mac;
	tp_cfg.ip = US_IP;
	tp_cfg.netmask = 0xffffff00;
	tp_cfg.arp_static[0].ip = PEER_IP;
	tp_cfg.arp_static[0].mac = peer_mac;
	tp_cfg.n_arp_static = 1;
	tp_cfg.max_conns = 16;
	tp_cfg.rto_min_us = 200000;
	tp_cfg.rto_initial_us = 1000000;
	tp_cfg.isn_fixed_set = true;
	tp_cfg.isn_fixed = 5000;
	tp_cfg.rcv_buf = 65535;
	tp_cfg.window_scaling = false;
	tp_cfg.timestamps = false;
}

static inline void tp_pool_init(void)
{
	dp_test_eal_init();
	if (tp_pool == NULL) {
		tp_pool = rte_pktmbuf_pool_create("tp_pool", 8191, 0, 0,
						  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		cr_assert_not_null(tp_pool);
	}
}

static inline void tp_start(void)
{
	tp_pool_init();
	tp_cfg.pool = tp_pool;
	char err[128];
	tp_st = dp_stack_create(&tp_cfg, err, sizeof(err));
	cr_assert_not_null(tp_st, "%s", err);
	dp_stack_poll(tp_st, tp_now);
}

static inline void tp_stop(void)
{
	cr_expect_eq(dp_stack_counter(tp_st, DP_CTR_INVARIANT_RTX_TIMER), 0,
		     "a connection had unacked data without an RTO timer");
	dp_stack_destroy(tp_st);
	tp_st = NULL;
	/* Every mbuf (stack's and test's) must be back in the pool. */
	cr_expect_eq(rte_mempool_in_use_count(tp_pool), 0, "mbufs leaked: %u",
		     rte_mempool_in_use_count(tp_pool));
}

/* Crafts one segment from the peer to us and feeds it to the stack. */
static inline void tp_send_full(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
			 uint32_t ack, uint16_t win, const void *data, uint32_t len,
			 const struct popts *po, bool bad_csum)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tp_pool);
	cr_assert_not_null(m);
	uint8_t opts[40];
	uint8_t ol = 0;
	if (po) {
		if (po->mss) {
			opts[ol++] = 2;
			opts[ol++] = 4;
			opts[ol++] = (uint8_t)(po->mss >> 8);
			opts[ol++] = (uint8_t)po->mss;
		}
		if (po->ws >= 0) {
			opts[ol++] = 1;
			opts[ol++] = 3;
			opts[ol++] = 3;
			opts[ol++] = (uint8_t)po->ws;
		}
		if (po->sackp) {
			opts[ol++] = 1;
			opts[ol++] = 1;
			opts[ol++] = 4;
			opts[ol++] = 2;
		}
		if (po->ts) {
			opts[ol++] = 1;
			opts[ol++] = 1;
			opts[ol++] = 8;
			opts[ol++] = 10;
			uint32_t v = rte_cpu_to_be_32(po->tsval), e = rte_cpu_to_be_32(po->tsecr);
			memcpy(opts + ol, &v, 4);
			memcpy(opts + ol + 4, &e, 4);
			ol += 8;
		}
	}
	uint32_t tot = 14 + 20 + 20 + ol + len;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)tot);
	cr_assert_not_null(p);
	memset(p, 0, tot);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	eh->dst_addr = us_mac;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(tot - 14));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(US_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((20 + ol) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	memcpy(th + 1, opts, ol);
	if (len)
		memcpy((uint8_t *)(th + 1) + ol, data, len);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	if (bad_csum)
		th->cksum ^= 0x5555;
	dp_stack_rx_burst(tp_st, tp_now, &m, 1);
}

static inline void tp_send(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, const void *data,
		    uint32_t len)
{
	tp_send_full(PEER_PORT, US_PORT, flags, seq, ack, win, data, len, NULL, false);
}

static inline void tp_send_o(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, const void *data,
		      uint32_t len, const struct popts *po)
{
	tp_send_full(PEER_PORT, US_PORT, flags, seq, ack, win, data, len, po, false);
}

static inline void parse_cap(struct rte_mbuf *m, struct cap *c)
{
	memset(c, 0, sizeof(*c));
	uint8_t buf[4096];
	uint32_t n = rte_pktmbuf_pkt_len(m);
	cr_assert_leq(n, sizeof(buf));
	const uint8_t *p = rte_pktmbuf_read(m, 0, n, buf);
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)p;
	if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *ah = (const struct rte_arp_hdr *)(eh + 1);
		c->is_arp = true;
		c->arp_op = rte_be_to_cpu_16(ah->arp_opcode);
		c->arp_tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
		return;
	}
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
	cr_assert_eq(rte_raw_cksum(ip, 20), 0xffff, "IP checksum");
	c->ip_dst = rte_be_to_cpu_32(ip->dst_addr);
	c->ttl = ip->time_to_live;
	uint32_t iplen = rte_be_to_cpu_16(ip->total_length);
	cr_assert_eq(iplen + 14, n, "IP total length %u vs frame %u", iplen, n);
	if (ip->next_proto_id == IPPROTO_ICMP) {
		c->is_icmp = true;
		c->icmp_type = ((const struct rte_icmp_hdr *)(ip + 1))->icmp_type;
		cr_assert_eq(rte_raw_cksum(ip + 1, iplen - 20), 0xffff, "ICMP checksum");
		return;
	}
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);
	cr_assert_eq(rte_ipv4_udptcp_cksum_verify(ip, th), 0, "TCP checksum");
	uint32_t doff = (uint32_t)(th->data_off >> 4) * 4;
	c->flags = th->tcp_flags;
	c->seq = rte_be_to_cpu_32(th->sent_seq);
	c->ack = rte_be_to_cpu_32(th->recv_ack);
	c->win = rte_be_to_cpu_16(th->rx_win);
	c->sport = rte_be_to_cpu_16(th->src_port);
	c->dport = rte_be_to_cpu_16(th->dst_port);
	c->len = iplen - 20 - doff;
	memcpy(c->data, (const uint8_t *)th + doff, RTE_MIN(c->len, (uint32_t)sizeof(c->data)));
	const uint8_t *o = (const uint8_t *)(th + 1);
	for (uint32_t i = 0; i < doff - 20;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (o[i] == 2) {
			c->has_mss = true;
			c->mss = (uint16_t)((o[i + 2] << 8) | o[i + 3]);
		} else if (o[i] == 3) {
			c->has_ws = true;
			c->ws = o[i + 2];
		} else if (o[i] == 4) {
			c->has_sackp = true;
		} else if (o[i] == 5) {
			for (unsigned b = 0; b < (o[i + 1] - 2u) / 8 && b < 4; b++) {
				uint32_t l, r;
				memcpy(&l, o + i + 2 + 8 * b, 4);
				memcpy(&r, o + i + 6 + 8 * b, 4);
				c->sack_l[b] = rte_be_to_cpu_32(l);
				c->sack_r[b] = rte_be_to_cpu_32(r);
				c->n_sack = b + 1;
			}
		} else if (o[i] == 8) {
			c->has_ts = true;
			uint32_t v, e;
			memcpy(&v, o + i + 2, 4);
			memcpy(&e, o + i + 6, 4);
			c->tsval = rte_be_to_cpu_32(v);
			c->tsecr = rte_be_to_cpu_32(e);
		}
		i += o[i + 1];
	}
}

/* Packets whose checksums tp_nic_finish() completed (TX checksum offload tests). */
static unsigned tp_nic_ip_done, tp_nic_tcp_done;

/* Plays the NIC for a packet that asks for TX checksum offload: checks the DPDK contract
 * (RTE_MBUF_F_TX_IPV4 with any checksum flag, l2_len/l3_len/l4_len, IPv4 checksum field 0,
 * the pseudo-header sum in the TCP checksum field) and then computes the checksums over the
 * whole chain, as a device would, so that parse_cap() can verify the result as the peer
 * would. Packets without offload flags are left alone. */
static inline void tp_nic_finish(struct rte_mbuf *m)
{
	uint64_t fl = m->ol_flags;
	bool ip_ck = (fl & RTE_MBUF_F_TX_IP_CKSUM) != 0;
	bool tcp_ck = (fl & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM;
	cr_assert_eq(fl & RTE_MBUF_F_TX_L4_MASK & ~RTE_MBUF_F_TX_TCP_CKSUM, 0,
		     "only the TCP checksum is ever offloaded");
	if (!ip_ck && !tcp_ck)
		return;
	cr_assert(fl & RTE_MBUF_F_TX_IPV4, "RTE_MBUF_F_TX_IPV4 must go with any checksum offload");
	cr_assert_eq(m->l2_len, 14);
	cr_assert_eq(m->l3_len, 20);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	if (ip_ck) {
		cr_assert_eq(ip->hdr_checksum, 0, "the port computes the IPv4 checksum");
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tp_nic_ip_done++;
	}
	if (tcp_ck) {
		cr_assert_eq(ip->next_proto_id, IPPROTO_TCP);
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
		cr_assert_leq(14u + 20 + m->l4_len, m->data_len, "TCP header in the first segment");
		cr_assert_eq(m->l4_len, (th->data_off >> 4) * 4u);
		cr_assert_eq(th->cksum, rte_ipv4_phdr_cksum(ip, fl),
			     "the TCP checksum field holds the pseudo-header sum");
		uint32_t l4len = rte_pktmbuf_pkt_len(m) - 34;
		uint8_t buf[4096];
		cr_assert_leq(l4len, sizeof(buf));
		const uint8_t *l4 = rte_pktmbuf_read(m, 34, l4len, buf);
		uint16_t sum = rte_raw_cksum(l4, l4len); /* the field's pseudo sum included */
		th->cksum = (uint16_t)~sum;
		tp_nic_tcp_done++;
	}
	m->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
}

/* Drains what the stack wants to transmit into caps (up to max); returns the count. */
static inline unsigned tp_out(struct cap *caps, unsigned max)
{
	struct rte_mbuf *pk[64];
	unsigned n = 0, k;
	while ((k = dp_stack_tx_burst(tp_st, pk, 64)) > 0) {
		for (unsigned i = 0; i < k; i++) {
			tp_nic_finish(pk[i]);
			if (n < max)
				parse_cap(pk[i], &caps[n]);
			n++;
			rte_pktmbuf_free(pk[i]);
		}
	}
	return n;
}

/* Expects exactly one segment out and returns it. */
static inline struct cap tp_one(void)
{
	struct cap c[8];
	unsigned n = tp_out(c, 8);
	cr_assert_eq(n, 1, "expected one segment out, got %u", n);
	return c[0];
}

static inline void tp_none(void)
{
	struct cap c[8];
	unsigned n = tp_out(c, 8);
	cr_assert_eq(n, 0, "expected nothing out, got %u (first flags %#x seq %u)", n,
		     n ? c[0].flags : 0, n ? c[0].seq : 0);
}

static inline void tp_advance(uint64_t us)
{
	tp_now += us;
	dp_stack_poll(tp_st, tp_now);
}

/* Takes all events into ev; returns the OR of flags for handle h (0 if none). */
static inline uint32_t tp_events_for(dp_conn_t h, int *err)
{
	struct dp_event ev[64];
	unsigned n = dp_stack_events(tp_st, ev, 64);
	uint32_t fl = 0;
	for (unsigned i = 0; i < n; i++)
		if (ev[i].conn == h) {
			fl |= ev[i].flags;
			if (err)
				*err = ev[i].err;
		}
	return fl;
}

/* A listener on US_PORT and an established passive connection with the peer's ISS
 * PEER_ISS. Our ISS is tp_cfg.isn_fixed. Returns the accepted handle. */
static inline dp_conn_t tp_establish_passive_o(dp_conn_t *lst, uint16_t win, const struct popts *po)
{
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 8, &rc);
	cr_assert_neq(l, DP_CONN_INVALID, "listen rc %d", rc);
	tp_send_o(F_SYN, PEER_ISS, 0, win, NULL, 0, po);
	struct cap sa = tp_one();
	cr_assert_eq(sa.flags, F_SYN | F_ACK);
	cr_assert_eq(sa.ack, PEER_ISS + 1);
	struct popts po2 = po ? *po : (struct popts){.ws = -1};
	po2.mss = 0;
	po2.ws = -1;
	if (po2.ts)
		po2.tsecr = sa.tsval;
	tp_send_o(F_ACK, PEER_ISS + 1, sa.seq + 1, win, NULL, 0, po ? &po2 : NULL);
	tp_none();
	cr_assert(tp_events_for(l, NULL) & DP_EV_ACCEPT);
	dp_conn_t c = dp_tcp_accept(tp_st, l);
	cr_assert_neq(c, DP_CONN_INVALID);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_ESTABLISHED);
	if (lst)
		*lst = l;
	return c;
}

static inline dp_conn_t tp_establish_passive(dp_conn_t *lst)
{
	return tp_establish_passive_o(lst, 65535, NULL);
}

/* An application mbuf with len bytes of pattern starting at byte index off. */
static inline struct rte_mbuf *tp_app_mbuf(uint32_t len, uint32_t off)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tp_pool);
	cr_assert_not_null(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert_not_null(p);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)((off + i) * 7 + 3);
	return m;
}

static inline uint8_t tp_pattern(uint32_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* Reads everything queued for c into buf; returns the byte count. */
static inline uint32_t tp_read_all(dp_conn_t c, uint8_t *buf, uint32_t cap)
{
	struct rte_mbuf *ms[64];
	uint32_t got = 0;
	int n;
	while ((n = dp_tcp_recv(tp_st, c, ms, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			uint32_t l = rte_pktmbuf_pkt_len(ms[i]);
			cr_assert_leq(got + l, cap);
			uint8_t tmp[4096];
			const void *d = rte_pktmbuf_read(ms[i], 0, l, tmp);
			memcpy(buf + got, d, l);
			got += l;
			rte_pktmbuf_free(ms[i]);
		}
	}
	return got;
}

#endif /* TCP_TEST_PEER_H */
