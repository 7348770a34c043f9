/* TCP data transfer: zero-copy receive in order, out-of-order queue, send with references
 * kept until ACKed, RTO with back-off, fast retransmit and NewReno, zero window and persist
 * probes, sequence wrap-around, delayed ACKs, window scaling and back-pressure. */
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

TestSuite(tcp_data, .init = setup, .fini = teardown);

Test(tcp_data, in_order_payload_is_delivered_as_mbufs_and_acked_immediately)
{
	dp_conn_t c = tp_establish_passive(NULL);
	uint8_t d[300];
	for (int i = 0; i < 300; i++)
		d[i] = tp_pattern((uint32_t)i);
	tp_send(F_ACK | F_PSH, PEER_ISS + 1, 5001, 1000, d, 100);
	struct cap a = tp_one();
	cr_assert_eq(a.flags, F_ACK);
	cr_assert_eq(a.ack, PEER_ISS + 101);
	tp_send(F_ACK | F_PSH, PEER_ISS + 101, 5001, 1000, d + 100, 200);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 301);
	cr_assert(tp_events_for(c, NULL) & DP_EV_READABLE);
	struct rte_mbuf *ms[8];
	int n = dp_tcp_recv(tp_st, c, ms, 8);
	cr_assert_eq(n, 2, "one mbuf per segment, no copy into a buffer");
	cr_assert_eq(rte_pktmbuf_pkt_len(ms[0]), 100u);
	cr_assert_eq(rte_pktmbuf_pkt_len(ms[1]), 200u);
	cr_assert_eq(memcmp(rte_pktmbuf_mtod(ms[0], void *), d, 100), 0);
	cr_assert_eq(memcmp(rte_pktmbuf_mtod(ms[1], void *), d + 100, 200), 0);
	rte_pktmbuf_free(ms[0]);
	rte_pktmbuf_free(ms[1]);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.bytes_in, 300u);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, out_of_order_segments_are_kept_and_delivered_in_order)
{
	dp_conn_t c = tp_establish_passive(NULL);
	uint8_t d[400];
	for (int i = 0; i < 400; i++)
		d[i] = tp_pattern((uint32_t)i);
	/* 200..299 and 300..399 first, then 0..99 (duplicate ACKs), then 100..199 fills. */
	tp_send(F_ACK, PEER_ISS + 1 + 300, 5001, 1000, d + 300, 100);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 1, "duplicate ACK for an out-of-order segment");
	tp_send(F_ACK, PEER_ISS + 1 + 200, 5001, 1000, d + 200, 100);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 1);
	/* Overlapping retransmission with different bytes: first copy wins. */
	uint8_t junk[150];
	memset(junk, 0xEE, sizeof(junk));
	tp_send(F_ACK, PEER_ISS + 1 + 250, 5001, 1000, junk, 100);
	tp_one();
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, d, 100);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 101, "gap at 100 remains");
	uint8_t buf[512];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 100u, "nothing beyond the hole");
	tp_send(F_ACK, PEER_ISS + 1 + 100, 5001, 1000, d + 100, 100);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 401, "hole filled: everything acknowledged at once");
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 300u);
	cr_assert_eq(memcmp(buf, d + 100, 300), 0, "byte exact, in order");
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.ooo_segs_in, 3);
	cr_assert_eq(in.ooo_segs, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, ooo_queue_is_bounded)
{
	dp_stack_destroy(tp_st);
	tp_cfg.ooo_max_segs = 4;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	uint8_t d[10] = {0};
	for (uint32_t i = 1; i <= 6; i++)
		tp_send(F_ACK, PEER_ISS + 1 + i * 20, 5001, 1000, d, 10);
	tp_out(NULL, 0);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.ooo_segs, 4);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TCP_OOO_FULL), 2);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, out_of_window_and_old_data_are_dropped_with_an_ack)
{
	dp_conn_t c = tp_establish_passive(NULL);
	tp_send(F_ACK, PEER_ISS + 1 + 70000, 5001, 1000, "zz", 2);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 1);
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, "ab", 2);
	tp_one();
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, "ab", 2); /* entirely old */
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 3);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TCP_OUT_OF_WINDOW), 2);
	uint8_t buf[8];
	cr_assert_eq(tp_read_all(c, buf, 8), 2u, "no duplicate delivered");
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, send_keeps_a_reference_until_acked_and_never_copies)
{
	dp_conn_t c = tp_establish_passive(NULL);
	struct rte_mbuf *m = tp_app_mbuf(300, 0);
	unsigned before = rte_mempool_in_use_count(tp_pool);
	cr_assert_eq(dp_tcp_send(tp_st, c, m), DP_TCP_OK);
	struct cap s = tp_one();
	cr_assert_eq(s.flags, F_ACK | F_PSH);
	cr_assert_eq(s.seq, 5001u);
	cr_assert_eq(s.len, 300u);
	for (uint32_t i = 0; i < 300; i++)
		cr_assert_eq(s.data[i], tp_pattern(i));
	cr_assert_eq(rte_mbuf_refcnt_read(m), 1, "transmitted copies were freed, ours remains");
	cr_assert_eq(rte_mempool_in_use_count(tp_pool), before, "the app mbuf is still held");
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 100, 1000, NULL, 0);
	cr_assert_eq(rte_mempool_in_use_count(tp_pool), before, "partly acked: still held");
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 300, 1000, NULL, 0);
	cr_assert_eq(rte_mempool_in_use_count(tp_pool), before - 1, "acked: reference dropped");
	tp_none();
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, large_send_is_cut_at_mss_and_chains_are_accepted)
{
	dp_conn_t c = tp_establish_passive(NULL); /* peer MSS 536 */
	struct rte_mbuf *a = tp_app_mbuf(1000, 0);
	struct rte_mbuf *b = tp_app_mbuf(200, 1000);
	cr_assert_eq(rte_pktmbuf_chain(a, b), 0);
	cr_assert_eq(dp_tcp_send(tp_st, c, a), DP_TCP_OK);
	struct cap s[8];
	cr_assert_eq(tp_out(s, 8), 3);
	cr_assert_eq(s[0].len, 536u);
	cr_assert_eq(s[1].len, 536u);
	cr_assert_eq(s[2].len, 128u);
	cr_assert_eq(s[1].seq, 5001u + 536);
	for (uint32_t i = 0; i < 128; i++)
		cr_assert_eq(s[2].data[i], tp_pattern(1072 + i), "byte %u spans the chain", i);
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 1200, 1000, NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, rto_retransmits_with_exponential_backoff_and_gives_up)
{
	dp_stack_destroy(tp_st);
	tp_cfg.rtx_max = 4;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	uint64_t rto = in.rto_us;
	cr_assert_geq(rto, tp_cfg.rto_min_us, "RFC 6298 lower bound");
	dp_tcp_send(tp_st, c, tp_app_mbuf(100, 0));
	tp_one();
	for (int i = 0; i < 4; i++) {
		tp_advance(rto - 1);
		tp_none();
		tp_advance(1);
		struct cap r = tp_one();
		cr_assert_eq(r.seq, 5001u);
		cr_assert_eq(r.len, 100u, "retransmission %d carries the same bytes", i);
		cr_assert_eq(r.data[99], tp_pattern(99));
		rto *= 2;
	}
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.rto_expiries, 4);
	cr_assert_eq(in.retransmits, 4);
	tp_advance(rto);
	struct cap r = tp_one();
	cr_assert(r.flags & F_RST, "too many retransmissions: abort with RST");
	int err = 0;
	cr_assert(tp_events_for(c, &err) & DP_EV_CLOSED);
	cr_assert_eq(err, DP_TCP_ETIMEDOUT);
	dp_tcp_close(tp_st, c);
}

