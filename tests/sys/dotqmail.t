#!/bin/bash
# dotqmail.t: every .qmail feature end to end on a running hub (installed
# in $T, started by qmailctl, mail sent over SMTP): comments, Maildir and
# mboxrd lines (reversible), |program with qmail's environment and exit
# codes, &forward and bare-address forwards, .qmail-ext / -default lookup at
# every level (dots as ':', lowercase), Delivered-To / Return-Path, the
# forward loop bounce (docs/bad-input.md R16), the world-writable refusal,
# defaultdelivery, users/assign exact and wildcard lines (qmail-newu), the
# alias home, and preline, condredirect, bouncesaying, except, qreceipt
# used from .qmail files. Bounces come back to a local sender's Maildir.
# As root the recipients are uid 65534; otherwise single-user mode.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
export TZ=UTC

hub_install; ok $? "make install makes a hub home"
bin=$HUB/bin
printf './Maildir/\n./ddmbox\n' > "$HUB/control/defaultdelivery"
for u in zu zd zn zs; do hub_user "$u"; done
mkdir -p "$T/home/zx" "$T/home/zw"; chmod 755 "$T/home/zx" "$T/home/zw"
chown "$RUID:$RGID" "$T/home/zx" "$T/home/zw"
hub_assign "=zx:$RNAME:$RUID:$RGID:$T/home/zx:-:box:"
hub_assign "+zw-:$RNAME:$RUID:$RGID:$T/home/zw:-:pre-:"
hub_newu; ok $? "qmail-newu compiles users/assign (exact and wildcard lines)"
U=$T/home/zu D=$T/home/zd S=$T/home/zs A=$HUB/alias
for m in T1 T2 T3 M0 CR MX QR; do md "$U" "$m"; done
for m in DAB DA DD DEX DOT; do md "$D" "$m"; done
md "$S" B; md "$S" R; md "$T/home/zx" BOX; md "$T/home/zw" PF; md "$T/home/zw" PD
"$bin/maildirmake" "$A/ZA"; chown -R "$(stat -c %u:%g "$A")" "$A/ZA"

dq "$U" .qmail '# a comment line
#another

./Maildir/
./Mailbox
'
dq "$U" .qmail-env-default '|printf "%s|" "$SENDER" "$NEWSENDER" "$RECIPIENT" "$USER" "$HOME" "$HOST" "$HOST2" "$HOST3" "$LOCAL" "$EXT" "$EXT2" "$EXT3" "$EXT4" "$DEFAULT" "$DTLINE" "$RPLINE" > env.out; printf "%s" "$UFLINE" > ufline.out; [ -n "$HOST4" ] && touch host4
'
for c in 0 99 100 64 111 3; do dq "$U" ".qmail-e$c" "|exit $c
./M0/
"; done
dq "$U" .qmail-fwd '&zu-t1@hub.example.org
zu-t2@hub.example.org
'
dq "$U" .qmail-t1 './T1/
'
dq "$U" .qmail-t2 './T2/
'
dq "$U" .qmail-t3 './T3/
'
dq "$U" .qmail-loopa 'zu-loopb@hub.example.org
'
dq "$U" .qmail-loopb '&zu-loopa@hub.example.org
'
dq "$U" .qmail-ww './Maildir/
'
chmod 666 "$U/.qmail-ww"
dq "$U" .qmail-pl "|$bin/preline cat > pl.out
"
dq "$U" .qmail-cr "|$bin/condredirect zu-t3@hub.example.org grep -q redirect-me
./CR/
"
dq "$U" .qmail-bs "|$bin/bouncesaying 'We do not take unwanted mail.' grep -q unwanted
./Maildir/
"
dq "$U" .qmail-ex "|$bin/except grep -q password
./MX/
"
dq "$U" .qmail-qr "|$bin/qreceipt zu-qr@hub.example.org
./QR/
"
dq "$D" .qmail-a-b-default './DAB/
'
dq "$D" .qmail-a-default './DA/
'
dq "$D" .qmail-default './DD/
'
dq "$D" .qmail-a-b './DEX/
'
dq "$D" .qmail-dot:name './DOT/
'
dq "$S" .qmail-b './B/
'
dq "$S" .qmail-r './R/
'
dq "$T/home/zx" .qmail-box './BOX/
'
dq "$T/home/zw" .qmail-pre-foo './PF/
'
dq "$T/home/zw" .qmail-pre-default './PD/
'
printf './ZA/\n' > "$A/.qmail-zalias-default"; chown "$(stat -c %u:%g "$A")" "$A/.qmail-zalias-default"

hub_start; ok $? "qmailctl start: the hub runs"

