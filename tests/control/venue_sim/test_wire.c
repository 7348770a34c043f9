/* tests/control/venue_sim: fixmux-venue-sim over the wire. Each test starts the simulator as a
 * child process on 127.0.0.1 with an ephemeral port (it writes the port it bound to a file)
 * and its own store, and talks FIX to it over a kernel socket, building messages with
 * fixcodec's encoder and validating every message received against the dictionary. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vsim_client.h"

#define ORDER_44(id, qty, px)                                                                  \
	"11=" id "|21=1|38=" qty "|40=2|44=" px "|54=1|55=EURUSD|60=20261126-12:00:00|"

static struct vproc vp;

static void setup(void)
{
	vproc_init(&vp);
}

static void teardown(void)
{
	vproc_cleanup(&vp);
}

TestSuite(venue_sim, .init = setup, .fini = teardown, .timeout = 30);

static const struct fix_msg *must(struct vclient *c, const char *type)
{
	const struct fix_msg *m = vc_next(c);
	cr_assert_not_null(m, "expected 35=%s, got nothing: %s", type, c->err);
	cr_assert(vc_is(m, type), "expected 35=%s, got %s", type, vc_show(c));
	return m;
}

/* A received message, reduced to the fields the tests look at. */
struct rmsg {
	char type[4];
	char f[24][64];
};
static const uint32_t rtags[24] = {11, 17, 37, 39, 150, 14, 151, 32, 41, 58, 43, 262,
				   281, 117, 131, 434, 102, 34, 122, 269, 55, 6, 38, 97};

static const char *rget(const struct rmsg *r, uint32_t tag)
{
	for (int i = 0; i < 24; i++)
		if (rtags[i] == tag)
			return r->f[i];
	cr_assert_fail("tag %u not collected", tag);
	return "";
}

static void keep(struct rmsg *r, const struct fix_msg *m)
{
	snprintf(r->type, sizeof(r->type), "%s", m->hdr.msg_type);
	for (int i = 0; i < 24; i++)
		snprintf(r->f[i], sizeof(r->f[i]), "%s", vc_get(m, rtags[i]));
}

/* Sends a TestRequest and collects every message up to its Heartbeat (the simulator answers
 * in order, so everything caused by earlier messages has arrived by then). Returns the
 * number collected into out (Heartbeats left out). */
static int until_heartbeat(struct vclient *c, const char *id, struct rmsg *out, int cap)
{
	char body[64];
	snprintf(body, sizeof(body), "112=%s|", id);
	cr_assert_eq(vc_send(c, "1", body), 0);
	int n = 0;
	for (;;) {
		const struct fix_msg *m = vc_recv(c);
		cr_assert_not_null(m, "no Heartbeat for TestRequest %s: %s", id, c->err);
		if (vc_is(m, "0")) {
			if (strcmp(vc_get(m, 112), id) == 0)
				return n;
			continue;
		}
		cr_assert_lt(n, cap, "too many messages: %s", vc_show(c));
		keep(&out[n++], m);
	}
}

static void start(const char *mode, const char *fill, const char *const *more)
{
	const char *args[32] = {"--mode", mode, "--fill-ratio", fill, "--seed", "7",
				"--md-interval-ms", "20", "--quiet"};
	int n = 9;
	for (int i = 0; more != NULL && more[i] != NULL; i++)
		args[n++] = more[i];
	args[n] = NULL;
	cr_assert_eq(vproc_start(&vp, args), 0, "simulator did not start (see %s/sim.log)",
		     vp.dir);
}

static void connect_logon(struct vclient *c, enum fix_version v, const char *me,
			  const char *them, bool reset)
{
	c->fd = -1;
	cr_assert_eq(vc_connect(c, vp.port, v, me, them), 0);
	const struct fix_msg *m = vc_logon(c, reset);
	cr_assert_not_null(m, "no Logon answer: %s", c->err);
	cr_assert(vc_is(m, "A"), "Logon answered with %s", vc_show(c));
}

static void send_order(struct vclient *c, const char *id, const char *qty, const char *px)
{
	char body[256];
	snprintf(body, sizeof(body),
		 "11=%s|21=1|38=%s|40=2|44=%s|54=1|55=EURUSD|60=20261126-12:00:00|", id, qty, px);
	cr_assert_eq(vc_send(c, "D", body), 0);
}

static struct rmsg got[4096];

/* ------------------------------------------------------------------------------------------ */

/* Every order is acknowledged (150=0 39=0) first, then filled or left open; quantities add
 * up; ExecIDs are unique; invalid orders are rejected (39=8) with a reason. */
