/* User-defined fields (tags 5000 and up) through the multiplexer: an ExecutionReport the venue
 * writes with its own tags reaches its owner with them intact, body byte for byte, on the copy
 * path and in place ([session] allow_user_defined_fields, default yes); with the key off, the
 * venue gets a session Reject naming the tag and the user nothing. Users' messages are checked
 * strictly unless their [user] section says allow_user_defined_fields = yes.
 *
 * The world's peers (mux_world.h) validate what they receive like any FIX engine; here they are
 * recreated to accept user-defined fields too, so that what is checked is the multiplexer.
 */
#define _GNU_SOURCE
#include "mux_world.h"

/* The world's make_session, with user-defined fields allowed on the peer's side. */
static struct ctl_session *make_peer(enum ctl_role role, const char *us, const char *them,
				     const struct ctl_session_io *io, struct ctl_store_mem **mem)
{
	struct ctl_session_cfg c;
	ctl_session_cfg_init(&c);
	c.role = role;
	c.sender_comp_id = us;
	c.target_comp_id = them;
	c.heartbeat_s = 30;
	c.allow_user_defined = true;
	if (role == CTL_ROLE_INITIATOR) {
		c.username = us;
		c.password = "pw";
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

static void peers_allow_user_defined(void)
{
	static const struct ctl_session_io vio = {NULL, venue_send, venue_deliver,
						  venue_disconnect, NULL};
	ctl_session_destroy(W.venue.s);
	ctl_store_mem_destroy(W.venue.mem);
	W.venue.s = make_peer(CTL_ROLE_ACCEPTOR, "LMAX", "FIXMUX", &vio, &W.venue.mem);
	for (int i = 0; i < 2; i++) {
		struct ctl_session_io uio = {(void *)(intptr_t)i, user_send, user_deliver,
					     user_disconnect, user_event};
		ctl_session_destroy(W.user[i].s);
		ctl_store_mem_destroy(W.user[i].mem);
		W.user[i].s = make_peer(CTL_ROLE_INITIATOR, user_names[i], "LMAX.Orders", &uio,
					&W.user[i].mem);
	}
}

static void setup_with(bool zc, const char *session_extra, const char *alice_extra)
{
	g_zc_io = g_zc_segments = zc;
	g_wire = true;
	g_session_extra = session_extra;
	g_alice_extra = alice_extra;
	world_setup();
	peers_allow_user_defined();
	user_connect(0);
	user_connect(1);
	pump();
	cr_assert(ctl_session_logged_on(W.user[0].s) && ctl_session_logged_on(W.user[1].s));
}

static void setup_copy(void)
{
	setup_with(false, "", "");
}

static void setup_zc(void)
{
	setup_with(true, "", "");
}

static void setup_venue_strict(void)
{
	setup_with(false, "allow_user_defined_fields = no\n", "");
}

static void setup_alice_allowed(void)
{
	setup_with(false, "", "allow_user_defined_fields = yes\n");
}

static void teardown(void)
{
	world_teardown();
	g_zc_io = g_zc_segments = g_wire = false;
	g_session_extra = g_alice_extra = "";
}

/* --- reading the wire --- */

struct wire_msg {
	struct fix_field f[64];
	struct fix_msg m;
};

/* The k-th message of type type in q (k from 0), or false. */
static bool find_msg(const struct queue *q, const char *type, int k, struct wire_msg *out)
{
	struct fix_framer fr;
	fix_framer_init(&fr, 1 << 16);
	size_t off = 0;
	while (off < q->len) {
		long r = fix_frame(&fr, q->buf + off, q->len - off, NULL);
		cr_assert(r > 0, "garbled bytes on the wire");
		out->m = (struct fix_msg){.fields = out->f, .cap = 64};
		cr_assert_eq(fix_parse(&out->m, q->buf + off, (size_t)r), FIX_OK);
		if (!strcmp(out->m.hdr.msg_type, type) && k-- == 0)
			return true;
		off += (size_t)r;
	}
	return false;
}

static int count_msgs(const struct queue *q, const char *type)
{
	struct wire_msg w;
	int n = 0;
	while (find_msg(q, type, n, &w))
		n++;
	return n;
}

static bool field_is(const struct wire_msg *w, uint32_t tag, const char *v)
{
	const struct fix_field *f = fix_find(&w->m, tag, 0);
	return f && f->len == strlen(v) && !memcmp(f->val, v, f->len);
}

static bool body_is(const struct wire_msg *w, const char *body, size_t len)
{
	size_t n = w->m.hdr.trailer_off - w->m.hdr.body_off;
	return n == len && !memcmp(w->m.buf + w->m.hdr.body_off, body, len);
}

static uint64_t ctr(enum ctl_mux_counter c)
{
	return ctl_mux_counter(W.mux, c);
}

/* The venue's ExecutionReport for ClOrdID id, with its own fields in the middle and at the
 * end: venue tags above 10000 as well as FIX's user-defined range. */
static size_t venue_er_with_udf(const char *id, char *body, size_t cap)
{
	int n = snprintf(body, cap,
			 "37=O-%s\00111=%s\0015799=LDN-3\00117=EX-%s\001150=F\00139=2\00155=EUR/USD\001"
			 "54=1\001151=0\00114=1000\0016=1.0852\00131=1.0852\00132=1000\001"
			 "9001=maker 7\00110042=x\001",
			 id, id, id);
	cr_assert(n > 0 && (size_t)n < cap);
	cr_assert_neq(ctl_session_send_app(W.venue.s, W.now, "8", NULL, 0, body, (size_t)n), 0);
	return (size_t)n;
}

/* alice orders A-1 (acked), then the venue fills it with its own tags: alice's wire carries
 * the fill with the venue's body unchanged, bob's nothing, the venue no Reject. */
static void fill_reaches_alice_intact(void)
{
	user_order(0, "A-1");
	pump();
	cr_assert_eq(count_rx(0, "8", "A-1"), 1, "the ack");
	char body[512];
	size_t len = venue_er_with_udf("A-1", body, sizeof(body));
	pump();
	cr_assert_eq(count_msgs(&W.venue_wire, "3"), 0, "the multiplexer rejected the venue's fill");
	struct wire_msg er;
	cr_assert(find_msg(&W.user_wire[0], "8", 1, &er), "the fill never reached alice");
	cr_assert(field_is(&er, 11, "A-1") && field_is(&er, 56, "alice"));
	cr_assert(body_is(&er, body, len), "the body changed on the way");
	cr_assert(field_is(&er, 5799, "LDN-3") && field_is(&er, 9001, "maker 7") &&
		  field_is(&er, 10042, "x"));
	cr_assert_eq(count_rx(0, "8", "A-1"), 2, "alice's engine took the fill");
	cr_assert_eq(count_msgs(&W.user_wire[1], "8"), 0, "bob sees nothing of it");
	cr_assert_eq(count_msgs(&W.user_wire[0], "3"), 0);
}

TestSuite(udf_copy, .init = setup_copy, .fini = teardown);
TestSuite(udf_zc, .init = setup_zc, .fini = teardown);
TestSuite(udf_venue_strict, .init = setup_venue_strict, .fini = teardown);
TestSuite(udf_alice_allowed, .init = setup_alice_allowed, .fini = teardown);

Test(udf_copy, a_fill_with_user_defined_tags_reaches_its_owner_intact_by_copy)
{
	uint64_t copied = ctr(CTL_MUX_FORWARDED_COPIED);
	fill_reaches_alice_intact();
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_COPIED), copied + 3, "order, ack and fill copied");
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_INPLACE), 0);
}

