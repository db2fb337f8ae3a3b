#!/bin/bash
# leaf.sh: `make bench-leaf` (never part of make check). Measures our leaf
# (sendmail -> qmail-inject code -> QMQP client, one process per message)
# against nullmailer and against Postfix's qmqp-source, all sending to
# Postfix's qmqpd on 127.0.0.1:6628, which delivers to ~mbox/Maildir.
#
# Env: N (default 2000; QUICK=1 makes it 200), SIZE (body bytes, 2048),
# C (the parallel case, 10), TIMEOUT (seconds per phase of a case, 180),
# BUILD (build). Runs as root on Debian 12; everything stays on loopback.
# Peers come from ../shared/peers (or /work/shared/peers, or PEERS_DIR) and
# are used as they are; without them only our own figures are taken,
# against tests/lib/fakeserver.py (answers K; no delivery). The peers are
# shared (fixed ports, one Maildir): the run holds $PEER_WORK/bench.lock
# (flock) throughout, and a Postfix that was already running is used and
# left running; activity of other clients on it is reported in the notes.
#
# Cases, each on the same message file (From/To/Subject + SIZE bytes):
#   ours        $LEAF/bin/sendmail -f sender@leaf.test mbox@hub.test < msg
#   nullmailer  /opt/nullmailer/sbin/sendmail (same arguments), with
#               nullmailer-send running (its qmqp module -> 6628)
#   qmqp-source Postfix's load generator straight to 6628 (the raw rate)
# at concurrency 1 and C (C loops of N/C one after another). The driver
# (tests/bench/leafdrive.py) starts every client with posix_spawn, reaps it
# with wait4 and times: accept = start .. last client exit (= last K),
# end to end = start .. the files in Maildir/new (cleaned before each case).
# CPU: machine = /proc/stat busy delta over the case (includes Postfix and
# anything else running on the machine); client = user+sys of the client
# processes (for nullmailer also nullmailer-send and its qmqp modules);
# hub = Postfix's master and every daemon under it (from /proc).
# Process counts per message come from strace of one send. The "exec
# floor" is the same driver spawning /bin/true N times: the cost of one
# process per message, which ours cannot avoid and qmqp-source does not pay.
# Output: a summary table on stdout and in $BUILD/bench/leaf.txt.
# Stops what it started (Postfix, nullmailer-send, stand-in receiver) and
# removes the nullmailer files it placed, at the end and on interruption.
set -u

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) ||
  top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 111
BUILD=${BUILD:-build}
[ "${QUICK:-0}" = 1 ] && : "${N:=200}"
N=${N:-2000}
SIZE=${SIZE:-2048}
C=${C:-10}
TIMEOUT=${TIMEOUT:-180}
RCPT=mbox@hub.test
SENDER=sender@leaf.test
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
DRIVE=$top/tests/bench/leafdrive.py
OUTDIR=$top/$BUILD/bench
OUT=$OUTDIR/leaf.txt
mkdir -p "$OUTDIR"

PEERS=
for d in ${PEERS_DIR:-"$top/../shared/peers" /work/shared/peers}; do
  if [ -f "$d/postfix-peer-setup.sh" ] && [ -f "$d/peer-env.sh" ]; then PEERS=$(cd "$d" && pwd); break; fi
done

tmp=$(mktemp -d /tmp/bench-leaf.XXXXXX) || exit 111
chmod 755 "$tmp"
SUMMARY=$tmp/summary
: > "$SUMMARY"
NOTES=()
note() { NOTES+=("$*"); echo "  note: $*"; }
log() { echo "== $*"; }
say() { printf '%s\n' "$*" >> "$SUMMARY"; }

