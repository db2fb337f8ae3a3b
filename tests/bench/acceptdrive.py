#!/usr/bin/python3
"""acceptdrive.py: the measuring half of tests/bench/accept.sh and
tests/bench/local.sh.

  acceptdrive.py case --proto smtp|qmqp --port P --n N --c C --size S
                      --scope pgid:G1,G2,... | pgidfiles:GLOB | tree:PID |
                              cgroup:DIR | none:
                      [--devs vda,...] [--timeout SECS] [--label X]
                      [--bg SECS] [--errfile FILE] [--maildir DIR]
                      [--subject S (smtp only: smtp-source -S)]
                      [--flushtrace TRACEFS]
      Runs ONE load client (Postfix's smtp-source or qmqp-source, the same
      binary and arguments whatever the server) and prints one line of
      key=value pairs:
        secs       client start .. client exit (its last reply read)
        rate       N / secs
        client_ms  user+sys of the client (wait4 rusage of that child)
        tool_ms    user+sys of this driver itself (the PSS sampler thread)
        machine_ms busy CPU of the whole machine over the run (/proc/stat:
                   user+nice+system+irq+softirq+steal)
        server_ms  machine_ms - client_ms - tool_ms
        tree_ms    CPU of the hub's own processes over the run, read from
                   /proc/PID/stat (utime+stime+cutime+cstime summed over the
                   scope at start and end; exited processes are in their
                   parent's cutime): not disturbed by other work on the
                   machine
        devflush   block-layer flush requests over the run (field 16, flush I/Os, of
                   /sys/block/DEV/stat, summed over --devs): device cache
                   flushes, machine-wide
        peak_pss_kb, peak_rss_kb, peak_procs  memory of the scope, sampled
                   every 0.2 s (smaps_rollup)
        bg_ms_s    busy CPU of the machine per second over --bg SECS just
                   before the run (other work running beside the benchmark)
        flushbio   with --flushtrace (a tracefs mount): flush requests
                   queued by the scope's processes and their children over
                   the run (class FlushTrace): exact, not machine-wide
        bg_flush_s block-layer flushes per second on --devs over the same
                   SECS (other work's flushes, to set against devflush)
        rc, err    the client's exit status and first stderr line
      With --maildir DIR the run goes on after the client's exit until N
      more files are in DIR/new (or --timeout): end to end. CPU, flushes
      and memory then cover the whole run, and the line also has
        e2e_secs   client start .. the Nth new file in DIR/new
        e2e_rate   delivered / e2e_secs
        delivered  new files in DIR/new
      Scope cgroup:DIR is every process in the cgroup DIR (its
      cgroup.procs); its CPU is the cgroup's own counter (cpuacct.usage or
      cpu.stat), which keeps the CPU of processes that have exited.
      Scope pgidfiles:GLOB is every process whose process group is named
      in a file matching GLOB (qmailctl.pid files), reread at each sample,
      so a service (re)started during the run is counted.
  acceptdrive.py drain --maildir DIR --n N --release CMD --scope S
                      [--timeout SECS] [--label X] [--bg SECS]
      Runs the shell command CMD (it releases N held messages) and waits
      for N more files in DIR/new; prints secs (CMD start .. the Nth file),
      rate, client_ms (CMD's own CPU), tool_ms, machine_ms, server_ms,
      tree_ms, peak memory, bg_ms_s, delivered, as case does.
  acceptdrive.py strace-count FILE   print "flush=K sfr=M" from strace -c output:
                   fsync+fdatasync+syncfs+sync calls, and sync_file_range
                   calls (writeback start only, not a flush) apart
  acceptdrive.py proc-count FILE PID,PID..  print "procs=K execs=E" from an
                   strace -f log: processes created (pids seen, and pids
                   returned by fork/vfork/clone other than threads, that
                   are not in the list of processes attached to), and
                   execve calls made
  acceptdrive.py report RESULTS OUT  the table, the ratios, the goal lines
  acceptdrive.py report-local RESULTS OUT  the same for local.sh's end-to-end
                   and drain lines (CPU per delivered message)
"""
import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time

HZ = os.sysconf("SC_CLK_TCK")


def proc_stat_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is in user)
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) * 1000.0 / HZ


