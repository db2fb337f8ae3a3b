#!/bin/bash
# qmail-send.t: qmail-send end to end in a single-user queue, with a fake
# qmail-lspawn (python) on fds 1/2, the log on fd 0 and no qmail-clean:
# success, permanent failure with a bounce through QMAILQUEUE, deferral with
# the next try kept as the channel file's mtime across a restart, SIGALRM,
# SIGTERM.
. "$(dirname "$0")/../lib/common.sh"
QSEND=${QSEND:-$SRCDIR/$BUILD/hub/qmail-send}
QQ=$SRCDIR/$BUILD/hub/qmail-queue
H=$T/home
export QMAILHOME=$H

sh "$SRCDIR/hub/mkqueue.sh" -s "$H" || { echo "Bail out! mkqueue"; exit 1; }
mkdir -p "$H/control"
echo hub.example.org > "$H/control/me"
echo hub.example.org > "$H/control/locals"
mkdir -p "$T/qq"

# the fake qmail-lspawn: the local part decides: ok* K, bad* D, later* Z
cat > "$T/lspawn.py" <<'PY'
import os, sys
inp = sys.stdin.buffer; out = sys.stdout.buffer
buf = b""
while True:
    d = os.read(0, 4096)
    if not d: break
    buf += d
    # a job: slot byte, id, sender, recipient(s), empty item (hub/qspawn.h)
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

# the driver: qmail-send with fd 0 = log, fd 1/2 = pipes to the fake
# lspawn; waits until every regex given appears in the log (60 s at most:
# a bound for a loaded machine, not a timing claim),
# optionally sends ALRM first, then TERM; prints qmail-send's exit code.
cat > "$T/drive.py" <<'PY'
import os, re, signal, subprocess, sys, time
log, alrm, pats = sys.argv[1], sys.argv[2] == "alrm", sys.argv[3:]
jr, jw = os.pipe(); rr, rw = os.pipe()
sp = subprocess.Popen([sys.executable, os.environ["LSPAWN"]], stdin=jr, stdout=rw)
os.close(jr); os.close(rw)
lf = open(log, "ab")
qs = subprocess.Popen([os.environ["QSEND"]], stdin=lf, stdout=jw, stderr=rr)
os.close(jw); os.close(rr)
def text():
    with open(log, "r", errors="replace") as f: return f.read()
if alrm:
    time.sleep(0.5); qs.send_signal(signal.SIGALRM)
end = time.time() + 60
while time.time() < end and not all(re.search(p, text(), re.M) for p in pats):
    time.sleep(0.1)
time.sleep(0.3)
qs.send_signal(signal.SIGTERM)
try: rc = qs.wait(10)
except subprocess.TimeoutExpired:
    qs.kill(); rc = "timeout"
try: sp.wait(5)
except subprocess.TimeoutExpired: sp.kill()
print(rc)
PY
export LSPAWN=$T/lspawn.py JOBLOG=$T/jobs QSEND QMAILQUEUE=$SRCDIR/tests/lib/qq-record.sh QQ_OUT=$T/qq

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
n_ok=$(queue ok@hub.example.org "body of the good one")
n_bad=$(queue bad@hub.example.org "body of the bounced one")
n_later=$(queue later@hub.example.org "body of the deferred one")
like "$n_ok $n_bad $n_later" '^[0-9]+ [0-9]+ [0-9]+$' "three messages queued" ||
  { echo "Bail out! qmail-queue failed"; exit 1; }
s() { echo $(($1 % 23)); }

log=$T/log
rc=$(python3 "$T/drive.py" "$log" no "end msg $n_ok\$" "end msg $n_bad\$" "deferral: mailbox busy")
is "$rc" 0 "SIGTERM: qmail-send exits 0"
L=$(cat "$log")
like "$L" "^new msg $n_ok id [0-9]+\.[0-9]{9}\.$n_ok\$" "new msg logged, with the queue id"
like "$L" "^info msg $n_ok: bytes [0-9]+ from <alice@example.com> qp [0-9]+ uid $(id -u)\$" "info msg logged"
like "$L" "^starting delivery [0-9]+: msg $n_ok to local ok@hub.example.org\$" "starting delivery logged"
like "$L" "^delivery [0-9]+: success: delivered_to_mailbox|^delivery [0-9]+: success: delivered to mailbox" "success logged"
like "$L" "^delivery [0-9]+: failure: Sorry, no mailbox" "failure logged"
like "$L" "^delivery [0-9]+: deferral: mailbox busy" "deferral logged"
like "$L" "^end msg $n_ok\$" "K: end msg logged"
like "$(cat "$T/jobs")" "^$(s $n_ok)/$n_ok alice@example.com ok@hub.example.org\$" "job wire format"

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
mt=$(stat -c %Y "$H/queue/local/$sl/$n_later" 2>/dev/null || echo 0)
ok "$([ "$mt" -gt "$(date +%s)" ]; echo $?)" "Z: local file mtime in the future"
is "$(grep -c . "$T/jobs")" 3 "one job per recipient"

# restart: the deferred message is loaded but not retried before its time
: > "$log"
rc=$(python3 "$T/drive.py" "$log" no "status: qmail-send started")
is "$rc" 0 "restart: exits 0 on SIGTERM"
sleep 0.5
L=$(cat "$log")
ok "$(printf '%s' "$L" | grep -q "starting delivery"; [ $? = 1 ]; echo $?)" "restart: deferred message not retried early"
ok "$([ -e "$H/queue/local/$sl/$n_later" ]; echo $?)" "restart: deferred message kept"
is "$(stat -c %Y "$H/queue/local/$sl/$n_later")" "$mt" "restart: next retry time kept"