Test(tcp_data, ack_after_rto_resets_backoff_and_continues)
{
	dp_conn_t c = tp_establish_passive(NULL);
	dp_tcp_send(tp_st, c, tp_app_mbuf(100, 0));
	tp_one();
	tp_advance(tp_cfg.rto_min_us * 10);
	tp_one();
	tp_send(F_ACK, PEER_ISS + 1, 5101, 1000, NULL, 0);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.unacked_bytes, 0u);
	cr_assert_eq(in.cwnd, 536u + 100, "cwnd collapsed to one segment, then slow start "
		     "grew it by the bytes acked: %u", in.cwnd);
	tp_advance(tp_cfg.rto_max_us);
	tp_none();
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, three_dup_acks_trigger_fast_retransmit_and_newreno)
{
	dp_conn_t c = tp_establish_passive(NULL);
	for (uint32_t i = 0; i < 6; i++)
		cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(500, i * 500)), DP_TCP_OK);
	struct cap s[16];
	cr_assert_eq(tp_out(s, 16), 6, "initial window allows 6 x 500 bytes");
	/* Segments 0 and 2 are lost; 1, 3, 4, 5 arrive: duplicate ACKs for 5001. */
	tp_send(F_ACK, PEER_ISS + 1, 5001, 65535, NULL, 0);
	tp_send(F_ACK, PEER_ISS + 1, 5001, 65535, NULL, 0);
	tp_none();
	tp_send(F_ACK, PEER_ISS + 1, 5001, 65535, NULL, 0);
	struct cap r = tp_one();
	cr_assert_eq(r.seq, 5001u, "fast retransmit of the first hole");
	cr_assert_eq(r.len, 536u, "one MSS from snd_una (repacketised, no copy)");
	cr_assert_eq(r.data[535], tp_pattern(535));
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_TCP_FAST_RETRANSMITS), 1);
	/* Partial ACK up to the second hole: NewReno resends it at once. */
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 1000, 65535, NULL, 0);
	struct cap p[4];
	unsigned n = tp_out(p, 4);
	cr_assert_geq(n, 1u);
	cr_assert_eq(p[0].seq, 5001u + 1000, "partial ACK retransmits the next hole");
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 3000, 65535, NULL, 0);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.unacked_bytes, 0u);
	cr_assert_eq(in.fast_retransmits, 1, "one loss episode, one fast retransmit");
	cr_assert_eq(in.dup_acks_in, 3);
	cr_assert_eq(in.rto_expiries, 0, "recovered without a timeout");
	cr_assert_eq(in.ssthresh, 1500u, "ssthresh = FlightSize / 2 at the loss");
	/* RFC 6582 §3.2 step 3 option 1: min(ssthresh, FlightSize + SMSS), FlightSize = 0. */
	cr_assert_eq(in.cwnd, 2u * 536, "cwnd deflated after the full ACK: %u", in.cwnd);
	tp_out(NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, zero_window_stops_sending_and_persist_probes_until_it_opens)
{
	dp_conn_t c = tp_establish_passive(NULL);
	tp_send(F_ACK, PEER_ISS + 1, 5001, 0, NULL, 0); /* window closes */
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(100, 0)), DP_TCP_OK);
	tp_none();
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	uint64_t rto = in.rto_us;
	tp_advance(rto);
	struct cap p = tp_one();
	cr_assert_eq(p.seq, 5001u);
	cr_assert_eq(p.len, 1u, "zero-window probe: one byte");
	tp_send(F_ACK, PEER_ISS + 1, 5001, 0, NULL, 0); /* still closed */
	tp_advance(rto);
	tp_none();
	tp_advance(rto);
	p = tp_one();
	cr_assert_eq(p.len, 1u, "probes back off");
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_INVARIANT_RTX_TIMER), 0);
	/* Window opens: everything goes. */
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, NULL, 0);
	struct cap d = tp_one();
	cr_assert_eq(d.seq, 5001u);
	cr_assert_eq(d.len, 100u);
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.zero_window_probes, 2);
	/* The probe was accepted this time: the window opened while it flew. */
	tp_send(F_ACK, PEER_ISS + 1, 5101, 1000, NULL, 0);
	tp_none();
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, our_window_closes_when_the_app_does_not_read_and_reopens)
{
	dp_stack_destroy(tp_st);
	tp_cfg.rcv_buf = 2000;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	uint8_t d[1000];
	memset(d, 'a', sizeof(d));
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, d, 1000);
	struct cap a = tp_one();
	cr_assert_eq(a.win, 1000u);
	tp_send(F_ACK, PEER_ISS + 1001, 5001, 1000, d, 1000);
	a = tp_one();
	cr_assert_eq(a.win, 0u, "buffer full: zero window");
	tp_send(F_ACK, PEER_ISS + 2001, 5001, 1000, d, 1);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 2001, "a probe into a zero window is not taken");
	uint8_t buf[4096];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 2000u);
	a = tp_one();
	cr_assert_eq(a.win, 2000u, "reading sends a window update");
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, send_back_pressure_and_writable_event)
{
	dp_stack_destroy(tp_st);
	tp_cfg.snd_buf = 1000;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(600, 0)), DP_TCP_OK);
	struct rte_mbuf *m = tp_app_mbuf(600, 600);
	cr_assert_eq(dp_tcp_send_space(tp_st, c), 400u);
	cr_assert_eq(dp_tcp_send(tp_st, c, m), DP_TCP_EAGAIN);
	tp_out(NULL, 0);
	cr_assert_eq(tp_events_for(c, NULL) & DP_EV_WRITABLE, 0);
	tp_send(F_ACK, PEER_ISS + 1, 5601, 1000, NULL, 0);
	cr_assert(tp_events_for(c, NULL) & DP_EV_WRITABLE);
	cr_assert_eq(dp_tcp_send(tp_st, c, m), DP_TCP_OK);
	tp_out(NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, sequence_numbers_wrap_around_2_32_both_ways)
{
	dp_stack_destroy(tp_st);
	tp_cfg.isn_fixed = 0xFFFFFF00u;
	tp_start();
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	uint32_t piss = 0xFFFFFFF0u;
	tp_send(F_SYN, piss, 0, 65535, NULL, 0);
	struct cap sa = tp_one();
	cr_assert_eq(sa.seq, 0xFFFFFF00u);
	tp_send(F_ACK, piss + 1, 0xFFFFFF01u, 65535, NULL, 0);
	dp_conn_t c = dp_tcp_accept(tp_st, l);
	cr_assert_neq(c, DP_CONN_INVALID);
	/* Receive 600 bytes across the wrap: 0xFFFFFFF1 .. 0x249 */
	uint8_t d[600];
	for (int i = 0; i < 600; i++)
		d[i] = tp_pattern((uint32_t)i);
	tp_send(F_ACK, piss + 1 + 300, 0xFFFFFF01u, 65535, d + 300, 300); /* after the wrap */
	struct cap a = tp_one();
	cr_assert_eq(a.ack, piss + 1);
	tp_send(F_ACK, piss + 1, 0xFFFFFF01u, 65535, d, 300);
	a = tp_one();
	cr_assert_eq(a.ack, (uint32_t)(piss + 601));
	uint8_t buf[1024];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 600u);
	cr_assert_eq(memcmp(buf, d, 600), 0);
	/* Send 1000 bytes across our wrap; ACK in two steps, the second after the wrap. */
	dp_tcp_send(tp_st, c, tp_app_mbuf(1000, 0));
	struct cap s[4];
	cr_assert_eq(tp_out(s, 4), 2);
	cr_assert_eq(s[0].seq, 0xFFFFFF01u);
	cr_assert_eq(s[1].seq, (uint32_t)(0xFFFFFF01u + 536));
	tp_send(F_ACK, piss + 601, 0xFFFFFF01u + 536, 65535, NULL, 0);
	tp_send(F_ACK, piss + 601, (uint32_t)(0xFFFFFF01u + 1000), 65535, NULL, 0);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.unacked_bytes, 0u);
	cr_assert_eq(in.snd_una, (uint32_t)(0xFFFFFF01u + 1000));
	/* An ACK from "before" the wrap is old, not new. */
	tp_send(F_ACK, piss + 601, 0xFFFFFFF0u, 65535, NULL, 0);
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.snd_una, (uint32_t)(0xFFFFFF01u + 1000));
	tp_out(NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, delayed_ack_when_selected)
{
	dp_stack_destroy(tp_st);
	tp_cfg.delayed_ack = true;
	tp_cfg.delack_us = 40000;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, "a", 1);
	tp_none();
	tp_advance(39999);
	tp_none();
	tp_advance(1);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 2);
	/* Two segments: ACK at once. */
	tp_send(F_ACK, PEER_ISS + 2, 5001, 1000, "b", 1);
	tp_send(F_ACK, PEER_ISS + 3, 5001, 1000, "c", 1);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 4);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, window_scaling_applies_to_both_directions)
{
	dp_stack_destroy(tp_st);
	tp_cfg.window_scaling = true;
	tp_cfg.rcv_buf = 512 * 1024;
	tp_start();
	struct popts po = {.mss = 1460, .ws = 2};
	dp_conn_t c = tp_establish_passive_o(NULL, 4000, &po);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.snd_wnd, 16000u);
	tp_send(F_ACK, PEER_ISS + 1, 5001, 4000, "x", 1);
	struct cap a = tp_one();
	cr_assert_eq((uint32_t)a.win << DP_DEF_WSCALE, 512u * 1024, "our window, scaled");
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, bad_checksum_is_dropped_and_counted)
{
	dp_conn_t c = tp_establish_passive(NULL);
	tp_send_full(PEER_PORT, US_PORT, F_ACK, PEER_ISS + 1, 5001, 1000, "abc", 3, NULL, true);
	tp_none();
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TCP_CSUM), 1);
	uint8_t buf[8];
	cr_assert_eq(tp_read_all(c, buf, 8), 0u);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, checksum_is_right_for_segments_made_of_odd_length_pieces)
{
	/* Three application mbufs of odd lengths become one segment of three indirect pieces
	 * starting at odd offsets; parse_cap() verifies the checksum over the linearised frame
	 * (DPDK 22.11's chain checksum gets exactly this case wrong). */
	dp_stack_destroy(tp_st);
	tp_cfg.nagle = true; /* hold the small pieces until they can go as one segment */
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(101, 0)), DP_TCP_OK);
	struct cap s = tp_one();
	cr_assert_eq(s.len, 101u, "nothing in flight: Nagle lets the first piece go");
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(33, 101)), DP_TCP_OK);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(77, 134)), DP_TCP_OK);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(255, 211)), DP_TCP_OK);
	tp_none(); /* Nagle: sub-MSS data waits while the first piece is unacknowledged */
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 101, 1000, NULL, 0);
	s = tp_one();
	cr_assert_eq(s.seq, 5001u + 101);
	cr_assert_eq(s.len, 33u + 77 + 255, "the queued pieces leave as one segment");
	for (uint32_t i = 0; i < s.len; i++)
		cr_assert_eq(s.data[i], tp_pattern(101 + i));
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 466, 1000, NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, a_peer_answering_with_a_zero_window_is_never_timed_out_a_silent_one_is)
{
	dp_stack_destroy(tp_st);
	tp_cfg.rtx_max = 3;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	/* Data in flight, then the peer's window closes without taking it. */
	dp_tcp_send(tp_st, c, tp_app_mbuf(100, 0));
	tp_one();
	tp_send(F_ACK, PEER_ISS + 1, 5001, 0, NULL, 0);
	for (int i = 0; i < 10; i++) {
		struct dp_tcp_info in;
		dp_tcp_get_info(tp_st, c, &in);
		tp_advance((uint64_t)in.rto_us << RTE_MIN(i, 20));
		struct cap r[4];
		cr_assert_geq(tp_out(r, 4), 1u, "round %d: a retransmission acts as the probe", i);
		cr_assert_eq(r[0].seq, 5001u, "round %d: flags %#x seq %u len %u", i, r[0].flags, r[0].seq,
			     r[0].len);
		tp_send(F_ACK, PEER_ISS + 1, 5001, 0, NULL, 0); /* alive, still closed */
		cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_ESTABLISHED, "round %d", i);
	}
	tp_send(F_ACK, PEER_ISS + 1, 5101, 1000, NULL, 0);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.unacked_bytes, 0u);
	/* Now a zero window and a peer that goes silent: persist probes, then abort. */
	tp_send(F_ACK, PEER_ISS + 1, 5101, 0, NULL, 0);
	dp_tcp_send(tp_st, c, tp_app_mbuf(100, 100));
	tp_none();
	int err = 0;
	for (int i = 0; i < 40 && !(tp_events_for(c, &err) & DP_EV_CLOSED); i++) {
		tp_advance(tp_cfg.rto_max_us);
		tp_out(NULL, 0);
	}
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSED, "a dead peer behind a zero window");
	cr_assert_eq(err, DP_TCP_ETIMEDOUT);
	dp_tcp_close(tp_st, c);
}

