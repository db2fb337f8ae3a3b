#!/usr/bin/env python3
"""authdrive.py: a scripted SMTP client for tests/sys/auth.t and authflood.t.

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

usage: authdrive.py flood PORT TOTAL PER LOGIN TOKEN B64FILE SRC...

Sends TOTAL wrong passwords for LOGIN to 127.0.0.1:PORT: each connection
(EHLO, then AUTH until the server drops it, at most PER passwords, then
QUIT) from one of the SRC addresses, one connection at a time per
address. A connection sets its PER passwords aside when it starts (those
it did not send go back), so that with TOTAL a multiple of PER and a
server that drops after PER failures every connection has PER. The
mechanisms take turns: PLAIN with the initial response, LOGIN with the user name as the
initial response, PLAIN after 334, LOGIN after two 334s. Each password is
TOKEN-number-random; every base64 form of a password sent is written to
B64FILE, one a line. Prints key=value lines: conns, failures (535
replies), dropped (connections whose last failure was followed by 421 and
the close; a NOOP after each failure shows which), unexpected (any other
reply, the first shown in 'first'), per_conn (the failures each connection took, as "N:count" pairs),
first_avg/last_avg/last_min (seconds the first and the last failure of a
connection took, from the line sent to the 535).
"""
import base64
import random
import re
import socket
import ssl
import string
import sys
import threading
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


class Flood:
    MECHS = ("plain-ir", "login-ir", "plain", "login")

    def __init__(self, port, total, per, login, token):
        self.port, self.left, self.per_conn = port, total, per
        self.login, self.token = login, token
        self.lock = threading.Lock()
        self.n = 0
        self.stop = False
        self.b64 = []
        self.conns = self.failures = self.dropped = self.unexpected = 0
        self.first = None
        self.per = {}
        self.t_first, self.t_last = [], []

    def reserve(self):
        """set aside up to PER passwords for a connection: how many"""
        with self.lock:
            k = 0 if self.stop else min(self.left, self.per_conn)
            self.left -= k
            return k

    def number(self):
        with self.lock:
            self.n += 1
            return self.n

    def bad(self, what):
        with self.lock:
            self.unexpected += 1
            self.stop = True   # a server that misbehaves once: no more
            if self.first is None:
                self.first = what

    def attempt(self, c, k):
        """one wrong password, the k-th of the whole run: the reply"""
        pw = "%s-%d-%s" % (self.token, k, "".join(random.choice(string.ascii_letters) for _ in range(8)))
        mech = self.MECHS[k % 4]
        b = lambda t: base64.b64encode(t.encode()).decode()
        plain, user, pwb = b("\0%s\0%s" % (self.login, pw)), b(self.login), b(pw)
        with self.lock:
            self.b64 += [plain, pwb]
        if mech == "plain-ir":
            c.send(("AUTH PLAIN %s\r\n" % plain).encode())
        elif mech == "plain":
            c.send(b"AUTH PLAIN\r\n")
            r = c.reply()
            if r != "334 ":
                return r
            c.send((plain + "\r\n").encode())
        else:
            c.send(("AUTH LOGIN %s\r\n" % user).encode() if mech == "login-ir" else b"AUTH LOGIN\r\n")
            if mech == "login":
                r = c.reply()
                if r != "334 VXNlcm5hbWU6":
                    return r
                c.send((user + "\r\n").encode())
            r = c.reply()
            if r != "334 UGFzc3dvcmQ6":
                return r
            c.send((pwb + "\r\n").encode())
        return c.reply()

    def conn(self, src):
        """one connection: 0 when there was nothing left to send"""
        mine = self.reserve()
        if mine == 0:
            return 0
        k = self.number()
        c = Conn(self.port, src)
        r = c.reply()
        if not r.startswith("220"):
            self.bad("greeting " + r)
            return 1
        c.send(b"EHLO flood.example\r\n")
        r = c.reply()
        if "AUTH PLAIN LOGIN" not in r:
            self.bad("EHLO " + r)
            return 1
        times, n = [], 0
        while True:
            t0 = time.monotonic()
            r = self.attempt(c, k)
            if not r.startswith("535 5.7.8"):
                self.bad(r)
                break
            times.append(time.monotonic() - t0)
            n += 1
            # the server writes a drop (421) right after the failure's 535,
            # before it reads on: the reply after a NOOP tells which
            c.send(b"NOOP\r\n")
            r2 = c.reply()
            if r2.startswith("421 4.7.0"):
                if c.reply() == "closed":
                    with self.lock:
                        self.dropped += 1
                else:
                    self.bad("not closed after " + r2)
                break
            if not r2.startswith("250"):
                self.bad("NOOP " + r2)
                break
            if n == mine:
                c.send(b"QUIT\r\n")
                c.reply()
                break
            k = self.number()
        with self.lock:
            self.left += mine - n
            self.conns += 1
            self.failures += n
            self.per[n] = self.per.get(n, 0) + 1
            if times:
                self.t_first.append(times[0])
                self.t_last.append(times[-1])
        c.s.close()
        return 1

    def worker(self, src):
        while self.conn(src):
            pass


def flood(argv):
    port, total, per = int(argv[0]), int(argv[1]), int(argv[2])
    login, token, b64file, srcs = argv[3], argv[4], argv[5], argv[6:]
    f = Flood(port, total, per, login, token)
    ts = [threading.Thread(target=f.worker, args=(s,)) for s in srcs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(b64file, "w") as o:
        o.write("".join(x + "\n" for x in f.b64))
    print("conns=%d" % f.conns)
    print("failures=%d" % f.failures)
    print("dropped=%d" % f.dropped)
    print("unexpected=%d" % f.unexpected)
    print("first=%s" % f.first)
    print("per_conn=%s" % " ".join("%d:%d" % kv for kv in sorted(f.per.items())))
    avg = lambda l: sum(l) / len(l) if l else 0
    print("first_avg=%.3f" % avg(f.t_first))
    print("last_avg=%.3f" % avg(f.t_last))
    print("last_min=%.3f" % (min(f.t_last) if f.t_last else 0))


def main():
    if sys.argv[1] == "flood":
        flood(sys.argv[2:])
        return
    c = Conn(int(sys.argv[1]), sys.argv[2])
    print(c.reply())
    for st in sys.argv[3:]:
        print(step(c, st), flush=True)


main()
