/* fixmux-bench-tcp: the fixmux TCP/IP stack against the Linux kernel's TCP, in one run.
 *
 *  pingpong_200B   a 200-byte FIX-like message echoed over one connection, one message in
 *                  flight; round-trip time p50 / p99 / p99.9. Stack: two instances over a
 *                  net_ring pair, one per lcore (cores 0 and 1), both spinning. Kernel: two
 *                  threads pinned to cores 0 and 1 over 127.0.0.1, TCP_NODELAY, busy polling
 *                  (non-blocking recv in a loop, SO_BUSY_POLL set). Ratio stack/kernel of p50
 *                  (target: at most 0.25).
 *  throughput      one connection, one way, as fast as it goes (stack: 1448-byte mbufs;
 *                  kernel: 64 KiB send() calls).
 *  ring_bounce     the machine's floor for the stack's 2-lcore figure: a pointer bounced
 *                  between the two lcores over SP/SC rings (the net_ring pair's transport).
 *  Both are repeated in a second layout, one thread for both ends: the two stack instances
 *  driven in turn ("fixmux_1thread") and the two kernel sockets, non-blocking, served by one
 *  thread ("linux_1thread"): each side's own cost, without the cross-core hand-off and
 *  without a second spinning thread for a shared machine's scheduler to preempt. The ratio
 *  is reported per layout (one_thread: fixmux_1thread / linux_1thread; two_cores:
 *  fixmux_stack / linux_kernel), p50, p99 and p99.9.
 * Every echoed message is compared with what was sent before it counts; the byte count of
 * the throughput run must match on both ends. --callgrind runs the stacks in one thread
 * without timing, for bench/tcp/callgrind.sh (instructions per 200-byte segment received
 * and acknowledged). Options: --json, --budget-ms N (per figure, default 300),
 * --callgrind [--iterations N]. Hugepages are used when enough are free (BENCH_TCP_NO_HUGE=1:
 * never), 4 KiB pages otherwise; the run says which. BENCH_TCP_DEBUG=1 in the environment prints the stacks'
 * counters and the sender's congestion state after the throughput run, and the cost of an
 * idle stack iteration and of a clock read.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench_util.h"
#include "dp_eal.h"
#include "dp_lcore.h"
#include "dp_port.h"
#include "dp_stack.h"

#define MSG_LEN 200
#define BURST 32
#define MAX_SAMPLES 2000000
#define MIN_SAMPLES 10000
#define WARMUP 2000
#define SEG 1448
/* not RTE_IPV4(): it shifts a signed int into the sign bit for 198.x.x.x */
#define IP_A (198u << 24 | 18u << 16 | 1u << 8 | 1u)
#define IP_B (198u << 24 | 18u << 16 | 1u << 8 | 2u)
#define PORT_B 5001

struct side {
	struct dp_port port;
	struct dp_stack *st;
	dp_conn_t conn, listener;
	uint64_t tx_drops; /* the ring was full: must stay 0, a drop costs an RTO */
};

static struct side A, B;
static struct bench_opts opts;
static uint8_t msg[MSG_LEN];
static double *samples;

/* B's role while it runs on its own lcore. */
enum b_mode { B_ECHO, B_SINK };
static atomic_int b_stop;
static enum b_mode b_mode;
static _Atomic uint64_t b_bytes; /* written by B's lcore only */

static void make_msg(void)
{
	/* A NewOrderSingle-like line of exactly MSG_LEN bytes; its content is compared on return. */
	int n = snprintf((char *)msg, sizeof(msg),
			 "8=FIX.4.4\0019=150\00135=D\00134=1\00149=CLIENT1\00156=VENUE\00152=20261126-12:00:00.000\001"
			 "11=ORD1\00155=EUR/USD\00154=1\00138=1000000\00140=2\00144=1.08765\00159=0\00160=20261126-12:00:00.000\001");
	for (int i = n; i < MSG_LEN; i++)
		msg[i] = (uint8_t)('a' + i % 26);
}

/* The two halves of a stack's iteration; the application's work goes in between, so that
 * with ack_at_tx_burst its reply carries the ACK the received data owes. */
static unsigned pump_rx(struct side *s, uint64_t now_us)
{
	struct rte_mbuf *pkts[BURST];
	unsigned work = 0;
	uint16_t n = rte_eth_rx_burst(s->port.port_id, 0, pkts, BURST);
	if (n)
		work += dp_stack_rx_burst(s->st, now_us, pkts, n);
	return work + dp_stack_poll(s->st, now_us);
}