Test(tcp_data, sack_blocks_describe_the_out_of_order_queue_latest_first)
{
	dp_stack_destroy(tp_st);
	tp_cfg.timestamps = true;
	tp_start();
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	struct popts po = {.mss = 1460, .ws = -1, .ts = true, .tsval = 10, .sackp = true};
	tp_send_o(F_SYN, PEER_ISS, 0, 1000, NULL, 0, &po);
	struct cap sa = tp_one();
	cr_assert(sa.has_sackp, "SACK-permitted echoed in the SYN-ACK");
	struct popts pa = {.ws = -1, .ts = true, .tsval = 11, .tsecr = sa.tsval};
	tp_send_o(F_ACK, PEER_ISS + 1, sa.seq + 1, 1000, NULL, 0, &pa);
	dp_conn_t c = dp_tcp_accept(tp_st, l);
	cr_assert_neq(c, DP_CONN_INVALID);
	uint8_t d[100];
	memset(d, 'q', sizeof(d));
	uint32_t base = PEER_ISS + 1;
	/* Holes at 0..99 and 200..299; blocks 100..199, 300..399 and 500..599 arrive. */
	tp_send_o(F_ACK, base + 300, sa.seq + 1, 1000, d, 100, &pa);
	struct cap a = tp_one();
	cr_assert_eq(a.n_sack, 1u);
	cr_assert_eq(a.sack_l[0], base + 300);
	cr_assert_eq(a.sack_r[0], base + 400);
	tp_send_o(F_ACK, base + 100, sa.seq + 1, 1000, d, 100, &pa);
	tp_one();
	tp_send_o(F_ACK, base + 500, sa.seq + 1, 1000, d, 100, &pa);
	a = tp_one();
	cr_assert_eq(a.ack, base);
	cr_assert_eq(a.n_sack, 3u, "12 bytes of timestamps leave room for three blocks");
	cr_assert_eq(a.sack_l[0], base + 500, "the latest arrival first (RFC 2018 §4)");
	cr_assert_eq(a.sack_l[1], base + 100);
	cr_assert_eq(a.sack_l[2], base + 300);
	/* 400..499 joins two blocks into one. */
	tp_send_o(F_ACK, base + 400, sa.seq + 1, 1000, d, 100, &pa);
	a = tp_one();
	cr_assert_eq(a.n_sack, 2u);
	cr_assert_eq(a.sack_l[0], base + 300);
	cr_assert_eq(a.sack_r[0], base + 600);
	cr_assert_eq(a.sack_l[1], base + 100);
	/* Filling the first hole: the in-order ACK no longer reports what it covers. */
	tp_send_o(F_ACK, base, sa.seq + 1, 1000, d, 100, &pa);
	a = tp_one();
	cr_assert_eq(a.ack, base + 200);
	cr_assert_eq(a.n_sack, 1u);
	cr_assert_eq(a.sack_l[0], base + 300);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, an_empty_mbuf_pool_delays_output_but_never_stalls_it)
{
	/* The stack's header mbufs come from a tiny pool the test can drain. */
	struct rte_mempool *small = rte_pktmbuf_pool_create("tiny", 63, 0, 0,
							    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cr_assert_not_null(small);
	dp_stack_destroy(tp_st);
	tp_pool_init();
	tp_cfg.pool = small;
	char err[128];
	tp_st = dp_stack_create(&tp_cfg, err, sizeof(err));
	cr_assert_not_null(tp_st, "%s", err);
	dp_stack_poll(tp_st, tp_now);
	dp_conn_t c = tp_establish_passive(NULL);
	struct rte_mbuf *hold[64];
	unsigned nh = 0;
	while (nh < 64 && (hold[nh] = rte_pktmbuf_alloc(small)) != NULL)
		nh++;
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(100, 0)), DP_TCP_OK);
	tp_none();
	cr_assert_gt(dp_stack_counter(tp_st, DP_CTR_DROP_NO_MBUF), 0);
	rte_pktmbuf_free_bulk(hold, nh);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	tp_advance(in.rto_us);
	struct cap s = tp_one();
	cr_assert_eq(s.seq, 5001u, "the retry timer sent the data once mbufs were back");
	cr_assert_eq(s.len, 100u);
	tp_send(F_ACK, PEER_ISS + 1, 5101, 1000, NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
	dp_stack_destroy(tp_st);
	tp_st = NULL;
	cr_assert_eq(rte_mempool_in_use_count(small), 0);
	rte_mempool_free(small);
	tp_cfg.pool = tp_pool;
	tp_start(); /* for the teardown */
}

