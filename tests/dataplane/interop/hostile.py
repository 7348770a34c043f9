#!/usr/bin/python3
"""Hostile segments against fixmux-dp-echo, sent with scapy from the kernel side of the TAP.

We speak as 198.18.0.3 (MAC 02:00:c6:12:00:03), an address no host in the namespace owns: the
stack knows it from a static ARP entry, and the kernel drops the stack's answers to it (not
its address) instead of resetting connections it never opened. So scapy alone drives each
connection and knows every sequence number.

Each check sends something an attacker or a broken peer would, and asserts the answer the
RFC asks for, the counter that says what happened, and that the stack still works.
Usage: hostile.py --stack-mac MAC --stats FILE [--iface dtap0]
"""
import argparse
import random
import sys
import time

from scapy.all import AsyncSniffer, Ether, IP, TCP, Raw, conf, sendp  # noqa: E402

conf.verb = 0
ME_IP, ME_MAC = "198.18.0.3", "02:00:c6:12:00:03"
STACK_IP, PORT = "198.18.0.2", 7
WAIT = 2.0
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


class Stats:
    def __init__(self, path):
        self.path = path

    def read(self):
        d = {}
        try:
            with open(self.path) as f:
                for line in f:
                    k, v = line.split()
                    d[k] = int(v)
        except (OSError, ValueError):
            pass
        return d

    def fresh(self):
        """Counters from a stats file written after this call."""
        seq0 = self.read().get("stats_seq", 0)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            d = self.read()
            if d.get("stats_seq", 0) > seq0 + 1:
                return d
            time.sleep(0.05)
        raise RuntimeError("stats file not rewritten")


