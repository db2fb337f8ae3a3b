#!/bin/bash
# dsnrelay.t: DSN step 4 (docs/protocols.md, DSN): qmail-remote passes the
# DSN parameters on to a next hop that offers DSN. Two fake remote SMTP
# servers (tests/lib/smtpfake.py), one offering DSN (dsnhop.example) and
# one not (plain.example). A message with RET=HDRS ENVID=abc and, for its
# recipient, NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y, sent over SMTP to a
# hub with control/smtpdsn 1: to the DSN hop the parameters appear on its
# MAIL and RCPT lines, and no "relayed" notice comes back (logged); to the
# other hop no parameter is sent and the relayed notice comes as before.
# A recipient without DSN words beside one with them gets none. Session
# mode (the default) and classic mode (control/sessionsperhost 0).
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built

hub_install; ok $? "make install makes a hub home"
echo dsn > "$HUB/control/bouncestyle"
echo bh.example.org > "$HUB/control/bouncehost"
mkdir -p "$T/dlog" "$T/plog"
python3 "$SRCDIR/tests/lib/smtpfake.py" ok --dsn --logdir "$T/dlog" --lifetime 600 > "$T/dport" 2> "$T/derr" &
_pids+=($!)
python3 "$SRCDIR/tests/lib/smtpfake.py" ok --logdir "$T/plog" --lifetime 600 > "$T/pport" 2> "$T/perr" &
_pids+=($!)
wait_until test -s "$T/dport"; DPORT=$(head -n 1 "$T/dport")
wait_until test -s "$T/pport"; PPORT=$(head -n 1 "$T/pport")
ok "$([ -n "$DPORT" ] && [ -n "$PPORT" ]; echo $?)" "the fake remote SMTP servers are up"
printf 'dsnhop.example:127.0.0.1:%s\nplain.example:127.0.0.1:%s\n' "$DPORT" "$PPORT" > "$HUB/control/smtproutes"
printf '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n' > "$HUB/control/tcp.smtp"
hub_user zs
hub_newu; ok $? "qmail-newu"
S=$T/home/zs
md "$S" B
dq "$S" .qmail-b './B/
'
echo 1 > "$HUB/control/smtpdsn"
hub_start; ok $? "qmailctl start"

# smtpdsn SUBJECT MAIL-OPTIONS RCPT RCPT-OPTIONS [RCPT RCPT-OPTIONS]: one
# message over SMTP with smtplib's options (blank-separated)
smtpdsn() {
  python3 - "$SMTP" "$@" <<'PY'
import smtplib, sys
a = sys.argv
port, subj, mo = int(a[1]), a[2], a[3].split()
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.example.net")
s.mail("zs-b@hub.example.org", mo)
for i in range(4, len(a), 2):
    s.rcpt(a[i], a[i + 1].split())
s.data(("Subject: %s\r\n\r\nsmtp body\r\n" % subj).encode())
s.quit()
PY
}
cmds() { cat "$1"/conn-*.cmds 2>/dev/null | tr -d '\r'; }
dsnopts='NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y'

# hop MODE: the DSN hop and the plain hop, one message each
hop() {
  local mode=$1 n0 n1
  n0=$(nlog 'no success notice: the DSN request went on to the next hop')
  smtpdsn "dsnhop-$mode" 'RET=HDRS ENVID=abc' "carol-$mode@dsnhop.example" "$dsnopts" "dave-$mode@dsnhop.example" ''
  ok $? "$mode: a message with DSN parameters to the DSN hop"
  wait_until queue_empty; ok $? "$mode: delivered, the queue is empty"
  like "$(cmds "$T/dlog" | grep "^MAIL FROM:<zs-b@hub.example.org>" | tail -1)" ' RET=HDRS ENVID=abc$' \
    "$mode: the DSN hop's MAIL line has RET and ENVID"
  like "$(cmds "$T/dlog" | grep "^RCPT TO:<carol-$mode@")" "^RCPT TO:<carol-$mode@dsnhop\\.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y\$" \
    "$mode: its RCPT line has NOTIFY and ORCPT"
  is "$(cmds "$T/dlog" | grep "^RCPT TO:<dave-$mode@")" "RCPT TO:<dave-$mode@dsnhop.example>" \
    "$mode: a recipient without DSN words: none on its RCPT line"
  wait_until log_more 'no success notice: the DSN request went on to the next hop' "$n0"
  ok $? "$mode: qmail-send logs that the next hop owes the notice"
  like "$(qlog | grep "success: DSN passed on; " | tail -1)" "success: DSN passed on; " "$mode: the success report says so"
  sleep 1
  is "$(grep -rl "Subject: dsnhop-$mode" "$S/B/new" 2>/dev/null | wc -l | tr -d ' ')" 0 "$mode: no relayed notice from us"

  smtpdsn "plain-$mode" 'RET=HDRS ENVID=abc' "erin-$mode@plain.example" "$dsnopts"
  ok $? "$mode: the same to the hop without DSN"
  wait_until has_file "$S/B/new" 1 "Subject: plain-$mode"; ok $? "$mode: the relayed notice comes"
  like "$(cat "$(one "$S/B/new" "Subject: plain-$mode")")" 'Action: relayed' "$mode: Action: relayed"
  like "$(cmds "$T/plog" | grep "^MAIL FROM:<zs-b@hub.example.org>" | tail -1)" '^MAIL FROM:<zs-b@hub\.example\.org> SIZE=[0-9]+$' \
    "$mode: no RET or ENVID to the hop without DSN"
  is "$(cmds "$T/plog" | grep "^RCPT TO:<erin-$mode@")" "RCPT TO:<erin-$mode@plain.example>" "$mode: no NOTIFY or ORCPT to it"
  wait_until queue_empty; ok $? "$mode: the queue is empty"
}
hop session
hub_stop
echo 0 > "$HUB/control/sessionsperhost"
hub_start; ok $? "qmailctl start, classic mode"
hop classic
done_testing
