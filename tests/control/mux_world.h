/* The in-process world of the multiplexer tests (test_mux.c, test_mux_admin.c, test_mux_zc.c):
 * users are FIX initiator sessions, the venue a FIX acceptor session with a small exchange (it acks
 * orders and cancels them all when its session ends), all wired to the multiplexer through
 * byte queues; journals are real files in a temporary store, so a restart is a recovery.
 * Included by each test program (static functions: one world per program). */
#ifndef MUX_WORLD_H
#define MUX_WORLD_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" /* each program uses its part */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_mux.h"
#include "ctl_session.h"
#include "ctl_store_mem.h"

#define NUSERS 3
#define QCAP (1 << 20)
#define MAXREC 256
#define MS_NS 1000000LL

struct queue {
	char buf[QCAP];
	size_t len;
};

struct received {
	char type[4];
	char clordid[32];
	char text[128];
	char refseq[24];
	char ordstatus[4];
};

struct peer {
	struct ctl_session *s;
	struct ctl_store_mem *mem;
	struct queue in;          /* bytes waiting to be fed to this peer's session */
	bool connected;
	bool closed_by_mux;
	char close_reason[160];
	struct received rx[MAXREC];
	int n_rx;
	char logout_text[160];
};

static struct world {
	char dir[64];
	char ini[4096];
	struct ctl_config cfg;
	struct ctl_mux *mux;
	struct peer user[NUSERS];   /* conn id = index */
	struct peer venue;
	struct queue to_mux_venue;  /* venue -> mux */
	bool venue_wanted;          /* mux asked to connect */
	bool venue_refuses;         /* the venue answers Logons with Logout */
	bool venue_closing;         /* the venue closed: reported after its last bytes */
	bool venue_busy;            /* the venue connection pushes back */
	int n_refused_conns;
	int64_t now;
	/* the venue's exchange */
	char open_orders[64][32];
	int n_open;
	int venue_orders_seen;
	int exec_id;
	char log[64][256];
	int n_log;
	/* Zero-copy bookkeeping (test_mux_zc.c; unused when the g_zc_* switches are off). */
	struct queue venue_wire;      /* every byte the multiplexer sent the venue (g_wire) */
	struct queue user_wire[NUSERS];
	bool user_hold[NUSERS];       /* a user's bytes are kept in user_held instead of sent */
	struct queue user_held[NUSERS];
	bool hold_to_mux;             /* the venue's bytes are kept in held_to_mux */
	struct queue held_to_mux;
	const char *seg;              /* the segment being handled by ctl_mux_*_segment */
	size_t seg_len;
	const char *seg_body;         /* where its body lies (NULL: not one parsable message) */
	size_t seg_body_len;
	char seg_body_copy[4096];
	int n_inplace_venue, n_inplace_user;
	int n_inplace_body_kept;      /* in-place messages whose body is the segment's, unmoved */
	const char *inplace_msg;      /* the last message sent in place */
	size_t inplace_len;
	bool user_deaf[NUSERS];       /* what the multiplexer sends a user is lost on the way */
} W;

/* Zero-copy switches (test_mux_zc.c), set before world_setup: */
static bool g_zc_io;       /* the multiplexer gets the inplace callbacks */
static bool g_zc_segments; /* bytes reach it through ctl_mux_*_segment, with headroom */
static bool g_wire;        /* W.venue_wire and W.user_wire record what it sends */
/* The users' sessions send NextExpectedMsgSeqNum(789) in their Logon (test_mux_refuse.c): */
static bool g_user_789;
#define ZC_HEADROOM 160

static const char *user_names[NUSERS] = {"alice", "bob", "carol"};

static void q_put(struct queue *q, const char *b, size_t n)
{
	cr_assert(q->len + n <= QCAP);
	memcpy(q->buf + q->len, b, n);
	q->len += n;
}

/* --- mux callbacks --- */
static void mx_client_send(void *arg, uint32_t conn, const char *b, size_t n)
{
	(void)arg;
	if (g_wire)
		q_put(&W.user_wire[conn], b, n);
	if (!W.user_deaf[conn])
		q_put(&W.user[conn].in, b, n);
}

