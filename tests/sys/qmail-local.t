#!/bin/bash
# qmail-local.t: qmail-local and the .qmail helpers (preline, condredirect,
# bouncesaying, except, qreceipt) end to end from the build tree.
# qmail-local refuses root, so as root a throwaway user is created (useradd)
# and qmail-local runs as that user through setpriv; otherwise as ourselves.
# Covers: Maildir and mbox delivery (content exact, mboxrd, truncate-back),
# |program environment and exit-code mapping, &forward through
# tests/lib/qq-record.sh, .qmail-ext/-default lookup, the loop check, unsafe
# home/.qmail refusals, -n listing. TAP on stdout; run by prove.
source "$(dirname "$0")/../lib/common.sh"
B=$SRCDIR/$BUILD/hub
export TZ=UTC
H=$T/home/u
mkdir -p "$H" "$T/qq"
chmod 755 "$T/home"

if [ "$(id -u)" = 0 ]; then
  U=qlt$$
  useradd -M -U -d "$H" -s /bin/sh "$U" || { echo "Bail out! useradd failed"; exit 1; }
  trap 'userdel "$U" >/dev/null 2>&1; groupdel "$U" >/dev/null 2>&1; cleanup' EXIT
  chown "$U:$U" "$H" "$T/qq"
  asuser() { setpriv --reuid="$U" --regid="$U" --clear-groups -- "$@"; }
else
  U=$(id -un)
  asuser() { "$@"; }
fi
chmod 755 "$H"
# qmail-local passes only QMAILQUEUE and QMAILHOME of its environment on,
# so the recorder's settings live in a wrapper: $T/qq.exit sets QQ_EXIT
printf '#!/bin/sh\nQQ_OUT=%s/qq; export QQ_OUT\n[ -f %s/qq.exit ] && QQ_EXIT=$(cat %s/qq.exit) && export QQ_EXIT\nexec %s/tests/lib/qq-record.sh\n' \
  "$T" "$T" "$T" "$SRCDIR" > "$T/qq.sh"
chmod 755 "$T/qq.sh"
export QMAILQUEUE=$T/qq.sh QQ_OUT=$T/qq

MSG=$T/msg
printf 'Subject: hi\nFrom: a@b\n\nFrom me\n>From you\nbody\n' > "$MSG"
SENDER=s@x.org

# ql LOCAL DASH EXT DEFAULTDELIVERY [MSGFILE]: run qmail-local; sets out, rc.
ql() {
  out=$(asuser "$B/qmail-local" "$U" "$H" "$1" "$2" "$3" example.org "$SENDER" "$4" < "${5:-$MSG}" 2>&1)
  rc=$?
}
# dq NAME TEXT: write a .qmail file as the user.
dq() { printf '%s' "$2" | asuser sh -c "cat > '$H/$1'"; }
mkmd() { asuser mkdir -p "$H/$1/tmp" "$H/$1/new" "$H/$1/cur"; }
count() { find "$1" -type f | wc -l | tr -d ' '; }

# --- Maildir through defaultdelivery
mkmd Maildir
ql "$U" "" "" ./Maildir/
is "$rc" 0 "maildir: exit 0"; [ "$rc" = 0 ] || echo "# $out"
is "$(count "$H/Maildir/new")" 1 "maildir: one file in new/"
is "$(count "$H/Maildir/tmp")" 0 "maildir: tmp/ empty"
f=$(find "$H/Maildir/new" -type f | head -1)
exp=$(printf 'Return-Path: <s@x.org>\nDelivered-To: %s@example.org\n' "$U"; cat "$MSG")
is "$(cat "$f")" "$exp" "maildir: content exact"
like "$(basename "$f")" '^[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+R[0-9a-f]+\..+' "maildir: name shape"

