/* Port and pool set-up over virtual devices: headroom for a rebuilt FIX header, pool sizing,
 * a net_ring pair carrying frames both ways byte-exact, probing a vdev by devargs, and the
 * errors a user gets for a wrong device or queue count. */
#include <string.h>

#include <criterion/criterion.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dp_port.h"
#include "dp_test_eal.h"

static char err[256];

TestSuite(port, .init = dp_test_eal_init);

Test(port, tx_mbuf_leaves_room_for_fix_and_network_headers)
{
	struct dp_pool_conf pc = { .name = "hr", .n_mbufs = 64 };
	struct rte_mempool *mp = dp_pool_create(&pc, err, sizeof(err));
	cr_assert_not_null(mp, "%s", err);
	struct rte_mbuf *m = dp_mbuf_alloc_tx(mp);
	cr_assert_not_null(m);
	cr_expect_eq(rte_pktmbuf_headroom(m), DP_MBUF_HEADROOM);
	cr_expect_geq(rte_pktmbuf_tailroom(m), DP_FRAME_MAX_DEFAULT,
		      "a full frame must fit after the headroom");
	/* A rebuilt FIX header, then TCP, IPv4 (with options) and Ethernet in front of it. */
	cr_expect_not_null(rte_pktmbuf_prepend(m, DP_FIX_HEADER_ROOM));
	cr_expect_not_null(rte_pktmbuf_prepend(m, 60 + 60 + 14 + 4));
	rte_pktmbuf_free(m);
	/* A received frame sits at the PMD's usual offset; the extra room is tail room. */
	m = rte_pktmbuf_alloc(mp);
	cr_expect_eq(rte_pktmbuf_headroom(m), RTE_PKTMBUF_HEADROOM);
	rte_pktmbuf_free(m);
	rte_mempool_free(mp);
}

Test(port, pool_size_counts_descriptors_caches_and_application)
{
	struct dp_port_conf c = { .n_rxq = 2, .n_txq = 2, .n_rxd = 512, .n_txd = 512 };
	uint32_t base = dp_pool_size(&c, 0, 1);
	cr_expect_geq(base, 2 * 512 + 2 * 512);
	c.app_mbufs = 10000;
	cr_expect_eq(dp_pool_size(&c, 0, 1), base + 10000);
	cr_expect_geq(dp_pool_size(&c, 256, 2), base + 10000 + 2 * 256);
	struct dp_port_conf tiny = { .n_rxd = 8, .n_txd = 8 };
	cr_expect_geq(dp_pool_size(&tiny, 0, 1), 1024, "small ports still get a usable pool");
}

static struct rte_mbuf *frame(struct rte_mempool *mp, uint8_t fill, uint16_t len)
{
	struct rte_mbuf *m = dp_mbuf_alloc_tx(mp);
	cr_assert_not_null(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);
	cr_assert_not_null(p);
	for (uint16_t i = 0; i < len; i++)
		p[i] = (uint8_t)(fill + i);
	return m;
}

static unsigned rx_all(struct dp_port *p, struct rte_mbuf **pkts, unsigned max)
{
	unsigned n = 0;
	/* net_ring delivers synchronously: what was sent is there at once. */
	while (n < max) {
		uint16_t k = dp_port_rx(p, 0, pkts + n, (uint16_t)(max - n));
		if (k == 0)
			break;
		n += k;
	}
	return n;
}

