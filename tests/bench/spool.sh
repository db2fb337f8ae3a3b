#!/bin/bash
# spool.sh: `make bench-spool` (never part of make check). What the leaf's
# spool (docs/spool.md) costs a send that finds it empty, against the tree
# from before the spool existed. The issue asks: one process, no system
# call more than a stat, time within 5%.
#
# Env: N (sends per leaf, default 500), BUILD (build), BASE (the revision
# to compare with; default: the parent of the commit that added
# common/q_lspool.c). The BASE tree is exported with git archive and built
# in a temporary directory; two leaf homes are installed there, "before"
# (BASE) and "after" (this tree's $BUILD, not rebuilt), both sending to
# tests/lib/fakeserver.py answering K on a loopback port.
# Figures, per leaf, for `sendmail -f bench@leaf.test mbox@hub.test` with
# a 2 KB message:
#   processes   processes started per send (strace -f: 1 + forks)
#   syscalls    system calls per send (strace -f -c), and those that differ
#   wall, cpu   per send over N sends of each, alternated A B A B (the
#               driver tests/bench/spooldrive.py reaps each child with
#               wait4: cpu is its exact user+sys), mean and median
# Output on stdout and in $BUILD/bench/spool.txt. Needs git, strace,
# python3; no root.
set -u
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || exit 111
cd "$top" || exit 111
BUILD=${BUILD:-build}
N=${N:-500}
if [ -z "${BASE:-}" ]; then
  added=$(git log --diff-filter=A --format=%H -- common/q_lspool.c | tail -1)
  [ -n "$added" ] || { echo "bench-spool: common/q_lspool.c is not committed: set BASE" >&2; exit 111; }
  BASE=$added^
fi
PY=$(command -v python3) || { echo "bench-spool: no python3" >&2; exit 111; }
command -v strace > /dev/null || { echo "bench-spool: no strace" >&2; exit 111; }
OUTDIR=$top/$BUILD/bench
OUT=$OUTDIR/spool.txt
mkdir -p "$OUTDIR"
tmp=$(mktemp -d /tmp/bench-spool.XXXXXX) || exit 111
chmod 755 "$tmp"
fake_pid=''
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2> /dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "== $*"; }
die() { echo "bench-spool: $*" >&2; exit 1; }

log "building $BASE ($(git rev-parse --short "$BASE")) in $tmp/src"
mkdir -p "$tmp/src"
git archive "$BASE" | tar -x -C "$tmp/src" || die "git archive $BASE failed"
make -s -C "$tmp/src" BUILD=build -j2 all > "$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log"; die "building $BASE failed"; }
make -s -C "$tmp/src" BUILD=build -o all install-leaf QMAILHOME="$tmp/before" > /dev/null 2>&1 || die "install-leaf (before) failed"
make -s -C "$top" BUILD="$BUILD" -o all install-leaf QMAILHOME="$tmp/after" > /dev/null 2>&1 || die "install-leaf (after) failed"
[ -d "$tmp/after/spool" ] || die "$BUILD has no spool (run make first)"

"$PY" "$top/tests/lib/fakeserver.py" K --lifetime 7200 > "$tmp/port" 2> /dev/null &
fake_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(head -1 "$tmp/port")
[ -n "$port" ] || die "the fake hub did not start"
for l in before after; do
  echo "127.0.0.1:$port" > "$tmp/$l/control/qmqpservers"
  echo leaf.test > "$tmp/$l/control/me"
done
{ printf 'From: bench@leaf.test\nTo: mbox@hub.test\nSubject: bench\n\n'; head -c 1536 /dev/zero | tr '\0' x | fold -w 64; } > "$tmp/msg"

send() { env -i PATH=/usr/bin:/bin LOGNAME=bench "$@" -f bench@leaf.test mbox@hub.test < "$tmp/msg"; }
declare -A procs calls
for l in before after; do
  send strace -f -qq -o "$tmp/tr.$l" "$tmp/$l/bin/sendmail" || die "a traced send ($l) failed"
  procs[$l]=$((1 + $(grep -cE '^[0-9]+ +(clone|clone3|fork|vfork)\(' "$tmp/tr.$l")))
  send strace -f -c -o "$tmp/c.$l" "$tmp/$l/bin/sendmail" || die "a counted send ($l) failed"
  calls[$l]=$(awk '$NF == "total" { print ($4 ~ /^[0-9]+$/) ? $4 : $3 }' "$tmp/c.$l")
  awk '{ n = $2; sub(/\(.*/, "", n) } n ~ /^[a-z0-9_]+$/ { print n }' "$tmp/tr.$l" | sort | uniq -c |
    awk '{ print $2, $1 }' > "$tmp/n.$l"
done
diff=$(join -a1 -a2 -e 0 -o 0,1.2,2.2 "$tmp/n.before" "$tmp/n.after" |
       awk '$2 != $3 { printf "%s%s %+d", sep, $1, $3 - $2; sep = ", " }')
left=$(find "$tmp/after/spool" -mindepth 1 | wc -l)

log "timing $N sends through each leaf, alternated"
"$PY" "$top/tests/bench/spooldrive.py" "$N" "$tmp/msg" "$tmp/before" "$tmp/after" > "$tmp/drive" ||
  die "the driver failed"
val() { sed -n "s|^leaf=$tmp/$1 .*$2=\([0-9.]*\).*|\1|p" "$tmp/drive"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { x = (b > 0) ? 100 * (a - b) / b : 0; printf "%+.1f%%", x }'; }
{
  echo "bench-spool: a leaf send with an empty spool, before ($(git rev-parse --short "$BASE")) and after ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- common leaf || echo ', with changes'))"
  echo "  message 2 KB, fake hub answering K on loopback, $N sends per leaf, alternated"
  printf '  %-28s %12s %12s %10s\n' "" before after change
  printf '  %-28s %12s %12s\n' "processes per send" "${procs[before]}" "${procs[after]}"
  printf '  %-28s %12s %12s %10s\n' "system calls per send" "${calls[before]}" "${calls[after]}" \
         "$((calls[after] - calls[before]))"
  for k in wall_mean wall_median cpu_mean cpu_median; do
    printf '  %-28s %12s %12s %10s\n' "${k/_/ } per send (us)" "$(val before $k)" "$(val after $k)" \
           "$(pct "$(val after $k)" "$(val before $k)")"
  done
  printf '  %-28s %12s %12s\n' "sends that exited 0" "$(val before ok)" "$(val after ok)"
  echo "  system calls that differ: ${diff:-none}"
  echo "  files left in the after spool: $left"
} | tee "$OUT"