# SIGALRM: retry now
: > "$log"
rc=$(python3 "$T/drive.py" "$log" alrm "deferral: mailbox busy")
is "$rc" 0 "ALRM run: exits 0"
like "$(cat "$log")" "^starting delivery [0-9]+: msg $n_later to local later@hub.example.org\$" "SIGALRM: retried at once"
ok "$([ -e "$H/queue/local/$sl/$n_later" ]; echo $?)" "SIGALRM: still queued after another deferral"

# the trigger: a message queued while qmail-send runs is delivered at once
: > "$log"
python3 "$T/drive.py" "$log" no "to local oktrig@hub.example.org\$" "^end msg " > "$T/rc" &
dp=$!; _pids+=("$dp")
sleep 1
queue oktrig@hub.example.org "triggered" > /dev/null
wait "$dp"
n_trig=$(sed -n 's/^starting delivery [0-9]*: msg \([0-9]*\) to local oktrig@.*/\1/p' "$log")
like "$n_trig" '^[0-9]+$' "trigger: delivery started without a restart"
is "$(cat "$T/rc")" 0 "trigger run: exits 0"
like "$(cat "$log")" "^end msg $n_trig\$" "trigger: new message delivered without a restart"
is "$(gone $n_trig)" gone "trigger: message removed"

# an anonymous trigger byte (qmail's tools) makes qmail-send scan todo/: a
# message queued while the FIFO was away is found when a NUL byte arrives
: > "$log"
python3 "$T/drive.py" "$log" no "to local okanon@hub.example.org\$" "end msg " > "$T/rc" &
dp=$!; _pids+=("$dp")
sleep 1
mv "$H/queue/lock/trigger" "$H/queue/lock/trigger.away"
n_anon=$(queue okanon@hub.example.org "anonymous")
mv "$H/queue/lock/trigger.away" "$H/queue/lock/trigger"
sleep 0.5
ok "$(grep -q "new msg $n_anon" "$log"; [ $? = 1 ]; echo $?)" "without a trigger the message waits"
printf '\0' > "$H/queue/lock/trigger"
wait "$dp"
like "$(cat "$log")" "^end msg $n_anon\$" "an anonymous trigger byte: todo/ is scanned and the message delivered"

# stale files: mess/ with no info/ and no todo/ older than 36 h is removed
# (with its intd/); a young one, and an old one that is still queued, stay
mkstale() { # N AGE
  local sd=$(s $1)
  printf 'junk\n' > "$H/queue/mess/$sd/$1"; printf 'u0\0' > "$H/queue/intd/$sd/$1"
  touch -d "$2" "$H/queue/mess/$sd/$1"
}
mkstale 4600 '40 hours ago'; mkstale 4623 '1 hour ago'
n_old=$(queue oklate@hub.example.org "queued long ago")
touch -d '3 days ago' "$H/queue/mess/$(s $n_old)/$n_old"
: > "$log"
rc=$(python3 "$T/drive.py" "$log" no "end msg $n_old\$" "removed stale msg 4600")
like "$(cat "$log")" "^status: removed stale msg 4600\$" "stale: the old garbage is removed and logged"
ok "$([ ! -e "$H/queue/mess/0/4600" ] && [ ! -e "$H/queue/intd/0/4600" ]; echo $?)" "stale: mess and intd gone"
ok "$([ -e "$H/queue/mess/$(s 4623)/4623" ]; echo $?)" "stale: young garbage kept (a qmail-queue may still be writing it)"
like "$(cat "$log")" "^end msg $n_old\$" "stale: an old but queued message is delivered, not removed"
rm -f "$H/queue/mess/$(s 4623)/4623" "$H/queue/intd/$(s 4623)/4623"

# a backlog larger than one preprocessing batch (64): all delivered, and
# deliveries start before the last message is preprocessed
for i in $(seq 150); do n_last=$(queue "okb$i@hub.example.org" "backlog $i") || break; done
: > "$log"
for _ in 1 2 3; do  # until all 150 ended (each run stops at the last one's end)
  python3 "$T/drive.py" "$log" no "end msg $n_last\$" > /dev/null
  [ "$(grep -c '^end msg ' "$log")" -ge 150 ] && break
done
n_end=$(grep -c '^end msg ' "$log")
is "$n_end" 150 "backlog: 150 messages delivered"
first_start=$(grep -n '^starting delivery' "$log" | head -1 | cut -d: -f1)
last_new=$(grep -n '^new msg' "$log" | tail -1 | cut -d: -f1)
ok "$([ "${first_start:-999999}" -lt "${last_new:-0}" ]; echo $?)" "backlog: deliveries start while todo/ is still being preprocessed"

# expiry: queuelifetime 0 turns the deferral into a failure and a bounce
echo 0 > "$H/control/queuelifetime"
rm -f "$T/qq/message"
: > "$log"
rc=$(python3 "$T/drive.py" "$log" alrm "end msg $n_later\$")
is "$rc" 0 "expiry run: exits 0"
like "$(cat "$log")" "^end msg $n_later\$" "expired: message ended"
like "$(cat "$T/qq/message" 2>/dev/null)" "too long" "expired: bounce says so"
is "$(gone $n_later)" gone "expired: message removed"

done_testing
