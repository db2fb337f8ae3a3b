#!/bin/bash
# local.sh: `make bench-local` (never part of make check). Local delivery
# benchmark of the whole hub against Postfix, in one run:
#  1. end to end into a Maildir: N messages of SIZE bytes over QMQP and
#     SMTP at each concurrency in CONCS, to mbox@hub.test. Ours: tcpserver
#     -> qmail-{qmqp,smtp}d -> qmail-queue -> qmail-send -> qmail-lspawn ->
#     qmail-local into DIR/alias/Maildir-bench/ (users/assign sends mbox to
#     the alias home, alias/.qmail-mbox holds ./Maildir-bench/). Postfix
#     (the peer kit: postfix-peer-setup.sh + postfix-peer-start.sh, smtpd
#     127.0.0.1:2525, qmqpd :6628): smtpd/qmqpd -> cleanup -> qmgr -> local
#     into ~mbox/Maildir/. Messages/s from the client's start to the Nth
#     file in Maildir/new; acceptance rate (client start .. its exit).
#  2. the local-delivery drain of N held messages: Postfix's as the peer
#     kit's load.sh DRAIN=1 does (Subject peer-hold puts them on hold;
#     postsuper -H ALL; postqueue -f); ours: the qmail-send service alone
#     is stopped (its process group, as qmailctl does), the N messages are
#     injected and wait in queue/todo, then `qmailctl start` starts
#     qmail-send again; timed from the release to the Nth file in new/.
#  3. processes created per delivered message (strace -f of a PROC_N
#     message run across every process of the hub: ours, every process in
#     the qmailctl process groups; Postfix, the master's tree), and a
#     strace -c -f syscall summary of a SYSCALL_N message QMQP run of each.
# Clients: Postfix's smtp-source / qmqp-source for both, same binary and
# arguments (tests/bench/acceptdrive.py, shared with accept.sh, runs them
# and takes the CPU figures):
#   server CPU  = machine busy CPU (/proc/stat deltas) - client CPU (rusage)
#                 - driver CPU, per DELIVERED message, over the whole run
#   hub-tree    = CPU of the hub's own processes (/proc/PID/stat, reaped
#                 children included), a cross-check immune to other work
#   peak PSS    = the same processes, sampled every 0.2 s
# Env: N (2000; QUICK=1 makes it 200), SIZE (2048), CONCS ("1 10"), PROTOS
# ("qmqp smtp"), DRAIN (1: run case 2), PROC_N (20), SYSCALL_N (100; 0 skips),
# FSBENCH (1: the disk's durable-commit ceiling from the peer kit's
# fsbench.sh, 2 s per case), TIMEOUT (600 s per case), PF_WAIT (600),
# PF_REUSE, BUILD (build). A Postfix already running is someone else's: the
# run waits up to PF_WAIT s for it to stop (as accept.sh); PF_REUSE=1 uses
# it (and deletes the files in its Maildir/new).
# Output: summary on stdout and in $BUILD/bench/local.txt. Root on Debian
# 12, loopback only. Stops what it started (our hub, Postfix, strace, the
# driver) and removes its temp home, at the end and on interruption.
set -u

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) ||
  top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 111
BENCH=local.sh
BUILD=${BUILD:-build}
if [ "${QUICK:-0}" = 1 ]; then : "${N:=200}"; : "${SYSCALL_N:=50}"; fi
N=${N:-2000}
SIZE=${SIZE:-2048}
CONCS=${CONCS:-"1 10"}
PROTOS=${PROTOS:-"qmqp smtp"}
DRAIN=${DRAIN:-1}
PROC_N=${PROC_N:-20}
SYSCALL_N=${SYSCALL_N:-100}
FSBENCH=${FSBENCH:-1}
TIMEOUT=${TIMEOUT:-600}
PF_WAIT=${PF_WAIT:-600}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
DRIVE=$top/tests/bench/acceptdrive.py
OUTDIR=${BENCH_OUTDIR:-$top/$BUILD/bench}
OUT=$OUTDIR/local.txt
. "$top/tests/bench/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root (the hub home gets the qmail users, Postfix needs root)"
for p in qmail-queue qmail-smtpd qmail-qmqpd qmail-start qmail-send qmail-lspawn qmail-local qmail-clean qmail-newu; do
  [ -x "$BUILD/hub/$p" ] || die "$BUILD/hub/$p is not built (make all)"
