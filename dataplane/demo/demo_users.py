#!/usr/bin/python3
"""Sample users for the fixmux demo: FIX 4.4 initiators over kernel sockets (standard library
only), one thread each, trading through fixmux until told to stop (SIGTERM/SIGINT or
--duration), then logging out and writing a summary as JSON.

  trader1, trader2  LMAX.Orders    NewOrderSingles at --order-rate each; count acks and fills
  prices1           LMAX.Pricing   a market data subscription per symbol; count updates
  rfq1              BANK.RFS       QuoteRequests; count quotes
  dropcopy1         LMAX.DropCopy  counts the venue's drop copy of every execution

The summary (--summary FILE) holds per-user counters and every check the demo makes: each
trader saw only ExecutionReports for its own ClOrdIDs, and each ExecID at most once.
"""
import argparse
import json
import signal
import socket
import sys
import threading
import time

SOH = "\x01"
STOP = threading.Event()


def utc_now():
    t = time.time()
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(t)) + ".%03d" % (int(t * 1000) % 1000)


class Session:
    """A minimal FIX 4.4 initiator: enough for the demo (logon, send, receive, logout)."""

    def __init__(self, name, target, args):
        self.name, self.target, self.args = name, target, args
        self.seq = 1
        self.buf = b""
        self.sock = None
        self.lock = threading.Lock()

    def send(self, msg_type, fields):
        with self.lock:
            body = "35=%s%s34=%d%s49=%s%s52=%s%s56=%s%s" % (
                msg_type, SOH, self.seq, SOH, self.name, SOH, utc_now(), SOH, self.target, SOH)
            body += "".join("%d=%s%s" % (t, v, SOH) for t, v in fields)
            head = "8=FIX.4.4%s9=%d%s" % (SOH, len(body), SOH)
            msg = head + body
            msg += "10=%03d%s" % (sum(msg.encode()) % 256, SOH)
            self.sock.sendall(msg.encode())
            self.seq += 1

    def recv(self, timeout):
        """The next message as a dict of its first occurrences and the type, or None."""
        deadline = time.time() + timeout
        while True:
            end = self.buf.find(b"\x0110=")
            if end >= 0 and len(self.buf) >= end + 8:
                raw, self.buf = self.buf[:end + 8], self.buf[end + 8:]
                fields = {}
                for part in raw.decode(errors="replace").split(SOH):
                    if "=" in part:
                        t, v = part.split("=", 1)
                        fields.setdefault(int(t), v)
                return fields
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise ConnectionError("fixmux closed the connection")
            self.buf += data

    def logon(self, password):
        self.sock = socket.create_connection((self.args.host, self.args.port), timeout=10)
        self.send("A", [(98, "0"), (108, "30"), (553, self.name), (554, password)])
        deadline = time.time() + 20
        while time.time() < deadline:
            m = self.recv(1.0)
            if m is None:
                continue
            if m.get(35) == "A":
                return True
            if m.get(35) == "5":
                raise ConnectionError("logon refused: " + m.get(58, ""))
        raise ConnectionError("no Logon reply")

    def logout(self):
        try:
            self.send("5", [])
            deadline = time.time() + 5
            while time.time() < deadline:
                m = self.recv(1.0)
                if m and m.get(35) == "5":
                    break
        except (OSError, ConnectionError):
            pass
        self.sock.close()


class User(threading.Thread):
    def __init__(self, name, target, args, password, summary):
        super().__init__(daemon=True)
        self.s = Session(name, target, args)
        self.password = password
        self.stats = summary.setdefault(name, {"errors": []})
        self.args = args

    def handle(self, m):
        t = m.get(35)
        self.stats[t] = self.stats.get(t, 0) + 1
        if t == "0" or t == "1":
            if t == "1":
                self.s.send("0", [(112, m.get(112, ""))])
        self.on_message(m)

    def on_message(self, m):
        pass

    def tick(self, now):
        pass

    def run(self):
        try:
            self.s.logon(self.password)
            self.stats["logged_on"] = True
            self.start_work()
            last = time.time()
            while not STOP.is_set():
                m = self.s.recv(0.01)
                while m is not None:
                    self.handle(m)
                    m = self.s.recv(0) if self.s.buf else None
                now = time.time()
                self.tick(now)
                if now - last > 20:
                    self.s.send("0", [])
                    last = now
            self.stop_work()
            self.s.logout()
            self.stats["logged_out"] = True
        except Exception as e:  # a demo user reports, it does not crash the demo
            self.stats["errors"].append(str(e))

    def start_work(self):
        pass

    def stop_work(self):
        pass


