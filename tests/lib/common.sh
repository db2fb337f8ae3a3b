# common.sh: helpers for the end-to-end .t scripts (source it).
# Sets SRCDIR (repo root), BUILD (build or build-san), T (a temp dir removed
# at exit), and provides TAP output, leaf installation and server starting.
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
T=$(mktemp -d)
chmod 755 "$T"
_pids=()
cleanup() { local p; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

_n=0; _fail=0
ok() { _n=$((_n + 1)); if [ "$1" = 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _fail=$((_fail + 1)); fi; }
is() { _n=$((_n + 1)); if [ "$1" = "$2" ]; then echo "ok $_n - $3"; else echo "not ok $_n - $3"; { echo "#   got: '$1'"; echo "#   expected: '$2'"; } >&2; _fail=$((_fail + 1)); fi; }
like() { _n=$((_n + 1)); if printf '%s' "$1" | grep -qE -- "$2"; then echo "ok $_n - $3"; else echo "not ok $_n - $3"; { echo "#   got: '$1'"; echo "#   wanted: /$2/"; } >&2; _fail=$((_fail + 1)); fi; }
done_testing() { echo "1..$_n"; [ "$_fail" = 0 ]; }

# loopback_ip: a random IPv4 loopback address outside 127.0.0.0/16, for a
# server that needs its own address (a fixed port, or a DNS record): two
# runs at once, or the machine's own servers, do not meet there by chance.
loopback_ip() { echo "127.$((RANDOM % 254 + 1)).$((RANDOM % 256)).$((RANDOM % 254 + 1))"; }

# dep_missing N WHY: N results for checks whose tool (a package make deps
# installs) is missing: failures as root (CI runs make deps as root, so the
# tool must be there), skips with the reason as a normal user.
dep_missing() {
  local i
  for i in $(seq "$1"); do
    if [ "$(id -u)" = 0 ]; then ok 1 "$2: as root a failure (make deps installs it)"; else ok 0 "# skip $2"; fi
  done
}

# qmake ARGS...: make in the tree with this run's build directory ($BUILD;
# a name ending in -san means the sanitizer build).
qmake() {
  local san=""; case $BUILD in *-san) san=SAN=1;; esac
  make -s -C "$SRCDIR" BUILD="$BUILD" $san "$@"
}

# install_leaf DIR: a leaf home built from this tree.
install_leaf() {
  qmake install-leaf QMAILHOME="$1" > "$T/install.log" 2>&1 || { cat "$T/install.log" >&2; return 1; }
  printf 'leaf.example.org\n' > "$1/control/me"
}

# start_fake MODE [ARGS...]: start tests/lib/fakeserver.py, set FAKE_PORT and FAKE_PID.
start_fake() {
  local out=$T/fake.$RANDOM i
  python3 "$SRCDIR/tests/lib/fakeserver.py" "$@" > "$out" 2>&1 &
  FAKE_PID=$!; _pids+=("$FAKE_PID")
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  FAKE_PORT=$(head -1 "$out")
}

# alive PID: the process exists and is not a zombie
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# waitlog REGEX [FROM]: wait until REGEX matches a line of $log after line
# FROM; bounded by WAITN tries 0.1 s apart (600 unless the test sets it: a
# bound for a loaded machine, not a timing claim)
waitlog() {
  local _
  for _ in $(seq "${WAITN:-600}"); do
    tail -n +"$((${2:-0} + 1))" "$log" | grep -qE -- "$1" && return 0
    sleep 0.1
  done
  echo "# timed out waiting for /$1/ in the log" >&2; return 1
}
# send_start HOME: HOME/bin/qmail-start ./Maildir/ (it becomes qmail-send)
# in the background, its log in $log, its pid in spid; at exit a qmail-send
# still running gets SIGTERM (its helpers follow)
send_start() {
  spid=""
  trap '[ -n "$spid" ] && alive "$spid" && kill -TERM "$spid"; cleanup' EXIT
  "$1/bin/qmail-start" ./Maildir/ > "$log" 2>> "$T/stderr" &
  spid=$!
}
# send_stop: SIGTERM to qmail-send, wait for it (bounded); exit code in send_rc
send_stop() {
  local _
  kill -TERM "$spid"
  for _ in $(seq "${WAITN:-600}"); do alive "$spid" || break; sleep 0.1; done
  wait "$spid"; send_rc=$?; spid=""
}

# commit_barrier DIR: 1 when the queue's commit on DIR's filesystem is
# syncfs plus the barrier fdatasync, 0 when it is syncfs alone (ext4 with
# its journal; common/q_commit.h decides, asked through tests/unit/commit)
commit_barrier() {
  local probe=$SRCDIR/$BUILD/tests/unit/commit d
  [ -x "$probe" ] || qmake "$BUILD/tests/unit/commit" > /dev/null 2>&1
  d=$(mktemp -d "$1/.probe.XXXXXX") || { echo 1; return; }
  case $("$probe" "$d" none 0 2>/dev/null | sed -n 's/^why //p') in
    "syncfs only"*) echo 0 ;;
    *) echo 1 ;;
  esac
  rm -rf "$d"
}

