#!/bin/bash
# rcptcheck.t: recipient checks at RCPT time on an installed hub
# (docs/rcptcheck.md; control/rcptcheck, control/recipients.cdb made by
# qmailctl cdb). With the check on:
#  * 1,000 RCPTs to unknown local users over SMTP get 550 5.1.1, unknown
#    ones over QMTP D, a QMQP message to unknown ones only D, and no bounce
#    is ever made (qmail-send's log, the queue);
#  * every deliverable address is accepted AND delivered: users/assign
#    exact and wildcard entries, .qmail-EXT, -default, a home with
#    .qmail-default, a virtual domain, alias addresses, any case;
#  * the table agrees with delivery: every address of a list, sent once
#    with the check on and once with it off, gets 250 exactly when the
#    unchecked delivery succeeds and 550 exactly when it bounces;
#  * a relay client's foreign recipient and a non-local rcpthosts domain
#    are not checked, even with no table;
#  * no table, or an unreadable one: 451 4.3.0 / QMTP Z / QMQP Z for local
#    recipients, never acceptance;
#  * a stale table (a home, the alias home, users/cdb or
#    control/recipients changed since the build) still accepts what it
#    lists and answers 451 instead of 550 until qmailctl cdb;
#  * control/recipients (local@domain, @domain) and alias/.qmail-default.
# As root the recipients are uid 65534 (the table is made as root, with
# the passwd step); otherwise single-user mode.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
RC=$SRCDIR/tests/lib/rcptclient.py
# after a failure: what the servers said about the table (a 451 where a
# 550 was due names its cause: e.g. /etc/passwd changed under a run)
_rc_exit() {
  [ "$_fail" = 0 ] || grep -h 'warning' "$HUB"/log/qmail-s*/current "$HUB"/log/qmail-q*/current 2>/dev/null |
    sed 's/^@[0-9a-f]* //' | sort | uniq -c | sed 's/^/# server: /'
  _hub_exit
}
trap _rc_exit EXIT

hub_install; ok $? "make install makes a hub home"
is "$(cat "$T/hub/control/rcptcheck" 2>/dev/null || true)" 0 "hub.sh turned the check off (a new install has it on)"
[ -e "$T/hub/control/recipients.cdb" ]; ok $? "make install made the table"
D=$ME V=virt.example.org
QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT") QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")
printf '%s\nlocalhost\n' "$D" > "$HUB/control/locals"
printf '%s\n%s\nmx2.example.org\n' "$D" "$V" > "$HUB/control/rcpthosts"
printf '%s:vd\n' "$V" > "$HUB/control/virtualdomains"
echo 1 > "$HUB/control/rcptcheck"

# users/assign: u1, u2 (hub_user: =NAME and +NAME-), an exact entry, a
# wildcard with a pre, the virtual domain's prefix
for u in u1 u2 ex wh vd; do hub_user "$u"; done
U1=$T/home/u1 U2=$T/home/u2 EX=$T/home/ex WH=$T/home/wh VD=$T/home/vd
hub_assign "=exact:$RNAME:$RUID:$RGID:$EX:::"
hub_assign "+wild-:$RNAME:$RUID:$RGID:$WH:-:w-:"
hub_newu; ok $? "qmail-newu"
md=./Maildir/
for f in ext foo-default list dot:ted; do dq "$U1" ".qmail-$f" "$md
"; done
dq "$U2" .qmail-default "$md
"
for f in w-a w-b-default; do dq "$WH" ".qmail-$f" "$md
"; done
for f in alice bob-default; do dq "$VD" ".qmail-$f" "$md
"; done
for f in abuse team-default; do dq "$HUB/alias" ".qmail-$f" "$md
"; done
hub_start; ok $? "qmailctl start"
like "$(cat "$T/start.log")" "control/recipients.cdb: compiled" \
  "qmailctl start rebuilt the table: the check is on and users/cdb, the homes are newer"

