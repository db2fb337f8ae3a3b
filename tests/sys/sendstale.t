#!/bin/bash
# sendstale.t: qmail-send and the names that come back after a power cut
# on a filesystem without a journal (hub/queue/QUEUE.md sec 6a): an unlink
# that was not flushed is undone while the inode it named was reused.
# Queued by the installed qmail-queue with qmail-send down; then some
# messages are "preprocessed" by hand (info/S/N, local/S/N written, intd
# and todo removed) and the states of the power-loss test's images planted:
#   zero     todo/S/N back over a reused inode: 20 zero bytes, one link
#            -> dropped, the message loaded from info/local, delivered once
#   shared   intd/S/N and todo/S/N back as one zero-filled inode (2 links)
#            -> the same
#   linked   todo/S/N back as a second name of another message's mess
#            -> the same (never read as an envelope); the other message
#               (queued, untouched) delivered once
#   foreign  mess/S/N names another inode (a file with another body)
#            -> never delivered; info and local names removed
#   outside  mess/S/N gone, info/S/N and local/S/N second names of files
#            outside the queue (Maildir files) -> never delivered; the two
#            names removed, the outside files untouched
#   orphan   local/S/N and remote/S/N with no info, no todo (a message done
#            before the crash) -> the names removed at start
# bin/qmail-lspawn is a fake (python) that records each job and says K.
. "$(dirname "$0")/../lib/common.sh"
H=$T/home
export QMAILHOME=$H
command -v python3 > /dev/null || { echo "1..0 # SKIP no python3"; exit 0; }

qmake install QMAILHOME="$H" > "$T/install.log" 2>&1 ||
  { sed 's/^/# /' "$T/install.log"; echo "Bail out! make install failed"; exit 1; }
echo hub.example.org > "$H/control/me"
echo hub.example.org > "$H/control/locals"
QQ=$H/bin/qmail-queue
Q=$H/queue

fake_lspawn "$H"
export JOBLOG=$T/jobs
: > "$JOBLOG"

todo_ids() { (cd "$Q/todo" && find . -type f | sed 's,.*/,,' | sort); }
queue() { # RCPT: queue one message, print its N
  todo_ids > "$T/ids.prev"
  printf 'Falice@example.com\0T%s\0\0' "$1" > "$T/env"
  printf 'Subject: test\n\nbody for %s\n' "$1" | "$QQ" 1< "$T/env" || return 1
  todo_ids | comm -13 "$T/ids.prev" - | head -1
}
f() { echo "$Q/$1/$(($2 % 23))/$2"; }  # DIR N: the queue file's name
preprocessed() { # N RCPT: info and local as qmail-send writes them, intd and todo gone
  printf 'Falice@example.com\0' > "$(f info "$1")"
  printf 'T%s\0' "$2" > "$(f local "$1")"
  chown --reference="$Q/info" "$(f info "$1")" "$(f local "$1")" 2> /dev/null
  chmod 600 "$(f info "$1")" "$(f local "$1")"
  rm -f "$(f intd "$1")" "$(f todo "$1")"
}
n_zero=$(queue zero@hub.example.org)
n_shared=$(queue shared@hub.example.org)
n_linked=$(queue linked@hub.example.org)
n_other=$(queue other@hub.example.org)
n_foreign=$(queue foreign@hub.example.org)
n_outside=$(queue outside@hub.example.org)
like "$n_zero $n_shared $n_linked $n_other $n_foreign $n_outside" '^[0-9]+( [0-9]+){5}$' "six messages queued" ||
  { echo "Bail out! queueing failed"; exit 1; }
