#!/bin/bash
# dotforward.t: ~/.forward on a running hub (installed in $T), for users
# who have no ~/.qmail: the forms users write (\user and a copy
# elsewhere, |program, /file, :include:, their own bare name, quoted
# entries, comments and continuation lines); a .forward next to a .qmail
# is ignored; an empty one means the default delivery; one that is
# group-writable, not the user's, or has a bad line defers (fails
# closed) with the reason in the log. Mail comes in over SMTP and from
# qmail-inject. As root the users are uid 65534; otherwise single-user.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
export TZ=UTC

hub_install; ok $? "make install makes a hub home"
bin=$HUB/bin
for u in carol dave erin fred gina hank ivan; do hub_user "$u"; done
hub_newu; ok $? "qmail-newu"
H=$T/home
md "$H/carol" COPY; md "$H/dave" X; md "$H/gina" Q; md "$H/dave" INC
dq "$H/carol" .qmail-copy './COPY/
'
dq "$H/dave" .qmail-x './X/
'
dq "$H/dave" .qmail-inc './INC/
'
dq "$H/carol" .forward '# keep a copy and send one on
\carol, carol-copy@hub.example.org
'
dq "$H/dave" .forward "\"|cat > $H/dave/prog.out; echo a, b > $H/dave/comma.out\",
	$H/dave/mbox, dave-x
:include:$H/dave/list
"
dq "$H/dave" list 'dave-inc
'
dq "$H/erin" .forward 'erin-x@hub.example.org
'
chmod 664 "$H/erin/.forward"
dq "$H/fred" .forward 'fred-a@hub.example.org
"|unterminated
'
dq "$H/gina" .qmail './Q/
'
dq "$H/gina" .forward 'nobody-here@hub.example.org
'
dq "$H/hank" .forward '# nothing yet
'
dq "$H/ivan" .forward 'Ivan
'

hub_start; ok $? "qmailctl start: the hub runs"
body() { printf 'Subject: %s\n\nbody of %s\n' "$1" "$1"; }
for u in carol dave erin fred gina hank ivan; do
  body "$u" | send "sender@example.net" "$u@$ME" || echo "send $u failed" >> "$T/sendfail"
done
printf 'To: carol\nSubject: injected\n\nbody\n' | "$bin/qmail-inject"; ok $? "qmail-inject to carol"
ok "$([ ! -e "$T/sendfail" ]; echo $?)" "SMTP: every message accepted"

wait_until has_file "$H/carol/Maildir/new" 1 'Subject: carol'; ok $? "\\carol: the default delivery"
wait_until has_file "$H/carol/COPY/new" 1 'Subject: carol'; ok $? "and a copy forwarded"
f=$(one "$H/carol/COPY/new" 'Subject: carol')
like "$(grep '^Delivered-To:' "$f" | tr '\n' '~')" "^Delivered-To: carol-copy@$ME~Delivered-To: carol@$ME~$" "the copy carries carol's Delivered-To line"
wait_until has_file "$H/carol/Maildir/new" 1 'Subject: injected'; ok $? "qmail-inject: delivered by .forward too"
wait_until has_file "$H/carol/COPY/new" 1 'Subject: injected'; ok $? "qmail-inject: and forwarded"
wait_until test -s "$H/dave/prog.out"; ok $? "|program (quoted, with a comma)"
like "$(cat "$H/dave/prog.out")" "Subject: dave" "|program: got the message"
is "$(cat "$H/dave/comma.out" 2>/dev/null)" "a, b" "|program: the whole command ran"
wait_until test -s "$H/dave/mbox"; ok $? "/file on a continuation line: mbox"
like "$(head -1 "$H/dave/mbox")" '^From sender@example.net ' "mbox: From_ line"
wait_until has_file "$H/dave/X/new" 1 'Subject: dave'; ok $? "a bare name: the local domain added"
wait_until has_file "$H/dave/INC/new" 1 'Subject: dave'; ok $? ":include: file"
is "$(nfiles "$H/dave/Maildir")" 0 "dave: no default delivery"
wait_until inlog 'deferral: Uh-oh: .forward: it is group- or world-writable'; ok $? "group-writable .forward: deferred"
is "$(nfiles "$H/erin/Maildir")" 0 "erin: nothing delivered"
wait_until inlog 'deferral: Uh-oh: .forward line 2: an unterminated quote'; ok $? "a bad line: deferred, naming the line"
is "$(nfiles "$H/fred/Maildir")" 0 "fred: nothing delivered, not even the good line"
wait_until has_file "$H/gina/Q/new" 1 'Subject: gina'; ok $? "a .qmail comes before .forward"
wait_until has_file "$H/hank/Maildir/new" 1 'Subject: hank'; ok $? "a .forward with only comments: the default delivery"
wait_until has_file "$H/ivan/Maildir/new" 1 'Subject: ivan'; ok $? "the user's own name (any case): the default delivery"
if [ "$(id -u)" = 0 ]; then
  chown 0:0 "$H/erin/.forward"; chmod 644 "$H/erin/.forward"
  body notmine | send "sender@example.net" "erin@$ME"
  wait_until inlog 'deferral: Uh-oh: .forward: it does not belong to the recipient'; ok $? "a .forward of another user: deferred"
else
  echo "ok $((_n += 1)) # skip a .forward of another user needs root"
fi
done_testing
