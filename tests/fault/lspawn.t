#!/bin/bash
# lspawn.t: fault injection on local delivery, hub/qmail-lspawn whose
# delivery child runs the delivery code in-process (hub/local/local.h:
# no exec of qmail-local), comparing every report with what is in the mailbox
# (issue 17 item 15; the delivery order is argued in hub/local/maildir.c and
# hub/local/mboxappend.h, the report mapping in qmail-lspawn.8).
# qmail-lspawn runs in single-user mode (as nobody when the test runs as
# root, as lspawn.t does) and is given three jobs on a pipe, as qmail-send
# would: md1 (3 KB) and md2 (150 KB) to HOME/alias/Maildir/, box (150 KB,
# with From_ lines to quote) to HOME/alias/mbox, which already holds an old
# entry. A fault aimed at one delivery runs qmail-lspawn with that job
# alone under strace -f: strace counts each syscall per process, so a
# "when=N" reaches the delivery child's Nth call (kill points a process
# of qmail-lspawn's own reaches as well are left out: see points).
# Checks after every run ("acknowledged vs actual"):
#   every K: that message is in new/ exactly once, byte for byte (Return-
#   Path, Delivered-To, the message), or in the mbox exactly once, whole;
#   no report is D; every file in new/ is a whole copy of a message (a tmp/
#   leftover is tolerated); the old mbox entry is intact; an unreported or
#   Z job has at most one copy and at most an unfinished last mbox entry.
#   Then the jobs not reported K are run again (qmail-send's retry): all
#   K, each message at least once and whole, no unfinished mbox entry (the
#   retry takes it back: hub/local/mboxappend.h), so each mbox message once (or
#   twice when the kill came after its record was removed).
#  L0 the reference run under strace -f: each K is written after the
#     delivery's flushes, in this order: Maildir file written, fsync of the
#     file, link into new/, fsync of new/, then K; mbox: the unfinished-
#     append record set, the writes, fsync, record removed, then K. (A
#     kill -9 cannot show a missing flush: the page cache survives it.)
#  L1 kill -9 qmail-lspawn itself before each of its syscalls from chdir to
#     exit_group (strace without -f: the deliveries run on): K only for
#     what is there. Its last polls and reads depend on the order the
#     deliveries end in, so a few points may not come in a given run (the
#     run is checked all the same; at least 80 % must be reached).
#  L2 kill -9 the delivery child before each of its syscalls, from its
#     first after the fork (its set-up, the lookup, the switch to the
#     recipient, then the delivery code) to exit_group, for each of the
#     three deliveries (run alone): that job is Z (qmail-local crashed).
#     Memory management calls (mmap, munmap, mprotect, madvise, brk: the
#     sanitizer's allocator makes dozens) are left out: no file changes
#     between them and the next call, which is a kill point. So is a
#     point "name:N" when another process of the run (qmail-lspawn, the
#     lookup process) makes N calls of that name too (with a margin of 2
#     for read and poll, whose number varies): that one would be hit.
#  L4 ENOSPC and EIO on each write to the Maildir file and to the mbox, EIO
#     on the fsync of the file, of new/ and of the mbox, ENOSPC on the link,
#     on the tmp/ create and on the mbox open, EIO on removing the mbox's
#     record (each job alone, the same rule for points): that job Z,
#     nothing of it in new/ or tmp/, the mbox back to its old bytes, and a
#     retry delivers it.
# Kill points: every syscall but L2's memory calls and the shared counts is
# run (about 200 in all, L2 70 of them: a delivery child no longer asks
# for all 64 signal dispositions nor reads /etc/localtime); ~40 s here on a loaded 2-core
# machine, the sanitizer build about twice that.
# TAP on stdout; BUILD=build|build-san picks the binaries.
. "$(dirname "$0")/../lib/common.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
for p in qmail-lspawn; do
  [ -x "$B/hub/$p" ] || { echo "Bail out! $p not built (BUILD=$BUILD: make all first)"; exit 1; }
