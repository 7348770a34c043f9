/* Seeded fault injection on packet bursts; see dp_fault.h for the model. */
/* rte_ipv4_udptcp_cksum_mbuf() is still marked experimental in 22.11. */
#define ALLOW_EXPERIMENTAL_API 1

#include "dp_fault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#define DEFAULT_HOLD_MAX 256
#define DEFAULT_REORDER_MAX_US 1000
#define PORT_BURST_MAX 64

const char *const dp_fault_counter_names[DP_FAULT_COUNTER_MAX] = {
	[DP_FAULT_IN] = "in",
	[DP_FAULT_OUT] = "out",
	[DP_FAULT_DROP] = "drop",
	[DP_FAULT_CORRUPT] = "corrupt",
	[DP_FAULT_DUP] = "dup",
	[DP_FAULT_REORDER] = "reorder",
	[DP_FAULT_DELAY] = "delay",
	[DP_FAULT_HOLD_FULL] = "hold_full",
	[DP_FAULT_NOMBUF] = "nombuf",
};

/* splitmix64: tiny, fast, and every seed (including 0) gives a good sequence. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool happens(struct dp_fault_dir *d, uint64_t p)
{
	if (p == 0)
		return false;
	return (next_rand(&d->rng) >> 32) < p;
}

static uint64_t scale(double rate)
{
	if (!(rate > 0.0))
		return 0;
	if (rate >= 1.0)
		return 1ull << 32;
	return (uint64_t)(rate * 4294967296.0);
}

static int check_rate(const char *name, double v, char *err, size_t errlen)
{
	if (!(v >= 0.0 && v <= 1.0)) {
		snprintf(err, errlen, "fault %s=%g: must be in [0, 1]", name, v);
		return -1;
	}
	return 0;
}

int dp_fault_parse(struct dp_fault_conf *c, const char *spec, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	const char *p = spec;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char item[64];
		if (len == 0 || len >= sizeof(item)) {
			snprintf(err, errlen, "fault spec: bad item near \"%.20s\"", p);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		char *eq = strchr(item, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "fault spec: \"%s\" has no '='", item);
			return -1;
		}
		*eq = '\0';
		const char *val = eq + 1;
		char *vend;
		errno = 0;
		double v = strtod(val, &vend);
		if (errno != 0 || vend == val || *vend != '\0') {
			snprintf(err, errlen, "fault spec: %s=\"%s\" is not a number", item, val);
			return -1;
		}
		double *rate = NULL;
		uint32_t *num = NULL;
		if (strcmp(item, "drop") == 0)
			rate = &c->drop;
		else if (strcmp(item, "corrupt") == 0)
			rate = &c->corrupt;
		else if (strcmp(item, "dup") == 0)
			rate = &c->dup;
		else if (strcmp(item, "reorder") == 0)
			rate = &c->reorder;
		else if (strcmp(item, "delay") == 0)
			rate = &c->delay;
		else if (strcmp(item, "drop_burst") == 0)
			num = &c->drop_burst;
		else if (strcmp(item, "drop_burst_us") == 0)
			num = &c->drop_burst_us;
		else if (strcmp(item, "reorder_gap") == 0)
			num = &c->reorder_gap;
		else if (strcmp(item, "reorder_max_us") == 0)
			num = &c->reorder_max_us;
		else if (strcmp(item, "delay_us") == 0)
			num = &c->delay_us;
		else if (strcmp(item, "hold_max") == 0)
			num = &c->hold_max;
		else {
			snprintf(err, errlen, "fault spec: unknown key \"%s\"", item);
			return -1;
		}
		if (rate != NULL) {
			if (check_rate(item, v, err, errlen) != 0)
				return -1;
			*rate = v;
		} else {
			if (!(v >= 0 && v <= UINT32_MAX) || v != (double)(uint32_t)v) {
				snprintf(err, errlen, "fault spec: %s=%s is not a 32-bit count", item, val);
				return -1;
			}
			*num = (uint32_t)v;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int dp_fault_init(struct dp_fault_dir *d, const struct dp_fault_conf *c, uint64_t seed,
		  bool is_tx, struct rte_mempool *pool, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	if (check_rate("drop", c->drop, err, errlen) || check_rate("corrupt", c->corrupt, err, errlen) ||
	    check_rate("dup", c->dup, err, errlen) || check_rate("reorder", c->reorder, err, errlen) ||
	    check_rate("delay", c->delay, err, errlen))
		return -1;
	if ((c->dup > 0 || c->corrupt > 0) && pool == NULL) {
		snprintf(err, errlen, "fault: dup and corrupt need a pool for copies");
		return -1;
	}
	d->conf = *c;
	if (d->conf.reorder_gap == 0)
		d->conf.reorder_gap = 1;
	if (d->conf.reorder_max_us == 0)
		d->conf.reorder_max_us = DEFAULT_REORDER_MAX_US;
	if (d->conf.hold_max == 0)
		d->conf.hold_max = DEFAULT_HOLD_MAX;
	if (d->conf.delay_us > 0 && d->conf.delay == 0)
		d->conf.delay = 1.0;
	d->is_tx = is_tx;
	d->pool = pool;
	d->rng = seed;
	d->p_drop = scale(d->conf.drop);
	d->p_corrupt = scale(d->conf.corrupt);
	d->p_dup = scale(d->conf.dup);
	d->p_reorder = scale(d->conf.reorder);
	d->p_delay = d->conf.delay_us > 0 ? scale(d->conf.delay) : 0;
	d->held = rte_zmalloc("dp_fault_hold", sizeof(*d->held) * d->conf.hold_max, 0);
	if (d->held == NULL) {
		snprintf(err, errlen, "fault: no memory for a hold queue of %u", d->conf.hold_max);
		return -1;
	}
	return 0;
}

void dp_fault_fini(struct dp_fault_dir *d)
{
	for (uint32_t i = 0; i < d->n_held; i++)
		rte_pktmbuf_free(d->held[i].m);
	d->n_held = 0;
	rte_free(d->held);
	d->held = NULL;
}

/* Where L4 starts in an Ethernet/IPv4 frame whose L4 is covered by a checksum we can
 * trust to catch a flipped byte (TCP, ICMP; UDP only with a non-zero checksum). 0 if the
 * packet is not such a frame: corrupting it would go unnoticed, so it is left alone. */
