#!/bin/bash
# tests/sys/lspawn.t: qmail-lspawn end to end in single-user mode (run as
# nobody when the test runs as root) with a fake HOME/bin/qmail-local that
# records its argv and acts on the address: K, Z (111, 75), D (100, 42),
# a crash, and a missing message file; users/cdb from qmail-newu decides
# user/home/dash/ext for listed addresses, the rest go to HOME/alias.
source "$(dirname "$0")/../lib/common.sh"
B=$SRCDIR/$BUILD/hub
H=$T/home
mkdir -p "$H/bin" "$H/users" "$H/alias" "$H/joe" "$H/queue/mess/7" "$H/log"
cat > "$H/bin/qmail-local" <<'SH'
#!/bin/sh
# fake qmail-local: record argv and the message, then act on local ($4)
log="$(dirname "$0")/../log/$4"
printf '%s|' "$@" > "$log"; echo >> "$log"
cat >> "$log"
case "$4" in
  k*) echo "did 0+0+1"; exit 0 ;;
  z*) echo "Temporary trouble." >&2; exit 111 ;;
  e75*) exit 75 ;;
  d*) echo "Sorry, no mailbox here by that name. (#5.1.1)" >&2; exit 100 ;;
  e42*) exit 42 ;;
  crash*) kill -9 $$ ;;
  *) exit 0 ;;
esac
SH
chmod 755 "$H/bin/qmail-local"
printf 'Subject: hi\n\nbody\n' > "$H/queue/mess/7/1234"
cat > "$H/users/assign" <<EOF2
=joe:joe:1:2:$H/joe:::
+kjoe-:joe:1:2:$H/joe:-:w-:
.
EOF2
QMAILHOME=$H "$B/qmail-newu"; ok $? "qmail-newu compiles users/assign"

asuser() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$H"

job() { printf '%s7/1234\0%s\0%s\0\0' "$1" "$2" "$3"; }
{ job a s@x.org k1@ex.org; job b s@x.org z1@ex.org; job c s@x.org e75@ex.org
  job d s@x.org d1@ex.org; job e s@x.org e42@ex.org; job f s@x.org crash@ex.org
  printf 'g7/999\0s@x\0k2@ex.org\0\0'; job h '' joe@ex.org; job i s@x.org kjoe-list-x@ex.org
} > "$T/jobs"
asuser env QMAILHOME="$H" "$B/qmail-lspawn" ./Maildir/ < "$T/jobs" > "$T/out"
ok $? "qmail-lspawn exits 0 at end of input"
res() { tr '\0' '\n' < "$T/out" | grep "^$1" ; }
is "$(res a)" "aKdid 0+0+1" "exit 0 => K with qmail-local's text"
is "$(res b)" "bZTemporary trouble." "exit 111 => Z with stderr text"
like "$(res c)" "^cZ.*exited 75" "exit 75 => Z"
is "$(res d)" "dDSorry, no mailbox here by that name. (#5.1.1)" "exit 100 => D"
like "$(res e)" "^eD.*exited 42" "other exit => D"
like "$(res f)" "^fZ.*crashed" "signal => Z"
like "$(res g)" "^gZUnable to open the message file" "missing message => Z"
is "$(tr -cd '\0' < "$T/out" | wc -c)" 9 "one report per job"
me=$(asuser id -un)
is "$(head -1 "$H/log/k1")" "--|$me|$H/alias|k1|-|k1|ex.org|s@x.org|./Maildir/|" "alias argv in single-user mode"
is "$(sed -n 2p "$H/log/k1")" "Subject: hi" "message on fd 0"
is "$(head -1 "$H/log/joe")" "--|joe|$H/joe|joe|||ex.org||./Maildir/|" "users/cdb exact entry, empty sender"
is "$(head -1 "$H/log/kjoe-list-x")" "--|joe|$H/joe|kjoe-list-x|-|w-list-x|ex.org|s@x.org|./Maildir/|" "users/cdb wildcard entry"

