#!/usr/bin/python3
"""Many users of the fixmux end-to-end test (many_users.sh): N FIX 4.4 users on kernel TCP,
all connected at once, from --source (an address on a network behind fixmux's
client_gateway). Every user logs on (address-only authentication: password_hash = none),
sends one NewOrderSingle and receives the ExecutionReport of its own order only; then every
user logs out, and the last logout takes the venue session down.

  many_users.py --users N --source ADDR --host H --port P --target SESSION --stats FILE

Exit status 0 when every check holds; the first failed check is printed on stderr.
"""
import argparse
import socket
import sys

from fix_users import Failure, User, check, fresh_stats, wait_stat


class RoutedUser(User):
    """A user whose connection comes from args.source (routed through client_gateway)."""

    def connect(self, rcvbuf=None):
        self.sock = socket.create_connection((self.args.host, self.args.port),
                                             timeout=15.0,
                                             source_address=(self.args.source, 0))
        self.buf = b""
        self.closed = False


def run(args):
    users = [RoutedUser("u%03d" % i, args) for i in range(args.users)]
    # Every connection first, then every Logon: all N are connected at the same time.
    for u in users:
        u.connect()
    for u in users:
        u.send("A", [(98, 0), (108, 30)])
    for u in users:
        m = u.wait_for("Logon reply", lambda m: m.get(35) in ("A", "5"))
        if m.get(35) != "A":
            raise Failure("%s not logged on: %s %s" % (u.name, m.get(35), m.get(58, "")))
    check(True, "%d users logged on" % len(users))
    s = fresh_stats(args)
    check(s["users_online"] == len(users) and s["client_connections"] == len(users),
          "fixmux counts them: users_online %s, client_connections %s" %
          (s["users_online"], s["client_connections"]))
    check(s["venue_logons"] == 1, "one venue logon for all of them")
    for u in users:
        u.order("O-" + u.name)
    for u in users:
        m = u.wait_for("ExecutionReport", lambda m: m.get(35) == "8")
        if m.get(11) != "O-" + u.name or m.get(150) != "0":
            raise Failure("%s received %s 150=%s instead of the ack of its own order" %
                          (u.name, m.get(11), m.get(150)))
    check(True, "each of the %d users received the ExecutionReport of its own order"
          % len(users))
    s = fresh_stats(args)
    check(s["forwarded_to_venue"] == len(users) and s["forwarded_to_user"] == len(users),
          "fixmux forwarded %d orders and %d ExecutionReports" %
          (s["forwarded_to_venue"], s["forwarded_to_user"]))
    check(s["segments_in_place"] > 0,
          "received segments handed to the multiplexer in place: %d (copied: %d)" %
          (s["segments_in_place"], s["segments_copied"]))
    # Zero copy: a message the multiplexer rewrote in place left in the mbuf it arrived in.
    check(s["sent_in_place"] > 0 and s["sent_in_place"] == s["forwarded_inplace"],
          "forwarded in place: %d, all of them sent out of their receive mbufs (%d)" %
          (s["forwarded_inplace"], s["sent_in_place"]))
    for u in users:
        u.send("5", [])
    for u in users:
        u.wait_for("Logout reply", lambda m: m.get(35) == "5")
        u.wait_closed()
        u.sock.close()
        extra = [m for m in u.execs() if m.get(11) != "O-" + u.name]
        if extra:
            raise Failure("%s received others' ExecutionReports: %s" % (u.name, extra))
    check(True, "every user logged out, none saw another's ExecutionReport")
    wait_stat(args, "users_online", 0)
    wait_stat(args, "venue_sessions_up", 0)
    wait_stat(args, "client_connections", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--source", required=True)
    ap.add_argument("--host", default="198.18.0.2")
    ap.add_argument("--port", type=int, default=9878)
    ap.add_argument("--target", default="SIM.Orders")
    ap.add_argument("--stats", required=True)
    args = ap.parse_args()
    try:
        run(args)
    except (Failure, OSError) as e:
        print("FAIL:", e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
