#!/usr/bin/env python3
"""leafdrive.py: load driver for tests/bench/leaf.sh (not a test by itself).

Runs CMD once per message, N times, as C parallel loops (loop i runs its
share of N one after another; CMD's stdin is --stdin, its stdout goes to
/dev/null, its stderr is appended to --err), or with --single runs CMD once
and counts it as N messages (qmqp-source). Children are started with
posix_spawn (vfork + exec) and reaped with wait4, so the per-child rusage
is exact: "client CPU" is the user+sys time of the spawned processes and
everything they waited for, plus the CPU growth of any --watch PID (its own
and its reaped children's, from /proc/PID/stat; nullmailer-send and the
qmqp module it runs). With --server PID, the CPU of PID and all its
descendants (Postfix's master and its daemons) over the case, from /proc.
Machine CPU and the fork count come from /proc/stat deltas over the whole
case (start to end to end).

Times: accept = start .. last child exit; e2e = start .. as many files in
--maildir/new as children exited 0 (N with --single), polled every 5 ms
after the last exit, for at most --timeout.
Prints one line of key=value pairs. SIGTERM/SIGINT/--timeout kill the
children it started (by pid) and still print the line.
"""
import argparse, os, signal, sys, time

TCK = os.sysconf("SC_CLK_TCK")


def proc_stat():
    busy = forks = 0
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu "):
                v = [int(x) for x in line.split()[1:]]
                # user nice system idle iowait irq softirq steal (guest is in user)
                busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
            elif line.startswith("processes "):
                forks = int(line.split()[1])
    return busy, forks


def pid_cpu(pid):
    """utime+stime+cutime+cstime of pid in ticks, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    v = s[s.rindex(")") + 2:].split()
    return int(v[11]) + int(v[12]) + int(v[13]) + int(v[14])


def tree_cpu(root):
    """CPU ticks of root and all its descendants, each counted as
    utime+stime+cutime+cstime: the delta of this sum over an interval is
    what the tree spent in it, including processes that started and exited
    in between (reaped ones land in their parent's cutime)."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        v = st[st.rindex(")") + 2:].split()
        procs[int(d)] = (int(v[1]), int(v[11]) + int(v[12]) + int(v[13]) + int(v[14]))
    kids = {}
    for pid, (ppid, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][1]
            todo.extend(kids.get(pid, []))
    return total


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop("timeout" if signum == signal.SIGALRM else "signal%d" % signum)


def count_new(d):
    try:
        return len(os.listdir(d))
    except OSError:
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--c", type=int, default=1)
    ap.add_argument("--stdin", default="/dev/null")
    ap.add_argument("--err", default="/dev/null")
    ap.add_argument("--maildir", default="")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--single", action="store_true")
    ap.add_argument("--watch", type=int, action="append", default=[])
    ap.add_argument("--server", type=int, default=0,
                    help="pid of the server's root process (Postfix master): report its tree's CPU")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")
    n, c = a.n, max(1, a.c)
    if a.single:
        quota = [1]
    else:
        c = min(c, n)
        quota = [n // c + (1 if i < n % c else 0) for i in range(c)]
    new = os.path.join(a.maildir, "new") if a.maildir else ""

    fa = [(os.POSIX_SPAWN_OPEN, 0, a.stdin, os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
          (os.POSIX_SPAWN_OPEN, 2, a.err, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)]
    env = dict(os.environ)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGALRM, on_signal)

    running = {}  # pid -> slot
    spawned = ok = fail = 0
    rcs = {}
    cu = cs = 0.0
    stopped = ""
    w0 = {p: pid_cpu(p) for p in a.watch}
    s0 = tree_cpu(a.server) if a.server else 0
    busy0, forks0 = proc_stat()
    t0 = time.monotonic()
    t1 = t0
    deadline = t0 + a.timeout
    signal.setitimer(signal.ITIMER_REAL, a.timeout)

    def spawn(slot):
        nonlocal spawned
        pid = os.posix_spawn(cmd[0], cmd, env, file_actions=fa)
        running[pid] = slot
        quota[slot] -= 1
        spawned += 1

    try:
        for slot in range(len(quota)):
            spawn(slot)
        while running:
            pid, status, ru = os.wait4(-1, 0)
            slot = running.pop(pid, None)
            if slot is None:
                continue
            t1 = time.monotonic()
            cu += ru.ru_utime
            cs += ru.ru_stime
            rc = os.waitstatus_to_exitcode(status)
            rcs[rc] = rcs.get(rc, 0) + 1
            if rc == 0:
                ok += 1
            else:
                fail += 1
            if quota[slot] > 0:
                spawn(slot)
        signal.setitimer(signal.ITIMER_REAL, 0)
        # end to end: wait for the files, bounded
        t2 = t1
        if new:
            deadline = t1 + a.timeout
            signal.setitimer(signal.ITIMER_REAL, a.timeout + 1)
            # only acknowledged messages can arrive (--single: all n)
            want = n if a.single else ok
            while count_new(new) < want and time.monotonic() < deadline:
                time.sleep(0.005)
            t2 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, 0)
    except Stop as e:
        stopped = str(e)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for pid in list(running):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        end = time.monotonic() + 3
        while running and time.monotonic() < end:
            try:
                pid, status, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)
                continue
            if running.pop(pid, None) is not None:
                fail += 1
                rc = os.waitstatus_to_exitcode(status)
                rcs[rc] = rcs.get(rc, 0) + 1
        for pid in list(running):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
            fail += 1
        t2 = time.monotonic()
    busy1, forks1 = proc_stat()
    server_ticks = tree_cpu(a.server) - s0 if a.server else 0
    watch_ticks = 0
    for p in a.watch:
        w1 = pid_cpu(p)
        if w0.get(p) is not None and w1 is not None:
            watch_ticks += w1 - w0[p]
    got = count_new(new) if new else 0
    if a.single:
        # qmqp-source: one process for all messages; failures show as its exit code
        fail = 0 if rcs.get(0) else n
        ok = n - fail
    else:
        fail += n - spawned  # never started (timeout / signal)
    print("n=%d c=%d ok=%d fail=%d delivered=%d accept_s=%.4f e2e_s=%.4f "
          "machine_cpu_ms=%.1f forks=%d client_ms=%.1f watch_ms=%.1f server_ms=%.1f rcs=%s stopped=%s"
          % (n, c, ok, fail, got, t1 - t0, t2 - t0,
             (busy1 - busy0) * 1000.0 / TCK, forks1 - forks0,
             (cu + cs) * 1000.0 + watch_ticks * 1000.0 / TCK,
             watch_ticks * 1000.0 / TCK, server_ticks * 1000.0 / TCK,
             ",".join("%d:%d" % kv for kv in sorted(rcs.items())) or "-",
             stopped or "-"), flush=True)
    return 0 if (fail == 0 and not stopped) else 1


if __name__ == "__main__":
    sys.exit(main())
