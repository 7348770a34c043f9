/* TCP opening and closing: passive and active open, options, backlog, connect retry and
 * refusal, the four ways to close, TIME_WAIT; driven by a scripted peer and a virtual clock. */
#define ALLOW_EXPERIMENTAL_API 1
#include "tcp_test_peer.h"

static void setup(void)
{
	tp_defaults();
	tp_start();
}

static void teardown(void)
{
	tp_stop();
}

TestSuite(tcp_open, .init = setup, .fini = teardown);

Test(tcp_open, listen_syn_gets_synack_with_options_then_ack_makes_accept_event)
{
	dp_stack_destroy(tp_st);
	tp_cfg.window_scaling = true;
	tp_cfg.timestamps = true;
	tp_cfg.rcv_buf = 256 * 1024;
	tp_start();
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	cr_assert_neq(l, DP_CONN_INVALID);
	struct popts po = {.mss = 1400, .ws = 9, .ts = true, .tsval = 777};
	tp_send_o(F_SYN, PEER_ISS, 0, 29200, NULL, 0, &po);
	struct cap sa = tp_one();
	cr_assert_eq(sa.flags, F_SYN | F_ACK);
	cr_assert_eq(sa.seq, 5000u);
	cr_assert_eq(sa.ack, PEER_ISS + 1);
	cr_assert(sa.has_mss && sa.mss == DP_DEF_MSS);
	cr_assert(sa.has_ws && sa.ws == DP_DEF_WSCALE);
	cr_assert(sa.has_ts && sa.tsecr == 777);
	cr_assert_eq(sa.dport, PEER_PORT);
	cr_assert_eq(sa.ttl, DP_DEF_IP_TTL);
	cr_assert_eq(tp_events_for(l, NULL), 0, "no accept before the handshake completes");
	struct popts pa = {.ws = -1, .ts = true, .tsval = 778, .tsecr = sa.tsval};
	tp_send_o(F_ACK, PEER_ISS + 1, 5001, 100, NULL, 0, &pa);
	tp_none();
	cr_assert(tp_events_for(l, NULL) & DP_EV_ACCEPT);
	dp_conn_t c = dp_tcp_accept(tp_st, l);
	cr_assert_neq(c, DP_CONN_INVALID);
	cr_assert_eq(dp_tcp_accept(tp_st, l), DP_CONN_INVALID, "only one connection waits");
	struct dp_tcp_info in;
	cr_assert_eq(dp_tcp_get_info(tp_st, c, &in), 0);
	cr_assert_eq(in.state, DP_TCP_ESTABLISHED);
	cr_assert(in.ws_ok && in.ts_ok);
	cr_assert_eq(in.snd_wnd, 100u << 9, "peer window scaled by its shift");
	cr_assert_eq(in.mss, 1400 - 12, "peer MSS minus the timestamp option");
	cr_assert_eq(in.remote_ip, PEER_IP);
	dp_tcp_abort(tp_st, c);
	struct cap r = tp_one();
	cr_assert(r.flags & F_RST);
	dp_tcp_close(tp_st, l);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, syn_without_options_uses_default_mss_and_no_scaling)
{
	dp_conn_t c = tp_establish_passive(NULL);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.mss, 536);
	cr_assert(!in.ws_ok && !in.ts_ok);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_open, tiny_mss_is_clamped_and_malformed_options_are_counted)
{
	int rc;
	dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	struct popts po = {.mss = 1, .ws = -1};
	tp_send_o(F_SYN, PEER_ISS, 0, 1000, NULL, 0, &po);
	struct cap sa = tp_one();
	cr_assert_eq(sa.flags, F_SYN | F_ACK);
	/* An option whose length runs past the header. */
	tp_send_full(PEER_PORT + 1, US_PORT, F_SYN, PEER_ISS, 0, 1000, NULL, 0,
		     &(struct popts){.mss = 0, .ws = -1}, false);
	tp_out(NULL, 0);
	uint64_t before = dp_stack_counter(tp_st, DP_CTR_TCP_BAD_OPTIONS);
	/* Hand-made: kind 2 with length 40 in a 4-byte option area. */
	struct rte_mbuf *b = rte_pktmbuf_alloc(tp_pool);
	cr_assert_not_null(b);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(b, 14 + 20 + 24);
	cr_assert_not_null(p);
	memset(p, 0, 14 + 20 + 24);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	eh->dst_addr = us_mac;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(44);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(US_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(PEER_PORT + 2);
	th->dst_port = rte_cpu_to_be_16(US_PORT);
	th->sent_seq = rte_cpu_to_be_32(PEER_ISS);
	th->data_off = 6 << 4;
	th->tcp_flags = F_SYN;
	th->rx_win = rte_cpu_to_be_16(1000);
	uint8_t *o = (uint8_t *)(th + 1);
	o[0] = 2;
	o[1] = 40;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	dp_stack_rx_burst(tp_st, tp_now, &b, 1);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_TCP_BAD_OPTIONS), before + 1);
	struct cap sa2 = tp_one();
	cr_assert_eq(sa2.flags, F_SYN | F_ACK, "a SYN with a broken option is still answered");
	/* First connection: complete it and look at the MSS used. */
	tp_send(F_ACK, PEER_ISS + 1, sa.seq + 1, 1000, NULL, 0);
	tp_none();
}