printf 'a7/1234\0s\0k@x\0k2@x\0\0' | asuser env QMAILHOME="$H" "$B/qmail-lspawn" ./Maildir/ > /dev/null 2>&1
is $? 111 "two recipients in one local job => exit 111"
printf 'a7/../x\0s\0k@x\0\0' | asuser env QMAILHOME="$H" "$B/qmail-lspawn" ./Maildir/ > /dev/null 2>&1
is $? 111 "bad message id => exit 111"
asuser env QMAILHOME="$H" "$B/qmail-lspawn" < /dev/null > /dev/null 2>&1
is $? 111 "no defaultdelivery => exit 111"
if [ "$(id -u)" = 0 ]; then
  # root mode: switch to the users/cdb uid; never run qmail-local as root
  mkdir -p "$H/nob"; chown 65534:65534 "$H/nob"
  printf '=knob:nobody:65534:65534:%s/nob:::\n=kroot:root:0:0:/root:::\n.\n' "$H" > "$H/users/assign"
  QMAILHOME=$H "$B/qmail-newu"
  sed -i 's/^log=.*/&; id -u > "$log.uid"/' "$H/bin/qmail-local"
  { job a s@x knob@ex.org; job b s@x kroot@ex.org; } | QMAILHOME=$H "$B/qmail-lspawn" ./Maildir/ > "$T/out"
  is "$(res a)" "aKdid 0+0+1" "root mode: K"
  is "$(cat "$H/log/knob.uid")" 65534 "root mode: qmail-local runs as the users/cdb uid"
  like "$(res b)" "^bZRefusing to deliver as root" "root mode: uid 0 refused"
  ok "$([ ! -e "$H/log/kroot" ]; echo $?)" "root mode: qmail-local not run for uid 0"
fi
printf '=a:a:1\n.\n' > "$H/users/assign"
cp "$H/users/cdb" "$T/cdb.before"
QMAILHOME=$H "$B/qmail-newu" 2> "$T/err"; is $? 111 "bad assign => 111"
like "$(cat "$T/err")" "line 1" "error names the line"
cmp -s "$H/users/cdb" "$T/cdb.before"; ok $? "users/cdb untouched on error"

# qmail-pw2u: passwd -> users/assign that qmail-newu accepts
if [ -x "$B/qmail-pw2u" ]; then
  printf 'ex\n' > "$H/users/exclude"; printf 'ann:anne:a.b\n' > "$H/users/mailnames"
  printf 'sub:joe:pfx:\n' > "$H/users/subusers"; printf '+:alias:7:7:/al:-::\n' > "$H/users/append"
  printf 'joe:x:1001:100:Joe:/home/joe:/bin/sh\nroot:x:0:0::/root:/bin/sh\nBob:x:5:5::/b:/bin/sh\nann:x:1002:100::/home/ann:/bin/sh\nex:x:9:9::/e:/x\n' \
    | QMAILHOME=$H "$B/qmail-pw2u" > "$H/users/assign"
  ok $? "qmail-pw2u exits 0"
  is "$(cat "$H/users/assign")" "=joe:joe:1001:100:/home/joe:::
+joe-:joe:1001:100:/home/joe:-::
=anne:ann:1002:100:/home/ann:::
+anne-:ann:1002:100:/home/ann:-::
=a.b:ann:1002:100:/home/ann:::
+a.b-:ann:1002:100:/home/ann:-::
=sub:joe:1001:100:/home/joe:-:pfx:
+sub-:joe:1001:100:/home/joe:-:pfx-:
+:alias:7:7:/al:-::
." "qmail-pw2u: root, upper case, excluded skipped; mailnames, subusers, append"
  QMAILHOME=$H "$B/qmail-newu"; ok $? "qmail-newu accepts qmail-pw2u's output"
  printf 'a:b\n' | QMAILHOME=$H "$B/qmail-pw2u" > /dev/null 2>&1; is $? 111 "qmail-pw2u: bad line => 111"
fi
done_testing
