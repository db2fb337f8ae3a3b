#!/bin/bash
# tls.t: STARTTLS (RFC 3207) and SMTPS (RFC 8314) on an installed hub
# (issue 11): the install's self-signed certificate, qmail-smtpd on its
# random loopback port and the qmail-smtps service on another;
# control/timeoutsmtpd 3. Real clients: openssl s_client -starttls smtp with
# TLS 1.2 and 1.3 (and TLS 1.1 refused), python smtplib, swaks --tls and
# --tlsc; a message over each, with "with ESMTPS (TLSvX cipher ...)" in
# its Received line. Hostile (tests/lib/tlsdrive.py): commands pipelined
# behind STARTTLS in the same write are never run (CVE-2011-0411); the
# session restarts (MAIL before a new EHLO refused, STARTTLS gone from EHLO,
# a second STARTTLS refused, STARTTLS with an argument 501); an HTTP
# request instead of a ClientHello; a client that stops mid-handshake and
# one that trickles its ClientHello a byte per 0.5 s are both cut off at
# the handshake's deadline (timeoutsmtpd), each failure one log line; the
# SMTPS port says nothing in the clear. BAD-INPUT rows inside TLS: a line
# too long, a bare LF in DATA, a NUL in a command.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }
command -v openssl > /dev/null || { echo "1..0 # skip no openssl (make deps)"; exit 0; }

hub_install; ok $? "make install makes a hub home"
is "$(head -1 "$HUB/control/servercert.pem")" "-----BEGIN CERTIFICATE-----" "the install made control/servercert.pem"
echo 3 > "$HUB/control/timeoutsmtpd"
hub_newu
rm "$HUB/service/qmail-smtps/down"; ok $? "qmail-smtps was installed down; enabled"
hub_start; ok $? "hub started (qmail-smtpd and qmail-smtps)"
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SMTPS_PORT),0.5)" 2>/dev/null
like "$("$HUB/bin/qmailctl" stat)" "qmail-smtps: up \(pid [0-9]+\) 127\.0\.0\.1:$SMTPS_PORT" "qmailctl stat shows qmail-smtps up on its port"

drive() { python3 "$SRCDIR/tests/lib/tlsdrive.py" "$@" 2>&1; }
slog() { cat "$HUB"/log/"$1"/@* "$HUB/log/$1/current" 2>/dev/null; }
nslog() { slog "$1" | grep -cF -- "$2"; }
slog_more() { [ "$(nslog "$1" "$2")" -gt "$3" ]; }   # slog_more SERVICE TEXT N
# field OUTPUT NAME: the value of "NAME: value" in a driver's output
field() { printf '%s\n' "$1" | sed -n "s/^$2: //p"; }
MD=$HUB/alias/Maildir

# ---- real clients -----------------------------------------------------------
like "$(drive ehlo "$SMTP")" "^ehlo: .*STARTTLS" "EHLO in the clear offers STARTTLS"

s_client() { printf 'EHLO client.example\r\nQUIT\r\n' | timeout 20 openssl s_client -starttls smtp \
  -connect "127.0.0.1:$SMTP" -brief -ign_eof "$@" 2>&1 | tr "\r\n" "  "; }
