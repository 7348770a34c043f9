#!/usr/bin/python3
"""Kernel-TCP peers for the interop tests against fixmux-dp-echo.

  kernel_peer.py clients --host 198.18.0.2 --port 7 --n 32 --bytes 262144 --close close
      N concurrent clients; each sends its bytes (a per-connection pseudo-random stream) while
      reading the echo, checks it byte for byte, then closes:
        close     read the whole echo, then close()          (the kernel closes first)
        shutdown  shutdown(SHUT_WR) after sending, read the echo up to EOF, then close()
                  (the stack must send its FIN only after every byte)
        reset     after half of the echo came back, close with SO_LINGER 0 (an RST)
      --mss M sets TCP_MAXSEG before connecting (the kernel announces a tiny MSS).
      --expect-reset: the stack resets each connection (fixmux-dp-echo --abort-after); the
      client must see ECONNRESET and the bytes before it must be right.
  kernel_peer.py server --bind 198.18.0.1 --port 9000 --n 8 [--ready FILE]
      Echo server for N connections: echo until EOF, then close. Exits 0 when all N ended
      without error.
Exit status 0 on success; a line per failure on stderr otherwise.
"""
import argparse
import random
import socket
import sys
import threading
import time

TIMEOUT = 60.0


def stream(seed, n):
    return random.Random(seed).randbytes(n)


def client(idx, a, errors, results):
    data = stream(1000 + idx, a.bytes)
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if a.mss:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, a.mss)
        s.settimeout(TIMEOUT)
        s.connect((a.host, a.port))
    except OSError as e:
        errors.append(f"client {idx}: connect: {e}")
        return
    send_err = []

    def sender():
        try:
            s.sendall(data)
            if a.close == "shutdown":
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            send_err.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = bytearray()
    want = len(data) if a.close != "reset" else len(data) // 2
    try:
        while len(got) < want:
            b = s.recv(65536)
            if not b:
                break
            got += b
        if a.close == "shutdown":
            # after every byte, the stack's FIN: recv returns b"" and nothing else came
            extra = s.recv(1)
            if extra:
                errors.append(f"client {idx}: data after the echo")
    except ConnectionResetError:
        if not a.expect_reset:
            errors.append(f"client {idx}: reset after {len(got)} bytes")
            return
        if data[: len(got)] != bytes(got):
            errors.append(f"client {idx}: wrong bytes before the reset")
        results.append(idx)
        return
    except OSError as e:
        errors.append(f"client {idx}: recv after {len(got)} bytes: {e}")
        return
    if a.expect_reset:
        # The reset's error is reported once per socket: if the sender thread's send() took
        # it, recv() only sees the end of the stream.
        t.join(TIMEOUT)
        if send_err and isinstance(send_err[0], (ConnectionResetError, BrokenPipeError)) \
                and len(got) < len(data) and data[: len(got)] == bytes(got):
            results.append(idx)
            return
        errors.append(f"client {idx}: no reset (got {len(got)} bytes, send: {send_err})")
        return
    if len(got) < want:
        errors.append(f"client {idx}: EOF after {len(got)} of {want} bytes")
        return
    if bytes(got[:want]) != data[:want]:
        first = next(i for i in range(want) if got[i] != data[i])
        errors.append(f"client {idx}: echo differs at byte {first}")
        return
    if a.close == "reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    # in reset mode the data is small enough to sit in the socket buffers, so the sender
    # is done even though half of the echo was never read
    t.join(TIMEOUT)
    if send_err:
        errors.append(f"client {idx}: send: {send_err[0]}")
        return
    s.close()
    results.append(idx)


def run_clients(a):
    errors, results, threads = [], [], []
    for i in range(a.n):
        t = threading.Thread(target=client, args=(i, a, errors, results), daemon=True)
        t.start()
        threads.append(t)
    deadline = time.monotonic() + TIMEOUT
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        errors.append("clients still running at the deadline")
    for e in errors:
        print(e, file=sys.stderr)
    print(f"clients: {len(results)} of {a.n} ok")
    return 0 if not errors and len(results) == a.n else 1


def serve_one(c, errors, idx):
    c.settimeout(TIMEOUT)
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
    except OSError as e:
        errors.append(f"server conn {idx}: {e}")
    finally:
        c.close()


def run_server(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(128)
    ls.settimeout(TIMEOUT)
    if a.ready:
        open(a.ready, "w").close()
    errors, threads = [], []
    try:
        for i in range(a.n):
            c, _ = ls.accept()
            t = threading.Thread(target=serve_one, args=(c, errors, i), daemon=True)
            t.start()
            threads.append(t)
    except OSError as e:
        errors.append(f"accept: {e}")
    for t in threads:
        t.join(TIMEOUT)
    for e in errors:
        print(e, file=sys.stderr)
    print(f"server: {len(threads)} connections, {len(errors)} errors")
    return 0 if not errors and len(threads) == a.n else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("clients")
    c.add_argument("--host", default="198.18.0.2")
    c.add_argument("--port", type=int, default=7)
    c.add_argument("--n", type=int, default=1)
    c.add_argument("--bytes", type=int, default=65536)
    c.add_argument("--close", choices=["close", "shutdown", "reset"], default="close")
    c.add_argument("--mss", type=int, default=0)
    c.add_argument("--expect-reset", action="store_true")
    s = sub.add_parser("server")
    s.add_argument("--bind", default="198.18.0.1")
    s.add_argument("--port", type=int, default=9000)
    s.add_argument("--n", type=int, default=1)
    s.add_argument("--ready")
    a = p.parse_args()
    return run_clients(a) if a.cmd == "clients" else run_server(a)


if __name__ == "__main__":
    sys.exit(main())
