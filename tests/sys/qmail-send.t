#!/bin/bash
# qmail-send.t: qmail-send end to end in a home installed with make install
# (as root: the qmail users, the queue's owners; else single-user), started
# by the installed qmail-start with the real qmail-clean; only
# bin/qmail-lspawn is a fake (python: the local part decides the result)
# and bin/qmail-rspawn is removed (fds 3/4 closed). Checks: success,
# permanent failure with a bounce through QMAILQUEUE, deferral with the next
# try kept as the channel file's mtime across a restart, SIGALRM, the
# trigger (named and anonymous), stale-file cleanup, a backlog larger than
# a batch, expiry, SIGTERM; every message done is removed by qmail-clean
# (as root qmail-send, running as qmails, could not unlink mess/ itself).
. "$(dirname "$0")/../lib/common.sh"
H=$T/home
export QMAILHOME=$H

qmake install QMAILHOME="$H" > "$T/install.log" 2>&1 ||
  { sed 's/^/# /' "$T/install.log"; echo "Bail out! make install failed"; exit 1; }
echo hub.example.org > "$H/control/me"
echo hub.example.org > "$H/control/locals"
QQ=$H/bin/qmail-queue
mkdir -p "$T/qq"; chmod 777 "$T/qq"
# bounces go to a recorder (qmail-send runs it as qmails when root: a copy
# in $T, which every user can reach)
cp "$SRCDIR/tests/lib/qq-record.sh" "$T/qq-record.sh"; chmod 755 "$T/qq-record.sh"

# the fake qmail-lspawn: the local part decides: ok* K, bad* D, later* Z
cat > "$T/lspawn.py" <<'PY'
import os, sys
out = sys.stdout.buffer
buf = b""
while True:
    d = os.read(0, 4096)
    if not d: break
    buf += d
    # a job: slot byte, id, sender, recipient(s), empty item (hub/send/qspawn.h)
    while True:
        parts = buf[1:].split(b"\0", 4)
        if len(parts) < 5: break
        slot = buf[0:1]
        sid, sender, rcpt = parts[0], parts[1], parts[2]
        assert parts[3] == b"", "one recipient per local job"
        buf = parts[4]
        local = rcpt.split(b"@")[0]
        with open(os.environ["JOBLOG"], "ab") as f:
            f.write(sid + b" " + sender + b" " + rcpt + b"\n")
        if local.startswith(b"ok"): r = b"Kdelivered to mailbox"
        elif local.startswith(b"bad"): r = b"DSorry, no mailbox here by that name. (#5.1.1)"
        else: r = b"Zmailbox busy, try later (#4.2.1)"
        out.write(slot + r + b"\0"); out.flush()
PY
rm -f "$H/bin/qmail-lspawn" "$H/bin/qmail-rspawn"
printf '#!/bin/sh\nexec python3 %s\n' "$T/lspawn.py" > "$H/bin/qmail-lspawn"
chmod 755 "$H/bin/qmail-lspawn"
export JOBLOG=$T/jobs QMAILQUEUE=$T/qq-record.sh QQ_OUT=$T/qq

log=$T/log
# every wait is bounded (a bound for a loaded machine, not a timing claim)
WAITN=${WAITN:-1200}  # tries, 0.1 s apart
mark() { wc -l < "$log"; }
# a qmail-send still running at exit gets SIGTERM (its helpers follow)
spid=""
trap '[ -n "$spid" ] && alive "$spid" && kill -TERM "$spid"; cleanup' EXIT
# start_send: qmail-start (it becomes qmail-send: spid) with an empty log,
# until qmail-send has loaded the queue (its signal handlers are in place)
start_send() {
  : > "$log"
  "$H/bin/qmail-start" ./Maildir/ >> "$log" 2>> "$T/stderr" &
  spid=$!
  waitlog '^status: [0-9]+ messages in the queue$' || return 1
  kids=$(cat "/proc/$spid/task/$spid/children" 2>/dev/null)
}
# stop_send: SIGTERM; rc = qmail-send's exit code; then its helpers'
# end (they see EOF)
stop_send() {
  local _ k
  kill -TERM "$spid"
  for _ in $(seq "$WAITN"); do alive "$spid" || break; sleep 0.1; done
  alive "$spid" && { kill -KILL "$spid"; echo "# qmail-send ignored SIGTERM" >&2; }
  wait "$spid"; rc=$?
  for k in $kids; do
    for _ in $(seq "$WAITN"); do alive "$k" || break; sleep 0.1; done
  done
  spid=""
}