Test(tcp_open, ack_to_listener_gets_rst_and_syn_to_closed_port_gets_rst_ack)
{
	int rc;
	dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	tp_send(F_ACK, 42, 777, 1000, NULL, 0);
	struct cap r = tp_one();
	cr_assert_eq(r.flags, F_RST);
	cr_assert_eq(r.seq, 777u, "RST takes its sequence number from the ACK");
	tp_send_full(PEER_PORT, US_PORT + 1, F_SYN, 100, 0, 1000, NULL, 0, NULL, false);
	r = tp_one();
	cr_assert_eq(r.flags, F_RST | F_ACK);
	cr_assert_eq(r.seq, 0u);
	cr_assert_eq(r.ack, 101u, "SYN counts as one");
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TCP_NO_CONN), 1);
	/* A RST to a closed port is never answered. */
	tp_send_full(PEER_PORT, US_PORT + 1, F_RST, 100, 0, 0, NULL, 0, NULL, false);
	tp_none();
}

Test(tcp_open, backlog_limits_embryonic_and_unaccepted_connections)
{
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 2, &rc);
	for (uint16_t i = 0; i < 3; i++)
		tp_send_full(PEER_PORT + i, US_PORT, F_SYN, PEER_ISS, 0, 1000, NULL, 0, NULL,
			     false);
	struct cap c[8];
	cr_assert_eq(tp_out(c, 8), 2, "third SYN beyond the backlog is dropped");
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TCP_BACKLOG), 1);
	/* Completing and accepting one frees a backlog place. */
	tp_send_full(PEER_PORT, US_PORT, F_ACK, PEER_ISS + 1, c[0].seq + 1, 1000, NULL, 0, NULL,
		     false);
	dp_conn_t a = dp_tcp_accept(tp_st, l);
	cr_assert_neq(a, DP_CONN_INVALID);
	tp_send_full(PEER_PORT + 2, US_PORT, F_SYN, PEER_ISS, 0, 1000, NULL, 0, NULL, false);
	cr_assert_eq(tp_out(c, 8), 1);
	cr_assert_eq(c[0].flags, F_SYN | F_ACK);
	/* Closing the listener resets the connections that were never accepted. */
	dp_tcp_close(tp_st, l);
	cr_assert_eq(tp_out(c, 8), 2);
	cr_assert(c[0].flags & F_RST);
	cr_assert(c[1].flags & F_RST);
	cr_assert_eq(dp_tcp_state(tp_st, a), DP_TCP_ESTABLISHED, "accepted one lives on");
	dp_tcp_abort(tp_st, a);
	tp_out(NULL, 0);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, many_concurrent_passive_connections)
{
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 16, &rc);
	dp_conn_t h[12];
	for (uint16_t i = 0; i < 12; i++) {
		tp_send_full(PEER_PORT + i, US_PORT, F_SYN, PEER_ISS + i, 0, 1000, NULL, 0, NULL,
			     false);
		struct cap sa = tp_one();
		tp_send_full(PEER_PORT + i, US_PORT, F_ACK, PEER_ISS + i + 1, sa.seq + 1, 1000,
			     NULL, 0, NULL, false);
	}
	for (int i = 0; i < 12; i++) {
		h[i] = dp_tcp_accept(tp_st, l);
		cr_assert_neq(h[i], DP_CONN_INVALID);
	}
	/* Data to each lands on the right connection. */
	for (uint16_t i = 0; i < 12; i++) {
		uint8_t b = (uint8_t)i;
		tp_send_full(PEER_PORT + i, US_PORT, F_ACK | F_PSH, PEER_ISS + i + 1, 5001, 1000,
			     &b, 1, NULL, false);
	}
	tp_out(NULL, 0);
	for (int i = 0; i < 12; i++) {
		struct dp_tcp_info in;
		dp_tcp_get_info(tp_st, h[i], &in);
		uint8_t buf[8];
		cr_assert_eq(tp_read_all(h[i], buf, 8), 1);
		cr_assert_eq(buf[0], in.remote_port - PEER_PORT);
		dp_tcp_abort(tp_st, h[i]);
	}
	tp_out(NULL, 0);
	dp_tcp_close(tp_st, l);
}

