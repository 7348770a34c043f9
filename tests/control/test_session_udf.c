/* User-defined fields (tags 5000 and up) at the session layer: with allow_user_defined a venue
 * message carrying them is delivered, and a user session forwards its body byte for byte; without
 * it (the default, what the acceptance scenarios expect) it is answered with a session Reject,
 * 373=0 and RefTagID, and not delivered. Undefined tags below 5000 are rejected either way.
 *
 * Two sessions as the multiplexer wires them: V, the initiator toward the venue (FIXMUX->LMAX),
 * and U, the acceptor facing a user (LMAX.Orders->alice); what V delivers, U sends. The peers
 * are raw messages built here.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_session.h"
#include "ctl_store_mem.h"

#define NS 1000000000ll
#define T0 (1795694400ll * NS)
#define OUTMAX 32

/* One side: its session, its store and what it sent. */
struct side {
	struct ctl_session *s;
	struct ctl_store_mem *st;
	char out[OUTMAX][1024]; /* sent messages, SOH as '|' */
	size_t nout;
	int delivered;
	char body[1024];        /* body of the last delivered message, SOH as '|' */
};

static struct side V, U;
static int64_t now = T0;

static void printable(char *dst, const char *b, size_t n)
{
	size_t k = n < 1023 ? n : 1023;
	for (size_t i = 0; i < k; i++)
		dst[i] = b[i] == '\001' ? '|' : b[i];
	dst[k] = '\0';
}

static void on_send(void *arg, const char *b, size_t n)
{
	struct side *sd = arg;
	cr_assert(sd->nout < OUTMAX);
	printable(sd->out[sd->nout++], b, n);
}

/* The venue session's deliveries go to the user, as ctl_mux_fwd.c forwards them by copy. */
static void v_deliver(void *arg, const struct fix_msg *m)
{
	struct side *sd = arg;
	sd->delivered++;
	const char *body = m->buf + m->hdr.body_off;
	size_t len = m->hdr.trailer_off - m->hdr.body_off;
	printable(sd->body, body, len);
	cr_assert_neq(ctl_session_send_app(U.s, now, m->hdr.msg_type, NULL, 0, body, len), 0,
		      "the user session refused to forward");
}

static void u_deliver(void *arg, const struct fix_msg *m)
{
	(void)m;
	((struct side *)arg)->delivered++;
}

static void on_disc(void *arg, const char *why)
{
	(void)arg;
	cr_assert_fail("unexpected disconnect: %s", why);
}

/* A whole FIX.4.4 message from sender to target, "|" for SOH in rest. */
static void feed(struct ctl_session *s, const char *sender, const char *target, const char *type,
		 uint64_t seq, const char *rest)
{
	struct fix_time_cache tc;
	fix_time_cache_init(&tc);
	char ts[32], body[900], msg[1024];
	ts[fix_format_utc(&tc, now, FIX_TIME_MS, ts)] = '\0';
	int n = snprintf(body, sizeof(body), "35=%s|34=%llu|49=%s|52=%s|56=%s|%s", type,
			 (unsigned long long)seq, sender, ts, target, rest);
	cr_assert(n > 0 && (size_t)n < sizeof(body));
	for (int i = 0; i < n; i++)
		if (body[i] == '|')
			body[i] = '\001';
	int k = snprintf(msg, sizeof(msg), "8=FIX.4.4\0019=%d\001%s", n, body);
	unsigned sum = 0;
	for (int i = 0; i < k; i++)
		sum += (unsigned char)msg[i];
	k += snprintf(msg + k, sizeof(msg) - (size_t)k, "10=%03u\001", sum & 255);
	ctl_session_on_bytes(s, now, msg, (size_t)k);
}

static void feed_venue(uint64_t seq, const char *type, const char *rest)
{
	feed(V.s, "LMAX", "FIXMUX", type, seq, rest);
}