static void orders_in(enum fix_version v, const char *spec, const char *me, const char *fill)
{
	const char *const sess[] = {"--session", spec, NULL};
	start("exchange", fill, sess);
	static struct vclient c;
	connect_logon(&c, v, me, "VENUE", false);
	enum { N = 20 };
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "ord%d", i);
		send_order(&c, id, "1000", "1.2345");
	}
	send_order(&c, "bad-qty", "0", "1.2345");
	cr_assert_eq(vc_send(&c, "D",
			     "11=bad-px|21=1|38=10|40=2|54=1|55=EURUSD|60=20261126-12:00:00|"),
		     0);
	int n = until_heartbeat(&c, "T1", got, 512);
	int news = 0, fills = 0, rejects = 0, full = 0;
	bool acked[N] = {false};
	long cum[N] = {0};
	for (int i = 0; i < n; i++) {
		const struct rmsg *r = &got[i];
		cr_assert_str_eq(r->type, "8");
		for (int k = 0; k < i; k++)
			cr_assert_str_neq(rget(r, 17), rget(&got[k], 17), "ExecID %s used twice",
					  rget(r, 17));
		const char *id = rget(r, 11);
		if (strncmp(id, "bad-", 4) == 0) {
			cr_assert_str_eq(rget(r, 39), "8");
			cr_assert_str_eq(rget(r, 150), "8");
			cr_assert_neq(rget(r, 58)[0], '\0', "a reject says why");
			rejects++;
			continue;
		}
		int k = atoi(id + 3);
		cr_assert(k >= 0 && k < N);
		const char *et = rget(r, 150);
		if (strcmp(et, "0") == 0) {
			cr_assert(!acked[k], "%s acknowledged twice", id);
			cr_assert_str_eq(rget(r, 39), "0");
			acked[k] = true;
			news++;
			continue;
		}
		cr_assert(acked[k], "%s filled before its acknowledgement", id);
		if (v == FIX_VER_42)
			cr_assert(strcmp(et, "1") == 0 || strcmp(et, "2") == 0, "ExecType %s", et);
		else
			cr_assert_str_eq(et, "F");
		cum[k] += atol(rget(r, 32));
		cr_assert_eq(cum[k], atol(rget(r, 14)), "CumQty of %s", id);
		cr_assert_eq(atol(rget(r, 14)) + atol(rget(r, 151)), 1000, "Cum + Leaves of %s", id);
		cr_assert_str_eq(rget(r, 39), cum[k] == 1000 ? "2" : "1");
		full += cum[k] == 1000;
		fills++;
	}
	cr_assert_eq(news, N);
	cr_assert_eq(rejects, 2);
	/* fill ratio 0.5 over 20 orders with seed 7: some trade and some do not. */
	cr_assert(fills > 0 && fills < N, "fills %d", fills);
	cr_assert(full > 0, "some orders fill in full");
	vc_close(&c);
	cr_assert_eq(vproc_stop(&vp), 0);
	char js[4096];
	cr_assert_eq(vproc_stats(&vp, js, sizeof(js)), 0);
	cr_assert(strstr(js, "\"orders\": 22") != NULL, "%s", js);
	cr_assert(strstr(js, "\"rejects\": 2") != NULL, "%s", js);
}

Test(venue_sim, fix44_orders_are_acked_filled_or_rejected)
{
	orders_in(FIX_VER_44, "FIX.4.4:VENUE:CLI", "CLI", "0.5");
}

Test(venue_sim, fix42_orders_are_acked_filled_or_rejected)
{
	orders_in(FIX_VER_42, "FIX.4.2:VENUE:CLI42", "CLI42", "0.5");
}

Test(venue_sim, fixt11_orders_are_acked_filled_or_rejected)
{
	orders_in(FIX_VER_T11, "FIXT.1.1:VENUE:CLI50", "CLI50", "0.5");
}

/* The same seed and the same orders give the same fills. */
Test(venue_sim, fills_are_deterministic_for_a_seed)
{
	char pattern[2][64];
	for (int run = 0; run < 2; run++) {
		const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI:reset", NULL};
		start("exchange", "0.5", sess);
		static struct vclient c;
		c.seq = 1;
		connect_logon(&c, FIX_VER_44, "CLI", "VENUE", true);
		for (int i = 0; i < 30; i++) {
			char id[16];
			snprintf(id, sizeof(id), "d%d", i);
			send_order(&c, id, "100", "1.5");
		}
		int n = until_heartbeat(&c, "D", got, 512);
		memset(pattern[run], '.', 30);
		pattern[run][30] = '\0';
		for (int i = 0; i < n; i++)
			if (strcmp(rget(&got[i], 150), "F") == 0)
				pattern[run][atoi(rget(&got[i], 11) + 1)] =
					strcmp(rget(&got[i], 39), "2") == 0 ? 'F' : 'P';
		vc_close(&c);
		cr_assert_eq(vproc_stop(&vp), 0);
	}
	cr_assert_str_eq(pattern[0], pattern[1]);
	cr_assert(strchr(pattern[0], 'F') != NULL && strchr(pattern[0], '.') != NULL, "%s",
		  pattern[0]);
}

