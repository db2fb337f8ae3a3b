#!/usr/bin/env python3
"""qmtpsclient.py: a QMTP-over-TLS (QMTPS) client for tests/sys/qmtps.t.

Usage: qmtpsclient.py MODE PORT [options] [SENDER RCPT...]

MODE:
  send      TLS to 127.0.0.1:PORT (the server's certificate is not
            checked), one QMTP package (--msg, SENDER, RCPTs) or --raw
            bytes, then the replies: one per recipient, or until the
            server ends the connection. Prints "tls: VERSION" and
            "replies: X X ..." (each reply's first letter and its
            "(#x.y.z)" code, as nsclient.py prints them; "-" for none).
            --eof: after the bytes, close_notify and a half-close instead
            of waiting for replies (EOF inside a package).
  plain     the package in the clear (no TLS); prints "plain: N bytes
            back" and "plain: K seen" if a K reply came back in clear.
  truncate  half of a real ClientHello, then close: "truncate: sent N".
  stall     half of a real ClientHello, then silence; prints "stall:
            closed after S s" once the server closes (or "stall: open"
            after --wait seconds).
Options: --cert/--key a client certificate; --msg, --raw (Python string
escapes, as nsclient.py); --wait seconds (default 30) bounds every wait.
Python 3 standard library only.
"""
import argparse
import re
import socket
import ssl
import time


def arg(a):
    return a.encode().decode("unicode_escape").encode("latin-1")


def ns(b):
    return b"%d:" % len(b) + b + b","


def package(msg, sender, rcpts):
    return ns(b"\n" + msg) + ns(sender) + ns(b"".join(ns(r) for r in rcpts))


def replies(buf):
    """(list of codes, bytes left over)"""
    out = []
    while True:
        m = re.match(rb"(\d+):", buf)
        if not m:
            return out, buf
        n = int(m.group(1))
        if len(buf) < m.end() + n + 1:
            return out, buf
        t = buf[m.end():m.end() + n].decode("latin-1")
        buf = buf[m.end() + n + 1:]
        c = re.search(r"\(#([0-9.]+)\)", t)
        out.append(t[:1] + (c.group(1) if c else ""))


def context(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    return ctx


def send(a):
    raw = socket.create_connection(("127.0.0.1", a.port), timeout=a.wait)
    s = context(a).wrap_socket(raw, server_hostname="hub.example.org")
    print("tls: " + s.version())
    data = arg(a.raw) if a.raw is not None else package(arg(a.msg), arg(a.sender), [arg(r) for r in a.rcpts])
    s.sendall(data)
    if a.eof:
        try:
            s = s.unwrap()          # close_notify; the server's comes back
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        except (OSError, ssl.SSLError):
            pass
        print("eof: sent")
        return
    buf, got = b"", []
    want = len(a.rcpts) if a.raw is None else None
    while want is None or len(got) < want:
        try:
            b = s.recv(4096)
        except (ssl.SSLError, OSError):
            break
        if not b:
            break
        buf += b
        got, _ = replies(buf)
    print("replies: " + (" ".join(got) if got else "-"))


def plain(a):
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.wait)
    s.sendall(package(arg(a.msg), arg(a.sender), [arg(r) for r in a.rcpts]))
    back = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            back += b
    except OSError:
        pass
    print("plain: %d bytes back" % len(back))
    if re.search(rb"\d+:K", back):
        print("plain: K seen")


def client_hello():
    """the first flight of a real TLS client, from a memory BIO"""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o, server_hostname="hub.example.org")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return o.read()


def half(a):
    hello = client_hello()
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.wait)
    s.sendall(hello[:len(hello) // 2])
    return s, len(hello) // 2


def truncate(a):
    s, n = half(a)
    s.close()
    print("truncate: sent %d" % n)


def stall(a):
    s, _ = half(a)
    t0 = time.monotonic()
    try:
        while s.recv(4096):
            pass
        print("stall: closed after %.1f s" % (time.monotonic() - t0))
    except socket.timeout:
        print("stall: open")
    except OSError:
        print("stall: closed after %.1f s" % (time.monotonic() - t0))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["send", "plain", "truncate", "stall"])
    p.add_argument("port", type=int)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--msg", default="From: a@leaf.example.org\\nSubject: qmtps\\n\\nhello\\n")
    p.add_argument("--raw")
    p.add_argument("--eof", action="store_true")
    p.add_argument("--wait", type=float, default=30.0)
    p.add_argument("sender", nargs="?", default="")
    p.add_argument("rcpts", nargs="*")
    a = p.parse_intermixed_args()
    {"send": send, "plain": plain, "truncate": truncate, "stall": stall}[a.mode](a)


if __name__ == "__main__":
    main()
