#!/bin/bash
# qmqpc.t: end-to-end tests of leaf/qmail-qmqpc against tests/lib/fakeserver.py
# on loopback: QMQP answers K/Z/D, failover after Z, refusal, silence, a
# dropped answer, a slow hub, a blackholed first server (happy eyeballs),
# IPv6, host names, QMTP per-recipient answers, a 100 MB message in bounded
# memory, envelope errors, missing configuration and address caps; and
# the Z text on fd 6 (exit 82) naming the cause of every failure: the bad
# qmqpservers line and its number, the name that does not resolve, the
# refused or timed out address, the hub that closed or never answered.
# TAP on stdout. Finds the build as $SRCDIR/$BUILD (defaults: the repo root
# and "build"). Every server started here is killed by pid at exit; every
# wait is bounded.

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QMQPC=$B/leaf/qmail-qmqpc
FAKE=$SRCDIR/tests/lib/fakeserver.py
PY=$(python3 -c 'import sys; print(sys.executable)')
T=$(mktemp -d /tmp/qmqpc-t.XXXXXX)
HOME_Q=$T/home
mkdir -p "$HOME_Q/control"
# the spool off: these are the client's own answers (tests/sys/spool.t has
# the spool; a home without spool/ would keep nothing either, with a warning)
printf 'none\n' > "$HOME_Q/control/spool"
PIDS=()

