#!/bin/bash
# hub.t: the hub home end to end. Installs a hub into a temp dir (as root:
# qmail users, qmail-queue setuid qmailq and nothing setuid root), starts it
# with qmailctl on random loopback ports, sends with python smtplib, swaks,
# our leaf over QMQP and QMTP, checks every message reached the queue, that
# QMQP refuses a client tcp.qmqp does not allow (BAD-INPUT P9/R14), that an
# upgrade keeps control files and the queue, and that qmailctl stop stops
# exactly what it started. Then the same install as a normal user gives a
# single-user home with nothing setuid.
. "$(dirname "$0")/../lib/common.sh"
hub=$T/hub
san=""; case $BUILD in *-san) san=SAN=1;; esac
for p in qmail-queue qmail-smtpd qmail-qmtpd qmail-qmqpd; do
  [ -x "$SRCDIR/$BUILD/hub/$p" ] || { echo "Bail out! hub program $p not built (BUILD=$BUILD: make all first)"; exit 1; }
done
command -v tcpserver >/dev/null || { echo "1..0 # skip no tcpserver"; exit 0; }

qmake install QMAILHOME="$hub" > "$T/install.log" 2>&1
ok $? "make install makes a hub home"
# acceptance only: without qmail-send the committed messages stay in todo/
rm -rf "$hub/service/qmail-send"
for d in bin control queue users alias service log man; do [ -d "$hub/$d" ] || miss="$miss $d"; done
is "${miss:-}" "" "the home has bin control queue users alias service log man"
is "$(find "$hub/queue/todo" -mindepth 1 -maxdepth 1 -type d | wc -l)" 23 "todo/ is split"
if [ "$(id -u)" = 0 ]; then
  is "$(stat -c %U:%a "$hub/bin/qmail-queue")" "qmailq:4711" "qmail-queue is setuid qmailq, mode 4711"
  is "$(find "$hub" -perm -4000 -user root | wc -l)" 0 "nothing is setuid root"
  is "$(find "$hub" -perm -4000 | wc -l)" 1 "qmail-queue is the only setuid program"
  for u in alias qmaild qmaill qmailp qmailq qmailr qmails; do id "$u" >/dev/null 2>&1 || nou="$nou $u"; done
  is "${nou:-}" "" "the qmail users exist"
fi

. "$SRCDIR/tests/lib/ports.sh"
for s in qmail-smtpd qmail-qmtpd qmail-qmqpd; do
  echo 127.0.0.1 > "$hub/service/$s/env/IP"; free_port > "$hub/service/$s/env/PORT"
done
echo hub.example.org > "$hub/control/me"; printf 'hub.example.org\n' > "$hub/control/rcpthosts"
# a port taken since it was picked is picked again (qmailctl_start)
qmailctl_start "$hub" "$T/start.log"
ok $? "qmailctl start"
SMTP=$(cat "$hub/service/qmail-smtpd/env/PORT") QMTP=$(cat "$hub/service/qmail-qmtpd/env/PORT") QMQP=$(cat "$hub/service/qmail-qmqpd/env/PORT")
for p in $SMTP $QMTP $QMQP; do
  for i in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$p),0.2).close()" 2>/dev/null && break; sleep 0.1; done
done
# one check per service: like() greps line by line, so one pattern for all
# three would be satisfied by any one line
ctlstat=$("$hub/bin/qmailctl" stat)
like "$ctlstat" "^qmail-smtpd: up \(pid [0-9]+\) 127\.0\.0\.1:$SMTP\$" "qmailctl stat shows qmail-smtpd up on its port"
like "$ctlstat" "^qmail-qmtpd: up \(pid [0-9]+\) 127\.0\.0\.1:$QMTP\$" "qmailctl stat shows qmail-qmtpd up on its port"
like "$ctlstat" "^qmail-qmqpd: up \(pid [0-9]+\) 127\.0\.0\.1:$QMQP\$" "qmailctl stat shows qmail-qmqpd up on its port"

