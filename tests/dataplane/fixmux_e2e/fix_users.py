#!/usr/bin/python3
"""Users of the fixmux end-to-end test: FIX 4.4 initiators over kernel sockets (standard
library only), driven through one scenario, with fixmux's --stats-file read between steps.

  fix_users.py --host 198.18.0.2 --port 9878 --target SIM.Orders --password-file F
               --stats FILE [--failure]

First:   alice logs on (the first user: fixmux logs on to the venue, alice's Logon reply is
         held until then), bob logs on (no second venue logon); both send NewOrderSingles and
         each receives the ExecutionReports of its own ClOrdIDs only; bob reuses one of
         alice's ClOrdIDs and fixmux rejects it locally (ExecutionReport 150=8, nothing
         reaches the venue); a wrong password (carol) gets a Logout and the connection is closed;
         alice logs out (the venue session stays up: bob's next order is acknowledged), bob
         logs out (the last user: fixmux logs out of the venue).
--failure, then: alice and bob log on, alice's connection is reset (SO_LINGER 0): bob receives a
         Logout naming alice's connection failure, and fixmux logs out of the venue.
--venue-pid PID, then: alice and bob log on again and the venue simulator (PID) is stopped
         with SIGTERM: its Logout logs both users out with the venue's cause.
--slow-reader: frank asks for 720 market data snapshots without reading until fixmux's send
         backlog is in use, then reads everything (in order, nothing missing); gina subscribes
         to a stream, never reads, and fixmux resets her once her backlog overflows.
--venue-down: first strangers: hank from an address he may not use, then garbage bytes;
         both are closed without an answer and no venue connection is attempted. Then erin logs on before the venue simulator listens: fixmux's connection is
         refused and erin gets a Logout naming the cause.
--hold-until-shutdown: dave logs on, creates --ready, and waits for fixmux's Logout
         ("shutting down") after the test sends it SIGTERM.
Exit status 0 when every check holds; the first failed check is printed on stderr.
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import time

SOH = "\x01"
TIMEOUT = 15.0  # a bound on waiting, not a timing assertion: a hung fixmux fails the test


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok:", what, flush=True)


def utc_now():
    t = time.time()
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(t)) + ".%03d" % (int(t * 1000) % 1000)


class User:
    """One FIX 4.4 initiator. Its outbound sequence number survives reconnections, as fixmux
    keeps the user's session (and its numbers) in its journal."""

    def __init__(self, name, args):
        self.name = name
        self.args = args
        self.seq = 1
        self.sock = None
        self.buf = b""
        self.rx = []  # every message received, as dicts (tag -> first value), in order
        self.closed = False

    def connect(self, rcvbuf=None):
        if rcvbuf is None:
            self.sock = socket.create_connection((self.args.host, self.args.port),
                                                 timeout=TIMEOUT)
        else:
            # a small receive buffer (set before the handshake fixes the window scale) makes
            # a reader that stops reading close its window quickly
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(TIMEOUT)
            self.sock.connect((self.args.host, self.args.port))
        self.buf = b""
        self.closed = False

    def send(self, msg_type, fields):
        body = "35=%s%s49=%s%s56=%s%s34=%d%s52=%s%s" % (
            msg_type, SOH, self.name, SOH, self.args.target, SOH, self.seq, SOH, utc_now(), SOH)
        body += "".join("%d=%s%s" % (t, v, SOH) for t, v in fields)
        head = "8=FIX.4.4%s9=%d%s" % (SOH, len(body.encode()), SOH)
        raw = (head + body).encode()
        raw += b"10=%03d\x01" % (sum(raw) % 256)
        self.sock.sendall(raw)
        self.seq += 1

    def _frame(self):
        """One complete message from the buffer, or None."""
        start = self.buf.find(b"8=FIX")
        if start < 0:
            return None
        self.buf = self.buf[start:]
        p = self.buf.find(b"\x019=")
        if p < 0:
            return None
        q = self.buf.find(b"\x01", p + 3)
        if q < 0:
            return None
        end = q + 1 + int(self.buf[p + 3:q]) + 7  # body, then "10=xxx<SOH>"
        if len(self.buf) < end:
            return None
        raw, self.buf = self.buf[:end], self.buf[end:]
        if sum(raw[:-7]) % 256 != int(raw[-4:-1]):
            raise Failure("%s received a message with a bad checksum: %r" % (self.name, raw))
        msg = {}
        for f in raw.decode().split(SOH)[:-1]:
            tag, _, val = f.partition("=")
            msg.setdefault(int(tag), val)
        return msg

    def next_msg(self):
        """The next message (answering TestRequests on the way); None once the peer closed."""
        while True:
            m = self._frame()
            if m is not None:
                self.rx.append(m)
                if m.get(35) == "1":
                    self.send("0", [(112, m.get(112, ""))])
                return m
            if self.closed:
                return None
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise Failure("%s: nothing received for %.0f s" % (self.name, TIMEOUT))
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
            self.buf += data

    def wait_for(self, what, pred):
        while True:
            m = self.next_msg()
            if m is None:
                raise Failure("%s: connection closed while waiting for %s" % (self.name, what))
            if pred(m):
                return m

    def wait_closed(self):
        while self.next_msg() is not None:
            pass

    def logon(self, password, rcvbuf=None):
        self.connect(rcvbuf)
        self.send("A", [(98, 0), (108, 30), (553, self.name), (554, password)])

    def logout(self):
        self.send("5", [])
        m = self.wait_for("Logout reply", lambda m: m.get(35) == "5")
        self.wait_closed()
        self.sock.close()
        return m

    def order(self, clordid, text=None):
        fields = [(11, clordid), (21, 1), (55, "EUR/USD"), (54, 1), (60, utc_now()),
                  (38, 1000), (40, 2), (44, "1.1")]
        if text:
            fields.append((58, text))
        self.send("D", fields)

    def reset(self):
        """Kills the connection with an RST, like a crashed client."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def execs(self):
        return [m for m in self.rx if m.get(35) == "8"]


def stats(args, newer_than=0):
    """fixmux's stats file, once it was rewritten after the call (stats_seq grows)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            with open(args.stats) as f:
                s = json.load(f)
            if s["stats_seq"] > newer_than:
                return s
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise Failure("fixmux's stats file was not rewritten within %.0f s" % TIMEOUT)


