#!/bin/bash
# queued.t: fault injection on hub/qmail-queued's commit path (group
# commit, hub/queue/QUEUE.md section 8), with strace. The daemon runs on a
# bare queue (mkqueue.sh -s) and is fed by K clients at once (K = 1 and
# K = 4: tests/lib/qqdclient.py holds every envelope's last byte back and
# sends them together, so one batch holds several messages). Each client
# sends its own 70 KB message (two chunks, so there are mid-message
# writes); a client whose reply is 0 is "acked" in a ledger, and
# tests/lib/qledger.py compares the queue with it after every run: every
# acked message is in todo/ + mess/ byte for byte, no todo/ entry is less
# than one whole message sent, its l and c items match mess/ (the check
# qmail-send makes before preprocessing: so what qmail-send would deliver
# is exactly the acked messages plus possibly unacked whole ones, never a
# torn one). The queue is emptied between runs.
#  D1 kill -9 at each syscall of qmail-queued from its first accept4 to
#     its last reply (the per-name ordinals of a reference trace, as
#     strace's when= counts them), K = 1 and K = 4: no BAD line, every
#     reply is 0 or none (the daemon died), never another code.
#  D2 EIO and ENOSPC on the commit's syncfs and fdatasync, on each write
#     into mess/ and intd/, on the links (mess/, todo/), on the creates
#     (pid/, intd/): the clients hit get a temporary code (53, or
#     qmail-queue's 63-66 for EIO on a create or link), never 0 after a
#     failed flush (checked in the trace: no "0" reply between the failed
#     call and the next syncfs), nothing of theirs is left (garbage=0);
#     the daemon serves the next K clients (all 0) and exits 0 at its
#     stop.
#  D3 the client side (common/q_qq.c through qmail-inject): kill -9 at
#     each syscall of the daemon with one qmail-inject as the client:
#     qmail-inject exits 0 only when its message is queued (l/c match),
#     otherwise 111 "qq crashed" or another temporary code, never 100.
# QD_STEP=N runs every Nth kill point of D1/D3 (default: every one on the
# plain build, about a minute on tmpfs, 22 + 76 + 22 kill points; every
# third with the sanitizer build, about 80 s). D2 always runs whole.
# Skips without strace. TAP on stdout; BUILD=build|build-san picks the binaries.

. "$(dirname "$0")/../lib/common.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QD=$B/hub/qmail-queued
INJ=$B/leaf/qmail-inject
MKQ=$SRCDIR/hub/queue/mkqueue.sh
CLI=$SRCDIR/tests/lib/qqdclient.py
# the queue on tmpfs when there is one (syncfs there costs nothing; the
# faults are injected, a kill -9 keeps the kernel's state either way)
if [ -d /dev/shm ] && [ -w /dev/shm ] && SHM=$(mktemp -d /dev/shm/queued.XXXXXX 2>/dev/null); then
  trap 'cleanup; rm -rf "$SHM"' EXIT
  H=$SHM/home
else
  H=$T/home
fi
Q=$H/queue
SOCK=$H/qq/socket
export QMAILHOME=$H ASAN_OPTIONS=detect_leaks=0
case $BUILD in *-san) STEP=${QD_STEP:-3} ;; *) STEP=${QD_STEP:-1} ;; esac
[ -x "$QD" ] || { echo "Bail out! $QD is not built"; exit 1; }
command -v strace > /dev/null || { echo "1..0 # skip no strace"; exit 0; }
sh "$MKQ" -s "$H" > /dev/null || { echo "Bail out! mkqueue.sh failed"; exit 1; }
mkdir -p "$H/control" "$H/bin"
echo queued.example.org > "$H/control/me"
head -c 71680 /dev/urandom | base64 -w 76 | head -c 71680 > "$T/msg"
mkfifo "$T/ctl"