Test(venue_sim, cancel_replace_and_unknown_orders)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI", NULL};
	start("exchange", "0", sess);
	static struct vclient c;
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	send_order(&c, "A1", "500", "1.1");
	int n = until_heartbeat(&c, "a", got, 16);
	cr_assert_eq(n, 1, "fill ratio 0: only the acknowledgement");
	cr_assert_str_eq(rget(&got[0], 150), "0");
	char oid[64];
	snprintf(oid, sizeof(oid), "%s", rget(&got[0], 37));

	cr_assert_eq(vc_send(&c, "G", "11=A2|21=1|38=800|40=2|41=A1|44=1.2|54=1|55=EURUSD|"
				     "60=20261126-12:00:00|"),
		     0);
	const struct fix_msg *m = must(&c, "8");
	cr_assert_str_eq(vc_get(m, 150), "5");
	cr_assert_str_eq(vc_get(m, 39), "0");
	cr_assert_str_eq(vc_get(m, 11), "A2");
	cr_assert_str_eq(vc_get(m, 41), "A1");
	cr_assert_str_eq(vc_get(m, 38), "800");
	cr_assert_str_eq(vc_get(m, 44), "1.2");
	cr_assert_str_eq(vc_get(m, 37), oid, "the OrderID stays");

	/* The old ClOrdID is gone after the replace. */
	cr_assert_eq(vc_send(&c, "F", "11=A3|38=800|41=A1|54=1|55=EURUSD|60=20261126-12:00:00|"),
		     0);
	m = must(&c, "9");
	cr_assert_str_eq(vc_get(m, 11), "A3");
	cr_assert_str_eq(vc_get(m, 41), "A1");
	cr_assert_str_eq(vc_get(m, 434), "1");
	cr_assert_str_eq(vc_get(m, 102), "1");

	cr_assert_eq(vc_send(&c, "F", "11=A4|38=800|41=A2|54=1|55=EURUSD|60=20261126-12:00:00|"),
		     0);
	m = must(&c, "8");
	cr_assert_str_eq(vc_get(m, 150), "4");
	cr_assert_str_eq(vc_get(m, 39), "4");
	cr_assert_str_eq(vc_get(m, 11), "A4");
	cr_assert_str_eq(vc_get(m, 41), "A2");
	cr_assert_str_eq(vc_get(m, 151), "0");

	/* Cancelled: neither cancel nor replace finds it any more. */
	cr_assert_eq(vc_send(&c, "F", "11=A5|38=800|41=A2|54=1|55=EURUSD|60=20261126-12:00:00|"),
		     0);
	m = must(&c, "9");
	cr_assert_str_eq(vc_get(m, 434), "1");
	cr_assert_eq(vc_send(&c, "G", "11=A6|21=1|38=900|40=2|41=nope|44=1.2|54=1|55=EURUSD|"
				     "60=20261126-12:00:00|"),
		     0);
	m = must(&c, "9");
	cr_assert_str_eq(vc_get(m, 434), "2");
	cr_assert_str_eq(vc_get(m, 37), "NONE");
	vc_close(&c);
}