done
command -v strace > /dev/null || die "strace is needed (apt-get install strace)"
mkdir -p "$OUTDIR"
find_peers

tmp=$(mktemp -d /tmp/bench-local.XXXXXX) || exit 111
chmod 755 "$tmp"
H=$tmp/home
RESULTS=$tmp/results
: > "$RESULTS"
anchors_made=0

# ---- cleanup: only what this run started ---------------------------------
strace_pid='' pf_held=0
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$bg_pid" ]; then kill -TERM "$bg_pid" 2>/dev/null; wait "$bg_pid" 2>/dev/null; fi
  if [ -n "$strace_pid" ]; then kill -INT "$strace_pid" 2>/dev/null; wait "$strace_pid" 2>/dev/null; fi
  if [ "$hub_up" = 1 ]; then "$H/bin/qmailctl" stop > /dev/null; fi
  if [ "$pf_held" = 1 ]; then postsuper -d ALL hold > /dev/null 2>&1; fi
  if [ "$have_pf" = 1 ]; then find "$MAILDIR/new" -type f -delete 2>/dev/null; fi
  if [ "$pf_started" = 1 ]; then bash "$PEERS/postfix-peer-stop.sh" > /dev/null; fi
  [ "$anchors_made" = 1 ] && rm -rf /tmp/perf-anchors
  cg_release
  tracefs_umount
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "local.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

# ---- our hub ---------------------------------------------------------------
log "installing a hub home in $H"
hub_install
# mbox@hub.test -> the alias home's .qmail-mbox -> ./Maildir-bench/ (MD)
hub_maildir
# every process of the hub in a cgroup of its own (when one can be made)
cg_make HUB_CG hub
log "hub home: smtpd 127.0.0.1:$OUR_SMTP, qmqpd 127.0.0.1:$OUR_QMQP, mbox@hub.test -> $MD"
mess_count() { find "$H/queue/mess" -type f | wc -l; }
todo_count() { find "$H/queue/todo" -type f | wc -l; }
ours_idle() {  # wait until the queue is empty, clear the Maildir
  local i; for i in $(seq 1200); do [ "$(mess_count)" = 0 ] && break; sleep 0.1; done
  [ "$(mess_count)" = 0 ] || note "ours: $(mess_count) messages still queued before a case"
  find "$MD/new" -type f -delete
}
send_stop() {  # stop the qmail-send service alone (its process group)
  local pg i; pg=$(head -n 1 "$H/service/qmail-send/qmailctl.pid")
  kill -TERM "-$pg" 2>/dev/null
  for i in $(seq 100); do ps -eo pgid=,stat= | awk -v g="$pg" '$1 == g && $2 !~ /^Z/ { n++ } END { exit n == 0 }' || break; sleep 0.1; done
  rm -f "$H/service/qmail-send/qmailctl.pid"
}

# ---- Postfix ---------------------------------------------------------------
pf_acquire
pf_cg
command -v smtp-source > /dev/null && command -v qmqp-source > /dev/null ||
  die "Postfix's smtp-source and qmqp-source are needed as clients (Debian package postfix; the peer kit installs it)"
pf_idle() {
  local i; for i in $(seq 1200); do [ "$(pf_queue_count)" = 0 ] && break; sleep 0.1; done
  [ "$(pf_queue_count)" = 0 ] || note "Postfix: $(pf_queue_count) messages still queued before a case"
  find "$MAILDIR/new" -type f -delete 2>/dev/null
}
pf_hold_count() { ls -f /var/spool/postfix/hold 2>/dev/null | grep -vc '^\.'; }
[ "$have_pf" = 1 ] && pf_log_off=$(stat -c %s "$PF_LOG" 2>/dev/null || echo 0)

port_of() {  # server proto
  if [ "$1" = ours ]; then [ "$2" = qmqp ] && echo "$OUR_QMQP" || echo "$OUR_SMTP"
  else [ "$2" = qmqp ] && echo "$QMQP_PORT" || echo "$SMTP_PORT"; fi
}
scope_of() { if [ "$1" = ours ]; then hub_scope; else pf_scope; fi; }
md_of() { if [ "$1" = ours ]; then echo "$MD"; else echo "$MAILDIR"; fi; }
idle() { if [ "$1" = ours ]; then ours_idle; else pf_idle; fi; }

