#!/bin/bash
# dane.t: qmail-remote with DANE (RFC 7672; hub/remote/dane.c, docs/dane.md) end
# to end on loopback. tests/lib/dnsfake.py plays a validating resolver on a
# random loopback address and port (control/dnsservers IP:PORT), setting or
# clearing the AD bit as each case says; tests/lib/danesmtp.py is the MX
# server with STARTTLS and a certificate made here by openssl(1). The MX
# comes from the MX records of dane.test; smtproutes only gives the port
# ("dane.test::PORT"), so the TLSA name is _PORT._tcp.mx.dane.test.
# control/tlsdestinations says "dane.test:dane". Cases:
#   3 1 1 of the server's key, all answers secure: delivered over TLS;
#   two 3 0 0 records, whole certificates, the second one the server's (an
#   answer too big for UDP: over TCP);
#   3 1 1 of another key: deferred #4.7.5, nothing sent;
#   DANE-TA 2 0 1 of the CA that signed the server's certificate (sent in
#   the chain): delivered; of another CA: deferred;
#   the same TLSA records without AD (insecure): no DANE, opportunistic TLS;
#   the MX records without AD: no DANE;
#   an authenticated NXDOMAIN for the TLSA name: no DANE;
#   SERVFAIL for TLSA: deferred, never plain text;
#   a server without STARTTLS and secure TLSA: deferred, nothing sent;
#   the A records without AD: no DANE;
#   only PKIX usages (1 1 1, unusable for SMTP): TLS required, without
#   authentication (deferred when the server has no STARTTLS);
#   a server without STARTTLS and insecure TLSA: plain text as under `may`;
#   a relay named in smtproutes: no MX answer needed, its TLSA decides.
# Then the default policy `may` (no tlsdestinations line), RFC 7672 sec
# 2.2: secure usable TLSA make it `dane` (matching: delivered, verify dane;
# another key: deferred on one connection, no plain retry; TLSA SERVFAIL
# with a secure MX: deferred; no STARTTLS: deferred); TLSA or MX without
# AD: opportunistic as before; without control/dnsservers (resolv.conf
# swapped in a mount namespace, as root): no TLSA query at all.
# Every server is started here and killed by pid; every wait is bounded.
. "$(dirname "$0")/../lib/common.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QR=$B/hub/qmail-remote
[ -x "$QR" ] || { echo "Bail out! qmail-remote not built (BUILD=$BUILD: make all first)"; exit 1; }
command -v openssl > /dev/null || { echo "1..0 # skip openssl(1) is not installed"; exit 0; }

H=$T/home
mkdir -p "$H/control" "$H/queue/lock"
head -c 1024 /dev/zero > "$H/queue/lock/tcpto"
printf 'hub.example.org\n' > "$H/control/me"
printf 'dane.test:dane\n' > "$H/control/tlsdestinations"
printf 'Subject: t\n\nhello\n' > "$T/msg"

# certificates: a CA, the server's certificate for mx.dane.test signed by
# it, another CA and another key (for records that must not match)
C=$T/certs; mkdir -p "$C"
(
  cd "$C" || exit 1
  K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'
  for c in ca ca2; do openssl req -x509 $K -days 2 -subj "/CN=$c" -keyout $c.key -out $c.crt || exit 1; done
  printf 'subjectAltName=DNS:mx.dane.test\n' > mx.ext
  openssl req -new $K -subj /CN=mx.dane.test -keyout mx.key -out mx.csr &&
  openssl x509 -req -in mx.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile mx.ext -out mx.crt &&
  openssl req -x509 $K -days 2 -subj /CN=other -keyout other.key -out other.crt
) > "$T/openssl.log" 2>&1 || { sed 's/^/# /' "$T/openssl.log"; echo "Bail out! openssl could not make the certificates"; exit 1; }
# hexes: the digests for TLSA records
spki256() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | od -An -tx1 -v | tr -d ' \n'; }
cert256() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -binary | od -An -tx1 -v | tr -d ' \n'; }
der() { openssl x509 -in "$1" -outform DER | od -An -tx1 -v | tr -d ' \n'; }
FULL=$(der "$C/mx.crt") OTHERFULL=$(der "$C/other.crt")
GOOD=$(spki256 "$C/mx.crt") OTHER=$(spki256 "$C/other.crt") CA=$(cert256 "$C/ca.crt") CA2=$(cert256 "$C/ca2.crt")

