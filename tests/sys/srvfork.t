#!/bin/bash
# srvfork.t: the servers' own fork server (hub/servers/srvfork.h,
# docs/process.md), which replaces tcpserver by default.
#  - with a helper built on it (tests/unit/srvfork.c: srvfork(), then it
#    prints its environment and descriptors): tcprules allow, deny and
#    +VAR, the child's environment equal to tcpserver's for the same rules
#    (TCP6* aside, which the Debian tcpserver adds for IPv4 too), socket on
#    fd 0 and 1 with TCP_NODELAY and nothing else open, signals reset;
#    the CONCURRENCY cap (the next client waits for a free slot); a child
#    that crashes leaves the listener serving; a changed rules cdb counts
#    at the next connection; a missing one drops connections (fail
#    closed); SIGTERM ends the listener while a session goes on; bad
#    settings refuse to start; strace shows no execve for 5 connections
#    (and 5 under tcpserver: the check can see them)
#  - on an installed hub: the services listen themselves (no tcpserver);
#    RELAYCLIENT comes from the rules, never from the caller of qmailctl;
#    PERIP holds; TLS from the listener's preloaded context, a new
#    certificate used without a restart, a broken one 454; env/TCPSERVER 1
#    runs the classic tcpserver line.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
U=$SRCDIR/$BUILD/tests/unit/srvfork
SVCRUN=$SRCDIR/$BUILD/hub/qmail-svcrun   # an empty environment, no fd above 2
[ -x "$U" ] || { echo "Bail out! tests/unit/srvfork is not built (make all BUILD=$BUILD)"; exit 1; }
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
  { echo "1..0 # skip cannot bind 127.0.0.2 (no 127/8 route on lo)"; exit 0; }

rules() { printf '%b' "$1" > "$T/r.txt"; tcprules "$T/r.cdb" "$T/r.tmp" < "$T/r.txt"; }
rules '127.0.0.2:deny\n127.0.0.1:allow,RELAYCLIENT="",X="a b"\n:allow,Y="1"\n'