def dev_flushes(devs):
    n = 0
    for d in devs:
        try:
            with open("/sys/block/%s/stat" % d) as f:
                v = f.read().split()
            n += int(v[15]) if len(v) > 15 else 0
        except OSError:
            pass
    return n


class FlushTrace:
    """flush requests (bios with REQ_PREFLUSH: block:block_bio_queue events
    whose rwbs starts with F) queued by the scope's processes and their
    children, in a tracefs instance of our own: set_event_pid with
    event-fork follows every process the scope forks. An fsync on a
    journal-less ext4 queues its flush in the caller's context, so this is
    exact where /sys/block/DEV/stat is machine-wide; concurrent requests
    may still be merged into fewer device flushes below it. count() is None
    when the trace cannot be had or its buffer overran."""

    def __init__(self, tracefs, pids):
        self.d = None
        if not tracefs or not pids:
            return
        d = os.path.join(tracefs, "instances", "bench-flush-%d" % os.getpid())
        try:
            os.mkdir(d)
            self.d = d
            self.put("buffer_size_kb", "8192")
            self.put("options/event-fork", "1")
            self.put("set_event_pid", " ".join(str(p) for p in pids))
            self.put("events/block/block_bio_queue/filter", 'rwbs ~ "F*"')
            self.put("events/block/block_bio_queue/enable", "1")
        except OSError:
            self.close()

    def put(self, name, text):
        with open(os.path.join(self.d, name), "w") as f:
            f.write(text)

    def count(self):
        if not self.d:
            return None
        try:
            self.put("events/block/block_bio_queue/enable", "0")
            over = 0
            for st in glob.glob(os.path.join(self.d, "per_cpu", "cpu*", "stats")):
                with open(st) as f:
                    for line in f:
                        if line.startswith("overrun:"):
                            over += int(line.split()[1])
            with open(os.path.join(self.d, "trace")) as f:
                n = sum(1 for line in f if "block_bio_queue:" in line and not line.startswith("#"))
            return None if over else n
        except (OSError, ValueError):
            return None

    def close(self):
        if self.d:
            try:
                os.rmdir(self.d)
            except OSError:
                pass
            self.d = None


def all_procs():
    """pid -> (ppid, pgid, cpu_ms incl. reaped children)"""
    out = {}
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                s = f.read()
        except OSError:
            continue
        r = s[s.rindex(")") + 2:].split()
        # r[0]=state r[1]=ppid r[2]=pgrp ... r[11..14]=utime stime cutime cstime
        out[int(e)] = (int(r[1]), int(r[2]),
                       (int(r[11]) + int(r[12]) + int(r[13]) + int(r[14])) * 1000.0 / HZ)
    return out


