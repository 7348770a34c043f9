/* fixmux-bench-mux: the multiplexer's cost per forwarded message, in process, copy path
 * against in-place forwarding (docs/benchmarks.md, "## Multiplexer forwarding").
 *
 * One venue session, one user, both logged on (the venue is a real ctl_session acceptor).
 * Then N NewOrderSingles from the user, each handed over as its own receive segment (128
 * bytes of headroom, as an mbuf has), and N ExecutionReports from the venue for those orders:
 *   copy     ctl_mux_client_bytes / ctl_mux_venue_bytes (reassembly buffer, re-encoding)
 *   inplace  ctl_mux_client_segment / ctl_mux_venue_segment with the inplace callbacks
 * Both multiplexers live side by side and take turns, BLOCK messages at a time (whichever
 * went first goes second next time), so load from other tenants of the machine falls on both
 * alike. Every call is timed on its own (fenced TSC, ~20 ns of it is the timing), so median
 * and p99 are of single messages; the owner's ctl_mux_poll runs every 16 messages, untimed. What is timed is everything the
 * multiplexer does for a message: framing, parsing and validating in the receiving session,
 * journaling its sequence number, routing, ID ownership and routing journal records, the
 * forward (journaled in the sending session's store) and the hand-over to the callback, which
 * only hashes the bytes. Journals go to --dir (default /dev/shm: the CPU cost, not the disk's).
 * Self-checks: every message forwarded, by the path the mode says, and the bytes sent in
 * both modes hash the same (the clock is fixed, so they must be identical).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "ctl_mux.h"
#include "ctl_session.h"
#include "ctl_store_mem.h"

#define HEADROOM 128   /* RTE_PKTMBUF_HEADROOM */
#define SLOT 384       /* headroom + one message */
#define POLL_EVERY 16
#define BLOCK 500      /* messages per mode before switching to the other */
#define SETUP_CAP (1 << 16)

struct pipe {
	char b[SETUP_CAP];
	size_t n;
};

/* One multiplexer with its venue, logged on: one per mode, both alive at once so that the
 * two modes are measured in alternating blocks and share whatever the machine does. */
struct world {
	bool inplace;
	int64_t now;
	struct ctl_config cfg;
	struct ctl_mux *mux;
	struct ctl_session *venue;
	struct ctl_store_mem *vmem;
	bool venue_wanted;
	bool measuring;
	struct pipe to_venue, to_mux, to_user;
	uint64_t hash;                 /* FNV-1a of everything forwarded while measuring */
	uint64_t sent;
	char *orders, *execs;          /* count slots each: HEADROOM, then the message */
	uint32_t *order_len, *exec_len;
	uint64_t *t_order, *t_exec;    /* ticks per call */
};

static void put(struct pipe *p, const char *b, size_t n)
{
	if (p->n + n > sizeof(p->b))
		bench_fail("set-up traffic larger than expected");
	memcpy(p->b + p->n, b, n);
	p->n += n;
}

static void sink(struct world *w, const char *b, size_t n)
{
	uint64_t h = w->hash ? w->hash : 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)b[i]) * 1099511628211ull;
	w->hash = h;
	w->sent++;
}

static void mx_client_send(void *arg, uint32_t conn, const char *b, size_t n)
{
	struct world *w = arg;
	(void)conn;
	if (w->measuring)
		sink(w, b, n);
	else
		put(&w->to_user, b, n);
}

static void mx_client_close(void *arg, uint32_t conn, const char *why)
{
	(void)arg;
	bench_fail("the multiplexer closed connection %u: %s", conn, why);
}

static void mx_venue_connect(void *arg, uint32_t vs, uint32_t addr, uint16_t port)
{
	struct world *w = arg;
	(void)vs, (void)addr, (void)port;
	w->venue_wanted = true;
}

static void mx_venue_send(void *arg, uint32_t vs, const char *b, size_t n)
{
	struct world *w = arg;
	(void)vs;
	if (w->measuring)
		sink(w, b, n);
	else
		put(&w->to_venue, b, n);
}

static void mx_venue_close(void *arg, uint32_t vs, const char *why)
{
	(void)arg, (void)vs;
	bench_fail("the multiplexer closed the venue connection: %s", why);
}

static void mx_client_inplace(void *arg, uint32_t conn, const char *b, size_t n)
{
	(void)conn;
	sink(arg, b, n);
}

static void mx_venue_inplace(void *arg, uint32_t vs, const char *b, size_t n)
{
	(void)vs;
	sink(arg, b, n);
}