SB=zs-b@hub.example.org
# sent: send, noting "EXIT FROM TO..." in $T/sends, so every send is checked
sent() { local rc; send "$@"; rc=$?; echo "$rc $*" >> "$T/sends"; return $rc; }
body() { printf 'Subject: %s\n\nFrom me\n>From you\n>>From x\nbody of %s\n' "$1" "$1"; }
body main | sent zs@example.net zu@hub.example.org; ok $? "SMTP: a message to zu"
body env | sent zs@example.net zu-env-a-b-c@hub.example.org
for c in 0 99 100 64 111 3; do body "exit$c" | sent "$SB" "zu-e$c@hub.example.org"; done
body fwd | sent zs@example.net zu-fwd@hub.example.org
body loop | sent "$SB" zu-loopa@hub.example.org
body ww | sent "$SB" zu-ww@hub.example.org
body preline | sent zs@example.net zu-pl@hub.example.org
printf 'Subject: cr1\n\nplease redirect-me\n' | sent zs@example.net zu-cr@hub.example.org
printf 'Subject: cr2\n\nkeep me\n' | sent zs@example.net zu-cr@hub.example.org
printf 'Subject: bs1\n\nunwanted stuff\n' | sent "$SB" zu-bs@hub.example.org
printf 'Subject: bs2\n\nwanted stuff\n' | sent "$SB" zu-bs@hub.example.org
printf 'Subject: ex1\n\nmy password is x\n' | sent "$SB" zu-ex@hub.example.org
printf 'Subject: ex2\n\nnothing secret\n' | sent "$SB" zu-ex@hub.example.org
printf 'Notice-Requested-Upon-Delivery-To: <zu-qr@hub.example.org>\nSubject: qr\n\nreceipt please\n' |
  sent zs-r@hub.example.org zu-qr@hub.example.org
for a in zd-a-b-c zd-a-x-y zd-q zd-a-b zd-Dot.Name ZU-T1 zn zx zw-foo zw-bar zalias-one; do
  body "$a" | sent zs@example.net "$a@hub.example.org"
done
is "$(awk '$1 != 0' "$T/sends")/$(wc -l < "$T/sends")" "/30" "SMTP: all 30 messages accepted"

# --- plain deliveries
wait_until has_file "$U/Maildir/new" 1 'Subject: main'; ok $? ".qmail: Maildir line delivered"
f=$(one "$U/Maildir/new" 'Subject: main')
like "$(head -3 "$f" | tr '\n' '~')" '^Return-Path: <zs@example.net>~Delivered-To: zu@hub.example.org~Received: ' \
  "Maildir copy starts with Return-Path, Delivered-To, the hub's Received"
wait_until test -s "$U/Mailbox"; ok $? ".qmail: mbox line delivered (comment and blank lines ignored)"
like "$(head -1 "$U/Mailbox")" '^From zs@example.net [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}$' "mbox: From_ line"
is "$(grep -c '^>From me$' "$U/Mailbox"):$(grep -c '^>>From you$' "$U/Mailbox"):$(grep -c '^>>>From x$' "$U/Mailbox")" 1:1:1 \
  "mbox: From_ and >From lines quoted once more (mboxrd)"
python3 - "$U/Mailbox" "$f" <<'PY'
import re, sys
mb = open(sys.argv[1], "rb").read().split(b"\n")
assert mb[0].startswith(b"From ")
body = [re.sub(rb"^>(>*From )", rb"\1", l) for l in mb[1:]]
text = b"\n".join(body)
assert text.endswith(b"\n\n")
sys.exit(0 if text[:-1] == open(sys.argv[2], "rb").read() else 1)
PY
ok $? "mbox: unquoting gives back exactly the Maildir copy (reversible)"

# --- programs
wait_until test -s "$U/env.out"; ok $? "|program ran"
exp="zs@example.net|zs@example.net|zu-env-a-b-c@hub.example.org|$RNAME|$U|hub.example.org|hub.example|hub|zu-env-a-b-c|env-a-b-c|a-b-c|b-c|c|a-b-c|Delivered-To: zu-env-a-b-c@hub.example.org
|Return-Path: <zs@example.net>
|"
is "$(cat "$U/env.out")" "$exp" "|program environment: SENDER NEWSENDER RECIPIENT USER HOME HOST HOST2 HOST3 LOCAL EXT EXT2-4 DEFAULT DTLINE RPLINE"
like "$(cat "$U/ufline.out")" '^From zs@example.net .*[0-9]{4}$' "|program environment: UFLINE"
ok "$([ -e "$U/host4" ]; echo $?)" "|program environment: HOST4 set"
wait_until has_file "$U/M0/new" 1; ok $? "exit 0: the next line runs"
wait_until has_file "$S/B/new" 2 'exit(100|64)'; ok $? "exit 100 and 64: bounced to the sender"
like "$(cat "$(one "$S/B/new" 'Subject: exit100')" | tr '\n' ' ')" '<zu-e100@hub.example.org>: The .qmail program failed permanently \(exit code 100\)\. \(#5\.2\.0\) ' "exit 100: bounce text names the code, not the command"
wait_until inlog 'deferral: The .qmail program failed temporarily \(exit code 111\)'; ok $? "exit 111: deferred"
wait_until inlog 'deferral: The .qmail program failed temporarily \(exit code 3\)'; ok $? "exit 3: deferred"
wait_until inlog 'success: did 0\+0\+1'; ok $? "exit 99: success, later lines skipped"

