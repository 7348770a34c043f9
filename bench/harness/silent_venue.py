#!/usr/bin/env python3
"""A FIX acceptor that answers the Logon and then ignores every order: the unhappy paths of
fixmux-bench (ctest bench/harness_unanswered). Runs the harness against itself on loopback and
checks that
  - the run fails (exit 1) and reports every order as unanswered, on one thread and on two
    (each thread's count adds up to the total);
  - a user whose Logon is refused (the connection closed) on one of two threads fails the run
    at once with the reason: the other thread, logged on, does not hang at the start line.

    silent_venue.py FIXMUX_BENCH
"""
import json
import socket
import subprocess
import sys
import threading

SOH = "\x01"


def fix(msg_type, seq, sender, target, fields=()):
    body = "35=%s%s49=%s%s56=%s%s34=%d%s52=20260101-00:00:00.000%s" % (
        msg_type, SOH, sender, SOH, target, SOH, seq, SOH, SOH)
    body += "".join("%d=%s%s" % (t, v, SOH) for t, v in fields)
    raw = ("8=FIX.4.4%s9=%d%s" % (SOH, len(body), SOH) + body).encode()
    return raw + b"10=%03d\x01" % (sum(raw) % 256)


def serve(conn):
    buf, seq = b"", 1
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while b"\x0110=" in buf:
            end = buf.index(b"\x0110=") + 8
            msg, buf = buf[:end].decode(), buf[end:]
            f = dict(x.split("=", 1) for x in msg.split(SOH) if "=" in x)
            if f.get("35") == "A" and f.get("49") == "x002":
                conn.close()
                return
            if f.get("35") == "A":
                conn.sendall(fix("A", seq, f["56"], f["49"], [(98, 0), (108, 30)]))
                seq += 1
            elif f.get("35") == "5":
                conn.sendall(fix("5", seq, f["56"], f["49"]))
                return


def main():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    port = lsock.getsockname()[1]

    def accept():
        while True:
            c, _ = lsock.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    def run(*extra):
        p = subprocess.run([sys.argv[1], "--direct", "127.0.0.1:%d" % port, "--rate", "100",
                            "--duration", "1", "--warmup", "0", "--drain", "0.5", "--json",
                            "--no-progress"] + list(extra), capture_output=True, text=True,
                           timeout=60)
        print(p.stdout + p.stderr)
        return p, [json.loads(l) for l in p.stdout.splitlines() if '"phase"' in l]

    fails = []
    for threads in ("1", "2"):
        p, rows = run("--users", "2", "--threads", threads)
        t = rows[0]["threads"] if len(rows) == 1 else []
        if not (p.returncode == 1 and len(rows) == 1 and rows[0]["sent"] == 100
                and rows[0]["answered"] == 0 and rows[0]["unanswered"] == 100
                and not rows[0]["ok"] and "without an ExecutionReport" in rows[0].get("error", "")
                and len(t) == int(threads) and sum(x["sent"] for x in t) == 100):
            fails.append("%s thread(s): a run whose orders are never answered must fail, "
                         "count all 100 and say so" % threads)
    # x001 (thread 0) logs on, x002 (thread 1) is refused: the run stops, says why, and the
    # thread already logged on is not left waiting (the subprocess timeout would catch a hang).
    p, rows = run("--users", "2", "--threads", "2", "--user-prefix", "x")
    if not (p.returncode == 1 and len(rows) == 1 and not rows[0]["ok"] and rows[0]["sent"] == 0
            and "x002: connection closed by the peer" in rows[0].get("error", "")):
        fails.append("a refused Logon on one of two threads must fail the run and name the user")
    if fails:
        print("FAIL: " + "; ".join(fails))
        sys.exit(1)
    print("PASS")


main()
