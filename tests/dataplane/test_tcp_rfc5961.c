/* Robustness: RST and SYN in every state (RFC 5961 §3, §4), challenge ACKs and their rate
 * limit (§7), unacceptable ACKs (§5), PAWS (RFC 7323 §5), keepalive, and the invariant
 * counter. */
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

TestSuite(tcp_rfc5961, .init = setup, .fini = teardown);

/* Brings a passive connection into state s; returns its handle and the peer's next seq. */
static dp_conn_t reach(enum dp_tcp_state s, uint32_t *peer_nxt)
{
	if (s == DP_TCP_SYN_RCVD) {
		int rc;
		dp_tcp_listen(tp_st, US_PORT, 4, &rc);
		tp_send(F_SYN, PEER_ISS, 0, 1000, NULL, 0);
		tp_one();
		*peer_nxt = PEER_ISS + 1;
		return DP_CONN_INVALID; /* not yet accepted: no handle */
	}
	dp_conn_t c = tp_establish_passive(NULL);
	*peer_nxt = PEER_ISS + 1;
	switch (s) {
	case DP_TCP_ESTABLISHED:
		break;
	case DP_TCP_FIN_WAIT_1:
		dp_tcp_shutdown_write(tp_st, c);
		tp_one();
		break;
	case DP_TCP_FIN_WAIT_2:
		dp_tcp_shutdown_write(tp_st, c);
		tp_one();
		tp_send(F_ACK, PEER_ISS + 1, 5002, 1000, NULL, 0);
		break;
	case DP_TCP_CLOSE_WAIT:
		tp_send(F_FIN | F_ACK, PEER_ISS + 1, 5001, 1000, NULL, 0);
		tp_one();
		*peer_nxt = PEER_ISS + 2;
		break;
	case DP_TCP_CLOSING:
		dp_tcp_shutdown_write(tp_st, c);
		tp_one();
		tp_send(F_FIN | F_ACK, PEER_ISS + 1, 5001, 1000, NULL, 0);
		tp_one();
		*peer_nxt = PEER_ISS + 2;
		break;
	case DP_TCP_LAST_ACK:
		tp_send(F_FIN | F_ACK, PEER_ISS + 1, 5001, 1000, NULL, 0);
		tp_one();
		dp_tcp_shutdown_write(tp_st, c);
		tp_one();
		*peer_nxt = PEER_ISS + 2;
		break;
	case DP_TCP_TIME_WAIT:
		dp_tcp_shutdown_write(tp_st, c);
		tp_one();
		tp_send(F_ACK, PEER_ISS + 1, 5002, 1000, NULL, 0);
		tp_send(F_FIN | F_ACK, PEER_ISS + 1, 5002, 1000, NULL, 0);
		tp_one();
		*peer_nxt = PEER_ISS + 2;
		break;
	default:
		cr_assert_fail("state %d not reachable here", s);
	}
	cr_assert_eq(dp_tcp_state(tp_st, c), s, "reached %s", dp_tcp_state_name(s));
	return c;
}

static const enum dp_tcp_state synced[] = {
	DP_TCP_SYN_RCVD,   DP_TCP_ESTABLISHED, DP_TCP_FIN_WAIT_1, DP_TCP_FIN_WAIT_2,
	DP_TCP_CLOSE_WAIT, DP_TCP_CLOSING,     DP_TCP_LAST_ACK,   DP_TCP_TIME_WAIT,
};

static void fresh(void)
{
	dp_stack_destroy(tp_st);
	cr_assert_eq(rte_mempool_in_use_count(tp_pool), 0);
	tp_start();
}

Test(tcp_rfc5961, rst_with_exact_sequence_closes_in_every_synchronized_state)
{
	for (unsigned i = 0; i < RTE_DIM(synced); i++) {
		fresh();
		uint32_t nxt;
		dp_conn_t c = reach(synced[i], &nxt);
		tp_send(F_RST, nxt, 0, 0, NULL, 0);
		tp_none();
		if (c == DP_CONN_INVALID) {
			cr_assert_eq(dp_stack_conns_in_use(tp_st), 0,
				     "SYN_RCVD: RST returns to LISTEN, the embryo is forgotten");
			continue;
		}
		cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSED, "RST in %s",
			     dp_tcp_state_name(synced[i]));
		int err = 0;
		cr_assert(tp_events_for(c, &err) & DP_EV_CLOSED);
		/* In TIME_WAIT both FINs are done: a RST only shortens TIME_WAIT. */
		cr_assert_eq(err, synced[i] == DP_TCP_TIME_WAIT ? 0 : DP_TCP_ERESET);
		dp_tcp_close(tp_st, c);
		cr_assert_eq(dp_stack_conns_in_use(tp_st), 0);
	}
}

