#!/bin/bash
# commit.t: the queue's commit (common/q_commit.h) costs one syncfs where
# the filesystem's own flush comes last (ext4 with its journal) and one
# syncfs plus one barrier fdatasync where it does not (ext4 without a
# journal). Two ext4 filesystems on loop devices, one made with a journal
# and one with -O ^has_journal, are mounted; tests/unit/commit's probe mode
# prints the decision for each and counts, on the loop device's own
# counter (/sys/block/loopN/stat, flush I/Os), what ROUNDS plain syncfs
# calls and ROUNDS commits cost, each after three small files were
# written. Without a journal a commit must cost one flush more than a
# syncfs (the barrier); with one, no more than a syncfs (no barrier: the
# journal's commit record already went out with its flush, and a barrier
# would add one flush per commit). Needs root, losetup, mkfs.ext4 and a loop device
# with a write cache (it counts flushes); skips otherwise.
. "$(dirname "$0")/../lib/common.sh"

skipall() { echo "1..0 # skip $1"; exit 0; }
[ "$(id -u)" = 0 ] || skipall "needs root (loop devices, mounts)"
for t in losetup mkfs.ext4 mount umount mountpoint; do
  command -v "$t" > /dev/null || skipall "no $t"
done
PROBE=$SRCDIR/$BUILD/tests/unit/commit
[ -x "$PROBE" ] || qmake "$BUILD/tests/unit/commit" > /dev/null 2>&1
[ -x "$PROBE" ] || skipall "no $BUILD/tests/unit/commit"
ROUNDS=${COMMIT_ROUNDS:-20}

LOOPS=() MNTS=()
teardown() {
  local m l i
  for m in "${MNTS[@]}"; do
    for i in $(seq 50); do mountpoint -q "$m" || break; umount "$m" 2> /dev/null && break; sleep 0.2; done
  done
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2> /dev/null; done
  cleanup
}
trap teardown EXIT

# mkloop NAME MKFS-OPTIONS...: an ext4 on a new loop device mounted at
# $T/NAME; sets DEV (loopN)
mkloop() {
  local name=$1 l; shift
  truncate -s 64M "$T/$name.img" || return 1
  mkfs.ext4 -q -F "$@" "$T/$name.img" > "$T/$name.mkfs" 2>&1 || return 1
  l=$(losetup -f --show "$T/$name.img" 2> /dev/null) || return 1
  LOOPS+=("$l")
  mkdir -p "$T/$name"
  mount -t ext4 "$l" "$T/$name" || return 1
  MNTS+=("$T/$name")
  DEV=${l#/dev/}
}

mkloop journal || skipall "cannot make and mount an ext4 on a loop device"
JDEV=$DEV
mkloop nojournal -O ^has_journal || skipall "cannot make and mount an ext4 without a journal on a loop device"
NDEV=$DEV
[ "$(cat "/sys/block/$JDEV/queue/write_cache" 2> /dev/null)" = "write back" ] ||
  skipall "$JDEV has no write cache: it counts no flushes"
[ -d "/proc/fs/jbd2/$JDEV-8" ] || skipall "no /proc/fs/jbd2 (the journal cannot be seen here)"

# probe NAME DEV: run the probe, its output in $T/NAME.out
probe() {
  "$PROBE" "$T/$1" "$2" "$ROUNDS" > "$T/$1.out" 2> "$T/$1.err"
  ok $? "probe on the $1 filesystem ($2)" || sed 's/^/# /' "$T/$1.err"
  sed 's/^/# /' "$T/$1.out"
}
val() { sed -n "s/^$2 //p" "$T/$1.out"; }

probe journal "$JDEV"
like "$(val journal why)" "^syncfs only: ext4 with its journal on $JDEV " "with a journal: syncfs only"
read -r s smin <<< "$(val journal syncfs)"
read -r c cmin <<< "$(val journal commit)"
ok "$([ "${smin:-0}" -ge 1 ]; echo $?)" "with a journal: every syncfs reached the device with a flush (at least $smin each, $s in all)"
# A syncfs costs 2-4 flushes here (each journal commit is a PREFLUSH and
# a FUA write, two flushes on a device without FUA; at times a second
# commit, or ext4's own flush when the commit was already done), so the
# totals are noisy; the fewest a call cost is not: a barrier is one more
# flush after syncfs returned, so it would make the commit's fewest one
# more than syncfs's fewest.
is "$cmin" "$smin" "with a journal: a commit costs no flush more than a syncfs (fewest $cmin vs $smin; in all $c vs $s for $ROUNDS)"

probe nojournal "$NDEV"
like "$(val nojournal why)" "^syncfs and barrier: ext4 without an internal journal on $NDEV " "without a journal: syncfs and the barrier"
read -r s smin <<< "$(val nojournal syncfs)"
read -r c cmin <<< "$(val nojournal commit)"
is "$s" "$ROUNDS" "without a journal: one flush per syncfs"
is "$c" "$((2 * ROUNDS))" "without a journal: two per commit (syncfs, then the barrier after the last metadata block)"

done_testing
