#!/bin/bash
# senddfree.t: deferred free (hub/send/dfree.h, hub/queue/QUEUE.md sec 6b),
# seen with strace on the real qmail-send of an installed home: 20
# messages queued while it is down (10 to ok@, 10 to bad@, whose delivery
# fails permanently, so that bounce/N is removed too; bin/qmail-lspawn is a
# fake that says K or D), then qmail-send started under strace -f, and
# stopped with TERM once every message ended. In qmail-send's own calls,
# for every file it removes or asks qmail-clean to remove (todo/S/N after
# preprocessing, then bounce/N, local/S/N, info/S/N and mess/S/N at the
# end of the message):
#   the file is opened with O_PATH before its name goes (the unlink, or
#   the T or M request on fd 5), and that descriptor is closed only after
#   a syncfs and then the barrier fdatasync that both came after the
#   removal;
#   every message's four names are held so (80 holds, 10 of bounce/N);
#   nothing is left open at exit.
# Also: the cost, flushes per message, printed as a diagnostic.
. "$(dirname "$0")/../lib/common.sh"
H=$T/home
export QMAILHOME=$H
command -v strace > /dev/null || { echo "1..0 # SKIP no strace"; exit 0; }
command -v python3 > /dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
strace -o /dev/null true 2> /dev/null || { echo "1..0 # SKIP strace cannot trace here"; exit 0; }
export ASAN_OPTIONS=detect_leaks=0
okbad_home "$H"  # 10 ok, 10 bad, queued with qmail-send down
log=$T/log
traced_send_start "$H" openat,write,unlink,unlinkat,close,syncfs,fdatasync
is "$(grep -c '^end msg' "$log")" 20 "all 20 messages done"
# let the last holds wait for their flush (DFREE_WAIT, 1 s) before TERM,
# so that the timer's flush is seen, not only the one at exit
sleep 3
traced_send_stop
# qmail-send's own trace: the one process that calls syncfs
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
holds, bad, kinds, leftopen = 0, 0, {}, 0
for i, c in enumerate(calls):
    m = re.match(r'openat\(AT_FDCWD, "(?:\./)?([a-z]+)/(?:(\d+)/)?(\d+)", [^)]*O_PATH[^)]*\) = (\d+)$', c)
    if not m: continue
    d, s, n, fd = m.groups()
    name = "%s/%s" % (s, n) if s else n
    holds += 1
    kinds[d] = kinds.get(d, 0) + 1
    # the removal: qmail-send's unlink, or its request to qmail-clean
    if d == "todo": rm = first(lambda x: x.startswith('write(5, "T%s\\0"' % name), i)
    elif d == "mess": rm = first(lambda x: x.startswith('write(5, "M%s\\0"' % name), i)
    else: rm = first(lambda x: re.match(r'unlink(at)?\((AT_FDCWD, )?"(\./)?%s/%s"' % (d, name), x) is not None, i)
    cl = first(lambda x: x.startswith("close(%s)" % fd), i)
    if cl is None: leftopen += 1; bad += 1; continue
    s = rm is not None and first(lambda x: x.startswith("syncfs("), rm)
    b = s and (first(lambda x: x.startswith("fdatasync("), s) if BARRIER else s)
    if not (rm is not None and s and b and i < rm < s <= b < cl):
        bad += 1
        print("# not after a flush: %s/%s fd %s" % (d, name, fd), file=sys.stderr)
syncfs = sum(1 for c in calls if c.startswith("syncfs("))
print("holds=%d bad=%d leftopen=%d syncfs=%d todo=%d info=%d local=%d mess=%d bounce=%d" %
      (holds, bad, leftopen, syncfs, kinds.get("todo", 0), kinds.get("info", 0),
       kinds.get("local", 0), kinds.get("mess", 0), kinds.get("bounce", 0)))
PY
eval "$(cat "$T/order")"
echo "# $(cat "$T/order")"
is "$todo $info $local $mess $bounce" "20 20 20 20 10" \
  "every removed file held: todo, info, local, mess of each message, bounce of each failure"
is "$bad" 0 "each held descriptor closed only after a syncfs and the barrier that followed the removal"
is "$leftopen" 0 "nothing held is left open at exit"
echo "# cost: $syncfs syncfs for 20 messages (preprocessing, bounce paragraphs, deferred free)"
done_testing
