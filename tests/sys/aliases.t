#!/bin/bash
# aliases.t: /etc/aliases on a running hub (installed in $T; the aliases
# file is $T/aliases, named by control/aliases, never the machine's own).
# qmail-newaliases compiles Debian's default aliases plus the forms users
# write (a list, |program, /file, a Maildir, :include:, \user, quoted
# entries, continuation lines); a bad line, a loop and a duplicate are
# refused with the line number and the old cdb kept; sendmail -bi runs it.
# Mail injected with qmail-inject and sent over SMTP to the names follows
# them: Maildirs, the mbox, the program's output, the include list, the
# loop bounce. A user's own account and an exact ~alias/.qmail-NAME come
# before the aliases; a -default file after them.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
export TZ=UTC

hub_install; ok $? "make install makes a hub home"
bin=$HUB/bin A=$HUB/alias AU=$(stat -c %u:%g "$HUB/alias")
for u in ann bob; do hub_user "$u"; done
hub_newu; ok $? "qmail-newu"
for m in B2 STAFF; do md "$T/home/bob" "$m"; done
"$bin/maildirmake" "$A/OPS"; "$bin/maildirmake" "$A/EXACT"; "$bin/maildirmake" "$A/DEF"
chown -R "$AU" "$A/OPS" "$A/EXACT" "$A/DEF"
printf './EXACT/\n' > "$A/.qmail-exact"; printf './DEF/\n' > "$A/.qmail-zz-default"
chown "$AU" "$A/.qmail-exact" "$A/.qmail-zz-default"
dq "$T/home/bob" .qmail-b2 './B2/
'
dq "$T/home/bob" .qmail-staff './STAFF/
'
# the installed ~alias/.qmail-postmaster, -root, -mailer-daemon come before
# the aliases file: without them, Debian's aliases route those names
rm -f "$A/.qmail-postmaster" "$A/.qmail-root" "$A/.qmail-mailer-daemon"

echo "$T/aliases" > "$HUB/control/aliases"
printf '# the staff list\nbob-staff,\n  ann\n# a comment\n\n' > "$T/staff.list"
chmod 644 "$T/staff.list"
# Debian's /etc/aliases as installed, then what administrators add
cat > "$T/aliases" <<EOF
# /etc/aliases
mailer-daemon: postmaster
postmaster: root
nobody: root
hostmaster: root
usenet: root
news: root
webmaster: root
www: root
ftp: root
abuse: root
noc: root
security: root
root: ann

# the forms users write
Team: ann, bob-b2@$ME,
	"|cat > $A/prog.out"
ops: $A/OPS/, $A/ops.mbox
staff: :include:$T/staff.list
quoted: "\\bob", "|echo a, b > $A/comma.out; tr a-z A-Z > $A/upper.out"
exact: bob
zz-top: bob-b2
loopa: loopb
loopb: loopa
first.last: ann
EOF
out=$("$bin/qmail-newaliases" 2>&1); ok $? "qmail-newaliases compiles the file"
is "$out" "22 aliases in $T/aliases.cdb" "it counts the aliases and names the cdb"
ok "$([ -s "$T/aliases.cdb" ]; echo $?)" "the cdb is next to the file (control/aliases names only the file)"

# refusals: the line number and reason; the cdb stays as it was
cp "$T/aliases" "$T/aliases.good"; cp "$T/aliases.cdb" "$T/cdb.before"
n=$(($(wc -l < "$T/aliases") + 1)) team=$(grep -n '^Team:' "$T/aliases" | cut -d: -f1)
bad() {
  local want=$1 name=$2 out; shift 2
  { cat "$T/aliases.good"; printf '%s\n' "$@"; } > "$T/aliases"
  out=$("$bin/qmail-newaliases" 2>&1); ok "$([ $? = 111 ]; echo $?)" "$name: exit 111"
  like "$out" "$want" "$name: says where and why"
  cmp -s "$T/aliases.cdb" "$T/cdb.before"; ok $? "$name: the cdb is untouched"
}
bad "line $n: no ':' after the alias name; $T/aliases.cdb not changed" "a line without ':'" "oops bob"
bad "line $n: an alias that names itself \\(a loop\\)" "an alias naming itself" "self: ann, self"
bad "line $n: alias team given again \\(first on line $team\\)" "a name given twice" "TEAM: bob"
bad "line $n: an unterminated quote" "an unterminated quote" 'q: "|cat'
bad "line $n: a blank or bracket inside an address" "a blank inside an address" "b: a b@x"
ls "$T" | grep -q 'aliases.cdb.tmp'; ok "$([ $? = 1 ]; echo $?)" "no temporary file left behind"
cp "$T/aliases.good" "$T/aliases"
out=$(env -u QMAILHOME "$bin/sendmail" -bi 2>&1); ok $? "sendmail -bi runs qmail-newaliases on a hub"
is "$out" "22 aliases in $T/aliases.cdb" "sendmail -bi: its output"
out=$(env -u QMAILHOME "$bin/newaliases" 2>&1); ok $? "newaliases (the link) runs it too"

