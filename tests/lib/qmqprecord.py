#!/usr/bin/env python3
"""qmqprecord.py: a QMQP hub for the leaf's golden tests (tests/proto/inject.t).

Usage: qmqprecord.py OUTDIR ANSWERFILE [--lifetime SEC]

Binds 127.0.0.1 on port 0, prints the port (one line, flushed), and serves
connections one after the other. Each QMQP request (cr.yp.to/proto/qmqp.html)
is read whole; the message goes to OUTDIR/message and the envelope to
OUTDIR/envelope in qmail-queue's form (F sender NUL, T recipient NUL each,
NUL), so a transcript reads the same as one of a local qmail-queue. Then the
hub answers with the first line of ANSWERFILE as the reply netstring (K, Z
or D and a text), or "Kok" when the file is missing or empty. A request it
cannot parse gets no answer (the connection is closed). Exits by itself
after --lifetime seconds (default 600). Python 3 standard library only.
"""
import argparse
import os
import socket
import sys
import threading


def read_exact(sock, buf, n):
    while len(buf) < n:
        data = sock.recv(65536)
        if not data:
            raise EOFError
        buf += data
    return buf


def head(sock, buf):
    """'<digits>:' at the start of buf; returns (number, rest)."""
    while b":" not in buf:
        if len(buf) > 20:
            raise ValueError("bad netstring head")
        data = sock.recv(65536)
        if not data:
            raise EOFError
        buf += data
    digits, rest = buf.split(b":", 1)
    if not digits.isdigit():
        raise ValueError("bad netstring head")
    return int(digits), rest


def split_ns(data):
    out = []
    while data:
        n, rest = data.split(b":", 1)
        n = int(n)
        if rest[n:n + 1] != b",":
            raise ValueError("missing comma")
        out.append(rest[:n])
        data = rest[n + 1:]
    return out


def request(sock):
    """The QMQP request: (message, sender, [recipients])."""
    n, buf = head(sock, b"")
    buf = read_exact(sock, buf, n + 1)
    if buf[n:n + 1] != b",":
        raise ValueError("missing outer comma")
    items = split_ns(buf[:n])
    if len(items) < 2:
        raise ValueError("no sender")
    return items[0], items[1], items[2:]


def answer(path):
    try:
        with open(path, "rb") as f:
            line = f.readline().rstrip(b"\n")
    except FileNotFoundError:
        line = b""
    return line or b"Kok"


def serve(sock, args):
    try:
        sock.settimeout(30)
        msg, sender, rcpts = request(sock)
        with open(os.path.join(args.outdir, "message"), "wb") as f:
            f.write(msg)
        env = b"F" + sender + b"\0" + b"".join(b"T" + r + b"\0" for r in rcpts) + b"\0"
        with open(os.path.join(args.outdir, "envelope"), "wb") as f:
            f.write(env)
        reply = answer(args.answer)
        sock.sendall(str(len(reply)).encode() + b":" + reply + b",")
    except (EOFError, ValueError, OSError) as e:
        sys.stderr.write("qmqprecord: %r\n" % (e,))
    finally:
        sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("answer")
    p.add_argument("--lifetime", type=float, default=600)
    args = p.parse_args()
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    print(lsock.getsockname()[1], flush=True)
    while True:
        conn, _ = lsock.accept()
        serve(conn, args)


if __name__ == "__main__":
    main()