done
command -v strace > /dev/null || { echo "1..0 # skip no strace"; exit 0; }
H=$T/home FL=$T/fl TR=$T/tr
mkdir -p "$H/bin" "$H/alias/Maildir/new" "$H/alias/Maildir/tmp" "$H/alias/Maildir/cur" \
  "$H/queue/mess/5" "$H/queue/mess/6" "$H/queue/mess/7"
mkdir -m 777 "$FL"
chmod 755 "$H" "$H/alias"
mkdir -m 777 "$TR"   # traces written by nobody
cp "$B/hub/qmail-lspawn" "$H/bin/qmail-lspawn"
for l in md1 md2; do echo ./Maildir/ > "$H/alias/.qmail-$l"; done
echo ./mbox > "$H/alias/.qmail-box"
# the messages (in the queue, as qmail-queue leaves them)
python3 - "$H/queue/mess" <<'PY'
import random, sys
r = random.Random(17)
def lines(tag, kb, froms):
    out = ["Subject: %s" % tag, "", "From the start", ">From quoted"]
    k = 0
    while sum(len(l) + 1 for l in out) < kb * 1024:
        out.append("%s %06d %s" % (tag, k, "".join(r.choice("abcdefgh ") for _ in range(k % 75))))
        k += 1
        if froms and k % 300 == 0: out.append("From inside %d" % k)
    return ("\n".join(out) + "\n").encode()
for name, tag, kb, froms in (("5/28", "md1", 3, 0), ("6/29", "box", 150, 1), ("7/30", "md2", 150, 0)):
    open(sys.argv[1] + "/" + name, "wb").write(lines(tag, kb, froms))
PY
if [ "$(id -u)" = 0 ]; then
  RUID=65534
  ASUSER="setpriv --reuid=65534 --regid=65534 --clear-groups --"
  chown -R 65534:65534 "$H"
else
  RUID=$(id -u) ASUSER=
fi
export H FL RUID ASUSER LSPAWN=$H/bin/qmail-lspawn ASAN_OPTIONS=detect_leaks=0

cat > "$T/ls.py" <<'PY'
"""Driver and checks. ls.py MODE [ARGS]:
ref TRACE          one run under strace -f -o TRACE; prints the reports
refone LOCAL TRACE the job LOCAL alone under strace -f -o TRACE
order TRACE        L0: the flush order before each K in TRACE
points LOCAL TRACE kill|fault   L2's or L4's points in refone's TRACE
kill POINT...      POINT = parent:SPEC | LOCAL:SPEC (a kill spec for
                   strace, without -e inject=); checks and retry
fault POINT...     LOCAL:SPEC (an error spec): L4's checks
One line "FAIL ..." per failed case, and "done N" (N cases) at the end."""
import ctypes, os, re, subprocess, sys

H, FL = os.environ["H"], os.environ["FL"]
RUID = int(os.environ["RUID"])
AS = os.environ["ASUSER"].split()
LSPAWN = os.environ["LSPAWN"]
ENV = {"QMAILHOME": H, "PATH": "/usr/bin:/bin",
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")}
MD, MBOX = H + "/alias/Maildir", H + "/alias/mbox"
SENDER = b"s@x.org"
JOBS = [(b"a", b"5/28", "md1"), (b"b", b"6/29", "box"), (b"c", b"7/30", "md2")]
SLOT = {j[2]: j[0] for j in JOBS}
MAILDIR, MBOXJ = ("md1", "md2"), ("box",)
MSG = {l: open("%s/queue/mess/%s" % (H, i.decode()), "rb").read() for _, i, l in JOBS}
OLD = b"From old@x.org Thu Jan  1 00:00:00 2004\nSubject: old\n\nold mail\n>From quoted\n\n"
FROM_ = re.compile(rb"From s@x\.org \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n")
# PR_SET_CHILD_SUBREAPER: the deliveries of a killed qmail-lspawn become
# ours, so every run is over (and reaped) before its checks
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)

