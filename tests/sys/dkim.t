#!/bin/bash
# dkim.t: DKIM signing (issue 12, docs/dkim.md) on an installed hub, every
# signature checked by an independent verifier: dkimpy (Debian's
# python3-dkim, Ed25519 through python3-nacl) in tests/lib/dkimverify.py,
# its DNS answered from the records qmailctl dkimkey printed.
#  - qmailctl dkimkey: an RSA 2048 and an Ed25519 key for example.org
#    (mode 0600 qmailr:qmail as root, the user's otherwise), the record
#    printed in strings of at most 255 bytes; a second run keeps the key
#    (100), a bad domain or selector is refused (100)
#  - qmail-dkimsign on messages with folded headers, a 5,000-byte line,
#    an 8-bit body, an empty body, no body, CRLF line ends, trailing blank
#    lines, a last line without line end: two signatures each, both
#    verify; the message after them unchanged. Changing the body, a
#    signed header, or adding a second From breaks them (dkimpy counts an
#    extra From by itself: unit/dkimsign checks that From is oversigned
#    for verifiers that do not); blanks that
#    relaxed canonicalization ignores do not. No From, no key: 100 and the
#    message unsigned; a damaged key: 111
#  - end to end (qmail-remote to a fake SMTP server): mail from a relay
#    client (SMTP and QMTP), an authenticated client (AUTH from
#    127.0.0.2, not a relay client), local injection (qmail-inject) and a
#    trusted leaf (QMQP) goes out signed for the sender's domain, in
#    classic and session mode, and verifies; a message from an
#    unauthenticated client (127.0.0.2) with an example.org sender to a
#    domain we are backup MX for, a forward of an example.org message by a
#    .qmail file, and a bounce leave unsigned; the Received line of a relay
#    client carries "(relay client)". A sender domain whose key is damaged:
#    the delivery is deferred, never sent unsigned.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
[ -x "$SRCDIR/$BUILD/hub/qmail-dkimsign" ] ||
  { echo "Bail out! hub/qmail-dkimsign is not built in $SRCDIR/$BUILD"; exit 1; }
command -v openssl > /dev/null || { echo "1..0 # skip no openssl (make deps)"; exit 0; }
PY=/usr/bin/python3
if ! $PY -c 'import dkim, nacl' 2>/dev/null; then
  dep_missing 1 "python3-dkim and python3-nacl (dkimpy) are not installed"; done_testing; exit
fi

hub_install; ok $? "make install makes a hub home"
ctl() { "$HUB/bin/qmailctl" "$@"; }
D=$HUB/control/dkim/example.org
out=$(ctl dkimkey example.org rsa1 2>&1); rc=$?
is "$rc" 0 "dkimkey example.org rsa1"
like "$out" '^rsa1\._domainkey\.example\.org\. IN TXT \( "v=DKIM1; k=rsa; p=MIIB' "prints the RSA record"
like "$out" '" "' "in more than one string (2048 bits do not fit in 255 bytes)"
out=$(ctl dkimkey Example.ORG ed1 -ed25519 2>&1); rc=$?
is "$rc" 0 "dkimkey Example.ORG ed1 -ed25519"
like "$out" '^ed1\._domainkey\.example\.org\. IN TXT \( "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \)$' \
  "prints the Ed25519 record (32 bytes)"
is "$(openssl pkey -in "$D/rsa1.key" -noout -text 2>/dev/null | head -n 1)" "Private-Key: (2048 bit, 2 primes)" \
  "the RSA key has 2048 bits"