static uint32_t checked_l4_offset(const struct rte_mbuf *m, struct rte_ipv4_hdr **ipp)
{
	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr))
		return 0;
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return 0;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) ||
	    rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + ihl + sizeof(struct rte_tcp_hdr))
		return 0;
	/* Fragments other than the first carry no L4 header. */
	if (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK)
		return 0;
	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
	case IPPROTO_ICMP:
		break;
	default:
		return 0;
	}
	*ipp = ip;
	return RTE_ETHER_HDR_LEN + ihl;
}

/* Computes in software the checksums a TX packet asked the device for, so that a byte
 * flipped afterwards makes them wrong instead of being covered by a fresh checksum. */
static void finalize_tx_csum(struct rte_mbuf *m, struct rte_ipv4_hdr *ip, uint32_t l4off)
{
	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM &&
	    ip->next_proto_id == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, l4off);
		th->cksum = 0;
		/* The copy made before this is one segment for any frame that fits the pool's
		 * data room; DPDK 22.11's chain checksum is wrong for pieces of odd length
		 * (docs/tcp.md, "Known DPDK issue"), so it is only the fallback. */
		if (m->nb_segs == 1)
			th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		else
			th->cksum = rte_ipv4_udptcp_cksum_mbuf(m, ip, (uint16_t)l4off);
	}
	m->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
}

static uint8_t *byte_at(struct rte_mbuf *m, uint32_t off)
{
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	return m ? rte_pktmbuf_mtod_offset(m, uint8_t *, off) : NULL;
}

static bool shared(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) > 1)
			return true;
	return false;
}

/* Flips one byte of the L4 payload (or of the L4 header when there is no payload).
 * Returns the packet to pass on (a copy when the data was shared) or NULL when the
 * packet is not corruptible or no copy could be made; in that case *m is untouched. */
