#!/bin/bash
# scale.sh (make bench-scale): BAD-INPUT L7 at full size. qmail-send alone
# (fake instant spawners, no qmail-clean) on generated queues:
#   1. start-up on N=100,000 deferred messages (S5): seconds and RSS, warm
#      and, as root, with the page cache dropped first;
#   2. a backlog of M=20,000 messages in todo/ (S4) delivered by a fake
#      lspawn that answers K at once: seconds to the first delivery and
#      messages/s preprocessed and finished (each preprocessing writes and
#      flushes info/ and local/: this is the disk-bound part).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
QSEND=$top/$BUILD/hub/qmail-send
N=${SCALE_N:-100000} M=${SCALE_M:-20000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mk() { sh "$top/hub/queue/mkqueue.sh" -s "$1"; mkdir -p "$1/control"; echo hub.example.org > "$1/control/me"; echo hub.example.org > "$1/control/locals"; }
run() { # HOME MODE: MODE load = wait for the load line; drain = wait for M end msg
  python3 - "$1" "$QSEND" "$2" "$M" <<'PY'
import os, subprocess, sys, time, threading
home, qsend, mode, m = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
jr, jw = os.pipe(); rr, rw = os.pipe()
def lspawn():  # answer K to every job at once
    buf = b""
    while True:
        d = os.read(jr, 65536)
        if not d: return
        buf += d; out = []
        while True:  # slot, id, sender, one recipient, empty item
            parts = buf[1:].split(b"\0", 4)
            if len(parts) < 5: break
            out.append(buf[0:1] + b"Kok\0"); buf = parts[4]
        if out: os.write(rw, b"".join(out))
threading.Thread(target=lspawn, daemon=True).start()
log = home + "/log"; lf = open(log, "wb")
t0 = time.time()
qs = subprocess.Popen([qsend], stdin=lf, stdout=jw, stderr=rr, env=dict(os.environ, QMAILHOME=home))
first = None
while time.time() < t0 + 1800:
    text = open(log, "rb").read()
    if mode == "load" and b"messages in the queue" in text: break
    if mode == "drain":
        if first is None and b"starting delivery" in text: first = time.time() - t0
        if text.count(b"\nend msg ") >= m: break
    time.sleep(0.05)
dt = time.time() - t0
rss = [l.split()[1] for l in open("/proc/%d/status" % qs.pid) if l.startswith("VmHWM")][0]
qs.terminate(); qs.wait(60)
if mode == "load": print("start-up %.2f s, peak RSS %s kB" % (dt, rss))
else: print("first delivery after %.2f s; %d messages in %.1f s = %.0f msg/s; peak RSS %s kB" % (first or -1, m, dt, m / dt, rss))
PY
}
mk "$tmp/empty"; mk "$tmp/big"; mk "$tmp/todo"
echo "== qmail-send start-up: empty queue"; run "$tmp/empty" load
python3 "$top/tests/lib/mkbacklog.py" "$tmp/big/queue" "$N"
echo "== qmail-send start-up: $N deferred messages (warm cache)"; run "$tmp/big" load
if [ "$(id -u)" = 0 ]; then sync; echo 3 > /proc/sys/vm/drop_caches
  echo "== qmail-send start-up: $N deferred messages (page cache dropped)"; run "$tmp/big" load; fi
python3 "$top/tests/lib/mkbacklog.py" "$tmp/todo/queue" "$M" S4 'u%d@hub.example.org'
echo "== backlog: $M messages in todo/, instant fake lspawn"; run "$tmp/todo" drain