Test(tcp_data, one_mbuf_sent_on_two_connections_with_an_extra_reference)
{
	int rc;
	dp_conn_t l = dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	dp_conn_t h[2];
	uint32_t iss[2];
	for (uint16_t i = 0; i < 2; i++) {
		tp_send_full(PEER_PORT + i, US_PORT, F_SYN, PEER_ISS, 0, 1000, NULL, 0, NULL, false);
		struct cap sa = tp_one();
		iss[i] = sa.seq;
		tp_send_full(PEER_PORT + i, US_PORT, F_ACK, PEER_ISS + 1, sa.seq + 1, 1000, NULL, 0,
			     NULL, false);
		h[i] = dp_tcp_accept(tp_st, l);
		cr_assert_neq(h[i], DP_CONN_INVALID);
	}
	unsigned before = rte_mempool_in_use_count(tp_pool);
	struct rte_mbuf *m = tp_app_mbuf(200, 0);
	rte_mbuf_refcnt_update(m, 1); /* one reference per connection (fan-out) */
	cr_assert_eq(dp_tcp_send(tp_st, h[0], m), DP_TCP_OK);
	cr_assert_eq(dp_tcp_send(tp_st, h[1], m), DP_TCP_OK);
	struct cap s[4];
	cr_assert_eq(tp_out(s, 4), 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(s[i].len, 200u);
		cr_assert_eq(s[i].data[199], tp_pattern(199));
	}
	tp_send_full(PEER_PORT, US_PORT, F_ACK, PEER_ISS + 1, iss[0] + 201, 1000, NULL, 0, NULL,
		     false);
	cr_assert_eq(rte_mempool_in_use_count(tp_pool), before + 1, "still held by the other");
	tp_send_full(PEER_PORT + 1, US_PORT, F_ACK, PEER_ISS + 1, iss[1] + 201, 1000, NULL, 0,
		     NULL, false);
	cr_assert_eq(rte_mempool_in_use_count(tp_pool), before, "both acknowledged: freed once");
	dp_tcp_abort(tp_st, h[0]);
	dp_tcp_abort(tp_st, h[1]);
	dp_tcp_close(tp_st, l);
	tp_out(NULL, 0);
}