Test(port, ring_pair_carries_frames_both_ways_byte_exact)
{
	uint16_t pa, pb;
	cr_assert_eq(dp_port_ring_pair("rp_a", "rp_b", 1024, &pa, &pb, err, sizeof(err)), 0, "%s",
		     err);
	struct dp_port a, b;
	struct dp_port_conf ca = { .dev = "net_ring_rp_a", .n_rxd = 256, .n_txd = 256 };
	struct dp_port_conf cb = { .dev = "net_ring_rp_b", .n_rxd = 256, .n_txd = 256 };
	cr_assert_eq(dp_port_open(&a, &ca, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(dp_port_open(&b, &cb, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(a.port_id, pa);
	cr_expect_eq(b.port_id, pb);
	cr_expect_eq(a.csum, 0, "net_ring offers no checksum offload: the stack must compute");
	cr_expect_eq(dp_port_wait_link(&a, 100), 0);

	struct rte_mbuf *tx[3] = { frame(a.pool, 1, 60), frame(a.pool, 2, 1514),
				   frame(a.pool, 3, 200) };
	cr_assert_eq(dp_port_tx(&a, 0, tx, 3), 3);
	struct rte_mbuf *rx[8];
	cr_assert_eq(rx_all(&b, rx, 8), 3);
	const uint16_t lens[3] = { 60, 1514, 200 };
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(rte_pktmbuf_pkt_len(rx[i]), lens[i]);
		const uint8_t *p = rte_pktmbuf_mtod(rx[i], const uint8_t *);
		for (uint16_t j = 0; j < lens[i]; j++)
			cr_assert_eq(p[j], (uint8_t)(i + 1 + j));
	}
	rte_pktmbuf_free_bulk(rx, 3);
	struct rte_mbuf *back = frame(b.pool, 9, 64);
	cr_assert_eq(dp_port_tx(&b, 0, &back, 1), 1);
	cr_assert_eq(rx_all(&a, rx, 8), 1);
	cr_expect_eq(rte_pktmbuf_mtod(rx[0], uint8_t *)[0], 9);
	rte_pktmbuf_free(rx[0]);
	cr_expect_eq(rx_all(&b, rx, 8), 0, "a frame looped back to its sender");

	dp_port_close(&a);
	dp_port_close(&b);
}

Test(port, vdev_is_probed_from_devargs_when_absent)
{
	struct dp_port p;
	/* A net_ring vdev without arguments is a loopback: what it sends it receives. */
	struct dp_port_conf c = { .dev = "net_ring_probe", .devargs = "net_ring_probe" };
	cr_assert_eq(dp_port_open(&p, &c, err, sizeof(err)), 0, "%s", err);
	struct rte_mbuf *m = frame(p.pool, 5, 100), *rx[4];
	cr_assert_eq(dp_port_tx(&p, 0, &m, 1), 1);
	cr_expect_eq(rx_all(&p, rx, 4), 1);
	rte_pktmbuf_free(rx[0]);
	dp_port_close(&p);
}

Test(port, unknown_device_is_a_clear_error)
{
	struct dp_port p;
	struct dp_port_conf c = { .dev = "net_nosuch0" };
	cr_expect_eq(dp_port_open(&p, &c, err, sizeof(err)), -1);
	cr_expect(strstr(err, "net_nosuch0") != NULL, "error does not name the device: %s", err);
	struct dp_port_conf none = { .dev = NULL };
	cr_expect_eq(dp_port_open(&p, &none, err, sizeof(err)), -1);
}

Test(port, more_queues_than_the_device_has_is_refused)
{
	uint16_t pa, pb;
	cr_assert_eq(dp_port_ring_pair("q_a", "q_b", 256, &pa, &pb, err, sizeof(err)), 0, "%s", err);
	struct dp_port p;
	struct dp_port_conf c = { .dev = "net_ring_q_a", .n_rxq = 8 };
	cr_expect_eq(dp_port_open(&p, &c, err, sizeof(err)), -1);
	cr_expect(strstr(err, "queues") != NULL, "%s", err);
	/* the pool it made for the attempt is gone again: the name can be reused */
	struct dp_pool_conf pc = { .name = "dp_pool_0", .n_mbufs = 64 };
	char name[32];
	snprintf(name, sizeof(name), "dp_pool_%u", pa);
	pc.name = name;
	struct rte_mempool *mp = dp_pool_create(&pc, err, sizeof(err));
	cr_expect_not_null(mp, "pool of the failed open leaked: %s", err);
	rte_mempool_free(mp);
}

Test(port, forced_software_checksums_enable_no_offload)
{
	uint16_t pa, pb;
	cr_assert_eq(dp_port_ring_pair("sw_a", "sw_b", 256, &pa, &pb, err, sizeof(err)), 0, "%s", err);
	struct dp_port p;
	struct dp_port_conf c = { .dev = "net_ring_sw_a", .sw_csum = true };
	cr_assert_eq(dp_port_open(&p, &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.csum, 0);
	cr_expect_eq(p.tx_offloads, 0);
	dp_port_close(&p);
}
