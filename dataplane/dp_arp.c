/* dp_arp.c - ARP: answers, requests, a small cache with expiry and static entries, and one
 * queued packet per address being resolved (RFC 826; RFC 1122 §2.3.2.2 asks to keep at least
 * the latest packet, we keep the first: the TCP segment that opened a connection). */
#include <string.h>

#include <rte_arp.h>
#include <rte_malloc.h>

#include "dp_stack_priv.h"

int dp_arp_init(struct dp_stack *st)
{
	st->n_arp = st->cfg.n_arp_static + st->cfg.arp_entries;
	st->arp = rte_zmalloc_socket("dp_arp", (st->n_arp ? st->n_arp : 1) * sizeof(*st->arp),
				     RTE_CACHE_LINE_SIZE, st->cfg.socket_id);
	if (st->arp == NULL)
		return -1;
	for (unsigned i = 0; i < st->cfg.n_arp_static; i++) {
		st->arp[i].ip = st->cfg.arp_static[i].ip;
		st->arp[i].mac = st->cfg.arp_static[i].mac;
		st->arp[i].state = ARP_STATIC;
	}
	return 0;
}

void dp_arp_fini(struct dp_stack *st)
{
	if (st->arp == NULL)
		return;
	for (uint32_t i = 0; i < st->n_arp; i++)
		if (st->arp[i].pending)
			rte_pktmbuf_free(st->arp[i].pending);
	rte_free(st->arp);
	st->arp = NULL;
}

static struct arp_entry *arp_find(struct dp_stack *st, uint32_t ip)
{
	struct arp_entry *e = &st->arp[st->arp_last];
	if (st->arp_last < st->n_arp && e->state != ARP_FREE && e->ip == ip)
		return e;
	for (uint32_t i = 0; i < st->n_arp; i++)
		if (st->arp[i].state != ARP_FREE && st->arp[i].ip == ip) {
			st->arp_last = i;
			return &st->arp[i];
		}
	return NULL;
}

/* A free slot, else the dynamic entry closest to expiry that has no packet waiting. */
static struct arp_entry *arp_slot(struct dp_stack *st)
{
	struct arp_entry *victim = NULL;
	for (uint32_t i = st->cfg.n_arp_static; i < st->n_arp; i++) {
		struct arp_entry *e = &st->arp[i];
		if (e->state == ARP_FREE)
			return e;
		if (e->state == ARP_VALID && e->expire_us <= st->now_us)
			return e;
		if (e->state == ARP_VALID && (victim == NULL || e->expire_us < victim->expire_us))
			victim = e;
	}
	return victim;
}

static void arp_send(struct dp_stack *st, uint16_t op, const struct rte_ether_addr *dst_mac,
		     uint32_t tip, const struct rte_ether_addr *tha)
{
	struct rte_mbuf *m = dp_alloc_hdr(st);
	if (m == NULL)
		return;
	uint16_t len = DP_ETH_HLEN + sizeof(struct rte_arp_hdr);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	eh->dst_addr = *dst_mac;
	eh->src_addr = st->cfg.mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = st->cfg.mac;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(st->cfg.ip);
	ah->arp_data.arp_tha = *tha;
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	dp_ctr_inc(st, op == RTE_ARP_OP_REPLY ? DP_CTR_ARP_REPLIES_TX : DP_CTR_ARP_REQUESTS_TX);
	dp_tx_enqueue(st, m);
}

static void fill_eth(struct dp_stack *st, struct rte_mbuf *m, const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	eh->dst_addr = *dst;
	eh->src_addr = st->cfg.mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
}

