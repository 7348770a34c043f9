/* Ethernet, ARP, IPv4 and ICMP echo: answers, requests, the cache (static entries, expiry),
 * the first packet queued while resolving, checksums, fragments, TTL. */
#define ALLOW_EXPERIMENTAL_API 1
#include "tcp_test_peer.h"

#define OTHER_IP TP_IPV4(198, 18, 0, 3)
static const struct rte_ether_addr other_mac = {{0x02, 0, 0, 0, 0, 3}};

static void setup(void)
{
	tp_defaults();
	tp_cfg.arp_timeout_us = 5000000;
	tp_start();
}

static void teardown(void)
{
	tp_stop();
}

TestSuite(arp_ip, .init = setup, .fini = teardown);

static void send_arp(uint16_t op, const struct rte_ether_addr *sha, uint32_t sip, uint32_t tip,
		     const struct rte_ether_addr *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tp_pool);
	cr_assert_not_null(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 14 + sizeof(struct rte_arp_hdr));
	cr_assert_not_null(p);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	eh->dst_addr = *dst;
	eh->src_addr = *sha;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = *sha;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	memset(&ah->arp_data.arp_tha, 0, 6);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	dp_stack_rx_burst(tp_st, tp_now, &m, 1);
}

static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static struct rte_mbuf *take_one(void)
{
	struct rte_mbuf *m;
	cr_assert_eq(dp_stack_tx_burst(tp_st, &m, 1), 1, "expected a packet");
	return m;
}

Test(arp_ip, request_for_our_address_is_answered_and_others_are_not)
{
	send_arp(RTE_ARP_OP_REQUEST, &other_mac, OTHER_IP, US_IP, &bcast);
	struct rte_mbuf *m = take_one();
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &other_mac));
	cr_assert(rte_is_same_ether_addr(&eh->src_addr, &us_mac));
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	cr_assert_eq(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REPLY);
	cr_assert_eq(rte_be_to_cpu_32(ah->arp_data.arp_sip), US_IP);
	cr_assert(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &us_mac));
	cr_assert_eq(rte_be_to_cpu_32(ah->arp_data.arp_tip), OTHER_IP);
	rte_pktmbuf_free(m);
	send_arp(RTE_ARP_OP_REQUEST, &other_mac, OTHER_IP, TP_IPV4(198, 18, 0, 77), &bcast);
	tp_none();
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_ARP_REPLIES_TX), 1);
}

Test(arp_ip, first_packet_is_queued_while_resolving_then_sent)
{
	int rc;
	dp_conn_t c = dp_tcp_connect(tp_st, OTHER_IP, 80, 40000, &rc);
	cr_assert_neq(c, DP_CONN_INVALID);
	struct cap o = tp_one();
	cr_assert(o.is_arp);
	cr_assert_eq(o.arp_op, RTE_ARP_OP_REQUEST);
	cr_assert_eq(o.arp_tip, OTHER_IP);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_ARP_QUEUED), 1);
	send_arp(RTE_ARP_OP_REPLY, &other_mac, OTHER_IP, US_IP, &us_mac);
	struct rte_mbuf *m = take_one();
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &other_mac), "SYN goes to the new MAC");
	struct cap s;
	parse_cap(m, &s);
	rte_pktmbuf_free(m);
	cr_assert_eq(s.flags, F_SYN);
	cr_assert_eq(s.ip_dst, OTHER_IP);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(arp_ip, second_packet_while_resolving_is_dropped_and_request_retried_later)
{
	int rc;
	dp_tcp_connect(tp_st, OTHER_IP, 80, 40000, &rc);
	tp_one();
	dp_tcp_connect(tp_st, OTHER_IP, 81, 40001, &rc);
	tp_none(); /* no second request within arp_retry_us */
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_ARP_PENDING), 1);
	tp_advance(tp_cfg.arp_retry_us);
	/* The SYN retransmissions re-trigger a request once arp_retry_us has passed. */
	struct cap o[4];
	unsigned n = tp_out(o, 4);
	cr_assert_geq(n, 1u);
	cr_assert(o[0].is_arp);
	for (uint32_t i = 0; i < tp_st->nconns; i++)
		if (tp_st->conns[i].kind == CONN_TCP)
			tcp_conn_free(tp_st, &tp_st->conns[i]);
}