# --- a name created for a delivery is flushed with its directory (the root
# filesystem may have no journal): a new mbox, an autocreated Maildir
if command -v strace > /dev/null; then
  qls() { # DEFAULTDELIVERY: ql under strace, fsyncs with their paths in $T/qq/st
    out=$(asuser env ASAN_OPTIONS=detect_leaks=0 strace -f -y -e trace=fsync -o "$T/qq/st" "$B/qmail-local" "$U" "$H" "$U" "" "" example.org "$SENDER" "$1" < "$MSG" 2>&1)
    rc=$?
  }
  qls ./NewBox
  is "$rc:$(grep -c "^[0-9]* *fsync([0-9]*<$H>)" "$T/qq/st")" "0:1" "new mbox: the home is flushed once (its entry for the mbox)"
  qls ./NewBox
  is "$rc:$(grep -c "^[0-9]* *fsync([0-9]*<$H>)" "$T/qq/st")" "0:0" "existing mbox: no directory flush"
  qls ./NewMd/
  is "$rc:$(grep -c "^[0-9]* *fsync([0-9]*<$H>)" "$T/qq/st"):$(grep -c "^[0-9]* *fsync([0-9]*<$H/NewMd>)" "$T/qq/st")" "0:1:1" \
     "autocreated Maildir: the home and the Maildir are flushed (their new entries)"
  is "$(count "$H/NewMd/new")" 1 "autocreated Maildir: delivered"
  rm -rf "$H/NewBox" "$H/NewMd"
else
  for _ in 1 2 3 4; do ok 0 "# skip no strace"; done
fi

# --- mbox
ql "$U" "" "" ./Mailbox
is "$rc" 0 "mbox: exit 0"
ql "$U" "" "" ./Mailbox
is "$(grep -c '^From s@x.org ' "$H/Mailbox")" 2 "mbox: two From_ lines after two deliveries"
like "$(head -1 "$H/Mailbox")" '^From s@x.org [A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]{8} [0-9]{4}$' "mbox: From_ line shape"
is "$(grep -c '^>From me$' "$H/Mailbox")" 2 "mbox: From  quoted"
is "$(grep -c '^>>From you$' "$H/Mailbox")" 2 "mbox: >From  quoted again"
is "$(sed -n 2,3p "$H/Mailbox")" "$(printf 'Return-Path: <s@x.org>\nDelivered-To: %s@example.org' "$U")" "mbox: envelope lines"
size=$(stat -c %s "$H/Mailbox")
head -c 20000 /dev/zero | tr '\0' 'x' | fold -w 70 > "$T/big"
out=$(asuser bash -c "trap '' XFSZ; ulimit -f 8; exec '$B/qmail-local' '$U' '$H' '$U' '' '' example.org s@x.org ./Mailbox" < "$T/big" 2>&1); rc=$?
is "$rc" 111 "mbox: write failure is temporary"
like "$out" "Unable to write to $H/Mailbox: " "mbox: failure while writing, absolute path"
is "$(stat -c %s "$H/Mailbox")" "$size" "mbox: truncated back to the old size"

# --- programs and their environment
dq .qmail-p-default '|printf "%s\n" "$RECIPIENT" "$SENDER" "$EXT" "$DEFAULT" "$DTLINE" "$HOST2" "$EXT2" > prog.out
'
ql "$U-p-xyz" - p-xyz ./Maildir/
is "$rc" 0 "program: exit 0"
is "$(cat "$H/prog.out")" "$(printf '%s\n' "$U-p-xyz@example.org" s@x.org p-xyz xyz "Delivered-To: $U-p-xyz@example.org" "" example xyz)" "program: environment"
dq .qmail-cat '|cat > cat.out'
ql "$U-cat" - cat ./Maildir/
is "$(cat "$H/cat.out")" "$(cat "$MSG")" "program: gets the message as is"

n0=$(count "$H/Maildir/new")
dq .qmail-e99 '|exit 99
./Maildir/
'
ql "$U-e99" - e99 ./Maildir/
is "$rc" 0 "program 99: success"
is "$(count "$H/Maildir/new")" "$n0" "program 99: later lines skipped"
for c in 100:100 64:100 112:100 111:111 1:111 0:0; do
  dq .qmail-ex "|exit ${c%:*}"
  ql "$U-ex" - ex ./Maildir/
  is "$rc" "${c#*:}" "program exit ${c%:*} -> ${c#*:}"
done
dq .qmail-ex '|kill -9 $$'
ql "$U-ex" - ex ./Maildir/
is "$rc" 111 "program killed -> 111"