Test(tcp_open, connect_sends_syn_and_synack_completes_with_connected_event)
{
	int rc;
	dp_conn_t c = dp_tcp_connect(tp_st, PEER_IP, PEER_PORT, 0, &rc);
	cr_assert_neq(c, DP_CONN_INVALID, "rc %d", rc);
	struct cap s = tp_one();
	cr_assert_eq(s.flags, F_SYN);
	cr_assert_eq(s.seq, 5000u);
	cr_assert_eq(s.dport, PEER_PORT);
	cr_assert_geq(s.sport, DP_EPHEMERAL_FIRST);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_SYN_SENT);
	tp_send_full(PEER_PORT, s.sport, F_SYN | F_ACK, PEER_ISS, 5001, 2000, NULL, 0,
		     &(struct popts){.mss = 1000, .ws = -1}, false);
	struct cap a = tp_one();
	cr_assert_eq(a.flags, F_ACK);
	cr_assert_eq(a.seq, 5001u);
	cr_assert_eq(a.ack, PEER_ISS + 1);
	cr_assert(tp_events_for(c, NULL) & DP_EV_CONNECTED);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_ESTABLISHED);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_open, connect_retries_syn_with_backoff_then_times_out)
{
	dp_stack_destroy(tp_st);
	tp_cfg.syn_retries = 3;
	tp_start();
	int rc, err = 0;
	dp_conn_t c = dp_tcp_connect(tp_st, PEER_IP, PEER_PORT, 40001, &rc);
	cr_assert_eq(tp_one().flags, F_SYN);
	uint64_t gap = tp_cfg.rto_initial_us;
	for (int i = 0; i < 3; i++) {
		tp_advance(gap - 1);
		tp_none();
		tp_advance(1);
		struct cap s = tp_one();
		cr_assert_eq(s.flags, F_SYN, "retry %d", i);
		cr_assert_eq(s.seq, 5000u, "the same ISS on every retry");
		gap *= 2;
	}
	tp_advance(gap);
	tp_none();
	uint32_t ev = tp_events_for(c, &err);
	cr_assert(ev & DP_EV_CLOSED);
	cr_assert_eq(err, DP_TCP_ETIMEDOUT);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_TCP_CONNECT_FAILS), 1);
	dp_tcp_close(tp_st, c);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, connect_answered_by_rst_is_refused_and_bad_ack_gets_rst)
{
	int rc, err = 0;
	dp_conn_t c = dp_tcp_connect(tp_st, PEER_IP, PEER_PORT, 40001, &rc);
	tp_one();
	/* A SYN-ACK acknowledging something we never sent: RST, connection stays. */
	tp_send_full(PEER_PORT, 40001, F_SYN | F_ACK, PEER_ISS, 9999, 1000, NULL, 0, NULL, false);
	struct cap r = tp_one();
	cr_assert_eq(r.flags, F_RST);
	cr_assert_eq(r.seq, 9999u);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_SYN_SENT);
	/* A RST without an acceptable ACK is ignored (RFC 5961 §3 / RFC 9293). */
	tp_send_full(PEER_PORT, 40001, F_RST, 0, 0, 0, NULL, 0, NULL, false);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_SYN_SENT);
	tp_send_full(PEER_PORT, 40001, F_RST | F_ACK, 0, 5001, 0, NULL, 0, NULL, false);
	tp_none();
	cr_assert(tp_events_for(c, &err) & DP_EV_CLOSED);
	cr_assert_eq(err, DP_TCP_EREFUSED);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSED);
	dp_tcp_close(tp_st, c);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSED, "stale handle");
	cr_assert_eq(dp_tcp_close(tp_st, c), DP_TCP_EINVAL, "a closed handle is refused");
}

