#!/usr/bin/env python3
"""delayproxy.py: a TCP relay that adds a fixed one-way delay, to stand for
a slow link (tests/bench/remote.sh, case d with LINK_RTT_MS).

  delayproxy.py LISTEN_PORT TARGET_PORT RTT_MS

Listens on 127.0.0.1:LISTEN_PORT; each connection is relayed to
127.0.0.1:TARGET_PORT, every chunk in each direction held back RTT_MS/2
(order kept, no bandwidth limit; a connect costs one RTT too). Prints
"ready" on stdout once listening; runs until killed.
"""
import asyncio
import sys
import time


async def pump(reader, writer, delay):
    q = asyncio.Queue()

    async def out():
        while True:
            due, data = await q.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                try:
                    writer.write_eof()
                except (OSError, RuntimeError):
                    pass
                return
            writer.write(data)
            try:
                await writer.drain()
            except OSError:
                return
    task = asyncio.ensure_future(out())
    try:
        while True:
            data = await reader.read(65536)
            q.put_nowait((time.monotonic() + delay, data or None))
            if not data:
                break
    except OSError:
        q.put_nowait((time.monotonic() + delay, None))
    await task


async def main():
    lport, tport, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 2000.0

    async def conn(cr, cw):
        await asyncio.sleep(delay)            # the SYN's way there ...
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", tport)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pump(cr, sw, delay), pump(sr, cw, delay))
        sw.close()
        cw.close()

    srv = await asyncio.start_server(conn, "127.0.0.1", lport, backlog=256)
    print("ready", flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