static void mx_client_close(void *arg, uint32_t conn, const char *why)
{
	(void)arg;
	W.n_refused_conns++;
	if (conn >= NUSERS)
		return;
	W.user[conn].closed_by_mux = true;
	snprintf(W.user[conn].close_reason, sizeof(W.user[conn].close_reason), "%s", why);
}

static void mx_venue_connect(void *arg, uint32_t vs, uint32_t addr, uint16_t port)
{
	(void)arg;
	(void)vs;
	(void)addr;
	(void)port;
	W.venue_wanted = true;
}

static void mx_venue_send(void *arg, uint32_t vs, const char *b, size_t n)
{
	(void)arg;
	(void)vs;
	if (g_wire)
		q_put(&W.venue_wire, b, n);
	q_put(&W.venue.in, b, n);
}

/* Checks that an in-place message lies in the segment's buffer (headroom included) and notes
 * whether its body is the segment's body where it was, unchanged. The bytes are copied on
 * (as a TCP send queue would hold the mbuf), so the segment buffer may be reused after. */
static void note_inplace(const char *b, size_t n)
{
	cr_assert_not_null(W.seg, "an in-place send outside ctl_mux_*_segment");
	cr_assert(b >= W.seg - ZC_HEADROOM && b + n <= W.seg + W.seg_len,
		  "in-place bytes outside the segment and its headroom");
	W.inplace_msg = b;
	W.inplace_len = n;
	struct fix_field f[64];
	struct fix_msg m = {.fields = f, .cap = 64};
	cr_assert_eq(fix_parse(&m, b, n), FIX_OK, "an in-place message that does not parse");
	if (W.seg_body && b + m.hdr.body_off == W.seg_body &&
	    m.hdr.trailer_off - m.hdr.body_off == W.seg_body_len &&
	    !memcmp(W.seg_body, W.seg_body_copy, W.seg_body_len))
		W.n_inplace_body_kept++;
}

static void mx_venue_send_inplace(void *arg, uint32_t vs, const char *b, size_t n)
{
	note_inplace(b, n);
	W.n_inplace_venue++;
	mx_venue_send(arg, vs, b, n);
}

static void mx_client_send_inplace(void *arg, uint32_t conn, const char *b, size_t n)
{
	note_inplace(b, n);
	W.n_inplace_user++;
	mx_client_send(arg, conn, b, n);
}

/* Hands bytes to the multiplexer as one receive segment: copied behind ZC_HEADROOM bytes of
 * headroom, as a NIC writes a packet into an mbuf. */
static void seg_to_mux(bool venue, uint32_t id, const char *b, size_t n)
{
	static char seg[ZC_HEADROOM + QCAP];
	cr_assert_null(W.seg, "segments do not nest");
	char *buf = seg + ZC_HEADROOM;
	memset(seg, '#', ZC_HEADROOM);
	memcpy(buf, b, n);
	W.seg = buf;
	W.seg_len = n;
	W.seg_body = NULL;
	struct fix_field f[64];
	struct fix_msg m = {.fields = f, .cap = 64};
	if (fix_parse(&m, buf, n) == FIX_OK && m.len == n &&
	    m.hdr.trailer_off - m.hdr.body_off <= sizeof(W.seg_body_copy)) {
		W.seg_body = buf + m.hdr.body_off;
		W.seg_body_len = m.hdr.trailer_off - m.hdr.body_off;
		memcpy(W.seg_body_copy, W.seg_body, W.seg_body_len);
	}
	if (venue)
		ctl_mux_venue_segment(W.mux, id, buf, n, ZC_HEADROOM, W.now);
	else
		ctl_mux_client_segment(W.mux, id, buf, n, ZC_HEADROOM, W.now);
	W.seg = NULL;
}

static void mx_venue_close(void *arg, uint32_t vs, const char *why)
{
	(void)arg;
	(void)vs;
	(void)why;
	if (W.venue.connected) {
		W.venue.connected = false;
		ctl_session_disconnected(W.venue.s, W.now);
	}
}

static bool mx_venue_busy(void *arg, uint32_t vs)
{
	(void)arg;
	(void)vs;
	return W.venue_busy;
}

