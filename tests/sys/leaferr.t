#!/bin/bash
# leaferr.t: the leaf names the cause of a failure, on an installed leaf
# home (make install-leaf): a bad qmqpservers line (with its number), a
# hub name that does not resolve (under .invalid), a closed loopback port,
# a hub that accepts and never answers (qmqptimeout 2); exit codes stay
# 111 (temporary) and 100 (permanent). sendmail -v says each hub tried and
# its answer on stderr (a refusing hub, then a fake QMQP server), and
# nothing without -v. qmail-showctl -c: a clean leaf home (exit 0, no
# output) and broken files (one line each, exit 1). These checks run with
# the spool off (control/spool none), as a leaf without it behaves; with
# it on, the one line that says the message was kept names the same
# cause (the last check of the first part; tests/sys/spool.t has the rest).
. "$(dirname "$0")/../lib/common.sh"
leaf=$T/leaf
install_leaf "$leaf" || { echo "Bail out! make install-leaf failed"; exit 1; }
printf 'example.org\n' > "$leaf/control/defaultdomain"
printf 'example.org\n' > "$leaf/control/plusdomain"
printf 'leaf.example.org\n' > "$leaf/control/idhost"
export QMAILHOME=$leaf   # the installed programs name it already; belt and braces
echo none > "$leaf/control/spool"

# ports nothing listens on, held so to the end (tests/lib/ports.sh)
. "$SRCDIR/tests/lib/ports.sh"
{ dead_port DEAD && dead_port DEAD2; } || { echo "Bail out! no port to hold"; exit 1; }
hubs() { printf '%s\n' "$@" > "$leaf/control/qmqpservers"; }
# send PROG ARGS...: a small message; sets RC and ERR (stderr), MS (elapsed ms)
send() {
  local t0 t1
  t0=$(date +%s%N)
  ERR=$(printf 'Subject: x\n\nbody\n' | timeout 60 "$leaf/bin/$1" "${@:2}" 2>&1 >/dev/null)
  RC=$?
  t1=$(date +%s%N)
  MS=$(((t1 - t0) / 1000000))
}

# ---- the causes, by name ------------------------------------------------------
hubs "127.0.0.1:$DEAD" "127.0.0.1:99999"
send sendmail bob@example.org
is "$RC" 111 "bad port on line 2: exit 111"
is "$ERR" 'sendmail: fatal: control/qmqpservers line 2: bad port "99999" (#4.3.0)' \
   "bad port on line 2: the line and the port are named"

hubs "# the hub" "" "qmtp:hub.invalid"
send qmail-inject bob@example.org
is "$RC" 111 "a hub name that does not resolve: exit 111"
# no such host (NXDOMAIN); a resolver that cannot be reached says so instead
like "$ERR" '^qmail-inject: fatal: no hub took the message: hub\.invalid: (no such host|temporary DNS failure) \(#4\.4\.1\)$' \
     "a name that does not resolve is named"

hubs "127.0.0.1:$DEAD"
send sendmail bob@example.org
is "$RC" 111 "a closed loopback port: exit 111"
is "$ERR" "sendmail: fatal: no hub took the message: 127.0.0.1:$DEAD: connection refused (#4.4.1)" \
   "a closed port: address, port and 'connection refused'"

hubs "localhost:$DEAD"
send sendmail bob@example.org
like "$ERR" "no hub took the message: localhost \((127\.0\.0\.1|\[::1\]):$DEAD\): connection refused" \
     "a hub by name: the name and the address tried"

mkdir -p "$T/silent"
start_fake silent --logdir "$T/silent"
printf '2\n' > "$leaf/control/qmqptimeout"
hubs "127.0.0.1:$FAKE_PORT"
send sendmail bob@example.org
is "$RC" 111 "a hub that never answers: exit 111"
is "$ERR" "sendmail: fatal: no hub took the message: 127.0.0.1:$FAKE_PORT: timed out after 2 s waiting for an answer (#4.4.2)" \
   "a hub that never answers: 'timed out after 2 s' (qmqptimeout)"
ok "$([ "$MS" -lt 30000 ]; echo $?)" "and it gave up after qmqptimeout (${MS} ms)"
kill "$FAKE_PID" 2>/dev/null
rm -f "$leaf/control/qmqptimeout"

hubs "127.0.0.1:$DEAD" "127.0.0.1:$DEAD2"
send qmail-inject bob@example.org
like "$ERR" "no hub took the message: 127\.0\.0\.1:$DEAD: connection refused; 127\.0\.0\.1:[0-9]+: connection refused \(#4\.4\.1\)" \
     "two refusing hubs: both are named, in order"

start_fake D --text 'no mailbox by that name here (#5.1.1)'
hubs "127.0.0.1:$FAKE_PORT"
send sendmail nobody@example.org
is "$RC" 100 "a D from the hub is still exit 100"
kill "$FAKE_PID" 2>/dev/null

