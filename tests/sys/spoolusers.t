#!/bin/bash
# spoolusers.t: the leaf's spool between users (docs/spool.md sec 2), as
# root with two throwaway users (qspool1, qspool2; skipped otherwise: a
# normal user cannot be two users). On an installed leaf, no hub:
#  - both keep 10 messages at the same time: each gets its own directory
#    (0700) and files (0600); neither can list, read, create, remove or
#    rename the other's, and -list shows each only its own
#  - a user's flush sends only that user's; root's flush sends the rest,
#    each user's as that user
#  - a user who takes another's name first (a directory, a symbolic link)
#    denies that user the spool, loudly (exit 111, the warning names the
#    cause), and root's flush leaves that name alone
#  - a symbolic link planted as a message in one's own directory is not
#    followed by root's flush (nothing of its target reaches the hub)
#  - a spool/ the user cannot write: exit 111, never a silent loss
. "$(dirname "$0")/../lib/common.sh"
if [ "$(id -u)" != 0 ]; then echo "1..0 # skip needs root to be two users"; exit 0; fi
for c in setpriv useradd; do
  command -v "$c" > /dev/null || { echo "1..0 # skip no $c"; exit 0; }
done
for u in qspool1 qspool2; do
  id "$u" > /dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$u" ||
    { echo "1..0 # skip cannot create user $u"; exit 0; }
done
U1=$(id -u qspool1) U2=$(id -u qspool2)
leaf=$T/leaf
install_leaf "$leaf" || { echo "Bail out! make install-leaf failed"; exit 1; }
S=$leaf/spool
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "127.0.0.1:$DEAD" > "$leaf/control/qmqpservers"
# as USER CMD...: run as that user, no other group, a cron-like environment
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups env -i PATH=/usr/bin:/bin LOGNAME="$u" "$@"; }
mkdir -p "$T/m"; chmod 755 "$T/m"
for u in 1 2; do for i in $(seq 10); do
  printf 'To: bob@example.org\nSubject: u%s n%s\n\nsecret of user %s\n' "$u" "$i" "$u" > "$T/m/$u.$i"
