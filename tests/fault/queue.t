#!/bin/bash
# queue.t: fault injection on hub/qmail-queue (docs/bad-input.md, faults; the crash
# points are argued in hub/QUEUE.md).
#  F1 kill -9 before each syscall of the paper path, from chdir to
#     exit_group (so also "after" each one), found in a reference strace of
#     the same binary: the exit is never 0, and either there is no todo/
#     entry, or (only past the todo link) todo, intd and mess are complete
#     and exact. A 200 KB message makes "mid-write" kills.
#  F5 fsync fails (EIO) at each fsync: exit 53, nothing left anywhere.
#     Also EIO/ENOSPC on each write, ENOSPC/EROFS/EMLINK on creates and
#     links: the documented exit code, nothing left.
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
MKQ=$SRCDIR/hub/mkqueue.sh
H=$T/home
Q=$H/queue
skip() { _n=$((_n + 1)); echo "ok $_n # skip $1"; }
export QMAILHOME=$H ASAN_OPTIONS=detect_leaks=0
sh "$MKQ" -s "$H" > /dev/null || { echo "Bail out! mkqueue.sh failed"; exit 1; }

nfiles() { local d n=0; for d; do n=$((n + $(find "$Q/$d" -type f | wc -l))); done; echo $n; }
state() { echo "pid=$(nfiles pid) mess=$(nfiles mess) intd=$(nfiles intd) todo=$(nfiles todo)"; }
clearq() { find "$Q/pid" "$Q/mess" "$Q/intd" "$Q/todo" -type f -delete; }

head -c 204800 /dev/urandom > "$T/msg"
printf 'Fsender@example.org\0Trcpt1@example.net\0Trcpt2@example.com\0\0' > "$T/env"

# committed: "none" (no todo entry), "ok" (one todo entry, complete and
# exact, with its intd and mess), or what is wrong.
committed() {
  python3 - "$Q" "$T/msg" "$T/env" "$(id -u)" <<'EOF'
import os, re, sys
q, msgf, envf, uid = sys.argv[1:5]
msg = open(msgf, 'rb').read(); env = open(envf, 'rb').read()
todo = [(s, n) for s in os.listdir(q + '/todo') for n in os.listdir(f'{q}/todo/{s}')]
if not todo: print('none'); sys.exit()
if len(todo) > 1: print('several todo entries'); sys.exit()
s, n = todo[0]
try:
    m = os.stat(f'{q}/mess/{s}/{n}'); t = os.stat(f'{q}/todo/{s}/{n}'); i = os.stat(f'{q}/intd/{s}/{n}')
except OSError as e:
    print('missing', e); sys.exit()
if m.st_ino != int(n) or t.st_ino != i.st_ino or int(s) != int(n) % 23: print('names'); sys.exit()
line, _, rest = open(f'{q}/mess/{s}/{n}', 'rb').read().partition(b'\n')
r = re.fullmatch(rb'Received: \(qmail (\d+) invoked by uid \d+ id (\d+\.\d{9}\.\d+)\); .* \+0000', line)
if not r or rest != msg: print('message incomplete', len(rest)); sys.exit()
if open(f'{q}/todo/{s}/{n}', 'rb').read() != b'u' + uid.encode() + b'\0p' + r.group(1) + b'\0i' + r.group(2) + b'\0' + env:
    print('envelope incomplete'); sys.exit()
print('ok')
EOF
}

# ---- F1: kill -9 at every syscall ------------------------------------------
if ! command -v strace > /dev/null; then
  skip "F1: no strace"