Test(udf_zc, a_fill_with_user_defined_tags_reaches_its_owner_intact_in_place)
{
	int inplace = W.n_inplace_user, kept = W.n_inplace_body_kept;
	fill_reaches_alice_intact();
	cr_assert_eq(W.n_inplace_user, inplace + 2, "the ack and the fill went in place");
	cr_assert_eq(W.n_inplace_body_kept, kept + 3,
		     "the order, the ack and the fill kept their bodies where they were received");
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_COPIED), 0);
}

Test(udf_venue_strict, with_the_key_off_the_venue_gets_a_reject_and_the_user_nothing)
{
	user_order(0, "A-1");
	pump();
	uint64_t to_user = ctr(CTL_MUX_FORWARDED_TO_USER);
	char body[512];
	venue_er_with_udf("A-1", body, sizeof(body));
	pump();
	struct wire_msg rj;
	cr_assert(find_msg(&W.venue_wire, "3", 0, &rj), "no Reject to the venue");
	cr_assert(field_is(&rj, 371, "5799") && field_is(&rj, 373, "0") &&
		  field_is(&rj, 372, "8") && field_is(&rj, 58, "Invalid tag number"));
	cr_assert_eq(count_msgs(&W.user_wire[0], "8"), 1, "alice has the ack only");
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_TO_USER), to_user);
	/* The session goes on: a fill without venue tags is forwarded. */
	venue_exec("A-1", "2", "F");
	pump();
	cr_assert_eq(count_msgs(&W.user_wire[0], "8"), 2);
}

/* A user's own user-defined tags: refused at the edge by default (bob), forwarded untouched to
 * the venue where the user's section allows them (alice). */
static void order_with_udf(int i, const char *id)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "11=%s\00121=1\00138=1000\00140=1\00154=1\00155=EUR/USD\00160=%s\001"
			 "5799=desk-9\001",
			 id, "20270115-08:00:00");
	cr_assert_neq(ctl_session_send_app(W.user[i].s, W.now, "D", NULL, 0, body, (size_t)n), 0);
}

Test(udf_alice_allowed, user_defined_tags_of_users_pass_only_where_the_user_allows_them)
{
	order_with_udf(1, "B-1");
	pump();
	cr_assert_eq(W.venue_orders_seen, 0, "bob's order must not reach the venue");
	struct wire_msg rj;
	cr_assert(find_msg(&W.user_wire[1], "3", 0, &rj), "bob gets no Reject");
	cr_assert(field_is(&rj, 371, "5799") && field_is(&rj, 373, "0"));
	order_with_udf(0, "A-1");
	pump();
	cr_assert_eq(W.venue_orders_seen, 1, "alice's order reaches the venue");
	struct wire_msg d;
	cr_assert(find_msg(&W.venue_wire, "D", 0, &d));
	cr_assert(field_is(&d, 11, "A-1") && field_is(&d, 5799, "desk-9"));
	cr_assert_eq(count_msgs(&W.user_wire[0], "3"), 0);
	cr_assert_eq(count_rx(0, "8", "A-1"), 1, "and is acked");
}