Test(tcp_data, limited_transmit_sends_new_data_on_the_first_two_duplicate_acks)
{
	dp_stack_destroy(tp_st);
	tp_cfg.init_cwnd_segs = 4;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL); /* MSS 536, cwnd 4 x 536 */
	for (uint32_t i = 0; i < 6; i++)
		dp_tcp_send(tp_st, c, tp_app_mbuf(536, i * 536));
	struct cap s[8];
	cr_assert_eq(tp_out(s, 8), 4, "cwnd allows four segments");
	/* The first segment is lost: duplicate ACKs. */
	tp_send(F_ACK, PEER_ISS + 1, 5001, 65535, NULL, 0);
	struct cap n1 = tp_one();
	cr_assert_eq(n1.seq, 5001u + 4 * 536, "first duplicate: one new segment (RFC 3042)");
	tp_send(F_ACK, PEER_ISS + 1, 5001, 65535, NULL, 0);
	struct cap n2 = tp_one();
	cr_assert_eq(n2.seq, 5001u + 5 * 536, "second duplicate: another");
	tp_send(F_ACK, PEER_ISS + 1, 5001, 65535, NULL, 0);
	struct cap r = tp_one();
	cr_assert_eq(r.seq, 5001u, "third duplicate: fast retransmit");
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 6 * 536, 65535, NULL, 0);
	tp_out(NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

/* The interop stall of faults_bursts (docs/tcp.md): the kernel's window closed (its
 * application blocked writing to us) while our data was in flight beyond the new edge. Our
 * ACKs numbered SND.MAX were then outside its window and Linux dropped them unread, so its
 * send buffer never drained and both ends sat in backed-off retransmissions. A pure ACK
 * must carry a sequence number inside the peer's window: SND.MAX, or the right edge. */
Test(tcp_data, pure_acks_stay_inside_a_window_that_closed_behind_data_in_flight)
{
	dp_conn_t c = tp_establish_passive(NULL);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(1000, 0)), DP_TCP_OK);
	struct cap seg[8];
	unsigned n = tp_out(seg, 8);
	cr_assert_geq(n, 1u);
	cr_assert_eq(seg[n - 1].seq + seg[n - 1].len, 6001u, "all 1000 bytes in flight");
	uint8_t d[10];
	memset(d, 'x', sizeof(d));
	/* 400 bytes acknowledged, window zero: the edge is 5401, 600 bytes beyond it. */
	tp_send(F_ACK, PEER_ISS + 1, 5401, 0, d, 10);
	struct cap a = tp_one();
	cr_assert_eq(a.flags, F_ACK);
	cr_assert_eq(a.ack, PEER_ISS + 11);
	cr_assert_eq(a.seq, 5401u, "zero window: SEG.SEQ = the peer's RCV.NXT, not SND.MAX");
	/* A window of 300: the edge 5701 is still short of SND.MAX. */
	tp_send(F_ACK, PEER_ISS + 11, 5401, 300, d, 10);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 21);
	cr_assert_eq(a.seq, 5701u, "SEG.SEQ at the right edge of the peer's window");
	/* The window covers everything in flight again: ACKs go back to SND.MAX. */
	tp_send(F_ACK, PEER_ISS + 21, 5401, 5000, d, 10);
	n = tp_out(seg, 8);
	cr_assert_geq(n, 1u);
	cr_assert_eq(seg[n - 1].ack, PEER_ISS + 31);
	cr_assert_eq(seg[n - 1].seq, 6001u);
	uint8_t buf[64];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 30u);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

