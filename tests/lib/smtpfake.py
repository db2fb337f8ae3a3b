#!/usr/bin/env python3
"""smtpfake.py: a scripted, optionally hostile SMTP server for qmail-remote's
tests (docs/bad-input.md C1-C8).

Binds --bind (default 127.0.0.1; an IPv6 address such as ::1 works) on
--port (default 0 = any), prints the port on stdout (one line, flushed) and
serves each connection in its own thread according to MODE:

  ok          ESMTP with PIPELINING, 8BITMIME and SIZE (--size N, 0 = no
              limit advertised as "SIZE"); RCPT to an address containing
              "bad" gets 550 5.1.1, "temp" 451 4.2.1, others 250; DATA 354,
              after the dot 250 (--final CODE changes it)
  nopipe      as ok but EHLO is refused (502): HELO only, nothing advertised
  greet554    greeting 554 5.3.2 go away
  greet421    greeting 421 4.3.2 busy
  short       greeting "220-" CRLF then "2" CRLF (C1)
  nofinal     greeting "220-a" CRLF then close (C1: missing final line)
  bigtext     an EHLO reply of --lines continuation lines of 100 bytes, then
              "250 ok" (C2: with few lines the delivery goes on)
  endless     endless 250- lines after EHLO (C2)
  ctrl        RCPT refused 550 with NUL, ESC, CR and 8-bit bytes in the text (C3)
  code999 / code000 / codeabc   the greeting's code is 999, 000, "abc" (C4)
  mail550 / mail451             MAIL refused
  data250     DATA answered 250 instead of 354 (C5)
  data554     DATA answered 554
  drip        the greeting one byte every --delay seconds (C6)
  silent      accept, read nothing, close at once
  hang        accept, never say anything

With --smtputf8 the EHLO reply of ok (and the modes like it) also offers
SMTPUTF8 (RFC 6531); with --dsn it offers DSN (RFC 3461: the parameters
are taken as they come and show in DIR/conn-N.cmds).

Many transactions may follow each other on one connection (MAIL after
the final dot, RSET). With --idle-close SEC a connection that gets no
command for SEC seconds after its first transaction is closed (with
"421 4.4.2 idle timeout" first unless --idle-close-silent); with
--max-txns N the Nth final dot is answered and then the connection
closed at once (no 421).

With --logdir DIR, connection N writes DIR/conn-N.cmds (every command line
received, DATA excluded) and DIR/conn-N.data (the DATA bytes as received,
dot-stuffed, with CRLF, up to and including the final ".\\r\\n"; every
transaction of the connection appended), and DIR/connections gets one line
per connection accepted.
DIR/txns gets one line per transaction, written just before the reply to
its final dot is sent (so a client never sees a reply the file does not
show yet): "CODE CONN RCPTS SHA256", RCPTS the recipients the server
accepted (comma-separated, as written after "RCPT TO:<"), SHA256 the hex
digest of the message as the client meant it (dot-stuffing undone, CRLF
as LF) - what a server "accepted" when CODE is 250. A message whose
header holds "X-Fake-Final: CODE" gets that code after its final dot
(instead of --final).
Exits by itself after --lifetime seconds (default 30). Standard library only.
"""
import argparse
import hashlib
import os
import re
import socket
import sys
import threading
import time

TXNS_LOCK = threading.Lock()

class Conn:
    def __init__(self, sock, args, n):
        self.sock, self.args, self.n = sock, args, n
        self.buf = b""
        self.cmds = None
        if args.logdir:
            self.cmds = open(os.path.join(args.logdir, "conn-%d.cmds" % n), "wb")

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def cmd(self):
        c = self.line()
        if self.cmds:
            self.cmds.write(c)
            self.cmds.flush()
        return c

    def data(self):
        """Read DATA up to CRLF.CRLF; log the raw bytes; return them."""
        raw = b""
        while True:
            ln = self.line()
            raw += ln
            if ln == b".\r\n":
                break
        if self.args.logdir:
            with open(os.path.join(self.args.logdir, "conn-%d.data" % self.n), "ab") as f:
                f.write(raw)
        return raw


def greet(c, mode):
    greetings = {
        "greet554": b"554 5.3.2 go away\r\n", "greet421": b"421 4.3.2 busy\r\n",
        "short": b"220-\r\n2\r\n", "nofinal": b"220-a\r\n",
        "code999": b"999 what\r\n", "code000": b"000 what\r\n", "codeabc": b"abc what\r\n",
    }
    if mode in greetings:
        c.send(greetings[mode])
        if mode == "nofinal":
            return False
        # read what the client says (QUIT) until it closes
        try:
            while True:
                if c.cmd().upper().startswith(b"QUIT"):
                    c.send(b"221 bye\r\n")
                    break
        except (EOFError, OSError):
            pass
        return False
    if mode == "drip":
        for b in b"220 slow server\r\n":
            c.send(bytes([b]))
            time.sleep(c.args.delay)
        return False
    c.send(b"220 fake ESMTP\r\n")
    return True


