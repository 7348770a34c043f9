/* fixmux-dp-echo: an echo server or client on the fixmux TCP/IP stack, for interoperability
 * tests against the Linux kernel (tests/dataplane/interop/) and for trying the stack by hand.
 *
 *   fixmux-dp-echo [EAL args] -- --ip 198.18.0.2/24 [--dev net_tap0] [options]
 *
 *   --listen PORT        server: echo every byte back on each accepted connection, zero-copy
 *                        (the received mbufs are sent back as they are); close after the
 *                        peer's FIN once everything is echoed.
 *   --connect IP:PORT    client: open --conns connections, send --bytes on each, check the
 *                        echo byte for byte, then close (--close active, default) or shut
 *                        down writing and wait for the peer to close (--close passive).
 *   --abort-after N      server: reset (RST) a connection once it has echoed N bytes.
 *   --fault-rx SPEC, --fault-tx SPEC, --seed N   faults on the stack's side (dp_fault.h).
 *   --stats FILE         counters as "name value" lines, rewritten every 200 ms and at exit;
 *                        the line stats_seq grows with each rewrite.
 *   --ready FILE         created once the port and the stack are up (holds the stack's MAC).
 *   --go FILE            client: connect only once FILE exists (the test configures the
 *                        kernel side of the TAP device in between).
 *   --idle SPEC          idle strategy (default backoff: this box has 2 shared cores).
 *   --arp-static IP=MAC  a static ARP entry (the hostile tests speak from an address that no
 *                        host answers ARP for)
 *   --chunk N            client: bytes per application mbuf (default 1400); an odd size
 *                        makes segments of odd-length pieces, which the stack checksums in
 *                        software even when the port offers TCP checksum offload.
 *   --rto-min-us N, --mbufs N, --max-conns N, --backlog N, --sw-csum (no checksum offload)
 * Exits on SIGINT/SIGTERM (server) or when all connections are done (client). Exit status 0
 * means no data mismatch and, for a client, every connection completed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp_fault.h"
#include "dp_idle.h"
#include "dp_lcore.h"
#include "dp_port.h"
#include "dp_stack.h"

#define BURST 32
#define PENDING_MAX 512
#define CHUNK_DEFAULT 1400

enum echo_counter {
	E_ACCEPTED,
	E_CONNECTED,
	E_CONNECT_FAILED,
	E_CLOSED_ORDERLY,
	E_CLOSED_RESET,
	E_CLOSED_TIMEOUT,
	E_ABORTED,
	E_BYTES_IN,
	E_BYTES_OUT,
	E_MISMATCH,
	E_COMPLETED,
	E_TX_TCP_CSUM_OFFLOAD, /* segments that left with the TCP checksum for the port to do */
	E_TX_TCP_CSUM_SW,      /* TCP segments that left with a software checksum */
	E_COUNT
};

static const char *const echo_counter_names[E_COUNT] = {
	"echo_accepted",       "echo_connected",   "echo_connect_failed", "echo_closed_orderly",
	"echo_closed_reset",   "echo_closed_timeout", "echo_aborted",     "echo_bytes_in",
	"echo_bytes_out",      "echo_mismatch",    "echo_completed",
	"echo_tx_tcp_csum_offload", "echo_tx_tcp_csum_sw",
};

struct conn {
	dp_conn_t h;
	bool used, close_sent, done;
	unsigned idx;
	uint64_t sent, received, echoed;
	struct rte_mbuf *pending[PENDING_MAX];
	unsigned p_head, p_n;
};

struct opts {
	const char *dev, *devargs;
	uint32_t ip, mask;
	int listen_port;
	uint32_t peer_ip;
	uint16_t peer_port;
	unsigned conns;
	uint64_t bytes;
	bool close_passive;
	uint64_t abort_after;
	struct dp_fault_conf frx, ftx;
	uint64_t seed;
	const char *stats, *ready, *go;
	struct dp_idle_conf idle;
	uint32_t rto_min_us, mbufs, max_conns, backlog;
	bool sw_csum;
	uint32_t chunk; /* client: bytes per application mbuf */
	struct dp_arp_static arp[DP_STACK_ARP_STATIC_MAX];
	unsigned n_arp;
};

