#!/usr/bin/python3
"""fixmuxctl against a running fixmux (started by run_fixmuxctl.sh): every command's table and
JSON, the errors, and the run-time changes checked by what users and the venue see.

Runs inside the test's network namespace (the users are FIX 4.4 initiators on kernel TCP,
fix_users.py's User); fixmuxctl reaches fixmux over its telemetry socket in /var/run/dpdk.
Exit status 0 when every check holds; the first failed check is printed on stderr.
"""
import argparse
import json
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--file-prefix", required=True)
    ap.add_argument("--host", default="198.18.0.2")
    ap.add_argument("--port", type=int, default=9878)
    ap.add_argument("--target", default="SIM.Orders")
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--fixmux-err", required=True)
    ap.add_argument("--users-py", required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.users_py)
    global fu
    import fix_users as fu  # noqa: E402  (the e2e test's users, shared)
    pw = open(args.password_file).read().strip()
    try:
        run(args, pw)
    except fu.Failure as e:
        print("FAIL:", e, file=sys.stderr)
        return 1
    return 0


def ctl(args, *words, as_json=False):
    cmd = [args.ctl, "--file-prefix", args.file_prefix] + (["--json"] if as_json else [])
    p = subprocess.run(cmd + list(words), capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def ok(args, *words):
    """A command that must succeed: its table (text) and its JSON (parsed)."""
    rc, out, err = ctl(args, *words)
    fu.check(rc == 0, "fixmuxctl %s: exit 0 (%d: %s)" % (" ".join(words), rc, err.strip()))
    print("".join("    | " + l + "\n" for l in out.splitlines()), end="")  # the table, for the log
    rc, jout, err = ctl(args, *words, as_json=True)
    fu.check(rc == 0, "fixmuxctl --json %s: exit 0 (%s)" % (" ".join(words), err.strip()))
    try:
        doc = json.loads(jout)
    except ValueError:
        raise fu.Failure("fixmuxctl --json %s: not JSON: %r" % (" ".join(words), jout))
    return out, doc


def refused(args, *words, want):
    rc, out, err = ctl(args, *words)
    fu.check(rc == 1 and want in err,
             "fixmuxctl %s refused with '%s' (exit %d: %s)" % (" ".join(words), want, rc,
                                                               err.strip()))
    rc, jout, _ = ctl(args, *words, as_json=True)
    doc = json.loads(jout)
    fu.check(rc == 1 and want in doc.get("error", ""),
             "fixmuxctl --json %s: {\"error\": ...} names it" % " ".join(words))


def table_row(text, first):
    """The row of a human table whose first cell is `first`, as cells."""
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0] == first:
            return cells
    raise fu.Failure("no row %r in:\n%s" % (first, text))


def kv(text):
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        out[k] = v.strip()
    return out


def wait_ctl(args, what, words, pred):
    deadline = time.monotonic() + fu.TIMEOUT
    while True:
        _, doc = ok(args, *words)
        if pred(doc):
            fu.check(True, what)
            return doc
        if time.monotonic() > deadline:
            raise fu.Failure("%s: never true: %s" % (what, doc))
        time.sleep(0.2)


def text_of(u, needle):
    return lambda m: needle in m.get(58, "")


def venue_logon_heartbeats(args):
    """HeartBtInt(108) of every Logon fixmux sent to the venue, from the capture."""
    p = subprocess.run(["tshark", "-r", args.work + "/venue.pcapng", "-Y", "tcp.len > 0",
                        "-T", "fields", "-e", "tcp.payload"], capture_output=True, text=True)
    stream = b"".join(bytes.fromhex(h.replace(":", "")) for h in p.stdout.split())
    out = []
    for msg in stream.split(b"8=FIX.4.4\x01")[1:]:
        f = dict(x.split(b"=", 1) for x in msg.split(b"\x01") if b"=" in x)
        if f.get(b"35") == b"A" and f.get(b"49") == b"FIXMUX":
            out.append(int(f[b"108"]))
    return out


def write_config(args, alice_extra):
    """The running configuration with extra lines in alice's section."""
    path = args.work + "/fixmux.ini"
    text = open(path).read()
    head, _, tail = text.partition("[user alice]\n")
    sect, _, rest = tail.partition("\n\n")
    lines = [l for l in sect.split("\n") if not l.startswith("filter")]
    open(path, "w").write(head + "[user alice]\n" + "\n".join(lines + [alice_extra]).rstrip()
                          + "\n\n" + rest)