# qd_start PREFIX...: qmail-queued under PREFIX (strace ...), its fd 0 the
# read end of $T/ctl (fd 8 here: closing it stops the daemon); qp its pid
qp=""
qd_start() {
  local i
  rm -f "$SOCK"
  # (a subshell, so that a kill's "Killed" notice goes to qd.err too)
  ( "$@" "$QD"; exit $? ) < "$T/ctl" 2>> "$T/qd.err" & qp=$!
  exec 8> "$T/ctl"
  for i in $(seq 200); do [ -S "$SOCK" ] && return 0; kill -0 "$qp" 2>/dev/null || break; sleep 0.05; done
  return 1
}
# qd_stop: EOF on fd 0, then at most 30 s for the daemon to end; qrc its exit
qd_stop() {
  local i
  exec 8>&-
  for i in $(seq 300); do kill -0 "$qp" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$qp" 2>/dev/null && { echo "# daemon $qp did not stop: killed"; kill -9 "$qp"; }
  wait "$qp" 2>/dev/null; qrc=$?
}
# round K: K clients at once (envelopes $T/env.R.I), replies into $r (one
# per client, "none" when there was none) and the ledger; run number R
R=0
round() {
  R=$((R + 1))
  r=$(timeout 60 python3 "$CLI" "$SOCK" "$1" "$T/msg" "$T/env.$R" 2>/dev/null | tr '\n' ' ')
  local i=0 x
  for x in $r; do
    i=$((i + 1))
    if [ "$x" = 0 ]; then echo "acked 1 $T/env.$R.$i $T/msg"; else echo "unacked 1 $T/env.$R.$i $T/msg"; fi >> "$T/ledger"
  done
}
# verdict: qledger's view of the queue ("last=.. in=K garbage=G" + BAD lines)
verdict() { python3 "$SRCDIR/tests/lib/qledger.py" "$Q" "$T/ledger" | tr '\n' ' '; }
# fresh: an empty queue and ledger for the next run
fresh() { find "$Q/pid" "$Q/mess" "$Q/intd" "$Q/todo" -type f -delete; : > "$T/ledger"; }
diag() { echo "# $*"; }
acks() { local n=0 x; for x in $r; do [ "$x" = 0 ] && n=$((n + 1)); done; echo "$n"; }

# ---- reference traces ----------------------------------------------------------
for K in 1 4; do
  fresh
  qd_start strace -o "$T/ref$K" || { echo "Bail out! qmail-queued did not start under strace"; exit 1; }
  round "$K"
  qd_stop
  v=$(verdict)
  is "$r/$v/$qrc" "$(printf '0 %.0s' $(seq $K))/last=in in=$K garbage=0 /0" \
     "K=$K reference run under strace: every client gets 0, all queued whole with l/c, exit 0 at EOF"
  diag "K=$K: $(grep -c '^syncfs(' "$T/ref$K") batch(es), $(grep -c '^write(' "$T/ref$K") writes, $(grep -c '^link(' "$T/ref$K") links"
done

# cases TRACE: "line name ordinal" for each syscall from the first accept4
# to the last reply (sendto), ordinals counted from the process start
cases() {
  local last
  last=$(grep -n '^sendto(' "$1" | tail -1 | cut -d: -f1)
  awk -v last="$last" '{ n = $1; sub(/\(.*/, "", n) }
       n ~ /^[a-z0-9_]+$/ { c[n]++; if (n == "accept4") on = 1; if (on && NR <= last) print NR, n, c[n] }' "$1"
}

# ---- D1: kill -9 at every syscall ----------------------------------------------
for K in 1 4; do
  cases "$T/ref$K" > "$T/cases$K"
  ncases=$(wc -l < "$T/cases$K")
  ok "$([ "$ncases" -ge 10 ]; echo $?)" "D1 K=$K: $ncases syscalls from accept to the last reply"
  echo "# D1 K=$K cases (every $STEP): $(awk '{printf "%s#%s ", $2, $3}' "$T/cases$K")"
  fails=0 runs=0 killed=0 i=0
  while read -r line name ord; do
    i=$((i + 1)); [ $(( (i - 1) % STEP )) = 0 ] || continue
    runs=$((runs + 1)); fresh
    qd_start strace -o /dev/null -e inject="$name":signal=SIGKILL:when="$ord" ||
      { fails=$((fails + 1)); echo "# kill at $name #$ord: no socket"; qd_stop; continue; }
    round "$K"
    qd_stop
    [ "$qrc" != 0 ] && killed=$((killed + 1))
    v=$(verdict)
    bad=""
    for x in $r; do case $x in 0|none) ;; *) bad="reply $x" ;; esac; done
    [ "$(echo $r | wc -w)" = "$K" ] || bad="$bad replies '$r'"
    [ "$v" != "${v#*BAD}" ] && bad="$bad queue: $v"
    # what the daemon leaves behind may only be unacked: in >= acked
    if [ -n "$bad" ]; then fails=$((fails + 1)); echo "# kill at $name #$ord (line $line): replies $r; $bad"; fi
  done < "$T/cases$K"
  is "$fails" 0 "D1 K=$K: kill -9 at $runs of $ncases syscalls ($killed runs killed): every acked message queued whole, every todo/ entry a whole message whose l/c match, replies only 0 or none"