Test(tcp_rfc5961, rst_in_window_but_not_exact_gets_a_challenge_ack_in_every_state)
{
	for (unsigned i = 0; i < RTE_DIM(synced); i++) {
		fresh();
		uint32_t nxt;
		dp_conn_t c = reach(synced[i], &nxt);
		tp_send(F_RST, nxt + 100, 0, 0, NULL, 0);
		struct cap a = tp_one();
		cr_assert_eq(a.flags, F_ACK, "challenge ACK in %s", dp_tcp_state_name(synced[i]));
		cr_assert_eq(a.ack, nxt, "it carries RCV.NXT so a real peer can send an exact RST");
		cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_TCP_CHALLENGE_ACKS), 1);
		if (c != DP_CONN_INVALID)
			cr_assert_eq(dp_tcp_state(tp_st, c), synced[i], "still alive");
		/* Out of window entirely: silently ignored. */
		tp_send(F_RST, nxt + 1000000, 0, 0, NULL, 0);
		tp_none();
		if (c != DP_CONN_INVALID)
			cr_assert_eq(dp_tcp_state(tp_st, c), synced[i]);
	}
	fresh();
}

Test(tcp_rfc5961, syn_in_every_synchronized_state_gets_a_challenge_ack)
{
	for (unsigned i = 1; i + 1 < RTE_DIM(synced); i++) { /* TIME_WAIT: see below */
		fresh();
		uint32_t nxt;
		dp_conn_t c = reach(synced[i], &nxt);
		/* In window and out of window: both challenged (RFC 5961 §4.2). */
		tp_send(F_SYN, nxt + 10, 0, 1000, NULL, 0);
		struct cap a = tp_one();
		cr_assert_eq(a.flags, F_ACK, "SYN in %s", dp_tcp_state_name(synced[i]));
		cr_assert_eq(a.ack, nxt);
		tp_send(F_SYN, nxt - 100000, 0, 1000, NULL, 0);
		a = tp_one();
		cr_assert_eq(a.flags, F_ACK);
		cr_assert_eq(dp_tcp_state(tp_st, c), synced[i], "a SYN never resets a connection");
	}
	fresh();
}

Test(tcp_rfc5961, time_wait_new_syn_above_old_space_opens_a_new_incarnation)
{
	uint32_t nxt;
	dp_conn_t c = reach(DP_TCP_TIME_WAIT, &nxt);
	tp_send(F_SYN, nxt - 100000, 0, 1000, NULL, 0);
	struct cap a = tp_one();
	cr_assert_eq(a.flags, F_ACK, "an old SYN is challenged");
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_TIME_WAIT);
	tp_send(F_SYN, nxt + 5000, 0, 1000, NULL, 0);
	a = tp_one();
	cr_assert_eq(a.flags, F_SYN | F_ACK, "a new SYN above RCV.NXT starts a new connection");
	cr_assert_eq(a.ack, nxt + 5001);
	int err = -1;
	cr_assert(tp_events_for(c, &err) & DP_EV_CLOSED);
	cr_assert_eq(err, 0);
	dp_tcp_close(tp_st, c);
	cr_assert_eq(dp_stack_conns_in_use(tp_st), 1, "the new embryonic connection");
}

Test(tcp_rfc5961, challenge_acks_are_rate_limited_per_second)
{
	dp_stack_destroy(tp_st);
	tp_cfg.challenge_ack_per_s = 5;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	for (int i = 0; i < 20; i++)
		tp_send(F_RST, PEER_ISS + 1 + 50 + (uint32_t)i, 0, 0, NULL, 0);
	struct cap o[32];
	cr_assert_eq(tp_out(o, 32), 5);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_TCP_CHALLENGE_ACKS_LIMITED), 15);
	tp_advance(1000000);
	tp_send(F_RST, PEER_ISS + 1 + 50, 0, 0, NULL, 0);
	cr_assert_eq(tp_out(o, 32), 1, "a new second, a new budget");
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_ESTABLISHED);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_rfc5961, ack_of_unsent_data_is_challenged_and_dropped)
{
	dp_conn_t c = tp_establish_passive(NULL);
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 5000, 1000, "zz", 2);
	struct cap a = tp_one();
	cr_assert_eq(a.flags, F_ACK);
	cr_assert_eq(a.ack, PEER_ISS + 1, "the data of that segment was not taken");
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TCP_BAD_ACK), 1);
	/* Too old: below SND.UNA - MAX.SND.WND. */
	dp_tcp_send(tp_st, c, tp_app_mbuf(100, 0));
	tp_one();
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 100, 1000, NULL, 0);
	tp_send(F_ACK, PEER_ISS + 1, 5001 - 70000, 1000, NULL, 0);
	tp_one();
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TCP_BAD_ACK), 2);
	dp_tcp_abort(tp_st, c);
	tp_out(NULL, 0);
}

