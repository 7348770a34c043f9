#!/usr/bin/env python3
"""The accounting of check_accounts.py on hand-made logs: it must pass a clean run and catch
each delivery fault the QuickFIX scenarios are there to find. No root, no network."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

VENUE = ["logon", "nos A-1 N", "er A-1 A-1.0 0", "er A-1 A-1.2 2",
         "nos B-1 N", "er B-1 B-1.0 0", "logout"]
ALICE_SENT = ["A-1"]
ALICE_ER = ["A-1 A-1.0 0 N", "A-1 A-1.2 2 N"]
BOB_SENT = ["B-1"]
BOB_ER = ["B-1 B-1.0 0 N"]


def run(case, venue=VENUE, alice_er=ALICE_ER, bob_er=BOB_ER, bob_sent=BOB_SENT, extra=()):
    with tempfile.TemporaryDirectory() as d:
        files = {"venue/venue.log": venue, "alice/sent.log": ALICE_SENT,
                 "alice/er.log": alice_er, "bob/sent.log": bob_sent, "bob/er.log": bob_er}
        for path, content in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(d, path), "w") as f:
                f.write("".join(l + "\n" for l in content))
        r = subprocess.run([sys.executable, os.path.join(HERE, "check_accounts.py"),
                            os.path.join(d, "venue"), os.path.join(d, "alice"),
                            os.path.join(d, "bob")] + list(extra),
                           capture_output=True, text=True)
        return r.returncode, r.stdout


def expect(case, want_rc, want_text, **kw):
    rc, out = run(case, **kw)
    if rc != want_rc or want_text not in out:
        print("FAIL %s: exit %d, wanted %d with %r:\n%s" % (case, rc, want_rc, want_text, out))
        return False
    print("ok: " + case)
    return True


def main():
    ok = True
    ok &= expect("clean run", 0, "alice: 1 orders, 2 ExecIDs expected, 2 received")
    ok &= expect("PossDup copy of a received report is allowed", 0, "1 with PossDupFlag=Y",
                 alice_er=ALICE_ER + ["A-1 A-1.2 2 Y"])
    ok &= expect("a report twice without PossDupFlag", 1, "arrived 2 times without PossDupFlag",
                 alice_er=ALICE_ER + ["A-1 A-1.2 2 N"])
    ok &= expect("a report at the wrong user", 1, "not its order",
                 bob_er=BOB_ER + ["A-1 A-1.2 2 N"])
    ok &= expect("a lost report", 1, "1 ExecutionReports never arrived", alice_er=ALICE_ER[:1])
    ok &= expect("an order lost on the way to the venue", 1, "never reached the venue",
                 bob_sent=BOB_SENT + ["B-2"])
    ok &= expect("an order taken twice by the venue", 1, "reached the venue 2 times",
                 venue=VENUE + ["nos B-1 N"])
    ok &= expect("a second copy at the venue, not PossDup", 1, "got order B-1 twice",
                 venue=VENUE + ["dup B-1 N"])
    ok &= expect("a PossDup copy at the venue, not allowed by default", 1, "got order B-1 twice",
                 venue=VENUE + ["dup B-1 Y"])
    ok &= expect("a PossDup copy at the venue, allowed", 0, "bob: 1 orders",
                 venue=VENUE + ["dup B-1 Y"], extra=["--allow-venue-dup-possdup"])
    ok &= expect("an order at the venue nobody sent", 1, "no user sent",
                 venue=VENUE + ["nos C-1 N"])
    ok &= expect("a report the venue never sent", 1, "the venue never sent",
                 alice_er=ALICE_ER + ["A-1 A-1.9 2 N"])
    ok &= expect("an order refused by fixmux itself", 0, "bob: 2 orders",
                 bob_sent=BOB_SENT + ["B-2"], bob_er=BOB_ER + ["B-2 FIXMUX-REJ-1 8 N"])
    ok &= expect("an order refused by fixmux that still reached the venue", 1,
                 "refused by fixmux reached the venue",
                 bob_sent=BOB_SENT + ["B-2"], bob_er=BOB_ER + ["B-2 FIXMUX-REJ-1 8 N"],
                 venue=VENUE + ["nos B-2 N"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