static unsigned pump_tx(struct side *s)
{
	struct rte_mbuf *pkts[BURST];
	unsigned work = 0;
	unsigned k;
	while ((k = dp_stack_tx_burst(s->st, pkts, BURST)) > 0) {
		uint16_t sent = rte_eth_tx_burst(s->port.port_id, 0, pkts, (uint16_t)k);
		if (sent < k) {
			s->tx_drops += k - sent;
			rte_pktmbuf_free_bulk(pkts + sent, k - sent);
		}
		work += k;
	}
	return work;
}

/* One whole iteration: receive, timers, transmit. Returns the work done. */
static unsigned pump(struct side *s, uint64_t now_us)
{
	unsigned work = pump_rx(s, now_us);
	return work + pump_tx(s);
}

static void drain_events(struct side *s)
{
	struct dp_event ev[BURST];
	while (dp_stack_events(s->st, ev, BURST) > 0)
		;
}

static void open_side(struct side *s, const char *dev, uint32_t ip, uint32_t peer_ip,
		      const struct rte_ether_addr *peer_mac)
{
	char err[256];
	struct dp_port_conf pc = { .dev = dev, .n_rxd = 1024, .n_txd = 1024,
				   .pool_conf = { .n_mbufs = 16384 } };
	if (dp_port_open(&s->port, &pc, err, sizeof(err)) != 0)
		bench_fail("%s", err);
	struct dp_stack_config sc;
	dp_stack_config_defaults(&sc);
	sc.mac = s->port.mac;
	sc.ip = ip;
	sc.netmask = 0xffffff00u;
	sc.pool = s->port.pool;
	sc.socket_id = SOCKET_ID_ANY;
	sc.max_conns = 8;
	/* One ARP exchange less, and the first message does not wait for it. */
	sc.arp_static[0].ip = peer_ip;
	sc.arp_static[0].mac = *peer_mac;
	sc.n_arp_static = 1;
	/* Each side's loop is rx, poll, application, tx: the ACK rides on the echo. */
	sc.ack_at_tx_burst = getenv("BENCH_TCP_ACK_AT_RX") == NULL;
	s->st = dp_stack_create(&sc, err, sizeof(err));
	if (s->st == NULL)
		bench_fail("stack: %s", err);
	/* The socket calls use the stack's last known time. */
	dp_stack_poll(s->st, opts.callgrind ? 0 : dp_lcore_now_us());
}

static void setup_stacks(void)
{
	char err[256];
	uint16_t pa, pb;
	if (dp_port_ring_pair("bt_a", "bt_b", 4096, &pa, &pb, err, sizeof(err)) != 0)
		bench_fail("%s", err);
	struct rte_ether_addr ma, mb;
	rte_eth_macaddr_get(pa, &ma);
	rte_eth_macaddr_get(pb, &mb);
	open_side(&A, "net_ring_bt_a", IP_A, IP_B, &mb);
	open_side(&B, "net_ring_bt_b", IP_B, IP_A, &ma);
	int rc = 0;
	B.listener = dp_tcp_listen(B.st, PORT_B, 4, &rc);
	A.conn = dp_tcp_connect(A.st, IP_B, PORT_B, 0, &rc);
	if (B.listener == DP_CONN_INVALID || A.conn == DP_CONN_INVALID)
		bench_fail("listen/connect: %d", rc);
	for (int i = 0; i < 100000 && B.conn == DP_CONN_INVALID; i++) {
		uint64_t now = dp_lcore_now_us();
		pump(&A, now);
		pump(&B, now);
		B.conn = dp_tcp_accept(B.st, B.listener);
	}
	if (B.conn == DP_CONN_INVALID || dp_tcp_state(A.st, A.conn) != DP_TCP_ESTABLISHED)
		bench_fail("stack connection not established");
	drain_events(&A);
	drain_events(&B);
}

static struct rte_mbuf *msg_mbuf(struct rte_mempool *mp)
{
	struct rte_mbuf *m = dp_mbuf_alloc_tx(mp);
	if (m == NULL)
		bench_fail("mbuf pool empty");
	memcpy(rte_pktmbuf_append(m, MSG_LEN), msg, MSG_LEN);
	return m;
}

