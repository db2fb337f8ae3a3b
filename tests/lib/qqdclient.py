#!/usr/bin/env python3
"""qqdclient.py: K clients of qmail-queued's socket at once (tests/fault/queued.t).

    qqdclient.py SOCKET K MSGFILE ENVPREFIX

Client i (1..K) sends MSGFILE in 64 KB chunks, the end chunk and the
envelope F<sender>\\0 T<rcpt>\\0 \\0 with sender "s<i>.<random>@example.org"
(written to ENVPREFIX.<i> for the ledger), all but the envelope's last
byte; then every client's last byte goes out together, so the daemon sees
the K messages complete at about the same time (one batch). Prints one
line per client: the first reply netstring's content ("0", "53", ...) or
"none" when the connection ended without one (the daemon died). Waits at
most 30 s for the replies. Exit 0.
"""
import os
import select
import socket
import sys
import time


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def main():
    path, k, msgf, envp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    msg = open(msgf, "rb").read()
    tag = os.urandom(4).hex()
    socks, envs = [], []
    for i in range(1, k + 1):
        env = b"Fs%d.%s@example.org\0Trcpt%d@example.net\0\0" % (i, tag.encode(), i)
        with open(f"{envp}.{i}", "wb") as f:
            f.write(env)
        envs.append(env)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            s = None
        socks.append(s)
    for s, env in zip(socks, envs):
        if s is None:
            continue
        try:
            data = b"".join(ns(msg[o:o + 65536]) for o in range(0, len(msg), 65536))
            s.sendall(data + b"0:," + env[:-1])
        except OSError:
            pass
    for s, env in zip(socks, envs):
        if s is None:
            continue
        try:
            s.sendall(env[-1:])
        except OSError:
            pass
    got = [b"" for _ in socks]
    live = {s.fileno(): i for i, s in enumerate(socks) if s is not None}
    end = time.monotonic() + 30
    while live and time.monotonic() < end:
        rd, _, _ = select.select(list(live), [], [], max(0.0, end - time.monotonic()))
        for fd in rd:
            i = live[fd]
            try:
                c = socks[i].recv(100)
            except OSError:
                c = b""
            if not c:
                del live[fd]
            else:
                got[i] += c
    for g in got:
        r = "none"
        head, sep, rest = g.partition(b":")
        if sep and head.isdigit() and len(rest) > int(head) and rest[int(head):int(head) + 1] == b",":
            r = rest[:int(head)].decode("latin-1") or "none"
        print(r)


if __name__ == "__main__":
    main()
