#!/usr/bin/env python3
# plload.py: the load and the verdict of the power-loss test
# (tests/slow/powerloss.t, docs/powerloss.md).
#
#   plload.py load SMTPPORT QMQPPORT RCPT NSMTP NQMQP OUTDIR
#     NSMTP threads over SMTP (smtplib, up to 10 messages a session) and
#     NQMQP threads over QMQP (one message a connection) send messages to
#     RCPT until killed. Each message carries a unique id and the SHA-256
#     of its body in "X-Powerloss: ID SUM"; bodies are 200 B to 100 KB.
#     Every positive acknowledgement is appended at once to OUTDIR/acks.N
#     as "ID NS", NS = CLOCK_MONOTONIC nanoseconds when it arrived.
#   plload.py check ACKDIR CUTNS MAILDIR...
#     Reads every file under the MAILDIR directories (deliveries), and
#     prints "acked A delivered D dups U garbled G missing M" where A counts
#     the acknowledgements that arrived before CUTNS; then one line per
#     missing id and per garbled file. Exit 1 if M or G is not 0.
import hashlib
import os
import random
import socket
import smtplib
import sys
import threading
import time


def message(mid, rcpt, rnd):
    n = rnd.choice([200, 1000, 2000, 4000, 8000, 30000, 100000])
    n = rnd.randrange(n // 2, n + 1)
    raw = rnd.randbytes(n // 2 + 32).hex()
    body = "".join(raw[i:i + 64] + "\n" for i in range(0, n, 64)).encode()
    head = ("From: load@example.org\nTo: %s\nSubject: powerloss %s\n"
            "Message-ID: <%s@powerloss.test>\nX-Powerloss: %s %s\n\n"
            % (rcpt, mid, mid, mid, hashlib.sha256(body).hexdigest()))
    return head.encode() + body


def ns(s):
    return b"%d:%s," % (len(s), s)


def smtp_thread(port, rcpt, name, out):
    rnd = random.Random(name)
    i = 0
    while True:
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=60)
            for _ in range(10):
                i += 1
                mid = "%s-%d" % (name, i)
                msg = message(mid, rcpt, rnd).replace(b"\n", b"\r\n")
                s.sendmail("load@example.org", [rcpt], msg)
                out.write("%s %d\n" % (mid, time.monotonic_ns()))
                out.flush()
            s.quit()
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)


def qmqp_thread(port, rcpt, name, out):
    rnd = random.Random(name)
    i = 0
    while True:
        i += 1
        mid = "%s-%d" % (name, i)
        pkt = ns(ns(message(mid, rcpt, rnd)) + ns(b"load@example.org") + ns(rcpt.encode()))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as c:
                c.sendall(pkt)
                reply = b""
                while True:
                    d = c.recv(4096)
                    if not d:
                        break
                    reply += d
            if b":K" in reply[:12]:
                out.write("%s %d\n" % (mid, time.monotonic_ns()))
                out.flush()
        except OSError:
            time.sleep(0.05)


def load(smtp, qmqp, rcpt, nsmtp, nqmqp, outdir):
    threads = []
    for k in range(nsmtp + nqmqp):
        kind = "s" if k < nsmtp else "q"
        out = open(os.path.join(outdir, "acks.%d" % k), "w")
        fn = smtp_thread if kind == "s" else qmqp_thread
        port = smtp if kind == "s" else qmqp
        t = threading.Thread(target=fn, args=(port, rcpt, "%s%d" % (kind, k), out), daemon=True)
        t.start()
        threads.append(t)
    while True:
        time.sleep(3600)


def check(ackdir, cut, maildirs):
    acked = set()
    for f in os.listdir(ackdir):
        if f.startswith("acks."):
            for line in open(os.path.join(ackdir, f)):
                p = line.split()
                if len(p) == 2 and int(p[1]) < cut:
                    acked.add(p[0])
    seen, garbled = {}, []
    for md in maildirs:
        for root, _, files in os.walk(md):
            for f in files:
                path = os.path.join(root, f)
                data = open(path, "rb").read()
                head, sep, body = data.partition(b"\n\n")
                tag = [l for l in head.split(b"\n") if l.startswith(b"X-Powerloss: ")]
                if not sep or len(tag) != 1:
                    garbled.append(path + " (no X-Powerloss header)")
                    continue
                _, mid, want = tag[0].decode(errors="replace").split(" ", 2)
                if hashlib.sha256(body).hexdigest() != want:
                    garbled.append(path + " (" + mid + ": body checksum differs)")
                    continue
                seen[mid] = seen.get(mid, 0) + 1
    missing = sorted(acked - set(seen))
    dups = sum(n - 1 for n in seen.values())
    print("acked %d delivered %d dups %d garbled %d missing %d"
          % (len(acked), len(seen), dups, len(garbled), len(missing)))
    for m in missing:
        print("missing " + m)
    for g in garbled:
        print("garbled " + g)
    return 1 if missing or garbled else 0


if __name__ == "__main__":
    a = sys.argv
    if len(a) == 8 and a[1] == "load":
        load(int(a[2]), int(a[3]), a[4], int(a[5]), int(a[6]), a[7])
    elif len(a) >= 5 and a[1] == "check":
        sys.exit(check(a[2], int(a[3]), a[4:]))
    else:
        sys.exit("usage: plload.py load SMTPPORT QMQPPORT RCPT NSMTP NQMQP OUTDIR | check ACKDIR CUTNS MAILDIR...")