/* B's loop on lcore 1: echo every received mbuf back (zero-copy), or count and free. */
static int b_loop(void *arg)
{
	(void)arg;
	struct rte_mbuf *bufs[BURST];
	while (!atomic_load_explicit(&b_stop, memory_order_relaxed)) {
		pump_rx(&B, dp_lcore_now_us());
		int n = dp_tcp_recv(B.st, B.conn, bufs, BURST);
		for (int i = 0; i < n; i++) {
			if (b_mode == B_SINK) {
				atomic_store_explicit(&b_bytes,
						      atomic_load_explicit(&b_bytes, memory_order_relaxed) +
							      bufs[i]->pkt_len,
						      memory_order_relaxed);
				rte_pktmbuf_free(bufs[i]);
			} else if (dp_tcp_send(B.st, B.conn, bufs[i]) != DP_TCP_OK) {
				rte_pktmbuf_free(bufs[i]); /* cannot happen with one message in flight */
			}
		}
		pump_tx(&B);
		drain_events(&B);
	}
	return 0;
}

static void start_b(enum b_mode mode)
{
	b_mode = mode;
	atomic_store(&b_bytes, 0);
	atomic_store(&b_stop, 0);
	unsigned worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	if (worker >= RTE_MAX_LCORE || rte_eal_remote_launch(b_loop, NULL, worker) != 0)
		bench_fail("no worker lcore for the second stack (needs 2 cores)");
}

static void stop_b(void)
{
	atomic_store(&b_stop, 1);
	rte_eal_mp_wait_lcore();
}

