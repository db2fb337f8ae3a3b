#!/usr/bin/env python3
"""rcptclient.py: one message to many recipients over SMTP, QMTP or QMQP,
printing what the server answered for each recipient (rcptcheck.t).

  rcptclient.py smtp PORT FROM SUBJECT < rcpts   one line per recipient:
        its RCPT reply code; then "DATA <code>" when any was accepted
        (SUBJECT "-": no DATA, RSET instead), "MAIL <code>" if MAIL failed
  rcptclient.py qmtp PORT FROM SUBJECT < rcpts   one line per recipient:
        the first byte of its reply (K, Z or D) and the text
  rcptclient.py qmqp PORT FROM SUBJECT < rcpts   the one reply
  rcptclient.py outcomes < log    from a qmail-send log: one line
        "MID ADDR success|failure|deferral" per delivery, MID being the
        message's Message-ID without <>
Recipients are read one per line from stdin. Every socket operation has a
timeout of 60 s (TIMEOUT overrides)."""
import os
import re
import smtplib
import socket
import sys

TIMEOUT = float(os.environ.get("TIMEOUT", "60"))


def message(subject, mid):
    return ("Subject: %s\r\nMessage-ID: <%s>\r\n\r\nbody of %s\r\n" % (subject, mid, subject)).encode()


def smtp(port, frm, subject, rcpts):
    s = smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT)
    s.ehlo("rcptclient.test")
    code, _ = s.mail(frm)
    if code != 250:
        print("MAIL %d" % code)
        return
    good = 0
    for r in rcpts:
        code, _ = s.rcpt(r)
        print(code)
        good += code == 250
    if subject == "-" or not good:
        s.rset()
    else:
        code, _ = s.data(message(subject, subject + "@rcptclient.test"))
        print("DATA %d" % code)
    s.quit()


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def read_ns(f):
    n = b""
    while True:
        c = f.read(1)
        if not c:
            raise EOFError("connection closed")
        if c == b":":
            break
        n += c
    body = f.read(int(n))
    if f.read(1) != b",":
        raise ValueError("bad netstring")
    return body


def qmtp(port, frm, subject, rcpts):
    m = message(subject, subject + "@rcptclient.test").replace(b"\r\n", b"\n")
    pkg = ns(b"\n" + m) + ns(frm.encode()) + ns(b"".join(ns(r.encode()) for r in rcpts))
    with socket.create_connection(("127.0.0.1", port), TIMEOUT) as c:
        c.sendall(pkg)
        f = c.makefile("rb")
        for _ in rcpts:
            print(read_ns(f).decode(errors="replace"))


def qmqp(port, frm, subject, rcpts):
    m = message(subject, subject + "@rcptclient.test").replace(b"\r\n", b"\n")
    req = ns(ns(m) + ns(frm.encode()) + b"".join(ns(r.encode()) for r in rcpts))
    with socket.create_connection(("127.0.0.1", port), TIMEOUT) as c:
        c.sendall(req)
        print(read_ns(c.makefile("rb")).decode(errors="replace"))


def outcomes(lines):
    """Follow qmail-send's log: message numbers are inode numbers and come
    back, so each is mapped to its Message-ID from its "new msg" line."""
    mid_of, dlv = {}, {}
    for line in lines:
        m = re.search(r" new msg (\d+)( .* mid <([^>]*)>)?", line)
        if m:
            mid_of[m.group(1)] = m.group(3) or "?"
            continue
        m = re.search(r" starting delivery (\d+): msg (\d+) to \S+ (\S+)", line)
        if m:
            dlv[m.group(1)] = (mid_of.get(m.group(2), "?"), m.group(3))
            continue
        m = re.search(r" delivery (\d+): (success|failure|deferral):", line)
        if m and m.group(1) in dlv:
            mid, addr = dlv.pop(m.group(1))
            print(mid, addr, m.group(2))


def main():
    kind = sys.argv[1]
    if kind == "outcomes":
        outcomes(sys.stdin)
        return
    port, frm, subject = int(sys.argv[2]), sys.argv[3], sys.argv[4]
    rcpts = [l.strip() for l in sys.stdin if l.strip()]
    {"smtp": smtp, "qmtp": qmtp, "qmqp": qmqp}[kind](port, frm, subject, rcpts)


if __name__ == "__main__":
    main()
