#!/bin/bash
# accept.sh: `make bench-accept` (never part of make check). Acceptance
# benchmark of the hub's network servers against Postfix, in one run:
# qmail-smtpd and qmail-qmqpd (every service as installed, so whatever the
# qmail-send service starts for the queue runs too; mail stays in
# DIR/queue: the qmail-send process itself is stopped, OURS_MODE=hold)
# against Postfix's smtpd
# and qmqpd from the peer kit (../shared/peers or /work/shared/peers:
# postfix-peer-setup.sh + postfix-peer-start.sh, 127.0.0.1:2525 and :6628).
#
# Env: N messages per case (2000; QUICK=1 makes it 200), SIZE (2048 body
# bytes), CONCS ("1 10"), PROTOS ("smtp qmqp"), TIMEOUT (300 s per client
# run), FSYNC_N (messages of the strace run that counts flushes, 100),
# PF_MODE (hold: Postfix delivers nothing during a case; live: it delivers
# as it accepts, as the peer kit's load.sh measures), BUILD (build),
# OURS_MODE (hold: our qmail-send process, found by name in the qmail-send
# service's process group, is stopped (SIGSTOP) for the run, as Postfix's
# qmgr is; live: the hub delivers into a Maildir as it accepts, and Postfix
# too (PF_MODE=live); hold falls back to live, and says so, when there is
# no qmail-send process to stop), QUEUE_FS (empty: the hub's queue/ stays
# where the home is; ext4-journal or ext4-nojournal: queue/ is an ext4 of
# QUEUE_FS_MB (512) MB on a loop device of its own, made with or without a
# journal, so its flushes are counted alone on that device: devflush and
# the jbd2 commits are then exact, not machine-wide), NO_PEER (1: ours
# alone, no Postfix even when the peer kit is there).
# A Postfix already running was started by someone else (another benchmark):
# it is left alone; the run waits up to PF_WAIT (600) s for it to stop, then
# starts its own, or measures ours alone. PF_REUSE=1 uses it anyway (it then
# stops its qmgr and empties its incoming queue during the Postfix cases).
# Root on Debian 12; all traffic on 127.0.0.1.
#
# Clients: Postfix's own smtp-source and qmqp-source for BOTH servers (same
# binary, same arguments, so the client's cost is the same), one message
# per connection, -s C sessions in parallel. Each case is run by
# tests/bench/acceptdrive.py, which times the client from its start to its
# exit (its last reply read) and takes:
#   server CPU  = machine busy CPU (/proc/stat deltas over the run) minus the
#                 client's own CPU (wait4 rusage of the client) minus the
#                 driver's own CPU (its memory sampler); divided by N
#   machine CPU = the /proc/stat delta alone, divided by N
#   hub-tree    = CPU of the hub's own processes (ours: every process in
#                 the qmailctl process groups; Postfix: the master's tree)
#                 from /proc/PID/stat, a cross-check immune to other work
#                 running on the machine at the same time
#   peak PSS    = the same set of processes, sampled every 0.2 s
#   devflush    = block-layer flush requests (/sys/block/DEV/stat) over the
#                 run, divided by N: the device cache flushes actually sent
#                 to the disk (machine-wide)
# Flushes per message are also counted exactly, in a separate strace run of
# FSYNC_N messages (strace -f -c on every process of the hub but the
# stopped qmail-send, ours; on every Postfix process but the stopped qmgr): fsync + fdatasync + syncfs + sync calls; sync_file_range calls
# are traced too but reported apart (they start writeback, flush nothing).
# (The jbd2 commit counter in /proc/fs/jbd2/DEV/info is read when the queue
# filesystem has a journal; on a journal-less ext4 there is none.)
# Processes created per message (ours and Postfix): strace -f of a 20
# message run (new pids, execve calls), divided by 20.
# The hub's processes are every process of its cgroup (the services are
# started in a cgroup of the run when one can be made: its CPU counter keeps
# the CPU of exited processes), else of the qmailctl process groups; the
# same for Postfix (the master's tree moved into a cgroup of its own).
# Postfix, PF_MODE=hold: its qmgr is stopped (SIGSTOP) during each case, so
# nothing is delivered and acceptance is measured alone, as for ours; with
# qmgr stopped Postfix's inflow control would stall every message for
# in_flow_delay (1 s) for want of tokens, so in_flow_delay is set to 0 for
# the run (and restored). Ours keeps what it accepted (hold: the queue
# grows over the run, counted by qmail-qstat, whatever the queue's format;
# live: each case waits for the queue to empty); Postfix's incoming queue
# is emptied with postsuper -d.
# Output: summary on stdout and in $BUILD/bench/accept.txt.
# Stops what it started (our hub, Postfix, strace, the driver), restores
# in_flow_delay, removes its temp home, at the end and on interruption.
set -u

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) ||
  top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 111
