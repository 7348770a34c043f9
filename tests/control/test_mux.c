/* The multiplexer, end to end in one process: users are FIX initiator sessions, the venue is a
 * FIX acceptor session with a small exchange (acks orders, cancels them all when its session
 * ends), wired to the multiplexer through byte queues. Journals are real files in a temporary
 * store directory, so restarts are real recoveries.
 */
#define _GNU_SOURCE
#include "mux_world.h"

TestSuite(mux, .init = world_setup, .fini = world_teardown);

Test(mux, first_user_logon_is_answered_only_after_the_venue_logon)
{
	user_connect(0);
	/* Before the venue connection completes, alice has no answer. */
	ctl_mux_client_bytes(W.mux, 0, "", 0, W.now);
	cr_assert(W.venue_wanted, "alice's Logon must make fixmux connect to the venue");
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_CONNECTING);
	pump();
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_UP);
	cr_assert(ctl_session_logged_on(W.venue.s));
	cr_assert(ctl_session_logged_on(W.user[0].s));
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_VENUE_LOGONS), 1);
	/* A second user joins the live session: no second venue logon. */
	user_connect(1);
	pump();
	cr_assert(ctl_session_logged_on(W.user[1].s));
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_VENUE_LOGONS), 1);
}

Test(mux, executions_reach_their_owner_and_only_their_owner)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-1");
	user_order(1, "B-1");
	user_order(0, "A-2");
	pump();
	cr_assert_eq(W.venue_orders_seen, 3);
	cr_assert_eq(count_rx(0, "8", "A-1"), 1);
	cr_assert_eq(count_rx(0, "8", "A-2"), 1);
	cr_assert_eq(count_rx(0, "8", "B-1"), 0);
	cr_assert_eq(count_rx(1, "8", "B-1"), 1);
	cr_assert_eq(count_rx(1, "8", NULL), 1);
}

Test(mux, a_clordid_owned_by_another_user_is_refused_locally)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "SAME");
	pump();
	user_order(1, "SAME");
	pump();
	cr_assert_eq(W.venue_orders_seen, 1, "the duplicate must never reach the venue");
	cr_assert_eq(count_rx(1, "8", "SAME"), 1, "bob gets a local reject");
	cr_assert(strstr(W.user[1].rx[0].text, "another user"), "%s", W.user[1].rx[0].text);
	cr_assert_eq(count_rx(0, "8", "SAME"), 1, "alice sees only her own ack");
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_ID_CONFLICTS), 1);
	/* Reusing one's own ID is the user's business: forwarded. */
	user_order(0, "SAME");
	pump();
	cr_assert_eq(W.venue_orders_seen, 2);
}

Test(mux, only_the_last_logout_logs_out_of_the_venue)
{
	user_connect(0);
	user_connect(1);
	pump();
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_UP, "bob is still there");
	cr_assert(ctl_session_logged_on(W.user[1].s));
	ctl_session_logout(W.user[1].s, W.now, NULL);
	pump();
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	cr_assert_not(ctl_session_logged_on(W.venue.s));
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_USER_FAILURES), 0);
}

Test(mux, one_users_failure_logs_everyone_out_after_the_venues_cancels)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-1");
	user_order(1, "B-1");
	pump();
	/* alice's TCP connection breaks. */
	W.user[0].connected = false;
	ctl_session_disconnected(W.user[0].s, W.now);
	ctl_mux_client_closed(W.mux, 0, W.now);
	pump();
	advance(3000);
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_USER_FAILURES), 1);
	/* bob received the venue's cancel of his order during his logout cycle ... */
	cr_assert_eq(count_rx(1, "8", "B-1"), 2, "ack and cancel");
	cr_assert_not(ctl_session_logged_on(W.user[1].s), "bob was logged out");
	cr_assert(strstr(W.user[1].logout_text, "alice"), "bob's Logout names the cause: '%s'",
		  W.user[1].logout_text);
	/* ... and alice's cancel waits for her. */
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 1);
	cr_assert_eq(count_rx(0, "8", "A-1"), 1);
	user_connect(0);
	pump();
	cr_assert(ctl_session_logged_on(W.user[0].s));
	cr_assert_eq(count_rx(0, "8", "A-1"), 2, "alice gets her cancel at her next logon");
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 0);
	cr_assert_eq(count_rx(0, "8", "B-1"), 0);
}

