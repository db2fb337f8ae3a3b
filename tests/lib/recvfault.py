#!/usr/bin/env python3
"""recvfault.py: kill a receiver (qmail-smtpd, qmail-qmtpd, qmail-qmqpd) or
the qmail-queue it runs at one syscall while a client is sending (or make
one of that qmail-queue's syscalls fail), then compare what the client was
told with what is in the queue (tests/fault/smtpd.t; the comparison is
tests/lib/qledger.py's).

    recvfault.py PROTO RECEIVER QMAIL-QUEUE HOME WORKDIR MODE [FILE]

PROTO is smtp, qmtp or qmqp. Each run starts from an empty queue (HOME is
a mkqueue.sh home with control/me and control/rcpthosts example.org) and
sends two messages, a small one and a 100 KB one, each with its own
sender and two recipients in example.org: SMTP and QMTP in one session
(two transactions, two packages), QMQP in two connections of one message,
the fault in the second only. The receiver runs on one end of a socket
pair as tcpserver would run it (fd 0 and 1, TCPREMOTEIP etc. set, nothing
else in its environment), under strace (no -f: the qmail-queue it starts
is not traced; a fault there is a separate set of runs, below). The
client records what was acknowledged: 250 after the final dot, a K for
every recipient of the package, the QMQP K. After the run (the receiver
and any qmail-queue it left behind reaped: this process is their child
subreaper) every acknowledged message must be in todo/ + mess/, byte for
byte with its envelope, and no todo/ entry may be less than a whole message
that was sent; a run in which the fault never fired must have all
messages acknowledged.

MODE and FILE:
  ref TRACE      one run, the receiver under strace -o TRACE
  qqref TRACE    one run, the last message's qmail-queue under strace -o TRACE
  recv CASES     one run per line of CASES, an strace inject= spec for the
                 receiver: NAME:signal=SIGKILL:when=N kills it at the N-th
                 call of syscall NAME (counted from the start of the process)
  qq CASES       the same for the qmail-queue of the last message, which
                 may also be given errors (NAME:error=EIO:when=N)

Output: for each failed run "# run I (SPEC): ..." lines, then
"runs=R fired=F acked=A unacked=U unacked_queued=Q bad=B": R runs, F of
them where the fault fired (the receiver died of SIGKILL; qmail-queue
exited non-zero), A acknowledged messages (each found whole in the queue,
unless counted in bad), U not acknowledged, Q of those queued anyway (a
kill after the commit), B runs with a problem. Exit 0 when B = 0.
"""
import ctypes
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qledger  # noqa: E402

TIMEOUT = 60       # seconds for any one wait: generous for a loaded sanitizer run
RCPTS = [b'rcpt1@example.org', b'rcpt2@example.org']


def ns(b):
    return str(len(b)).encode() + b':' + b + b','


def message(run, k, size):
    """The k-th message of a run: LF form, a dot line and a line starting
    with a dot (SMTP stuffs both), about size bytes."""
    head = (b'Message-ID: <run%d.msg%d@client.example.net>\nSubject: fault test %d/%d\n\n'
            % (run, k, run, k))
    lines = [b'.', b'.leading dot', b'']
    i = n = 0
    while n < size:
        i += 1
        lines.append(b'line %06d of message %d: ' % (i, k) + b'x' * 40)
        n += len(lines[-1]) + 1
    return head + b'\n'.join(lines) + b'\n'


class Client:
    """A socket with bounded reads; gone is set at EOF or error."""

    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(TIMEOUT)
        self.buf = b''
        self.gone = False

    def send(self, b):
        try:
            self.s.sendall(b)
        except OSError:
            self.gone = True

    def more(self):
        try:
            b = self.s.recv(65536)
        except OSError:
            b = b''
        if not b:
            self.gone = True
        self.buf += b
        return bool(b)

    def line(self):
        while b'\n' not in self.buf:
            if self.gone or not self.more():
                return None
        i = self.buf.index(b'\n') + 1
        r, self.buf = self.buf[:i], self.buf[i:]
        return r

    def reply(self):
        """The last line of one SMTP reply, or None."""
        while True:
            r = self.line()
            if r is None:
                return None
            if r[3:4] != b'-':
                return r

    def netstring(self):
        while True:
            c = self.buf.find(b':')
            if c > 0 and self.buf[:c].isdigit():
                n = int(self.buf[:c])
                if len(self.buf) >= c + n + 2:
                    r, self.buf = self.buf[c + 1:c + 1 + n], self.buf[c + n + 2:]
                    return r
            if self.gone or not self.more():
                return None


