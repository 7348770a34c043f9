/* Refusing a held Logon when the venue logon fails, for a user that may be missing messages
 * (docs/multiplexing.md "Refusing a Logon when the user may be behind"): a Logout numbered
 * after messages the user never received would make a QuickFIX peer skip the first of them
 * (it takes a Logout without a gap check), so the connection is closed without one, and the
 * next successful Logon's resend delivers everything. Users whose numbering is certainly in
 * step still get the Logout that explains the refusal. */
#define _GNU_SOURCE
#include "mux_world.h"

static void setup(void)
{
	g_wire = true; /* W.user_wire: every byte the multiplexer sent each user */
	world_setup();
}

static void setup_789(void)
{
	g_user_789 = true;
	setup();
}

TestSuite(mux_refuse, .init = setup, .fini = world_teardown);
TestSuite(mux_refuse_789, .init = setup_789, .fini = world_teardown);

/* Logouts the multiplexer sent user i since byte offset from of its wire. */
static int logouts_sent(int i, size_t from)
{
	int n = 0;
	const char *b = W.user_wire[i].buf + from;
	const char *end = W.user_wire[i].buf + W.user_wire[i].len;
	while ((b = memmem(b, (size_t)(end - b), "\00135=5\001", 6)) != NULL) {
		n++;
		b += 6;
	}
	return n;
}

/* ExecutionReports user i received for clordid with that OrdStatus. */
static int reports(int i, const char *clordid, const char *status)
{
	int n = 0;
	for (int k = 0; k < W.user[i].n_rx; k++)
		if (!strcmp(W.user[i].rx[k].type, "8") && !strcmp(W.user[i].rx[k].clordid, clordid) &&
		    !strcmp(W.user[i].rx[k].ordstatus, status))
			n++;
	return n;
}

static bool logged(const char *what)
{
	for (int k = 0; k < W.n_log; k++)
		if (strstr(W.log[k], what))
			return true;
	return false;
}

/* User i's TCP connection fails: nothing more is delivered either way. */
static void connection_fails(int i)
{
	W.user[i].connected = false;
	W.user[i].in.len = 0;
	ctl_session_disconnected(W.user[i].s, W.now);
	ctl_mux_client_closed(W.mux, (uint32_t)i, W.now);
	pump();
	advance(3000);
}

/* fixmux is killed (no goodbyes) and restarts over the same journals. */
static void restart(void)
{
	ctl_mux_destroy(W.mux);
	W.mux = NULL;
	W.venue.connected = false;
	ctl_session_disconnected(W.venue.s, W.now);
	for (int i = 0; i < NUSERS; i++) {
		if (W.user[i].connected) {
			W.user[i].connected = false;
			ctl_session_disconnected(W.user[i].s, W.now);
		}
		W.user[i].in.len = 0;
	}
	W.to_mux_venue.len = W.venue.in.len = 0;
	mux_start();
}

/* alice logs on and orders; the venue's acknowledgements are journaled and sent
 * to her, but never reach her. */
static void alice_misses_two_acks(void)
{
	user_connect(0);
	pump();
	cr_assert(ctl_session_logged_on(W.user[0].s));
	W.user_deaf[0] = true;
	user_order(0, "A-1");
	user_order(0, "A-2");
	pump();
	cr_assert_eq(W.venue_orders_seen, 2);
	cr_assert_eq(reports(0, "A-1", "0") + reports(0, "A-2", "0"), 0);
}

/* The venue refuses fixmux's Logon while alice logs on: refused without a Logout. */
static void alice_refused_silently(void)
{
	W.venue_refuses = true;
	size_t mark = W.user_wire[0].len;
	uint64_t expected = ctl_session_next_in(W.user[0].s);
	user_connect(0);
	pump();
	advance(1000);
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	cr_assert(W.user[0].closed_by_mux, "the connection is closed");
	cr_assert_eq(logouts_sent(0, mark), 0, "no Logout the user could misread");
	cr_assert_eq(ctl_session_next_in(W.user[0].s), expected,
		     "alice still expects the first message she is missing");
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_REFUSED_WITHOUT_LOGOUT), 1);
	cr_assert(logged("closing without Logout"));
	cr_assert(logged("maintenance"), "the log names the venue's reason");
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
}

/* The venue works again: alice logs on, asks for the resend and gets what she missed. */
static void alice_logs_on_again(void)
{
	W.venue_refuses = false;
	user_connect(0);
	pump();
	advance(1000);
	cr_assert(ctl_session_logged_on(W.user[0].s));
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 0);
}

Test(mux_refuse, fresh_user_whose_first_logon_fails_gets_the_logout_with_the_reason)
{
	W.venue_refuses = true;
	user_connect(0);
	pump();
	advance(1000);
	cr_assert_not(ctl_session_logged_on(W.user[0].s));
	cr_assert_eq(logouts_sent(0, 0), 1);
	cr_assert(strstr(W.user[0].logout_text, "maintenance"), "'%s'", W.user[0].logout_text);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_REFUSED_WITHOUT_LOGOUT), 0);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_LOGONS_REFUSED), 1);
}

Test(mux_refuse, user_missing_messages_after_a_failure_is_refused_without_logout_then_resent)
{
	alice_misses_two_acks();
	connection_fails(0);
	/* The failure logged the venue out; it cancelled both orders while alice was away. */
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 2);
	W.user_deaf[0] = false;
	alice_refused_silently();
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_LOGONS_REFUSED), 1);
	alice_logs_on_again();
	for (int k = 1; k <= 2; k++) {
		char id[8];
		snprintf(id, sizeof(id), "A-%d", k);
		cr_assert_eq(reports(0, id, "0"), 1, "%s acknowledged exactly once", id);
		cr_assert_eq(reports(0, id, "4"), 1, "%s cancelled exactly once", id);
	}
	cr_assert_eq(W.user[0].n_rx, 4, "nothing else, nothing twice");
}