def run(args, pw):
    # --- errors of the tool itself
    rc, _, err = ctl(args, "frobnicate")
    fu.check(rc == 2 and "unknown command 'frobnicate'" in err and "set-seqs" in err,
             "an unknown command is named and the commands are listed")
    rc, _, err = ctl(args, "logout")
    fu.check(rc == 2 and "usage: fixmuxctl logout USER" in err, "a missing argument: usage")

    # --- status and config before any user
    out, doc = ok(args, "status")
    fu.check(doc["state"] == "running" and doc["venue_sessions"] == 1 and doc["users"] == 2
             and doc["venue_sessions_up"] == 0, "status JSON: running, 1 session, 2 users")
    fu.check(kv(out).get("state") == "running" and kv(out).get("users") == "2",
             "status table: state running, users 2")
    out, doc = ok(args, "config")
    fu.check(doc["listen_port"] == 9878 and doc["session"] == ["SIM.Orders"]
             and doc["session_heartbeat_s"] == [30] and doc["file"].endswith("fixmux.ini"),
             "config JSON: port, session, heartbeat, file")
    fu.check(kv(out).get("listen_port") == "9878" and table_row(out, "SIM.Orders"),
             "config table")

    # --- two users on
    alice, bob = fu.User("alice", args), fu.User("bob", args)
    fu.logon_ok(alice, pw)
    fu.logon_ok(bob, pw)
    alice.order("A-1")
    fu.acked(alice, "A-1")

    out, doc = ok(args, "sessions")
    fu.check(doc["session"] == ["SIM.Orders"] and doc["state"] == ["up"]
             and doc["online"] == [2] and doc["users"] == [2] and doc["next_out"][0] >= 3
             and doc["next_in"][0] >= 3, "sessions JSON: up, 2 online, numbers moved")
    row = table_row(out, "SIM.Orders")
    fu.check(row[1] == "up" and out.splitlines()[0].split()[:4] ==
             ["session", "state", "next_in", "next_out"], "sessions table: header and row")
    out, doc = ok(args, "users")
    fu.check(doc["user"] == ["alice", "bob"] and doc["state"] == ["online", "online"]
             and doc["address"] == ["198.18.0.1", "198.18.0.1"]
             and doc["next_in"][0] == alice.seq, "users JSON: both online, address, numbers")
    fu.check(table_row(out, "alice")[2:4] == ["online", "198.18.0.1"], "users table")
    out, doc = ok(args, "stats")
    fu.check(doc["forwarded_to_venue"] >= 1 and doc["venue_logons"] == 1
             and "client_tcp_segs_in" in doc and "venue_tcp_segs_out" in doc
             and "tcp_accepted" in doc and doc["port_client_ipackets"] > 0
             and doc["port_venue_opackets"] > 0,
             "stats JSON: multiplexer, process, port and stack counters")
    fu.check(kv(out).get("venue_logons") == "1", "stats table")
    out, doc = ok(args, "latency")
    fu.check(doc["direction"] == ["client_to_venue", "venue_to_client"]
             and doc["count"][0] >= 1 and doc["count"][1] >= 1, "latency JSON: both measured")
    fu.check(all(doc["min_ns"][i] <= doc["p50_ns"][i] <= doc["p99_ns"][i] <= doc["max_ns"][i]
                 and doc["max_ns"][i] > 0 for i in range(2)), "latency: ordered percentiles")
    fu.check(table_row(out, "client_to_venue")[1] == str(doc["count"][0]), "latency table")
    # A reset starts the percentiles afresh; what is forwarded afterwards is counted again.
    before = doc["count"]
    out, doc = ok(args, "latency", "reset")
    fu.check(doc["result"] == "latency histograms reset"
             and doc["client_to_venue_before"] >= before[0], "latency reset: ok, counts named")
    _, doc = ok(args, "latency")
    fu.check(doc["count"] == [0, 0] and doc["p99_ns"] == [0, 0] and doc["max_ns"] == [0, 0],
             "latency after reset: nothing counted (%s)" % doc["count"])
    alice.order("A-2")
    fu.acked(alice, "A-2")
    _, doc = ok(args, "latency")
    fu.check(doc["count"][0] == 1 and doc["count"][1] >= 1
             and 0 < doc["min_ns"][0] <= doc["p50_ns"][0] <= doc["max_ns"][0],
             "latency after reset and one order: that order only (%s)" % doc["count"])

    # --- a lower rate starts rejecting
    out, doc = ok(args, "set", "rate", "user", "bob", "1", "1")
    fu.check(doc["result"] == "ok" and "bob" in doc["change"], "set rate: ok")
    for k in range(5):
        bob.order("B-%d" % k)
    bob.wait_for("a rate-limit reject", text_of(bob, "rate limit"))
    _, doc = ok(args, "stats")
    fu.check(doc["rate_limited"] >= 1, "stats: rate_limited = %d" % doc["rate_limited"])
    _, doc = ok(args, "users")
    fu.check(doc["rate"][1] == 1 and doc["rate_limited"][1] >= 1, "users: bob's rate 1")
    ok(args, "set", "rate", "user", "bob", "0")
    refused(args, "set", "rate", "user", "nobody", "5", want="no user 'nobody'")
    refused(args, "set", "rate", "session", "SIM.Orders", "x", want="usage: set rate")

    # --- filters reloaded from the file
    write_config(args, "filter = deny no_eur 55 EUR")
    out, doc = ok(args, "reload-filters")
    fu.check(doc["result"] == "ok", "reload-filters: ok")
    alice.order("A-2")
    alice.wait_for("the new deny rule", text_of(alice, "no_eur"))
    _, doc = ok(args, "stats")
    fu.check(doc["filter_denied"] >= 1, "stats: filter_denied")
    write_config(args, "filter = deny broken 55 ([unclosed")
    refused(args, "reload-filters", want="old rules kept")
    rc, _, err = ctl(args, "reload-filters")
    fu.check("broken" in err, "the refusal names the broken rule: %s" % err.strip())
    alice.order("A-3")
    alice.wait_for("the old rule still serving", lambda m: m.get(11) == "A-3" or
                   (m.get(35) == "j" and "no_eur" in m.get(58, "")) or "no_eur" in m.get(58, ""))
    fu.check("no_eur" in alice.rx[-1].get(58, ""), "the old rules still serve after a broken file")
    write_config(args, "")
    ok(args, "reload-filters")
    alice.order("A-4")
    fu.acked(alice, "A-4")

    # --- sequence numbers: refused while logged on
    refused(args, "set-seqs", "SIM.Orders", "100", "100", want="refused while it is connected")

    # --- log level and idle strategy
    _, doc = ok(args, "log-level", "warning")
    _, doc = ok(args, "status")
    fu.check(doc["log_level"] == "warning", "status shows log level warning")
    ok(args, "log-level", "info")
    refused(args, "log-level", "loud", want="unknown log level")
    ok(args, "idle", "sleep")
    _, doc = ok(args, "status")
    fu.check(doc["idle"] == "sleep", "status shows idle sleep")
    ok(args, "idle", "backoff")
    refused(args, "idle", "nap", want="nap")

    # --- heartbeat at the next venue Logon; logout of one user
    _, doc = ok(args, "set", "heartbeat", "7")
    _, doc = ok(args, "sessions")
    fu.check(doc["heartbeat_s"] == [7], "sessions: heartbeat 7 for the next Logon")
    # Once only (a second logout finds nobody): the table form.
    rc, out, err = ctl(args, "logout", "alice")
    fu.check(rc == 0 and kv(out).get("sessions") == "1" and "Logout sent on 1 session" in out,
             "logout alice: one session (%s%s)" % (out, err))
    m = alice.wait_for("the operator's Logout", lambda m: m.get(35) == "5")
    fu.check("operator" in m.get(58, ""), "alice's Logout says why: %s" % m.get(58))
    alice.send("5", [])
    alice.wait_closed()
    wait_ctl(args, "alice offline, bob online, the venue session up", ["users"],
             lambda d: d["state"] == ["offline", "online"])
    _, doc = ok(args, "sessions")
    fu.check(doc["state"] == ["up"], "the venue session stays up for bob")
    bob.logout()
    wait_ctl(args, "the venue session is down after the last user", ["sessions"],
             lambda d: d["state"] == ["down"])
    fu.logon_ok(alice, pw)
    wait_ctl(args, "the venue session is up again", ["sessions"], lambda d: d["state"] == ["up"])
    deadline = time.monotonic() + fu.TIMEOUT
    hb = venue_logon_heartbeats(args)
    while len(hb) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        hb = venue_logon_heartbeats(args)
    fu.check(hb[:2] == [30, 7], "venue Logons carried HeartBtInt %s (30, then 7)" % hb)
    alice.logout()
    doc = wait_ctl(args, "down again", ["sessions"], lambda d: d["state"] == ["down"])
    nin, nout = doc["next_in"][0], doc["next_out"][0]
    _, d2 = ok(args, "set-seqs", "SIM.Orders", str(nin), str(nout))
    fu.check(d2["result"] == "ok", "set-seqs accepted while the session is down")

    # --- every change was logged by fixmux
    log = open(args.fixmux_err).read()
    for line in ["admin: user bob: rate limit 1/s", "admin: filter rules reloaded",
                 "admin: filter reload from", "admin: log level warning",
                 "admin: idle strategy sleep", "heartbeat 7 s from the next Logon",
                 "admin: user alice: logged out", "admin: venue session SIM.Orders: next in"]:
        fu.check(line in log, "fixmux logged '%s'" % line)

    # --- DPDK's own client sees the commands
    p = subprocess.run(["dpdk-telemetry.py", "-f", args.file_prefix], input="/fixmux/status\n",
                       capture_output=True, text=True, timeout=30)
    fu.check('"/fixmux/status"' in p.stdout and '"running"' in p.stdout,
             "dpdk-telemetry.py runs /fixmux/status")


if __name__ == "__main__":
    sys.exit(main())
