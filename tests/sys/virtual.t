#!/bin/bash
# virtual.t: qmail-send's recipient rewriting on a running hub (installed
# in $T, started by qmailctl, mail sent over SMTP), checked by where the
# mail lands: control/virtualdomains in all its forms (a domain, a .suffix
# wildcard, a single user@domain, the ":prefix" catch-all, an exception
# with an empty prefix), locals (winning over virtualdomains), percenthack,
# envnoathost, and SIGHUP (qmailctl reload) rereading locals and
# virtualdomains. Each home's .qmail-default records $LOCAL, $EXT and
# $DEFAULT; the catch-all lands in the alias home (.qmail-zc-default).
# Remote recipients go to 127.0.0.1:1 (control/smtproutes): loopback only.
# As root the recipients are uid 65534; otherwise single-user mode.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built

hub_install; ok $? "make install makes a hub home"
printf '%s\nlocalhost\nloc2.example.org\nvd2.example.org\n' "$ME" > "$HUB/control/locals"
cat > "$HUB/control/virtualdomains" <<'EOF'
# virtual domains
vd.example.org:zv
vd2.example.org:zv
.wild.example.org:zw
single@one.example.org:zo
ex.wild.example.org:
:zc
EOF
echo pc.example.org > "$HUB/control/percenthack"
echo vd.example.org > "$HUB/control/envnoathost"
echo ':127.0.0.1:1' > "$HUB/control/smtproutes"
for u in zu zv zw zo; do hub_user "$u"; done
hub_newu; ok $? "qmail-newu"
rec='|printf "%s %s %s\n" "$LOCAL" "$EXT" "$DEFAULT" >> got
./Maildir/
'
for u in zv zw; do dq "$T/home/$u" .qmail-default "$rec"; done
dq "$T/home/zo" .qmail-single "$rec"
dq "$T/home/zu" .qmail "$rec"
A=$HUB/alias
printf '%s' "$rec" > "$A/.qmail-zc-default"
chown "$(stat -c %u:%g "$A")" "$A/.qmail-zc-default"
hub_start; ok $? "qmailctl start"

got() { cat "$1/got" 2>/dev/null; }
# lands HOME LINE: wait until HOME's record has LINE
lands() { wait_until grep -qxF -- "$2" "$1/got" 2>/dev/null; }
V=$T/home/zv W=$T/home/zw O=$T/home/zo U=$T/home/zu
m() { printf 'Subject: %s\n\nbody\n' "$1"; }

m vd | send s@example.net joe@vd.example.org; ok $? "SMTP: mail to a virtual domain"
lands "$V" "zv-joe joe joe"; ok $? "domain:prefix -> prefix-user, .qmail-default of the prefix's home"
wait_until has_file "$V/Maildir/new" 1 '^Subject: vd$'   # the Maildir line runs after the program line
like "$(sed -n 2p "$(one "$V/Maildir/new" 'Subject: vd')")" '^Delivered-To: zv-joe@vd.example.org$' "Delivered-To names the rewritten address"
m vdcase | send s@example.net Ann.Lee@VD.Example.ORG
lands "$V" "zv-Ann.Lee Ann.Lee Ann.Lee"; ok $? "the domain matches in any case; the user part keeps its case"
m wild | send s@example.net ann@a.wild.example.org
lands "$W" "zw-ann ann ann"; ok $? ".suffix wildcard: a.wild.example.org"
m wild2 | send s@example.net bob@b.c.wild.example.org
lands "$W" "zw-bob bob bob"; ok $? ".suffix wildcard: b.c.wild.example.org"
m single | send s@example.net single@one.example.org
lands "$O" "zo-single single "; ok $? "user@domain:prefix -> prefix-user (.qmail-single)"
m other | send s@example.net other@one.example.org
lands "$A" "zc-other zc-other other"; ok $? "another user of that domain: the catch-all (alias home)"
m catch | send s@example.net x@anything.example.com
lands "$A" "zc-x zc-x x"; ok $? ":prefix catch-all for any domain"
m exc | send "" x@ex.wild.example.org
wait_until inlog 'to remote .*x@ex\.wild\.example\.org'; ok $? "domain: with an empty prefix is an exception: remote, not virtual"
m both | send s@example.net zu@vd2.example.org
lands "$U" "zu  "; ok $? "a domain in locals is local even when virtualdomains lists it"
m loc2 | send s@example.net zu@loc2.example.org
wait_until has_file "$U/Maildir/new" 1 'Subject: loc2'; ok $? "locals: a second local domain"
like "$(sed -n 2p "$(one "$U/Maildir/new" 'Subject: loc2')")" '^Delivered-To: zu@loc2.example.org$' "locals: Delivered-To keeps the domain"
m pct | send s@example.net 'zu%hub.example.org@pc.example.org'
wait_until has_file "$U/Maildir/new" 1 'Subject: pct'; ok $? "percenthack: u%h@listed-domain -> u@h, local"
like "$(sed -n 2p "$(one "$U/Maildir/new" 'Subject: pct')")" '^Delivered-To: zu@hub.example.org$' "percenthack: delivered as zu@hub.example.org"
m noat | send s@example.net kim; ok $? "SMTP accepts a recipient without @"
lands "$V" "zv-kim kim kim"; ok $? "envnoathost: kim -> kim@vd.example.org, then virtual"
m before | send s@example.net a@new.example.org
lands "$A" "zc-a zc-a a"; ok $? "before reload: new.example.org is caught by the catch-all"

# --- SIGHUP rereads virtualdomains and locals
printf 'vd.example.org:zw\nnew.example.org:zv\n' > "$HUB/control/virtualdomains"
printf '%s\nloc3.example.org\n' "$ME" > "$HUB/control/locals"
n0=$(qlog | grep -c 'status: reloading')
hub_reload; ok $? "qmailctl reload"
wait_until log_more 'status: reloading' "$n0"; ok $? "qmail-send logs the reload"
m after1 | send s@example.net joe2@vd.example.org
lands "$W" "zw-joe2 joe2 joe2"; ok $? "after reload: vd.example.org now goes to zw"
m after2 | send s@example.net b@new.example.org
lands "$V" "zv-b b b"; ok $? "after reload: the new virtual domain"
m after3 | send s@example.net zu@loc3.example.org
wait_until has_file "$U/Maildir/new" 1 'Subject: after3'; ok $? "after reload: the new local domain"
m after4 | send "" y@other.example.com
wait_until inlog 'to remote .*y@other\.example\.com'
y=$(qlog | sed -nE 's/.*starting delivery [0-9]+: msg ([0-9]+) to remote y@other\.example\.com$/\1/p' | tail -n 1)
ok "$([ -n "$y" ]; echo $?)" "after reload: no catch-all any more, remote (msg $y)"
marker after4; ok $? "a message sent after it is delivered and ends"
# the log from that message's "new msg" line on (its number is an inode
# number: an earlier message may have had it)
is "$(qlog | awk -v p=" new msg $y " 'index($0, p) { b = "" } { b = b $0 "\n" } END { printf "%s", b }' |
      grep -cE "starting delivery [0-9]+: msg $y to local ")" 0 "after reload: that message has no local delivery"
ok "$(! grep -q 'zc-y' "$A/got"; echo $?)" "after reload: nothing more for the old catch-all"
done_testing
