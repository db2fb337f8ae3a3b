#!/bin/bash
# powerloss.t: the hub's queue survives a power cut (issue 14, "Durability
# is proven, not assumed"; docs/powerloss.md tells what is simulated and
# what is not).
# The hub's queue/ and the recipient's Maildir live on an ext4 filesystem
# on a loop device whose backing file is served by tests/slow/blklog.c, a
# FUSE daemon that records every write and every cache flush the loop
# device sends, in order, with the time each arrived. The hub runs with
# its real servers (in a cgroup, to be killed as a whole); clients
# (tests/slow/plload.py) send messages over SMTP and QMQP in parallel, each
# with a unique id and the checksum of its body, and note when each
# acknowledgement arrived. At a random moment the recorder marks the cut.
# tests/slow/crashimg.py then picks cut points (the recorder's cut and
# PL_CUTS-1 records drawn from the log during the load) and builds crash
# images for each: the disk after the last flush before the cut with every
# later write dropped, with all of them, with a prefix of them, and with
# random subsets (per write, and per 4 KB block). For each image: e2fsck
# -fy (run a second time when the first exits 4) must leave a mountable
# filesystem; qmail-send (its service's run script) runs until the queue is drained; then every message acknowledged before
# the cut is in the Maildir at least once (duplicates counted), every
# delivered message is whole (checksum), and the queue is empty but for
# explained leftovers (S2/S3 garbage in mess/, todo/ entries qmail-send
# logged as damaged; left todo/ entries are described). Rounds: ext4 with
# its journal and ext4 without one (mkfs -O ^has_journal).
# Needs root (loop devices, mounts, cgroups), /dev/fuse, libfuse3 (make
# check-slow installs fuse3 and libfuse3-dev), losetup, mkfs.ext4, e2fsck
# and a cgroup2 mount; without them it skips with the reason.
# docs/powerloss.md: the model, its limits, the findings.
# Settings: PL_ROUNDS (journal nojournal), PL_CUTS (3), PL_SUBSETS (subset
# and torn images per cut point, 2), PL_SEED (random), PL_LOAD (seconds of load before
# the earliest cut, 2; the cut comes up to 3 s later), PL_KEEP (a directory:
# failed images and their round's log are copied there).
# TAP on stdout; BUILD=build|build-san picks the hub's binaries.

. "$(dirname "$0")/../lib/common.sh"
HUB_BUDGET=${HUB_BUDGET:-3600}   # hub.sh's whole-script wait budget: every wait here has its own bound
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built

skipall() { echo "1..0 # skip $1"; exit 0; }
okr() { local s=$1; ok "$@"; return "$s"; }   # ok, returning the status it was given
[ "$(id -u)" = 0 ] || skipall "needs root (loop devices, mounts, a cgroup)"
for t in losetup mkfs.ext4 e2fsck mount umount pkg-config cc; do
  command -v "$t" > /dev/null || skipall "no $t"