BUILD=${BUILD:-build}
if [ "${QUICK:-0}" = 1 ]; then : "${N:=200}"; : "${FSYNC_N:=50}"; fi
N=${N:-2000}
SIZE=${SIZE:-2048}
CONCS=${CONCS:-"1 10"}
PROTOS=${PROTOS:-"smtp qmqp"}
TIMEOUT=${TIMEOUT:-300}
FSYNC_N=${FSYNC_N:-100}
PROC_N=20
PF_MODE=${PF_MODE:-hold}
PF_WAIT=${PF_WAIT:-600}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
DRIVE=$top/tests/bench/acceptdrive.py
OUTDIR=${BENCH_OUTDIR:-$top/$BUILD/bench}
OUT=$OUTDIR/accept.txt

BENCH=accept.sh
. "$top/tests/bench/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root (the hub home gets the qmail users and a setuid qmail-queue)"
for p in qmail-queue qmail-smtpd qmail-qmqpd; do
  [ -x "$BUILD/hub/$p" ] || die "$BUILD/hub/$p is not built (make all)"
done
mkdir -p "$OUTDIR"

find_peers
[ "${NO_PEER:-0}" = 1 ] && PEERS=''

tmp=$(mktemp -d /tmp/bench-accept.XXXXXX) || exit 111
chmod 755 "$tmp"
H=$tmp/home
RESULTS=$tmp/results
: > "$RESULTS"
# ---- cleanup: only what this run started ---------------------------------
ifd_changed=0 ifd_old='' qmgr_stopped='' send_stopped=''
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$bg_pid" ]; then kill -TERM "$bg_pid" 2>/dev/null; wait "$bg_pid" 2>/dev/null; fi
  if [ -n "$qmgr_stopped" ]; then  # interrupted inside a Postfix case
    postsuper -d ALL incoming > /dev/null 2>&1
    kill -CONT "$qmgr_stopped" 2>/dev/null
  fi
  [ -n "$send_stopped" ] && kill -CONT "$send_stopped" 2>/dev/null
  if [ "$hub_up" = 1 ]; then "$H/bin/qmailctl" stop > /dev/null; fi
  if [ "$ifd_changed" = 1 ]; then
    if [ -n "$ifd_old" ]; then postconf -e "in_flow_delay = $ifd_old"; else postconf -X in_flow_delay; fi
    [ "$pf_started" = 1 ] || postfix reload > /dev/null 2>&1
  fi
  if [ "$pf_started" = 1 ]; then
    bash "$PEERS/postfix-peer-stop.sh" > /dev/null
    [ "$PF_MODE" = live ] && find "$MAILDIR/new" -type f -delete 2>/dev/null
  fi
  cg_release
  tracefs_umount
  queue_fs_release
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "accept.sh: interrupted, cleaning up" >&2; exit 130' INT TERM
# ---- the queue on a loop device (QUEUE_FS) ---------------------------------
# queue_fs_make: $H/queue becomes the root of a new ext4 on a loop device
# (the files copied with owners and modes, lost+found removed); QLOOP names
# the device for queue_fs_release
QLOOP='' QFS_MNT=''
queue_fs_make() {
  local opt img=$tmp/queue.img
  case ${QUEUE_FS:-} in
    '') return 0 ;;
    ext4-journal) opt='' ;;
    ext4-nojournal) opt='-O ^has_journal' ;;
    *) die "QUEUE_FS=$QUEUE_FS: ext4-journal or ext4-nojournal" ;;
  esac
  truncate -s "${QUEUE_FS_MB:-512}M" "$img" && mkfs.ext4 -q -F $opt "$img" > "$tmp/mkfs.log" 2>&1 ||
    die "mkfs.ext4 $opt failed: $(cat "$tmp/mkfs.log")"
  QLOOP=$(losetup -f --show "$img") || die "no loop device"
  mkdir -p "$tmp/qfs"
  mount "$QLOOP" "$tmp/qfs" || die "cannot mount $QLOOP"
  QFS_MNT=$tmp/qfs
  rmdir "$tmp/qfs/lost+found"
  cp -a "$H/queue/." "$tmp/qfs/" && chown --reference="$H/queue" "$tmp/qfs" && chmod --reference="$H/queue" "$tmp/qfs" ||
    die "cannot copy the queue to $QLOOP"
  umount "$tmp/qfs" && QFS_MNT='' && mount "$QLOOP" "$H/queue" || die "cannot mount $QLOOP on $H/queue"
  QFS_MNT=$H/queue
  log "queue on $QLOOP ($QUEUE_FS, ${QUEUE_FS_MB:-512} MB)"
}
queue_fs_release() {
  local i
  if [ -n "$QFS_MNT" ]; then
    for i in $(seq 50); do umount "$QFS_MNT" 2> /dev/null && break; sleep 0.2; done
    QFS_MNT=''
  fi
  [ -n "$QLOOP" ] && losetup -d "$QLOOP"
  QLOOP=''
}