rm "$leaf/control/spool"
hubs "127.0.0.1:$DEAD"
send sendmail bob@example.org
is "$RC/$ERR" "0/sendmail: kept in the spool (1 waiting) until a hub takes it: no hub took the message: 127.0.0.1:$DEAD: connection refused (#4.4.1)" \
   "spool on: exit 0 and one line saying the message was kept, naming the same cause"
echo none > "$leaf/control/spool"
rm -rf "$leaf/spool/$(id -u)"

# ---- sendmail -v ----------------------------------------------------------------
mkdir -p "$T/k"
start_fake K --logdir "$T/k"
hubs "127.0.0.1:$DEAD" "127.0.0.1:$FAKE_PORT"
send sendmail -v bob@example.org
is "$RC" 0 "-v: refused, then a hub that takes it: exit 0"
is "$ERR" "sendmail: hub 127.0.0.1:$DEAD: connection refused
sendmail: hub 127.0.0.1:$FAKE_PORT: connected (QMQP)
sendmail: hub 127.0.0.1:$FAKE_PORT: accepted: ok fakeserver" "-v: each hub tried and its answer, on stderr"
send sendmail bob@example.org
is "$RC/$ERR" "0/" "without -v: nothing on stderr"
kill "$FAKE_PID" 2>/dev/null

start_fake qmtp:KD
hubs "qmtp:127.0.0.1:$FAKE_PORT"
send sendmail -v -oi bob@example.org bad@example.org
is "$RC" 100 "-v over QMTP, one recipient refused: exit 100"
is "$ERR" "sendmail: hub 127.0.0.1:$FAKE_PORT: connected (QMTP)
sendmail: hub 127.0.0.1:$FAKE_PORT: bob@example.org: accepted: ok fakeserver
sendmail: hub 127.0.0.1:$FAKE_PORT: bad@example.org: refused: no such mailbox here (#5.1.1)
sendmail: fatal: 1 of 2 recipients refused: bad@example.org: no such mailbox here (#5.1.1)" \
   "-v over QMTP: one answer per recipient"
kill "$FAKE_PID" 2>/dev/null

# ---- qmail-showctl -c -------------------------------------------------------------
start_fake K
hubs "# our hub" "127.0.0.1:$FAKE_PORT" "qmtp:localhost:$FAKE_PORT"
out=$("$leaf/bin/qmail-showctl" -c 2>&1)
is "$?/$out" "0/" "showctl -c on a clean leaf home: exit 0, nothing printed"

cp -a "$leaf" "$T/bad"
hubs "127.0.0.1" "127.0.0.1:99999" "" "hub.invalid" "[::1" "::1"
mv "$leaf/control/qmqpservers" "$T/bad/control/qmqpservers"
printf 'leaf\n' > "$T/bad/control/me"
printf 'a..b\n' > "$T/bad/control/defaultdomain"
printf 'x y\n' > "$T/bad/control/idhost"
printf '5s\n' > "$T/bad/control/qmqptimeout"
out=$(QMAILHOME=$T/bad "$T/bad/bin/qmail-showctl" -c 2>&1)
is "$?" 1 "showctl -c with broken files: exit 1"
case $out in *"hub.invalid: temporary DNS failure"*) dns="temporary DNS failure" ;; *) dns="no such host" ;; esac
is "$out" "control/qmqpservers line 2: bad port \"99999\"
control/qmqpservers line 4: hub.invalid: $dns
control/qmqpservers line 5: no closing bracket \"[::1\"
control/qmqpservers line 6: IPv6 address without brackets \"::1\"
control/qmqptimeout: not a number of seconds
control/me: not fully qualified (no dot): \"leaf\"
control/defaultdomain: an empty label (a dot at the start, at the end or twice): \"a..b\"
control/idhost: not a host name (letters, digits, '-', '_' and dots): \"x y\"" \
   "showctl -c: one line per problem, naming the file (and line)"
rm -f "$T/bad/control/qmqpservers" "$T/bad/control/me" "$T/bad/control/plusdomain" "$T/bad/control/qmqptimeout"
out=$(QMAILHOME=$T/bad "$T/bad/bin/qmail-showctl" -c 2>&1)
is "$?" 1 "showctl -c with me and qmqpservers missing: exit 1"
like "$out" '^control/qmqpservers: missing: this leaf has no hub' "a leaf without qmqpservers is a problem"
like "$out" 'control/me: missing' "a missing me is a problem"
like "$out" 'control/plusdomain: missing, and so is me' "a file that defaults to a missing me is a problem"
printf '# no hub yet\n' > "$T/bad/control/qmqpservers"
like "$(QMAILHOME=$T/bad "$T/bad/bin/qmail-showctl" -c 2>&1)" '^control/qmqpservers: names no hub' \
     "a qmqpservers of comments only is a problem"
"$leaf/bin/qmail-showctl" -c -v > /dev/null 2>&1
is "$?" 100 "showctl -c -v: usage error"
done_testing
