#!/bin/bash
# envbytes.t: control bytes in envelope addresses are refused at every
# entrance and never reach a header (issue 10 item 3). On a running hub
# (tests/lib/hub.sh): QMTP packages whose recipients hold CR, LF, ESC, DEL,
# NUL, TAB or are one byte over maxaddress get D #5.1.3 each while a good
# recipient in the same package is delivered; a sender holding such bytes
# gets D #5.1.7 for every recipient; QMQP refuses the whole request (D
# #5.1.3 / #5.1.7); SMTP refuses them too (501). Nothing of a refused
# message is queued: qmail-send logs exactly the accepted messages, and
# the one delivered copy's Return-Path, Delivered-To, $SENDER and
# $RECIPIENT hold no control byte. qmail-queue fed such an envelope
# directly exits 11 and leaves nothing in the queue. qmail-local given a
# sender with ESC, CR, LF (as an old queue file could hold) writes it with
# '?' in Return-Path, the mbox From_ line, $SENDER, $NEWSENDER and a
# forward's envelope, and refuses a recipient holding one (exit 100).
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
export TZ=UTC

hub_install; ok $? "make install makes a hub home"
hub_user zu
hub_newu
U=$T/home/zu
dq "$U" .qmail '|printf "%s|%s|" "$SENDER" "$RECIPIENT" >> env.out
./Maildir/
'
hub_start; ok $? "hub started"
QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT")   # after the start: a port taken
QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")   # meanwhile is picked again

# ns PROTO PORT SENDER RCPT...: one QMTP package or QMQP request
# (tests/lib/nsclient.py: the addresses are Python string escapes, \x1b
# ...; LONG is a 1001-byte address); prints one letter and the (#x.y.z)
# per reply, space-separated
LONG=$(printf 'a%.0s' $(seq 995))@x.org
ns() {
  local a x=()
  for a in "${@:3}"; do [ "$a" = LONG ] && a=$LONG; x+=("$a"); done
  timeout 60 python3 "$SRCDIR/tests/lib/nsclient.py" "$1" "$2" \
    --msg 'From: a@leaf.example.org\nSubject: envbytes\n\nhello\n' "${x[@]}"
}
newmsgs() { nlog 'new msg'; }

# ---- QMTP: each bad recipient D, the good one delivered ----------------------
is "$(ns qmtp "$QMTP" a@leaf.example.org 'x\r@hub.example.org' 'x\n@hub.example.org' \
      'x\x1b[2J@hub.example.org' 'x\x7f@hub.example.org' 'x\x00@hub.example.org' \
      'x\t@hub.example.org' LONG zu@hub.example.org)" \
   "D5.1.3 D5.1.3 D5.1.3 D5.1.3 D5.1.3 D5.1.3 D5.1.3 K" \
   "QMTP: CR, LF, ESC, DEL, NUL, TAB, over-long recipients D #5.1.3 each, the good one K"
wait_until files_eq "$U/Maildir/new" 1; ok $? "QMTP: the good recipient got its copy"
is "$(ns qmtp "$QMTP" 'a\x1b]0;x\x07@leaf.example.org' zu@hub.example.org zu@hub.example.org)" \
   "D5.1.7 D5.1.7" "QMTP: sender with ESC/BEL: D #5.1.7 for every recipient"
is "$(ns qmtp "$QMTP" 'a@leaf.example.org\r\nX-Forged: 1' zu@hub.example.org)" "D5.1.7" \
   "QMTP: sender with CR LF: D #5.1.7"
is "$(ns qmtp "$QMTP" 'a\x00@leaf.example.org' zu@hub.example.org)" "D5.1.7" "QMTP: sender with NUL: D #5.1.7"
is "$(ns qmtp "$QMTP" LONG zu@hub.example.org)" "D5.1.7" "QMTP: over-long sender: D #5.1.7"

# ---- QMQP: the whole request D -------------------------------------------------
for r in 'x\r@hub.example.org' 'x\n@hub.example.org' 'x\x1b@hub.example.org' 'x\x7f@hub.example.org' \
         'x\x00@hub.example.org' LONG; do
  is "$(ns qmqp "$QMQP" a@leaf.example.org zu@hub.example.org "$r")" "D5.1.3" "QMQP: recipient $r: D #5.1.3"
done
is "$(ns qmqp "$QMQP" 'a\x1b@leaf.example.org' zu@hub.example.org)" "D5.1.7" "QMQP: sender with ESC: D #5.1.7"
is "$(ns qmqp "$QMQP" 'a\r\n@leaf.example.org' zu@hub.example.org)" "D5.1.7" "QMQP: sender with CR LF: D #5.1.7"

# ---- SMTP: refused as before --------------------------------------------------
cat > "$T/smtp.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
def line():
    l = f.readline()
    while l[3:4] == b"-": l = f.readline()
    return l[:3].decode()
out = [line()]
for c in [b"HELO x", b"MAIL FROM:<a\x1b@leaf.example.org>", b"MAIL FROM:<a@leaf.example.org>",
          b"RCPT TO:<zu\x7f@hub.example.org>", b"RCPT TO:<\"zu\rx\"@hub.example.org>", b"QUIT"]:
    s.sendall(c + b"\r\n"); out.append(line())
print(" ".join(out))
EOF
is "$(timeout 60 python3 "$T/smtp.py" "$SMTP")" "220 250 501 250 501 501 221" "SMTP: ESC, DEL, CR in addresses: 501"

