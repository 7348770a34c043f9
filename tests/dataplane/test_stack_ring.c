/* Two stack instances in one process over a net_ring pair, with the fault injector on both
 * directions (1% drop, 1% reorder, 0.5% duplicate, 0.5% corrupt): bulk transfer in both
 * directions at once, byte-exact, then an orderly close; afterwards every connection slot is
 * free and every mbuf is back in its pool.
 *
 * Size: DP_TCP_RING_MB megabytes each way, default 100 (the full size; about 1.5 s of
 * wall time here). DP_TCP_RING_FAULTS replaces the fault spec (dp_fault_parse syntax) and
 * DP_TCP_RING_KEY the ISN key, DP_TCP_RING_MBUFS the pool size (down to 255, to run the
 * stacks out of mbufs), e.g. for a soak:
 *     for k in $(seq 1 50); do DP_TCP_RING_KEY=$k build/tests/test_dataplane_stack_ring; done
 * Time is virtual (10 us per loop iteration), so the outcome does not depend on the machine's
 * load; only the wall-clock duration does. */
#define ALLOW_EXPERIMENTAL_API 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dp_fault.h"
#include "dp_port.h"
#include "dp_stack.h"
#include "dp_test_eal.h"

/* RTE_IPV4() shifts an int into the sign bit (undefined behaviour under UBSan). */
#define TP_IPV4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define IP_A TP_IPV4(198, 18, 1, 1)
#define IP_B TP_IPV4(198, 18, 1, 2)
#define PORT_B 9000
#define N_MBUFS_DEFAULT 8191
static unsigned n_mbufs = N_MBUFS_DEFAULT;
#define STEP_US 10

static const struct rte_ether_addr mac_a = {{0x02, 0, 0, 0, 1, 1}};
static const struct rte_ether_addr mac_b = {{0x02, 0, 0, 0, 1, 2}};

struct side {
	const char *name;
	struct dp_stack *st;
	struct dp_port port;
	struct dp_fault_port fp;
	dp_conn_t conn, listener;
	uint64_t sent, rcvd, total;  /* application bytes */
	bool fin_sent, peer_fin, closed;
	uint64_t rng;
};

static struct rte_mempool *pool;
static char err[256];

/* The byte at stream position i of the stream sent by side s (0 or 1): cheap to compute
 * and position-dependent, so a lost, duplicated or misplaced byte shows. */