# where each deliverable address lands (its home's Maildir)
KNOWN="u1@$D:$U1 u1-ext@$D:$U1 U1-EXT@$D:$U1 u1-foo-bar@$D:$U1 u1-foo-x-y@$D:$U1 u1-list@$D:$U1
u1-dot.ted@$D:$U1 u2@$D:$U2 u2-anything@$D:$U2 u2-a-b-c@$D:$U2 exact@$D:$EX wild-a@$D:$WH
Wild-B-c@$D:$WH alice@$V:$VD bob-x@$V:$VD ALICE@VIRT.EXAMPLE.ORG:$VD postmaster@$D:$HUB/alias
PostMaster@$D:$HUB/alias abuse@$D:$HUB/alias team-x@$D:$HUB/alias u1-@$D:$U1"
UNKNOWN="u1-nope@$D u1-foo@$D u1-ext-x@$D u1-dot.x@$D u1.ext@$D nosuch@$D wild-c@$D wild-@$D
exactx@$D carol@$V vd@$V team@$D ex-x@$D"
known_addrs() { for k in $KNOWN; do echo "${k%%:*}"; done; }
unknown_addrs() { for a in $UNKNOWN; do echo "$a"; done; }
# smtp SUBJECT: rcptclient over SMTP, recipients on stdin
smtp() { python3 "$RC" smtp "$SMTP" "postmaster@$D" "$1"; }
one_rcpt() { echo "$1" | smtp - | head -n 1; }

# ---- 1,000 unknown recipients: 550 each, no bounce -----------------------
for i in $(seq 1000); do echo "nobody$i@$D"; done > "$T/unknown1000"
echo "postmaster@$D" >> "$T/unknown1000"
smtp bulk < "$T/unknown1000" > "$T/bulk.out" 2>&1
is "$(grep -c '^550$' "$T/bulk.out")" 1000 "SMTP: 1,000 unknown local recipients get 550"
is "$(grep -c '^250$' "$T/bulk.out")" 1 "SMTP: the one known recipient gets 250"
is "$(grep '^DATA' "$T/bulk.out")" "DATA 250" "SMTP: the message is accepted for it"
{ for i in $(seq 100); do echo "qnobody$i@$D"; done; echo "abuse@$D"; } |
  python3 "$RC" qmtp "$QMTP" "postmaster@$D" qmtpbulk > "$T/qmtp.out" 2>&1
is "$(grep -c '^D.*(#5\.1\.1)$' "$T/qmtp.out")" 100 "QMTP: 100 unknown recipients get D #5.1.1"
like "$(tail -n 1 "$T/qmtp.out")" "^K" "QMTP: the known one gets K"
for i in $(seq 50); do echo "pnobody$i@$D"; done | python3 "$RC" qmqp "$QMQP" "postmaster@$D" qmqpbulk > "$T/qmqp.out" 2>&1
like "$(cat "$T/qmqp.out")" "^D.*#5\.1\.1" "QMQP: a message to unknown recipients only gets D #5.1.1"
marker bulk; ok $? "qmail-send has taken everything in"
wait_until queue_empty; ok $? "the queue is empty"
is "$(nlog ' bounce msg ')" 0 "no bounce was made"
is "$(nlog ': failure: ')" 0 "no delivery failed"
is "$(nlog ' new msg ')" 3 "exactly three messages were queued (SMTP, QMTP, the marker)"
is "$(grep -l 'Subject: bulk' "$HUB"/alias/Maildir/new/* 2>/dev/null | wc -l)" 1 "postmaster got the SMTP message once"
is "$(grep -l 'Subject: qmtpbulk' "$HUB"/alias/Maildir/new/* 2>/dev/null | wc -l)" 1 "abuse got the QMTP message once"