Test(tcp_open, simultaneous_open_goes_through_syn_rcvd)
{
	int rc;
	dp_conn_t c = dp_tcp_connect(tp_st, PEER_IP, PEER_PORT, 40001, &rc);
	tp_one();
	tp_send_full(PEER_PORT, 40001, F_SYN, PEER_ISS, 0, 1000, NULL, 0, NULL, false);
	struct cap sa = tp_one();
	cr_assert_eq(sa.flags, F_SYN | F_ACK);
	cr_assert_eq(sa.seq, 5000u);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_SYN_RCVD);
	tp_send_full(PEER_PORT, 40001, F_SYN | F_ACK, PEER_ISS, 5001, 1000, NULL, 0, NULL, false);
	/* Our state is SYN_RCVD; the peer's SYN-ACK is a SYN in a synchronised state. */
	tp_out(NULL, 0);
	tp_send_full(PEER_PORT, 40001, F_ACK, PEER_ISS + 1, 5001, 1000, NULL, 0, NULL, false);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_ESTABLISHED);
	cr_assert(tp_events_for(c, NULL) & DP_EV_CONNECTED);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_open, lost_synack_is_retransmitted_on_peer_syn_and_on_timer)
{
	int rc;
	dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	tp_send(F_SYN, PEER_ISS, 0, 1000, NULL, 0);
	struct cap sa = tp_one();
	tp_send(F_SYN, PEER_ISS, 0, 1000, NULL, 0);
	struct cap sa2 = tp_one();
	cr_assert_eq(sa2.flags, F_SYN | F_ACK);
	cr_assert_eq(sa2.seq, sa.seq);
	tp_advance(tp_cfg.rto_initial_us);
	struct cap sa3 = tp_one();
	cr_assert_eq(sa3.flags, F_SYN | F_ACK);
	/* Never completed: after the retries the embryonic connection is forgotten. */
	for (int i = 0; i < 12; i++)
		tp_advance(tp_cfg.rto_max_us);
	tp_out(NULL, 0);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, active_close_fin_wait_1_2_time_wait_then_freed)
{
	dp_conn_t c = tp_establish_passive(NULL);
	dp_tcp_close(tp_st, c);
	struct cap f = tp_one();
	cr_assert_eq(f.flags, F_FIN | F_ACK);
	cr_assert_eq(f.seq, 5001u);
	struct dp_conn *pc = &tp_st->conns[0];
	cr_assert_eq(pc->state, DP_TCP_FIN_WAIT_1);
	tp_send(F_ACK, PEER_ISS + 1, 5002, 1000, NULL, 0);
	cr_assert_eq(pc->state, DP_TCP_FIN_WAIT_2);
	/* Data may still arrive in FIN_WAIT_2 (half close); it is acknowledged. */
	tp_send(F_ACK | F_PSH, PEER_ISS + 1, 5002, 1000, "xy", 2);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 3);
	tp_send(F_FIN | F_ACK, PEER_ISS + 3, 5002, 1000, NULL, 0);
	a = tp_one();
	cr_assert_eq(a.flags, F_ACK);
	cr_assert_eq(a.ack, PEER_ISS + 4);
	cr_assert_eq(pc->state, DP_TCP_TIME_WAIT);
	/* A retransmitted FIN in TIME_WAIT is acknowledged again. */
	tp_send(F_FIN | F_ACK, PEER_ISS + 3, 5002, 1000, NULL, 0);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 4);
	tp_advance(tp_cfg.time_wait_us - 10);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 1, "TIME_WAIT holds the slot for 2 MSL");
	tp_advance(tp_cfg.time_wait_us);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
	tp_none();
}