Test(arp_ip, dynamic_entries_expire_and_static_ones_do_not)
{
	send_arp(RTE_ARP_OP_REQUEST, &other_mac, OTHER_IP, US_IP, &bcast);
	tp_out(NULL, 0);
	int rc;
	dp_conn_t c = dp_tcp_connect(tp_st, OTHER_IP, 80, 40000, &rc);
	struct cap o = tp_one();
	cr_assert(!o.is_arp, "learned from the request: no ARP needed");
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
	tp_advance(tp_cfg.arp_timeout_us);
	c = dp_tcp_connect(tp_st, OTHER_IP, 80, 40001, &rc);
	o = tp_one();
	cr_assert(o.is_arp, "expired entry: resolve again");
	dp_tcp_abort(tp_st, c);
	/* The static peer entry never expires. */
	c = dp_tcp_connect(tp_st, PEER_IP, 80, 40002, &rc);
	o = tp_one();
	cr_assert(!o.is_arp);
	cr_assert_eq(o.flags, F_SYN);
	/* Nor does the wire override it. */
	struct rte_ether_addr evil = {{0x02, 0x66, 0x66, 0x66, 0x66, 0x66}};
	send_arp(RTE_ARP_OP_REPLY, &evil, PEER_IP, US_IP, &us_mac);
	dp_tcp_abort(tp_st, c);
	c = dp_tcp_connect(tp_st, PEER_IP, 80, 40003, &rc);
	struct rte_mbuf *m = take_one();
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &peer_mac));
	rte_pktmbuf_free(m);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(arp_ip, off_link_destination_goes_to_gateway_or_is_dropped)
{
	int rc;
	dp_tcp_connect(tp_st, TP_IPV4(198, 19, 5, 5), 80, 40000, &rc);
	tp_none();
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_NO_ROUTE), 1);
	for (uint32_t i = 0; i < tp_st->nconns; i++)
		if (tp_st->conns[i].kind == CONN_TCP)
			tcp_conn_free(tp_st, &tp_st->conns[i]);
	dp_stack_destroy(tp_st);
	tp_cfg.gateway = PEER_IP;
	tp_start();
	dp_conn_t c = dp_tcp_connect(tp_st, TP_IPV4(198, 19, 5, 5), 80, 40000, &rc);
	struct rte_mbuf *m = take_one();
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &peer_mac), "via the gateway's MAC");
	rte_pktmbuf_free(m);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

/* An IPv4 packet from the peer with the given protocol and payload. */
static struct rte_mbuf *ip_pkt(uint8_t proto, const void *l4, uint16_t l4len, uint16_t frag,
			       uint32_t dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tp_pool);
	cr_assert_not_null(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + l4len));
	cr_assert_not_null(p);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	eh->dst_addr = us_mac;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	memset(ip, 0, 20);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
	ip->time_to_live = 3;
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(ip + 1, l4, l4len);
	return m;
}

static struct rte_mbuf *echo_request(uint16_t frag, uint32_t dst, bool bad_ip_csum)
{
	uint8_t icmp[64];
	memset(icmp, 0, sizeof(icmp));
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)icmp;
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = rte_cpu_to_be_16(7);
	ic->icmp_seq_nb = rte_cpu_to_be_16(9);
	for (int i = 8; i < 64; i++)
		icmp[i] = (uint8_t)i;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, sizeof(icmp));
	struct rte_mbuf *m = ip_pkt(IPPROTO_ICMP, icmp, sizeof(icmp), frag, dst);
	if (bad_ip_csum)
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14)->hdr_checksum ^= 1;
	return m;
}

Test(arp_ip, icmp_echo_request_gets_a_reply_in_place)
{
	struct rte_mbuf *m = echo_request(0, US_IP, false);
	dp_stack_rx_burst(tp_st, tp_now, &m, 1);
	struct rte_mbuf *r = take_one();
	cr_assert_eq(r, m, "the request mbuf itself becomes the reply (no copy)");
	struct cap c;
	parse_cap(r, &c);
	cr_assert(c.is_icmp);
	cr_assert_eq(c.icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	cr_assert_eq(c.ip_dst, PEER_IP);
	cr_assert_eq(c.ttl, DP_DEF_IP_TTL, "a fresh TTL, not the request's");
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(r, struct rte_icmp_hdr *, 34);
	cr_assert_eq(rte_be_to_cpu_16(ic->icmp_seq_nb), 9);
	cr_assert_eq(((uint8_t *)ic)[63], 63, "payload echoed");
	rte_pktmbuf_free(r);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_ICMP_ECHO_REPLIES), 1);
}