# --- forwarding
dq .qmail-fwd '&a@example.net
b@example.net
'
ql "$U-fwd" - fwd ./Maildir/
is "$rc" 0 "forward: exit 0"
is "$(tr '\0' '|' < "$T/qq/envelope")" "Fs@x.org|Ta@example.net|Tb@example.net||" "forward: one copy, both recipients, sender kept"
is "$(cat "$T/qq/message")" "$(printf 'Delivered-To: %s-fwd@example.org\n' "$U"; cat "$MSG")" "forward: Delivered-To added"
echo 31 > "$T/qq.exit"; ql "$U-fwd" - fwd ./Maildir/
is "$rc" 100 "forward: permanent queue refusal -> 100"
echo 53 > "$T/qq.exit"; ql "$U-fwd" - fwd ./Maildir/; rm -f "$T/qq.exit"
is "$rc" 111 "forward: temporary queue failure -> 111"

# --- ext lookup
mkmd M2
dq .qmail-foo-default './M2/
'
ql "$U-foo-bar" - foo-bar ./Maildir/
is "$rc" 0 "lookup: -default used"
is "$(count "$H/M2/new")" 1 "lookup: .qmail-foo-default delivered"
dq .qmail-foo-bar './M2/
./M2/
'
ql "$U-Foo-Bar" - Foo-Bar ./Maildir/
is "$(count "$H/M2/new")" 3 "lookup: exact name wins, lowercased"
ql "$U-none" - none ./Maildir/
is "$rc" 100 "lookup: no such extension -> 100"
like "$out" 'no mailbox here' "lookup: text"
dq .qmail-a:b './M2/
'
ql "$U-a.b" - a.b ./Maildir/
is "$(count "$H/M2/new")" 4 "lookup: dots become colons"

# --- loops
printf 'Delivered-To: %s@EXAMPLE.org\nSubject: x\n\nbody\n' "$U" > "$T/loop"
ql "$U" "" "" ./Maildir/ "$T/loop"
is "$rc" 100 "loop: own Delivered-To -> 100"
like "$out" 'This message is looping: it already has my Delivered-To line. \(#5.4.6\)' "loop: text"
printf 'Delivered-To: other@example.org\n\nbody\n' > "$T/noloop"
ql "$U" "" "" ./Maildir/ "$T/noloop"
is "$rc" 0 "loop: another Delivered-To is fine"

# --- safety
dq .qmail-ww './Maildir/
'
chmod 666 "$H/.qmail-ww"
ql "$U-ww" - ww ./Maildir/
is "$rc" 111 "world-writable .qmail -> 111"
dq .qmail-x './Maildir/
'
chmod 755 "$H/.qmail-x"
ql "$U-x" - x ./Maildir/
is "$rc" 111 "executable .qmail with a maildir line -> 111"
dq .qmail-xf '&c@example.net
'
chmod 755 "$H/.qmail-xf"
ql "$U-xf" - xf ./Maildir/
is "$rc" 0 "executable .qmail may forward"
chmod 775 "$H"
ql "$U" "" "" ./Maildir/
is "$rc" 111 "group-writable home -> 111"
chmod 1755 "$H"
ql "$U" "" "" ./Maildir/
is "$rc" 111 "sticky home -> 111"
chmod 755 "$H"
out=$(printf 'x\n' | asuser "$B/qmail-local" "$U" "$H" "$U" "" "" example.org s ./Maildir/ 2>&1); rc=$?
is "$rc" 111 "unseekable input -> 111"
if [ "$(id -u)" = 0 ]; then
  "$B/qmail-local" root "$H" u "" "" example.org s ./Maildir/ < "$MSG" > /dev/null 2>&1
  is "$?" 111 "refuses to run as root"
fi

# --- -n
dq .qmail-list '# c
|prog arg
&f@example.net
./Mbox
./Md/
'
out=$(asuser "$B/qmail-local" -n "$U" "$H" "$U-list" - list example.org s ./Maildir/ < "$MSG"); rc=$?
is "$rc" 0 "-n: exit 0"
is "$out" "$(printf 'program: prog arg\nforward: f@example.net\nmbox: ./Mbox\nmaildir: ./Md/')" "-n: listing"