def body(l):
    return b"Return-Path: <%s>\nDelivered-To: %s@h.org\n" % (SENDER, l.encode()) + MSG[l]

def reset():
    for d in ("new", "tmp", "cur"):
        for f in os.listdir(MD + "/" + d): os.unlink(MD + "/" + d + "/" + f)
    if os.path.lexists(MBOX): os.unlink(MBOX)  # (and its record with it)
    with open(MBOX, "wb") as f: f.write(OLD)
    os.chmod(MBOX, 0o600)
    if os.getuid() == 0: os.chown(MBOX, RUID, RUID)
    for f in os.listdir(FL): os.unlink(FL + "/" + f)

def run(prefix, locals_):
    jobs = b"".join(s + i + b"\0" + SENDER + b"\0" + l.encode() + b"@h.org\0\0"
                    for s, i, l in JOBS if l in locals_)
    with open(FL + "/../lspawn.err", "ab") as err:
        p = subprocess.run(AS + prefix + [LSPAWN, "./Maildir/"], input=jobs, env=ENV,
                           stdout=subprocess.PIPE, stderr=err, timeout=120)
    while True:  # orphaned deliveries of a killed qmail-lspawn
        try: os.wait()
        except ChildProcessError: break
    rep, extra = {}, []
    for item in p.stdout.split(b"\0")[:-1]:
        s, letter = item[0:1], chr(item[1]) if len(item) > 1 else "?"
        if s in rep: extra.append(item)
        rep[s] = (letter, item[2:].decode("latin-1"))
    return rep, p.returncode, extra

def maildir():
    """{local: whole copies in new/}, [files that are no whole copy]"""
    n, bad = {l: 0 for l in MAILDIR}, []
    for f in sorted(os.listdir(MD + "/new")):
        d = open(MD + "/new/" + f, "rb").read()
        l = [l for l in MAILDIR if d == body(l)]
        if l: n[l[0]] += 1
        else: bad.append("new/%s (%d bytes)" % (f[:20], len(d)))
    return n, bad

def mbox():
    """whole box entries after OLD, unfinished last entry?, trouble"""
    d = open(MBOX, "rb").read()
    if not d.startswith(OLD): return 0, 0, ["the old entry is damaged"]
    whole, bad = 0, []
    ents = [e for e in re.split(rb"(?m)^(?=From )", d[len(OLD):]) if e]
    for k, e in enumerate(ents):
        m = FROM_.match(e)
        text = re.sub(rb"(?m)^>(>*From )", rb"\1", e[m.end():]) if m else b""
        if m and text == body("box") + b"\n": whole += 1
        elif k == len(ents) - 1: return whole, 1, bad
        else: bad.append("mbox entry %d of %d is not whole (%d bytes)" % (k + 1, len(ents), len(e)))
    return whole, 0, bad

def xattrs():
    try: return os.listxattr(MBOX)
    except OSError: return []

def copies():
    n, bad = maildir()
    w, part, bad2 = mbox()
    n["box"] = w
    return n, part, bad + bad2

fails = cases = unreached = 0
def fail(what):
    global fails
    fails += 1
    print("FAIL", what, flush=True)

