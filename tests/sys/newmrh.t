#!/bin/bash
# newmrh.t: qmail-newmrh compiles control/morercpthosts into
# morercpthosts.cdb (hub/admin/qmail-newmrh.8), and qmail-smtpd accepts a
# domain that is only there (hub/servers/rcpthosts.c: the host or a
# ".suffix" of it as a key), from the next connection on; a bad entry or a
# missing list fails and leaves the old table in place.
. "$(dirname "$0")/../lib/common.sh"
H=$T/home
qmake install QMAILHOME="$H" > "$T/install.log" 2>&1 ||
  { sed 's/^/# /' "$T/install.log"; echo "Bail out! make install failed"; exit 1; }
[ -x "$H/bin/qmail-newmrh" ] || { echo "Bail out! qmail-newmrh not installed"; exit 1; }
echo hub.example.org > "$H/control/me"
echo hub.example.org > "$H/control/rcpthosts"
echo 0 > "$H/control/rcptcheck"
rcpt() { # ADDR: the reply code of RCPT TO:<ADDR> from a client that may not relay
  printf 'HELO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<%s>\r\nQUIT\r\n' "$1" |
    env -i TCPREMOTEIP=192.0.2.7 timeout 30 "$H/bin/qmail-smtpd" 2> /dev/null | tr -d '\r' | sed -n 4p | cut -c1-3
}
is "$(rcpt u@extra.example)" 553 "before: a domain not in rcpthosts is refused"
printf '# more domains\nEXTRA.example  \n\n.sub.example\n' > "$H/control/morercpthosts"
out=$(QMAILHOME=$H "$H/bin/qmail-newmrh" 2>&1); rc=$?
is "$rc:$out" "0:2 domains in control/morercpthosts.cdb" "qmail-newmrh: exit 0, the count"
is "$(stat -c %a "$H/control/morercpthosts.cdb")$(ls "$H/control" | grep -c 'cdb\.tmp')" 6440 "the table is 0644, no temporary file left"
is "$(rcpt u@extra.example)" 250 "a domain only in morercpthosts is accepted"
is "$(rcpt u@Extra.EXAMPLE)" 250 "... without regard to case"
is "$(rcpt u@a.sub.example)" 250 "a host under a .suffix entry is accepted"
is "$(rcpt u@sub.example)" 553 "the .suffix entry does not name the domain itself"
is "$(rcpt u@other.example)" 553 "a domain in neither list is still refused"
is "$(rcpt u@hub.example.org)" 250 "rcpthosts still counts"
cp "$H/control/morercpthosts.cdb" "$T/old.cdb"
printf 'extra.example\nbad domain.example\n' > "$H/control/morercpthosts"
out=$(QMAILHOME=$H "$H/bin/qmail-newmrh" 2>&1); rc=$?
is "$rc" 111 "an entry with a space: exit 111"
like "$out" "entry 2 is not a domain" "... naming the entry"
cmp -s "$T/old.cdb" "$H/control/morercpthosts.cdb"
ok $? "... and the old table left in place"
printf 'x@extra.example\n' > "$H/control/morercpthosts"
out=$(QMAILHOME=$H "$H/bin/qmail-newmrh" 2>&1); rc=$?
is "$rc" 111 "an entry with an @: exit 111"
rm "$H/control/morercpthosts"
out=$(QMAILHOME=$H "$H/bin/qmail-newmrh" 2>&1); rc=$?
is "$rc" 111 "a missing list: exit 111"
like "$out" "unable to read control/morercpthosts: file does not exist" "... with a clear message"
cmp -s "$T/old.cdb" "$H/control/morercpthosts.cdb"
ok $? "... and the old table left in place"
out=$(QMAILHOME=$H "$H/bin/qmail-newmrh" extra 2>&1); rc=$?
is "$rc" 100 "an argument: usage, exit 100"
done_testing
