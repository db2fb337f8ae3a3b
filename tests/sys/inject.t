#!/bin/bash
# inject.t: qmail-inject and sendmail end to end on an installed leaf home:
# the in-process QMQP path (bin/qmail-queue is the qmail-qmqpc link) against
# a scripted QMQP server on loopback, the hub's answer text reaching the
# user, and the big-input rows of BAD-INPUT 4.6 (H10, H11).
. "$(dirname "$0")/../lib/common.sh"
leaf=$T/leaf
install_leaf "$leaf"; ok $? "install-leaf makes a home"
ok "$([ -L "$leaf/bin/qmail-queue" ] && [ "$(readlink "$leaf/bin/qmail-queue")" = qmail-qmqpc ]; echo $?)" "bin/qmail-queue is the qmail-qmqpc link"
for p in qmail-inject sendmail qmail-qmqpc forward predate datemail mailsubj maildirmake maildir2mbox qmail-showctl; do
  [ -x "$leaf/bin/$p" ] || missing="$missing $p"
done
is "${missing:-}" "" "every leaf program is installed"

mkdir -p "$T/log"
start_fake K --logdir "$T/log"
echo "127.0.0.1:$FAKE_PORT" > "$leaf/control/qmqpservers"
printf 'To: bob@example.org\nSubject: e2e\n\nhello\n' | env -u QMAILHOME USER=alice "$leaf/bin/sendmail" -t
is "$?" 0 "sendmail -t through the in-process QMQP path exits 0"
sleep 0.2
raw=$(cat "$T"/log/conn-*.raw 2>/dev/null)
like "$raw" 'Subject: e2e' "the server got the message"
like "$raw" 'alice@leaf.example.org,[0-9]+:bob@example.org,' "and the envelope as QMQP netstrings"
kill "$FAKE_PID"

start_fake D --text 'Dno mailbox by that name here (#5.1.1)'
echo "127.0.0.1:$FAKE_PORT" > "$leaf/control/qmqpservers"
err=$(printf 'Subject: x\n\nbody\n' | "$leaf/bin/sendmail" nobody@example.org 2>&1)
is "$?" 100 "a D from the hub is exit 100"
like "$err" 'no mailbox by that name here \(#5\.1\.1\)' "and the hub's own words reach the user"
kill "$FAKE_PID"

# with the spool off (control/spool none), as before the spool existed;
# tests/sys/spool.t has what the spool does
echo none > "$leaf/control/spool"
echo "127.0.0.1:1" > "$leaf/control/qmqpservers"
err=$(printf 'Subject: x\n\nbody\n' | "$leaf/bin/qmail-inject" bob@example.org 2>&1)
is "$?" 111 "no hub reachable is exit 111 (spool none)"
like "$err" '#4\.4\.1' "with a 4.4.1 text"

rm -f "$leaf/control/qmqpservers"
err=$(printf 'Subject: x\n\nbody\n' | "$leaf/bin/qmail-inject" bob@example.org 2>&1)
is "$?" 111 "missing qmqpservers is a temporary failure (spool none)"
like "$err" 'control/qmqpservers is missing' "that names the missing file"
rm -f "$leaf/control/spool"

# H10: 3000 addresses in one To: all become recipients, in linear time
start_fake K --logdir "$T/log2"
echo "127.0.0.1:$FAKE_PORT" > "$leaf/control/qmqpservers"
mkdir -p "$T/log2"
python3 -c 'print("To: " + ", ".join("user%d@example.org" % i for i in range(3000)) + "\n\nbody")' > "$T/big-to"
t0=$(date +%s%N)
"$leaf/bin/qmail-inject" < "$T/big-to"; rc=$?
t1=$(date +%s%N)
is "$rc" 0 "H10: 3000 addresses in one To: accepted"
ok "$([ $(( (t1 - t0) / 1000000 )) -lt 2000 ]; echo $?)" "H10: in well under 2 s ($(( (t1 - t0) / 1000000 )) ms)"
sleep 0.3
is "$(cat "$T"/log2/conn-*.rcpts 2>/dev/null | wc -l)" 3000 "H10: the hub got 3000 recipients"

# H11: a 3 MB header line is refused, not truncated or accepted
python3 -c 'print("To: a@example.org\nSubject: " + "x" * 3000000 + "\n\nbody")' > "$T/big-hdr"
err=$("$leaf/bin/qmail-inject" < "$T/big-hdr" 2>&1)
is "$?" 100 "H11: a 3 MB header line is exit 100"
like "$err" 'maxheaderfield' "H11: naming the cap"
# ... and 100,000 short header fields hit the header cap
python3 -c 'print("To: a@example.org\n" + "X-A: b\n" * 200000 + "\nbody")' > "$T/many-hdr"
"$leaf/bin/qmail-inject" < "$T/many-hdr" 2>/dev/null
is "$?" 100 "a header over control/maxheader is exit 100"

# forward: NEWSENDER and the arguments make the envelope
printf 'Subject: fw\n\nbody\n' | NEWSENDER=owner@example.org "$leaf/bin/forward" one@example.org two@example.org
is "$?" 0 "forward queues through the hub"
sleep 0.2
like "$(cat "$T"/log2/conn-*.raw)" 'owner@example.org,[0-9]+:one@example.org,[0-9]+:two@example.org,' "forward's envelope"
printf 'x\n' | env -u NEWSENDER "$leaf/bin/forward" a@example.org 2>/dev/null
is "$?" 100 "forward without NEWSENDER is exit 100"
done_testing