# --- forwards
wait_until has_file "$U/T1/new" 2; ok $? "&forward to another local address"
wait_until has_file "$U/T2/new" 1; ok $? "bare-address forward"
f=$(one "$U/T1/new" 'Subject: fwd')
like "$(head -5 "$f" | tr '\n' '~')" '^Return-Path: <zs@example.net>~Delivered-To: zu-t1@hub.example.org~Received: \(qmail [0-9]+ invoked by uid [0-9]+ id [0-9.]+\);[^~]*~Delivered-To: zu-fwd@hub.example.org~Received: ' \
  "forwarded copy: sender kept, both Delivered-To lines, newest on top"
is "$(grep -c 'Subject: fwd' "$(one "$U/T2/new" 'Subject: fwd')")" 1 "the bare-address copy is the same message"
ok "$(has_file "$U/T1/new" 1 'Subject: ZU-T1'; echo $?)" "upper-case local part finds the users/assign entry"

# --- loop, world-writable
wait_until has_file "$S/B/new" 1 'Subject: loop'; ok $? "forward loop: bounced"
like "$(cat "$(one "$S/B/new" 'Subject: loop')" | tr '\n' ' ')" '<zu-loopa@hub.example.org>:.*looping: it already has my Delivered-To line. \(#5\.4\.6\)' \
  "forward loop: #5.4.6 (R16)"
wait_until inlog 'deferral: Uh-oh: .qmail-ww is world-writable'; ok $? "world-writable .qmail: deferred, not followed"

# --- helpers
wait_until test -s "$U/pl.out"; ok $? "preline: ran"
like "$(head -3 "$U/pl.out" | tr '\n' '~')" '^From zs@example.net .*~Return-Path: <zs@example.net>~Delivered-To: zu-pl@hub.example.org~$' "preline: From_, Return-Path, Delivered-To on top"
wait_until has_file "$U/T3/new" 1 'Subject: cr1'; ok $? "condredirect: matching mail redirected"
wait_until has_file "$U/CR/new" 1 'Subject: cr2'; ok $? "condredirect: other mail goes on to the next line"
! has_file "$U/CR/new" 1 'Subject: cr1'; ok $? "condredirect: a redirected message stops there (exit 99)"
wait_until has_file "$S/B/new" 1 'Subject: bs1'; ok $? "bouncesaying: bounced"
like "$(cat "$(one "$S/B/new" 'Subject: bs1')" | tr '\n' ' ')" '<zu-bs@hub.example.org>: We do not take unwanted mail.' "bouncesaying: its text in the bounce"
wait_until has_file "$U/Maildir/new" 1 'Subject: bs2'; ok $? "bouncesaying: other mail delivered"
wait_until has_file "$S/B/new" 1 'Subject: ex1'; ok $? "except: matching mail bounced"
wait_until has_file "$U/MX/new" 1 'Subject: ex2'; ok $? "except: other mail delivered (grep's 1 is no deferral)"
wait_until has_file "$U/QR/new" 1 'Subject: qr'; ok $? "qreceipt: the message is delivered"
wait_until has_file "$S/R/new" 1 'zu-qr@hub.example.org'; ok $? "qreceipt: a notice reaches the sender"
like "$(head -1 "$(one "$S/R/new" 'zu-qr')")" '^Return-Path: <>$' "qreceipt: the notice has a null sender"

# --- lookup levels
wait_until has_file "$D/DAB/new" 1; ok $? "zd-a-b-c: .qmail-a-b-default"
wait_until has_file "$D/DA/new" 1; ok $? "zd-a-x-y: .qmail-a-default"
wait_until has_file "$D/DD/new" 1; ok $? "zd-q: .qmail-default"
wait_until has_file "$D/DEX/new" 1; ok $? "zd-a-b: the exact name wins over -default"
wait_until has_file "$D/DOT/new" 1; ok $? "zd-Dot.Name: lowercased, dots as ':' (.qmail-dot:name)"
is "$(nfiles "$D/DD/new")" 1 "nothing else fell through to .qmail-default"
wait_until has_file "$T/home/zn/Maildir/new" 1; ok $? "no .qmail: defaultdelivery's Maildir line"
wait_until test -s "$T/home/zn/ddmbox"; ok $? "no .qmail: defaultdelivery's second line (mbox)"
wait_until has_file "$T/home/zx/BOX/new" 1; ok $? "users/assign exact line with an ext (.qmail-box)"
wait_until has_file "$T/home/zw/PF/new" 1; ok $? "users/assign wildcard line: ext prefix + rest (.qmail-pre-foo)"
wait_until has_file "$T/home/zw/PD/new" 1; ok $? "users/assign wildcard line: .qmail-pre-default"
wait_until has_file "$A/ZA/new" 1; ok $? "address without users/assign entry: alias home, .qmail-zalias-default"

# --- the queue: only the three deferred messages are left
wait_until files_eq "$HUB/queue/mess" 3; ok $? "only the deferred messages stay queued"
is "$(nfiles "$S/B/new")" 5 "exactly one bounce per permanent failure"
like "$(qlog)" 'bounce msg [0-9]+ to <zs-b@hub.example.org>: injected' "qmail-send logs the bounces"
done_testing
