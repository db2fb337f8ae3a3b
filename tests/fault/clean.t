#!/bin/bash
# clean.t: fault injection on hub/qmail-clean, comparing what it
# acknowledged with what is left in the queue (issue 17 item 15; the
# order and the crash points are argued in hub/queue/QUEUE.md sec 2).
# A driver plays qmail-send: one request at a time, each answer read
# before the next request (as qmail-send's clean() does), on a queue with
# a known set of files. The model (in the driver): every request is a
# list of unlinks in the documented order (T: intd then todo; M: intd
# then mess; a refused request: none), after the start-up unlink of an
# old pid/ file; files no request names (another message, a young pid/
# file, mess/ of a T request) are never touched.
#  C1 kill -9 before each syscall from chdir to exit_group (ordinals from
#     a reference strace of the same binary): the answers read are a prefix
#     of the expected ones; the queue is exactly the model after some
#     prefix of the unlinks that covers every answered request (so an
#     acknowledged removal is gone, an unanswered request is intact or
#     half done in the documented order: intd gone, todo/mess still there,
#     which qmail-send's next scan treats as still queued / stale); then a
#     restarted qmail-clean given every request again answers exactly as
#     expected and leaves the model's final state.
#  C2 EIO on each unlink: that request answers '!', the file stays, the
#     request's later unlink is not made; every other answer and file as
#     in the model.
#  C3 EIO on each answer write: exit 111, the answers before it, the
#     queue exactly as after that request's unlinks.
# All kill points are run (about 50; well under a second each even in the
# sanitizer build). TAP on stdout; BUILD=build|build-san picks the binary.
. "$(dirname "$0")/../lib/common.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QC=$B/hub/qmail-clean
[ -x "$QC" ] || { echo "Bail out! qmail-clean not built (BUILD=$BUILD: make all first)"; exit 1; }
command -v strace > /dev/null || { echo "1..0 # skip no strace"; exit 0; }
H=$T/home
export QMAILHOME=$H ASAN_OPTIONS=detect_leaks=0
sh "$SRCDIR/hub/queue/mkqueue.sh" -s "$H" > /dev/null || { echo "Bail out! mkqueue.sh failed"; exit 1; }

cat > "$T/clean.py" <<'PY'
"""The driver and the model. Usage: clean.py Q MODE [ARG]
MODE ops: the unlinks of the model, in order
MODE ref TRACE: one run under strace -o TRACE: "answers exit ok|state ..."
MODE kill NAME:ORD ...: for each kill point a run, the checks and a restart
MODE eio N: unlink #1..N fail with EIO, one run each
MODE weio N: answer write #1..N fail with EIO, one run each
kill, eio, weio: one line per failed case ("FAIL ...") and a last line
"done N" (N cases run)."""
import os, subprocess, sys, time

q, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
qc = os.environ["QC"]
# every file of the fixture: present at the start?
INITIAL = {
    "pid/old": 1, "pid/young": 1,
    "mess/8/100": 1, "intd/8/100": 1, "todo/8/100": 1,
    "mess/9/101": 1,
    "mess/10/102": 1, "intd/10/102": 1,
    "mess/12/104": 1, "intd/12/104": 1, "todo/12/104": 1,
    "mess/13/105": 1, "intd/13/105": 1, "todo/13/105": 1,
    "intd/11/103": 0, "todo/11/103": 0, "intd/9/101": 0,
}
# the requests, their expected answers and their unlinks in order
REQ = [
    (b"T8/100", "+", ["intd/8/100", "todo/8/100"]),      # preprocessed
    (b"M9/101", "+", ["intd/9/101", "mess/9/101"]),      # done (intd gone)
    (b"M10/102", "+", ["intd/10/102", "mess/10/102"]),   # S3 garbage
    (b"X8/100", "!", []),                                # bad kind
    (b"T11/103", "+", ["intd/11/103", "todo/11/103"]),   # nothing there
    (b"T12/104", "+", ["intd/12/104", "todo/12/104"]),
    (b"M12/104", "+", ["intd/12/104", "mess/12/104"]),   # then done
    (b"T1/" + b"9" * 30, "!", []),                       # too long
    (b"T08/100", "!", []),                               # leading zero
]
START = ["pid/old"]  # cleanpid at start: older than 36 h
EXPECT = "".join(r[1] for r in REQ)
# OPS: (request index or -1 for start-up, path), in the order made
OPS = [(-1, p) for p in START] + [(i, p) for i, r in enumerate(REQ) for p in r[2]]

