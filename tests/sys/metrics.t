#!/bin/bash
# metrics.t: qmail-metrics on a real running hub (qmail-metrics.8,
# docs/metrics.md): mail accepted, refused (relay, a bad recipient),
# delivered locally, bounced, deferred by a remote that says 451; exact
# counts, promtool check metrics, no address in the output, counters that
# only grow across runs and a multilog rotation, the -o file; the Grafana
# dashboard uses only metrics qmail-metrics emits; qmailctl top -n.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
. "$SRCDIR/tests/lib/promtool.sh"
hub_skip_unless_built
[ -x "$SRCDIR/$BUILD/hub/qmail-metrics" ] || { echo "Bail out! hub/qmail-metrics not built"; exit 1; }
hub_install; ok $? "make install makes a hub home"
mkdir -p "$T/flog"
python3 "$SRCDIR/tests/lib/smtpfake.py" ok --logdir "$T/flog" --lifetime 600 > "$T/fport" 2> "$T/ferr" &
_pids+=($!)
wait_until test -s "$T/fport"; FPORT=$(head -n 1 "$T/fport")
printf 'remote.example:127.0.0.1:%s\n' "$FPORT" > "$HUB/control/smtproutes"
printf ':allow\n' > "$HUB/control/tcp.smtp"    # nobody relays
hub_user bob
hub_newu
dq "$T/home/bob" .qmail-fail "|$HUB/bin/bouncesaying 'no thanks'
"
dq "$T/home/bob" .qmail-fwd '&ok@remote.example
&temp@remote.example
'
hub_start; ok $? "hub started"
M() { "$HUB/bin/qmailctl" metrics "$@"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
M > "$T/m0"; ok $? "qmailctl metrics runs"
[ -f "$HUB/log/qmail-metrics.state" ]; ok $? "it keeps its state in log/qmail-metrics.state"

# one SMTP session: two refused recipients (relay, a bad address), then
# three messages: to bob, to bob-fail (bounces to the postmaster), to
# bob-fwd (forwarded to ok@ and temp@remote.example: one 250, one 451)
python3 - "$SMTP" "$ME" > "$T/smtp.out" 2>&1 <<'PY'
import smtplib, sys
port, me = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.example")
s.mail("postmaster@" + me)
print(s.rcpt("victim@elsewhere.example")[0], s.rcpt("")[0])
s.rset()
for r in ("bob", "bob-fail", "bob-fwd"):
    s.sendmail("postmaster@" + me, [r + "@" + me], "Subject: to %s\r\n\r\nbody\r\n" % r)
s.quit()
PY
is "$(head -n 1 "$T/smtp.out")" "553 501" "the relay recipient gets 553, the empty one 501"
wait_until has_file "$T/home/bob/Maildir/new" 1; ok $? "bob has his message"
wait_until has_file "$HUB/alias/Maildir/new" 1 'no thanks'; ok $? "the bounce of bob-fail reached the postmaster"
wait_until inlog 'delivery [0-9]+: deferral: .*451'; ok $? "temp@remote.example is deferred (451)"
wait_until inlog 'delivery [0-9]+: success: .*accepted'; ok $? "ok@remote.example is delivered"
wait_until inlog 'status: local 0/[0-9]+ remote 0/'; ok $? "nothing runs any more"
sleep 1   # the last status line and the servers' end lines reach the logs

M > "$T/m1"; ok $? "qmail-metrics after the mail"
# five messages queued: the three, the bounce, the forward
is "$(val qmail_messages_queued_total "$T/m1")" 5 "queued: 5 (three sent, one bounce, one forward)"
is "$(val 'qmail_delivered_total{channel="local"}' "$T/m1")" 3 "delivered local: bob, bob-fwd, the bounce"
is "$(val 'qmail_bounced_total{channel="local"}' "$T/m1")" 1 "bounced local: bob-fail"
is "$(val 'qmail_delivered_total{channel="remote"}' "$T/m1")" 1 "delivered remote: ok@"
is "$(val 'qmail_deferred_total{channel="remote"}' "$T/m1")" 1 "deferred remote: temp@"
is "$(val 'qmail_deferred_total{channel="local"}' "$T/m1")" 0 "deferred local: none"
is "$(val 'qmail_bounce_messages_total{kind="single"}' "$T/m1")" 1 "one bounce message injected"
is "$(val 'qmail_messages_completed_total' "$T/m1")" 4 "four messages left the queue"
is "$(val 'qmail_refused_total{service="smtpd",reason="relay"}' "$T/m1")" 1 "refused: one relay"
is "$(val 'qmail_refused_total{service="smtpd",reason="bad_address"}' "$T/m1")" 1 "refused: one bad address"
s0=$(val 'qmail_sessions_total{service="smtpd"}' "$T/m0") s1=$(val 'qmail_sessions_total{service="smtpd"}' "$T/m1")
is "$((s1 - s0))" 1 "one more smtpd session"
is "$(val qmail_queue_messages "$T/m1")" 1 "the queue holds the deferred forward"
is "$(val qmail_queue_unpreprocessed_messages "$T/m1")" 0 "nothing waits for preprocessing"
like "$(val qmail_queue_oldest_message_age_seconds "$T/m1")" '^[0-9]+$' "the oldest message's age is a number"
[ "$(val qmail_queue_oldest_message_age_seconds "$T/m1")" -lt 600 ]; ok $? "and a young one"
is "$(val 'qmail_concurrency_limit{channel="local"}' "$T/m1")" 10 "the local concurrency from the status line"
is "$(val 'qmail_deliveries_running{channel="local"}' "$T/m1")" 0 "no local delivery running"
grep -qiE '@|example|127\.0\.0\.1|bob|postmaster' "$T/m1"; is $? 1 "no address, host or user name in the output"

if promtool_get; then
  "$PROMTOOL" check metrics < "$T/m1" > "$T/promtool.out" 2>&1; ok $? "promtool check metrics passes"
  # promtool itself goes red on a broken exposition (a counter without _total)
  sed 's/^qmail_bounce_discarded_total /qmail_bounce_discarded /; s/^# \(HELP\|TYPE\) qmail_bounce_discarded_total/# \1 qmail_bounce_discarded/' "$T/m1" |
    "$PROMTOOL" check metrics > /dev/null 2>&1
  ok $(( ! $? )) "promtool refuses a counter without _total (the check can fail)"
else
  ok 0 "promtool check metrics # skip $PROMTOOL_WHY"
  ok 0 "promtool refuses a bad counter # skip $PROMTOOL_WHY"
fi

M > "$T/m2"
diff <(grep -v '^qmail_metrics_last_run\|^qmail_queue_oldest' "$T/m1") <(grep -v '^qmail_metrics_last_run\|^qmail_queue_oldest' "$T/m2") > /dev/null
ok $? "a second run without new log lines counts nothing twice"

# rotation: multilog (qmailctl start runs it) rotates current on SIGALRM
pg=$(head -n 1 "$HUB/service/qmail-send/qmailctl.pid")
ml=$(ps -eo pid=,pgid=,comm= | awk -v g="$pg" '$2 == g && $3 == "multilog" { print $1 }' | head -n 1)
if [ -n "$ml" ]; then
  kill -ALRM "$ml"
  wait_until sh -c "ls '$HUB'/log/qmail-send/@*.s > /dev/null 2>&1"; ok $? "qmail-send's log rotated"
else
  ok 0 "rotation # skip no multilog"
fi
printf 'Subject: after\n\nbody\n' | send "postmaster@$ME" "bob@$ME"
wait_until has_file "$T/home/bob/Maildir/new" 2; ok $? "another message to bob"
wait_until log_more 'status: local 0/[0-9]+ remote 0/' "$(nlog 'status: local 0/[0-9]+ remote 0/')"
sleep 1
M -o "$T/out.prom" > "$T/o.out" 2>&1; ok $? "qmail-metrics -o FILE"
is "$(cat "$T/o.out")" "" "prints nothing with -o"
is "$(val qmail_messages_queued_total "$T/out.prom")" 6 "after the rotation: queued 6, the new one counted once"
is "$(val 'qmail_delivered_total{channel="local"}' "$T/out.prom")" 4 "delivered local 4"
ls "$T"/out.prom.tmp > /dev/null 2>&1; is $? 2 "no temporary file left"
mono=0
while read -r k v; do
  case $k in \#*|qmail_queue_*|qmail_deliveries_running*|qmail_metrics_last_run*) continue ;; esac
  n=$(val "$k" "$T/out.prom"); [ -n "$n" ] && [ "$n" -ge "$v" ] || { echo "# $k went from $v to '$n'" >&2; mono=1; }
done < "$T/m1"
is "$mono" 0 "every counter is at least what it was before the rotation"

# the state file: damaged, qmail-metrics stops with a clear message
cp "$HUB/log/qmail-metrics.state" "$T/state.good"
echo 'c qmail_x{a="b c"} 1' >> "$HUB/log/qmail-metrics.state"
out=$(M 2>&1); rc=$?
is "$rc" 111 "a damaged state file: exit 111"
like "$out" 'damaged at line [0-9]+: remove it' "and says where and what to do"
cp "$T/state.good" "$HUB/log/qmail-metrics.state"

# the Grafana dashboard: valid JSON, every metric it queries is emitted
dash=$SRCDIR/docs/grafana/qmail.json
python3 -m json.tool "$dash" > /dev/null 2>&1; ok $? "docs/grafana/qmail.json is valid JSON"
used=$(python3 - "$dash" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "expr" and isinstance(v, str): exprs.append(v)
            else: walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
walk(d)
names = set()
for e in exprs:
    names.update(re.findall(r'\bqmail_[a-z_]+', e))
print(len(exprs), " ".join(sorted(names)))
PY
)
nexpr=${used%% *} names=${used#* }
[ "${nexpr:-0}" -ge 8 ]; ok $? "the dashboard has its panels' queries ($nexpr)"
missing=""
for n in $names; do grep -q "^$n[ {]" "$T/out.prom" || missing="$missing $n"; done
is "$missing" "" "every metric the dashboard queries is one qmail-metrics emits"

# qmailctl top: plain frames when not a terminal
"$HUB/bin/qmailctl" top -n 2 -d 1 > "$T/top.out" 2>&1; ok $? "qmailctl top -n 2"
is "$(grep -c '^qmail-top ' "$T/top.out")" 2 "two frames"
like "$(cat "$T/top.out")" 'queue: +1 messages, 0 not yet preprocessed, oldest [0-9]+[smhd]' "the queue line"
like "$(cat "$T/top.out")" 'running: +local 0/10  remote 0/[0-9]+' "the running line, from the status line"
like "$(cat "$T/top.out")" 'per minute: accepted [1-9][0-9]*  delivered [1-9]' "per-minute rates of the last minute"
like "$(tail -n 2 "$T/top.out")" 'in the logs: accepted 6  delivered 5  deferred 1  bounced 1  refused 2' "totals from the logs"
timeout 10 "$HUB/bin/qmailctl" top < /dev/null > "$T/top1.out" 2>&1; ok $? "top without a terminal prints one frame and ends"
is "$(grep -c '^qmail-top ' "$T/top1.out")" 1 "one frame"
# on a terminal (a pty): frames redrawn, q ends it at once
python3 - "$HUB/bin/qmail-top" > "$T/pty.out" 2>&1 <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], ["qmail-top", "-d", "1"])
out, t0 = b"", time.time()
while time.time() - t0 < 2.5:
    if select.select([fd], [], [], 0.2)[0]:
        try: out += os.read(fd, 4096)
        except OSError: break
