#!/usr/bin/env python3
"""remotedrive.py: one timed case of tests/bench/remote.sh (remote delivery).

  remotedrive.py run --label L --case C --n N --count KIND:PATH --scope SCOPE
                     [--release CMD | --client CMD] [--timeout S] [--bg S]
                     [--rcpts R] [--conns FILE] [--c C]

Starts CMD (--release: a shell command that lets held mail go; --client: a
load client such as smtp-source, its CPU counted as the client's) and
waits until the count at the destination reaches N (R with --rcpts):
  dir:PATH    files in PATH (smtp-sink -d dumps, one per transaction)
  rcpts:PATH  X-Rcpt-Args lines over the dumps in PATH (recipients)
  tree:PATH   files anywhere under PATH (a receiving hub's queue/todo)
The figures are taken as tests/bench/acceptdrive.py takes them (it is
imported): msgs/s from the start of CMD to the last count change, server
CPU = machine busy CPU (/proc/stat) - client CPU - our own, hub-tree CPU
of the SCOPE processes (/proc/PID/stat, reaped children included), their
peak PSS sampled every 0.2 s. --conns FILE: an strace -e accept,accept4
log of the receiving server; connections = successful accepts in it
during the case. Prints one line of key=value pairs.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acceptdrive as ad  # noqa: E402


def counter(spec):
    kind, path = spec.split(":", 1)
    if kind == "dir":
        def f():
            try:
                return len(os.listdir(path))
            except OSError:
                return 0
    elif kind == "tree":
        def f():
            return sum(len(files) for _, _, files in os.walk(path))
    elif kind == "rcpts":
        seen = {}

        def f():
            # a dump is complete when its size stops changing; re-read the
            # ones not yet known complete
            try:
                names = os.listdir(path)
            except OSError:
                return 0
            for nm in names:
                p = os.path.join(path, nm)
                try:
                    sz = os.path.getsize(p)
                except OSError:
                    continue
                old = seen.get(nm)
                if old and old[0] == sz:
                    continue
                try:
                    with open(p, "rb") as fh:
                        n = sum(1 for ln in fh if ln.startswith(b"X-Rcpt-Args:"))
                except OSError:
                    continue
                seen[nm] = (sz, n)
            return sum(v[1] for v in seen.values())
    else:
        sys.exit("remotedrive: bad count %s" % spec)
    return f


def accepts(path):
    if not path:
        return 0
    try:
        with open(path) as f:
            return sum(1 for ln in f if re.search(r"\baccept4?\(.*\)\s+=\s+\d+", ln))
    except OSError:
        return 0


def run(argv):
    o = ad.opts(argv)
    n = int(o["n"])
    target = int(o.get("rcpts", n))
    count = counter(o["count"])
    scope = o["scope"]
    timeout = float(o.get("timeout", 600))
    cmd = o.get("release") or o.get("client")
    bg_ms_s, _ = ad.bg_load(o)
    base = count()
    conns0 = accepts(o.get("conns"))
    sampler = ad.Sampler(scope)
    sampler.sample()
    sampler.start()
    self0 = os.times()
    tree0 = ad.tree_cpu(scope)
    busy0 = ad.proc_stat_busy()
    t0 = time.monotonic()
    p = subprocess.Popen(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = 0  # reaped above
    t1 = time.monotonic()
    got = count() - base
    t2 = time.monotonic()
    while got < target and time.monotonic() < t0 + timeout:
        time.sleep(0.01)
        g = count() - base
        if g != got:
            got, t2 = g, time.monotonic()
    busy1 = ad.proc_stat_busy()
    tree1 = ad.tree_cpu(scope)
    sampler.stop.set()
    sampler.join()
    self1 = os.times()
    time.sleep(0.2)  # strace writes its last lines
    conns = accepts(o.get("conns")) - conns0 if o.get("conns") else "NA"
    secs = t2 - t0
    client = (ru.ru_utime + ru.ru_stime) * 1000.0
    tool = ((self1.user - self0.user) + (self1.system - self0.system)) * 1000.0
    machine = busy1 - busy0
    done = got if target == n else (n if got >= target else 0)
    kv = dict(label=o.get("label", "-"), case=o.get("case", "-"), n=n, c=o.get("c", "-"),
              target=target, got=got, secs="%.3f" % secs,
              rate="%.1f" % (done / secs if secs > 0 else 0),
              client_secs="%.3f" % (t1 - t0),
              client_ms="%.0f" % client, tool_ms="%.0f" % tool,
              machine_ms="%.0f" % machine, server_ms="%.0f" % (machine - client - tool),
              tree_ms="%.0f" % (tree1 - tree0), peak_pss_kb=sampler.pss,
              peak_procs=sampler.procs, conns=conns, bg_ms_s=bg_ms_s,
              rc=os.waitstatus_to_exitcode(status))
    print(" ".join("%s=%s" % (k, v) for k, v in kv.items()))


def tls_ratios(rows, idx):
    """Case e (drain to the TLS sink) against case a (no TLS), handshakes
    per message; case f (QMTPS vs SMTP+STARTTLS on a slow link)."""
    out = []
    for r in rows:
        if r["case"] == "e-drain-tls" and "hs" in r:
            out.append("e-drain-tls %s: %s TLS handshakes for %s messages (%.3f per message), %s connections" % (
                r["label"], r["hs"], r["got"], int(r["hs"]) / max(int(r["got"]), 1), r["conns"]))
    for lab in ("ours", "postfix"):
        e, a = idx.get(("e-drain-tls", lab)), idx.get(("a-drain", lab))
        if e and a and a["rate"]:
            out.append("%s: TLS/no-TLS drain msgs/s %.2fx (%.0f vs %.0f msgs/s)" % (
                lab, e["rate"] / a["rate"], e["rate"], a["rate"]))
    e, ep = idx.get(("e-drain-tls", "ours")), idx.get(("e-drain-tls", "postfix"))
    if e and ep and ep["rate"]:
        out.append("e-drain-tls: ours/Postfix %.2fx (goal >= 1.5x): %s" % (
            e["rate"] / ep["rate"], "met" if e["rate"] >= 1.5 * ep["rate"] else "NOT met"))
    for case in sorted({k[0] for k in idx if k[0].startswith("f-flush-tls")}):
        q = idx.get((case, "ours-qmtps-s1"))
        for lab, how in (("ours-starttls-classic", "20 connections at once"),
                         ("ours-starttls-serial", "one connection at a time")):
            s = idx.get((case, lab))
            if q and s and q["secs"]:
                x = s["secs"] / q["secs"]
                out.append("%s: QMTPS session %.2f s vs SMTP+STARTTLS one message per connection, %s, %.2f s: %.2fx (goal >= 5x): %s" % (
                    case, q["secs"], how, s["secs"], x, "met" if x >= 5 else "NOT met"))
    return out


def report(results, out):
    rows = []
    with open(results) as f:
        for line in f:
            if "=" in line:
                rows.append(dict(kv.split("=", 1) for kv in line.split()))
    lines = []
    say = lines.append
    fmt = "%-22s %-17s %6s %8s %9s %11s %11s %10s %8s %6s"
    say(fmt % ("case", "server", "n", "secs", "msgs/s", "server CPU", "machine CPU",
               "hub-tree", "peak PSS", "conns"))
    say(fmt % ("", "", "", "", "", "ms/msg", "ms/msg", "CPU ms/msg", "MB", ""))
    say("-" * 112)
    idx = {}
    for r in rows:
        n = int(r["n"])
        ok = int(r["got"]) >= int(r["target"])
        d = dict(rate=ad.fnum(r["rate"]), secs=ad.fnum(r["secs"]),
                 server=ad.fnum(r["server_ms"]) / n, machine=ad.fnum(r["machine_ms"]) / n,
                 tree=ad.fnum(r["tree_ms"]) / n, pss=ad.fnum(r["peak_pss_kb"]) / 1024.0)
        idx[(r["case"], r["label"])] = d
        say(fmt % (r["case"], r["label"], n, "%.2f" % d["secs"] + ("" if ok else "!"),
                   "%.0f" % d["rate"], "%.2f" % d["server"], "%.2f" % d["machine"],
                   "%.2f" % d["tree"], "%.1f" % d["pss"], r["conns"]))
    say("(! = not all arrived within the timeout: got %s)" % ",".join(
        "%s/%s %s=%s/%s" % (r["case"], r["label"], "rcpts" if r["target"] != r["n"] else "msgs",
                            r["got"], r["target"]) for r in rows if int(r["got"]) < int(r["target"]))
        if any(int(r["got"]) < int(r["target"]) for r in rows) else "")
    ratios = []
    for (case, lab), d in idx.items():
        p = idx.get((case, "postfix"))
        if lab == "ours" and p and p["rate"]:
            ratios.append("%s: ours/Postfix msgs/s %.2fx, hub-tree CPU %.2fx, PSS %.2fx" % (
                case, d["rate"] / p["rate"], d["tree"] / p["tree"] if p["tree"] else 0,
                d["pss"] / p["pss"] if p["pss"] else 0))
    q = [k for k in idx if k[0].startswith("d-dialup") and k[1] == "ours-qmtp-s1"]
    for k in q:
        for other in ("ours-smtp-classic", "ours-smtp-s1"):
            s = idx.get((k[0], other))
            if s and idx[k]["secs"]:
                ratios.append("%s: QMTP session vs %s: %.2fx faster (%.2f s vs %.2f s; goal >= 5x vs classic)" % (
                    k[0], other, s["secs"] / idx[k]["secs"], idx[k]["secs"], s["secs"]))
    ratios.extend(tls_ratios(rows, idx))
    if ratios:
        say("")
        lines.extend(ratios)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(out, "a") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "run":
        run(sys.argv[2:])
    elif sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