/* Receives exactly MSG_LEN bytes on A into buf, pumping A. */
static void a_recv_msg(uint8_t *buf)
{
	unsigned got = 0;
	struct rte_mbuf *bufs[BURST];
	while (got < MSG_LEN) {
		pump_tx(&A); /* the message (and, with ack_at_tx_burst, the ACK it carries) */
		pump_rx(&A, dp_lcore_now_us());
		int n = dp_tcp_recv(A.st, A.conn, bufs, BURST);
		for (int i = 0; i < n; i++) {
			for (struct rte_mbuf *s = bufs[i]; s; s = s->next) {
				if (got + s->data_len > MSG_LEN)
					bench_fail("stack echo longer than the message");
				memcpy(buf + got, rte_pktmbuf_mtod(s, void *), s->data_len);
				got += s->data_len;
			}
			rte_pktmbuf_free(bufs[i]);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct lat {
	double p50, p99, p999, mean;
	unsigned n;
};

static void summarize(double *s, unsigned n, struct lat *l)
{
	qsort(s, n, sizeof(*s), cmp_double);
	double sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += s[i];
	l->n = n;
	l->mean = sum / n;
	l->p50 = s[n / 2];
	l->p99 = s[(unsigned)((double)n * 0.99)];
	l->p999 = s[(unsigned)((double)n * 0.999)];
}

static unsigned sample_target(double per_rtt_guess_ns)
{
	double n = opts.budget_ms * 1e6 / per_rtt_guess_ns;
	if (n < MIN_SAMPLES)
		n = MIN_SAMPLES;
	return n > MAX_SAMPLES ? MAX_SAMPLES : (unsigned)n;
}

static void stack_pingpong(struct lat *l)
{
	uint8_t back[MSG_LEN];
	double tpn = bench_ticks_per_ns();
	start_b(B_ECHO);
	unsigned target = 0;
	for (unsigned i = 0; i < WARMUP + target || target == 0; i++) {
		struct rte_mbuf *m = msg_mbuf(A.port.pool);
		uint64_t t0 = bench_ticks();
		if (dp_tcp_send(A.st, A.conn, m) != DP_TCP_OK)
			bench_fail("stack send refused with one message in flight");
		a_recv_msg(back);
		uint64_t t1 = bench_ticks();
		if (memcmp(back, msg, MSG_LEN) != 0)
			bench_fail("stack echo differs from the message");
		if (i == WARMUP - 1) {
			/* size the run from the warm-up's speed */
			target = sample_target(samples[WARMUP / 2]);
		}
		samples[i < WARMUP ? i : i - WARMUP] = (double)(t1 - t0) / tpn;
		drain_events(&A);
	}
	stop_b();
	summarize(samples, target, l);
}

static void stack_throughput(double *mb_s)
{
	start_b(B_SINK);
	uint64_t sent = 0;
	uint64_t t0 = bench_ticks();
	double tpn = bench_ticks_per_ns();
	uint64_t end = t0 + (uint64_t)(opts.budget_ms * 1e6 * tpn);
	while (bench_ticks() < end) {
		pump(&A, dp_lcore_now_us());
		while (dp_tcp_send_space(A.st, A.conn) >= SEG) {
			struct rte_mbuf *m = dp_mbuf_alloc_tx(A.port.pool);
			if (m == NULL)
				break;
			rte_pktmbuf_append(m, SEG); /* contents: whatever the pool holds */
			if (dp_tcp_send(A.st, A.conn, m) != DP_TCP_OK) {
				rte_pktmbuf_free(m);
				break;
			}
			sent += SEG;
		}
		drain_events(&A);
	}
	/* The rate is what arrived within the window; then everything must arrive, no more and
	 * no less than was sent. */
	uint64_t t1 = bench_ticks();
	uint64_t arrived = atomic_load(&b_bytes);
	uint64_t drain_until = bench_ticks() + (uint64_t)(5e9 * tpn);
	while (atomic_load(&b_bytes) < sent && bench_ticks() < drain_until)
		pump(&A, dp_lcore_now_us());
	if (getenv("BENCH_TCP_DEBUG"))
		fprintf(stderr, "drain %.3f ms\n", (double)(bench_ticks() - t1) / tpn / 1e6);
	stop_b();
	if (getenv("BENCH_TCP_DEBUG")) {
		struct dp_tcp_info ia;
		dp_tcp_get_info(A.st, A.conn, &ia);
		fprintf(stderr, "A: rtx %lu rto %lu fast %lu dupacks %lu cwnd %u ssthresh %u snd_wnd %u srtt %u rto %u zw %lu\n",
			(unsigned long)ia.retransmits, (unsigned long)ia.rto_expiries,
			(unsigned long)ia.fast_retransmits, (unsigned long)ia.dup_acks_in, ia.cwnd,
			ia.ssthresh, ia.snd_wnd, ia.srtt_us, ia.rto_us, (unsigned long)ia.zero_window_seen);
		uint64_t c[DP_CTR_COUNT];
		dp_stack_counters(B.st, c);
		for (int i = 0; i < DP_CTR_COUNT; i++)
			if (c[i])
				fprintf(stderr, "B %s %lu\n", dp_stack_counter_names[i], (unsigned long)c[i]);
		dp_stack_counters(A.st, c);
		for (int i = 0; i < DP_CTR_COUNT; i++)
			if (c[i])
				fprintf(stderr, "A %s %lu\n", dp_stack_counter_names[i], (unsigned long)c[i]);
		fprintf(stderr, "ring drops A %lu B %lu\n", (unsigned long)A.tx_drops, (unsigned long)B.tx_drops);
	}
	if (atomic_load(&b_bytes) != sent)
		bench_fail("stack throughput: %lu bytes sent, %lu received", (unsigned long)sent,
			   (unsigned long)atomic_load(&b_bytes));
	*mb_s = (double)arrived / ((double)(t1 - t0) / tpn) * 1e3;
}

/* The floor the machine sets: one pointer bounced between lcores 0 and 1 over two SP/SC
 * rte_rings, as the net_ring pair does twice per round trip, without any stack. */
static struct rte_ring *bounce_ab, *bounce_ba;

static int bounce_loop(void *arg)
{
	(void)arg;
	void *obj;
	while (!atomic_load_explicit(&b_stop, memory_order_relaxed))
		if (rte_ring_sc_dequeue(bounce_ab, &obj) == 0)
			while (rte_ring_sp_enqueue(bounce_ba, obj) != 0)
				;
	return 0;
}

static void ring_pingpong(struct lat *l)
{
	bounce_ab = rte_ring_create("bt_bounce_ab", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	bounce_ba = rte_ring_create("bt_bounce_ba", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (bounce_ab == NULL || bounce_ba == NULL)
		bench_fail("bounce rings");
	atomic_store(&b_stop, 0);
	unsigned worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	if (worker >= RTE_MAX_LCORE || rte_eal_remote_launch(bounce_loop, NULL, worker) != 0)
		bench_fail("no worker lcore (needs 2 cores)");
	double tpn = bench_ticks_per_ns();
	unsigned target = 0;
	for (unsigned i = 0; i < WARMUP + target || target == 0; i++) {
		void *obj = &samples[i], *back = NULL;
		uint64_t t0 = bench_ticks();
		while (rte_ring_sp_enqueue(bounce_ab, obj) != 0)
			;
		while (rte_ring_sc_dequeue(bounce_ba, &back) != 0)
			;
		uint64_t t1 = bench_ticks();
		if (back != obj)
			bench_fail("ring bounce returned another object");
		if (i == WARMUP - 1)
			target = sample_target(samples[WARMUP / 2]);
		samples[i < WARMUP ? i : i - WARMUP] = (double)(t1 - t0) / tpn;
	}
	stop_b();
	rte_ring_free(bounce_ab);
	rte_ring_free(bounce_ba);
	summarize(samples, target, l);
}

/* The same two stacks driven by one thread in turn: no cross-core hand-off and no second
 * thread for the scheduler to preempt, so this is the stacks' own processing cost. */
static void stack_pingpong_1thread(struct lat *l)
{
	uint8_t back[MSG_LEN];
	double tpn = bench_ticks_per_ns();
	struct rte_mbuf *bufs[BURST];
	unsigned target = 0;
	for (unsigned i = 0; i < WARMUP + target || target == 0; i++) {
		struct rte_mbuf *m = msg_mbuf(A.port.pool);
		uint64_t t0 = bench_ticks();
		if (dp_tcp_send(A.st, A.conn, m) != DP_TCP_OK)
			bench_fail("stack send refused with one message in flight");
		unsigned got = 0;
		while (got < MSG_LEN) {
			uint64_t now = dp_lcore_now_us();
			pump_tx(&A);
			pump_rx(&B, now);
			int n = dp_tcp_recv(B.st, B.conn, bufs, BURST);
			for (int j = 0; j < n; j++)
				if (dp_tcp_send(B.st, B.conn, bufs[j]) != DP_TCP_OK)
					bench_fail("echo send refused");
			pump_tx(&B);
			pump_rx(&A, now);
			n = dp_tcp_recv(A.st, A.conn, bufs, BURST);
			for (int j = 0; j < n; j++) {
				for (struct rte_mbuf *sg = bufs[j]; sg; sg = sg->next) {
					if (got + sg->data_len > MSG_LEN)
						bench_fail("stack echo longer than the message");
					memcpy(back + got, rte_pktmbuf_mtod(sg, void *), sg->data_len);
					got += sg->data_len;
				}
				rte_pktmbuf_free(bufs[j]);
			}
		}
		uint64_t t1 = bench_ticks();
		if (memcmp(back, msg, MSG_LEN) != 0)
			bench_fail("stack echo differs from the message");
		if (i == WARMUP - 1)
			target = sample_target(samples[WARMUP / 2]);
		samples[i < WARMUP ? i : i - WARMUP] = (double)(t1 - t0) / tpn;
		drain_events(&A);
		drain_events(&B);
	}
	summarize(samples, target, l);
}

static void stack_throughput_1thread(double *mb_s)
{
	struct rte_mbuf *bufs[BURST];
	double tpn = bench_ticks_per_ns();
	uint64_t sent = 0, arrived = 0, in_window = 0, t0 = bench_ticks();
	uint64_t end = t0 + (uint64_t)(opts.budget_ms * 1e6 * tpn);
	uint64_t drain_until = end + (uint64_t)(5e9 * tpn);
	for (uint64_t now_t = t0; now_t < end || (arrived < sent && now_t < drain_until);
	     now_t = bench_ticks()) {
		uint64_t now = dp_lcore_now_us();
		while (now_t < end && dp_tcp_send_space(A.st, A.conn) >= SEG) {
			struct rte_mbuf *m = dp_mbuf_alloc_tx(A.port.pool);
			if (m == NULL)
				break;
			rte_pktmbuf_append(m, SEG);
			if (dp_tcp_send(A.st, A.conn, m) != DP_TCP_OK) {
				rte_pktmbuf_free(m);
				break;
			}
			sent += SEG;
		}
		pump(&A, now);
		pump(&B, now);
		int n;
		while ((n = dp_tcp_recv(B.st, B.conn, bufs, BURST)) > 0)
			for (int j = 0; j < n; j++) {
				arrived += bufs[j]->pkt_len;
				rte_pktmbuf_free(bufs[j]);
			}
		drain_events(&A);
		drain_events(&B);
		if (now_t < end)
			in_window = arrived;
	}
	if (arrived != sent)
		bench_fail("stack throughput (1 thread): %lu bytes sent, %lu received",
			   (unsigned long)sent, (unsigned long)arrived);
	*mb_s = (double)in_window / ((double)(end - t0) / tpn) * 1e3;
}

/* ---- kernel sockets over loopback ---- */

static void pin(unsigned cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void tune(int fd)
{
	int one = 1, busy = 50;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Loopback has no NAPI queue to poll; the option is set for parity with a NIC set-up,
	 * and the busy polling that matters here is the non-blocking recv loop. */
	setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &busy, sizeof(busy));
}

static void kernel_pair(int *client, int *server)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 1) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) != 0)
		bench_fail("kernel listener: %s", strerror(errno));
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*client, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		bench_fail("kernel connect: %s", strerror(errno));
	*server = accept(ls, NULL, NULL);
	if (*server < 0)
		bench_fail("kernel accept: %s", strerror(errno));
	close(ls);
	tune(*client);
	tune(*server);
}

struct kthread {
	int fd;
	atomic_int stop;
	uint64_t bytes;
	int mode; /* 0 echo, 1 sink */
};

static void *kernel_peer(void *arg)
{
	struct kthread *k = arg;
	pin(1);
	static uint8_t buf[65536];
	while (!atomic_load_explicit(&k->stop, memory_order_relaxed)) {
		ssize_t n = recv(k->fd, buf, k->mode ? sizeof(buf) : MSG_LEN, k->mode ? 0 : MSG_DONTWAIT);
		if (n > 0) {
			k->bytes += (uint64_t)n;
			if (k->mode == 0 && send(k->fd, buf, (size_t)n, 0) != n)
				break;
		} else if (n == 0) {
			break;
		}
	}
	return NULL;
}

static void kernel_pingpong(struct lat *l)
{
	int c, s;
	kernel_pair(&c, &s);
	struct kthread k = { .fd = s, .mode = 0 };
	pthread_t t;
	pthread_create(&t, NULL, kernel_peer, &k);
	pin(0);
	double tpn = bench_ticks_per_ns();
	uint8_t back[MSG_LEN];
	unsigned target = 0;
	for (unsigned i = 0; i < WARMUP + target || target == 0; i++) {
		uint64_t t0 = bench_ticks();
		if (send(c, msg, MSG_LEN, 0) != MSG_LEN)
			bench_fail("kernel send: %s", strerror(errno));
		unsigned got = 0;
		while (got < MSG_LEN) {
			ssize_t n = recv(c, back + got, MSG_LEN - got, MSG_DONTWAIT);
			if (n > 0)
				got += (unsigned)n;
			else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				bench_fail("kernel recv: %s", strerror(errno));
		}
		uint64_t t1 = bench_ticks();
		if (memcmp(back, msg, MSG_LEN) != 0)
			bench_fail("kernel echo differs from the message");
		if (i == WARMUP - 1)
			target = sample_target(samples[WARMUP / 2]);
		samples[i < WARMUP ? i : i - WARMUP] = (double)(t1 - t0) / tpn;
	}
	atomic_store(&k.stop, 1);
	shutdown(c, SHUT_RDWR);
	pthread_join(t, NULL);
	close(c);
	close(s);
	summarize(samples, target, l);
}

/* The kernel's apples-to-apples twin of fixmux_1thread: both sockets non-blocking in one
 * thread on core 0, the same ping-pong (send, echo what the server side received, read the
 * echo), loopback, TCP_NODELAY. No second thread to wake or to hand the data to another core's
 * cache: what is left is the kernel's own TCP/IP and socket path, four system calls per round
 * trip plus the polling recv()s. */
static void kernel_pingpong_1thread(struct lat *l)
{
	int c, s;
	kernel_pair(&c, &s);
	pin(0);
	double tpn = bench_ticks_per_ns();
	uint8_t back[MSG_LEN], echo[MSG_LEN];
	unsigned target = 0;
	for (unsigned i = 0; i < WARMUP + target || target == 0; i++) {
		uint64_t t0 = bench_ticks();
		if (send(c, msg, MSG_LEN, 0) != MSG_LEN)
			bench_fail("kernel send: %s", strerror(errno));
		unsigned e = 0, got = 0;
		while (got < MSG_LEN) {
			if (e < MSG_LEN) {
				ssize_t n = recv(s, echo + e, MSG_LEN - e, MSG_DONTWAIT);
				if (n > 0) {
					if (send(s, echo + e, (size_t)n, 0) != n)
						bench_fail("kernel echo send: %s", strerror(errno));
					e += (unsigned)n;
				} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
					bench_fail("kernel echo recv: %s", strerror(errno));
				}
			}
			ssize_t n = recv(c, back + got, MSG_LEN - got, MSG_DONTWAIT);
			if (n > 0)
				got += (unsigned)n;
			else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				bench_fail("kernel recv: %s", strerror(errno));
		}
		uint64_t t1 = bench_ticks();
		if (memcmp(back, msg, MSG_LEN) != 0)
			bench_fail("kernel echo differs from the message");
		if (i == WARMUP - 1)
			target = sample_target(samples[WARMUP / 2]);
		samples[i < WARMUP ? i : i - WARMUP] = (double)(t1 - t0) / tpn;
	}
	close(c);
	close(s);
	summarize(samples, target, l);
}