done
[ -c /dev/fuse ] || skipall "no /dev/fuse"
# root here: what make check-slow installs must be there
nopkg() { echo "1..1"; echo "not ok 1 - $1: make check-slow installs fuse3 and libfuse3-dev (tests/lib/deps.sh)"; exit 1; }
pkg-config --exists fuse3 || nopkg "no libfuse3"
command -v fusermount3 > /dev/null || nopkg "no fusermount3"
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cg2" ] || skipall "no cgroup2 mount (the freezer of the hub's processes)"

SIZE=$((128 << 20))
SEED=${PL_SEED:-$RANDOM}
NSUB=${PL_SUBSETS:-2}
LOADS=${PL_LOAD:-2}
Q=$HUB/queue
echo "# seed $SEED (PL_SEED=$SEED repeats the choices of images; the cut moment still varies)"

cc -std=gnu11 -O2 -Wall -Wextra -Werror $(pkg-config --cflags fuse3) \
   -o "$T/blklog" "$SRCDIR/tests/slow/blklog.c" $(pkg-config --libs fuse3) 2> "$T/cc.log"
ok $? "blklog.c compiles against libfuse3" || { sed 's/^/# /' "$T/cc.log"; done_testing; exit 1; }

# ---- clean-up of everything this script set up, also after a failure ----------
CG=$cg2/powerloss.$$
BLKPID="" LOOPS=() MNTS=()
cg_kill() {   # kill every process in the cgroup and wait until it is empty
  local i
  [ -d "$CG" ] || return 0
  if [ -e "$CG/cgroup.kill" ]; then echo 1 > "$CG/cgroup.kill"
  else for i in $(cat "$CG/cgroup.procs"); do kill -9 "$i" 2> /dev/null; done; fi
  echo 0 > "$CG/cgroup.freeze"
  for i in $(seq 100); do [ -z "$(cat "$CG/cgroup.procs")" ] && return 0; sleep 0.1; done
  return 1
}
pl_umount() {   # pl_umount DIR: unmount a mount of ours, bounded
  local i
  for i in $(seq 50); do mountpoint -q "$1" || return 0; umount "$1" 2> /dev/null && return 0; sleep 0.2; done
  umount -l "$1"
}
pl_cleanup() {
  local m l
  [ -n "${PL_LOADPID:-}" ] && kill -9 "$PL_LOADPID" 2> /dev/null
  cg_kill
  for m in "${MNTS[@]}"; do pl_umount "$m"; done   # the bind mount first
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2> /dev/null; done
  if [ -n "$BLKPID" ]; then
    fusermount3 -u "$T/fuse" 2> /dev/null || umount -l "$T/fuse" 2> /dev/null
    kill "$BLKPID" 2> /dev/null
  fi
  [ -d "$CG" ] && rmdir "$CG" 2> /dev/null
  _hub_exit
}
trap pl_cleanup EXIT
mkdir "$CG" || skipall "cannot make a cgroup in $cg2"
# in_cg CMD...: run CMD inside the cgroup ("(in_cg CMD &)" for the
# background: not a job of this shell, so no "Killed" notice from bash)
in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

# ---- the hub --------------------------------------------------------------------
# The disk holds the queue (bind-mounted on the hub's queue/) and the
# recipient's home with its Maildir: a power cut hits both, and what was
# delivered before the cut is what the image's Maildir holds.
DISK=$T/disk
HOMEPL=$DISK/pl
hub_install
hub_assign "=pl:$RNAME:$RUID:$RGID:$HOMEPL:::"
hub_newu
RCPT=pl@$ME
for s in qmail-smtpd qmail-qmqpd; do echo 1000 > "$HUB/service/$s/env/PERIP"; done
mv "$Q" "$T/queue.installed" && mkdir "$Q" "$DISK"

# drained: nothing left for qmail-send to do (info, local, remote, bounce
# empty) and every todo/ entry is one that qmail-send logged as damaged
drained() {
  local n f
  n=$(find "$Q/info" "$Q/local" "$Q/remote" "$Q/bounce" -type f 2> /dev/null | wc -l)
  [ "$n" = 0 ] || return 1
  for f in $(find "$Q/todo" -type f -printf '%f\n' 2> /dev/null); do
    grep -q "msg $f has a damaged envelope" "$SENDLOG" || return 1
  done
  return 0
}
# settled: drained, or the queue has not changed for 15 s (stuck: the
# checks after it say what is left). For wait_until: state in globals.
settled() {
  local sig
  drained && return 0
  sig=$(find "$Q/todo" "$Q/info" "$Q/local" "$Q/remote" "$Q/bounce" -type f -printf '%p %T@ %s\n' 2> /dev/null | sort | md5sum)
  if [ "$sig" != "$_sig" ]; then _sig=$sig _since=$SECONDS; return 1; fi
  [ $((SECONDS - _since)) -ge 15 ]
}
# ctl: the recorder's counters
ctl() { cat "$T/fuse/ctl"; }
ctlval() { ctl | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
# mountdisk DEV: mount DEV on $DISK and its queue/ on the hub's queue/
mountdisk() {
  mount -o nodiscard "$1" "$DISK" || return 1
  MNTS=("$Q" "$DISK")
  mount --bind "$DISK/queue" "$Q"
}
umountdisk() { pl_umount "$Q" && pl_umount "$DISK"; }

# ---- one round ------------------------------------------------------------------
# round NAME MKFSOPTIONS...: a recorded load, then every crash image of it
round() {
  local r=$1 D=$T/$1 loop i t t0 cut cutns name v rc fsck left garb todo dmg res acked
  shift
  mkdir -p "$D/acks" "$D/img" "$T/fuse"
  "$T/blklog" "$SIZE" "$D/log" "$T/fuse" > "$D/blklog.out" 2>&1 &
  BLKPID=$!
  for i in $(seq 100); do [ -e "$T/fuse/disk" ] && break; sleep 0.1; done
  loop=$(losetup -f --show "$T/fuse/disk") && LOOPS+=("$loop")
  okr $? "$r: a loop device on the recorder's disk ($loop)" || return 1
  mkfs.ext4 -q -F -b 4096 -N 32768 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$@" "$loop" > "$D/mkfs.log" 2>&1 &&
    mount -o nodiscard "$loop" "$DISK" && mkdir "$DISK/queue" && mount --bind "$DISK/queue" "$Q" && MNTS=("$Q" "$DISK")
  okr $? "$r: mkfs.ext4 $* and mount: the hub's queue/ and the recipient's home on it" || { sed 's/^/# /' "$D/mkfs.log"; return 1; }
  sh "$SRCDIR/hub/queue/mkqueue.sh" "$HUB" > /dev/null
  mkdir -p "$HOMEPL" && "$HUB/bin/maildirmake" "$HOMEPL/Maildir" && chown -R "$RUID:$RGID" "$HOMEPL"
  # the loop device passes the filesystem's flushes down as fsync of its file
  # (and a FUA write as a write and a flush): an fsync on the mounted
  # filesystem must reach the recorder
  sync; v=$(ctlval fsyncs)
  python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT); os.write(fd, b"x" * 5000); os.fsync(fd)' "$Q/pid/probe"
  i=$(ctlval fsyncs)
  t=$(python3 "$SRCDIR/tests/slow/crashimg.py" dump "$D/log" | tail -n 3 | cut -c1 | tr -d '\n')
  rm -f "$Q/pid/probe"; sync
  [ "$i" -gt "$v" ]; ok $? "$r: an fsync on the queue's filesystem reaches the recorder as a flush ($v -> $i)"
  # with a journal the commit block is a FUA write after a pre-flush: the
  # loop device has no FUA, so it must arrive as flush, write, flush
  case $r in
    journal) is "$t" FWF "$r: the journal's commit (pre-flush + FUA write) arrives as flush, write, flush" ;;
    *) like "$t" 'WF$' "$r: the fsync's writes arrive, then the flush" ;;
  esac

  # the load, then the cut at a random moment
  in_cg bash -c '. "$1/tests/lib/ports.sh"; qmailctl_start "$2" "$3"' _ "$SRCDIR" "$HUB" "$D/start.log"
  okr $? "$r: the hub starts on the recorded disk (in cgroup $CG)" || { sed 's/^/# /' "$D/start.log"; return 1; }
  SMTP=$(cat "$HUB/service/qmail-smtpd/env/PORT") QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")
  python3 "$SRCDIR/tests/slow/plload.py" load "$SMTP" "$QMQP" "$RCPT" 6 4 "$D/acks" > "$D/load.log" 2>&1 &
  PL_LOADPID=$!
  t=$(awk -v s="$SEED" -v l="$LOADS" -v r="$r" 'BEGIN { srand(s + length(r)); printf "%.2f", l + rand() * 3 }')
  sleep "$t"
  echo cut > "$T/fuse/ctl"
  echo "# $r: recorder at the cut after $t s of load: $(ctl)"
  echo "# $r: the hub's processes at the cut: $(for i in $(cat "$CG/cgroup.procs"); do cat "/proc/$i/comm"; done 2> /dev/null | sort | uniq -c | tr -s ' \n' '  ')"
  kill -9 "$PL_LOADPID"; { wait "$PL_LOADPID"; } 2> /dev/null; PL_LOADPID=""
  cg_kill; ok $? "$r: the hub is killed after the cut"
  umountdisk; losetup -d "$loop"
  fusermount3 -u "$T/fuse"
  for i in $(seq 100); do kill -0 "$BLKPID" 2> /dev/null || break; sleep 0.1; done
  kill "$BLKPID" 2> /dev/null; wait "$BLKPID"; BLKPID=""
  # cut points drawn after the 10th acknowledgement (earlier ones test little)
  t0=$(cat "$D/acks"/acks.* | sort -k2n | awk 'NR == 10 { print $2 }')
  python3 "$SRCDIR/tests/slow/crashimg.py" cuts "$D/log" "${t0:-0}" "$NCUTS" "$SEED" > "$D/cuts"
  okr $? "$r: $(wc -l < "$D/cuts") cut points: the recorder's and $((NCUTS - 1)) drawn from the log after the 10th acknowledgement" || return 1

  while read -r cut cutns; do
    acked=$(cat "$D/acks"/acks.* | awk -v c="$cutns" '$2 < c' | wc -l)
    [ "$acked" -ge 10 ]; ok $? "$r@$cut: $acked messages acknowledged before this cut"
    python3 "$SRCDIR/tests/slow/crashimg.py" make "$D/log" "$SIZE" "$D/img" "$cut" "$SEED" "$NSUB" > "$D/plan" 2> "$D/plan.err"
    okr $? "$r@$cut: crash images built: $(tr '\n' ' ' < "$D/plan")" || { sed 's/^/# /' "$D/plan.err"; continue; }
    while read -r name v; do
      one_image "$r@$cut/$name" "$D/img/$name.img" "$v" "$cutns" "$D"
      rm -f "$D/img/$name.img"
    done < "$D/plan"
  done < "$D/cuts"
  rm -f "$D/log"
}