# serve LOG CONCURRENCY [NAME=VALUE...]: the helper as a listener on a free
# loopback port (another port if the one picked was taken); SP, SPID
serve() {
  local log=$1 conc=$2 try
  shift 2
  for try in 1 2 3 4 5; do
    SP=$(free_port)
    "$SVCRUN" - SERVE=1 SERVE_IP=127.0.0.1 SERVE_PORT="$SP" SERVE_RULES="$T/r.cdb" \
      CONCURRENCY="$conc" "$@" "$U" serve 2> "$log" &
    SPID=$!
    _pids+=("$SPID")
    wait_until grep -qs 'status: 0/' "$log"
    kill -0 "$SPID" 2>/dev/null && return 0
    grep -q 'unable to bind' "$log" || return 1
  done
  return 1
}
# cli SRC CMD [PORT]: connect from SRC, send CMD, print the answer (or "closed")
cat > "$T/cli.py" <<'PY'
import socket, sys
src, cmd, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.settimeout(float(sys.argv[4]) if len(sys.argv) > 4 else 30)
s.bind((src, 0)); s.connect(("127.0.0.1", port))
try:
    s.sendall(cmd.encode() + b"\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b: break
        data += b
    sys.stdout.write(data.decode() if data else "closed\n")
except socket.timeout:
    print("timeout")
except ConnectionResetError:
    print("closed")
PY
cli() { python3 "$T/cli.py" "$1" "$2" "${3:-$SP}" ${4:+"$4"}; }

serve "$T/log" 3; ok $? "the helper listens (SERVE=1)"
# has OUT LINE DESC: OUT has the line LINE
has() { is "$(printf '%s\n' "$1" | grep -cxF -- "$2")" 1 "$3"; }
out=$(cli 127.0.0.1 env)
has "$out" "RELAYCLIENT=" "127.0.0.1: RELAYCLIENT=\"\" from the rules"
has "$out" "X=a b" "and X=\"a b\""
unlike() { like "$(printf '%s' "$1" | grep -cE -- "$2")" '^0$' "$3"; }
unlike "$out" '^Y=' "only the first matching entry counts (not the default's Y)"
is "$(printf '%s\n' "$out" | sed -n '/^fds /q; s/^TCPREMOTEPORT=[1-9][0-9]*$/TCPREMOTEPORT=N/; p')" \
  "$(printf '%s\n' CONCURRENCY=3 PATH=/usr/local/bin:/usr/bin:/bin PROTO=TCP RELAYCLIENT= TCPLOCALHOST=0 TCPLOCALIP=127.0.0.1 \
     TCPLOCALPORT="$SP" TCPREMOTEIP=127.0.0.1 TCPREMOTEPORT=N "X=a b")" \
  "the environment: the listener's, PROTO, TCPLOCALHOST=0, TCPLOCALIP, TCPLOCALPORT, TCPREMOTEIP, TCPREMOTEPORT, the rule's"
unlike "$out" '^(SERVE|TCPREMOTEHOST|TCPREMOTEINFO)' "no SERVE* setting, no TCPREMOTEHOST or TCPREMOTEINFO"
is "$(printf '%s\n' "$out" | sed -n '/^fds /,$p')" "$(printf '%s\n' 'fds 0 1 2' 'nodelay 1' 'same01 1' 'blocked 0' 'chld 0')" \
  "fds 0 and 1 the socket (TCP_NODELAY), 2 the log, no listener; no signal blocked, SIGCHLD default"
has "$(cli 127.0.0.3 env)" "Y=1" "127.0.0.3: the default entry \"\" (+Y)"
is "$(cli 127.0.0.2 env)" closed "127.0.0.2: deny, the connection is closed"
like "$(cat "$T/log")" 'srvfork: deny [0-9]+ 0:127\.0\.0\.1:[0-9]+ :127\.0\.0\.2::[0-9]+' "and logged as tcpserver -v does"
like "$(cat "$T/log")" 'srvfork: end [0-9]+ status 25600' "the denied child ends with 100"
like "$(cat "$T/log")" '^srvfork: status: 1/3$' "status lines N/CONCURRENCY"
like "$(cat "$T/log")" 'srvfork: ok [0-9]+ 0:127\.0\.0\.1:'"$SP"' :127\.0\.0\.1::[0-9]+' "ok lines"

# the same rules under tcpserver: the same environment (the ports and the
# Debian build's TCP6* copies aside) and descriptors
TP=$(free_port)
"$SVCRUN" - CONCURRENCY=3 tcpserver -DHRl0 -x "$T/r.cdb" 127.0.0.1 "$TP" "$U" serve 2> "$T/tlog" &
TPID=$!; _pids+=("$TPID")
wait_until eval 'ss -ltnH "sport = :$TP" | grep -q .'
norm() { grep -vE '^TCP6|^(TCPLOCALPORT|TCPREMOTEPORT)='; }
for src in 127.0.0.1 127.0.0.3; do
  is "$(cli "$src" env "$SP" | norm)" "$(cli "$src" env "$TP" | norm)" "$src: the child's environment and descriptors are tcpserver's"
done
is "$(cli 127.0.0.2 env "$TP")" closed "127.0.0.2 under tcpserver: closed too"

# no exec per connection: strace on the listener sees none for 5
# connections; on tcpserver it sees one each
nexec() { # PID PORT: execve calls in PID and its children for 5 connections
  strace -f -q -e trace=execve -o "$T/strace" -p "$1" 2> "$T/strace.err" & local st=$!
  wait_until eval "awk '/^TracerPid:/ { exit \$2 == 0 }' /proc/$1/status"
  for _ in 1 2 3 4 5; do cli 127.0.0.1 env "$2" > /dev/null; done
  sleep 0.5; kill "$st"; wait "$st" 2>/dev/null
  grep -c 'execve(' "$T/strace"
}
if command -v strace > /dev/null && strace -q -e trace=none true 2>/dev/null; then
  is "$(nexec "$SPID" "$SP")" 0 "no execve in the listener or its children for 5 connections"
  is "$(nexec "$TPID" "$TP")" 5 "(tcpserver: 5 execve for 5 connections)"
else
  ok 0 "# skip no strace or no ptrace"; ok 0 "# skip no strace or no ptrace"
fi
kill "$TPID"

# a child that crashes: logged, and the listener goes on
is "$(cli 127.0.0.1 crash)" closed "a child that aborts: the client sees the close"
wait_until grep -qE 'srvfork: end [0-9]+ status 134$|srvfork: end [0-9]+ status 6$' "$T/log"
ok $? "its end is logged with the signal"
like "$(cli 127.0.0.1 env)" 'PROTO=TCP' "the next connection is served"

# CONCURRENCY 3: the fourth client waits until one of three leaves
for i in 1 2 3; do python3 "$T/cli.py" 127.0.0.1 hold "$SP" 60 > /dev/null & eval "h$i=\$!"; _pids+=("$!"); done
wait_until grep -q 'status: 3/3' "$T/log"
is "$(cli 127.0.0.1 env "$SP" 2)" timeout "at the cap the fourth client is not served (2 s)"
python3 "$T/cli.py" 127.0.0.1 env "$SP" 30 > "$T/fourth" & fourth=$!
sleep 0.5; kill "$h1"
wait "$fourth"
like "$(cat "$T/fourth")" 'PROTO=TCP' "once one leaves, it is"
kill "$h2" "$h3"

# the rules cdb is read for each connection
rules '127.0.0.1:deny\n:allow\n'
is "$(cli 127.0.0.1 env)" closed "a rules cdb changed while running counts at once (127.0.0.1 now denied)"
mv "$T/r.cdb" "$T/r.away"
is "$(cli 127.0.0.3 env)" closed "no rules cdb: the connection is dropped (fail closed)"
like "$(cat "$T/log")" 'srvfork: warning: dropping connection, unable to read .*r\.cdb' "and logged"
mv "$T/r.away" "$T/r.cdb"
like "$(cli 127.0.0.3 env)" 'PROTO=TCP' "back: served"
rules '127.0.0.2:deny\n127.0.0.1:allow,RELAYCLIENT="",X="a b"\n:allow,Y="1"\n'

# SIGTERM: the listener ends; a session in progress goes on
npid() { grep -c '^srvfork: pid ' "$T/log"; }
n0=$(npid)
python3 "$T/cli.py" 127.0.0.1 hold "$SP" 60 > /dev/null & h=$!; _pids+=("$h")
wait_until eval '[ "$(npid)" -gt "$n0" ]'
cpid=$(sed -n 's/^srvfork: pid \([0-9]*\) from 127\.0\.0\.1$/\1/p' "$T/log" | tail -n 1)
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
is "$(ss -ltnH "sport = :$SP" | wc -l)" 0 "SIGTERM: the listener is gone"
kill -0 "$cpid" 2>/dev/null; ok $? "the session it forked goes on"
kill "$h"; wait_until eval '! kill -0 '"$cpid"' 2>/dev/null'
ok $? "and ends with its client"

# bad settings: refused at start
env -i SERVE=2 SERVE_PORT=1 SERVE_RULES=x "$U" serve 2> "$T/bad"; rc=$?
is "$rc:$(cat "$T/bad")" "111:srvfork: fatal: bad setting SERVE (1 or unset)" "SERVE=2: exit 111"
env -i SERVE=1 SERVE_PORT=1 "$U" serve 2> "$T/bad"; rc=$?
is "$rc:$(cat "$T/bad")" "111:srvfork: fatal: no SERVE_RULES (the tcprules cdb)" "no SERVE_RULES: exit 111"
env -i SERVE=1 SERVE_PORT=1 SERVE_RULES=x CONCURRENCY=0 "$U" serve 2> "$T/bad"; rc=$?
is "$rc:$(cat "$T/bad")" "111:srvfork: fatal: bad setting CONCURRENCY" "CONCURRENCY 0: exit 111"

# ---- an installed hub ------------------------------------------------------------
hub_install
rm -rf "$HUB/service/qmail-send"
echo 1 > "$HUB/service/qmail-smtpd/env/PERIP"
# started: qmailctl start (new ports if taken), then smtpd answers
started() { qmailctl_start "$HUB" "$T/start.log" || return 1; SMTP=$(cat "$HUB/service/qmail-smtpd/env/PORT")
  wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SMTP),0.5).close()" 2>/dev/null; }