static inline uint8_t pat(int s, uint64_t i)
{
	uint64_t x = i * 0x9E3779B97F4A7C15ull + (uint64_t)s * 0x632BE59BD9B4E019ull;
	return (uint8_t)(x >> 56);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct dp_stack *make_stack(const struct rte_ether_addr *mac, uint32_t ip,
				   const struct rte_ether_addr *peer_mac, uint32_t peer_ip,
				   bool static_arp)
{
	struct dp_stack_config c;
	dp_stack_config_defaults(&c);
	c.mac = *mac;
	c.ip = ip;
	c.netmask = 0xffffff00;
	if (static_arp) {
		c.arp_static[0].ip = peer_ip;
		c.arp_static[0].mac = *peer_mac;
		c.n_arp_static = 1;
	}
	c.pool = pool;
	c.max_conns = 8;
	c.rto_min_us = 1000; /* 1 ms on a 20 us virtual RTT: losses recover quickly */
	c.rto_initial_us = 10000;
	c.time_wait_us = 100000;
	c.rtx_max = 30;
	c.pool_reserve = 128; /* the application shares the pool: keep some for headers */
	/* DP_TCP_RING_RTO_MAX_US caps the back-off, e.g. to show that long drop bursts (which
	 * need one RTO per dropped packet once only retransmissions flow) are recovered from. */
	/* DP_TCP_RING_ACK_AT_TX=1: ACKs wait for tx_burst (ack_at_tx_burst) */
	c.ack_at_tx_burst = getenv("DP_TCP_RING_ACK_AT_TX") != NULL;
	const char *rm = getenv("DP_TCP_RING_RTO_MAX_US");
	if (rm && strtoul(rm, NULL, 10) >= c.rto_min_us)
		c.rto_max_us = (uint32_t)strtoul(rm, NULL, 10);
	/* Fixed ISN keys keep runs reproducible (sequence numbers, hence segment boundaries,
	 * depend on them); DP_TCP_RING_KEY varies them. */
	const char *k = getenv("DP_TCP_RING_KEY");
	uint64_t key = (k ? strtoull(k, NULL, 0) : 42) + ip;
	memcpy(c.isn_key, &key, sizeof(key));
	struct dp_stack *st = dp_stack_create(&c, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	return st;
}

/* Moves packets between port and stack, with faults on both directions of the port. */
static unsigned pump(struct side *s, uint64_t now)
{
	struct rte_mbuf *pk[64];
	unsigned work = 0;
	uint16_t n = dp_fault_port_rx(&s->fp, pk, 32, now);
	work += n;
	dp_stack_rx_burst(s->st, now, pk, n);
	work += dp_stack_poll(s->st, now);
	unsigned k;
	while ((k = dp_stack_tx_burst(s->st, pk, 32)) > 0) {
		dp_fault_port_tx(&s->fp, pk, (uint16_t)k, now);
		work += k;
	}
	dp_fault_port_tx(&s->fp, pk, 0, now); /* releases held and pending packets */
	return work;
}

static void app_send(struct side *s)
{
	while (s->sent < s->total) {
		uint32_t space = dp_tcp_send_space(s->st, s->conn);
		if (space == 0)
			return;
		uint32_t len = 1 + (uint32_t)(rnd(&s->rng) % 2000);
		if (len > s->total - s->sent)
			len = (uint32_t)(s->total - s->sent);
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (m == NULL)
			return; /* pool momentarily short: try again next iteration */
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
		cr_assert_not_null(p);
		int sid = s->name[0] == 'A' ? 0 : 1;
		for (uint32_t i = 0; i < len; i++)
			p[i] = pat(sid, s->sent + i);
		int rc = dp_tcp_send(s->st, s->conn, m);
		if (rc == DP_TCP_EAGAIN) {
			rte_pktmbuf_free(m);
			return;
		}
		cr_assert_eq(rc, DP_TCP_OK, "%s send rc %d", s->name, rc);
		s->sent += len;
	}
	if (!s->fin_sent) {
		cr_assert_eq(dp_tcp_shutdown_write(s->st, s->conn), DP_TCP_OK);
		s->fin_sent = true;
	}
}

/* On a mismatch: is it misplaced stream data (and from where) or foreign bytes? */
static void diagnose(int peer, uint64_t pos, const uint8_t *p, uint32_t avail)
{
	uint32_t n = avail < 32 ? avail : 32;
	uint32_t bad = 0;
	for (uint32_t j = 0; j < n; j++)
		bad += p[j] != pat(peer, pos + j);
	fprintf(stderr, "mismatch at %lu: %u of the next %u bytes differ\n", (unsigned long)pos,
		bad, n);
	for (int64_t d = -200000; d <= 200000; d++) {
		if ((int64_t)pos + d < 0)
			continue;
		uint32_t j = 0;
		while (j < n && p[j] == pat(peer, (uint64_t)((int64_t)pos + d) + j))
			j++;
		if (j == n && n >= 8)
			fprintf(stderr, "  the bytes are stream data from offset %+ld\n", (long)d);
	}
}

static void app_recv(struct side *s)
{
	struct rte_mbuf *ms[32];
	int n;
	int peer = s->name[0] == 'A' ? 1 : 0;
	while ((n = dp_tcp_recv(s->st, s->conn, ms, 32)) > 0) {
		for (int i = 0; i < n; i++) {
			for (struct rte_mbuf *seg = ms[i]; seg; seg = seg->next) {
				const uint8_t *p = rte_pktmbuf_mtod(seg, const uint8_t *);
				for (uint32_t j = 0; j < seg->data_len; j++)
					if (p[j] != pat(peer, s->rcvd + j)) {
						diagnose(peer, s->rcvd + j, p + j,
							 seg->data_len - j);
						cr_assert_fail("%s: byte %lu is %u, expected %u",
							       s->name,
							       (unsigned long)(s->rcvd + j), p[j],
							       pat(peer, s->rcvd + j));
					}
				s->rcvd += seg->data_len;
			}
			rte_pktmbuf_free(ms[i]);
		}
	}
	cr_assert_geq(n, 0);
	if (dp_tcp_peer_closed(s->st, s->conn))
		s->peer_fin = true;
}

static void dump(struct side *s)
{
	struct dp_tcp_info in;
	if (dp_tcp_get_info(s->st, s->conn, &in) != 0)
		return;
	fprintf(stderr,
		"%s: %s una %u nxt %u snd_wnd %u cwnd %u ssthresh %u unacked %u queued %u "
		"rcv_nxt %u rcv_wnd %u rq %u ooo %u rto %u rtx %lu\n",
		s->name, dp_tcp_state_name(in.state), in.snd_una, in.snd_nxt, in.snd_wnd, in.cwnd,
		in.ssthresh, in.unacked_bytes, in.queued_bytes, in.rcv_nxt, in.rcv_wnd,
		in.rcv_queued_bytes, in.ooo_segs, in.rto_us, (unsigned long)in.retransmits);
	uint64_t ctr[DP_CTR_COUNT];
	dp_stack_counters(s->st, ctr);
	for (int i = 0; i < DP_CTR_COUNT; i++)
		if (ctr[i])
			fprintf(stderr, "  %s %-36s %lu\n", s->name, dp_stack_counter_names[i],
				(unsigned long)ctr[i]);
}

static void open_side(struct side *s, const char *dev)
{
	struct dp_port_conf pc = {.dev = dev, .n_rxd = 1024, .n_txd = 1024, .pool = pool};
	cr_assert_eq(dp_port_open(&s->port, &pc, err, sizeof(err)), 0, "%s", err);
}

static void setup(void)
{
	/* The EAL's 64 MB default without hugepages is too small for this pool. */
	struct dp_eal_opts o = {.prefix = "tcp_ring", .lcores = "0", .mem_mb = 256};
	cr_assert_eq(dp_eal_init_nohuge(&o, err, sizeof(err)), 0, "EAL: %s", err);
	/* DP_TCP_RING_MBUFS shrinks the pool to exercise the stacks' no-mbuf paths. */
	const char *e = getenv("DP_TCP_RING_MBUFS");
	if (e && strtoul(e, NULL, 10) >= 255)
		n_mbufs = (unsigned)strtoul(e, NULL, 10);
	pool = rte_pktmbuf_pool_create("ring_pool", n_mbufs, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	cr_assert_not_null(pool, "pool: %s", rte_strerror(rte_errno));
}

TestSuite(stack_ring, .init = setup);

static void run_transfer(uint64_t bytes, const char *faults, bool static_arp)
{
	uint16_t pa, pb;
	cr_assert_eq(dp_port_ring_pair("sa", "sb", 2048, &pa, &pb, err, sizeof(err)), 0, "%s",
		     err);
	struct side a = {.name = "A", .total = bytes, .rng = 12345};
	struct side b = {.name = "B", .total = bytes, .rng = 67890};
	open_side(&a, "net_ring_sa");
	open_side(&b, "net_ring_sb");
	struct dp_fault_conf fc;
	cr_assert_eq(dp_fault_parse(&fc, faults, err, sizeof(err)), 0, "%s", err);
	struct dp_fault_conf none;
	dp_fault_parse(&none, "", err, sizeof(err));
	cr_assert_eq(dp_fault_port_init(&a.fp, a.port.port_id, 0, &none, &fc, 1, pool, err,
					sizeof(err)), 0, "%s", err);
	cr_assert_eq(dp_fault_port_init(&b.fp, b.port.port_id, 0, &none, &fc, 101, pool, err,
					sizeof(err)), 0, "%s", err);
	a.st = make_stack(&mac_a, IP_A, &mac_b, IP_B, static_arp);
	b.st = make_stack(&mac_b, IP_B, &mac_a, IP_A, static_arp);

	int rc;
	b.listener = dp_tcp_listen(b.st, PORT_B, 4, &rc);
	cr_assert_neq(b.listener, DP_CONN_INVALID);
	uint64_t now = 1000000;
	/* API calls use the time of the last rx_burst/poll: give the stacks the clock first. */
	dp_stack_poll(a.st, now);
	dp_stack_poll(b.st, now);
	a.conn = dp_tcp_connect(a.st, IP_B, PORT_B, 0, &rc);
	cr_assert_neq(a.conn, DP_CONN_INVALID, "connect rc %d", rc);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t iter = 0, last_progress = 0, last_bytes = 0;
	bool connected = false;
	while (!(a.closed && b.closed)) {
		now += STEP_US;
		iter++;
		pump(&a, now);
		pump(&b, now);
		struct dp_event ev[16];
		unsigned n = dp_stack_events(b.st, ev, 16);
		for (unsigned i = 0; i < n; i++) {
			if (ev[i].conn == b.listener && (ev[i].flags & DP_EV_ACCEPT)) {
				b.conn = dp_tcp_accept(b.st, b.listener);
				cr_assert_neq(b.conn, DP_CONN_INVALID);
			} else if (ev[i].conn == b.conn && (ev[i].flags & DP_EV_CLOSED)) {
				cr_assert_eq(ev[i].err, 0, "B closed with error %d", ev[i].err);
				dp_tcp_close(b.st, b.conn);
				b.closed = true;
			}
		}
		n = dp_stack_events(a.st, ev, 16);
		for (unsigned i = 0; i < n; i++) {
			if (ev[i].flags & DP_EV_CONNECTED)
				connected = true;
			if (ev[i].flags & DP_EV_CLOSED) {
				cr_assert_eq(ev[i].err, 0, "A closed with error %d", ev[i].err);
				dp_tcp_close(a.st, a.conn);
				a.closed = true;
			}
		}
		if (connected && !a.closed) {
			app_send(&a);
			app_recv(&a);
		}
		if (b.conn != DP_CONN_INVALID && !b.closed) {
			app_send(&b);
			app_recv(&b);
		}
		uint64_t prog = a.rcvd + b.rcvd + a.sent + b.sent;
		if (prog != last_bytes) {
			last_bytes = prog;
			last_progress = iter;
		}
		if (iter - last_progress >= 2000000u) {
			dump(&a);
			dump(&b);
		}
		cr_assert_lt(iter - last_progress, 2000000u,
			     "stalled: A sent %lu rcvd %lu, B sent %lu rcvd %lu",
			     (unsigned long)a.sent, (unsigned long)a.rcvd, (unsigned long)b.sent,
			     (unsigned long)b.rcvd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_eq(a.rcvd, bytes, "A received everything B sent");
	cr_assert_eq(b.rcvd, bytes, "B received everything A sent");
	cr_assert(a.peer_fin && b.peer_fin);

	uint64_t ca[DP_CTR_COUNT], cb[DP_CTR_COUNT];
	dp_stack_counters(a.st, ca);
	dp_stack_counters(b.st, cb);
	fprintf(stderr,
		"stack_ring: %lu bytes each way in %.2f s wall, %.3f s virtual; faults '%s'\n",
		(unsigned long)bytes, secs, (double)(now - 1000000) / 1e6, faults);
	for (int i = 0; i < DP_CTR_COUNT; i++)
		if (ca[i] || cb[i])
			fprintf(stderr, "  %-36s A %10lu  B %10lu\n", dp_stack_counter_names[i],
				(unsigned long)ca[i], (unsigned long)cb[i]);
	for (int i = 0; i < DP_FAULT_COUNTER_MAX; i++)
		fprintf(stderr, "  fault %-30s A %10lu  B %10lu\n", dp_fault_counter_names[i],
			(unsigned long)dp_fault_count(&a.fp.tx, i),
			(unsigned long)dp_fault_count(&b.fp.tx, i));
	cr_expect_eq(ca[DP_CTR_INVARIANT_RTX_TIMER] + cb[DP_CTR_INVARIANT_RTX_TIMER], 0);
	if (fc.drop > 0 && fc.drop_burst == 0) {
		cr_expect_gt(ca[DP_CTR_TCP_RETRANSMITS], 0);
		cr_expect_gt(ca[DP_CTR_TCP_FAST_RETRANSMITS] + cb[DP_CTR_TCP_FAST_RETRANSMITS], 0);
		cr_expect_gt(cb[DP_CTR_TCP_OOO_SEGS_IN], 0);
	}
	if (fc.corrupt > 0)
		cr_expect_gt(ca[DP_CTR_DROP_TCP_CSUM] + cb[DP_CTR_DROP_TCP_CSUM] +
				     ca[DP_CTR_DROP_IP_CSUM] + cb[DP_CTR_DROP_IP_CSUM],
			     0, "corruption is caught by the checksums");

	/* Let TIME_WAIT expire; both stacks then hold no connection. */
	for (int i = 0; i < 20000; i++) {
		now += STEP_US;
		pump(&a, now);
		pump(&b, now);
	}
	cr_expect_eq(dp_stack_conns_in_use(a.st), 0);
	cr_expect_eq(dp_stack_conns_in_use(b.st), 0);
	dp_tcp_close(b.st, b.listener);
	dp_stack_destroy(a.st);
	dp_stack_destroy(b.st);
	dp_fault_port_fini(&a.fp);
	dp_fault_port_fini(&b.fp);
	struct rte_mbuf *pk[64];
	uint16_t n;
	while ((n = rte_eth_rx_burst(a.port.port_id, 0, pk, 64)) > 0)
		rte_pktmbuf_free_bulk(pk, n);
	while ((n = rte_eth_rx_burst(b.port.port_id, 0, pk, 64)) > 0)
		rte_pktmbuf_free_bulk(pk, n);
	dp_port_close(&a.port);
	dp_port_close(&b.port);
	cr_assert_eq(rte_mempool_avail_count(pool), n_mbufs,
		     "every mbuf is back in the pool: %u of %u", rte_mempool_avail_count(pool),
		     n_mbufs);
}

static uint64_t size_from_env(uint64_t def_mb)
{
	const char *e = getenv("DP_TCP_RING_MB");
	uint64_t mb = e ? strtoull(e, NULL, 10) : def_mb;
	return (mb ? mb : def_mb) * 1000 * 1000;
}

Test(stack_ring, bulk_both_ways_byte_exact_with_drop_reorder_dup_corrupt, .timeout = 600)
{
	const char *f = getenv("DP_TCP_RING_FAULTS");
	run_transfer(size_from_env(100),
		     f ? f : "drop=0.01,reorder=0.01,reorder_gap=3,dup=0.005,corrupt=0.005", true);
}

Test(stack_ring, clean_link_transfer_resolves_arp_first)
{
	run_transfer(2 * 1000 * 1000, "", false);
}