def check(point, rep, rc, extra, want):
    """the checks after one run; want: {local: letter or None (any)}"""
    errs = []
    if extra: errs.append("several reports for one job: %r" % extra)
    letter = {l: rep.get(SLOT[l], (None, ""))[0] for l in SLOT}
    for l, w in want.items():
        if w and letter[l] != w: errs.append("%s reported %s (%s), wanted %s" % (l, letter[l], rep.get(SLOT[l], ("", ""))[1][:80], w))
    for l in SLOT:
        if letter[l] not in (None, "K", "Z"): errs.append("%s reported %s" % (l, letter[l]))
    n, part, bad = copies()
    errs += bad
    for l in SLOT:
        if letter[l] == "K" and (n[l] != 1 or (l in MBOXJ and part)):
            errs.append("%s reported K, %d whole copies there%s" % (l, n[l], part and " and an unfinished entry" or ""))
        if letter[l] != "K" and n[l] > 1: errs.append("%s: %d copies in one run" % (l, n[l]))
    if errs: return fail("%s: %s" % (point, "; ".join(errs)))
    # qmail-send's retry of what was not reported K
    again = [l for l in SLOT if letter[l] != "K"]
    if not again: return
    rep2, rc2, extra2 = run([], again)
    n2, part2, bad2 = copies()
    for l in again:
        if rep2.get(SLOT[l], ("?",))[0] != "K": errs.append("retry: %s reported %r" % (l, rep2.get(SLOT[l])))
    errs += bad2
    if part2: errs.append("retry: an unfinished mbox entry is left")
    for l in SLOT:
        if l not in again and n2[l] != 1: errs.append("retry: %s (K before) has %d copies" % (l, n2[l]))
        if l in again and n2[l] not in (1, 2): errs.append("retry: %s has %d copies" % (l, n2[l]))
    if rc2 != 0: errs.append("retry: exit %d" % rc2)
    if errs: fail("%s: %s" % (point, "; ".join(errs)))

def kill(point):
    target, spec = point.split(":", 1)
    spec = spec.replace(":", ":signal=SIGKILL:when=", 1)
    want = {}
    jobs = list(SLOT)
    if target == "parent": prefix = ["strace", "-o", "/dev/null", "-e", "inject=" + spec]
    else:  # that delivery alone, its child the only process to reach the count
        prefix = ["strace", "-f", "-o", "/dev/null", "-e", "inject=" + spec]
        want, jobs = {target: "Z"}, [target]
    rep, rc, extra = run(prefix, jobs)
    global unreached
    if target == "parent" and rc == 0:
        # the parent's later calls depend on the order the deliveries end
        # in: this run made fewer of them; checked all the same
        unreached += 1
        print("# not reached: %s" % point, flush=True)
    elif target == "parent" and rc != -9: return fail("%s: qmail-lspawn exit %d" % (point, rc))
    if target != "parent" and rc != 0: return fail("%s: qmail-lspawn exit %d" % (point, rc))
    check(point, rep, rc, extra, want)

def fault(point):
    target, spec = point.split(":", 1)
    rep, rc, extra = run(["strace", "-f", "-o", "/dev/null", "-e", "inject=" + spec], [target])
    errs = []
    letter = {l: rep.get(SLOT[l], ("-", ""))[0] for l in SLOT}
    want = {l: "Z" if l == target else "-" for l in SLOT}
    if letter != want or rc != 0 or extra:
        errs.append("reports %s exit %d, wanted %s" % (
            " ".join("%s=%s" % (l, letter[l]) for l in SLOT), rc, " ".join("%s=%s" % (l, want[l]) for l in SLOT)))
    n, part, bad = copies()
    errs += bad
    for l in SLOT:
        if n[l]: errs.append("%s: %d whole copies" % (l, n[l]))
    if part: errs.append("an unfinished mbox entry")
    if target in MAILDIR and os.listdir(MD + "/tmp"): errs.append("tmp/ not empty")
    if target in MBOXJ and (open(MBOX, "rb").read() != OLD or xattrs()):
        errs.append("the mbox is not back to its old bytes, or keeps its record")
    if not errs:  # qmail-send's retry
        rep2, rc2, _ = run([], [target])
        n2, part2, bad2 = copies()
        if rep2.get(SLOT[target], ("?",))[0] != "K" or n2[target] != 1 or part2 or bad2 or rc2:
            errs.append("retry: %r, %d copies, exit %d" % (rep2.get(SLOT[target]), n2[target], rc2))
    if errs: fail("%s: %s" % (point, "; ".join(errs)))