check_line() {  # server what line
  case $3 in *" rc=0 "*) ;; *) note "$1 $2: client exit $(echo "$3" | sed 's/.* rc=\([^ ]*\).*/\1/'): $(echo "$3" | sed -n 's/.* err=\([^ ]*\).*/\1/p')" ;; esac
  case $3 in *" delivered=$N"|*" delivered=$N "*) ;; *) note "$1 $2: $(echo "$3" | sed -n 's/.* delivered=\([0-9]*\).*/\1/p') of $N messages delivered within $TIMEOUT s" ;; esac
}

# ---- case 1: end to end ----------------------------------------------------
run_e2e() {  # server proto c
  local server=$1 proto=$2 c=$3 port scope md line w
  w=$(( c < 10 ? c : 10 ))
  port=$(port_of "$server" "$proto") scope=$(scope_of "$server") md=$(md_of "$server")
  idle "$server"
  # warm-up (processes started, binaries and control files cached)
  "$PY" "$DRIVE" case --proto "$proto" --port "$port" --n 20 --c "$w" --size "$SIZE" \
    --scope none: --timeout 60 --maildir "$md" > /dev/null
  idle "$server"
  bgrun "$tmp/line" "$PY" "$DRIVE" case --proto "$proto" --port "$port" --n "$N" --c "$c" --size "$SIZE" \
    --scope "$scope" --devs "$DEVS" --flushtrace "$TRACEFS" --timeout "$TIMEOUT" --bg 1 --label "$server" --maildir "$md" \
    --errfile "$tmp/err.$server.$proto.$c"
  line=$(cat "$tmp/line")
  echo "$line" >> "$RESULTS"
  echo "  $line"
  check_line "$server" "$proto c=$c" "$line"
}

# ---- case 2: drain of N held messages ----------------------------------------
run_drain() {  # server
  local server=$1 line inj i release held
  idle "$server"
  if [ "$server" = ours ]; then
    send_stop
    held=todo_count release="${HUB_CG:+echo \$\$ > $HUB_CG/cgroup.procs; }exec $H/bin/qmailctl start"
  else
    pf_held=1 held=pf_hold_count release="postsuper -H ALL 2>/dev/null; postqueue -f"
  fi
  bgrun "$tmp/inj" "$PY" "$DRIVE" case --proto smtp --port "$(port_of "$server" smtp)" --n "$N" --c 10 \
    --size "$SIZE" --subject peer-hold --scope none: --timeout "$TIMEOUT"
  inj=$(cat "$tmp/inj")
  for i in $(seq 600); do [ "$($held)" -ge "$N" ] && break; sleep 0.1; done
  [ "$($held)" = "$N" ] || note "$server drain: $($held) of $N messages held before the release ($inj)"
  bgrun "$tmp/line" "$PY" "$DRIVE" drain --maildir "$(md_of "$server")" --n "$N" --release "$release" \
    --scope "$(scope_of "$server")" --timeout "$TIMEOUT" --bg 1 --label "$server"
  pf_held=0
  line=$(cat "$tmp/line")
  echo "$line" >> "$RESULTS"
  echo "  $line"
  check_line "$server" drain "$line"
  if [ "$server" = ours ]; then
    for i in $(seq 100); do listening "$OUR_SMTP" && [ -s "$H/service/qmail-send/daemon.pid" ] && break; sleep 0.1; done
  fi
}

