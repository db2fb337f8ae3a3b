#!/bin/bash
# remote.sh: `make bench-remote` (never part of make check). Remote delivery
# of the whole hub against Postfix, in one run, into Postfix's smtp-sink
# (127.0.0.1:$SINK_PORT, 2526, where the peer kit routes sink.test; started
# here under strace -e accept,accept4 so that the connections it accepts
# are counted exactly; every transaction dumped to /dev/shm):
#  a. drain: N held messages (SIZE bytes) to x@sink.test. Ours: queued
#     with control/holdremote (qmailctl hold), released by qmailctl flush
#     (routes: control/smtproutes ":127.0.0.1:2526", default sessionsperhost
#     4, concurrencyremote 20). Postfix: held by the peer kit's Subject
#     peer-hold, released by postsuper -H ALL; postqueue -f (remote-load.sh
#     MODE=drain). Timed from the release to the Nth dump at the sink.
#  b. end to end leaf -> hub -> smtp-sink: smtp-source/qmqp-source (c=C)
#     into each hub, to x@sink.test; client start .. the Nth dump.
#  c. one message to NRCPT recipients spread over NDOM domains
#     (rI@dJ.sink.test, all routed to the sink; Postfix gets a
#     ".sink.test" transport line for the run), sent over SMTP by python;
#     client start .. the last recipient at the sink (X-Rcpt-Args lines).
#     Rates and CPU are per recipient.
#  d. the dial-up flush of ND held messages from our hub (A) to a second
#     hub of ours (B: its services as installed, qmail-smtpd, qmail-qmtpd
#     and, B_SEND=1 (the default), the qmail-send service with its remote
#     deliveries held (control/holdremote), so that whatever that service
#     runs for the queue (a queue daemon, group commit) is running and the
#     messages stay in B's queue; B_SEND=0: B's qmail-send service is not
#     started and B only accepts, as this case measured before): QMTP
#     (qmtproutes, sessionsperhost 1) against SMTP one message per
#     connection (sessionsperhost 0, smtproutes) and SMTP over one session
#     (sessionsperhost 1); timed from qmailctl flush to the NDth message
#     in B's queue (files in queue/mess, or queue/todo with B_SEND=0);
#     connections from the "ok" lines of B's listeners' logs. On loopback
#     B's durable acceptance bounds all three; for each RTT in LINK_RTT_MS
#     (default "0 50") above 0, QMTP and classic SMTP run again through
#     tests/bench/delayproxy.py (a relay adding RTT/2 each way), a link
#     like the ones a dial-up hub has (the SMTP session at 1 message per
#     few RTTs is left out there: ND * 3 RTT is too long).
#  e. drain with TLS: as a, NT held messages to x@tlssink.test, routed to
#     tests/bench/tlssink.py (127.0.0.1, a sink offering STARTTLS with hub
#     A's certificate; smtp-sink has no TLS), the same sink for both.
#     Ours: control/tlsdestinations "tlssink.test:encrypt" (session mode
#     keeps the TLS connection). Postfix: smtp_tls_security_level=encrypt
#     and a peer_transport line for the run (its default: no TLS
#     connection reuse). Handshakes per message from the sink's log.
#  f. the dial-up flush with TLS on a slow link: NF held messages from hub
#     A to hub B through delayproxy.py (FLUSH_RTT_MS, default 50: half each
#     way), QMTPS (qmtproutes "qmtps", sessionsperhost 1, B's qmail-qmtps)
#     against SMTP+STARTTLS one message per connection (sessionsperhost 0,
#     tlsdestinations ":encrypt", B's qmail-smtpd), at hub A's
#     concurrencyremote (20 connections at once) and, FLUSH_SERIAL=1 (the
#     default), at concurrencyremote 1 (one connection after the other, as
#     a flush over one modem line goes). A network namespace
#     with tc netem would be the other way to make the link; this kernel
#     has no sch_netem, so the relay it is, as in d.
# Figures (tests/bench/remotedrive.py, built on acceptdrive.py): msgs/s;
# server CPU = machine busy CPU (/proc/stat) - client CPU - driver CPU per
# message; hub-tree = CPU of the hub's processes (ours: the qmailctl
# process groups of A; Postfix: the master's tree), peak PSS of the same
# processes (0.2 s sampling), connections accepted by the sink / hub B.
# Env: N (2000; QUICK=1: 200), SIZE (2048), C (10), PROTOS ("smtp qmqp"),
# NRCPT (1000; QUICK: 200), NDOM (10), ND (1000; QUICK: 200), CASES
# ("a b c d e f"), NT (N), NF (100), B_SEND (1), FLUSH_RTT_MS (50), FLUSH_SERIAL (1), LINK_RTT_MS ("0 50"), CONCREMOTE (hub A's
# control/concurrencyremote; unset: the default, 20), TIMEOUT (600 s per case), PF_WAIT (600), PF_REUSE, BUILD.
# Output: summary on stdout and in $BUILD/bench/remote.txt. Root on Debian
# 12, loopback only. Stops what it started (both hubs, Postfix, the sink
# and its strace, the driver), at the end and on interruption.
set -u

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) ||
  top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 111
