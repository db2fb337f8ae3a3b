#!/bin/bash
# qread.t: qmail-qstat and qmail-qread on a real hub home (docs/queue.md sec 10;
# queue layout hub/queue/QUEUE.md). Messages are queued with bin/qmail-queue while
# qmail-send is not running, so they wait in todo/: qmail-qstat counts them
# as not yet preprocessed and qmail-qread says so. Then qmail-send (under
# qmail-start) preprocesses them: the local recipient is delivered, the
# remote ones are deferred (no qmail-remote, or control/smtproutes pointing
# at a closed loopback port), and qmail-qread lists each message with its
# date, number, size, sender and its recipients marked done (D) or not.
# Also: qmailctl queue/stat run both; as root, a user who may not read the
# queue gets exit 111 and a clear message.
. "$(dirname "$0")/../lib/common.sh"
for p in qmail-queue qmail-send qmail-start qmail-lspawn qmail-local qmail-clean qmail-qread qmail-qstat; do
  [ -x "$SRCDIR/$BUILD/hub/$p" ] || { echo "Bail out! $p not built (BUILD=$BUILD: make all first)"; exit 1; }
done
hub=$T/hub
export ASAN_OPTIONS=detect_leaks=0
qmake install QMAILHOME="$hub" > "$T/install.log" 2>&1
ok $? "make install makes a hub home"
echo hub.example.org > "$hub/control/me"
printf 'hub.example.org\nlocalhost\n' > "$hub/control/locals"
. "$SRCDIR/tests/lib/ports.sh"
dead_port closed || { echo "Bail out! no port to hold"; exit 1; }   # held closed to the end
echo ":127.0.0.1:$closed" > "$hub/control/smtproutes"   # remote deliveries fail temporarily
echo '|exit 111' > "$hub/alias/.qmail-later"              # a local recipient that defers
[ "$(id -u)" = 0 ] && chown alias "$hub/alias/.qmail-later"

# queue SENDER RCPT...: one message through bin/qmail-queue
n=0
queue() {
  local s=$1; shift
  n=$((n + 1))
  { printf 'F%s\0' "$s"; for r; do printf 'T%s\0' "$r"; done; printf '\0'; } > "$T/env"
  printf 'Subject: message %s\n\nbody %s\n' "$n" "$n" | "$hub/bin/qmail-queue" 1< "$T/env"
}
queue alice@example.org postmaster@hub.example.org later@hub.example.org bob@remote.example.net; ok $? "message 1 queued"
queue '' carol@remote.example.net dave@remote.example.net; ok $? "message 2 (null sender) queued"
# qmail-queue refuses a control byte in an address (exit 11); a queue file
# written before that rule may still hold one: message 3 gets it by hand
queue weXird@example.org x@remote.example.com postmaster@hub.example.org y@remote.example.com
ok $? "message 3 queued"
python3 - "$hub/queue/todo" <<'PY'
import os, sys
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        p = os.path.join(d, f)
        with open(p, "r+b") as h:
            b = h.read()
            if b"FweXird@" in b:
                h.seek(0); h.write(b.replace(b"FweXird@", b"Fwe\x01ird@"))
PY
grep -rqa "$(printf 'we\001ird')" "$hub/queue/todo"; ok $? "message 3 has a control byte in its sender (as an old queue file may)"

is "$("$hub/bin/qmail-qstat")" "messages in queue: 3
messages in queue but not yet preprocessed: 3" "qmail-qstat: 3 messages, none preprocessed yet"
is "$("$hub/bin/qmail-qread")" "messages not yet preprocessed: 3" "qmail-qread: nothing preprocessed, says how many wait"
is "$("$hub/bin/qmail-qread" 2>&1 > /dev/null; echo $?)" 0 "qmail-qread: exit 0, nothing on stderr"

# qmail-send under qmail-start, its log on stdout
"$hub/bin/qmail-start" ./Maildir/ < /dev/null > "$T/send.log" 2>&1 &
SP=$!; _pids+=("$SP")
for _ in $(seq 200); do
  [ "$(grep -c 'delivery [0-9]*: deferral' "$T/send.log")" -ge 4 ] &&
    [ "$(find "$hub/alias/Maildir/new" -type f | wc -l)" -ge 2 ] && break
  sleep 0.1
done
is "$(find "$hub/alias/Maildir/new" -type f | wc -l)" 2 "qmail-send delivered the two local recipients"
like "$(grep -c 'deferral' "$T/send.log")" '^[4-9]' "and deferred the three remote ones and the local one that says 111"

is "$("$hub/bin/qmail-qstat")" "messages in queue: 3
messages in queue but not yet preprocessed: 0" "qmail-qstat: 3 messages, all preprocessed"
"$hub/bin/qmail-qread" > "$T/qread" 2> "$T/qread.err"
is "$?:$(cat "$T/qread.err")" "0:" "qmail-qread: exit 0, no warnings"
cat "$T/qread" | sed 's/^/# /'
is "$(grep -c '^[0-3][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] GMT  #[0-9]*  [0-9]*  <' "$T/qread")" 3 \
  "one line per message: date, #number, bytes, <sender>"
