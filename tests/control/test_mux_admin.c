/* Run-time administration of the multiplexer (ctl_mux_admin.c), in the in-process world of
 * tests/control/mux_world.h, shared with test_mux.c: users are FIX initiator sessions, the
 * venue a FIX acceptor with a small exchange, all wired through byte queues.
 */
#define _GNU_SOURCE
#include "mux_world.h"

static int count_text(int i, const char *needle)
{
	int n = 0;
	for (int k = 0; k < W.user[i].n_rx; k++)
		n += strstr(W.user[i].rx[k].text, needle) != NULL;
	return n;
}

static void logged_on(int n)
{
	for (int i = 0; i < n; i++)
		user_connect(i);
	pump();
	for (int i = 0; i < n; i++)
		cr_assert(ctl_session_logged_on(W.user[i].s));
}

/* The running configuration's text with extra lines after a user's "sessions =" line, written
 * to a file the reload reads. */
static void write_conf(const char *path, const char *user, const char *extra)
{
	char key[64];
	snprintf(key, sizeof(key), "[user %s]\n", user);
	const char *at = strstr(W.ini, key);
	cr_assert_not_null(at);
	at = strstr(at, "sessions = LMAX.Orders\n") + strlen("sessions = LMAX.Orders\n");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%.*s%s%s", (int)(at - W.ini), W.ini, extra, at);
	fclose(f);
}

static bool logged(const char *needle)
{
	for (int i = 0; i < W.n_log; i++)
		if (strstr(W.log[i], needle))
			return true;
	return false;
}

TestSuite(admin, .init = world_setup, .fini = world_teardown);

Test(admin, names_find_users_and_sessions_and_unknown_names_do_not)
{
	cr_assert_eq(ctl_mux_find_user(W.mux, "bob"), 1);
	cr_assert_eq(ctl_mux_find_user(W.mux, "mallory"), -1);
	cr_assert_eq(ctl_mux_find_session(W.mux, "LMAX.Orders"), 0);
	cr_assert_eq(ctl_mux_find_session(W.mux, "LMAX"), -1);
	cr_assert_str_eq(ctl_mux_venue_state_name(CTL_VS_UP), "up");
}

Test(admin, session_and_user_info_follow_logons_sequence_numbers_and_pending)
{
	struct ctl_mux_session_info si;
	cr_assert_eq(ctl_mux_session_info(W.mux, 0, &si), 0);
	cr_assert_eq(si.state, CTL_VS_DOWN);
	cr_assert_eq(si.users_attached, 3);
	cr_assert_eq(si.users_online, 0);
	cr_assert_eq(si.heartbeat_s, 30);
	cr_assert_eq(ctl_mux_session_info(W.mux, 1, &si), -1, "no second session");
	logged_on(2);
	user_order(0, "A-1");
	pump();
	cr_assert_eq(ctl_mux_session_info(W.mux, 0, &si), 0);
	cr_assert_eq(si.state, CTL_VS_UP);
	cr_assert_eq(si.users_online, 2);
	/* Our Logon and the order went out; the venue's Logon and the order's ack came in. */
	cr_assert_eq(si.next_out, ctl_session_next_in(W.venue.s));
	cr_assert_eq(si.next_in, ctl_session_next_out(W.venue.s));
	cr_assert_eq(si.last_activity, W.now);
	struct ctl_mux_user_info ui;
	cr_assert_eq(ctl_mux_user_info(W.mux, 0, 0, &ui), 0);
	cr_assert(ui.online && ui.connected);
	cr_assert_eq(ui.src, (198u << 24) | (18u << 16) | 10u);
	cr_assert_eq(ui.next_in, ctl_session_next_out(W.user[0].s));
	cr_assert_eq(ui.next_out, ctl_session_next_in(W.user[0].s));
	cr_assert_eq(ctl_mux_user_info(W.mux, 2, 0, &ui), 0);
	cr_assert(!ui.online && !ui.connected);
	cr_assert_eq(ctl_mux_user_info(W.mux, 0, 5, &ui), -1, "alice is not on session 5");
	/* An execution for alice while she is away is pending for her. */
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	venue_exec("A-1", "2", "F");
	pump();
	cr_assert_eq(ctl_mux_user_info(W.mux, 0, 0, &ui), 0);
	cr_assert(!ui.online);
	cr_assert_eq(ui.pending, 1);
	cr_assert_eq(ctl_mux_session_info(W.mux, 0, &si), 0);
	cr_assert_eq(si.pending, 1);
}