out=$(s_client -tls1_3)
like "$out" "Protocol version: TLSv1\.3" "openssl s_client -starttls smtp: TLS 1.3"
like "$out" "250-PIPELINING.*221 2\.0\.0" "and the session goes on inside TLS (EHLO, QUIT)"
out=$(s_client -tls1_2)
like "$out" "Protocol version: TLSv1\.2" "openssl s_client -starttls smtp: TLS 1.2"
out=$(s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
like "$out" "alert protocol version" "TLS 1.1: refused with a protocol_version alert"
wait_until slog_more qmail-smtpd 'unsupported protocol' 0
ok $? "TLS 1.1: logged (unsupported protocol)"

out=$(drive send "$SMTP" starttls smtplib-starttls)
is "$out" "send: ok" "python smtplib: starttls and a message"
out=$(drive send "$SMTPS_PORT" smtps smtplib-smtps)
is "$out" "send: ok" "python smtplib: SMTP_SSL to the SMTPS port and a message"
if command -v swaks > /dev/null && perl -MIO::Socket::SSL -e 1 2> /dev/null; then
  swaks --server 127.0.0.1 --port "$SMTP" --tls --from swaks@example.net --to "postmaster@$ME" \
    --header "Subject: swaks-tls" > "$T/swaks1" 2>&1
  ok $? "swaks --tls: a message"
  like "$(cat "$T/swaks1")" "TLS started with cipher TLSv1\.[23]" "swaks says TLS started"
  swaks --server 127.0.0.1 --port "$SMTPS_PORT" --tlsc --from swaks@example.net --to "postmaster@$ME" \
    --header "Subject: swaks-tlsc" > "$T/swaks2" 2>&1
  ok $? "swaks --tlsc (SMTPS): a message"
else
  dep_missing 3 "swaks with IO::Socket::SSL (libio-socket-ssl-perl)"
fi
wait_until files_ge "$MD/new" 4
# rcv SUBJECT: qmail-smtpd's Received field of that message, on one line
rcv() { grep -l "^Subject: $1" "$MD"/new/* 2>/dev/null | head -1 | xargs -r sed -n '/^Received: from/{N;p;q}' | tr '\n' ' '; }
# (the clients are on loopback, relay clients by tcp.smtp: DKIM's mark)
like "$(rcv smtplib-starttls)" "by [^ ]+ with ESMTPS \(TLSv1\.3 cipher TLS_[A-Z0-9_]+ bits [0-9]+\) \(relay client\);" \
  "Received (STARTTLS): with ESMTPS, TLS version and cipher in a comment"
like "$(rcv smtplib-smtps)" "with ESMTPS \(TLSv1\.3 cipher TLS_[A-Z0-9_]+ bits [0-9]+\) \(relay client\);" \
  "Received (SMTPS): with ESMTPS and the cipher"
like "$(rcv swaks-tls)" "with ESMTPS \(TLSv1\.[23] cipher" "Received (swaks --tls): ESMTPS"
like "$(rcv swaks-tlsc)" "with ESMTPS \(TLSv1\.[23] cipher" "Received (swaks --tlsc): ESMTPS"
printf 'Subject: plain\n\nx\n' | send tls@example.net "postmaster@$ME"
wait_until has_file "$MD/new" 1 '^Subject: plain'
like "$(rcv plain)" "with ESMTP \(relay client\);" \
  "Received (plain): still with ESMTP"

# ---- the session around STARTTLS --------------------------------------------
out=$(drive inject "$SMTP")
is "$(field "$out" starttls)" 220 "injection: STARTTLS answered 220"
is "$(field "$out" 'after handshake')" nothing "injection: nothing answered for the RSET and MAIL sent behind STARTTLS"
is "$(field "$out" rcpt)" 503 "injection: the pipelined MAIL did not happen (RCPT: 503 MAIL first)"
wait_until slog_more qmail-smtpd 'refused: 127.0.0.1 rcpt 503' 0
is "$(slog qmail-smtpd | grep -c 'inject@example.net')" 0 "injection: the pipelined MAIL never reached a log line"

out=$(drive after "$SMTP")
like "$(field "$out" 'mail before ehlo')" "^503 .*EHLO first" "after STARTTLS: MAIL before a new EHLO refused"
ehlo=$(field "$out" 'ehlo in tls')
like "$ehlo" "^250 .*PIPELINING" "after STARTTLS: EHLO again"
if printf '%s' "$ehlo" | grep -q STARTTLS; then ok 1 "after STARTTLS: EHLO does not offer STARTTLS"; else ok 0 "after STARTTLS: EHLO does not offer STARTTLS"; fi
is "$(field "$out" mail)" 250 "after STARTTLS and EHLO: MAIL accepted"
is "$(field "$out" 'starttls again')" 503 "STARTTLS inside TLS: 503"
is "$(field "$out" rcpt)" 250 "and the session goes on (RCPT 250)"
is "$(field "$out" 'starttls with argument')" 501 "STARTTLS with an argument: 501"

# ---- hostile handshakes -----------------------------------------------------
out=$(drive garbage "$SMTP")
c=$(field "$out" 'closed after')
ok "$(awk -v c="$c" 'BEGIN { exit !(c < 3) }'; echo $?)" "HTTP instead of a ClientHello: closed at once (${c}s)"
wait_until slog_more qmail-smtpd 'starttls - - reason="TLS: handshake failed: error:' 1
ok $? "and logged: starttls - - reason=\"TLS: handshake failed: ...\""
out=$(drive stall "$SMTP")
c=$(field "$out" 'closed after')
ok "$(awk -v c="$c" 'BEGIN { exit !(c >= 2.5 && c < 8) }'; echo $?)" "a client silent mid-handshake: closed at timeoutsmtpd 3 s (${c}s)"
wait_until slog_more qmail-smtpd 'reason="TLS handshake: timeout"' 0
ok $? "and logged: TLS handshake: timeout"
out=$(drive trickle "$SMTP")
c=$(field "$out" 'closed after')
ok "$(awk -v c="$c" 'BEGIN { exit !(c >= 2.5 && c < 8) }'; echo $?)" \
  "a ClientHello trickled a byte per 0.5 s ($(field "$out" 'hello bytes') bytes): cut off at the 3 s deadline (${c}s)"
wait_until slog_more qmail-smtpd 'reason="TLS handshake: timeout"' 1
ok $? "and logged"

out=$(drive smtps-clear "$SMTPS_PORT")
is "$(field "$out" 'greeting in the clear')" none "SMTPS: no greeting in the clear"
c=$(field "$out" 'closed after')
ok "$(awk -v c="$c" 'BEGIN { exit !(c < 3) }'; echo $?)" "SMTPS: cleartext EHLO closes the connection (${c}s)"
wait_until slog_more qmail-smtps 'smtps - - reason="TLS: handshake failed' 0
ok $? "SMTPS: logged as stage smtps"
out=$(drive smtps "$SMTPS_PORT")
is "$(field "$out" greeting)" 220 "SMTPS: greeting inside TLS"
ehlo=$(field "$out" ehlo)
like "$ehlo" "^250 .*PIPELINING" "SMTPS: EHLO"
if printf '%s' "$ehlo" | grep -q STARTTLS; then ok 1 "SMTPS: EHLO does not offer STARTTLS"; else ok 0 "SMTPS: EHLO does not offer STARTTLS"; fi
is "$(field "$out" starttls)" 503 "SMTPS: STARTTLS 503"

# ---- BAD-INPUT rows inside TLS ----------------------------------------------
out=$(drive longline "$SMTP" 3000)
is "$(field "$out" 'long line')" 500 "inside TLS: a 3000-byte command: 500 (line too long)"
like "$(field "$out" then)" "^[0-9]" "and the connection is closed"
out=$(drive barelf "$SMTP")
is "$(field "$out" data)" 354 "inside TLS: DATA"
like "$(field "$out" 'bare lf')" "^451 4\.5\.2 bare LF" "inside TLS: a bare LF in DATA: 451 4.5.2"
is "$(field "$out" then)" EOF "and the connection is closed"
out=$(drive nul "$SMTP")
like "$(field "$out" nul)" "^5" "inside TLS: a NUL in MAIL: 5xx"
is "$(field "$out" noop)" 250 "and the session goes on"
done_testing
