#!/bin/bash
# smtputf8.t: SMTPUTF8 (RFC 6531/6532) end to end (docs/smtputf8.md).
#  1. qmail-remote by hand against tests/lib/smtpfake.py: a recipient with
#     UTF-8 to a next hop that offers SMTPUTF8 goes with
#     "MAIL FROM:<...> SMTPUTF8", an ASCII envelope without it; to one that
#     does not offer it the UTF-8 recipient gets h #5.6.7 (the ASCII one
#     is still sent), a UTF-8 sender or only UTF-8 recipients: h D #5.6.7
#     and no MAIL at all. Over QMTP (tests/lib/qmtpfake.py --envlog) the
#     UTF-8 sender and recipient go as their bytes.
#  2. A real hub (tests/lib/hub.sh): python smtplib with SMTPUTF8 to a
#     UTF-8 local address (users/assign) reaches its Maildir, received
#     "with UTF8SMTP"; the same address without SMTPUTF8 and malformed
#     UTF-8 are refused 553 5.6.7; qmail-inject with a UTF-8 To: delivers
#     there too; a UTF-8 address carried as bytes through the hub's
#     qmail-qmtpd and qmail-qmqpd (from a leaf's qmail-qmqpc) arrives; a
#     UTF-8 recipient routed (smtproutes) to a next hop without SMTPUTF8
#     bounces to its sender with #5.6.7, no MAIL sent there.
# Every server is started here and killed by pid; every wait is bounded.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v python3 > /dev/null || { echo "1..0 # skip no python3"; exit 0; }
QR=$SRCDIR/$BUILD/hub/qmail-remote
U=$'j\xc3\xb6rg'             # jörg
CJK=$'\xe7\x94\xa8\xe6\x88\xb7'   # 用户