Test(tcp_rfc5961, paws_drops_old_timestamps_and_acks)
{
	dp_stack_destroy(tp_st);
	tp_cfg.timestamps = true;
	tp_start();
	struct popts po = {.ws = -1, .ts = true, .tsval = 1000};
	dp_conn_t c = tp_establish_passive_o(NULL, 1000, &po);
	struct dp_tcp_info in;
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert(in.ts_ok);
	struct popts d = {.ws = -1, .ts = true, .tsval = 2000};
	tp_send_o(F_ACK, PEER_ISS + 1, 5001, 1000, "new", 3, &d);
	struct cap a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 4);
	cr_assert(a.has_ts);
	cr_assert_eq(a.tsecr, 2000u, "echoes the latest timestamp");
	/* An old duplicate from a previous incarnation: timestamp went backwards. */
	struct popts old = {.ws = -1, .ts = true, .tsval = 1500};
	tp_send_o(F_ACK, PEER_ISS + 4, 5001, 1000, "old", 3, &old);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 4, "PAWS: the data is not accepted");
	dp_tcp_get_info(tp_st, c, &in);
	cr_assert_eq(in.paws_drops, 1);
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_DROP_TCP_PAWS), 1);
	uint8_t buf[16];
	cr_assert_eq(tp_read_all(c, buf, sizeof(buf)), 3u);
	cr_assert_eq(memcmp(buf, "new", 3), 0);
	/* Timestamps wrap like sequence numbers: 0xf0000000 -> 5 is newer. */
	struct popts w1 = {.ws = -1, .ts = true, .tsval = 0x7ffffff0u};
	tp_send_o(F_ACK, PEER_ISS + 4, 5001, 1000, "a", 1, &w1);
	tp_one();
	struct popts w2 = {.ws = -1, .ts = true, .tsval = 0xf0000000u};
	tp_send_o(F_ACK, PEER_ISS + 5, 5001, 1000, "b", 1, &w2);
	tp_one();
	struct popts w3 = {.ws = -1, .ts = true, .tsval = 5};
	tp_send_o(F_ACK, PEER_ISS + 6, 5001, 1000, "c", 1, &w3);
	a = tp_one();
	cr_assert_eq(a.ack, PEER_ISS + 7, "a wrapped timestamp is newer, not older");
	/* A RST is never dropped by PAWS. */
	tp_send_o(F_RST, PEER_ISS + 7, 0, 0, NULL, 0, &old);
	cr_assert_eq(dp_tcp_state(tp_st, c), DP_TCP_CLOSED);
	tp_events_for(c, NULL);
	dp_tcp_close(tp_st, c);
}

Test(tcp_rfc5961, keepalive_probes_then_aborts_an_idle_dead_peer)
{
	dp_stack_destroy(tp_st);
	tp_cfg.keepalive_idle_us = 10000000;
	tp_cfg.keepalive_intvl_us = 1000000;
	tp_cfg.keepalive_probes = 3;
	tp_start();
	dp_conn_t c = tp_establish_passive(NULL);
	tp_advance(9999999);
	tp_none();
	tp_advance(1);
	struct cap k = tp_one();
	cr_assert_eq(k.flags, F_ACK);
	cr_assert_eq(k.seq, 5000u, "keepalive: SND.UNA - 1, no data");
	cr_assert_eq(k.len, 0u);
	/* The peer answers: idle time starts over. */
	tp_send(F_ACK, PEER_ISS + 1, 5001, 1000, NULL, 0);
	tp_advance(1000000);
	tp_none();
	tp_advance(9000000);
	cr_assert_eq(tp_one().seq, 5000u);
	tp_advance(1000000);
	tp_one();
	tp_advance(1000000);
	tp_one();
	tp_advance(1000000);
	struct cap r = tp_one();
	cr_assert(r.flags & F_RST, "probes exhausted: the connection is reset");
	int err = 0;
	cr_assert(tp_events_for(c, &err) & DP_EV_CLOSED);
	cr_assert_eq(err, DP_TCP_ETIMEDOUT);
	dp_tcp_close(tp_st, c);
}

Test(tcp_rfc5961, unacked_data_always_has_an_rto_timer)
{
	/* White box: walk through sends, losses, zero windows and closes and check after each
	 * step that no connection holds unacknowledged data without its timer. */
	dp_conn_t c = tp_establish_passive(NULL);
	struct dp_conn *pc = &tp_st->conns[0];
	for (int i = 0; i < 5; i++) {
		dp_tcp_send(tp_st, c, tp_app_mbuf(700, 0));
		cr_assert(dp_timer_armed(&pc->t_rtx));
	}
	tp_out(NULL, 0);
	tp_send(F_ACK, PEER_ISS + 1, 5001 + 700, 0, NULL, 0);
	cr_assert(pc->snd_una != pc->snd_max);
	cr_assert(dp_timer_armed(&pc->t_rtx), "window closed with data in flight");
	tp_advance(pc->rto_us);
	tp_out(NULL, 0);
	cr_assert(dp_timer_armed(&pc->t_rtx));
	tp_send(F_ACK, PEER_ISS + 1, pc->snd_max, 1000, NULL, 0);
	tp_out(NULL, 0);
	dp_tcp_close(tp_st, c);
	tp_out(NULL, 0);
	cr_assert(dp_timer_armed(&pc->t_rtx), "FIN in flight");
	cr_assert_eq(dp_stack_counter(tp_st, DP_CTR_INVARIANT_RTX_TIMER), 0);
	tp_send(F_RST, PEER_ISS + 1, 0, 0, NULL, 0);
}