def cgroup_pids(d):
    try:
        with open(os.path.join(d, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def cgroup_cpu_ms(d):
    """CPU of every process that ran in the cgroup d (exited ones too):
    cgroup v1 cpuacct.usage (ns) or v2 cpu.stat usage_usec"""
    try:
        with open(os.path.join(d, "cpuacct.usage")) as f:
            return int(f.read()) / 1e6
    except OSError:
        pass
    with open(os.path.join(d, "cpu.stat")) as f:
        for line in f:
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e3
    return 0.0


def scope_pids(scope, procs):
    kind, arg = scope.split(":", 1)
    if kind == "none":
        return []
    if kind == "cgroup":
        return [p for p in cgroup_pids(arg) if p in procs]
    if kind == "pgidfiles":
        groups = set()
        for fn in glob.glob(arg):
            try:
                with open(fn) as f:
                    groups.add(int(f.readline().strip() or 0))
            except (OSError, ValueError):
                pass
        return [p for p, v in procs.items() if v[1] in groups]
    if kind == "pgid":
        groups = {int(x) for x in arg.split(",") if x}
        return [p for p, v in procs.items() if v[1] in groups]
    root = int(arg)
    keep = {root} if root in procs else set()
    changed = True
    while changed:
        changed = False
        for p, v in procs.items():
            if p not in keep and v[0] in keep:
                keep.add(p)
                changed = True
    return list(keep)


def tree_cpu(scope):
    if scope.startswith("cgroup:"):
        return cgroup_cpu_ms(scope.split(":", 1)[1])
    procs = all_procs()
    return sum(procs[p][2] for p in scope_pids(scope, procs))


class Sampler(threading.Thread):
    def __init__(self, scope, interval=0.2):
        super().__init__(daemon=True)
        self.scope, self.interval = scope, interval
        self.stop = threading.Event()
        self.pss = self.rss = self.procs = 0

    def sample(self):
        pids = scope_pids(self.scope, all_procs())
        pss = rss = n = 0
        for p in pids:
            try:
                with open("/proc/%d/smaps_rollup" % p) as f:
                    t = f.read()
            except OSError:
                continue
            n += 1
            m = re.search(r"^Pss:\s+(\d+)", t, re.M)
            pss += int(m.group(1)) if m else 0
            m = re.search(r"^Rss:\s+(\d+)", t, re.M)
            rss += int(m.group(1)) if m else 0
        self.pss, self.rss, self.procs = max(self.pss, pss), max(self.rss, rss), max(self.procs, n)

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)
        self.sample()


def count_new(maildir):
    try:
        return len(os.listdir(os.path.join(maildir, "new")))
    except OSError:
        return 0


def wait_maildir(maildir, target, deadline):
    """poll DIR/new until it holds target files or the deadline passes;
    returns (time of the last count change, count)"""
    got = count_new(maildir)
    t = time.monotonic()
    while got < target and time.monotonic() < deadline:
        time.sleep(0.01)
        n = count_new(maildir)
        if n != got:
            got, t = n, time.monotonic()
    return t, got


def bg_load(o, devs=()):
    """the machine's load from other work just before a run: ms busy per s,
    and block-layer flushes per s on devs"""
    bg = float(o.get("bg", 0))
    if bg <= 0:
        return "NA", "NA"
    b0, f0 = proc_stat_busy(), dev_flushes(devs)
    time.sleep(bg)
    return ("%.0f" % ((proc_stat_busy() - b0) / bg),
            "%.1f" % ((dev_flushes(devs) - f0) / bg) if devs else "NA")


def opts(argv):
    o = {}
    i = 0
    while i < len(argv):
        if not argv[i].startswith("--") or i + 1 >= len(argv):
            sys.exit("acceptdrive: bad option %s" % argv[i])
        o[argv[i][2:]] = argv[i + 1]
        i += 2
    return o


def case(argv):
    o = opts(argv)
    proto, port, n, c = o["proto"], o["port"], int(o["n"]), int(o["c"])
    size = int(o.get("size", 2048))
    devs = [d for d in o.get("devs", "").split(",") if d]
    timeout = float(o.get("timeout", 300))
    scope = o["scope"]
    common = ["-f", "sender@leaf.test", "-t", "mbox@hub.test", "-M", "leaf.test",
              "-m", str(n), "-s", str(c)]
    if proto == "qmqp":
        # qmqp-source's -l counts its headers too: +300 so the payload
        # matches smtp-source's -l SIZE (as the peer kit's load.sh does)
        cmd = ["qmqp-source"] + common + ["-l", str(size + 300), "127.0.0.1:" + port]
    else:
        cmd = ["smtp-source"] + common + ["-l", str(size)] + \
            (["-S", o["subject"]] if o.get("subject") else []) + ["127.0.0.1:" + port]
    errf = o.get("errfile", "/dev/null")
    maildir = o.get("maildir")

    bg_ms_s, bg_flush_s = bg_load(o, devs)
    base = count_new(maildir) if maildir else 0
    sampler = Sampler(scope)
    sampler.sample()
    sampler.start()
    self0 = os.times()
    tree0 = tree_cpu(scope)
    ftrace = FlushTrace(o.get("flushtrace"), scope_pids(scope, all_procs()))
    flush0 = dev_flushes(devs)
    busy0 = proc_stat_busy()
    t0 = time.monotonic()
    with open(errf, "w") as ef:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=ef, stderr=ef)

    def interrupted(sig, _frame):
        try:
            os.kill(p.pid, signal.SIGKILL)
        except OSError:
            pass
        os._exit(128 + sig)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    timer = threading.Timer(timeout, lambda: os.kill(p.pid, signal.SIGKILL))
    timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.monotonic()
    timer.cancel()
    if maildir:
        t2, got = wait_maildir(maildir, base + n, t0 + timeout)
        got -= base
    busy1 = proc_stat_busy()
    flush1 = dev_flushes(devs)
    flushbio = ftrace.count()
    ftrace.close()
    tree1 = tree_cpu(scope)
    p.returncode = 0  # reaped above: keep Popen from waiting again
    sampler.stop.set()
    sampler.join()
    self1 = os.times()

    rc = os.waitstatus_to_exitcode(status)
    err = ""
    try:
        with open(errf) as ef:
            lines = [l.strip() for l in ef if l.strip()]
        err = lines[0] if lines else ""
    except OSError:
        pass
    secs = t1 - t0
    client = (ru.ru_utime + ru.ru_stime) * 1000.0
    tool = ((self1.user - self0.user) + (self1.system - self0.system)) * 1000.0
    machine = busy1 - busy0
    kv = dict(label=o.get("label", "-"), proto=proto, n=n, c=c, size=size,
              secs="%.3f" % secs, rate="%.1f" % (n / secs if secs > 0 else 0),
              client_ms="%.0f" % client, tool_ms="%.0f" % tool,
              machine_ms="%.0f" % machine, server_ms="%.0f" % (machine - client - tool),
              tree_ms="%.0f" % (tree1 - tree0),
              devflush=(flush1 - flush0) if devs else "NA",
              flushbio=flushbio if flushbio is not None else "NA",
              peak_pss_kb=sampler.pss, peak_rss_kb=sampler.rss, peak_procs=sampler.procs,
              bg_ms_s=bg_ms_s, bg_flush_s=bg_flush_s, rc=rc, timeout=int(rc == -signal.SIGKILL),
              err=re.sub(r"\s+", "_", err)[:160] or "-")
    if maildir:
        e2e = t2 - t0
        kv.update(e2e_secs="%.3f" % e2e, e2e_rate="%.1f" % (got / e2e if e2e > 0 else 0), delivered=got)
    print(" ".join("%s=%s" % (k, v) for k, v in kv.items()))