static struct ctl_session *make(struct side *sd, enum ctl_role role, const char *us,
				const char *them, bool allow,
				void (*deliver)(void *, const struct fix_msg *))
{
	memset(sd, 0, sizeof(*sd));
	sd->st = ctl_store_mem_create();
	struct ctl_session_cfg cfg;
	ctl_session_cfg_init(&cfg);
	cfg.role = role;
	cfg.sender_comp_id = us;
	cfg.target_comp_id = them;
	cfg.allow_user_defined = allow;
	struct ctl_session_io io = {.arg = sd, .send = on_send, .deliver = deliver,
				    .disconnect = on_disc};
	char err[128];
	struct ctl_session *s = ctl_session_create(&cfg, &io, ctl_store_mem_store(sd->st), err,
						   sizeof(err));
	cr_assert_not_null(s, "%s", err);
	return s;
}

/* Both sessions logged on; the venue session allows user-defined fields or not. */
static void setup(bool venue_allows)
{
	now = T0;
	V.s = make(&V, CTL_ROLE_INITIATOR, "FIXMUX", "LMAX", venue_allows, v_deliver);
	U.s = make(&U, CTL_ROLE_ACCEPTOR, "LMAX.Orders", "alice", false, u_deliver);
	cr_assert_eq(ctl_session_connect(V.s, now), 0);
	feed_venue(1, "A", "98=0|108=30|");
	cr_assert(ctl_session_logged_on(V.s));
	cr_assert_eq(ctl_session_connect(U.s, now), 0);
	feed(U.s, "alice", "LMAX.Orders", "A", 1, "98=0|108=30|");
	cr_assert(ctl_session_logged_on(U.s));
	V.nout = U.nout = 0;
}

static void teardown(void)
{
	ctl_session_destroy(V.s);
	ctl_session_destroy(U.s);
	ctl_store_mem_destroy(V.st);
	ctl_store_mem_destroy(U.st);
}

static void setup_allowed(void)
{
	setup(true);
}

static void setup_strict(void)
{
	setup(false);
}

/* An ExecutionReport whose last fields are the venue's own. */
#define ER "37=O-1|11=A-1|17=E1|150=0|39=0|55=EUR/USD|54=1|151=1000|14=0|6=0|"
#define UDF "5799=LDN-3|9001=maker 7|10042=x|"

/* The body of U's last message: from after 52=...| to before 10=. */
static const char *sent_body(const char *msg, char *dst, size_t cap)
{
	const char *p = strstr(msg, "|52=");
	cr_assert_not_null(p);
	p = strchr(p + 1, '|');
	p = strstr(p, "|56=alice|");
	cr_assert_not_null(p, "%s", msg);
	p += strlen("|56=alice|");
	const char *e = strstr(p, "10=");
	while (e && e[-1] != '|')
		e = strstr(e + 1, "10=");
	cr_assert_not_null(e);
	snprintf(dst, cap, "%.*s", (int)(e - p), p);
	return dst;
}

TestSuite(udf_allowed, .init = setup_allowed, .fini = teardown);
TestSuite(udf_strict, .init = setup_strict, .fini = teardown);

Test(udf_allowed, a_venue_execution_with_user_defined_tags_is_forwarded_byte_for_byte)
{
	feed_venue(2, "8", ER UDF);
	cr_assert_eq(V.nout, 0, "no Reject to the venue: '%s'", V.nout ? V.out[0] : "");
	cr_assert_eq(V.delivered, 1);
	cr_assert_str_eq(V.body, ER UDF, "delivered as received");
	cr_assert_eq(ctl_session_next_in(V.s), 3);
	cr_assert_eq(U.nout, 1);
	char body[1024];
	cr_assert_str_eq(sent_body(U.out[0], body, sizeof(body)), ER UDF,
			 "the user gets the body unchanged, custom tags in place: %s", U.out[0]);
	cr_assert(strstr(U.out[0], "|35=8|"), "%s", U.out[0]);
}

Test(udf_allowed, user_defined_tags_in_the_middle_of_the_body_and_on_admin_messages_pass)
{
	feed_venue(2, "8", "37=O-1|11=A-1|5799=a|17=E1|150=0|39=0|55=EUR/USD|9001=b|54=1|151=0|14=0|"
		    "6=0|");
	cr_assert_eq(V.nout, 0, "'%s'", V.nout ? V.out[0] : "");
	cr_assert_eq(V.delivered, 1);
	cr_assert_str_eq(V.body, "37=O-1|11=A-1|5799=a|17=E1|150=0|39=0|55=EUR/USD|9001=b|54=1|"
				 "151=0|14=0|6=0|");
	/* A Heartbeat with a venue tag is taken as a Heartbeat: nothing sent, numbering moves. */
	feed_venue(3, "0", "20001=1|");
	cr_assert_eq(V.nout, 0, "'%s'", V.nout ? V.out[0] : "");
	cr_assert_eq(ctl_session_next_in(V.s), 4);
}

