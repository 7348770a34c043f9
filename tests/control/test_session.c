/* Unit tests of the session state machine for the rules the acceptance scenarios do not reach:
 * the authentication hook, messages configured not to be resent, bounded and yielding resend
 * service, redundant ResendRequests, chunked ResendRequests, configurable timers, journal
 * before send, duplicate connections, and no allocation for an in-sequence application
 * message (malloc is wrapped at link time, see session_tests.cmake). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_session.h"
#include "ctl_store_mem.h"

/* ---- allocation counter (-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc) ---- */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
static unsigned long allocs;
void *__wrap_malloc(size_t n) { allocs++; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t k) { allocs++; return __real_calloc(n, k); }
void *__wrap_realloc(void *p, size_t n) { allocs++; return __real_realloc(p, n); }

#define NS 1000000000ll
#define T0 (1795694400ll * NS)

struct h {
	struct ctl_session *s;
	struct ctl_store_mem *st;
	char out[64][1024];
	size_t nout;
	int delivered;
	bool disconnected;
	char why[160];
	uint64_t store_next_out_at_send;
	char user[32], pass[32];
};

static void h_send(void *arg, const char *b, size_t n)
{
	struct h *h = arg;
	uint64_t in, out;
	struct ctl_store st = ctl_store_mem_store(h->st);
	st.ops->get_seqs(st.ctx, &in, &out);
	h->store_next_out_at_send = out;
	if (h->nout < 64) {
		size_t k = n < 1023 ? n : 1023;
		for (size_t i = 0; i < k; i++)
			h->out[h->nout][i] = b[i] == '\001' ? '|' : b[i];
		h->out[h->nout][k] = '\0';
		h->nout++;
	}
}
static void h_deliver(void *arg, const struct fix_msg *m)
{
	(void)m;
	((struct h *)arg)->delivered++;
}
static void h_disc(void *arg, const char *why)
{
	struct h *h = arg;
	h->disconnected = true;
	snprintf(h->why, sizeof(h->why), "%s", why);
}

static int auth_hook(void *arg, const struct fix_msg *logon, const char *user, size_t ul,
		     const char *pass, size_t pl, char *text, size_t cap)
{
	struct h *h = arg;
	(void)logon;
	snprintf(h->user, sizeof(h->user), "%.*s", (int)ul, user ? user : "");
	snprintf(h->pass, sizeof(h->pass), "%.*s", (int)pl, pass ? pass : "");
	if (pl == 6 && memcmp(pass, "secret", 6) == 0)
		return 0;
	snprintf(text, cap, "Bad password for %.*s", (int)ul, user ? user : "");
	return 1;
}

static struct h *mk(void (*tune)(struct ctl_session_cfg *, struct h *))
{
	struct h *h = calloc(1, sizeof(*h));
	h->st = ctl_store_mem_create();
	struct ctl_session_cfg cfg;
	ctl_session_cfg_init(&cfg);
	cfg.sender_comp_id = "ISLD";
	cfg.target_comp_id = "TW";
	cfg.no_validate = true;
	if (tune)
		tune(&cfg, h);
	struct ctl_session_io io = {.arg = h, .send = h_send, .deliver = h_deliver,
				    .disconnect = h_disc};
	char err[128];
	h->s = ctl_session_create(&cfg, &io, ctl_store_mem_store(h->st), err, sizeof(err));
	cr_assert(h->s != NULL, "%s", err);
	return h;
}

static void rm(struct h *h)
{
	ctl_session_destroy(h->s);
	ctl_store_mem_destroy(h->st);
	free(h);
}