# queue one message; prints its N: the todo/ entry that was not there
# before (ids are inode numbers, so a delivered message's id may come back:
# the list is taken afresh around each injection)
todo_ids() { (cd "$H/queue/todo" && find . -type f | sed 's,.*/,,' | sort); }
queue() { # RCPT BODY
  todo_ids > "$T/ids.prev"
  printf 'Falice@example.com\0T%s\0\0' "$1" > "$T/env"
  printf 'Subject: test\n\n%s\n' "$2" | "$QQ" 1< "$T/env" || return 1
  todo_ids | comm -13 "$T/ids.prev" - | head -1
}
# qlive RCPT BODY: queue one message while qmail-send runs (its todo/ entry
# may be gone at once) and print its N, read from the log when its
# delivery starts (each RCPT is used once)
qlive() {
  local m; m=$(mark)
  printf 'Falice@example.com\0T%s\0\0' "$1" > "$T/env"
  printf 'Subject: test\n\n%s\n' "$2" | "$QQ" 1< "$T/env" || return 1
  waitlog "^starting delivery [0-9]+: msg [0-9]+ to local $1\$" "$m" || return 1
  tail -n +"$((m + 1))" "$log" | sed -n "s/^starting delivery [0-9]*: msg \([0-9]*\) to local $1\$/\1/p" | head -1
}
n_ok=$(queue ok@hub.example.org "body of the good one")
n_bad=$(queue bad@hub.example.org "body of the bounced one")
n_later=$(queue later@hub.example.org "body of the deferred one")
like "$n_ok $n_bad $n_later" '^[0-9]+ [0-9]+ [0-9]+$' "three messages queued" ||
  { echo "Bail out! qmail-queue failed"; exit 1; }
s() { echo $(($1 % 23)); }

start_send
waitlog "^end msg $n_ok\$" && waitlog "^end msg $n_bad\$" && waitlog "deferral: mailbox busy"
# who runs what (as root: qmail's users; else everything is ours); the
# fake has answered, so its sh has become python3
users="qmail-send:$(stat -c %U "/proc/$spid")"
# (a child already gone is left out: when the children are read,
# qmail-send may already be running a queue program for the bounce)
for k in $kids; do
  alive "$k" || continue
  users="$users $(cat "/proc/$k/comm" 2>/dev/null):$(stat -c %U "/proc/$k" 2>/dev/null)"
done
want_users="qmail-send:qmails python3:root qmail-clean:qmailq"
[ "$(id -u)" = 0 ] || want_users="qmail-send:$(id -un) python3:$(id -un) qmail-clean:$(id -un)"
# qmail-start also starts the queue writer daemon when it is installed
if [ -x "$H/bin/qmail-queued" ]; then
  if [ "$(id -u)" = 0 ]; then want_users="$want_users qmail-queued:qmailq"
  else want_users="$want_users qmail-queued:$(id -un)"; fi
fi
stop_send
is "$rc" 0 "SIGTERM: qmail-send exits 0"
is "$users" "$want_users" "the set's users: qmail-send, qmail-clean, the fake qmail-lspawn (, qmail-queued)"
L=$(cat "$log")
like "$L" "^status: no qmail-rspawn: remote deliveries deferred\$" "no bin/qmail-rspawn: fds 3 and 4 closed"
like "$L" "^new msg $n_ok id [0-9]+\.[0-9]{9}\.$n_ok\$" "new msg logged, with the queue id"
like "$L" "^info msg $n_ok: bytes [0-9]+ from <alice@example.com> qp [0-9]+ uid $(id -u)\$" "info msg logged"
like "$L" "^starting delivery [0-9]+: msg $n_ok to local ok@hub.example.org\$" "starting delivery logged"
like "$L" "^delivery [0-9]+: success: delivered_to_mailbox|^delivery [0-9]+: success: delivered to mailbox" "success logged"
like "$L" "^delivery [0-9]+: failure: Sorry, no mailbox" "failure logged"
like "$L" "^delivery [0-9]+: deferral: mailbox busy" "deferral logged"
like "$L" "^end msg $n_ok\$" "K: end msg logged"
like "$(cat "$T/jobs")" "^$(s $n_ok)/$n_ok alice@example.com ok@hub.example.org\$" "job wire format"
ok "$(grep -q 'warning' "$log"; [ $? = 1 ]; echo $?)" "no warnings (qmail-clean answered every request)"

