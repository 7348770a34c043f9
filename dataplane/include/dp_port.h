/* dp_port: set-up of one DPDK ethdev port (PCI NIC, net_tap, net_af_packet, net_ring,
 * net_memif), its RX/TX queues and its mbuf pool; checksum offload discovery.
 *
 * Headroom. The NIC (or virtual PMD) writes received frames at RTE_PKTMBUF_HEADROOM (128 B
 * in the stock build) and we cannot change that without rebuilding DPDK. For the mbufs the
 * application allocates itself to transmit, we want more room in front of the payload: a
 * rebuilt FIX header (up to DP_FIX_HEADER_ROOM) plus Ethernet, IPv4 and TCP headers with all
 * their options. So pools are created with a data room of
 *     RTE_PKTMBUF_HEADROOM + DP_MBUF_HEADROOM + frame
 * (independent of how big RTE_PKTMBUF_HEADROOM happens to be), and dp_mbuf_alloc_tx()
 * returns an mbuf whose data starts DP_MBUF_HEADROOM bytes after the buffer start. The stack
 * never writes into an application's mbuf: it sends its own header mbuf (Ethernet, IPv4,
 * TCP) chained to indirect mbufs that reference the payload (dp_stack.h). So the whole
 * headroom is the FIX layer's: a received mbuf has RTE_PKTMBUF_HEADROOM plus the network
 * headers plus the old FIX header in front of the body, where fixmux rewrites the header in
 * place for forwarding (ctl_mux_*_segment).
 *
 * Checksums. dp_port_open() enables the IPv4 and TCP checksum offloads the device reports
 * in dev_info (tx_offload_capa / rx_offload_capa) unless the configuration forbids it, and
 * records the result in dp_port.csum (DP_CSUM_* bits). The stack reads that field:
 *  - DP_CSUM_TX_IPV4 set: leave ipv4 hdr_checksum 0, set RTE_MBUF_F_TX_IPV4 |
 *    RTE_MBUF_F_TX_IP_CKSUM and l2_len/l3_len; otherwise compute rte_ipv4_cksum().
 *  - DP_CSUM_TX_TCP set: put rte_ipv4_phdr_cksum() in the TCP checksum field, set
 *    RTE_MBUF_F_TX_TCP_CKSUM (and l4_len); otherwise compute rte_ipv4_udptcp_cksum[_mbuf]().
 *  - DP_CSUM_RX_IPV4 / DP_CSUM_RX_TCP set: the PMD reports GOOD/BAD/UNKNOWN in ol_flags
 *    (RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_MASK); GOOD may skip the software
 *    check, BAD is dropped, UNKNOWN or NONE must be verified in software. Without the bit,
 *    always verify in software. dp_csum_rx_l4() below folds that rule into one call.
 * The fault wrapper (dp_fault.h) keeps these rules true when it corrupts a packet.
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/* Room for a rebuilt FIX header written in front of a body. */
#ifndef DP_FIX_HEADER_ROOM
#define DP_FIX_HEADER_ROOM 512
#endif
/* Ethernet (14) + one VLAN tag (4) + IPv4 with options (60) + TCP with options (60) = 138,
 * rounded up to whole cache lines. */
#ifndef DP_NET_HEADER_ROOM
#define DP_NET_HEADER_ROOM 192
#endif
/* Headroom of application-allocated (transmit) mbufs, see dp_mbuf_alloc_tx(). */
#define DP_MBUF_HEADROOM (DP_FIX_HEADER_ROOM + DP_NET_HEADER_ROOM)

/* Largest Ethernet frame without FCS we size buffers for by default (MTU 1500). */
#ifndef DP_FRAME_MAX_DEFAULT
#define DP_FRAME_MAX_DEFAULT (1500 + RTE_ETHER_HDR_LEN + 4)
#endif

#define DP_PORT_NAME_MAX 64

/* dp_port.csum bits: which checksums the hardware (or PMD) handles. */
enum dp_csum_flag {
	DP_CSUM_TX_IPV4 = 1u << 0,
	DP_CSUM_TX_TCP = 1u << 1,
	DP_CSUM_RX_IPV4 = 1u << 2,
	DP_CSUM_RX_TCP = 1u << 3,
};

struct dp_pool_conf {
	const char *name;      /* mempool name, unique per process */
	uint32_t n_mbufs;      /* 0: computed by dp_pool_size() from the port conf */
	uint32_t cache;        /* per-lcore cache; 0: default 256 (clamped for small pools) */
	uint16_t frame_max;    /* 0: DP_FRAME_MAX_DEFAULT */
	int socket_id;         /* 0 or SOCKET_ID_ANY: any socket */
};