# ---- helpers ------------------------------------------------------------------
# fake DIR [ARGS]: smtpfake.py ok logging into DIR; sets FPORT, FPID.
fake() {
  local dir=$1 out=$T/fake.$RANDOM i; shift
  rm -rf "$dir"; mkdir -p "$dir"
  python3 "$SRCDIR/tests/lib/smtpfake.py" ok --logdir "$dir" --lifetime 280 "$@" > "$out" 2> "$out.err" &
  FPID=$!; _pids+=("$FPID")
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  FPORT=$(head -n 1 "$out")
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
H=$T/rhome
mkdir -p "$H/control" "$H/queue/lock"
head -c 1024 /dev/zero > "$H/queue/lock/tcpto"
printf 'hub.example.org\n' > "$H/control/me"
printf '127.0.0.1:1\n' > "$H/control/dnsservers"
printf 'Subject: Gr\xc3\xbc\xc3\x9fe\n\nd\xc3\xada\n' > "$T/msg"
# remote SENDER RCPT...: qmail-remote example.com by hand; OUT = reports
remote() {
  QMAILHOME=$H timeout 60 "$QR" example.com "$@" < "$T/msg" > "$T/out" 2> "$T/err"
  OUT=$(tr '\0' '\n' < "$T/out")
}
letters() { printf '%s\n' "$OUT" | cut -c1 | tr -d '\n'; }
# cmds DIR: the commands of DIR's latest connection, '|'-separated
cmds() { local f; f=$(ls "$1"/conn-*.cmds 2>/dev/null | sort -t- -k2 -n | tail -n 1)
         [ -n "$f" ] && tr -d '\r' < "$f" | tr '\n' '|'; }

# ---- 1. qmail-remote by hand ---------------------------------------------------
fake "$T/f1" --smtputf8
printf 'example.com:127.0.0.1:%s\n' "$FPORT" > "$H/control/smtproutes"
remote a@b.org "$U@example.com" "$CJK@ex"$'\xc3\xa4'"mple.com"
is "$(letters)" "rrK" "SMTPUTF8 offered: the UTF-8 recipients accepted, K"
like "$(cmds "$T/f1")" "\|MAIL FROM:<a@b\.org> SIZE=[0-9]+ BODY=8BITMIME SMTPUTF8\|RCPT TO:<$U@example\.com>\|RCPT TO:<$CJK@ex"$'\xc3\xa4'"mple\.com>\|DATA\|" \
  "SMTPUTF8 offered: MAIL FROM carries SMTPUTF8, the RCPTs their UTF-8 as it is"
remote "$U@b.org" good@example.com
like "$(cmds "$T/f1")" "\|MAIL FROM:<$U@b\.org> SIZE=[0-9]+ BODY=8BITMIME SMTPUTF8\|" "SMTPUTF8 offered: a UTF-8 sender asks for it too"
remote a@b.org good@example.com
like "$(cmds "$T/f1")" "\|MAIL FROM:<a@b\.org> SIZE=[0-9]+ BODY=8BITMIME\|RCPT" "an ASCII envelope: no SMTPUTF8 (UTF-8 in the header does not count)"
remote a@b.org "$U x@example.com"
like "$(cmds "$T/f1")" "\|RCPT TO:<\"$U x\"@example\.com>\|" "a UTF-8 local part with a blank: a Quoted-string"
stop "$FPID"

fake "$T/f2"
printf 'example.com:127.0.0.1:%s\n' "$FPORT" > "$H/control/smtproutes"
remote a@b.org "$U@example.com" good@example.com
is "$(letters)" "hrK" "no SMTPUTF8: the UTF-8 recipient h, the ASCII one sent"
like "$(sed -n 1p <<< "$OUT")" "^hConnected to 127\.0\.0\.1 but it does not support SMTPUTF8, and this address is not ASCII \(#5\.6\.7\)$" \
  "no SMTPUTF8: h with #5.6.7 and a clear text"
like "$(cmds "$T/f2")" "^EHLO [^|]*\|MAIL FROM:<a@b\.org> SIZE=[0-9]+ BODY=8BITMIME\|RCPT TO:<good@example\.com>\|DATA\|" \
  "no SMTPUTF8: MAIL without it, only the ASCII RCPT"
rm -f "$T/f2"/conn-*
remote a@b.org "$U@example.com"
is "$(letters)" "hD" "no SMTPUTF8, only a UTF-8 recipient: h D"
like "$(sed -n 2p <<< "$OUT")" "does not support SMTPUTF8, which every recipient needs \(#5\.6\.7\)$" "no SMTPUTF8: D #5.6.7"
is "$(cmds "$T/f2" | grep -c MAIL)" 0 "no SMTPUTF8: no MAIL sent"
rm -f "$T/f2"/conn-*
remote "$U@b.org" good@example.com
is "$(letters)" "hD" "no SMTPUTF8, a UTF-8 sender: h D"
like "$OUT" "envelope sender is not ASCII \(#5\.6\.7\)" "no SMTPUTF8, a UTF-8 sender: #5.6.7"
is "$(cmds "$T/f2" | grep -c MAIL)" 0 "no SMTPUTF8, a UTF-8 sender: no MAIL sent"
remote a@b.org $'caf\xe9@example.com' good@example.com
is "$(letters)" "hrK" "Latin-1 (not UTF-8): h before connecting, the other sent"
like "$(sed -n 1p <<< "$OUT")" "not valid UTF-8\. \(#5\.1\.3\)$" "Latin-1: #5.1.3, not valid UTF-8"
stop "$FPID"

# QMTP: the bytes as they are (QMTP negotiates nothing)
QP=$T/qmtp.port
python3 "$SRCDIR/tests/lib/qmtpfake.py" --envlog "$T/qenv" --lifetime 280 > "$QP" 2>/dev/null &
QPID=$!; _pids+=("$QPID")
for i in $(seq 100); do [ -s "$QP" ] && break; sleep 0.05; done
rm -f "$H/control/smtproutes"
printf 'example.com:127.0.0.1:%s\n' "$(head -n 1 "$QP")" > "$H/control/qmtproutes"
remote "$U@b.org" "$CJK@example.com" good@example.com
is "$(letters)" "rrK" "QMTP: UTF-8 sender and recipient accepted"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
is "$(cat "$T/qenv")" "$(hex "$U@b.org") $(hex "$CJK@example.com") $(hex good@example.com)" \
  "QMTP: sender and recipients went as their bytes"
stop "$QPID"
rm -f "$H/control/qmtproutes"

# ---- 2. through a hub --------------------------------------------------------------
hub_install; ok $? "make install makes a hub home"
QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT") QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")
hub_user "$U"
hub_user sender
hub_newu; ok $? "qmail-newu takes a UTF-8 user name"
fake "$T/f3"
printf 'nosmtputf8.example:127.0.0.1:%s\n' "$FPORT" > "$HUB/control/smtproutes"
hub_start; ok $? "the hub starts"
like "$(env -i QMAILHOME="$HUB" "$HUB/bin/qmail-showctl" 2>&1)" "smtputf8: \(Default\.\) SMTPUTF8 \(RFC 6531\) is offered: 1" \
  "qmail-showctl knows smtputf8"
MD=$T/home/$U/Maildir/new
for p in "$QMTP" "$QMQP"; do
  for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$p),0.2)" 2>/dev/null && break; sleep 0.1; done
done