static void mx_log(void *arg, const char *line)
{
	(void)arg;
	if (W.n_log < 64)
		snprintf(W.log[W.n_log++], sizeof(W.log[0]), "%s", line);
}

/* --- user sessions --- */
static void user_send(void *arg, const char *b, size_t n)
{
	int i = (int)(intptr_t)arg;
	if (!W.user[i].connected)
		return;
	if (W.user_hold[i])
		q_put(&W.user_held[i], b, n);
	else if (g_zc_segments)
		seg_to_mux(false, (uint32_t)i, b, n);
	else
		ctl_mux_client_bytes(W.mux, (uint32_t)i, b, n, W.now);
}

static void copy_field(const struct fix_msg *m, uint32_t tag, char *out, size_t cap)
{
	const struct fix_field *f = fix_find(m, tag, 0);
	snprintf(out, cap, "%.*s", f ? (int)f->len : 0, f ? f->val : "");
}

static void user_deliver(void *arg, const struct fix_msg *m)
{
	struct peer *p = &W.user[(intptr_t)arg];
	cr_assert(p->n_rx < MAXREC);
	struct received *r = &p->rx[p->n_rx++];
	snprintf(r->type, sizeof(r->type), "%s", m->hdr.msg_type);
	copy_field(m, 11, r->clordid, sizeof(r->clordid));
	copy_field(m, 58, r->text, sizeof(r->text));
	copy_field(m, 45, r->refseq, sizeof(r->refseq));
	copy_field(m, 39, r->ordstatus, sizeof(r->ordstatus));
}

static void user_disconnect(void *arg, const char *why)
{
	int i = (int)(intptr_t)arg;
	(void)why;
	if (W.user[i].connected) {
		W.user[i].connected = false;
		ctl_mux_client_closed(W.mux, (uint32_t)i, W.now);
	}
}

static void user_event(void *arg, enum ctl_event ev, const char *text)
{
	struct peer *p = &W.user[(intptr_t)arg];
	if ((ev == CTL_EV_LOGGED_OUT || ev == CTL_EV_LOGON_REFUSED) && text)
		snprintf(p->logout_text, sizeof(p->logout_text), "%s", text);
}

/* --- the venue --- */
static void venue_send(void *arg, const char *b, size_t n)
{
	(void)arg;
	if (W.venue.connected)
		q_put(&W.to_mux_venue, b, n);
}

static void venue_exec(const char *clordid, const char *status, const char *exec_type)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "37=O-%s\00111=%s\00117=E%d\001150=%s\00139=%s\00155=EUR/USD\00154=1\001"
			 "151=0\00114=0\0016=0\001",
			 clordid, clordid, ++W.exec_id, exec_type, status);
	ctl_session_send_app(W.venue.s, W.now, "8", NULL, 0, body, (size_t)n);
}

static void venue_deliver(void *arg, const struct fix_msg *m)
{
	(void)arg;
	if (!strcmp(m->hdr.msg_type, "D")) {
		char id[32];
		copy_field(m, 11, id, sizeof(id));
		W.venue_orders_seen++;
		snprintf(W.open_orders[W.n_open++], 32, "%s", id);
		venue_exec(id, "0", "0");
	}
}

static void venue_disconnect(void *arg, const char *why)
{
	(void)arg;
	(void)why;
	if (W.venue.connected) {
		W.venue.connected = false;
		W.venue_closing = true;
	}
}

static int venue_auth(void *arg, const struct fix_msg *logon, const char *u, size_t ul,
		      const char *p, size_t pl, char *text, size_t cap)
{
	(void)arg, (void)logon, (void)u, (void)ul, (void)p, (void)pl;
	if (W.venue_refuses) {
		snprintf(text, cap, "venue maintenance");
		return 1;
	}
	return 0;
}

/* The venue cancels every open order when the session ends, as FX venues do: before it
 * answers a Logout. */
static void venue_feed(const char *b, size_t n)
{
	if (memmem(b, n < 32 ? n : 32, "\00135=5\001", 6) && ctl_session_logged_on(W.venue.s)) {
		for (int i = 0; i < W.n_open; i++)
			venue_exec(W.open_orders[i], "4", "4");
		W.n_open = 0;
	}
	ctl_session_on_bytes(W.venue.s, W.now, b, n);
}