stop_servers() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  PIDS=()
}
cleanup() { local p; stop_servers; for p in "${DEAD_PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

n=0
ok() {
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
is() {
  n=$((n + 1))
  if [ "$1" = "$2" ]; then echo "ok $n - $3"; else
    echo "not ok $n - $3"; echo "#        got: '$1'"; echo "#   expected: '$2'"
    echo "#   (last run: exit ${RC:-} fd 6 '${FD6:-}')"
  fi
}
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }

# start MODE [ARGS...]: a fake server; sets PORT and SLOG (its log dir).
start() {
  local mode=$1 k=$SERIAL i   # a new log dir each time: never an old port file
  shift
  SERIAL=$((SERIAL + 1))
  SLOG=$T/srv$k
  mkdir -p "$SLOG"
  "$PY" "$FAKE" "$mode" --logdir "$SLOG" --lifetime 120 "$@" >"$SLOG/port" 2>"$SLOG/err" &
  PIDS+=($!)
  for i in $(seq 200); do [ -s "$SLOG/port" ] && break; sleep 0.05; done
  PORT=$(head -n 1 "$SLOG/port")
}
SERIAL=0

# DEAD: a loopback port nothing listens on, held so (bound, not listening)
# to the end by a process of tests/lib/ports.sh (killed by cleanup)
. "$SRCDIR/tests/lib/ports.sh"
dead_port DEAD || { echo "Bail out! no port to hold"; exit 1; }

servers() { printf '%s\n' "$@" >"$HOME_Q/control/qmqpservers"; }
ctl() { printf '%s\n' "$2" >"$HOME_Q/control/$1"; }
ctl_reset() { rm -f "$HOME_Q/control/qmqptimeout" "$HOME_Q/control/qmqptimeoutconnect"; }

printf 'hello\n' >"$T/msg"
printf 'Fa@b\0Tc@d\0Te@f\0\0' >"$T/env"

# run: the client with $MSG (default $T/msg) on fd 0 and $ENV on fd 1;
# sets RC, FD6 (its fd 6 text) and MS (elapsed milliseconds).
run() {
  local t0 t1
  rm -f "$T/fd6"
  t0=$(date +%s%N)
  QMAILHOME=$HOME_Q timeout 90 "$QMQPC" <"${MSG:-$T/msg}" 1<"${ENV:-$T/env}" 6>"$T/fd6"
  RC=$?
  t1=$(date +%s%N)
  MS=$(((t1 - t0) / 1000000))
  FD6=$(cat "$T/fd6")
}

rcpts_of() { cat "$1/conn-1.rcpts" 2>/dev/null | tr '\n' ' '; }

# ---- QMQP answers ---------------------------------------------------------
start K
servers "127.0.0.1:$PORT"
run
is "$RC" 0 "K: exit 0"
is "$FD6" "" "K: nothing on fd 6"
printf '27:6:hello\n,3:a@b,3:c@d,3:e@f,,' >"$T/expect"
cmp -s "$T/expect" "$SLOG/conn-1.raw"
ok $? "K: the hub got ns(ns(msg) ns(sender) ns(rcpt)...) byte for byte"
cat "$T/msg" | QMAILHOME=$HOME_Q timeout 30 "$QMQPC" 1<"$T/env"
is "$?" 0 "K: message from a pipe"
cmp -s "$T/expect" "$SLOG/conn-2.raw"
ok $? "K: same bytes from a pipe"
stop_servers

start Z; Z=$SLOG; ZP=$PORT
start K; K=$SLOG
servers "127.0.0.1:$ZP" "127.0.0.1:$PORT"
run
is "$RC" 0 "Z then K: exit 0"
ok "$([ -s "$Z/conn-1.rcpts" ] && [ -s "$K/conn-1.rcpts" ]; echo $?)" "Z then K: both servers got the message"
servers "127.0.0.1:$ZP"
run
is "$RC" 82 "Z only: exit 82"
is "$FD6" "Ztry again later (#4.3.0)" "Z only: the hub's Z text on fd 6"
stop_servers

start D; D=$SLOG; DP=$PORT
start K; K=$SLOG
servers "127.0.0.1:$DP" "127.0.0.1:$PORT"
run
is "$RC" 82 "D: exit 82"
is "$FD6" "Dno such mailbox here (#5.1.1)" "D: the hub's D text on fd 6"
ok "$([ ! -e "$K/conn-1.raw" ]; echo $?)" "D is final: the next server was not asked"
QMAILHOME=$HOME_Q timeout 30 "$QMQPC" <"$T/msg" 1<"$T/env" 6>&-
is "$?" 82 "D with fd 6 closed: still exit 82"
stop_servers

start D --text "$(printf 'bad\001text\177x')"
servers "127.0.0.1:$PORT"
run
is "$FD6" "Dbad?text?x" "D: control bytes in the hub text become '?'"
stop_servers
start D --text "$(head -c 3000 /dev/zero | tr '\0' y)"
servers "127.0.0.1:$PORT"
run
is "${#FD6}" 1001 "D: hub text capped at 1000 bytes"
stop_servers
start D --text ""
servers "127.0.0.1:$PORT"
run
is "$RC" 31 "D without text: exit 31"
stop_servers

# ---- connection problems ----------------------------------------------------
servers "127.0.0.1:$DEAD"
run
is "$RC" 82 "refused: exit 82"
is "$FD6" "Zno hub took the message: 127.0.0.1:$DEAD: connection refused (#4.4.1)" "refused: fd 6 names the address and the cause"
start K; K=$SLOG
servers "127.0.0.1:$DEAD" "127.0.0.1:$PORT"
run
is "$RC" 0 "refused then K: exit 0"
stop_servers

start silent; S=$SLOG; SP=$PORT
start K; K=$SLOG
ctl qmqptimeout 1
servers "127.0.0.1:$SP" "127.0.0.1:$PORT"
run
is "$RC" 0 "silent (qmqptimeout 1) then K: exit 0"
ok "$([ "$MS" -lt 5000 ] && [ -s "$K/conn-1.rcpts" ]; echo $?)" "silent then K: moved on after the timeout (${MS} ms)"
servers "127.0.0.1:$SP"
run
is "$RC" 82 "only silent: exit 82 (connected, no answer)"
is "$FD6" "Zno hub took the message: 127.0.0.1:$SP: timed out after 1 s waiting for an answer (#4.4.2)" "only silent: fd 6 says it timed out after qmqptimeout"
ctl_reset
stop_servers

start dropmid; DM=$SLOG; DMP=$PORT
start K; K=$SLOG
servers "127.0.0.1:$DMP" "127.0.0.1:$PORT"
run
is "$RC" 0 "answer dropped mid-netstring then K: exit 0"
ok "$([ -s "$K/conn-1.rcpts" ]; echo $?)" "dropped answer: the next server got the message"
servers "127.0.0.1:$DMP"
run
is "$RC" 82 "only a dropped answer: exit 82"
is "$FD6" "Zno hub took the message: 127.0.0.1:$DMP: closed the connection in the middle of an answer (#4.4.2)" "dropped answer: fd 6 says so"
stop_servers

start close; CP=$PORT
servers "127.0.0.1:$CP"
run
is "$RC" 82 "closed at once: exit 82"
case $FD6 in
  "Zno hub took the message: 127.0.0.1:$CP: closed the connection without an answer (#4.4.2)"|\
  "Zno hub took the message: 127.0.0.1:$CP: connection "*" (#4.4.2)") r=0 ;;
  *) r=1; echo "# got: $FD6" ;;
esac
ok $r "closed at once: fd 6 says the hub closed (or reset) the connection"
stop_servers

start slow
ctl qmqptimeout 5
servers "127.0.0.1:$PORT"
run
is "$RC" 0 "slow hub (2 s, qmqptimeout 5): exit 0"
ok "$([ "$MS" -ge 1900 ]; echo $?)" "slow hub: the answer was waited for (${MS} ms)"
ctl_reset
stop_servers