static void kernel_throughput(double *mb_s)
{
	int c, s;
	kernel_pair(&c, &s);
	struct kthread k = { .fd = s, .mode = 1 };
	pthread_t t;
	pthread_create(&t, NULL, kernel_peer, &k);
	pin(0);
	static uint8_t buf[65536];
	double tpn = bench_ticks_per_ns();
	uint64_t sent = 0, t0 = bench_ticks();
	uint64_t end = t0 + (uint64_t)(opts.budget_ms * 1e6 * tpn);
	while (bench_ticks() < end) {
		ssize_t n = send(c, buf, sizeof(buf), 0);
		if (n <= 0)
			bench_fail("kernel send: %s", strerror(errno));
		sent += (uint64_t)n;
	}
	shutdown(c, SHUT_WR); /* the peer sees EOF once it has everything */
	pthread_join(t, NULL);
	uint64_t t1 = bench_ticks();
	if (k.bytes != sent)
		bench_fail("kernel throughput: %lu sent, %lu received", (unsigned long)sent,
			   (unsigned long)k.bytes);
	close(c);
	close(s);
	*mb_s = (double)sent / ((double)(t1 - t0) / tpn) * 1e3;
}

/* ---- output ---- */

static void print_lat(const char *impl, const struct lat *l)
{
	if (opts.json)
		printf("{\"bench\":\"tcp\",\"workload\":\"pingpong_200B\",\"impl\":\"%s\",\"rtt_p50_ns\":%.0f,"
		       "\"rtt_p99_ns\":%.0f,\"rtt_p999_ns\":%.0f,\"rtt_mean_ns\":%.0f,\"samples\":%u}\n",
		       impl, l->p50, l->p99, l->p999, l->mean, l->n);
	else
		printf("%-24s %-14s %10.0f %10.0f %10.0f %10.0f %9u\n", "pingpong 200 B (RTT ns)", impl,
		       l->p50, l->p99, l->p999, l->mean, l->n);
}