static void v_send(void *arg, const char *b, size_t n)
{
	struct world *w = arg;
	put(&w->to_mux, b, n);
}

static void v_deliver(void *arg, const struct fix_msg *m)
{
	(void)arg, (void)m;
}

static void v_disconnect(void *arg, const char *why)
{
	(void)arg;
	bench_fail("the venue session disconnected: %s", why);
}

/* Frames p's bytes and hands each message to the venue session, the multiplexer, or nobody. */
enum dest { TO_VENUE, TO_MUX, NOWHERE };

static void drain(struct world *w, struct pipe *p, enum dest d)
{
	static char copy[SETUP_CAP];
	size_t len = p->n, off = 0;
	memcpy(copy, p->b, len);
	p->n = 0;
	struct fix_framer fr;
	fix_framer_init(&fr, 1 << 16);
	while (off < len) {
		long r = fix_frame(&fr, copy + off, len - off, NULL);
		if (r <= 0)
			bench_fail("garbled set-up traffic");
		if (d == TO_VENUE)
			ctl_session_on_bytes(w->venue, w->now, copy + off, (size_t)r);
		else if (d == TO_MUX)
			ctl_mux_venue_bytes(w->mux, 0, copy + off, (size_t)r, w->now);
		off += (size_t)r;
	}
}

static uint32_t encode(char *out, size_t cap, int64_t now, const char *type, uint64_t seq,
		       const char *from, const char *to, const char *body, size_t body_len)
{
	char tmp[SLOT];
	struct fix_encoder e;
	fix_enc_begin(&e, tmp, sizeof(tmp), FIX_VER_44, type, NULL);
	fix_enc_uint(&e, 34, seq);
	fix_enc_cstr(&e, 49, from);
	fix_enc_time(&e, 52, now, FIX_TIME_MS);
	fix_enc_cstr(&e, 56, to);
	fix_enc_raw(&e, body, body_len);
	char *msg;
	size_t n = fix_enc_finish(&e, &msg);
	if (n == 0 || n > cap)
		bench_fail("message does not fit its slot");
	memcpy(out, msg, n);
	return (uint32_t)n;
}

/* The user and the venue session logged on, through the multiplexer. */
static void world_up(struct world *w, const char *dir, bool inplace)
{
	w->inplace = inplace;
	w->now = 1800000000LL * 1000000000LL;
	char ini[1024], err[256];
	snprintf(ini, sizeof(ini),
		 "[appliance]\nlisten_port = 9878\nstore_dir = %s\nfsync = none\n"
		 "[venue LMAX]\ntype = CLOB\n"
		 "[session LMAX.Orders]\naddress = 198.18.1.1:9880\nsender_comp_id = FIXMUX\n"
		 "target_comp_id = LMAX\n"
		 "[user alice]\npassword_hash = none\nallowed_addresses = 198.18.0.10\n"
		 "sessions = LMAX.Orders\n",
		 dir);
	if (ctl_config_load_string(&w->cfg, ini, "bench.ini", err, sizeof(err)) != 0)
		bench_fail("configuration: %s", err);
	struct ctl_session_cfg c;
	ctl_session_cfg_init(&c);
	c.role = CTL_ROLE_ACCEPTOR;
	c.sender_comp_id = "LMAX";
	c.target_comp_id = "FIXMUX";
	w->vmem = ctl_store_mem_create();
	struct ctl_session_io vio = {w, v_send, v_deliver, v_disconnect, NULL};
	w->venue = ctl_session_create(&c, &vio, ctl_store_mem_store(w->vmem), err, sizeof(err));
	if (!w->venue)
		bench_fail("venue session: %s", err);
	struct ctl_mux_io io = {.arg = w, .client_send = mx_client_send,
				.client_close = mx_client_close,
				.venue_connect = mx_venue_connect, .venue_send = mx_venue_send,
				.venue_close = mx_venue_close};
	if (inplace) {
		io.client_send_inplace = mx_client_inplace;
		io.venue_send_inplace = mx_venue_inplace;
	}
	w->mux = ctl_mux_create(&w->cfg, &io, w->now, err, sizeof(err));
	if (!w->mux)
		bench_fail("ctl_mux_create: %s", err);
	/* Snapshots of the routing table are a cost of their own, not per message. */
	ctl_mux_set_route_compaction(w->mux, UINT64_MAX / 2);
	ctl_mux_client_accepted(w->mux, 0, (198u << 24) | (18u << 16) | 10u, w->now);
	char logon[SLOT];
	static const char lb[] = "98=0\001108=30\001";
	uint32_t n = encode(logon, sizeof(logon), w->now, "A", 1, "alice", "LMAX.Orders", lb,
			    sizeof(lb) - 1);
	ctl_mux_client_bytes(w->mux, 0, logon, n, w->now);
	for (int round = 0; round < 100; round++) {
		if (w->venue_wanted) {
			w->venue_wanted = false;
			ctl_session_connect(w->venue, w->now);
			ctl_mux_venue_connected(w->mux, 0, w->now);
		}
		drain(w, &w->to_venue, TO_VENUE);
		drain(w, &w->to_mux, TO_MUX);
		drain(w, &w->to_user, NOWHERE);
		ctl_mux_poll(w->mux, w->now);
	}
	if (!ctl_mux_user_online(w->mux, 0, 0) || ctl_mux_venue_state(w->mux, 0) != CTL_VS_UP)
		bench_fail("the user did not get logged on");
}