Test(mux, venue_logout_logs_every_user_out_with_the_cause)
{
	user_connect(0);
	user_connect(1);
	pump();
	ctl_session_logout(W.venue.s, W.now, "end of day");
	pump();
	advance(3000);
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	for (int i = 0; i < 2; i++) {
		cr_assert_not(ctl_session_logged_on(W.user[i].s));
		cr_assert(strstr(W.user[i].logout_text, "LMAX.Orders"), "'%s'",
			  W.user[i].logout_text);
	}
}

Test(mux, venue_refusing_the_logon_is_explained_to_the_waiting_user)
{
	W.venue_refuses = true;
	user_connect(0);
	pump();
	advance(1000);
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	cr_assert(strstr(W.user[0].logout_text, "maintenance"), "alice's Logout says why: '%s'",
		  W.user[0].logout_text);
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	/* Next time the venue accepts: a new logon works. */
	W.venue_refuses = false;
	user_connect(0);
	pump();
	cr_assert(ctl_session_logged_on(W.user[0].s));
}

Test(mux, wrong_password_is_refused_without_touching_the_venue)
{
	user_connect(2); /* carol's session sends a wrong password */
	pump();
	advance(500);
	cr_assert_not(ctl_session_logged_on(W.user[2].s));
	cr_assert(strstr(W.user[2].logout_text, "Password"), "'%s'", W.user[2].logout_text);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_VENUE_LOGONS), 0,
		     "a refused user must not make fixmux log on to the venue");
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	cr_assert(W.user[2].closed_by_mux);
}

Test(mux, unknown_compids_and_garbage_close_the_connection)
{
	ctl_mux_client_accepted(W.mux, 5, 1, W.now);
	const char junk[] = "this is not FIX at all\001";
	ctl_mux_client_bytes(W.mux, 5, junk, sizeof(junk) - 1, W.now);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_LOGONS_REFUSED), 1);
	cr_assert_eq(W.n_refused_conns, 1, "the connection is closed");
	cr_assert_not(W.venue_wanted);
	/* A well-formed Logon from a stranger: closed too, the venue untouched. */
	ctl_mux_client_accepted(W.mux, 6, 1, W.now);
	struct fix_encoder e;
	char buf[256], *out;
	fix_enc_begin(&e, buf, sizeof(buf), FIX_VER_44, "A", NULL);
	fix_enc_cstr(&e, 49, "mallory");
	fix_enc_cstr(&e, 56, "LMAX.Orders");
	fix_enc_uint(&e, 34, 1);
	fix_enc_time(&e, 52, W.now, FIX_TIME_MS);
	fix_enc_cstr(&e, 98, "0");
	fix_enc_cstr(&e, 108, "30");
	size_t n = fix_enc_finish(&e, &out);
	ctl_mux_client_bytes(W.mux, 6, out, n, W.now);
	cr_assert_eq(W.n_refused_conns, 2);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_LOGONS_REFUSED), 2);
	cr_assert_not(W.venue_wanted);
}

Test(mux, duplicate_logon_is_refused_and_the_first_stays)
{
	user_connect(0);
	pump();
	/* A second connection claiming to be alice. */
	struct ctl_store_mem *mem;
	struct ctl_session_io io = {(void *)(intptr_t)2, user_send, user_deliver, user_disconnect,
				    user_event};
	ctl_session_destroy(W.user[2].s);
	ctl_store_mem_destroy(W.user[2].mem);
	W.user[2].s = make_session(CTL_ROLE_INITIATOR, "alice", "LMAX.Orders", &io, &mem);
	W.user[2].mem = mem;
	user_connect(2);
	pump();
	cr_assert(W.user[2].closed_by_mux);
	cr_assert(strstr(W.user[2].close_reason, "duplicate"), "%s", W.user[2].close_reason);
	cr_assert(ctl_session_logged_on(W.user[0].s), "the first connection is untouched");
}

