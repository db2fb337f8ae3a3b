#!/bin/bash
# authflood.t: 1,000 wrong passwords against an installed hub's submission
# service (issue 11, BAD-INPUT: delay, drop, logs). control/authdelay 50
# (ms) and control/authfailures 5 keep it short: 200 connections from
# eight loopback addresses (127.0.0.4-11), one at a time each, AUTH
# PLAIN and LOGIN in turn, with and without the initial response, in the
# clear (loopback may). tests/lib/authdrive.py's flood
# mode sends them and counts. Checked:
#  - every connection took exactly 5 failures (535 5.7.8) and was then
#    dropped with 421 4.7.0 and closed; no other reply
#  - the delay grows within a connection: the 5th failure waited at least
#    its 800 ms, and on average clearly longer than the 1st (50 ms; each
#    also waits for qmail-checkpassword's yescrypt, which the load varies)
#  - exactly 1,000 failure lines (refused: ADDR auth 535) in the log, each
#    with one of the client addresses; 200 drop lines (auth 421)
#  - no log has any of the passwords, nor any base64 form that was sent
#  - the right password still works afterwards, and nothing was queued
#    or delivered (no message was ever sent); checkpassword ran once for
#    each attempt (env/CHECKPASSWORD is a wrapper that counts its runs)
# The flood runs with control/authguard 0; then the guard across
# connections (hub/servers/authguard.h), with authguard 10 and authguardtime 600:
#  - from 127.0.0.20, two connections of 5 refused attempts each; then
#    AUTH from that address, even with the right password, is 421 4.7.0
#    at once, checkpassword not run, a refusal line logged; the table
#    (service/qmail-submission/authguard.table) holds "127.0.0.20 10"
#  - another address (127.0.0.21) still logs in
#  - after the window (its start moved back in the table) the right
#    password works from 127.0.0.20 again
#  - authguard 0: no guard; an unusable table: 454 (fail closed); no
#    table named: no guard; unusable control files: refused at connect
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.11", 0))' 2>/dev/null ||
  { echo "1..0 # skip cannot bind 127.0.0.11 (no 127/8 route on lo)"; exit 0; }

N=1000 FAILS=5 DELAY=50
hub_install; ok $? "make install makes a hub home"
hub_user alice
hub_newu
PW=Right-$RANDOM$RANDOM-pw
printf '%s\n' "$PW" | "$HUB/bin/qmail-passwd" --stdin alice "$RUID" "$RGID" "$T/home/alice" > "$T/passwd.log" 2>&1
ok $? "qmail-passwd --stdin alice"
echo "$DELAY" > "$HUB/control/authdelay"
echo "$FAILS" > "$HUB/control/authfailures"
echo 0 > "$HUB/control/authguard"   # the guard across connections: below
# a checkpassword that counts its runs, then runs ours
: > "$T/cpw.count"; chmod 666 "$T/cpw.count"
printf '#!/bin/sh\necho run >> %s\nexec %s "$@"\n' "$T/cpw.count" "$HUB/bin/qmail-checkpassword" > "$T/cpw"
chmod 755 "$T/cpw"
echo "$T/cpw" > "$HUB/service/qmail-submission/env/CHECKPASSWORD"
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
ok "$(awk -v a="$(v last_min)" 'BEGIN { exit !(a >= 0.8) }'; echo $?)" \
  "every connection's 5th failure waited at least its 800 ms (shortest $(v last_min) s)"
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
runs() { wc -l < "$T/cpw.count" | tr -d ' '; }
is "$(runs)" "$((N + 1))" "checkpassword ran once for each attempt"

# ---- the guard across connections ------------------------------------------
echo 10 > "$HUB/control/authguard"
echo 600 > "$HUB/control/authguardtime"
drive() { python3 "$SRCDIR/tests/lib/authdrive.py" "$@" 2>&1; }
G=127.0.0.20
for c in 1 2; do
  out=$(drive "$SUB" $G "EHLO c.example" "AUTH PLAIN [[%alice%g$c-1]]" "AUTH LOGIN [[alice]]" "[[g$c-2]]" \
    "AUTH PLAIN [[%alice%g$c-3]]" "AUTH PLAIN [[%alice%g$c-4]]" "AUTH PLAIN [[%alice%g$c-5]]" NOOP)
  is "$(printf '%s\n' "$out" | grep -c '^535 5\.7\.8')" 5 "guard: connection $c from $G: 5 refused attempts"
  like "$(printf '%s\n' "$out" | tail -1)" "^421 4\.7\.0 too many failed authentication attempts, closing" \
    "guard: and the per-connection drop"
