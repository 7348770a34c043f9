#!/usr/bin/env python3
"""ClOrdID and ExecID accounting after a QuickFIX run through fixmux (tests/dataplane/qf/).

    check_accounts.py VENUE_DIR USER_DIR... [--wait SECONDS] [--allow-venue-dup-possdup]

Reads the venue's venue.log and each user's sent.log and er.log (formats in qf_venue.cpp and
qf_user.cpp) and checks, for every user:
  - every ClOrdID it sent reached the venue exactly once as a new order, or was refused by
    fixmux itself (an ExecutionReport OrdStatus=8 whose ExecID starts with FIXMUX-REJ-, then
    it must not have reached the venue), and the venue got no order nobody sent; a second copy at the venue is a failure unless it carries
    PossDupFlag=Y and --allow-venue-dup-possdup is given (an answer to the venue's own
    ResendRequest, which the venue recognises by ClOrdID);
  - every ExecutionReport it got is for one of its own ClOrdIDs (none reached the wrong user);
  - every ExecID the venue sent for its orders arrived, and no ExecID arrived twice without
    PossDupFlag=Y (a PossDup resend of one already received is allowed).
With --wait, the delivery checks are retried until they hold or the time is up (the reports
may still be on their way); the other checks never improve with time and fail at once.
Prints one line per user and exits 0 when everything holds, 1 otherwise.
"""
import os
import sys
import time
from collections import Counter, defaultdict

LOCAL_REJECT = "FIXMUX-REJ-"  # ExecIDs of fixmux's own rejects (control/ctl_mux_fwd.c)


def lines(path):
    try:
        with open(path) as f:
            return [l.split() for l in f if l.strip()]
    except FileNotFoundError:
        return []


def check(venue_dir, user_dirs, allow_dup_possdup):
    """Returns (hard problems, delivery problems, summary lines)."""
    hard, late, summary = [], [], []
    vlog = lines(os.path.join(venue_dir, "venue.log"))
    new_orders = Counter(w[1] for w in vlog if w[0] == "nos")
    for w in vlog:
        if w[0] == "dup" and not (allow_dup_possdup and w[2] == "Y"):
            hard.append("venue got order %s twice (PossDupFlag=%s)" % (w[1], w[2]))
    venue_execs = defaultdict(set)
    for w in vlog:
        if w[0] == "er":
            venue_execs[w[1]].add(w[2])
    all_sent = set()
    for udir in user_dirs:
        name = os.path.basename(udir.rstrip("/"))
        sent = [w[0] for w in lines(os.path.join(udir, "sent.log"))]
        mine = set(sent)
        if len(mine) != len(sent):
            hard.append("%s: its own ClOrdIDs repeat" % name)
        all_sent |= mine
        ers = lines(os.path.join(udir, "er.log"))
        local = {w[0] for w in ers if w[1].startswith(LOCAL_REJECT) and w[2] == "8"}
        for cl in sorted(mine):
            if cl in local:
                if new_orders[cl]:
                    hard.append("%s: order %s refused by fixmux reached the venue" % (name, cl))
                continue
            if new_orders[cl] == 0:
                late.append("%s: order %s never reached the venue" % (name, cl))
            elif new_orders[cl] > 1:
                hard.append("%s: order %s reached the venue %d times" % (name, cl, new_orders[cl]))
        got = defaultdict(lambda: [0, 0])  # ExecID -> [without PossDup, with PossDup]
        for w in ers:
            cl, ex, st, pd = w
            if cl not in mine:
                hard.append("%s: got ExecutionReport %s for %s, not its order" % (name, ex, cl))
                continue
            if ex not in venue_execs[cl] and cl not in local:
                hard.append("%s: got ExecID %s the venue never sent" % (name, ex))
            got[ex][1 if pd == "Y" else 0] += 1
        expected = set()
        for cl in mine:
            expected |= venue_execs[cl]
        expected |= {w[1] for w in ers if w[0] in local and w[1].startswith(LOCAL_REJECT)}
        for ex, (plain, dup) in sorted(got.items()):
            if plain > 1:
                hard.append("%s: ExecID %s arrived %d times without PossDupFlag=Y" % (name, ex, plain))
        missing = sorted(expected - set(got))
        if missing:
            late.append("%s: %d ExecutionReports never arrived, first %s"
                        % (name, len(missing), missing[0]))
        dups = sum(d for _, d in got.values())
        summary.append("%s: %d orders, %d ExecIDs expected, %d received, %d with PossDupFlag=Y"
                       % (name, len(mine), len(expected), len(set(got) & expected), dups))
    for cl in sorted(set(new_orders) - all_sent):
        hard.append("venue got order %s that no user sent" % cl)
    return hard, late, summary


def main():
    args = sys.argv[1:]
    wait = 0.0
    allow = False
    if "--allow-venue-dup-possdup" in args:
        args.remove("--allow-venue-dup-possdup")
        allow = True
    if "--wait" in args:
        i = args.index("--wait")
        wait = float(args[i + 1])
        del args[i:i + 2]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    deadline = time.monotonic() + wait
    while True:
        hard, late, summary = check(args[0], args[1:], allow)
        if hard or not late or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    for s in summary:
        print("accounts: " + s)
    for p in hard + late:
        print("FAIL: " + p)
    return 1 if hard or late else 0


if __name__ == "__main__":
    sys.exit(main())
