#!/bin/bash
# authflood.t: 1,000 wrong passwords against an installed hub's submission
# service (issue 11, BAD-INPUT: delay, drop, logs). control/authdelay 40
# (ms) and control/authfailures 5 keep it short: 200 connections from
# eight loopback addresses (127.0.0.4-11), two at a time each (PERIP is
# 10), AUTH PLAIN and LOGIN in turn, with and without the initial
# response, in the clear (loopback may). tests/lib/authdrive.py's flood
# mode sends them and counts. Checked:
#  - every connection took exactly 5 failures (535 5.7.8) and was then
#    dropped with 421 4.7.0 and closed; no other reply
#  - the delay grows within a connection: the 5th failure waited at least
#    its 640 ms, and on average clearly longer than the 1st (40 ms; each
#    also waits for qmail-checkpassword's yescrypt, which the load varies)
#  - exactly 1,000 failure lines (refused: ADDR auth 535) in the log, each
#    with one of the client addresses; 200 drop lines (auth 421)
#  - no log has any of the passwords, nor any base64 form that was sent
#  - the right password still works afterwards (235), and nothing was
#    queued or delivered (no message was ever sent)
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.11", 0))' 2>/dev/null ||
  { echo "1..0 # skip cannot bind 127.0.0.11 (no 127/8 route on lo)"; exit 0; }

N=1000 FAILS=5 DELAY=40
hub_install; ok $? "make install makes a hub home"
hub_user alice
hub_newu
PW=Right-$RANDOM$RANDOM-pw
printf '%s\n' "$PW" | "$HUB/bin/qmail-passwd" --stdin alice "$RUID" "$RGID" "$T/home/alice" > "$T/passwd.log" 2>&1
ok $? "qmail-passwd --stdin alice"
echo "$DELAY" > "$HUB/control/authdelay"
echo "$FAILS" > "$HUB/control/authfailures"
rm "$HUB/service/qmail-submission/down"
hub_start; ok $? "hub started with qmail-submission"
SUB=$SUBMISSION_PORT
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SUB),0.5)" 2>/dev/null
ok $? "submission listens"

slog() { cat "$HUB"/log/qmail-submission/@* "$HUB/log/qmail-submission/current" 2>/dev/null; }
alllogs() { cat "$HUB"/log/*/@* "$HUB"/log/*/current 2>/dev/null; }
nfail() { slog | grep -cE "refused: [0-9.]+ auth 535 "; }
SRCS="127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 127.0.0.10 127.0.0.11"
TOKEN=Flood$RANDOM$RANDOM

start=$SECONDS
# shellcheck disable=SC2086
python3 "$SRCDIR/tests/lib/authdrive.py" flood "$SUB" "$N" "$FAILS" alice "$TOKEN" "$T/b64" $SRCS > "$T/flood" 2>&1
ok $? "the flood ran ($((SECONDS - start)) s)"
sed 's/^/# /' "$T/flood"
v() { sed -n "s/^$1=//p" "$T/flood"; }
conns=$((N / FAILS))
is "$(v failures)" "$N" "$N wrong passwords were each answered 535 5.7.8"
is "$(v unexpected)" 0 "no other reply (first: $(v first))"
is "$(v conns)" "$conns" "over $conns connections"
is "$(v per_conn)" "$FAILS:$conns" "each took exactly $FAILS failures (authfailures)"
is "$(v dropped)" "$conns" "and each was then dropped: 421 4.7.0 and closed"
ok "$(awk -v a="$(v last_min)" 'BEGIN { exit !(a >= 0.64) }'; echo $?)" \
  "every connection's 5th failure waited at least its 640 ms (shortest $(v last_min) s)"
ok "$(awk -v f="$(v first_avg)" -v l="$(v last_avg)" 'BEGIN { exit !(l >= f + 0.3) }'; echo $?)" \
  "the delay grows: the 5th failure took longer than the 1st (on average $(v last_avg) s against $(v first_avg) s)"

wait_until eval '[ "$(nfail)" -ge "$N" ] && [ "$(slog | grep -c " auth 421 ")" -ge "$conns" ]'
sleep 0.5   # a line too many would come now
is "$(nfail)" "$N" "exactly $N failure lines in the log"
ip='127\.0\.0\.([4-9]|1[01])'
is "$(slog | grep -cE "refused: $ip auth 535 5\.7\.8 reason=\"authentication credentials invalid\" input=\"AUTH\"")" "$N" \
  "each with the client's address (127.0.0.4-11) and the stage"
is "$(slog | grep -cE "refused: $ip auth 421 4\.7\.0 ")" "$conns" "and $conns drop lines (421)"
is "$(alllogs | grep -c -- "$TOKEN")" 0 "no log has any wrong password"
is "$(wc -l < "$T/b64" | tr -d ' ')" "$((2 * N))" "the client kept the $((2 * N)) base64 forms it sent (PLAIN, LOGIN)"
is "$(alllogs | grep -cF -f "$T/b64")" 0 "no log has any of them"

out=$(python3 "$SRCDIR/tests/lib/authdrive.py" "$SUB" 127.0.0.4 "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" QUIT 2>&1)
like "$(printf '%s\n' "$out" | sed -n 3p)" "^235 2\.7\.0" "the right password still works afterwards, from a flooding address"
wait_until eval 'slog | grep -q "AUTH ok: 127\.0\.0\.4 login=\"alice\""'
ok $? "and is logged"
is "$(alllogs | grep -cF -- "$PW")" 0 "the right password is in no log"
is "$(alllogs | grep -cF -- "$(printf '\0alice\0%s' "$PW" | base64 -w0)")" 0 "nor its base64"
is "$(qlog | grep -c ' new msg ')" 0 "nothing was queued (qmail-send logged no new message)"
is "$(nfiles "$T/home/alice/Maildir/new")" 0 "nothing was delivered"
done_testing
