# tlsdrive.py: scripted SMTP-over-TLS clients for tests/sys/tls*.t and
# tests/bench/tls.sh. python3 tlsdrive.py CASE PORT [ARGS]; prints one
# result line per check as "name: value" for the .t script to compare.
# Certificates are not verified (the hub's is self-signed).
#   ehlo            the EHLO keywords in the clear
#   inject          STARTTLS with RSET and MAIL pipelined behind it in the
#                   same write: what the server says after the handshake
#   after           the session after STARTTLS: MAIL before EHLO, EHLO
#                   keywords, a second STARTTLS, STARTTLS with an argument
#   starttls        EHLO, STARTTLS: the reply (and nothing more)
#   garbage         STARTTLS, then an HTTP request instead of a ClientHello
#   stall           STARTTLS, then 11 bytes of a ClientHello and silence
#   trickle         STARTTLS, then a real ClientHello one byte per 0.5 s
#   smtps-clear     the SMTPS port in the clear: any greeting? then EHLO
#   smtps           the SMTPS port with TLS: greeting, EHLO, STARTTLS
#   longline N      inside TLS: a command of N bytes
#   barelf          inside TLS: a message with a bare LF
#   nul             inside TLS: a command with a NUL byte
#   send MODE SUBJ  one message to postmaster@$ME (MODE starttls or smtps)
#   bench-sessions MODE N   N sessions (EHLO, STARTTLS, EHLO, QUIT) in a row
#   bench-send MODE N SIZE  N messages of SIZE bytes in one TLS session
import smtplib, socket, ssl, sys, time

ME = "hub.example.org"
case, port = sys.argv[1], int(sys.argv[2])
args = sys.argv[3:]


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


class Conn:
    """a line-oriented SMTP client on a socket that may turn into TLS"""

    def __init__(self, port, tls=False):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        if tls:
            self.s = ctx().wrap_socket(self.s)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l + b"\n"

    def reply(self):
        """a whole reply: (code, [texts]) or ("EOF", [])"""
        texts = []
        while True:
            l = self.line()
            if l is None:
                return "EOF", texts
            texts.append(l[4:].decode(errors="replace").strip())
            if l[3:4] != b"-":
                return l[:3].decode(), texts

    def cmd(self, c):
        self.s.sendall(c)
        return self.reply()

    def starttls(self):
        self.s = ctx().wrap_socket(self.s)

    def quiet(self, secs):
        """what arrives within secs: b'' if nothing, 'EOF' if closed"""
        self.s.settimeout(secs)
        try:
            d = self.s.recv(65536)
            return "EOF" if d == b"" else d
        except (socket.timeout, TimeoutError):
            return b""
        finally:
            self.s.settimeout(20)

    def closed_after(self, limit):
        """seconds until the server closes (or resets); limit if it does not"""
        t0 = time.time()
        self.s.settimeout(0.2)
        while time.time() - t0 < limit:
            try:
                if self.s.recv(65536) == b"":
                    return time.time() - t0
            except (socket.timeout, TimeoutError):
                pass
            except OSError:
                return time.time() - t0
        return limit


def out(name, value):
    print("%s: %s" % (name, value), flush=True)


def to_tls(c):
    """EHLO, STARTTLS, handshake"""
    c.reply()
    c.cmd(b"EHLO client.example\r\n")
    code, _ = c.cmd(b"STARTTLS\r\n")
    if code != "220":
        raise SystemExit("STARTTLS: %s" % code)
    c.starttls()


def client_hello():
    """the bytes of a real ClientHello"""
    o, i = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx().wrap_bio(i, o)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return o.read()


def case_ehlo():
    c = Conn(port)
    c.reply()
    out("ehlo", " ".join(t.split()[0].upper() for t in c.cmd(b"EHLO client.example\r\n")[1][1:]))


def case_inject():
    c = Conn(port)
    c.reply()
    c.cmd(b"EHLO client.example\r\n")
    c.s.sendall(b"STARTTLS\r\nRSET\r\nMAIL FROM:<inject@example.net>\r\n")
    out("starttls", c.reply()[0])
    c.starttls()
    got = c.quiet(1.5)
    out("after handshake", "nothing" if got == b"" else repr(got))
    out("rcpt", c.cmd(b"RCPT TO:<postmaster@" + ME.encode() + b">\r\n")[0])
    c.cmd(b"QUIT\r\n")


def case_after():
    c = Conn(port)
    to_tls(c)
    code, texts = c.cmd(b"MAIL FROM:<a@example.net>\r\n")
    out("mail before ehlo", code + " " + " ".join(texts))
    code, texts = c.cmd(b"EHLO client.example\r\n")
    out("ehlo in tls", code + " " + " ".join(t.split()[0].upper() for t in texts[1:]))
    out("mail", c.cmd(b"MAIL FROM:<a@example.net>\r\n")[0])
    out("starttls again", c.cmd(b"STARTTLS\r\n")[0])
    out("rcpt", c.cmd(b"RCPT TO:<postmaster@" + ME.encode() + b">\r\n")[0])
    out("quit", c.cmd(b"QUIT\r\n")[0])
    c = Conn(port)
    c.reply()
    c.cmd(b"EHLO client.example\r\n")
    out("starttls with argument", c.cmd(b"STARTTLS now\r\n")[0])