def fresh_stats(args):
    """Stats written after everything that happened before the call."""
    return stats(args, stats(args)["stats_seq"] + 1)


def wait_stat(args, key, want):
    deadline = time.monotonic() + TIMEOUT
    s = fresh_stats(args)
    while s[key] != want and time.monotonic() < deadline:
        s = stats(args, s["stats_seq"])
    check(s[key] == want, "fixmux stats: %s = %s (want %s)" % (key, s[key], want))
    return s


def logon_ok(u, password, rcvbuf=None):
    u.logon(password, rcvbuf)
    m = u.wait_for("Logon reply", lambda m: m.get(35) in ("A", "5"))
    check(m.get(35) == "A", "%s logs on (reply %s %s)" % (u.name, m.get(35), m.get(58, "")))


def acked(u, clordid):
    m = u.wait_for("ExecutionReport for " + clordid,
                   lambda m: m.get(35) == "8" and m.get(11) == clordid)
    check(m.get(150) == "0" and m.get(39) == "0",
          "%s: order %s acknowledged by the venue (150=%s 39=%s %s)" % (
              u.name, clordid, m.get(150), m.get(39), m.get(58, "")))


def phase_basic(args, pw):
    alice, bob = User("alice", args), User("bob", args)
    base = stats(args)
    check(base["venue_logons"] == 0 and base["venue_sessions_up"] == 0,
          "no venue session before the first user")
    logon_ok(alice, pw)
    wait_stat(args, "venue_sessions_up", 1)
    check(stats(args)["venue_logons"] == 1, "the first user's Logon logged on to the venue")
    logon_ok(bob, pw)
    check(fresh_stats(args)["venue_logons"] == 1, "the second user joined without a new venue logon")

    for i in (1, 2):
        alice.order("A-%d" % i)
        bob.order("B-%d" % i)
    for i in (1, 2):
        acked(alice, "A-%d" % i)
        acked(bob, "B-%d" % i)

    # bob reuses alice's ClOrdID: fixmux refuses it itself, the venue never sees it
    bob.order("A-1")
    m = bob.wait_for("reject of A-1", lambda m: m.get(35) == "8" and m.get(11) == "A-1")
    check(m.get(150) == "8" and m.get(39) == "8" and "another user" in m.get(58, ""),
          "bob's duplicate ClOrdID A-1 rejected locally: 150=%s 58=%s" % (m.get(150), m.get(58)))

    # a wrong password is answered with a Logout and the connection closes
    carol = User("carol", args)
    carol.logon("not-the-password")
    m = carol.wait_for("answer to a wrong password", lambda m: m.get(35) in ("A", "5"))
    check(m.get(35) == "5" and "Password" in m.get(58, ""),
          "a wrong password gets a Logout: %s" % m.get(58, ""))
    carol.wait_closed()
    # alice's own session is untouched by the refused connection; her order is larger than
    # one mbuf (fixmux forwards it as a chain) and than one TCP segment
    alice.order("A-3", "x" * 5000)
    acked(alice, "A-3")

    m = alice.logout()
    check(m.get(35) == "5", "alice logs out")
    bob.order("B-3")
    acked(bob, "B-3")
    check(fresh_stats(args)["venue_sessions_up"] == 1, "the venue session stays up for bob")
    bob.logout()
    check(True, "bob logs out")
    wait_stat(args, "venue_sessions_up", 0)

    a_ids = sorted(m.get(11) for m in alice.execs())
    b_ids = sorted(m.get(11) for m in bob.execs())
    check(a_ids == ["A-1", "A-2", "A-3"], "alice received exactly her ExecutionReports: %s" % a_ids)
    check(b_ids == ["A-1", "B-1", "B-2", "B-3"],
          "bob received exactly his ExecutionReports (and his reject): %s" % b_ids)
    s = fresh_stats(args)
    check(s["id_conflicts"] == 1, "fixmux counted one ID conflict")
    check(s["logons_refused"] == base["logons_refused"] + 1, "fixmux counted one refused logon")
    check(s["venue_logons"] == 1 and s["users_online"] == 0,
          "one venue logon in all, nobody online at the end")
    return alice, bob