struct app {
	struct opts o;
	struct dp_port port;
	struct dp_fault_port fp;
	struct dp_stack *st;
	dp_conn_t listener;
	struct conn *conns;
	unsigned n_conns;
	unsigned finished; /* client: connections completed or failed */
	uint64_t c[E_COUNT];
	struct dp_lcore_loop loop;
	uint64_t last_stats_us;
	uint64_t now_us; /* the loop's time at the last slow check */
	uint64_t stats_seq;
	bool connected; /* client: connections opened */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static uint8_t pattern(unsigned conn, uint64_t off)
{
	return (uint8_t)(off * 131u + (off >> 9) + conn * 17u);
}

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fixmux-dp-echo: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* One line per open connection in <stats>.conns: what a stall looks like from inside (which
 * side waits for what, which timer is armed). Not parsed by the tests; for people. */
static void write_conns(struct app *a)
{
	char path[512], tmp[520];
	snprintf(path, sizeof(path), "%s.conns", a->o.stats);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f, "now_us %lu\n", (unsigned long)a->now_us);
	for (unsigned i = 0; i < a->n_conns; i++) {
		const struct conn *c = &a->conns[i];
		struct dp_tcp_info in;
		if (!c->used || dp_tcp_get_info(a->st, c->h, &in) != DP_TCP_OK)
			continue;
		fprintf(f,
			"conn %u port %u %s sent %lu received %lu echoed %lu pending %u | snd_una %u "
			"snd_nxt %u snd_max %u snd_wnd %u unacked %u queued %u cwnd %u ssthresh %u "
			"recover %u dupacks %u in_recovery %d | rto %u srtt %u nrtx %u rtx_armed %d "
			"persist %d rtx_in_us %ld last_rx_ago_us %ld | rcv_nxt %u rcv_wnd %u rq %u "
			"ooo %u | retx %lu rto_exp %lu fast %lu dupacks_in %lu zwp %lu zw %lu "
			"segs_in %lu segs_out %lu\n",
			i, in.local_port, dp_tcp_state_name(in.state), (unsigned long)c->sent,
			(unsigned long)c->received, (unsigned long)c->echoed, c->p_n, in.snd_una,
			in.snd_nxt, in.snd_max, in.snd_wnd, in.unacked_bytes, in.queued_bytes, in.cwnd,
			in.ssthresh, in.recover, in.dupacks, in.in_recovery, in.rto_us, in.srtt_us,
			in.nrtx, in.rtx_armed, in.persist,
			in.rtx_armed ? (long)(in.rtx_expire_us - a->now_us) : -1L,
			(long)(a->now_us - in.last_rx_us), in.rcv_nxt, in.rcv_wnd, in.rcv_queued_bytes,
			in.ooo_segs, (unsigned long)in.retransmits, (unsigned long)in.rto_expiries,
			(unsigned long)in.fast_retransmits, (unsigned long)in.dup_acks_in,
			(unsigned long)in.zero_window_probes, (unsigned long)in.zero_window_seen,
			(unsigned long)in.segs_in, (unsigned long)in.segs_out);
	}
	fclose(f);
	rename(tmp, path);
}

static void write_stats(struct app *a)
{
	if (a->o.stats == NULL)
		return;
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->o.stats);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return;
	uint64_t sc[DP_CTR_COUNT];
	dp_stack_counters(a->st, sc);
	for (int i = 0; i < DP_CTR_COUNT; i++)
		fprintf(f, "%s %lu\n", dp_stack_counter_names[i], (unsigned long)sc[i]);
	for (int i = 0; i < DP_FAULT_COUNTER_MAX; i++) {
		fprintf(f, "fault_rx_%s %lu\n", dp_fault_counter_names[i],
			(unsigned long)a->fp.rx.counters[i]);
		fprintf(f, "fault_tx_%s %lu\n", dp_fault_counter_names[i],
			(unsigned long)a->fp.tx.counters[i]);
	}
	for (int i = 0; i < E_COUNT; i++)
		fprintf(f, "%s %lu\n", echo_counter_names[i], (unsigned long)a->c[i]);
	fprintf(f, "conns_in_use %u\n", dp_stack_conns_in_use(a->st));
	fprintf(f, "port_csum %u\n", a->port.csum); /* DP_CSUM_* offloads found on the port */
	/* Readers wait for a higher number to know the file was written after some event. */
	fprintf(f, "stats_seq %lu\n", (unsigned long)++a->stats_seq);
	fclose(f);
	rename(tmp, a->o.stats);
	write_conns(a);
}

