#!/bin/bash
# bounce.t: every bounce path on a running hub (installed in $T, started by
# qmailctl, mail sent over SMTP or with the hub's qmail-inject): a QSBMF
# bounce with one paragraph per failed recipient and the original after the
# break (bouncefrom, bouncehost, bouncemaxbytes), no Delivered-To of the
# failed delivery in the copy; a null-sender failure double-bounced to
# doublebounceto@doublebouncehost (R17); a failed double bounce logged
# "triple bounce: discarding" and never a third; VERP senders expanded per
# recipient and collapsed for the bounce; mailing-list -owner and
# -owner-default senders (qmail-local); a bounce storm (L6, R15): messages
# to nonexistent users with null and forged senders give at most one bounce
# and one double bounce each and the queue drains. STORM=n sets its size.
# As root the recipients are uid 65534; otherwise single-user mode.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
case $BUILD in *-san) STORM=${STORM:-300};; *) STORM=${STORM:-1000};; esac

hub_install; ok $? "make install makes a hub home"
bin=$HUB/bin
echo bf > "$HUB/control/bouncefrom"
echo bh.example.org > "$HUB/control/bouncehost"
echo zs-db > "$HUB/control/doublebounceto"
echo hub.example.org > "$HUB/control/doublebouncehost"
echo 30 > "$HUB/control/concurrencylocal"
for u in zs zb zv zl; do hub_user "$u"; done
hub_newu; ok $? "qmail-newu"
S=$T/home/zs B=$T/home/zb V=$T/home/zv L=$T/home/zl
for m in B DB VB X; do md "$S" "$m"; done
md "$L" OWN; md "$L" VOWN
dq "$S" .qmail-b './B/
'
dq "$S" .qmail-db './DB/
'
dq "$S" .qmail-v-default './VB/
'
dq "$S" .qmail-x './X/
'
dq "$B" .qmail-hard1 "|$bin/bouncesaying 'Mailbox one is closed.'
"
dq "$B" .qmail-hard2 '|echo "Mailbox two is gone."; exit 100
'
dq "$B" .qmail-ok './Maildir/
'
dq "$V" .qmail-default '|printf "%s\n" "$SENDER" > "sender-$DEFAULT"
./Maildir/
'
dq "$L" .qmail-list 'zv-m1@hub.example.org
zb-hard1@hub.example.org
'
dq "$L" .qmail-list-owner './OWN/
'
dq "$L" .qmail-vl 'zv-m2@hub.example.org
zb-hard2@hub.example.org
'
dq "$L" .qmail-vl-owner './VOWN/
'
dq "$L" .qmail-vl-owner-default './VOWN/
'
hub_start; ok $? "qmailctl start"

# --- a QSBMF bounce
printf 'Subject: first\n\nline one\n' | send zs-b@hub.example.org zb-hard1@hub.example.org zb-hard2@hub.example.org zb-ok@hub.example.org
ok $? "SMTP: one message, two failing recipients and one good one"
wait_until has_file "$S/B/new" 1; ok $? "a bounce comes back to the sender"
f=$(one "$S/B/new" 'Subject: first'); b=$(cat "$f")
# the message leaves the queue only after its bounce is queued, and the
# bounce after its delivery: with the queue empty no second one can come
wait_until queue_empty; ok $? "the message and its bounce have left the queue"
is "$(nfiles "$S/B/new")" 1 "one bounce for both failures"
like "$(head -1 "$f")" '^Return-Path: <>$' "the bounce has a null envelope sender"
like "$b" '^From: bf@bh\.example\.org$' "From: bouncefrom@bouncehost"
like "$b" '^To: zs-b@hub\.example\.org$' "To: the original sender"
like "$b" '^Subject: failure notice$' "Subject: failure notice"
like "$(echo "$b" | tr '\n' '~')" '~~Hi\. This is the qmail-send program at bh\.example\.org\.~' "QSBMF intro naming bouncehost"
like "$(echo "$b" | tr '\n' '~')" '~<zb-hard1@hub\.example\.org>:~Mailbox one is closed\.~The \.qmail program failed permanently \(exit code 100\)\. \(#5\.2\.0\)~~' "paragraph for the first failed recipient: the program's words, then the code"
like "$(echo "$b" | tr '\n' '~')" '~<zb-hard2@hub\.example\.org>:~Mailbox two is gone\.~The' "paragraph for the second failed recipient"
is "$(echo "$b" | grep -c '^<zb-ok')" 0 "no paragraph for the delivered recipient"
like "$(echo "$b" | tr '\n' '~')" '~--- Below this line is a copy of the message\.~~Return-Path: <zs-b@hub\.example\.org>~Received: .*~Subject: first~~line one~$' \
  "break paragraph, Return-Path, the queued original (Received line included)"