/* Feeds "35=..|34=..|..." (| for SOH) from TW at time now with a SendingTime of t. */
static void in_at(struct h *h, int64_t now, int64_t t, const char *fmt, va_list ap)
{
	char f[512], body[600], msg[700];
	vsnprintf(f, sizeof(f), fmt, ap);
	struct fix_time_cache tc;
	fix_time_cache_init(&tc);
	char ts[32];
	ts[fix_format_utc(&tc, t, FIX_TIME_S, ts)] = '\0';
	/* f = "35=X|34=n|rest": insert the CompIDs and SendingTime after 34. */
	char *p = strchr(f, '|');
	p = strchr(p + 1, '|');
	*p = '\0';
	int n = snprintf(body, sizeof(body), "%s|49=TW|52=%s|56=ISLD|%s", f, ts, p + 1);
	for (int i = 0; i < n; i++)
		if (body[i] == '|')
			body[i] = '\001';
	int k = snprintf(msg, sizeof(msg), "8=FIX.4.4\0019=%d\001%s", n, body);
	unsigned sum = 0;
	for (int i = 0; i < k; i++)
		sum += (unsigned char)msg[i];
	k += snprintf(msg + k, sizeof(msg) - (size_t)k, "10=%03u\001", sum & 255);
	ctl_session_on_bytes(h->s, now, msg, (size_t)k);
}

static void in(struct h *h, int64_t t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	in_at(h, t, t, fmt, ap);
	va_end(ap);
}

static void in_late(struct h *h, int64_t now, int64_t t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	in_at(h, now, t, fmt, ap);
	va_end(ap);
}

static bool sent_has(struct h *h, size_t i, const char *needle)
{
	return i < h->nout && strstr(h->out[i], needle) != NULL;
}

static void logon(struct h *h)
{
	cr_assert_eq(ctl_session_connect(h->s, T0), 0);
	in(h, T0, "35=A|34=1|98=0|108=30|553=alice|554=secret|");
	cr_assert(ctl_session_logged_on(h->s), "not logged on: %s", h->why);
	h->nout = 0;
}

static void with_auth(struct ctl_session_cfg *c, struct h *h)
{
	c->auth = auth_hook;
	c->auth_arg = h;
}

Test(session, auth_hook_refusal_sends_logout_with_its_text_then_disconnects)
{
	struct h *h = mk(with_auth);
	ctl_session_connect(h->s, T0);
	in(h, T0, "35=A|34=1|98=0|108=30|553=alice|554=wrong|");
	cr_assert_str_eq(h->user, "alice");
	cr_assert_str_eq(h->pass, "wrong");
	cr_assert_eq(h->nout, 1);
	cr_assert(sent_has(h, 0, "35=5|") && sent_has(h, 0, "58=Bad password for alice|"),
		  "%s", h->out[0]);
	cr_assert(h->disconnected);
	cr_assert(!ctl_session_logged_on(h->s));
	rm(h);
}

Test(session, auth_hook_acceptance_logs_on)
{
	struct h *h = mk(with_auth);
	logon(h);
	cr_assert_str_eq(h->user, "alice");
	rm(h);
}

Test(session, second_connection_is_refused_without_touching_the_session)
{
	struct h *h = mk(NULL);
	logon(h);
	cr_assert_eq(ctl_session_connect(h->s, T0), -1);
	cr_assert(ctl_session_logged_on(h->s));
	cr_assert_eq(h->nout, 0);
	rm(h);
}

static void send_orders(struct h *h, int n)
{
	for (int i = 0; i < n; i++) {
		char body[32];
		int k = snprintf(body, sizeof(body), "11=O%d\001", i);
		cr_assert_neq(ctl_session_send_app(h->s, T0, i % 2 ? "8" : "D", NULL, 0, body,
						   (size_t)k), 0);
	}
	h->nout = 0;
}

Test(session, journal_is_written_before_the_bytes_leave)
{
	struct h *h = mk(NULL);
	logon(h);
	uint64_t seq = ctl_session_send_app(h->s, T0, "D", NULL, 0, "11=X\001", 5);
	cr_assert_eq(seq, 2);
	cr_assert_eq(h->store_next_out_at_send, 3, "the store did not hold the message yet");
	cr_assert_eq(ctl_store_mem_count(h->st), 1);
	rm(h);
}

static void no_resend_8(struct ctl_session_cfg *c, struct h *h)
{
	(void)h;
	c->no_resend_types = "8,AE";
}