# okbad_home HOME: install a hub in HOME (local domain hub.example.org,
# the fake qmail-lspawn, double bounces dropped) and queue 20 messages
# with qmail-send down: okN@ and badN@ (N 1..10; bad* fail permanently),
# senders <>. Bails out when the install or qmail-queue fails.
okbad_home() {
  local i r
  qmake install QMAILHOME="$1" > "$T/install.log" 2>&1 ||
    { sed 's/^/# /' "$T/install.log"; echo "Bail out! make install failed"; exit 1; }
  echo hub.example.org > "$1/control/me"
  echo hub.example.org > "$1/control/locals"
  : > "$1/control/doublebounceto"   # the senders are <>: their bounces are dropped
  fake_lspawn "$1"
  for i in $(seq 10); do
    for r in ok bad; do
      printf 'F\0T%s%s@hub.example.org\0\0' "$r" "$i" > "$T/env"
      printf 'Subject: %s%s\n\nbody\n' "$r" "$i" | "$1/bin/qmail-queue" 1< "$T/env" ||
        { echo "Bail out! qmail-queue failed"; exit 1; }
    done
  done
}

# traced_send_start HOME CALLS: HOME/bin/qmail-start ./Maildir/ under
# strace -ff -e trace=CALLS (one file per process: $T/tr/t.PID), its log
# in $log, strace's pid in sp; then wait (bounded) until 20 messages are
# done ("end msg" lines)
traced_send_start() {
  local _
  mkdir -p "$T/tr"
  strace -ff -s 80 -e trace="$2" -o "$T/tr/t" "$1/bin/qmail-start" ./Maildir/ > "$log" 2> "$T/stderr" &
  sp=$!
  for _ in $(seq 1200); do [ "$(grep -c '^end msg' "$log")" -ge 20 ] && break; sleep 0.1; done
}
# traced_send_stop: SIGTERM to the traced qmail-send (strace's child), wait
# for the end (bounded), strace killed if it is still there
traced_send_stop() {
  local _
  kill -TERM $(ps -o pid= --ppid "$sp" | tr -d ' ' | xargs -r -I{} sh -c 'c=$(cat /proc/{}/comm 2>/dev/null); [ "$c" = qmail-send ] && echo {}') 2> /dev/null
  for _ in $(seq 300); do kill -0 "$sp" 2> /dev/null || break; sleep 0.1; done
  kill -0 "$sp" 2> /dev/null && kill -KILL "$sp"
  wait "$sp"
}

# fake_lspawn HOME: HOME/bin/qmail-lspawn becomes tests/lib/fakelspawn.py
# (K, or D for bad*, Z for later*; recipients logged to $JOBLOG if set),
# and HOME has no qmail-rspawn (qmail-send then answers remote jobs itself)
fake_lspawn() {
  rm -f "$1/bin/qmail-lspawn" "$1/bin/qmail-rspawn"
  printf '#!/bin/sh\nexec python3 %s\n' "$SRCDIR/tests/lib/fakelspawn.py" > "$1/bin/qmail-lspawn"
  chmod 755 "$1/bin/qmail-lspawn"
}