BENCH=remote.sh
BUILD=${BUILD:-build}
if [ "${QUICK:-0}" = 1 ]; then : "${N:=200}" "${NRCPT:=200}" "${ND:=200}"; fi
N=${N:-2000}
SIZE=${SIZE:-2048}
C=${C:-10}
PROTOS=${PROTOS:-"smtp qmqp"}
NRCPT=${NRCPT:-1000}
NDOM=${NDOM:-10}
ND=${ND:-1000}
CASES=${CASES:-"a b c d e f"}
B_SEND=${B_SEND:-1}
NT=${NT:-$N}
NF=${NF:-100}
FLUSH_RTT_MS=${FLUSH_RTT_MS:-50}
FLUSH_SERIAL=${FLUSH_SERIAL:-1}
LINK_RTT_MS=${LINK_RTT_MS:-"0 50"}
TIMEOUT=${TIMEOUT:-600}
PF_WAIT=${PF_WAIT:-600}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
DRIVE=$top/tests/bench/remotedrive.py
OUTDIR=${BENCH_OUTDIR:-$top/$BUILD/bench}
OUT=$OUTDIR/remote.txt
. "$top/tests/bench/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root (the hub homes get the qmail users, Postfix needs root)"
for p in qmail-queue qmail-smtpd qmail-qmqpd qmail-qmtpd qmail-start qmail-send qmail-rspawn qmail-remote qmail-clean; do
  [ -x "$BUILD/hub/$p" ] || die "$BUILD/hub/$p is not built (make all)"
done
for p in strace smtp-sink smtp-source qmqp-source; do
  command -v $p > /dev/null || die "$p is needed (strace; Postfix's smtp-sink, smtp-source, qmqp-source: the peer kit installs Postfix)"
done
mkdir -p "$OUTDIR"
find_peers
[ -n "$PEERS" ] && . "$PEERS/peer-env.sh"
: "${SINK_PORT:=2526}" "${PF_PIDFILE:=/var/spool/postfix/pid/master.pid}"

tmp=$(mktemp -d /tmp/bench-remote.XXXXXX) || exit 111
chmod 755 "$tmp"
H=$tmp/a HB=$tmp/b
SD=/dev/shm/bench-remote.$$
RESULTS=$tmp/results
: > "$RESULTS"

# ---- cleanup: only what this run started ---------------------------------
sink_pid='' strace_pid='' hubb_up=0 pf_held=0 pf_transport='' proxy_pids='' tsink_pid='' pf_tlslevel=''
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$bg_pid" ]; then kill -TERM "$bg_pid" 2>/dev/null; wait "$bg_pid" 2>/dev/null; fi
  if [ "$hub_up" = 1 ]; then "$H/bin/qmailctl" stop > /dev/null; fi
  if [ "$hubb_up" = 1 ]; then "$HB/bin/qmailctl" stop > /dev/null; fi
  if [ "$pf_held" = 1 ]; then postsuper -d ALL hold > /dev/null 2>&1; fi
  if [ -n "$pf_tlslevel" ]; then pf_tls_restore; fi
  if [ -n "$pf_transport" ]; then
    printf '%s\n' "$pf_transport" > /etc/postfix/peer_transport; postmap /etc/postfix/peer_transport
    [ "$pf_started" = 1 ] || postfix reload > /dev/null 2>&1
  fi
  if [ "$pf_started" = 1 ]; then bash "$PEERS/postfix-peer-stop.sh" > /dev/null; fi
  if [ -n "$proxy_pids" ]; then kill -TERM $proxy_pids 2>/dev/null; wait $proxy_pids 2>/dev/null; fi
  if [ -n "$sink_pid" ]; then kill -TERM "$sink_pid" 2>/dev/null; fi
  if [ -n "$tsink_pid" ]; then kill -TERM "$tsink_pid" 2>/dev/null; wait "$tsink_pid" 2>/dev/null; fi
  if [ -n "$strace_pid" ]; then kill -TERM "$strace_pid" 2>/dev/null; wait "$strace_pid" 2>/dev/null; fi
  rm -rf "$tmp" "$SD" "$SD.tls"
}
trap cleanup EXIT
trap 'echo "remote.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