queued() { find "$hub/queue/todo" "$hub/queue/info" -type f 2>/dev/null | wc -l; }
before=$(queued)
python3 - "$SMTP" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.sendmail("alice@example.org", ["bob@hub.example.org"], "Subject: smtplib\n\nhello\n")
s.quit()
PY
ok $? "python smtplib sends through qmail-smtpd"
if command -v swaks >/dev/null; then
  swaks --server 127.0.0.1 --port "$SMTP" --from a@example.org --to bob@hub.example.org --body swaks > "$T/swaks.log" 2>&1
  ok $? "swaks sends through qmail-smtpd"
else ok 0 "swaks # skip not installed"; fi
leaf=$T/leaf
install_leaf "$leaf"
echo "127.0.0.1:$QMQP" > "$leaf/control/qmqpservers"
printf 'Subject: leaf qmqp\n\nx\n' | "$leaf/bin/sendmail" bob@hub.example.org
is $? 0 "our leaf sends over QMQP"
echo "qmtp:127.0.0.1:$QMTP" > "$leaf/control/qmqpservers"
printf 'Subject: leaf qmtp\n\nx\n' | "$leaf/bin/sendmail" bob@hub.example.org
is $? 0 "our leaf sends over QMTP"
sleep 0.3
is "$(( $(queued) - before ))" 4 "all four messages are in the queue"

# P9/R14: a client that tcp.qmqp does not allow gets nothing
printf '127.0.0.2:allow\n:deny\n' > "$hub/control/tcp.qmqp"; "$hub/bin/qmailctl" cdb
echo "127.0.0.1:$QMQP" > "$leaf/control/qmqpservers"
# the leaf's spool off: with it, a message no hub takes is kept and the
# sender gets 0 (docs/spool.md); without, the refusal reaches the sender
echo none > "$leaf/control/spool"
printf 'Subject: denied\n\nx\n' | "$leaf/bin/sendmail" bob@hub.example.org 2>/dev/null
ok "$([ $? = 111 ]; echo $?)" "QMQP from a client tcp.qmqp denies is refused (temporary for the leaf)"
is "$(( $(queued) - before ))" 4 "and nothing was queued"

# upgrade keeps control files, env settings and the queue
echo 'custom' > "$hub/control/smtpgreeting"
qmake install QMAILHOME="$hub" >> "$T/install.log" 2>&1
is "$(cat "$hub/control/smtpgreeting"):$(cat "$hub/service/qmail-smtpd/env/PORT")" "custom:$SMTP" "an upgrade keeps control files and env/"
is "$(( $(queued) - before ))" 4 "an upgrade keeps the queue"

pids=$(cat "$hub"/service/*/qmailctl.pid)
"$hub/bin/qmailctl" stop > /dev/null
# count live group members (a zombie waiting for a slow PID 1 to reap it is gone);
# svc.t checks stop on a full hub, every process by pid and start time
left=0; for p in $pids; do
  n=$(ps -eo pgid=,stat= | awk -v g="$p" '$1 == g && $2 !~ /^Z/' | wc -l); left=$((left + n))
done
is "$left" 0 "qmailctl stop stops what it started"
python3 -c "import socket; socket.create_connection(('127.0.0.1',$SMTP),0.5)" 2>/dev/null
ok "$([ $? != 0 ]; echo $?)" "nothing listens any more"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  id qhubtest >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin qhubtest
  su1=$T/single; mkdir -p "$su1"; chown qhubtest "$su1"
  setpriv --reuid=qhubtest --regid="$(id -g qhubtest)" --clear-groups \
    env HOME=/nonexistent sh "$SRCDIR/hub/install-hub.sh" "$su1/home" "$SRCDIR/$BUILD" "cc $( [ -n "$san" ] && echo -fsanitize=address,undefined)" -l:libowfat.a \
    "$(cd "$SRCDIR/$BUILD/leaf" && ls qmail-inject sendmail forward 2>/dev/null | tr '\n' ' ')" "" "qmail-queue qmail-smtpd" > "$T/single.log" 2>&1
  ok $? "a normal user can install a single-user hub"
  is "$(find "$su1/home" -perm -4000 | wc -l)" 0 "a single-user home has nothing setuid"
  is "$(stat -c %U "$su1/home/queue/todo")" qhubtest "and is owned by that user"
else
  ok 0 "single-user install # skip not root"
fi
done_testing