else
  strace -o "$T/ref" "$QQ" < "$T/msg" 1< "$T/env"
  rc=$?
  is "$rc/$(committed)" "0/ok" "reference run under strace: queued"
  clearq
  # cases: "index name ordinal" for each syscall from chdir to exit_group;
  # the ordinal counts that syscall from the start of the process, as
  # strace's when= does.
  awk '{ n = $1; sub(/\(.*/, "", n) }
       n ~ /^[a-z0-9_]+$/ { c[n]++; if (n == "chdir") on = 1; if (on) print NR, n, c[n] }' \
      "$T/ref" > "$T/cases"
  commit=$(grep -n '^link("intd/' "$T/ref" | cut -d: -f1)
  ncases=$(wc -l < "$T/cases")
  [ "$ncases" -ge 18 ] && [ -n "$commit" ]
  ok $? "F1: $ncases syscalls on the paper path (todo link at trace line $commit)"
  echo "# F1 cases: $(awk '{printf "%s#%s ", $2, $3}' "$T/cases")"
  fails=0 before=0 after=0
  while read -r line name ord; do
    # (in a group, so that bash's "Killed" notice goes to /dev/null too)
    { strace -o /dev/null -e inject="$name":signal=SIGKILL:when="$ord" "$QQ" < "$T/msg" 1< "$T/env"; } 2> /dev/null
    rc=$?
    c=$(committed)
    if [ "$line" -le "$commit" ]; then want=none; before=$((before + 1)); else want=ok; after=$((after + 1)); fi
    if [ "$rc" = 0 ] || [ "$c" != "$want" ]; then
      fails=$((fails + 1)); echo "# kill at $name #$ord (line $line): exit $rc, todo: $c, wanted $want"
    fi
    clearq
  done < "$T/cases"
  is "$fails" 0 "F1: kill -9 at each of $ncases syscalls: never exit 0; no todo before the commit link ($before cases), complete after it ($after cases)"
fi

# ---- F5 and friends: injected errors ------------------------------------------
# inject SPEC WANT NAME: run with strace's error injection; exit WANT and
# nothing left in pid mess intd todo.
inject() {
  strace -o /dev/null -e inject="$1" "$QQ" < "$T/msg" 1< "$T/env" 2> /dev/null
  local rc=$?
  is "$rc/$(state)" "$2/pid=0 mess=0 intd=0 todo=0" "$3"
  clearq
}
if ! command -v strace > /dev/null; then
  skip "F5: no strace"
else
  nfsync=$(grep -c '^fsync(' "$T/ref")
  is "$nfsync" 4 "4 fsyncs per message (mess, intd, mess/S, todo/S)"
  for k in $(seq "$nfsync"); do
    inject "fsync:error=EIO:when=$k" 53 "F5: fsync #$k fails with EIO: exit 53, nothing left"
  done
  nwrite=$(grep -c '^write(' "$T/ref")
  for k in $(seq $((nwrite - 1))); do   # the last write is the trigger's: ignored
    inject "write:error=ENOSPC:when=$k" 53 "F4: write #$k fails with ENOSPC: exit 53, nothing left"
  done
  inject "write:error=EIO:when=2" 53 "write fails with EIO: exit 53"
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
inns() { QQ=$QQ MKQ=$MKQ T=$T unshare -rm sh -c "$1"; }
head -c $((2 * 1024 * 1024)) /dev/urandom > "$T/msg2m"
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
  inns '
    mount --bind "$T/home/queue/todo" "$T/home/queue/todo" && mount -o remount,bind,ro "$T/home/queue/todo" || exit 1
    QMAILHOME=$T/home "$QQ" < "$T/msg" 1< "$T/env"; echo "rc=$?"
  ' > "$T/f6b.out" 2>&1
  is "$(tr '\n' ' ' < "$T/f6b.out")/$(state)" "rc=66 /pid=0 mess=0 intd=0 todo=0" \
     "F6: todo/ alone read-only (no commit possible): exit 66, mess and intd removed"
elif [ "$(id -u)" != 0 ]; then
  chmod 500 "$Q/pid"
  "$QQ" < "$T/msg" 1< "$T/env"
  is "$?/$(state)" "63/pid=0 mess=0 intd=0 todo=0" "F6/F7: pid/ not writable (chmod): exit 63, nothing created"
  chmod 700 "$Q/pid"
else
  skip "F6: no namespace and root ignores chmod"
fi

done_testing
