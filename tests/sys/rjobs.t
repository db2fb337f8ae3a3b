#!/bin/bash
# rjobs.t: remote jobs in flight against connections (issue 14, the
# dial-up flush). An installed hub with the real qmail-send, qmail-rspawn
# and qmail-remote; every remote domain routed (control/qmtproutes) to
# tests/lib/qmtphold.py, a QMTP sink that answers a connection's packages
# only when 30 are unanswered or none came for 0.5 s, and logs how many
# it answered at once and how many connections were open.
#  a. session mode, sessionsperhost 1, concurrencyremote 5: a flush of
#     N held messages to one domain goes over ONE connection with more
#     than 5 packages in flight (qmail-send hands out more jobs than
#     concurrencyremote in session mode); all arrive.
#  b. session mode, sessionsperhost 4, concurrencyremote 3: N held
#     messages to 12 domains: never more than 3 connections open at once
#     (concurrencyremote counts sessions), every message arrives.
#  c. classic mode (sessionsperhost 0), concurrencyremote 5: never more
#     than 5 connections open and 5 packages in flight at once, in all
#     (one qmail-remote, one connection, one package per job).
#  d. session mode, sessionsperhost 1, concurrencyremote 1, two domains:
#     the deliveries take turns between them (a waiting domain retires
#     the busy session), never more than 1 connection.
. "$(dirname "$0")/../lib/common.sh"
for p in qmail-send qmail-start qmail-rspawn qmail-remote qmail-lspawn qmail-clean qmail-queue; do
  [ -x "$SRCDIR/$BUILD/hub/$p" ] || { echo "Bail out! $p not built (BUILD=$BUILD: make all first)"; exit 1; }
done
case $BUILD in *-san) N=${RJOBS_N:-100} ;; *) N=${RJOBS_N:-200} ;; esac
DEADLINE=$((SECONDS + ${RJOBS_BUDGET:-360}))
A=$T/a
qmake install QMAILHOME="$A" > "$T/install.log" 2>&1
ok $? "make install of a hub"
echo a.example > "$A/control/me"; echo a.example > "$A/control/locals"
for s in qmail-smtpd qmail-qmtpd qmail-qmqpd; do rm -rf "$A/service/$s"; done

SINK=
_stop() {
  "$A/bin/qmailctl" stop > /dev/null 2>&1
  [ -n "$SINK" ] && kill "$SINK" 2>/dev/null
  [ "$_fail" != 0 ] && tail -n 20 "$A/log/qmail-send/current" 2>/dev/null | sed 's/^/# log: /'
  cleanup
}
trap _stop EXIT
wait_for() { while ! "$@"; do [ "$SECONDS" -lt "$DEADLINE" ] || return 1; sleep 0.1; done; }
alog() { cat "$A"/log/qmail-send/@* "$A/log/qmail-send/current" 2>/dev/null; }
nA() { alog | grep -cE -- "$1"; }
nA_ge() { [ "$(nA "$1")" -ge "$2" ]; }
a_empty() { [ "$(find "$A/queue/mess" -type f | wc -l)" = 0 ]; }

