#!/bin/bash
# queue.t: fault injection on hub/qmail-queue (docs/bad-input.md, faults; the crash
# points are argued in hub/queue/QUEUE.md).
# Every run queues the same 200 KB message with an envelope of its own and
# is written into a ledger: acknowledged when qmail-queue exits 0. After
# each run tests/lib/qledger.py compares the whole queue with the ledger,
# message by message: each acknowledged message is in todo/ + mess/, byte
# for byte with its envelope; no todo/ entry is anything less than one
# whole message sent; and the messages of earlier runs are all still there
# (in=K). What a failed run left (pid/, mess/, intd/ without todo/) is
# counted ("garbage"), then removed as qmail-clean would.
# The queue's lock/trigger FIFO: with no reader, qmail-queue's open fails
# (ENXIO) and it writes nothing to it, so a reference trace without a
# reader has no trigger write at all (checked). From then on the test holds
# a reader (fd 9), so the trigger is really written and its write is a
# fault point too.
#  F1 kill -9 before each syscall of the paper path, from chdir to
#     exit_group (so also "after" each one), found in the reference strace
#     of the same binary: the exit is never 0, and the run's message is not
#     in todo/ before the todo link, whole after it. The 200 KB message
#     makes "mid-write" kills.
#  F5 fsync fails (EIO) at each fsync: exit 53, nothing left. Each write
#     of the reference trace, chosen by its FILE (fds mapped to names from
#     the trace's openat results): ENOSPC (and EIO) on the message body
#     (the pid/ file that becomes mess/) and on the envelope (intd/): exit
#     53, nothing left; the trigger's write failing (EAGAIN, EPIPE): exit 0,
#     the message queued. ENOSPC/EROFS/EMLINK/EACCES on creates and links,
#     EIO on reads and the pid/ unlink: the documented exit code, nothing left.
#  F4 disk full: a 1 MB tmpfs (unshare -rm) and a 2 MB message: exit 53,
#     nothing left; a small message afterwards is queued.
#  F6 read-only queue (a read-only bind mount in the namespace; chmod when the
#     namespace is unavailable and not root): exit 63, nothing committed;
#     todo/ alone read-only (a bind mount): exit 66, mess and intd removed.
# Cases whose tool is missing (strace, unshare) are skipped.
# TAP on stdout; BUILD=build|build-san picks the binary.

. "$(dirname "$0")/../lib/common.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QQ=$B/hub/qmail-queue
MKQ=$SRCDIR/hub/queue/mkqueue.sh
H=$T/home
Q=$H/queue
skip() { _n=$((_n + 1)); echo "ok $_n # skip $1"; }
export QMAILHOME=$H ASAN_OPTIONS=detect_leaks=0
sh "$MKQ" -s "$H" > /dev/null || { echo "Bail out! mkqueue.sh failed"; exit 1; }

head -c 204800 /dev/urandom > "$T/msg"
: > "$T/ledger"

# send [PREFIX...]: queue $T/msg with a new envelope (sender N, N = the
# message's number), under PREFIX (strace ...) when given; sets rc, m (N)
# and lg: qledger's verdict on the whole queue ("last=in|out in=K
# garbage=G", then any BAD lines), garbage removed afterwards.
m=0
send() {
  m=$((m + 1))
  printf 'Fsender%d@example.org\0Trcpt1@example.net\0Trcpt2@example.com\0\0' "$m" > "$T/env.$m"
  # (in a group, so that bash's "Killed" notice goes to /dev/null too)
  { "$@" "$QQ" < "$T/msg" 1< "$T/env.$m" 9<&-; } 2> /dev/null
  rc=$?
  if [ "$rc" = 0 ]; then echo "acked 1 $T/env.$m $T/msg"; else echo "unacked 1 $T/env.$m $T/msg"; fi >> "$T/ledger"
  lg=$(python3 "$SRCDIR/tests/lib/qledger.py" --clean "$Q" "$T/ledger" | tr '\n' ' ')
}
k=0   # how many messages are in the queue

# trig: what qmail-queue wrote into lock/trigger since the last call.
trig() { local l="" out=""; while read -r -t 0 -u 9; do IFS= read -r -t 5 -u 9 l || break; out="$out$l "; done; echo "${out% }"; }
# todoname N: the todo/ entry of message N.
todoname() { basename "$(grep -rla "Fsender$1@example.org" "$Q/todo")"; }

