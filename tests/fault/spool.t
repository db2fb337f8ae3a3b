#!/bin/bash
# spool.t: kill -9 of the leaf at every system call of a spool write and of
# a flush (docs/spool.md sec 3-4): nothing acknowledged is lost, nothing
# is kept or sent cut.
#  K  keep: qmail-qmqpc with no hub reachable writes a 100 KB message into
#     the spool. A reference strace gives the system calls from the open of
#     spool/ to the end; each is then the kill point of one run (strace -e
#     inject=NAME:signal=SIGKILL:when=N). A killed run is never exit 0; the
#     spool then holds the message kept before (whole) and this one whole
#     or not at all (a tmp.* file is garbage, not a message).
#  F  flush: two kept messages, qmail-qmqpc -flush to a fake hub that
#     answers K (tests/lib/fakeserver.py, logging each request). Each
#     system call from the open of spool/ to the end is a kill point; after
#     each run every message is still whole in the spool or was received
#     whole by the hub (or both: a duplicate to come, never a loss), and a
#     request the hub did not get whole was never acknowledged.
# Then a flush without faults sends whatever is left.
#  R  a rewrite in place (a QMTP hub took one recipient of two): after a
#     kill at each system call the message is there once, whole, for both
#     recipients or for the deferred one.
# As root the runs are made as a throwaway user (qspool1), so that -flush
# runs in one process (root's forks a child per user); otherwise as the
# user running the test. Skipped without strace.
. "$(dirname "$0")/../lib/common.sh"
skip() { _n=$((_n + 1)); echo "ok $_n # skip $1"; }
command -v strace > /dev/null || { echo "1..0 # skip no strace"; exit 0; }
AS=()
if [ "$(id -u)" = 0 ]; then
  command -v setpriv > /dev/null || { echo "1..0 # skip no setpriv"; exit 0; }
  id qspool1 > /dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin qspool1 ||
    { echo "1..0 # skip cannot create user qspool1"; exit 0; }
  AS=(setpriv --reuid="$(id -u qspool1)" --regid="$(id -g qspool1)" --clear-groups)
  RU=$(id -u qspool1)
else
  RU=$(id -u)
fi
leaf=$T/leaf
install_leaf "$leaf" || { echo "Bail out! make install-leaf failed"; exit 1; }
SP=$leaf/spool/$RU
W=$T/w; mkdir -p "$W"; chmod 777 "$W"
# run CMD...: as the test's user, with an empty environment
run() { "${AS[@]}" env -i PATH=/usr/bin:/bin QMAILHOME="$leaf" ASAN_OPTIONS=detect_leaks=0 "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DEAD=$(free_port)
mkdir -p "$T/f"
start_fake K --logdir "$T/f" --lifetime 1800
hubs() { echo "127.0.0.1:$1" > "$leaf/control/qmqpservers"; }

{ printf 'Subject: big\n\n'; head -c 75000 /dev/urandom | base64; } > "$W/body"
chmod 644 "$W/body"
envof() { printf 'Fsender%s@example.org\0Trcpt@example.net\0\0' "$1" > "$W/env.$1"; chmod 644 "$W/env.$1"; }
# keep N [PREFIX...]: message N kept through qmail-qmqpc (under PREFIX); rc
keep() { local n=$1; shift; envof "$n"; { run "$@" "$leaf/bin/qmail-qmqpc" < "$W/body" 1< "$W/env.$n"; } 2> /dev/null; rc=$?; }

# check.py SPOOL BODY FAKELOG FIRST: one line "spool=N,N... recv=N,... tmp=K"
# (recv: whole requests in the fake's connections after FIRST), then a line
# "BAD ..." for each kept file or received request that is not whole.
cat > "$T/check.py" <<'EOF'
import os, re, sys
spool, body, log, first = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3], int(sys.argv[4])
def env(n): return b"Fsender%d@example.org\0Trcpt@example.net\0\0" % n
kept, recv, tmp, bad = [], [], 0, []
for name in sorted(os.listdir(spool)) if os.path.isdir(spool) else []:
    data = open(os.path.join(spool, name), "rb").read()
    if name.startswith("tmp."):
        tmp += 1
        continue
    m = re.match(rb"[^\n]*\n(Fsender(\d+)@example\.org\0Trcpt@example\.net\0\0)", data)
    if not m or data[m.end():] != body:
        bad.append("BAD spool file %s is not whole (%d bytes)" % (name, len(data)))
        continue
    kept.append(int(m.group(2)))