Test(session, message_types_configured_not_to_be_resent_are_gap_filled)
{
	struct h *h = mk(no_resend_8);
	logon(h);
	send_orders(h, 4); /* 2=D 3=8 4=D 5=8 */
	in(h, T0, "35=2|34=2|7=2|16=0|");
	cr_assert_eq(h->nout, 4, "%zu", h->nout);
	cr_assert(sent_has(h, 0, "35=D|34=2|43=Y|"), "%s", h->out[0]);
	cr_assert(sent_has(h, 1, "35=4|34=3|43=Y|") && sent_has(h, 1, "36=4|123=Y|"), "%s", h->out[1]);
	cr_assert(sent_has(h, 2, "35=D|34=4|43=Y|"), "%s", h->out[2]);
	cr_assert(sent_has(h, 3, "35=4|34=5|") && sent_has(h, 3, "36=6|"), "%s", h->out[3]);
	rm(h);
}

static void max3(struct ctl_session_cfg *c, struct h *h)
{
	(void)h;
	c->resend_max = 3;
}

Test(session, resend_service_is_bounded_per_request)
{
	struct h *h = mk(max3);
	logon(h);
	send_orders(h, 8); /* 2..9 */
	in(h, T0, "35=2|34=2|7=2|16=0|");
	cr_assert_eq(h->nout, 3, "served %zu messages, the bound is 3", h->nout);
	cr_assert(sent_has(h, 2, "|34=4|43=Y|"), "%s", h->out[2]);
	rm(h);
}

static void batch2(struct ctl_session_cfg *c, struct h *h)
{
	(void)h;
	c->resend_batch = 2;
}

Test(session, resend_service_yields_after_a_batch_and_poll_continues_it)
{
	struct h *h = mk(batch2);
	logon(h);
	send_orders(h, 5); /* 2..6 */
	in(h, T0, "35=2|34=2|7=2|16=0|");
	cr_assert_eq(h->nout, 2);
	cr_assert_eq(ctl_session_poll(h->s, T0), 1, "more is pending");
	cr_assert_eq(h->nout, 4);
	/* A second identical request while the first is being served is redundant: the
	 * service goes on, and each message is resent once. */
	in(h, T0, "35=2|34=3|7=2|16=0|");
	while (ctl_session_poll(h->s, T0) != 0)
		;
	cr_assert_eq(h->nout, 5, "%zu messages resent for 5", h->nout);
	for (size_t i = 0; i < 5; i++) {
		char want[32];
		snprintf(want, sizeof(want), "|34=%zu|43=Y|", i + 2);
		cr_assert(sent_has(h, i, want), "%s", h->out[i]);
	}
	rm(h);
}

static void chunk5(struct ctl_session_cfg *c, struct h *h)
{
	(void)h;
	c->resend_request_chunk = 5;
}

Test(session, resend_requests_are_chunked)
{
	struct h *h = mk(chunk5);
	logon(h);
	in(h, T0, "35=0|34=20|");
	cr_assert_eq(h->nout, 1);
	cr_assert(sent_has(h, 0, "35=2|") && sent_has(h, 0, "|7=2|16=6|"), "%s", h->out[0]);
	/* The peer fills 2..6: the next chunk is asked for. */
	in(h, T0, "35=4|34=2|43=Y|122=20261126-12:00:00|36=7|123=Y|");
	cr_assert_eq(h->nout, 2);
	cr_assert(sent_has(h, 1, "|7=7|16=11|"), "%s", h->out[1]);
	rm(h);
}

static void fast_timers(struct ctl_session_cfg *c, struct h *h)
{
	(void)h;
	c->test_request_pct = 200;
	c->timeout_pct = 300;
	c->sending_time_tolerance_s = 5;
}