static struct rte_mbuf *corrupt(struct dp_fault_dir *d, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	uint32_t l4off = checked_l4_offset(m, &ip);
	if (l4off == 0 || m->pkt_len <= l4off)
		return NULL;
	/* The stack keeps a reference to what it sent (for retransmission): never write into
	 * that. On TX we always copy, since even a direct mbuf with refcount 1 may be chained
	 * to shared payload segments the check below would see, but the header segment is
	 * the stack's to reuse as it likes. */
	if (d->is_tx || shared(m)) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, d->pool, 0, UINT32_MAX);
		if (c == NULL) {
			d->counters[DP_FAULT_NOMBUF]++;
			return NULL;
		}
		rte_pktmbuf_free(m);
		m = c;
		l4off = checked_l4_offset(m, &ip);
	}
	if (d->is_tx)
		finalize_tx_csum(m, ip, l4off);
	else
		/* The PMD may have checked the sum already; make the stack check it again. */
		m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) |
			      RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	uint32_t start = l4off;
	if (ip->next_proto_id == IPPROTO_TCP) {
		const struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, l4off);
		uint32_t payload = l4off + ((th->data_off >> 4) * 4u);
		if (payload < m->pkt_len)
			start = payload;
	}
	uint64_t r = next_rand(&d->rng);
	uint32_t off = start + (uint32_t)((r >> 8) % (m->pkt_len - start));
	uint8_t mask = (uint8_t)(r & 0xff);
	if (mask == 0)
		mask = 0x5a;
	uint8_t *b = byte_at(m, off);
	*b ^= mask;
	return m;
}

/* Appends m to out or, if out is full, keeps it held for immediate release. */
static void emit(struct dp_fault_dir *d, struct rte_mbuf *m, struct rte_mbuf **out,
		 uint16_t cap, uint16_t *k)
{
	if (*k < cap) {
		out[(*k)++] = m;
		d->out_seq++;
		d->counters[DP_FAULT_OUT]++;
		return;
	}
	if (d->n_held < d->conf.hold_max) {
		d->held[d->n_held++] = (struct dp_fault_held){ .m = m, .release_us = 0, .release_seq = 0 };
		return;
	}
	d->counters[DP_FAULT_HOLD_FULL]++;
	rte_pktmbuf_free(m);
}

static void release_due(struct dp_fault_dir *d, struct rte_mbuf **out, uint16_t cap,
			uint16_t *k, uint64_t now_us, bool all)
{
	uint32_t keep = 0;
	for (uint32_t i = 0; i < d->n_held; i++) {
		struct dp_fault_held h = d->held[i];
		bool due = all || now_us >= h.release_us || d->out_seq >= h.release_seq;
		if (due && *k < cap) {
			out[(*k)++] = h.m;
			d->out_seq++;
			d->counters[DP_FAULT_OUT]++;
		} else {
			d->held[keep++] = h;
		}
	}
	d->n_held = keep;
}

static bool hold(struct dp_fault_dir *d, struct rte_mbuf *m, uint64_t release_us,
		 uint64_t release_seq)
{
	if (d->n_held >= d->conf.hold_max) {
		d->counters[DP_FAULT_HOLD_FULL]++;
		return false;
	}
	d->held[d->n_held++] = (struct dp_fault_held){ m, release_us, release_seq };
	return true;
}