Test(arp_ip, icmp_echo_reply_leaves_the_ip_checksum_to_a_port_that_offers_it)
{
	dp_stack_destroy(tp_st);
	tp_cfg.tx_csum = DP_STACK_TX_CSUM_IPV4 | DP_STACK_TX_CSUM_TCP;
	tp_start();
	struct rte_mbuf *m = echo_request(0, US_IP, false);
	dp_stack_rx_burst(tp_st, tp_now, &m, 1);
	struct rte_mbuf *r = take_one();
	cr_assert(r->ol_flags & RTE_MBUF_F_TX_IPV4);
	cr_assert(r->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	cr_assert_eq(r->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0, "ICMP has its own checksum, in software");
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(r, struct rte_ipv4_hdr *, 14);
	cr_assert_eq(ip->hdr_checksum, 0);
	tp_nic_finish(r);
	struct cap c;
	parse_cap(r, &c); /* both checksums verified */
	cr_assert(c.is_icmp);
	cr_assert_eq(c.icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	rte_pktmbuf_free(r);
}

Test(arp_ip, bad_ip_checksum_fragments_and_foreign_addresses_are_dropped_and_counted)
{
	struct rte_mbuf *m[4] = {
		echo_request(0, US_IP, true),
		echo_request(RTE_IPV4_HDR_MF_FLAG, US_IP, false),
		echo_request(100, US_IP, false),
		echo_request(0, OTHER_IP, false),
	};
	dp_stack_rx_burst(tp_st, tp_now, m, 4);
	tp_none();
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_IP_CSUM), 1);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_IP_FRAGMENT), 2);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_IP_NOT_FOR_US), 1);
	uint8_t udp[8] = {0};
	struct rte_mbuf *u = ip_pkt(IPPROTO_UDP, udp, 8, 0, US_IP);
	dp_stack_rx_burst(tp_st, tp_now, &u, 1);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_IP_PROTO), 1);
}

Test(arp_ip, frames_for_other_macs_and_unknown_ethertypes_are_dropped)
{
	struct rte_mbuf *m = echo_request(0, US_IP, false);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = other_mac;
	dp_stack_rx_burst(tp_st, tp_now, &m, 1);
	m = echo_request(0, US_IP, false);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type = rte_cpu_to_be_16(0x86DD);
	dp_stack_rx_burst(tp_st, tp_now, &m, 1);
	m = echo_request(0, US_IP, false);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - 20));
	dp_stack_rx_burst(tp_st, tp_now, &m, 1);
	tp_none();
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_ETH_NOT_FOR_US), 1);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_ETH_TYPE), 1);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TRUNCATED), 1);
}

Test(arp_ip, ethernet_padding_is_not_taken_as_payload)
{
	dp_conn_t c = tp_establish_passive(NULL);
	/* A 1-byte segment padded to 60 bytes as a NIC would. */
	struct rte_mbuf *m = rte_pktmbuf_alloc(tp_pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 60);
	cr_assert_not_null(p);
	memset(p, 0xAA, 60);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	eh->dst_addr = us_mac;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	memset(ip, 0, 41);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(41);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(US_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(PEER_PORT);
	th->dst_port = rte_cpu_to_be_16(US_PORT);
	th->sent_seq = rte_cpu_to_be_32(PEER_ISS + 1);
	th->recv_ack = rte_cpu_to_be_32(5001);
	th->data_off = 5 << 4;
	th->tcp_flags = F_ACK;
	th->rx_win = rte_cpu_to_be_16(1000);
	((uint8_t *)(th + 1))[0] = 'Z';
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	dp_stack_rx_burst(tp_st, tp_now, &m, 1);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 2);
	uint8_t buf[64];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 1u);
	cr_assert_eq(buf[0], 'Z');
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}