Test(session, timer_factors_and_sending_time_tolerance_are_configurable)
{
	struct h *h = mk(fast_timers);
	logon(h); /* HeartBtInt 30 */
	in(h, T0 + 10 * NS, "35=0|34=2|");
	for (int t = 11; t <= 69; t++)
		ctl_session_poll(h->s, T0 + t * NS);
	cr_assert_eq(h->nout, 2, "heartbeats at 30 and 60 s, no TestRequest before 70 s");
	ctl_session_poll(h->s, T0 + 70 * NS);
	cr_assert(sent_has(h, 2, "35=1|"), "TestRequest after 2 x 30 s of silence");
	for (int t = 71; t <= 99; t++)
		ctl_session_poll(h->s, T0 + t * NS);
	cr_assert(!h->disconnected);
	cr_assert_eq(h->nout, 3, "no heartbeat while the TestRequest is unanswered");
	ctl_session_poll(h->s, T0 + 100 * NS);
	cr_assert(h->disconnected, "dropped after 3 x 30 s");
	rm(h);

	h = mk(fast_timers);
	logon(h);
	in_late(h, T0, T0 - 6 * NS, "35=0|34=2|");
	cr_assert(sent_has(h, 0, "35=3|") && sent_has(h, 0, "373=10|"), "6 s off with 5 s allowed");
	rm(h);
}

/* The session keeps the last SendingTime it parsed (a burst repeats it): the text seen before
 * must still be judged against the clock of now, and a new text of the same length parsed. */
Test(session, a_sending_time_seen_before_is_still_checked_against_the_clock)
{
	struct h *h = mk(fast_timers); /* 5 s allowed */
	logon(h);                      /* SendingTime T0 read at T0 */
	in_late(h, T0 + 4 * NS, T0, "35=0|34=2|");
	cr_assert_eq(h->nout, 0, "the same SendingTime 4 s later is within 5 s: %s", h->out[0]);
	in_late(h, T0 + 6 * NS, T0, "35=0|34=3|");
	cr_assert(sent_has(h, 0, "35=3|") && sent_has(h, 0, "373=10|"),
		  "the same SendingTime 6 s later is refused: %s", h->out[0]);
	rm(h);

	h = mk(fast_timers);
	logon(h);
	in_late(h, T0, T0 + 10 * NS, "35=0|34=2|"); /* one digit differs from the Logon's */
	cr_assert(sent_has(h, 0, "35=3|") && sent_has(h, 0, "373=10|"),
		  "10 s ahead with 5 s allowed: %s", h->out[0]);
	rm(h);
}

/* The parsed hook (the multiplexer's prefetch): every message parsed without error, before it
 * is checked and delivered, with the io's arg; not for one the parser refused. */
static int parsed_n, delivered_at_parse;
static char parsed_type[4];
static void on_parsed(void *arg, const struct fix_msg *m)
{
	struct h *h = arg;
	parsed_n++;
	delivered_at_parse = h->delivered;
	memcpy(parsed_type, m->hdr.msg_type, sizeof(parsed_type));
}

Test(session, the_parsed_hook_sees_each_parsed_message_before_its_delivery)
{
	struct h *h = mk(NULL);
	logon(h);
	parsed_n = 0;
	ctl_session_set_parsed_hook(h->s, on_parsed);
	in(h, T0, "35=D|34=2|11=A|");
	cr_assert_eq(parsed_n, 1);
	cr_assert_eq(delivered_at_parse, 0, "called before the delivery");
	cr_assert_eq(h->delivered, 1);
	cr_assert_str_eq(parsed_type, "D");
	in(h, T0, "35=D|34=3|11=B|58=|"); /* empty value: a parse error, rejected */
	cr_assert_eq(parsed_n, 1, "not for a message the parser refused");
	cr_assert(sent_has(h, 0, "35=3|"), "the empty value is rejected: %s", h->out[0]);
	in(h, T0, "35=8|34=9|11=C|"); /* too high: parsed, queued, not delivered */
	cr_assert_eq(parsed_n, 2);
	cr_assert_str_eq(parsed_type, "8");
	cr_assert_eq(h->delivered, 1);
	ctl_session_set_parsed_hook(h->s, NULL);
	in(h, T0, "35=0|34=4|");
	cr_assert_eq(parsed_n, 2, "removed");
	rm(h);
}

