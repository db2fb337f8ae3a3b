#!/usr/bin/env python3
"""danesmtp.py: a small SMTP server with STARTTLS for the DANE tests
(tests/sys/dane.t).

Usage: danesmtp.py --cert PEM --key PEM [--chain PEM] [--notls]
                   [--bind 127.0.0.1] [--log FILE] [--lifetime SEC]

Binds port 0 of --bind, prints the port (one line, flushed) and serves each
connection in a thread: greeting, EHLO (STARTTLS offered unless --notls,
then again after the handshake, without it), MAIL, RCPT (250), DATA (354,
250 after the dot), RSET, NOOP, QUIT. The server certificate is --cert
(followed by --chain, its issuers, if given) with the key --key. --log
gets one line per event: "connect", "tls VERSION" after a handshake,
"plain-mail" for a MAIL before TLS, "accepted BYTES" after a final dot.
Exits by itself after --lifetime seconds (default 60). Standard library only.
"""
import argparse
import os
import socket
import ssl
import sys
import tempfile
import threading
import time

LOCK = threading.Lock()


def log(args, what):
    if args.log:
        with LOCK, open(args.log, "a") as f:
            f.write(what + "\n")


class Conn:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
            if len(self.buf) > 1 << 20:
                raise EOFError
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def send(self, data):
        self.sock.sendall(data)


def session(sock, args, ctx):
    c = Conn(sock)
    tls = False
    c.send(b"220 dane.test ESMTP\r\n")
    while True:
        line = c.line()
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            offer = b"" if tls or args.notls else b"250-STARTTLS\r\n"
            c.send(b"250-dane.test\r\n" + offer + b"250 8BITMIME\r\n")
        elif line[:8].upper() == b"STARTTLS" and not args.notls and not tls:
            c.send(b"220 2.0.0 go ahead\r\n")
            c.sock = ctx.wrap_socket(c.sock, server_side=True)
            c.buf = b""
            tls = True
            log(args, "tls " + (c.sock.version() or "?"))
        elif verb == b"MAIL":
            if not tls:
                log(args, "plain-mail")
            c.send(b"250 2.1.0 ok\r\n")
        elif verb == b"RCPT":
            c.send(b"250 2.1.5 ok\r\n")
        elif verb == b"DATA":
            c.send(b"354 go ahead\r\n")
            n = 0
            while True:
                ln = c.line()
                if ln == b".\r\n":
                    break
                n += len(ln)
            log(args, "accepted %d" % n)
            c.send(b"250 2.0.0 accepted\r\n")
        elif verb == b"QUIT":
            c.send(b"221 2.0.0 bye\r\n")
            return
        elif verb in (b"RSET", b"NOOP"):
            c.send(b"250 2.0.0 ok\r\n")
        else:
            c.send(b"502 5.5.2 what\r\n")


def serve(sock, args, ctx):
    try:
        sock.settimeout(30)
        log(args, "connect")
        session(sock, args, ctx)
    except (EOFError, OSError, ssl.SSLError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--chain")
    p.add_argument("--notls", action="store_true")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=60)
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certfile = args.cert
    if args.chain:
        fd, certfile = tempfile.mkstemp(suffix=".pem")
        with os.fdopen(fd, "w") as f:
            f.write(open(args.cert).read() + open(args.chain).read())
    ctx.load_cert_chain(certfile, args.key)
    if args.chain:
        os.unlink(certfile)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((args.bind, 0))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    end = time.time() + args.lifetime
    s.settimeout(1)
    while time.time() < end:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn, args, ctx), daemon=True).start()
    sys.exit(0)


if __name__ == "__main__":
    main()
