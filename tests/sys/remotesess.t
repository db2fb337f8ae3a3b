#!/bin/bash
# remotesess.t: qmail-remote's session mode (qmail-remote -S host, many
# jobs over one connection; hub/remote/rsession.h, hub/remote/rjobq.h), driven by
# tests/lib/rsessdrive.py (jobs on fd 0, tagged reports on fd 1) against:
# the scripted SMTP server (tests/lib/smtpfake.py: transactions in a row
# on one connection, RSET after a failed one, bad jobs, a missing message,
# idle close with and without 421 and a close right after a transaction:
# transparent reconnects), Postfix's smtp-sink (jobs per second), our own
# qmail-qmtpd under tcpserver (300 pipelined packages over one connection,
# each stored once), a QMTP server that drops the connection in the middle
# of a pipelined batch (tests/lib/qmtpfake.py), an unreachable destination,
# the idle exit (control/timeoutidle), EOF exit and protocol errors on
# fd 0 (exit 111 after answering what was read).
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/postfix-tools.sh
. "$SRCDIR/tests/lib/postfix-tools.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QR=$B/hub/qmail-remote
if [ ! -x "$QR" ]; then echo "Bail out! qmail-remote not built (BUILD=$BUILD: make all first)"; exit 1; fi

H=$T/home
mkdir -p "$H/control" "$H/queue/lock" "$H/queue/mess/0" "$T/log"
head -c 1024 /dev/zero > "$H/queue/lock/tcpto"
printf 'hub.example.org\n' > "$H/control/me"
printf '127.0.0.1:1\n' > "$H/control/dnsservers"
for i in $(seq 1 300); do printf 'Subject: m%s\n\n.dot %s\n' "$i" "$i" > "$H/queue/mess/0/$i"; done
export QMAILHOME=$H