# wclass TRACE: "ordinal file" for each write(2) in TRACE, the file named
# by the openat that returned the fd: mess (the pid/ file, which is
# mess/S/N from its link on), intd, trigger, or the name itself.
wclass() {
  awk '/^openat\(/ { p = $0; sub(/^[^"]*"/, "", p); sub(/".*/, "", p)
                     if (match($0, /\) = [0-9]+$/)) fd[substr($0, RSTART + 4)] = p }
       /^write\(/ { n++; f = $0; sub(/^write\(/, "", f); sub(/,.*/, "", f); p = fd[f]
                    if (p ~ /^pid\//) p = "mess"; else if (p ~ /^intd\//) p = "intd"
                    else if (p == "lock/trigger") p = "trigger"; else if (p == "") p = "fd" f
                    print n, p }' "$1"
}

if ! command -v strace > /dev/null; then
  skip "no strace: reference traces, F1, F5"
else
  # ---- reference traces ---------------------------------------------------------
  send strace -o "$T/ref0"
  k=$((k + 1))
  is "$rc/$lg" "0/last=in in=$k garbage=0 " "reference run under strace, no FIFO reader: queued whole"
  is "$(grep -c '^openat(AT_FDCWD, "lock/trigger".* = -1 ENXIO' "$T/ref0")/$(wclass "$T/ref0" | awk '{ print $2 }' | sort | uniq -c | tr -s ' \n' '  ')" \
     "1/ 1 intd 4 mess " \
     "no FIFO reader: the trigger's open fails (ENXIO) and nothing is written to it; the writes are 4 to the message (mess/) and 1 to the envelope (intd/)"
  exec 9<> "$Q/lock/trigger"   # a reader, from here on
  send strace -o "$T/ref"
  k=$((k + 1))
  is "$rc/$lg" "0/last=in in=$k garbage=0 " "reference run under strace, with a FIFO reader: queued whole"
  is "$(trig)" "$(todoname $m)" "the trigger names the message's todo/ entry"
  wclass "$T/ref" > "$T/writes"
  is "$(awk '{ print $2 }' "$T/writes" | tr '\n' ' ')" "mess mess mess mess intd trigger " \
     "with a reader the writes are: 4 to the message (mess/), the envelope (intd/), the trigger"

  # ---- F1: kill -9 at every syscall ------------------------------------------
  # cases: "index name ordinal" for each syscall from chdir to exit_group;
  # the ordinal counts that syscall from the start of the process, as
  # strace's when= does.
  awk '{ n = $1; sub(/\(.*/, "", n) }
       n ~ /^[a-z0-9_]+$/ { c[n]++; if (n == "chdir") on = 1; if (on) print NR, n, c[n] }' \
      "$T/ref" > "$T/cases"
  commit=$(grep -n '^link("intd/' "$T/ref" | cut -d: -f1)
  ncases=$(wc -l < "$T/cases")
  [ "$ncases" -ge 20 ] && [ -n "$commit" ]
  ok $? "F1: $ncases syscalls on the paper path (todo link at trace line $commit)"
  echo "# F1 cases: $(awk '{printf "%s#%s ", $2, $3}' "$T/cases")"
  fails=0 before=0 after=0
  while read -r line name ord; do
    if [ "$line" -le "$commit" ]; then want=out; before=$((before + 1)); else want=in; after=$((after + 1)); k=$((k + 1)); fi
    send strace -o /dev/null -e inject="$name":signal=SIGKILL:when="$ord"
    trig > /dev/null
    if [ "$rc" = 0 ] || [ "$lg" != "${lg#*BAD}" ] || [ "${lg%% garbage*}" != "last=$want in=$k" ]; then
      fails=$((fails + 1)); echo "# kill at $name #$ord (line $line): exit $rc, queue: $lg; wanted last=$want in=$k"
    fi
  done < "$T/cases"
  is "$fails" 0 "F1: kill -9 at each of $ncases syscalls: never exit 0; the message not in todo/ before the commit link ($before cases), whole after it ($after cases); earlier messages intact"

  # ---- F5 and friends: injected errors ------------------------------------------
  # inject SPEC WANT NAME: run with strace's error injection; exit WANT,
  # the message not queued, nothing left, the earlier messages intact.
  inject() {
    send strace -o /dev/null -e inject="$1"
    trig > /dev/null
    is "$rc/$lg" "$2/last=out in=$k garbage=0 " "$3"
  }
  nfsync=$(grep -c '^fsync(' "$T/ref")
  is "$nfsync" 4 "4 fsyncs per message (mess, intd, mess/S, todo/S)"
  for i in $(seq "$nfsync"); do
    inject "fsync:error=EIO:when=$i" 53 "F5: fsync #$i fails with EIO: exit 53, nothing left"
  done
  while read -r w file; do
    case $file in
      mess) inject "write:error=ENOSPC:when=$w" 53 "F4: write #$w (message body, mess/) fails with ENOSPC: exit 53, nothing left" ;;
      intd) inject "write:error=ENOSPC:when=$w" 53 "F4: write #$w (envelope, intd/) fails with ENOSPC: exit 53, nothing left"
            inject "write:error=EIO:when=$w" 53 "write #$w (envelope, intd/) fails with EIO: exit 53, nothing left" ;;
      trigger)
        for e in EAGAIN EPIPE; do
          send strace -o /dev/null -e inject="write:error=$e:when=$w"
          k=$((k + 1))
          is "$rc/$lg/$(trig)" "0/last=in in=$k garbage=0 /" "write #$w (trigger) fails with $e: exit 0, queued whole, nothing in the FIFO"
        done ;;
      *) ok 1 "write #$w goes to $file, which this test does not know" ;;
    esac
  done < "$T/writes"
  inject "write:error=EIO:when=1" 53 "write #1 (message body, mess/) fails with EIO: exit 53"
  inject "read:error=EIO:when=$(awk '/^read\(/ {n++} /^read\(0,/ {print n; exit}' "$T/ref")" \
    54 "read error on the message: exit 54, nothing left"
  inject "read:error=EIO:when=$(awk '/^read\(/ {n++} /^read\(1,/ {print n; exit}' "$T/ref")" \
    54 "read error on the envelope: exit 54, nothing left"
  pidopen=$(awk '/^openat\(/ {n++} /^openat\(AT_FDCWD, "pid\// {print n; exit}' "$T/ref")
  intdopen=$(awk '/^openat\(/ {n++} /^openat\(AT_FDCWD, "intd\// {print n; exit}' "$T/ref")
  todoopen=$(awk '/^openat\(/ {n++} /^openat\(AT_FDCWD, "todo\// {print n; exit}' "$T/ref")
  inject "openat:error=ENOSPC:when=$pidopen" 53 "pid/ file: ENOSPC (no inodes): exit 53"
  inject "openat:error=EROFS:when=$pidopen" 63 "pid/ file: EROFS: exit 63"
  inject "link:error=EACCES:when=1" 64 "mess/ link: EACCES: exit 64, nothing left"
  inject "unlink:error=EIO:when=1" 63 "pid/ unlink fails: exit 63, nothing left"
  inject "openat:error=EACCES:when=$intdopen" 65 "intd/ file: EACCES: exit 65, nothing left"
  inject "link:error=EMLINK:when=2" 66 "todo/ link: EMLINK: exit 66, nothing left"
  inject "link:error=ENOSPC:when=2" 53 "todo/ link: ENOSPC: exit 53, nothing left"
  inject "openat:error=EMFILE:when=$todoopen" 66 "todo/S directory cannot be opened: exit 66, nothing left (todo removed)"