def ehlo_reply(c, mode):
    if mode == "bigtext":
        c.send(b"250-fake\r\n" + b"".join(b"250-" + b"x" * 94 + b"\r\n" for _ in range(c.args.lines)) +
               b"250-PIPELINING\r\n250 8BITMIME\r\n")
        return
    if mode == "endless":
        chunk = b"".join(b"250-" + b"y" * 94 + b"\r\n" for _ in range(100))
        while True:
            c.send(chunk)
    size = b"250-SIZE %d\r\n" % c.args.size if c.args.size else b"250-SIZE\r\n"
    utf8 = b"250-SMTPUTF8\r\n" if c.args.smtputf8 else b""
    if c.args.dsn:
        utf8 += b"250-DSN\r\n"
    c.send(b"250-fake\r\n250-PIPELINING\r\n" + size + utf8 + b"250 8BITMIME\r\n")


def rcpt_reply(c, mode, line):
    addr = line.lower()
    if mode == "ctrl":
        return b"550 5.1.1 bad\x00user\x1b[31m red\rcr \xff\xfe end\r\n"
    if b"bad" in addr:
        return b"550 5.1.1 no such user\r\n"
    if b"temp" in addr:
        return b"451 4.2.1 try later\r\n"
    return b"250 2.1.5 ok\r\n"


def final_code(c, raw):
    """the reply code for the final dot: X-Fake-Final in the header, or --final"""
    head = raw.split(b"\r\n\r\n", 1)[0]
    m = re.search(rb"(?im)^X-Fake-Final: (\d{3})\r?$", head)
    return int(m.group(1)) if m else c.args.final


def log_txn(c, code, rcpts, raw):
    """one DIR/txns line, before the final reply goes out"""
    if not c.args.logdir:
        return
    lines = raw[:-3].split(b"\r\n")[:-1] if raw != b".\r\n" else []
    msg = b"".join((l[1:] if l.startswith(b"..") else l) + b"\n" for l in lines)
    with TXNS_LOCK, open(os.path.join(c.args.logdir, "txns"), "a") as f:
        f.write("%d %d %s %s\n" % (code, c.n, ",".join(rcpts) or "-",
                                   hashlib.sha256(msg).hexdigest()))


def session(c, mode):
    if not greet(c, mode):
        return
    txns = 0
    rcpts = []
    while True:
        if txns and c.args.idle_close and b"\n" not in c.buf:
            c.sock.settimeout(c.args.idle_close)
            try:
                line = c.cmd()
            except socket.timeout:
                if not c.args.idle_close_silent:
                    c.send(b"421 4.4.2 idle timeout\r\n")
                return
            c.sock.settimeout(None)
        else:
            line = c.cmd()
        verb = line[:4].upper()
        if verb == b"EHLO":
            if mode == "nopipe":
                c.send(b"502 5.5.1 no EHLO here\r\n")
            else:
                ehlo_reply(c, mode)
        elif verb == b"HELO":
            c.send(b"250 fake\r\n")
        elif verb == b"MAIL":
            rcpts = []
            c.send({"mail550": b"550 5.7.1 not you\r\n",
                    "mail451": b"451 4.7.1 later\r\n"}.get(mode, b"250 2.1.0 ok\r\n"))
        elif verb == b"RCPT":
            reply = rcpt_reply(c, mode, line)
            c.send(reply)
            if reply.startswith(b"250"):
                rcpts.append(line[9:].split(b">")[0].decode("latin-1"))
        elif verb == b"DATA":
            if mode == "data250":
                c.send(b"250 2.0.0 ok but no data\r\n")
                continue
            if mode == "data554":
                c.send(b"554 5.6.0 no data for you\r\n")
                continue
            c.send(b"354 go ahead\r\n")
            raw = c.data()
            code = final_code(c, raw)
            log_txn(c, code, rcpts, raw)
            c.send(b"%d final answer\r\n" % code)
            rcpts = []
            txns += 1
            if c.args.max_txns and txns >= c.args.max_txns:
                return
        elif verb == b"QUIT":
            c.send(b"221 bye\r\n")
            return
        elif verb == b"RSET" or verb == b"NOOP":
            if verb == b"RSET":
                rcpts = []
            c.send(b"250 ok\r\n")
        else:
            c.send(b"502 5.5.1 unknown\r\n")


def serve(sock, args, n):
    # replies go out as written (no Nagle wait for the client's delayed ACK:
    # 40 ms per pipelined batch)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c = Conn(sock, args, n)
    if args.logdir:
        with open(os.path.join(args.logdir, "connections"), "a") as f:
            f.write("%d\n" % n)
    try:
        if args.mode == "silent":
            return
        if args.mode == "hang":
            time.sleep(args.lifetime)
            return
        session(c, args.mode)
    except (EOFError, OSError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--logdir")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--final", type=int, default=250)
    p.add_argument("--lines", type=int, default=100)
    p.add_argument("--delay", type=float, default=0.5)
    p.add_argument("--lifetime", type=float, default=30)
    p.add_argument("--idle-close", type=float, default=0)
    p.add_argument("--idle-close-silent", action="store_true")
    p.add_argument("--max-txns", type=int, default=0)
    p.add_argument("--smtputf8", action="store_true")
    p.add_argument("--dsn", action="store_true")
    args = p.parse_args()
    fam = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    n = 0
    while True:
        conn, _ = s.accept()
        n += 1
        threading.Thread(target=serve, args=(conn, args, n), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