/* Delivers queued bytes until nothing moves; frames each queue so peers get whole messages. */
static void feed_frames(struct queue *q, void (*fn)(void *, const char *, size_t), void *arg)
{
	struct fix_framer fr;
	fix_framer_init(&fr, 1 << 16);
	size_t off = 0;
	static char copy[QCAP];
	size_t len = q->len;
	memcpy(copy, q->buf, len);
	q->len = 0;
	while (off < len) {
		long r = fix_frame(&fr, copy + off, len - off, NULL);
		cr_assert(r > 0, "garbled bytes between peers");
		fn(arg, copy + off, (size_t)r);
		off += (size_t)r;
	}
}

static void to_user(void *arg, const char *b, size_t n)
{
	int i = (int)(intptr_t)arg;
	if (W.user[i].connected)
		ctl_session_on_bytes(W.user[i].s, W.now, b, n);
}

static void to_venue(void *arg, const char *b, size_t n)
{
	(void)arg;
	if (W.venue.connected)
		venue_feed(b, n);
}

static void to_mux(void *arg, const char *b, size_t n)
{
	(void)arg;
	if (W.hold_to_mux)
		q_put(&W.held_to_mux, b, n);
	else if (g_zc_segments)
		seg_to_mux(true, 0, b, n);
	else
		ctl_mux_venue_bytes(W.mux, 0, b, n, W.now);
}

static void pump(void)
{
	for (int round = 0; round < 1000; round++) {
		bool moved = false;
		if (W.venue_wanted) {
			W.venue_wanted = false;
			W.venue.connected = true;
			ctl_session_connect(W.venue.s, W.now);
			ctl_mux_venue_connected(W.mux, 0, W.now);
			moved = true;
		}
		if (W.venue.in.len) {
			feed_frames(&W.venue.in, to_venue, NULL);
			moved = true;
		}
		if (W.to_mux_venue.len) {
			feed_frames(&W.to_mux_venue, to_mux, NULL);
			moved = true;
		}
		/* TCP order: the close arrives after the bytes sent before it. */
		if (W.venue_closing) {
			W.venue_closing = false;
			ctl_mux_venue_closed(W.mux, 0, "venue closed the connection", W.now);
			moved = true;
		}
		for (int i = 0; i < NUSERS; i++) {
			if (W.user[i].in.len) {
				feed_frames(&W.user[i].in, to_user, (void *)(intptr_t)i);
				moved = true;
			}
			if (W.user[i].closed_by_mux && W.user[i].connected) {
				W.user[i].connected = false;
				ctl_session_disconnected(W.user[i].s, W.now);
				moved = true;
			}
		}
		ctl_mux_poll(W.mux, W.now);
		if (!moved)
			return;
	}
	cr_assert_fail("the world never went quiet");
}

static void advance(int64_t ms)
{
	for (int64_t t = 0; t < ms; t += 100) {
		W.now += 100 * 1000000LL;
		ctl_session_poll(W.venue.s, W.now);
		for (int i = 0; i < NUSERS; i++)
			ctl_session_poll(W.user[i].s, W.now);
		pump();
	}
}

static struct ctl_session *make_session(enum ctl_role role, const char *us, const char *them,
					const struct ctl_session_io *io, struct ctl_store_mem **mem)
{
	struct ctl_session_cfg c;
	ctl_session_cfg_init(&c);
	c.role = role;
	c.sender_comp_id = us;
	c.target_comp_id = them;
	c.heartbeat_s = 30;
	if (role == CTL_ROLE_INITIATOR) {
		c.username = us;
		c.password = !strcmp(us, "carol") ? "wrong" : "pw";
		c.next_expected_seq = g_user_789;
	} else {
		c.auth = venue_auth;
	}
	*mem = ctl_store_mem_create();
	char err[128];
	struct ctl_session *s = ctl_session_create(&c, io, ctl_store_mem_store(*mem), err,
						   sizeof(err));
	cr_assert_not_null(s, "%s", err);
	return s;
}