static void world_down(struct world *w)
{
	ctl_mux_destroy(w->mux);
	ctl_session_destroy(w->venue);
	ctl_store_mem_destroy(w->vmem);
	ctl_config_free(&w->cfg);
	free(w->orders);
	free(w->execs);
	free(w->order_len);
	free(w->exec_len);
	free(w->t_order);
	free(w->t_exec);
}

/* Orders from alice (seq 2..) and the venue's acks (from its next number); each world has
 * its own copy, since the in-place path writes into them. */
static void make_messages(struct world *w, uint32_t n)
{
	w->orders = malloc((size_t)n * SLOT);
	w->execs = malloc((size_t)n * SLOT);
	w->order_len = malloc(sizeof(uint32_t) * n);
	w->exec_len = malloc(sizeof(uint32_t) * n);
	w->t_order = malloc(sizeof(uint64_t) * n);
	w->t_exec = malloc(sizeof(uint64_t) * n);
	if (!w->orders || !w->execs || !w->order_len || !w->exec_len || !w->t_order || !w->t_exec)
		bench_fail("out of memory");
	uint64_t venue_seq = ctl_session_next_out(w->venue);
	for (uint32_t i = 0; i < n; i++) {
		char body[256];
		int bl = snprintf(body, sizeof(body),
				  "11=ORD%08u\00121=1\00138=1000\00140=2\00144=1.08%03u\00154=1\001"
				  "55=EUR/USD\00160=20270115-08:00:00.000\001",
				  i, i % 1000);
		w->order_len[i] = encode(w->orders + (size_t)i * SLOT + HEADROOM, SLOT - HEADROOM,
					 w->now, "D", 2 + i, "alice", "LMAX.Orders", body,
					 (size_t)bl);
		bl = snprintf(body, sizeof(body),
			      "37=V%08u\00111=ORD%08u\00117=E%08u\001150=0\00139=0\00155=EUR/USD\001"
			      "54=1\001151=1000\00114=0\0016=0\001",
			      i, i, i);
		w->exec_len[i] = encode(w->execs + (size_t)i * SLOT + HEADROOM, SLOT - HEADROOM,
					w->now, "8", venue_seq + i, "LMAX", "FIXMUX", body,
					(size_t)bl);
	}
}

/* Messages [from, to) of one kind through one world, each call timed. */
static void feed(struct world *w, bool exec, uint32_t from, uint32_t to)
{
	char *base = exec ? w->execs : w->orders;
	uint32_t *len = exec ? w->exec_len : w->order_len;
	uint64_t *t = exec ? w->t_exec : w->t_order;
	w->measuring = true;
	for (uint32_t i = from; i < to; i++) {
		char *m = base + (size_t)i * SLOT + HEADROOM;
		uint64_t t0 = bench_ticks();
		if (w->inplace && exec)
			ctl_mux_venue_segment(w->mux, 0, m, len[i], HEADROOM, w->now);
		else if (w->inplace)
			ctl_mux_client_segment(w->mux, 0, m, len[i], HEADROOM, w->now);
		else if (exec)
			ctl_mux_venue_bytes(w->mux, 0, m, len[i], w->now);
		else
			ctl_mux_client_bytes(w->mux, 0, m, len[i], w->now);
		t[i] = bench_ticks() - t0;
		if (i % POLL_EVERY == POLL_EVERY - 1)
			ctl_mux_poll(w->mux, w->now);
	}
	w->measuring = false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* msgs/s here is 1 / mean (the worlds alternate, so there is no wall time of one alone). */
static void stats_of(uint64_t *t, uint32_t n, struct bench_stats *st)
{
	double tpn = bench_ticks_per_ns();
	uint64_t sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof(*t), cmp_u64);
	st->min_ns = (double)t[0] / tpn;
	st->median_ns = (double)t[n / 2] / tpn;
	st->p99_ns = (double)t[(uint64_t)n * 99 / 100] / tpn;
	st->mean_ns = (double)sum / n / tpn;
	st->msgs_per_s = 1e9 / st->mean_ns;
	st->samples = n;
	st->batch = 1;
}