static struct conn *conn_new(struct app *a, dp_conn_t h)
{
	for (unsigned i = 0; i < a->n_conns; i++) {
		struct conn *c = &a->conns[i];
		if (!c->used) {
			memset(c, 0, sizeof(*c));
			c->used = true;
			c->h = h;
			c->idx = i;
			dp_tcp_set_user(a->st, h, c);
			return c;
		}
	}
	return NULL;
}

static void conn_release(struct app *a, struct conn *c)
{
	while (c->p_n) {
		rte_pktmbuf_free(c->pending[c->p_head]);
		c->p_head = (c->p_head + 1) % PENDING_MAX;
		c->p_n--;
	}
	c->used = false;
	(void)a;
}

/* Sends what waits in the connection's pending queue; returns bytes handed to the stack. */
static unsigned flush_pending(struct app *a, struct conn *c)
{
	unsigned work = 0;
	while (c->p_n) {
		struct rte_mbuf *m = c->pending[c->p_head];
		uint32_t len = m->pkt_len;
		if (dp_tcp_send(a->st, c->h, m) != DP_TCP_OK)
			break;
		c->echoed += len;
		a->c[E_BYTES_OUT] += len;
		work += len;
		c->p_head = (c->p_head + 1) % PENDING_MAX;
		c->p_n--;
	}
	return work;
}

static unsigned serve(struct app *a, struct conn *c)
{
	unsigned work = flush_pending(a, c);
	struct rte_mbuf *bufs[BURST];
	/* Read only what we can hold: an echo server that cannot send must stop reading, so the
	 * peer sees our window close instead of us dropping data. */
	while (c->p_n + BURST <= PENDING_MAX) {
		int n = dp_tcp_recv(a->st, c->h, bufs, BURST);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			c->received += bufs[i]->pkt_len;
			a->c[E_BYTES_IN] += bufs[i]->pkt_len;
			c->pending[(c->p_head + c->p_n) % PENDING_MAX] = bufs[i];
			c->p_n++;
		}
		work += (unsigned)n;
		work += flush_pending(a, c);
	}
	if (a->o.abort_after && c->echoed >= a->o.abort_after && !c->close_sent) {
		dp_tcp_abort(a->st, c->h);
		a->c[E_ABORTED]++;
		conn_release(a, c);
		return work + 1;
	}
	if (c->p_n == 0 && dp_tcp_peer_closed(a->st, c->h)) {
		/* The stack finishes the close on its own; the handle and the slot are free. */
		dp_tcp_close(a->st, c->h);
		conn_release(a, c);
		work++;
	}
	return work;
}

static unsigned client_send(struct app *a, struct conn *c)
{
	unsigned work = 0;
	while (c->sent < a->o.bytes) {
		uint32_t space = dp_tcp_send_space(a->st, c->h);
		if (space == 0)
			break;
		struct rte_mbuf *m = dp_mbuf_alloc_tx(a->port.pool);
		if (m == NULL)
			break;
		uint64_t left = a->o.bytes - c->sent;
		uint32_t len = (uint32_t)(left < a->o.chunk ? left : a->o.chunk);
		if (len > space)
			len = space;
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
		for (uint32_t i = 0; i < len; i++)
			p[i] = pattern(c->idx, c->sent + i);
		if (dp_tcp_send(a->st, c->h, m) != DP_TCP_OK) {
			rte_pktmbuf_free(m);
			break;
		}
		c->sent += len;
		a->c[E_BYTES_OUT] += len;
		work++;
	}
	if (c->sent == a->o.bytes && a->o.close_passive && !c->close_sent) {
		dp_tcp_shutdown_write(a->st, c->h);
		c->close_sent = true;
	}
	return work;
}

static void client_done(struct app *a, struct conn *c)
{
	if (!c->done) {
		c->done = true;
		a->finished++;
	}
}