def trace_lines(trace):
    """[(pid, name, line without the pid)] of a strace -f trace"""
    out = []
    for line in open(trace, errors="replace"):
        m = re.match(r"(\d+) +((\w+)\(.*)", line.rstrip("\n"))
        if m: out.append((m.group(1), m.group(3), m.group(2)))
    return out

def delivery_pid(lines, l):
    """the delivery child of job l: the process that opens .qmail-l"""
    for pid, name, rest in lines:
        if re.match(r'openat\(AT_FDCWD, "\.qmail-%s"' % l, rest): return pid
    return None

def points(l, trace, kind):
    """L2 (kill) or L4 (fault) points of job l's delivery child, without
    the counts another process of the run reaches as well"""
    lines = trace_lines(trace)
    child = delivery_pid(lines, l)
    if not child: print("FAIL no delivery child for %s in %s" % (l, trace)); return
    per, other, c, fd, left = {}, {}, {}, None, 0
    for pid, name, _ in lines:  # the most calls of each name one other process makes
        if pid != child: per[pid, name] = per.get((pid, name), 0) + 1
    for (pid, name), n in per.items(): other[name] = max(other.get(name, 0), n)
    def shared(name, k):
        return other.get(name, 0) + (2 if name in ("read", "poll") else 0) >= k
    for pid, name, rest in lines:
        if pid != child: continue
        c[name] = c.get(name, 0) + 1
        k, pts = c[name], []
        if kind == "kill":
            if name not in ("mmap", "munmap", "mprotect", "madvise", "brk"): pts = ["%s:%d" % (name, k)]
        else:
            m = re.match(r'openat\(.*"(\./Maildir//tmp/[^"]*|\./mbox)", .* = (\d+)$', rest)
            if m:
                fd = m.group(2)
                pts = ["openat:error=ENOSPC:when=%d" % k]
                if "tmp" in m.group(1): pts.append("openat:error=EDQUOT:when=%d" % k)
            elif fd and name == "write" and rest.startswith("write(%s," % fd):
                pts = ["write:error=ENOSPC:when=%d" % k, "write:error=EIO:when=%d" % k]
            elif name == "fsync": pts = ["fsync:error=EIO:when=%d" % k]
            elif name == "link": pts = ["link:error=ENOSPC:when=%d" % k]
            elif name == "fremovexattr": pts = ["fremovexattr:error=EIO:when=%d" % k]
        for p in pts:
            if shared(name, k): left += 1
            else: print("%s:%s" % (l, p))
    print("# %s %s: %d points shared with another process left out" % (kind, l, left))