class Trader(User):
    def start_work(self):
        self.next_order = time.time()
        self.n = 0
        self.mine = set()
        self.exec_ids = set()

    def tick(self, now):
        while now >= self.next_order:
            self.n += 1
            clordid = "%s-%d-%d" % (self.s.name, int(self.args.run_id), self.n)
            self.mine.add(clordid)
            side = "1" if self.n % 2 else "2"
            self.s.send("D", [(11, clordid), (21, "1"), (38, "1000000"), (40, "2"),
                              (44, "1.0850" if side == "1" else "1.0852"), (54, side),
                              (55, "EUR/USD"), (59, "0"), (60, utc_now())])
            self.stats["orders_sent"] = self.stats.get("orders_sent", 0) + 1
            self.next_order += 1.0 / self.args.order_rate

    def on_message(self, m):
        if m.get(35) != "8":
            return
        if m.get(11) not in self.mine and m.get(41) not in self.mine:
            self.stats["errors"].append("ExecutionReport for another user's order " + str(m.get(11)))
        eid = m.get(17)
        if eid in self.exec_ids and m.get(43) != "Y":
            self.stats["errors"].append("ExecID %s received twice" % eid)
        self.exec_ids.add(eid)
        status = m.get(39)
        key = {"0": "acks", "1": "partial_fills", "2": "fills", "4": "cancels", "8": "rejects"}
        k = key.get(status, "other_exec")
        self.stats[k] = self.stats.get(k, 0) + 1


class Prices(User):
    SYMBOLS = ["EUR/USD", "GBP/USD", "USD/JPY"]

    def start_work(self):
        for i, sym in enumerate(self.SYMBOLS):
            self.s.send("V", [(262, "md-%s-%d" % (self.args.run_id, i)), (263, "1"), (264, "1"),
                              (267, "2"), (269, "0"), (269, "1"), (146, "1"), (55, sym)])

    def stop_work(self):
        for i, sym in enumerate(self.SYMBOLS):
            self.s.send("V", [(262, "md-%s-%d" % (self.args.run_id, i)), (263, "2"), (264, "1"),
                              (267, "2"), (269, "0"), (269, "1"), (146, "1"), (55, sym)])

    def on_message(self, m):
        if m.get(35) in ("W", "X"):
            self.stats["price_updates"] = self.stats.get("price_updates", 0) + 1
        elif m.get(35) == "Y":
            self.stats["errors"].append("market data request rejected: " + m.get(58, ""))


class Rfq(User):
    def start_work(self):
        self.next_rfq = time.time()
        self.n = 0

    def tick(self, now):
        if now >= self.next_rfq:
            self.n += 1
            self.s.send("R", [(131, "rfq-%s-%d" % (self.args.run_id, self.n)), (146, "1"),
                              (55, "EUR/USD"), (54, "1"), (38, "5000000")])
            self.stats["rfqs_sent"] = self.stats.get("rfqs_sent", 0) + 1
            self.next_rfq = now + 2.0

    def on_message(self, m):
        if m.get(35) == "S":
            self.stats["quotes"] = self.stats.get("quotes", 0) + 1


class DropCopy(User):
    def on_message(self, m):
        if m.get(35) == "8":
            self.stats["copies"] = self.stats.get("copies", 0) + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="198.18.0.2")
    ap.add_argument("--port", type=int, default=9878)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--order-rate", type=float, default=20.0, help="orders per second per trader")
    ap.add_argument("--duration", type=float, default=0, help="seconds; 0 = until SIGTERM")
    ap.add_argument("--summary", required=True)
    ap.add_argument("--run-id", default=str(int(time.time())))
    args = ap.parse_args()
    password = open(args.password_file).read().strip()
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    summary = {}
    users = [Trader("trader1", "LMAX.Orders", args, password, summary)]
    users += [Prices("prices1", "LMAX.Pricing", args, password, summary)]
    users += [Rfq("rfq1", "BANK.RFS", args, password, summary)]
    users += [DropCopy("dropcopy1", "LMAX.DropCopy", args, password, summary)]
    users += [Trader("trader2", "LMAX.Orders", args, password, summary)]
    for u in users:
        u.start()
        time.sleep(0.3)  # the first logon brings the venue session up; keep the log readable
    end = time.time() + args.duration if args.duration else None
    while not STOP.is_set() and (end is None or time.time() < end):
        time.sleep(0.1)
    STOP.set()
    for u in users:
        u.join(timeout=15)
    with open(args.summary + ".tmp", "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    import os
    os.replace(args.summary + ".tmp", args.summary)
    return 0 if all(not s["errors"] for s in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