# sink TAG: a fresh sink logging to $T/TAG.log; SPORT its port
sink() {
  [ -n "$SINK" ] && kill "$SINK" 2>/dev/null
  : > "$T/$1.log"
  python3 "$SRCDIR/tests/lib/qmtphold.py" --log "$T/$1.log" --lifetime 200 > "$T/$1.port" &
  SINK=$!
  wait_for test -s "$T/$1.port" && SPORT=$(head -n 1 "$T/$1.port")
  echo ":127.0.0.1:$SPORT" > "$A/control/qmtproutes"
}
# run TAG DOMAINS...: with A stopped, hold, queue N messages spread over
# DOMAINS (x@D), start A, wait until all are taken in, flush, wait until
# the queue is empty
run() {
  local tag=$1 i d n0; shift
  local doms=("$@")
  touch "$A/control/holdremote"
  n0=$(nA ' new msg ')
  "$A/bin/qmailctl" start > "$T/start.log" 2>&1 || return 1
  for i in $(seq "$N"); do
    d=${doms[$((i % ${#doms[@]}))]}
    printf 'Subject: %s-%s\n\nbody\n' "$tag" "$i" | "$A/bin/qmail-inject" -f s@a.example "x$i@$d" || return 1
  done
  wait_for nA_ge ' new msg ' $((n0 + N)) || return 1
  "$A/bin/qmailctl" flush > /dev/null 2>&1
  wait_for a_empty
}
stop_a() { "$A/bin/qmailctl" stop > /dev/null 2>&1; rm -f "$A/control/holdremote"; }
opens() { grep -c '^open ' "$T/$1.log"; }
maxopen() { awk '$1 == "open" && $3 > m {m = $3} END {print m + 0}' "$T/$1.log"; }
maxbatch() { awk '$1 == "batch" && $3 > m {m = $3} END {print m + 0}' "$T/$1.log"; }
maxflight() { awk '$1 == "pkg" && $3 > m {m = $3} END {print m + 0}' "$T/$1.log"; }
arrived() { awk '$1 == "msg" {print $3}' "$T/$1.log" | sort -u | wc -l; }

# ---- a. one domain, one session, more jobs than concurrencyremote ----------
echo 1 > "$A/control/sessionsperhost"; echo 5 > "$A/control/concurrencyremote"
sink a
run a one.test; ok $? "a: $N held messages flushed, A's queue empty"
is "$(arrived a)" "$N" "a: all $N arrive at the sink"
is "$(opens a)" 1 "a: over one connection"
b=$(maxbatch a)
ok "$([ "$b" -gt 5 ]; echo $?)" "a: more than concurrencyremote (5) packages in flight on it ($b)"
stop_a

# ---- b. twelve domains, at most concurrencyremote connections -------------
echo 4 > "$A/control/sessionsperhost"; echo 3 > "$A/control/concurrencyremote"
sink b
run b d1.test d2.test d3.test d4.test d5.test d6.test d7.test d8.test d9.test d10.test d11.test d12.test
ok $? "b: $N held messages to 12 domains flushed, A's queue empty"
is "$(arrived b)" "$N" "b: all $N arrive at the sink"
m=$(maxopen b)
ok "$([ "$m" -le 3 ] && [ "$m" -ge 1 ]; echo $?)" "b: never more than concurrencyremote (3) connections open at once ($m, $(opens b) in all)"
ok "$([ "$(opens b)" -ge 12 ]; echo $?)" "b: at least one connection per domain ($(opens b))"
stop_a

# ---- c. classic mode: at most concurrencyremote jobs -------------------------
echo 0 > "$A/control/sessionsperhost"; echo 5 > "$A/control/concurrencyremote"
sink c
run c one.test; ok $? "c: classic mode, $N held messages flushed"
is "$(arrived c)" "$N" "c: all $N arrive at the sink"
m=$(maxopen c)
ok "$([ "$m" -le 5 ] && [ "$m" -ge 2 ]; echo $?)" "c: at most concurrencyremote (5) connections at once ($m)"
m=$(maxflight c)
ok "$([ "$m" -le 5 ] && [ "$m" -ge 2 ]; echo $?)" "c: at most concurrencyremote (5) jobs (packages) in flight at once ($m)"
is "$(maxbatch c)" 1 "c: one package per connection"
stop_a

# ---- d. at the cap, a waiting domain is not starved by a busy one ----------
# sessionsperhost 1, concurrencyremote 1, N held messages to two domains:
# one session at a time. When a job for the other domain waits, the busy
# session takes no new job and ends once its jobs are answered (rpool.c
# make_room), so the deliveries switch between the domains; a busy session
# kept fed until its domain is done would give one switch only.
echo 1 > "$A/control/sessionsperhost"; echo 1 > "$A/control/concurrencyremote"
sink d
N0=$N N=200  # 200 in both builds: a session gives way after RPOOL_TURN (32) jobs
run d one.test two.test; ok $? "d: $N held messages to 2 domains, one session at a time, flushed"
is "$(arrived d)" "$N" "d: all $N arrive at the sink"
N=$N0
m=$(maxopen d)
ok "$([ "$m" -le 1 ]; echo $?)" "d: never more than concurrencyremote (1) connection open ($m)"
sw=$(awk '$1 == "msg" { sub(/.*@/, "", $3); if (NR > 1 && $3 != last) n++; last = $3 } END { print n + 0 }' "$T/d.log")
ok "$([ "$sw" -ge 4 ]; echo $?)" "d: the domains take turns ($sw switches between them; a busy session kept fed gives one or two)"
stop_a
done_testing