# ---- happy eyeballs -----------------------------------------------------------
start blackhole; BH=$PORT
start K; K=$SLOG
ctl qmqptimeoutconnect 10
servers "127.0.0.1:$BH" "127.0.0.1:$PORT"
run
is "$RC" 0 "blackholed first server, K second: exit 0"
ok "$([ "$MS" -lt 3000 ]; echo $?)" "blackholed first server: done in ${MS} ms, well under qmqptimeoutconnect 10 s"
ctl qmqptimeoutconnect 1
servers "127.0.0.1:$BH"
run
is "$RC" 82 "only a blackholed server (qmqptimeoutconnect 1): exit 82"
is "$FD6" "Zno hub took the message: 127.0.0.1:$BH: connect timed out after 1 s (#4.4.1)" "blackholed: fd 6 says the connect timed out"
ok "$([ "$MS" -ge 900 ] && [ "$MS" -lt 4000 ]; echo $?)" "connect timeout honoured (${MS} ms)"
ctl_reset
stop_servers

# ---- address forms ---------------------------------------------------------------
if "$PY" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
  start K --family 6
  servers "[::1]:$PORT"
  run
  is "$RC" 0 "IPv6 [::1]:port: exit 0"
  ok "$([ -s "$SLOG/conn-1.rcpts" ]; echo $?)" "IPv6: the server got the message"
  stop_servers
else
  skip "no IPv6 loopback"; skip "no IPv6 loopback"
fi

if grep -Eq '^[[:space:]]*(127\.0\.0\.1|::1)[[:space:]].*\blocalhost\b' /etc/hosts; then
  start K
  servers "# a comment" "" "localhost:$PORT"
  run
  is "$RC" 0 "host name localhost:port (from /etc/hosts): exit 0"
  stop_servers
else
  skip "/etc/hosts has no localhost"
fi

servers "127.0.0.1:$DEAD" "127.0.0.1:99999"
run
is "$RC" 82 "invalid qmqpservers line: exit 82"
is "$FD6" 'Zcontrol/qmqpservers line 2: bad port "99999" (#4.3.0)' "invalid line: fd 6 names the line and what is wrong"
servers "# hubs" "" "hub.invalid" "127.0.0.1:$DEAD"
run
is "$RC" 82 "a name that does not resolve, then a refused address: exit 82"
case $FD6 in
  "Zno hub took the message: hub.invalid: no such host; 127.0.0.1:"*": connection refused (#4.4.1)"|\
  "Zno hub took the message: hub.invalid: temporary DNS failure; 127.0.0.1:"*": connection refused (#4.4.1)") r=0 ;;
  *) r=1; echo "# got: $FD6" ;;
esac
ok $r "fd 6 names both problems, in order"
ctl qmqptimeout 5s
servers "127.0.0.1:$DEAD"
run
is "$FD6" "Zcontrol/qmqptimeout: not a number of seconds (#4.3.0)" "a bad qmqptimeout is named"
ctl_reset

# ---- QMTP -------------------------------------------------------------------------
start qmtp:KK
servers "qmtp:127.0.0.1:$PORT"
run
is "$RC" 0 "qmtp all K: exit 0"
printf '7:\nhello\n,3:a@b,12:3:c@d,3:e@f,,' >"$T/expect"
cmp -s "$T/expect" "$SLOG/conn-1.raw"
ok $? "qmtp: the package is ns(LF msg) ns(sender) ns(ns(rcpt)...) byte for byte"
stop_servers

start qmtp:KD
servers "qmtp:127.0.0.1:$PORT"
run
is "$RC" 82 "qmtp K+D: exit 82"
is "$FD6" "D1 of 2 recipients refused: e@f: no such mailbox here (#5.1.1)" "qmtp K+D: D text names the refused address"
stop_servers

start qmtp:DD
servers "qmtp:127.0.0.1:$PORT"
run
is "$FD6" "Dno such mailbox here (#5.1.1)" "qmtp all D: the first refusal's text"
stop_servers

start qmtp:KZ; Q1=$SLOG; Q1P=$PORT
start qmtp:K; Q2=$SLOG
servers "qmtp:127.0.0.1:$Q1P" "qmtp:127.0.0.1:$PORT"
run
is "$RC" 0 "qmtp K+Z, then a server taking the rest: exit 0"
is "$(rcpts_of "$Q2")" "e@f " "qmtp: the second server got only the pending recipient"
servers "qmtp:127.0.0.1:$Q1P"
run
is "$RC" 82 "qmtp K+Z alone: exit 82"
is "$FD6" "Z1 of 2 recipients not accepted yet: try again later (#4.3.0)" "qmtp K+Z alone: Z text counts the pending"
stop_servers