def phase_failure(args, pw, alice, bob):
    # The same users again: their sequence numbers continue (fixmux's journals keep them).
    alice.rx, bob.rx = [], []
    logons0 = stats(args)["venue_logons"]
    logon_ok(alice, pw)
    logon_ok(bob, pw)
    check(fresh_stats(args)["venue_logons"] == logons0 + 1, "the venue logged on again")
    # The venue cancelled every open order when fixmux logged out of it and reports the
    # cancels at this logon (as FX venues do): each user gets its own, bob's kept for him
    # until his Logon if the venue was up before it.
    for u, own in ((alice, ["A-1", "A-2", "A-3"]), (bob, ["B-1", "B-2", "B-3"])):
        got = sorted(u.wait_for("cancel %d" % (i + 1),
                                lambda m: m.get(35) == "8" and m.get(150) == "4").get(11)
                     for i in range(3))
        check(got == own, "%s received the cancels of exactly its orders: %s" % (u.name, got))
    alice.reset()
    m = bob.wait_for("Logout after alice's failure", lambda m: m.get(35) == "5")
    check("alice" in m.get(58, "") and "failed" in m.get(58, ""),
          "bob is logged out naming the cause: %s" % m.get(58, ""))
    bob.send("5", [])
    bob.wait_closed()
    wait_stat(args, "venue_sessions_up", 0)
    check(fresh_stats(args)["user_failures"] == 1, "fixmux counted one user failure")
    for u, own in ((alice, ["A-1", "A-2", "A-3"]), (bob, ["B-1", "B-2", "B-3"])):
        ids = sorted(m.get(11) for m in u.rx if m.get(35) == "8")
        check(ids == own, "%s saw no ExecutionReport but its own: %s" % (u.name, ids))