# ---- the sink ----------------------------------------------------------------
listening "$SINK_PORT" && die "something already listens on 127.0.0.1:$SINK_PORT (another run's smtp-sink?): not started"
mkdir -p "$SD"; chown nobody "$SD"
strace -f --seccomp-bpf -qq -e trace=accept,accept4 -o "$tmp/sink.strace" \
  smtp-sink -u nobody -d "$SD/%H%M%S." "127.0.0.1:$SINK_PORT" 1024 > "$tmp/sink.out" 2>&1 &
strace_pid=$!
for i in $(seq 100); do listening "$SINK_PORT" && break; sleep 0.05; done
sink_pid=$(pgrep -P "$strace_pid" -x smtp-sink | head -n 1)
listening "$SINK_PORT" && [ -n "$sink_pid" ] || { cat "$tmp/sink.out"; die "smtp-sink does not listen on $SINK_PORT"; }
sink_clear() { find "$SD" -type f -delete; }

# ---- our hubs ------------------------------------------------------------------
log "installing hub A in $H and hub B (the dial-up case's smarthost) in $HB"
hub_install
echo localhost > "$H/control/locals"
[ -n "${CONCREMOTE:-}" ] && echo "$CONCREMOTE" > "$H/control/concurrencyremote"
echo ":127.0.0.1:$SINK_PORT" > "$H/control/smtproutes"
# hub B: no qmqpd; qmail-send with remote deliveries held (B_SEND=1) or none
B_SMTP=$(free_port) B_QMTP=$(free_port) B_QMTPS=$(free_port)
mkdir -p "$HB/control"; echo b.test > "$HB/control/me"; echo b.test > "$HB/control/rcpthosts"
for s in qmail-smtpd:$B_SMTP qmail-qmtpd:$B_QMTP qmail-qmtps:$B_QMTPS; do
  mkdir -p "$HB/service/${s%%:*}/env"
  echo 127.0.0.1 > "$HB/service/${s%%:*}/env/IP"; echo "${s#*:}" > "$HB/service/${s%%:*}/env/PORT"
  echo 1000 > "$HB/service/${s%%:*}/env/PERIP"   # every client is 127.0.0.1
done
make -s -C "$top" -o all install QMAILHOME="$HB" BUILD="$BUILD" > "$tmp/install.b.log" 2>&1 ||
  { cat "$tmp/install.b.log"; die "make install QMAILHOME=$HB failed"; }
chmod -x "$HB/service/qmail-qmqpd/run"
if [ "$B_SEND" = 1 ]; then touch "$HB/control/holdremote"; BQ=$HB/queue/mess
else chmod -x "$HB/service/qmail-send/run"; BQ=$HB/queue/todo; fi
rm -f "$HB/service/qmail-qmtps/down"   # installed down; case f uses it
SCOPE_OURS="pgidfiles:$H/service/*/qmailctl.pid"
mess_count() { find "$H/queue/mess" -type f | wc -l; }
todo_count() { find "$H/queue/todo" -type f | wc -l; }
ours_idle() {
  local i; for i in $(seq 1200); do [ "$(mess_count)" = 0 ] && break; sleep 0.1; done
  [ "$(mess_count)" = 0 ] || note "ours: $(mess_count) messages still queued before a case"
  sink_clear
}
ours_restart() {  # sessionsperhost is read when qmail-rspawn starts
  hub_stop; hub_start
  local i; for i in $(seq 100); do grep -q 'qmail-send started' "$H/log/qmail-send/current" 2>/dev/null && return 0; sleep 0.1; done
}
ours_hold() {
  "$H/bin/qmailctl" hold > /dev/null || die "qmailctl hold failed"
  local i; for i in $(seq 100); do grep -q 'remote deliveries held' "$H/log/qmail-send/current" && return 0; sleep 0.1; done
  die "qmail-send did not log the hold"
}
# ours_wait_held N: N messages queued and preprocessed (todo/ empty)
ours_wait_held() {
  local i; for i in $(seq 1200); do [ "$(mess_count)" -ge "$1" ] && [ "$(todo_count)" = 0 ] && return 0; sleep 0.1; done
  note "ours: $(mess_count) of $1 messages held ($(todo_count) in todo) before the release"
}
bconns() { cat "$HB/log/$1"/@* "$HB/log/$1/current" 2>/dev/null | grep -cE ' [a-z0-9-]+: ok [0-9]'; }