def ns(b, i):
    c = b.index(b":", i)
    n = int(b[i:c])
    if b[c + 1 + n:c + 2 + n] != b",":
        raise ValueError
    return b[c + 1:c + 1 + n], c + 2 + n
for f in os.listdir(log):
    m = re.match(r"conn-(\d+)\.raw$", f)
    if not m or int(m.group(1)) <= first:
        continue
    raw = open(os.path.join(log, f), "rb").read()
    if not os.path.exists(os.path.join(log, "conn-%s.rcpts" % m.group(1))):
        continue   # the hub never had the whole request: it did not answer K
    try:
        outer, _ = ns(raw, 0)
        msg, i = ns(outer, 0)
        sender, i = ns(outer, i)
        n = int(re.match(rb"sender(\d+)@", sender).group(1))
    except (ValueError, AttributeError):
        bad.append("BAD request in %s does not parse" % f)
        continue
    if msg != body:
        bad.append("BAD request in %s carries message %d cut (%d bytes)" % (f, n, len(msg)))
    recv.append(n)
print("spool=%s recv=%s tmp=%d" % (",".join(map(str, sorted(kept))), ",".join(map(str, sorted(recv))), tmp))
for b in bad:
    print(b)
EOF
check() { python3 "$T/check.py" "$SP" "$W/body" "$T/f" "${1:-0}"; }
lastconn() { ls "$T/f" | sed -n 's/^conn-\([0-9]*\)\.raw$/\1/p' | sort -n | tail -1; }
# cases TRACE: "name ordinal" for each system call from the open of spool/
# to the end (exit_group left out), the ordinal counted from the start of
# the process as strace's when= counts it
cases() {
  awk '{ n = $1; sub(/\(.*/, "", n) }
       n ~ /^[a-z0-9_]+$/ { c[n]++; if ($0 ~ /"[^"]*\/spool"/) on = 1; if (on && n != "exit_group") print n, c[n] }' "$1"
}

# ---- K: keep ------------------------------------------------------------------
# kphase BASE LABEL: reference keep and a kill at each of its system calls,
# with the spool holding message 0 (BASE=0: the user's directory exists) or
# nothing at all (BASE empty: the first keep makes the directory).
hubs "$DEAD"
kphase() {
  local base=$1 label=$2 name ord fails=0 whole=0 none=0 f mk=""
  [ -n "$base" ] || mk="mkdir, "
  keep 1 strace -o "$W/refk$label"
  is "$rc/$(check)" "0/spool=${base:+$base,}1 recv= tmp=0" "K$label: reference keep under strace: exit 0, whole in the spool"
  for f in "$SP"/*; do grep -aqs 'sender1@' "$f" && rm -f "$f"; done
  [ -n "$base" ] || rmdir "$SP"
  cases "$W/refk$label" > "$T/kcases"
  nk=$(wc -l < "$T/kcases")
  ok "$([ "$nk" -ge 20 ] && grep -q '^renameat ' "$T/kcases" && grep -q '^fsync ' "$T/kcases" &&
        { [ -n "$base" ] || grep -q '^mkdirat ' "$T/kcases"; }; echo $?)" \
     "K$label: $nk system calls from the open of spool/ (${mk}writes, fsyncs, rename among them)"
  echo "# K$label cases: $(awk '{printf "%s#%s ", $1, $2}' "$T/kcases")"
  while read -r name ord; do
    n=$((n + 1))
    keep "$n" strace -o /dev/null -e inject="$name":signal=SIGKILL:when="$ord"
    got=$(check)
    case "$rc/$got" in
      0/*|*BAD*) fails=$((fails + 1)); echo "# kill at $name#$ord: exit $rc: $got" ;;
      */"spool=${base:+$base,}$n recv= "*) whole=$((whole + 1)) ;;
      */"spool=$base recv= "*) none=$((none + 1)) ;;
      *) fails=$((fails + 1)); echo "# kill at $name#$ord: exit $rc: $got" ;;
    esac
    for f in "$SP"/*; do   # back to what was there before
      case ${f##*/} in tmp.*) rm -f "$f" ;; *) grep -aqs "sender$n@" "$f" && rm -f "$f" ;; esac
    done
    [ -n "$base" ] || rmdir "$SP" 2> /dev/null
  done < "$T/kcases"
  is "$fails" 0 "K$label: kill -9 at each of $nk system calls: never exit 0${base:+, the earlier message whole}, this one whole ($whole) or absent ($none), never cut"
  ok "$([ "$whole" -ge 1 ] && [ "$none" -ge 1 ]; echo $?)" "K$label: kills before the rename leave nothing, after it the whole message"
}
n=100
kphase "" 1
keep 0
is "$rc/$(check)" "0/spool=0 recv= tmp=0" "a message kept with no hub reachable (the one that must survive)"
kphase 0 2

