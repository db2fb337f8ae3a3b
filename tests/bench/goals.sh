#!/bin/bash
# goals.sh: `make bench-goals` (never part of make check). Issue 14's goals
# table in ONE run, 2 KB messages, against Postfix 3.7 (the peer kit,
# ../shared/peers or /work/shared/peers) started in the same run. It runs
# the existing benchmarks, each with only the cases the table needs, and
# reads their reports (no second copy of their code):
#   accept.sh  acceptance, SMTP and QMQP, c=10 and c=1 (N messages each)
#   local.sh   end to end into a Maildir, SMTP and QMQP, c=10
#   remote.sh  case d: the dial-up flush of ND held messages, loopback and
#              50 ms RTT (LINK_RTT_MS, through tests/bench/delayproxy.py)
# then tests/bench/goalsreport.py prints the table
#   measure | ours | peer (which) | ratio | goal | met?
# and the figures behind every row.
#
# The rows and how each is measured:
#  * acceptance, msgs/s (c=10 goal >= 2x Postfix, c=1 >= 1.2x): Postfix's
#    smtp-source and qmqp-source as the clients of both servers, one message
#    per connection, C sessions at once; client start .. exit
#    (acceptdrive.py). The SMTP row's peer is Postfix's smtpd, the QMQP row's
#    Postfix's qmqpd. Acceptance alone: every service of ours runs as
#    installed (whatever the qmail-send service starts for the queue, such
#    as a queue daemon, is on the acceptance path), but the qmail-send
#    process, the scheduler, is stopped (SIGSTOP), as Postfix's qmgr is
#    (accept.sh's hold mode); without a qmail-send process to stop,
#    accept.sh measures both with delivery running (live) and says so.
#  * flushes per message (c=1 <= 1, c=10 <= 0.5), three ways:
#    - the figure: flush requests (bios with REQ_PREFLUSH) queued by the
#      hub's own processes and their children over each acceptance case,
#      divided by N, from a tracefs instance of the run (block_bio_queue
#      with set_event_pid on the hub's processes and event-fork). Exact and
#      not disturbed by other work; an fsync or syncfs on the journal-less
#      ext4 here queues its flush in the caller. It is an upper bound of
#      the device flushes: the block layer may merge concurrent requests.
#    - [dev X]: the block-layer flush count of the queue's disk
#      (/sys/block/DEV/stat, flush I/Os, field 16, index 15; the device
#      found by lib.sh's dev_of) over the case, divided by N, less the
#      flushes the machine made at its rate of the second before the case
#      (bg_flush_s): what the device saw, but machine-wide, so noisy when
#      other work runs.
#    - [fsync X]: fsync-family calls per message (strace -c over FSYNC_N
#      messages at c=1, accept.sh).
#  * end to end into Maildir, c=10 (goal >= 2x): client start .. the Nth
#    file in Maildir/new; ours through qmail-send's local delivery into
#    $H/alias/Maildir-bench, Postfix's local into ~mbox/Maildir.
#  * hub CPU per message (goal <= 0.5x): user+sys of every process of the
#    hub over the case divided by N (acceptance) or by the messages
#    delivered (end to end). Ours: qmailctl's services are started inside a
#    cgroup of the run (lib.sh hub_start) and its CPU counter is read
#    (cpuacct.usage on cgroup v1, cpu.stat on v2), which keeps the CPU of
#    exited processes and does not depend on program names, process groups
#    or sessions; Postfix: its master's tree moved into a cgroup of its own,
#    read the same way. Without cgroups: /proc/PID/stat of the qmailctl
#    process groups and of the master's tree, reaped children included.
#  * the dial-up flush (QMTP over one connection vs SMTP one connection per
#    message, loopback >= 5x, 50 ms RTT >= 10x): remote.sh case d, ND held
#    messages from hub A released by qmailctl flush to hub B, timed to the
#    NDth message in B's queue; B runs its services as installed, its
#    qmail-send with remote deliveries held (B_SEND=1: whatever the queue
#    needs, a queue daemon, group commit, runs; B_SEND=0: B's qmail-send is
#    not started, B only accepts, as remote.sh measured before); the peer
#    column is our own SMTP run (sessionsperhost 0), not Postfix.
#  * peak memory (goal <= 0.25x): the largest sum of RSS of the hub's
#    processes (the same cgroup) sampled every 0.2 s over the end-to-end
#    c=10 case; Postfix's likewise. PSS is in the figures.
#  * processes started per message: strace -f -e
#    execve,clone,clone3,vfork,fork over a 20 message c=1 run, attached to
#    every process of the server's service process group (acceptance) or
#    of the hub (end to end), new pids / 20; execve per message in the
#    figures. The goal for the acceptance path is none per message.
#
# Env: N (2000; QUICK=1: 200), ND (1000; QUICK=1: 200), LINK_RTT_MS
# ("0 50"), B_SEND (1), TIMEOUT (cap on each benchmark, 1800 s), PF_WAIT, PF_REUSE
# (as accept.sh), BUILD (build). Root on Debian 12, loopback only, random
# ports (remote.sh's smtp-sink is on the peer kit's 2526; Postfix on its
# 2525/6628). Every sub-benchmark stops what it started and removes its
# cgroups; an interrupt (INT, TERM) is passed on to the one running as a
# TERM (its own cleanup runs).
# Output: the table on stdout and in $BUILD/bench/goals.txt, the
# sub-reports in $BUILD/bench/goals/ (accept.txt, local.txt, remote.txt and
# their logs).
set -u

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) ||
  top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 111