# ---- Postfix -----------------------------------------------------------------
case " $CASES " in *" a "*|*" b "*|*" c "*|*" e "*) pf_acquire ;; *) note "cases $CASES: no Postfix needed" ;; esac
pf_idle() {
  local i; for i in $(seq 1200); do [ "$(pf_queue_count)" = 0 ] && break; sleep 0.1; done
  [ "$(pf_queue_count)" = 0 ] || note "Postfix: $(pf_queue_count) messages still queued before a case"
  sink_clear
}
pf_hold_count() { ls -f /var/spool/postfix/hold 2>/dev/null | grep -vc '^\.'; }
[ "$have_pf" = 1 ] && pf_log_off=$(stat -c %s "$PF_LOG" 2>/dev/null || echo 0)

src() {  # proto port rcpt [subject]: the load client's command line
  if [ "$1" = qmqp ]; then
    echo "qmqp-source -f sender@leaf.test -t $3 -M leaf.test -m $N -s $C -l $((SIZE + 300)) 127.0.0.1:$2"
  else
    echo "smtp-source -f sender@leaf.test -t $3 -M leaf.test -m $N -s $C -l $SIZE ${4:+-S $4} 127.0.0.1:$2"
  fi
}
result() {  # the remotedrive line in $tmp/line (conns replaced by $1 if given)
  local line; line=$(cat "$tmp/line")
  [ -n "${1:-}" ] && line=$(echo "$line" | sed "s/ conns=[^ ]*/ conns=$1/")
  echo "$line" >> "$RESULTS"; echo "  $line"
  case $line in *" rc=0"*) ;; *) note "$(echo "$line" | cut -d' ' -f1-2): the command exited $(echo "$line" | sed 's/.* rc=//')";; esac
  local got target; got=$(echo "$line" | sed 's/.* got=\([0-9-]*\).*/\1/') target=$(echo "$line" | sed 's/.* target=\([0-9]*\).*/\1/')
  [ "$got" -ge "$target" ] || note "$(echo "$line" | cut -d' ' -f1-2): only $got of $target arrived within $TIMEOUT s"
}
drive() { bgrun "$tmp/line" "$PY" "$DRIVE" run --timeout "$TIMEOUT" --bg 1 "$@"; }

# ---- a. drain --------------------------------------------------------------------
case_a() {
  log "a. drain of $N held messages to smtp-sink: ours"
  ours_idle; ours_hold
  bgrun "$tmp/inj" $(src smtp "$OUR_SMTP" x@sink.test)
  ours_wait_held "$N"
  drive --label ours --case a-drain --n "$N" --count "dir:$SD" --scope "$SCOPE_OURS" \
    --conns "$tmp/sink.strace" --release "$H/bin/qmailctl flush"
  result
  [ "$have_pf" = 1 ] || return 0
  log "a. drain of $N held messages to smtp-sink: Postfix"
  pf_idle; pf_held=1
  bgrun "$tmp/inj" $(src smtp "$SMTP_PORT" x@sink.test peer-hold)
  local i; for i in $(seq 1200); do [ "$(pf_hold_count)" -ge "$N" ] && break; sleep 0.1; done
  [ "$(pf_hold_count)" -ge "$N" ] || note "Postfix drain: $(pf_hold_count) of $N held before the release"
  drive --label postfix --case a-drain --n "$N" --count "dir:$SD" --scope "tree:$(pf_master)" \
    --conns "$tmp/sink.strace" --release "postsuper -H ALL 2>/dev/null; postqueue -f"
  pf_held=0
  result
}

# ---- b. end to end -----------------------------------------------------------------
case_b() {
  local proto port
  for proto in $PROTOS; do
    log "b. end to end $proto c=$C, $N messages leaf -> hub -> smtp-sink: ours"
    ours_idle
    if [ "$proto" = qmqp ]; then port=$OUR_QMQP; else port=$OUR_SMTP; fi
    drive --label ours --case "b-e2e-$proto-c$C" --n "$N" --c "$C" --count "dir:$SD" --scope "$SCOPE_OURS" \
      --conns "$tmp/sink.strace" --client "$(src "$proto" "$port" x@sink.test)"
    result
    [ "$have_pf" = 1 ] || continue
    log "b. end to end $proto c=$C: Postfix"
    pf_idle
    if [ "$proto" = qmqp ]; then port=$QMQP_PORT; else port=$SMTP_PORT; fi
    drive --label postfix --case "b-e2e-$proto-c$C" --n "$N" --c "$C" --count "dir:$SD" --scope "tree:$(pf_master)" \
      --conns "$tmp/sink.strace" --client "$(src "$proto" "$port" x@sink.test)"
    result
  done
}

