/* Our own initiator scenarios (tests/control/scenarios/initiator/NAME.def): the same format as
 * QuickFIX's acceptance suite seen from the other side: I lines are what the venue sends, E
 * lines what the initiator must send. One test per scenario file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/runner.h"

static void reset_on_logon(struct ctl_session_cfg *cfg) { cfg->reset_on_logon = true; }
static void next_expected(struct ctl_session_cfg *cfg) { cfg->next_expected_seq = true; }

static void run(const char *name, void (*tune)(struct ctl_session_cfg *))
{
	char path[1024], err[4096];
	snprintf(path, sizeof(path), "%s/tests/control/scenarios/initiator/%s.def",
		 FIXMUX_SOURCE_DIR, name);
	struct scn_opts o = {.role = CTL_ROLE_INITIATOR, .ver = FIX_VER_44, .our_id = "FIXMUX",
			     .their_id = "VENUE", .tune = tune};
	cr_assert(scn_run(path, &o, err, sizeof(err)) == 0, "%s.def: %s", name, err);
}

Test(initiator, i01_LogonAndVenueLogout) { run("i01_LogonAndVenueLogout", NULL); }
Test(initiator, i02_LogonRejectedByVenue) { run("i02_LogonRejectedByVenue", NULL); }
Test(initiator, i03_LogonNotAnswered) { run("i03_LogonNotAnswered", NULL); }
Test(initiator, i04_LogonWrongCompID) { run("i04_LogonWrongCompID", NULL); }
Test(initiator, i05_VenueGap) { run("i05_VenueGap", NULL); }
Test(initiator, i06_VenueResendRequest) { run("i06_VenueResendRequest", NULL); }
Test(initiator, i07_VenueSequenceReset) { run("i07_VenueSequenceReset", NULL); }
Test(initiator, i08_LogoutByUs) { run("i08_LogoutByUs", NULL); }
Test(initiator, i09_HeartbeatTimeout) { run("i09_HeartbeatTimeout", NULL); }
Test(initiator, i10_VenueMsgSeqNumTooLow) { run("i10_VenueMsgSeqNumTooLow", NULL); }
Test(initiator, i11_LogonAnswerTooHigh) { run("i11_LogonAnswerTooHigh", NULL); }
Test(initiator, i12_ResetOnLogon) { run("i12_ResetOnLogon", reset_on_logon); }
Test(initiator, i13_NextExpectedMsgSeqNum) { run("i13_NextExpectedMsgSeqNum", next_expected); }

/* The runner itself must be able to fail: a scenario whose expectation is wrong. */
Test(initiator, runner_detects_a_wrong_expectation)
{
	char path[] = "/tmp/fixmux_session_wrong_XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("iCONNECT\nE8=FIX.4.4\00135=A\00134=1\00149=FIXMUX\00152=00000000-00:00:00.000"
	      "\00156=VENUE\00198=0\001108=31\001\n", f);
	fclose(f);
	char err[4096];
	struct scn_opts o = {.role = CTL_ROLE_INITIATOR, .ver = FIX_VER_44, .our_id = "FIXMUX",
			     .their_id = "VENUE"};
	int rc = scn_run(path, &o, err, sizeof(err));
	remove(path);
	cr_assert(rc != 0, "a Logon with 108=30 matched an expectation of 108=31");
	cr_assert(strstr(err, "line 2") != NULL, "error does not name the line: %s", err);
}
