#!/usr/bin/env python3
"""qmqp-inbox.py: a stand-in QMQP receiver for `make run` until the hub
exists. Listens on 127.0.0.1 (port from argv, 0 = any; the chosen port is
printed on the first line of stdout), reads one QMQP request per
connection (netstrings checked strictly, 64 MB cap), stores the message
as a Maildir file under INBOX/new with Return-Path and Delivered-To lines,
answers K, and logs one line per message. Runs until killed, or for
--lifetime seconds."""
import argparse, os, socket, sys, threading, time

CAP = 64 * 1024 * 1024


def netstring(buf, pos):
    colon = buf.index(b":", pos)
    digits = buf[pos:colon]
    if not digits.isdigit() or (len(digits) > 1 and digits[0:1] == b"0"):
        raise ValueError("bad netstring length")
    n = int(digits)
    end = colon + 1 + n
    if end >= len(buf) or buf[end:end + 1] != b",":
        raise ValueError("bad netstring end")
    return buf[colon + 1:end], end + 1


def read_request(conn):
    head = b""
    while b":" not in head:
        c = conn.recv(1)
        if not c or len(head) > 20:
            raise ValueError("bad request")
        head += c
    n = int(head[:-1])
    if n > CAP:
        raise ValueError("too big")
    data = b""
    while len(data) < n + 1:
        c = conn.recv(min(65536, n + 1 - len(data)))
        if not c:
            raise ValueError("truncated")
        data += c
    if data[-1:] != b",":
        raise ValueError("bad request end")
    body = data[:-1]
    msg, pos = netstring(body, 0)
    sender, pos = netstring(body, pos)
    rcpts = []
    while pos < len(body):
        r, pos = netstring(body, pos)
        rcpts.append(r)
    return msg, sender, rcpts


def store(inbox, msg, sender, rcpts):
    name = "%d.P%d_%d.qmqp-inbox" % (time.time(), os.getpid(), time.monotonic_ns())
    tmp = os.path.join(inbox, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(b"Return-Path: <" + sender + b">\n")
        for r in rcpts:
            f.write(b"Delivered-To: " + r + b"\n")
        f.write(msg)
        f.flush()
        os.fsync(f.fileno())
    os.link(tmp, os.path.join(inbox, "new", name))
    os.unlink(tmp)
    return name


def serve(conn, inbox):
    with conn:
        conn.settimeout(60)
        try:
            msg, sender, rcpts = read_request(conn)
        except (ValueError, OSError) as e:
            print("drop: %s" % e, flush=True)
            return
        name = store(inbox, msg, sender, rcpts)
        reply = b"Kok stored as " + name.encode()
        conn.sendall(str(len(reply)).encode() + b":" + reply + b",")
        print("new msg: %d bytes from <%s> to %s -> new/%s" % (
            len(msg), sender.decode("latin-1"),
            ", ".join("<%s>" % r.decode("latin-1") for r in rcpts), name), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("inbox")
    ap.add_argument("--lifetime", type=float, default=0)
    a = ap.parse_args()
    for d in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(a.inbox, d), exist_ok=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", a.port))
    s.listen(64)
    print(s.getsockname()[1], flush=True)
    if a.lifetime:
        threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, a.inbox), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