# ---- our hub ---------------------------------------------------------------
log "installing a hub home in $H"
hub_install
queue_fs_make
hub_maildir   # mbox@hub.test into $MD, for OURS_MODE=live
cg_make HUB_CG hub
OURS_MODE=${OURS_MODE:-hold}
log "hub home: smtpd 127.0.0.1:$OUR_SMTP, qmqpd 127.0.0.1:$OUR_QMQP"
# qstat_mess: messages in our queue, as qmail-qstat counts them
qstat_mess() { "$H/bin/qmail-qstat" 2>/dev/null | sed -n 's/^messages in queue: \([0-9]*\).*/\1/p'; }
qstat_todo() { "$H/bin/qmail-qstat" 2>/dev/null | sed -n 's/^messages in queue but not yet preprocessed: \([0-9]*\).*/\1/p'; }
hub_clean() {  # before a case: live, wait (60 s at most) for the queue to empty, clear the Maildir
  [ "$OURS_MODE" = live ] || return 0
  local i; for i in $(seq 600); do [ "$(qstat_mess)" = 0 ] && break; sleep 0.1; done
  [ "$(qstat_mess)" = 0 ] || note "ours: $(qstat_mess) messages still queued before a case"
  find "$MD/new" -type f -delete
}
ours_count() {  # hold: messages queued; live: messages delivered once the queue is empty
  if [ "$OURS_MODE" = live ]; then
    local i; for i in $(seq 1200); do [ "$(qstat_mess)" = 0 ] && break; sleep 0.1; done
    count_new "$MD"
  else qstat_mess; fi
}
count_new() { find "$1/new" -type f | wc -l; }
# every service runs as installed (the qmail-send service too: whatever it
# starts for the queue, a queue daemon, is part of the acceptance path);
# hold: qmail-send itself, the scheduler, is stopped (SIGSTOP) for the run,
# as Postfix's qmgr is, so nothing is delivered
hub_start
send_stopped=''
if [ "$OURS_MODE" = hold ]; then
  i=0; sp=''
  while [ -z "$sp" ] && [ "$i" -lt 50 ]; do
    sp=$(pgrep -g "$(head -n 1 "$H/service/qmail-send/qmailctl.pid" 2>/dev/null)" -x qmail-send | head -n 1)
    [ -n "$sp" ] || sleep 0.1; i=$((i + 1))
  done
  if [ -n "$sp" ] && kill -STOP "$sp"; then send_stopped=$sp
  else
    note "ours: no qmail-send process in the qmail-send service to stop: OURS_MODE=live, the hub delivers into $MD as it accepts, and so does Postfix (PF_MODE=live)"
    OURS_MODE=live
  fi
