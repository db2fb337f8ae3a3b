#!/usr/bin/env python3
"""qmtphold.py: a QMTP sink that holds its answers, to see how many
packages a client has in flight (tests/sys/rjobs.t). Uses qmtpfake.py's
reader. Binds 127.0.0.1 on an ephemeral port and prints it (one line,
flushed); serves every connection at once (one thread each). The packages
of a connection are answered (K per recipient) in batches: when --hold
packages are unanswered, or when no new package has begun for --wait
seconds. With --answer N (tests/sys/dialup.t) the first N packages (over
all connections) are answered one at a time as they come, and every later
one is held unanswered until its connection closes: a client then has N
acknowledged and the rest in flight, however fast it is. One line per
event in --log:
  open CONN NOW     a connection accepted; NOW connections are open (this
                    one and every earlier one whose peer has not closed
                    it: a client's close sends its FIN before the client
                    process ends, so a connection made after that is
                    never counted with it)
  pkg CONN NOW      a package read; NOW packages unanswered in all
  batch CONN N      N packages answered at once (N in flight before)
  msg CONN RCPT     a package for RCPT (its first recipient) answered
  close CONN
Exits by itself after --lifetime seconds (default 60). Standard library only.
"""
import argparse
import os
import select
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmtpfake import Conn, rcpts  # noqa: E402

lock = threading.Lock()
state = {"inflight": 0, "answered": 0}
socks = set()


def peer_open(s):
    """s is open and its peer has not closed it (peeks, reads nothing)"""
    try:
        r, _, _ = select.select([s], [], [], 0)
        return not r or s.recv(1, socket.MSG_PEEK) != b""
    except (OSError, ValueError):
        return False


def log(args, line):
    with lock, open(args.log, "a") as f:
        f.write(line + "\n")


def serve(sock, n, args):
    c = Conn(sock, 30)
    pending = []
    try:
        while True:
            if pending and not c.buf and args.answer is None:
                r, _, _ = select.select([sock], [], [], args.wait)
                if not r:
                    answer(sock, n, pending, args)
                    continue
            c.netstring()
            c.netstring()
            pending.append(rcpts(c.netstring()))
            with lock:
                state["inflight"] += 1
                now = state["inflight"]
            log(args, "pkg %d %d" % (n, now))
            if args.answer is not None:
                if state["answered"] < args.answer:
                    state["answered"] += 1
                    answer(sock, n, pending, args)
                continue
            if len(pending) >= args.hold:
                answer(sock, n, pending, args)
    except (EOFError, ValueError, OSError):
        pass
    finally:
        with lock:
            socks.discard(sock)
            state["inflight"] -= len(pending)
        log(args, "close %d" % n)
        sock.close()


def answer(sock, n, pending, args):
    out = b""
    log(args, "batch %d %d" % (n, len(pending)))
    with lock:
        state["inflight"] -= len(pending)
    for rs in pending:
        log(args, "msg %d %s" % (n, rs[0].decode("latin-1")))
        for _ in rs:
            out += b"8:Kok held,"
    pending.clear()
    sock.sendall(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hold", type=int, default=30)
    p.add_argument("--wait", type=float, default=0.5)
    p.add_argument("--answer", type=int, default=None)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=60)
    args = p.parse_args()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    print(s.getsockname()[1], flush=True)
    t = threading.Timer(args.lifetime, lambda: os._exit(0))
    t.daemon = True
    t.start()
    n = 0
    while True:
        conn, _ = s.accept()
        n += 1
        with lock:
            now = 1 + sum(1 for o in socks if peer_open(o))
            socks.add(conn)
        log(args, "open %d %d" % (n, now))
        threading.Thread(target=serve, args=(conn, n, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