class Wire:
    def __init__(self, iface, stack_mac):
        self.iface, self.stack_mac = iface, stack_mac
        self.pkts = []
        self.sniffer = AsyncSniffer(
            iface=iface, store=False,
            lfilter=lambda p: Ether in p and p[Ether].dst == ME_MAC and TCP in p,
            prn=self.pkts.append)
        self.sniffer.start()
        time.sleep(0.5)

    def send(self, ip_kw, tcp_layer, payload=b""):
        p = Ether(src=ME_MAC, dst=self.stack_mac) / IP(src=ME_IP, dst=STACK_IP, **ip_kw) / tcp_layer
        if payload:
            p = p / Raw(payload)
        sendp(p, iface=self.iface)

    def mark(self):
        return len(self.pkts)

    def wait(self, since, pred, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.pkts[since:]:
                if pred(p[TCP]):
                    return p[TCP]
            time.sleep(0.02)
        return None

    def seen(self, since, pred):
        return [p[TCP] for p in self.pkts[since:] if pred(p[TCP])]


class Conn:
    """A TCP connection driven by hand from ME_IP:sport to the echo port."""

    def __init__(self, wire, sport=None, syn_opts=None):
        self.w = wire
        self.sport = sport or random.randint(20000, 60000)
        self.isn = random.randint(0, 2**32 - 1)
        self.snd_nxt = (self.isn + 1) & 0xFFFFFFFF
        self.rcv_nxt = None
        self.syn_opts = syn_opts if syn_opts is not None else [("MSS", 1460)]
        self.echo = {}

    def mine(self, t):
        return t.dport == self.sport and t.sport == PORT

    def tcp(self, flags, seq=None, ack=None, **kw):
        return TCP(sport=self.sport, dport=PORT, flags=flags,
                   seq=self.snd_nxt if seq is None else seq,
                   ack=(self.rcv_nxt or 0) if ack is None else ack, window=65535, **kw)

    def open(self):
        m = self.w.mark()
        self.w.send({}, TCP(sport=self.sport, dport=PORT, flags="S", seq=self.isn, window=65535,
                            options=self.syn_opts))
        sa = self.w.wait(m, lambda t: self.mine(t) and t.flags & 0x12 == 0x12)
        if sa is None:
            return False
        self.synack = sa
        self.rcv_nxt = (sa.seq + 1) & 0xFFFFFFFF
        self.w.send({}, self.tcp("A"))
        return True

    def send(self, data, seq=None, **kw):
        self.w.send({}, self.tcp("PA", seq=seq, **kw), data)
        if seq is None:
            self.snd_nxt = (self.snd_nxt + len(data)) & 0xFFFFFFFF

    def collect(self, since, want, timeout=WAIT):
        """Echoed bytes from the stack, in order, ACKing as they come; up to want bytes."""
        deadline = time.monotonic() + timeout
        done = 0
        while time.monotonic() < deadline:
            for t in self.w.seen(since, lambda t: self.mine(t) and len(t.payload) > 0):
                self.echo[t.seq] = bytes(t[Raw].load) if Raw in t else b""
            # assemble from rcv_nxt
            out = b""
            seq = self.rcv_nxt
            while True:
                piece = next(((s, d) for s, d in self.echo.items()
                              if s <= seq < s + len(d)), None)  # no wrap in these short tests
                if piece is None:
                    break
                s, d = piece
                out += d[seq - s:]
                seq = s + len(d)
            if len(out) > done:
                done = len(out)
                self.w.send({}, self.tcp("A", ack=(self.rcv_nxt + done) & 0xFFFFFFFF))
            if done >= want:
                break
            time.sleep(0.02)
        self.rcv_nxt_after = (self.rcv_nxt + done) & 0xFFFFFFFF
        return out[:want] if done >= want else out

    def echo_works(self, data=b"ping"):
        m = self.w.mark()
        self.send(data)
        got = self.collect(m, len(data))
        self.rcv_nxt = self.rcv_nxt_after
        return got == data

    def reset(self):
        self.w.send({}, self.tcp("R"))


def delta(after, before, name):
    return after.get(name, 0) - before.get(name, 0)


def t_out_of_window(w, st):
    c = Conn(w)
    check(c.open(), "out-of-window: handshake")
    b = st.fresh()
    m = w.mark()
    c.send(b"X" * 100, seq=(c.snd_nxt + 50_000_000) & 0xFFFFFFFF)
    ack = w.wait(m, lambda t: c.mine(t) and t.flags & 0x10 and not t.flags & 0x04)
    check(ack is not None and ack.ack == c.snd_nxt,
          "out-of-window data is answered with an ACK of rcv_nxt (RFC 9293 3.10.7.4)")
    a = st.fresh()
    check(delta(a, b, "drop_tcp_out_of_window") >= 1, "out-of-window data counted")
    check(delta(a, b, "echo_bytes_in") == 0, "out-of-window data not delivered")
    check(c.echo_works(), "connection still echoes after out-of-window data")
    c.reset()


def t_blind_rst(w, st):
    c = Conn(w)
    check(c.open(), "blind RST: handshake")
    b = st.fresh()
    m = w.mark()
    w.send({}, c.tcp("R", seq=(c.snd_nxt + 1000) & 0xFFFFFFFF))
    ch = w.wait(m, lambda t: c.mine(t) and t.flags & 0x10 and not t.flags & 0x04)
    check(ch is not None and ch.ack == c.snd_nxt,
          "in-window RST with inexact seq gets a challenge ACK (RFC 5961 3.2)")
    a = st.fresh()
    check(delta(a, b, "tcp_challenge_acks") >= 1, "challenge ACK counted")
    check(c.echo_works(), "connection survives the blind RST")
    m = w.mark()
    w.send({}, c.tcp("R", seq=(c.snd_nxt + 10_000_000) & 0xFFFFFFFF))
    check(w.wait(m, lambda t: c.mine(t), timeout=0.5) is None,
          "out-of-window RST is dropped silently (RFC 5961 3.2)")
    b = st.fresh()
    w.send({}, c.tcp("R"))
    time.sleep(0.3)
    a = st.fresh()
    check(delta(a, b, "tcp_rsts_in") >= 1 and delta(a, b, "echo_closed_reset") == 1,
          "RST with exact seq resets the connection")
    m = w.mark()
    c.send(b"after")
    r = w.wait(m, lambda t: c.mine(t) and t.flags & 0x04)
    check(r is not None, "data after the reset is answered with RST")


def t_blind_syn(w, st):
    c = Conn(w)
    check(c.open(), "blind SYN: handshake")
    b = st.fresh()
    m = w.mark()
    w.send({}, TCP(sport=c.sport, dport=PORT, flags="S", seq=random.randint(0, 2**32 - 1),
                   window=65535))
    ch = w.wait(m, lambda t: c.mine(t) and t.flags & 0x10 and not t.flags & 0x06)
    check(ch is not None and ch.ack == c.snd_nxt,
          "SYN on an established connection gets a challenge ACK (RFC 5961 4.2)")
    a = st.fresh()
    check(delta(a, b, "tcp_challenge_acks") >= 1 and delta(a, b, "tcp_rsts_in") == 0,
          "challenge ACK counted, no reset")
    check(c.echo_works(), "connection survives the blind SYN")
    c.reset()


def t_bad_checksums(w, st):
    c = Conn(w)
    check(c.open(), "bad checksums: handshake")
    b = st.fresh()
    m = w.mark()
    w.send({}, c.tcp("PA", chksum=0xBEEF), b"bad tcp sum")
    w.send({"chksum": 0xBEEF}, c.tcp("PA"), b"bad ip sum")
    check(w.wait(m, lambda t: c.mine(t), timeout=0.5) is None,
          "segments with bad checksums get no answer")
    a = st.fresh()
    check(delta(a, b, "drop_tcp_bad_checksum") == 1, "bad TCP checksum counted")
    check(delta(a, b, "drop_ip_bad_checksum") == 1, "bad IP checksum counted")
    check(delta(a, b, "echo_bytes_in") == 0, "nothing delivered")
    check(c.echo_works(), "connection still echoes")
    c.reset()


def t_syn_flood(w, st, backlog):
    b = st.fresh()
    n = backlog * 4
    base = 30000
    m = w.mark()
    flood = [Conn(w, sport=base + i) for i in range(n)]
    for c in flood:
        w.send({}, TCP(sport=c.sport, dport=PORT, flags="S", seq=c.isn, window=65535))
    time.sleep(0.5)
    answered = {t.dport for t in w.seen(m, lambda t: t.sport == PORT and t.flags & 0x12 == 0x12)}
    a = st.fresh()
    check(len(answered) <= backlog, f"SYN flood: at most the backlog ({backlog}) answered, got {len(answered)}")
    check(delta(a, b, "drop_tcp_syn_backlog_full") >= n - backlog,
          f"SYNs beyond the backlog counted ({delta(a, b, 'drop_tcp_syn_backlog_full')})")
    # give the embryonic slots back (RST with the sequence number the stack expects)
    for c in flood:
        if c.sport in answered:
            w.send({}, TCP(sport=c.sport, dport=PORT, flags="R", seq=c.snd_nxt))
    time.sleep(0.3)
    c = Conn(w)
    check(c.open() and c.echo_works(), "a legitimate connection works after the flood")
    c.reset()


def t_tiny_mss(w, st):
    c = Conn(w, syn_opts=[("MSS", 1)])
    check(c.open(), "tiny MSS: handshake completes")
    m = w.mark()
    data = bytes(range(256)) + bytes(range(44))
    c.send(data)
    got = c.collect(m, len(data))
    c.rcv_nxt = c.rcv_nxt_after
    sizes = [len(t[Raw].load) for t in w.seen(m, lambda t: c.mine(t) and Raw in t)]
    check(got == data, "tiny MSS: echo byte-exact")
    check(sizes and max(sizes) <= 64,
          f"tiny MSS: segments clamped to the stack's floor of 64 bytes (largest {max(sizes or [0])})")
    c.reset()


def t_malformed_options(w, st):
    bad_sets = [
        b"\x02\x00\x05\xb4",              # MSS with length 0
        b"\x01\x01\x01\x02",              # MSS kind in the last byte, no length
        b"\x08\x0a\x00\x00\x00\x01\x00",  # timestamps overrunning the header
        b"\x03\x07\x07\x01",              # window scale with length 7
        b"\x01\x01\x02\x01",              # length 1
    ]
    for opts in bad_sets:
        b = st.fresh()
        c = Conn(w)
        raw = opts + b"\x00" * ((4 - len(opts) % 4) % 4)
        m = w.mark()
        w.send({}, TCP(sport=c.sport, dport=PORT, flags="S", seq=c.isn, window=65535,
                       dataofs=5 + len(raw) // 4) / Raw(raw))
        ans = w.wait(m, lambda t: c.mine(t))
        a = st.fresh()
        check(ans is not None, f"malformed options {opts.hex()}: answered")
        check(delta(a, b, "tcp_malformed_options") >= 1, f"malformed options {opts.hex()}: counted")
        if ans is not None and ans.flags & 0x12 == 0x12:
            w.send({}, TCP(sport=c.sport, dport=PORT, flags="R", seq=c.snd_nxt))
    c = Conn(w)
    check(c.open() and c.echo_works(), "stack serves normally after malformed options")
    c.reset()


def t_overlap(w, st):
    c = Conn(w)
    check(c.open(), "overlap: handshake")
    s = c.snd_nxt
    m = w.mark()
    c.send(b"A" * 100, seq=s)
    c.send(b"B" * 100, seq=(s + 50) & 0xFFFFFFFF)
    got = c.collect(m, 150)
    check(got == b"A" * 100 + b"B" * 50,
          "in-order overlap with different data: bytes already received are kept, the new tail is appended")
    c.rcv_nxt = c.rcv_nxt_after
    c.snd_nxt = (s + 150) & 0xFFFFFFFF
    s = c.snd_nxt
    m = w.mark()
    c.send(b"D" * 100, seq=(s + 50) & 0xFFFFFFFF)  # out of order first
    c.send(b"C" * 100, seq=s)                       # then the hole, overlapping it
    got = c.collect(m, 150)
    ok = (len(got) == 150 and got[:50] == b"C" * 50 and got[100:] == b"D" * 50
          and got[50:100] in (b"C" * 50, b"D" * 50))
    check(ok, f"out-of-order overlap: one consistent stream of 150 bytes ({got[:8]!r}...{got[-8:]!r}, {len(got)})")
    c.rcv_nxt = c.rcv_nxt_after
    c.snd_nxt = (s + 150) & 0xFFFFFFFF
    check(c.echo_works(), "connection continues after overlaps")
    c.reset()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stack-mac", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--iface", default="dtap0")
    ap.add_argument("--backlog", type=int, default=8)
    ap.add_argument("--only", help="comma-separated test names")
    a = ap.parse_args()
    random.seed(5961)
    w = Wire(a.iface, a.stack_mac)
    st = Stats(a.stats)
    tests = {
        "out_of_window": lambda: t_out_of_window(w, st),
        "blind_rst": lambda: t_blind_rst(w, st),
        "blind_syn": lambda: t_blind_syn(w, st),
        "bad_checksums": lambda: t_bad_checksums(w, st),
        "syn_flood": lambda: t_syn_flood(w, st, a.backlog),
        "tiny_mss": lambda: t_tiny_mss(w, st),
        "malformed_options": lambda: t_malformed_options(w, st),
        "overlap": lambda: t_overlap(w, st),
    }
    names = a.only.split(",") if a.only else list(tests)
    for n in names:
        print(f"== {n}")
        tests[n]()
    w.sniffer.stop()
    print(f"hostile: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