def order(trace):
    """L0: per delivery, the flushes before its K in the strace -f trace.
    An event is (text, line where the call began, line where it returned);
    each step must begin after the one before it returned."""
    ev, pend = [], {}
    for no, line in enumerate(open(trace, errors="replace")):
        m = re.match(r"(\d+) +(.*)", line.rstrip("\n"))
        if not m: continue
        pid, rest = m.groups()
        if rest.endswith("<unfinished ...>"):
            pend[pid] = (rest[:-len("<unfinished ...>")].rstrip(), no); continue
        r = re.match(r"<\.\.\. \w+ resumed>(.*)", rest)
        start = no
        if r:
            text, start = pend.pop(pid, ("", no))
            rest = text + r.group(1)
        ev.append((pid, rest, start, no))
    who, errs = {}, []
    for pid, s, _, _ in ev:
        m = re.match(r'openat\(AT_FDCWD, "\.qmail-(\w+)"', s)
        if m and m.group(1) in SLOT and m.group(1) not in who: who[m.group(1)] = pid
    par = ev[0][0]
    for l in SLOT:
        if l not in who: errs.append("no delivery for %s in the trace" % l); continue
        mine = [e[1:] for e in ev if e[0] == who[l]]
        ks = [e[1:] for e in ev if e[0] == par and e[1].startswith('write(1, "%sK' % SLOT[l].decode())]
        if len(ks) != 1: errs.append("%s: %d K reports" % (l, len(ks))); continue
        def first(rx, after=None):
            for e in mine:
                if (after is None or e[1] > after[2]) and re.match(rx, e[0]): return e
            return None
        def fd(e): return re.search(r"= (\d+)$", e[0]).group(1)
        if l in MAILDIR:
            o = first(r'openat\(.*/tmp/[^"]*", O_WRONLY\|O_CREAT\|O_EXCL.* = (\d+)$')
            if not o: errs.append("%s: no tmp/ file" % l); continue
            name = re.escape(re.search(r'/tmp/([^"]*)"', o[0]).group(1))
            w = [e for e in mine if e[0].startswith("write(%s," % fd(o))][-1]
            f = first(r"fsync\(%s\) += 0" % fd(o), w)
            k = f and first(r'link\("[^"]*/tmp/%s", "[^"]*/new/%s"\) += 0' % (name, name), f)
            d = k and first(r'openat\(.*/new", O_RDONLY.*O_DIRECTORY.* = (\d+)$', k)
            ds = d and first(r"fsync\(%s\) += 0" % fd(d), d)
            steps = [("last write", w), ("fsync of the file", f), ("link into new/", k), ("fsync of new/", ds)]
        else:
            o = first(r'openat\(AT_FDCWD, "\./mbox", .*O_APPEND.* = (\d+)$')
            if not o: errs.append("%s: no mbox open" % l); continue
            ws = [e for e in mine if e[0].startswith("write(%s," % fd(o))]
            m = first(r'fsetxattr\(%s, "user.qmail.append", ' % fd(o), o)
            f = first(r"fsync\(%s\) += 0" % fd(o), ws[-1])
            r = f and first(r'fremovexattr\(%s, "user.qmail.append"\) += 0' % fd(o), f)
            steps = [("the record", m), ("first write", ws[0]), ("last write", ws[-1]),
                     ("fsync of the mbox", f), ("record removed", r)]
        steps.append(("K", ks[0]))
        for (n0, e0), (n1, e1) in zip(steps, steps[1:]):
            if not e0 or not e1 or e1[1] <= e0[2]:
                errs.append("%s: %s does not begin after %s returned" % (l, n1, n0)); break
        print("# L0 %s: %s" % (l, ", ".join("%s@%s" % (n, e and e[1]) for n, e in steps)))
    for e in errs: fail(e)

mode, args = sys.argv[1], sys.argv[2:]
if mode == "ref":
    reset()
    rep, rc, _ = run(["strace", "-f", "-o", args[0]], list(SLOT))
    n, part, bad = copies()
    print(" ".join("%s=%s%d" % (l, rep.get(SLOT[l], ("-",))[0], n[l]) for l in SLOT), rc, part, len(bad))
elif mode == "refone":
    reset()
    rep, rc, _ = run(["strace", "-f", "-o", args[1]], [args[0]])
    n, part, bad = copies()
    print("%s=%s%d" % (args[0], rep.get(SLOT[args[0]], ("-",))[0], n[args[0]]), rc)
elif mode == "points":
    points(*args)
elif mode == "order":
    order(args[0])
    print("done 1")
else:
    for point in args:
        cases += 1
        reset()
        (kill if mode == "kill" else fault)(point)
    print("unreached", unreached)
    print("done", cases)
PY
LS="python3 $T/ls.py"
# result OUTPUT N NAME: the FAIL lines as comments, then one check (FAIL
# lines none, N cases run)
result() {
  printf '%s\n' "$1" | grep '^FAIL' | sed 's/^/# /'
  is "$(printf '%s\n' "$1" | grep -c '^FAIL')/$(printf '%s\n' "$1" | tail -1)" "0/done $2" "$3"
}