fi
[ "$OURS_MODE" = live ] && PF_MODE=live

# ---- Postfix ---------------------------------------------------------------
pf_acquire
pf_cg
command -v smtp-source > /dev/null && command -v qmqp-source > /dev/null ||
  die "Postfix's smtp-source and qmqp-source are needed as clients (Debian package postfix; the peer kit installs it)"

pf_count() { pf_queue_count; }
if [ "$have_pf" = 1 ]; then
  pf_log_off=$(stat -c %s "$PF_LOG" 2>/dev/null || echo 0)
  if [ "$PF_MODE" = hold ]; then
    ifd_old=$(postconf -nh in_flow_delay 2>/dev/null)
    postconf -e "in_flow_delay = 0s" && ifd_changed=1
    postfix reload > /dev/null 2>&1
    sleep 1
  fi
fi
pf_begin() {  # before a Postfix case: stop delivery (hold) or let the queue drain (live)
  if [ "$PF_MODE" = hold ]; then
    local q; q=$(pgrep -P "$(pf_master)" -x qmgr | head -n 1)
    [ -n "$q" ] && kill -STOP "$q" && qmgr_stopped=$q
  else
    local i; for i in $(seq 1200); do [ "$(pf_count)" = 0 ] && break; sleep 0.1; done
    find "$MAILDIR/new" -type f -delete 2>/dev/null
  fi
}
pf_end() {
  if [ "$PF_MODE" = hold ]; then
    postsuper -d ALL incoming > /dev/null 2>&1
    [ -n "$qmgr_stopped" ] && kill -CONT "$qmgr_stopped"
    qmgr_stopped=''
  else
    local i; for i in $(seq 1200); do [ "$(pf_count)" = 0 ] && break; sleep 0.1; done
  fi
}
pf_accepted() {  # messages Postfix holds (hold) or has taken (live) since pf_begin
  if [ "$PF_MODE" = hold ]; then pf_count
  else local i; for i in $(seq 1200); do [ "$(pf_count)" = 0 ] && break; sleep 0.1; done; count_dir "$MAILDIR/new"; fi
}
# ---- block devices of both queues, for the flush counter -------------------
DEVS=$( { dev_of "$H/queue"; [ "$have_pf" = 1 ] && dev_of /var/spool/postfix; } | sort -u | paste -sd, -)
QDEV=$(dev_of "$H/queue")
jbd2=$(ls -d "/proc/fs/jbd2/$QDEV-8" 2>/dev/null)
journal=$(cat "/sys/fs/ext4/$QDEV/journal_task" 2>/dev/null)
fsinfo="$(findmnt -no FSTYPE,SOURCE,OPTIONS -T "$H/queue" 2>/dev/null)"
if [ -z "$jbd2" ]; then
  note "no /proc/fs/jbd2 entry for the queue's filesystem ($fsinfo; ext4 journal task: ${journal:-?}): no journal commit counter to read, so flushes are counted as fsync-family syscalls (strace) and as device flush requests (block layer)"
fi
tracefs_mount
[ -n "$TRACEFS" ] || note "no tracefs: the flush requests of each server's own processes (flushbio) are not counted"
jbd2_commits() { [ -n "$jbd2" ] && awk '/transactions/ {print $1; exit}' "$jbd2/info"; }

