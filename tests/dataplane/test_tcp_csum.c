/* TX checksum offload (dp_stack_config.tx_csum): with it the stack leaves the IPv4 and TCP
 * checksums to the port in the form DPDK prescribes, on every kind of segment, and never for
 * a chain the PMD could get wrong; without it (net_ring, net_memif) every checksum is
 * complete in software. tp_nic_finish() (tcp_test_peer.h) checks the contract and plays the
 * NIC; parse_cap() then verifies the checksums as the peer would. */
#define ALLOW_EXPERIMENTAL_API 1
#include "tcp_test_peer.h"

static void setup(void)
{
	tp_defaults();
	tp_nic_ip_done = tp_nic_tcp_done = 0;
}

static void teardown(void)
{
	tp_stop();
}

TestSuite(tcp_csum, .init = setup, .fini = teardown);

/* Takes exactly one packet from the stack without finishing its checksums. */
static struct rte_mbuf *take_raw(void)
{
	struct rte_mbuf *m[2];
	unsigned n = dp_stack_tx_burst(tp_st, m, 2);
	cr_assert_eq(n, 1, "expected one packet, got %u", n);
	return m[0];
}

/* Checks one raw offloaded TCP packet, plays the NIC, parses and frees it. */
static struct cap offloaded_tcp(struct rte_mbuf *m)
{
	cr_assert_eq(m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				    RTE_MBUF_F_TX_TCP_CKSUM),
		     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM);
	unsigned ip0 = tp_nic_ip_done, tcp0 = tp_nic_tcp_done;
	tp_nic_finish(m);
	cr_assert_eq(tp_nic_ip_done, ip0 + 1);
	cr_assert_eq(tp_nic_tcp_done, tcp0 + 1);
	struct cap c;
	parse_cap(m, &c);
	rte_pktmbuf_free(m);
	return c;
}

Test(tcp_csum, offload_covers_handshake_data_retransmission_and_rst)
{
	tp_cfg.tx_csum = DP_STACK_TX_CSUM_IPV4 | DP_STACK_TX_CSUM_TCP;
	tp_start();
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	cr_assert_neq(l, DP_CONN_INVALID);
	tp_send(F_SYN, PEER_ISS, 0, 65535, NULL, 0);
	struct cap sa = offloaded_tcp(take_raw());
	cr_assert_eq(sa.flags, F_SYN | F_ACK);
	tp_send(F_ACK, PEER_ISS + 1, sa.seq + 1, 65535, NULL, 0);
	tp_none();
	dp_conn_t c = dp_tcp_accept(tp_st, l);
	cr_assert_neq(c, DP_CONN_INVALID);

	/* A data segment: a header mbuf chained to the application's bytes (an even piece). */
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(400, 0)), DP_TCP_OK);
	struct rte_mbuf *m = take_raw();
	cr_assert_eq(m->nb_segs, 2, "header mbuf + the payload piece");
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	cr_assert_eq(ip->hdr_checksum, 0);
	struct cap d = offloaded_tcp(m);
	cr_assert_eq(d.len, 400u);
	cr_assert_eq(d.data[399], tp_pattern(399));

	/* The RTO retransmission gets a new header mbuf and the same treatment. */
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	tp_advance(in.rto_us);
	struct cap r = offloaded_tcp(take_raw());
	cr_assert_eq(r.seq, d.seq);
	cr_assert_eq(r.len, 400u);
	cr_assert_eq(r.data[0], tp_pattern(0));

	/* The ACK for data, and the RST for a segment without a connection. */
	uint8_t x[3] = {1, 2, 3};
	tp_send(F_ACK, PEER_ISS + 1, d.seq + 400, 65535, x, 3);
	struct cap a = offloaded_tcp(take_raw());
	cr_assert_eq(a.ack, PEER_ISS + 4);
	tp_send_full(PEER_PORT + 1, US_PORT + 1, F_ACK, 77, 88, 1000, NULL, 0, NULL, false);
	struct cap rst = offloaded_tcp(take_raw());
	cr_assert(rst.flags & F_RST);
	cr_assert_eq(rst.seq, 88u);

	uint8_t buf[16];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 3u);
	dp_tcp_abort(tp_st, c);
	dp_tcp_close(tp_st, l);
	tp_out(NULL, 0);
}

Test(tcp_csum, a_chain_with_an_odd_piece_is_summed_in_software)
{
	/* Pieces 101 | 33+77+255: the second segment's first pieces have odd lengths, so a PMD
	 * summing piece by piece in 16-bit words (net_tap) would get it wrong. The IPv4
	 * checksum is still the port's. */
	tp_cfg.tx_csum = DP_STACK_TX_CSUM_IPV4 | DP_STACK_TX_CSUM_TCP;
	tp_cfg.nagle = true;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	cr_assert_eq(tp_nic_tcp_done, 1, "the SYN-ACK was offloaded");
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(101, 0)), DP_TCP_OK);
	struct cap s = offloaded_tcp(take_raw()); /* one odd piece, but the last: fine */
	cr_assert_eq(s.len, 101u);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(33, 101)), DP_TCP_OK);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(77, 134)), DP_TCP_OK);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(255, 211)), DP_TCP_OK);
	tp_none();
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 101, 1000, NULL, 0);
	struct rte_mbuf *m = take_raw();
	cr_assert_eq(m->nb_segs, 4);
	cr_assert_eq(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0, "TCP checksum not offloaded");
	cr_assert(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM, "IPv4 checksum still offloaded");
	unsigned tcp0 = tp_nic_tcp_done;
	tp_nic_finish(m);
	cr_assert_eq(tp_nic_tcp_done, tcp0);
	parse_cap(m, &s); /* verifies the software TCP checksum over the whole chain */
	cr_assert_eq(s.len, 33u + 77 + 255);
	rte_pktmbuf_free(m);
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 466, 1000, NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_csum, ip_only_offload_leaves_the_tcp_checksum_in_software)
{
	tp_cfg.tx_csum = DP_STACK_TX_CSUM_IPV4;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(200, 0)), DP_TCP_OK);
	struct rte_mbuf *m = take_raw();
	cr_assert(m->ol_flags & RTE_MBUF_F_TX_IPV4);
	cr_assert(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	cr_assert_eq(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0);
	tp_nic_finish(m);
	struct cap s;
	parse_cap(m, &s);
	cr_assert_eq(s.len, 200u);
	rte_pktmbuf_free(m);
	cr_assert_eq(tp_nic_tcp_done, 0);
	cr_assert_eq(tp_nic_ip_done, 2u, "the SYN-ACK and the data segment");
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_csum, without_offload_every_checksum_is_complete)
{
	/* tx_csum = 0, as for net_ring and net_memif: no offload flag on anything, and the
	 * checksums verify without any help. */
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(300, 0)), DP_TCP_OK);
	struct rte_mbuf *m = take_raw();
	cr_assert_eq(m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				    RTE_MBUF_F_TX_L4_MASK), 0);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	cr_assert_neq(ip->hdr_checksum, 0);
	struct cap s;
	parse_cap(m, &s); /* asserts both checksums */
	cr_assert_eq(s.len, 300u);
	rte_pktmbuf_free(m);
	cr_assert_eq(tp_nic_ip_done + tp_nic_tcp_done, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}