Test(admin, logout_user_logs_only_that_user_out_and_the_venue_stays_up)
{
	logged_on(2);
	cr_assert_eq(ctl_mux_logout_user(W.mux, 0, "maintenance", W.now), 1);
	pump();
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	cr_assert(strstr(W.user[0].logout_text, "maintenance"), "alice's Logout says why: %s",
		  W.user[0].logout_text);
	cr_assert(ctl_session_logged_on(W.user[1].s), "bob stays");
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_UP);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_USER_FAILURES), 0);
	cr_assert(logged("admin: user alice"));
	cr_assert_eq(ctl_mux_logout_user(W.mux, 0, NULL, W.now), 0, "already out");
	cr_assert_eq(ctl_mux_logout_user(W.mux, 99, NULL, W.now), -1);
	/* The last user logged out by the operator takes the venue session down. */
	cr_assert_eq(ctl_mux_logout_user(W.mux, 1, NULL, W.now), 1);
	pump();
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
}

Test(admin, a_lower_user_rate_starts_rejecting_that_user_only)
{
	logged_on(2);
	char err[128];
	cr_assert_eq(ctl_mux_set_user_rate(W.mux, 0, 2, 2, W.now, err, sizeof(err)), 0, "%s", err);
	char id[16];
	for (int k = 0; k < 5; k++) {
		snprintf(id, sizeof(id), "A-%d", k);
		user_order(0, id);
		snprintf(id, sizeof(id), "B-%d", k);
		user_order(1, id);
	}
	pump();
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_RATE_LIMITED), 3);
	cr_assert_eq(W.venue_orders_seen, 2 + 5);
	cr_assert_eq(count_text(0, "rate limit exceeded"), 3);
	cr_assert_eq(count_rx(1, "8", NULL), 5, "bob is unaffected");
	struct ctl_mux_user_info ui;
	ctl_mux_user_info(W.mux, 0, 0, &ui);
	cr_assert_eq(ui.rate, 2);
	cr_assert_eq(ui.burst, 2);
	cr_assert_eq(ui.rate_refused, 3);
	/* Unlimited again. */
	cr_assert_eq(ctl_mux_set_user_rate(W.mux, 0, 0, 0, W.now, err, sizeof(err)), 0);
	user_order(0, "A-9");
	pump();
	cr_assert_eq(W.venue_orders_seen, 8);
	cr_assert_eq(ctl_mux_set_user_rate(W.mux, 0, 0, 5, W.now, err, sizeof(err)), -1);
	cr_assert_eq(ctl_mux_set_user_rate(W.mux, 7, 1, 1, W.now, err, sizeof(err)), -1);
}

Test(admin, a_lower_session_rate_limits_all_its_users_together)
{
	logged_on(2);
	char err[128];
	cr_assert_eq(ctl_mux_set_session_rate(W.mux, 0, 1, 3, W.now, err, sizeof(err)), 0);
	char id[16];
	for (int k = 0; k < 3; k++) {
		snprintf(id, sizeof(id), "A-%d", k);
		user_order(0, id);
		snprintf(id, sizeof(id), "B-%d", k);
		user_order(1, id);
	}
	pump();
	cr_assert_eq(W.venue_orders_seen, 3);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_RATE_LIMITED), 3);
	struct ctl_mux_session_info si;
	ctl_mux_session_info(W.mux, 0, &si);
	cr_assert_eq(si.rate, 1);
	cr_assert_eq(si.burst, 3);
	cr_assert(logged("admin: venue session LMAX.Orders: rate limit 1/s burst 3"));
	cr_assert_eq(ctl_mux_set_session_rate(W.mux, 3, 1, 1, W.now, err, sizeof(err)), -1);
}

