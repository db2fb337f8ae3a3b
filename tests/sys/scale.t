#!/bin/bash
# scale.t: BAD-INPUT L7 at a size make check can afford (SCALE_N, default
# 20,000; `make bench-scale` runs 100,000): qmail-send starts on a queue of
# N deferred messages within a bound, holds them all, and its memory grows
# linearly and modestly per message (< 1 KB each, measured against an
# empty queue); SIGTERM still exits promptly.
. "$(dirname "$0")/../lib/common.sh"
QSEND=$SRCDIR/$BUILD/hub/qmail-send
N=${SCALE_N:-20000}
case $BUILD in *-san) N=$((N / 4)); BPM=4096
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0;;  # freed buffers are not ours
  *) BPM=1024;; esac

# start H: qmail-send on home H with a do-nothing lspawn; prints
# "seconds rss_kb" once the queue is loaded, then stops it
start() {
  python3 - "$1" "$QSEND" <<'PY'
import os, subprocess, sys, time
home, qsend = sys.argv[1], sys.argv[2]
log = open(home + "/log", "wb")
jr, jw = os.pipe(); rr, rw = os.pipe()
t0 = time.time()
qs = subprocess.Popen([qsend], stdin=log, stdout=jw, stderr=rr, env=dict(os.environ, QMAILHOME=home))
os.close(jr)
end = t0 + 120
while time.time() < end and b"messages in the queue" not in open(home + "/log", "rb").read():
    time.sleep(0.02)
dt = time.time() - t0
rss = [l.split()[1] for l in open("/proc/%d/status" % qs.pid) if l.startswith("VmRSS")][0]
qs.terminate()
try: qs.wait(20)
except subprocess.TimeoutExpired: qs.kill(); dt = -1
print("%.2f %s" % (dt, rss))
PY
}
mk() {
  sh "$SRCDIR/hub/queue/mkqueue.sh" -s "$1" && mkdir -p "$1/control" &&
  echo hub.example.org > "$1/control/me" && echo hub.example.org > "$1/control/locals"
}
mk "$T/empty" && mk "$T/big" || { echo "Bail out! mkqueue"; exit 1; }
python3 "$SRCDIR/tests/lib/mkbacklog.py" "$T/big/queue" "$N"
ok $? "a queue of $N deferred messages written"
read -r t0 rss0 <<< "$(start "$T/empty")"
read -r t1 rss1 <<< "$(start "$T/big")"
like "$(cat "$T/big/log")" "^status: $N messages in the queue\$" "qmail-send loads all $N messages"
ok "$(awk -v t="$t1" 'BEGIN { exit !(t >= 0 && t < 30) }'; echo $?)" "start-up on $N messages takes ${t1} s (bound 30 s)"
per=$(( (rss1 - rss0) * 1024 / N ))
echo "# RSS ${rss0} kB empty, ${rss1} kB with $N messages: ${per} bytes per message"
ok "$([ "$per" -lt "$BPM" ]; echo $?)" "memory per queued message ${per} B < $BPM B"
ok "$(grep -q '^starting delivery' "$T/big/log"; [ $? = 1 ]; echo $?)" "deferred messages are not retried early"
done_testing
