#!/usr/bin/python3
"""tlsload.py: the measuring half of tests/bench/tls.sh.

  tlsload.py MODE --port P --n N --c C --scope SCOPE [--size S] [--per K]
             [--rcpt ADDR] [--label X]
    MODE  plain     N sessions: connect, EHLO, QUIT (no TLS: the baseline)
          starttls  N sessions: connect, EHLO, STARTTLS, handshake, EHLO, QUIT
          smtps     N sessions: connect, handshake, EHLO, QUIT (implicit TLS)
          msg       N messages of S bytes over STARTTLS, K per session
                    (--per 1: one session per message, as MTAs send)
    C worker processes share the N; each sets up its own TLS context once
    (no session resumption: every handshake is a full one, as for ours,
    which keeps no session cache across processes).
    SCOPE  pgidfiles:GLOB  processes in the groups named by qmailctl.pid files
           tree:PID        a process and its descendants (Postfix's master)
    After every TLS handshake the client sets TCP_QUICKACK, so that it
    acknowledges the server's last handshake records at once: a server that
    leaves Nagle on (Postfix's smtpd; ours runs under tcpserver -D) would
    otherwise hold its next small write (the SMTPS greeting, or the reply
    to the EHLO after STARTTLS when the TLS 1.3 tickets come late) until
    the client's delayed ACK, 40 ms later. That stall made Postfix's SMTPS
    look like 21-85 sessions/s in a latency-bound run; it costs no CPU.
    Prints one line of key=value pairs:
      secs        first connect .. last reply, rate = N / secs
      client_ms   user+sys of the workers (the python client's own cost)
      machine_ms  busy CPU of the machine over the run (/proc/stat)
      tree_ms     CPU of the server's processes over the run from
                  /proc/PID/stat (utime+stime+cutime+cstime, summed over the
                  scope at start and end; an exited process's CPU is in its
                  parent's cutime)
      srv_ms_per  tree_ms / N: server CPU per session (or message)
      errors      sessions or messages that failed
"""
import argparse, glob, multiprocessing, os, resource, smtplib, socket, ssl, sys, time

TICK = os.sysconf("SC_CLK_TCK")


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) * 1000.0 / TICK


def procs():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        r = s.rindex(")")
        f = s[r + 2:].split()
        # fields after comm: state ppid pgrp ... utime(14) stime cutime cstime
        out[int(d)] = (int(f[1]), int(f[2]), sum(int(x) for x in f[11:15]))
    return out


def scope_cpu(scope):
    ps = procs()
    kind, arg = scope.split(":", 1)
    if kind == "pgidfiles":
        groups = set()
        for fn in glob.glob(arg):
            try:
                groups.add(int(open(fn).read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        keep = [p for p, v in ps.items() if v[1] in groups]
    else:
        keep, new = {int(arg)}, True
        while new:
            new = False
            for p, v in ps.items():
                if p not in keep and v[0] in keep:
                    keep.add(p)
                    new = True
    return sum(ps[p][2] for p in keep if p in ps) * 1000.0 / TICK


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def quickack(sock):
    """acknowledge at once what the server sent last (see the top)"""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    return sock


class SMTPS(smtplib.SMTP_SSL):
    def _get_socket(self, host, port, timeout):
        return quickack(super()._get_socket(host, port, timeout))


def one(mode, port, c, msg, rcpt, per):
    if mode == "smtps":
        s = SMTPS("127.0.0.1", port, timeout=60, context=c)
        s.ehlo("bench.example")
    else:
        s = smtplib.SMTP("127.0.0.1", port, timeout=60)
        s.ehlo("bench.example")
        if mode != "plain":
            s.starttls(context=c)
            quickack(s.sock)
            s.ehlo("bench.example")
    if mode == "msg":
        for _ in range(per):
            s.sendmail("bench@example.net", [rcpt], msg)
    s.quit()


def worker(args, n, q):
    c = ctx()
    body = ("x" * 76 + "\r\n") * max(1, args.size // 78)
    msg = ("From: <bench@example.net>\r\nTo: <%s>\r\nSubject: tls bench\r\n\r\n" % args.rcpt + body).encode()
    err = 0
    per = args.per if args.mode == "msg" else 1
    done = 0
    while done < n:
        k = min(per, n - done)
        try:
            one(args.mode, args.port, c, msg, args.rcpt, k)
        except (OSError, smtplib.SMTPException):
            err += k
        done += k
    q.put(err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["plain", "starttls", "smtps", "msg"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--c", type=int, default=1)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--per", type=int, default=1)
    ap.add_argument("--rcpt", default="postmaster@hub.test")
    ap.add_argument("--scope", required=True)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    shares = [a.n // a.c + (1 if i < a.n % a.c else 0) for i in range(a.c)]
    q = multiprocessing.Queue()
    ws = [multiprocessing.Process(target=worker, args=(a, k, q)) for k in shares]
    t0, m0 = scope_cpu(a.scope), machine_busy()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0 = time.time()
    for w in ws:
        w.start()
    errs = sum(q.get() for _ in ws)
    for w in ws:
        w.join()
    secs = time.time() - s0
    m1, t1 = machine_busy(), scope_cpu(a.scope)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000
    print("label=%s mode=%s n=%d c=%d secs=%.3f rate=%.1f client_ms=%.0f machine_ms=%.0f "
          "tree_ms=%.0f srv_ms_per=%.2f errors=%d"
          % (a.label or a.mode, a.mode, a.n, a.c, secs, a.n / secs, client, m1 - m0,
             t1 - t0, (t1 - t0) / a.n, errs), flush=True)


if __name__ == "__main__":
    main()