# ---- c. one message, NRCPT recipients over NDOM domains ------------------------------
cat > "$tmp/many.py" <<'PY'
import smtplib, sys
port, n, ndom, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rcpts = ["r%d@d%d.sink.test" % (i, i % ndom) for i in range(n)]
body = "Subject: many\r\n\r\n" + ("x" * 76 + "\r\n") * (size // 78)
s = smtplib.SMTP("127.0.0.1", port, timeout=120)
s.sendmail("sender@leaf.test", rcpts, body)
s.quit()
PY
case_c() {
  log "c. one message to $NRCPT recipients over $NDOM domains: ours"
  ours_idle
  drive --label ours --case "c-1msg-${NRCPT}rcpt-${NDOM}dom" --n "$NRCPT" --count "rcpts:$SD" --scope "$SCOPE_OURS" \
    --conns "$tmp/sink.strace" --client "$PY $tmp/many.py $OUR_SMTP $NRCPT $NDOM $SIZE"
  result
  [ "$have_pf" = 1 ] || return 0
  log "c. one message to $NRCPT recipients over $NDOM domains: Postfix"
  pf_transport=$(cat /etc/postfix/peer_transport)
  printf '%s\n.%s smtp:[127.0.0.1]:%s\n' "$pf_transport" "$SINK_DOMAIN" "$SINK_PORT" > /etc/postfix/peer_transport
  postmap /etc/postfix/peer_transport; postfix reload > /dev/null 2>&1; sleep 1
  pf_idle
  drive --label postfix --case "c-1msg-${NRCPT}rcpt-${NDOM}dom" --n "$NRCPT" --count "rcpts:$SD" --scope "tree:$(pf_master)" \
    --conns "$tmp/sink.strace" --client "$PY $tmp/many.py $SMTP_PORT $NRCPT $NDOM $SIZE"
  result
  printf '%s\n' "$pf_transport" > /etc/postfix/peer_transport; postmap /etc/postfix/peer_transport
  postfix reload > /dev/null 2>&1; pf_transport=''
}

# ---- d. the dial-up flush to hub B -----------------------------------------------
case_d_one() {  # label sessionsperhost qmtp(0|1) rtt_ms
  local label=$1 s0 q0 NSAVE=$N sp=$B_SMTP qp=$B_QMTP cs=d-dialup-$ND
  [ "$4" = 0 ] || { sp=$PX_SMTP qp=$PX_QMTP cs=d-dialup-$ND-rtt$4ms; }
  log "d. dial-up flush of $ND messages: $label, link RTT $4 ms"
  ours_idle
  echo "$2" > "$H/control/sessionsperhost"
  echo ":127.0.0.1:$sp" > "$H/control/smtproutes"
  if [ "$3" = 1 ]; then echo ":127.0.0.1:$qp" > "$H/control/qmtproutes"; else rm -f "$H/control/qmtproutes"; fi
  ours_restart; ours_hold
  N=$ND; bgrun "$tmp/inj" $(src smtp "$OUR_SMTP" x@dial.test); N=$NSAVE
  ours_wait_held "$ND"
  s0=$(bconns qmail-smtpd) q0=$(bconns qmail-qmtpd)
  drive --label "$label" --case "$cs" --n "$ND" --count "tree:$BQ" --scope "$SCOPE_OURS" \
    --release "$H/bin/qmailctl flush"
  sleep 0.3
  result "$(( $(bconns qmail-smtpd) - s0 + $(bconns qmail-qmtpd) - q0 ))"
  local i; for i in $(seq 1200); do [ "$(mess_count)" = 0 ] && break; sleep 0.1; done
}
case_d() {
  "$HB/bin/qmailctl" start > "$tmp/qmailctl.b.log" 2>&1 || { cat "$tmp/qmailctl.b.log"; die "hub B: qmailctl start failed"; }
  hubb_up=1
  local i; for i in $(seq 100); do listening "$B_SMTP" && listening "$B_QMTP" && break; sleep 0.1; done
  local rtt p
  for rtt in $LINK_RTT_MS; do
    if [ "$rtt" = 0 ]; then
      case_d_one ours-qmtp-s1 1 1 0
      case_d_one ours-smtp-classic 0 0 0
      case_d_one ours-smtp-s1 1 0 0
      continue
    fi
    PX_SMTP=$(free_port) PX_QMTP=$(free_port)
    for p in "$PX_SMTP:$B_SMTP" "$PX_QMTP:$B_QMTP"; do
      "$PY" "$top/tests/bench/delayproxy.py" "${p%%:*}" "${p#*:}" "$rtt" > "$tmp/proxy.${p%%:*}" 2>&1 &
      proxy_pids="$proxy_pids $!"
    done
    for i in $(seq 100); do listening "$PX_SMTP" && listening "$PX_QMTP" && break; sleep 0.05; done
    case_d_one ours-qmtp-s1 1 1 "$rtt"
    case_d_one ours-smtp-classic 0 0 "$rtt"
    kill -TERM $proxy_pids 2>/dev/null; wait $proxy_pids 2>/dev/null; proxy_pids=''
  done
  "$HB/bin/qmailctl" stop > /dev/null; hubb_up=0
  rm -f "$H/control/qmtproutes" "$H/control/sessionsperhost"
  echo ":127.0.0.1:$SINK_PORT" > "$H/control/smtproutes"
}

# ---- e. drain to a TLS sink ----------------------------------------------------
TDOM=tlssink.test
tsink_start() {
  TSINK_PORT=$(free_port)
  mkdir -p "$SD.tls"; : > "$tmp/tsink.log"
  "$PY" "$top/tests/bench/tlssink.py" "$TSINK_PORT" "$H/control/servercert.pem" "$SD.tls" "$tmp/tsink.log" 2 \
    > "$tmp/tsink.out" 2>&1 &
  tsink_pid=$!
  local i; for i in $(seq 100); do listening "$TSINK_PORT" && return 0; sleep 0.05; done
  cat "$tmp/tsink.out"; die "tlssink.py does not listen on $TSINK_PORT"
}
tsink_count() { grep -c "^$1\$" "$tmp/tsink.log"; }
# tls_result: the line with the sink's connections and handshakes of the case
tls_result() {  # conns0 hs0
  local c h; sleep 0.3
  c=$(( $(tsink_count c) - $1 )) h=$(( $(tsink_count h) - $2 ))
  sed -i "s/\$/ hs=$h/" "$tmp/line"
  result "$c"
}
pf_tls_restore() {
  if [ "$pf_tlslevel" = - ]; then postconf -X smtp_tls_security_level 2> /dev/null
  else postconf -e "smtp_tls_security_level=$pf_tlslevel"; fi
  pf_tlslevel=''
}
case_e() {
  tsink_start
  local c0 h0
  log "e. drain of $NT held messages to a TLS sink (tlssink.py, STARTTLS): ours, tlsdestinations encrypt"
  ours_idle; find "$SD.tls" -type f -delete
  printf '%s:127.0.0.1:%s\n:127.0.0.1:%s\n' "$TDOM" "$TSINK_PORT" "$SINK_PORT" > "$H/control/smtproutes"
  echo "$TDOM:encrypt" > "$H/control/tlsdestinations"
  ours_restart; ours_hold
  N0=$N; N=$NT; bgrun "$tmp/inj" $(src smtp "$OUR_SMTP" "x@$TDOM"); N=$N0
  ours_wait_held "$NT"
  c0=$(tsink_count c) h0=$(tsink_count h)
  drive --label ours --case "e-drain-tls" --n "$NT" --count "dir:$SD.tls" --scope "$SCOPE_OURS" \
    --release "$H/bin/qmailctl flush"
  tls_result "$c0" "$h0"
  local i; for i in $(seq 1200); do [ "$(mess_count)" = 0 ] && break; sleep 0.1; done
  rm -f "$H/control/tlsdestinations"
  echo ":127.0.0.1:$SINK_PORT" > "$H/control/smtproutes"
  ours_restart
  [ "$have_pf" = 1 ] || return 0
  log "e. drain of $NT held messages to the TLS sink: Postfix, smtp_tls_security_level=encrypt"
  pf_transport=$(cat /etc/postfix/peer_transport)
  printf '%s\n%s smtp:[127.0.0.1]:%s\n' "$pf_transport" "$TDOM" "$TSINK_PORT" > /etc/postfix/peer_transport
  postmap /etc/postfix/peer_transport
  pf_tlslevel=$(postconf -nh smtp_tls_security_level 2> /dev/null); [ -n "$pf_tlslevel" ] || pf_tlslevel=-
  postconf -e smtp_tls_security_level=encrypt
  postfix reload > /dev/null 2>&1; sleep 1
  pf_idle; find "$SD.tls" -type f -delete; pf_held=1
  N0=$N; N=$NT; bgrun "$tmp/inj" $(src smtp "$SMTP_PORT" "x@$TDOM" peer-hold); N=$N0
  for i in $(seq 1200); do [ "$(pf_hold_count)" -ge "$NT" ] && break; sleep 0.1; done
  [ "$(pf_hold_count)" -ge "$NT" ] || note "Postfix TLS drain: $(pf_hold_count) of $NT held before the release"
  c0=$(tsink_count c) h0=$(tsink_count h)
  drive --label postfix --case "e-drain-tls" --n "$NT" --count "dir:$SD.tls" --scope "tree:$(pf_master)" \
    --release "postsuper -H ALL 2>/dev/null; postqueue -f"
  pf_held=0
  tls_result "$c0" "$h0"
  pf_tls_restore
  printf '%s\n' "$pf_transport" > /etc/postfix/peer_transport; postmap /etc/postfix/peer_transport
  postfix reload > /dev/null 2>&1; pf_transport=''
}

# ---- f. the dial-up flush with TLS on a slow link --------------------------------
case_f_one() {  # label sessionsperhost qmtps(0|1) [concurrencyremote]
  local label=$1 s0 q0 NSAVE=$N
  log "f. dial-up flush of $NF messages: $label, link RTT $FLUSH_RTT_MS ms"
  ours_idle
  if [ -n "${4:-}" ]; then echo "$4" > "$H/control/concurrencyremote"
  elif [ -n "${CONCREMOTE:-}" ]; then echo "$CONCREMOTE" > "$H/control/concurrencyremote"
  else rm -f "$H/control/concurrencyremote"; fi
  echo "$2" > "$H/control/sessionsperhost"
  echo ":encrypt" > "$H/control/tlsdestinations"
  echo ":127.0.0.1:$PX_SMTP" > "$H/control/smtproutes"
  if [ "$3" = 1 ]; then echo ":127.0.0.1:$PX_QMTPS:qmtps" > "$H/control/qmtproutes"; else rm -f "$H/control/qmtproutes"; fi
  ours_restart; ours_hold
  N=$NF; bgrun "$tmp/inj" $(src smtp "$OUR_SMTP" x@dial.test); N=$NSAVE
  ours_wait_held "$NF"
  s0=$(bconns qmail-smtpd) q0=$(bconns qmail-qmtps)
  drive --label "$label" --case "f-flush-tls-$NF-rtt${FLUSH_RTT_MS}ms" --n "$NF" --count "tree:$BQ" \
    --scope "$SCOPE_OURS" --release "$H/bin/qmailctl flush"
  sleep 0.3
  result "$(( $(bconns qmail-smtpd) - s0 + $(bconns qmail-qmtps) - q0 ))"
  local i; for i in $(seq 1200); do [ "$(mess_count)" = 0 ] && break; sleep 0.1; done
}
case_f() {
  if [ "$hubb_up" = 0 ]; then
    "$HB/bin/qmailctl" start > "$tmp/qmailctl.b.log" 2>&1 || { cat "$tmp/qmailctl.b.log"; die "hub B: qmailctl start failed"; }
    hubb_up=1
  fi
  local i p
  for i in $(seq 100); do listening "$B_SMTP" && listening "$B_QMTPS" && break; sleep 0.1; done
  listening "$B_QMTPS" || { note "f: hub B's qmail-qmtps does not listen on $B_QMTPS: case f skipped"; return 0; }
  PX_SMTP=$(free_port) PX_QMTPS=$(free_port)
  for p in "$PX_SMTP:$B_SMTP" "$PX_QMTPS:$B_QMTPS"; do
    "$PY" "$top/tests/bench/delayproxy.py" "${p%%:*}" "${p#*:}" "$FLUSH_RTT_MS" > "$tmp/proxy.${p%%:*}" 2>&1 &
    proxy_pids="$proxy_pids $!"
  done
  for i in $(seq 100); do listening "$PX_SMTP" && listening "$PX_QMTPS" && break; sleep 0.05; done
  case_f_one ours-qmtps-s1 1 1
  case_f_one ours-starttls-classic 0 0
  [ "$FLUSH_SERIAL" = 1 ] && case_f_one ours-starttls-serial 0 0 1
  kill -TERM $proxy_pids 2>/dev/null; wait $proxy_pids 2>/dev/null; proxy_pids=''
  "$HB/bin/qmailctl" stop > /dev/null; hubb_up=0
  rm -f "$H/control/qmtproutes" "$H/control/sessionsperhost" "$H/control/tlsdestinations" "$H/control/concurrencyremote"
  [ -n "${CONCREMOTE:-}" ] && echo "$CONCREMOTE" > "$H/control/concurrencyremote"
  echo ":127.0.0.1:$SINK_PORT" > "$H/control/smtproutes"
  ours_restart
}

# ---- the run -----------------------------------------------------------------
start=$(date +%s)
{
  echo "# remote.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -n), $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; git $(git -C "$top" describe --always --dirty 2>/dev/null)"
  echo "# N=$N SIZE=$SIZE C=$C protos: $PROTOS; NRCPT=$NRCPT over NDOM=$NDOM; ND=$ND; cases: $CASES; clients smtp-source/qmqp-source (Postfix $(postconf -h mail_version 2>/dev/null || echo '?'))"
  echo "# sink: smtp-sink 127.0.0.1:$SINK_PORT (dumps to $SD, tmpfs), accepts counted by strace; ours: hub A $H (concurrencyremote $(cat "$H/control/concurrencyremote" 2>/dev/null || echo 20), sessionsperhost default 4), hub B $HB ($( [ "$B_SEND" = 1 ] && echo "its qmail-send running, remote deliveries held" || echo "accept only"))"
  case " $CASES " in *" e "*) echo "# e: tests/bench/tlssink.py (STARTTLS, hub A's certificate, 2 processes) for both; NT=$NT; ours tlsdestinations encrypt, Postfix smtp_tls_security_level=encrypt" ;; esac
  case " $CASES " in *" f "*) echo "# f: NF=$NF, hub B's qmail-qmtps and qmail-smtpd (STARTTLS) behind delayproxy.py, RTT $FLUSH_RTT_MS ms (half each way; no tc netem in this kernel)" ;; esac
  if [ "$have_pf" = 1 ]; then echo "# Postfix: peer kit $PEERS, smtpd :$SMTP_PORT qmqpd :$QMQP_PORT -> smtp:[127.0.0.1]:$SINK_PORT"
  else echo "# Postfix: not measured"; fi
} > "$tmp/head"
cat "$tmp/head"
hub_start
for c in $CASES; do
  case $c in
    a) case_a ;; b) case_b ;; c) case_c ;; d) case_d ;; e) case_e ;; f) case_f ;;
    *) note "unknown case $c" ;;
  esac