# ---- one measured case -----------------------------------------------------
run_case() {  # server proto c
  local server=$1 proto=$2 c=$3 port scope base after line j0 j1 w
  w=$(( c < 10 ? c : 10 ))
  if [ "$server" = ours ]; then
    hub_clean
    [ "$proto" = qmqp ] && port=$OUR_QMQP || port=$OUR_SMTP
    scope=$(hub_scope)
  else
    pf_begin
    [ "$proto" = qmqp ] && port=$QMQP_PORT || port=$SMTP_PORT
    scope=$(pf_scope)
  fi
  # warm-up (processes started, binaries and control files cached)
  "$PY" "$DRIVE" case --proto "$proto" --port "$port" --n 20 --c "$w" --size "$SIZE" \
    --scope "$scope" --timeout 60 > /dev/null
  [ "$server" = postfix ] && [ "$PF_MODE" = live ] && pf_begin
  [ "$server" = ours ] && hub_clean
  if [ "$server" = ours ]; then base=$(ours_count); else base=$( [ "$PF_MODE" = hold ] && pf_count || count_dir "$MAILDIR/new"); fi
  j0=$(jbd2_commits)
  bgrun "$tmp/line" "$PY" "$DRIVE" case --proto "$proto" --port "$port" --n "$N" --c "$c" --size "$SIZE" \
    --scope "$scope" --devs "$DEVS" --flushtrace "$TRACEFS" --timeout "$TIMEOUT" --bg 1 --label "$server" \
    --errfile "$tmp/err.$server.$proto.$c"
  line=$(cat "$tmp/line")
  j1=$(jbd2_commits)
  if [ "$server" = ours ]; then
    after=$(ours_count)
    [ "$OURS_MODE" = live ] || [ "$(qstat_todo)" = "$after" ] || note "ours $proto c=$c: qmail-qstat: $after messages queued but $(qstat_todo) not yet preprocessed"
  else
    after=$(pf_accepted)
  fi
  line="$line accepted=$((after - base))${j0:+ jbd2_commits=$((j1 - j0))}"
  echo "$line" >> "$RESULTS"
  echo "  $line"
  case $line in *" rc=0 "*) ;; *) note "$server $proto c=$c: client exit $(echo "$line" | sed 's/.* rc=\([^ ]*\).*/\1/'): $(head -n 3 "$tmp/err.$server.$proto.$c" | paste -sd'|' -)" ;; esac
  [ "$((after - base))" = "$N" ] || note "$server $proto c=$c: $((after - base)) of $N messages found queued after the run"
  [ "$server" = postfix ] && pf_end
  return 0
}

# ---- strace runs: flushes and processes per message ------------------------
strace_run() {  # server proto kind(fsync|procs) n ; the counter line goes to $tmp/sr
  local server=$1 proto=$2 kind=$3 n=$4 port pids known sp out=$tmp/strace.$1.$2.$3
  if [ "$server" = ours ]; then
    hub_clean
    [ "$proto" = qmqp ] && port=$OUR_QMQP || port=$OUR_SMTP
    pids=$(hub_pids | grep -vx "${send_stopped:-none}")
  else
    pf_begin
    [ "$proto" = qmqp ] && port=$QMQP_PORT || port=$SMTP_PORT
    pids=$(pf_pids "$qmgr_stopped")
  fi
  known=$(echo $pids | tr ' ' ,)
  local popts=(); for p in $pids; do popts+=(-p "$p"); done
  if [ "$kind" = fsync ]; then
    strace -f -qq -c -e trace=fsync,fdatasync,sync_file_range,syncfs,sync -o "$out" "${popts[@]}" 2> /dev/null &
  else
    strace -f -qq -e trace=execve,clone,clone3,vfork,fork -o "$out" "${popts[@]}" 2> /dev/null &
  fi
  sp=$!; bg_pid=$sp
  sleep 1
  "$PY" "$DRIVE" case --proto "$proto" --port "$port" --n "$n" --c 1 --size "$SIZE" \
    --scope none: --timeout "$TIMEOUT" > "$out.case"
  sleep 0.5
  kill -INT "$sp" 2> /dev/null; wait "$sp" 2> /dev/null; bg_pid=''
  grep -q ' rc=0 ' "$out.case" || note "strace run $server $proto $kind: client failed: $(cat "$out.case")"
  [ "$server" = postfix ] && pf_end
  if [ "$kind" = fsync ]; then "$PY" "$DRIVE" strace-count "$out" > "$tmp/sr"
  else "$PY" "$DRIVE" proc-count "$out" "$known" > "$tmp/sr"; fi
}