python3 - "$SMTP" "$U" "$ME" > "$T/py.out" 2>&1 <<'PY'
import smtplib, sys
port, user, me = int(sys.argv[1]), sys.argv[2].encode("utf-8", "surrogateescape").decode(), sys.argv[3]
rcpt = user + "@" + me
msg = ("From: " + user + "@client.example\r\nTo: " + rcpt + "\r\nSubject: Grüße\r\n\r\ndía\r\n").encode()
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.example")
print("offered", s.has_extn("smtputf8"))
print("sendmail", s.sendmail(user + "@client.example", [rcpt], msg, mail_options=["SMTPUTF8"]))
s.command_encoding = "utf-8"
print("mail", s.mail("a@client.example")[0])
print("rcpt", *s.rcpt(rcpt))
s.rset()
s.command_encoding = "ascii"
s.send(b"MAIL FROM:<a@client.example> SMTPUTF8\r\n"); print("mail", s.getreply()[0])
s.send(b"RCPT TO:<caf\xe9@" + me.encode() + b">\r\n"); print("rcpt", *s.getreply())
s.send(b"RCPT TO:<a\xc0\xaf@" + me.encode() + b">\r\n"); print("rcpt", *s.getreply())
s.quit()
PY
out=$(cat "$T/py.out")
like "$out" "offered True" "smtplib: EHLO offers SMTPUTF8"
like "$out" "sendmail \{\}" "smtplib: sendmail(..., mail_options=[SMTPUTF8]) to a UTF-8 address accepted"
like "$out" "rcpt 553 b'5\.6\.7 sorry, a non-ASCII address needs SMTPUTF8" "without SMTPUTF8 the UTF-8 address is refused 553 5.6.7"
is "$(grep -c "rcpt 553 b'5\.6\.7 sorry, that address is not valid UTF-8" <<< "$out")" 2 "Latin-1 and overlong UTF-8 refused 553 5.6.7"
wait_until files_ge "$MD" 1; ok $? "the message reaches the UTF-8 address's Maildir"
f=$(ls "$MD"/* 2>/dev/null | head -n 1)
like "$(cat "$f" 2>/dev/null | tr '\n' ' ')" "with UTF8SMTP[ ;].*Subject: Gr"$'\xc3\xbc\xc3\x9f'"e .*d"$'\xc3\xad'"a" \
  "delivered: received with UTF8SMTP, the UTF-8 header and body byte for byte"
like "$(grep -a '^Delivered-To:' "$f" 2>/dev/null)" "^Delivered-To: $U@" "delivered: Delivered-To names the UTF-8 address"

# qmail-inject with a UTF-8 To:
printf 'To: J\xc3\xb6rg <%s@%s>\nSubject: inject\n\nvia qmail-inject\n' "$U" "$ME" |
  env -i QMAILHOME="$HUB" PATH=/usr/bin:/bin "$HUB/bin/qmail-inject"; ok $? "qmail-inject takes a UTF-8 To:"
wait_until has_file "$MD" 1 "via qmail-inject"; ok $? "qmail-inject's message reaches the UTF-8 address"

# QMTP into the hub: the package carries the UTF-8 address as bytes
python3 - "$QMTP" "$U@$ME" > "$T/qmtp.out" 2>&1 <<'PY'
import socket, sys
def ns(b): return str(len(b)).encode() + b":" + b + b","
port, rcpt = int(sys.argv[1]), sys.argv[2].encode("utf-8", "surrogateescape")
s = socket.create_connection(("127.0.0.1", port), 30)
msg = b"\nSubject: qmtp\n\nvia qmtp\n"
s.sendall(ns(msg) + ns(rcpt.replace(b"@", b"-from@", 1)) + ns(ns(rcpt)))
print(s.recv(4096)[:40])
PY
like "$(cat "$T/qmtp.out")" "^b'[0-9]+:K" "qmail-qmtpd takes a UTF-8 recipient"
wait_until has_file "$MD" 1 "via qmtp"; ok $? "the QMTP message reaches the UTF-8 address"

# QMQP from a leaf's qmail-qmqpc into the hub
L=$T/leaf
if install_leaf "$L"; then
  printf '127.0.0.1:%s\n' "$QMQP" > "$L/control/qmqpservers"
  printf 'Subject: qmqp\n\nvia qmqp\n' |
    env -i QMAILHOME="$L" PATH=/usr/bin:/bin "$L/bin/qmail-inject" -f "$U@leaf.example.org" "$U@$ME" 2> "$T/qmqpc.err"
  ok $? "qmail-inject on a leaf hands a UTF-8 envelope to qmail-qmqpc"
  wait_until has_file "$MD" 1 "via qmqp"; ok $? "the QMQP message reaches the UTF-8 address"
  like "$(grep -la 'via qmqp' "$MD"/* | xargs grep -a '^Return-Path:')" "^Return-Path: <$U@leaf\.example\.org>" \
    "QMQP: the UTF-8 sender arrives as it was"
else
  ok 1 "install-leaf"; ok 1 "QMQP"; ok 1 "QMQP sender"
fi

# a UTF-8 recipient routed to a next hop without SMTPUTF8: bounced #5.6.7
printf 'Subject: to nosmtputf8\n\nx\n' |
  env -i QMAILHOME="$HUB" PATH=/usr/bin:/bin "$HUB/bin/qmail-inject" -f "sender@$ME" "$U@nosmtputf8.example"
ok $? "a UTF-8 remote recipient is queued"
wait_until files_ge "$T/home/sender/Maildir/new" 1; ok $? "the sender gets a bounce"
like "$(cat "$T"/home/sender/Maildir/new/* 2>/dev/null | tr '\n' ' ')" "$U@nosmtputf8\.example.*does not support SMTPUTF8.*#5\.6\.7" \
  "the bounce names the address and says #5.6.7"
is "$(cat "$T"/f3/conn-*.cmds 2>/dev/null | grep -c '^MAIL')" 0 "no MAIL was sent to the next hop"
stop "$FPID"

done_testing
