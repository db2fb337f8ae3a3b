#!/bin/bash
# qmtps.t: QMTPS (QMTP inside implicit TLS, qmail-qmtpd with QMTPS=1) and
# certificate-authenticated relays (control/tlsclients) on an installed
# hub: the qmail-qmtps service on a random loopback port (installed down,
# enabled here), control/timeoutqmtpd 3, and tcp.qmtp without the
# install's RELAYCLIENT for 127. so that only a certificate relays.
# Clients: openssl s_client with a real QMTP package; tests/lib/
# qmtpsclient.py (python ssl) with a self-signed certificate listed by
# fingerprint (while a ca: line is there too: the handshake must not
# check chains), one issued by a CA in a ca: file, an unlisted one, none.
# Hostile: a QMTP package in the clear, a truncated handshake, a client
# silent mid-handshake (cut at the handshake's deadline), and BAD-INPUT
# rows T3/T4 inside TLS (a bad encoding byte, an oversized netstring, EOF
# inside a package); a bad control/tlsclients (Z inside TLS) and a
# missing certificate (nothing in the clear). Mail lands in the Maildir
# with "with QMTPS (TLSv1.x cipher ...)" in its Received line.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }
command -v openssl > /dev/null || { echo "1..0 # skip no openssl (make deps)"; exit 0; }

hub_install; ok $? "make install makes a hub home"
ok "$([ -e "$HUB/service/qmail-qmtps/down" ]; echo $?)" "qmail-qmtps is installed down"
run=$(tr '\n' ' ' < "$HUB/service/qmail-qmtps/run")
like "$run" "\\./env QMTPS=1 .* tcpserver .*/bin/qmail-qmtpd" "its run script sets QMTPS=1 for qmail-qmtpd"
echo 3 > "$HUB/control/timeoutqmtpd"
printf ':allow\n' > "$HUB/control/tcp.qmtp"   # no relay by address, even from 127.
"$HUB/bin/qmailctl" cdb > /dev/null 2>&1

# client certificates: a self-signed one (listed by fingerprint), a CA and
# a certificate it issued (the CA in a ca: file), an unlisted self-signed one
C=$T/certs; mkdir -p "$C"
mkcert() { # NAME SUBJECT [extra req args]
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 \
    -keyout "$C/$1.key" -out "$C/$1.crt" -subj "$2" "${@:3}" 2> /dev/null
}
mkcert pinned /CN=pinned.leaf.example && mkcert other /CN=other.example &&
  mkcert ca /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/issued.key" \
    -out "$C/issued.csr" -subj /CN=issued.leaf.example 2> /dev/null &&
  openssl x509 -req -in "$C/issued.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
    -days 3 -out "$C/issued.crt" 2> /dev/null
ok $? "client certificates made with openssl"
FP=$(openssl x509 -noout -fingerprint -sha256 -in "$C/pinned.crt" | sed 's/.*=//')
cp "$C/ca.crt" "$HUB/control/clientca.pem"; chmod 644 "$HUB/control/clientca.pem"
printf '# relays by certificate\nsha256:%s\nca:clientca.pem\n' "$FP" > "$HUB/control/tlsclients"
chmod 644 "$HUB/control/tlsclients"

# relayed mail is held (a route to a port nothing listens on): no bounce
# ever reaches the Maildir the checks below count
dead_port DEAD
printf 'remote.example.net:127.0.0.1:%s\n' "$DEAD" > "$HUB/control/smtproutes"
hub_newu
rm "$HUB/service/qmail-qmtps/down"
hub_start; ok $? "hub started with qmail-qmtps"
QP=$(cat "$HUB/service/qmail-qmtps/env/PORT")
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$QP),0.5)" 2>/dev/null
like "$("$HUB/bin/qmailctl" stat)" "qmail-qmtps: up \(pid [0-9]+\) 127\.0\.0\.1:$QP" "qmailctl stat shows qmail-qmtps on its port"