static void market_data(struct vclient *c)
{
	const char *req = "146=1|55=EURUSD|262=M1|263=1|264=1|267=2|269=0|269=1|";
	cr_assert_eq(vc_send(c, "V", req), 0);
	const struct fix_msg *m = must(c, "W");
	cr_assert_str_eq(vc_get(m, 262), "M1");
	cr_assert_str_eq(vc_get(m, 55), "EURUSD");
	for (int i = 0; i < 3; i++) {
		m = must(c, "X");
		cr_assert_str_eq(vc_get(m, 262), "M1");
		cr_assert_str_eq(vc_get(m, 268), "2");
	}
	cr_assert_eq(vc_send(c, "V", req), 0);
	for (;;) {
		m = vc_next(c);
		cr_assert_not_null(m, "%s", c->err);
		if (vc_is(m, "Y"))
			break;
		cr_assert(vc_is(m, "X"), "expected increments then a reject: %s", vc_show(c));
	}
	cr_assert_str_eq(vc_get(m, 262), "M1");
	cr_assert_str_eq(vc_get(m, 281), "1", "duplicate MDReqID");

	cr_assert_eq(vc_send(c, "V", "146=1|55=EURUSD|262=M1|263=2|264=1|267=2|269=0|269=1|"), 0);
	until_heartbeat(c, "U", got, 512); /* increments sent before the unsubscribe */
	usleep(200000);                    /* ten intervals: none may come now */
	int n = until_heartbeat(c, "U2", got, 512);
	cr_assert_eq(n, 0, "market data after the unsubscribe: %s", got[0].type);
	/* The MDReqID is free again. */
	cr_assert_eq(vc_send(c, "V", "146=1|55=GBPUSD|262=M1|263=0|264=1|267=2|269=0|269=1|"), 0);
	m = must(c, "W");
	cr_assert_str_eq(vc_get(m, 55), "GBPUSD");
}

Test(venue_sim, market_data_snapshot_increments_duplicate_and_unsubscribe)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:MD", "--session",
				    "FIX.4.2:VENUE:MD42", "--session", "FIXT.1.1:VENUE:MD50", NULL};
	start("exchange", "0", sess);
	static struct vclient c[3];
	const enum fix_version v[3] = {FIX_VER_44, FIX_VER_42, FIX_VER_T11};
	const char *id[3] = {"MD", "MD42", "MD50"};
	for (int i = 0; i < 3; i++) {
		connect_logon(&c[i], v[i], id[i], "VENUE", false);
		market_data(&c[i]);
		vc_close(&c[i]);
	}
	cr_assert_eq(vproc_stop(&vp), 0);
	char js[4096];
	cr_assert_eq(vproc_stats(&vp, js, sizeof(js)), 0);
	cr_assert(strstr(js, "\"md_rejects\": 3") != NULL, "%s", js);
}

static void quotes(struct vclient *c, const char *zextra)
{
	cr_assert_eq(vc_send(c, "R", "131=RQ1|146=1|55=USDJPY|38=1000000|"), 0);
	char ids[3][64];
	for (int i = 0; i < 3; i++) {
		const struct fix_msg *m = must(c, "S");
		cr_assert_str_eq(vc_get(m, 131), "RQ1");
		cr_assert_str_eq(vc_get(m, 55), "USDJPY");
		snprintf(ids[i], sizeof(ids[i]), "%s", vc_get(m, 117));
		for (int k = 0; k < i; k++)
			cr_assert_str_neq(ids[i], ids[k], "QuoteIDs differ");
	}
	/* A second request with the same QuoteReqID while the stream runs is refused. */
	cr_assert_eq(vc_send(c, "R", "131=RQ1|146=1|55=USDJPY|38=1000000|"), 0);
	const struct fix_msg *m;
	do
		m = vc_next(c);
	while (m != NULL && vc_is(m, "S"));
	cr_assert(vc_is(m, "j"), "expected a BusinessMessageReject: %s", vc_show(c));
	char zc[128];
	snprintf(zc, sizeof(zc), "117=%s|131=RQ1|298=1|%s", ids[2], zextra);
	cr_assert_eq(vc_send(c, "Z", zc), 0);
	int before = until_heartbeat(c, "Z", got, 512);
	for (int i = 0; i < before; i++)
		cr_assert_str_eq(got[i].type, "S", "the QuoteCancel is accepted: %s %s", got[i].type,
				 rget(&got[i], 58));
	usleep(200000);
	int n = until_heartbeat(c, "Z2", got, 512);
	cr_assert_eq(n, 0, "quotes after the QuoteCancel: %s", got[0].type);
}

Test(venue_sim, quote_request_streams_until_quote_cancel)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:RFQ", "--session",
				    "FIX.4.2:VENUE:RFQ42", "--session", "FIXT.1.1:VENUE:RFQ50", NULL};
	start("exchange", "0", sess);
	static struct vclient c[3];
	const enum fix_version v[3] = {FIX_VER_44, FIX_VER_42, FIX_VER_T11};
	const char *id[3] = {"RFQ", "RFQ42", "RFQ50"};
	/* FIX.4.2's QuoteCancel requires its NoQuoteEntries group. */
	const char *zextra[3] = {"", "295=1|55=USDJPY|", ""};
	for (int i = 0; i < 3; i++) {
		connect_logon(&c[i], v[i], id[i], "VENUE", false);
		quotes(&c[i], zextra[i]);
		vc_close(&c[i]);
	}
}

