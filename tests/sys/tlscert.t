#!/bin/bash
# tlscert.t: the hub's certificate (issue 11). qmailctl tlscert: the
# install made one (0640 qmaild:qmail as root, 0600 the user's otherwise);
# a second run keeps it (exit 100) unless -f; -f makes a new one for
# control/me (subject and subjectAltName), ECDSA P-256 or with -rsa RSA
# 2048, same mode, nothing left behind; a control/me that is no host name
# makes none. On the running hub (qmail-smtpd read it per connection):
# a certificate qmail-smtpd cannot read -> no STARTTLS in EHLO, STARTTLS is
# an unknown command (502), one warning line saying why; a readable but
# broken one -> STARTTLS 454 and an alert line, and the SMTPS port closes
# without a byte in the clear (fail closed), logged; a missing one -> no
# STARTTLS, and at the next start the run scripts say so in the logs,
# qmail-smtps's refusing to start; a new certificate works at once, without
# a restart. control/tlsserverciphers narrows the TLS 1.2 suites.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }
command -v openssl > /dev/null || { echo "1..0 # skip no openssl (make deps)"; exit 0; }

hub_install; ok $? "make install makes a hub home"
C=$HUB/control/servercert.pem
ctl() { "$HUB/bin/qmailctl" "$@"; }
sum() { sha256sum "$C" | cut -c1-64; }
modes() { stat -c '%a %U:%G' "$C"; }
if [ "$(id -u)" = 0 ]; then want="640 qmaild:qmail"; else want="600 $(id -un):$(id -gn)"; fi
is "$(modes)" "$want" "the install's certificate: $want"
openssl x509 -noout -in "$C" > /dev/null 2>&1; ok $? "it is a certificate"
openssl pkey -noout -in "$C" > /dev/null 2>&1; ok $? "with its key in the same file"

before=$(sum)
out=$(ctl tlscert 2>&1); rc=$?
is "$rc" 100 "tlscert with a certificate there: exit 100"
like "$out" "exists: kept \(tlscert -f replaces it\)" "and says so"
is "$(sum)" "$before" "the certificate is unchanged"

out=$(ctl tlscert -f 2>&1); rc=$?
is "$rc" 0 "tlscert -f: exit 0"
like "$out" "self-signed for $ME" "for control/me ($ME)"
[ "$(sum)" != "$before" ]; ok $? "a new certificate"
is "$(modes)" "$want" "same mode and owner"
like "$(openssl x509 -noout -subject -in "$C")" "CN ?= ?$ME" "subject CN = $ME"
like "$(openssl x509 -noout -text -in "$C" | tr -d '\n')" "Subject Alternative Name: *DNS:$ME" "subjectAltName DNS:$ME"
like "$(openssl x509 -noout -text -in "$C" | tr -d '\n')" "id-ecPublicKey.*prime256v1" "an ECDSA P-256 key"
is "$(find "$HUB/control" -name '.tlscert.*' | wc -l)" 0 "nothing left behind in control/"
ctl tlscert -f -rsa > /dev/null 2>&1; ok $? "tlscert -f -rsa"
like "$(openssl x509 -noout -text -in "$C" | tr -d '\n')" "rsaEncryption.*2048 bit" "an RSA 2048 key"
before=$(sum)
cp "$HUB/control/me" "$T/me"; echo 'bad/name' > "$HUB/control/me"
out=$(ctl tlscert -f 2>&1); rc=$?
is "$rc" 111 "control/me 'bad/name': exit 111"
like "$out" "is not a host name" "and says why"
is "$(sum)" "$before" "the certificate is unchanged"
cp "$T/me" "$HUB/control/me"
out=$(ctl tlscert -x 2>&1); rc=$?
is "$rc" 100 "tlscert -x: usage, exit 100"

# ---- the running hub ----------------------------------------------------
rm "$HUB/service/qmail-smtps/down"
hub_start; ok $? "hub started (qmail-smtpd and qmail-smtps)"
drive() { python3 "$SRCDIR/tests/lib/tlsdrive.py" "$@" 2>&1; }
field() { printf '%s\n' "$1" | sed -n "s/^$2: //p"; }
slog() { cat "$HUB"/log/"$1"/@* "$HUB/log/$1/current" 2>/dev/null; }
slog_more() { [ "$(slog "$1" | grep -cF -- "$2")" -gt "$3" ]; }
# offers: does EHLO offer STARTTLS?
offers() { drive ehlo "$SMTP" | grep -q STARTTLS; }
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SMTPS_PORT),0.5)" 2>/dev/null
offers; ok $? "with the certificate: STARTTLS offered"
like "$(drive starttls "$SMTP")" "starttls: 220 " "and STARTTLS answered 220"