Test(admin, a_filter_reload_takes_effect_and_a_broken_file_keeps_the_old_rules)
{
	logged_on(1);
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/reload.ini", W.dir);
	write_conf(path, "alice", "filter = deny no_eur 55 EUR\n");
	cr_assert_eq(ctl_mux_reload_filters(W.mux, path, err, sizeof(err)), 0, "%s", err);
	user_order(0, "A-1");
	pump();
	cr_assert_eq(W.venue_orders_seen, 0);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_FILTER_DENIED), 1);
	cr_assert_eq(count_text(0, "no_eur"), 1, "the reject names the rule");
	struct ctl_mux_user_info ui;
	ctl_mux_user_info(W.mux, 0, 0, &ui);
	cr_assert_eq(ui.filter_rules, 1);
	/* A broken expression: refused, the reason names the rule, no_eur still serves. */
	write_conf(path, "alice", "filter = deny broken 55 ([unclosed\n");
	cr_assert_eq(ctl_mux_reload_filters(W.mux, path, err, sizeof(err)), -1);
	cr_assert(strstr(err, "old rules kept") && strstr(err, "broken"), "%s", err);
	user_order(0, "A-2");
	pump();
	cr_assert_eq(W.venue_orders_seen, 0);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_FILTER_DENIED), 2);
	/* A file that does not load at all. */
	cr_assert_eq(ctl_mux_reload_filters(W.mux, "/nonexistent/fixmux.ini", err, sizeof(err)),
		     -1);
	cr_assert(strstr(err, "old rules kept"), "%s", err);
	/* The rule removed: orders flow again. */
	write_conf(path, "alice", "");
	cr_assert_eq(ctl_mux_reload_filters(W.mux, path, err, sizeof(err)), 0, "%s", err);
	user_order(0, "A-3");
	pump();
	cr_assert_eq(W.venue_orders_seen, 1);
}

Test(admin, a_new_heartbeat_is_proposed_at_the_next_venue_logon)
{
	logged_on(1);
	cr_assert_eq(ctl_session_heartbeat_s(W.venue.s), 30);
	char err[128];
	cr_assert_eq(ctl_mux_set_heartbeat(W.mux, UINT32_MAX, 7, err, sizeof(err)), 0);
	cr_assert_eq(ctl_session_heartbeat_s(W.venue.s), 30, "the running session keeps its own");
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	W.user[0].connected = false;
	ctl_session_disconnected(W.user[0].s, W.now);
	user_connect(0);
	pump();
	cr_assert(ctl_session_logged_on(W.venue.s));
	cr_assert_eq(ctl_session_heartbeat_s(W.venue.s), 7, "the venue saw HeartBtInt 7");
	cr_assert_eq(ctl_mux_set_heartbeat(W.mux, 0, 0, err, sizeof(err)), -1);
	cr_assert_eq(ctl_mux_set_heartbeat(W.mux, 4, 5, err, sizeof(err)), -1);
}

Test(admin, set_seqs_is_refused_while_logged_on_unless_forced)
{
	logged_on(1);
	char err[256];
	struct ctl_mux_session_info before, after;
	ctl_mux_session_info(W.mux, 0, &before);
	cr_assert_eq(ctl_mux_set_seqs(W.mux, 0, 100, 200, false, err, sizeof(err)), -1);
	cr_assert(strstr(err, "refused while it is connected"), "%s", err);
	ctl_mux_session_info(W.mux, 0, &after);
	cr_assert_eq(after.next_in, before.next_in);
	cr_assert_eq(after.next_out, before.next_out);
	cr_assert_eq(ctl_mux_set_seqs(W.mux, 0, 0, 5, true, err, sizeof(err)), -1);
	cr_assert_eq(ctl_mux_set_seqs(W.mux, 0, 100, 200, true, err, sizeof(err)), 0, "%s", err);
	ctl_mux_session_info(W.mux, 0, &after);
	cr_assert_eq(after.next_in, 100);
	cr_assert_eq(after.next_out, 200);
	cr_assert(logged("forced while connected"));
	/* Down: accepted without force. */
	ctl_session_logout(W.user[0].s, W.now, NULL);
	advance(3000);
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	cr_assert_eq(ctl_mux_set_seqs(W.mux, 0, 7, 9, false, err, sizeof(err)), 0, "%s", err);
	ctl_mux_session_info(W.mux, 0, &after);
	cr_assert_eq(after.next_in, 7);
	cr_assert_eq(after.next_out, 9);
}
