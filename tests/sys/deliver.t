#!/bin/bash
# deliver.t: the whole path on a running hub: a leaf sends over QMQP and a
# client over SMTP; qmail-queue commits, qmail-send (under qmail-start,
# started by qmailctl) preprocesses and hands the recipient to
# qmail-lspawn, qmail-local delivers into the alias home's Maildir. As root
# also a failed local delivery: its bounce comes back to the postmaster's
# Maildir and the message leaves the queue.
. "$(dirname "$0")/../lib/common.sh"
for p in qmail-queue qmail-qmqpd qmail-smtpd qmail-send qmail-start qmail-lspawn qmail-local qmail-clean; do
  [ -x "$SRCDIR/$BUILD/hub/$p" ] || { echo "Bail out! $p not built (BUILD=$BUILD: make all first)"; exit 1; }
done
command -v tcpserver >/dev/null || { echo "1..0 # skip no tcpserver"; exit 0; }
hub=$T/hub leaf=$T/leaf
san=""; case $BUILD in *-san) san=SAN=1;; esac
qmake install QMAILHOME="$hub" > "$T/install.log" 2>&1
ok $? "make install makes a hub home with the qmail-send service"
[ -x "$hub/service/qmail-send/run" ]; ok $? "the qmail-send service exists"
echo hub.example.org > "$hub/control/me"
printf 'hub.example.org\nlocalhost\n' > "$hub/control/locals"
printf 'hub.example.org\n' > "$hub/control/rcpthosts"
echo 0 > "$hub/control/rcptcheck"   # nosuchuser must bounce, not get 550 (rcptcheck.t)
. "$SRCDIR/tests/lib/ports.sh"
for s in qmail-smtpd qmail-qmtpd qmail-qmqpd; do echo 127.0.0.1 > "$hub/service/$s/env/IP"; free_port > "$hub/service/$s/env/PORT"; done
qmailctl_start "$hub" "$T/start.log"   # a port taken meanwhile is picked again
ok $? "qmailctl start"
SMTP=$(cat "$hub/service/qmail-smtpd/env/PORT") QMQP=$(cat "$hub/service/qmail-qmqpd/env/PORT")
_stop() { "$hub/bin/qmailctl" stop > /dev/null 2>&1; cleanup; }
trap _stop EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$QMQP),0.2)" 2>/dev/null && break; sleep 0.1; done

new=$hub/alias/Maildir/new
# wait_for N PATTERN: up to 15 s for N files in new/ (grep PATTERN if given)
wait_for() {
  local i
  for i in $(seq 150); do
    [ "$(grep -l -- "${2:-.}" "$new"/* 2>/dev/null | wc -l)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

install_leaf "$leaf"
echo "127.0.0.1:$QMQP" > "$leaf/control/qmqpservers"
printf 'Subject: via the leaf\n\nbody one\n' | "$leaf/bin/sendmail" -f someone@example.org postmaster@hub.example.org
is $? 0 "the leaf's sendmail hands the message to the hub"
wait_for 1 'via the leaf'; ok $? "it is delivered into the alias Maildir"
f=$(grep -l 'via the leaf' "$new"/* 2>/dev/null | head -1)
like "$(head -3 "$f" 2>/dev/null | tr '\n' ' ')" '^Return-Path: <someone@example.org> Delivered-To: .*postmaster@hub.example.org Received: ' \
  "with Return-Path and Delivered-To on top"

python3 - "$SMTP" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.sendmail("alice@example.org", ["root@hub.example.org"], "Subject: via smtp\n\nbody two\n")
s.quit()
PY
ok $? "an SMTP client sends to root"
wait_for 1 'via smtp'; ok $? "root's mail reaches the alias Maildir (.qmail-root)"

if [ "$(id -u)" = 0 ]; then
  python3 - "$SMTP" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.sendmail("postmaster@hub.example.org", ["nosuchuser@hub.example.org"], "Subject: to nobody\n\nbody three\n")
s.quit()
PY
  ok $? "a message to a local address with no mailbox is accepted"
  wait_for 1 'Hi. This is the'; ok $? "its bounce comes back to the sender (postmaster)"
  f=$(grep -l 'Hi. This is the' "$new"/* 2>/dev/null | head -1)
  like "$(cat "$f" 2>/dev/null | tr '\n' ' ')" '<nosuchuser@hub.example.org>: .*#5\.1\.1.*Below this line.*to nobody' \
    "the bounce names the recipient, the reason and carries the original"
else
  ok 0 "bounce path # skip not root (single-user homes take every address)"
  ok 0 "bounce content # skip not root"
  ok 0 "bounce text # skip not root"
fi
for _ in $(seq 50); do [ "$(find "$hub/queue/mess" -type f | wc -l)" = 0 ] && break; sleep 0.1; done
is "$(find "$hub/queue/mess" -type f | wc -l)" 0 "every delivered message has left the queue"
like "$(cat "$hub"/log/qmail-send/current 2>/dev/null)" 'delivery [0-9]+: success' "qmail-send logs its deliveries"
done_testing