Test(mux, routing_and_pending_messages_survive_a_restart)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-OLD");
	pump();
	/* alice logs out normally; the venue stays up for bob. */
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	/* The venue fills alice's old order while she is away: kept for her. */
	venue_exec("A-OLD", "2", "F");
	pump();
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 1);
	/* fixmux dies (no goodbyes) and restarts from its journals. */
	ctl_mux_destroy(W.mux);
	W.mux = NULL;
	W.venue.connected = false;
	ctl_session_disconnected(W.venue.s, W.now);
	W.user[1].connected = false;
	ctl_session_disconnected(W.user[1].s, W.now);
	W.to_mux_venue.len = W.venue.in.len = 0;
	mux_start();
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 1, "the pending fill was recovered");
	/* bob comes back first; the venue session resumes (no reset) and a late execution for
	 * alice's order still finds her. */
	user_connect(1);
	pump();
	cr_assert(ctl_session_logged_on(W.user[1].s));
	venue_exec("A-OLD", "2", "F");
	pump();
	cr_assert_eq(count_rx(1, "8", "A-OLD"), 0, "bob never sees alice's order");
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 2);
	user_connect(0);
	pump();
	cr_assert_eq(count_rx(0, "8", "A-OLD"), 3, "ack, and both fills after reconnecting");
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 0);
}

Test(mux, venue_gap_is_recovered_and_resent_messages_reach_their_owner)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-1");
	pump();
	ctl_session_logout(W.user[0].s, W.now, NULL); /* alice goes away in good order */
	pump();
	/* A fill for alice is lost on the wire; the next message reveals the gap. */
	venue_exec("A-1", "1", "F");
	W.to_mux_venue.len = 0;
	user_order(1, "B-1");
	pump();
	/* fixmux asked for a resend; the fill came back (PossDup) and waits for alice. */
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 1);
	cr_assert_eq(count_rx(1, "8", "A-1"), 0);
	cr_assert_eq(count_rx(1, "8", "B-1"), 1);
	user_connect(0);
	pump();
	cr_assert_eq(count_rx(0, "8", "A-1"), 2, "ack then the recovered fill");
}

Test(mux, venue_reject_returns_to_the_sender_in_its_own_numbering)
{
	user_connect(0);
	user_connect(1);
	pump();
	/* alice's traffic makes the venue's numbering run ahead of bob's. */
	user_order(0, "A-1");
	user_order(0, "A-2");
	user_order(0, "A-3");
	pump();
	uint64_t bob_seq = ctl_session_next_out(W.user[1].s);
	user_order(1, "B-1");
	pump();
	/* The venue rejects the last message it received, by its own sequence number. */
	uint64_t venue_ref = ctl_session_next_in(W.venue.s) - 1;
	cr_assert_neq(venue_ref, bob_seq, "the test must make the two numberings differ");
	char body[64];
	int n = snprintf(body, sizeof(body), "45=%llu\001372=D\001380=3\00158=not today\001",
			 (unsigned long long)venue_ref);
	ctl_session_send_app(W.venue.s, W.now, "j", NULL, 0, body, (size_t)n);
	pump();
	cr_assert_eq(count_rx(1, "j", NULL), 1, "bob gets the BusinessMessageReject");
	cr_assert_eq(count_rx(0, "j", NULL), 0);
	const struct received *r = NULL;
	for (int k = 0; k < W.user[1].n_rx; k++)
		if (!strcmp(W.user[1].rx[k].type, "j"))
			r = &W.user[1].rx[k];
	char want[24];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)bob_seq);
	cr_assert_str_eq(r->refseq, want, "RefSeqNum is bob's own number for B-1");
	cr_assert_str_eq(r->text, "not today");
}

Test(mux, shutdown_logs_everyone_out_in_order)
{
	user_connect(0);
	user_connect(1);
	pump();
	bool down = ctl_mux_shutdown(W.mux, W.now);
	cr_assert_not(down);
	for (int i = 0; i < 50 && !down; i++) {
		pump();
		W.now += 100 * 1000000LL;
		down = ctl_mux_shutdown(W.mux, W.now);
	}
	cr_assert(down, "everything must be down after the logout exchanges");
	cr_assert_not(ctl_session_logged_on(W.venue.s));
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	cr_assert_not(ctl_session_logged_on(W.user[1].s));
	cr_assert(strstr(W.user[0].logout_text, "shutting down"), "'%s'", W.user[0].logout_text);
	/* Nobody may log on while shutting down. */
	user_connect(0);
	pump();
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
}

