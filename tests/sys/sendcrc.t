#!/bin/bash
# sendcrc.t: qmail-send checks a group-committed message before it
# preprocesses it (hub/queue/QUEUE.md sec 2): an envelope with the l and c
# items (length and CRC-32C of mess/S/N, written by qmail-queued) whose
# message file has another length or CRC was cut by a crash before the
# batch's flush, was never acknowledged, and is withdrawn, never delivered.
# Queued by the installed qmail-queue with qmail-send down, then the
# envelopes are given l and c items and some message files damaged:
#   whole    l, c right                      -> delivered
#   short    mess truncated by 10 bytes      -> withdrawn
#   flipped  one bit of mess changed         -> withdrawn
#   plain    no l, c; one bit changed        -> delivered (qmail-queue's path: no check)
#   upper    c in uppercase hex              -> a damaged envelope, left alone
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

fake_lspawn "$H"
export JOBLOG=$T/jobs
: > "$JOBLOG"

# lc.py ITEMS DAMAGE N: give todo/S/N (= intd/S/N, the same inode) the
# items l and c of mess/S/N as it is now (ITEMS: lc right, LC uppercase c,
# none: leave the envelope), then damage mess/S/N (short: cut 10 bytes,
# flip: change one bit in the middle, none)
cat > "$T/lc.py" <<'PY'
import sys
items, damage, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
q = sys.argv[4]
tab = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    tab.append(c)
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = tab[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
mess = "%s/mess/%d/%d" % (q, n % 23, n)
todo = "%s/todo/%d/%d" % (q, n % 23, n)
m = open(mess, "rb").read()
if items != "none":
    h = "%08x" % crc32c(m)
    if items == "LC": h = h.upper() if h.upper() != h else "ABCDEF01"
    e = open(todo, "rb").read()
    f = e.index(b"\0F")  # the trace items end before F
    e = e[:f + 1] + b"l%d\0c%s\0" % (len(m), h.encode()) + e[f + 1:]
    with open(todo, "r+b") as w:  # in place: todo and intd stay one inode
        w.write(e); w.truncate()
if damage == "short": m = m[:-10]
elif damage == "flip": m = m[:len(m) // 2] + bytes([m[len(m) // 2] ^ 0x04]) + m[len(m) // 2 + 1:]
if damage != "none":
    with open(mess, "r+b") as w:
        w.write(m); w.truncate()
PY

todo_ids() { (cd "$H/queue/todo" && find . -type f | sed 's,.*/,,' | sort); }
queue() { # RCPT: queue one message, print its N
  todo_ids > "$T/ids.prev"
  printf 'Falice@example.com\0T%s\0\0' "$1" > "$T/env"
  printf 'Subject: test\n\nbody for %s, long enough to cut ten bytes\n' "$1" | "$QQ" 1< "$T/env" || return 1
  todo_ids | comm -13 "$T/ids.prev" - | head -1
}
plant() { # RCPT ITEMS DAMAGE: queue, then change; print N
  local n; n=$(queue "$1") || return 1
  python3 "$T/lc.py" "$2" "$3" "$n" "$H/queue" || return 1
  echo "$n"
}
n_whole=$(plant whole@hub.example.org lc none)
n_short=$(plant short@hub.example.org lc short)
n_flip=$(plant flipped@hub.example.org lc flip)
n_plain=$(plant plain@hub.example.org none flip)
n_upper=$(plant upper@hub.example.org LC none)
like "$n_whole $n_short $n_flip $n_plain $n_upper" '^[0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+$' "five messages planted" ||
  { echo "Bail out! queueing or planting failed"; exit 1; }
env_of() { tr '\0' '\n' < "$H/queue/todo/$(($1 % 23))/$1"; }
like "$(env_of "$n_whole")" $'\nl[0-9]+\nc[0-9a-f]{8}\nFalice@example.com' "whole: the envelope has l and c before F"
like "$(env_of "$n_upper")" $'\nc[0-9A-F]*[A-F][0-9A-F]*\nF' "upper: c in uppercase"

log=$T/log
WAITN=${WAITN:-1200}  # tries, 0.1 s apart: a bound for a loaded machine
send_start "$H"
waitlog "^end msg $n_whole\$" && waitlog "^end msg $n_plain\$" &&
  waitlog "^warning: msg $n_short has an incomplete message file: withdrawn\$" &&
  waitlog "^warning: msg $n_flip has an incomplete message file: withdrawn\$" &&
  waitlog "^warning: msg $n_upper has a damaged envelope: left alone\$"
send_stop
is "$send_rc" 0 "qmail-send exits 0 on SIGTERM"
L=$(cat "$log")
like "$L" "new msg $n_whole id " "whole: preprocessed"
like "$L" "new msg $n_plain id " "plain (no l, c): preprocessed, not checked"
like "$L" "msg $n_short has an incomplete message file: withdrawn" "short: withdrawn"
like "$L" "msg $n_flip has an incomplete message file: withdrawn" "flipped: withdrawn"
printf '%s\n' "$L" | grep -qE "new msg ($n_short|$n_flip|$n_upper) "
ok $((1 - $?)) "short, flipped, upper: never preprocessed"
is "$(sort "$JOBLOG" | tr '\n' ' ')" "plain@hub.example.org whole@hub.example.org " \
  "only whole and plain were delivered"
gone() { [ ! -e "$H/queue/todo/$(($1 % 23))/$1" ] && [ ! -e "$H/queue/intd/$(($1 % 23))/$1" ] &&
         [ ! -e "$H/queue/info/$(($1 % 23))/$1" ] && [ ! -e "$H/queue/local/$(($1 % 23))/$1" ]; }
gone "$n_short" && gone "$n_flip"
ok $? "short, flipped: todo and intd removed by qmail-clean, nothing preprocessed"
[ -e "$H/queue/mess/$((n_short % 23))/$n_short" ] && [ -e "$H/queue/mess/$((n_flip % 23))/$n_flip" ]
ok $? "short, flipped: mess left to the stale-file cleanup"
[ -e "$H/queue/todo/$((n_upper % 23))/$n_upper" ] && [ -e "$H/queue/mess/$((n_upper % 23))/$n_upper" ]
ok $? "upper: left alone (todo and mess kept for the 36 h cleanup)"
done_testing
