#!/usr/bin/env python3
"""mkqmailq.py: write a queue in netqmail/notqmail's format (qmail 1.03's
layout, REFERENCE.md "Layout"; the big-todo variant splits todo/ and intd/
too), for the queue converter's tests (tests/sys/qconvert.t). qmail's own
qmail-queue cannot run here (no qmail package on Debian 12, no network),
so the files are written as qmail-queue and qmail-send write them:
  init DIR SPLIT [big]     the directories (mess info local remote split
                           SPLIT ways; todo intd flat, or split with big),
                           bounce pid lock, lock/sendmutex
  todo DIR SENDER RCPT...  a queued message: pid file -> mess/S/N (N its
                           inode), intd/N with u p F T items and no final
                           empty item (qmail-queue stops before it),
                           linked to todo/N; prints N
  pre DIR SENDER LOCAL REMOTE [BOUNCE]
                           a preprocessed message: mess/S/N, info/S/N
                           (F<sender>\\0, mtime an hour ago), local/S/N and
                           remote/S/N from "Taddr,Daddr,..." ("-": no
                           file; "T"/"D" as qmail-send marks them), bounce/N
                           with the text BOUNCE ("\\n" for newlines); prints N
  mess DIR                 a half-written message: mess/S/N only; prints N
  intd DIR SENDER RCPT     half-written: mess/S/N and intd/N, no todo
The message body names the message's position so a test can find it."""
import os, sys, time

seq = [0]

def split_of(q):
    return len([d for d in os.listdir(os.path.join(q, "mess")) if d.isdigit()])

def big(q):
    return os.path.isdir(os.path.join(q, "todo", "0"))

def newmess(q, tag):
    seq[0] += 1
    tmp = os.path.join(q, "pid", "%d.%d.%d" % (os.getpid(), time.time(), seq[0]))
    body = ("Received: (qmail %d invoked by uid 0); 7 Dec 2026 10:00:00 -0000\n"
            "Message-ID: <%s@qmail.example>\nSubject: %s\n\nbody of %s\n" % (os.getpid(), tag, tag, tag))
    with open(tmp, "wb") as f:
        f.write(body.encode())
        n = os.fstat(f.fileno()).st_ino
    s = n % split_of(q)
    os.link(tmp, os.path.join(q, "mess", str(s), str(n)))
    os.unlink(tmp)
    return n

def flatname(q, d, n):
    return os.path.join(q, d, str(n % split_of(q)), str(n)) if big(q) else os.path.join(q, d, str(n))

def splitname(q, d, n):
    return os.path.join(q, d, str(n % split_of(q)), str(n))

def envelope(sender, rcpts):
    b = b"u0\0p%d\0F%s\0" % (os.getpid(), sender.encode())
    for r in rcpts:
        b += b"T" + r.encode() + b"\0"
    return b

def put(path, data, mtime=None):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    if mtime is not None:
        os.utime(path, (mtime, mtime))

def records(spec):
    return b"".join(r[0].encode() + r[1:].encode() + b"\0" for r in spec.split(","))

def main():
    cmd, q = sys.argv[1], sys.argv[2]
    a = sys.argv[3:]
    if cmd == "init":
        k = int(a[0])
        for d in ("mess", "info", "local", "remote", "todo", "intd", "bounce", "pid", "lock"):
            os.makedirs(os.path.join(q, d), exist_ok=True)
        for d in ("mess", "info", "local", "remote") + (("todo", "intd") if a[1:] == ["big"] else ()):
            for s in range(k):
                os.makedirs(os.path.join(q, d, str(s)), exist_ok=True)
        put(os.path.join(q, "lock", "sendmutex"), b"")
        return
    if cmd == "todo":
        n = newmess(q, a[1] if len(a) > 1 else "norcpt")
        put(flatname(q, "intd", n), envelope(a[0], a[1:]))
        os.link(flatname(q, "intd", n), flatname(q, "todo", n))
    elif cmd == "pre":
        n = newmess(q, a[2] if a[1] == "-" else a[1])
        put(splitname(q, "info", n), b"F" + a[0].encode() + b"\0", time.time() - 3600)
        if a[1] != "-":
            put(splitname(q, "local", n), records(a[1]))
        if a[2] != "-":
            put(splitname(q, "remote", n), records(a[2]))
        if len(a) > 3:
            put(os.path.join(q, "bounce", str(n)), a[3].replace("\\n", "\n").encode())
    elif cmd == "mess":
        n = newmess(q, "half")
    elif cmd == "intd":
        n = newmess(q, "halfintd")
        put(flatname(q, "intd", n), envelope(a[0], a[1:]))
    else:
        sys.exit("unknown command " + cmd)
    print(n)

main()