/* The same with a scaled window (the kernel's scale was 10): 424 bytes in flight beyond a zero
 * window are less than one scale unit, and Linux 6.18 still drops an ACK numbered SND.MAX
 * there (its window is zero and its receive queue holds data). */
Test(tcp_data, pure_acks_stay_inside_a_zero_window_even_within_one_scale_unit)
{
	dp_stack_destroy(tp_st);
	tp_cfg.window_scaling = true;
	tp_start();
	struct popts po = {.ws = 10};
	dp_conn_t c = tp_establish_passive_o(NULL, 64, &po);
	cr_assert_eq(dp_tcp_send(tp_st, c, tp_app_mbuf(424, 0)), DP_TCP_OK);
	struct cap s = tp_one();
	cr_assert_eq(s.len, 424u);
	uint8_t d[10];
	memset(d, 'y', sizeof(d));
	tp_send(F_ACK, PEER_ISS + 1, 5001, 0, d, 10);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 11);
	cr_assert_eq(a.seq, 5001u, "SEG.SEQ = RCV.NXT of a peer with a zero window");
	tp_send(F_ACK, PEER_ISS + 11, 5425, 64, NULL, 0);
	uint8_t buf[64];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 10u);
	tp_out(NULL, 0);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

/* ack_at_tx_burst: the ACK a received burst owes waits for dp_stack_tx_burst(), so a reply
 * the application sends in between carries it (one segment instead of a pure ACK and then the
 * data); with nothing to send, the pure ACK still leaves at that tx_burst. */