start qmtp:KZ; Q1P=$PORT
start K; K=$SLOG
servers "qmtp:127.0.0.1:$Q1P" "127.0.0.1:$PORT"
run
is "$RC" 0 "qmtp K+Z, then QMQP K: exit 0"
is "$(rcpts_of "$K")" "e@f " "QMQP after QMTP: only the pending recipient"
stop_servers

# ---- big message, bounded memory ------------------------------------------------------
start K --logcap 1000
servers "127.0.0.1:$PORT"
# Peak RSS: /usr/bin/time -f %M when present, else VmHWM polled from
# /proc/PID/status. (getrusage(RUSAGE_CHILDREN) in python is no good here:
# exec keeps the high-water mark of the forked python, ~14 MB.)
cat >"$T/big.py" <<'EOF'
import os, re, subprocess, sys, threading, time
prog, envfile, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
envfd = os.open(envfile, os.O_RDONLY)
use_time = os.access("/usr/bin/time", os.X_OK)
argv = ["/usr/bin/time", "-f", "RSS %M", prog] if use_time else [prog]
p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=envfd, pass_fds=(6,),
                     stderr=subprocess.PIPE if use_time else None)
peak = [0]
def poll_hwm():
    while p.poll() is None:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                m = re.search(r"VmHWM:\s+(\d+)", f.read())
            if m:
                peak[0] = max(peak[0], int(m.group(1)))
        except OSError:
            pass
        time.sleep(0.005)
if not use_time:
    threading.Thread(target=poll_hwm, daemon=True).start()
chunk = (b"x" * 1023 + b"\n") * 64
p.stdin.write(b"Subject: big\n\n")
for _ in range(mb * 16):
    p.stdin.write(chunk)
p.stdin.close()
rc = p.wait(timeout=120)
if use_time:
    m = re.search(rb"RSS (\d+)", p.stderr.read())
    peak[0] = int(m.group(1)) if m else 0
print(rc, peak[0])
EOF
read -r BRC BRSS < <(QMAILHOME=$HOME_Q timeout 150 "$PY" "$T/big.py" "$QMQPC" "$T/env" 100 6>"$T/bigfd6")
RC=$BRC FD6=$(cat "$T/bigfd6") is "$BRC" 0 "100 MB message from a pipe: exit 0"
LIMIT=20480
ok "$([ -n "$BRSS" ] && [ "$BRSS" -lt "$LIMIT" ]; echo $?)" "100 MB message: peak RSS ${BRSS} KB < ${LIMIT} KB"
ok "$([ -s "$SLOG/conn-1.rcpts" ]; echo $?)" "100 MB message: the hub read all of it"
stop_servers

# ---- envelope and configuration errors ----------------------------------------------
start K; K=$SLOG
servers "127.0.0.1:$PORT"
envcase() {
  printf "$1" >"$T/badenv"
  ENV=$T/badenv run
  is "$RC" "$2" "$3"
}
envcase 'Fa@b\0\0' 91 "no recipients: exit 91"
envcase 'Ta@b\0\0' 91 "no F item: exit 91"
envcase 'Fa@b\0Tc@d\0' 91 "no final NUL: exit 91"
envcase 'Fa@b\0Tc@d' 91 "truncated recipient: exit 91"
envcase 'Fa@b\0Tc@d\0\0junk' 91 "junk after the envelope: exit 91"
envcase 'Fa@b\0Xc@d\0\0' 91 "unknown item letter: exit 91"
envcase '' 91 "empty envelope: exit 91"
ok "$([ ! -e "$K/conn-1.raw" ]; echo $?)" "bad envelopes: nothing was sent"
A1000=$(head -c 994 /dev/zero | tr '\0' a)@x.org
A1001=$(head -c 995 /dev/zero | tr '\0' a)@x.org
envcase "Fa@b\\0T${A1001}\\0\\0" 11 "recipient of 1001 bytes: exit 11"
envcase "F${A1001}\\0Tc@d\\0\\0" 11 "sender of 1001 bytes: exit 11"
envcase "Fa@b\\0T${A1000}\\0\\0" 0 "recipient of 1000 bytes: exit 0"
stop_servers

rm -f "$HOME_Q/control/qmqpservers"
run
is "$RC" 82 "missing qmqpservers: exit 82"
is "$FD6" "Zcontrol/qmqpservers is missing: there is no hub to send to (#4.3.0)" "missing qmqpservers: said so on fd 6"
servers "# only a comment" ""
run
is "$RC" 82 "qmqpservers without servers: exit 82"
is "$FD6" "Zcontrol/qmqpservers names no hub (#4.3.0)" "qmqpservers without servers: said so on fd 6"

echo "1..$n"