# ---- reference runs ---------------------------------------------------------
is "$($LS ref "$TR/ref.all")" "md1=K1 box=K1 md2=K1 0 0 0" "reference run (strace -f): three K, each message there once"
for l in md1 box md2; do
  is "$($LS refone $l "$TR/ref.$l")" "$l=K1 0" "reference run of $l alone (strace -f)"
done

# ---- L0: the flushes come before each K ---------------------------------------
out=$($LS order "$TR/ref.all")
printf '%s\n' "$out" | grep '^# '
result "$out" 1 "L0: each K comes after its delivery's flushes (Maildir: fsync file, link, fsync new/; mbox: fsync, record removed)"

# points SKIP TRACE PID: "name:ordinal" of each syscall in TRACE (one
# process; with PID, the lines of that pid in a strace -f trace) from the
# first line matching SKIP on
points() {
  awk -v re="$1" -v pid="$3" '
    pid != "" { if ($1 != pid) next; sub(/^[0-9]+ +/, "") }
    { n = $0; sub(/\(.*/, "", n); if (n !~ /^[a-z0-9_]+$/) next; c[n]++
      if (!on && $0 ~ re) on = 1; if (on) print n ":" c[n] }' "$2"
}

# ---- L1: kill -9 qmail-lspawn at each of its syscalls ----------------------------
ppid=$(head -1 "$TR/ref.all" | awk '{print $1}')
points '^chdir\(' "$TR/ref.all" "$ppid" | sed 's/^/parent:/' > "$T/p1"
n1=$(wc -l < "$T/p1")
echo "# L1 points: $(sed 's/^parent://' "$T/p1" | tr '\n' ' ')"
out=$($LS kill $(cat "$T/p1"))
printf '%s\n' "$out" | grep '^# not reached'
result "$out" "$n1" \
  "L1: kill -9 qmail-lspawn at each of $n1 syscalls: every K delivered exactly, the rest at most once and whole, a retry delivers them"
un=$(printf '%s\n' "$out" | sed -n 's/^unreached //p')
[ -n "$un" ] && [ $((un * 5)) -le "$n1" ]
ok $? "L1: the kill came in $((n1 - ${un:-0})) of $n1 runs (the last polls and reads vary from run to run; at least 80 %)"

# ---- L2: kill -9 the delivery child at each of its syscalls ----------------------
for l in md1 box md2; do $LS points $l "$TR/ref.$l" kill; done > "$T/p2"
grep '^#' "$T/p2"; grep -v '^#' "$T/p2" > "$T/p2k"
n2=$(wc -l < "$T/p2k")
for l in md1 box md2; do echo "# L2 $l points: $(grep -c "^$l:" "$T/p2k")"; done
[ "$n2" -ge 50 ]; ok $? "L2: $n2 kill points in the three delivery children (at least 50)"
result "$($LS kill $(cat "$T/p2k"))" "$n2" \
  "L2: kill -9 the delivery child at each of $n2 syscalls (each delivery alone): that job Z, nothing partial in new/; a retry delivers"

# ---- L4: disk errors ------------------------------------------------------
# fault points from the reference traces of each job alone: the writes to
# the Maildir file and to the mbox, the fsyncs, the link, the tmp/ create
for l in md1 md2 box; do $LS points $l "$TR/ref.$l" fault; done > "$T/p4"
grep '^#' "$T/p4"; grep -v '^#' "$T/p4" > "$T/p4f"
n4=$(wc -l < "$T/p4f")
echo "# L4 points: $(tr '\n' ' ' < "$T/p4f")"
[ "$(grep -c ':fsync:' "$T/p4f")" = 5 ]; ok $? "L4: 5 fsyncs in the three deliveries (file and new/ twice, the mbox once)"
result "$($LS fault $(cat "$T/p4f"))" "$n4" \
  "L4: each of $n4 disk errors: that job Z, nothing of it delivered (tmp/ empty, the mbox as before), a retry delivers"
done_testing
