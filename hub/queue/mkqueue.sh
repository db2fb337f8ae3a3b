#!/bin/sh
# mkqueue.sh [-s] DIR: create the queue tree DIR/queue of a hub home
# (hub/queue/QUEUE.md; names and modes: hub/queue/qconf.h, docs/queue.md sec 1):
#   queue/ pid/ mess/0..22/ intd/0..22/ todo/0..22/ info/0..22/
#   local/0..22/ remote/0..22/ bounce/ lock/{sendmutex,trigger,tcpto,barrier}
# and DIR/qq/ (qmailq 0755), where qmail-queued makes its socket.
# Run as root, it gives each entry qmail's owner (qmailq, qmails, qmailr;
# group qmail) and assumes those users exist (the install creates them).
# Run by anyone else, or with -s (single-user layout even as root, e.g.
# inside `unshare -r`), everything belongs to the caller; the modes are the
# same either way.
# Idempotent: an entry that already exists is never changed, whatever its
# owner or mode, so running it again on a live queue (an upgrade) is safe.
# Files are made under a temporary name and renamed into place.
# Exit 0 when the tree is complete, 111 on any error (message on stderr).
set -u

split=23
single=0
if [ "${1:-}" = -s ]; then single=1; shift; fi
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: mkqueue.sh [-s] DIR" >&2; exit 100
fi
home=$1
q=$home/queue
if [ "$single" = 0 ] && [ "$(id -u)" = 0 ]; then root=1; else root=0; fi

die() { echo "mkqueue.sh: fatal: $*" >&2; exit 111; }

# own USER MODE PATH: set owner (as root) and mode of something just made.
own() {
  if [ "$root" = 1 ]; then chown "$1:qmail" "$3" || die "unable to chown $3"; fi
  chmod "$2" "$3" || die "unable to chmod $3"
}

# dir USER MODE PATH: make a directory unless it exists.
dir() {
  [ -d "$3" ] && return 0
  [ -e "$3" ] && die "$3 exists and is not a directory"
  mkdir "$3" 2>/dev/null || [ -d "$3" ] || die "unable to mkdir $3"
  own "$1" "$2" "$3"
}

# splitdir USER MODE NAME: NAME and NAME/0..22.
splitdir() {
  dir "$1" "$2" "$q/$3"
  i=0
  while [ "$i" -lt "$split" ]; do
    dir "$1" "$2" "$q/$3/$i"
    i=$((i + 1))
  done
}

# file USER MODE NAME KIND: make lock/NAME unless it exists; KIND is
# empty, fifo or zeros (1024 NUL bytes).
file() {
  f=$q/lock/$3
  [ -e "$f" ] || [ -p "$f" ] && return 0
  tmp=$q/lock/.$3.$$
  rm -f "$tmp"
  case $4 in
    empty) : > "$tmp" ;;
    fifo) mkfifo "$tmp" ;;
    zeros) head -c 1024 /dev/zero > "$tmp" ;;
  esac || die "unable to create $tmp"
  own "$1" "$2" "$tmp"
  # mv -n: never replace an entry that appeared meanwhile.
  mv -n "$tmp" "$f" || die "unable to rename $tmp"
  rm -f "$tmp"
}

[ -d "$home" ] || mkdir -p "$home" || die "unable to mkdir $home"
dir qmailq 750 "$q"
dir qmailq 700 "$q/pid"
splitdir qmailq 750 mess
splitdir qmailq 700 intd
splitdir qmailq 750 todo
splitdir qmails 700 info
splitdir qmails 700 local
splitdir qmails 700 remote
dir qmails 700 "$q/bounce"
dir qmailq 750 "$q/lock"
file qmails 600 sendmutex empty
file qmails 622 trigger fifo
file qmailr 644 tcpto zeros
file qmailq 600 barrier empty
dir qmailq 755 "$home/qq"
exit 0
