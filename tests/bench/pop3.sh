#!/bin/bash
# pop3.sh: `make bench-pop3` (never part of make check). qmail-pop3d
# against Dovecot's POP3 server (Debian dovecot-pop3d, its pop3 binary run
# preauthenticated on stdin/stdout: /usr/lib/dovecot/pop3 with USER, HOME
# and a minimal dovecot.conf naming maildir:~/Maildir), in one run, on the
# same Maildir contents, same client (drive.py, written below: python,
# one command at a time, as fetchmail does without pipelining).
# Cases, each on a fresh copy of the mailbox (N messages of SIZE bytes):
#   fetch+delete  RETR then DELE of every message, QUIT (the files go)
#   uidl check    a second session on kept mail: STAT, UIDL, QUIT (what a
#                 "leave mail on the server" client does every poll)
# For each: wall time of the session, the server's CPU (user + system)
# and max RSS (GNU time around the server process), the median of RUNS.
# Both servers run as nobody (as root) on a tmpfs (/dev/shm, or BENCH_DIR):
# on this machine's disk the unlinks alone take seconds and would hide
# both servers. Dovecot writes its index files (dovecot.index*) into the
# Maildir, ours writes nothing but the unlinks and renames of QUIT.
# Env: N (10000), SIZE (2048), RUNS (3), BUILD (build), BENCH_DIR.
# Output: the table on stdout and in $BUILD/bench/pop3.txt.
set -u
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) ||
  top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 111
BUILD=${BUILD:-build}
N=${N:-10000}
SIZE=${SIZE:-2048}
RUNS=${RUNS:-3}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
OUTDIR=$top/$BUILD/bench
OUT=$OUTDIR/pop3.txt
OURS=$top/$BUILD/hub/qmail-pop3d
DOVECOT=/usr/lib/dovecot/pop3
die() { echo "pop3.sh: $*" >&2; exit 1; }
[ -x "$OURS" ] || die "$OURS is not built (make all)"
[ -x "$DOVECOT" ] || die "$DOVECOT missing: apt-get install dovecot-pop3d (make bench-pop3 does)"
base=${BENCH_DIR:-/dev/shm}; [ -w "$base" ] || base=/tmp
tmp=$(mktemp -d "$base/bench-pop3.XXXXXX") || exit 111
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$OUTDIR" "$tmp/qhome/control"

cat > "$tmp/dovecot.conf" <<'CONF'
mail_location = maildir:~/Maildir
protocols = pop3
ssl = no
log_path = /dev/null
CONF

cat > "$tmp/drive.py" <<'PYEOF'
import os, socket, subprocess, sys, time
mode, server, home, tf = sys.argv[1:5]
n = int(sys.argv[5])
env = {"PATH": "/usr/bin:/bin"}
if server == "dovecot":
    cmd = ["/usr/lib/dovecot/pop3", "-c", os.environ["DCONF"]]
    env.update(USER=os.environ["RUNUSER"], HOME=home)
else:
    cmd = [os.environ["OURS"], "./Maildir/"]
    env.update(QMAILHOME=os.environ["QHOME"])
if os.getuid() == 0:
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
cmd = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf] + cmd
a, b = socket.socketpair()
t0 = time.time()
p = subprocess.Popen(cmd, stdin=b, stdout=b, stderr=subprocess.DEVNULL, cwd=home, env=env)
b.close()
f = a.makefile("rb")
def line():
    l = f.readline()
    if not l.startswith(b"+OK"): sys.exit("bad reply: %r" % l)
    return l
def multi():
    while True:
        l = f.readline()
        if l == b".\r\n": return
        if not l: sys.exit("eof in a multi-line reply")
if server == "ours": line()   # our "+OK " answers PASS; Dovecot preauth sends none
def cmd_(c):
    a.sendall(c)
if mode == "fetch":
    for i in range(1, n + 1):
        cmd_(b"RETR %d\r\n" % i); line(); multi()
        cmd_(b"DELE %d\r\n" % i); line()
else:
    cmd_(b"STAT\r\n"); l = line()
    if int(l.split()[1]) != n: sys.exit("STAT: %r" % l)
    cmd_(b"UIDL\r\n"); line(); multi()
