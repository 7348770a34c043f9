/* dp_ip.c - IPv4 input and output (RFC 791, 1122) and ICMP echo replies (RFC 792).
 * The stack is an end host: no forwarding, no options sent, fragments dropped and counted. */
#include <string.h>

#include <rte_icmp.h>

#include "dp_stack_priv.h"

/* One's complement sum of a buffer, folded to 16 bits, in the same (host order) convention as
 * rte_raw_cksum(). 64-bit words with end-around carry (2^16 = 1 modulo 0xffff, so the folds at
 * the end give the 16-bit sum): about a third of the instructions of rte_raw_cksum()'s 16-bit
 * loop, which was a fifth of all instructions per segment under callgrind. */
static inline uint64_t add_carry(uint64_t sum, uint64_t w)
{
	sum += w;
	return sum + (sum < w);
}

static uint32_t raw_sum(const void *buf, uint32_t len)
{
	const uint8_t *p = buf;
	uint64_t sum = 0;
	while (len >= 32) {
		uint64_t w[4];
		memcpy(w, p, sizeof(w));
		sum = add_carry(sum, w[0]);
		sum = add_carry(sum, w[1]);
		sum = add_carry(sum, w[2]);
		sum = add_carry(sum, w[3]);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		sum = add_carry(sum, w);
		p += 8;
		len -= 8;
	}
	/* The last bytes, zero-padded: an odd byte is the first of a padded 16-bit word (RFC 1071). */
	if (len & 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum = add_carry(sum, w);
		p += 4;
	}
	if (len & 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		sum = add_carry(sum, h);
		p += 2;
	}
	if (len & 1)
		sum = add_carry(sum, *p);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	uint32_t s32 = (uint32_t)sum;
	s32 = (s32 & 0xffff) + (s32 >> 16);
	s32 = (s32 & 0xffff) + (s32 >> 16);
	return s32;
}

/* One's complement sum of [off, off + len) of a chain, folded to 16 bits. Not
 * rte_raw_cksum_mbuf(): in DPDK 22.11 it byte-swaps a segment's *unfolded* partial sum when the
 * segment starts at an odd offset, losing the carries, so chains whose pieces have odd lengths
 * (our zero-copy segments) get a wrong sum. Here each piece is folded before the swap. */