struct dp_port_conf {
	/* ethdev name as rte_eth_dev_get_port_by_name() knows it: a PCI address
	 * ("0000:01:00.0"), or a vdev name ("net_tap0", "net_ring_a", "net_memif0"). */
	const char *dev;
	/* If the device does not exist yet: hot-plug it with these devargs, e.g.
	 * "net_tap0,iface=dtap0" or "net_af_packet0,iface=veth0". NULL: must exist. */
	const char *devargs;
	uint16_t n_rxq, n_txq;     /* 0 means 1 */
	uint16_t n_rxd, n_txd;     /* 0 means 1024 (adjusted to the device limits) */
	uint16_t mtu;              /* 0: keep the device's */
	bool promiscuous;
	bool sw_csum;              /* true: never use checksum offload (tests, debugging) */
	/* Extra mbufs the application holds at once (socket buffers, rings, held packets);
	 * added to the queue sizes when the pool size is computed. */
	uint32_t app_mbufs;
	/* NULL: dp_port_open() creates a pool from pool_conf (name defaults to "dp_pool_<port>"). */
	struct rte_mempool *pool;
	struct dp_pool_conf pool_conf;
};

struct dp_port {
	uint16_t port_id;
	uint16_t n_rxq, n_txq;
	uint16_t mtu;
	uint32_t csum;             /* DP_CSUM_* enabled on this port */
	uint64_t tx_offloads;      /* RTE_ETH_TX_OFFLOAD_* enabled */
	uint64_t rx_offloads;      /* RTE_ETH_RX_OFFLOAD_* enabled */
	struct rte_ether_addr mac;
	struct rte_mempool *pool;
	bool pool_owned;           /* created by dp_port_open(), freed by dp_port_close() */
	bool started;
	char name[DP_PORT_NAME_MAX];
};

/* Pool size for a port: RX descriptors + TX descriptors + per-lcore caches + app_mbufs,
 * with a floor so that small test ports still work. */
uint32_t dp_pool_size(const struct dp_port_conf *c, uint32_t cache, unsigned n_lcores);

/* Creates an mbuf pool whose buffers leave DP_MBUF_HEADROOM for the application in front
 * of a frame of frame_max bytes (see the header comment). Returns NULL with err filled. */
struct rte_mempool *dp_pool_create(const struct dp_pool_conf *pc, char *err, size_t errlen);

/* Configures queues and offloads and starts the port. 0 on success, -1 with err filled. */
int dp_port_open(struct dp_port *p, const struct dp_port_conf *c, char *err, size_t errlen);
/* Stops and closes the port; frees the pool if dp_port_open() created it. */
void dp_port_close(struct dp_port *p);

/* Creates two net_ring ports wired back to back (A's TX is B's RX and vice versa), for two
 * stack instances in one process. Ring size is a power of two. The net_ring driver names
 * the ethdevs "net_ring_<name_a>" and "net_ring_<name_b>": open them with dp_port_open()
 * under those names. 0 on success, -1 with err filled. */
int dp_port_ring_pair(const char *name_a, const char *name_b, unsigned ring_size,
		      uint16_t *port_a, uint16_t *port_b, char *err, size_t errlen);

/* Waits up to timeout_ms (polling every 10 ms) for link up; 0 if up, -1 otherwise.
 * Virtual ports report up at once. Start-up only. */
int dp_port_wait_link(const struct dp_port *p, unsigned timeout_ms);

static inline uint16_t dp_port_rx(const struct dp_port *p, uint16_t q, struct rte_mbuf **pkts,
				  uint16_t n)
{
	return rte_eth_rx_burst(p->port_id, q, pkts, n);
}

/* Returns how many were sent; the caller still owns pkts[ret..n-1]. */
static inline uint16_t dp_port_tx(const struct dp_port *p, uint16_t q, struct rte_mbuf **pkts,
				  uint16_t n)
{
	return rte_eth_tx_burst(p->port_id, q, pkts, n);
}

/* An mbuf to fill and transmit: data_off = DP_MBUF_HEADROOM, data_len 0. NULL if the pool
 * is empty. Pools not made by dp_pool_create() may be too small: the caller checks. */
static inline struct rte_mbuf *dp_mbuf_alloc_tx(struct rte_mempool *mp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m != NULL && m->buf_len >= DP_MBUF_HEADROOM)
		m->data_off = DP_MBUF_HEADROOM;
	return m;
}

/* Result of the RX L4 checksum rule for one received IPv4/TCP-or-UDP packet. */
enum dp_csum_verdict {
	DP_CSUM_GOOD,     /* verified by hardware */
	DP_CSUM_BAD,      /* hardware says bad: drop */
	DP_CSUM_CHECK_SW, /* verify in software */
};

static inline enum dp_csum_verdict dp_csum_rx_l4(const struct dp_port *p,
						 const struct rte_mbuf *m)
{
	if (!(p->csum & DP_CSUM_RX_TCP))
		return DP_CSUM_CHECK_SW;
	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
		return DP_CSUM_GOOD;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		return DP_CSUM_BAD;
	default:
		return DP_CSUM_CHECK_SW;
	}
}

static inline enum dp_csum_verdict dp_csum_rx_ip(const struct dp_port *p,
						 const struct rte_mbuf *m)
{
	if (!(p->csum & DP_CSUM_RX_IPV4))
		return DP_CSUM_CHECK_SW;
	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
		return DP_CSUM_GOOD;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		return DP_CSUM_BAD;
	default:
		return DP_CSUM_CHECK_SW;
	}
}

#endif /* DP_PORT_H */