def venue_logout(args, pw, alice, bob, vsim_pid):
    """The venue ends the session (the simulator is stopped with SIGTERM: it sends a Logout):
    every user is logged out with the venue's cause."""
    alice.rx, bob.rx = [], []
    logon_ok(alice, pw)
    logon_ok(bob, pw)
    wait_stat(args, "venue_sessions_up", 1)
    os.kill(vsim_pid, signal.SIGTERM)
    for u in (alice, bob):
        m = u.wait_for("Logout after the venue's", lambda m: m.get(35) == "5")
        check("SIM.Orders" in m.get(58, "") and "shutting down" in m.get(58, ""),
              "%s is logged out with the venue's cause: %s" % (u.name, m.get(58, "")))
        u.send("5", [])
        u.wait_closed()
    wait_stat(args, "users_online", 0)
    check(fresh_stats(args)["venue_sessions_up"] == 0, "the venue session is down")


SYMBOLS = ["EUR/USD", "GBP/USD", "USD/JPY", "USD/CHF", "AUD/USD", "NZD/USD", "USD/CAD",
           "EUR/GBP"]


def subscribe(u, req_ids, kind="1"):
    for r in req_ids:
        fields = [(262, r), (263, kind), (264, 1), (265, 1), (267, 2), (269, 0), (269, 1),
                  (146, len(SYMBOLS))]
        fields += [(55, sym) for sym in SYMBOLS]
        u.send("V", fields)


def wait_until(args, what, pred):
    deadline = time.monotonic() + TIMEOUT
    s = stats(args)
    while not pred(s):
        if time.monotonic() > deadline:
            raise Failure("fixmux stats: %s not reached within %.0f s" % (what, TIMEOUT))
        s = stats(args, s["stats_seq"])
    check(True, "fixmux stats: " + what)
    return s


def slow_reader(args, pw):
    """frank asks for 720 market data snapshots (90 snapshot-only requests of 8 symbols) and
    does not read: his closed window fills the stack's send queue (512 mbufs) and the rest
    waits in the connection's backlog (fewer than its 256 places, so no overflow). Then he
    reads: every message arrives, in order (contiguous MsgSeqNum), none garbled or missing."""
    frank = User("frank", args)
    logon_ok(frank, pw, rcvbuf=4096)
    base = stats(args)
    ids = ["S%d" % i for i in range(1, 91)]
    subscribe(frank, ids, kind="0")
    wait_until(args, "sends wait in the backlog while frank does not read",
               lambda s: s["sends_backlogged"] > base["sends_backlogged"])
    snaps = [frank.wait_for("snapshot %d" % (i + 1), lambda m: m.get(35) == "W")
             for i in range(len(ids) * len(SYMBOLS))]
    frank.logout()
    seqs = [int(m[34]) for m in frank.rx]
    check(seqs == list(range(seqs[0], seqs[0] + len(seqs))),
          "frank's %d messages arrived in order, none missing (MsgSeqNum %d..%d)" % (
              len(seqs), seqs[0], seqs[-1]))
    got = sorted((m.get(262), m.get(55)) for m in snaps)
    check(got == sorted((i, sym) for i in ids for sym in SYMBOLS),
          "frank received each of his %d snapshots exactly once" % len(snaps))
    s = fresh_stats(args)
    check(s["sends_backlogged"] > base["sends_backlogged"] and
          s["backlog_overflows"] == base["backlog_overflows"],
          "%d sends waited in the backlog, no overflow" % (
              s["sends_backlogged"] - base["sends_backlogged"]))
    wait_stat(args, "venue_sessions_up", 0)