/* SIGTERM: every connected session gets a Logout, the journals are flushed, exit status 0. */
Test(venue_sim, sigterm_logs_out_and_exits_0)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI", "--stats-interval-ms", "10",
				    NULL};
	start("exchange", "0", sess);
	static struct vclient c;
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	send_order(&c, "S1", "10", "1.1");
	must(&c, "8");
	/* --stats-interval-ms: the stats file follows while the simulator runs. */
	char js[4096] = "";
	for (int i = 0; i < 500 && strstr(js, "\"orders\": 1,") == NULL; i++) {
		usleep(10000);
		vproc_stats(&vp, js, sizeof(js));
	}
	cr_assert(strstr(js, "\"orders\": 1,") != NULL, "%s", js);
	kill(vp.pid, SIGTERM);
	const struct fix_msg *m = must(&c, "5");
	cr_assert_str_eq(vc_get(m, 58), "venue simulator shutting down");
	cr_assert_eq(vc_send(&c, "5", ""), 0);
	cr_assert(vc_wait_closed(&c));
	vc_close(&c);
	int st;
	cr_assert_eq(waitpid(vp.pid, &st, 0), vp.pid);
	vp.pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	/* The order left open is cancelled at the next start and reported at the next logon. */
	start("exchange", "0", sess);
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	m = must(&c, "8");
	cr_assert_str_eq(vc_get(m, 11), "S1");
	cr_assert_str_eq(vc_get(m, 150), "4");
	vc_close(&c);
}

/* --heartbeat-check: a silent peer gets a TestRequest, then is disconnected. */
Test(venue_sim, heartbeat_check_drops_a_silent_peer)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI", "--heartbeat-check", NULL};
	start("exchange", "0", sess);
	static struct vclient c;
	c.fd = -1;
	cr_assert_eq(vc_connect(&c, vp.port, FIX_VER_44, "CLI", "VENUE"), 0);
	cr_assert_eq(vc_send(&c, "A", "98=0|108=1|"), 0);
	must(&c, "A");
	const struct fix_msg *m = must(&c, "1");
	cr_assert_neq(vc_get(m, 112)[0], '\0');
	cr_assert(vc_wait_closed(&c), "disconnected after the TestRequest went unanswered");
	vc_close(&c);
}

/* FX venues cancel a session's open orders when its connection goes; the cancels reach the
 * session at its next logon, and the drop copy sees every execution as it happens. */
Test(venue_sim, disconnect_cancels_open_orders_reported_at_next_logon_and_drop_copied)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI", "--session",
				    "FIX.4.2:VENUE:DC:dropcopy", NULL};
	start("exchange", "0", sess);
	static struct vclient c, dc;
	connect_logon(&dc, FIX_VER_42, "DC", "VENUE", false);
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	send_order(&c, "K1", "100", "1.1");
	send_order(&c, "K2", "200", "1.1");
	send_order(&c, "K3", "300", "1.1");
	cr_assert_eq(until_heartbeat(&c, "k", got, 16), 3);
	vc_close(&c); /* no Logout: a connection failure */

	/* The drop copy: three acknowledgements, then three cancels, in FIX.4.2. */
	for (int i = 0; i < 6; i++) {
		const struct fix_msg *m = must(&dc, "8");
		cr_assert_str_eq(vc_get(m, 20), "0", "FIX.4.2 ExecTransType");
		cr_assert_str_eq(vc_get(m, 150), i < 3 ? "0" : "4");
	}
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	int n = until_heartbeat(&c, "r", got, 16);
	cr_assert_eq(n, 3, "three cancel reports after the Logon");
	bool seen[3] = {false};
	for (int i = 0; i < n; i++) {
		cr_assert_str_eq(got[i].type, "8");
		cr_assert_str_eq(rget(&got[i], 150), "4");
		cr_assert_str_eq(rget(&got[i], 39), "4");
		cr_assert_str_eq(rget(&got[i], 151), "0");
		int k = rget(&got[i], 11)[1] - '1';
		cr_assert(k >= 0 && k < 3 && !seen[k]);
		seen[k] = true;
		cr_assert_str_eq(rget(&got[i], 43), "", "regular messages, not resends");
	}
	/* Nothing more to report at the logon after that. */
	vc_close(&c);
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	cr_assert_eq(until_heartbeat(&c, "r2", got, 16), 0);
	vc_close(&c);
	vc_close(&dc);
}

/* kill -9, restart on the same store: sequence numbers resume, open orders are cancelled and
 * reported, and a ResendRequest is served from the journal with PossDupFlag=Y. */