os.write(fd, b"q")
for _ in range(100):
    p, st = os.waitpid(pid, os.WNOHANG)
    if p: break
    time.sleep(0.05)
else:
    os.kill(pid, 9); os.waitpid(pid, 0); st = -1
print(out.count(b"\x1b[H\x1b[2J") >= 2, st)
PY
is "$(cat "$T/pty.out")" "True 0" "on a terminal it redraws the screen and q ends it"

# the service: installed down; once started it writes metrics/qmail.prom
[ -e "$HUB/service/qmail-metrics/down" ]; ok $? "service/qmail-metrics is installed down"
rm -f "$HUB/service/qmail-metrics/down"
"$HUB/bin/qmailctl" start > "$T/start2.log" 2>&1; ok $? "qmailctl start starts it"
wait_until test -s "$HUB/metrics/qmail.prom"; ok $? "it writes metrics/qmail.prom"
is "$(val qmail_messages_queued_total "$HUB/metrics/qmail.prom")" 6 "with the same counts"
# -H: one HTTP request on stdin/stdout (as under tcpserver)
QM=$HUB/bin/qmail-metrics
printf 'GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n' | "$QM" -H > "$T/h200" 2> "$T/h.err"
is "$(head -n 1 "$T/h200" | tr -d '\r')" "HTTP/1.0 200 OK" "-H: GET /metrics gets 200"
grep -q '^Content-Type: text/plain; version=0.0.4' "$T/h200"; ok $? "in Prometheus' text format"
is "$(tr -d '\r' < "$T/h200" | val qmail_messages_queued_total /dev/stdin)" 6 "with the counters"
is "$(printf 'POST /metrics HTTP/1.0\r\n\r\n' | "$QM" -H | head -n 1 | tr -d '\r')" "HTTP/1.0 405 Method Not Allowed" "-H: POST gets 405"
is "$(printf 'GET /etc/passwd HTTP/1.0\r\n\r\n' | "$QM" -H | head -n 1 | tr -d '\r')" "HTTP/1.0 404 Not Found" "-H: another path gets 404"
is "$(head -c 9000 /dev/zero | tr '\0' a | "$QM" -H | head -n 1 | tr -d '\r')" "HTTP/1.0 400 Bad Request" "-H: a head over 8 KB gets 400"
t0=$SECONDS
is "$(timeout 30 "$QM" -H < <(sleep 40) | head -n 1 | tr -d '\r')" "HTTP/1.0 400 Bad Request" "-H: a silent client gets 400"
[ $((SECONDS - t0)) -lt 25 ]; ok $? "after the 10 s cap, not later"

done_testing