is "$(echo "$b" | sed -n '/^--- Below this line/,$p' | grep -c '^Delivered-To:')" 0 "the failed delivery's Delivered-To is not in the copy"
wait_until has_file "$B/Maildir/new" 1 'Subject: first'; ok $? "the good recipient got it"

# --- bouncemaxbytes
echo 3000 > "$HUB/control/bouncemaxbytes"
{ printf 'Subject: big\n\n'; head -c 60000 /dev/zero | tr '\0' 'y' | fold -w 70; } | send zs-b@hub.example.org zb-hard1@hub.example.org
wait_until has_file "$S/B/new" 1 'Subject: big'; ok $? "the bounce of a big message"
f=$(one "$S/B/new" 'Subject: big')
like "$(tail -1 "$f")" 'The rest of the message was cut: a bounce carries only its first 3000 bytes' "bouncemaxbytes: a note says where the copy stops"
size=$(stat -c %s "$f")
ok "$([ "$size" -lt 4500 ]; echo $?)" "bouncemaxbytes: the bounce is small ($size bytes)"
rm -f "$HUB/control/bouncemaxbytes"

# --- double bounce
printf 'Subject: nullsender\n\nfrom nobody\n' | send "" zb-hard1@hub.example.org
wait_until has_file "$S/DB/new" 1 'Subject: nullsender'; ok $? "a null-sender failure: double bounce to doublebounceto@doublebouncehost"
f=$(one "$S/DB/new" 'Subject: nullsender')
like "$(head -1 "$f")" '^Return-Path: <#@\[\]>$' "the double bounce's envelope sender is #@[]"
like "$(cat "$f" | tr '\n' '~')" '~To: zs-db@hub\.example\.org~.*Hi\. This is the qmail-send program.*<zb-hard1@hub\.example\.org>:~Mailbox one is closed\.~' "double bounce text"
like "$(qlog)" 'double bounce injected' "qmail-send logs the double bounce"

# --- VERP
printf 'Subject: verp\n\nper recipient\n' | QMAILINJECT=r "$bin/qmail-inject" -f zs-v@hub.example.org \
  zv-a@hub.example.org zv-b@hub.example.org zb-hard1@hub.example.org
ok $? "qmail-inject with QMAILINJECT=r queues a VERP message"
wait_until test -s "$V/sender-b"; ok $? "VERP recipients delivered"
wait_until test -s "$V/sender-a"   # the two deliveries run side by side
wait_until has_file "$V/Maildir/new" 2 'Subject: verp'   # and the Maildir line comes after the program
is "$(cat "$V/sender-a")" "zs-v-zv-a=hub.example.org@hub.example.org" "VERP: SENDER for zv-a"
is "$(cat "$V/sender-b")" "zs-v-zv-b=hub.example.org@hub.example.org" "VERP: SENDER for zv-b"
like "$(head -1 "$(one "$V/Maildir/new" 'Subject: verp')")" '^Return-Path: <zs-v-zv-[ab]=hub.example.org@hub.example.org>$' "VERP: Return-Path"
wait_until has_file "$S/VB/new" 1 'Subject: verp'; ok $? "VERP: the bounce goes to the collapsed sender prefix-@host"
like "$(cat "$(one "$S/VB/new" 'Subject: verp')")" 'To: zs-v-@hub.example.org' "VERP: bounce To: zs-v-@hub.example.org"

