#!/bin/bash
# sendsync.t: qmail-send's flushes, in order (hub/queue/QUEUE.md sec 4,
# "qmail-send's flushes"), seen with strace on the real qmail-send of an
# installed home: 20 messages queued while it is down (10 to ok@, 10 to
# bad@, whose delivery fails permanently; bin/qmail-lspawn is a fake that
# says K or D), then qmail-send started under strace -f. Checked in
# qmail-send's own calls:
#   preprocessing: every message's info/S/N is written before a syncfs and
#   the barrier fdatasync (of lock/sendmutex), and only after both is
#   qmail-clean asked to remove its todo/S/N ("T" request on fd 5);
#   the batch: the 20 messages of the backlog share the flushes (at most
#   two syncfs, not one per message);
#   a failure: its paragraph is written to bounce/N before a syncfs and
#   the barrier, and only then is its record marked D (pwrite), while a
#   success's D mark needs no flush;
#   every message is done, each failure logged once;
#   each local/S/N is opened for reading once, by its pass (the end of the
#   message needs no second read: qmail-send counts the D marks).
. "$(dirname "$0")/../lib/common.sh"
H=$T/home
export QMAILHOME=$H
command -v strace > /dev/null || { echo "1..0 # SKIP no strace"; exit 0; }
command -v python3 > /dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
export ASAN_OPTIONS=detect_leaks=0
okbad_home "$H"  # 10 ok, 10 bad, queued with qmail-send down
log=$T/log
traced_send_start "$H" openat,write,pwrite64,syncfs,fdatasync,fsync,statfs,fstatfs
is "$(grep -c '^end msg' "$log")" 20 "all 20 messages done"
is "$(grep -c ': failure: no mailbox here' "$log")" 10 "10 failures, each logged once"
traced_send_stop
# the checks on qmail-send's own trace (one file per process; qmail-send
# is the only process that calls syncfs)
BARRIER=$(commit_barrier "$T") python3 - "$T"/tr/t.* > "$T/order" <<'PY'
import os, re, sys
BARRIER = os.environ.get("BARRIER") != "0"  # else syncfs alone commits
calls = []
for f in sys.argv[1:]:
    lines = open(f).read().split("\n")
    if any(l.startswith("syncfs(") for l in lines): calls = lines
def first(pred, start=0):
    for i in range(start, len(calls)):
        if pred(calls[i]): return i
    return None
info, bounce = {}, {}
for i, c in enumerate(calls):
    m = re.match(r'openat\(AT_FDCWD, "(?:\./)?info/\d+/(\d+)", O_WRONLY\|O_CREAT', c)
    if m: info[m.group(1)] = i
    m = re.match(r'openat\(AT_FDCWD, "bounce/(\d+)", O_WRONLY.*= (\d+)$', c)
    if m: bounce[m.group(1)] = (i, m.group(2))
syncfs = [i for i, c in enumerate(calls) if c.startswith("syncfs(")]
pre_bad = 0
for n, i in info.items():
    s = first(lambda c: c.startswith("syncfs("), i)
    b = s is not None and (first(lambda c: c.startswith("fdatasync("), s) if BARRIER else s)
    t = first(lambda c: c.startswith('write(5, "T') and ("/%s\\0" % n) in c, i)
    if s is None or not b or t is None or not (i < s <= b < t): pre_bad += 1
fail_bad = 0
for n, (i, fd) in bounce.items():
    w = first(lambda c: c.startswith("write(%s, " % fd), i)
    s = w is not None and first(lambda c: c.startswith("syncfs("), w)
    b = s and (first(lambda c: c.startswith("fdatasync("), s) if BARRIER else s)
    # the D mark of this message: chanfile_markdone opens local/S/N to write
    d = first(lambda c: re.match(r'openat\(AT_FDCWD, "local/\d+/%s", O_WRONLY' % n, c), i)
    if not (w is not None and s and b and d is not None and w < s <= b < d): fail_bad += 1
# reads of each local/S/N: the pass, once; settle counts the D marks
# instead of reading the file again (hub/send/channel.c); dfree's O_PATH
# hold is no read
reads = {}
for c in calls:
    m = re.match(r'openat\(AT_FDCWD, "local/\d+/(\d+)", O_RDONLY', c)
    if m and "O_PATH" not in c: reads[m.group(1)] = reads.get(m.group(1), 0) + 1
reread = sum(1 for n in info if reads.get(n, 0) != 1)
# the commit's decision (statfs of the queue's filesystem) is made once
statfs = sum(1 for c in calls if c.startswith("statfs(") or c.startswith("fstatfs("))
print("infos=%d pre_bad=%d syncfs=%d bounces=%d fail_bad=%d reread=%d statfs=%d" % (len(info), pre_bad, len(syncfs), len(bounce), fail_bad, reread, statfs))
PY
eval "$(cat "$T/order")"
echo "# $(cat "$T/order")"
is "$infos" 20 "preprocessing: 20 info files written"
is "$pre_bad" 0 "preprocessing: each info/S/N, then syncfs, then the barrier fdatasync, then the T request to qmail-clean"
[ "$syncfs" -ge 1 ] && [ "$syncfs" -le 8 ]
ok $? "the backlog shares its flushes: $syncfs syncfs for 20 messages and 10 failures (at most 8)"
is "$bounces" 10 "10 bounce paragraphs written"
is "$fail_bad" 0 "a failure: the bounce paragraph, then syncfs, then the barrier, then the D mark"
[ "$statfs" -le 1 ] && [ "$syncfs" -ge 2 ]
ok $? "the commit decision is made once: $statfs statfs for $syncfs syncfs"
is "$reread" 0 "each local/S/N is read once: its pass (settle counts the marks, no second read)"
done_testing
