#!/bin/bash
# retry.t: retries on a running hub (installed in $T, started by qmailctl,
# mail sent over SMTP) without waiting for the schedule: a recipient whose
# .qmail program exits 111 is deferred with the next try kept as the local
# channel file's mtime, birth + (isqrt(age) + 10)^2 (hub/send/retry.h); a
# restart keeps that time and does not retry early; qmailctl flush
# (SIGALRM) retries at once; an always-deferred recipient is not retried
# in a busy loop (docs/bad-input.md L8); after queuelifetime the next temporary
# failure becomes a bounce ("in the queue too long").
# As root the recipients are uid 65534; otherwise single-user mode.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built

hub_install; ok $? "make install makes a hub home"
hub_user zr; hub_newu; ok $? "qmail-newu"
R=$T/home/zr
md "$R" B
dq "$R" .qmail-soft '|test -e ok || { echo "not yet"; exit 111; }
./Maildir/
'
dq "$R" .qmail-always '|echo "always busy"; exit 111
'
dq "$R" .qmail-b './B/
'
hub_start; ok $? "qmailctl start"

printf 'Subject: soft\n\nbody\n' | send zr-b@hub.example.org zr-soft@hub.example.org
wait_until inlog 'deferral: not yet'; ok $? "a temporary failure is logged as a deferral"
printf 'Subject: always\n\nbody\n' | send zr-b@hub.example.org zr-always@hub.example.org
wait_until inlog 'deferral: always busy'; ok $? "the always-busy recipient is deferred"

# msgid ADDR: the queue id of the message whose local channel file names ADDR
msgid() { basename "$(grep -rl -- "$1" "$HUB/queue/local" 2>/dev/null | head -1)"; }
A=$(msgid zr-soft@) L=$(msgid zr-always@)
ok "$([ -n "$A" ] && [ -n "$L" ]; echo $?)" "both messages wait in the local channel ($A, $L)"
chan() { echo "$HUB/queue/local/$(( $1 % 23 ))/$1"; }
info() { echo "$HUB/queue/info/$(( $1 % 23 ))/$1"; }
mt() { stat -c %Y "$1"; }
tries() { qlog | grep -c "starting delivery [0-9]*: msg $1 to"; }
# on_schedule ID T0 T1: the channel file's mtime is birth + (isqrt(a)+10)^2
# for an age a the message had between T0 and T1 (seconds since epoch)
on_schedule() {
  python3 - "$(mt "$(info "$1")")" "$(mt "$(chan "$1")")" "$2" "$3" <<'PY'
import math, sys
birth, nxt, t0, t1 = map(int, sys.argv[1:])
ok = any(birth + (math.isqrt(a) + 10) ** 2 == nxt for a in range(max(0, t0 - birth), t1 - birth + 1))
print("# birth %d next %d (+%d)" % (birth, nxt, nxt - birth))
sys.exit(0 if ok else 1)
PY
}
on_schedule "$A" "$(mt "$(info "$A")")" "$(date +%s)"; ok $? "next try = birth + (isqrt(age) + 10)^2 (local channel)"
d=$(( $(mt "$(chan "$A")") - $(date +%s) ))
ok "$([ "$d" -ge 60 ] && [ "$d" -le 121 ]; echo $?)" "the next try is about 100 s away ($d s)"

# L8: no busy loop. A message queued after both deferrals is delivered and
# ends (qmail-send has gone round its loop since: a retry without a wait
# would have started by then), and at least 3 s have passed
t3=$((SECONDS + 3))
marker busy; ok $? "a later message is delivered meanwhile"
[ "$SECONDS" -ge "$t3" ] || sleep $((t3 - SECONDS))
is "$(tries "$A"):$(tries "$L")" "1:1" "one try each in 3 s: no busy loop on a deferring recipient"

# restart memory
ma=$(mt "$(chan "$A")") ml=$(mt "$(chan "$L")")
s0=$(qlog | grep -c 'qmail-send started')
hub_stop; ok $? "qmailctl stop"
hub_start; ok $? "qmailctl start again"
wait_until log_more 'qmail-send started' "$s0"; ok $? "qmail-send restarted"
marker restart; ok $? "a message queued after the restart is delivered and ends"
is "$(mt "$(chan "$A")"):$(mt "$(chan "$L")")" "$ma:$ml" "after the restart the next-try times are kept"
is "$(tries "$A"):$(tries "$L")" "1:1" "and no early retry after the restart"

# SIGALRM
t0=$(date +%s)
hub_flush; ok $? "qmailctl flush"
wait_until log_more "starting delivery [0-9]*: msg $A to" 1; ok $? "flush: retried at once"
wait_until log_more 'deferral: not yet' 1; ok $? "flush: deferred again"
on_schedule "$A" "$t0" "$(date +%s)"; ok $? "flush: the next try is recomputed on the schedule"
touch "$R/ok"; chown "$RUID:$RGID" "$R/ok"
hub_flush
wait_until has_file "$R/Maildir/new" 1 'Subject: soft'; ok $? "flush after the cause is gone: delivered"
wait_until test ! -e "$(chan "$A")"; ok $? "the delivered message leaves the local channel"

# queuelifetime
echo 1 > "$HUB/control/queuelifetime"
n0=$(qlog | grep -c 'status: reloading')
hub_reload
wait_until log_more 'status: reloading' "$n0"; ok $? "qmailctl reload rereads queuelifetime"
sleep 1
hub_flush
wait_until has_file "$R/B/new" 1 'Subject: always'; ok $? "past queuelifetime a temporary failure bounces"
f=$(one "$R/B/new" 'Subject: always')
like "$(tr '\n' '~' < "$f")" "<zr-always@hub.example.org>:~always busy~.*~I'm not going to try again; this message has been in the queue too long\.~" \
  "the bounce says why, on its own line"
like "$(qlog)" 'deferral: always busy' "the last try is logged as a deferral first"
wait_until queue_empty; ok $? "the queue is empty"
done_testing
