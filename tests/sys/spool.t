#!/bin/bash
# spool.t: the leaf's spool (docs/spool.md) with a real hub, both
# installed (make install, make install-leaf), on random loopback ports.
# All hubs down (the leaf lists the hub's QMQP and QMTP ports, nothing
# listens): 100 messages from cron-like callers (an empty environment, 4
# at a time, sendmail -t) are each kept: exit 0 and one line on stderr,
# 100 files in the spool. The hub comes back; the next send exits 0 at
# once and the whole spool follows it in the background: the recipient's
# Maildir gets all 101, each exactly once, and the spool directory goes.
# (The order, oldest first, is checked in spoolcases.t, where a fake hub
# logs each connection in turn.)
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
[ -x "$SRCDIR/$BUILD/leaf/qmail-qmqpc" ] || { echo "1..0 # skip qmail-qmqpc not built"; exit 0; }

hub_install; ok $? "make install makes a hub home"
hub_user alice
hub_newu; ok $? "a recipient, alice"
QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT") QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT")
leaf=$T/leaf
install_leaf "$leaf"; ok $? "make install-leaf makes a leaf home"
printf '127.0.0.1:%s\nqmtp:127.0.0.1:%s\n' "$QMQP" "$QMTP" > "$leaf/control/qmqpservers"
SP=$leaf/spool/$(id -u)
new=$T/home/alice/Maildir/new

mkdir -p "$T/m"
for i in $(seq 101); do
  printf 'To: alice@hub.example.org\nSubject: cron %d\n\noutput of job %d\n' "$i" "$i" > "$T/m/$i"
done
# job N: what cron does with a job's mail: sendmail -t, nothing inherited
cat > "$T/job" <<'EOF'
#!/bin/sh
env -i PATH=/usr/bin:/bin LOGNAME=cron "$1/bin/sendmail" -t < "$2/m/$3" 2> "$2/m/$3.err"
echo $? > "$2/m/$3.rc"
EOF
seq 100 | xargs -P 4 -I{} sh "$T/job" "$leaf" "$T" {}
is "$(cat "$T"/m/*.rc | sort | uniq -c | tr -s ' ')" " 100 0" "hubs down: the 100 cron-like callers all exit 0"
is "$(cat "$T"/m/*.err | grep -cE "^sendmail: kept in the spool \([0-9]+ waiting\) until a hub takes it: no hub took the message: 127\.0\.0\.1:$QMQP: connection refused; 127\.0\.0\.1:$QMTP: connection refused \(#4\.4\.1\)$")/$(cat "$T"/m/*.err | wc -l)" \
   "100/100" "each said in one line on stderr that its message was kept, and why"
is "$(find "$SP" -type f | wc -l)" 100 "100 messages wait in the spool"
like "$("$leaf/bin/qmail-qmqpc" -list | head -1)" "^$SP: 100 messages, [0-9]+ bytes$" "qmail-qmqpc -list counts them"

hub_start; ok $? "the hub comes back"
t0=$(date +%s%N)
err=$(env -i PATH=/usr/bin:/bin LOGNAME=cron "$leaf/bin/sendmail" -t < "$T/m/101" 2>&1); rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "$rc/$err" "0/" "the next send exits 0 and says nothing (${ms} ms)"
WAIT_MAX=1800 wait_until files_eq "$new" 101
ok $? "all 101 reach the recipient's Maildir"
WAIT_MAX=300 wait_until test ! -e "$SP"
ok $? "and the spool is empty: its directory is gone"
got=$(grep -h '^Subject: cron ' "$new"/* 2>/dev/null | sort | uniq -c | awk '$1 != 1 { print "twice:", $0 } END { print NR }')
is "$got" 101 "each of the 101 exactly once"
like "$(grep -l 'output of job 17$' "$new"/* | head -1 | xargs sed '/^$/q' | tr '\n' ' ')" \
     '^Return-Path: <cron@leaf\.example\.org> Delivered-To: .*alice@hub\.example\.org .*Received: from .* with (QMQP|QMTP); ' \
     "a kept message arrives with its envelope sender, through the hub's QMQP or QMTP"
done_testing