static void mux_start(void)
{
	struct ctl_mux_io io = {.client_send = mx_client_send, .client_close = mx_client_close,
				.venue_connect = mx_venue_connect, .venue_send = mx_venue_send,
				.venue_close = mx_venue_close, .log = mx_log,
				.venue_busy = mx_venue_busy};
	if (g_zc_io) {
		io.client_send_inplace = mx_client_send_inplace;
		io.venue_send_inplace = mx_venue_send_inplace;
	}
	char err[256];
	W.mux = ctl_mux_create(&W.cfg, &io, W.now, err, sizeof(err));
	cr_assert_not_null(W.mux, "%s", err);
}

/* Extra keys for the session's and alice's sections (the protection tests set them). */
static const char *g_session_extra = "";
static const char *g_alice_extra = "";
static const char *g_app_extra = "";

static void world_setup(void)
{
	memset(&W, 0, sizeof(W));
	W.now = 1800000000LL * 1000000000LL;
	snprintf(W.dir, sizeof(W.dir), "/tmp/fixmux-mux-XXXXXX");
	cr_assert_not_null(mkdtemp(W.dir));
	char hash[CTL_TEXT_MAX];
	cr_assert_eq(ctl_password_hash("pw", hash, sizeof(hash)), 0);
	snprintf(W.ini, sizeof(W.ini),
		 "[appliance]\nlisten_port = 9878\nstore_dir = %s\nfsync = none\n%s"
		 "[venue LMAX]\ntype = CLOB\n"
		 "[session LMAX.Orders]\naddress = 198.18.1.1:9880\nsender_comp_id = FIXMUX\n"
		 "target_comp_id = LMAX\n%s"
		 "[user alice]\npassword_hash = %s\nsessions = LMAX.Orders\n%s"
		 "[user bob]\npassword_hash = %s\nsessions = LMAX.Orders\n"
		 "[user carol]\npassword_hash = %s\nsessions = LMAX.Orders\n",
		 W.dir, g_app_extra, g_session_extra, hash, g_alice_extra, hash, hash);
	char err[256];
	cr_assert_eq(ctl_config_load_string(&W.cfg, W.ini, "mux.ini", err, sizeof(err)), 0, "%s",
		     err);
	static const struct ctl_session_io vio = {NULL, venue_send, venue_deliver,
						  venue_disconnect, NULL};
	W.venue.s = make_session(CTL_ROLE_ACCEPTOR, "LMAX", "FIXMUX", &vio, &W.venue.mem);
	for (int i = 0; i < NUSERS; i++) {
		struct ctl_session_io uio = {(void *)(intptr_t)i, user_send, user_deliver,
					     user_disconnect, user_event};
		W.user[i].s = make_session(CTL_ROLE_INITIATOR, user_names[i], "LMAX.Orders", &uio,
					   &W.user[i].mem);
	}
	mux_start();
}

static void world_teardown(void)
{
	ctl_mux_destroy(W.mux);
	ctl_session_destroy(W.venue.s);
	ctl_store_mem_destroy(W.venue.mem);
	for (int i = 0; i < NUSERS; i++) {
		ctl_session_destroy(W.user[i].s);
		ctl_store_mem_destroy(W.user[i].mem);
	}
	ctl_config_free(&W.cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", W.dir);
	cr_assert_eq(system(cmd), 0);
}

static void user_connect(int i)
{
	W.user[i].connected = true;
	W.user[i].closed_by_mux = false;
	ctl_mux_client_accepted(W.mux, (uint32_t)i, (198u << 24) | (18u << 16) | 10u, W.now);
	ctl_session_connect(W.user[i].s, W.now);
}

static void user_order(int i, const char *clordid)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "11=%s\00121=1\00138=1000\00140=1\00154=1\00155=EUR/USD\00160=%s\001",
			 clordid, "20270115-08:00:00");
	cr_assert_neq(ctl_session_send_app(W.user[i].s, W.now, "D", NULL, 0, body, (size_t)n), 0);
}

static int count_rx(int i, const char *type, const char *clordid)
{
	int n = 0;
	for (int k = 0; k < W.user[i].n_rx; k++)
		if (!strcmp(W.user[i].rx[k].type, type) &&
		    (!clordid || !strcmp(W.user[i].rx[k].clordid, clordid)))
			n++;
	return n;
}

#pragma GCC diagnostic pop
#endif