done
before=$(runs)
out=$(drive "$SUB" $G "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" NOOP)
like "$(printf '%s\n' "$out" | sed -n 3p)" "^421 4\.7\.0 too many failed authentication attempts from your address" \
  "guard: after 10 in the window, AUTH from $G is 421 at once, even with the right password"
like "$(printf '%s\n' "$out" | sed -n 4p)" "^closed\$" "guard: and the connection ends"
is "$(runs)" "$before" "guard: checkpassword was not run"
wait_until eval 'slog | grep -q "refused: 127\.0\.0\.20 auth 421 4\.7\.0 reason=\"too many failed authentication attempts from your address"'
ok $? "guard: a refusal line with the address"
like "$(grep '^127' "$HUB/service/qmail-submission/authguard.table")" "^127\.0\.0\.20 +10 +[0-9]+ *\$" \
  "guard: the table holds 127.0.0.20 with 10"
out=$(drive "$SUB" 127.0.0.21 "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" QUIT)
like "$(printf '%s\n' "$out" | sed -n 3p)" "^235 " "guard: another address still logs in"
echo 0 > "$HUB/control/authguard"
out=$(drive "$SUB" $G "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" QUIT)
like "$(printf '%s\n' "$out" | sed -n 3p)" "^235 " "guard: control/authguard 0 turns it off"
echo 10 > "$HUB/control/authguard"
out=$(drive "$SUB" $G "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" QUIT)
like "$(printf '%s\n' "$out" | sed -n 3p)" "^421 4\.7\.0" "guard: on again, still 421"
# the window's end: the record's start moved 601 s back (the table is
# text, fixed-width: the same length)
GT=$HUB/service/qmail-submission/authguard.table
python3 -c 'import sys, time, re
p = sys.argv[1]; t = open(p).read()
t = re.sub(r"^(127\.0\.0\.20 +\d+ +)\d{10}", lambda m: m.group(1) + "%10d" % (time.time() - 601), t, flags=re.M)
open(p, "r+").write(t)' "$GT"
out=$(drive "$SUB" $G "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" QUIT)
like "$(printf '%s\n' "$out" | sed -n 3p)" "^235 " "guard: after its window the right password works from $G again"
# an unusable table fails closed: qmail-smtpd run directly
cred=$(printf '\0alice\0%s' "$PW" | base64 -w0)
out=$(printf 'EHLO c.example\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$cred" |
  env -i TCPREMOTEIP=127.0.0.22 AUTHGUARDTABLE="$T/no-such-table" "$HUB/bin/qmail-smtpd" "$HUB/bin/qmail-checkpassword" \
  2> "$T/guard.err" | tr -d '\r')
like "$out" "454 4\.7\.0 temporary authentication failure" "guard: a table that cannot be used: 454"
like "$(cat "$T/guard.err")" "cannot use the guard table .*no-such-table" "guard: and a warning names it"
out=$(printf 'EHLO c.example\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$cred" |
  env -i TCPREMOTEIP=127.0.0.22 "$HUB/bin/qmail-smtpd" "$HUB/bin/qmail-checkpassword" 2> /dev/null | tr -d '\r')
like "$out" "235 " "guard: no table named (AUTHGUARDTABLE unset): no guard"
direct_quit() { printf 'QUIT\r\n' | env -i TCPREMOTEIP=127.0.0.22 "$HUB/bin/qmail-smtpd" "$HUB/bin/qmail-checkpassword" 2>&1 | tr -d '\r'; }
echo junk > "$HUB/control/authguard"
like "$(direct_quit)" "cannot use control/authguard" "guard: control/authguard junk: refused at connect"
like "$("$HUB/bin/qmailctl" check 2>&1)" "control/authguard line 1: not a decimal number" \
  "guard: qmailctl check names control/authguard junk"
echo 10 > "$HUB/control/authguard"
like "$("$HUB/bin/qmail-showctl" 2>&1)" "authguard: SMTP AUTH: an address is refused at once after 10 refused attempts" \
  "guard: qmail-showctl knows authguard"
echo 0 > "$HUB/control/authguardtime"
like "$(direct_quit)" "cannot use control/authguardtime" "guard: control/authguardtime 0: refused at connect"
done_testing