# ---- F: flush -----------------------------------------------------------------------
hubs "$FAKE_PORT"
first=$(lastconn)
run "$leaf/bin/qmail-qmqpc" -flush 2> /dev/null
is "$?/$(check "${first:-0}")" "0/spool= recv=0 tmp=0" "after all those kills, the message kept first goes out whole"
hubs "$DEAD"
keep 1001; keep 1002
mkdir -p "$W/tmpl"; cp -p "$SP"/* "$W/tmpl/"
is "$rc/$(ls "$W/tmpl" | wc -l)" "0/2" "two more messages kept for the flush cases"
hubs "$FAKE_PORT"
first=$(lastconn)
run strace -o "$W/reff" "$leaf/bin/qmail-qmqpc" -flush 2> /dev/null
is "$?/$(check "${first:-0}")" "0/spool= recv=1001,1002 tmp=0" "reference flush under strace: both sent whole, the spool empty"
cases "$W/reff" > "$T/fcases"
nf=$(wc -l < "$T/fcases")
ok "$([ "$nf" -ge 40 ] && grep -q '^unlinkat ' "$T/fcases" && grep -q '^connect ' "$T/fcases"; echo $?)" \
   "F: $nf system calls from the open of spool/ (connects, writes, reads, unlinks among them)"
echo "# F cases: $(awk '{printf "%s#%s ", $1, $2}' "$T/fcases")"
fails=0 dups=0 sent=0
while read -r name ord; do
  run mkdir -p -m 700 "$SP"
  rm -f "$SP"/*; run cp -p "$W/tmpl"/* "$SP/"
  first=$(lastconn)
  { run strace -o /dev/null -e inject="$name":signal=SIGKILL:when="$ord" "$leaf/bin/qmail-qmqpc" -flush; } 2> /dev/null
  rc=$?
  got=$(check "${first:-0}")
  s=${got#spool=}; s=",${s%% recv=*},"; r=${got#*recv=}; r=",${r%% tmp=*},"
  lost=""
  for m in 1001 1002; do
    case "$s$r" in *",$m,"*) ;; *) lost="$lost $m" ;; esac
    case "$s" in *",$m,"*) case "$r" in *",$m,"*) dups=$((dups + 1)) ;; esac ;; esac
  done
  case "$r" in *,100[12],*) sent=$((sent + 1)) ;; esac
  if [ "$rc" = 0 ] || [ -n "$lost" ] || [ "$got" != "${got#*BAD}" ]; then
    fails=$((fails + 1)); echo "# kill at $name#$ord: exit $rc, lost:${lost:- none}: $got"
  fi
done < "$T/fcases"
is "$fails" 0 "F: kill -9 at each of $nf system calls of a flush: every message still whole in the spool or received whole"
ok "$([ "$sent" -ge 1 ] && [ "$dups" -ge 1 ]; echo $?)" \
   "F: some kills come after a message went ($sent) and some leave a duplicate to come ($dups), none a loss"
check > "$T/last"
left=$(sed -n 's/^spool=\([^ ]*\) .*/\1/p' "$T/last")
first=$(lastconn)
run "$leaf/bin/qmail-qmqpc" -flush 2> /dev/null
is "$?/$(check "${first:-0}")" "0/spool= recv=$left tmp=0" "a flush without faults sends what the last kill left (${left:-nothing}), whole"
kill "$FAKE_PID" 2> /dev/null