cmd_(b"QUIT\r\n"); line()
p.wait()
print("%.3f" % (time.time() - t0))
PYEOF

# mailbox DIR: N messages of about SIZE bytes in DIR/Maildir/new
mailbox() {
  "$PY" - "$1/Maildir" "$N" "$SIZE" <<'PYEOF'
import os, sys
md, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in ("cur", "new", "tmp"): os.makedirs(os.path.join(md, d), exist_ok=True)
head = b"Return-Path: <a@example.org>\nFrom: a@example.org\nTo: b@example.org\nSubject: bench %d\n\n"
for i in range(n):
    h = head % i
    body = (b"x" * 71 + b"\n") * ((size - len(h)) // 72)
    body += b"y" * (size - len(h) - len(body) - 1) + b"\n"
    with open(os.path.join(md, "new", "%d.M%dP1.bench.example.org" % (1700000000 + i, i)), "wb") as f:
        f.write(h + body)
PYEOF
}

runuser=$(id -un); [ "$(id -u)" = 0 ] && runuser=nobody
export OURS DCONF=$tmp/dovecot.conf QHOME=$tmp/qhome RUNUSER=$runuser

# one MODE SERVER: prints "wall cpu rss"
one() {
  local mode=$1 server=$2 h=$tmp/h wall
  rm -rf "$h"; mkdir -p "$h"
  mailbox "$h"
  if [ "$mode" = uidl ]; then   # the second session: the first one read everything
    [ "$(id -u)" = 0 ] && chown -R 65534:65534 "$h"
    "$PY" "$tmp/drive.py" uidl "$server" "$h" "$tmp/time" "$N" > /dev/null || die "$server: first uidl session failed"
  fi
  [ "$(id -u)" = 0 ] && chown -R 65534:65534 "$h"
  wall=$("$PY" "$tmp/drive.py" "$mode" "$server" "$h" "$tmp/time" "$N") || die "$server $mode failed"
  if [ "$mode" = fetch ]; then
    local left; left=$(find "$h/Maildir/new" "$h/Maildir/cur" -type f | wc -l)
    [ "$left" = 0 ] || die "$server: $left messages left after fetch+delete"
  fi
  read -r _ u s rss < "$tmp/time"
  echo "$wall $(echo "$u + $s" | bc) $rss"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "== qmail-pop3d against Dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1): N=$N SIZE=$SIZE RUNS=$RUNS on $base"
declare -A R
for mode in fetch uidl; do
  for server in ours dovecot; do
    : > "$tmp/r"
    for _ in $(seq "$RUNS"); do one "$mode" "$server" >> "$tmp/r"; done
    R[$mode.$server.wall]=$(cut -d' ' -f1 < "$tmp/r" | median)
    R[$mode.$server.cpu]=$(cut -d' ' -f2 < "$tmp/r" | median)
    R[$mode.$server.rss]=$(cut -d' ' -f3 < "$tmp/r" | median)
    echo "  $mode $server: $(tr '\n' ';' < "$tmp/r")"
  done
done

ratio() { if [ "$(echo "$2 > 0" | bc)" = 1 ]; then echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; else echo "-"; fi; }
{
  echo "POP3, $N messages of $SIZE bytes, median of $RUNS (wall and server CPU in s, max RSS in KB)"
  echo
  echo "| case | qmail-pop3d wall | Dovecot wall | ratio | qmail-pop3d CPU | Dovecot CPU | ratio | qmail-pop3d RSS | Dovecot RSS |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for mode in fetch uidl; do
    label="RETR+DELE all, QUIT"; [ "$mode" = uidl ] && label="2nd session: STAT, UIDL, QUIT"
    echo "| $label | ${R[$mode.ours.wall]} | ${R[$mode.dovecot.wall]} | $(ratio "${R[$mode.dovecot.wall]}" "${R[$mode.ours.wall]}")x | ${R[$mode.ours.cpu]} | ${R[$mode.dovecot.cpu]} | $(ratio "${R[$mode.dovecot.cpu]}" "${R[$mode.ours.cpu]}")x | ${R[$mode.ours.rss]} | ${R[$mode.dovecot.rss]} |"
  done
  echo
  echo "ratio: Dovecot / ours (above 1: ours is faster). Goal: >= 1.5 for RETR+DELE."
} | tee "$OUT"