# ---- every deliverable address: 250 and delivered --------------------------
known_addrs | smtp known > "$T/known.out" 2>&1
is "$(grep -c '^250$' "$T/known.out")" "$(known_addrs | wc -l)" "every deliverable address gets 250"
unknown_addrs | smtp - > "$T/unknown.out" 2>&1
is "$(grep -c '^550$' "$T/unknown.out")" "$(unknown_addrs | wc -l)" "every undeliverable one of the list gets 550"
marker known; ok $? "delivered"
bad=""
for k in $KNOWN; do
  n=$(grep -l 'Subject: known' "${k#*:}"/Maildir/new/* 2>/dev/null | wc -l)
  [ "$n" -ge 1 ] || bad="$bad ${k%%:*}"
done
is "$bad" "" "each deliverable address got the message in its home"
is "$(nlog ' bounce msg ')" 0 "still no bounce"

# ---- relays and non-local domains are not checked, even without a table ---
mv "$HUB/control/recipients.cdb" "$T/saved.cdb"
is "$(one_rcpt "someone@foreign.example")" 250 "relay client, foreign domain: not checked (no table at all)"
is "$(one_rcpt "nosuch@mx2.example.org")" 250 "rcpthosts domain that is not local: not checked"
# ---- no table: temporary failures -----------------------------------------
is "$(one_rcpt "nosuch@$D")" 451 "no table: unknown local recipient 451"
is "$(one_rcpt "u1@$D")" 451 "no table: even a known one 451 (the table cannot say)"
like "$(echo "u1@$D" | python3 "$RC" qmtp "$QMTP" "postmaster@$D" notable)" "^Z.*#4\.3\.0" "no table: QMTP Z"
like "$(echo "u1@$D" | python3 "$RC" qmqp "$QMQP" "postmaster@$D" notable)" "^Z.*#4\.3\.0" "no table: QMQP Z"
wait_until grep -q "recipients.cdb is missing: run qmailctl cdb" "$HUB/log/qmail-smtpd/current"
ok $? "the log says why and what to do"
cp -p "$T/saved.cdb" "$HUB/control/recipients.cdb"; chmod 000 "$HUB/control/recipients.cdb"
is "$(one_rcpt "nosuch@$D")" 451 "unreadable table: 451"
wait_until grep -q "unable to read control/recipients.cdb .*: Permission denied" "$HUB/log/qmail-smtpd/current"
ok $? "logged with the reason"
chmod 640 "$HUB/control/recipients.cdb"
is "$(one_rcpt "nosuch@$D")" 550 "readable again: 550"
echo "not a cdb" > "$HUB/control/recipients.cdb"
is "$(one_rcpt "nosuch@$D")" 451 "a file that is no table: 451"
wait_until grep -q "recipients.cdb is damaged or of another version: run qmailctl cdb" "$HUB/log/qmail-smtpd/current"
ok $? "logged as damaged"
"$HUB/bin/qmailctl" cdb > "$T/cdb.log" 2>&1; ok $? "qmailctl cdb"
like "$(cat "$T/cdb.log")" "control/recipients.cdb: compiled" "qmailctl cdb compiles the recipient table"
is "$(one_rcpt "nosuch@$D")" 550 "rebuilt: 550"

# ---- stale: refusals become 451 until qmailctl cdb ------------------------
dq "$U1" .qmail-later "$md
"
is "$(one_rcpt "u1-later@$D")" 451 "a new .qmail-later: 451 until the table is rebuilt"
is "$(one_rcpt "u1-nope@$D")" 451 "any unknown ext of that home: 451"
is "$(one_rcpt "u1-ext@$D")" 250 "what the table lists is still accepted"
is "$(one_rcpt "nosuch@$D")" 550 "other homes are not affected"
dq "$HUB/alias" .qmail-newalias "$md
"
is "$(one_rcpt "newalias@$D")" 451 "a new alias: 451"
like "$("$HUB/bin/qmailctl" check 2>&1)" "control/recipients.cdb: older than alias: .*run qmailctl cdb" \
  "qmailctl check says the table is older than the alias home"
"$HUB/bin/qmailctl" cdb > /dev/null 2>&1
is "$("$HUB/bin/qmailctl" check 2>&1 | grep -c 'recipients.cdb')" 0 "rebuilt: qmailctl check has nothing to say about it"
like "$("$HUB/bin/qmail-showctl" 2>&1)" "rcptcheck: Unknown local recipients are refused at RCPT: 1" \
  "qmail-showctl explains control/rcptcheck"
is "$(one_rcpt "u1-later@$D")" 250 "rebuilt: the new extension is accepted"
is "$(one_rcpt "newalias@$D")" 250 "rebuilt: the new alias is accepted"
is "$(one_rcpt "u1-nope@$D")" 550 "rebuilt: unknown again 550"
hub_assign "=late:$RNAME:$RUID:$RGID:$EX:::"; hub_newu
is "$(one_rcpt "late@$D")" 451 "users/cdb changed: a new user gets 451, not 550"
is "$(one_rcpt "nosuch@$D")" 451 "users/cdb changed: every refusal is 451"
"$HUB/bin/qmailctl" cdb > /dev/null 2>&1
is "$(one_rcpt "late@$D")" 250 "rebuilt: the new user is accepted"

# ---- the administrator's list, the alias catch-all --------------------------
printf 'ghost@%s\n@%s\n' "$D" "$V" > "$HUB/control/recipients"
is "$(one_rcpt "ghost@$D")" 451 "control/recipients changed: 451 until rebuilt"
"$HUB/bin/qmailctl" cdb > /dev/null 2>&1
is "$(one_rcpt "Ghost@$D")" 250 "control/recipients: local@domain (any case)"
is "$(one_rcpt "carol@$V")" 250 "control/recipients: @domain"
is "$(one_rcpt "ghost2@$D")" 550 "control/recipients: nothing else"
printf 'bad entry\n' > "$HUB/control/recipients"
"$HUB/bin/qmailctl" cdb > "$T/bad.log" 2>&1; is "$?" 111 "a bad line in control/recipients: qmailctl cdb fails"
like "$(cat "$T/bad.log")" "bad entry in .*control/recipients: bad entry" "and names it"
rm "$HUB/control/recipients"; "$HUB/bin/qmailctl" cdb > /dev/null 2>&1
dq "$HUB/alias" .qmail-default "$md
"
"$HUB/bin/qmailctl" cdb > /dev/null 2>&1
is "$(one_rcpt "anything-at-all@$D")" 250 "alias/.qmail-default: every local address is deliverable"
rm "$HUB/alias/.qmail-default"; "$HUB/bin/qmailctl" cdb > /dev/null 2>&1
is "$(one_rcpt "anything-at-all@$D")" 550 "without it: refused again"

# ---- the table agrees with delivery -----------------------------------------
# Each address of KNOWN and UNKNOWN once more with the check on (the RCPT
# reply), then alone in a message with the check off: delivered exactly
# when it got 250, bounced exactly when it got 550.
{ known_addrs; unknown_addrs; } > "$T/all"
smtp - < "$T/all" > "$T/on.out" 2>&1
echo 0 > "$HUB/control/rcptcheck"
i=0
while read -r a; do
  i=$((i + 1))
  echo "$a" | smtp "diff$i" > /dev/null 2>&1 || echo "send $a failed" >> "$T/diff.err"
done < "$T/all"
n=$(wc -l < "$T/all")
marker diff; ok $? "the unchecked messages were delivered or bounced"
qlog | python3 "$RC" outcomes | grep '^diff' > "$T/outcomes"
paste -d ' ' "$T/all" "$T/on.out" > "$T/pairs"
bad=""; i=0
while read -r a code; do
  i=$((i + 1))
  o=$(awk -v m="diff$i@rcptclient.test" '$1 == m { print $3 }' "$T/outcomes")
  case $code/$o in 250/success|550/failure) ;; *) bad="$bad $a:$code/${o:-none}" ;; esac
done < "$T/pairs"
is "$bad" "" "RCPT 250 exactly for the $n addresses delivery takes, 550 for those it bounces"
[ ! -s "$T/diff.err" ]; ok $? "every unchecked message was sent"

# ---- on for a new install, unchanged by an upgrade ---------------------------
F=$T/fresh
qmake install QMAILHOME="$F" > "$T/fresh.log" 2>&1; ok $? "a second, new home"
is "$(cat "$F/control/rcptcheck" 2>/dev/null)" 1 "a new install turns the check on"
rm "$F/control/rcptcheck"
qmake install QMAILHOME="$F" > "$T/fresh.log" 2>&1; ok $? "the same home upgraded in place"
[ ! -e "$F/control/rcptcheck" ]; ok $? "an upgraded hub without control/rcptcheck keeps it off"
done_testing
