/* The fault injector: parsing, each fault's rate within statistical bounds for a fixed seed,
 * determinism per seed, corruption caught by the receiver's checksum, hold queue limits,
 * and no mbuf leaked. */
#define ALLOW_EXPERIMENTAL_API 1
#include <string.h>

#include <criterion/criterion.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dp_fault.h"
#include "dp_port.h"
#include "dp_test_eal.h"

#define PAYLOAD 100
/* RTE_IPV4() shifts a signed int into the sign bit for 198.x.x.x (UBSan objects). */
#define IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define N_STAT 20000

static struct rte_mempool *pool;
static char err[256];

static void setup(void)
{
	dp_test_eal_init();
	struct dp_pool_conf pc = { .name = "fault_test", .n_mbufs = 4096, .cache = 0 };
	pool = dp_pool_create(&pc, err, sizeof(err));
	cr_assert_not_null(pool, "%s", err);
}

static void teardown(void)
{
	/* Every packet handed to the injector is either returned to the test (and freed by
	 * it) or freed by the injector: nothing may stay out of the pool. */
	cr_expect_eq(rte_mempool_in_use_count(pool), 0, "mbufs leaked: %u",
		     rte_mempool_in_use_count(pool));
	rte_mempool_free(pool);
}

TestSuite(fault, .init = setup, .fini = teardown);

