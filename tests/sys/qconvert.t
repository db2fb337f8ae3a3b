#!/bin/bash
# qconvert.t: qmail-qconvert moves a stopped netqmail/notqmail queue into
# an installed hub's queue with nothing lost (hub/admin/qmail-qconvert.8,
# docs/migrating.md). The qmail queues are written in qmail's documented
# format by tests/lib/mkqmailq.py (qmail's own qmail-queue cannot run
# here: no qmail package on Debian 12, no network):
#   A  split 23, flat todo/: a queued message (one local, one remote
#      recipient); a preprocessed one with a local and a remote recipient
#      done and one of each pending; a preprocessed one whose recipients
#      are all done and whose bounce is pending; a half-written mess/ and a
#      half-written intd/ (left alone)
#   B  split 7, big-todo (todo/ and intd/ split too): one queued, one
#      preprocessed, one queued whose preprocessing was cut (todo with a
#      partial info and local: converted from todo, as qmail would redo it)
#   C  damaged messages (each left alone, its files untouched) next to a
#      good one (converted): a symlink as todo, an empty record in local
#      (NUL game), a control byte in an address, an address over
#      control/maxaddress, an info file over its cap (sparse, 17 MB)
# Then our qmail-send (fake qmail-lspawn and qmail-rspawn that say K and
# log each recipient) delivers every pending recipient exactly once, none
# of the done ones, and the bounce. Also: a dry run changes nothing; a
# second run converts nothing; refusals (our qmail-send or the source's
# running, a split that cannot be determined, our queue of the wrong
# owner, not root) exit 100 with a clear message.
. "$(dirname "$0")/../lib/common.sh"
command -v python3 > /dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP qmail-qconvert needs root (a root install's queue owners)"; exit 0; }
command -v flock > /dev/null || { echo "1..0 # SKIP no flock(1)"; exit 0; }
H=$T/home
export QMAILHOME=$H
qmake install QMAILHOME="$H" > "$T/install.log" 2>&1 ||
  { sed 's/^/# /' "$T/install.log"; echo "Bail out! make install failed"; exit 1; }
echo hub.example.org > "$H/control/me"
echo hub.example.org > "$H/control/locals"
QC=$H/bin/qmail-qconvert
[ -x "$QC" ] || { echo "Bail out! qmail-qconvert not installed"; exit 1; }
fake_lspawn "$H"
cp "$H/bin/qmail-lspawn" "$H/bin/qmail-rspawn"
export JOBLOG=$T/jobs
: > "$JOBLOG"
chmod 666 "$JOBLOG"; chmod 711 "$T"  # the fake qmail-rspawn runs as qmailr
MK="python3 $SRCDIR/tests/lib/mkqmailq.py"
Q=$H/queue

# ---- the qmail queues ----
A=$T/qa B=$T/qb C=$T/qc
$MK init "$A" 23
a_todo=$($MK todo "$A" alice@example.com t1a@hub.example.org t1b@remote.example)
a_pre=$($MK pre "$A" alice@example.com Tp1a@hub.example.org,Dp1done@hub.example.org \
  Dp1rdone@remote.example,Tp1r@remote.example)
a_bnc=$($MK pre "$A" alice@example.com Db1gone@hub.example.org - \
  '<b1gone@hub.example.org>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n')
a_half=$($MK mess "$A")
a_hint=$($MK intd "$A" alice@example.com halfintd@hub.example.org)
$MK init "$B" 7 big
b_todo=$($MK todo "$B" bob@example.com t2@hub.example.org)
b_pre=$($MK pre "$B" bob@example.com Tp2@hub.example.org -)
# cut while qmail-send preprocessed it: todo and a half-written info/local
b_cut=$($MK todo "$B" bob@example.com t3@hub.example.org)
printf 'Fbob@example.com\0' > "$B/info/$((b_cut % 7))/$b_cut"
printf 'Tstale@hub.example.org\0' > "$B/local/$((b_cut % 7))/$b_cut"
$MK init "$C" 23
c_good=$($MK todo "$C" carol@example.com good@hub.example.org)
c_link=$($MK todo "$C" carol@example.com symlinked@hub.example.org)
c_nul=$($MK pre "$C" carol@example.com Tnul1@hub.example.org,Tnul2@hub.example.org -)
c_ctl=$($MK pre "$C" carol@example.com Tctl@hub.example.org -)
c_long=$($MK todo "$C" carol@example.com long@hub.example.org)
c_big=$($MK pre "$C" carol@example.com Tbig@hub.example.org -)
like "$a_todo $a_pre $a_bnc $a_half $a_hint $b_todo $b_pre $b_cut $c_good $c_link $c_nul $c_ctl $c_long $c_big" \
  '^[0-9]+( [0-9]+){13}$' "qmail queues written"
cf() { echo "$C/$1/$(($2 % 23))/$2"; }
mv "$C/todo/$c_link" "$T/elsewhere" && ln -s "$T/elsewhere" "$C/todo/$c_link"
printf 'Tnul1@hub.example.org\0\0Tnul2@hub.example.org\0' > "$(cf local "$c_nul")"
printf 'Tctl@hub.exa\nmple.org\0' > "$(cf local "$c_ctl")"
printf 'u0\0p1\0Fcarol@example.com\0T%s@hub.example.org\0' "$(head -c 1001 /dev/zero | tr '\0' x)" > "$C/todo/$c_long"
truncate -s 17M "$(cf info "$c_big")"

snap() { find "$1" -printf '%p %i %s %m %T@\n' | sort; }
qsnap() { find "$Q" -path "$Q/lock" -prune -o -printf '%p %i %s %m\n' | sort; }

# ---- refusals ----
out=$(flock "$Q/lock/sendmutex" "$QC" "$A" 2>&1); rc=$?
is "$rc" 100 "our qmail-send running (lock held): exit 100"
like "$out" "our qmail-send is running" "... with a clear message"
out=$(flock "$A/lock/sendmutex" "$QC" "$A" 2>&1); rc=$?
is "$rc" 100 "the source's qmail-send running: exit 100"
like "$out" "the source's qmail-send is running" "... with a clear message"
mkdir -p "$T/qs" && $MK init "$T/qs" 23 && rmdir "$T/qs/info/5"
out=$("$QC" "$T/qs" 2>&1); rc=$?
is "$rc" 100 "a split that cannot be determined (info/5 missing): exit 100"
like "$out" "cannot determine the split" "... with a clear message"
rmdir "$T/qs/mess/22" && mkdir "$T/qs/mess/x"
out=$("$QC" "$T/qs" 2>&1); rc=$?
is "$rc:$(echo "$out" | grep -c 'split')" 100:1 "a stray entry in mess/: exit 100, split named"
chown nobody "$Q/mess"
out=$("$QC" "$A" 2>&1); rc=$?
chown --reference="$Q/todo" "$Q/mess"
is "$rc" 100 "our queue of the wrong owner: exit 100"
like "$out" "wrong owner" "... with a clear message"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$SRCDIR/$BUILD/hub/qmail-qconvert" "$A" 2>&1); rc=$?
is "$rc" 100 "not root: exit 100"
like "$out" "must be run as root" "... with a clear message"

# ---- dry run ----
before=$(snap "$A"); qbefore=$(qsnap)
out=$("$QC" -n "$A" 2> "$T/dry.err"); rc=$?
is "$rc" 1 "dry run of A: exit 1 (half-written messages left alone)"
like "$out" "would convert msg $a_todo \(todo\): 2 recipients pending" "dry run lists the queued message"
like "$out" "would convert msg $a_pre \(preprocessed\): 2 recipients pending, 2 done" "... the preprocessed one"
like "$out" "would convert 3 messages \(1 todo, 2 preprocessed\): 4 recipients pending, 3 done left out, 1 bounces pending; left alone: 0 damaged, 2 half-written; split 23" "... and the summary"
is "$(snap "$A")" "$before" "dry run: the source unchanged"
is "$(qsnap)" "$qbefore" "dry run: our queue unchanged"

# ---- conversion ----
src_times=$(stat -c %Y "$A/info/$((a_pre % 23))/$a_pre" "$A/local/$((a_pre % 23))/$a_pre" | tr '\n' ' ')
out=$("$QC" "$A" 2> "$T/a.err"); rc=$?
echo "$out" | sed 's/^/# /'
is "$rc" 1 "A converted: exit 1 (two half-written messages left alone)"
like "$out" "^converted 3 messages \(1 todo, 2 preprocessed\): 4 recipients pending, 3 done left out, 1 bounces pending; left alone: 0 damaged, 2 half-written; split 23$" "A: summary"
like "$(cat "$T/a.err")" "msg $a_half: mess/[0-9]+/$a_half without todo or info" "A: the half-written mess reported"
like "$(cat "$T/a.err")" "msg $a_hint: intd/$a_hint \(and its mess\) without todo" "A: the half-written intd reported"
n_of() { echo "$out" | sed -n "s/^converted msg $1 (.*) as \([0-9]*\):.*/\1/p"; }
na_todo=$(n_of "$a_todo") na_pre=$(n_of "$a_pre") na_bnc=$(n_of "$a_bnc")
qf() { echo "$Q/$1/$(($2 % 23))/$2"; }
is "$(stat -c %i "$(qf mess "$na_todo")" "$(qf mess "$na_pre")" | tr '\n' ' ')" "$na_todo $na_pre " \
  "our mess/S/N named by its own inode"
like "$(tr '\0' ' ' < "$(qf todo "$na_todo")")" "^u0 p[0-9]+ i[0-9.]+ m<t1a@hub.example.org@qmail.example> Falice@example.com Tt1a@hub.example.org Tt1b@remote.example  $" \
  "the queued message's envelope: u p i m F T T and the final empty item"
is "$(tr '\0' ' ' < "$(qf local "$na_pre")")|$(tr '\0' ' ' < "$(qf remote "$na_pre")")" \
  "Tp1a@hub.example.org |Tp1r@remote.example " "preprocessed: only the pending records"
is "$(stat -c '%U %a' "$(qf mess "$na_pre")" "$(qf info "$na_pre")" "$(qf local "$na_pre")" | tr '\n' ' ')" \
  "qmailq 644 qmails 600 qmails 600 " "owners and modes as our queue's"
is "$(stat -c %Y "$(qf info "$na_pre")" "$(qf local "$na_pre")" | tr '\n' ' ')" "$src_times" \
  "qmail's birth (info mtime, an hour ago) and next retry (local mtime) kept"
grep -q '^body of Tp1a' "$(qf mess "$na_pre")"
ok $? "the message's bytes copied"
is "$(cat "$Q/bounce/$na_bnc")" "$(printf '<b1gone@hub.example.org>:\nSorry, no mailbox here by that name. (#5.1.1)')" \
  "the pending bounce paragraphs copied"
is "$(find "$A" -type f ! -path '*/lock/*' | sort | tr '\n' ' ')" \
  "$(printf '%s\n' "$A/intd/$a_hint" "$A/mess/$((a_half % 23))/$a_half" "$A/mess/$((a_hint % 23))/$a_hint" | sort | tr '\n' ' ')" \
  "A: only the half-written files are left in the source"

out2=$("$QC" "$A" 2> /dev/null); rc=$?
like "$out2" "^converted 0 messages" "second run on A converts nothing"
is "$(find "$Q/mess" -type f | wc -l)" 3 "... and our queue still holds three messages"

out=$("$QC" "$B" 2> "$T/b.err"); rc=$?
is "$rc" 0 "B (split 7, big-todo) converted: exit 0"
like "$out" "converted 3 messages \(2 todo, 1 preprocessed\): 3 recipients pending.*split 7, big-todo$" "B: summary"
like "$out" "converted msg $b_cut \(todo\)" "B: a message cut while qmail preprocessed it is taken from todo, as qmail would"
is "$(find "$B" -type f ! -path '*/lock/*' | wc -l)" 0 "B: nothing left in the source"

fsnap() { find "$C" \( -type f -o -type l \) ! -name "$c_good" -printf '%p %i %s %m %T@\n' | sort; }
cbefore=$(fsnap)
out=$("$QC" "$C" 2> "$T/c.err"); rc=$?
E=$(cat "$T/c.err"); sed 's/^/# /' "$T/c.err"
is "$rc" 1 "C: exit 1 (damaged messages left alone)"
like "$out" "converted 1 messages \(1 todo, 0 preprocessed\): 1 recipients pending.*left alone: 5 damaged" "C: the good message converted, five left alone"
like "$E" "msg $c_link: todo: a symlink: left alone" "C: the symlinked todo refused"
like "$E" "msg $c_nul: preprocessed: a channel record neither T nor D: left alone" "C: the NUL game refused"
like "$E" "msg $c_ctl: preprocessed: an address with a control byte: left alone" "C: the control byte refused"
like "$E" "msg $c_long: todo: an address over control/maxaddress: left alone" "C: the long address refused"
like "$E" "msg $c_big: preprocessed: over its size cap: left alone" "C: the huge info refused"
is "$(fsnap)" "$cbefore" \
  "C: the damaged messages' files untouched"
[ -e "$T/elsewhere" ] && [ -L "$C/todo/$c_link" ]
ok $? "C: the symlink and its target untouched"

# ---- delivery by our qmail-send ----
log=$T/log
WAITN=${WAITN:-600}
send_start "$H"
for _ in $(seq 600); do
  [ "$(wc -l < "$JOBLOG")" -ge 9 ] && [ "$(find "$Q/mess" -type f | wc -l)" = 0 ] && break; sleep 0.1
done
sleep 1  # a wrong or repeated delivery, if any, is logged by now
send_stop
is "$(find "$Q/mess" "$Q/info" "$Q/local" "$Q/remote" "$Q/todo" "$Q/bounce" -type f | wc -l)" 0 \
  "our queue empty: every converted message finished"
L=$(cat "$log")
is "$(sort "$JOBLOG" | tr '\n' ' ')" \
  "alice@example.com good@hub.example.org p1a@hub.example.org p1r@remote.example p2@hub.example.org t1a@hub.example.org t1b@remote.example t2@hub.example.org t3@hub.example.org " \
  "every pending recipient delivered once, none of the done ones nor the half-preprocessed one's, the bounce sent to alice"
like "$L" "bounce msg $na_bnc to <alice@example.com>: injected" "the pending bounce injected"
is "$(echo "$L" | grep -c '^warning')" 0 "no warning from qmail-send about a converted message"
[ -n "$QC_DEBUG" ] && sed 's/^/# /' "$log"
done_testing
