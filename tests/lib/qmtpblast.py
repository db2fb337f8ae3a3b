#!/usr/bin/env python3
"""qmtpblast.py: many QMTP packages over one connection, pipelined.

Usage: qmtpblast.py PORT N [options]

Sends N packages (cr.yp.to/proto/qmtp.txt) to 127.0.0.1:PORT over one
connection, one recipient each, the message of package i carrying
Message-ID <TAG.i@qmtpblast> and padded to --size bytes. --window W
keeps at most W packages unanswered (as qmail-remote's session mode
does); 0 writes all of them before reading a reply. --bad I,J,...: those
packages get a recipient outside rcpthosts (refused alone, nothing
queued). --tls: QMTPS (the certificate is not checked). --pause-after K
--pause-file F: once K packages are written and answered, make F.ready
and wait (at most 60 s) until F exists before writing the rest (a test
does something meanwhile).
Prints one JSON line: n, secs (first byte to last reply), counts of
K/Z/D, seq (one letter per reply, in order), and ztext (the first Z).
Exit 0 when every reply came, 1 otherwise. Standard library only; every
read is bounded (--timeout, 60 s).
"""
import argparse
import json
import os
import select
import socket
import ssl
import sys
import time


def ns(b):
    return b"%d:" % len(b) + b + b","


def package(i, tag, size, rcpt, sender):
    head = ("From: %s\nSubject: %s %d\nMessage-ID: <%s.%d@qmtpblast>\n\n"
            % (sender, tag, i, tag, i)).encode()
    body = b""
    line = b"x" * 71 + b"\n"
    while len(head) + len(body) + len(line) <= size:
        body += line
    msg = head + body + b"end\n"
    return ns(b"\n" + msg) + ns(sender.encode()) + ns(ns(rcpt.encode()))


class Replies:
    """Netstring replies parsed as they arrive."""

    def __init__(self):
        self.buf = b""
        self.out = []

    def feed(self, data):
        self.buf += data
        while True:
            c = self.buf.find(b":")
            if c < 0:
                return
            n = int(self.buf[:c])
            if len(self.buf) < c + 1 + n + 1:
                return
            self.out.append(self.buf[c + 1:c + 1 + n].decode("latin-1"))
            if self.buf[c + 1 + n:c + 2 + n] != b",":
                raise ValueError("bad reply netstring")
            self.buf = self.buf[c + 2 + n:]


def pause(f):
    """F.ready made; then F waited for (60 s at most)."""
    open(f + ".ready", "w").close()
    for _ in range(600):
        if os.path.exists(f):
            return
        time.sleep(0.1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("n", type=int)
    p.add_argument("--window", type=int, default=64)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--tag", default="qb")
    p.add_argument("--rcpt", default="alice@hub.example.org")
    p.add_argument("--sender", default="a@example.org")
    p.add_argument("--bad", default="")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--pause-after", type=int, default=-1)
    p.add_argument("--pause-file", default="")
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    bad = {int(x) for x in a.bad.split(",") if x}
    pkgs = [package(i, a.tag, a.size, "x@relay.invalid" if i in bad else a.rcpt, a.sender)
            for i in range(a.n)]
    s = socket.create_connection(("127.0.0.1", a.port), a.timeout)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.settimeout(a.timeout)
    r = Replies()
    start = time.monotonic()
    sent = 0
    window = a.window if a.window > 0 else a.n
    limit = a.pause_after if a.pause_after >= 0 and a.pause_file else a.n
    while len(r.out) < a.n:
        if sent == limit and len(r.out) == sent and limit < a.n:
            pause(a.pause_file)
            limit = a.n
        batch = b""
        while sent < limit and sent - len(r.out) < window and len(batch) < 65536:
            batch += pkgs[sent]
            sent += 1
        if batch:
            s.sendall(batch)
            if sent < limit and sent - len(r.out) < window:
                continue
        if not (a.tls and s.pending()):
            rd, _, _ = select.select([s], [], [], a.timeout)
            if not rd:
                break
        try:
            data = s.recv(65536)
        except (OSError, ssl.SSLError):
            break
        if not data:
            break
        r.feed(data)
    secs = time.monotonic() - start
    seq = "".join(x[:1] for x in r.out)
    z = [x for x in r.out if x[:1] == "Z"]
    print(json.dumps({"n": len(r.out), "secs": round(secs, 3), "K": seq.count("K"),
                      "Z": seq.count("Z"), "D": seq.count("D"), "seq": seq,
                      "ztext": z[0] if z else ""}))
    sys.exit(0 if len(r.out) == a.n else 1)


if __name__ == "__main__":
    main()