def stuck_reader(args, pw):
    """gina subscribes and never reads again: once her backlog is full fixmux resets her
    connection (it cannot drop bytes from the middle of a FIX stream), which is a user
    failure: the venue session is logged out."""
    gina = User("gina", args)
    logon_ok(gina, pw, rcvbuf=4096)
    base = stats(args)
    subscribe(gina, ["G1", "G2", "G3", "G4"])
    wait_until(args, "a backlog overflow resets gina's connection",
               lambda s: s["backlog_overflows"] == base["backlog_overflows"] + 1)
    s = wait_stat(args, "venue_sessions_up", 0)
    check(s["user_failures"] == base["user_failures"] + 1, "counted as a user failure")
    gina.sock.close()


def strangers(args, pw):
    """Connections that must not make fixmux log on to a venue: hank (allowed only from
    198.18.9.9) with the right password, and garbage bytes before any Logon. Both are closed
    without an answer (there is no session to answer in)."""
    base = stats(args)
    hank = User("hank", args)
    hank.logon(pw)
    hank.wait_closed()
    check(not hank.rx, "hank, from an address he may not use, is disconnected without an answer")
    junk = User("junk", args)
    junk.connect()
    junk.sock.sendall(b"GET / HTTP/1.0\r\n\r\n" * 20)
    junk.wait_closed()
    check(not junk.rx, "garbage before a Logon: disconnected without an answer")
    s = fresh_stats(args)
    check(s["logons_refused"] == base["logons_refused"] + 2 and
          s["venue_connects"] == base["venue_connects"],
          "both refused (logons_refused +2) and no venue connection was attempted")


def venue_down(args, pw):
    """erin logs on while no venue listens: fixmux's connection is refused, and erin's held
    Logon is answered with a Logout naming the cause."""
    erin = User("erin", args)
    erin.logon(pw)
    m = erin.wait_for("answer to the Logon", lambda m: m.get(35) in ("A", "5"))
    check(m.get(35) == "5" and "refused" in m.get(58, "") and "SIM.Orders" in m.get(58, ""),
          "with the venue down, the Logon is answered by a Logout: %s" % m.get(58, ""))
    erin.wait_closed()
    s = fresh_stats(args)
    check(s["venue_connect_fails"] == 1 and s["venue_logons"] == 0,
          "fixmux counted the failed venue connection")