cp -p "$C" "$T/good.pem"
if [ "$(id -u)" = 0 ]; then chown root:root "$C"; chmod 600 "$C"; else chmod 000 "$C"; fi
offers; ok $((! $?)) "a certificate qmail-smtpd cannot read: STARTTLS not offered"
like "$(drive starttls "$SMTP")" "starttls: 502 5\.5\.1" "and STARTTLS is an unknown command (502)"
wait_until slog_more qmail-smtpd "warning: STARTTLS not offered: cannot read control/servercert.pem: " 0
ok $? "and a log line says why"

rm -f "$C"   # (a user cannot write into the mode 000 file)
printf -- '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n' > "$C"
if [ "$(id -u)" = 0 ]; then chown qmaild:qmail "$C"; chmod 640 "$C"; else chmod 600 "$C"; fi
offers; ok $? "a broken certificate that can be read: STARTTLS offered"
like "$(drive starttls "$SMTP")" "starttls: 454 4\.7\.0" "STARTTLS: 454 4.7.0 TLS not available"
wait_until slog_more qmail-smtpd "alert: TLS not available: control/servercert.pem: " 0
ok $? "and an alert line says why"
out=$(drive smtps-clear "$SMTPS_PORT")
is "$(field "$out" 'greeting in the clear')" none "SMTPS with a broken certificate: nothing in the clear"
c=$(field "$out" 'closed after')
ok "$(awk -v c="$c" 'BEGIN { exit !(c < 3) }'; echo $?)" "and the connection is closed (${c}s)"
wait_until slog_more qmail-smtps "alert: TLS not available: control/servercert.pem: " 0
ok $? "logged in qmail-smtps's log"

rm -f "$C"
offers; ok $((! $?)) "no certificate: STARTTLS not offered"
like "$(drive starttls "$SMTP")" "starttls: 502 5\.5\.1" "and unknown (502)"
hub_stop
ctl start > /dev/null 2>&1
wait_until slog_more qmail-smtps "servercert.pem is missing: run qmailctl tlscert (SMTPS needs a certificate)" 0
ok $? "restarted without a certificate: qmail-smtps's run script refuses, saying why"
python3 -c "import socket; socket.create_connection(('127.0.0.1',$SMTPS_PORT),2)" 2> /dev/null
ok $((! $?)) "and nothing listens on the SMTPS port"
wait_until slog_more qmail-smtpd "servercert.pem is missing: STARTTLS is not offered" 0
ok $? "qmail-smtpd's log says STARTTLS is not offered, once at start"
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SMTP),0.5)" 2>/dev/null
offers; ok $((! $?)) "qmail-smtpd runs, without STARTTLS"

ctl tlscert > /dev/null; ok $? "tlscert makes a new one"
offers; ok $? "STARTTLS offered again, without a restart"
out=$(drive send "$SMTP" starttls after-tlscert)
is "$out" "send: ok" "and a message goes through it"

# control/tlsserverciphers: libtls's "secure" by default (it takes an
# ECDHE CBC suite on TLS 1.2); an AEAD-only list refuses that suite
cbc() { printf 'QUIT\r\n' | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$SMTP" \
  -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA -brief -ign_eof 2>&1 | tr '\n' ' '; }
like "$(cbc)" "Ciphersuite: ECDHE-ECDSA-AES128-SHA" "default ciphers: a TLS 1.2 CBC suite is taken"
echo 'ECDHE+AESGCM:ECDHE+CHACHA20' > "$HUB/control/tlsserverciphers"
like "$(cbc)" "alert handshake failure" "control/tlsserverciphers ECDHE+AESGCM:ECDHE+CHACHA20: refused"
out=$(printf 'QUIT\r\n' | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$SMTP" \
  -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -brief -ign_eof 2>&1 | tr '\n' ' ')
like "$out" "Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256" "and an AEAD suite taken"
done_testing