static int chain_cksum(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *out)
{
	while (m && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	uint32_t sum = 0, done = 0;
	while (len > 0) {
		if (m == NULL)
			return -1;
		uint32_t n = RTE_MIN((uint32_t)m->data_len - off, len);
		uint32_t part = raw_sum(rte_pktmbuf_mtod_offset(m, const void *, off), n);
		if (done & 1)
			part = ((part & 0xff) << 8) | (part >> 8);
		sum += part;
		done += n;
		len -= n;
		off = 0;
		m = m->next;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*out = (uint16_t)sum;
	return 0;
}

uint16_t dp_l4_phdr_sum(const struct rte_ipv4_hdr *ip, uint32_t l4_len)
{
	/* Pseudo header (RFC 9293 §3.1), its words summed as they would lie in memory: addresses
	 * as stored, then the zero byte and the protocol, then the big-endian length. The same
	 * value as rte_ipv4_phdr_cksum(), which needs the finished IPv4 header we do not have yet
	 * when the TCP header is built. */
	uint64_t ph = (uint64_t)ip->src_addr + ip->dst_addr +
		      rte_cpu_to_be_16((uint16_t)ip->next_proto_id) +
		      rte_cpu_to_be_16((uint16_t)l4_len);
	ph = (ph & 0xffffffffu) + (ph >> 32);
	uint32_t sum = (uint32_t)(ph & 0xffff) + (uint32_t)((ph >> 16) & 0xffff) + (uint32_t)(ph >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t dp_l4_cksum(const struct rte_ipv4_hdr *ip, const struct rte_mbuf *m, uint32_t l4_off,
		     uint32_t l4_len)
{
	/* Pseudo header then the segment; the segment may span mbufs. */
	uint32_t sum = dp_l4_phdr_sum(ip, l4_len);
	uint16_t seg = 0;
	if (chain_cksum(m, l4_off, l4_len, &seg) != 0)
		return 0xffff; /* cannot happen for lengths we checked; fails verification */
	sum += seg;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void icmp_input(struct dp_stack *st, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
		       uint32_t l4_off, uint32_t l4_len)
{
	/* Replies are built in place with a 20-byte IP header: requests with IP options are not
	 * answered (rare, and never needed by the FIX paths). */
	if (l4_off != DP_ETH_HLEN + DP_IP_HLEN) {
		dp_ctr_inc(st, DP_CTR_DROP_ICMP);
		goto drop;
	}
	if (l4_len < sizeof(struct rte_icmp_hdr) || rte_pktmbuf_data_len(m) < l4_off + 8) {
		dp_ctr_inc(st, DP_CTR_DROP_TRUNCATED);
		goto drop;
	}
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, l4_off);
	uint16_t sum = 0;
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0 ||
	    chain_cksum(m, l4_off, l4_len, &sum) != 0 || sum != 0xffff) {
		dp_ctr_inc(st, DP_CTR_DROP_ICMP);
		goto drop;
	}
	/* Answer in place: the request becomes the reply, no copy. */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	chain_cksum(m, l4_off, l4_len, &sum);
	ic->icmp_cksum = (uint16_t)~sum;
	uint32_t src = rte_be_to_cpu_32(ip->src_addr);
	dp_ctr_inc(st, DP_CTR_ICMP_ECHO_REPLIES);
	dp_ip_output(st, m, src, IPPROTO_ICMP);
	return;
drop:
	rte_pktmbuf_free(m);
}

void dp_ip_input(struct dp_stack *st, struct rte_mbuf *m)
{
	if (rte_pktmbuf_data_len(m) < DP_ETH_HLEN + DP_IP_HLEN) {
		dp_ctr_inc(st, DP_CTR_DROP_TRUNCATED);
		goto drop;
	}
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, DP_ETH_HLEN);
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < DP_IP_HLEN || tot < ihl ||
	    DP_ETH_HLEN + tot > rte_pktmbuf_pkt_len(m) ||
	    rte_pktmbuf_data_len(m) < DP_ETH_HLEN + ihl) {
		dp_ctr_inc(st, DP_CTR_DROP_IP_BAD_HDR);
		goto drop;
	}
	if (!(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD)) {
		if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
		    rte_raw_cksum(ip, ihl) != 0xffff) {
			dp_ctr_inc(st, DP_CTR_DROP_IP_CSUM);
			goto drop;
		}
	}
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	if (dst != st->cfg.ip) {
		dp_ctr_inc(st, DP_CTR_DROP_IP_NOT_FOR_US);
		goto drop;
	}
	/* MF set or a non-zero offset: a fragment. Reassembly is not offered (FIX peers set DF
	 * and MSS keeps segments under the MTU). */
	if (rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		dp_ctr_inc(st, DP_CTR_DROP_IP_FRAGMENT);
		goto drop;
	}
	/* Trim Ethernet padding so the L4 length is the datagram's. */
	uint32_t extra = rte_pktmbuf_pkt_len(m) - (DP_ETH_HLEN + tot);
	if (extra && rte_pktmbuf_trim(m, (uint16_t)extra) != 0) {
		dp_ctr_inc(st, DP_CTR_DROP_IP_BAD_HDR); /* padding spread over segments */
		goto drop;
	}
	uint32_t l4_off = DP_ETH_HLEN + ihl;
	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
		tcp_input(st, m, ip, l4_off);
		return;
	case IPPROTO_ICMP:
		icmp_input(st, m, ip, l4_off, tot - ihl);
		return;
	default:
		dp_ctr_inc(st, DP_CTR_DROP_IP_PROTO);
	}
drop:
	rte_pktmbuf_free(m);
}

void dp_ip_output(struct dp_stack *st, struct rte_mbuf *m, uint32_t dst_ip, uint8_t proto)
{
	/* m starts with Ethernet + a 20-byte IPv4 header space; the L4 part follows. */
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, DP_ETH_HLEN);
	uint32_t tot = rte_pktmbuf_pkt_len(m) - DP_ETH_HLEN;
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)tot);
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = st->cfg.ip_ttl;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(st->cfg.ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	ip->hdr_checksum = 0;
	if (st->cfg.tx_csum & DP_STACK_TX_CSUM_IPV4)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	m->l2_len = DP_ETH_HLEN;
	m->l3_len = DP_IP_HLEN;
	dp_arp_resolve_and_send(st, m, dst_ip);
}
