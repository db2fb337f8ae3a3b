#!/usr/bin/python3
"""goalsreport.py: the table of tests/bench/goals.sh (make bench-goals).

  goalsreport.py DIR    reads DIR/accept.txt, DIR/local.txt, DIR/remote.txt
                        (the reports of accept.sh, local.sh and remote.sh run
                        by goals.sh) and prints issue 14's goals table:
                        measure | ours | peer | ratio | goal | met?
                        then the figures each row comes from.

The raw lines are the key=value lines the benchmarks write in their
report headers ("#   label=... rate=..."); the processes per message
come from their "processes created per message" lines. A row whose figures
are missing says NOT MEASURED and why, it is never left out.
"""
import os
import re
import sys


def raw_lines(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("#   label="):
                    rows.append(dict(kv.split("=", 1) for kv in line[4:].split() if "=" in kv))
    except OSError:
        pass
    return rows


def proc_lines(path):
    """(server, proto) -> (processes per message, execve per message)"""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r"\s*(ours|postfix)\s+(smtp|qmqp)\s+processes created per message "
                             r"([\d.]+), execve per message ([\d.]+)", line)
                if m:
                    out[(m.group(1), m.group(2))] = (float(m.group(3)), float(m.group(4)))
    except OSError:
        pass
    return out


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def find(rows, **kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def flush_per_msg(r):
    """block-layer flushes per message over the case, less the flushes the
    rest of the machine made at its rate of the second before (bg_flush_s)"""
    if r is None:
        return None, None
    n, dev, secs = num(r.get("n")), num(r.get("devflush")), num(r.get("secs"))
    if n is None or dev is None or not n:
        return None, None
    bg = num(r.get("bg_flush_s")) or 0.0
    return dev / n, max(0.0, dev - bg * (secs or 0.0)) / n


def flush_row(r):
    """(figure, text): the flush requests queued by the server's own
    processes per message (flushbio, exact) when traced, else the
    block-layer figure less the background; the text gives the others"""
    if r is None:
        return None, ""
    dev = flush_per_msg(r)
    n, bio = num(r.get("n")), num(r.get("flushbio"))
    per = bio / n if bio is not None and n else None
    text = " [dev %s, fsync %s]" % ("%.2f" % dev[1] if dev[1] is not None else "NA", r.get("fsync_per_msg", "NA"))
    return (per if per is not None else dev[1]), text


class Table:
    def __init__(self):
        self.rows = []
        self.raw = []

    def row(self, measure, ours, peer, peer_name, goal, kind, unit="", fmt="%.0f", extra=("", "")):
        """kind: ("ratio>=", x) ratio ours/peer at least x; ("ratio<=", x);
        ("abs<=", x) ours at most x; ("info",) no goal; extra: text after
        the ours and the peer figure"""
        ratio = ours / peer if ours is not None and peer not in (None, 0) else None
        if kind[0] == "info":
            met = "-"
        elif kind[0] == "abs<=":
            met = "NOT MEASURED" if ours is None else ("yes" if ours <= kind[1] else "no")
        elif ratio is None:
            met = "NOT MEASURED"
        elif kind[0] == "ratio>=":
            met = "yes" if ratio >= kind[1] else "no"
        else:
            met = "yes" if ratio <= kind[1] else "no"

        def f(v):
            return (fmt % v) + unit if v is not None else "NA"
        self.rows.append((measure, f(ours) + extra[0], f(peer) + extra[1] + (" (%s)" % peer_name if peer_name else ""),
                          "%.2fx" % ratio if ratio is not None else "-", goal, met))

    def text(self):
        head = ("measure", "ours", "peer (which)", "ratio", "goal", "met?")
        w = [max(len(str(r[i])) for r in self.rows + [head]) for i in range(6)]
        fmt = " | ".join("%%-%ds" % x for x in w)
        out = [fmt % head, "-+-".join("-" * x for x in w)]
        out += [fmt % r for r in self.rows]
        return "\n".join(out) + "\n"


def main():
    d = sys.argv[1]
    acc, loc, rem = (raw_lines(os.path.join(d, x)) for x in ("accept.txt", "local.txt", "remote.txt"))
    accp, locp = proc_lines(os.path.join(d, "accept.txt")), proc_lines(os.path.join(d, "local.txt"))
    t = Table()
    peer = {"smtp": "Postfix smtpd", "qmqp": "Postfix qmqpd"}

    def rate(rows, key, **kw):
        r = find(rows, **kw)
        return num(r.get(key)) if r else None

    # acceptance
    for c, goal, x in (("10", ">= 2x", 2.0), ("1", ">= 1.2x", 1.2)):
        for p in ("smtp", "qmqp"):
            t.row("acceptance %s c=%s, msgs/s" % (p.upper(), c),
                  rate(acc, "rate", label="ours", proto=p, c=c), rate(acc, "rate", label="postfix", proto=p, c=c),
                  peer[p], goal, ("ratio>=", x))
    # device flushes
    for c, goal, x in (("1", "<= 1", 1.0), ("10", "<= 0.5", 0.5)):
        for p in ("smtp", "qmqp"):
            (o, ot), (q, qt) = (flush_row(find(acc, label=lb, proto=p, c=c)) for lb in ("ours", "postfix"))
            t.row("flushes/msg, accepting %s c=%s" % (p.upper(), c), o, q, peer[p], goal,
                  ("abs<=", x), fmt="%.2f", extra=(ot, qt))
    # end to end
    for p in ("smtp", "qmqp"):
        t.row("end to end into Maildir %s c=10, msgs/s" % p.upper(),
              rate(loc, "e2e_rate", label="ours", proto=p, c="10"),
              rate(loc, "e2e_rate", label="postfix", proto=p, c="10"), peer[p] + " + local", ">= 2x",
              ("ratio>=", 2.0))
    # CPU per message

    def cpu(rows, key_n, **kw):
        r = find(rows, **kw)
        if not r:
            return None
        n = num(r.get(key_n)) or num(r.get("n"))
        tr = num(r.get("tree_ms"))
        return tr / n if tr is not None and n else None
    for p in ("smtp", "qmqp"):
        t.row("hub CPU ms/msg, accepting %s c=10" % p.upper(), cpu(acc, "n", label="ours", proto=p, c="10"),
              cpu(acc, "n", label="postfix", proto=p, c="10"), "Postfix", "<= 0.5x", ("ratio<=", 0.5),
              fmt="%.2f")
    for p in ("smtp", "qmqp"):
        t.row("hub CPU ms/msg, end to end %s c=10" % p.upper(),
              cpu(loc, "delivered", label="ours", proto=p, c="10"),
              cpu(loc, "delivered", label="postfix", proto=p, c="10"), "Postfix", "<= 0.5x", ("ratio<=", 0.5),
              fmt="%.2f")
    # dial-up flush
    nd = None
    for rtt, x in (("", 5.0), ("-rtt50ms", 10.0)):
        q = s = None
        for r in rem:
            if re.match(r"d-dialup-\d+%s$" % rtt, r.get("case", "")):
                nd = r["case"].split("-")[2]
                if r.get("label") == "ours-qmtp-s1":
                    q = num(r.get("rate"))
                elif r.get("label") == "ours-smtp-classic":
                    s = num(r.get("rate"))
        t.row("dial-up flush of %s msgs, %s, msgs/s" % (nd or "ND", "50 ms RTT" if rtt else "loopback"),
              q, s, "ours SMTP 1 conn/msg", ">= %.0fx" % x, ("ratio>=", x))
    # memory
    for p in ("smtp", "qmqp"):
        o, q = find(loc, label="ours", proto=p, c="10"), find(loc, label="postfix", proto=p, c="10")
        t.row("peak memory MB (sum of RSS), end to end %s c=10" % p.upper(),
              num(o.get("peak_rss_kb")) / 1024 if o else None, num(q.get("peak_rss_kb")) / 1024 if q else None,
              "Postfix", "<= 0.25x", ("ratio<=", 0.25), fmt="%.1f")
    # processes per message

    def execs(*pq):
        return tuple(" [exec %.2f]" % x[1] if x else "" for x in pq)
    for p in ("smtp", "qmqp"):
        o, q = accp.get(("ours", p)), accp.get(("postfix", p))
        t.row("processes started/msg, acceptance %s" % p.upper(), o[0] if o else None, q[0] if q else None,
              peer[p], "0 (none per msg)", ("abs<=", 0.05), fmt="%.2f", extra=execs(o, q))
    for p in ("smtp", "qmqp"):
        o, q = locp.get(("ours", p)), locp.get(("postfix", p))
        t.row("processes started/msg, end to end %s" % p.upper(), o[0] if o else None, q[0] if q else None,
              "Postfix", "(report)", ("info",), fmt="%.2f", extra=execs(o, q))
    sys.stdout.write(t.text())
    sys.stdout.write(
        "flushes/msg: flush requests (REQ_PREFLUSH bios) queued by the server's own processes and their children\n"
        "  over the case / N (tracefs block:block_bio_queue, set_event_pid + event-fork: exact, an upper bound of\n"
        "  the device flushes they cause); [dev X]: the disk's block-layer flush count (/sys/block/DEV/stat\n"
        "  field 16) / N less the machine's flushes at its rate of the second before (machine-wide, noisy on a\n"
        "  shared machine); [fsync X]: fsync-family calls per message (strace -c, a separate c=1 run).\n"
        "hub CPU: user+sys of every process of the hub (its cgroup; Postfix: its own) / messages; processes\n"
        "  started: new pids / message in a 20 message c=1 strace -f run; the dial-up peer is our own SMTP.\n")

    # the figures behind the rows
    say = sys.stdout.write
    say("\nfigures behind the rows:\n")
    for r in acc:
        raw, net = flush_per_msg(r)
        say("  accept %-7s %-4s c=%-2s  %7s msgs/s  hub CPU %s ms over %s msgs  flush requests %s  devflush %s "
            "(%.2f/msg, %.2f/msg less the machine's %s/s before)  fsync calls/msg %s  peak RSS %s kB PSS %s kB  "
            "accepted %s  machine load %s ms/s\n" % (
                r.get("label"), r.get("proto"), r.get("c"), r.get("rate"), r.get("tree_ms"), r.get("n"),
                r.get("flushbio", "NA"), r.get("devflush"), raw or 0, net or 0, r.get("bg_flush_s"),
                r.get("fsync_per_msg", "NA"),
                r.get("peak_rss_kb"), r.get("peak_pss_kb"), r.get("accepted"), r.get("bg_ms_s")))
    for r in loc:
        raw, net = flush_per_msg(r)
        say("  e2e    %-7s %-4s c=%-2s  %7s msgs/s (accept %s)  hub CPU %s ms over %s delivered  flush requests %s  "
            "devflush %s (%.2f/msg less the machine's)  peak RSS %s kB PSS %s kB  machine load %s ms/s\n" % (
                r.get("label"), r.get("proto"), r.get("c"), r.get("e2e_rate"), r.get("rate"), r.get("tree_ms"),
                r.get("delivered"), r.get("flushbio", "NA"), r.get("devflush", "NA"), net or 0, r.get("peak_rss_kb"), r.get("peak_pss_kb"),
                r.get("bg_ms_s")))
    for r in rem:
        say("  dialup %-18s %-22s %7s msgs/s  %s s  connections %s  arrived %s/%s\n" % (
            r.get("label"), r.get("case"), r.get("rate"), r.get("secs"), r.get("conns"), r.get("got"),
            r.get("target")))
    try:
        with open(os.path.join(d, "remote.txt")) as f:
            for line in f:
                if line.startswith("d: arrivals"):
                    say("  dialup " + line[3:])
    except OSError:
        pass
    for what, pr in (("acceptance", accp), ("end to end", locp)):
        for (srv, p), (a, e) in sorted(pr.items()):
            say("  processes %-10s %-7s %-4s %.2f started/msg, %.2f execve/msg\n" % (what, srv, p, a, e))


if __name__ == "__main__":
    main()