# ---- case 3: strace runs -------------------------------------------------------
strace_run() {  # server proto kind(procs|calls) n ; the result line goes to $tmp/sr
  local server=$1 proto=$2 kind=$3 n=$4 pids known out=$tmp/strace.$1.$2.$3 popts=() p
  idle "$server"
  if [ "$server" = ours ]; then pids=$(hub_pids); else pids=$(pf_pids); fi
  known=$(echo $pids | tr ' ' ,)
  for p in $pids; do popts+=(-p "$p"); done
  if [ "$kind" = procs ]; then
    strace -f -qq -e trace=execve,clone,clone3,vfork,fork -o "$out" "${popts[@]}" 2> /dev/null &
  else
    strace -f -qq -c -S time -o "$out" "${popts[@]}" 2> /dev/null &
  fi
  strace_pid=$!
  sleep 1
  "$PY" "$DRIVE" case --proto "$proto" --port "$(port_of "$server" "$proto")" --n "$n" --c 1 --size "$SIZE" \
    --scope none: --timeout "$TIMEOUT" --maildir "$(md_of "$server")" > "$out.case"
  sleep 0.5
  kill -INT "$strace_pid" 2> /dev/null; wait "$strace_pid" 2> /dev/null; strace_pid=''
  grep -q ' rc=0 ' "$out.case" && grep -q " delivered=$n\$" "$out.case" ||
    note "strace run $server $proto $kind: $(cat "$out.case")"
  if [ "$kind" = procs ]; then "$PY" "$DRIVE" proc-count "$out" "$known" > "$tmp/sr"
  else head -n 17 "$out" > "$tmp/sr"; fi
}

# block devices of both queues: flush requests over each end-to-end case
DEVS=$( { dev_of "$H/queue"; [ "$have_pf" = 1 ] && dev_of /var/spool/postfix; } | sort -u | paste -sd, -)
tracefs_mount

# ---- the run -----------------------------------------------------------------
start=$(date +%s)
servers="ours"; [ "$have_pf" = 1 ] && servers="ours postfix"
fsinfo="$(findmnt -no FSTYPE,SOURCE,OPTIONS -T "$H/queue" 2>/dev/null)"
{
  echo "# local.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -n), $(nproc) CPUs, kernel $(uname -r); git $(git -C "$top" describe --always --dirty 2>/dev/null)"
  echo "# N=$N SIZE=$SIZE concurrency: $CONCS protos: $PROTOS; clients smtp-source/qmqp-source (Postfix $(postconf -h mail_version 2>/dev/null || echo '?'))"
  echo "# ours: $H, qmail-send concurrencylocal $(cat "$H/control/concurrencylocal" 2>/dev/null || echo default), into $MD; queue fs: $fsinfo"
  if [ "$have_pf" = 1 ]; then
    echo "# Postfix: peer kit $PEERS, smtpd :$SMTP_PORT qmqpd :$QMQP_PORT, into $MAILDIR; spool fs: $(findmnt -no FSTYPE,SOURCE -T /var/spool/postfix)"
  else
    echo "# Postfix: not measured"
  fi
} > "$tmp/head"
cat "$tmp/head"
hub_start
for proto in $PROTOS; do
  for c in $CONCS; do
    for server in $servers; do
      log "end to end: $server $proto c=$c N=$N"
      run_e2e "$server" "$proto" "$c"
    done
  done
done
if [ "$DRAIN" = 1 ]; then
  for server in $servers; do
    log "drain: $server, $N held messages"
    run_drain "$server"
  done
fi