static void check(struct world *w, uint32_t n)
{
	uint64_t to_venue = ctl_mux_counter(w->mux, CTL_MUX_FORWARDED_TO_VENUE);
	uint64_t to_user = ctl_mux_counter(w->mux, CTL_MUX_FORWARDED_TO_USER);
	uint64_t in_place = ctl_mux_counter(w->mux, CTL_MUX_FORWARDED_INPLACE);
	const char *mode = w->inplace ? "inplace" : "copy";
	if (to_venue != n || to_user != n)
		bench_fail("%s: forwarded %llu orders and %llu executions of %u", mode,
			   (unsigned long long)to_venue, (unsigned long long)to_user, n);
	if (in_place != (w->inplace ? 2ull * n : 0) || w->sent != 2ull * n)
		bench_fail("%s: %llu forwarded in place, %llu sent", mode,
			   (unsigned long long)in_place, (unsigned long long)w->sent);
}


int main(int argc, char **argv)
{
	const char *dir = NULL;
	uint32_t count = 50000;
	argc = bench_take_dir_count(argc, argv, &dir, &count);
	struct bench_opts o;
	bench_parse_opts(argc, argv, &o,
			 "  --dir DIR      where the journals go (default /dev/shm, else /tmp)\n"
			 "  --count N      orders (and executions) per mode (default 50000)\n");
	if (o.callgrind)
		count = o.iterations ? o.iterations : 1000;
	if (count < 100)
		count = 100;
	char tmpl[512];
	snprintf(tmpl, sizeof(tmpl), "%s/fixmux-bench-mux-XXXXXX",
		 dir ? dir : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(tmpl))
		bench_fail("cannot create a directory from %s: %s", tmpl, strerror(errno));
	bench_calibrate();
	bench_print_meta(&o, "mux");
	if (!o.json)
		printf("journals in %s; %u orders then %u executions per mode, each call timed, "
		       "the modes alternating every %u messages\n",
		       tmpl, count, count, BLOCK);
	static struct world w[2]; /* copy, inplace */
	char sub[600];
	for (int k = 0; k < 2; k++) {
		snprintf(sub, sizeof(sub), "%s/%s", tmpl, k ? "inplace" : "copy");
		world_up(&w[k], sub, k == 1);
		make_messages(&w[k], count);
	}
	for (int exec = 0; exec < 2; exec++) {
		for (uint32_t b = 0, blk = 0; b < count; b += BLOCK, blk++) {
			uint32_t e = b + BLOCK < count ? b + BLOCK : count;
			/* Whichever goes first in a block goes second in the next. */
			feed(&w[blk & 1], exec, b, e);
			feed(&w[!(blk & 1)], exec, b, e);
		}
	}
	check(&w[0], count);
	check(&w[1], count);
	if (w[0].hash != w[1].hash)
		bench_fail("the in-place path sent other bytes than the copy path");
	struct bench_stats st[2][2];
	for (int k = 0; k < 2; k++) {
		stats_of(w[k].t_order, count, &st[k][0]);
		stats_of(w[k].t_exec, count, &st[k][1]);
	}
	bench_print_table_header(&o, "multiplexer, per forwarded message");
	bench_print_row(&o, "mux", "order-to-venue", "copy", "D", &st[0][0], NULL, 0);
	bench_print_row(&o, "mux", "order-to-venue", "inplace", "D", &st[1][0],
			"copy/inplace (median)", st[0][0].median_ns / st[1][0].median_ns);
	bench_print_row(&o, "mux", "exec-to-user", "copy", "8", &st[0][1], NULL, 0);
	bench_print_row(&o, "mux", "exec-to-user", "inplace", "8", &st[1][1],
			"copy/inplace (median)", st[0][1].median_ns / st[1][1].median_ns);
	world_down(&w[0]);
	world_down(&w[1]);
	bench_rm_tree(tmpl);
	return 0;
}