def smtp(c, msgs, acked):
    if not (c.reply() or b'').startswith(b'220'):
        return
    c.send(b'EHLO client.example.net\r\n')
    if not (c.reply() or b'').startswith(b'250'):
        return
    for k, (sender, body) in enumerate(msgs):
        for cmd, want in [(b'MAIL FROM:<' + sender + b'>', b'250')] + \
                         [(b'RCPT TO:<' + r + b'>', b'250') for r in RCPTS] + [(b'DATA', b'354')]:
            c.send(cmd + b'\r\n')
            if not (c.reply() or b'').startswith(want):
                return
        data = b''.join((b'.' if ln.startswith(b'.') else b'') + ln + b'\r\n'
                        for ln in body[:-1].split(b'\n'))
        c.send(data + b'.\r\n')
        r = c.reply()
        if r is None:
            return
        acked[k] = r.startswith(b'250')
    c.send(b'QUIT\r\n')
    c.reply()


def qmtp(c, msgs, acked):
    for k, (sender, body) in enumerate(msgs):
        c.send(ns(b'\n' + body) + ns(sender) + ns(b''.join(ns(r) for r in RCPTS)))
        rs = [c.netstring() for _ in RCPTS]
        if None in rs:
            return
        acked[k] = all(r.startswith(b'K') for r in rs)
    try:
        c.s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    while c.more():
        pass


def qmqp(c, msgs, acked):
    sender, body = msgs[0]
    c.send(ns(ns(body) + ns(sender) + b''.join(ns(r) for r in RCPTS)))
    r = c.netstring()
    if r is not None:
        acked[0] = r.startswith(b'K')


class Runner:
    def __init__(self, proto, recv, qq, home, work):
        self.proto, self.recv, self.qq, self.home, self.work = proto, recv, qq, home, work
        self.q = os.path.join(home, 'queue')
        self.strace = shutil.which('strace')
        self.wrapper = os.path.join(work, 'qq-wrap')
        self.count = os.path.join(work, 'qq-count')
        with open(self.wrapper, 'w') as f:
            f.write(WRAPPER)
        os.chmod(self.wrapper, 0o755)
        # orphans (a qmail-queue whose receiver was killed) come to us
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        # connections: SMTP and QMTP one session of two messages, QMQP
        # two connections of one; the fault (kill or trace) is in the last.
        self.conns = [[0, 1]] if proto != 'qmqp' else [[0], [1]]

    def env(self, qqmode):
        e = {'PATH': '/usr/bin:/bin', 'QMAILHOME': self.home,
             'TCPREMOTEIP': '192.0.2.9', 'TCPREMOTEHOST': 'client.example.net',
             'TCPLOCALIP': '192.0.2.25', 'ASAN_OPTIONS': os.environ.get('ASAN_OPTIONS', ''),
             'UBSAN_OPTIONS': os.environ.get('UBSAN_OPTIONS', '')}
        if qqmode:
            e.update({'QMAILQUEUE': self.wrapper, 'QQ_BIN': self.qq, 'QQ_COUNT': self.count,
                      'QQ_NTH': '2', 'STRACE': self.strace, **qqmode})
        else:
            e['QMAILQUEUE'] = self.qq
        return e

    def connect(self, msgs, pre, env):
        """One connection: the receiver under pre on a socket pair, the
        client sending msgs. Returns (exit status, [acknowledged?])."""
        a, b = socket.socketpair()
        with open(os.path.join(self.work, 'stderr'), 'ab') as err:
            p = subprocess.Popen(pre + [self.recv], stdin=b, stdout=b, stderr=err, env=env,
                                 close_fds=True)
        b.close()
        got = [False] * len(msgs)
        PROTOS[self.proto](Client(a), msgs, got)
        a.close()
        try:
            rc = p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        self.reap()
        return rc, got

    def reap(self):
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                time.sleep(0.005)
        raise SystemExit('recvfault.py: a child did not end in %d s' % TIMEOUT)

    def clear(self):
        for top in ('pid', 'mess', 'intd', 'todo'):
            for dirpath, _, names in os.walk(os.path.join(self.q, top)):
                for n in names:
                    os.unlink(os.path.join(dirpath, n))

    def run(self, n, spec=None, trace=None, qq=False):
        """One run; returns (fired, entries, states, bad)."""
        self.clear()
        with open(self.count, 'w') as f:
            f.write('0\n')
        if os.path.exists(self.count + '.rc'):
            os.unlink(self.count + '.rc')
        msgs = []
        for k, size in enumerate((400, 100000)):
            msgs.append((b'run%d.msg%d@client.example.net' % (n, k + 1), message(n, k + 1, size)))
        acked = [False, False]
        fired = False
        qqmode = None
        if qq:   # every qmail-queue through the wrapper, which counts them
            qqmode = {'QQ_TRACE': trace} if trace else {'QQ_INJECT': spec}
        for i, conn in enumerate(self.conns):
            last = i == len(self.conns) - 1
            pre = []
            if last and trace and not qq:
                pre = [self.strace, '-o', trace]
            elif last and not qq and ':error=' in spec:   # traced, to see it fire
                pre = [self.strace, '-o', os.path.join(self.work, 'inj'),
                       '-e', 'trace=' + spec.split(':')[0], '-e', 'inject=' + spec]
            elif last and not qq:
                pre = [self.strace, '-o', '/dev/null', '-e', 'inject=' + spec]
            rc, got = self.connect([msgs[k] for k in conn], pre, self.env(qqmode))
            for j, k in enumerate(conn):
                acked[k] = got[j]
            if last and qq and os.path.exists(self.count + '.rc'):
                with open(self.count + '.rc') as f:
                    fired = f.read().strip() != '0'
            elif last and ':error=' in (spec or ''):
                with open(os.path.join(self.work, 'inj')) as f:
                    fired = '(INJECTED)' in f.read()
            elif last:
                fired = rc == -9
        entries = [(acked[k], 2, b'F' + sender + b'\0' + b''.join(b'T' + r + b'\0' for r in RCPTS) + b'\0', body)
                   for k, (sender, body) in enumerate(msgs)]
        states, _, bad = qledger.check(self.q, entries)
        if not fired and not all(acked):
            bad.append('the fault did not fire, yet acknowledged only %s' % acked)
        return fired, entries, states, bad