static void arp_learn(struct dp_stack *st, uint32_t ip, const struct rte_ether_addr *mac,
		      bool create)
{
	struct arp_entry *e = arp_find(st, ip);
	if (e && e->state == ARP_STATIC)
		return; /* static entries are never overridden by the wire */
	if (e == NULL) {
		if (!create)
			return;
		e = arp_slot(st);
		if (e == NULL) {
			dp_ctr_inc(st, DP_CTR_DROP_ARP_CACHE_FULL);
			return;
		}
		e->pending = NULL;
	}
	e->ip = ip;
	e->mac = *mac;
	e->state = ARP_VALID;
	e->expire_us = st->now_us + st->cfg.arp_timeout_us;
	if (e->pending) {
		struct rte_mbuf *m = e->pending;
		e->pending = NULL;
		fill_eth(st, m, mac);
		dp_tx_enqueue(st, m);
	}
}

void dp_arp_input(struct dp_stack *st, struct rte_mbuf *m)
{
	dp_ctr_inc(st, DP_CTR_ARP_RX);
	if (rte_pktmbuf_data_len(m) < DP_ETH_HLEN + sizeof(struct rte_arp_hdr)) {
		dp_ctr_inc(st, DP_CTR_DROP_TRUNCATED);
		rte_pktmbuf_free(m);
		return;
	}
	const struct rte_arp_hdr *ah = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
							       DP_ETH_HLEN);
	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4) {
		dp_ctr_inc(st, DP_CTR_DROP_ETH_TYPE);
		rte_pktmbuf_free(m);
		return;
	}
	uint32_t sip = rte_be_to_cpu_32(ah->arp_data.arp_sip);
	uint32_t tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
	struct rte_ether_addr sha = ah->arp_data.arp_sha;
	uint16_t op = rte_be_to_cpu_16(ah->arp_opcode);
	rte_pktmbuf_free(m);
	if (sip == 0 || rte_is_multicast_ether_addr(&sha))
		return;
	/* RFC 826: update an existing entry from any ARP; create one only if it is for us. */
	bool for_us = tip == st->cfg.ip;
	arp_learn(st, sip, &sha, for_us);
	if (for_us && op == RTE_ARP_OP_REQUEST)
		arp_send(st, RTE_ARP_OP_REPLY, &sha, sip, &sha);
}

void dp_arp_resolve_and_send(struct dp_stack *st, struct rte_mbuf *m, uint32_t dst_ip)
{
	uint32_t mask = st->cfg.netmask;
	uint32_t hop = dst_ip;
	if (mask && (dst_ip & mask) != (st->cfg.ip & mask)) {
		if (st->cfg.gateway == 0) {
			dp_ctr_inc(st, DP_CTR_DROP_NO_ROUTE);
			rte_pktmbuf_free(m);
			return;
		}
		hop = st->cfg.gateway;
	}
	struct arp_entry *e = arp_find(st, hop);
	if (e && (e->state == ARP_STATIC || (e->state == ARP_VALID && e->expire_us > st->now_us))) {
		fill_eth(st, m, &e->mac);
		dp_tx_enqueue(st, m);
		return;
	}
	if (e == NULL || e->state == ARP_VALID) { /* unknown or expired: resolve again */
		if (e == NULL) {
			e = arp_slot(st);
			if (e == NULL) {
				dp_ctr_inc(st, DP_CTR_DROP_ARP_CACHE_FULL);
				rte_pktmbuf_free(m);
				return;
			}
		}
		e->ip = hop;
		e->state = ARP_PENDING;
		e->pending = NULL;
		e->last_req_us = st->now_us;
		static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
		static const struct rte_ether_addr zero = {{0}};
		arp_send(st, RTE_ARP_OP_REQUEST, &bcast, hop, &zero);
	} else if (st->now_us - e->last_req_us >= st->cfg.arp_retry_us) {
		static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
		static const struct rte_ether_addr zero = {{0}};
		e->last_req_us = st->now_us;
		arp_send(st, RTE_ARP_OP_REQUEST, &bcast, hop, &zero);
	}
	if (e->pending == NULL) {
		e->pending = m;
		dp_ctr_inc(st, DP_CTR_ARP_QUEUED);
	} else {
		dp_ctr_inc(st, DP_CTR_DROP_ARP_PENDING);
		rte_pktmbuf_free(m);
	}
}