def drain(argv):
    o = opts(argv)
    maildir, n, scope = o["maildir"], int(o["n"]), o["scope"]
    timeout = float(o.get("timeout", 600))
    bg_ms_s, _ = bg_load(o)
    base = count_new(maildir)
    sampler = Sampler(scope)
    sampler.sample()
    sampler.start()
    self0 = os.times()
    tree0 = tree_cpu(scope)
    busy0 = proc_stat_busy()
    t0 = time.monotonic()
    p = subprocess.Popen(["/bin/sh", "-c", o["release"]], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    t2, got = wait_maildir(maildir, base + n, t0 + timeout)
    got -= base
    busy1 = proc_stat_busy()
    tree1 = tree_cpu(scope)
    sampler.stop.set()
    sampler.join()
    self1 = os.times()
    secs = t2 - t0
    client = (ru.ru_utime + ru.ru_stime) * 1000.0
    tool = ((self1.user - self0.user) + (self1.system - self0.system)) * 1000.0
    machine = busy1 - busy0
    kv = dict(label=o.get("label", "-"), proto="drain", n=n, c=0,
              secs="%.3f" % secs, rate="%.1f" % (got / secs if secs > 0 else 0),
              client_ms="%.0f" % client, tool_ms="%.0f" % tool,
              machine_ms="%.0f" % machine, server_ms="%.0f" % (machine - client - tool),
              tree_ms="%.0f" % (tree1 - tree0),
              peak_pss_kb=sampler.pss, peak_rss_kb=sampler.rss, peak_procs=sampler.procs,
              bg_ms_s=bg_ms_s, rc=os.waitstatus_to_exitcode(status), delivered=got)
    print(" ".join("%s=%s" % (k, v) for k, v in kv.items()))


def strace_count(path):
    """flush = fsync + fdatasync + syncfs + sync calls (each forces data to
    stable storage); sfr = sync_file_range calls (they only start writeback
    and flush nothing, so they are counted apart)"""
    flush = sfr = 0
    with open(path) as f:
        for line in f:
            t = line.split()
            if len(t) >= 5 and t[3].isdigit():
                if t[-1] in ("fsync", "fdatasync", "syncfs", "sync"):
                    flush += int(t[3])
                elif t[-1] == "sync_file_range":
                    sfr += int(t[3])
    print("flush=%d sfr=%d" % (flush, sfr))


def proc_count(path, known):
    """a process that makes no traced call shows up only in the return
    value of its parent's fork/vfork/clone (strace -qq prints no exits)"""
    pids, execs = set(), 0
    with open(path) as f:
        for line in f:
            m = re.match(r"(\d+)\s+(.*)", line)
            if not m:
                continue
            pids.add(int(m.group(1)))
            call = m.group(2)
            if call.startswith("execve("):
                execs += 1
            r = re.match(r"(?:<\.\.\. )?(fork|vfork|clone3?)\b.*\)\s+=\s+(\d+)", call)
            if r and "CLONE_THREAD" not in call:
                pids.add(int(r.group(2)))
    pids -= {int(x) for x in known.split(",") if x}
    print("procs=%d execs=%d" % (len(pids), execs))


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def report(results, out):
    rows = []
    with open(results) as f:
        for line in f:
            if "=" in line:
                rows.append(dict(kv.split("=", 1) for kv in line.split()))
    lines = []
    say = lines.append
    hdr = "%-8s %-5s %3s %9s %11s %11s %10s %9s %9s %8s %10s" % (
        "server", "proto", "c", "msgs/s", "server CPU", "machine CPU", "hub-tree", "fsyncs", "devflush",
        "peak PSS", "accepted")
    say(hdr)
    say("%-8s %-5s %3s %9s %11s %11s %10s %9s %9s %8s %10s" % (
        "", "", "", "", "ms/msg", "ms/msg", "CPU ms/msg", "/msg", "/msg", "MB", "/sent"))
    say("-" * len(hdr))
    idx = {}
    for r in rows:
        n = int(r["n"])
        d = dict(rate=fnum(r["rate"]), server=fnum(r["server_ms"]) / n, machine=fnum(r["machine_ms"]) / n,
                 tree=fnum(r["tree_ms"]) / n, fsync=fnum(r.get("fsync_per_msg")),
                 devflush=(fnum(r["devflush"]) / n if fnum(r["devflush"]) is not None else None),
                 pss=fnum(r["peak_pss_kb"]) / 1024.0)
        idx[(r["label"], r["proto"], r["c"])] = d

        def f(v, fmt):
            return fmt % v if v is not None else "NA"
        say("%-8s %-5s %3s %9s %11s %11s %10s %9s %9s %8s %10s" % (
            r["label"], r["proto"], r["c"], f(d["rate"], "%.0f"), f(d["server"], "%.2f"),
            f(d["machine"], "%.2f"), f(d["tree"], "%.2f"), f(d["fsync"], "%.2f"),
            f(d["devflush"], "%.2f"), f(d["pss"], "%.1f"), "%s/%s" % (r.get("accepted", "?"), n)))
    have_pf = any(k[0] == "postfix" for k in idx)
    goals = {"c10": [], "c1": [], "cpu": [], "tree": []}
    if have_pf:
        say("")
        say("ratios ours/Postfix (msgs/s higher is better; the rest lower is better)")
        say("%-5s %3s %8s %11s %12s %9s %7s %9s %7s" % (
            "proto", "c", "msgs/s", "server CPU", "machine CPU", "hub-tree", "fsyncs", "devflush", "PSS"))
        for (lab, proto, c), d in sorted(idx.items(), key=lambda x: (x[0][1], int(x[0][2]))):
            if lab != "ours" or ("postfix", proto, c) not in idx:
                continue
            p = idx[("postfix", proto, c)]

            def q(a, b):
                return a / b if a is not None and b not in (None, 0) else None

            def f(v):
                return "%.2fx" % v if v is not None else "NA"
            rr = {k: q(d[k], p[k]) for k in d}
            say("%-5s %3s %8s %11s %12s %9s %7s %9s %7s" % (
                proto, c, f(rr["rate"]), f(rr["server"]), f(rr["machine"]), f(rr["tree"]),
                f(rr["fsync"]), f(rr["devflush"]), f(rr["pss"])))
            if c == "10":
                goals["c10"].append((proto, rr["rate"]))
            if c == "1":
                goals["c1"].append((proto, rr["rate"]))
            goals["cpu"].append(("%s c=%s" % (proto, c), rr["server"]))
            goals["tree"].append(("%s c=%s" % (proto, c), rr["tree"]))
    say("")
    say("goals (issue 14): acceptance >= 2x Postfix at c=10 and >= 1.2x at c=1; "
        "server CPU per message <= half of Postfix's")

    def verdict(name, items, ok):
        if not items:
            say("  %-52s NOT MEASURED (no Postfix figures in this run)" % name)
            return
        good = all(v is not None and ok(v) for _, v in items)
        say("  %-52s %-8s (%s)" % (name, "PASS" if good else "NOT YET",
                                   ", ".join("%s %s" % (k, "%.2fx" % v if v is not None else "NA")
                                             for k, v in items)))
    verdict("acceptance >= 2x Postfix at c=10", goals["c10"], lambda v: v >= 2.0)
    verdict("acceptance >= 1.2x Postfix at c=1", goals["c1"], lambda v: v >= 1.2)
    verdict("server CPU per message <= half of Postfix's", goals["cpu"], lambda v: v <= 0.5)
    verdict("  (cross-check, hub-tree CPU <= half)", goals["tree"], lambda v: v <= 0.5)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(out, "a") as f:
        f.write(text)


def report_local(results, out):
    rows = []
    with open(results) as f:
        for line in f:
            if "=" in line:
                rows.append(dict(kv.split("=", 1) for kv in line.split()))
    lines = []
    say = lines.append
    fmt = "%-8s %-6s %3s %9s %9s %11s %11s %10s %8s %10s"
    say(fmt % ("server", "case", "c", "e2e", "accept", "server CPU", "machine CPU", "hub-tree",
               "peak PSS", "delivered"))
    say(fmt % ("", "", "", "msgs/s", "msgs/s", "ms/msg", "ms/msg", "CPU ms/msg", "MB", "/sent"))
    say("-" * 98)
    idx = {}
    for r in rows:
        n = int(r["n"])
        got = int(r.get("delivered", 0)) or n
        drain = r["proto"] == "drain"
        d = dict(rate=fnum(r["rate"] if drain else r.get("e2e_rate")),
                 accept=None if drain else fnum(r["rate"]),
                 server=fnum(r["server_ms"]) / got, machine=fnum(r["machine_ms"]) / got,
                 tree=fnum(r["tree_ms"]) / got, pss=fnum(r["peak_pss_kb"]) / 1024.0)
        idx[(r["label"], r["proto"], r["c"])] = d

        def f(v, fm):
            return fm % v if v is not None else "-"
        say(fmt % (r["label"], r["proto"], "-" if drain else r["c"], f(d["rate"], "%.0f"),
                   f(d["accept"], "%.0f"), f(d["server"], "%.2f"), f(d["machine"], "%.2f"),
                   f(d["tree"], "%.2f"), f(d["pss"], "%.1f"), "%s/%d" % (r.get("delivered", "?"), n)))
    if any(k[0] == "postfix" for k in idx):
        say("")
        say("ratios ours/Postfix (msgs/s: higher is better; CPU and PSS: lower is better)")
        fm2 = "%-6s %3s %8s %8s %11s %12s %9s %7s"
        say(fm2 % ("case", "c", "e2e", "accept", "server CPU", "machine CPU", "hub-tree", "PSS"))
        for (lab, proto, c), d in idx.items():
            p = idx.get(("postfix", proto, c))
            if lab != "ours" or p is None:
                continue

            def q(k):
                a, b = d[k], p[k]
                return "%.2fx" % (a / b) if a is not None and b not in (None, 0) else "-"
            say(fm2 % (proto, "-" if proto == "drain" else c, q("rate"), q("accept"), q("server"),
                       q("machine"), q("tree"), q("pss")))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(out, "a") as f:
        f.write(text)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "case":
        case(rest)
    elif cmd == "drain":
        drain(rest)
    elif cmd == "strace-count":
        strace_count(rest[0])
    elif cmd == "proc-count":
        proc_count(rest[0], rest[1])
    elif cmd == "report-local":
        report_local(rest[0], rest[1])
    elif cmd == "report":
        report(rest[0], rest[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