static void print_tput(const char *impl, double mb_s)
{
	if (opts.json)
		printf("{\"bench\":\"tcp\",\"workload\":\"throughput_1conn\",\"impl\":\"%s\",\"mbyte_per_s\":%.1f,"
		       "\"gbit_per_s\":%.3f}\n",
		       impl, mb_s, mb_s * 8 / 1000);
	else
		printf("%-24s %-14s %10.1f MB/s (%.2f Gbit/s)\n", "throughput, 1 connection", impl, mb_s,
		       mb_s * 8 / 1000);
}

/* The target compares like with like: stack and kernel in the same layout. */
static void print_ratio(const char *layout, const char *stack, const char *kernel,
			const struct lat *st, const struct lat *k)
{
	double r50 = st->p50 / k->p50, r99 = st->p99 / k->p99, r999 = st->p999 / k->p999;
	if (opts.json)
		printf("{\"bench\":\"tcp\",\"workload\":\"pingpong_200B\",\"layout\":\"%s\","
		       "\"stack\":\"%s\",\"kernel\":\"%s\",\"ratio_p50\":%.3f,\"ratio_p99\":%.3f,"
		       "\"ratio_p999\":%.3f,\"target_ratio_p50\":0.25,\"target_met\":%s}\n",
		       layout, stack, kernel, r50, r99, r999, r50 <= 0.25 ? "true" : "false");
	else
		printf("ratio %-18s %-14s %10.3f %10.3f %10.3f   (%s / %s; target p50 <= 0.25: %s)\n",
		       layout, "", r50, r99, r999, stack, kernel, r50 <= 0.25 ? "met" : "NOT met");
}