Test(tcp_open, passive_close_close_wait_last_ack_then_freed)
{
	dp_conn_t c = tp_establish_passive(NULL);
	tp_send(F_FIN | F_ACK, PEER_ISS + 1, 5001, 1000, NULL, 0);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 2);
	cr_assert(tp_events_for(c, NULL) & DP_EV_PEER_FIN);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSE_WAIT);
	cr_assert(dp_tcp_peer_closed(tp_st, c));
	struct rte_mbuf *ms[4];
	cr_assert_eq(dp_tcp_recv(tp_st, c, ms, 4), 0, "EOF");
	/* Sending is still allowed in CLOSE_WAIT. */
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(10, 0)), DP_TCP_OK);
	struct cap d = tp_one();
	cr_assert_eq(d.len, 10u);
	dp_tcp_close(tp_st, c);
	struct cap f = tp_one();
	cr_assert_eq(f.flags, F_FIN | F_ACK);
	cr_assert_eq(f.seq, 5011u);
	tp_send(F_ACK, PEER_ISS + 2, 5012, 1000, NULL, 0);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0, "LAST_ACK acknowledged: slot freed");
	tp_none();
}

Test(tcp_open, simultaneous_close_goes_through_closing)
{
	dp_conn_t c = tp_establish_passive(NULL);
	dp_tcp_shutdown_write(tp_st, c);
	tp_one();
	tp_send(F_FIN | F_ACK, PEER_ISS + 1, 5001, 1000, NULL, 0); /* does not ack our FIN */
	tp_one();
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSING);
	tp_send(F_ACK, PEER_ISS + 2, 5002, 1000, NULL, 0);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_TIME_WAIT);
	tp_advance(tp_cfg.time_wait_us);
	int err = -99;
	cr_assert(tp_events_for(c, &err) & DP_EV_CLOSED);
	cr_assert_eq(err, 0, "an orderly close");
	dp_tcp_close(tp_st, c);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, lost_fin_is_retransmitted)
{
	dp_conn_t c = tp_establish_passive(NULL);
	dp_tcp_close(tp_st, c);
	struct cap f = tp_one();
	tp_advance(tp_cfg.rto_initial_us);
	struct cap f2 = tp_one();
	cr_assert_eq(f2.flags, F_FIN | F_ACK);
	cr_assert_eq(f2.seq, f.seq);
	tp_send(F_ACK, PEER_ISS + 1, 5002, 1000, NULL, 0);
	tp_send(F_FIN | F_ACK, PEER_ISS + 1, 5002, 1000, NULL, 0);
	tp_one();
	tp_advance(tp_cfg.time_wait_us);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, close_with_unread_data_sends_rst)
{
	dp_conn_t c = tp_establish_passive(NULL);
	tp_send(F_ACK | F_PSH, PEER_ISS + 1, 5001, 1000, "abc", 3);
	tp_one();
	dp_tcp_close(tp_st, c);
	struct cap r = tp_one();
	cr_assert(r.flags & F_RST);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, orphaned_fin_wait_2_times_out)
{
	dp_conn_t c = tp_establish_passive(NULL);
	dp_tcp_close(tp_st, c);
	tp_one();
	tp_send(F_ACK, PEER_ISS + 1, 5002, 1000, NULL, 0);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 1);
	tp_advance(tp_cfg.fin_wait2_us);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, handshake_ack_carrying_data_and_fin_delivers_both)
{
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	tp_send(F_SYN, PEER_ISS, 0, 1000, NULL, 0);
	struct cap sa = tp_one();
	/* The third segment of the handshake already carries data and a FIN. */
	tp_send(F_ACK | F_PSH | F_FIN, PEER_ISS + 1, sa.seq + 1, 1000, "hello", 5);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 7, "5 bytes and the FIN acknowledged");
	dp_conn_t c = dp_tcp_accept(tp_st, l);
	cr_assert_neq(c, DP_CONN_INVALID);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSE_WAIT);
	uint32_t ev = tp_events_for(c, NULL);
	cr_assert(ev & DP_EV_READABLE, "events gathered before accept are delivered after it");
	cr_assert(ev & DP_EV_PEER_FIN);
	uint8_t buf[16];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 5u);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	/* A retransmitted FIN is acknowledged again, not counted twice. */
	tp_send(F_ACK | F_FIN, PEER_ISS + 6, sa.seq + 1, 1000, NULL, 0);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 7);
	dp_tcp_close(tp_st, c);
	tp_one(); /* our FIN */
	tp_send(F_ACK, PEER_ISS + 7, sa.seq + 2, 1000, NULL, 0);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
}

