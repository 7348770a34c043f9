/* Port and mbuf pool set-up. Start-up code: it may allocate, log and sleep. */
#include "dp_port.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#define DEFAULT_NDESC 1024
#define DEFAULT_CACHE 256
/* Below this a pool is too small to be worth sizing precisely. */
#define POOL_FLOOR 1024

static uint16_t or_one(uint16_t v)
{
	return v ? v : 1;
}

uint32_t dp_pool_size(const struct dp_port_conf *c, uint32_t cache, unsigned n_lcores)
{
	uint32_t rxd = c->n_rxd ? c->n_rxd : DEFAULT_NDESC;
	uint32_t txd = c->n_txd ? c->n_txd : DEFAULT_NDESC;
	/* Every RX descriptor holds an mbuf; every TX descriptor may hold one until the
	 * device cleans it; each lcore's cache may hide `cache` mbufs (up to 1.5x when it
	 * flushes); a burst per queue may be in the application's hands. */
	uint64_t n = (uint64_t)or_one(c->n_rxq) * (rxd + 64) + (uint64_t)or_one(c->n_txq) * (txd + 64) +
		     (uint64_t)n_lcores * cache * 3 / 2 + c->app_mbufs;
	if (n < POOL_FLOOR)
		n = POOL_FLOOR;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

struct rte_mempool *dp_pool_create(const struct dp_pool_conf *pc, char *err, size_t errlen)
{
	uint32_t frame = pc->frame_max ? pc->frame_max : DP_FRAME_MAX_DEFAULT;
	/* The PMD's own headroom plus ours, so the application's room does not shrink if
	 * DPDK is built with a different RTE_PKTMBUF_HEADROOM. */
	uint32_t room = RTE_PKTMBUF_HEADROOM + DP_MBUF_HEADROOM + frame;
	uint32_t n = pc->n_mbufs ? pc->n_mbufs : POOL_FLOOR;
	uint32_t cache = pc->cache ? pc->cache : DEFAULT_CACHE;
	int socket = pc->socket_id == 0 ? SOCKET_ID_ANY : pc->socket_id;
	if (cache > RTE_MEMPOOL_CACHE_MAX_SIZE)
		cache = RTE_MEMPOOL_CACHE_MAX_SIZE;
	/* rte_mempool refuses a cache larger than n / 1.5. */
	if ((uint64_t)cache * 3 / 2 > n)
		cache = n * 2 / 3;
	if (room > UINT16_MAX) {
		snprintf(err, errlen, "pool %s: data room %u exceeds 65535", pc->name, room);
		return NULL;
	}
	struct rte_mempool *mp = rte_pktmbuf_pool_create(pc->name, n, cache, 0, (uint16_t)room,
							 socket);
	if (mp == NULL)
		snprintf(err, errlen, "pool %s (%u mbufs of %u B): %s", pc->name, n, room,
			 rte_strerror(rte_errno));
	return mp;
}

static int find_or_probe(const struct dp_port_conf *c, uint16_t *port_id, char *err, size_t errlen)
{
	if (rte_eth_dev_get_port_by_name(c->dev, port_id) == 0)
		return 0;
	if (c->devargs == NULL) {
		snprintf(err, errlen, "no ethdev named %s", c->dev);
		return -1;
	}
	int rc = rte_dev_probe(c->devargs);
	if (rc != 0) {
		snprintf(err, errlen, "probe %s: %s", c->devargs, rte_strerror(-rc));
		return -1;
	}
	if (rte_eth_dev_get_port_by_name(c->dev, port_id) != 0) {
		snprintf(err, errlen, "probe %s did not create ethdev %s", c->devargs, c->dev);
		return -1;
	}
	return 0;
}

/* Offloads we want if the device has them; everything else stays off. */
static void choose_offloads(struct dp_port *p, const struct dp_port_conf *c,
			    const struct rte_eth_dev_info *info, struct rte_eth_conf *ec)
{
	p->csum = 0;
	if (c->sw_csum)
		return;
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->csum |= DP_CSUM_TX_IPV4;
	}
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		p->csum |= DP_CSUM_TX_TCP;
	}
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		p->csum |= DP_CSUM_RX_IPV4;
	}
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) {
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		p->csum |= DP_CSUM_RX_TCP;
	}
	/* RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE stays off: the stack keeps references to sent
	 * mbufs (refcount > 1) and may send mbufs from several pools, both of which that
	 * offload forbids. */
}

