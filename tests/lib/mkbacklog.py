#!/usr/bin/env python3
"""mkbacklog.py QUEUEDIR COUNT [STATE] [RCPT]: write COUNT messages straight
into a queue made by hub/queue/mkqueue.sh, as qmail-queue and qmail-send would
leave them, for scale tests and benchmarks (BAD-INPUT L7):
  S5 (default): mess/S/N + info/S/N (F<sender>) + local/S/N (T<rcpt>)
                whose mtime is an hour ahead (a deferred message);
  S4:           mess/S/N + intd/S/N + todo/S/N (a complete envelope file),
                waiting for preprocessing.
N is the inode number of the message file, as qmail-queue names it (the
file is written in pid/ and linked to mess/S/N; qmail-send trusts a
mess/S/N only when its inode is N); S = N % 23.
RCPT (default nobody@localhost) may contain %d for the message index."""
import os, sys, time

def main():
    q, count = sys.argv[1], int(sys.argv[2])
    state = sys.argv[3] if len(sys.argv) > 3 else "S5"
    rcpt = sys.argv[4] if len(sys.argv) > 4 else "nobody@localhost"
    body = b"Received: (qmail 1 invoked by uid 0); 23 Nov 2026 00:00:00 -0000\n" \
           b"Subject: backlog\n\n" + b"x" * 1900 + b"\n"
    later = time.time() + 3600
    tmp = os.path.join(q, "pid", "mkbacklog.%d" % os.getpid())
    for i in range(count):
        with open(tmp, "wb") as f:
            f.write(body)
            n = os.fstat(f.fileno()).st_ino
        sd = "%d/%d" % (n % 23, n)
        os.link(tmp, os.path.join(q, "mess", sd))
        os.unlink(tmp)
        r = (rcpt % i if "%d" in rcpt else rcpt).encode()
        if state == "S4":
            env = b"u0\0p1\0Fbacklog@example.org\0T" + r + b"\0\0"
            with open(os.path.join(q, "intd", sd), "wb") as f:
                f.write(env)
            os.link(os.path.join(q, "intd", sd), os.path.join(q, "todo", sd))
        else:
            with open(os.path.join(q, "info", sd), "wb") as f:
                f.write(b"Fbacklog@example.org\0")
            p = os.path.join(q, "local", sd)
            with open(p, "wb") as f:
                f.write(b"T" + r + b"\0")
            os.utime(p, (later, later))

main()
