#!/bin/bash
# statuslines.t: qmail-send logs qmail's "status: local L/LC remote R/RC"
# lines (qmail-log(5)) on a real running hub, and its whole log is in the
# form qmailanalog's matchup reads: local deliveries (successes and a
# bounce), remote ones to a fake SMTP server (success, a 4xx deferral, a
# 5xx failure), checked by tests/lib/matchcheck.py (every local start and
# result followed by a status line with the true count of running local
# deliveries; the remote count within the remote deliveries in flight).
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
hub_install; ok $? "make install makes a hub home"
mkdir -p "$T/flog"
python3 "$SRCDIR/tests/lib/smtpfake.py" ok --logdir "$T/flog" --lifetime 600 > "$T/fport" 2> "$T/ferr" &
_pids+=($!)
wait_until test -s "$T/fport"; FPORT=$(head -n 1 "$T/fport")
printf 'remote.example:127.0.0.1:%s\n' "$FPORT" > "$HUB/control/smtproutes"
echo 5 > "$HUB/control/concurrencylocal"
hub_user bob
hub_newu
hub_start; ok $? "hub started"

for i in 1 2 3 4 5 6; do
  printf 'Subject: local %s\n\nbody\n' "$i" | send "alice@$ME" "bob@$ME"
done
printf 'Subject: nobody\n\nbody\n' | send "alice@$ME" "nosuchuser@$ME"
printf 'Subject: out\n\nbody\n' | send "postmaster@$ME" a@remote.example b@remote.example temp@remote.example bad@remote.example
ok $? "messages sent: six local, one to a missing user, one to four remote recipients"
wait_until has_file "$T/home/bob/Maildir/new" 6; ok $? "bob has his six"
wait_until inlog 'delivery [0-9]+: deferral: .*4\.2\.1'; ok $? "the remote temp recipient is deferred"
wait_until inlog 'delivery [0-9]+: failure: .*5\.1\.1.*'; ok $? "the remote bad recipient fails"
marker done; ok $? "a marker message went through after them"
hub_stop

like "$(qlog | grep -c 'status: local [0-9]*/5 remote [0-9]*/[0-9]*$')" '^[1-9][0-9]+$' \
  "status lines name the local concurrency (5)"
like "$(qlog | grep 'status: local [1-9]' | head -n 1)" 'status: local [1-5]/5 remote [0-9]+/[0-9]+$' \
  "a status line counts a running local delivery"
like "$(qlog | grep -E 'status: local [0-9]+/5 remote [1-9]' | head -n 1)" 'remote [1-9][0-9]*/[0-9]+$' \
  "a status line counts a running remote job"
qlog > "$T/send.log"
out=$(python3 "$SRCDIR/tests/lib/matchcheck.py" < "$T/send.log")
ok $? "the log is in matchup's form and its status lines tell the truth ($out)"
# the checker itself goes red on a log whose status lines lie or are missing
sed -E '0,/status: local 1\//s//status: local 0\//' "$T/send.log" | python3 "$SRCDIR/tests/lib/matchcheck.py" > /dev/null
is $? 1 "the checker refuses a status line with a wrong local count"
awk '!/status: local/ || ++n != 3' "$T/send.log" | python3 "$SRCDIR/tests/lib/matchcheck.py" > /dev/null
is $? 1 "the checker refuses a log missing one status line"
done_testing
