#!/usr/bin/env python3
"""tlssink.py: an SMTP sink that offers STARTTLS, for tests/bench/remote.sh
(case e: the drain to a TLS sink). Postfix's smtp-sink has no TLS (Debian
12, Postfix 3.7), hence this one; both senders of case e talk to it.

  tlssink.py PORT CERTFILE DIR LOG [WORKERS]

Listens on 127.0.0.1:PORT; WORKERS processes (2 by default) share the
listening socket, each an asyncio loop. EHLO offers PIPELINING, 8BITMIME
and STARTTLS (CERTFILE: certificate and key in one PEM file); MAIL, RCPT,
RSET, NOOP get 250 and DATA takes the message and discards it. Every
message accepted creates an empty file in DIR (so remotedrive.py's
dir:DIR counts it). LOG gets one line per event, appended: "c" for a
connection, "h" for a finished TLS handshake (so handshakes per message
can be counted). TLS is not required, a client may stay in the clear.
Replies are sent as they are made, with TCP_NODELAY (smtp-sink and
Postfix's smtpd hold pipelined replies until their input is empty; a
sink without either made every pipelined transaction wait 40 ms for a
delayed ACK, for both senders).
Prints "ready" once listening; runs until killed. Caps: a line of 4096
bytes, a message of 64 MB; an idle client is dropped after 60 s.
"""
import asyncio
import os
import socket
import ssl
import sys

MAXLINE = 4096
MAXMSG = 64 << 20
IDLE = 60


class Sink:
    def __init__(self, ctx, outdir, logfd):
        self.ctx, self.outdir, self.logfd = ctx, outdir, logfd
        self.seq = 0

    def event(self, what):
        os.write(self.logfd, what + b"\n")

    def got_message(self):
        self.seq += 1
        name = os.path.join(self.outdir, "%d.%d" % (os.getpid(), self.seq))
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))

    async def line(self, reader):
        ln = await asyncio.wait_for(reader.readuntil(b"\n"), IDLE)
        if len(ln) > MAXLINE:
            raise ValueError("line too long")
        return ln

    async def data(self, reader):
        size = 0
        while True:
            ln = await asyncio.wait_for(reader.readuntil(b"\n"), IDLE)
            if ln in (b".\r\n", b".\n"):
                return size <= MAXMSG
            size += len(ln)

    async def serve(self, reader, writer):
        self.event(b"c")
        tls = False
        # each reply goes out at once: without this, the second of two
        # pipelined replies waits for the client's delayed ACK (40 ms)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            writer.write(b"220 tlssink.test ESMTP\r\n")
            while True:
                await writer.drain()
                ln = await self.line(reader)
                verb = ln[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    ext = b"" if tls else b"250-STARTTLS\r\n"
                    writer.write(b"250-tlssink.test\r\n" + ext +
                                 b"250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == b"STAR" and not tls:
                    writer.write(b"220 2.0.0 go ahead\r\n")
                    await writer.drain()
                    await asyncio.wait_for(writer.start_tls(self.ctx), IDLE)
                    tls = True
                    self.event(b"h")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    if await self.data(reader):
                        self.got_message()
                        writer.write(b"250 2.0.0 Ok: discarded\r\n")
                    else:
                        writer.write(b"552 5.3.4 too big\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 2.0.0 Ok\r\n")
        except (OSError, ValueError, ssl.SSLError, asyncio.TimeoutError,
                asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def worker(sock, sink):
    server = await asyncio.start_server(sink.serve, sock=sock, limit=MAXLINE * 2)
    async with server:
        await server.serve_forever()


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    port, cert, outdir, logpath = int(argv[1]), argv[2], argv[3], argv[4]
    workers = int(argv[5]) if len(argv) > 5 else 2
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert)
    logfd = os.open(logpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    kids = []
    for _ in range(workers - 1):
        pid = os.fork()
        if pid == 0:
            asyncio.run(worker(sock, Sink(ctx, outdir, logfd)))
            os._exit(0)
        kids.append(pid)
    print("ready", flush=True)
    try:
        asyncio.run(worker(sock, Sink(ctx, outdir, logfd)))
    finally:
        for pid in kids:
            try:
                os.kill(pid, 15)
            except OSError:
                pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main(sys.argv)