fi

# ---- F4 and F6: a real full disk and a read-only queue ---------------------------
ns=""
if command -v unshare > /dev/null && unshare -rm true 2> /dev/null; then ns=1; fi
# inns SCRIPT: run sh SCRIPT in a new user+mount namespace with QQ, MKQ, T set.
# Further arguments become the script's $0, $1, ...
inns() { local s=$1; shift; QQ=$QQ MKQ=$MKQ T=$T unshare -rm sh -c "$s" "$@" 9<&-; }
head -c $((2 * 1024 * 1024)) /dev/urandom > "$T/msg2m"
printf 'Fsender@example.org\0Trcpt1@example.net\0Trcpt2@example.com\0\0' > "$T/env"
if [ -z "$ns" ]; then
  skip "F4: unshare -rm not permitted"; skip "F6: unshare -rm not permitted"
else
  mkdir -p "$T/small"
  inns '
    mount -t tmpfs -o size=1m tmpfs "$T/small" || exit 1
    sh "$MKQ" -s "$T/small" > /dev/null || exit 1
    QMAILHOME=$T/small "$QQ" < "$T/msg2m" 1< "$T/env"; echo "rc=$?"
    echo "left=$(find "$T/small/queue/pid" "$T/small/queue/mess" "$T/small/queue/intd" "$T/small/queue/todo" -type f | wc -l)"
    QMAILHOME=$T/small "$QQ" < /dev/null 1< "$T/env"; echo "small=$?"
    echo "todo=$(find "$T/small/queue/todo" -type f | wc -l)"
  ' > "$T/f4.out" 2>&1
  is "$(tr '\n' ' ' < "$T/f4.out")" "rc=53 left=0 small=0 todo=1 " \
     "F4: 2 MB into a 1 MB tmpfs: exit 53, nothing left; then a small message is queued"
  sh "$MKQ" -s "$T/ro" > /dev/null
  inns '
    mount --bind "$T/ro" "$T/ro" && mount -o remount,bind,ro "$T/ro" || exit 1
    QMAILHOME=$T/ro "$QQ" < "$T/msg" 1< "$T/env"; echo "rc=$?"
    echo "files=$(find "$T/ro/queue/pid" "$T/ro/queue/mess" "$T/ro/queue/intd" "$T/ro/queue/todo" -type f | wc -l)"
  ' > "$T/f6.out" 2>&1
  is "$(tr '\n' ' ' < "$T/f6.out")" "rc=63 files=0 " "F6: read-only queue: exit 63, nothing created"
fi
if [ -n "$ns" ]; then
  send inns '
    mount --bind "$QMAILHOME/queue/todo" "$QMAILHOME/queue/todo" && mount -o remount,bind,ro "$QMAILHOME/queue/todo" || exit 1
    exec "$0"'
  is "$rc/$lg" "66/last=out in=$k garbage=0 " \
     "F6: todo/ alone read-only (no commit possible): exit 66, mess and intd removed, earlier messages intact"
elif [ "$(id -u)" != 0 ]; then
  chmod 500 "$Q/pid"
  send
  chmod 700 "$Q/pid"
  is "$rc/$lg" "63/last=out in=$k garbage=0 " "F6/F7: pid/ not writable (chmod): exit 63, nothing created"
else
  skip "F6: no namespace and root ignores chmod"
fi

done_testing
