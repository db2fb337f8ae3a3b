#!/bin/bash
# remote.t: qmail-remote end to end on loopback. Against the scripted
# hostile server tests/lib/smtpfake.py: a normal delivery (mixed r/h/s,
# dot-stuffing, CRLF, a bare CR sent as a space, final line without LF, SIZE= and
# BODY=8BITMIME on MAIL), the SIZE refusal before anything is sent, HELO
# fallback, and every BAD-INPUT 4.6b row (C1 short lines and missing final
# line, C2 big and endless replies, C3 control bytes in text, C4 odd codes,
# C5 greeting/MAIL/RCPT/DATA/final-dot classes, C6 drip feed against the
# delivery deadline, C7 MX pointing at us, C8 refused and blackholed hosts)
# plus the tcpto table (qmail-tcpto, qmail-tcpok); IPv6 on ::1; Postfix's
# smtp-sink; QMTP to our own qmail-qmtpd under tcpserver (qmtproutes, and
# MXPS with SMTP fallback when run as root); MX, A, NXDOMAIN, null MX and
# DNS failure through a dnsmasq on a loopback address and port of its own.
# No fixed ports: every server binds port 0 on 127.0.0.1 or on a random
# loopback address (loopback_ip), except MXPS's QMTP 209 and SMTP 25 (fixed
# in qmail-remote): those are bound on random loopback addresses, another
# on failure, and skipped with the reason if none is free (an MTA on
# 0.0.0.0:25). smtp-sink (postfix) and dnsmasq are in make deps: missing
# as root is a failure, as a normal user a skip.
# Every server is started here and killed by pid; every wait is bounded.
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/postfix-tools.sh
. "$SRCDIR/tests/lib/postfix-tools.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QR=$B/hub/qmail-remote
if [ ! -x "$QR" ] || [ ! -x "$B/hub/qmail-tcpto" ] || [ ! -x "$B/hub/qmail-tcpok" ]; then
  echo "Bail out! qmail-remote, qmail-tcpto or qmail-tcpok not built (BUILD=$BUILD: make all first)"; exit 1
fi

H=$T/home
mkdir -p "$H/control" "$H/queue/lock" "$T/log"
head -c 1024 /dev/zero > "$H/queue/lock/tcpto"
printf 'hub.example.org\n' > "$H/control/me"
printf '127.0.0.1:1\n' > "$H/control/dnsservers"   # never the machine's resolver
printf 'Subject: t\n\n.leading dot\nbare\rcr\n..two\nlast line no lf' > "$T/msg"