# --- mailing-list owners
printf 'Subject: list\n\nto the list\n' | send zs-x@hub.example.org zl-list@hub.example.org
wait_until test -s "$V/sender-m1"; ok $? "list: the member got it"
is "$(cat "$V/sender-m1")" "zl-list-owner@hub.example.org" "-owner: the forwarded copy's sender is the owner"
wait_until has_file "$L/OWN/new" 1 'Subject: list'; ok $? "-owner: the failed member's bounce goes to the owner"
printf 'Subject: vlist\n\nto the verp list\n' | send zs-x@hub.example.org zl-vl@hub.example.org
wait_until test -s "$V/sender-m2"; ok $? "VERP list: the member got it"
is "$(cat "$V/sender-m2")" "zl-vl-owner-zv-m2=hub.example.org@hub.example.org" "-owner-default: per-recipient VERP sender"
wait_until has_file "$L/VOWN/new" 1 'Subject: vlist'; ok $? "-owner-default: the bounce reaches the owner"
like "$(cat "$(one "$L/VOWN/new" 'Subject: vlist')")" '<zb-hard2@hub.example.org>:' "-owner-default: the bounce names the failed member"
wait_until queue_empty; ok $? "the list messages, their copies and bounces have left the queue"
is "$(nfiles "$S/X/new")" 0 "the list's poster gets no bounce"

# --- bounce storm (L6): half null senders, half forged local senders
wait_until queue_empty; ok $? "the queue is empty before the storm"
db0=$(nfiles "$S/DB/new") nb0=$(qlog | grep -c 'bounce msg')
t0=$(date +%s)
python3 - "$SMTP" "$STORM" <<'PY'
import smtplib, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
for i in range(n):
    frm = "" if i % 2 else "forged%d@hub.example.org" % i
    s.sendmail(frm, ["nosuch%d@hub.example.org" % i], b"Subject: storm %d\r\n\r\nx\r\n" % i)
s.quit()
PY
ok $? "SMTP: $STORM messages to nonexistent users accepted"
WAIT_MAX=600 wait_until queue_empty; ok $? "the queue drains"
echo "# storm of $STORM took $(( $(date +%s) - t0 )) s"
wait_until files_ge "$S/DB/new" $((db0 + STORM))
is "$(( $(nfiles "$S/DB/new") - db0 ))" "$STORM" "exactly one double bounce per storm message (null: directly; forged: its bounce bounced)"
is "$(qlog | grep -c 'bounce msg [0-9]* to <forged')" "$((STORM / 2 + STORM % 2))" "one bounce per forged sender, never more"
is "$(( $(qlog | grep -c 'bounce msg') - nb0 ))" "$((STORM + STORM / 2 + STORM % 2))" "bounces injected: one per storm message plus one per failed bounce, no more"
is "$(qlog | grep -c 'triple bounce')" 0 "no triple bounce while doublebounceto works"

# --- triple bounce: the double bounce itself fails
echo zb-hard2 > "$HUB/control/doublebounceto"
n0=$(nlog 'status: reloading')
hub_reload; wait_until log_more 'status: reloading' "$n0"; ok $? "qmailctl reload: bounce settings reread"
printf 'Subject: triple\n\nx\n' | send "" zb-hard1@hub.example.org
wait_until inlog 'triple bounce: discarding'; ok $? "a failed double bounce is logged 'triple bounce: discarding'"
wait_until queue_empty; ok $? "and dropped: the queue is empty"
is "$(qlog | grep -c 'triple bounce')" 1 "exactly one triple-bounce discard, never a third bounce"
like "$(qlog | grep 'double bounce injected' | tail -1)" 'to <zb-hard2@hub.example.org>' "the double bounce went to the new doublebounceto"

# --- an empty doublebounceto drops double bounces (qmail's "echo > doublebounceto")
echo > "$HUB/control/doublebounceto"
n0=$(qlog | grep -c 'status: reloading')
hub_reload; wait_until log_more 'status: reloading' "$n0"; ok $? "reload with an empty doublebounceto"
db0=$(nfiles "$S/DB/new")
printf 'Subject: dropme\n\nx\n' | send "" zb-hard1@hub.example.org
wait_until inlog 'double bounce: discarding'; ok $? "the double bounce is logged 'double bounce: discarding'"
wait_until queue_empty; ok $? "and dropped: the queue is empty"
is "$(nfiles "$S/DB/new"):$(qlog | grep -c 'to <postmaster@')" "$db0:0" "nothing sent to the old doublebounceto or to postmaster"
done_testing