PROTOS = {'smtp': smtp, 'qmtp': qmtp, 'qmqp': qmqp}

WRAPPER = r'''#!/bin/sh
# qq-wrap: $QMAILQUEUE for recvfault.py. The QQ_NTH-th qmail-queue of a run
# runs under strace: traced into $QQ_TRACE, or with the fault $QQ_INJECT
# (its exit code goes to $QQ_COUNT.rc; killed, this script dies of SIGKILL
# too, as qmail-queue would); every other one runs as it is.
n=$(($(cat "$QQ_COUNT") + 1))
echo "$n" > "$QQ_COUNT"
[ "$n" = "$QQ_NTH" ] || exec "$QQ_BIN"
[ -z "${QQ_TRACE:-}" ] || exec "$STRACE" -o "$QQ_TRACE" "$QQ_BIN"
"$STRACE" -o /dev/null -e inject="$QQ_INJECT" "$QQ_BIN"
rc=$?
echo "$rc" > "$QQ_COUNT.rc"
if [ "$rc" = 137 ]; then kill -KILL $$; fi
exit "$rc"
'''


def main():
    proto, recv, qq, home, work, mode = sys.argv[1:7]
    arg = sys.argv[7] if len(sys.argv) > 7 else None
    r = Runner(proto, recv, qq, home, work)
    if mode in ('ref', 'qqref'):
        cases = [(None, arg)]
    else:
        with open(arg) as f:
            cases = [(line.strip(), None) for line in f if line.strip()]
    runs = fired = acked = unacked = unacked_q = badruns = 0
    for i, (spec, trace) in enumerate(cases, 1):
        f, entries, states, bad = r.run(i, spec=spec, trace=trace, qq=mode.startswith('qq'))
        runs += 1
        fired += f
        for (a, _, _, _), s in zip(entries, states):
            if a:
                acked += 1
            else:
                unacked += 1
                unacked_q += s
        if bad:
            badruns += 1
            where = spec or mode
            for b in bad:
                print('# run %d (%s): %s' % (i, where, b))
    print('runs=%d fired=%d acked=%d unacked=%d unacked_queued=%d bad=%d'
          % (runs, fired, acked, unacked, unacked_q, badruns))
    sys.exit(1 if badruns else 0)


if __name__ == '__main__':
    main()