Test(venue_sim, restart_after_kill9_resumes_and_serves_resends_from_the_journal)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI", "--fsync", "none", NULL};
	start("exchange", "0", sess);
	static struct vclient c;
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	send_order(&c, "R1", "100", "1.1");
	send_order(&c, "R2", "100", "1.1");
	cr_assert_eq(until_heartbeat(&c, "k", got, 16), 2);
	char exec1[64], exec2[64];
	snprintf(exec1, 64, "%s", rget(&got[0], 17));
	snprintf(exec2, 64, "%s", rget(&got[1], 17));
	cr_assert_str_eq(rget(&got[0], 34), "2");
	vproc_kill9(&vp);
	vc_close(&c);

	start("exchange", "0", sess);
	c.fd = -1;
	cr_assert_eq(vc_connect(&c, vp.port, FIX_VER_44, "CLI", "VENUE"), 0);
	const struct fix_msg *m = vc_logon(&c, false);
	cr_assert(vc_is(m, "A"), "%s", m != NULL ? vc_show(&c) : c.err);
	/* Logon 1, two acknowledgements 2 and 3, the Heartbeat 4: the answer is 5. */
	cr_assert_str_eq(vc_get(m, 34), "5", "the venue's numbers resume after the restart");
	int n = until_heartbeat(&c, "r", got, 16);
	cr_assert_eq(n, 2, "the orders open at the crash are cancelled and reported");
	for (int i = 0; i < 2; i++)
		cr_assert_str_eq(rget(&got[i], 150), "4");

	cr_assert_eq(vc_send(&c, "2", "7=2|16=3|"), 0);
	for (int i = 0; i < 2; i++) {
		m = must(&c, "8");
		cr_assert_str_eq(vc_get(m, 43), "Y");
		cr_assert_neq(vc_get(m, 122)[0], '\0', "OrigSendingTime");
		cr_assert_str_eq(vc_get(m, 34), i == 0 ? "2" : "3");
		cr_assert_str_eq(vc_get(m, 17), i == 0 ? exec1 : exec2, "the same ExecID");
	}
	vc_close(&c);
	cr_assert_eq(vproc_stop(&vp), 0);
	char js[4096];
	cr_assert_eq(vproc_stats(&vp, js, sizeof(js)), 0);
	cr_assert(strstr(js, "\"resend_requests_served\": 1") != NULL, "%s", js);
	cr_assert(strstr(js, "\"resent_messages\": 2") != NULL, "%s", js);
}

Test(venue_sim, garbage_before_logon_closes_and_after_logon_is_ignored)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI", NULL};
	start("exchange", "0", sess);
	static struct vclient c;
	c.fd = -1;
	cr_assert_eq(vc_connect(&c, vp.port, FIX_VER_44, "CLI", "VENUE"), 0);
	const char junk[] = "this is not FIX\001\001\00110=000\001";
	cr_assert_eq(vc_send_raw(&c, junk, sizeof(junk) - 1), 0);
	cr_assert(vc_wait_closed(&c), "garbage before the Logon closes the connection");
	vc_close(&c);

	/* A Logon naming no configured session is not answered either. */
	c.seq = 1;
	cr_assert_eq(vc_connect(&c, vp.port, FIX_VER_44, "WHO", "VENUE"), 0);
	cr_assert_eq(vc_send(&c, "A", "98=0|108=30|"), 0);
	cr_assert(vc_wait_closed(&c));
	vc_close(&c);

	c.seq = 1;
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	cr_assert_eq(vc_send_raw(&c, junk, sizeof(junk) - 1), 0);
	/* A message with a wrong checksum is garbled too: ignored, its number not consumed. */
	const char badsum[] = "8=FIX.4.4\0019=5\00135=0\00110=000\001";
	cr_assert_eq(vc_send_raw(&c, badsum, sizeof(badsum) - 1), 0);
	cr_assert_eq(until_heartbeat(&c, "alive", got, 16), 0, "%s", got[0].type);
	send_order(&c, "G1", "10", "1.1");
	const struct fix_msg *m = must(&c, "8");
	cr_assert_str_eq(vc_get(m, 11), "G1");
	vc_close(&c);
}

/* With the nextexpected flag the Logon answer carries NextExpectedMsgSeqNum(789), and a
 * client's 789 below what was sent makes the simulator resend the rest right away. */