# ---- R: a rewrite in place -----------------------------------------------------------
# A QMTP hub takes the first of two recipients and defers the second: the
# flush rewrites the message for the second only (a new file renamed over
# the old one). After a kill at any system call the message is still there
# exactly once, whole, for both recipients or for the second alone.
printf 'Fsender3000@example.org\0Ta@example.net\0Tb@example.net\0\0' > "$W/env.3000"; chmod 644 "$W/env.3000"
hubs "$DEAD"
{ run "$leaf/bin/qmail-qmqpc" < "$W/body" 1< "$W/env.3000"; } 2> /dev/null
mkdir -p "$W/tmpr"; cp -p "$SP"/* "$W/tmpr/"
mkdir -p "$T/fr"
start_fake qmtp:KZ --logdir "$T/fr" --lifetime 1800
echo "qmtp:127.0.0.1:$FAKE_PORT" > "$leaf/control/qmqpservers"
# rcheck: "N: RCPTS" for each message file (RCPTS joined by +), "tmp" for a
# tmp.* file, "BAD ..." for a file that is not whole
rcheck() {
  python3 - "$SP" "$W/body" <<'PY'
import os, re, sys
spool, body = sys.argv[1], open(sys.argv[2], "rb").read()
for name in sorted(os.listdir(spool)) if os.path.isdir(spool) else []:
    data = open(os.path.join(spool, name), "rb").read()
    if name.startswith("tmp."):
        print("tmp")
        continue
    m = re.match(rb"[^\n]*\nFsender(\d+)@example\.org\0((?:T[^\0]+\0)+)\0", data)
    if not m or data[m.end():] != body:
        print("BAD %s is not whole" % name)
        continue
    print("%s: %s" % (m.group(1).decode(), "+".join(r[1:].decode() for r in m.group(2).split(b"\0")[:-1])))
PY
}
run strace -o "$W/refr" "$leaf/bin/qmail-qmqpc" -flush 2> /dev/null
is "$?/$(rcheck | tr '\n' ' ')" "0/3000: b@example.net " "reference flush under strace: the message stays, rewritten for the deferred recipient"
cases "$W/refr" > "$T/rcases"
nr=$(wc -l < "$T/rcases")
ok "$([ "$nr" -ge 30 ] && grep -q '^renameat ' "$T/rcases"; echo $?)" "R: $nr system calls from the open of spool/ (the rename over the old file among them)"
fails=0 both=0 one=0
while read -r name ord; do
  rm -f "$SP"/*; run cp -p "$W/tmpr"/* "$SP/"
  { run strace -o /dev/null -e inject="$name":signal=SIGKILL:when="$ord" "$leaf/bin/qmail-qmqpc" -flush; } 2> /dev/null
  rc=$?
  got=$(rcheck | grep -v '^tmp$' | tr '\n' ' ')
  case "$rc/$got" in
    0/*) fails=$((fails + 1)); echo "# kill at $name#$ord: exit 0: $got" ;;
    *"/3000: a@example.net+b@example.net ") both=$((both + 1)) ;;
    *"/3000: b@example.net ") one=$((one + 1)) ;;
    *) fails=$((fails + 1)); echo "# kill at $name#$ord: exit $rc: $got" ;;
  esac
done < "$T/rcases"
is "$fails" 0 "R: kill -9 at each of $nr system calls: the message is there once, whole, for both recipients ($both) or the deferred one ($one)"
ok "$([ "$both" -ge 1 ] && [ "$one" -ge 1 ]; echo $?)" "R: before the rename it has both, after it the deferred one only"
done_testing