Test(session, in_sequence_application_message_does_not_allocate)
{
	struct h *h = mk(NULL);
	logon(h);
	char msgs[200][256];
	size_t lens[200];
	/* Messages prepared up front so only the session runs in the measured loop. */
	for (int i = 0; i < 200; i++) {
		char body[200];
		int n = snprintf(body, sizeof(body),
				 "35=D\00134=%d\00149=TW\00152=20261126-12:00:00\00156=ISLD\00111=A%d\001",
				 i + 2, i);
		int k = snprintf(msgs[i], sizeof(msgs[i]), "8=FIX.4.4\0019=%d\001%s", n, body);
		unsigned sum = 0;
		for (int j = 0; j < k; j++)
			sum += (unsigned char)msgs[i][j];
		k += snprintf(msgs[i] + k, sizeof(msgs[i]) - (size_t)k, "10=%03u\001", sum & 255);
		lens[i] = (size_t)k;
	}
	unsigned long before = allocs;
	for (int i = 0; i < 200; i++)
		ctl_session_on_bytes(h->s, T0, msgs[i], lens[i]);
	unsigned long after = allocs;
	cr_assert_eq(h->delivered, 200);
	cr_assert_eq(after, before, "%lu allocations for 200 in-sequence messages", after - before);
	rm(h);
}

static void with_789(struct ctl_session_cfg *c, struct h *h)
{
	(void)h;
	c->next_expected_seq = true;
}

Test(session, acceptor_honours_next_expected_msg_seq_num_on_logon)
{
	struct h *h = mk(with_789);
	logon(h);
	send_orders(h, 3); /* 2..4 */
	ctl_session_disconnected(h->s, T0);
	cr_assert_eq(ctl_session_connect(h->s, T0), 0);
	/* The peer got only our Logon (1): it expects 2, and says so. */
	in(h, T0, "35=A|34=2|98=0|108=30|789=2|");
	cr_assert(ctl_session_logged_on(h->s));
	cr_assert_eq(h->nout, 4, "%zu", h->nout);
	cr_assert(sent_has(h, 0, "35=A|34=5|") && sent_has(h, 0, "|789=3|"), "%s", h->out[0]);
	cr_assert(sent_has(h, 1, "35=D|34=2|43=Y|"), "%s", h->out[1]);
	cr_assert(sent_has(h, 2, "35=8|34=3|43=Y|"), "%s", h->out[2]);
	cr_assert(sent_has(h, 3, "35=D|34=4|43=Y|"), "%s", h->out[3]);
	rm(h);
}

Test(session, next_expected_msg_seq_num_beyond_what_was_sent_is_a_logout)
{
	struct h *h = mk(with_789);
	cr_assert_eq(ctl_session_connect(h->s, T0), 0);
	in(h, T0, "35=A|34=1|98=0|108=30|789=9|");
	cr_assert_eq(h->nout, 2);
	cr_assert(sent_has(h, 1, "35=5|") && sent_has(h, 1, "58=NextExpectedMsgSeqNum 9"),
		  "%s", h->out[1]);
	cr_assert_eq(ctl_session_state(h->s), CTL_ST_LOGOUT_SENT);
	rm(h);
}

Test(session, configuration_errors_are_reported)
{
	struct ctl_store_mem *st = ctl_store_mem_create();
	struct ctl_session_cfg cfg;
	ctl_session_cfg_init(&cfg);
	cfg.sender_comp_id = "ISLD";
	cfg.target_comp_id = "";
	struct ctl_session_io io = {.send = h_send, .deliver = h_deliver, .disconnect = h_disc};
	char err[128] = "";
	cr_assert_null(ctl_session_create(&cfg, &io, ctl_store_mem_store(st), err, sizeof(err)));
	cr_assert(strstr(err, "CompID") != NULL, "%s", err);
	cfg.target_comp_id = "TW";
	cfg.ver = FIX_VER_UNKNOWN;
	cr_assert_null(ctl_session_create(&cfg, &io, ctl_store_mem_store(st), err, sizeof(err)));
	cr_assert(strstr(err, "version") != NULL, "%s", err);
	ctl_store_mem_destroy(st);
}