# --- helpers, through qmail-local
dq .qmail-pl "|$B/preline cat > pl.out
"
ql "$U-pl" - pl ./Maildir/
is "$rc" 0 "preline: exit 0"
like "$(head -1 "$H/pl.out")" '^From s@x.org ' "preline: UFLINE first"
is "$(sed -n 2,3p "$H/pl.out")" "$(printf 'Return-Path: <s@x.org>\nDelivered-To: %s-pl@example.org' "$U")" "preline: RPLINE, DTLINE"
is "$(tail -n +4 "$H/pl.out")" "$(cat "$MSG")" "preline: then the message"
dq .qmail-cr "|$B/condredirect new@example.net grep -q hi
./Maildir/
"
n0=$(count "$H/Maildir/new")
ql "$U-cr" - cr ./Maildir/
is "$rc" 0 "condredirect: match handled"
is "$(tr '\0' '|' < "$T/qq/envelope")" "Fs@x.org|Tnew@example.net||" "condredirect: forwarded"
is "$(count "$H/Maildir/new")" "$n0" "condredirect: 99 stops delivery"
dq .qmail-bs "|$B/bouncesaying 'No thanks.' grep -q hi
"
ql "$U-bs" - bs ./Maildir/
is "$rc" 100 "bouncesaying via qmail-local -> 100"
like "$out" 'No thanks' "bouncesaying: text"

# --- helpers, directly
export UFLINE='From u x
' RPLINE='Return-Path: <r>
' DTLINE='Delivered-To: d
' NEWSENDER=ns@example.org SENDER=s@x.org
is "$(echo body | "$B/preline" cat)" "$(printf 'From u x\nReturn-Path: <r>\nDelivered-To: d\nbody')" "preline: all three"
is "$(echo body | "$B/preline" -d -f cat)" "$(printf 'Return-Path: <r>\nbody')" "preline -d -f"
is "$(echo body | "$B/preline" -r cat)" "$(printf 'From u x\nDelivered-To: d\nbody')" "preline -r"
echo body | "$B/preline" sh -c 'exit 7'; is "$?" 7 "preline: passes the exit code"
rm -f "$T/qq/envelope"
"$B/condredirect" n@example.net true < "$MSG"; is "$?" 99 "condredirect: 0 -> forward, 99"
is "$(tr '\0' '|' < "$T/qq/envelope")" "Fns@example.org|Tn@example.net||" "condredirect: NEWSENDER used"
is "$(head -1 "$T/qq/message")" "Delivered-To: d" "condredirect: DTLINE first"
"$B/condredirect" n@example.net false < "$MSG"; is "$?" 0 "condredirect: nonzero -> 0"
"$B/condredirect" n@example.net sh -c 'exit 111' < "$MSG"; is "$?" 111 "condredirect: 111 -> 111"
out=$("$B/bouncesaying" 'Go away.'); is "$?:$out" "100:Go away." "bouncesaying alone"
"$B/bouncesaying" x true > /dev/null; is "$?" 100 "bouncesaying: 0 -> 100"
"$B/bouncesaying" x false; is "$?" 0 "bouncesaying: 1 -> 0"
"$B/bouncesaying" x sh -c 'exit 111'; is "$?" 111 "bouncesaying: 111 -> 111"
"$B/except" true; is "$?" 100 "except: 0 -> 100"
"$B/except" sh -c 'exit 100'; is "$?" 0 "except: 100 -> 0"
"$B/except" sh -c 'exit 111'; is "$?" 111 "except: 111 passes"
"$B/except" false; is "$?" 0 "except: 1 -> 0 (as qmail: a grep without a match is no deferral)"
rm -f "$T/qq/envelope"
printf 'Notice-Requested-Upon-Delivery-To: <me@example.org>, x@y\n\nhi\n' | "$B/qreceipt" me@example.org
is "$?" 0 "qreceipt: exit 0"
is "$(tr '\0' '|' < "$T/qq/envelope")" "F|Ts@x.org||" "qreceipt: notice to the sender, null sender"
rm -f "$T/qq/envelope"
printf 'Subject: x\n\nhi\n' | "$B/qreceipt" me@example.org
ok "$([ ! -e "$T/qq/envelope" ]; echo $?)" "qreceipt: no request, no notice"

done_testing