gone() { local d; for d in mess/$(s $1) todo/$(s $1) intd/$(s $1) info/$(s $1) local/$(s $1) remote/$(s $1) bounce; do [ -e "$H/queue/$d/$1" ] && { echo "$d/$1"; return; }; done; echo gone; }
is "$(gone $n_ok)" gone "K: message fully removed"
is "$(gone $n_bad)" gone "D: message fully removed"
B=$(cat "$T/qq/message" 2>/dev/null)
like "$B" "Hi. This is the" "D: bounce injected (QSBMF intro)"
like "$B" "<bad@hub.example.org>:" "D: bounce names the recipient"
like "$B" "Sorry, no mailbox here by that name" "D: bounce carries the report"
after=$(printf '%s\n' "$B" | sed -n '/^--- Below this line/,$p')
like "$after" "body of the bounced one" "D: the original follows the break"
like "$after" "Return-Path: <alice@example.com>" "D: Return-Path after the break"
is "$(tr '\0' ' ' < "$T/qq/envelope")" "F Talice@example.com  " "D: bounce envelope"

sl=$(s $n_later)
ok "$([ -e "$H/queue/mess/$sl/$n_later" ] && [ -e "$H/queue/info/$sl/$n_later" ] && [ -e "$H/queue/local/$sl/$n_later" ]; echo $?)" "Z: message still queued"
ok "$([ ! -e "$H/queue/todo/$sl/$n_later" ] && [ ! -e "$H/queue/intd/$sl/$n_later" ]; echo $?)" "Z: todo and intd removed after preprocessing"
mt=$(stat -c %Y "$H/queue/local/$sl/$n_later" 2>/dev/null || echo 0)
ok "$([ "$mt" -gt "$(date +%s)" ]; echo $?)" "Z: local file mtime in the future"
is "$(grep -c . "$T/jobs")" 3 "one job per recipient"

# restart: the deferred message is loaded but not retried before its time;
# a message queued after the start is delivered: qmail-send has been
# through its delivery decisions by then
start_send
like "$(cat "$log")" "^status: 1 messages in the queue\$" "restart: the deferred message is loaded"
m=$(mark)
n_probe=$(qlive okprobe@hub.example.org "probe")
waitlog "^end msg $n_probe\$" "$m"
ok $? "restart: a message queued after the start is delivered"
stop_send
is "$rc" 0 "restart: exits 0 on SIGTERM"
ok "$(grep -qE "^starting delivery [0-9]+: msg $n_later " "$log"; [ $? = 1 ]; echo $?)" "restart: deferred message not retried early"
ok "$([ -e "$H/queue/local/$sl/$n_later" ]; echo $?)" "restart: deferred message kept"
is "$(stat -c %Y "$H/queue/local/$sl/$n_later")" "$mt" "restart: next retry time kept"

# SIGALRM: retry now
start_send
kill -ALRM "$spid"
waitlog "deferral: mailbox busy"
stop_send
is "$rc" 0 "ALRM run: exits 0"
like "$(cat "$log")" "^starting delivery [0-9]+: msg $n_later to local later@hub.example.org\$" "SIGALRM: retried at once"
ok "$([ -e "$H/queue/local/$sl/$n_later" ]; echo $?)" "SIGALRM: still queued after another deferral"

# the trigger: a message queued while qmail-send runs is delivered at once;
# the second one is queued after the first was delivered, so the start's
# scan of todo/ is long over and only the trigger can bring it in
start_send
m=$(mark)
n_t1=$(qlive oktrig1@hub.example.org "triggered first")
waitlog "^end msg $n_t1\$" "$m"
m=$(mark)
n_trig=$(qlive oktrig@hub.example.org "triggered")
waitlog "^end msg $n_trig\$" "$m"
L=$(tail -n +"$((m + 1))" "$log")
stop_send
like "$L" "^starting delivery [0-9]+: msg $n_trig to local oktrig@hub.example.org\$" "trigger: delivery started without a restart"
is "$rc" 0 "trigger run: exits 0"
like "$L" "^end msg $n_trig\$" "trigger: new message delivered without a restart"
is "$(gone $n_trig)" gone "trigger: message removed"