# ---- the run -----------------------------------------------------------------
start=$(date +%s)
servers="ours"; [ "$have_pf" = 1 ] && servers="ours postfix"
{
  echo "# accept.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -n), $(nproc) CPUs, kernel $(uname -r)"
  echo "# N=$N SIZE=$SIZE concurrency: $CONCS protos: $PROTOS; clients smtp-source/qmqp-source (Postfix $(postconf -h mail_version 2>/dev/null || echo '?'))"
  echo "# ours: $H (every service as installed), OURS_MODE=$OURS_MODE$( [ "$OURS_MODE" = live ] && echo ' (delivering into a Maildir while accepting)' || echo ' (qmail-send stopped: nothing delivered)'); measured by $( [ -n "${HUB_CG:-}" ] && echo "cgroup $HUB_CG" || echo "process groups"); queue fs: $fsinfo"
  if [ "$have_pf" = 1 ]; then
    echo "# Postfix: peer kit $PEERS, smtpd :$SMTP_PORT qmqpd :$QMQP_PORT, PF_MODE=$PF_MODE$( [ "$PF_MODE" = hold ] && echo ' (qmgr stopped during each case, in_flow_delay=0: acceptance only, nothing delivered)' || echo ' (delivering into Maildir while accepting, as load.sh)')"
  else
    echo "# Postfix: not measured"
  fi
} > "$tmp/head"
cat "$tmp/head"
for proto in $PROTOS; do
  for c in $CONCS; do
    for server in $servers; do
      log "$server $proto c=$c N=$N"
      run_case "$server" "$proto" "$c"
    done
  done
done