static int setup(struct dp_port *p, const struct dp_port_conf *c, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "%s: dev_info: %s", c->dev, rte_strerror(-rc));
		return -1;
	}
	p->n_rxq = or_one(c->n_rxq);
	p->n_txq = or_one(c->n_txq);
	if (p->n_rxq > info.max_rx_queues || p->n_txq > info.max_tx_queues) {
		snprintf(err, errlen, "%s: %u rx / %u tx queues asked, device has %u / %u", c->dev,
			 p->n_rxq, p->n_txq, info.max_rx_queues, info.max_tx_queues);
		return -1;
	}
	struct rte_eth_conf ec;
	memset(&ec, 0, sizeof(ec));
	choose_offloads(p, c, &info, &ec);
	if (p->n_rxq > 1) {
		/* Spread connections over RX queues by their 4-tuple. */
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP;
		ec.rx_adv_conf.rss_conf.rss_hf &= info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(p->port_id, p->n_rxq, p->n_txq, &ec);
	if (rc != 0) {
		snprintf(err, errlen, "%s: configure: %s", c->dev, rte_strerror(-rc));
		return -1;
	}
	p->tx_offloads = ec.txmode.offloads;
	p->rx_offloads = ec.rxmode.offloads;
	if (c->mtu != 0) {
		rc = rte_eth_dev_set_mtu(p->port_id, c->mtu);
		if (rc != 0) {
			snprintf(err, errlen, "%s: set mtu %u: %s", c->dev, c->mtu, rte_strerror(-rc));
			return -1;
		}
	}
	uint16_t mtu = 0;
	p->mtu = rte_eth_dev_get_mtu(p->port_id, &mtu) == 0 && mtu != 0 ? mtu : RTE_ETHER_MTU;

	uint16_t rxd = c->n_rxd ? c->n_rxd : DEFAULT_NDESC;
	uint16_t txd = c->n_txd ? c->n_txd : DEFAULT_NDESC;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (rc != 0) {
		snprintf(err, errlen, "%s: descriptors: %s", c->dev, rte_strerror(-rc));
		return -1;
	}
	int socket = rte_eth_dev_socket_id(p->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		rxc.offloads = ec.rxmode.offloads;
		rc = rte_eth_rx_queue_setup(p->port_id, q, rxd, (unsigned)socket, &rxc, p->pool);
		if (rc != 0) {
			snprintf(err, errlen, "%s: rx queue %u: %s", c->dev, q, rte_strerror(-rc));
			return -1;
		}
	}
	for (uint16_t q = 0; q < p->n_txq; q++) {
		struct rte_eth_txconf txc = info.default_txconf;
		txc.offloads = ec.txmode.offloads;
		rc = rte_eth_tx_queue_setup(p->port_id, q, txd, (unsigned)socket, &txc);
		if (rc != 0) {
			snprintf(err, errlen, "%s: tx queue %u: %s", c->dev, q, rte_strerror(-rc));
			return -1;
		}
	}
	if (c->promiscuous) {
		rc = rte_eth_promiscuous_enable(p->port_id);
		/* Virtual devices without the notion answer -ENOTSUP: harmless. */
		if (rc != 0 && rc != -ENOTSUP) {
			snprintf(err, errlen, "%s: promiscuous: %s", c->dev, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_macaddr_get(p->port_id, &p->mac);
	if (rc != 0) {
		snprintf(err, errlen, "%s: mac: %s", c->dev, rte_strerror(-rc));
		return -1;
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		snprintf(err, errlen, "%s: start: %s", c->dev, rte_strerror(-rc));
		return -1;
	}
	p->started = true;
	return 0;
}

int dp_port_open(struct dp_port *p, const struct dp_port_conf *c, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (c->dev == NULL || c->dev[0] == '\0') {
		snprintf(err, errlen, "port: no device name");
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", c->dev);
	if (find_or_probe(c, &p->port_id, err, errlen) != 0)
		return -1;
	p->pool = c->pool;
	if (p->pool == NULL) {
		struct dp_pool_conf pc = c->pool_conf;
		char name[RTE_MEMPOOL_NAMESIZE];
		if (pc.name == NULL) {
			snprintf(name, sizeof(name), "dp_pool_%u", p->port_id);
			pc.name = name;
		}
		uint32_t cache = pc.cache ? pc.cache : DEFAULT_CACHE;
		if (pc.n_mbufs == 0)
			pc.n_mbufs = dp_pool_size(c, cache, rte_lcore_count());
		p->pool = dp_pool_create(&pc, err, errlen);
		if (p->pool == NULL)
			return -1;
		p->pool_owned = true;
	}
	if (setup(p, c, err, errlen) != 0) {
		dp_port_close(p);
		return -1;
	}
	return 0;
}

void dp_port_close(struct dp_port *p)
{
	if (p->started) {
		rte_eth_dev_stop(p->port_id);
		p->started = false;
	}
	if (p->pool_owned) {
		/* Closing releases the mbufs held by RX rings before the pool goes away. */
		rte_eth_dev_close(p->port_id);
		rte_mempool_free(p->pool);
		p->pool = NULL;
		p->pool_owned = false;
	}
}

int dp_port_ring_pair(const char *name_a, const char *name_b, unsigned ring_size,
		      uint16_t *port_a, uint16_t *port_b, char *err, size_t errlen)
{
	char rn[RTE_RING_NAMESIZE];
	struct rte_ring *ab, *ba;
	/* One producer and one consumer per ring: each port is driven by one lcore. */
	snprintf(rn, sizeof(rn), "%.12s_%.12s", name_a, name_b);
	ab = rte_ring_create(rn, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rn, sizeof(rn), "%.12s_%.12s", name_b, name_a);
	ba = rte_ring_create(rn, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ab == NULL || ba == NULL) {
		snprintf(err, errlen, "ring pair %s/%s: %s", name_a, name_b, rte_strerror(rte_errno));
		rte_ring_free(ab);
		rte_ring_free(ba);
		return -1;
	}
	int a = rte_eth_from_rings(name_a, &ba, 1, &ab, 1, (unsigned)rte_socket_id());
	int b = a < 0 ? -1 : rte_eth_from_rings(name_b, &ab, 1, &ba, 1, (unsigned)rte_socket_id());
	if (a < 0 || b < 0) {
		snprintf(err, errlen, "ring pair %s/%s: %s", name_a, name_b, rte_strerror(rte_errno));
		return -1;
	}
	*port_a = (uint16_t)a;
	*port_b = (uint16_t)b;
	return 0;
}

int dp_port_wait_link(const struct dp_port *p, unsigned timeout_ms)
{
	for (unsigned waited = 0;; waited += 10) {
		struct rte_eth_link link;
		if (rte_eth_link_get_nowait(p->port_id, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return 0;
		if (waited >= timeout_ms)
			return -1;
		usleep(10 * 1000);
	}
}