RELAYCLIENT="" started; ok $? "hub started with RELAYCLIENT exported by the caller"
g=$(head -n 1 "$HUB/service/qmail-smtpd/qmailctl.pid")
is "$(ps -e -o pgid=,comm= | awk -v g="$g" '$1 == g { print $2 }' | grep -cx tcpserver)" 0 "no tcpserver in smtpd's service"
cat > "$T/smtp.py" <<'PY'
import smtplib, sys
s = smtplib.SMTP(timeout=30, source_address=(sys.argv[2], 0)); s.connect("127.0.0.1", int(sys.argv[1]))
s.ehlo("x"); s.mail("a@example.org"); print(s.rcpt("b@elsewhere.example")[0]); s.quit()
PY
is "$(python3 "$T/smtp.py" "$SMTP" 127.0.0.1)" 250 "127.0.0.1 relays (RELAYCLIENT from tcp.smtp)"
is "$(python3 "$T/smtp.py" "$SMTP" 127.0.0.2)" 250 "127.0.0.2 relays too, under the installed 127. rule"
printf '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n' > "$HUB/control/tcp.smtp"
"$HUB/bin/qmailctl" cdb > /dev/null
is "$(python3 "$T/smtp.py" "$SMTP" 127.0.0.2)" 553 "with 127.0.0.1 alone relaying, 127.0.0.2 may not: the caller's RELAYCLIENT did not reach it"
python3 -c 'import socket,sys,time; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 20); print(s.recv(512)[:3].decode(), flush=True); time.sleep(60)' "$SMTP" > "$T/held" &
held=$!; _pids+=("$held")
wait_until grep -q 220 "$T/held"
like "$(python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 20); print(s.recv(512).decode())' "$SMTP")" \
  '^421 too many connections' "PERIP 1: a second connection from 127.0.0.1 gets 421"