Test(mux_refuse, user_missing_messages_after_a_restart_is_refused_without_logout_then_resent)
{
	alice_misses_two_acks();
	restart();
	W.user_deaf[0] = false;
	alice_refused_silently();
	alice_logs_on_again();
	cr_assert_eq(reports(0, "A-1", "0"), 1);
	cr_assert_eq(reports(0, "A-2", "0"), 1);
	cr_assert_eq(W.user[0].n_rx, 2, "nothing else, nothing twice");
	/* Logged on once: the doubt is gone, a later refusal explains itself again. */
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	advance(3000);
	W.venue_refuses = true;
	size_t mark = W.user_wire[0].len;
	user_connect(0);
	pump();
	advance(1000);
	cr_assert_eq(logouts_sent(0, mark), 1);
	cr_assert(strstr(W.user[0].logout_text, "maintenance"), "'%s'", W.user[0].logout_text);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_REFUSED_WITHOUT_LOGOUT), 1);
}

Test(mux_refuse, restart_with_messages_journaled_makes_a_user_without_789_uncertain)
{
	/* alice received everything, but after a restart fixmux cannot know it. */
	user_connect(0);
	pump();
	user_order(0, "A-1");
	pump();
	cr_assert_eq(reports(0, "A-1", "0"), 1);
	restart();
	alice_refused_silently();
	alice_logs_on_again();
	cr_assert_eq(reports(0, "A-1", "0"), 1, "no second copy");
}

Test(mux_refuse_789, logon_saying_it_has_everything_gets_the_logout)
{
	user_connect(0);
	pump();
	user_order(0, "A-1");
	pump();
	cr_assert_eq(reports(0, "A-1", "0"), 1);
	/* Everything reached alice, but her connection fails: fixmux cannot know that... */
	connection_fails(0);
	W.venue_refuses = true;
	size_t mark = W.user_wire[0].len;
	user_connect(0);
	pump();
	advance(1000);
	/* ...until her Logon says NextExpectedMsgSeqNum = the next number sent. */
	cr_assert_eq(logouts_sent(0, mark), 1);
	cr_assert(strstr(W.user[0].logout_text, "maintenance"), "'%s'", W.user[0].logout_text);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_REFUSED_WITHOUT_LOGOUT), 0);
	alice_logs_on_again();
	cr_assert_eq(reports(0, "A-1", "0"), 1);
	cr_assert_eq(reports(0, "A-1", "4"), 1, "the cancel kept while she was away");
}

Test(mux_refuse_789, logon_expecting_an_older_number_is_refused_without_logout)
{
	alice_misses_two_acks();
	connection_fails(0);
	W.user_deaf[0] = false;
	alice_refused_silently();
	cr_assert(logged("the user expects 2,"), "the log says what alice expects");
	alice_logs_on_again();
	cr_assert_eq(reports(0, "A-1", "0"), 1);
	cr_assert_eq(reports(0, "A-2", "0"), 1);
	cr_assert_eq(reports(0, "A-1", "4"), 1);
	cr_assert_eq(reports(0, "A-2", "4"), 1);
	cr_assert_eq(W.user[0].n_rx, 4);
}

Test(mux_refuse, orderly_logout_keeps_the_refusal_logout)
{
	/* alice logs out herself; then the venue ends the day and logs bob out (he answers). */
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-1");
	user_order(1, "B-1");
	pump();
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	ctl_session_logout(W.venue.s, W.now, "end of day");
	pump();
	advance(3000);
	cr_assert_eq(ctl_mux_venue_state(W.mux, 0), CTL_VS_DOWN);
	cr_assert_not(ctl_session_logged_on(W.user[1].s));
	W.venue_refuses = true;
	for (int i = 0; i < 2; i++) {
		size_t mark = W.user_wire[i].len;
		W.user[i].logout_text[0] = '\0';
		user_connect(i);
		pump();
		advance(1000);
		cr_assert_not(ctl_session_logged_on(W.user[i].s));
		cr_assert_eq(logouts_sent(i, mark), 1, "user %d gets the Logout", i);
		cr_assert(strstr(W.user[i].logout_text, "maintenance"), "'%s'",
			  W.user[i].logout_text);
	}
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_REFUSED_WITHOUT_LOGOUT), 0);
}

Test(mux_refuse, wrong_password_is_still_answered_with_a_logout)
{
	/* Authentication failures are answered as before: their Logout goes to a peer that
	 * could not log on, so it has nothing of this session to lose. */
	user_connect(2);
	pump();
	cr_assert_eq(logouts_sent(2, 0), 1);
	cr_assert(strstr(W.user[2].logout_text, "Password"), "'%s'", W.user[2].logout_text);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_REFUSED_WITHOUT_LOGOUT), 0);
}

Test(mux_refuse, shutdown_refuses_a_held_user_that_may_be_behind_without_logout)
{
	alice_misses_two_acks();
	connection_fails(0);
	W.user_deaf[0] = false;
	/* alice's Logon is held while the venue session starts; fixmux is told to stop. */
	size_t mark = W.user_wire[0].len;
	uint64_t expected = ctl_session_next_in(W.user[0].s);
	user_connect(0);
	cr_assert_not(ctl_mux_user_online(W.mux, 0, 0));
	ctl_mux_shutdown(W.mux, W.now);
	pump();
	cr_assert(W.user[0].closed_by_mux);
	cr_assert_eq(logouts_sent(0, mark), 0);
	cr_assert_eq(ctl_session_next_in(W.user[0].s), expected);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_REFUSED_WITHOUT_LOGOUT), 1);
	cr_assert(logged("fixmux is shutting down; closing without Logout"));
}