# ---- cleanup: only what this run started ---------------------------------
pf_started=0 nm_placed=0 nm_started=0 recv_pid='' drv_pid='' strace_pid=''
cleanup() {
  trap - EXIT INT TERM
  [ -n "$drv_pid" ] && kill -TERM "$drv_pid" 2>/dev/null && wait "$drv_pid" 2>/dev/null
  [ -n "$strace_pid" ] && kill -TERM "$strace_pid" 2>/dev/null && wait "$strace_pid" 2>/dev/null
  [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null && wait "$recv_pid" 2>/dev/null
  if [ "$nm_started" = 1 ]; then bash "$PEERS/nullmailer-ctl.sh" stop; fi
  if [ "$nm_placed" = 1 ]; then bash "$PEERS/nullmailer-setup.sh" remove; fi
  if [ "$pf_started" = 1 ]; then bash "$PEERS/postfix-peer-stop.sh"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "leaf.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

# ---- the message ---------------------------------------------------------
MSG=$tmp/msg
{ echo "From: $SENDER"; echo "To: $RCPT"; echo "Subject: leaf bench"; echo
  head -c "$SIZE" /dev/zero | tr '\0' 'x' | fold -w 76; echo; } > "$MSG"
chmod 644 "$MSG"

# ---- our leaf home -------------------------------------------------------
LEAF=$tmp/leaf
log "installing a leaf home in $LEAF"
if ! make -s install-leaf QMAILHOME="$LEAF" BUILD="$BUILD" > "$tmp/install.log" 2>&1; then
  # `make all` may fail while other programs are being written; the leaf
  # needs only these three, installed the same way install-leaf does it.
  if [ -x "$BUILD/leaf/sendmail" ] && [ -x "$BUILD/leaf/qmail-qmqpc" ]; then
    note "make install-leaf failed ($(grep -m1 -E 'Error|\*\*\*' "$tmp/install.log")); installed sendmail, qmail-inject, qmail-qmqpc with leaf/install-leaf.sh from $BUILD"
    sh leaf/install-leaf.sh "$LEAF" "$top/$BUILD" "${CC:-cc}" "-l:libowfat.a" \
      "sendmail qmail-inject qmail-qmqpc" "" >> "$tmp/install.log" 2>&1 ||
      { cat "$tmp/install.log"; echo "leaf.sh: cannot install a leaf home" >&2; exit 111; }
  else
    cat "$tmp/install.log"; echo "leaf.sh: cannot install a leaf home (build it first: make all)" >&2; exit 111
  fi
fi
for f in me defaultdomain plusdomain idhost; do echo leaf.test > "$LEAF/control/$f"; done
OURS=$LEAF/bin/sendmail
if readelf -d "$OURS" 2>/dev/null | grep -q NEEDED; then linkage=dynamic; else linkage=static; fi

# ---- peers ---------------------------------------------------------------
have_pf=0 have_nm=0
MAILDIR=
PORT=
if [ -n "$PEERS" ]; then
  . "$PEERS/peer-env.sh"
  PORT=$QMQP_PORT
  # one benchmark at a time on the shared peer (same ports, same Maildir):
  # other benchmarks that use the peer kit can take the same lock
  exec 9>> "$PEER_WORK/bench.lock"
  if ! flock -n 9; then
    log "waiting (at most ${LOCK_WAIT:-900} s) for $PEER_WORK/bench.lock: another benchmark is using the peers"
    flock -w "${LOCK_WAIT:-900}" 9 || { echo "leaf.sh: peers still busy (lock $PEER_WORK/bench.lock); try later" >&2; exit 75; }
  fi
  log "peers in $PEERS: setting up Postfix"
  if [ -s "$PF_PIDFILE" ] && kill -0 "$(tr -d ' ' < "$PF_PIDFILE")" 2>/dev/null; then
    note "Postfix was already running (pid $(tr -d ' ' < "$PF_PIDFILE")): used as it is and left running"
    have_pf=1
  elif bash "$PEERS/postfix-peer-setup.sh" > "$tmp/pf-setup.log" 2>&1; then
    tail -1 "$tmp/pf-setup.log"
    if bash "$PEERS/postfix-peer-start.sh" 9>&-; then pf_started=1 have_pf=1
    else note "postfix-peer-start.sh failed"; fi
  else
    cat "$tmp/pf-setup.log"; note "postfix-peer-setup.sh failed: no Postfix figures"
  fi
  if [ "$have_pf" = 1 ]; then
    TEST_HOME=$(getent passwd "$TEST_USER" | cut -d: -f6)
    MAILDIR=${TEST_HOME:-/home/$TEST_USER}/Maildir
    pf_log_off=$(stat -c %s "$PF_LOG" 2>/dev/null || echo 0)
    if [ -x /opt/nullmailer/sbin/sendmail ]; then
      note "nullmailer was already placed in /opt/nullmailer: used and left in place"
      have_nm=1
    else
      log "placing nullmailer beside Postfix"
      if bash "$PEERS/nullmailer-setup.sh" > "$tmp/nm-setup.log" 2>&1; then
        nm_placed=1 have_nm=1; tail -1 "$tmp/nm-setup.log"
      else
        cat "$tmp/nm-setup.log"; note "nullmailer-setup.sh failed: no nullmailer figures"
      fi
    fi
    NMLOG=$PEER_WORK/nullmailer-send.log
    nm_log_off=$(stat -c %s "$NMLOG" 2>/dev/null || echo 0)
  fi
else
  echo "peers are missing (no ../shared/peers or /work/shared/peers): measuring only our own figures"
fi
if [ "$have_pf" = 0 ]; then
  # our own figures only, against the tests' scripted QMQP server (answers
  # K, stores nothing: no end-to-end figure), bounded by --lifetime
  MAILDIR=
  if [ -f tests/lib/fakeserver.py ]; then
    "$PY" tests/lib/fakeserver.py K --lifetime $((TIMEOUT * 4 + 300)) > "$tmp/recv.log" 2> "$tmp/recv.err" &
    recv_pid=$!
    for _ in $(seq 100); do [ -s "$tmp/recv.log" ] && break; sleep 0.05; done
    PORT=$(head -n 1 "$tmp/recv.log")
  fi
  case ${PORT:-x} in *[!0-9]*) echo "leaf.sh: no Postfix and no tests/lib/fakeserver.py to receive: nothing to measure" >&2; exit 111 ;; esac
  note "no Postfix: our figures are against tests/lib/fakeserver.py K (pid $recv_pid, port $PORT; accept only, no delivery), not comparable with the peers' published figures"
fi
echo "127.0.0.1:$PORT" > "$LEAF/control/qmqpservers"
# the receiving server's root process: its tree's CPU is the "hub" column
if [ "$have_pf" = 1 ]; then SERVER=$(tr -d ' ' < "$PF_PIDFILE"); else SERVER=$recv_pid; fi
NEW=${MAILDIR:+$MAILDIR/new}
[ -z "$NEW" ] || mkdir -p "$NEW"

# ---- helpers -------------------------------------------------------------
count_new() { local n; [ -n "$NEW" ] || { echo 0; return; }; n=$(ls -f "$NEW" 2>/dev/null | wc -l); echo $(( n > 2 ? n - 2 : 0 )); }
clean_new() { [ -z "$NEW" ] || find "$NEW" -type f -delete 2>/dev/null; }
settle() {  # empty Maildir/new, let Postfix's queue (and nullmailer's) drain, bounded
  local i busy=0
  for i in $(seq 600); do
    busy=0
    if [ "$have_pf" = 1 ] && [ "$(pf_queue_count)" != 0 ]; then busy=1; fi
    if [ -d /var/spool/nullmailer/queue ] && [ -n "$(ls -A /var/spool/nullmailer/queue 2>/dev/null)" ]; then busy=1; fi
    [ "$busy" = 0 ] && break
    sleep 0.1
  done
  [ "$busy" = 1 ] && note "queues not empty before a case after 60 s"
  clean_new
  sleep 1
}
# st_count FILE: "execs forks" from an strace -f log (successful execve;
# clone/clone3/fork/vfork that make a process, not a thread)
st_count() {
  awk '/execve\(/ && !/= -1 /{e++}
       /(^|[ ])(clone|clone3|fork|vfork)\(/ && !/CLONE_THREAD/{f++}
       END{printf "%d %d\n", e, f}' "$1"
}
calc() { awk "BEGIN{ $1 }"; }
declare -A R
SENT=0

# run_case KEY C [driver options...] -- CMD...: one measured case
run_case() {
  local key=$1 c=$2 line kv
  shift 2
  settle
  log "case $key c=$c: N=$N"
  "$PY" "$DRIVE" --n "$N" --c "$c" --stdin "$MSG" --err "$tmp/err.$key.c$c" \
    --maildir "$MAILDIR" --timeout "$TIMEOUT" --server "$SERVER" "$@" > "$tmp/out.$key.c$c" &
  drv_pid=$!
  wait "$drv_pid"
  drv_pid=
  line=$(cat "$tmp/out.$key.c$c")
  echo "   $line"
  for kv in $line; do R[$key:$c:${kv%%=*}]=${kv#*=}; done
  R[$key:$c:done]=1
  SENT=$((SENT + ${R[$key:$c:ok]}))
  if [ -s "$tmp/err.$key.c$c" ]; then
    note "$key c=$c: exit codes ${R[$key:$c:rcs]}; stderr $(wc -l < "$tmp/err.$key.c$c") lines, most frequent: $(sort "$tmp/err.$key.c$c" | uniq -c | sort -rn | head -3 | sed 's/^ *//; s/^\([0-9]*\) /\1x "/; s/$/"/' | cut -c1-160 | paste -sd';' -)"
  fi
  if [ "${R[$key:$c:stopped]}" != - ]; then note "$key c=$c: stopped early (${R[$key:$c:stopped]})"; fi
  local want=$N
  [ "$key" != qmqp-source ] && want=${R[$key:$c:ok]}
  if [ -z "$MAILDIR" ]; then
    :
  elif [ "${R[$key:$c:delivered]}" -lt "$want" ]; then
    note "$key c=$c: only ${R[$key:$c:delivered]} of $want acknowledged messages in Maildir/new after ${TIMEOUT}s"
  elif [ "${R[$key:$c:delivered]}" -gt "$want" ]; then
    note "$key c=$c: ${R[$key:$c:delivered]} files in Maildir/new for $want acknowledged messages"
  fi
}

# background: CPU ms/s and forks/s on the idle machine over 2 s (other
# jobs running here count in the machine CPU of every case)
background() {
  local b0 b1 f0 f1 hz
  hz=$(getconf CLK_TCK)
  b0=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat); f0=$(awk '/^processes/{print $2}' /proc/stat)
  sleep 2
  b1=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat); f1=$(awk '/^processes/{print $2}' /proc/stat)
  calc "printf \"%.0f ms CPU/s, %.0f forks/s\", ($b1-$b0)*1000/$hz/2, ($f1-$f0)/2"
}
bg_before=$(background)

# exec floor: what spawning a one-exec program costs here (/bin/true is
# dynamically linked, as ours is unless built static); no delivery
log "exec floor: posix_spawn of /bin/true, N=$N, c=1"
"$PY" "$DRIVE" --n "$N" --c 1 -- /bin/true > "$tmp/out.floor" &
drv_pid=$!; wait "$drv_pid"; drv_pid=''
for kv in $(cat "$tmp/out.floor"); do R[floor:1:${kv%%=*}]=${kv#*=}; done
echo "   $(cat "$tmp/out.floor")"
floor_ms=$(calc "printf \"%.2f\", ${R[floor:1:client_ms]}/$N")
floor_mach=$(calc "printf \"%.2f\", ${R[floor:1:machine_cpu_ms]}/$N")
floor_rate=$(calc "printf \"%.0f\", $N/${R[floor:1:accept_s]}")

# ---- sanity: one message through ours ------------------------------------
settle
"$OURS" -f "$SENDER" "$RCPT" < "$MSG" > "$tmp/first.out" 2>&1
rc=$?
[ "$rc" = 0 ] && SENT=$((SENT + 1))
if [ "$rc" != 0 ]; then
  note "first send through our sendmail failed: exit $rc: $(cat "$tmp/first.out")"
fi

# ---- ours ----------------------------------------------------------------
run_case ours 1 -- "$OURS" -f "$SENDER" "$RCPT"
run_case ours "$C" -- "$OURS" -f "$SENDER" "$RCPT"

# ---- nullmailer ----------------------------------------------------------
if [ "$have_nm" = 1 ]; then
  settle
  if bash "$PEERS/nullmailer-ctl.sh" start 9>&-; then
    nm_started=1
    nmpid=$(cat "$PEER_WORK/nullmailer-send.pid")
    run_case nullmailer 1 --watch "$nmpid" -- /opt/nullmailer/sbin/sendmail -f "$SENDER" "$RCPT"
    run_case nullmailer "$C" --watch "$nmpid" -- /opt/nullmailer/sbin/sendmail -f "$SENDER" "$RCPT"
    # process counts: its sendmail, then the daemon side for one message
    settle
    strace -f -qq -e trace=execve,clone,clone3,fork,vfork -o "$tmp/strace.nm-send" -p "$nmpid" 2>/dev/null &
    strace_pid=$!
    sleep 1
    SENT=$((SENT + 1))
    strace -f -qq -e trace=execve,clone,clone3,fork,vfork -o "$tmp/strace.nm" \
      /opt/nullmailer/sbin/sendmail -f "$SENDER" "$RCPT" < "$MSG" 2>/dev/null
    for _ in $(seq 200); do [ "$(count_new)" -ge 1 ] && break; sleep 0.05; done
    sleep 1
    kill -TERM "$strace_pid" 2>/dev/null; wait "$strace_pid" 2>/dev/null; strace_pid=
    read -r nm_execs nm_forks < <(st_count "$tmp/strace.nm")
    read -r nmd_execs nmd_forks < <(st_count "$tmp/strace.nm-send")
    nm_chain=$(grep -o 'execve("[^"]*"' "$tmp/strace.nm" | sed 's/execve("//; s/"$//' | xargs -r -n1 basename | paste -sd' ' -)
    nmd_chain=$(grep -o 'execve("[^"]*"' "$tmp/strace.nm-send" | sed 's/execve("//; s/"$//' | xargs -r -n1 basename | paste -sd' ' -)
    bash "$PEERS/nullmailer-ctl.sh" stop >/dev/null && nm_started=0
  else
    note "nullmailer-send did not start: no nullmailer figures"; have_nm=0
  fi
fi

# ---- qmqp-source (the raw protocol rate) ---------------------------------
if [ "$have_pf" = 1 ] && command -v qmqp-source >/dev/null; then
  # as load.sh does it: -l includes the headers, so add ~300 bytes
  for c in 1 "$C"; do
    run_case qmqp-source "$c" --single -- "$(command -v qmqp-source)" -f "$SENDER" -t "$RCPT" \
      -M leaf.test -l $((SIZE + 300)) -m "$N" -s "$c" "127.0.0.1:$PORT"
  done
elif [ "$have_pf" = 1 ]; then
  note "qmqp-source not found: no raw protocol figures"
fi

# ---- process counts for ours ---------------------------------------------
settle
strace -f -qq -e trace=execve,clone,clone3,fork,vfork -o "$tmp/strace.ours" \
  "$OURS" -f "$SENDER" "$RCPT" < "$MSG"
ours_strace_rc=$?
[ "$ours_strace_rc" = 0 ] && SENT=$((SENT + 1))
bg_after=$(background)
read -r ours_execs ours_forks < <(st_count "$tmp/strace.ours")
ours_chain=$(grep -o 'execve("[^"]*"' "$tmp/strace.ours" | sed 's/execve("//; s/"$//' | xargs -r -n1 basename | paste -sd' ' -)

# ---- Postfix and nullmailer logs over the run ----------------------------
if [ "$have_pf" = 1 ] && [ -f "$PF_LOG" ]; then
  tail -c +$((pf_log_off + 1)) "$PF_LOG" > "$tmp/pf.log"
  pf_sent=$(grep -c 'status=sent' "$tmp/pf.log")
  [ "$pf_sent" -gt "$SENT" ] && note "Postfix delivered $((pf_sent - SENT)) more messages than this run sent ($SENT): another client used the peer during the run, so the figures may be disturbed"
  [ "$pf_sent" -lt "$SENT" ] && note "Postfix delivered $((SENT - pf_sent)) fewer messages than this run had acknowledged ($SENT)"
  # this run never uses SMTP, postsuper or reload: those lines are someone else's
  pf_foreign=$(grep -cE 'postfix/smtpd\[[0-9]+\]: connect from|postfix/postsuper|postfix-script.*refreshing' "$tmp/pf.log")
  [ "$pf_foreign" != 0 ] && note "someone else used this Postfix during the run (SMTP sessions, postsuper, reloads: $pf_foreign log lines, e.g. $(grep -E 'postfix/postsuper|postfix-script.*refreshing' "$tmp/pf.log" | head -2 | sed 's/^.*postfix/postfix/' | paste -sd';' -)): figures of this run are not trustworthy"
  pf_def=$(grep -c 'status=deferred' "$tmp/pf.log")
  pf_bounce=$(grep -c 'status=bounced' "$tmp/pf.log")
  pf_warn=$(grep -cE 'warning:|fatal:|panic:' "$tmp/pf.log")
  [ "$pf_def" != 0 ] && note "Postfix deferrals: $pf_def, e.g. $(grep -m1 'status=deferred' "$tmp/pf.log" | sed 's/.*status=deferred//')"
  [ "$pf_bounce" != 0 ] && note "Postfix bounces: $pf_bounce, e.g. $(grep -m1 'status=bounced' "$tmp/pf.log" | sed 's/.*status=bounced//')"
  [ "$pf_warn" != 0 ] && note "Postfix warnings: $pf_warn, distinct: $(grep -E 'warning:|fatal:|panic:' "$tmp/pf.log" | sed 's/.*\(warning\|fatal\|panic\): //; s/[0-9]\+/N/g' | sort | uniq -c | sort -rn | head -3 | sed 's/^ *//' | paste -sd';' -)"
  pf_q=$(pf_queue_count)
  [ "$pf_q" != 0 ] && note "Postfix queue not empty at the end: $pf_q files"
fi
if [ "$have_nm" = 1 ] && [ -f "${NMLOG:-}" ]; then
  nm_bad=$(tail -c +$((nm_log_off + 1)) "$NMLOG" | grep -ciE 'fail|error|temporar|permanent')
  [ "$nm_bad" != 0 ] && note "nullmailer-send log: $nm_bad failure lines, e.g. $(tail -c +$((nm_log_off + 1)) "$NMLOG" | grep -iE -m1 'fail|error|temporar|permanent')"
fi

# ---- summary -------------------------------------------------------------
rate_acc() { calc "a=${R[$1:$2:accept_s]}; printf \"%.0f\", (a>0 ? ${R[$1:$2:ok]}/a : 0)"; }
rate_e2e() { [ -n "$MAILDIR" ] || { echo n/a; return; }; calc "e=${R[$1:$2:e2e_s]}; printf \"%.0f\", (e>0 ? ${R[$1:$2:delivered]}/e : 0)"; }
per_msg() { calc "printf \"%.2f\", ${R[$1:$2:$3]}/$N"; }
row() {
  local key=$1 c=$2
  [ "${R[$key:$c:done]:-}" = 1 ] || return 0
  say "$(printf '%-12s %3s %9s %9s %9s %9s %9s %8s %9s %9s' "$key" "$c" \
    "$(rate_acc "$key" "$c")" "$(rate_e2e "$key" "$c")" "$(per_msg "$key" "$c" machine_cpu_ms)" \
    "$(per_msg "$key" "$c" client_ms)" "$(per_msg "$key" "$c" server_ms)" \
    "${R[$key:$c:fail]}" "${R[$key:$c:delivered]}" "$(per_msg "$key" "$c" forks)")"
}
ratio() {  # ratio A B KIND(acc|e2e) C
  local a b
  [ "${R[$1:$4:done]:-}" = 1 ] && [ "${R[$2:$4:done]:-}" = 1 ] || { echo n/a; return; }
  if [ "$3" = acc ]; then a=$(rate_acc "$1" "$4"); b=$(rate_acc "$2" "$4"); else a=$(rate_e2e "$1" "$4"); b=$(rate_e2e "$2" "$4"); fi
  calc "printf \"%.2f\", ($b>0 ? $a/$b : 0)"
}
verdict() { calc "print (($1) ? \"PASS\" : \"NOT YET\")"; }

say "leaf benchmark $(date -u '+%Y-%m-%d %H:%M:%SZ') on $(hostname) ($(nproc) cpus, $(uname -r))"
say "N=$N messages of $(wc -c < "$MSG") bytes ($SIZE-byte body) to $RCPT via 127.0.0.1:$PORT, C=$C, timeout ${TIMEOUT}s per phase"
if [ "$have_pf" = 1 ]; then
  say "hub: Postfix $(postconf -h mail_version 2>/dev/null) qmqpd -> $MAILDIR; nullmailer: $( [ "$have_nm" = 1 ] && (dpkg-deb -f "$PEER_WORK"/nullmailer-deb/nullmailer_*.deb Version 2>/dev/null || echo present) || echo absent)"
fi
say "ours: $OURS ($linkage, qmail-queue -> qmail-qmqpc)"
say "background on this machine (included in machine CPU): before ${bg_before}; after ${bg_after}"
busy_bg=$(printf '%s\n%s\n' "$bg_before" "$bg_after" | awk '$1 > 100 {b=1} END{print b+0}')
[ "$busy_bg" = 1 ] && say "WARNING: other work was running on this machine (over 100 ms CPU/s): rates and machine CPU are disturbed; client and hub CPU are per process and hold"
say "exec floor: posix_spawn+exec+exit of /bin/true ($( readelf -d /bin/true 2>/dev/null | grep -q NEEDED && echo dynamic || echo static)) at c=1: ${floor_ms} ms client CPU (${floor_mach} machine), ${floor_rate}/s"
say ""
say "$(printf '%-12s %3s %9s %9s %9s %9s %9s %8s %9s %9s' case c 'accept/s' 'e2e/s' 'mach ms' 'client ms' 'hub ms' failures delivered 'forks')"
say "$(printf '%-12s %3s %9s %9s %9s %9s %9s %8s %9s %9s' '' '' '' '' '/msg' '/msg' '/msg' '' '' '/msg')"
for key in ours nullmailer qmqp-source; do for c in 1 "$C"; do row "$key" "$c"; done; done
say ""
say "accept/s = acknowledged messages / (start .. last client exit = last K); e2e/s = files in Maildir/new / (start .. last file)"
say "mach ms = /proc/stat busy CPU over the case (clients + hub + driver + anything else running here); client ms = user+sys"
say "of the client processes (nullmailer: + nullmailer-send and its qmqp modules); hub ms = Postfix master and all its"
say "daemons (or fakeserver.py); forks = /proc/stat processes delta (whole machine; the driver's spawn is 1/msg)"
say ""
say "ratios (rate of the first over the second):"
for c in 1 "$C"; do
  say "$(printf '  ours/nullmailer   c=%-3s accept %5s   end to end %5s' "$c" "$(ratio ours nullmailer acc "$c")" "$(ratio ours nullmailer e2e "$c")")"
done
for c in 1 "$C"; do
  say "$(printf '  ours/qmqp-source  c=%-3s accept %5s   end to end %5s' "$c" "$(ratio ours qmqp-source acc "$c")" "$(ratio ours qmqp-source e2e "$c")")"
done
say ""
say "process counts per message (strace -f of one send; execs include the client's own execve):"
say "  ours:       execs ${ours_execs:-?}, forks ${ours_forks:-?}   [${ours_chain:-}] (exit ${ours_strace_rc:-?})"
if [ -n "${nm_execs:-}" ]; then
  say "  nullmailer: execs $nm_execs, forks $nm_forks   [$nm_chain] (sendmail side)"
  say "              + daemon side for that message: execs $nmd_execs, forks $nmd_forks   [$nmd_chain] (nullmailer-send forks the qmqp module per queue run)"
fi
say ""
say "Goal: ours >= 2x nullmailer end to end at c=1 and c=10; as close to qmqp-source as the leaf's execs allow"
for c in 1 "$C"; do
  r=$(ratio ours nullmailer e2e "$c")
  if [ "$r" = n/a ]; then v=n/a; else v=$(verdict "$r >= 2 && ${R[ours:$c:fail]} == 0"); fi
  say "$(printf '  ours >= 2x nullmailer end to end, c=%-3s %6s x, failures %s   %s' "$c" "$r" "${R[ours:$c:fail]:-?}" "$v")"
done
# "as close as the execs allow": ours may spend its one process per message
# (the sendmail exec, no further exec or fork), and per message no more
# client CPU beyond qmqp-source's than one spawn of a program (the exec
# floor measured above) plus 0.25 ms for the injection work, with no
# failures. Client CPU (exact, from wait4) rather than machine CPU: other
# jobs on this machine land in the machine figure, and the hub's share is
# the same server doing the same work for both.
allow=$(calc "printf \"%.2f\", $floor_ms + 0.25")
for c in 1 "$C"; do
  if [ "${R[qmqp-source:$c:done]:-}" = 1 ] && [ -n "${ours_execs:-}" ]; then
    gap=$(calc "printf \"%.2f\", (${R[ours:$c:client_ms]} - ${R[qmqp-source:$c:client_ms]})/$N")
    v=$(verdict "$ours_execs <= 1 && $ours_forks == 0 && $gap <= $allow && ${R[ours:$c:fail]} == 0")
    say "$(printf '  close to qmqp-source, c=%-3s           %s x accept, %s x e2e; +%s ms client CPU/msg (allowed %s = exec floor + 0.25), %s exec %s fork   %s' \
      "$c" "$(ratio ours qmqp-source acc "$c")" "$(ratio ours qmqp-source e2e "$c")" "$gap" "$allow" "$ours_execs" "$ours_forks" "$v")"
  else
    say "$(printf '  close to qmqp-source, c=%-3s           n/a (no qmqp-source figures)' "$c")"
  fi
done
if [ "${#NOTES[@]}" -gt 0 ]; then
  say ""
  say "notes:"
  for n in "${NOTES[@]}"; do say "  - $n"; done
fi
if [ "$have_pf" = 1 ]; then
  say "  - Postfix log over the run: sent ${pf_sent:-?}, deferred ${pf_def:-?}, bounced ${pf_bounce:-?}, warnings ${pf_warn:-?}"
fi

echo
cat "$SUMMARY"
cp "$SUMMARY" "$OUT"
echo
echo "summary written to $OUT"
exit 0