Test(venue_sim, next_expected_msg_seq_num_on_logon)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI:nextexpected", NULL};
	start("exchange", "0", sess);
	static struct vclient c;
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	cr_assert_str_eq(vc_get(&c.m, 789), "2");
	send_order(&c, "N1", "10", "1.1");
	const struct fix_msg *m = must(&c, "8");
	cr_assert_str_eq(vc_get(m, 34), "2");
	vc_close(&c); /* as if the acknowledgement had been lost with the connection */

	c.fd = -1;
	cr_assert_eq(vc_connect(&c, vp.port, FIX_VER_44, "CLI", "VENUE"), 0);
	cr_assert_eq(vc_send(&c, "A", "98=0|108=30|789=2|"), 0);
	m = must(&c, "A");
	cr_assert_str_eq(vc_get(m, 789), "4", "Logon 1, order 2, Logon 3 received");
	m = must(&c, "8");
	cr_assert_str_eq(vc_get(m, 34), "2");
	cr_assert_str_eq(vc_get(m, 43), "Y");
	cr_assert_str_eq(vc_get(m, 11), "N1");
	/* then the cancel of N1, reported after the Logon exchange */
	m = must(&c, "8");
	cr_assert_str_eq(vc_get(m, 150), "4");
	vc_close(&c);
}

/* user= and password= in the session spec: a Logon without them, or with others, is refused
 * with a Logout that says why (how a venue refuses fixmux's venue logon in the e2e tests). */
Test(venue_sim, logon_credentials_are_checked)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI:user=u1:password=s3cret", NULL};
	start("exchange", "0", sess);
	static struct vclient c;
	const char *bodies[] = {"98=0|108=30|", "98=0|108=30|553=u1|554=wrong|",
				"98=0|108=30|553=u2|554=s3cret|"};
	for (int i = 0; i < 3; i++) {
		c.fd = -1;
		c.seq = 1;
		cr_assert_eq(vc_connect(&c, vp.port, FIX_VER_44, "CLI", "VENUE"), 0);
		cr_assert_eq(vc_send(&c, "A", bodies[i]), 0);
		const struct fix_msg *m = vc_recv(&c);
		cr_assert(vc_is(m, "5"), "case %d: %s", i, m != NULL ? vc_show(&c) : c.err);
		cr_assert_str_eq(vc_get(m, 58), "invalid username or password");
		cr_assert(vc_wait_closed(&c));
		vc_close(&c);
	}
	c.fd = -1;
	c.seq = 1;
	cr_assert_eq(vc_connect(&c, vp.port, FIX_VER_44, "CLI", "VENUE"), 0);
	cr_assert_eq(vc_send(&c, "A", "98=0|108=30|553=u1|554=s3cret|"), 0);
	must(&c, "A");
	vc_close(&c);
}

/* Echo mode is exercised by test_acceptance_wire.c: every QuickFIX acceptance scenario over
 * the wire. */

Test(venue_sim, bad_options_are_named)
{
	const char *const bad[][4] = {
		{"--mode", "fast", NULL},
		{"--mode", "echo", "--fill-ratio", "2"},
		{"--mode", "echo", "--session", "FIX.9.9:A:B"},
	};
	const char *named[] = {"--mode 'fast'", "--fill-ratio '2'", "FIX.9.9"};
	for (int t = 0; t < 3; t++) {
		char log[320], cmd[1024];
		snprintf(log, sizeof(log), "%s/err%d.log", vp.dir, t);
		snprintf(cmd, sizeof(cmd),
			 "'%s' --listen 127.0.0.1:0 --store '%s' --session FIX.4.4:V:C %s %s %s %s "
			 "2>'%s'",
			 VSIM_BIN, vp.store, bad[t][0], bad[t][1], bad[t][2] ? bad[t][2] : "",
			 bad[t][3] ? bad[t][3] : "", log);
		int st = system(cmd);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "exit status %d", st);
		FILE *f = fopen(log, "r");
		cr_assert_not_null(f);
		char msg[512] = "";
		cr_assert_not_null(fgets(msg, sizeof(msg), f));
		fclose(f);
		cr_assert(strstr(msg, named[t]) != NULL, "'%s' does not name %s", msg, named[t]);
	}
}

/* Thousands of order changes compact the journal's order records on the way; after kill -9 the
 * orders still open (the partly filled ones) are exactly those cancelled and reported. */