cl() { python3 "$SRCDIR/tests/lib/qmtpsclient.py" "$@" 2>&1; }
slog() { cat "$HUB"/log/qmail-qmtps/@* "$HUB/log/qmail-qmtps/current" 2>/dev/null; }
nslog() { slog | grep -cF -- "$1"; }
slog_more() { [ "$(nslog "$1")" -gt "$2" ]; }   # slog_more TEXT N
MD=$HUB/alias/Maildir
PM=postmaster@$ME
REMOTE=someone@remote.example.net
subj() { printf 'From: a@leaf.example.org\\nSubject: %s\\n\\nhello\\n' "$1"; }

# ---- openssl s_client: a QMTP package by hand --------------------------------
pkg=$(python3 -c 'import sys
def ns(b): return b"%d:" % len(b) + b + b","
sys.stdout.buffer.write(ns(b"\nSubject: s_client\n\nhi\n") + ns(b"a@leaf.example.org") + ns(ns(sys.argv[1].encode())))' "$PM")
out=$(printf '%s' "$pkg" | timeout 30 openssl s_client -connect "127.0.0.1:$QP" -quiet 2>&1 | tr -c '[:print:]' ' ')
like "$out" "[0-9]+:Kok " "openssl s_client: a QMTP package inside TLS gets K"

# ---- python ssl: relay by certificate --------------------------------------------
out=$(cl send "$QP" --cert "$C/pinned.crt" --key "$C/pinned.key" --msg "$(subj pinned)" a@leaf.example.org "$REMOTE" "$PM")
like "$out" "tls: TLSv1\.3" "python ssl client: TLS 1.3"
like "$out" "replies: K K$" "a self-signed certificate listed by fingerprint relays (K for a remote domain), with a ca: line there too"
wait_until slog_more "relay by certificate SHA256:$(echo "$FP" | tr -d : | tr A-F a-f) (fingerprint listed)" 0
ok $? "logged: relay by certificate and its fingerprint"
out=$(cl send "$QP" --cert "$C/issued.crt" --key "$C/issued.key" --msg "$(subj issued)" a@leaf.example.org "$REMOTE" "$PM")
is "$out" "tls: TLSv1.3
replies: K K" "a certificate issued by the CA in a ca: file relays"
wait_until slog_more "(issued under a ca: file)" 0
ok $? "logged: relay by certificate (ca:)"
out=$(cl send "$QP" --cert "$C/other.crt" --key "$C/other.key" --msg "$(subj other)" a@leaf.example.org "$REMOTE" "$PM")
like "$out" "replies: D5.7.1 K$" "an unlisted certificate: #5.7.1 for the remote domain, K for the local one"
wait_until slog_more "not in control/tlsclients: no relay by it" 0
ok $? "logged: an unlisted certificate"
out=$(cl send "$QP" --msg "$(subj nocert)" a@leaf.example.org "$REMOTE" "$PM")
like "$out" "replies: D5.7.1 K$" "no certificate: #5.7.1 for the remote domain, K for the local one"
out=$(cl send "$QP" --cert "$C/ca.crt" --key "$C/ca.key" --msg "$(subj cacert)" a@leaf.example.org "$REMOTE")
like "$out" "replies: D5.7.1$" "the CA's own certificate (keyUsage keyCertSign only) is no TLS client certificate: no relay"

wait_until files_ge "$MD/new" 5
rcv() { grep -l "^Subject: $1" "$MD"/new/* 2>/dev/null | head -1 | xargs -r sed -n '/^Received: from/{N;p;q}' | tr '\n' ' '; }
# a relay by certificate is marked as a relay client (DKIM signs those:
# docs/dkim.md); the others are not
for s in s_client other nocert; do
  like "$(rcv "$s")" "by [^ ]+ with QMTPS \(TLSv1\.[23] cipher [A-Z0-9_-]+ bits [0-9]+\);" \
    "in the Maildir ($s), Received: with QMTPS and the cipher"
done
for s in pinned issued; do
  like "$(rcv "$s")" "by [^ ]+ with QMTPS \(TLSv1\.[23] cipher [A-Z0-9_-]+ bits [0-9]+\) \(relay client\);" \
    "in the Maildir ($s), Received: with QMTPS, the cipher and the relay mark"
done

# ---- hostile ---------------------------------------------------------------------------
n0=$(nfiles "$MD/new")
n=$(nslog "qmtps - - reason=\"TLS: handshake failed")
out=$(cl plain "$QP" a@leaf.example.org "$PM")
is "$(printf '%s\n' "$out" | grep -c 'K seen')" 0 "a QMTP package in the clear on the QMTPS port: no K ($out)"
wait_until slog_more "qmtps - - reason=\"TLS: handshake failed" "$n"
ok $? "  and one refusal line (qmtps, no reply, handshake failed)"
n=$(nslog "qmtps - - ")
out=$(cl truncate "$QP")
wait_until slog_more "qmtps - - " "$n"
ok $? "a truncated handshake: one refusal line ($(slog | grep -F "qmtps - - " | tail -1 | sed 's/.*reason=//'))"
like "$(slog | grep -F "qmtps - - " | tail -1)" "closed the connection" "  which says the client went away"
n=$(nslog "qmtps - - ")
out=$(cl stall "$QP" --wait 40)
like "$out" "stall: closed after" "a client silent mid-handshake is cut off"
s=$(echo "$out" | sed -n 's/stall: closed after \([0-9.]*\) s/\1/p')
ok "$(awk -v s="${s:-99}" 'BEGIN { exit !(s >= 2 && s < 20) }'; echo $?)" "  at the handshake's deadline (timeoutqmtpd 3; ${s:-?} s)"
wait_until slog_more 'qmtps - - reason="TLS handshake: timeout"' 0
ok $? "  logged as a timeout"

# BAD-INPUT QMTP rows inside TLS
out=$(cl send "$QP" --raw '5:Xabc,1:a,0:,' )
like "$out" "replies: -" "T3 inside TLS: a bad encoding byte gets no reply (dropped)"
out=$(cl send "$QP" --raw '99999999999999999999:\nabc')
like "$out" "replies: -" "T4 inside TLS: an oversized netstring is dropped"
out=$(cl send "$QP" --eof --raw '100:\nSubject: cut')
like "$out" "eof: sent" "EOF inside a package (close_notify mid-message)"
wait_until slog_more "inside a package" 0
ok $? "  logged as ended inside a package"
hub_flush; sleep 1
is "$(nfiles "$MD/new")" "$n0" "nothing of the hostile sessions reached the Maildir"

# ---- a bad control/tlsclients: Z inside TLS, no relay -------------------------------
echo "md5:0011" >> "$HUB/control/tlsclients"
out=$(cl send "$QP" --cert "$C/pinned.crt" --key "$C/pinned.key" a@leaf.example.org "$REMOTE")
like "$out" "replies: Z4.3.0" "a bad line in control/tlsclients: Z (#4.3.0) inside TLS, no relay"
wait_until slog_more "cannot use control/tlsclients: item 3: neither" 0
ok $? "  logged with the item's number"
printf 'ca:nosuch.pem\n' > "$HUB/control/tlsclients"
out=$(cl send "$QP" --cert "$C/issued.crt" --key "$C/issued.key" a@leaf.example.org "$REMOTE")
like "$out" "replies: Z4.3.0" "a ca: file that cannot be read: Z (#4.3.0)"
rm "$HUB/control/tlsclients"
out=$(cl send "$QP" --cert "$C/pinned.crt" --key "$C/pinned.key" a@leaf.example.org "$REMOTE" "$PM")
like "$out" "replies: D5.7.1 K$" "no control/tlsclients: served, no relay by certificate"

# ---- no certificate: fail closed, nothing in the clear --------------------------------
mv "$HUB/control/servercert.pem" "$HUB/control/servercert.pem.away"
out=$(cl plain "$QP" a@leaf.example.org "$PM")
is "$out" "plain: 0 bytes back" "control/servercert.pem missing: the connection ends, no byte in the clear"
wait_until slog_more "QMTPS not available: cannot read control/servercert.pem" 0
ok $? "  logged: QMTPS not available and why"
mv "$HUB/control/servercert.pem.away" "$HUB/control/servercert.pem"

done_testing