done
hub_stop

lf=$H/log/qmail-send/current
fails=$(cat "$H"/log/qmail-send/@* "$lf" 2>/dev/null | grep -c 'delivery [0-9]*: \(deferral\|failure\)')
[ "$fails" = 0 ] || note "ours: $fails deferrals/failures, e.g. $(cat "$H"/log/qmail-send/@* "$lf" 2>/dev/null | grep -m1 'delivery [0-9]*: \(deferral\|failure\)' | cut -d' ' -f2- | cut -c1-200)"
if [ "$have_pf" = 1 ] && [ -f "$PF_LOG" ]; then
  tail -c +$((pf_log_off + 1)) "$PF_LOG" > "$tmp/pf.log"
  pf_warn=$(grep -cE 'warning:|fatal:|panic:|status=(deferred|bounced)' "$tmp/pf.log")
  [ "$pf_warn" = 0 ] || note "Postfix warnings/deferrals: $pf_warn, e.g. $(grep -m1 -E 'warning:|fatal:|panic:|status=(deferred|bounced)' "$tmp/pf.log" | cut -d' ' -f5- | cut -c1-160)"
fi
bgmax=$(sed -n 's/.* bg_ms_s=\([0-9]*\).*/\1/p' "$RESULTS" | sort -n | tail -n 1)
if [ -n "$bgmax" ] && [ "$bgmax" -gt 50 ]; then
  note "other work was running on the machine (up to $bgmax ms CPU per second in the 1 s before a case): rates, machine and server CPU include its effect; hub-tree CPU does not"