uint16_t dp_fault_apply(struct dp_fault_dir *d, struct rte_mbuf **pkts, uint16_t n,
			struct rte_mbuf **out, uint16_t cap, uint64_t now_us)
{
	uint16_t k = 0;
	if (d->n_held)
		release_due(d, out, cap, &k, now_us, false);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		d->counters[DP_FAULT_IN]++;
		if (d->burst_left > 0 || now_us < d->burst_until_us || happens(d, d->p_drop)) {
			if (d->burst_left > 0) {
				d->burst_left--;
			} else if (now_us >= d->burst_until_us) {
				/* a new drop decision starts the bursts */
				d->burst_left = d->conf.drop_burst;
				if (d->conf.drop_burst_us)
					d->burst_until_us = now_us + d->conf.drop_burst_us;
			}
			d->counters[DP_FAULT_DROP]++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (happens(d, d->p_corrupt)) {
			struct rte_mbuf *c = corrupt(d, m);
			if (c != NULL) {
				m = c;
				d->counters[DP_FAULT_CORRUPT]++;
			}
		}
		struct rte_mbuf *dup = NULL;
		if (happens(d, d->p_dup)) {
			dup = rte_pktmbuf_copy(m, d->pool, 0, UINT32_MAX);
			if (dup != NULL)
				d->counters[DP_FAULT_DUP]++;
			else
				d->counters[DP_FAULT_NOMBUF]++;
		}
		bool held = false;
		if (happens(d, d->p_reorder)) {
			held = hold(d, m, now_us + d->conf.reorder_max_us,
				    d->out_seq + d->conf.reorder_gap);
			if (held)
				d->counters[DP_FAULT_REORDER]++;
		} else if (happens(d, d->p_delay)) {
			held = hold(d, m, now_us + d->conf.delay_us, UINT64_MAX);
			if (held)
				d->counters[DP_FAULT_DELAY]++;
		}
		if (!held)
			emit(d, m, out, cap, &k);
		if (dup != NULL)
			emit(d, dup, out, cap, &k);
	}
	/* A reordered packet whose gap filled up during this burst goes out now, after the
	 * packets that overtook it. */
	if (d->n_held && n)
		release_due(d, out, cap, &k, now_us, false);
	return k;
}

uint16_t dp_fault_flush(struct dp_fault_dir *d, struct rte_mbuf **out, uint16_t cap)
{
	uint16_t k = 0;
	release_due(d, out, cap, &k, 0, true);
	return k;
}

int dp_fault_port_init(struct dp_fault_port *fp, uint16_t port_id, uint16_t queue,
		       const struct dp_fault_conf *rx, const struct dp_fault_conf *tx,
		       uint64_t seed, struct rte_mempool *pool, char *err, size_t errlen)
{
	memset(fp, 0, sizeof(*fp));
	fp->port_id = port_id;
	fp->queue = queue;
	if (dp_fault_init(&fp->rx, rx, seed, false, pool, err, errlen) != 0)
		return -1;
	if (dp_fault_init(&fp->tx, tx, seed + 1, true, pool, err, errlen) != 0) {
		dp_fault_fini(&fp->rx);
		return -1;
	}
	return 0;
}

void dp_fault_port_fini(struct dp_fault_port *fp)
{
	dp_fault_fini(&fp->rx);
	dp_fault_fini(&fp->tx);
	rte_pktmbuf_free_bulk(fp->tx_pending, fp->n_tx_pending);
	fp->n_tx_pending = 0;
}

uint16_t dp_fault_port_rx(struct dp_fault_port *fp, struct rte_mbuf **pkts, uint16_t n,
			  uint64_t now_us)
{
	struct rte_mbuf *in[PORT_BURST_MAX];
	if (n > PORT_BURST_MAX)
		n = PORT_BURST_MAX;
	uint16_t got = rte_eth_rx_burst(fp->port_id, fp->queue, in, n);
	return dp_fault_apply(&fp->rx, in, got, pkts, n, now_us);
}

uint16_t dp_fault_port_tx(struct dp_fault_port *fp, struct rte_mbuf **pkts, uint16_t n,
			  uint64_t now_us)
{
	const uint16_t room = (uint16_t)RTE_DIM(fp->tx_pending) - fp->n_tx_pending;
	/* What does not fit in tx_pending stays in the hold queue, released next time. */
	fp->n_tx_pending += dp_fault_apply(&fp->tx, pkts, n, fp->tx_pending + fp->n_tx_pending,
					   room, now_us);
	if (fp->n_tx_pending == 0)
		return n;
	uint16_t sent = rte_eth_tx_burst(fp->port_id, fp->queue, fp->tx_pending, fp->n_tx_pending);
	if (sent < fp->n_tx_pending)
		memmove(fp->tx_pending, fp->tx_pending + sent,
			(size_t)(fp->n_tx_pending - sent) * sizeof(fp->tx_pending[0]));
	fp->n_tx_pending -= sent;
	return n;
}
