#!/bin/bash
# qmtpsc.t: the client side of QMTPS (docs/qmtps.md) against an installed
# hub's qmail-qmtps service (its down file removed, a random loopback
# port; the hub's certificate issued by a test CA for 127.0.0.1).
# The leaf: qmtps: lines in control/qmqpservers, bin/qmail-qmtpsc doing
# the TLS: delivered to the Maildir with a CA file and with a pin; a wrong
# pin or a CA that did not issue the hub's certificate is a temporary
# failure, the message kept in the leaf's spool and nothing sent (the hub
# logs a failed handshake, no message arrives), delivered by a flush once
# the pin is right; neither CA nor pin: fails closed before connecting; a
# client certificate in the hub's control/tlsclients relays to a remote
# domain, without it that recipient gets D while the local one gets K;
# failover from a dead qmtps: entry to a live one; a TLS server that
# stalls mid-handshake is given up within qmqptimeout; plain sends link
# no libtls. qmail-remote: a qmtproutes line with the qmtps option sends a
# batch over one TLS connection in session mode (handshakes counted in the
# hub's log), and a wrong CA defers (#4.7.5) without sending; answers per
# recipient; a relay stalling mid-handshake is given up at timeoutremote;
# the dial-up flush of a second installed hub (qmail-send, qmail-rspawn,
# qmail-remote -S as qmailr) over one TLS connection.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }
command -v openssl > /dev/null || { echo "1..0 # skip no openssl (make deps)"; exit 0; }

hub_install; ok $? "make install makes a hub home"
printf ':allow\n' > "$HUB/control/tcp.qmtp"   # no relay by address, even from 127.
"$HUB/bin/qmailctl" cdb > /dev/null 2>&1

# certificates: a CA that issues the hub's (for 127.0.0.1 and localhost),
# another CA, and the leaf's own self-signed client certificate
C=$T/certs; mkdir -p "$C"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/$1.key" 2> /dev/null; }
ca() { key "$1" && openssl req -x509 -new -key "$C/$1.key" -days 3 -subj "/CN=$1" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign -out "$C/$1.crt" 2> /dev/null; }
ca testca && ca otherca && key hub &&
  openssl req -new -key "$C/hub.key" -subj /CN=hub.example.org -out "$C/hub.csr" 2> /dev/null &&
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:hubhost.test\nextendedKeyUsage=serverAuth\n' > "$C/hub.ext" &&
  openssl x509 -req -in "$C/hub.csr" -CA "$C/testca.crt" -CAkey "$C/testca.key" -CAcreateserial \
    -days 3 -extfile "$C/hub.ext" -out "$C/hub.crt" 2> /dev/null &&
  key leaf && openssl req -x509 -new -key "$C/leaf.key" -days 3 -subj /CN=leaf.example.org \
    -out "$C/leaf.crt" 2> /dev/null
ok $? "certificates made with openssl"
cat "$C/hub.crt" "$C/hub.key" > "$HUB/control/servercert.pem"   # the install's file: its owner and mode kept
HUBPIN=sha256:$(openssl x509 -noout -fingerprint -sha256 -in "$C/hub.crt" | sed 's/.*=//')
LEAFFP=$(openssl x509 -noout -fingerprint -sha256 -in "$C/leaf.crt" | sed 's/.*=//')
printf 'sha256:%s\n' "$LEAFFP" > "$HUB/control/tlsclients"; chmod 644 "$HUB/control/tlsclients"

# relayed mail is held (a route to a port nothing listens on)
dead_port DEAD
printf 'remote.example.net:127.0.0.1:%s\n' "$DEAD" > "$HUB/control/smtproutes"
hub_newu
rm "$HUB/service/qmail-qmtps/down"
hub_start; ok $? "hub started with qmail-qmtps"
QP=$(cat "$HUB/service/qmail-qmtps/env/PORT")
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$QP),0.5)" 2>/dev/null
slog() { cat "$HUB"/log/qmail-qmtps/@* "$HUB/log/qmail-qmtps/current" 2>/dev/null; }
MD=$HUB/alias/Maildir
PM=postmaster@$ME
REMOTE=someone@remote.example.net