Test(mux, routing_snapshots_keep_routes_across_a_restart)
{
	ctl_mux_set_route_compaction(W.mux, 4);
	user_connect(0);
	user_connect(1);
	pump();
	char id[16];
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "%c-%d", i % 2 ? 'B' : 'A', i);
		user_order(i % 2, id);
		pump();
	}
	cr_assert_gt(ctl_mux_counter(W.mux, CTL_MUX_ROUTE_SNAPSHOTS), 2);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_JOURNAL_ERRORS), 0);
	/* Restart from the compacted journal. */
	ctl_mux_destroy(W.mux);
	W.venue.connected = false;
	ctl_session_disconnected(W.venue.s, W.now);
	for (int i = 0; i < 2; i++) {
		W.user[i].connected = false;
		ctl_session_disconnected(W.user[i].s, W.now);
	}
	W.to_mux_venue.len = W.venue.in.len = 0;
	mux_start();
	user_connect(0);
	user_connect(1);
	pump();
	venue_exec("A-0", "2", "F");
	venue_exec("B-19", "2", "F");
	pump();
	cr_assert_eq(count_rx(0, "8", "A-0"), 2, "the oldest order still routes after compaction");
	cr_assert_eq(count_rx(1, "8", "B-19"), 2);
	cr_assert_eq(count_rx(1, "8", "A-0"), 0);
	/* A collision is still detected against the recovered table. */
	user_order(1, "A-2");
	pump();
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_ID_CONFLICTS), 1);
}

/* --- protection of the shared venue session --- */

static void protect_setup(void)
{
	g_session_extra = "rate_limit = 1000\nrate_burst = 1000\n"
			  "filter = deny fat_finger 38 ^[0-9]{7,}\n"
			  "filter = alert big_clip 38 ^[0-9]{5,}\n";
	g_alice_extra = "rate_limit = 2\nrate_burst = 3\n"
			"filter = deny no_gbp 55 GBP\n";
	g_app_extra = "logon_failures_per_min = 3\n";
	world_setup();
}

static void protect_teardown(void)
{
	world_teardown();
	g_session_extra = g_alice_extra = g_app_extra = "";
}

static void order_with(int i, const char *clordid, const char *symbol, const char *qty)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "11=%s\00121=1\00138=%s\00140=1\00154=1\00155=%s\00160=%s\001", clordid, qty,
			 symbol, "20270115-08:00:00");
	cr_assert_neq(ctl_session_send_app(W.user[i].s, W.now, "D", NULL, 0, body, (size_t)n), 0);
}

static const char *last_text(int i)
{
	return W.user[i].n_rx ? W.user[i].rx[W.user[i].n_rx - 1].text : "";
}

static int count_text(int i, const char *needle)
{
	int n = 0;
	for (int k = 0; k < W.user[i].n_rx; k++)
		n += strstr(W.user[i].rx[k].text, needle) != NULL;
	return n;
}

Test(protect, a_flooding_user_is_limited_and_others_are_not, .init = protect_setup,
     .fini = protect_teardown)
{
	user_connect(0);
	user_connect(1);
	pump();
	char id[16];
	for (int k = 0; k < 10; k++) {
		snprintf(id, sizeof(id), "A-%d", k);
		user_order(0, id);
		snprintf(id, sizeof(id), "B-%d", k);
		user_order(1, id);
	}
	pump();
	/* alice: burst of 3 passes, the other 7 are refused to her and never reach the venue. */
	cr_assert_eq(W.venue_orders_seen, 3 + 10);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_RATE_LIMITED), 7);
	cr_assert_eq(count_text(0, "rate limit exceeded for this user"), 7);
	cr_assert_eq(count_rx(1, "8", NULL), 10, "bob is unaffected");
	/* Half a second later alice has one more token. */
	W.now += 500 * MS_NS;
	user_order(0, "A-late");
	pump();
	cr_assert_eq(count_rx(0, "8", "A-late"), 1);
	cr_assert_eq(W.venue_orders_seen, 14);
}

Test(protect, deny_rules_refuse_and_alert_rules_count, .init = protect_setup,
     .fini = protect_teardown)
{
	user_connect(0);
	user_connect(1);
	pump();
	order_with(1, "B-1", "EUR/USD", "12345678"); /* session rule fat_finger */
	pump();
	cr_assert_eq(W.venue_orders_seen, 0);
	cr_assert(strstr(last_text(1), "fat_finger"), "'%s'", last_text(1));
	order_with(0, "A-1", "GBP/USD", "100"); /* alice's own rule */
	pump();
	cr_assert_eq(W.venue_orders_seen, 0);
	cr_assert(strstr(last_text(0), "no_gbp"), "'%s'", last_text(0));
	order_with(1, "B-2", "GBP/USD", "100"); /* alice's rule does not apply to bob */
	order_with(1, "B-3", "EUR/USD", "123456"); /* alert only: forwarded and counted */
	pump();
	cr_assert_eq(W.venue_orders_seen, 2);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_FILTER_DENIED), 2);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_FILTER_ALERTS), 1,
		     "the denied 12345678 also matches the alert, but was not forwarded");
}

