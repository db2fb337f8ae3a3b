#!/bin/bash
# spoolcases.t: the leaf's spool (docs/spool.md) case by case, on an
# installed leaf home, with tests/lib/fakeserver.py as the hub:
#  - no hub: exit 0, one line on stderr saying the message was kept and
#    why; the file (mode 0600 in a 0700 directory of the user) holds the
#    why line, the envelope and the message; -list and mailq show it
#  - the next accepted send starts a flush in the background: the caller
#    returns at once (its stderr pipe is not held) and the kept messages
#    go out oldest first after the caller's own
#  - a refusal (D) is never kept; control/spool none, a bad control/spool,
#    a spool that cannot be written (a file where the directory should be,
#    no spool/ at all, spoolmax reached) are exit 111 as before, with a
#    warning saying why the message was not kept
#  - QMTP: only the recipients not accepted are kept; at a flush the
#    accepted ones leave, the refused ones get a bounce, the rest waits
#  - a refusal at a flush becomes a bounce (QSBMF) to the sender, kept in
#    the spool first; a message with the null sender is dropped instead;
#    a message older than spoollifetime is bounced
#  - qmail-qmqpc itself (fd 0, 1, 6) keeps too; sendmail -q flushes;
#    qmail-showctl -c checks the spool's control files
. "$(dirname "$0")/../lib/common.sh"
leaf=$T/leaf
install_leaf "$leaf" || { echo "Bail out! make install-leaf failed"; exit 1; }
printf 'example.org\n' > "$leaf/control/defaultdomain"
U=$(id -u)
SP=$leaf/spool/$U
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DEAD=$(free_port)
hubs() { printf '%s\n' "$@" > "$leaf/control/qmqpservers"; }
# S ARGS...: sendmail from a cron-like environment, the message on stdin;
# sets RC and ERR (stderr)
S() { ERR=$(env -i PATH=/usr/bin:/bin LOGNAME=cron "$leaf/bin/sendmail" "$@" 2>&1 >/dev/null); RC=$?; }
msg() { printf 'To: %s\nSubject: %s\n\nbody of %s\n' "${2:-bob@example.org}" "$1" "$1"; }
nmsg() { find "$SP" -maxdepth 1 -type f -name '[0-9]*' 2>/dev/null | wc -l | tr -d ' '; }
gone() { [ ! -e "$SP" ]; }
# wait_for CMD...: up to 30 s
wait_for() { local i; for i in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
# fake MODE: a fake hub logging into a new directory; sets F (its log dir)
fake() { F=$T/f$RANDOM$RANDOM; mkdir -p "$F"; start_fake "$1" --logdir "$F" --lifetime 300; }
subjects() { local c; for c in $(ls "$F"/conn-*.raw 2>/dev/null | sort -t- -k2 -n); do grep -a -o 'Subject: [a-z0-9 ]*' "$c" | head -1; done | sed 's/Subject: //' | tr '\n' ' '; }

# ---- kept -----------------------------------------------------------------
hubs "127.0.0.1:$DEAD"
S -t < <(msg m1)
is "$RC/$ERR" "0/sendmail: kept in the spool (1 waiting) until a hub takes it: no hub took the message: 127.0.0.1:$DEAD: connection refused (#4.4.1)" \
   "no hub: exit 0 and one line saying it was kept and why"
is "$(stat -c '%a %u' "$SP" 2>&1)" "700 $U" "the user's spool directory is mode 0700, the user's"
f=$(ls "$SP"/[0-9]* 2>/dev/null | head -1)
is "$(stat -c '%a %u' "$f" 2>&1)" "600 $U" "the message file is mode 0600, the user's"
is "$(head -1 "$f")" "no hub took the message: 127.0.0.1:$DEAD: connection refused (#4.4.1)" "its first line is why it was kept"
like "$(sed -n 2p "$f" | tr '\0' '|')" '^Fcron@leaf\.example\.org\|Tbob@example\.org\|\|To: bob@example\.org$' "then the envelope"
like "$(tail -n +2 "$f" | tr '\0' '\n' | grep -c -e '^Subject: m1$' -e '^body of m1$')" '^2$' "then the message"
out=$("$leaf/bin/qmail-qmqpc" -list 2>&1)
like "$(printf '%s' "$out" | tr '\n' ' ')" "^$SP: 1 message, [0-9]+ bytes +[0-9.]+ +kept .*from <cron@leaf.example.org> +to <bob@example.org> +why: no hub took the message" \
     "qmail-qmqpc -list shows it with its envelope and why"
like "$(env -i PATH=/usr/bin:/bin "$leaf/bin/mailq" 2>&1 | tail -1)" 'what no hub took waits in the spool, above\.$' "mailq lists it too"
for i in 2 3 4 5 6; do S -t < <(msg "m$i"); done
is "$RC/$(nmsg)" "0/6" "five more are kept"
like "$ERR" '^sendmail: kept in the spool \(6 waiting\)' "the line counts what waits"

# ---- the next accepted send flushes, oldest first, in the background ------------
fake slow --delay 1
hubs "127.0.0.1:$FAKE_PORT"
t0=$(date +%s%N)
ERR=$(msg m7 | env -i PATH=/usr/bin:/bin LOGNAME=cron "$leaf/bin/sendmail" -t 2>&1); RC=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "$RC/$ERR" "0/" "a hub is back: the next send exits 0, says nothing"
ok "$([ "$ms" -lt 5000 ]; echo $?)" "and returns after its own message (${ms} ms: 1 s for its own; the flush of six at 1 s each goes on in the background)"
wait_for gone; ok $? "the spool empties and its directory goes"
is "$(subjects)" "m7 m1 m2 m3 m4 m5 m6 " "the caller's message first, then the kept ones oldest first"
kill "$FAKE_PID" 2>/dev/null

# ---- refusals, spool none, a spool that cannot be written ------------------------
fake D
hubs "127.0.0.1:$FAKE_PORT"
S -t < <(msg d1)
is "$RC/$ERR" "100/sendmail: fatal: no such mailbox here (#5.1.1)" "a refusal (D) is exit 100, as before"
ok "$(gone; echo $?)" "and it is not kept"
kill "$FAKE_PID" 2>/dev/null
hubs "127.0.0.1:$DEAD"
echo none > "$leaf/control/spool"
S -t < <(msg n1)
is "$RC/$ERR" "111/sendmail: fatal: no hub took the message: 127.0.0.1:$DEAD: connection refused (#4.4.1)" \
   "control/spool none: exit 111 as before, nothing else said"
ok "$(gone; echo $?)" "and nothing is kept"
echo maybe > "$leaf/control/spool"
S -t < <(msg n2)
is "$RC/$(echo "$ERR" | head -1)" '111/sendmail: warning: not kept in the spool: control/spool is neither empty nor "none": "maybe"' \
   "a bad control/spool: not kept (exit 111), a warning says why"
rm "$leaf/control/spool"
: > "$SP"
S -t < <(msg n3)
is "$RC/$(echo "$ERR" | head -1)" "111/sendmail: warning: not kept in the spool: $SP is not a directory" \
   "a file where the user's directory should be: exit 111 and why"
rm "$SP"
mv "$leaf/spool" "$leaf/spool.away"
S -t < <(msg n4)
is "$RC/$(echo "$ERR" | head -1)" "111/sendmail: warning: not kept in the spool: $leaf/spool does not exist (make install-leaf makes it)" \
   "no spool/ in the home: exit 111 and why"
mv "$leaf/spool.away" "$leaf/spool"
S -t < <(msg n5)
echo 300 > "$leaf/control/spoolmax"
S -t < <(msg n6)
like "$RC/$(echo "$ERR" | head -1)" "^111/sendmail: warning: not kept in the spool: the spool is full: 1 messages, [0-9]+ bytes; this message has [0-9]+ \(control/spoolmax 300 bytes" \
     "spoolmax reached: exit 111 and why"
echo 1x > "$leaf/control/spoolmax"
S -t < <(msg n7)
like "$RC/$(echo "$ERR" | head -1)" '^111/sendmail: warning: not kept in the spool: control/spoolmax: ' "a bad spoolmax: not kept (fails closed)"
rm "$leaf/control/spoolmax"
is "$(nmsg)" 1 "of those, only the one with room was kept"
if [ "$U" != 0 ]; then
  chmod 500 "$SP"
  S -t < <(msg n8)
  like "$RC/$(echo "$ERR" | head -1)" "^111/sendmail: warning: not kept in the spool: $SP is open to others or not writable \\(it must be mode 0700\\)$" \
       "a spool directory the user cannot write: exit 111 and why"
  chmod 700 "$SP"
else
  ok 0 "# skip as root every directory is writable (tests/sys/spoolusers.t drops to a user)"
fi
rm -rf "$SP"

# ---- qmail-qmqpc itself ---------------------------------------------------------
printf 'Subject: q\n\nq\n' > "$T/qmsg"
printf 'Fa@example.org\0Tb@example.org\0\0' > "$T/qenv"
"$leaf/bin/qmail-qmqpc" < "$T/qmsg" 1< "$T/qenv" 6> "$T/fd6" 2> "$T/err"; rc=$?; err=$(cat "$T/err")
is "$rc/$(cat "$T/fd6")/$err" "0//qmail-qmqpc: kept in the spool (1 waiting) until a hub takes it: no hub took the message: 127.0.0.1:$DEAD: connection refused (#4.4.1)" \
   "qmail-qmqpc: exit 0, nothing on fd 6, the kept line on stderr"
echo none > "$leaf/control/spool"
"$leaf/bin/qmail-qmqpc" < "$T/qmsg" 1< "$T/qenv" 6> "$T/fd6" 2> "$T/err"; rc=$?; err=$(cat "$T/err")
is "$rc/$(cat "$T/fd6")/$err" "82/Zno hub took the message: 127.0.0.1:$DEAD: connection refused (#4.4.1)/" \
   "qmail-qmqpc with control/spool none: exit 82 and the Z text, as before"
rm "$leaf/control/spool"
rm -f "$leaf/control/qmqpservers"
S -t < <(msg c1)
like "$RC/$ERR" '^0/sendmail: kept in the spool \(2 waiting\) until a hub takes it: control/qmqpservers is missing' \
     "a leaf without qmqpservers keeps too (the cause is named)"
fake K
hubs "127.0.0.1:$FAKE_PORT"
out=$(env -i PATH=/usr/bin:/bin "$leaf/bin/sendmail" -q -v 2>&1); rc=$?
like "$rc/$(printf '%s' "$out" | grep -c ': sent$')" '^0/2$' "sendmail -q -v flushes, one 'sent' line per message"
ok "$(gone; echo $?)" "and the spool is empty"
is "$(subjects)" "q c1 " "oldest first"
kill "$FAKE_PID" 2>/dev/null

# ---- QMTP: only what was not accepted is kept ---------------------------------------
fake qmtp:KZ
hubs "qmtp:127.0.0.1:$FAKE_PORT"
S -t < <(msg p1 'r1@example.org, r2@example.org')
like "$RC/$ERR" '^0/sendmail: kept in the spool \(1 waiting\) until a hub takes it: 1 of 2 recipients not accepted yet' \
     "QMTP K then Z: exit 0, kept"
like "$(env -i "$leaf/bin/qmail-qmqpc" -list | tr '\n' ' ')" ' to <r2@example.org> +why' "kept with the recipient not accepted only"
kill "$FAKE_PID" 2>/dev/null
rm -rf "$SP"
hubs "127.0.0.1:$DEAD"
S -t -f sender@example.org < <(msg p2 'a@example.org, b@example.org, c@example.org')
name=$(ls "$SP")
fake qmtp:KDZ
hubs "qmtp:127.0.0.1:$FAKE_PORT"
"$leaf/bin/qmail-qmqpc" -flush; rc=$?
out=$("$leaf/bin/qmail-qmqpc" -list | tr '\n' ' ')
like "$rc/$out" "^0/$SP: 1 message, .* $name +kept .* to <b@example.org> <c@example.org> +why: " \
     "a flush meeting K, D, Z: the message stays (same name) for the recipients not accepted"
kill "$FAKE_PID" 2>/dev/null
fake qmtp:KD
hubs "qmtp:127.0.0.1:$FAKE_PORT"
"$leaf/bin/qmail-qmqpc" -flush
raw=$(cat "$F"/conn-*.raw | tr '\n' ' ')
like "$raw" 'Hi\. This is the qmail-qmqpc program at leaf\.example\.org\..*<c@example\.org>: +1 of 2 recipients refused: c@example.org: no such mailbox here \(#5\.1\.1\).*--- Below this line is a copy of the message\. +Return-Path: <sender@example\.org>.*Subject: p2' \
     "then K and D: a bounce (QSBMF) for the refused recipient with the hub's words, then the message"
like "$raw" ',0:,22:18:sender@example\.org,,' "from the null sender to the sender"
ok "$(gone; echo $?)" "the spool is empty again"
kill "$FAKE_PID" 2>/dev/null

# ---- refusal of a null-sender message, and expiry ---------------------------------
hubs "127.0.0.1:$DEAD"
S -t -f '' < <(msg b1)
fake D
hubs "127.0.0.1:$FAKE_PORT"
err=$("$leaf/bin/qmail-qmqpc" -flush 2>&1); rc=$?
like "$rc/$err" "^0/qmail-qmqpc: [0-9.]+: dropped: a message with the null sender is not bounced: no such mailbox here" \
     "refused at a flush, with the null sender: dropped, with a warning"
ok "$(gone; echo $?)" "and gone"
kill "$FAKE_PID" 2>/dev/null
hubs "127.0.0.1:$DEAD"
S -t -f sender@example.org < <(msg e1)
name=$(ls "$SP")
echo 1 > "$leaf/control/spoollifetime"
sleep 2.2
"$leaf/bin/qmail-qmqpc" -flush; rc=$?
out=$("$leaf/bin/qmail-qmqpc" -list | tr '\n' ' ')
like "$rc/$out" "^0/$SP: 1 message, .*from <> +to <sender@example.org> +why: a bounce of $name: No hub took this message in the 1 seconds control/spoollifetime allows" \
     "older than spoollifetime, no hub: the message became a bounce, itself kept"
rm "$leaf/control/spoollifetime"
fake K
hubs "127.0.0.1:$FAKE_PORT"
"$leaf/bin/qmail-qmqpc" -flush
like "$(cat "$F"/conn-*.raw | tr '\n' ' ')" '<bob@example\.org>: +No hub took this message .*the last attempt: no hub took the message: .*Subject: e1' \
     "the bounce goes out when a hub is back"
kill "$FAKE_PID" 2>/dev/null

# ---- the offered timer and cron line ------------------------------------------------
is "$(grep -h '^ExecStart=\|qmail-qmqpc -flush$' "$leaf/etc/qmail-spool-flush.service" "$leaf/etc/qmail-spool.cron")" \
   "ExecStart=$leaf/bin/qmail-qmqpc -flush
*/15 * * * * root $leaf/bin/qmail-qmqpc -flush" "etc/ offers a systemd service (with its timer) and a cron line, naming this home"
grep -q '^OnUnitActiveSec=' "$leaf/etc/qmail-spool-flush.timer"; ok $? "and the timer repeats"
"$leaf/bin/qmail-qmqpc" -flush -x 2>/dev/null
is "$?" 100 "qmail-qmqpc with an unknown option: usage, exit 100"
echo maybe > "$leaf/control/spool"; echo 10MB > "$leaf/control/spoolmax"; echo 7d > "$leaf/control/spoollifetime"
is "$("$leaf/bin/qmail-showctl" -c 2>&1 | grep spool)" "control/spoollifetime: not a number of seconds
control/spool: neither empty nor \"none\": nothing is kept
control/spoolmax: not a number of bytes" "qmail-showctl -c checks spool, spoolmax and spoollifetime"
rm "$leaf/control/spool" "$leaf/control/spoolmax" "$leaf/control/spoollifetime"
done_testing