done

# ---- D2: injected errors --------------------------------------------------------
# inj K SPEC WANT NAME: round 1 with SPEC injected (its clients get 0 or
# WANT, at least one WANT; garbage=0; acked ones queued), round 2 all 0
# on the same daemon, exit 0 at EOF; for a flush, no 0 sent after the
# failed call before the next syncfs
inj() {
  local K=$1 spec=$2 want=$3 name=$4 x n0 nw=0 bad="" v
  fresh
  qd_start strace -o "$T/inj" -e trace=syncfs,fdatasync,sendto,write,link,openat,unlink -e inject="$spec" ||
    { ok 1 "$name: daemon did not start"; qd_stop; return; }
  round "$K"
  for x in $r; do case $x in 0) ;; "$want") nw=$((nw + 1)) ;; *) bad="$bad reply $x" ;; esac; done
  n0=$(acks)
  v=$(verdict)
  [ "$nw" -ge 1 ] || bad="$bad no client got $want"
  [ "${v#last=* in=$n0 garbage=0 }" = "" ] || bad="$bad queue: $v"
  case $spec in sync*|fdatasync*)
    awk '/INJECTED/ { on = 1; next } on && /^syncfs\(/ { exit } on && /^sendto\(.*"1:0,"/ { print "a 0 after the failed flush"; exit }' "$T/inj" > "$T/after"
    [ -s "$T/after" ] && bad="$bad $(cat "$T/after")" ;;
  esac
  round "$K"
  [ "$(acks)" = "$K" ] || bad="$bad second round: $r"
  qd_stop
  [ "$qrc" = 0 ] || bad="$bad exit $qrc"
  v=$(verdict)
  [ "$v" = "last=in in=$((n0 + K)) garbage=0 " ] || bad="$bad after round 2: $v"
  is "${bad:-fine}" fine "$name (K=$K: $nw got $want, $n0 got 0)"
}
for K in 1 4; do
  for e in EIO ENOSPC; do
    inj $K "syncfs:error=$e:when=1" 53 "D2: syncfs fails with $e: the batch gets 53 and is undone; the daemon serves on"
    inj $K "fdatasync:error=$e:when=1" 53 "D2: fdatasync of lock/barrier fails with $e: the batch gets 53 and is undone; the daemon serves on"
  done