fi

{
  cat "$tmp/head"
  echo "# raw lines (secs: release or client start .. the last arrival; *_ms: CPU over the case; bg_ms_s: machine load just before):"
  sed 's/^/#   /' "$RESULTS"
  echo
} > "$OUT"
echo
"$PY" "$DRIVE" report "$RESULTS" "$OUT"
{
  echo
  echo "a/b/c: arrivals counted at smtp-sink (c: recipients, so its rates and CPU are per recipient); conns = connections smtp-sink accepted."
  echo "d: arrivals = messages in hub B's queue ($BQ; B_SEND=$B_SEND); conns = the 'ok' lines of B's listeners; the CPU is hub A's."
  echo "d-...-rttNms: through tests/bench/delayproxy.py, a relay adding N/2 ms each way (a slow link); QMTP pipelines, SMTP waits for each reply."
  echo "e: arrivals counted at tests/bench/tlssink.py (STARTTLS offered); conns and TLS handshakes from its log."
  echo "f: as d, with TLS (QMTPS; SMTP+STARTTLS under tlsdestinations :encrypt), through delayproxy.py at FLUSH_RTT_MS; -serial = concurrencyremote 1."
  echo "server CPU = machine busy CPU (/proc/stat) - client CPU - driver CPU; hub-tree = the hub's own processes (/proc/PID/stat); peak PSS of the same."
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