if [ "$(id -u)" = 0 ]; then want="600 qmailr:qmail"; else want="600 $(id -un):$(id -gn)"; fi
is "$(stat -c '%a %U:%G' "$D/rsa1.key") $(stat -c '%a %U:%G' "$D/ed1.key")" "$want $want" "keys: $want"
before=$(sha256sum < "$D/rsa1.key")
out=$(ctl dkimkey example.org rsa1 2>&1); rc=$?
is "$rc" 100 "a second dkimkey for the selector: 100"
is "$(sha256sum < "$D/rsa1.key")" "$before" "and the key is kept"
ctl dkimkey 'exa mple.org' > /dev/null 2>&1; is $? 100 "a domain with a blank: 100"
ctl dkimkey example.org ../x > /dev/null 2>&1; is $? 100 "a selector with a slash: 100"
ctl dkimkey "$ME" > /dev/null 2>&1; ok $? "dkimkey $ME (default selector)"
cat "$HUB"/control/dkim/*/*.txt > "$T/records"
like "$("$HUB/bin/qmail-showctl" 2>&1 | grep -A1 '^dkim')" 'DKIM signing keys' "qmail-showctl explains control/dkim"

# ---- qmail-dkimsign ------------------------------------------------------------
verify() { $PY "$SRCDIR/tests/lib/dkimverify.py" "$T/records" "$@"; }
sign() { "$HUB/bin/qmail-dkimsign" "$@"; }
# case NAME: sign $T/m for alice@example.org, verify both signatures, and
# check that what follows the signatures is the message unchanged
case_() {
  sign alice@example.org < "$T/m" > "$T/s" 2> "$T/err"; is $? 0 "$1: signed"
  out=$(verify 2 < "$T/s"); ok $? "$1: both signatures verify"
  [ $? = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
  n=$(grep -c '^DKIM-Signature:' "$T/s")
  $PY -c 'import sys; d=open(sys.argv[1],"rb").read(); m=open(sys.argv[2],"rb").read(); sys.exit(not d.endswith(m))' \
    "$T/s" "$T/m"; ok $? "$1: the message follows unchanged"
  is "$n" 2 "$1: two fields (RSA and Ed25519)"
}
printf 'From: Alice <alice@example.org>\nTo: bob@example.net,\n  carol@example.net\nSubject: a folded\n\t subject   line\nDate: Mon, 7 Dec 2026 10:00:00 +0000\nMessage-ID: <1@example.org>\n\nHello  there \t\n' > "$T/m"
case_ "folded headers"
{ printf 'From: alice@example.org\nSubject: long\n\n'; head -c 5000 /dev/zero | tr '\0' x; printf '\n'; } > "$T/m"
case_ "a 5,000-byte line"
printf 'From: alice@example.org\nSubject: =?utf-8?q?caf=C3=A9?=\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9 \xe2\x82\xac \xff\xfe\n' > "$T/m"
case_ "an 8-bit body"
printf 'From: alice@example.org\nSubject: empty\n\n' > "$T/m"
case_ "an empty body"
printf 'From: alice@example.org\nSubject: no body\n' > "$T/m"
case_ "no body at all"
printf 'From: alice@example.org\r\nSubject: crlf\r\n\r\nline one\r\n  line two  \r\n' > "$T/m"
case_ "CRLF line ends"
printf 'From: alice@example.org\nSubject: trailing\n\nbody\n\n\n   \n\n' > "$T/m"
case_ "trailing blank lines"
printf 'From: alice@example.org\nSubject: unterminated\n\nlast line' > "$T/m"
case_ "a last line without line end"
like "$(grep -c "$(printf '\r')" "$T/s")" '^0$' "an LF message gets LF signature lines"

printf 'From: alice@example.org\nTo: bob@example.net\nSubject: original\n\nthe body\nline two\n' > "$T/m"
sign alice@example.org < "$T/m" > "$T/s"
verify 2 < "$T/s" > /dev/null; ok $? "signed and verified (before tampering)"
sed 's/the body/the b0dy/' "$T/s" | verify > "$T/v"; is $? 1 "a changed body: fails"
like "$(cat "$T/v")" "fail d=example.org s=ed1" "  the Ed25519 signature fails"
like "$(cat "$T/v")" "fail d=example.org s=rsa1" "  the RSA signature fails"
sed 's/^Subject: original/Subject: changed/' "$T/s" | verify > /dev/null; is $? 1 "a changed Subject: fails"
sed 's/^To: bob@example.net/To: mallory@example.net/' "$T/s" | verify > /dev/null; is $? 1 "a changed To: fails"
sed 's/^From: alice@example.org/From: mallory@example.net\nFrom: alice@example.org/' "$T/s" | verify > /dev/null
is $? 1 "a second From added above the signed one: fails"
sed 's/^the body$/the   body  /; s/^Subject: original/Subject:   original  /' "$T/s" | verify 2 > /dev/null
ok $? "blanks that relaxed canonicalization ignores: still verifies"

printf 'To: bob@example.net\nSubject: no from\n\nx\n' > "$T/m"
sign alice@example.org < "$T/m" > "$T/s" 2> "$T/err"; is $? 100 "no From: exit 100"
cmp -s "$T/m" "$T/s"; ok $? "  the message written unsigned"
like "$(cat "$T/err")" "not signed: no From field" "  and said why"
printf 'From: x@example.net\n\nx\n' | sign x@example.net > "$T/s" 2> "$T/err"; is $? 100 "no key for the domain: 100"
like "$(cat "$T/err")" "no key in control/dkim/" "  said"
printf 'From: a@example.org\n\nx\n' | sign example.org > /dev/null; is $? 0 "a domain instead of an address"
printf 'From: a@example.org\n\nx\n' > "$T/m"
cat "$T/m" | sign alice@example.org | verify 2 > /dev/null; ok $? "a message on a pipe (spooled first)"
mkdir -p "$HUB/control/dkim/broken.example"
echo junk > "$HUB/control/dkim/broken.example/s.key"
chmod 600 "$HUB/control/dkim/broken.example/s.key"
[ "$(id -u)" != 0 ] || chown qmailr "$HUB/control/dkim/broken.example/s.key"
printf 'From: a@broken.example\n\nx\n' | sign a@broken.example > "$T/s" 2> "$T/err"; is $? 111 "a damaged key: 111"
like "$(cat "$T/err")" "control/dkim/broken.example/s.key: not a PEM private key" "  naming the file"
out=$(ctl check 2>&1 | grep 'control/dkim')
is "$out" "control/dkim/broken.example/s.key: not a PEM RSA or Ed25519 key without a passphrase: mail of broken.example is deferred" \
  "qmailctl check names the damaged key, and no good one"
chmod 644 "$D/ed1.key"
like "$(ctl check 2>&1)" "control/dkim/example.org/ed1.key: every user can read this private key" \
  "qmailctl check: a key every user can read"
chmod 600 "$D/ed1.key"
if [ "$(id -u)" = 0 ]; then
  chown root "$D/ed1.key"
  like "$(ctl check 2>&1)" "control/dkim/example.org/ed1.key: qmailr cannot read it" "qmailctl check: a key qmailr cannot read"
  chown qmailr "$D/ed1.key"
else ok 0 "# skip the qmailr check needs root"; fi

# ---- end to end: qmail-remote signs --------------------------------------------
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null && ALT=1 || ALT=0
# the fake receiver for remote.example and backup.example (we are its backup MX)
mkdir -p "$T/flog"
python3 "$SRCDIR/tests/lib/smtpfake.py" ok --logdir "$T/flog" --lifetime 600 > "$T/fport" 2> "$T/ferr" &
_pids+=($!)
wait_until test -s "$T/fport"; FPORT=$(head -n 1 "$T/fport")
printf 'remote.example:127.0.0.1:%s\nbackup.example:127.0.0.1:%s\nbroken.example:127.0.0.1:%s\n' \
  "$FPORT" "$FPORT" "$FPORT" > "$HUB/control/smtproutes"
printf '%s\nbackup.example\n' "$ME" > "$HUB/control/rcpthosts"
# relay for 127.0.0.1 only: 127.0.0.2 is an ordinary client
printf '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n' > "$HUB/control/tcp.smtp"
printf '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n' > "$HUB/control/tcp.qmtp"
hub_user bob
hub_user alice
hub_newu
PW=Sesame-$RANDOM-open
printf '%s\n' "$PW" | "$HUB/bin/qmail-passwd" --stdin alice "$RUID" "$RGID" "$T/home/alice" > "$T/passwd.log" 2>&1
ok $? "qmail-passwd --stdin alice"
echo "$HUB/bin/qmail-checkpassword" > "$HUB/service/qmail-smtpd/env/CHECKPASSWORD"
dq "$T/home/bob" .qmail-fwd '&carol@remote.example
'
QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT") QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")
hub_start; ok $? "hub started"

# got TAG: the message with Subject TAG as the fake server received it
# (dot-stuffing undone, CRLF kept), into $T/got.TAG; 1 when not there
got() {
  $PY - "$T/flog" "$1" > "$T/got.$1" <<'PY'
import glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/conn-*.data")):
    for m in open(f, "rb").read().split(b"\r\n.\r\n"):
        lines = [l[1:] if l.startswith(b".") else l for l in m.split(b"\r\n")]
        msg = b"\r\n".join(lines) + b"\r\n"
        if b"\r\nSubject: " + sys.argv[2].encode() + b"\r\n" in b"\r\n" + msg:
            sys.stdout.buffer.write(msg); sys.exit(0)
sys.exit(1)
PY
}
arrived() { got "$1" 2>/dev/null; }
msg() { printf 'From: Alice <%s>\nTo: carol@remote.example\nSubject: %s\nDate: Mon, 7 Dec 2026 10:00:00 +0000\n\nbody of %s\n' "$1" "$2" "$2"; }
signed() { grep -c '^DKIM-Signature:' "$T/got.$1"; }

msg alice@example.org relay | send alice@example.org carol@remote.example
wait_until arrived relay; ok $? "relay client (SMTP): delivered"
is "$(signed relay)" 2 "  signed twice"
verify 2 < "$T/got.relay" > /dev/null; ok $? "  both verify"
like "$(grep -m1 'by .* with' "$T/got.relay")" 'with ESMTP \(relay client\);' "  Received says (relay client)"

msg alice@example.org local | "$HUB/bin/qmail-inject" -falice@example.org carol@remote.example
wait_until arrived local; ok $? "local injection: delivered"
is "$(signed local)" 2 "  signed"
verify 2 < "$T/got.local" > /dev/null; ok $? "  verifies"

msg "$RNAME@$ME" other | "$HUB/bin/qmail-inject" -f"x@$ME" carol@remote.example
wait_until arrived other; ok $? "local injection from $ME: delivered"
verify 1 < "$T/got.other" > /dev/null; ok $? "  signed with $ME's one key, verifies"
like "$(grep -m1 '^DKIM-Signature:' "$T/got.other")$(grep -A1 -m1 '^DKIM-Signature:' "$T/got.other")" \
  "d=$ME" "  d=$ME"

# the bounce quotes the message, Subject included: got finds the bounce
msg alice@example.org bounce-src | send bob@remote.example nosuchuser@"$ME"
wait_until arrived bounce-src; ok $? "a bounce to bob@remote.example: delivered"
like "$(grep -m1 '^Subject:' "$T/got.bounce-src")" 'failure notice' "  it is the bounce"
is "$(signed bounce-src)" 0 "  not signed (the bounce has no sender domain, though $ME has a key)"

msg alice@example.org forward | send alice@example.org "bob-fwd@$ME"
wait_until arrived forward; ok $? "a .qmail forward of an example.org message: delivered"
is "$(signed forward)" 0 "  not signed"

if [ $ALT = 1 ]; then
  cat > "$T/alt.py" <<'PY'
import smtplib, sys
port, sender, rcpt, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
msg = sys.stdin.buffer.read().replace(b"\n", b"\r\n")
s = smtplib.SMTP(timeout=30, source_address=("127.0.0.2", 0))
s.connect("127.0.0.1", port)
s.ehlo("alt.test")
if user:
    s.login(user, pw)
s.sendmail(sender, [rcpt], msg)
s.quit()
PY
  msg alice@example.org backup | python3 "$T/alt.py" "$SMTP" alice@example.org x@backup.example "" ""
  ok $? "an unauthenticated client (127.0.0.2) to backup.example: accepted"
  wait_until arrived backup; ok $? "  relayed to the primary"
  is "$(signed backup)" 0 "  not signed, though its sender is alice@example.org"
  msg alice@example.org auth | python3 "$T/alt.py" "$SMTP" alice@example.org carol@remote.example alice "$PW"
  ok $? "an authenticated client (127.0.0.2, AUTH): accepted"
  wait_until arrived auth; ok $? "  delivered"
  like "$(grep -m1 'by .* with' "$T/got.auth")" 'with ESMTPA;' "  Received says ESMTPA"
  verify 2 < "$T/got.auth" > /dev/null; ok $? "  signed, both verify"
else
  for i in 1 2 3 4 5 6 7; do ok 0 "# skip cannot bind 127.0.0.2"; done
fi

# QMTP from a relay client, QMQP from a trusted leaf (tcp.qmqp as installed)
cat > "$T/ns.py" <<'PY'
import socket, sys
proto, port, sender, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4].encode()
msg = sys.stdin.buffer.read()
def ns(b): return str(len(b)).encode() + b":" + b + b","
s = socket.create_connection(("127.0.0.1", port), 30)
if proto == "qmtp":
    s.sendall(ns(b"\n" + msg) + ns(sender) + ns(ns(rcpt)))
else:
    s.sendall(ns(ns(msg) + ns(sender) + ns(rcpt)))
r = b""
while not r.endswith(b","):
    c = s.recv(1000)
    if not c: break
    r += c
print(r.decode(errors="replace"))
PY
msg alice@example.org qmtp | python3 "$T/ns.py" qmtp "$QMTP" alice@example.org carol@remote.example > "$T/nsout"
like "$(cat "$T/nsout")" ':K' "QMTP from a relay client: accepted"
wait_until arrived qmtp; ok $? "  delivered"
verify 2 < "$T/got.qmtp" > /dev/null; ok $? "  signed, both verify"
msg alice@example.org qmqp | python3 "$T/ns.py" qmqp "$QMQP" alice@example.org carol@remote.example > "$T/nsout"
like "$(cat "$T/nsout")" ':K' "QMQP from a trusted leaf: accepted"
wait_until arrived qmqp; ok $? "  delivered"
verify 2 < "$T/got.qmqp" > /dev/null; ok $? "  signed, both verify"

# a key rewritten in place (same inode, same size) between two messages of
# one session: the second is signed with the new key (the session's key
# cache sees the new mtime)
openssl genpkey -algorithm ED25519 -out "$T/ed1.new" 2> /dev/null
p=$(openssl pkey -in "$T/ed1.new" -pubout -outform DER | tail -c 32 | openssl base64 -A)
grep -v '^ed1\._domainkey' "$T/records" > "$T/records.new"
printf 'ed1._domainkey.example.org. IN TXT ( "v=DKIM1; k=ed25519; p=%s" )\n' "$p" >> "$T/records.new"
msg alice@example.org rot1 | send alice@example.org carol@remote.example
wait_until arrived rot1; verify 2 < "$T/got.rot1" > /dev/null; ok $? "before the rewrite: signed with the old keys"
cat "$T/ed1.new" > "$D/ed1.key"
msg alice@example.org rot2 | send alice@example.org carol@remote.example
wait_until arrived rot2; ok $? "a message right after the key was rewritten in place: delivered"
$PY "$SRCDIR/tests/lib/dkimverify.py" "$T/records.new" 2 < "$T/got.rot2" > "$T/v"
ok $? "  signed with the new key (both verify against the new records)"
[ $? = 0 ] || sed 's/^/# /' "$T/v"
cp "$T/records.new" "$T/records"

# a damaged key: deferred, not sent unsigned
msg a@broken.example broken | "$HUB/bin/qmail-inject" -fa@broken.example carol@remote.example
wait_until inlog 'cannot sign the message: .*control/dkim/broken.example/s.key'
ok $? "a damaged key: the delivery is deferred, the log names the file"
arrived broken; is $? 1 "  and nothing was sent"

# classic mode (one qmail-remote per delivery) signs too
hub_stop
echo 0 > "$HUB/control/sessionsperhost"
hub_start; ok $? "hub restarted without sessions (sessionsperhost 0)"
msg alice@example.org classic | send alice@example.org carol@remote.example
wait_until arrived classic; ok $? "classic mode: delivered"
verify 2 < "$T/got.classic" > /dev/null; ok $? "  signed, both verify"

done_testing