kill "$held"
# TLS: the listener builds its context once (q_tls.h, qtls_preload): a
# STARTTLS session's child does not read servercert.pem; a new certificate
# counts at the next connection, without a restart
fp() { printf 'EHLO x\r\nQUIT\r\n' | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$SMTP" 2>/dev/null |
  openssl x509 -noout -fingerprint -sha256 2>/dev/null; }
if command -v openssl > /dev/null && [ -f "$HUB/control/servercert.pem" ]; then
  fp1=$(fp)
  like "$fp1" "Fingerprint=" "STARTTLS works (the preloaded context)"
  lst=$(ps -e -o pid=,pgid=,comm= | awk -v g="$g" '$2 == g && $3 == "qmail-smtpd" { print $1 }')
  if command -v strace > /dev/null && strace -q -e trace=none true 2>/dev/null; then
    strace -f -q -e trace=open,openat -o "$T/tls.strace" -p "$lst" 2> /dev/null & st=$!
    wait_until eval "awk '/^TracerPid:/ { exit \$2 == 0 }' /proc/$lst/status"
    fp > /dev/null; sleep 0.5; kill "$st"; wait "$st" 2>/dev/null
    is "$(grep -c 'servercert\.pem' "$T/tls.strace")" 0 "a STARTTLS session does not open servercert.pem: the listener's context serves it"
  else ok 0 "# skip no strace or no ptrace"; fi
  "$HUB/bin/qmailctl" tlscert -f > /dev/null 2>&1
  fp2=$(fp)
  like "$fp2" "Fingerprint=" "after qmailctl tlscert -f: STARTTLS works"
  ok "$([ "$fp1" != "$fp2" ]; echo $?)" "with the new certificate, without a restart"
  printf 'junk\n' > "$HUB/control/servercert.pem"
  like "$(python3 - "$SMTP" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30); s.ehlo("x")
print(s.docmd("STARTTLS"))
PY
)" "454" "a broken certificate: 454 as before (no stale context)"
else
  for i in 1 2 3 4 5; do ok 0 "# skip no openssl or no certificate"; done
fi
hub_stop
echo 1 > "$HUB/service/qmail-smtpd/env/TCPSERVER"
started; ok $? "env/TCPSERVER 1: started"
g=$(head -n 1 "$HUB/service/qmail-smtpd/qmailctl.pid")
is "$(ps -e -o pgid=,comm= | awk -v g="$g" '$1 == g { print $2 }' | grep -cx tcpserver)" 1 "classic mode: tcpserver runs the service"
is "$(python3 "$T/smtp.py" "$SMTP" 127.0.0.1)" 250 "and qmail-smtpd under it relays for 127.0.0.1"
wait_until grep -q 'tcpserver: ok' "$HUB/log/qmail-smtpd/current"
ok $? "tcpserver's log lines"
hub_stop
done_testing