Test(venue_sim, open_orders_survive_compaction_and_kill9)
{
	const char *const sess[] = {"--session", "FIX.4.4:VENUE:CLI", NULL};
	start("exchange", "0.5", sess);
	static struct vclient c;
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	enum { N = 2100 }; /* two records each: more than one compaction's worth (4096) */
	static bool open_left[N];
	int open = 0;
	for (int batch = 0; batch < N / 100; batch++) {
		for (int i = batch * 100; i < (batch + 1) * 100; i++) {
			char id[16];
			snprintf(id, sizeof(id), "C%d", i);
			send_order(&c, id, "10", "1.1");
		}
		int n = until_heartbeat(&c, "b", got, 512);
		for (int i = 0; i < n; i++) {
			int k = atoi(rget(&got[i], 11) + 1);
			open -= open_left[k];
			open_left[k] = strcmp(rget(&got[i], 39), "2") != 0; /* New or partly filled */
			open += open_left[k];
		}
	}
	cr_assert(open > 0 && open < N, "open %d", open);
	vproc_kill9(&vp);
	vc_close(&c);

	start("exchange", "0.5", sess);
	connect_logon(&c, FIX_VER_44, "CLI", "VENUE", false);
	int reported = 0;
	int n = until_heartbeat(&c, "r", got, 4096);
	for (int i = 0; i < n; i++) {
		cr_assert_str_eq(rget(&got[i], 150), "4");
		int k = atoi(rget(&got[i], 11) + 1);
		cr_assert(open_left[k], "C%d was not open or reported twice", k);
		open_left[k] = false;
		reported++;
	}
	cr_assert_eq(reported, open);
	vc_close(&c);
}

/* Seconds since midnight in ns of "HH:MM:SS.nnnnnnnnn", or -1 when it is not that form. */
static int64_t tod_ns(const char *t)
{
	unsigned h, mi, s, ns;
	int n = 0;
	if (strlen(t) != 18 || sscanf(t, "%2u:%2u:%2u.%9u%n", &h, &mi, &s, &ns, &n) != 4 || n != 18)
		return -1;
	return ((int64_t)(h * 3600 + mi * 60 + s)) * 1000000000ll + ns;
}

/* --md-rate: every increment carries its scheduled send time in MDEntryTime(273) with
 * nanoseconds, in each version's dictionary (the client validates every message, as fixmux's
 * venue session does), one interval apart, never later than its arrival. */
Test(venue_sim, md_rate_stamps_each_increment_with_its_scheduled_time)
{
	const char *args[] = {"--mode", "exchange", "--md-rate", "200", "--quiet", "--session",
			      "FIX.4.4:VENUE:MD", "--session", "FIX.4.2:VENUE:MD42", "--session",
			      "FIXT.1.1:VENUE:MD50", NULL};
	cr_assert_eq(vproc_start(&vp, args), 0, "simulator did not start (see %s/sim.log)", vp.dir);
	static struct vclient c[3];
	const enum fix_version v[3] = {FIX_VER_44, FIX_VER_42, FIX_VER_T11};
	const char *id[3] = {"MD", "MD42", "MD50"};
	for (int i = 0; i < 3; i++) {
		connect_logon(&c[i], v[i], id[i], "VENUE", false);
		cr_assert_eq(vc_send(&c[i], "V", "146=1|55=EURUSD|262=S1|263=1|264=1|267=2|269=0|"
						 "269=1|"),
			     0);
		must(&c[i], "W");
		int64_t prev = -1;
		for (int k = 0; k < 20; k++) {
			const struct fix_msg *m = must(&c[i], "X");
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			int64_t arrived = ((int64_t)now.tv_sec % 86400) * 1000000000ll + now.tv_nsec;
			int entries = 0;
			int64_t stamp = -1;
			for (const struct fix_field *f = fix_find(m, 273, 0); f != NULL;
			     f = fix_find(m, 273, (uint32_t)(f - m->fields) + 1)) {
				char t[32];
				snprintf(t, sizeof(t), "%.*s", (int)f->len, f->val);
				int64_t x = tod_ns(t);
				cr_assert_geq(x, 0, "MDEntryTime '%s'", t);
				cr_assert(stamp < 0 || x == stamp, "entries of one increment, one time");
				stamp = x;
				entries++;
			}
			cr_assert_eq(entries, 2, "bid and offer, each stamped: %s", vc_show(&c[i]));
			if (prev >= 0 && stamp > prev) /* (a midnight between them is not checked) */
				cr_assert_eq(stamp - prev, 5000000, "one 5 ms interval apart");
			if (arrived >= stamp)
				cr_assert_lt(arrived - stamp, 86400ll * 1000000000ll);
			else /* only across midnight */
				cr_assert_gt(stamp - arrived, 43200ll * 1000000000ll,
					     "stamped %lld ns after its arrival", (long long)(stamp - arrived));
			prev = stamp;
		}
		vc_close(&c[i]);
	}
	cr_assert_eq(vproc_stop(&vp), 0);
}