static unsigned client_recv(struct app *a, struct conn *c)
{
	unsigned work = 0;
	struct rte_mbuf *bufs[BURST];
	int n;
	while ((n = dp_tcp_recv(a->st, c->h, bufs, BURST)) > 0) {
		for (int i = 0; i < n; i++) {
			for (struct rte_mbuf *s = bufs[i]; s != NULL; s = s->next) {
				const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
				for (uint16_t j = 0; j < s->data_len; j++)
					if (p[j] != pattern(c->idx, c->received + j)) {
						a->c[E_MISMATCH]++;
						break;
					}
				c->received += s->data_len;
				a->c[E_BYTES_IN] += s->data_len;
			}
			rte_pktmbuf_free(bufs[i]);
		}
		work += (unsigned)n;
	}
	if (c->received > a->o.bytes)
		a->c[E_MISMATCH]++;
	if (c->received == a->o.bytes &&
	    (!a->o.close_passive || dp_tcp_peer_closed(a->st, c->h))) {
		dp_tcp_close(a->st, c->h);
		a->c[E_COMPLETED]++;
		client_done(a, c);
		conn_release(a, c);
	}
	return work;
}

static void on_events(struct app *a)
{
	struct dp_event ev[BURST];
	unsigned n;
	while ((n = dp_stack_events(a->st, ev, BURST)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (ev[i].conn == a->listener) {
				dp_conn_t h;
				while ((h = dp_tcp_accept(a->st, a->listener)) != DP_CONN_INVALID) {
					if (conn_new(a, h) == NULL) {
						dp_tcp_abort(a->st, h);
						continue;
					}
					a->c[E_ACCEPTED]++;
				}
				continue;
			}
			struct conn *c = ev[i].user;
			/* Slots are reused as soon as we close a handle: an event for the old
			 * handle must not reach the new connection. */
			if (c == NULL || !c->used || c->h != ev[i].conn)
				continue;
			if (ev[i].flags & DP_EV_CONNECTED)
				a->c[E_CONNECTED]++;
			if (ev[i].flags & DP_EV_CLOSED) {
				if (ev[i].err == DP_TCP_ERESET)
					a->c[E_CLOSED_RESET]++;
				else if (ev[i].err == DP_TCP_ETIMEDOUT)
					a->c[E_CLOSED_TIMEOUT]++;
				else if (ev[i].err == DP_TCP_EREFUSED)
					a->c[E_CONNECT_FAILED]++;
				else
					a->c[E_CLOSED_ORDERLY]++;
				/* A client connection is complete only if every byte came back. */
				if (a->o.listen_port < 0) {
					if (c->received != a->o.bytes)
						a->c[E_MISMATCH] += ev[i].err == 0 ? 1 : 0;
					client_done(a, c);
				}
				dp_tcp_close(a->st, c->h);
				conn_release(a, c);
			}
		}
	}
}

/* Which TCP checksums the port was left to do (the interop tests check both happen). */
static void count_tx_csum(struct app *a, struct rte_mbuf **pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM) {
			a->c[E_TX_TCP_CSUM_OFFLOAD]++;
			continue;
		}
		const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
		if (m->data_len >= sizeof(*eh) + sizeof(*ip) &&
		    eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
		    ip->next_proto_id == IPPROTO_TCP)
			a->c[E_TX_TCP_CSUM_SW]++;
	}
}

static unsigned do_io(void *arg, uint64_t now_us)
{
	struct app *a = arg;
	struct rte_mbuf *pkts[BURST];
	unsigned work = 0;
	uint16_t n = dp_fault_port_rx(&a->fp, pkts, BURST, now_us);
	if (n)
		work += dp_stack_rx_burst(a->st, now_us, pkts, n);
	work += dp_stack_poll(a->st, now_us);
	on_events(a);
	for (unsigned i = 0; i < a->n_conns; i++) {
		struct conn *c = &a->conns[i];
		if (!c->used)
			continue;
		if (a->o.listen_port >= 0) {
			work += serve(a, c);
		} else if (!c->done) {
			work += client_send(a, c);
			work += client_recv(a, c);
		}
	}
	on_events(a);
	unsigned k;
	while ((k = dp_stack_tx_burst(a->st, pkts, BURST)) > 0) {
		count_tx_csum(a, pkts, k);
		dp_fault_port_tx(&a->fp, pkts, (uint16_t)k, now_us);
		work += k;
	}
	/* Held (delayed, reordered) or refused packets still have to go out. */
	dp_fault_port_tx(&a->fp, pkts, 0, now_us);
	return work;
}

static void connect_all(struct app *a)
{
	for (unsigned i = 0; i < a->o.conns; i++) {
		int rc = 0;
		dp_conn_t h = dp_tcp_connect(a->st, a->o.peer_ip, a->o.peer_port, 0, &rc);
		if (h == DP_CONN_INVALID)
			die("connect %u: error %d", i, rc);
		conn_new(a, h);
	}
	a->connected = true;
}