/* ---- callgrind: one thread, both stacks, no timing ---- */

/* What the receiving stack does for one 200-byte data segment: take it in, acknowledge it,
 * hand the payload to the application (which frees it). noinline: callgrind counts inside. */
static uint64_t callgrind_rx_bytes; /* no cg_ prefix: callgrind.sh counts cg_* functions */

static __attribute__((noinline)) unsigned cg_tcp_rx_ack(void)
{
	struct rte_mbuf *bufs[BURST];
	unsigned w = pump(&B, 0);
	int n = dp_tcp_recv(B.st, B.conn, bufs, BURST);
	for (int i = 0; i < n; i++) {
		callgrind_rx_bytes += bufs[i]->pkt_len;
		rte_pktmbuf_free(bufs[i]);
	}
	drain_events(&B);
	return w + (unsigned)n;
}

/* What the sending stack does for one 200-byte message: queue it, segment it, take the ACK. */
static __attribute__((noinline)) unsigned cg_tcp_tx(struct rte_mbuf *m)
{
	if (dp_tcp_send(A.st, A.conn, m) != DP_TCP_OK)
		bench_fail("send refused");
	return pump(&A, 0);
}

static __attribute__((noinline)) unsigned cg_tcp_ack_in(void)
{
	unsigned w = pump(&A, 0);
	drain_events(&A);
	return w;
}

