#!/bin/bash
# make-run.sh: what `make run` does. Installs a hub home under ./run/hub
# and a leaf home under ./run/leaf, starts the hub's servers with qmailctl
# on free loopback ports, sends a welcome message through the leaf's
# sendmail (QMQP to the hub), waits until qmail-send and qmail-local have
# delivered it into the alias home's Maildir and shows it, submits one on
# port 587 (STARTTLS, AUTH PLAIN as the user demo, whose password it makes
# and shows; docs/auth.md), fetches the welcome message back over POP3
# with STLS as demo (docs/pop3.md), then keeps the
# hub running in the foreground with its logs visible (from the start of
# this run, so the delivery just made is on screen, with local times);
# Ctrl-C stops exactly what it started, says "stopped" and exits 0. Works as root (qmail users, setuid qmail-queue)
# and as a normal user (single-user homes).
set -eu
cd "$(dirname "$0")/../.."
# RUNDIR (default ./run) and BUILD (default build) may be set (tests/sys/makerun.t).
run=${RUNDIR:-$PWD/run}
hub=$run/hub leaf=$run/leaf
mkdir -p "$run"; chmod 755 "$run"
make -s install QMAILHOME="$hub" ${BUILD:+BUILD=$BUILD} ${SAN:+SAN=$SAN} > "$run/install.log"
make -s install-leaf QMAILHOME="$leaf" ${BUILD:+BUILD=$BUILD} ${SAN:+SAN=$SAN} >> "$run/install.log"
. tests/lib/ports.sh
for s in qmail-smtpd qmail-qmtpd qmail-qmqpd qmail-submission qmail-pop3d; do
  echo 127.0.0.1 > "$hub/service/$s/env/IP"; free_port > "$hub/service/$s/env/PORT"
done
# submission (docs/auth.md): installed down; here it runs, with a user
# "demo" whose password is made now and shown (a virtual user of the
# alias home's ids, so its mail lands where the welcome message does)
rm -f "$hub/service/qmail-submission/down"
rm -f "$hub/service/qmail-pop3d/down"   # POP3 (docs/pop3.md), down as installed too
demopw=demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$demopw" | "$hub/bin/qmail-passwd" --stdin demo "$(stat -c %u "$hub/alias")" \
  "$(stat -c %g "$hub/alias")" "$hub/alias" >> "$run/install.log" 2>&1 ||
  echo "== no user demo (qmail-passwd failed, see $run/install.log): the submission below fails"
cp "$hub/control/me" "$leaf/control/me"

"$hub/bin/qmailctl" stop > /dev/null 2>&1 || true   # a hub left by an earlier make run
# a port taken since it was picked is picked again (tests/lib/ports.sh)
if ! qmailctl_start "$hub" "$run/start.log"; then cat "$run/start.log"; exit 1; fi
cat "$run/start.log"
qmqp=$(cat "$hub/service/qmail-qmqpd/env/PORT") smtp=$(cat "$hub/service/qmail-smtpd/env/PORT")
sub=$(cat "$hub/service/qmail-submission/env/PORT") pop=$(cat "$hub/service/qmail-pop3d/env/PORT")
echo "127.0.0.1:$qmqp" > "$leaf/control/qmqpservers"
stop() {
  trap - EXIT INT TERM
  kill ${tailpid:-} 2>/dev/null
  echo
  "$hub/bin/qmailctl" stop
  echo "== stopped: the hub in $hub is down (start it again: $hub/bin/qmailctl start)"
  exit 0
}
trap stop EXIT INT TERM
# (qmailctl start has checked that every service is up and listening)

echo "== hub: $hub  (SMTP 127.0.0.1:$smtp, QMQP 127.0.0.1:$qmqp, submission 127.0.0.1:$sub, POP3 127.0.0.1:$pop)"
echo "== leaf: $leaf"
me=${USER:-$(id -un)}
printf 'Subject: welcome\n\nHello from the leaf: sendmail -> QMQP -> qmail-queue -> qmail-send -> qmail-local -> Maildir.\n' |
  "$leaf/bin/sendmail" -t "$me" && echo "== sent through the leaf's sendmail: exit code 0"
for _ in $(seq 100); do [ -n "$(ls -A "$hub/alias/Maildir/new" 2>/dev/null)" ] && break; sleep 0.1; done
f=$(ls -t "$hub/alias/Maildir/new" 2>/dev/null | head -1)
if [ -n "$f" ]; then
  echo "== delivered to the hub's Maildir: $hub/alias/Maildir/new/$f"
  sed 's/^/   | /' "$hub/alias/Maildir/new/$f"
else
  echo "== not delivered yet; see the qmail-send log below"
fi
# a message submitted on port 587 with STARTTLS and AUTH PLAIN as demo
python3 - "$sub" "$demopw" "$me@$(cat "$hub/control/me")" <<'PY' && echo "== submitted on port $sub with STARTTLS and AUTH PLAIN as demo: 250"
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.starttls(context=ssl._create_unverified_context())   # the install's self-signed certificate
s.login("demo", sys.argv[2])
s.sendmail("demo@example.org", [sys.argv[3]], "Subject: submitted\r\n\r\nSent on 587 with STARTTLS and AUTH PLAIN as demo.\r\n")
s.quit()
PY
# the welcome message fetched back over POP3 with STLS as demo (whose
# home is the alias home, where it was delivered); kept on the server
python3 - "$pop" "$demopw" <<'PY' || echo "== POP3 fetch failed (see the qmail-pop3d log below)"
import poplib, ssl, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
p.stls(context=ssl._create_unverified_context())   # the install's self-signed certificate
p.user("demo")
p.pass_(sys.argv[2])
n = p.stat()[0]
for i in range(1, n + 1):
    lines = p.retr(i)[1]
    if b"Subject: welcome" in lines:
        print("== fetched back over POP3 on port %s (STLS, USER/PASS as demo): message %d of %d"
              % (sys.argv[1], i, n))
        for l in lines:
            print("   | " + l.decode("utf-8", "replace"))
        break
else:
    print("== POP3: no welcome message among %d" % n)
p.quit()
PY
echo "== send more:  echo hi | $leaf/bin/sendmail $me"
echo "==        or:  swaks --server 127.0.0.1 --port $smtp --to $me@$(cat "$hub/control/me")"
echo "==        or:  swaks --server 127.0.0.1 --port $sub --tls --auth PLAIN --auth-user demo --auth-password $demopw --to $me@$(cat "$hub/control/me")"
echo "== fetch:       fetchmail -p pop3 -P $pop -u demo --sslproto TLS1.2+ --nosslcertck -k 127.0.0.1  (password $demopw)"
echo "== hub logs (qmail-send's shows the delivery above; Ctrl-C stops the hub):"
stamps=cat; command -v tai64nlocal > /dev/null && stamps=tai64nlocal
# shellcheck disable=SC2086
tail -n 30 -F "$hub"/log/*/current 2>/dev/null | $stamps &
tailpid=$!
wait "$tailpid"