# up OUT PID: wait (5 s at most) until server PID has printed its port to
# OUT; 1 if it exited first (its bind failed) or never did.
up() {
  local i
  for i in $(seq 100); do [ -s "$1" ] && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.05; done
  return 1
}
# fake MODE [ARGS...]: start smtpfake.py; sets FPORT and FPID; 1 if it did not come up.
fake() {
  local out=$T/fake.$RANDOM
  rm -f "$T"/log/*
  python3 "$SRCDIR/tests/lib/smtpfake.py" "$@" --logdir "$T/log" > "$out" 2> "$out.err" &
  FPID=$!; _pids+=("$FPID")
  up "$out" "$FPID"; local rc=$?
  FPORT=$(head -n 1 "$out")
  return $rc
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
route() { printf '%s\n' "$@" > "$H/control/smtproutes"; }
# remote HOST RCPT...: run qmail-remote with $T/msg; OUT = reports, one a line.
remote() {
  local h=$1; shift
  QMAILHOME=$H timeout 60 "$QR" "$h" a@b.org "$@" < "${MSG:-$T/msg}" > "$T/out" 2> "$T/err"
  RC=$?
  OUT=$(tr '\0' '\n' < "$T/out")
}
letters() { printf '%s\n' "$OUT" | cut -c1 | tr -d '\n'; }
# cmds: the commands of the fake server's latest connection, '|'-separated
cmds() { local f; f=$(ls "$T"/log/conn-*.cmds 2>/dev/null | sort -t- -k2 -n | tail -n 1)
         [ -n "$f" ] && tr -d '\r' < "$f" | tr '\n' '|'; }

# ---- a normal delivery ------------------------------------------------------
fake ok
route "example.com:127.0.0.1:$FPORT"
remote example.com good@example.com bad@example.com temp@example.com
is "$RC/$(letters)" "0/rhsK" "ok: r h s then K, exit 0"
like "$OUT" "^r127\.0\.0\.1 accepted recipient\. Remote host said: 250 2\.1\.5 ok" "ok: r text"
like "$(sed -n 2p <<< "$OUT")" "Remote host said: 550 5\.1\.1 no such user$" "ok: h text carries 5.1.1"
like "$(sed -n 4p <<< "$OUT")" "^K127\.0\.0\.1 accepted message\. Remote host said: 250 final answer$" "ok: K after the final 250"
is "$(cmds)" "EHLO hub.example.org|MAIL FROM:<a@b.org> SIZE=59|RCPT TO:<good@example.com>|RCPT TO:<bad@example.com>|RCPT TO:<temp@example.com>|DATA|QUIT|" \
  "ok: EHLO, MAIL with SIZE, every RCPT in one transaction, DATA, QUIT"
is "$(od -An -c "$T/log/conn-1.data" | tr -s ' \n' ' ')" \
   "$(printf 'Subject: t\r\n\r\n..leading dot\r\nbare cr\r\n...two\r\nlast line no lf\r\n.\r\n' | od -An -c | tr -s ' \n' ' ')" \
   "ok: LF->CRLF, dots doubled, bare CR sent as a space, last line completed, final dot"
is "$(wc -c < "$T/err")" 0 "ok: nothing on stderr"
printf 'Subject: 8\n\ncaf\xc3\xa9\n' > "$T/msg8"
MSG=$T/msg8 remote example.com good@example.com
like "$(cmds)" "MAIL FROM:<a@b.org> SIZE=[0-9]+ BODY=8BITMIME\|" "8-bit message: BODY=8BITMIME"
printf 'Subject: p\n\nfrom a pipe\n' | { QMAILHOME=$H timeout 30 "$QR" example.com a@b.org good@example.com > "$T/out"; }
like "$(tr '\0' '\n' < "$T/out" | cut -c1 | tr -d '\n')" "^rK$" "message on a pipe (not seekable): spooled, delivered"
stop "$FPID"

fake ok --size 20
route "example.com:127.0.0.1:$FPORT"
remote example.com good@example.com other@example.com
is "$(letters)" "hhD" "SIZE 20 < message: h h D"
like "$OUT" "at most 20 bytes, this message has 59 \(#5\.3\.4\)" "SIZE refusal text (#5.3.4)"
is "$(cmds)" "EHLO hub.example.org|QUIT|" "SIZE refusal: no MAIL sent"
stop "$FPID"

fake nopipe
route "example.com:127.0.0.1:$FPORT"
remote example.com good@example.com bad@example.com
is "$(letters)" "rhK" "no EHLO: HELO fallback, delivered"
is "$(cmds)" "EHLO hub.example.org|HELO hub.example.org|MAIL FROM:<a@b.org>|RCPT TO:<good@example.com>|RCPT TO:<bad@example.com>|DATA|QUIT|" \
  "HELO fallback: no SIZE/BODY parameters, one RCPT at a time"
stop "$FPID"

# ---- BAD-INPUT 4.6b --------------------------------------------------------
# check MODE LETTERS REGEX NAME [fake args]
check() {
  local mode=$1 want=$2 re=$3 name=$4; shift 4
  fake "$mode" "$@"
  route "example.com:127.0.0.1:$FPORT"
  remote example.com good@example.com bad@example.com
  is "$(letters)" "$want" "$name: $want"
  like "$(tail -n 1 <<< "$OUT")" "$re" "$name: message report text"
  stop "$FPID"
}
check short ssZ "but its reply to the greeting was not valid SMTP \(#4\.4\.2\)$" "C1 short lines 220-/2"
check nofinal ssZ "connection died during the greeting: connection closed \(#4\.4\.2\)$" "C1 missing final line"
check bigtext rhK "accepted message" "C2 5 KB EHLO reply" --lines 50
check endless ssZ "reply to EHLO was not valid SMTP" "C2 endless 250- lines"
check ctrl hhD "Giving up on 127\.0\.0\.1" "C3 control bytes in a reply"
fake ctrl; route "example.com:127.0.0.1:$FPORT"; remote example.com bad@example.com; stop "$FPID"
like "$OUT" "550 5\.1\.1 bad\?user\?\[31m red\?cr \?\? end" "C3: NUL, ESC, CR, 8-bit bytes replaced by ?"
is "$(tr -d '\0' < "$T/out" | LC_ALL=C tr -d '[:print:]\n' | wc -c)" 0 "C3: only printable bytes and NULs in the reports"
check code999 ssZ "greeting failed\. Remote host said: 999 what$" "C4 code 999 is temporary"
check code000 ssZ "greeting failed\. Remote host said: 000 what$" "C4 code 000 is temporary"
check codeabc ssZ "reply to the greeting was not valid SMTP" "C4 non-digit code is temporary"
check greet554 hhD "greeting failed\. Remote host said: 554 5\.3\.2 go away$" "C5 greeting 554"
check greet421 ssZ "greeting failed\. Remote host said: 421 4\.3\.2 busy$" "C5 greeting 421"
check mail550 hhD "sender was rejected\. Remote host said: 550 5\.7\.1 not you$" "C5 MAIL 550"
check mail451 ssZ "sender was rejected\. Remote host said: 451 4\.7\.1 later$" "C5 MAIL 451"
check data250 rhZ "DATA was not accepted\. Remote host said: 250 2\.0\.0 ok but no data$" "C5 DATA answered 250: never K"
check data554 rhD "DATA was not accepted\. Remote host said: 554 5\.6\.0" "C5 DATA 554"
check ok rhD "failed after I sent the message\. Remote host said: 554 final answer$" "C5 final dot 554" --final 554
check ok rhZ "failed after I sent the message\. Remote host said: 451 final answer$" "C5 final dot 451" --final 451

printf '2\n' > "$H/control/timeoutdelivery"
t0=$(date +%s)
check drip ssZ "connection died during the greeting: timed out \(#4\.4\.2\)$" "C6 drip feed" --delay 0.4
t1=$(date +%s)
ok "$([ $((t1 - t0)) -le 6 ] && echo 0 || echo 1)" "C6: the delivery deadline (2 s) ended the drip ($((t1 - t0)) s)"
rm -f "$H/control/timeoutdelivery"

fake silent
route "example.com:127.0.0.1:$FPORT"
remote example.com good@example.com
is "$(letters)" "sZ" "server closes at once: Z"
like "$OUT" "Connected to 127\.0\.0\.1 but it said nothing" "server closes at once: text"
stop "$FPID"

# ---- C8 and tcpto -----------------------------------------------------------
port=$FPORT   # nothing listens there any more
route "example.com:127.0.0.1:$port"
remote example.com good@example.com
is "$(letters)" "sZ" "C8 connection refused: s Z"
like "$(tail -n 1 <<< "$OUT")" "wasn't able to establish an SMTP connection to example\.com: Connection refused\. \(#4\.4\.1\)$" "C8 refused: text (#4.4.1)"
like "$(QMAILHOME=$H "$B/hub/qmail-tcpto")" "^127\.0\.0\.1 failed 1 time \(refused\)" "qmail-tcpto: one refusal recorded"
remote example.com good@example.com
like "$(QMAILHOME=$H "$B/hub/qmail-tcpto")" "failed 2 times \(refused\), last [0-9]+ seconds ago; skipped for [0-9]+ more seconds" "qmail-tcpto: two refusals, skipped"
remote example.com good@example.com
like "$OUT" "every address of example\.com failed recently" "tcpto: a dead host is skipped at once"
QMAILHOME=$H "$B/hub/qmail-tcpok"; rc=$?
is "$rc/$(QMAILHOME=$H "$B/hub/qmail-tcpto" | wc -l)/$(od -An -v -tx1 "$H/queue/lock/tcpto" | tr -d ' \n0' | wc -c)" "0/0/0" "qmail-tcpok clears the table (still 1024 zero bytes)"
is "$(stat -c %s "$H/queue/lock/tcpto")" 1024 "tcpto keeps its size"
fake ok
route "example.com:127.0.0.1:$port" "example.com:127.0.0.1:$FPORT"
remote example.com good@example.com
is "$(letters)" "sZ" "first matching route line wins"
route "example.com:[127.0.0.1]:$FPORT"
remote example.com good@example.com
is "$(letters)" "rK" "a successful connect: delivered"
is "$(QMAILHOME=$H "$B/hub/qmail-tcpto" | wc -l)" 0 "tcpto: a successful connect clears the address's entry"
stop "$FPID"
rm -f "$H/queue/lock/tcpto"
route "example.com:127.0.0.1:$port"
remote example.com good@example.com
is "$(letters)" "sZ" "no tcpto file: still works (refused: Z)"
head -c 1024 /dev/zero > "$H/queue/lock/tcpto"

python3 "$SRCDIR/tests/lib/fakeserver.py" blackhole > "$T/bh" 2>&1 &
BH=$!; _pids+=("$BH")
for i in $(seq 100); do [ -s "$T/bh" ] && break; sleep 0.05; done
printf '1\n' > "$H/control/timeoutconnect"
route "example.com:127.0.0.1:$(head -n 1 "$T/bh")"
t0=$(date +%s)
remote example.com good@example.com
t1=$(date +%s)
is "$(letters)" "sZ" "C8 blackholed host: s Z"
like "$OUT" "Connection timed out\. \(#4\.4\.1\)$" "C8 blackhole: connect timeout text"
ok "$([ $((t1 - t0)) -le 4 ] && echo 0 || echo 1)" "C8 blackhole: timeoutconnect 1 s respected ($((t1 - t0)) s)"
like "$(QMAILHOME=$H "$B/hub/qmail-tcpto")" "failed 1 time \(timeout\)" "tcpto: timeout recorded"
stop "$BH"; rm -f "$H/control/timeoutconnect"
QMAILHOME=$H "$B/hub/qmail-tcpok"

# ---- IPv6, outgoingip ----------------------------------------------------
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
  fake ok --bind ::1
  route "example.com:[IPv6:::1]:$FPORT"
  remote example.com good@example.com
  is "$(letters)" "rK" "IPv6: delivered to [::1]"
  like "$OUT" "^r::1 accepted recipient" "IPv6: peer named ::1"
  stop "$FPID"
else
  ok 0 "# skip no IPv6 loopback"; ok 0 "# skip no IPv6 loopback"
fi
fake ok --bind 127.0.0.1
route "example.com:127.0.0.1:$FPORT"
printf '127.0.0.1\n' > "$H/control/outgoingip"
remote example.com good@example.com
is "$(letters)" "rK" "outgoingip 127.0.0.1: delivered"
printf '192.0.2.77\n' > "$H/control/outgoingip"
remote example.com good@example.com
is "$(letters)" "sZ" "outgoingip not ours: the bind fails, Z"
rm -f "$H/control/outgoingip"
stop "$FPID"

# ---- usage ------------------------------------------------------------------
QMAILHOME=$H "$QR" example.com a@b.org < "$T/msg" > /dev/null 2>&1
is "$?" 111 "usage error: exit 111"

# ---- Postfix smtp-sink ---------------------------------------------------------
if ! postfix_tool smtp-sink > /dev/null 2> "$T/pf.err"; then
  dep_missing 2 "$(cat "$T/pf.err")"
elif ! postfix_sink; then
  ok 1 "smtp-sink starts on a loopback address"; ok 1 "smtp-sink: (not run)"
else
  route "example.com:$SINK_IP:$SINK_PORT"
  dd if=/dev/urandom bs=1k count=300 2>/dev/null | base64 > "$T/big"
  MSG=$T/big remote example.com x@example.com y@example.com
  is "$(letters)" "rrK" "smtp-sink: 400 KB message to two recipients, K"
  stop "$SINK"
  ok "$( (exec 3<> "/dev/tcp/$SINK_IP/$SINK_PORT") 2> /dev/null && echo 1 || echo 0)" "smtp-sink is gone once stopped (nothing listens on its address)"
fi

# ---- QMTP to qmail-qmtpd ----------------------------------------------------------
QMTPD=$B/hub/qmail-qmtpd
# qmtpd HOMEDIR IP PORT: start tcpserver with qmail-qmtpd; sets QPORT, QPID;
# 1 if it did not come up (the bind failed).
qmtpd() {
  local out=$T/qport.$RANDOM
  mkdir -p "$1/control" "$T/qq"
  printf 'mx.example.org\n' > "$1/control/me"
  printf 'example.com\nex.test\n' > "$1/control/rcpthosts"
  QMAILHOME=$1 QMAILQUEUE=$SRCDIR/tests/lib/qq-record.sh QQ_OUT=$T/qq \
    tcpserver -1 -HRl0 "$2" "$3" "$QMTPD" > "$out" 2> "$out.err" &
  QPID=$!; _pids+=("$QPID")
  up "$out" "$QPID"; local rc=$?
  QPORT=$(head -n 1 "$out")
  [ $rc = 0 ] || stop "$QPID"
  return $rc
}
if [ -x "$QMTPD" ] && command -v tcpserver > /dev/null; then
  qmtpd "$T/qhome" 127.0.0.1 0
  printf 'example.com:127.0.0.1:%s\n' "$QPORT" > "$H/control/qmtproutes"
  route "example.com:127.0.0.1:1"
  remote example.com x@example.com y@evil.test
  is "$(letters)" "rhK" "QMTP route: accepted and refused recipient, K"
  like "$(sed -n 2p <<< "$OUT")" "refused recipient \(QMTP\)\. Remote host said: .*#5\.7\.1" "QMTP: D response -> h with the server's text"
  is "$(tr '\0' ' ' < "$T/qq/envelope")" "Fa@b.org Tx@example.com  " "QMTP: envelope queued by qmail-qmtpd"
  is "$(tail -n +3 "$T/qq/message" | cmp - <(tr '\r' ' ' < "$T/msg") && echo same)" same \
    "QMTP: message stored byte for byte (LF encoding), the bare CR as a space"
  stop "$QPID"
  remote example.com x@example.com
  is "$(letters)" "sZ" "QMTP route refused: Z (no SMTP fallback for routes)"
  rm -f "$H/control/qmtproutes"
else
  for i in 1 2 3 4 5; do ok 0 "# skip qmail-qmtpd or tcpserver missing"; done
fi
QMAILHOME=$H "$B/hub/qmail-tcpok"

# ---- DNS: dnsmasq on a loopback address of its own ---------------------------
# MXPS (root): qmail-qmtpd on QIP:209 and an SMTP server on QFIP:25, each on
# the first random loopback address where the bind succeeds. While QIP:209
# is bound nobody can listen on 0.0.0.0:209, so QFIP:209 refuses for sure.
mxps=""
if [ "$(id -u)" != 0 ]; then mxps="MXPS needs root for ports 209 and 25"
elif [ ! -x "$QMTPD" ] || ! command -v tcpserver > /dev/null; then mxps="MXPS: qmail-qmtpd or tcpserver missing"
else
  for i in $(seq 10); do QIP=$(loopback_ip); qmtpd "$T/qhome2" "$QIP" 209 && break; QIP=""; done
  for i in $(seq 10); do
    QFIP=$(loopback_ip) out=$T/f25.$i
    python3 "$SRCDIR/tests/lib/smtpfake.py" ok --bind "$QFIP" --port 25 --lifetime 120 > "$out" 2> "$out.err" &
    F25=$!; _pids+=("$F25")
    up "$out" "$F25" && break
    stop "$F25"; QFIP=""
  done
  [ -n "$QIP" ] || mxps="MXPS: port 209 is taken on 10 random loopback addresses (a server on 0.0.0.0:209?)"
  [ -n "$QFIP" ] || mxps="MXPS: port 25 is taken on 10 random loopback addresses (an MTA on 0.0.0.0:25?)"
fi
DNSMASQ=$(command -v dnsmasq) || DNSMASQ=/usr/sbin/dnsmasq   # a user's PATH lacks /usr/sbin
if [ ! -x "$DNSMASQ" ]; then
  dep_missing 15 "dnsmasq (Debian package dnsmasq-base) is not installed"
else
  # the MX servers: mx2 (MX2) a fake, mx1 (MX1) an address nothing binds: refused
  MX1=$(loopback_ip) MX2=$(loopback_ip)
  fake ok --bind "$MX2" --lifetime 120
  MXP=$FPORT
  hosts=(--host-record=mx1.ex.test,"$MX1" --host-record=mx2.ex.test,"$MX2" --host-record=amx.test,"$MX2")
  [ -n "$mxps" ] || hosts+=(--host-record=q.mxps.test,"$QIP" --host-record=qf.mxps.test,"$QFIP")
  for i in 1 2 3 4 5; do
    DNSIP=$(loopback_ip)
    DNSPORT=$(python3 -c 'import socket, sys; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$DNSIP")
    "$DNSMASQ" --keep-in-foreground --log-facility=- --no-resolv --no-hosts --conf-file=/dev/null --pid-file= \
      --user="$(id -un)" --listen-address="$DNSIP" --bind-interfaces --port="$DNSPORT" \
      --local=/test/ \
      --mx-host=ex.test,mx1.ex.test,10 --mx-host=ex.test,mx2.ex.test,20 "${hosts[@]}" \
      --mx-host=loop.test,hub.example.org,5 --mx-host=loop.test,mx2.ex.test,10 \
      --mx-host=lo.test,lo.test,5 --host-record=lo.test,127.0.0.1 \
      --mx-host=null.test,.,0 \
      --mx-host=mxps.test,q.mxps.test,12801 --mx-host=mxpsf.test,qf.mxps.test,12801 \
      > "$T/dnsmasq.log" 2>&1 &
    DNS=$!; _pids+=("$DNS")
    for j in $(seq 50); do grep -q started "$T/dnsmasq.log" && break; kill -0 "$DNS" 2>/dev/null || break; sleep 0.1; done
    grep -q started "$T/dnsmasq.log" && kill -0 "$DNS" 2>/dev/null && break
    sed 's/^/# /' "$T/dnsmasq.log"; stop "$DNS"; DNS=""
  done
  ok "$([ -n "$DNS" ] && [ -n "$MXP" ]; echo $?)" "dnsmasq on $DNSIP:$DNSPORT and the MX server on $MX2:$MXP are up"
  printf '%s:%s\n' "$DNSIP" "$DNSPORT" > "$H/control/dnsservers"
  route "ex.test::$MXP" "amx.test::$MXP" "loop.test::$MXP" "lo.test::$MXP" "null.test::$MXP"
  remote ex.test u@ex.test
  is "$(letters)" "rK" "MX: best MX refuses, the next MX takes it"
  like "$OUT" "^r${MX2//./\\.} " "MX: delivered to mx2 ($MX2)"
  remote amx.test u@amx.test
  is "$(letters)" "rK" "no MX: the domain's A record is used"
  remote nx.test u@nx.test
  is "$(letters)" "hD" "NXDOMAIN: h D"
  like "$OUT" "couldn't find any host named nx\.test\. \(#5\.1\.2\)$" "NXDOMAIN: text (#5.1.2)"
  remote loop.test u@loop.test
  is "$(letters)" "hD" "C7: best MX is control/me: bounce"
  like "$OUT" "best-preference MX .* \(#5\.4\.6\)$" "C7: text (#5.4.6)"
  remote lo.test u@lo.test
  is "$(letters)" "hD" "C7: MX address 127.0.0.1 is a local interface: bounce"
  remote null.test u@null.test
  like "$(letters)/$OUT" "^hD/.*#5\.1\.10" "null MX: h D (#5.1.10)"
  stop "$FPID"
  printf '%s:1\n' "$DNSIP" > "$H/control/dnsservers"
  route
  remote ex.test u@ex.test
  is "$(letters)" "sZ" "DNS server unreachable: s Z"
  like "$OUT" "failed temporarily\. \(#4\.4\.3\)$" "DNS failure: text (#4.4.3)"
  printf '%s:%s\n' "$DNSIP" "$DNSPORT" > "$H/control/dnsservers"
  if [ -z "$mxps" ]; then
    rm -f "$T/qq"/*
    remote mxps.test u@ex.test
    is "$(letters)" "rK" "MXPS 12801: delivered over QMTP port 209 ($QIP)"
    is "$(tr '\0' ' ' < "$T/qq/envelope" 2>/dev/null)" "Fa@b.org Tu@ex.test  " "MXPS: qmail-qmtpd queued it"
    remote mxpsf.test u@ex.test
    is "$(letters)" "rK" "MXPS: nothing on port 209: SMTP port 25 on the same host ($QFIP)"
  else
    for i in 1 2 3; do ok 0 "# skip $mxps"; done
  fi
  stop "$DNS"
fi
[ -n "${QIP:-}" ] && stop "$QPID"
[ -n "${QFIP:-}" ] && stop "$F25"

done_testing