static unsigned do_slow(void *arg, uint64_t now_us)
{
	struct app *a = arg;
	a->now_us = now_us;
	if (a->o.listen_port < 0 && !a->connected && access(a->o.go, F_OK) == 0)
		connect_all(a);
	if (now_us - a->last_stats_us >= 200000) {
		a->last_stats_us = now_us;
		write_stats(a);
	}
	bool client_finished = a->o.listen_port < 0 && a->finished == a->o.conns &&
			       dp_stack_tx_pending(a->st) == 0;
	if (stop_signal || client_finished)
		dp_lcore_stop(&a->loop);
	return 0;
}

static uint32_t parse_ip(const char *s)
{
	struct in_addr in;
	if (inet_pton(AF_INET, s, &in) != 1)
		die("\"%s\" is not an IPv4 address", s);
	return ntohl(in.s_addr);
}

static uint64_t parse_num(const char *what, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0')
		die("%s: \"%s\" is not a number", what, s);
	return v;
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, 0, 'd' },      { "devargs", required_argument, 0, 'D' },
		{ "ip", required_argument, 0, 'i' },       { "listen", required_argument, 0, 'l' },
		{ "connect", required_argument, 0, 'c' },  { "conns", required_argument, 0, 'n' },
		{ "bytes", required_argument, 0, 'b' },    { "close", required_argument, 0, 'C' },
		{ "abort-after", required_argument, 0, 'A' },
		{ "fault-rx", required_argument, 0, 'r' }, { "fault-tx", required_argument, 0, 't' },
		{ "seed", required_argument, 0, 's' },     { "stats", required_argument, 0, 'S' },
		{ "ready", required_argument, 0, 'R' },    { "idle", required_argument, 0, 'I' },
		{ "rto-min-us", required_argument, 0, 'm' }, { "mbufs", required_argument, 0, 'M' },
		{ "max-conns", required_argument, 0, 'x' }, { "backlog", required_argument, 0, 'B' },
		{ "sw-csum", no_argument, 0, 'w' },        { "arp-static", required_argument, 0, 'a' },
		{ "go", required_argument, 0, 'g' },       { "chunk", required_argument, 0, 'k' },
		{ 0, 0, 0, 0 },
	};
	char err[256];
	memset(o, 0, sizeof(*o));
	o->dev = "net_tap0";
	o->listen_port = -1;
	o->conns = 1;
	o->bytes = 1 << 20;
	o->seed = 1;
	o->mbufs = 16384;
	o->chunk = CHUNK_DEFAULT;
	o->idle.kind = DP_IDLE_BACKOFF;
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->dev = optarg;
			break;
		case 'D':
			o->devargs = optarg;
			break;
		case 'i': {
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", optarg);
			char *slash = strchr(buf, '/');
			unsigned bits = 24;
			if (slash) {
				*slash = '\0';
				bits = (unsigned)parse_num("--ip prefix", slash + 1);
				if (bits > 32)
					die("--ip: prefix /%u", bits);
			}
			o->ip = parse_ip(buf);
			o->mask = bits ? ~0u << (32 - bits) : 0;
			break;
		}
		case 'l':
			o->listen_port = (int)parse_num("--listen", optarg);
			if (o->listen_port < 1 || o->listen_port > 65535)
				die("--listen: bad port");
			break;
		case 'c': {
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", optarg);
			char *colon = strchr(buf, ':');
			if (colon == NULL)
				die("--connect wants IP:PORT");
			*colon = '\0';
			o->peer_ip = parse_ip(buf);
			uint64_t p = parse_num("--connect port", colon + 1);
			if (p < 1 || p > 65535)
				die("--connect: bad port");
			o->peer_port = (uint16_t)p;
			break;
		}
		case 'n':
			o->conns = (unsigned)parse_num("--conns", optarg);
			break;
		case 'b':
			o->bytes = parse_num("--bytes", optarg);
			break;
		case 'C':
			if (strcmp(optarg, "active") == 0)
				o->close_passive = false;
			else if (strcmp(optarg, "passive") == 0)
				o->close_passive = true;
			else
				die("--close active|passive");
			break;
		case 'A':
			o->abort_after = parse_num("--abort-after", optarg);
			break;
		case 'r':
			if (dp_fault_parse(&o->frx, optarg, err, sizeof(err)) != 0)
				die("--fault-rx: %s", err);
			break;
		case 't':
			if (dp_fault_parse(&o->ftx, optarg, err, sizeof(err)) != 0)
				die("--fault-tx: %s", err);
			break;
		case 's':
			o->seed = parse_num("--seed", optarg);
			break;
		case 'S':
			o->stats = optarg;
			break;
		case 'R':
			o->ready = optarg;
			break;
		case 'g':
			o->go = optarg;
			break;
		case 'I':
			if (dp_idle_parse(&o->idle, optarg, err, sizeof(err)) != 0)
				die("--idle: %s", err);
			break;
		case 'm':
			o->rto_min_us = (uint32_t)parse_num("--rto-min-us", optarg);
			break;
		case 'M':
			o->mbufs = (uint32_t)parse_num("--mbufs", optarg);
			break;
		case 'x':
			o->max_conns = (uint32_t)parse_num("--max-conns", optarg);
			break;
		case 'B':
			o->backlog = (uint32_t)parse_num("--backlog", optarg);
			break;
		case 'w':
			o->sw_csum = true;
			break;
		case 'k':
			o->chunk = (uint32_t)parse_num("--chunk", optarg);
			if (o->chunk == 0 || o->chunk > 1500)
				die("--chunk: 1..1500 bytes (one mbuf of the pool)");
			break;
		case 'a': {
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", optarg);
			char *eq = strchr(buf, '=');
			if (eq == NULL || o->n_arp == DP_STACK_ARP_STATIC_MAX)
				die("--arp-static IP=MAC (at most %d)", DP_STACK_ARP_STATIC_MAX);
			*eq = '\0';
			o->arp[o->n_arp].ip = parse_ip(buf);
			if (rte_ether_unformat_addr(eq + 1, &o->arp[o->n_arp].mac) != 0)
				die("--arp-static: bad MAC \"%s\"", eq + 1);
			o->n_arp++;
			break;
		}
		default:
			die("unknown option (see the comment at the top of dp_echo.c)");
		}
	}
	if (o->ip == 0)
		die("--ip is required");
	if ((o->listen_port >= 0) == (o->peer_ip != 0))
		die("exactly one of --listen and --connect");
	if (o->conns == 0)
		die("--conns must be at least 1");
}