# ---- nothing of the refused messages was queued ---------------------------------
# read after a message sent last has been taken in and delivered: one
# queued before it would have been taken in (and logged) first
marker refused; ok $? "a message sent after them is delivered and ends"
is "$(newmsgs)" 2 "qmail-send saw exactly two new messages (the accepted one and that one)"
wait_until queue_empty; ok $? "queue empty"
is "$(nfiles "$U/Maildir/new")" 1 "one delivery in all"
f=$(find "$U/Maildir/new" -type f | head -1)
is "$(head -2 "$f")" "Return-Path: <a@leaf.example.org>
Delivered-To: zu@hub.example.org" "the delivered copy: Return-Path and Delivered-To"
is "$(cat "$U/env.out")" "a@leaf.example.org|zu@hub.example.org|" "the program saw a clean SENDER and RECIPIENT"
ok "$(grep -qP '[\x00-\x08\x0b-\x1f\x7f]' "$f" "$U/env.out"; [ $? = 1 ]; echo $?)" "no control byte in the delivered copy or the environment"

# ---- qmail-queue directly: exit 11, nothing left ---------------------------------
qstate() { echo "pid=$(nfiles "$HUB/queue/pid") mess=$(nfiles "$HUB/queue/mess") intd=$(nfiles "$HUB/queue/intd") todo=$(nfiles "$HUB/queue/todo")"; }
hub_stop
for e in 'Fa\033@b\0Tzu@hub.example.org\0\0' 'Fa@b\0Tzu\r@hub.example.org\0\0' 'Fa@b\0Tzu@hub.example.org\0Tx\n@y\0\0' \
         'Fa@b\0Tx\177@y\0\0' 'Fa\tb@c\0Tx@y\0\0'; do
  printf 'Subject: x\n\nbody\n' > "$T/qmsg"
  printf "$e" > "$T/qenv"
  "$HUB/bin/qmail-queue" < "$T/qmsg" 1< "$T/qenv"
  is "$?/$(qstate)" "11/pid=0 mess=0 intd=0 todo=0" "qmail-queue refuses envelope $e: exit 11, nothing queued"
done
printf 'Fa@b\0Tzu@hub.example.org\0\0' > "$T/qenv"
"$HUB/bin/qmail-queue" < "$T/qmsg" 1< "$T/qenv"
like "$?/$(qstate)" '^0/pid=0 mess=1 .*todo=1$' "a clean envelope still queues"

# ---- qmail-local given control bytes (an old queue file) ---------------------------
H=$T/home/zl
mkdir -p "$H"; chmod 755 "$H"
if [ "$(id -u)" = 0 ]; then
  asuser() { setpriv --reuid="$RUID" --regid="$RGID" --clear-groups -- "$@"; }
else
  asuser() { "$@"; }
fi
printf '#!/bin/sh\nQQ_OUT=%s/lq; export QQ_OUT\nexec %s/tests/lib/qq-record.sh\n' "$T" "$SRCDIR" > "$T/lq.sh"
chmod 755 "$T/lq.sh"; mkdir -p "$T/lq"
"$HUB/bin/maildirmake" "$H/Maildir"
printf '|printf "%%s|%%s|%%s|%%s" "$SENDER" "$NEWSENDER" "$RECIPIENT" "$RPLINE" > env.out\n./Maildir/\n./mbox\n&fw@example.net\n' > "$H/.qmail"
chmod 644 "$H/.qmail"
chown -R "$RUID:$RGID" "$H" "$T/lq"
SND=$(printf 'a\033[2J\r\nX-Forged: 1@leaf.example.org')
printf 'Subject: old\n\nbody\n' > "$T/lmsg"
out=$(cd / && asuser env QMAILQUEUE="$T/lq.sh" "$HUB/bin/qmail-local" zl "$H" zl "" "" hub.example.org "$SND" ./Maildir/ < "$T/lmsg" 2>&1)
rc=$?; is "$rc" 0 "qmail-local: a sender with ESC, CR, LF is delivered"; [ "$rc" = 0 ] || echo "# $out"
f=$(find "$H/Maildir/new" -type f | head -1)
is "$(head -1 "$f")" "Return-Path: <a?[2J??X-Forged: 1@leaf.example.org>" "Return-Path: each control byte is '?'"
is "$(head -1 "$H/mbox" | cut -d' ' -f1-2)" "From a?[2J??X-Forged:_1@leaf.example.org" "mbox From_ line: no control byte"
like "$(cat "$H/env.out")" '^a\?\[2J\?\?X-Forged: 1@leaf\.example\.org\|a\?\[2J\?\?X-Forged: 1@leaf\.example\.org\|zl@hub\.example\.org\|Return-Path: <a\?\[2J' \
   "SENDER, NEWSENDER, RPLINE with '?' instead of control bytes"
is "$(tr '\0' ' ' < "$T/lq/envelope" 2>/dev/null)" "Fa?[2J??X-Forged: 1@leaf.example.org Tfw@example.net  " "the forward's sender is cleaned too"
ok "$(cat "$f" "$H/mbox" "$H/env.out" "$T/lq/envelope" "$T/lq/message" | tr -d '\0\n' | grep -qP '[\x00-\x1f\x7f]'; [ $? = 1 ]; echo $?)" \
   "no raw control byte in the Maildir copy, the mbox, the environment or the forward"
out=$(cd / && asuser "$HUB/bin/qmail-local" zl "$H" "zl$(printf '\033')x" "" "" hub.example.org a@b ./Maildir/ < "$T/lmsg" 2>&1)
is "$?" 100 "qmail-local: a recipient holding ESC is a permanent failure"
like "$out" 'control character.*#5\.1\.3' "  with a #5.1.3 text"
is "$(nfiles "$H/Maildir/new")" 1 "  and nothing delivered"

done_testing