log "strace runs: flush calls over $FSYNC_N messages, processes over $PROC_N messages"
: > "$tmp/procs"
: > "$tmp/flushes"
for server in $servers; do
  for proto in $PROTOS; do
    strace_run "$server" "$proto" fsync "$FSYNC_N"
    calls=$(sed -n 's/^flush=\([0-9]*\).*/\1/p' "$tmp/sr")
    sfr=$(sed -n 's/.* sfr=\([0-9]*\).*/\1/p' "$tmp/sr")
    per=$(awk -v a="$calls" -v n="$FSYNC_N" 'BEGIN{printf "%.2f", a/n}')
    line=$(awk -v s="$server" -v pr="$proto" -v a="$calls" -v b="$sfr" -v n="$FSYNC_N" \
      'BEGIN{printf "%-8s %-5s fsync/fdatasync/syncfs/sync per message %.2f, sync_file_range (writeback start, no flush) per message %.2f (%d and %d over %d messages)", s, pr, a/n, b/n, a, b, n}')
    echo "  $line"; echo "$line" >> "$tmp/flushes"
    # attach the per-message figure to that server's result lines for this proto
    sed -i "/label=$server proto=$proto /s/\$/ fsync_per_msg=$per/" "$RESULTS"
    strace_run "$server" "$proto" procs "$PROC_N"
    set -- $(cat "$tmp/sr")
    pr=${1#procs=} ex=${2#execs=}
    line=$(awk -v s="$server" -v pr="$proto" -v a="$pr" -v e="$ex" -v n="$PROC_N" \
      'BEGIN{printf "%-8s %-5s processes created per message %.2f, execve per message %.2f (%d and %d over %d messages)", s, pr, a/n, e/n, a, e, n}')
    echo "  $line"; echo "$line" >> "$tmp/procs"
  done
done
[ -n "$send_stopped" ] && kill -CONT "$send_stopped" 2>/dev/null; send_stopped=''
hub_stop

# ---- logs over the run -------------------------------------------------------
for s in qmail-smtpd qmail-qmqpd; do
  lf=$H/log/$s/current
  [ -f "$lf" ] || continue
  bad=$(grep -c ': end [0-9]* status [1-9]' "$lf")
  deny=$(grep -cE ': deny [0-9]' "$lf")
  [ "$bad" = 0 ] || note "$s: $bad connections ended with a non-zero status, e.g. $(grep -m1 ': end [0-9]* status [1-9]' "$lf" | cut -d' ' -f2-)"
  [ "$deny" = 0 ] || note "$s: $deny connections denied by tcprules"
  other=$(grep -vE "$LISTENER_LOG" "$lf" | head -n 3 | cut -d' ' -f2- | paste -sd'|' -)
  [ -z "$other" ] || note "$s logged: $other"
done
if [ "$have_pf" = 1 ] && [ -f "$PF_LOG" ]; then
  tail -c +$((pf_log_off + 1)) "$PF_LOG" > "$tmp/pf.log"
  pf_rej=$(grep -cE 'reject:|NOQUEUE' "$tmp/pf.log")
  pf_warn=$(grep -cE 'warning:|fatal:|panic:' "$tmp/pf.log")
  [ "$pf_rej" = 0 ] || note "Postfix rejections: $pf_rej, e.g. $(grep -m1 -E 'reject:|NOQUEUE' "$tmp/pf.log" | cut -d' ' -f5-)"
  [ "$pf_warn" = 0 ] || note "Postfix warnings: $pf_warn, distinct: $(grep -E 'warning:|fatal:|panic:' "$tmp/pf.log" | sed 's/.*\(warning\|fatal\|panic\): //; s/[0-9A-F]\{8,\}/ID/g; s/[0-9]\+/N/g' | sort | uniq -c | sort -rn | head -3 | sed 's/^ *//' | paste -sd';' -)"
fi
bgmax=$(sed -n 's/.* bg_ms_s=\([0-9]*\).*/\1/p' "$RESULTS" | sort -n | tail -n 1)
if [ -n "$bgmax" ] && [ "$bgmax" -gt 50 ]; then
  note "other work was running on the machine (up to $bgmax ms CPU per second in the 1 s before a case): machine and server CPU include it; hub-tree CPU does not"
fi

# ---- summary -------------------------------------------------------------------
{
  cat "$tmp/head"
  echo "# raw case lines (secs: client start..exit; *_ms: CPU over the run; devflush: block-layer flushes; bg_ms_s: machine load just before):"
  sed 's/^/#   /' "$RESULTS"
  echo
} > "$OUT"
echo
"$PY" "$DRIVE" report "$RESULTS" "$OUT"
{
  echo
  echo "server CPU = machine busy CPU (/proc/stat) - client CPU (rusage) - driver CPU, per message; hub-tree = CPU of the hub's own"
  echo "processes (/proc/PID/stat); fsyncs = fsync+fdatasync+syncfs+sync calls per message (strace -f -c, separate run of $FSYNC_N"
  echo "messages, c=1; sync_file_range only starts writeback and is listed apart below);"
  echo "devflush = block-layer flush requests per message during the timed run (machine-wide); peak PSS = hub processes, 0.2 s sampling."
  echo
  echo "flush calls per accepted message (strace -f -c -e fsync,fdatasync,sync_file_range,syncfs,sync, $FSYNC_N messages, c=1):"
  cat "$tmp/flushes"
  echo
  echo "processes per accepted message (strace -f -e execve,clone,clone3,vfork,fork, $PROC_N messages, c=1; ours: every process of the hub but the stopped qmail-send, and their children):"
  cat "$tmp/procs"
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