Test(protect, a_logon_storm_from_one_address_is_cut_off, .init = protect_setup,
     .fini = protect_teardown)
{
	/* carol's session uses a wrong password; three failures use up the per-minute budget. */
	for (int k = 0; k < 3; k++) {
		user_connect(2);
		pump();
		cr_assert_not(ctl_session_logged_on(W.user[2].s));
	}
	uint64_t refused = ctl_mux_counter(W.mux, CTL_MUX_LOGON_STORM_REFUSED);
	user_connect(2);
	pump();
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_LOGON_STORM_REFUSED), refused + 1,
		     "the fourth attempt is closed before it is read");
	cr_assert(strstr(W.user[2].close_reason, "too many failed logons"), "%s",
		  W.user[2].close_reason);
	/* Even the right user from that address waits: the address is the unit. */
	user_connect(0);
	pump();
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	/* A minute later it may try again. */
	W.now += 61000 * MS_NS;
	user_connect(0);
	pump();
	cr_assert(ctl_session_logged_on(W.user[0].s));
}

Test(protect, a_bad_rule_refuses_to_start_naming_it)
{
	g_session_extra = "filter = deny broken 55 ([unclosed\n";
	memset(&W, 0, sizeof(W));
	snprintf(W.dir, sizeof(W.dir), "/tmp/fixmux-mux-XXXXXX");
	cr_assert_not_null(mkdtemp(W.dir));
	char ini[2048];
	snprintf(ini, sizeof(ini),
		 "[appliance]\nlisten_port = 9878\nstore_dir = %s\n[venue LMAX]\ntype = CLOB\n"
		 "[session LMAX.Orders]\naddress = 198.18.1.1:9880\nsender_comp_id = F\n"
		 "target_comp_id = L\n%s[user alice]\npassword_hash = $y$x\nsessions = LMAX.Orders\n",
		 W.dir, g_session_extra);
	g_session_extra = "";
	char err[256];
	cr_assert_eq(ctl_config_load_string(&W.cfg, ini, "bad.ini", err, sizeof(err)), 0, "%s", err);
	struct ctl_mux_io io = {.client_send = mx_client_send, .client_close = mx_client_close,
				.venue_connect = mx_venue_connect, .venue_send = mx_venue_send,
				.venue_close = mx_venue_close, .log = mx_log};
	struct ctl_mux *mux = ctl_mux_create(&W.cfg, &io, 0, err, sizeof(err));
	cr_assert_null(mux);
	cr_assert(strstr(err, "broken"), "the error names the rule: %s", err);
	ctl_config_free(&W.cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", W.dir);
	cr_assert_eq(system(cmd), 0);
}

static void nopw_setup(void)
{
	g_alice_extra = "password_hash = none\nallowed_addresses = 198.18.0.10\n";
	world_setup();
}

Test(protect, a_user_without_password_is_known_by_its_address, .init = nopw_setup,
     .fini = protect_teardown)
{
	user_connect(0); /* from 198.18.0.10 */
	pump();
	cr_assert(ctl_session_logged_on(W.user[0].s));
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	/* The same identity from elsewhere is refused before anything happens. */
	W.user[0].connected = true;
	W.user[0].closed_by_mux = false;
	ctl_mux_client_accepted(W.mux, 0, (198u << 24) | (18u << 16) | 11u, W.now);
	ctl_session_connect(W.user[0].s, W.now);
	pump();
	cr_assert(W.user[0].closed_by_mux);
	cr_assert(strstr(W.user[0].close_reason, "address"), "%s", W.user[0].close_reason);
}

Test(mux, a_possresend_of_an_order_already_forwarded_is_not_sent_again)
{
	user_connect(0);
	pump();
	user_order(0, "A-1");
	pump();
	/* The same order again, flagged PossResend(97=Y) in the header. */
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "11=A-1\00121=1\00138=1000\00140=1\00154=1\00155=EUR/USD\00160=%s\001",
			 "20270115-08:00:00");
	struct fix_field pr = {.tag = 97, .val = "Y", .len = 1};
	cr_assert_neq(ctl_session_send_app(W.user[0].s, W.now, "D", &pr, 1, body, (size_t)n), 0);
	/* A PossResend of an order fixmux never saw goes through. */
	n = snprintf(body, sizeof(body),
		     "11=A-2\00121=1\00138=1000\00140=1\00154=1\00155=EUR/USD\00160=%s\001",
		     "20270115-08:00:00");
	cr_assert_neq(ctl_session_send_app(W.user[0].s, W.now, "D", &pr, 1, body, (size_t)n), 0);
	pump();
	cr_assert_eq(W.venue_orders_seen, 2, "A-1 once, A-2 once");
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_POSSRESEND_DROPPED), 1);
	cr_assert_eq(count_rx(0, "8", "A-1"), 1);
	cr_assert_eq(count_rx(0, "8", "A-2"), 1);
}

