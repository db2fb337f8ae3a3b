#!/usr/bin/env python3
"""authdrive.py: a scripted SMTP client for tests/sys/auth.t.

usage: authdrive.py PORT SRC STEP...

Connects from SRC (an address bound first) to 127.0.0.1:PORT, prints the
greeting's code, then sends each STEP as one line (CRLF added) and prints
its reply on one line: the lines of a multi-line reply joined by '|',
CRLF cut. When the server has closed the connection, 'closed'.
In any step [[TEXT]] stands for TEXT in base64, '%' in TEXT for a NUL
byte ("AUTH PLAIN [[%alice%secret]]"). Special steps:
  +tls            STARTTLS and the TLS handshake (the certificate is not
                  checked; the self-signed one of the install)
  +long:N:PREFIX  PREFIX and N 'A's in one line, sent in pieces (the
                  server may close before it has read them all)
  +t:STEP         STEP; its reply prefixed with the seconds it took
  +msg:SUBJECT    after DATA's 354: a message with that subject, the dot
"""
import base64
import re
import socket
import ssl
import sys
import time


class Conn:
    def __init__(self, port, src):
        self.s = socket.socket()
        self.s.settimeout(60)
        self.s.bind((src, 0))
        self.s.connect(("127.0.0.1", port))
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                d = b""
            if not d:
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode("latin-1")

    def reply(self):
        lines = []
        while True:
            l = self.line()
            if l is None:
                return "|".join(lines + ["closed"]) if lines else "closed"
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                return "|".join(lines)

    def send(self, data):
        try:
            self.s.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            pass

    def tls(self):
        self.send(b"STARTTLS\r\n")
        r = self.reply()
        if not r.startswith("220"):
            return r
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(self.s)
        return r + " tls=" + self.s.version()


def step(c, st):
    if st == "+tls":
        return c.tls()
    if st.startswith("+t:"):
        t0 = time.monotonic()
        r = step(c, st[3:])
        return "%.2f %s" % (time.monotonic() - t0, r)
    st = re.sub(r"\[\[(.*?)\]\]",
                lambda m: base64.b64encode(m.group(1).replace("%", "\0").encode()).decode(), st)
    if st.startswith("+msg:"):
        c.send(b"Subject: " + st[5:].encode() + b"\r\n\r\nx\r\n.\r\n")
        return c.reply()
    if st.startswith("+long:"):
        _, n, prefix = st.split(":", 2)
        c.send(prefix.encode())
        left = int(n)
        while left > 0:
            k = min(left, 65536)
            c.send(b"A" * k)
            left -= k
        c.send(b"\r\n")
        return c.reply()
    c.send(st.encode("latin-1") + b"\r\n")
    return c.reply()


def main():
    c = Conn(int(sys.argv[1]), sys.argv[2])
    print(c.reply())
    for st in sys.argv[3:]:
        print(step(c, st), flush=True)


main()