hub_start; ok $? "qmailctl start: the hub runs"
body() { printf 'Subject: %s\n\nbody of %s\n' "$1" "$1"; }
for a in postmaster abuse Team ops staff quoted exact zz-top; do
  body "$a" | send "sender@example.net" "$a@$ME" || echo "send $a failed" >> "$T/sendfail"
done
body loop | send "bob@$ME" "loopa@$ME" || echo "send loop failed" >> "$T/sendfail"
printf 'To: webmaster\nSubject: injected\n\nbody\n' | "$bin/qmail-inject"; ok $? "qmail-inject to webmaster"
ok "$([ ! -e "$T/sendfail" ]; echo $?)" "SMTP: every message accepted"

ANN=$T/home/ann/Maildir/new BOB=$T/home/bob
wait_until has_file "$ANN" 1 'Subject: postmaster'; ok $? "postmaster -> root -> ann (Debian's default chain)"
f=$(one "$ANN" 'Subject: postmaster')
like "$(grep '^Delivered-To:' "$f" | tr '\n' '~')" "^Delivered-To: ann@$ME~Delivered-To: root@$ME~Delivered-To: postmaster@$ME~$" \
  "each alias hop adds its Delivered-To line"
wait_until has_file "$ANN" 1 'Subject: abuse'; ok $? "abuse -> root -> ann"
wait_until has_file "$ANN" 1 'Subject: injected'; ok $? "qmail-inject: webmaster -> root -> ann"
wait_until has_file "$ANN" 1 'Subject: Team'; ok $? "list: a bare name (ann)"
wait_until has_file "$BOB/B2/new" 1 'Subject: Team'; ok $? "list: a full address (bob-b2@)"
wait_until test -s "$A/prog.out"; ok $? "list: a quoted |program on a continuation line"
like "$(cat "$A/prog.out" 2>/dev/null)" "Subject: Team" "|program: got the message (the alias found whatever the case)"
wait_until has_file "$A/OPS/new" 1 'Subject: ops'; ok $? "a Maildir entry (path ending in /)"
wait_until test -s "$A/ops.mbox"; ok $? "a /file entry: mbox"
like "$(head -1 "$A/ops.mbox" 2>/dev/null)" '^From sender@example.net ' "mbox: a From_ line"
wait_until has_file "$BOB/STAFF/new" 1 'Subject: staff'; ok $? ":include: list read at delivery time (bob-staff)"
wait_until has_file "$ANN" 1 'Subject: staff'; ok $? ":include: its continuation line (ann)"
wait_until has_file "$BOB/Maildir/new" 1 'Subject: quoted'; ok $? 'a quoted "\\bob": bob himself'
wait_until test -s "$A/upper.out"; ok $? "a quoted program holding a comma"
like "$(cat "$A/upper.out" 2>/dev/null)" "SUBJECT: QUOTED" "the quoted program ran"
is "$(cat "$A/comma.out" 2>/dev/null)" "a, b" "the quoted program ran whole, its comma kept"
wait_until has_file "$A/EXACT/new" 1 'Subject: exact'; ok $? "~alias/.qmail-exact comes before the alias 'exact'"
wait_until has_file "$BOB/B2/new" 1 'Subject: zz-top'; ok $? "the alias 'zz-top' comes before ~alias/.qmail-zz-default"
is "$(nfiles "$A/DEF")" 0 "nothing fell through to the -default file"
wait_until has_file "$BOB/Maildir/new" 1 'Subject: loop'; ok $? "an alias loop bounces to the sender"
like "$(cat "$(one "$BOB/Maildir/new" 'Subject: loop')" | tr '\n' ' ')" "<loop[ab]@$ME>:.*looping: it already has my Delivered-To line" \
  "the loop bounce: Delivered-To rule (#5.4.6)"

# an :include: file that is not safe defers; the message waits
chmod 666 "$T/staff.list"
body unsafe | send "sender@example.net" "staff@$ME"
wait_until inlog "deferral: Unable to follow the alias in $T/aliases.cdb: $T/staff.list: it is group- or world-writable"
ok $? "a world-writable :include: file defers (fails closed)"
chmod 644 "$T/staff.list"

# with the RCPT check on, qmailctl cdb puts the aliases in the servers' table
echo 1 > "$HUB/control/rcptcheck"
"$bin/qmailctl" cdb > "$T/cdb.out" 2>&1; ok $? "qmailctl cdb (qmail-rcptcdb reads the aliases cdb)"
got=$(printf '%s\n' "team@$ME" "TEAM@$ME" "first.last@$ME" "nosuch@$ME" "exact@$ME" |
  python3 "$SRCDIR/tests/lib/rcptclient.py" smtp "$SMTP" "postmaster@$ME" - | tr '\n' ' ')
is "$got" "250 250 250 550 250 " "RCPT: alias names (any case, with a dot) accepted, an unknown name refused"

done_testing
