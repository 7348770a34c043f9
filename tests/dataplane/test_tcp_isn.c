/* RFC 6528 initial sequence numbers: the SipHash-2-4 implementation against the reference
 * vectors of the SipHash paper, and the ISN's properties (per 4-tuple, per key, moving with
 * the 4 us clock). */
#define ALLOW_EXPERIMENTAL_API 1
#include "tcp_test_peer.h"

Test(tcp_isn, siphash24_matches_reference_vectors)
{
	/* Key 00 01 .. 0f, message 00 01 .. (len-1): vectors from the SipHash reference code. */
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	uint64_t k0, k1;
	memcpy(&k0, key, 8);
	memcpy(&k1, key + 8, 8);
	cr_assert_eq(dp_siphash24(k0, k1, msg, 0), 0x726fdb47dd0e0e31ull);
	cr_assert_eq(dp_siphash24(k0, k1, msg, 1), 0x74f839c593dc67fdull);
	cr_assert_eq(dp_siphash24(k0, k1, msg, 8), 0x93f5f5799a932462ull);
	cr_assert_eq(dp_siphash24(k0, k1, msg, 15), 0xa129ca6149be45e5ull);
	cr_assert_eq(dp_siphash24(k0, k1, msg, 63), 0x958a324ceb064572ull);
}

static void setup(void)
{
	tp_defaults();
	tp_cfg.isn_fixed_set = false;
	memset(tp_cfg.isn_key, 0x11, sizeof(tp_cfg.isn_key));
	tp_start();
}

static void teardown(void)
{
	tp_stop();
}

Test(tcp_isn, isn_depends_on_tuple_key_and_clock, .init = setup, .fini = teardown)
{
	uint32_t a = tcp_isn(tp_st, US_IP, 80, PEER_IP, 40000);
	cr_assert_eq(tcp_isn(tp_st, US_IP, 80, PEER_IP, 40000), a, "same tuple, same time");
	cr_assert_neq(tcp_isn(tp_st, US_IP, 80, PEER_IP, 40001), a, "another port");
	cr_assert_neq(tcp_isn(tp_st, US_IP, 80, PEER_IP + 1, 40000), a, "another address");
	tp_advance(4000);
	uint32_t b = tcp_isn(tp_st, US_IP, 80, PEER_IP, 40000);
	cr_assert_eq(b - a, 1000u, "M: one tick every 4 us");
	struct dp_stack *other = tp_st;
	tp_cfg.isn_key[0] ^= 1;
	char err[128];
	struct dp_stack *st2 = dp_stack_create(&tp_cfg, err, sizeof(err));
	cr_assert_not_null(st2, "%s", err);
	dp_stack_poll(st2, tp_now);
	cr_assert_neq(tcp_isn(st2, US_IP, 80, PEER_IP, 40000), b, "another key");
	dp_stack_destroy(st2);
	tp_st = other;
	/* The SYN-ACK carries it. */
	int rc;
	dp_tcp_listen(tp_st, US_PORT, 4, &rc);
	tp_send(F_SYN, PEER_ISS, 0, 1000, NULL, 0);
	struct cap sa = tp_one();
	cr_assert_eq(sa.seq, tcp_isn(tp_st, US_IP, US_PORT, PEER_IP, PEER_PORT));
	for (uint32_t i = 0; i < tp_st->nconns; i++)
		if (tp_st->conns[i].kind == CONN_TCP)
			tcp_conn_free(tp_st, &tp_st->conns[i]);
}
