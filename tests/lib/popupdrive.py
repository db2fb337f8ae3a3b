#!/usr/bin/env python3
"""popupdrive.py: a scripted POP3 client for tests/sys/pop3.t (qmail-popup
in front of qmail-pop3d, on an installed hub).

usage: popupdrive.py PORT SRC [-s] STEP...

Connects from SRC (an address bound first) to 127.0.0.1:PORT (with -s,
TLS at once: POP3S), prints the greeting, then sends each STEP as one
line (CRLF added) and prints its reply on one line: a multi-line answer
(CAPA, RETR, TOP, LIST and UIDL without an argument) joined by '|', the
final '.' left out. When the server has closed the connection, 'closed'.
[[TEXT]] in a step stands for TEXT in base64, '%' in TEXT for a NUL byte.
Special steps:
  +stls           STLS and, after +OK, the TLS handshake (certificate not
                  checked); prints the reply and "tls" once it is done
  +stlspipe:LINE  "STLS" and LINE in one write, then as +stls
  +long:N:PREFIX  PREFIX and N 'A's in one line, sent in pieces
  +raw:TEXT       TEXT with Python escapes (\\x00) decoded, as one line
  +t:STEP         STEP; its reply prefixed with the seconds it took
  +sleep:S        wait S seconds
  +drop           close the connection without QUIT (the last step)
  +waitclose      wait (60 s at most) for the server to close; prints
                  "closed after S s"
"""
import base64
import re
import socket
import ssl
import sys
import time

MULTI = ("CAPA", "RETR", "TOP")


class Conn:
    def __init__(self, port, src, tls):
        s = socket.socket()
        s.settimeout(60)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        self.s = s
        if tls:
            self.tls()
        self.buf = b""

    def tls(self):
        ctx = ssl._create_unverified_context()
        self.s = ctx.wrap_socket(self.s)

    def line(self):
        while b"\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                d = b""
            if not d:
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode("latin-1")

    def reply(self, multi):
        first = self.line()
        if first is None:
            return "closed"
        if not (multi and first.startswith("+OK")):
            return first
        lines = [first]
        while True:
            l = self.line()
            if l is None:
                return "|".join(lines + ["closed"])
            if l == ".":
                return "|".join(lines)
            lines.append(l)

    def send(self, data):
        try:
            self.s.sendall(data)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            pass


def expand(step):
    def b64(m):
        return base64.b64encode(m.group(1).replace("%", "\0").encode()).decode()
    return re.sub(r"\[\[(.*?)\]\]", b64, step)


def multi(cmd):
    w = cmd.split(" ")
    v = w[0].upper()
    return v in MULTI or (v in ("LIST", "UIDL") and len(w) == 1)


def stls(c, step):
    extra = b"" if step == "+stls" else step[10:].encode() + b"\r\n"
    c.send(b"STLS\r\n" + extra)
    r = c.reply(False)
    print(r)
    if not r.startswith("+OK"):
        return True
    try:
        c.tls()
        print("tls")
        return True
    except (OSError, ssl.SSLError) as e:
        print("handshake failed: %s" % e)
        return False


def long_line(c, step):
    _, n, prefix = step.split(":", 2)
    c.send(prefix.encode())
    left = int(n)
    while left > 0:
        k = min(left, 65536)
        c.send(b"A" * k)
        left -= k
    c.send(b"\r\n")
    print(c.reply(False))


def main():
    port, src, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    tls = bool(steps) and steps[0] == "-s"
    if tls:
        steps = steps[1:]
    try:
        c = Conn(port, src, tls)
    except (OSError, ssl.SSLError) as e:
        print("connect failed: %s" % e)
        return
    print(c.reply(False))
    for step in steps:
        if step.startswith("+sleep:"):
            time.sleep(float(step[7:]))
            continue
        if step == "+waitclose":
            t0 = time.time()
            while c.line() is not None:
                pass
            print("closed after %.1f s" % (time.time() - t0))
            return
        if step == "+drop":
            c.s.close()
            print("dropped")
            return
        if step == "+stls" or step.startswith("+stlspipe:"):
            if not stls(c, step):
                return
            continue
        if step.startswith("+long:"):
            long_line(c, step)
            continue
        if step.startswith("+raw:"):
            step = step[5:].encode("latin-1").decode("unicode_escape")
        timed = step.startswith("+t:")
        if timed:
            step = step[3:]
        t0 = time.time()
        cmd = expand(step)
        c.send(cmd.encode("latin-1") + b"\r\n")
        r = c.reply(multi(cmd))
        print(("%.2f " % (time.time() - t0) if timed else "") + r)
        if r == "closed":
            return


main()