log "strace runs: processes over $PROC_N messages, syscalls over $SYSCALL_N"
: > "$tmp/procs"; : > "$tmp/calls"
for server in $servers; do
  for proto in $PROTOS; do
    strace_run "$server" "$proto" procs "$PROC_N"
    set -- $(cat "$tmp/sr")
    pr=${1#procs=} ex=${2#execs=}
    line=$(awk -v s="$server" -v pr="$proto" -v a="$pr" -v e="$ex" -v n="$PROC_N" \
      'BEGIN{printf "%-8s %-5s processes created per message %.2f, execve per message %.2f (%d and %d over %d messages)", s, pr, a/n, e/n, a, e, n}')
    echo "  $line"; echo "$line" >> "$tmp/procs"
  done
  if [ "$SYSCALL_N" -gt 0 ]; then
    strace_run "$server" qmqp calls "$SYSCALL_N"
    { echo "$server, QMQP c=1, $SYSCALL_N messages delivered (strace -c -f, whole hub, slowed by strace; top by time):"
      sed 's/^/  /' "$tmp/sr"; } >> "$tmp/calls"
  fi
done
hub_stop

fsline=''
if [ "$FSBENCH" = 1 ] && [ -n "$PEERS" ] && command -v gcc > /dev/null; then
  log "disk ceiling (peer kit fsbench.sh, 2 s per case, one run)"
  [ -d /tmp/perf-anchors ] || anchors_made=1
  bgrun "$tmp/fsbench" bash "$PEERS/fsbench.sh" "$tmp/fsdata" 2 1
  fsline=$(awk '/^MEDIAN (commit|commitdir) writers=(1|8) /{sub(/ \(runs.*/, ""); sub(/^MEDIAN /, ""); printf "%s%s", sep, $0; sep="; "}' "$tmp/fsbench")
  echo "  $fsline"
fi

# ---- logs over the run -------------------------------------------------------
lf=$H/log/qmail-send/current
if [ -f "$lf" ]; then
  fails=$(grep -c 'delivery [0-9]*: \(deferral\|failure\)' "$lf")
  [ "$fails" = 0 ] || note "qmail-send: $fails deferrals/failures, e.g. $(grep -m1 'delivery [0-9]*: \(deferral\|failure\)' "$lf" | cut -d' ' -f2-)"
fi
for s in qmail-smtpd qmail-qmqpd; do
  lf=$H/log/$s/current
  [ -f "$lf" ] || continue
  bad=$(grep -c ': end [0-9]* status [1-9]' "$lf")
  [ "$bad" = 0 ] || note "$s: $bad connections ended with a non-zero status, e.g. $(grep -m1 ': end [0-9]* status [1-9]' "$lf" | cut -d' ' -f2-)"
done
if [ "$have_pf" = 1 ] && [ -f "$PF_LOG" ]; then
  tail -c +$((pf_log_off + 1)) "$PF_LOG" > "$tmp/pf.log"
  pf_warn=$(grep -cE 'warning:|fatal:|panic:|status=(deferred|bounced)' "$tmp/pf.log")
  [ "$pf_warn" = 0 ] || note "Postfix warnings/deferrals: $pf_warn, e.g. $(grep -m1 -E 'warning:|fatal:|panic:|status=(deferred|bounced)' "$tmp/pf.log" | cut -d' ' -f5- | cut -c1-160)"
fi
bgmax=$(sed -n 's/.* bg_ms_s=\([0-9]*\).*/\1/p' "$RESULTS" | sort -n | tail -n 1)
if [ -n "$bgmax" ] && [ "$bgmax" -gt 50 ]; then
  note "other work was running on the machine (up to $bgmax ms CPU per second in the 1 s before a case): rates, machine and server CPU include its effect; hub-tree CPU does not"
fi

# ---- summary -------------------------------------------------------------------
{
  cat "$tmp/head"
  echo "# raw lines (secs: client start..exit; e2e_secs: ..Nth file in new/; drain secs: release..Nth file; *_ms: CPU over the run; bg_ms_s: machine load just before):"
  sed 's/^/#   /' "$RESULTS"
  echo
} > "$OUT"
echo
"$PY" "$DRIVE" report-local "$RESULTS" "$OUT"
{
  echo
  echo "e2e = client start .. the Nth file in Maildir/new; accept = client start .. its exit; drain = release .. the Nth file."
  echo "server CPU = machine busy CPU (/proc/stat) - client CPU (rusage) - driver CPU, per delivered message, over the whole run;"
  echo "hub-tree = CPU of the hub's own processes (/proc/PID/stat); peak PSS = the same processes, 0.2 s sampling."
  echo
  echo "processes per delivered message (strace -f -e execve,clone,clone3,vfork,fork, $PROC_N messages, c=1, whole hub):"
  cat "$tmp/procs"
  [ -n "$fsline" ] && { echo; echo "disk ceiling, durable 2 KB commits/s (peer kit fsbench.sh, 2 s, one run): $fsline"; }
  if [ -s "$tmp/calls" ]; then echo; cat "$tmp/calls"; fi
  if [ "${#NOTES[@]}" -gt 0 ]; then
    echo
    echo "notes:"
    for n in "${NOTES[@]}"; do echo "  - $n"; done
  fi
  echo
  echo "elapsed $(( $(date +%s) - start )) s"
} > "$tmp/tail"
cat "$tmp/tail"; cat "$tmp/tail" >> "$OUT"
echo "(written to $OUT)"
