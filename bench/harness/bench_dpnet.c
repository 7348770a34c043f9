/* fixmux-bench-dp: the harness's users on fixmux's own TCP/IP stack (dataplane/dp_stack.h)
 * over a DPDK port (net_memif to fixmux), so no kernel is on the users' side of the path.
 *
 * One stack, driven by the one harness thread that carries the phase (the stack belongs to
 * one thread). The FIX logic stays in bench_worker.c: this file gives it byte-stream calls
 * (connect, write, read, close) and a poll that moves packets between the port and the stack
 * and reports which users can read or write. Bytes are copied into and out of mbufs: the
 * harness is a client, not the appliance, and its copies are part of what a user-space
 * client application would do.
 */
#define _GNU_SOURCE
#include "bench_dpnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dp_idle.h"
#include "dp_lcore.h"
#include "dp_port.h"
#include "dp_stack.h"

#define BURST 32
#define MAX_CONNS 1024

static struct {
	bool up;
	struct dp_port port;
	struct dp_stack *st;
	struct dp_idle idle;
	/* A received mbuf not yet copied out in full, per connection slot. */
	struct pend {
		dp_conn_t h;
		struct rte_mbuf *m;   /* chain; NULL when none */
		struct rte_mbuf *seg; /* current segment of m */
		uint32_t off;         /* bytes of seg already copied out */
		bool connected, closed;
	} c[MAX_CONNS];
	/* Packets the port did not take yet. */
	struct rte_mbuf *tx[BURST * 4];
	unsigned ntx;
} dp;

static int parse_cidr(const char *s, uint32_t *ip, uint32_t *mask)
{
	char a[32];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr in;
	if (n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = 0;
	if (inet_pton(AF_INET, a, &in) != 1)
		return -1;
	int bits = slash ? atoi(slash + 1) : 24;
	if (bits < 1 || bits > 32)
		return -1;
	*ip = ntohl(in.s_addr);
	*mask = bits == 32 ? 0xffffffffu : ~((1u << (32 - bits)) - 1);
	return 0;
}

int bench_dp_init(const char *eal_args, const char *dev, const char *ip_cidr, const char *idle,
		  char *err, size_t cap)
{
	/* The EAL's arguments come as one string (they follow --dpdk on our command line). */
	static char buf[1024];
	static char *argv[64];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", eal_args);
	argv[argc++] = "fixmux-bench-dp";
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t != NULL && argc < 63;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		snprintf(err, cap, "rte_eal_init: %s", rte_strerror(rte_errno));
		return -1;
	}
	uint32_t ip, mask;
	if (parse_cidr(ip_cidr, &ip, &mask) != 0) {
		snprintf(err, cap, "--dp-ip '%s': expected a.b.c.d/n", ip_cidr);
		return -1;
	}
	struct dp_idle_conf ic;
	if (dp_idle_parse(&ic, idle, err, cap) != 0)
		return -1;
	dp_idle_init(&dp.idle, &ic);
	struct dp_port_conf pc = {
		.dev = dev, .n_rxd = 512, .n_txd = 512,
		.pool_conf = { .name = "bench_pool", .n_mbufs = 16384 },
	};
	if (dp_port_open(&dp.port, &pc, err, cap) != 0)
		return -1;
	struct dp_stack_config sc;
	dp_stack_config_defaults(&sc);
	sc.mac = dp.port.mac;
	sc.ip = ip;
	sc.netmask = mask;
	sc.pool = dp.port.pool;
	sc.pool_reserve = 512;
	sc.socket_id = SOCKET_ID_ANY;
	sc.tx_csum = dp.port.csum;
	if (sc.max_conns < MAX_CONNS)
		sc.max_conns = MAX_CONNS;
	dp.st = dp_stack_create(&sc, err, cap);
	if (dp.st == NULL)
		return -1;
	dp_stack_poll(dp.st, dp_lcore_now_us());
	dp.up = true;
	return 0;
}

bool bench_dp_active(void)
{
	return dp.up;
}

static struct pend *slot(dp_conn_t h)
{
	void *u = dp_tcp_get_user(dp.st, h);
	return u != NULL ? (struct pend *)u : NULL;
}

long bench_dp_connect(const char *host, uint16_t port, uint32_t user)
{
	struct in_addr in;
	int rc = 0;
	if (user >= MAX_CONNS || inet_pton(AF_INET, host, &in) != 1)
		return -1;
	dp_stack_poll(dp.st, dp_lcore_now_us());
	dp_conn_t h = dp_tcp_connect(dp.st, ntohl(in.s_addr), port, 0, &rc);
	if (h == DP_CONN_INVALID)
		return -1;
	struct pend *p = &dp.c[user];
	memset(p, 0, sizeof(*p));
	p->h = h;
	dp_tcp_set_user(dp.st, h, p);
	return (long)h;
}