# drive: run the session with the script on stdin; OUT = the driver's output
drive() { OUT=$(cd "$H" && timeout 90 python3 "$SRCDIR/tests/lib/rsessdrive.py" "$QR" example.com); }
letters() { printf '%s\n' "$OUT" | awk '$1 == "J" { printf "%s ", $3 }'; }
summary() { printf '%s\n' "$OUT" | tail -n 1 | cut -d' ' -f1-6; }
fake() {
  local out=$T/fake.$RANDOM i
  rm -rf "$T/log"; mkdir -p "$T/log"
  python3 "$SRCDIR/tests/lib/smtpfake.py" "$@" --logdir "$T/log" > "$out" 2> "$out.err" &
  FPID=$!; _pids+=("$FPID")
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  FPORT=$(head -n 1 "$out")
  printf 'example.com:127.0.0.1:%s\n' "$FPORT" > "$H/control/smtproutes"
}
qfake() {
  local out=$T/qfake.$RANDOM i
  rm -f "$T/qlog"
  python3 "$SRCDIR/tests/lib/qmtpfake.py" --log "$T/qlog" "$@" > "$out" 2> "$out.err" &
  FPID=$!; _pids+=("$FPID")
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  printf 'example.com:127.0.0.1:%s\n' "$(head -n 1 "$out")" > "$H/control/qmtproutes"
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
conns() { wc -l < "$T/log/connections" | tr -d ' '; }
cmds() { tr -d '\r' < "$T/log/conn-$1.cmds" | cut -c1-4 | tr '\n' ' '; }

# ---- (a) SMTP: transactions in a row on one connection ------------------------
fake ok
drive <<'EOF'
job 0/1 a@b.org good@example.com bad@example.com
job 0/2 - good@example.com
job 0/3 a@b.org temp@example.com
job 0/x a@b.org good@example.com
job 0/299 a@b.org good@example.com
job 0/999 a@b.org good@example.com
job 0/4 a@b.org good@example.com other@example.com
eof
EOF
is "$(summary)" "exit 0 jobs 7/7 errors 0" "SMTP: 7 jobs answered in order, tags right (tag 0 included), exit 0 at EOF"
is "$(letters)" "rhK rK sZ sZ rK sZ rrK " "SMTP: per-job reports"
like "$OUT" "J 3 sZ .*bad job: the message name is not S/N" "bad S/N: s Z, the session goes on"
like "$OUT" "J 5 sZ .*Unable to read the message queue/mess/0/999" "missing message: s Z"
is "$(conns)" 1 "SMTP: one connection for all"
is "$(cmds 1)" "EHLO MAIL RCPT RCPT DATA MAIL RCPT DATA MAIL RCPT RSET MAIL RCPT DATA MAIL RCPT RCPT DATA QUIT " \
   "SMTP: one EHLO, RSET only after the failed transaction, QUIT at the end"
is "$(grep -c '^Subject: m' "$T/log/conn-1.data")" 4 "SMTP: four messages sent"
grep -q '^\.\.dot 2' "$T/log/conn-1.data"; ok $? "SMTP: dot-stuffing in session mode"
stop "$FPID"

# ---- (e) server closes between jobs: transparent reconnect ----------------------
fake ok --idle-close 0.4
drive <<'EOF'
job 0/1 a@b.org good@example.com
sleep 1
job 0/2 a@b.org good@example.com
eof
EOF
is "$(letters)/$(conns)" "rK rK /2" "SMTP idle close with 421 between jobs: reconnect, both delivered"
stop "$FPID"
fake ok --idle-close 0.4 --idle-close-silent
drive <<'EOF'
job 0/1 a@b.org good@example.com
sleep 1
job 0/2 a@b.org good@example.com
eof
EOF
is "$(letters)/$(conns)" "rK rK /2" "SMTP silent close between jobs: reconnect, both delivered"
stop "$FPID"
fake ok --max-txns 1
drive <<'EOF'
jobs 3 0/1 a@b.org good@example.com
eof
EOF
is "$(letters)/$(conns)" "rK rK rK /3" "SMTP close right after each transaction: no answer to MAIL, retried on a new connection"
stop "$FPID"
rm -f "$H/control/smtproutes"

# ---- (f) idle exit, protocol errors -------------------------------------------
fake ok
printf '1\n' > "$H/control/timeoutidle"
t0=$(date +%s.%N)
drive <<'EOF'
job 0/1 a@b.org good@example.com
EOF
t1=$(date +%s.%N)
is "$(summary)/$(letters)" "exit 0 jobs 1/1 errors 0/rK " "idle: fd 0 open, no more jobs: exit 0 by itself"
ok "$(awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 0.9 && b - a < 4) }'; echo $?)" "idle exit after control/timeoutidle (1 s)"
is "$(cmds 1)" "EHLO MAIL RCPT DATA QUIT " "idle exit: QUIT"
rm -f "$H/control/timeoutidle"
drive <<'EOF'
job 0/1 a@b.org good@example.com
raw 41302f3100
eof
EOF
is "$(summary)/$(letters)" "exit 111 jobs 1/1 errors 0/rK " "incomplete job at EOF: earlier jobs answered, exit 111"
drive <<EOF
job 0/1 a@b.org good@example.com
raw 41$(head -c 140000 /dev/zero | tr '\0' 'a' | od -An -tx1 -v | tr -d ' \n')
EOF
is "$(summary)/$(letters)" "exit 111 jobs 1/1 errors 0/rK " "job over 128 KB: protocol error, exit 111"
stop "$FPID"

# ---- unreachable: each job answered, later jobs too ---------------------------
printf 'example.com:127.0.0.1:1\n' > "$H/control/smtproutes"
drive <<'EOF'
jobs 4 0/1 a@b.org good@example.com
eof
EOF
is "$(letters)" "sZ sZ sZ sZ " "nothing reachable: every job s Z, the session goes on"
like "$OUT" "J 0 sZ .*Connection refused\. \(#4\.4\.1\)" "unreachable: the connect error"
"$B/hub/qmail-tcpok"
rm -f "$H/control/smtproutes"

# ---- (b) Postfix smtp-sink -------------------------------------------------------
# (Debian package postfix, in make deps: missing as root is a failure)
if ! postfix_tool smtp-sink > /dev/null 2> "$T/pf.err"; then
  dep_missing 3 "$(cat "$T/pf.err")"
elif ! postfix_sink -c; then
  ok 1 "smtp-sink starts on a loopback address"; ok 1 "smtp-sink: (not run)"; ok 1 "smtp-sink: (not run)"
else
  printf 'example.com:%s:%s\n' "$SINK_IP" "$SINK_PORT" > "$H/control/smtproutes"
  drive <<'EOF'
jobs 200 0/7 a@b.org x@example.com y@example.com
eof
EOF
  is "$(summary)" "exit 0 jobs 200/200 errors 0" "smtp-sink: 200 jobs answered"
  is "$(letters | tr ' ' '\n' | sort -u | tr -d '\n')" "rrK" "smtp-sink: every job rrK"
  secs=$(printf '%s\n' "$OUT" | tail -n 1 | awk '{ print $8 }')
  echo "# smtp-sink: 200 SMTP jobs over one connection in $secs s"
  stop "$SINK"
  ok "$( (exec 3<> "/dev/tcp/$SINK_IP/$SINK_PORT") 2> /dev/null && echo 1 || echo 0)" "smtp-sink is gone once stopped (nothing listens on its address)"
  rm -f "$H/control/smtproutes"
fi

# ---- (d) QMTP server drops the connection in the middle of a batch ---------------
qfake --one --drop-after 100
# (jobs with distinct messages: one per file)
OUT=$(cd "$H" && { for i in $(seq 1 300); do echo "job 0/$i a@b.org x@example.com y@example.com"; done; echo eof; } |
      timeout 90 python3 "$SRCDIR/tests/lib/rsessdrive.py" "$QR" example.com)
is "$(summary)" "exit 0 jobs 300/300 errors 0" "QMTP drop: every job answered"
printf '%s\n' "$OUT" | awk '$1 == "J" && $3 == "rrK" { print $2 + 1 }' | sort -n > "$T/k"
sed 's/.*Subject: m//' "$T/qlog" | sort -n > "$T/acked"
is "$(wc -l < "$T/k" | tr -d ' ')" 100 "QMTP drop: the 100 answered jobs reported K"
cmp -s "$T/k" "$T/acked"; ok $? "QMTP drop: the K jobs are exactly the packages the server answered"
is "$(printf '%s\n' "$OUT" | awk '$1 == "J" && $3 != "rrK" && $3 != "ssZ"' | wc -l | tr -d ' ')" 0 "QMTP drop: every other job s s Z"
like "$OUT" "J 100 ssZ .*the QMTP connection died" "QMTP drop: in-flight jobs: connection died (#4.4.2)"
stop "$FPID"
"$B/hub/qmail-tcpok"

# ---- QMTP: idle close between jobs -----------------------------------------------
qfake --idle-close 0.4
drive <<'EOF'
job 0/1 a@b.org x@example.com
sleep 1
job 0/2 a@b.org x@example.com bad@example.com
eof
EOF
is "$(letters)" "rK rhK " "QMTP idle close between jobs: reconnect, delivered; D -> h"
stop "$FPID"

# ---- (c) 300 jobs pipelined to qmail-qmtpd over one connection ---------------------
QMTPD=$B/hub/qmail-qmtpd
if [ -x "$QMTPD" ] && command -v tcpserver > /dev/null; then
  Q=$T/qhome
  mkdir -p "$Q/control" "$T/qq"
  printf 'mx.example.org\n' > "$Q/control/me"
  printf 'example.com\n' > "$Q/control/rcpthosts"
  # a queue that keeps every message: one file per message, named by
  # qmail-qmtpd's pid (one per connection) and its own
  printf '#!/bin/sh\ncat > "$QQ_OUT/m.$PPID.$$" && cat 0<&1 > "$QQ_OUT/e.$PPID.$$"\n' > "$T/qq.sh"
  chmod +x "$T/qq.sh"
  QMAILHOME=$Q QMAILQUEUE=$T/qq.sh QQ_OUT=$T/qq tcpserver -1 -HRl0 127.0.0.1 0 "$QMTPD" > "$T/qport" 2> "$T/qerr" &
  QPID=$!; _pids+=("$QPID")
  for i in $(seq 100); do [ -s "$T/qport" ] && break; sleep 0.05; done
  printf 'example.com:127.0.0.1:%s\n' "$(head -n 1 "$T/qport")" > "$H/control/qmtproutes"
  OUT=$(cd "$H" && { for i in $(seq 1 300); do echo "job 0/$i a@b.org x@example.com y@example.com"; done; echo eof; } |
        timeout 90 python3 "$SRCDIR/tests/lib/rsessdrive.py" "$QR" example.com)
  is "$(summary)" "exit 0 jobs 300/300 errors 0" "qmail-qmtpd: 300 jobs answered"
  is "$(letters | tr ' ' '\n' | sort -u | tr -d '\n')" "rrK" "qmail-qmtpd: every job rrK"
  is "$(ls "$T/qq" | grep '^m\.' | cut -d. -f2 | sort -u | wc -l | tr -d ' ')" 1 "qmail-qmtpd: one connection (one qmail-qmtpd)"
  is "$(cat "$T"/qq/m.* | grep '^Subject: m' | sort | uniq | wc -l | tr -d ' ')/$(ls "$T/qq" | grep -c '^m\.')" "300/300" \
     "qmail-qmtpd: every message stored exactly once"
  is "$(for f in "$T"/qq/e.*; do tr '\0' ' ' < "$f"; echo; done | sort -u)" "Fa@b.org Tx@example.com Ty@example.com  " \
     "qmail-qmtpd: every envelope as sent"
  secs=$(printf '%s\n' "$OUT" | tail -n 1 | awk '{ print $8 }')
  echo "# qmail-qmtpd: 300 QMTP jobs over one connection in $secs s"
  stop "$QPID"
else
  for i in 1 2 3 4 5; do ok 0 "# skip qmail-qmtpd or tcpserver missing"; done
fi
rm -f "$H/control/qmtproutes"

done_testing