def setup():
    for p in INITIAL:
        f = os.path.join(q, p)
        if os.path.exists(f): os.unlink(f)
    for p, there in INITIAL.items():
        if not there or p.startswith("todo/"): continue
        with open(os.path.join(q, p), "w") as f: f.write(p + "\n")
    for p, there in INITIAL.items():  # todo is a hard link of intd
        if there and p.startswith("todo/"):
            os.link(os.path.join(q, "intd" + p[4:]), os.path.join(q, p))
    old = time.time() - 40 * 3600
    os.utime(os.path.join(q, "pid/old"), (old, old))

def state():
    return {p for p in INITIAL if os.path.lexists(os.path.join(q, p))}

def model(k):
    """the files present after the first k unlinks"""
    gone = {p for _, p in OPS[:k]}
    return {p for p, there in INITIAL.items() if there and p not in gone}

def drive(argv, reqs):
    """qmail-send's side: a request, its answer, the next; stop at EOF."""
    err = open(os.path.join(q, "..", "clean.err"), "ab")
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    got = ""
    try:
        for r in reqs:
            p.stdin.write(r + b"\0"); p.stdin.flush()
            a = p.stdout.read(1)
            if not a: break
            got += a.decode("latin-1")
        p.stdin.close()
    except BrokenPipeError:
        pass
    rest = p.stdout.read()
    got += rest.decode("latin-1")
    return got, p.wait(timeout=60)

def run(spec=None, trace="/dev/null"):
    argv = [qc]
    if spec: argv = ["strace", "-o", trace, "-e", "inject=" + spec] + argv
    elif trace != "/dev/null": argv = ["strace", "-o", trace] + argv
    return drive(argv, [r[0] for r in REQ])

def show(s): return " ".join(sorted(s)) or "-"

def acked_ops(answers):
    """unlinks that must be done: start-up and every answered request"""
    n = len(answers)
    if n == 0: return 0
    return max([k + 1 for k, (i, _) in enumerate(OPS) if i < n] or [0])

def simulate(bad_unlink, bad_write):
    """answers, queue and exit code when unlink #bad_unlink (counting the
    calls made) or answer #bad_write fails: a failed unlink keeps its
    file, skips the rest of its request and makes the answer '!'; a
    failed answer ends the run with 111"""
    present = {p for p, there in INITIAL.items() if there}
    n = 0
    for p in START:
        n += 1
        if n != bad_unlink: present.discard(p)
    answers = ""
    for i, (req, a, ops) in enumerate(REQ):
        for p in ops:
            n += 1
            if n == bad_unlink: a = "!"; break
            present.discard(p)
        if i + 1 == bad_write: return answers, present, 111
        answers += a
    return answers, present, 0

fails = cases = 0
def fail(what):
    global fails
    fails += 1
    print("FAIL", what)

if mode == "ops":
    print(" ".join(p for _, p in OPS))
elif mode == "ref":
    setup()
    got, rc = run(trace=args[0])
    print(got, rc, "ok" if state() == model(len(OPS)) else "state " + show(state()))