Test(tcp_data, ack_at_tx_burst_lets_the_reply_carry_the_ack)
{
	dp_stack_destroy(tp_st);
	tp_cfg.ack_at_tx_burst = true;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	uint8_t d[50];
	memset(d, 'q', sizeof(d));
	tp_send(F_ACK | F_PSH, PEER_ISS + 1, 5001, 65535, d, 50);
	cr_assert_eq(dp_stack_tx_pending(tp_st), 0u, "no pure ACK queued yet");
	struct rte_mbuf *in[4];
	cr_assert_eq(dp_tcp_recv(tp_st, c, in, 4), 1);
	cr_assert_eq(dp_tcp_send(tp_st, c, in[0]), DP_TCP_OK); /* echo it, zero-copy */
	struct cap s = tp_one();
	cr_assert_eq(s.len, 50u, "the echo carries the ACK: one segment");
	cr_assert_eq(s.ack, PEER_ISS + 51);
	cr_assert_eq(s.data[49], 'q');
	/* Nothing to reply: the owed ACK leaves at the next tx_burst all the same. */
	tp_send(F_ACK | F_PSH, PEER_ISS + 51, 5051, 65535, d, 50);
	struct cap a = tp_one();
	cr_assert_eq(a.len, 0u);
	cr_assert_eq(a.ack, PEER_ISS + 101);
	uint8_t buf[64];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 50u);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_data, by_default_the_ack_leaves_with_the_receive_burst)
{
	dp_conn_t c = tp_establish_passive(NULL);
	uint8_t d[50];
	memset(d, 'r', sizeof(d));
	tp_send(F_ACK | F_PSH, PEER_ISS + 1, 5001, 65535, d, 50);
	cr_assert_eq(dp_stack_tx_pending(tp_st), 1u, "the pure ACK is queued at once");
	struct rte_mbuf *in[4];
	cr_assert_eq(dp_tcp_recv(tp_st, c, in, 4), 1);
	cr_assert_eq(dp_tcp_send(tp_st, c, in[0]), DP_TCP_OK);
	struct cap s[4];
	cr_assert_eq(tp_out(s, 4), 2u);
	cr_assert_eq(s[0].len, 0u);
	cr_assert_eq(s[0].ack, PEER_ISS + 51);
	cr_assert_eq(s[1].len, 50u);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}
