#!/usr/bin/env python3
"""fakeserver.py: a scripted QMQP/QMTP server for the leaf's tests.

Binds 127.0.0.1 (or ::1 with --family 6) on port 0, prints the port on
stdout (one line, flushed) and serves connections, each in its own thread,
according to MODE:

  QMQP  K | Z | D   read the whole request, answer that letter + text
        close       close right after accept, reading nothing
        silent      read the whole request, never answer, hold the socket
        dropmid     read the whole request, send half a K reply, close
        slow        read the whole request, answer K after --delay s (2)
        blackhole   listen with backlog 0, fill the accept queue with two
                    connections of our own and never accept: SYNs from
                    others are dropped, their connect() hangs
  QMTP  qmtp:LETTERS  read packages; answer recipient i of each package
                    with LETTERS[i] (K, Z or D; K past the end)

With --logdir DIR, connection N writes DIR/conn-N.raw (the raw bytes
received, at most --logcap bytes) and DIR/conn-N.rcpts (the recipients it
saw, one per line, after the request was read). The process exits by itself
after --lifetime seconds (default 30). Python 3 standard library only.
"""
import argparse
import os
import socket
import sys
import threading
import time

TEXTS = {"K": b"Kok fakeserver", "Z": b"Ztry again later (#4.3.0)",
         "D": b"Dno such mailbox here (#5.1.1)"}


def ns(data):
    return str(len(data)).encode() + b":" + data + b","


class Conn:
    """A received byte stream with logging and netstring helpers."""

    def __init__(self, sock, log, cap):
        self.sock, self.log, self.cap = sock, log, cap
        self.buf = b""
        self.logged = 0

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        if self.log and self.logged < self.cap:
            part = data[:self.cap - self.logged]
            self.log.write(part)
            self.log.flush()
            self.logged += len(part)
        self.buf += data

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def skip(self, n):
        while n > 0:
            if not self.buf:
                self.fill()
            k = min(n, len(self.buf))
            self.buf = self.buf[k:]
            n -= k

    def head(self):
        """Read '<digits>:' and return the number."""
        digits = b""
        while True:
            c = self.exact(1)
            if c == b":":
                return int(digits)
            if not c.isdigit() or len(digits) > 20:
                raise ValueError("bad netstring head")
            digits += c

    def netstring(self):
        n = self.head()
        data = self.exact(n)
        if self.exact(1) != b",":
            raise ValueError("missing comma")
        return data


def split_ns(data):
    out = []
    while data:
        n, rest = data.split(b":", 1)
        out.append(rest[:int(n)])
        data = rest[int(n) + 1:]
    return out


def read_qmqp(c):
    """The whole QMQP request; returns the recipients."""
    total = c.head()
    mlen = c.head()
    c.skip(mlen + 1)
    rest = c.exact(total - len(str(mlen)) - 2 - mlen)
    if c.exact(1) != b",":
        raise ValueError("missing outer comma")
    items = split_ns(rest)
    return items[1:]


def read_qmtp(c):
    """One QMTP package; returns the recipients."""
    mlen = c.head()
    if c.exact(1) not in (b"\n", b"\r"):
        raise ValueError("bad encoding byte")
    c.skip(mlen - 1 + 1)
    c.netstring()
    return split_ns(c.netstring())


def save_rcpts(args, n, rcpts):
    if args.logdir:
        with open(os.path.join(args.logdir, "conn-%d.rcpts" % n), "ab") as f:
            for r in rcpts:
                f.write(r + b"\n")


def serve_qmtp(args, c, n, sock):
    letters = args.mode[5:]
    while True:
        try:
            rcpts = read_qmtp(c)
        except EOFError:
            return
        save_rcpts(args, n, rcpts)
        out = b""
        for i, _ in enumerate(rcpts):
            out += ns(TEXTS.get(letters[i] if i < len(letters) else "K"))
        sock.sendall(out)


def serve_qmqp(args, c, n, sock):
    save_rcpts(args, n, read_qmqp(c))
    mode = args.mode
    if mode == "silent":
        time.sleep(args.lifetime + 1)
    elif mode == "dropmid":
        reply = ns(TEXTS["K"])
        sock.sendall(reply[:len(reply) // 2])
    else:
        if mode == "slow":
            time.sleep(args.delay)
        letter = "K" if mode == "slow" else mode
        text = args.text.encode() if args.text is not None else TEXTS[letter][1:]
        sock.sendall(ns(letter.encode() + text))


def handle(args, sock, n):
    log = None
    if args.logdir:
        log = open(os.path.join(args.logdir, "conn-%d.raw" % n), "wb")
    try:
        if args.mode == "close":
            return
        c = Conn(sock, log, args.logcap)
        if args.mode.startswith("qmtp:"):
            serve_qmtp(args, c, n, sock)
        else:
            serve_qmqp(args, c, n, sock)
    except (EOFError, ValueError, OSError) as e:
        sys.stderr.write("fakeserver: connection %d: %r\n" % (n, e))
    finally:
        if log:
            log.close()
        sock.close()


def blackhole(lsock, family, port):
    """Fill the accept queue of a backlog-0 listener with our own clients."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    keep = []
    for _ in range(2):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, port))
        except (BlockingIOError, OSError):
            pass
        keep.append(s)
    return keep


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode")
    p.add_argument("--family", default="4", choices=["4", "6"])
    p.add_argument("--logdir")
    p.add_argument("--logcap", type=int, default=1 << 62)
    p.add_argument("--lifetime", type=float, default=30)
    p.add_argument("--delay", type=float, default=2)
    p.add_argument("--text")
    args = p.parse_args()
    ok_modes = ("K", "Z", "D", "close", "silent", "dropmid", "slow", "blackhole")
    if args.mode not in ok_modes and not args.mode.startswith("qmtp:"):
        p.error("unknown mode " + args.mode)
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    family = socket.AF_INET6 if args.family == "6" else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("::1" if args.family == "6" else "127.0.0.1", 0))
    lsock.listen(0 if args.mode == "blackhole" else 16)
    port = lsock.getsockname()[1]
    if args.mode == "blackhole":
        keep = blackhole(lsock, family, port)
        time.sleep(0.2)
    print(port, flush=True)
    if args.mode == "blackhole":
        time.sleep(args.lifetime + 1)
        del keep
        return
    n = 0
    while True:
        sock, _ = lsock.accept()
        n += 1
        threading.Thread(target=handle, args=(args, sock, n), daemon=True).start()


if __name__ == "__main__":
    main()