elif mode == "kill":
    for point in args:
        cases += 1
        setup()
        got, rc = run(point.replace(":", ":signal=SIGKILL:when=", 1))
        st = state()
        if rc == 0 or not EXPECT.startswith(got):
            fail("%s: exit %d, answers %r (a prefix of %r wanted)" % (point, rc, got, EXPECT))
            continue
        need = acked_ops(got)
        if not any(st == model(k) for k in range(need, len(OPS) + 1)):
            fail("%s: answers %r, queue %s: no prefix of the unlinks from #%d on gives it"
                 % (point, got, show(st), need))
            continue
        got2, rc2 = run()  # qmail-send asks again
        if (got2, rc2) != (EXPECT, 0) or state() != model(len(OPS)):
            fail("%s: restart answered %r, exit %d, queue %s" % (point, got2, rc2, show(state())))
elif mode in ("eio", "weio"):
    for j in range(1, int(args[0]) + 1):
        cases += 1
        setup()
        sys_ = "unlink" if mode == "eio" else "write"
        got, rc = run("%s:error=EIO:when=%d" % (sys_, j))
        want, wst, wrc = simulate(j if mode == "eio" else 0, j if mode == "weio" else 0)
        if (got, rc) != (want, wrc) or state() != wst:
            fail("%s #%d fails (EIO): answers %r exit %d, queue %s; wanted %r exit %d, queue %s"
                 % (sys_, j, got, rc, show(state()), want, wrc, show(wst)))
if mode not in ("ops", "ref"): print("done", cases)
PY
export QC
Q=$H/queue
CP="python3 $T/clean.py $Q"

# ---- the reference run -----------------------------------------------------
is "$($CP ref "$T/ref" | head -1)" "+++!+++!! 0 ok" \
   "reference run under strace: the expected answers, exit 0, the model's final queue"
is "$(sed -n 's/^unlink("\([^"]*\)".*/\1/p' "$T/ref" | tr '\n' ' ')" "$($CP ops) " \
   "the unlinks come in the documented order (pid/ first; intd before todo or mess)"
# kill points: "name:ordinal" for each syscall from chdir to exit_group; the
# ordinal counts that syscall from the start of the process, as strace's when=
awk '{ n = $1; sub(/\(.*/, "", n) }
     n ~ /^[a-z0-9_]+$/ { c[n]++; if (n == "chdir") on = 1; if (on) print n ":" c[n] }' "$T/ref" > "$T/points"
np=$(wc -l < "$T/points")
nu=$(grep -c '^unlink(' "$T/ref")
nw=$(grep -c '^write(1,' "$T/ref")
[ "$np" -ge 40 ] && [ "$nu" = 13 ] && [ "$nw" = 9 ]
ok $? "the reference trace: $np syscalls from chdir on, $nu unlinks, $nw answers"
echo "# C1 kill points: $(tr '\n' ' ' < "$T/points")"

# ---- C1: kill -9 at each syscall -------------------------------------------
out=$($CP kill $(cat "$T/points"))
printf '%s\n' "$out" | grep '^FAIL' | sed 's/^/# /'
is "$(printf '%s\n' "$out" | grep -c '^FAIL')/$(printf '%s\n' "$out" | tail -1)" "0/done $np" \
   "C1: kill -9 at each of $np syscalls: answers a prefix, every answered removal done, the rest intact or half done in order; a restart finishes"

# ---- C2, C3: EIO on each unlink and on each answer ----------------------------
out=$($CP eio "$nu")
printf '%s\n' "$out" | grep '^FAIL' | sed 's/^/# /'
is "$(printf '%s\n' "$out" | grep -c '^FAIL')/$(printf '%s\n' "$out" | tail -1)" "0/done $nu" \
   "C2: EIO on each of $nu unlinks: that request answers '!' and keeps its file, the rest as the model"
out=$($CP weio "$nw")
printf '%s\n' "$out" | grep '^FAIL' | sed 's/^/# /'
is "$(printf '%s\n' "$out" | grep -c '^FAIL')/$(printf '%s\n' "$out" | tail -1)" "0/done $nw" \
   "C3: EIO on each of $nw answers: exit 111, the answers before it, the queue as after that request"
done_testing