done
# the writes of one client (K=1 reference, fds mapped to files), numbered
# from the process start (as strace's when= counts) but listed from the
# first accept4 on (the start-up log line is not the client's)
awk '/^accept4\(/ { on = 1 }
     /^openat\(/ { p = $0; sub(/^[^"]*"/, "", p); sub(/".*/, "", p)
                   if (match($0, /\) = [0-9]+$/)) fd[substr($0, RSTART + 4)] = p }
     /^write\(/ { n++; f = $0; sub(/^write\(/, "", f); sub(/,.*/, "", f); p = fd[f]
                  if (p ~ /^pid\//) p = "mess"; else if (p ~ /^intd\//) p = "intd"; else if (p == "") p = "fd" f
                  if (on) print n, p }' "$T/ref1" > "$T/writes"
like "$(awk '{ print $2 }' "$T/writes" | tr '\n' ' ')" "^mess mess( mess)* intd $" \
   "K=1: the daemon's writes go into the message (mess/, several) and then the envelope (intd/, one)"
while read -r w file; do
  inj 1 "write:error=ENOSPC:when=$w" 53 "D2: write #$w ($file) fails with ENOSPC: 53, nothing left"
done < "$T/writes"
inj 1 "write:error=EIO:when=$(awk '$2 == "mess" { print $1; exit }' "$T/writes")" 53 "D2: the first write into mess/ fails with EIO: 53"
inj 1 "write:error=EIO:when=$(awk '$2 == "intd" { print $1; exit }' "$T/writes")" 53 "D2: the write into intd/ fails with EIO: 53"
w0=$(awk '/^accept4\(/ { exit } /^write\(/ { n++ } END { print n + 1 }' "$T/ref4")
for w in $(seq "$w0" 3 "$(grep -c '^write(' "$T/ref4")"); do
  inj 4 "write:error=ENOSPC:when=$w" 53 "D2: write #$w of four clients fails with ENOSPC: that client 53, the others 0"
done
inj 1 "link:error=ENOSPC:when=1" 53 "D2: the mess/ link fails with ENOSPC: 53"
inj 1 "link:error=EIO:when=1" 64 "D2: the mess/ link fails with EIO: 64"
inj 1 "link:error=ENOSPC:when=2" 53 "D2: the todo/ link fails with ENOSPC: 53"
inj 1 "link:error=EIO:when=2" 66 "D2: the todo/ link fails with EIO: 66"
inj 4 "link:error=ENOSPC:when=6" 53 "D2: a todo/ or mess/ link of four clients fails with ENOSPC: 53"
po=$(awk '/^openat\(/ {n++} /^openat\(AT_FDCWD, "pid\// {print n; exit}' "$T/ref1")
io=$(awk '/^openat\(/ {n++} /^openat\(AT_FDCWD, "intd\// {print n; exit}' "$T/ref1")
inj 1 "openat:error=ENOSPC:when=$po" 53 "D2: creating the pid/ file fails with ENOSPC: 53"
inj 1 "openat:error=EIO:when=$po" 63 "D2: creating the pid/ file fails with EIO: 63"
inj 1 "openat:error=ENOSPC:when=$io" 53 "D2: creating intd/ fails with ENOSPC: 53"
inj 1 "openat:error=EIO:when=$io" 65 "D2: creating intd/ fails with EIO: 65"
inj 1 "unlink:error=EIO:when=$(awk '/^unlink\(/ {n++} /^unlink\("pid\// {print n; exit}' "$T/ref1")" 63 "D2: unlinking the pid/ name fails: 63"

# ---- D3: the client side (q_qq through qmail-inject) -----------------------------
if [ ! -x "$INJ" ]; then
  ok 0 "# skip no qmail-inject"
else
  printf 'From: a@example.org\nTo: b@example.org\nSubject: d3\n\n' > "$T/imsg"
  cat "$T/msg" >> "$T/imsg"
  # lcok: 1 when every todo/ entry's l/c match its mess/, else 0
  lcok() {
    python3 - "$Q" "$SRCDIR/tests/lib" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[2])
from qledger import crc32c
q = sys.argv[1]; good = 1
for s in os.listdir(q + "/todo"):
    for n in os.listdir(f"{q}/todo/{s}"):
        env = open(f"{q}/todo/{s}/{n}", "rb").read().split(b"\0")
        it = {i[:1]: i[1:] for i in env if i[:1] in (b"l", b"c")}
        m = open(f"{q}/mess/{s}/{n}", "rb").read()
        if it.get(b"l") != str(len(m)).encode() or it.get(b"c") != b"%08x" % crc32c(m): good = 0
print(good)
EOF
  }
  ntodo() { find "$Q/todo" -type f | wc -l | tr -d ' '; }
  fresh
  qd_start strace -o "$T/refi" || { echo "Bail out! no daemon"; exit 1; }
  "$INJ" b@example.org < "$T/imsg" > "$T/inj.out" 2>&1; irc=$?
  qd_stop
  is "$irc/$(ntodo)/$(lcok)" "0/1/1" "D3 reference: qmail-inject through the daemon exits 0, its message queued with matching l/c"
  cases "$T/refi" > "$T/casesi"
  ncases=$(wc -l < "$T/casesi")
  ok "$([ "$ncases" -ge 10 ]; echo $?)" "D3: $ncases syscalls from accept to the reply"
  fails=0 runs=0 i=0 zero=0
  while read -r line name ord; do
    i=$((i + 1)); [ $(( (i - 1) % STEP )) = 0 ] || continue
    runs=$((runs + 1)); fresh
    qd_start strace -o /dev/null -e inject="$name":signal=SIGKILL:when="$ord" || { fails=$((fails + 1)); qd_stop; continue; }
    timeout 60 "$INJ" b@example.org < "$T/imsg" > "$T/inj.out" 2>&1; irc=$?
    qd_stop
    n=$(ntodo) l=$(lcok)
    case $irc in
      0) zero=$((zero + 1)); [ "$n/$l" = 1/1 ] || { fails=$((fails + 1)); echo "# kill at $name #$ord: exit 0 but todo=$n lc=$l"; } ;;
      111) [ "$l" = 1 ] || { fails=$((fails + 1)); echo "# kill at $name #$ord: l/c mismatch"; } ;;
      *) fails=$((fails + 1)); echo "# kill at $name #$ord: qmail-inject exit $irc: $(cat "$T/inj.out")" ;;
    esac
  done < "$T/casesi"
  is "$fails" 0 "D3: daemon killed at $runs of $ncases syscalls: qmail-inject exits 0 ($zero runs) only with its message queued, otherwise 111 (temporary)"
fi

done_testing