Test(udf_allowed, an_undefined_tag_below_5000_is_still_rejected)
{
	feed_venue(2, "8", ER "4999=X|");
	cr_assert_eq(V.delivered, 0);
	cr_assert_eq(U.nout, 0, "nothing reaches the user");
	cr_assert_eq(V.nout, 1);
	cr_assert(strstr(V.out[0], "|35=3|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|45=2|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|371=4999|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|372=8|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|373=0|"), "%s", V.out[0]);
	cr_assert_eq(ctl_session_next_in(V.s), 3, "a rejected message is still counted");
	/* and a user-defined tag does not hide it */
	feed_venue(3, "8", ER "4999=X|5799=Y|");
	cr_assert_eq(V.delivered, 0);
	cr_assert_eq(V.nout, 2);
	cr_assert(strstr(V.out[1], "|371=4999|"), "%s", V.out[1]);
}

Test(udf_allowed, a_user_defined_tag_without_value_is_rejected)
{
	feed_venue(2, "8", ER "5799=|");
	cr_assert_eq(V.delivered, 0);
	cr_assert_eq(V.nout, 1);
	cr_assert(strstr(V.out[0], "|371=5799|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|373=4|"), "%s", V.out[0]);
}

Test(udf_allowed, the_logon_answer_may_carry_user_defined_tags)
{
	teardown();
	now = T0;
	V.s = make(&V, CTL_ROLE_INITIATOR, "FIXMUX", "LMAX", true, v_deliver);
	U.s = make(&U, CTL_ROLE_ACCEPTOR, "LMAX.Orders", "alice", false, u_deliver);
	cr_assert_eq(ctl_session_connect(V.s, now), 0);
	feed_venue(1, "A", "98=0|108=30|9001=venue-build-42|");
	cr_assert(ctl_session_logged_on(V.s));
}

Test(udf_strict, a_venue_execution_with_user_defined_tags_is_rejected_and_not_delivered)
{
	feed_venue(2, "8", ER UDF);
	cr_assert_eq(V.delivered, 0);
	cr_assert_eq(U.nout, 0, "nothing reaches the user");
	cr_assert_eq(V.nout, 1);
	cr_assert(strstr(V.out[0], "|35=3|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|45=2|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|58=Invalid tag number|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|371=5799|"), "the lowest undefined tag: %s", V.out[0]);
	cr_assert(strstr(V.out[0], "|372=8|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|373=0|"), "%s", V.out[0]);
	cr_assert_eq(ctl_session_next_in(V.s), 3);
	feed_venue(3, "8", ER "9001=maker 7|");
	cr_assert_eq(V.delivered, 0);
	cr_assert_eq(V.nout, 2);
	cr_assert(strstr(V.out[1], "|371=9001|"), "%s", V.out[1]);
	cr_assert(strstr(V.out[1], "|373=0|"), "%s", V.out[1]);
	/* the same message without them is delivered */
	feed_venue(4, "8", ER);
	cr_assert_eq(V.delivered, 1);
	cr_assert_eq(U.nout, 1);
}

Test(udf_strict, the_default_configuration_is_strict)
{
	struct ctl_session_cfg cfg;
	ctl_session_cfg_init(&cfg);
	cr_assert_not(cfg.allow_user_defined);
}

Test(udf_strict, an_undefined_tag_below_5000_is_rejected)
{
	feed_venue(2, "8", ER "4999=X|");
	cr_assert_eq(V.delivered, 0);
	cr_assert_eq(V.nout, 1);
	cr_assert(strstr(V.out[0], "|371=4999|"), "%s", V.out[0]);
	cr_assert(strstr(V.out[0], "|373=0|"), "%s", V.out[0]);
}