sleep 1  # info is written after mess (its mtime not older)
preprocessed "$n_zero" zero@hub.example.org
head -c 20 /dev/zero > "$(f todo "$n_zero")"
preprocessed "$n_shared" shared@hub.example.org
head -c 18 /dev/zero > "$(f intd "$n_shared")"
ln "$(f intd "$n_shared")" "$(f todo "$n_shared")"
chown --reference="$Q/todo" "$(f todo "$n_zero")" "$(f todo "$n_shared")" 2> /dev/null  # qmailq's, as a reused inode would be
preprocessed "$n_linked" linked@hub.example.org
ln "$(f mess "$n_other")" "$(f todo "$n_linked")"
preprocessed "$n_foreign" foreign@hub.example.org
printf 'Subject: another message\n\nWRONG BODY\n' > "$Q/mess/x"
mv "$Q/mess/x" "$(f mess "$n_foreign")"
preprocessed "$n_outside" outside@hub.example.org
rm -f "$(f mess "$n_outside")"
printf 'Return-Path: <x@y>\n\nmaildir file 1\n' > "$T/md1"
printf 'Return-Path: <x@y>\n\nmaildir file 2\n' > "$T/md2"
rm -f "$(f info "$n_outside")" "$(f local "$n_outside")"
ln "$T/md1" "$(f info "$n_outside")" && ln "$T/md2" "$(f local "$n_outside")"
# orphan: local/S/N and remote/S/N of a message long done (no info, no
# todo), second names of files outside the queue -> the names removed
n_orphan=$((n_outside + 23 * 1000))
printf 'T%s\0' x@y > "$T/md3"; printf 'T%s\0' x@y > "$T/md4"
mkdir -p "$(dirname "$(f local "$n_orphan")")" "$(dirname "$(f remote "$n_orphan")")"
ln "$T/md3" "$(f local "$n_orphan")" && ln "$T/md4" "$(f remote "$n_orphan")"
ok $? "states planted"
is "$(stat -c %h "$(f todo "$n_linked")") $(stat -c %i "$(f mess "$n_foreign")" | grep -vx "$n_foreign" | wc -l)" "2 1" \
  "linked: todo has two links; foreign: mess/S/N is not inode N"

log=$T/log
WAITN=${WAITN:-600}  # tries, 0.1 s apart: a bound for a loaded machine
send_start "$H"
waitlog "^end msg $n_other\$"; waitlog "^end msg $n_zero\$"; waitlog "^end msg $n_shared\$"
waitlog "^end msg $n_linked\$"; waitlog "^warning: msg $n_foreign: mess names another file"
waitlog "^warning: msg $n_outside: (no message file|info names another file)"
waitlog "^status: removed orphan remote/[0-9]+/$n_orphan\$"
sleep 1  # a wrong delivery, if any, is logged by now
send_stop
is "$send_rc" 0 "qmail-send exits 0 on SIGTERM"
L=$(cat "$log")
[ -n "$PL_DEBUG" ] && sed 's/^/# /' "$log"
like "$L" "warning: msg $n_zero has a damaged envelope: loaded from info" "zero: logged, loaded from info"
like "$L" "warning: msg $n_shared has a damaged envelope: loaded from info" "shared: logged, loaded from info"
like "$L" "warning: msg $n_linked has a stale todo entry: loaded from info" "linked: logged as stale, loaded from info"
like "$L" "warning: msg $n_foreign: mess names another file: stale names removed, not delivered" "foreign: logged"
like "$L" "warning: msg $n_outside: (no message file|info names another file): stale names removed, not delivered" "outside: logged"
is "$(sort "$JOBLOG" | tr '\n' ' ')" \
  "linked@hub.example.org other@hub.example.org shared@hub.example.org zero@hub.example.org " \
  "exactly zero, shared, linked and other delivered, once each"
left=0
for n in "$n_zero" "$n_shared" "$n_linked" "$n_other" "$n_foreign" "$n_outside"; do
  for d in todo intd info local remote; do [ -e "$(f $d "$n")" ] && { echo "# left: $(f $d "$n")"; left=1; }; done
done
ok $left "no todo, intd, info, local, remote name left of any of them"
[ -e "$(f mess "$n_foreign")" ]
ok $((1 - $?)) "foreign: the stale mess name removed by qmail-clean"
is "$(stat -c %h "$T/md1" "$T/md2" | tr '\n' ' ')$(cat "$T/md1" "$T/md2" | grep -c 'maildir file')" "1 1 2" \
  "outside: the Maildir files kept (one link each, content untouched)"
like "$L" "status: removed orphan local/[0-9]+/$n_orphan" "orphan: the local name removed, logged"
[ -e "$(f local "$n_orphan")" ] || [ -e "$(f remote "$n_orphan")" ]
ok $((1 - $?)) "orphan: neither name is left"
is "$(stat -c %h "$T/md3" "$T/md4" | tr '\n' ' ')$(cat "$T/md3" "$T/md4" | tr -d '\0')" "1 1 Tx@yTx@y" \
  "orphan: the files they named kept"
done_testing