def security(args, pw):
    """Protection of the shared venue session over the wire: ivan floods with a rate limit of
    20/s (burst 20) while bob trades normally; a storm of wrong-password Logons from another
    address (198.18.0.3) is cut off after logon_failures_per_min, while users from the usual
    address keep logging on."""
    ivan, bob = User("ivan", args), User("bob", args)
    logon_ok(ivan, pw)
    logon_ok(bob, pw)
    base = fresh_stats(args)
    n = 200
    for i in range(n):
        ivan.order("I-%d" % i)
    acks = rejects = 0
    while acks + rejects < n:
        m = ivan.wait_for("an answer to every flooded order", lambda m: m.get(35) == "8")
        if m.get(150) == "0":
            acks += 1
        elif m.get(150) == "8" and "rate limit" in m.get(58, ""):
            rejects += 1
        else:
            raise Failure("unexpected answer to a flooded order: %s" % m)
    check(rejects > 0 and acks >= 20, "ivan's flood: %d acknowledged, %d refused by the rate "
          "limit, every order answered" % (acks, rejects))
    for i in range(5):
        bob.order("BS-%d" % i)
    for i in range(5):
        acked(bob, "BS-%d" % i)
    s = fresh_stats(args)
    check(s["rate_limited"] - base["rate_limited"] == rejects,
          "fixmux counted the refusals (rate_limited +%d)" % rejects)
    check(s["forwarded_to_venue"] - base["forwarded_to_venue"] == acks + 5,
          "only what passed the limit reached the venue")
    check(s["venue_sessions_up"] == 1 and s["venue_logons"] == base["venue_logons"],
          "the venue session stayed up through the flood")

    # the storm, from another address of the same host
    def storm_try(i):
        u = User("carol", args)
        u.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u.sock.bind(("198.18.0.3", 0))
        u.sock.settimeout(TIMEOUT)
        u.sock.connect((args.host, args.port))
        u.buf, u.closed = b"", False
        u.send("A", [(98, 0), (108, 30), (553, "carol"), (554, "guess-%d" % i)])
        u.wait_closed()
        u.sock.close()
        return [m for m in u.rx if m.get(35) == "5"]

    answered = [storm_try(i) for i in range(args.storm)]
    logouts = sum(1 for a in answered if a)
    check(logouts == args.storm_limit and not any(answered[args.storm_limit:]),
          "the storm: the first %d wrong passwords answered with a Logout, the other %d cut "
          "off without a word" % (logouts, args.storm - logouts))
    s = fresh_stats(args)
    check(s["logon_storm_refused"] - base["logon_storm_refused"] == args.storm - args.storm_limit,
          "fixmux counted them (logon_storm_refused)")
    # the usual address is not affected, nor are the users online
    bob.order("BS-after")
    acked(bob, "BS-after")
    dave = User("dave", args)
    logon_ok(dave, pw)
    for u in (dave, ivan, bob):
        u.logout()
    wait_stat(args, "venue_sessions_up", 0)


def hold_until_shutdown(args, pw):
    """dave (who has not logged on before) logs on and stays until fixmux logs him out."""
    dave = User("dave", args)
    logon_ok(dave, pw)
    open(args.ready, "w").close()
    m = dave.wait_for("Logout from fixmux", lambda m: m.get(35) == "5")
    check("shutting down" in m.get(58, ""), "fixmux logs dave out: %s" % m.get(58, ""))
    dave.send("5", [])
    dave.wait_closed()
    check(True, "dave's connection closed by fixmux")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="198.18.0.2")
    ap.add_argument("--port", type=int, default=9878)
    ap.add_argument("--target", default="SIM.Orders")
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--failure", action="store_true", help="then the connection-failure phase")
    ap.add_argument("--hold-until-shutdown", action="store_true",
                    help="instead: log on and wait for fixmux's shutdown Logout")
    ap.add_argument("--ready", help="with --hold-until-shutdown: created once logged on")
    ap.add_argument("--venue-pid", type=int,
                    help="then: stop the venue simulator (this pid) with both users online")
    ap.add_argument("--slow-reader", action="store_true",
                    help="instead: market data to users that stop reading (backlog, overflow)")
    ap.add_argument("--venue-down", action="store_true",
                    help="instead: a Logon while the venue does not listen")
    ap.add_argument("--security", action="store_true",
                    help="instead: a flood against a rate limit, a logon storm")
    ap.add_argument("--storm", type=int, default=12, help="with --security: logons in the storm")
    ap.add_argument("--storm-limit", type=int, default=8,
                    help="with --security: fixmux's logon_failures_per_min")
    args = ap.parse_args()
    with open(args.password_file) as f:
        pw = f.read().strip()
    try:
        if args.slow_reader:
            slow_reader(args, pw)
            stuck_reader(args, pw)
            return 0
        if args.venue_down:
            strangers(args, pw)
            venue_down(args, pw)
            return 0
        if args.hold_until_shutdown:
            hold_until_shutdown(args, pw)
            return 0
        if args.security:
            security(args, pw)
            return 0
        alice, bob = phase_basic(args, pw)
        if args.failure:
            phase_failure(args, pw, alice, bob)
        if args.venue_pid:
            venue_logout(args, pw, alice, bob, args.venue_pid)
    except (Failure, OSError) as e:
        print("FAIL:", e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
