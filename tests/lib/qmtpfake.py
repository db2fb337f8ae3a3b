#!/usr/bin/env python3
"""qmtpfake.py: a scripted QMTP server (cr.yp.to/proto/qmtp.txt) for the
tests of qmail-remote's session mode.

Binds 127.0.0.1 on an ephemeral port, prints it (one line, flushed), and
serves connections one after the other. Each package is read whole and
answered with one "K" response per recipient ("D" for a recipient with
"bad" in it). Options:
  --drop-after N    after answering N packages of a connection, close it
                    at once (whatever the client has sent beyond)
  --one             accept one connection only, then stop listening
                    (later connects are refused)
  --idle-close SEC  close a connection that sent nothing for SEC seconds
  --log FILE        one line per answered package: "<conn> <first line of
                    the message>" (written before the responses are sent)
  --envlog FILE     one line per answered package: the sender and each
                    recipient as hex, blank-separated (bytes exactly as
                    received, 8-bit ones too; the empty sender is "-")
Exits by itself after --lifetime seconds (default 30). Standard library only.
"""
import argparse
import os
import socket
import sys
import threading
import time


class Conn:
    def __init__(self, sock, timeout):
        self.sock, self.buf = sock, b""
        sock.settimeout(timeout or None)

    def more(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def netstring(self):
        while b":" not in self.buf:
            if len(self.buf) > 12:
                raise ValueError("bad length")
            self.more()
        i = self.buf.index(b":")
        n = int(self.buf[:i])
        while len(self.buf) < i + 1 + n + 1:
            self.more()
        body, end = self.buf[i + 1:i + 1 + n], self.buf[i + 1 + n:i + 2 + n]
        if end != b",":
            raise ValueError("no comma")
        self.buf = self.buf[i + 2 + n:]
        return body


def rcpts(block):
    out = []
    while block:
        i = block.index(b":")
        n = int(block[:i])
        out.append(block[i + 1:i + 1 + n])
        block = block[i + 2 + n:]
    return out


def serve(sock, n, args):
    c = Conn(sock, args.idle_close)
    done = 0
    try:
        while not args.drop_after or done < args.drop_after:
            msg = c.netstring()
            sender = c.netstring()
            rs = rcpts(c.netstring())
            if args.envlog:
                with open(args.envlog, "a") as f:
                    f.write(" ".join([sender.hex() or "-"] + [r.hex() for r in rs]) + "\n")
            if args.log:
                with open(args.log, "a") as f:
                    f.write("%d %s\n" % (n, msg[1:].split(b"\n")[0].decode("latin-1")))
            out = b""
            for r in rs:
                resp = b"Dno such user #5.1.1" if b"bad" in r else b"Kok stored"
                out += b"%d:%s," % (len(resp), resp)
            sock.sendall(out)
            done += 1
        # a FIN after the responses, not a reset (unread input would make
        # close() send RST, and the client could lose the last responses)
        sock.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
    except (EOFError, ValueError, OSError):
        pass
    finally:
        sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--drop-after", type=int, default=0)
    p.add_argument("--one", action="store_true")
    p.add_argument("--idle-close", type=float, default=0)
    p.add_argument("--log")
    p.add_argument("--envlog")
    p.add_argument("--lifetime", type=float, default=30)
    args = p.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    t = threading.Timer(args.lifetime, lambda: os._exit(0))
    t.daemon = True
    t.start()
    n = 0
    while True:
        conn, _ = s.accept()
        n += 1
        if args.one:
            s.close()
            serve(conn, n, args)
            return 0
        threading.Thread(target=serve, args=(conn, n, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