# an anonymous trigger byte (qmail's tools) makes qmail-send scan todo/: a
# message queued while the FIFO was away is found when a NUL byte arrives;
# until then it waits, while a named message queued after it is delivered
start_send
m=$(mark)
n_p1=$(qlive okanon1@hub.example.org "before")
waitlog "^end msg $n_p1\$" "$m"
m=$(mark)
mv "$H/queue/lock/trigger" "$H/queue/lock/trigger.away"
n_anon=$(queue okanon@hub.example.org "anonymous")
mv "$H/queue/lock/trigger.away" "$H/queue/lock/trigger"
n_p2=$(qlive okanon2@hub.example.org "after")
waitlog "^end msg $n_p2\$" "$m"
ok $? "anonymous trigger: a message named in the trigger afterwards is delivered"
ok "$(tail -n +"$((m + 1))" "$log" | grep -qE "^new msg $n_anon( |\$)"; [ $? = 1 ]; echo $?)" "without a trigger the message waits"
printf '\0' > "$H/queue/lock/trigger"
waitlog "^end msg $n_anon\$" "$m"
stop_send
like "$(tail -n +"$((m + 1))" "$log")" "^end msg $n_anon\$" "an anonymous trigger byte: todo/ is scanned and the message delivered"
is "$(gone $n_anon)" gone "anonymous trigger: message removed"

# stale files: mess/ with no info/ and no todo/ older than 36 h is removed
# (with its intd/) through qmail-clean; a young one, and an old one that is
# still queued, stay
mkstale() { # N AGE
  local sd=$(s $1)
  printf 'junk\n' > "$H/queue/mess/$sd/$1"; printf 'u0\0' > "$H/queue/intd/$sd/$1"
  touch -d "$2" "$H/queue/mess/$sd/$1"
}
mkstale 4600 '40 hours ago'; mkstale 4623 '1 hour ago'
n_old=$(queue oklate@hub.example.org "queued long ago")
touch -d '3 days ago' "$H/queue/mess/$(s $n_old)/$n_old"
start_send
waitlog "^end msg $n_old\$" && waitlog "removed stale msg 4600"
stop_send
like "$(cat "$log")" "^status: removed stale msg 4600\$" "stale: the old garbage is removed and logged"
ok "$([ ! -e "$H/queue/mess/0/4600" ] && [ ! -e "$H/queue/intd/0/4600" ]; echo $?)" "stale: mess and intd gone"
ok "$([ -e "$H/queue/mess/$(s 4623)/4623" ]; echo $?)" "stale: young garbage kept (a qmail-queue may still be writing it)"
like "$(cat "$log")" "^end msg $n_old\$" "stale: an old but queued message is delivered, not removed"
rm -f "$H/queue/mess/$(s 4623)/4623" "$H/queue/intd/$(s 4623)/4623"

# a backlog larger than one preprocessing batch (64): all delivered, and
# deliveries start before the last message is preprocessed
for i in $(seq 150); do queue "okb$i@hub.example.org" "backlog $i" > /dev/null || break; done
start_send
for _ in $(seq "$WAITN"); do [ "$(grep -c '^end msg ' "$log")" -ge 150 ] && break; sleep 0.1; done
stop_send
n_end=$(grep -c '^end msg ' "$log")
is "$n_end" 150 "backlog: 150 messages delivered"
first_start=$(grep -n '^starting delivery' "$log" | head -1 | cut -d: -f1)
last_new=$(grep -n '^new msg' "$log" | tail -1 | cut -d: -f1)
ok "$([ "${first_start:-999999}" -lt "${last_new:-0}" ]; echo $?)" "backlog: deliveries start while todo/ is still being preprocessed"
is "$(find "$H/queue/mess" "$H/queue/todo" "$H/queue/intd" -type f | wc -l)" 1 "backlog: nothing left but the deferred message"

# expiry: queuelifetime 0 turns the deferral into a failure and a bounce
echo 0 > "$H/control/queuelifetime"
rm -f "$T/qq/message"
start_send
kill -ALRM "$spid"
waitlog "^end msg $n_later\$"
stop_send
is "$rc" 0 "expiry run: exits 0"
like "$(cat "$log")" "^end msg $n_later\$" "expired: message ended"
like "$(cat "$T/qq/message" 2>/dev/null)" "too long" "expired: bounce says so"
is "$(gone $n_later)" gone "expired: message removed"
is "$(find "$H/queue" -path '*/lock' -prune -o -type f -print | wc -l)" 0 "the queue is empty at the end"

[ -s "$T/stderr" ] && sed 's/^/# stderr: /' "$T/stderr" >&2
done_testing