# block ID: the listing of the message with number ID
mid() { grep -l "$1" "$hub"/queue/mess/*/* | head -1 | sed 's,.*/,,'; }
block() { awk -v id="#$1" '/^[0-9]/ { on = ($6 == id) } on' "$T/qread"; }
m1=$(mid 'message 1') m2=$(mid 'message 2') m3=$(mid 'message 3')
size1=$(stat -c %s "$hub/queue/mess/$((m1 % 23))/$m1")
like "$(block "$m1" | head -1)" "GMT  #$m1  $size1  <alice@example.org>\$" "message 1: number, size of mess/S/N and sender"
is "$(block "$m1" | tail -n +2)" "D local	postmaster@hub.example.org
  local	later@hub.example.org
  remote	bob@remote.example.net" "message 1: one local recipient done (D), one local and the remote one still to do"
like "$(block "$m2" | head -1)" "#$m2  [0-9]+  <>\$" "message 2: the null sender as <>"
is "$(block "$m2" | tail -n +2)" "  remote	carol@remote.example.net
  remote	dave@remote.example.net" "message 2: its remote recipients to do, in envelope order"
# qmail-remote cannot write that sender safely: x and y fail for good (#5.1.7)
like "$(block "$m3" | head -1)" '<we\\001ird@example.org>  bouncing$' "message 3: a control byte in the sender printed as \\001; bouncing"
is "$(block "$m3" | tail -n +2)" "" "message 3: its local recipient is done, its remote ones failed: nothing left to do"
like "$(grep -c 'failure:.*5\.1\.7' "$T/send.log")" '^[1-9]' "message 3: the remote delivery failed permanently (#5.1.7)"
d=$(block "$m1" | head -1 | cut -c1-20)
info=$(date -u -d "@$(stat -c %Y "$hub/queue/info/$((m1 % 23))/$m1")" '+%d %b %Y %H:%M:%S')
is "$d" "$info" "the date is info/S/N's mtime, in GMT"

# a failure paragraph waiting in bounce/N shows as "bouncing"
touch "$hub/queue/bounce/$m2"
like "$("$hub/bin/qmail-qread" | grep "#$m2 ")" '  bouncing$' "a message with a bounce/N file is marked bouncing"
rm -f "$hub/queue/bounce/$m2"

# qmailctl
"$hub/bin/qmailctl" queue > "$T/ctl.queue" 2>&1
like "$(tr '\n' ' ' < "$T/ctl.queue")" "^messages in queue: 3 messages in queue but not yet preprocessed: 0 .*#$m1 .*remote	bob@remote.example.net" \
  "qmailctl queue: the qmail-qstat counts, then the qmail-qread listing"
like "$("$hub/bin/qmailctl" stat | tr '\n' ' ')" 'messages in queue: 3 messages in queue but not yet preprocessed: 0' "qmailctl stat ends with the counts"

# who may read the queue
if [ "$(id -u)" = 0 ] && id qmails > /dev/null 2>&1; then
  setpriv --reuid=qmails --regid=qmail --clear-groups "$hub/bin/qmail-qread" > /dev/null 2>&1
  is $? 0 "as root install: qmails may run qmail-qread"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$hub/bin/qmail-qread" > "$T/nobody.out" 2> "$T/nobody.err"
  is "$?:$(cat "$T/nobody.out")" "111:" "as nobody: qmail-qread exits 111, prints no listing"
  like "$(cat "$T/nobody.err")" '^qmail-qread: fatal: unable to read the queue .*run me as root or as the queue.s owner' "and says who may read the queue"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$hub/bin/qmail-qstat" > /dev/null 2> "$T/nobody.err"
  is "$?" 111 "as nobody: qmail-qstat exits 111"
  like "$(cat "$T/nobody.err")" '^qmail-qstat: fatal: unable to read the queue' "with a clear message"
  setpriv --reuid=65534 --regid="$(getent group qmail | cut -d: -f3)" --clear-groups "$hub/bin/qmail-qstat" > /dev/null 2>&1
  is $? 0 "group qmail may run qmail-qstat"
else
  chmod 000 "$hub/queue/info"
  "$hub/bin/qmail-qread" > /dev/null 2> "$T/noread.err"
  is "$?" 111 "info/ unreadable: qmail-qread exits 111"
  like "$(cat "$T/noread.err")" 'unable to read the queue' "with a clear message"
  chmod 700 "$hub/queue/info"
fi

kill -TERM "$SP"
for _ in $(seq 100); do kill -0 "$SP" 2> /dev/null || break; sleep 0.1; done
ok "$(kill -0 "$SP" 2> /dev/null; [ $? != 0 ]; echo $?)" "qmail-send stopped"
is "$("$hub/bin/qmail-qread" | grep -c '^  remote')" 3 "the deferred remote recipients (bob, carol, dave) are still queued after the stop"
done_testing