leaf=$T/leaf
install_leaf "$leaf"; ok $? "make install-leaf makes a leaf home"
ok "$([ -x "$leaf/bin/qmail-qmtpsc" ]; echo $?)" "the leaf has bin/qmail-qmtpsc"
ok "$(ldd "$leaf/bin/sendmail" | grep -qE 'libtls|libssl|libcrypto'; [ $? != 0 ]; echo $?)" \
  "sendmail links no libtls, libssl nor libcrypto (the plain path pays nothing)"
ok "$(ldd "$leaf/bin/qmail-qmtpsc" | grep -q libtls; echo $?)" "bin/qmail-qmtpsc links libtls"
SP=$leaf/spool/$(id -u)
nspool() { find "$SP" -type f 2>/dev/null | wc -l; }
servers() { printf '%s\n' "$@" > "$leaf/control/qmqpservers"; }
echo 5 > "$leaf/control/qmqptimeout"
lctl() { # lctl FILE [CONTENT]: set or (no content) remove a leaf control file
  if [ $# = 1 ]; then rm -f "$leaf/control/$1"; else printf '%s\n' "$2" > "$leaf/control/$1"; fi
}
sm() { # sm SUBJECT RCPT...: sendmail through the leaf; sets RC, ERR
  RC=0
  printf 'From: a@leaf.example.org\nSubject: %s\n\nhello\n' "$1" |
    timeout 60 "$leaf/bin/sendmail" -f a@leaf.example.org "${@:2}" 2> "$T/sm.err" || RC=$?
  ERR=$(cat "$T/sm.err")
}
# qq SUBJECT RCPT...: qmail-qmqpc itself with the spool off: RC, FD6 (its
# fd 6 text); vq SUBJECT RCPT...: sendmail -v with the spool off: RC, VERB
printf 'Fa@leaf.example.org\0' > "$T/env0"
qq() {
  local r
  printf 'From: a@leaf.example.org\nSubject: %s\n\nhello\n' "$1" > "$T/msg"
  cp "$T/env0" "$T/env"; for r in "${@:2}"; do printf 'T%s\0' "$r" >> "$T/env"; done; printf '\0' >> "$T/env"
  RC=0; echo none > "$leaf/control/spool"
  timeout 60 "$leaf/bin/qmail-qmqpc" < "$T/msg" 1< "$T/env" 6> "$T/fd6" 2> "$T/verb" || RC=$?
  rm -f "$leaf/control/spool"
  FD6=$(cat "$T/fd6")
}
vq() {
  RC=0; echo none > "$leaf/control/spool"
  printf 'From: a@leaf.example.org\nSubject: %s\n\nhello\n' "$1" |
    timeout 60 "$leaf/bin/sendmail" -v -f a@leaf.example.org "${@:2}" > "$T/verb" 2>&1 || RC=$?
  rm -f "$leaf/control/spool"
  VERB=$(cat "$T/verb")
}
got() { grep -l "^Subject: $1\$" "$MD"/new/* 2> /dev/null | wc -l; }
arrived() { [ "$(got "$1")" -ge 1 ]; }
handshakes_failed() { slog | grep -c 'qmtps - - reason="TLS'; }

# ---- CA file -------------------------------------------------------------------
servers "qmtps:127.0.0.1:$QP"
cp "$C/testca.crt" "$leaf/control/qmtpsca.pem"
sm ca-verified "$PM"
is "$RC:$ERR" "0:" "sendmail through qmtps: with the hub's CA in control/qmtpsca.pem: exit 0"
wait_until arrived ca-verified; ok $? "  delivered to the Maildir"
like "$(grep -l '^Subject: ca-verified' "$MD"/new/* | head -1 | xargs -r sed -n '/^Received: from/{N;p;q}' | tr '\n' ' ')" \
  "with QMTPS \(TLSv1\.[23] cipher" "  its Received line says QMTPS"
is "$(nspool)" 0 "  nothing left in the leaf's spool"
vq ca-verbose "$PM"
like "$VERB" "connected \(QMTPS\) TLSv1\.[23] cipher [A-Z0-9_-]+ bits [0-9]+ verify ok" \
  "qmail-qmqpc -v: the TLS version, cipher and 'verify ok'"

# a CA that did not issue the hub's certificate
cp "$C/otherca.crt" "$leaf/control/qmtpsca.pem"
n0=$(handshakes_failed); s0=$(nspool)
sm wrong-ca "$PM"
is "$RC" 0 "wrong CA: sendmail exits 0 (the message is kept)"
like "$ERR" "kept in the spool .*127\.0\.0\.1:$QP: TLS: certificate verification failed" "  and says why: the certificate did not verify"
is "$(nspool)" $((s0 + 1)) "  the message waits in the leaf's spool"
wait_until eval '[ "$(handshakes_failed)" -gt "$n0" ]'; ok $? "  the hub logged a failed handshake (nothing sent in the clear)"
qq wrong-ca2 "$PM"
is "$RC" 82 "wrong CA: qmail-qmqpc exits 82"
like "$FD6" "^Zno hub took the message: 127\.0\.0\.1:$QP: TLS: certificate verification failed.*\(#4\.4\.2\)$" "  a Z text naming the hub and the TLS failure"

cp "$C/testca.crt" "$leaf/control/qmtpsca.pem"
servers "qmtps:[::1]:$QP" "qmtps:127.0.0.1:$QP"
vq failover-name "$PM"
is "$RC" 0 "failover: a dead qmtps: entry ([::1], nothing there), then a live one: exit 0"
like "$(printf "%s" "$VERB" | tr "\n" " ")" "hub \[::1\]:$QP: (connection refused|network is unreachable|cannot assign).*hub 127\.0\.0\.1:$QP: connected \(QMTPS\)" \
  "  the dead one tried first, the live one took it"
dead_port DEAD2
servers "qmtps:127.0.0.1:$DEAD2" "qmtps:127.0.0.1:$QP"
sm failover "$PM"
is "$RC:$ERR" "0:" "failover through sendmail: exit 0, nothing said"
wait_until arrived failover; ok $? "  delivered"

# ---- pins -----------------------------------------------------------------------
servers "qmtps:127.0.0.1:$QP"
lctl qmtpsca.pem
printf '# the hub\n%s\n' "sha256:$(printf '%064d' 0)" > "$leaf/control/qmtpspins"
s0=$(nspool)
sm wrong-pin "$PM"
like "$ERR" "kept in the spool .*matches no fingerprint in control/qmtpspins" "a wrong pin: kept in the spool, and why"
is "$(nspool)" $((s0 + 1)) "  one more message waits in the spool"
printf '# the hub\n%s\n' "$HUBPIN" > "$leaf/control/qmtpspins"
sm pinned "$PM"
is "$RC:$ERR" "0:" "the hub's pin (sha256:AB:CD:... as openssl prints it): exit 0"
wait_until arrived pinned; ok $? "  delivered"
vq pin-verbose "$PM"
like "$VERB" "verify pin" "  qmail-qmqpc -v says 'verify pin'"
timeout 60 "$leaf/bin/qmail-qmqpc" -flush > /dev/null 2>&1
is "$(nspool)" 0 "qmail-qmqpc -flush once the pin is right: the spool is empty"
wait_until arrived wrong-pin && wait_until arrived wrong-ca
ok $? "  and the messages kept earlier reached the Maildir"
echo "sha256:12" > "$leaf/control/qmtpspins"
qq bad-pin-line "$PM"
like "$FD6" "^Z.*control/qmtpspins: item is not sha256:HEX" "a bad control/qmtpspins line: Z, saying so"
lctl qmtpspins
# neither: fails closed before connecting
qq neither "$PM"
is "$RC" 82 "neither control/qmtpsca.pem nor control/qmtpspins: exit 82"
like "$FD6" "^Zno hub took the message: control/qmqpservers line 1: qmtps: no way to check the hub's certificate" \
  "  fails closed with a clear text"
out=$("$leaf/bin/qmail-showctl" -c 2>&1); rc=$?
is "$rc" 1 "qmail-showctl -c: exit 1 for a qmtps: line without CA or pin"
like "$out" "qmqpservers line 1: qmtps: neither control/qmtpsca\.pem nor control/qmtpspins exists" "  naming the line"
vq neither-v "$PM"
ok "$(printf '%s' "$VERB" | grep -qE "hub 127\.0\.0\.1:$QP|connected"; [ $? != 0 ]; echo $?)" "  and tries no hub at all"

# both: the CA and a pin must both hold
cp "$C/testca.crt" "$leaf/control/qmtpsca.pem"
printf '%s\n' "sha256:$(printf '%064d' 0)" > "$leaf/control/qmtpspins"
qq both-wrong-pin "$PM"
like "$FD6" "^Z.*matches no fingerprint" "CA good, pin wrong: refused"
printf '%s\n' "$HUBPIN" > "$leaf/control/qmtpspins"
qq both-good "$PM"
is "$RC" 0 "CA and pin good: exit 0"

# ---- relay by client certificate, per-recipient answers -----------------------------
qq no-cert "$PM" "$REMOTE"
is "$RC" 82 "no client certificate: one local and one remote recipient: 82"
like "$FD6" "^D1 of 2 recipients refused: someone@remote\.example\.net: .*5\.7\.1" "  D for the remote one only"
vq no-cert-v "$PM" "$REMOTE"
like "$(printf '%s' "$VERB" | tr '\n' ' ')" "$PM: accepted.*someone@remote\.example\.net: refused" "  per-recipient answers said by sendmail -v"
cat "$C/leaf.crt" "$C/leaf.key" > "$leaf/control/qmtpscert.pem"; chmod 600 "$leaf/control/qmtpscert.pem"
qq relayed "$REMOTE" "$PM"
is "$RC:$FD6" "0:" "control/qmtpscert.pem listed in the hub's control/tlsclients: the remote recipient is taken"
wait_until eval "slog | grep -q 'relay by certificate SHA256:'"
ok $? "  the hub logged the relay by certificate"

# ---- a TLS server that stalls mid-handshake ----------------------------------------------
STALL_LOG=$T/stall.log
python3 - "$T/stall.port" > "$STALL_LOG" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
s.settimeout(60)
c, _ = s.accept()
c.recv(4096)                                  # the ClientHello
c.sendall(b"\x16\x03\x03\x00\x40\x02\x00\x00")  # a ServerHello's first bytes, then nothing
time.sleep(60)
PY
STALL_PID=$!
wait_until test -s "$T/stall.port"
servers "qmtps:127.0.0.1:$(cat "$T/stall.port")"
echo 2 > "$leaf/control/qmqptimeout"
t0=$(date +%s%N); qq stall "$PM"; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$STALL_PID" 2> /dev/null; wait "$STALL_PID" 2> /dev/null
is "$RC" 82 "a server stalling mid-handshake: exit 82"
like "$FD6" "TLS handshake: timed out" "  the text says the handshake timed out"
ok "$([ "$ms" -ge 1500 ] && [ "$ms" -lt 15000 ]; echo $?)" "  given up at qmqptimeout (2 s; took $ms ms)"
echo 5 > "$leaf/control/qmqptimeout"

# ---- qmail-remote: a qmtps route -------------------------------------------------------------
# a home of its own for qmail-remote (QMAILHOME for it alone), the build's
# qmail-remote; the hub is the relay hubhost.test (a name its certificate
# carries), which tests/lib/dnsfake.py resolves to 127.0.0.1
R=$T/rhome
mkdir -p "$R/control" "$R/queue/lock" "$R/queue/mess/0"
printf 'hubhost.test A noad 127.0.0.1\nhubhost.test AAAA nodata\n' > "$T/zone"
python3 "$SRCDIR/tests/lib/dnsfake.py" "$T/zone" --bind 127.0.0.1 > "$T/dns.port" 2> "$T/dns.log" &
_pids+=($!)
wait_until test -s "$T/dns.port"
printf '127.0.0.1:%s\n' "$(cat "$T/dns.port")" > "$R/control/dnsservers"
head -c 1024 /dev/zero > "$R/queue/lock/tcpto"
printf 'relay.example.org\n' > "$R/control/me"
for i in $(seq 1 10); do printf 'Subject: batch %s\n\nbody %s\n' "$i" "$i" > "$R/queue/mess/0/$i"; done
printf 'hub.example.org:hubhost.test:%s:qmtps\n' "$QP" > "$R/control/qmtproutes"
printf 'hubhost.test:verify\n' > "$R/control/tlsdestinations"
cp "$C/testca.crt" "$R/control/remoteca.pem"
cat "$C/leaf.crt" "$C/leaf.key" > "$R/control/clientcert.pem"
QR=$SRCDIR/$BUILD/hub/qmail-remote
certlines() { slog | grep -c 'relay by certificate SHA256:'; }
rsess() { (cd "$R" && QMAILHOME=$R timeout 120 python3 "$SRCDIR/tests/lib/rsessdrive.py" "$QR" hub.example.org); }
c0=$(certlines)
OUT=$(rsess <<EOF
jobs 10 0/1 a@relay.example.org $PM
wait
eof
EOF
)
is "$(printf '%s\n' "$OUT" | awk '$1 == "J" { printf "%s ", $3 }')" "$(printf 'rK %.0s' $(seq 10))" \
  "qmail-remote -S, qmtps route, verify: 10 jobs delivered"
is "$(printf '%s\n' "$OUT" | grep -c 'accepted message (QMTP) over TLS (TLSv1\.[23] cipher .* verify ok)')" 10 \
  "  each K report names the TLS and 'verify ok'"
wait_until eval '[ "$(got "batch 1")" -ge 10 ]'; ok $? "  10 messages in the Maildir"
is "$(( $(certlines) - c0 ))" 1 "  over one TLS connection: one handshake in the hub's log (its client certificate logged once)"
like "$(grep -l '^Subject: batch 1$' "$MD"/new/* | head -1 | xargs -r sed -n '/^Received: from/{N;p;q}' | tr '\n' ' ')" \
  "with QMTPS \(TLSv1\.[23]" "  Received: with QMTPS"

printf 'Subject: single\n\nhello\n' > "$T/rmsg"
rsingle() { (cd "$R" && QMAILHOME=$R timeout 60 "$QR" hub.example.org a@relay.example.org "$PM" < "$T/rmsg" | tr '\0' '\n'); }
like "$(rsingle | tail -1)" "^K.*accepted message \(QMTP\) over TLS \(TLSv1\.[23] .*verify ok\)" "qmail-remote (one delivery), qmtps route: K over TLS"
cp "$C/otherca.crt" "$R/control/remoteca.pem"
n0=$(handshakes_failed)
like "$(rsingle | tail -1)" "^Z.*TLS failed \(QMTPS\): .*certificate verif.*\(#4\.7\.5\)" "verify with a CA that did not issue the hub's: deferred #4.7.5"
wait_until eval '[ "$(handshakes_failed)" -gt "$n0" ]'; ok $? "  the hub logged a failed handshake: nothing sent"
printf 'hubhost.test:may\n' > "$R/control/tlsdestinations"
like "$(rsingle | tail -1)" "^K.*over TLS \(TLSv1\.[23] .*verify none\)" "policy may: TLS all the same (the route asks for it), certificate not checked"
printf 'hub.example.org:hubhost.test:%s:qmtps\n' "$QP" > "$R/control/smtproutes"; rm "$R/control/qmtproutes"
like "$(rsingle | tail -1)" "^Z.*smtproutes has the qmtps option of qmtproutes\. \(#4\.3\.5\)" "qmtps in smtproutes: deferred, said clearly"

# per-recipient answers over QMTPS: without the client certificate the
# remote recipient is refused (h), the local one accepted (r)
printf 'hub.example.org:hubhost.test:%s:qmtps\n' "$QP" > "$R/control/qmtproutes"; rm "$R/control/smtproutes"
mv "$R/control/clientcert.pem" "$R/control/clientcert.pem.away"
OUT=$(cd "$R" && QMAILHOME=$R timeout 60 "$QR" hub.example.org a@relay.example.org "$REMOTE" "$PM" < "$T/rmsg" | tr '\0' '\n')
is "$(printf '%s\n' "$OUT" | cut -c1 | tr -d '\n')" "hrK" "no client certificate: the remote recipient refused, the local one accepted, per recipient"
mv "$R/control/clientcert.pem.away" "$R/control/clientcert.pem"
# a TLS server that stalls mid-handshake: the delivery gives up at timeoutremote
python3 - "$T/stall2.port" > /dev/null 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
s.settimeout(60)
c, _ = s.accept()
c.recv(4096)
c.sendall(b"\x16\x03\x03\x00\x40\x02\x00\x00")
time.sleep(60)
PY
STALL_PID=$!
wait_until test -s "$T/stall2.port"
printf 'hub.example.org:hubhost.test:%s:qmtps\n' "$(cat "$T/stall2.port")" > "$R/control/qmtproutes"
echo 2 > "$R/control/timeoutremote"
t0=$(date +%s%N); OUT=$(rsingle | tail -1); ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$STALL_PID" 2> /dev/null; wait "$STALL_PID" 2> /dev/null
like "$OUT" "^Z.*TLS failed \(QMTPS\): TLS handshake: timed out" "qmail-remote, a relay stalling mid-handshake: deferred, timed out"
ok "$([ "$ms" -ge 1500 ] && [ "$ms" -lt 15000 ]; echo $?)" "  given up at timeoutremote (2 s; took $ms ms)"

# ---- the dial-up flush: an installed relay hub's queue over one QMTPS connection -----------
# a second installed hub (no services of its own but qmail-send) holds 5
# messages for the first hub while its route points at a dead port, then
# the route is fixed and qmailctl flush sends them (qmail-tcpok first:
# the dead port was on the same address): qmail-rspawn runs
# qmail-remote -S as qmailr, sessionsperhost 1, one TLS handshake
RH=$T/relayhub
if qmake install QMAILHOME="$RH" > "$T/install2.log" 2>&1; then
  echo relay.example.org > "$RH/control/me"; echo relay.example.org > "$RH/control/locals"
  for s in qmail-smtpd qmail-qmtpd qmail-qmqpd qmail-smtps qmail-submission qmail-qmtps qmail-pop3d qmail-pop3s; do
    rm -rf "$RH/service/$s"
  done
  cp "$R/control/dnsservers" "$RH/control/"
  echo 1 > "$RH/control/sessionsperhost"
  echo 1 > "$RH/control/timeoutidle"   # the sessions that met the dead route end soon
  cp "$C/testca.crt" "$RH/control/remoteca.pem"
  (umask 077; cat "$C/leaf.crt" "$C/leaf.key" > "$RH/control/clientcert.pem")
  [ "$(id -u)" = 0 ] && chown qmailr "$RH/control/clientcert.pem"
  printf 'hubhost.test:verify\n' > "$RH/control/tlsdestinations"
  printf 'hub.example.org:hubhost.test:%s:qmtps\n' "$DEAD" > "$RH/control/qmtproutes"
  qmailctl_start "$RH" "$T/start2.log"; ok $? "relay hub started (qmail-send only)"
  for i in 1 2 3 4 5; do
    printf 'Subject: flush %s\n\nhello\n' "$i" | "$RH/bin/qmail-inject" -f postmaster@relay.example.org "$PM"
  done
  rlog() { cat "$RH/log/qmail-send/current" 2>/dev/null; }
  wait_until eval '[ "$(rlog | grep -c "deferral:")" -ge 5 ]'; ok $? "  5 messages deferred while the route is dead"
  sleep 3                                 # past timeoutidle: no session with the old route
  c0=$(certlines)
  printf 'hub.example.org:hubhost.test:%s:qmtps\n' "$QP" > "$RH/control/qmtproutes"
  "$RH/bin/qmail-tcpok" > /dev/null 2>&1   # 127.0.0.1 refused: the tcpto table would skip it
  "$RH/bin/qmailctl" flush > /dev/null 2>&1
  wait_until eval '[ "$(got "flush [1-5]")" -ge 5 ]'; ok $? "  qmailctl flush: the 5 reach the hub's Maildir"
  is "$(( $(certlines) - c0 ))" 1 "  over one TLS connection (one handshake in the hub's log)"
  like "$(rlog | grep 'success:' | tail -1)" "accepted.message.\(QMTP\).over.TLS.\(TLSv1\.[23].*verify.ok\)" \
    "  qmail-send's log names the TLS and its verification"
  "$RH/bin/qmailctl" stop > /dev/null 2>&1
else
  sed 's/^/# /' "$T/install2.log" | tail -5
  ok 1 "make install of the relay hub"
fi

done_testing