int main(int argc, char **argv)
{
	int eal = rte_eal_init(argc, argv);
	if (eal < 0)
		die("rte_eal_init failed: %s", rte_strerror(rte_errno));
	argc -= eal;
	argv += eal;
	static struct app a;
	parse_opts(&a.o, argc, argv);
	char err[256];

	struct dp_port_conf pc = {
		.dev = a.o.dev,
		.devargs = a.o.devargs,
		.n_rxd = 512,
		.n_txd = 512,
		.sw_csum = a.o.sw_csum,
		.pool_conf = { .name = "echo_pool", .n_mbufs = a.o.mbufs },
	};
	if (dp_port_open(&a.port, &pc, err, sizeof(err)) != 0)
		die("%s", err);
	if (dp_fault_port_init(&a.fp, a.port.port_id, 0, &a.o.frx, &a.o.ftx, a.o.seed, a.port.pool,
			       err, sizeof(err)) != 0)
		die("%s", err);

	struct dp_stack_config sc;
	dp_stack_config_defaults(&sc);
	sc.mac = a.port.mac;
	sc.ip = a.o.ip;
	sc.netmask = a.o.mask;
	sc.pool = a.port.pool;
	sc.socket_id = SOCKET_ID_ANY;
	/* The checksums the port offers (none with --sw-csum, net_ring or net_memif). */
	sc.tx_csum = a.port.csum;
	if (a.o.rto_min_us) {
		sc.rto_min_us = a.o.rto_min_us;
		if (sc.rto_initial_us < sc.rto_min_us)
			sc.rto_initial_us = sc.rto_min_us;
	}
	memcpy(sc.arp_static, a.o.arp, sizeof(a.o.arp));
	sc.n_arp_static = a.o.n_arp;
	if (a.o.max_conns)
		sc.max_conns = a.o.max_conns;
	if (a.o.backlog && a.o.backlog > sc.max_backlog)
		sc.max_backlog = a.o.backlog;
	a.st = dp_stack_create(&sc, err, sizeof(err));
	if (a.st == NULL)
		die("stack: %s", err);
	/* The socket calls below use the stack's last known time. */
	dp_stack_poll(a.st, dp_lcore_now_us());

	a.n_conns = a.o.listen_port >= 0 ? sc.max_conns : a.o.conns;
	a.conns = calloc(a.n_conns, sizeof(*a.conns));
	if (a.conns == NULL)
		die("out of memory for %u connections", a.n_conns);
	if (a.o.listen_port >= 0) {
		int rc = 0;
		uint32_t backlog = a.o.backlog ? a.o.backlog : sc.max_backlog;
		a.listener = dp_tcp_listen(a.st, (uint16_t)a.o.listen_port, backlog, &rc);
		if (a.listener == DP_CONN_INVALID)
			die("listen on %d: error %d", a.o.listen_port, rc);
	} else if (a.o.go == NULL) {
		connect_all(&a);
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	dp_lcore_loop_init(&a.loop, &a.o.idle);
	dp_lcore_add(&a.loop, "io", do_io, &a);
	a.loop.slow = (struct dp_agent){ "slow", do_slow, &a };
	a.loop.slow_every = 256;
	if (a.o.ready != NULL) {
		FILE *f = fopen(a.o.ready, "w");
		if (f == NULL)
			die("cannot create %s", a.o.ready);
		fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x\n", a.port.mac.addr_bytes[0],
			a.port.mac.addr_bytes[1], a.port.mac.addr_bytes[2], a.port.mac.addr_bytes[3],
			a.port.mac.addr_bytes[4], a.port.mac.addr_bytes[5]);
		fclose(f);
	}
	dp_lcore_run(&a.loop);

	/* Let the last ACKs and FINs out before the port goes away. */
	for (int i = 0; i < 1000 && dp_stack_tx_pending(a.st) + a.fp.n_tx_pending; i++)
		do_io(&a, dp_lcore_now_us());
	write_stats(&a);
	if (a.o.stats == NULL) {
		uint64_t sc2[DP_CTR_COUNT];
		dp_stack_counters(a.st, sc2);
		for (int i = 0; i < DP_CTR_COUNT; i++)
			if (sc2[i])
				printf("%s %lu\n", dp_stack_counter_names[i], (unsigned long)sc2[i]);
		for (int i = 0; i < E_COUNT; i++)
			printf("%s %lu\n", echo_counter_names[i], (unsigned long)a.c[i]);
	}
	/* Connections still open at exit are what a failed test wants to know about. */
	for (unsigned i = 0; i < a.n_conns; i++) {
		struct dp_tcp_info ti;
		if (!a.conns[i].used || dp_tcp_get_info(a.st, a.conns[i].h, &ti) != 0)
			continue;
		fprintf(stderr,
			"open conn %u: %s sent %lu received %lu | snd_una %u snd_nxt %u snd_wnd %u "
			"rcv_nxt %u rcv_wnd %u cwnd %u ssthresh %u rto %u us unacked %u queued %u "
			"rcv_queued %u ooo %u | rtx %lu rto_exp %lu fast %lu dupacks %lu ooo_in %lu "
			"zw_probes %lu zw_seen %lu\n",
			i, dp_tcp_state_name(ti.state), (unsigned long)a.conns[i].sent,
			(unsigned long)a.conns[i].received, ti.snd_una, ti.snd_nxt, ti.snd_wnd,
			ti.rcv_nxt, ti.rcv_wnd, ti.cwnd, ti.ssthresh, ti.rto_us, ti.unacked_bytes,
			ti.queued_bytes, ti.rcv_queued_bytes, ti.ooo_segs,
			(unsigned long)ti.retransmits, (unsigned long)ti.rto_expiries,
			(unsigned long)ti.fast_retransmits, (unsigned long)ti.dup_acks_in,
			(unsigned long)ti.ooo_segs_in, (unsigned long)ti.zero_window_probes,
			(unsigned long)ti.zero_window_seen);
	}
	int status = a.c[E_MISMATCH] != 0;
	if (a.o.listen_port < 0 && a.c[E_COMPLETED] != a.o.conns)
		status = 1;
	for (unsigned i = 0; i < a.n_conns; i++)
		if (a.conns[i].used)
			conn_release(&a, &a.conns[i]);
	dp_stack_destroy(a.st);
	dp_fault_port_fini(&a.fp);
	dp_port_close(&a.port);
	rte_eal_cleanup();
	return status;
}
