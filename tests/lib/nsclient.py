#!/usr/bin/env python3
"""nsclient.py: a small QMTP / QMQP client for the hub's tests.

Usage: nsclient.py PROTO PORT [--msg TEXT] [--raw TEXT] SENDER RCPT...

PROTO is qmtp (one package, cr.yp.to/proto/qmtp.txt) or qmqp (one
request, cr.yp.to/proto/qmqp.html), sent to 127.0.0.1:PORT, then the
connection is half-closed and every reply read until the server closes.
SENDER, the recipients, --msg (the message; default a short one) and
--raw (bytes sent instead of a package or request, SENDER and RCPT then
unused) are Python string escapes (\\x1b, \\r, \\x00 ...) taken as bytes.
Prints, space-separated, one item per reply netstring: its first letter
(K, Z or D) followed by the status code inside "(#x.y.z)", if any.
Python 3 standard library only; every wait is bounded (30 s per read).
"""
import argparse
import re
import socket


def arg(a):
    return a.encode().decode("unicode_escape").encode("latin-1")


def ns(b):
    return b"%d:" % len(b) + b + b","


def request(proto, msg, sender, rcpts):
    if proto == "qmtp":
        return ns(b"\n" + msg) + ns(sender) + ns(b"".join(ns(r) for r in rcpts))
    return ns(ns(msg) + ns(sender) + b"".join(ns(r) for r in rcpts))


def replies(buf):
    out = []
    while buf:
        m = re.match(rb"(\d+):", buf)
        if not m:
            break
        n = int(m.group(1))
        t = buf[m.end():m.end() + n].decode("latin-1")
        buf = buf[m.end() + n + 1:]
        c = re.search(r"\(#([0-9.]+)\)", t)
        out.append(t[:1] + (c.group(1) if c else ""))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("proto", choices=["qmtp", "qmqp"])
    p.add_argument("port", type=int)
    p.add_argument("--msg", default="From: a@leaf.example.org\\nSubject: t\\n\\nhello\\n")
    p.add_argument("--raw")
    p.add_argument("sender", nargs="?", default="")
    p.add_argument("rcpts", nargs="*")
    a = p.parse_intermixed_args()
    if a.raw is not None:
        data = arg(a.raw)
    else:
        data = request(a.proto, arg(a.msg), arg(a.sender), [arg(r) for r in a.rcpts])
    s = socket.create_connection(("127.0.0.1", a.port), timeout=30)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    print(" ".join(replies(buf)))


if __name__ == "__main__":
    main()