def case_starttls():
    c = Conn(port)
    c.reply()
    c.cmd(b"EHLO client.example\r\n")
    code, texts = c.cmd(b"STARTTLS\r\n")
    out("starttls", code + " " + " ".join(texts))


def case_garbage():
    c = Conn(port)
    c.reply()
    c.cmd(b"STARTTLS\r\n")
    c.s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    out("closed after", "%.1f" % c.closed_after(15))


def case_stall():
    c = Conn(port)
    c.reply()
    c.cmd(b"STARTTLS\r\n")
    c.s.sendall(client_hello()[:11])
    out("closed after", "%.1f" % c.closed_after(15))


def case_trickle():
    c = Conn(port)
    c.reply()
    c.cmd(b"STARTTLS\r\n")
    hello = client_hello()
    t0 = time.time()
    c.s.settimeout(0.5)
    for b in hello:
        try:
            c.s.sendall(bytes([b]))
            if c.s.recv(65536) == b"":
                break
        except (socket.timeout, TimeoutError):
            pass
        except OSError:
            break
        if time.time() - t0 > 15:
            break
    out("closed after", "%.1f" % (time.time() - t0))
    out("hello bytes", len(hello))


def case_smtps_clear():
    c = Conn(port)
    got = c.quiet(1.5)
    out("greeting in the clear", "none" if got in (b"", "EOF") else repr(got))
    if got == "EOF":
        out("closed after", "0.0")
        return
    c.s.sendall(b"EHLO client.example\r\n")
    out("closed after", "%.1f" % c.closed_after(15))


def case_smtps():
    c = Conn(port, tls=True)
    out("greeting", c.reply()[0])
    code, texts = c.cmd(b"EHLO client.example\r\n")
    out("ehlo", code + " " + " ".join(t.split()[0].upper() for t in texts[1:]))
    out("starttls", c.cmd(b"STARTTLS\r\n")[0])
    out("version", c.s.version())
    out("quit", c.cmd(b"QUIT\r\n")[0])


def in_tls():
    c = Conn(port)
    to_tls(c)
    c.cmd(b"EHLO client.example\r\n")
    return c


def case_longline():
    c = in_tls()
    n = int(args[0])
    out("long line", c.cmd(b"NOOP " + b"x" * (n - 7) + b"\r\n")[0])
    out("then", "%.1f" % c.closed_after(10))


def case_barelf():
    c = in_tls()
    c.cmd(b"MAIL FROM:<a@example.net>\r\n")
    c.cmd(b"RCPT TO:<postmaster@" + ME.encode() + b">\r\n")
    out("data", c.cmd(b"DATA\r\n")[0])
    code, texts = c.cmd(b"Subject: lf\r\n\r\nbare\nlf\r\n.\r\n")
    out("bare lf", code + " " + " ".join(texts))
    out("then", c.reply()[0])


def case_nul():
    c = in_tls()
    code, texts = c.cmd(b"MAIL FROM:<a\x00b@example.net>\r\n")
    out("nul", code)
    out("noop", c.cmd(b"NOOP\r\n")[0])


def case_send():
    mode, subj = args[0], args[1]
    msg = ("From: <tls@example.net>\r\nTo: <postmaster@%s>\r\nSubject: %s\r\n\r\nover TLS\r\n" % (ME, subj))
    if mode == "smtps":
        s = smtplib.SMTP_SSL("127.0.0.1", port, timeout=20, context=ctx())
    else:
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
        s.starttls(context=ctx())
    out("send", s.sendmail("tls@example.net", ["postmaster@" + ME], msg) or "ok")
    s.quit()


def session(mode):
    if mode == "smtps":
        s = smtplib.SMTP_SSL("127.0.0.1", port, timeout=20, context=ctx())
        s.ehlo("bench.example")
    else:
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
        s.ehlo("bench.example")
        s.starttls(context=ctx())
        s.ehlo("bench.example")
    return s


def case_bench_sessions():
    mode, n = args[0], int(args[1])
    t0 = time.time()
    for _ in range(n):
        session(mode).quit()
    out("sessions", "%d %.3f" % (n, time.time() - t0))


def case_bench_send():
    mode, n, size = args[0], int(args[1]), int(args[2])
    body = ("x" * 76 + "\r\n") * max(1, size // 78)
    msg = "Subject: bench\r\n\r\n" + body
    s = session(mode)
    t0 = time.time()
    for _ in range(n):
        s.sendmail("bench@example.net", [args[3] if len(args) > 3 else "postmaster@" + ME], msg)
    out("messages", "%d %.3f" % (n, time.time() - t0))
    s.quit()


globals()["case_" + case.replace("-", "_")]()