long bench_dp_write(uint32_t h, const char *buf, size_t len)
{
	struct pend *p = slot(h);
	if (p == NULL || p->closed)
		return -1;
	if (!p->connected)
		return 0;
	size_t done = 0;
	while (done < len) {
		/* With no space at all the send is still tried: its EAGAIN is what makes the stack
		 * report the connection writable again. */
		uint32_t space = dp_tcp_send_space(dp.st, h);
		struct rte_mbuf *m = dp_mbuf_alloc_tx(dp.port.pool);
		if (m == NULL)
			break; /* the pool is empty: the rest goes with the user's next message */
		size_t n = rte_pktmbuf_tailroom(m);
		if (n > len - done)
			n = len - done;
		if (space > 0 && n > space)
			n = space;
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), buf + done, n);
		int rc = dp_tcp_send(dp.st, h, m);
		if (rc == DP_TCP_EAGAIN) {
			rte_pktmbuf_free(m);
			break;
		}
		if (rc != DP_TCP_OK) {
			rte_pktmbuf_free(m);
			return -1;
		}
		done += n;
	}
	return (long)done;
}

long bench_dp_read(uint32_t h, char *buf, size_t cap)
{
	struct pend *p = slot(h);
	size_t got = 0;
	if (p == NULL)
		return -1;
	while (got < cap) {
		if (p->m == NULL) {
			struct rte_mbuf *m;
			int n = dp_tcp_recv(dp.st, h, &m, 1);
			if (n < 0)
				return -1;
			if (n == 0)
				break;
			p->m = p->seg = m;
			p->off = 0;
		}
		uint32_t avail = p->seg->data_len - p->off;
		size_t n = avail < cap - got ? avail : cap - got;
		memcpy(buf + got, rte_pktmbuf_mtod_offset(p->seg, char *, p->off), n);
		got += n;
		p->off += (uint32_t)n;
		if (p->off == p->seg->data_len) {
			p->seg = p->seg->next;
			p->off = 0;
			if (p->seg == NULL) {
				rte_pktmbuf_free(p->m);
				p->m = NULL;
			}
		}
	}
	if (got > 0)
		return (long)got;
	if (p->closed || dp_tcp_peer_closed(dp.st, h))
		return 0;
	return BENCH_DP_EAGAIN;
}

void bench_dp_close(uint32_t h)
{
	struct pend *p = slot(h);
	if (p != NULL) {
		if (p->m != NULL)
			rte_pktmbuf_free(p->m);
		memset(p, 0, sizeof(*p));
	}
	dp_tcp_set_user(dp.st, h, NULL);
	dp_tcp_close(dp.st, h);
}

/* One pass: port -> stack -> port. Returns the work done. */
static unsigned io(uint64_t now_us)
{
	struct rte_mbuf *pkts[BURST];
	unsigned work = 0;
	uint16_t n = dp_port_rx(&dp.port, 0, pkts, BURST);
	if (n > 0)
		work += dp_stack_rx_burst(dp.st, now_us, pkts, n);
	work += dp_stack_poll(dp.st, now_us);
	for (;;) {
		if (dp.ntx < sizeof(dp.tx) / sizeof(dp.tx[0]))
			dp.ntx += dp_stack_tx_burst(dp.st, dp.tx + dp.ntx,
						    (unsigned)(sizeof(dp.tx) / sizeof(dp.tx[0])) - dp.ntx);
		if (dp.ntx == 0)
			break;
		uint16_t sent = dp_port_tx(&dp.port, 0, dp.tx, (uint16_t)dp.ntx);
		memmove(dp.tx, dp.tx + sent, (dp.ntx - sent) * sizeof(dp.tx[0]));
		dp.ntx -= sent;
		work += sent;
		if (sent == 0 || dp_stack_tx_pending(dp.st) == 0)
			break;
	}
	return work;
}

int bench_dp_poll(struct bench_dp_ready *ready, unsigned cap, uint64_t timeout_ns)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		unsigned work = io(dp_lcore_now_us());
		struct dp_event ev[BURST];
		unsigned ne = dp_stack_events(dp.st, ev, cap < BURST ? cap : BURST), nr = 0;
		for (unsigned i = 0; i < ne; i++) {
			struct pend *p = ev[i].user;
			if (p == NULL)
				continue;
			if (ev[i].flags & DP_EV_CONNECTED)
				p->connected = true;
			if (ev[i].flags & DP_EV_CLOSED)
				p->closed = true;
			ready[nr].user = (uint32_t)(p - dp.c);
			ready[nr].flags = 0;
			if (ev[i].flags & (DP_EV_CONNECTED | DP_EV_WRITABLE))
				ready[nr].flags |= BENCH_DP_WRITABLE;
			if (ev[i].flags & (DP_EV_READABLE | DP_EV_PEER_FIN | DP_EV_CLOSED))
				ready[nr].flags |= BENCH_DP_READABLE;
			nr++;
		}
		if (nr > 0)
			return (int)nr;
		clock_gettime(CLOCK_MONOTONIC, &t);
		uint64_t el = (uint64_t)(t.tv_sec - t0.tv_sec) * 1000000000u +
			      (uint64_t)(t.tv_nsec - t0.tv_nsec);
		if (el >= timeout_ns)
			return 0;
		dp_idle(&dp.idle, work);
	}
}

void bench_dp_drain(unsigned ms)
{
	/* Lets the last FINs and ACKs out before the process goes. */
	for (unsigned i = 0; dp.up && i < ms * 10; i++) {
		struct bench_dp_ready r[BURST];
		bench_dp_poll(r, BURST, 100000);
	}
}