Test(tcp_open, fin_beyond_a_hole_waits_for_the_hole)
{
	dp_conn_t c = tp_establish_passive(NULL);
	tp_send(F_ACK | F_FIN, PEER_ISS + 1 + 4, 5001, 1000, "defg", 4); /* data + FIN, early */
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 1);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_ESTABLISHED, "the FIN is not in sequence yet");
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, "abcd", 4);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 10, "hole filled: data and FIN taken together");
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSE_WAIT);
	uint8_t buf[16];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 8u);
	cr_assert_eq(memcmp(buf, "abcddefg", 8), 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_open, bare_fin_beyond_a_hole_is_kept)
{
	dp_conn_t c = tp_establish_passive(NULL);
	uint8_t buf[16];
	struct cap a;
	tp_send(F_ACK | F_FIN, PEER_ISS + 1 + 3, 5001, 1000, NULL, 0);
	tp_one();
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, "xyz", 3);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 5);
	cr_assert(dp_tcp_peer_closed(tp_st, c));
	tp_read_all(c, buf, sizeof(buf));
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_open, rst_and_plain_segments_to_a_listener_are_ignored)
{
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	tp_send(F_RST, 1, 0, 0, NULL, 0);
	tp_send(F_PSH, 1, 0, 1000, "x", 1); /* no flags of interest */
	tp_send(F_SYN | F_FIN, 1, 0, 1000, NULL, 0);
	tp_none();
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
	cr_assert_eq(dp_tcp_listen(tp_st, US_PORT, 4, &rc), DP_CONN_INVALID);
	cr_assert_eq(rc, DP_TCP_EADDRINUSE);
	dp_tcp_close(tp_st, l);
	cr_assert_neq(dp_tcp_listen(tp_st, US_PORT, 4, &rc), DP_CONN_INVALID, "port free again");
}