/* An Ethernet/IPv4/TCP frame with valid checksums whose payload starts with id. */
static struct rte_mbuf *tcp_frame(uint32_t id)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	cr_assert_not_null(m);
	size_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
		     sizeof(struct rte_tcp_hdr) + PAYLOAD;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memset(p, 0, len);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - sizeof(*eth)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(IPV4(198, 18, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(IPV4(198, 18, 0, 2));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(40000);
	th->dst_port = rte_cpu_to_be_16(7);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	th->rx_win = rte_cpu_to_be_16(65535);
	uint8_t *payload = (uint8_t *)(th + 1);
	memcpy(payload, &id, sizeof(id));
	for (int i = sizeof(id); i < PAYLOAD; i++)
		payload[i] = (uint8_t)(id * 7 + i);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return m;
}

static struct rte_ipv4_hdr *ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

static uint32_t id_of(struct rte_mbuf *m)
{
	uint32_t id;
	memcpy(&id, rte_pktmbuf_mtod_offset(m, uint8_t *,
					    sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
						    sizeof(struct rte_tcp_hdr)),
	       sizeof(id));
	return id;
}

static bool csum_ok(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	return rte_ipv4_cksum(ip) == 0 &&
	       rte_ipv4_udptcp_cksum_verify(ip, (struct rte_tcp_hdr *)(ip + 1)) == 0;
}

static void init_dir(struct dp_fault_dir *d, const char *spec, uint64_t seed, bool tx)
{
	struct dp_fault_conf c;
	cr_assert_eq(dp_fault_parse(&c, spec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(dp_fault_init(d, &c, seed, tx, pool, err, sizeof(err)), 0, "%s", err);
}

/* Runs n frames through d in bursts of 32 at a fixed time; records the ids that come out
 * (up to max) and frees them. Returns how many came out. */
static unsigned run(struct dp_fault_dir *d, unsigned n, uint32_t *ids, unsigned max)
{
	unsigned out_n = 0;
	for (unsigned i = 0; i < n;) {
		struct rte_mbuf *in[32], *out[65];
		unsigned b = n - i < 32 ? n - i : 32;
		for (unsigned j = 0; j < b; j++)
			in[j] = tcp_frame(i + j);
		i += b;
		uint16_t k = dp_fault_apply(d, in, (uint16_t)b, out, 65, 0);
		for (uint16_t j = 0; j < k; j++) {
			if (ids != NULL && out_n < max)
				ids[out_n] = id_of(out[j]);
			out_n++;
			rte_pktmbuf_free(out[j]);
		}
	}
	struct rte_mbuf *out[256];
	uint16_t k;
	while ((k = dp_fault_flush(d, out, 256)) > 0) {
		for (uint16_t j = 0; j < k; j++) {
			if (ids != NULL && out_n < max)
				ids[out_n] = id_of(out[j]);
			out_n++;
			rte_pktmbuf_free(out[j]);
		}
	}
	return out_n;
}

/* A binomial count for p over N_STAT trials must fall within 5 standard deviations. */
static void expect_rate(uint64_t count, double p, const char *what)
{
	double mean = N_STAT * p, var = N_STAT * p * (1 - p), dev = (double)count - mean;
	cr_expect(dev * dev <= 25 * var, "%s: %lu of %d, expected %.0f (variance %.0f)", what,
		  (unsigned long)count, N_STAT, mean, var);
}

Test(fault, parse_accepts_every_key_and_empty_spec)
{
	struct dp_fault_conf c;
	cr_assert_eq(dp_fault_parse(&c, "drop=0.01,drop_burst=3,drop_burst_us=70,corrupt=0.005,dup=0.005,reorder=0.01,"
					"reorder_gap=2,reorder_max_us=500,delay=0.5,delay_us=200,"
					"hold_max=64",
				    err, sizeof(err)),
		     0, "%s", err);
	cr_expect_float_eq(c.drop, 0.01, 1e-12);
	cr_expect_eq(c.drop_burst, 3);
	cr_expect_eq(c.drop_burst_us, 70);
	cr_expect_float_eq(c.corrupt, 0.005, 1e-12);
	cr_expect_float_eq(c.dup, 0.005, 1e-12);
	cr_expect_float_eq(c.reorder, 0.01, 1e-12);
	cr_expect_float_eq(c.delay, 0.5, 1e-12);
	cr_expect_eq(c.reorder_gap, 2);
	cr_expect_eq(c.reorder_max_us, 500);
	cr_expect_eq(c.delay_us, 200);
	cr_expect_eq(c.hold_max, 64);
	cr_assert_eq(dp_fault_parse(&c, "", err, sizeof(err)), 0);
	cr_expect_float_eq(c.drop, 0.0, 1e-12);
}

Test(fault, parse_rejects_unknown_key_bad_rate_and_garbage)
{
	struct dp_fault_conf c;
	cr_expect_eq(dp_fault_parse(&c, "lose=0.1", err, sizeof(err)), -1);
	cr_expect(strstr(err, "lose") != NULL, "error names the key: %s", err);
	cr_expect_eq(dp_fault_parse(&c, "drop=1.5", err, sizeof(err)), -1);
	cr_expect_eq(dp_fault_parse(&c, "drop=-0.1", err, sizeof(err)), -1);
	cr_expect_eq(dp_fault_parse(&c, "drop=abc", err, sizeof(err)), -1);
	cr_expect_eq(dp_fault_parse(&c, "drop", err, sizeof(err)), -1);
	cr_expect_eq(dp_fault_parse(&c, "drop=0.1,,dup=0.1", err, sizeof(err)), -1);
	cr_expect_eq(dp_fault_parse(&c, "delay_us=1.5", err, sizeof(err)), -1);
}

Test(fault, init_refuses_copying_faults_without_pool)
{
	struct dp_fault_dir d;
	struct dp_fault_conf c = { .dup = 0.1 };
	cr_expect_eq(dp_fault_init(&d, &c, 1, false, NULL, err, sizeof(err)), -1);
}

Test(fault, no_faults_pass_everything_in_order)
{
	struct dp_fault_dir d;
	init_dir(&d, "", 1, false);
	static uint32_t ids[1000];
	cr_assert_eq(run(&d, 1000, ids, 1000), 1000);
	for (uint32_t i = 0; i < 1000; i++)
		cr_assert_eq(ids[i], i);
	cr_expect_eq(dp_fault_count(&d, DP_FAULT_IN), 1000);
	cr_expect_eq(dp_fault_count(&d, DP_FAULT_OUT), 1000);
	dp_fault_fini(&d);
}

Test(fault, drop_rate_within_bounds_and_survivors_in_order)
{
	struct dp_fault_dir d;
	init_dir(&d, "drop=0.1", 42, false);
	static uint32_t ids[N_STAT];
	unsigned out = run(&d, N_STAT, ids, N_STAT);
	uint64_t drops = dp_fault_count(&d, DP_FAULT_DROP);
	expect_rate(drops, 0.1, "drops");
	cr_expect_eq(out + drops, N_STAT);
	for (unsigned i = 1; i < out; i++)
		cr_assert_gt(ids[i], ids[i - 1]);
	dp_fault_fini(&d);
}

Test(fault, drop_bursts_lose_consecutive_packets)
{
	struct dp_fault_dir d;
	init_dir(&d, "drop=0.01,drop_burst=9", 23, false);
	static uint32_t ids[N_STAT];
	static uint8_t kept[N_STAT];
	unsigned out = run(&d, N_STAT, ids, N_STAT);
	for (unsigned i = 0; i < out; i++)
		kept[ids[i]] = 1;
	/* every run of lost packets is at least 10 long (one decision + 9), except one cut
	 * short by the end of the input */
	unsigned runs = 0, lost = 0;
	for (unsigned i = 0; i < N_STAT;) {
		if (kept[i]) {
			i++;
			continue;
		}
		unsigned j = i;
		while (j < N_STAT && !kept[j])
			j++;
		if (j < N_STAT)
			cr_expect_geq(j - i, 10, "a burst of %u at %u", j - i, i);
		runs++;
		lost += j - i;
		i = j;
	}
	cr_expect_eq(lost, dp_fault_count(&d, DP_FAULT_DROP));
	cr_expect_eq(out + lost, N_STAT);
	/* about 1% of the packets that were not already in a burst start one */
	cr_expect(runs > 100 && runs < 250, "%u bursts", runs);
	dp_fault_fini(&d);
}

Test(fault, timed_drop_bursts_lose_everything_for_a_while_then_stop)
{
	struct dp_fault_dir d;
	init_dir(&d, "drop=0.01,drop_burst_us=50", 29, false);
	static uint8_t kept[N_STAT];
	/* one packet per microsecond */
	for (uint32_t i = 0; i < N_STAT; i++) {
		struct rte_mbuf *m = tcp_frame(i), *out[4];
		uint16_t k = dp_fault_apply(&d, &m, 1, out, 4, i);
		for (uint16_t j = 0; j < k; j++) {
			kept[id_of(out[j])] = 1;
			rte_pktmbuf_free(out[j]);
		}
	}
	unsigned runs = 0, lost = 0;
	for (unsigned i = 0; i < N_STAT;) {
		if (kept[i]) {
			i++;
			continue;
		}
		unsigned j = i;
		while (j < N_STAT && !kept[j])
			j++;
		if (j < N_STAT)
			cr_expect_eq((j - i) % 50, 0, "a burst of %u us at %u", j - i, i);
		runs++;
		lost += j - i;
		i = j;
	}
	cr_expect_eq(lost, dp_fault_count(&d, DP_FAULT_DROP));
	/* about 1% of the microseconds outside a burst start one: ~20000 / 150 */
	cr_expect(runs > 80 && runs < 200, "%u bursts", runs);
	dp_fault_fini(&d);

	/* Time, not packets: a burst that starts at t drops nothing sent at t + 50. */
	struct dp_fault_conf c = { .drop_burst_us = 50 };
	cr_assert_eq(dp_fault_init(&d, &c, 1, false, pool, err, sizeof(err)), 0);
	d.p_drop = 1ull << 32;
	struct rte_mbuf *m = tcp_frame(0), *out[4];
	cr_expect_eq(dp_fault_apply(&d, &m, 1, out, 4, 1000), 0);
	d.p_drop = 0;
	m = tcp_frame(1);
	cr_expect_eq(dp_fault_apply(&d, &m, 1, out, 4, 1049), 0, "dropped inside the burst");
	m = tcp_frame(2);
	cr_assert_eq(dp_fault_apply(&d, &m, 1, out, 4, 1050), 1, "burst outlived its time");
	rte_pktmbuf_free(out[0]);
	dp_fault_fini(&d);
}

Test(fault, same_seed_same_decisions_other_seed_differs)
{
	const char *spec = "drop=0.05,dup=0.05,reorder=0.05,reorder_gap=3";
	static uint32_t a[2 * N_STAT], b[2 * N_STAT], c[2 * N_STAT];
	struct dp_fault_dir d;
	init_dir(&d, spec, 7, false);
	unsigned na = run(&d, N_STAT, a, 2 * N_STAT);
	dp_fault_fini(&d);
	init_dir(&d, spec, 7, false);
	unsigned nb = run(&d, N_STAT, b, 2 * N_STAT);
	dp_fault_fini(&d);
	init_dir(&d, spec, 8, false);
	unsigned nc = run(&d, N_STAT, c, 2 * N_STAT);
	dp_fault_fini(&d);
	cr_assert_eq(na, nb);
	cr_expect_eq(memcmp(a, b, na * sizeof(a[0])), 0, "same seed, different output sequence");
	cr_expect(na != nc || memcmp(a, c, na * sizeof(a[0])) != 0,
		  "seeds 7 and 8 gave the same sequence");
}

Test(fault, rx_corruption_is_caught_by_the_checksum_and_clears_hw_good_flag)
{
	struct dp_fault_dir d;
	init_dir(&d, "corrupt=0.2", 3, false);
	unsigned bad = 0, good = 0;
	for (unsigned i = 0; i < N_STAT; i += 32) {
		struct rte_mbuf *in[32], *out[65];
		for (unsigned j = 0; j < 32; j++) {
			in[j] = tcp_frame(i + j);
			/* as if the PMD had verified it */
			in[j]->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
		}
		uint16_t k = dp_fault_apply(&d, in, 32, out, 65, 0);
		cr_assert_eq(k, 32);
		for (uint16_t j = 0; j < k; j++) {
			if (csum_ok(out[j])) {
				good++;
				cr_expect_eq(out[j]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
					     RTE_MBUF_F_RX_L4_CKSUM_GOOD);
			} else {
				bad++;
				cr_expect_eq(out[j]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
					     RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN,
					     "a corrupted packet still claims a good L4 checksum");
			}
			rte_pktmbuf_free(out[j]);
		}
	}
	cr_expect_eq(bad, dp_fault_count(&d, DP_FAULT_CORRUPT),
		     "every corruption must be visible to the checksum");
	expect_rate(bad, 0.2, "corruptions");
	cr_expect_eq(good + bad, N_STAT);
	dp_fault_fini(&d);
}

/* On TX the stack may ask the NIC for checksums (pseudo-header sum in the field). The
 * injector must compute them before flipping a byte, and must not write into the mbuf the
 * stack still references for retransmission. */
Test(fault, tx_corruption_finalises_offloaded_checksums_and_spares_shared_mbuf)
{
	struct dp_fault_dir d;
	init_dir(&d, "corrupt=1", 5, true);
	struct rte_mbuf *m = tcp_frame(99);
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	ip->hdr_checksum = 0;
	th->cksum = rte_ipv4_phdr_cksum(ip, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = sizeof(struct rte_ether_hdr);
	m->l3_len = sizeof(struct rte_ipv4_hdr);
	uint8_t before[256];
	memcpy(before, rte_pktmbuf_mtod(m, void *), m->data_len);
	rte_mbuf_refcnt_update(m, 1); /* the stack's reference */

	struct rte_mbuf *out[4];
	uint16_t k = dp_fault_apply(&d, &m, 1, out, 4, 0);
	cr_assert_eq(k, 1);
	cr_assert_neq(out[0], m, "corrupted in place although shared");
	cr_expect_eq(memcmp(before, rte_pktmbuf_mtod(m, void *), m->data_len), 0,
		     "the stack's copy changed");
	cr_expect_eq(out[0]->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK), 0,
		     "offload flags left: the NIC would checksum the corrupted bytes");
	cr_expect_eq(rte_ipv4_cksum(ip_of(out[0])), 0, "IP header checksum not finalised");
	cr_expect(!csum_ok(out[0]), "corrupted TCP segment passes the checksum");
	rte_pktmbuf_free(out[0]);
	rte_pktmbuf_free(m);
	dp_fault_fini(&d);
}

Test(fault, non_ip_frames_are_never_corrupted)
{
	struct dp_fault_dir d;
	init_dir(&d, "corrupt=1", 5, false);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 60);
	memset(p, 0xab, 60);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	struct rte_mbuf *out[4];
	cr_assert_eq(dp_fault_apply(&d, &m, 1, out, 4, 0), 1);
	cr_expect_eq(dp_fault_count(&d, DP_FAULT_CORRUPT), 0);
	for (int i = sizeof(*eth); i < 60; i++)
		cr_assert_eq(rte_pktmbuf_mtod(out[0], uint8_t *)[i], 0xab);
	rte_pktmbuf_free(out[0]);
	dp_fault_fini(&d);
}

Test(fault, duplicates_are_exact_copies_following_the_original)
{
	struct dp_fault_dir d;
	init_dir(&d, "dup=0.1", 11, false);
	static uint32_t ids[2 * N_STAT];
	unsigned out = run(&d, N_STAT, ids, 2 * N_STAT);
	uint64_t dups = dp_fault_count(&d, DP_FAULT_DUP);
	expect_rate(dups, 0.1, "duplicates");
	cr_expect_eq(out, N_STAT + dups);
	unsigned seen_dups = 0;
	for (unsigned i = 1; i < out; i++) {
		if (ids[i] == ids[i - 1])
			seen_dups++;
		else
			cr_assert_eq(ids[i], ids[i - 1] + 1);
	}
	cr_expect_eq(seen_dups, dups);
	dp_fault_fini(&d);
}

Test(fault, reordered_packet_is_overtaken_by_gap_packets_and_none_is_lost)
{
	struct dp_fault_dir d;
	init_dir(&d, "reorder=0.05,reorder_gap=2", 13, false);
	static uint32_t ids[N_STAT];
	static uint8_t seen[N_STAT];
	unsigned out = run(&d, N_STAT, ids, N_STAT);
	cr_assert_eq(out, N_STAT, "reordering lost or made packets");
	expect_rate(dp_fault_count(&d, DP_FAULT_REORDER), 0.05, "reorders");
	unsigned late = 0;
	for (unsigned i = 0; i < out; i++) {
		cr_assert_lt(ids[i], N_STAT);
		cr_assert_eq(seen[ids[i]], 0, "id %u twice", ids[i]);
		seen[ids[i]] = 1;
		if (i > 0 && ids[i] < ids[i - 1])
			late++;
	}
	cr_expect_gt(late, 0, "nothing came out of order");
	dp_fault_fini(&d);
}

Test(fault, reorder_gap_one_swaps_neighbours)
{
	struct dp_fault_dir d;
	struct dp_fault_conf c = { .reorder = 1.0, .reorder_gap = 1 };
	cr_assert_eq(dp_fault_init(&d, &c, 1, false, pool, err, sizeof(err)), 0);
	/* With every packet reordered, each waits for one later packet to pass: packet 0 is
	 * held, packet 1 is held too, ... so nothing passes until the time cap. */
	struct rte_mbuf *in[2] = { tcp_frame(0), tcp_frame(1) }, *out[8];
	cr_expect_eq(dp_fault_apply(&d, in, 2, out, 8, 0), 0);
	uint16_t k = dp_fault_apply(&d, NULL, 0, out, 8, 1000);
	cr_assert_eq(k, 2, "reorder_max_us did not release held packets");
	cr_expect_eq(id_of(out[0]), 0);
	cr_expect_eq(id_of(out[1]), 1);
	rte_pktmbuf_free_bulk(out, k);
	dp_fault_fini(&d);

	/* Now only the first packet is reordered: it must come after the second. */
	c.reorder = 0;
	cr_assert_eq(dp_fault_init(&d, &c, 1, false, pool, err, sizeof(err)), 0);
	d.p_reorder = 1ull << 32; /* reorder the first packet only */
	struct rte_mbuf *first = tcp_frame(0);
	cr_expect_eq(dp_fault_apply(&d, &first, 1, out, 8, 0), 0);
	d.p_reorder = 0;
	struct rte_mbuf *second = tcp_frame(1);
	k = dp_fault_apply(&d, &second, 1, out, 8, 0);
	cr_assert_eq(k, 2);
	cr_expect_eq(id_of(out[0]), 1);
	cr_expect_eq(id_of(out[1]), 0);
	rte_pktmbuf_free_bulk(out, k);
	dp_fault_fini(&d);
}

Test(fault, delay_holds_until_time_and_keeps_order)
{
	struct dp_fault_dir d;
	init_dir(&d, "delay_us=100", 17, false);
	struct rte_mbuf *in[10], *out[32];
	for (int i = 0; i < 10; i++)
		in[i] = tcp_frame((uint32_t)i);
	cr_expect_eq(dp_fault_apply(&d, in, 10, out, 32, 1000), 0);
	cr_expect_eq(dp_fault_apply(&d, NULL, 0, out, 32, 1099), 0, "released early");
	uint16_t k = dp_fault_apply(&d, NULL, 0, out, 32, 1100);
	cr_assert_eq(k, 10);
	for (int i = 0; i < 10; i++)
		cr_expect_eq(id_of(out[i]), (uint32_t)i);
	cr_expect_eq(dp_fault_count(&d, DP_FAULT_DELAY), 10);
	rte_pktmbuf_free_bulk(out, k);
	dp_fault_fini(&d);
}

Test(fault, full_hold_queue_passes_packets_and_counts)
{
	struct dp_fault_dir d;
	init_dir(&d, "delay_us=100,hold_max=4", 19, false);
	struct rte_mbuf *in[10], *out[32];
	for (int i = 0; i < 10; i++)
		in[i] = tcp_frame((uint32_t)i);
	uint16_t k = dp_fault_apply(&d, in, 10, out, 32, 0);
	cr_expect_eq(k, 6);
	cr_expect_eq(dp_fault_count(&d, DP_FAULT_HOLD_FULL), 6);
	cr_expect_eq(dp_fault_count(&d, DP_FAULT_DELAY), 4);
	rte_pktmbuf_free_bulk(out, k);
	/* fini frees what is still held; the teardown's leak check proves it */
	dp_fault_fini(&d);
}

Test(fault, small_out_array_keeps_the_rest_for_later)
{
	struct dp_fault_dir d;
	init_dir(&d, "", 1, false);
	struct rte_mbuf *in[8], *out[8];
	for (int i = 0; i < 8; i++)
		in[i] = tcp_frame((uint32_t)i);
	cr_assert_eq(dp_fault_apply(&d, in, 8, out, 3, 0), 3);
	rte_pktmbuf_free_bulk(out, 3);
	uint16_t k = dp_fault_apply(&d, NULL, 0, out, 8, 0);
	cr_assert_eq(k, 5);
	for (int i = 0; i < 5; i++)
		cr_expect_eq(id_of(out[i]), (uint32_t)(i + 3));
	rte_pktmbuf_free_bulk(out, k);
	dp_fault_fini(&d);
}

Test(fault, pool_exhaustion_on_dup_is_counted_not_fatal)
{
	struct dp_fault_conf c = { .dup = 1.0 };
	struct dp_pool_conf pc = { .name = "fault_tiny", .n_mbufs = 2, .cache = 0 };
	struct rte_mempool *tiny = dp_pool_create(&pc, err, sizeof(err));
	cr_assert_not_null(tiny, "%s", err);
	struct rte_mbuf *hog[2];
	cr_assert_eq(rte_pktmbuf_alloc_bulk(tiny, hog, 2), 0);
	struct dp_fault_dir d;
	cr_assert_eq(dp_fault_init(&d, &c, 1, false, tiny, err, sizeof(err)), 0);
	struct rte_mbuf *m = tcp_frame(1), *out[4];
	cr_assert_eq(dp_fault_apply(&d, &m, 1, out, 4, 0), 1);
	cr_expect_eq(dp_fault_count(&d, DP_FAULT_NOMBUF), 1);
	rte_pktmbuf_free(out[0]);
	rte_pktmbuf_free_bulk(hog, 2);
	dp_fault_fini(&d);
	rte_mempool_free(tiny);
}

Test(fault, counter_names_cover_every_counter)
{
	for (int i = 0; i < DP_FAULT_COUNTER_MAX; i++)
		cr_expect(dp_fault_counter_names[i] != NULL && dp_fault_counter_names[i][0] != '\0',
			  "counter %d has no name", i);
}

/* The port wrapper over a net_ring pair: TX faults before the device, RX faults after it,
 * refused packets retried instead of lost. */
static void ring_ports(const char *a, const char *b, unsigned size, uint16_t *pa, uint16_t *pb)
{
	cr_assert_eq(dp_port_ring_pair(a, b, size, pa, pb, err, sizeof(err)), 0, "%s", err);
	char na[64], nb[64];
	snprintf(na, sizeof(na), "net_ring_%s", a);
	snprintf(nb, sizeof(nb), "net_ring_%s", b);
	static struct dp_port A, B;
	struct dp_port_conf ca = { .dev = na, .n_rxd = 64, .n_txd = 64, .pool = pool };
	struct dp_port_conf cb = { .dev = nb, .n_rxd = 64, .n_txd = 64, .pool = pool };
	cr_assert_eq(dp_port_open(&A, &ca, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(dp_port_open(&B, &cb, err, sizeof(err)), 0, "%s", err);
}

static unsigned drain_rx(uint16_t port, uint32_t *ids, unsigned max)
{
	struct rte_mbuf *rx[32];
	unsigned n = 0;
	uint16_t k;
	while ((k = rte_eth_rx_burst(port, 0, rx, 32)) > 0)
		for (uint16_t j = 0; j < k; j++) {
			if (n < max)
				ids[n] = id_of(rx[j]);
			n++;
			rte_pktmbuf_free(rx[j]);
		}
	return n;
}

Test(fault, port_tx_delay_then_device_and_refusals_retried)
{
	uint16_t pa, pb;
	/* a ring of 16 refuses most of a burst of 40 */
	ring_ports("fpa", "fpb", 16, &pa, &pb);
	struct dp_fault_conf rx = { 0 }, tx = { .delay_us = 50 };
	struct dp_fault_port fp;
	cr_assert_eq(dp_fault_port_init(&fp, pa, 0, &rx, &tx, 9, pool, err, sizeof(err)), 0, "%s",
		     err);
	struct rte_mbuf *burst[32];
	for (uint32_t i = 0; i < 32; i++)
		burst[i] = tcp_frame(i);
	cr_expect_eq(dp_fault_port_tx(&fp, burst, 32, 1000), 32, "the wrapper takes every packet");
	uint32_t ids[64];
	cr_expect_eq(drain_rx(pb, ids, 64), 0, "delayed packets reached the device early");
	/* After the delay the device takes what fits; the rest waits in tx_pending. */
	unsigned got = 0;
	for (uint64_t t = 1050; got < 32 && t < 1100; t++) {
		dp_fault_port_tx(&fp, NULL, 0, t);
		got += drain_rx(pb, ids + got, 64 - got);
	}
	cr_assert_eq(got, 32, "refused packets were lost");
	for (uint32_t i = 0; i < 32; i++)
		cr_expect_eq(ids[i], i, "order changed at %u", i);
	dp_fault_port_fini(&fp);
}

Test(fault, port_rx_faults_apply_after_the_device)
{
	uint16_t pa, pb;
	ring_ports("fqa", "fqb", 256, &pa, &pb);
	struct dp_fault_conf rx = { .drop = 1.0 }, tx = { 0 };
	struct dp_fault_port fp;
	cr_assert_eq(dp_fault_port_init(&fp, pb, 0, &rx, &tx, 9, pool, err, sizeof(err)), 0, "%s",
		     err);
	struct rte_mbuf *burst[8];
	for (uint32_t i = 0; i < 8; i++)
		burst[i] = tcp_frame(i);
	cr_assert_eq(rte_eth_tx_burst(pa, 0, burst, 8), 8);
	struct rte_mbuf *rx_pkts[16];
	cr_expect_eq(dp_fault_port_rx(&fp, rx_pkts, 16, 0), 0);
	cr_expect_eq(dp_fault_count(&fp.rx, DP_FAULT_IN), 8);
	cr_expect_eq(dp_fault_count(&fp.rx, DP_FAULT_DROP), 8);
	cr_expect_eq(dp_fault_count(&fp.tx, DP_FAULT_IN), 0);
	dp_fault_port_fini(&fp);
}