Test(mux, every_counter_has_a_distinct_name)
{
	for (int i = 0; i < CTL_MUX__COUNTERS; i++) {
		cr_assert_not_null(ctl_mux_counter_names[i], "counter %d has no name", i);
		for (int k = 0; k < i; k++)
			cr_assert_str_neq(ctl_mux_counter_names[i], ctl_mux_counter_names[k]);
	}
}

Test(mux, an_order_taken_while_the_venue_fails_is_answered_at_the_next_logon)
{
	user_connect(0);
	user_connect(1);
	pump();
	/* The venue logs out; fixmux handles it and starts logging the users out ... */
	ctl_session_logout(W.venue.s, W.now, "venue crash");
	feed_frames(&W.to_mux_venue, to_mux, NULL);
	feed_frames(&W.venue.in, to_venue, NULL);
	feed_frames(&W.to_mux_venue, to_mux, NULL);
	ctl_mux_poll(W.mux, W.now);
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	/* ... but alice's order crosses fixmux's Logout on the wire. */
	int seen = W.venue_orders_seen;
	user_order(0, "A-late");
	pump();
	cr_assert_eq(W.venue_orders_seen, seen, "nothing reaches a venue that is down");
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 1, "the answer waits for alice");
	/* alice comes back: she learns what became of her order. */
	user_connect(0);
	pump();
	cr_assert(ctl_session_logged_on(W.user[0].s));
	cr_assert_eq(count_rx(0, "8", "A-late"), 1);
	cr_assert(strstr(W.user[0].rx[W.user[0].n_rx - 1].text, "not available"), "'%s'",
		  W.user[0].rx[W.user[0].n_rx - 1].text);
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 0);
}

Test(mux, a_venue_that_pushes_back_gets_no_more_and_senders_are_told)
{
	user_connect(0);
	user_connect(1);
	pump();
	W.venue_busy = true;
	user_order(0, "A-1");
	user_order(1, "B-1");
	pump();
	cr_assert_eq(W.venue_orders_seen, 0, "nothing more for a venue connection that is full");
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_VENUE_BUSY), 2);
	cr_assert_eq(count_rx(0, "8", "A-1"), 1, "alice is told at once");
	cr_assert(strstr(W.user[0].rx[W.user[0].n_rx - 1].text, "busy"), "'%s'",
		  W.user[0].rx[W.user[0].n_rx - 1].text);
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_UP, "the session stays up for all");
	W.venue_busy = false;
	user_order(0, "A-2");
	pump();
	cr_assert_eq(W.venue_orders_seen, 1);
	cr_assert_eq(count_rx(0, "8", "A-2"), 1);
}

static void md_request(int i, const char *id, char type)
{
	char body[160];
	int n = snprintf(body, sizeof(body),
			 "262=%s\001263=%c\001264=1\001267=1\001269=0\001146=1\00155=EUR/USD\001",
			 id, type);
	cr_assert_neq(ctl_session_send_app(W.user[i].s, W.now, "V", NULL, 0, body, (size_t)n), 0);
}

Test(mux, an_unsubscribed_mdreqid_may_be_used_by_another_user)
{
	user_connect(0);
	user_connect(1);
	pump();
	md_request(0, "m1", '1');
	pump();
	md_request(1, "m1", '1');
	pump();
	cr_assert_eq(count_rx(1, "Y", NULL), 1, "alice owns m1: bob's request is refused locally");
	md_request(0, "m1", '2'); /* alice unsubscribes */
	pump();
	md_request(1, "m1", '1');
	pump();
	cr_assert_eq(count_rx(1, "Y", NULL), 1, "after the unsubscribe bob's request goes through");
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_ID_CONFLICTS), 1);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_FORWARDED_TO_VENUE), 3);
}
