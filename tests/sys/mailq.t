#!/bin/bash
# mailq.t: mailq, sendmail -bp and sendmail -bs on installed homes.
# Hub home (make install): -bs runs bin/qmail-smtpd on stdin/stdout and
# queues a message (no qmail-send running, so it stays in the queue);
# mailq (the link) and sendmail -bp run bin/qmail-qread and list it. As a
# normal user (nobody, when run as root): mailq and -bp exit 111 saying who
# may read the queue, -bs queues a message.
# Leaf home (make install-leaf): mailq and -bp say there is no queue and
# name the hubs (exit 0), and list what waits in the spool; -bs speaks
# SMTP itself and hands each message to the hub (a fake QMQP server):
# CRLF and LF lines, dot-stuffing, two messages in one session, the hub's
# refusal (554), an unreachable hub (spool off: 451 naming the cause;
# spool on: 250, and mailq lists the kept message), a command line over
# maxsmtpline, input ending inside DATA.
. "$(dirname "$0")/../lib/common.sh"
hub=$T/hub leaf=$T/leaf

# ---- hub ---------------------------------------------------------------------
if [ -x "$SRCDIR/$BUILD/hub/qmail-smtpd" ] || [ -x "$BUILD/hub/qmail-smtpd" ]; then
  qmake install QMAILHOME="$hub" > "$T/install-hub.log" 2>&1 ||
    { sed 's/^/# /' "$T/install-hub.log"; echo "Bail out! make install failed"; exit 1; }
  echo hub.example.org > "$hub/control/me"
  out=$(env -i PATH=/usr/bin:/bin "$hub/bin/mailq" 2>&1); rc=$?
  is "$rc" 0 "hub: mailq on an empty queue exits 0"
  is "$out" "$(env -i PATH=/usr/bin:/bin "$hub/bin/qmail-qread" 2>&1)" "hub: mailq prints what qmail-qread prints"
  out=$(printf 'HELO mua\r\nMAIL FROM:<alice@hub.example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: bs\r\n\r\nhello\r\n.\r\nQUIT\r\n' |
        env -i PATH=/usr/bin:/bin "$hub/bin/sendmail" -bs 2>&1); rc=$?
  is "$rc" 0 "hub: sendmail -bs exits 0 after QUIT"
  like "$out" '^220 hub\.example\.org ESMTP' "hub: -bs is qmail-smtpd (its greeting)"
  like "$out" '250 2\.0\.0 ok [0-9]+ qp [0-9]+' "hub: -bs queued the message"
  qr=$(env -i PATH=/usr/bin:/bin "$hub/bin/qmail-qread" 2>&1)
  out=$(env -i PATH=/usr/bin:/bin "$hub/bin/mailq" 2>&1); rc=$?
  is "$rc" 0 "hub: mailq with a message queued exits 0"
  ok "$([ -n "$out" ] && [ "$out" = "$qr" ]; echo $?)" "hub: mailq lists the queue as qmail-qread does"
  like "$out" '1' "hub: the listing counts one message"
  out=$(env -i PATH=/usr/bin:/bin "$hub/bin/sendmail" -bp 2>&1); rc=$?
  is "$rc/$out" "0/$qr" "hub: sendmail -bp is mailq"
  # a normal user (nobody) on this root install: the queue is qmails's, so
  # mailq and -bp refuse and say who may read it; -bs works (qmail-smtpd
  # runs the setuid qmail-queue)
  if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$T"
    N() { env -i PATH=/usr/bin:/bin setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
    out=$(N "$hub/bin/mailq" 2>&1); rc=$?
    is "$rc" 111 "hub, normal user: mailq exits 111"
    like "$out" "^qmail-qread: fatal: unable to read the queue \(.*\): run me as root or as the queue's owner \(qmails\): " \
      "hub, normal user: mailq says who may read the queue ($out)"
    out=$(N "$hub/bin/sendmail" -bp 2>&1); rc=$?
    is "$rc" 111 "hub, normal user: sendmail -bp exits 111"
    like "$out" "run me as root or as the queue's owner \(qmails\)" "hub, normal user: -bp says who may read the queue"
    out=$(printf 'HELO mua\r\nMAIL FROM:<nobody@hub.example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: bs nobody\r\n\r\nhello\r\n.\r\nQUIT\r\n' |
          N "$hub/bin/sendmail" -bs 2>&1); rc=$?
    is "$rc" 0 "hub, normal user: sendmail -bs exits 0 after QUIT"
    like "$out" '250 2\.0\.0 ok [0-9]+ qp [0-9]+' "hub, normal user: -bs queued the message"
    like "$(env -i PATH=/usr/bin:/bin "$hub/bin/qmail-qread" 2>&1)" 'preprocessed: 2$' \
      "hub, normal user: root's qmail-qread counts the normal user's message too"
  else
    echo "ok $((_n + 1)) # skip the normal-user checks need root and setpriv"; _n=$((_n + 1))
  fi
else
  echo "Bail out! the hub is not built (BUILD=$BUILD: make all first)"; exit 1
fi

# ---- leaf --------------------------------------------------------------------
install_leaf "$leaf" || { echo "Bail out! make install-leaf failed"; exit 1; }
L() { env -i PATH=/usr/bin:/bin USER=alice "$leaf/bin/$@"; }
printf '# no hub yet\n' > "$leaf/control/qmqpservers"
out=$(L mailq 2>&1); rc=$?
is "$rc" 0 "leaf: mailq exits 0"
is "$out" "mailq: this host has no queue, and control/qmqpservers names no hub: no mail can be sent until it does." \
   "leaf: mailq says there is no queue (and no hub yet)"
printf '192.0.2.25\nqmtp:hub.example.org\n' > "$leaf/control/qmqpservers"
out=$(L sendmail -bp 2>&1); rc=$?
is "$rc" 0 "leaf: sendmail -bp exits 0"
is "$out" "mailq: this host has no queue: mail goes at once to a hub (control/qmqpservers: 192.0.2.25, qmtp:hub.example.org); what no hub takes waits in the spool, where nothing waits now." \
   "leaf: -bp names the hubs and says the spool is empty"
is "$(L mailq 2>&1)" "$out" "leaf: the mailq link says the same"
echo none > "$leaf/control/spool"
is "$(L mailq 2>&1)" "mailq: this host has no queue: mail goes at once to a hub (control/qmqpservers: 192.0.2.25, qmtp:hub.example.org), or the sender is told at once that it failed." \
   "leaf: with control/spool none, mailq says a failure is told at once"
rm "$leaf/control/spool"

mkdir -p "$T/k"
start_fake K --logdir "$T/k"
echo "127.0.0.1:$FAKE_PORT" > "$leaf/control/qmqpservers"
out=$(printf 'EHLO mua\r\nMAIL FROM:<alice@leaf.example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: one\r\n\r\n..dot\r\nlast\r\n.\r\nMAIL FROM:<>\nRCPT TO:<carol@example.org>\nDATA\nSubject: two\n\nlf only\n.\nQUIT\n' |
      L sendmail -bs 2>&1); rc=$?
is "$rc" 0 "leaf: -bs exits 0 after QUIT"
is "$(printf '%s' "$out" | tr -d '\r' | tr '\n' '|')" \
   "220 leaf.example.org ESMTP sendmail -bs on a leaf: mail goes on to its hub|250-leaf.example.org|250-PIPELINING|250 8BITMIME|250 ok|250 ok|354 go ahead; end with a line holding only a dot|250 ok|250 ok|250 ok|354 go ahead; end with a line holding only a dot|250 ok|221 leaf.example.org" \
   "leaf: -bs replies"
ok "$(printf '%s' "$out" | grep -c $'\r$' | grep -qx 13; echo $?)" "leaf: every reply ends in CRLF"
is "$(cat "$T/k/conn-1.raw")" "$(printf '73:24:Subject: one\n\n.dot\nlast\n,22:alice@leaf.example.org,15:bob@example.org,,')" \
   "leaf: the hub got the first message, CRLF made LF, dot-stuffing undone"
is "$(cat "$T/k/conn-2.raw")" "$(printf '50:22:Subject: two\n\nlf only\n,0:,17:carol@example.org,,')" \
   "leaf: and the second, with the null sender"
kill "$FAKE_PID" 2>/dev/null

start_fake D --text 'no mailbox by that name here (#5.1.1)'
echo "127.0.0.1:$FAKE_PORT" > "$leaf/control/qmqpservers"
out=$(printf 'HELO x\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\nhi\n.\nQUIT\n' | L sendmail -bs 2>&1)
like "$out" $'554 no mailbox by that name here \\(#5\\.1\\.1\\)\r' "leaf: -bs passes a hub's refusal on as 554"
kill "$FAKE_PID" 2>/dev/null
. "$SRCDIR/tests/lib/ports.sh"
dead_port DEAD || { echo "Bail out! no port to hold"; exit 1; }   # held closed to the end
echo "127.0.0.1:$DEAD" > "$leaf/control/qmqpservers"
echo none > "$leaf/control/spool"
out=$(printf 'HELO x\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\nhi\n.\nQUIT\n' | L sendmail -bs 2>&1)
like "$out" "451 no hub took the message: 127\\.0\\.0\\.1:$DEAD: connection refused \\(#4\\.4\\.1\\)" \
     "leaf: -bs with no hub reachable and the spool off: 451 naming the cause"
like "$out" '221 leaf' "leaf: and the session goes on"
rm "$leaf/control/spool"
out=$(printf 'HELO x\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\nhi\n.\nQUIT\n' | L sendmail -bs 2>/dev/null)
like "$out" $'354 [^\r]*\r\n250 ok\r' "leaf: -bs with no hub reachable and the spool on: 250, the message is kept"
out=$(L mailq 2>&1)
like "$out" "^$leaf/spool/$(id -u): 1 message, [0-9]+ bytes" "leaf: mailq lists the spool"
like "$(printf '%s' "$out" | tr '\n' ' ')" "from <a@example.org> +to <b@example.org> +why: no hub took the message: 127\\.0\\.0\\.1:$DEAD: connection refused" \
     "leaf: with its envelope and why it waits"
like "$out" "what no hub took waits in the spool, above\\.\$" "leaf: and says where the hubs are"

long=$(head -c 3000 /dev/zero | tr '\0' x)
out=$(printf 'NOOP %s\r\nNOOP\r\nQUIT\r\n' "$long" | L sendmail -bs 2>&1)
is "$(printf '%s' "$out" | tr -d '\r' | sed -n '2,3p' | tr '\n' '|')" "500 line too long (#5.5.2)|250 ok|" \
   "leaf: a command line over maxsmtpline is refused, the next one works"
printf 'HELO x\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\nunfinished\n' | L sendmail -bs > "$T/eof.out" 2> "$T/eof.err"
is "$?" 111 "leaf: input ending inside DATA: exit 111"
like "$(cat "$T/eof.err")" 'input ended inside DATA' "leaf: and says so on stderr"
done_testing