BENCH=goals.sh
BUILD=${BUILD:-build}
if [ "${QUICK:-0}" = 1 ]; then : "${N:=200}" "${ND:=200}"; fi
N=${N:-2000}
ND=${ND:-1000}
LINK_RTT_MS=${LINK_RTT_MS:-"0 50"}
TIMEOUT=${TIMEOUT:-1800}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
OUTDIR=$top/$BUILD/bench
OUT=$OUTDIR/goals.txt
SUB=$OUTDIR/goals
. "$top/tests/bench/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root (the benchmarks install hub homes with the qmail users and run Postfix)"
command -v timeout > /dev/null || die "timeout (coreutils) is needed"
rm -rf "$SUB"; mkdir -p "$SUB" || die "cannot make $SUB"

sub_pid=''
cleanup() {
  trap - EXIT INT TERM
  # TERM, not INT: a benchmark started in the background (&) by a script
  # ignores SIGINT and could not trap it
  if [ -n "$sub_pid" ]; then kill -TERM "$sub_pid" 2>/dev/null; wait "$sub_pid" 2>/dev/null; fi
}
trap cleanup EXIT
trap 'echo "goals.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

# sub NAME ENV...: run tests/bench/NAME.sh with those settings, its report
# in $SUB/NAME.txt and its output in $SUB/NAME.log; bounded by TIMEOUT (a
# TERM first, which the benchmark traps to clean up, then a KILL a minute
# later)
sub() {
  local name=$1 rc; shift
  log "$name.sh $*  (log: $SUB/$name.log)"
  env BENCH_OUTDIR="$SUB" BUILD="$BUILD" "$@" \
    timeout -s TERM -k 60 "$TIMEOUT" bash "$top/tests/bench/$name.sh" > "$SUB/$name.log" 2>&1 &
  sub_pid=$!
  wait "$sub_pid"; rc=$?; sub_pid=''
  [ "$rc" = 0 ] || note "$name.sh exited $rc (end of $SUB/$name.log: $(tail -n 3 "$SUB/$name.log" | paste -sd'|' -))"
  grep '^  note: ' "$SUB/$name.log" | sed "s/^  note: /$name.sh: /" > "$SUB/$name.notes"
}

start=$(date +%s)
rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null)$( [ -n "$(git -C "$top" status --porcelain -uno 2>/dev/null)" ] && echo '+uncommitted')
head="# goals.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -n), $(nproc) CPUs, kernel $(uname -r); git $rev; N=$N SIZE=2048 ND=$ND LINK_RTT_MS=\"$LINK_RTT_MS\"; load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "$head"
sub accept N="$N" CONCS="10 1" PROTOS="smtp qmqp"
sub local N="$N" CONCS=10 PROTOS="smtp qmqp" DRAIN=0 SYSCALL_N=0 FSBENCH=0
sub remote CASES=d ND="$ND" LINK_RTT_MS="$LINK_RTT_MS" B_SEND="${B_SEND:-1}" TIMEOUT=300

{
  echo "$head"
  echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; elapsed $(( $(date +%s) - start )) s"
  echo
  "$PY" "$top/tests/bench/goalsreport.py" "$SUB"
  echo
  echo "notes:"
  cat "$SUB"/*.notes 2>/dev/null | sed 's/^/  - /'
  for n in "${NOTES[@]}"; do echo "  - $n"; done
  echo
  echo "sub-reports: $SUB/{accept,local,remote}.txt; method of each row: the header of tests/bench/goals.sh"
} > "$OUT"
cat "$OUT"