done; done
chmod 644 "$T"/m/*
keep() { local i; for i in $(seq 10); do as "qspool$1" "$leaf/bin/sendmail" -t < "$T/m/$1.$i" 2> /dev/null || echo "rc $?"; done > "$T/keep$1.out"; }
keep 1 & p1=$!
keep 2 & p2=$!
wait "$p1" "$p2"
is "$(cat "$T/keep1.out" "$T/keep2.out")" "" "two users keeping 10 messages each at the same time: all exit 0"
is "$(stat -c '%a %U' "$S/$U1" "$S/$U2" | tr '\n' ' ')" "700 qspool1 700 qspool2 " "each has its own directory, mode 0700"
is "$(find "$S/$U1" "$S/$U2" -type f -printf '%m %u\n' | sort | uniq -c | tr -s ' ' | tr '\n' ' ')" \
   " 10 600 qspool1  10 600 qspool2 " "10 files each, mode 0600, its own"
f2=$(ls "$S/$U2" | head -1)
as qspool1 ls "$S/$U2" > /dev/null 2>&1
ok "$([ $? != 0 ]; echo $?)" "user 1 cannot list user 2's directory"
as qspool1 cat "$S/$U2/$f2" > "$T/stolen" 2>/dev/null
ok "$([ $? != 0 ] && ! grep -q 'secret of user 2' "$T/stolen"; echo $?)" "nor read user 2's message"
as qspool1 rm -f "$S/$U2/$f2" 2>/dev/null
as qspool1 sh -c ": > '$S/$U2/$f2'" 2>/dev/null
as qspool1 sh -c ": > '$S/$U2/9999999999.000000000.1'" 2>/dev/null
ok "$([ "$(find "$S/$U2" -type f | wc -l)" = 10 ] && grep -q 'secret of user 2' "$S/$U2/$f2"; echo $?)" \
   "nor remove, empty or add one"
as qspool1 mv "$S/$U2" "$S/stolen" 2>/dev/null
as qspool1 rm -rf "$S/$U2" 2>/dev/null
ok "$([ -d "$S/$U2" ] && [ ! -e "$S/stolen" ]; echo $?)" "nor rename or remove the directory (spool/ is sticky)"
l1=$(as qspool1 "$leaf/bin/qmail-qmqpc" -list)
like "$(echo "$l1" | head -1)/$(echo "$l1" | grep -c 'from <qspool1@')/$(echo "$l1" | grep -c qspool2)" "^$S/$U1: 10 messages, [0-9]+ bytes/10/0$" \
     "qmail-qmqpc -list shows user 1 its own 10 and nothing of user 2's"

mkdir -p "$T/f"
start_fake K --logdir "$T/f" --lifetime 300
echo "127.0.0.1:$FAKE_PORT" > "$leaf/control/qmqpservers"
as qspool1 "$leaf/bin/qmail-qmqpc" -flush
is "$?/$(cat "$T"/f/conn-*.raw 2>/dev/null | grep -ac 'secret of user 1')/$(cat "$T"/f/conn-*.raw 2>/dev/null | grep -ac 'secret of user 2')" \
   "0/10/0" "user 1's flush sends user 1's 10, none of user 2's"
ok "$([ ! -e "$S/$U1" ] && [ "$(find "$S/$U2" -type f | wc -l)" = 10 ]; echo $?)" "user 1's directory is gone, user 2's is whole"
"$leaf/bin/qmail-qmqpc" -flush
is "$?/$(cat "$T"/f/conn-*.raw | grep -ac 'secret of user 2')/$(ls "$S")" "0/10/" "root's flush sends user 2's too; the spool is empty"
is "$(cat "$T"/f/conn-*.raw | grep -ac 'secret of user')" 20 "20 messages in all, each once"

# ---- taking another's name -------------------------------------------------------
echo "127.0.0.1:$DEAD" > "$leaf/control/qmqpservers"
as qspool1 mkdir -m 700 "$S/$U2"
err=$(as qspool2 "$leaf/bin/sendmail" -t < "$T/m/2.1" 2>&1); rc=$?
like "$rc/$(echo "$err" | head -1)" "^111/sendmail: warning: not kept in the spool: $S/$U2 belongs to uid $U1, not to this user$" \
     "user 1 took user 2's name: user 2 is denied the spool, loudly (exit 111)"
err=$("$leaf/bin/qmail-qmqpc" -flush 2>&1)
like "$err" "$S/$U2 is not a directory owned by uid $U2: left alone" "root's flush leaves the taken name alone"
rmdir "$S/$U2"
as qspool1 ln -s /tmp "$S/$U2"
err=$(as qspool2 "$leaf/bin/sendmail" -t < "$T/m/2.1" 2>&1); rc=$?
like "$rc/$(echo "$err" | head -1)" "^111/sendmail: warning: not kept in the spool: $S/$U2 is not a directory$" \
     "a symbolic link in its place is not followed (exit 111)"
rm -f "$S/$U2"

# ---- a planted link is not followed by root's flush --------------------------------
as qspool1 "$leaf/bin/sendmail" -t < "$T/m/1.1" 2> /dev/null
printf 'x\nFqspool1@x\0Tthief@example.org\0\0root secret\n' > "$T/rootonly"; chmod 600 "$T/rootonly"
as qspool1 ln -s "$T/rootonly" "$S/$U1/0000000001.000000000.1"
rm -f "$T"/f/conn-*
echo "127.0.0.1:$FAKE_PORT" > "$leaf/control/qmqpservers"
err=$("$leaf/bin/qmail-qmqpc" -flush 2>&1)
like "$err" "0000000001\.000000000\.1: unreadable, left where it is" "root's flush: a symbolic link planted as a message is not followed"
ok "$(! cat "$T"/f/conn-*.raw 2>/dev/null | grep -aq 'root secret'; echo $?)" "nothing of its target reaches the hub"
is "$(cat "$T"/f/conn-*.raw 2>/dev/null | grep -ac 'secret of user 1')" 1 "the user's real message went"
rm -f "$S/$U1/0000000001.000000000.1"; rmdir "$S/$U1" 2>/dev/null

# ---- a spool/ the user cannot write ----------------------------------------------------
echo "127.0.0.1:$DEAD" > "$leaf/control/qmqpservers"
chmod 755 "$S"
err=$(as qspool2 "$leaf/bin/sendmail" -t < "$T/m/2.2" 2>&1); rc=$?
like "$rc/$(echo "$err" | head -1)" "^111/sendmail: warning: not kept in the spool: $S/$U2: unable to create: Permission denied$" \
     "a spool/ the user cannot write: exit 111 and why"
like "$(echo "$err" | tail -1)" '^sendmail: fatal: no hub took the message' "and the cause of the failure, as before"
chmod 1777 "$S"
done_testing