# one_image LABEL IMAGE KEPT CUTNS ROUNDDIR: fsck, mount, drain, check
one_image() {
  local l=$1 img=$2 v=$3 cutns=$4 D=$5 loop rc fsck f n todo dmg garb left res
  loop=$(losetup -f --show "$img") && LOOPS+=("$loop")
  e2fsck -fy "$loop" > "$D/fsck.out" 2>&1; rc=$?
  fsck="exit $rc: $(grep -cvE '^(e2fsck |Pass [0-9]|$)|files,' "$D/fsck.out") lines"
  # exit 4 (errors left): run it once more, as an administrator would
  # (e2fsck 1.47 can repair a torn root directory block in pass 2 and only
  # finish the job in a second run); a second exit 4 still fails
  if [ "$rc" = 4 ]; then
    e2fsck -fy "$loop" >> "$D/fsck.out" 2>&1; rc=$?
    fsck="$fsck, second run exit $rc"
  fi
  [ "$rc" = 0 ] || echo "# $l: e2fsck: $(grep -vE '^(e2fsck |Pass [0-9]|$)|files,' "$D/fsck.out" | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | head -4 | tr -s ' \n' '  ')"
  [ "$rc" -lt 4 ] && mountdisk "$loop"
  okr $? "$l ($v writes after the flush kept): e2fsck -fy ($fsck), then mounts" ||
    { sed 's/^/# /' "$D/fsck.out" | tail -20; umountdisk; losetup -d "$loop"; return 1; }
  SENDLOG=$D/send.log
  (in_cg "$HUB/service/qmail-send/run" > "$SENDLOG" 2>&1 &)
  _sig="" _since=$SECONDS
  WAIT_MAX=1200 wait_until settled; drained; ok $? "$l: qmail-send drains the queue"
  cg_kill
  todo=$(find "$Q/todo" -type f | wc -l)
  dmg=$(grep -c 'has a damaged envelope' "$SENDLOG")
  garb=$(find "$Q/mess" -type f | wc -l)
  left=$(find "$Q/info" "$Q/local" "$Q/remote" "$Q/bounce" -type f | wc -l)
  # a todo/ entry left: which inode it names, and whether its message was
  # already preprocessed (info/S/N there: a stale name, not a new message)
  for f in $(find "$Q/todo" -type f); do
    n=${f##*/}
    echo "# $l: left $(stat -c 'todo/%n: inode %i, %h links, %s bytes' "$f" | sed "s|$Q/todo/||"), info/$(basename "$(dirname "$f")")/$n $( [ -e "$Q/info/${f#$Q/todo/}" ] && echo exists || echo absent)"
  done
  for f in $(find "$Q/info" "$Q/local" "$Q/remote" "$Q/bounce" -type f | head -n 6); do
    echo "# $l: left ${f#$Q/}: $(stat -c 'inode %i, %h links, %s bytes' "$f"), starts \"$(head -c 40 "$f" | tr -c '[:print:]' '.')\""
  done
  [ "$left" = 0 ] && [ "$todo" = "$dmg" ]
  ok $? "$l: the queue is empty but for garbage: $garb in mess/ (S2/S3), $todo todo/ left as damaged, $left in info/local/remote/bounce"
  res=$(python3 "$SRCDIR/tests/slow/plload.py" check "$D/acks" "$cutns" "$HOMEPL/Maildir/new" "$HOMEPL/Maildir/cur")
  rc=$?
  echo "$res" | sed -n '2,20s/^/# /p'
  is "$rc $(echo "$res" | sed -n '1s/.* garbled \([0-9]*\) missing \([0-9]*\)/garbled \1 missing \2/p')" "0 garbled 0 missing 0" \
     "$l: every acknowledged message delivered, none garbled ($(echo "$res" | head -1))"
  umountdisk; losetup -d "$loop"
  # PL_KEEP=DIR: a failed image is kept there (with its round's log, for
  # crashimg.py dump), to be examined after the run
  if [ -n "${PL_KEEP:-}" ] && [ "$_fail" != "${_failbefore:-0}" ]; then
    mkdir -p "$PL_KEEP" && cp "$img" "$PL_KEEP/${l//[@\/]/-}.img" && cp -n "$D/log" "$PL_KEEP/${l%%@*}.log"
    echo "# $l: image kept in $PL_KEEP"
  fi
  _failbefore=$_fail
}

NCUTS=${PL_CUTS:-3}
for r in ${PL_ROUNDS:-journal nojournal}; do
  case $r in
    journal) round journal ;;
    nojournal) round nojournal -O ^has_journal ;;
    *) echo "Bail out! unknown round $r"; exit 1 ;;
  esac
done
done_testing