up() {
  local i
  for i in $(seq 200); do [ -s "$1" ] && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.05; done
  return 1
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# the DNS server on a loopback address of its own
Z=$T/zone; : > "$Z"
DNSIP=$(loopback_ip)
python3 "$SRCDIR/tests/lib/dnsfake.py" "$Z" --bind "$DNSIP" > "$T/dns.port" 2> "$T/dns.log" &
DNS=$!; _pids+=("$DNS")
up "$T/dns.port" "$DNS" || { sed 's/^/# /' "$T/dns.log"; echo "Bail out! dnsfake.py did not start"; exit 1; }
printf '%s:%s\n' "$DNSIP" "$(cat "$T/dns.port")" > "$H/control/dnsservers"

# smtp [ARGS...]: (re)start danesmtp.py on a loopback address of its own;
# sets MXIP, MXP, SPID; the route gives its port.
SPID=""
smtp() {
  [ -n "$SPID" ] && stop "$SPID"
  MXIP=$(loopback_ip)
  : > "$T/smtp.log"; rm -f "$T/smtp.port"
  python3 "$SRCDIR/tests/lib/danesmtp.py" --cert "$C/mx.crt" --chain "$C/ca.crt" --key "$C/mx.key" \
    --bind "$MXIP" --log "$T/smtp.log" --lifetime 300 "$@" > "$T/smtp.port" 2> "$T/smtp.err" &
  SPID=$!; _pids+=("$SPID")
  up "$T/smtp.port" "$SPID" || { sed 's/^/# /' "$T/smtp.err"; echo "Bail out! danesmtp.py did not start"; exit 1; }
  MXP=$(cat "$T/smtp.port")
  printf 'dane.test::%s\n' "$MXP" > "$H/control/smtproutes"
}
# zone MXFLAGS AFLAGS TLSAFLAGS [TLSA DATA]: the answers for this case
zone() {
  {
    printf 'dane.test MX %s 10 mx.dane.test\n' "$1"
    printf 'mx.dane.test A %s %s\n' "$2" "$MXIP"
    printf 'mx.dane.test AAAA %s,nodata\n' "$2"
    printf '_%s._tcp.mx.dane.test TLSA %s %s\n' "$MXP" "$3" "${4:-}"
  } > "$Z"
}
# remote: qmail-remote for u@dane.test; OUT the reports, one a line
remote() {
  : > "$T/smtp.log"
  QMAILHOME=$H timeout 60 "$QR" dane.test a@b.org u@dane.test < "$T/msg" > "$T/out" 2> "$T/err"
  RC=$?
  OUT=$(tr '\0' '\n' < "$T/out")
  printf "%s\n" "$OUT" | sed "s/^/# /"
}
letters() { printf '%s\n' "$OUT" | cut -c1 | tr -d '\n'; }
delivered() { grep -q '^accepted' "$T/smtp.log" && echo 0 || echo 1; }
sent_nothing() { grep -q '^accepted\|^plain-mail' "$T/smtp.log" && echo 1 || echo 0; }
tls() { grep -q '^tls ' "$T/smtp.log" && echo 0 || echo 1; }

smtp
zone ad ad ad "3 1 1 $GOOD"
remote
is "$(letters)" "rK" "3 1 1 of the server's key, all secure: delivered"
ok "$(tls)" "... over TLS"
like "$OUT" "verify dane" "... the report says the certificate was matched by DANE"
grep -q "q _$MXP._tcp.mx.dane.test TLSA" "$T/dns.log"
ok $? "qmail-remote asked for _$MXP._tcp.mx.dane.test TLSA"

zone ad ad ad "3 0 0 $OTHERFULL"
printf '_%s._tcp.mx.dane.test TLSA ad 3 0 0 %s\n' "$MXP" "$FULL" >> "$Z"
remote
is "$(letters)" "rK" "3 0 0, whole certificates, the second one the server's: delivered"
grep -q "q _$MXP._tcp.mx.dane.test TLSA -> 0 ad tcp" "$T/dns.log"
ok $? "... its answer (over 512 bytes) came over TCP"

zone ad ad ad "3 1 1 $OTHER"
remote
is "$(letters)" "sZ" "3 1 1 of another key: deferred"
like "$OUT" "#4\.7\.5" "... with #4.7.5"
ok "$(sent_nothing)" "... and no mail was sent"

zone ad ad ad "2 0 1 $CA"
remote
is "$(letters)" "rK" "2 0 1 of the CA in the chain: delivered"

zone ad ad ad "2 0 1 $CA2"
remote
is "$(letters)" "sZ" "2 0 1 of another CA: deferred"
ok "$(sent_nothing)" "... and no mail was sent"

zone ad ad noad "3 1 1 $OTHER"
remote
is "$(letters)" "rK" "TLSA without AD: no DANE, delivered"
ok "$(tls)" "... with opportunistic TLS"

zone noad ad ad "3 1 1 $OTHER"
remote
is "$(letters)" "rK" "MX without AD: no DANE, delivered"

zone ad noad ad "3 1 1 $OTHER"
remote
is "$(letters)" "rK" "A without AD: no DANE, delivered"

zone ad ad ad,nxdomain
remote
is "$(letters)" "rK" "authenticated NXDOMAIN for the TLSA name: no DANE, delivered"

zone ad ad servfail
remote
is "$(letters)" "sZ" "SERVFAIL for TLSA: deferred"
like "$OUT" "#4\.7\.5" "... with #4.7.5"
ok "$(sent_nothing)" "... never in plain text"

zone ad ad ad "1 1 1 $GOOD"
remote
is "$(letters)" "rK" "only PKIX usages (unusable): delivered"
ok "$(tls)" "... but over TLS"

# a relay from smtproutes (no MX lookup): its A and TLSA answers decide
printf 'dane.test:mx.dane.test:%s\n' "$MXP" > "$H/control/smtproutes"
zone noad ad ad "3 1 1 $OTHER"
remote
is "$(letters)" "sZ" "a relay from smtproutes with secure TLSA of another key: deferred (no MX needed)"
zone noad ad ad "3 1 1 $GOOD"
remote
is "$(letters)" "rK" "... with the relay's key: delivered"
like "$OUT" "verify dane" "... matched by DANE"

smtp --notls
zone ad ad ad "3 1 1 $GOOD"
remote
is "$(letters)" "sZ" "no STARTTLS and secure TLSA: deferred"
like "$OUT" "#4\.7\.5" "... with #4.7.5"
ok "$(sent_nothing)" "... and no mail in plain text"

zone ad ad ad "1 1 1 $GOOD"
remote
is "$(letters)" "sZ" "no STARTTLS and only PKIX TLSA records: deferred (TLS still required)"

zone ad ad noad "3 1 1 $GOOD"
remote
is "$(letters)" "rK" "no STARTTLS and TLSA without AD: delivered in plain text (no DANE)"

# ---- the default policy, `may` (no tlsdestinations line): RFC 7672 sec 2.2
# applies DANE to an MX host with secure, usable TLSA records whatever the
# local policy; then TLS is required and matched, no plain text after it.
rm -f "$H/control/tlsdestinations"
smtp
zone ad ad ad "3 1 1 $GOOD"
DM=$(wc -l < "$T/dns.log")
remote
is "$(letters)" "rK" "may, secure TLSA of the server's key: delivered"
like "$OUT" "verify dane" "... matched by DANE"
tail -n +$((DM + 1)) "$T/dns.log" | grep -q "q _$MXP._tcp.mx.dane.test TLSA"
ok $? "... qmail-remote asked for the TLSA records"

zone ad ad ad "3 1 1 $OTHER"
remote
is "$(letters)" "sZ" "may, secure TLSA of another key: deferred"
like "$OUT" "#4\.7\.5" "... with #4.7.5"
ok "$(sent_nothing)" "... nothing sent, no plain text"
is "$(grep -c '^connect' "$T/smtp.log")" "1" "... one connection (no retry without TLS)"

zone ad ad servfail
remote
is "$(letters)" "sZ" "may, secure MX, SERVFAIL for TLSA: deferred (not taken as no TLSA)"
ok "$(sent_nothing)" "... nothing sent"

zone ad ad noad "3 1 1 $OTHER"
remote
is "$(letters)" "rK" "may, TLSA without AD: no DANE, delivered as before"
ok "$(tls)" "... with opportunistic TLS"
printf '%s\n' "$OUT" | grep -q "verify dane" && r=1 || r=0
ok $r "... not matched by DANE"

zone noad ad ad "3 1 1 $OTHER"
remote
is "$(letters)" "rK" "may, MX without AD: no DANE, delivered"

smtp --notls
zone ad ad ad "3 1 1 $GOOD"
remote
is "$(letters)" "sZ" "may, no STARTTLS and secure TLSA: deferred"
ok "$(sent_nothing)" "... and no mail in plain text"

# without control/dnsservers the AD bit is not trusted: no TLSA query at
# all. /etc/resolv.conf is replaced in a mount namespace of its own by one
# naming a second dnsfake.py on port 53 (root and unshare(1) needed).
smtp
zone ad ad ad "3 1 1 $OTHER"
DNS2IP=$(loopback_ip)
printf 'nameserver %s\n' "$DNS2IP" > "$T/resolv.conf"
if [ "$(id -u)" = 0 ] && unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf' sh "$T/resolv.conf" 2>/dev/null; then
  python3 "$SRCDIR/tests/lib/dnsfake.py" "$Z" --bind "$DNS2IP" --port 53 > "$T/dns2.port" 2> "$T/dns2.log" &
  DNS2=$!; _pids+=("$DNS2")
  up "$T/dns2.port" "$DNS2" || { sed 's/^/# /' "$T/dns2.log"; echo "Bail out! dnsfake.py did not start on port 53"; exit 1; }
  mv "$H/control/dnsservers" "$T/dnsservers"
  : > "$T/smtp.log"
  QMAILHOME=$H timeout 60 unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
    sh "$T/resolv.conf" "$QR" dane.test a@b.org u@dane.test < "$T/msg" > "$T/out" 2> "$T/err"
  OUT=$(tr '\0' '\n' < "$T/out")
  printf "%s\n" "$OUT" | sed "s/^/# /"
  mv "$T/dnsservers" "$H/control/dnsservers"
  is "$(letters)" "rK" "may, no control/dnsservers (AD not trusted): delivered, the TLSA of another key ignored"
  grep -q "q dane.test MX" "$T/dns2.log"
  ok $? "... the resolver of resolv.conf was asked for the MX"
  grep -q " TLSA " "$T/dns2.log" && r=1 || r=0
  ok $r "... and no TLSA query was made"
  stop "$DNS2"
else
  for i in 1 2 3; do ok 0 "# skip no TLSA query without dnsservers: needs root and a mount namespace (unshare -m)"; done
fi

stop "$SPID"
stop "$DNS"
done_testing