static void run_callgrind(void)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < opts.iterations; i++) {
		struct rte_mbuf *m = msg_mbuf(A.port.pool);
		sum += cg_tcp_tx(m);
		sum += cg_tcp_rx_ack();
		sum += cg_tcp_ack_in();
	}
	struct dp_tcp_info ia;
	dp_tcp_get_info(A.st, A.conn, &ia);
	if (ia.unacked_bytes != 0 || ia.queued_bytes != 0)
		bench_fail("callgrind run: %u bytes not acknowledged", ia.unacked_bytes + ia.queued_bytes);
	if (callgrind_rx_bytes != (uint64_t)opts.iterations * MSG_LEN)
		bench_fail("callgrind run: %lu bytes received, %lu sent", (unsigned long)callgrind_rx_bytes,
			   (unsigned long)opts.iterations * MSG_LEN);
	printf("callgrind: %u messages, work %lu\n", opts.iterations, (unsigned long)sum);
}

int main(int argc, char **argv)
{
	bench_parse_opts(argc, argv, &opts, NULL);
	bench_calibrate();
	make_msg();
	char err[256];
	/* Two lcores pinned to cores 0 and 1, both spinning; the callgrind run needs one. */
	struct dp_eal_opts eo = { .prefix = "fixmux_bench_tcp", .lcores = opts.callgrind ? "0" : "0,1",
				  .mem_mb = 512 };
	/* Hugepages when there are enough free (hugepage_setup/), as in production: with 4 KiB
	 * pages every mbuf touch risks a TLB miss. valgrind cannot map them: not for callgrind. */
	eo.huge = !opts.callgrind && getenv("BENCH_TCP_NO_HUGE") == NULL &&
		  dp_eal_hugepages_free_mb() >= eo.mem_mb + 64;
	if (dp_eal_init_nohuge(&eo, err, sizeof(err)) != 0)
		bench_fail("%s", err);
	setup_stacks();
	if (opts.callgrind) {
		run_callgrind();
		return 0;
	}
	samples = calloc(MAX_SAMPLES + WARMUP, sizeof(*samples));
	if (samples == NULL)
		bench_fail("out of memory");
	bench_print_meta(&opts, "tcp");
	if (opts.json)
		printf("{\"bench\":\"tcp\",\"memory\":\"%s\"}\n", eo.huge ? "hugepages" : "4k_pages");
	else
		printf("memory: %s\n", eo.huge ? "hugepages (--in-memory)"
					       : "4 KiB pages (--no-huge; hugepages: hugepage_setup/)");
	if (!opts.json)
		printf("%-24s %-14s %10s %10s %10s %10s %9s\n", "workload", "impl", "p50", "p99",
		       "p99.9", "mean", "samples");
	if (getenv("BENCH_TCP_DEBUG")) {
		uint64_t t0 = bench_ticks();
		for (int i = 0; i < 100000; i++)
			pump(&B, dp_lcore_now_us());
		fprintf(stderr, "idle pump: %.1f ns\n",
			(double)(bench_ticks() - t0) / bench_ticks_per_ns() / 100000);
		t0 = bench_ticks();
		for (int i = 0; i < 100000; i++)
			(void)dp_lcore_now_us();
		fprintf(stderr, "now_us: %.1f ns\n",
			(double)(bench_ticks() - t0) / bench_ticks_per_ns() / 100000);
	}
	struct lat ls, lk, l1, lk1, lr;
	ring_pingpong(&lr);
	print_lat("ring_bounce", &lr);
	stack_pingpong(&ls);
	print_lat("fixmux_stack", &ls);
	kernel_pingpong(&lk);
	print_lat("linux_kernel", &lk);
	stack_pingpong_1thread(&l1);
	print_lat("fixmux_1thread", &l1);
	kernel_pingpong_1thread(&lk1);
	print_lat("linux_1thread", &lk1);
	print_ratio("one_thread", "fixmux_1thread", "linux_1thread", &l1, &lk1);
	print_ratio("two_cores", "fixmux_stack", "linux_kernel", &ls, &lk);
	double ts, tk, t1;
	stack_throughput(&ts);
	print_tput("fixmux_stack", ts);
	stack_throughput_1thread(&t1);
	print_tput("fixmux_1thread", t1);
	kernel_throughput(&tk);
	print_tput("linux_kernel", tk);
	return 0;
}
