#!/bin/bash
# tests/sys/qmail-start.t: qmail-start and qmail-clean end to end.
# qmail-start runs fake HOME/bin programs (qmail-send, qmail-lspawn,
# qmail-clean, optionally qmail-rspawn, and a logger) that record, for fds
# 0..9, which pipe (inode) and which direction each has open, their uid and
# argv; the test checks the fd contract (each pipe joins the right pair, in
# the right direction, and nothing else is open), that qmail-send's fds 3
# and 4 stay closed without qmail-rspawn (and 7 without qmail-queued; with
# it, fd 7 is the write end of qmail-queued's fd 0, which sees EOF when
# qmail-send exits), that SIGHUP/SIGALRM/SIGTERM reach
# qmail-send, that the helpers see EOF and that qmail-start exits with
# qmail-send (it becomes qmail-send: one pid), that no descriptor of the
# caller's (251) reaches a program. Single-user mode runs as nobody when the test runs as root;
# as root it also checks the users (skipped if the qmail users are missing).
# qmail-clean: T/M requests on a queue from mkqueue.sh -s, bad requests,
# a failing unlink, stale pid/ files.
source "$(dirname "$0")/../lib/common.sh"
B=$SRCDIR/$BUILD/hub

# as nobody when root; "${AS[@]}" CMD & leaves $! = CMD's own pid
AS=(); [ "$(id -u)" = 0 ] && AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
asuser() { "${AS[@]}" "$@"; }

# snap NAME: write $O/NAME.fds from outside the running fake (its shell
# would open fds of its own to look): "fd target mode" for fds 0..9, mode
# 0 read, 1 write, 2 both
snap() {
  local pid fd l fl
  waitfor "$O/$1.pid" || return 1
  pid=$(cat "$O/$1.pid")
  for fd in 0 1 2 3 4 5 6 7 8 9; do
    l=$(readlink "/proc/$pid/fd/$fd" 2>/dev/null) || continue
    fl=$(awk '/^flags/ { print substr($2, length($2)) % 4 }' "/proc/$pid/fdinfo/$fd")
    echo "$fd $l $fl"
  done > "$O/$1.fds"
}

# fake NAME: a HOME/bin program that records its fds, uid and argv in
# $O/NAME, then acts as its role: qmail-send logs a line, waits for
# $O/stop or SIGTERM; the others read fd 0 to EOF and note it.
fake() {
  printf '#!/bin/sh\nO=%s\n' "$O" > "$H/bin/$1"
  cat >> "$H/bin/$1" <<'SH'
n=$(basename "$0")
id -u > "$O/$n.uid"; echo "$*" > "$O/$n.argv"; pwd > "$O/$n.cwd"
echo $$ > "$O/$n.pid.tmp"; mv "$O/$n.pid.tmp" "$O/$n.pid"
case $n in
  qmail-send)
    trap 'echo hup >> $O/send.sig' HUP
    trap 'echo alrm >> $O/send.sig' ALRM
    trap 'echo term >> $O/send.sig; exit 3' TERM
    echo "log line from qmail-send" >&0
    while [ ! -e "$O/stop" ]; do sleep 0.05; done
    exit 7 ;;
  *) while read -r x; do :; done; echo eof > "$O/$n.eof" ;;  # read: no fd moves
esac
SH
  chmod 755 "$H/bin/$1"
}

# setup DIR: a fresh home with the fakes; O = DIR/out (world-writable)
setup() {
  H=$1; O=$H/out
  mkdir -p "$H/bin" "$O"; chmod 755 "$H" "$H/bin"; chmod 777 "$O"
  fake qmail-send; fake qmail-lspawn; fake qmail-clean
  printf '#!/bin/sh\nO=%s\n' "$O" > "$H/logger"
  cat >> "$H/logger" <<'SH'
id -u > "$O/logger.uid"; echo "$*" > "$O/logger.argv"
echo $$ > "$O/logger.pid.tmp"; mv "$O/logger.pid.tmp" "$O/logger.pid"
while read -r x; do echo "$x" >> "$O/logger.out"; done
SH
  chmod 755 "$H/logger"
}

waitfor() { local _; for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
# fdof PROG FD: "pipe:[inode] mode" of PROG's FD, or "closed:PROG:FD" (so
# that two closed fds never compare equal)
fdof() { local l; l=$(awk -v f="$2" '$1 == f { print $2, $3 }' "$O/$1.fds"); echo "${l:-closed:$1:$2}"; }
ino() { fdof "$1" "$2" | sed 's/ .*//'; }
mode() { fdof "$1" "$2" | sed 's/.* //'; }
fds() { awk '{ printf "%s ", $1 }' "$O/$1.fds"; }

# ---- single-user mode, no logger, no qmail-rspawn -----------------------
setup "$T/h1"
mkdir -p "$H/service/qmail-send"
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$H/service"
# fd 251: a descriptor of whoever starts qmail-start, which no program may get
"${AS[@]}" env QMAILHOME="$H" "$B/qmail-start" ./Maildir/ > "$T/start1.out" 2> "$T/start1.err" 251< /dev/null &
SP=$!; _pids+=("$SP")  # killed (TERM) at exit if still there
ok "$(snap qmail-send && snap qmail-lspawn && snap qmail-clean; echo $?)" "all three programs started"
is "$(cat "$O/qmail-send.pid")" "$SP" "qmail-start becomes qmail-send (one pid, no process left behind)"
for p in qmail-send qmail-lspawn qmail-clean; do
  ok "$([ ! -e "/proc/$(cat "$O/$p.pid")/fd/251" ]; echo $?)" "$p: no inherited descriptor 251"
done
is "$(cat "$H/service/qmail-send/daemon.pid" 2>/dev/null)" "$SP" "daemon.pid holds qmail-start's pid"
is "$(fds qmail-send)" "0 1 2 5 6 " "qmail-send: fds 0 1 2 5 6, 3 and 4 closed without qmail-rspawn"
is "$(ino qmail-send 1) $(mode qmail-send 1) $(mode qmail-lspawn 0)" "$(ino qmail-lspawn 0) 1 0" "send fd 1 writes to lspawn fd 0"
is "$(ino qmail-send 2) $(mode qmail-send 2) $(mode qmail-lspawn 1)" "$(ino qmail-lspawn 1) 0 1" "send fd 2 reads lspawn fd 1"
is "$(ino qmail-send 5) $(mode qmail-send 5) $(mode qmail-clean 0)" "$(ino qmail-clean 0) 1 0" "send fd 5 writes to clean fd 0"
is "$(ino qmail-send 6) $(mode qmail-send 6) $(mode qmail-clean 1)" "$(ino qmail-clean 1) 0 1" "send fd 6 reads clean fd 1"
like "$(ino qmail-send 1)$(ino qmail-send 2)$(ino qmail-send 5)$(ino qmail-send 6)" '^(pipe:\[[0-9]+\]){4}$' "send fds 1 2 5 6 are pipes"
is "$(fds qmail-lspawn)" "0 1 2 " "qmail-lspawn: fds 0 1 2 only"
is "$(fds qmail-clean)" "0 1 2 " "qmail-clean: fds 0 1 2 only"
is "$(fdof qmail-lspawn 2), $(fdof qmail-clean 2)" "$T/start1.err 1, $T/start1.err 1" "lspawn and clean share qmail-start's stderr"
is "$(cat "$O/qmail-lspawn.argv")" "./Maildir/" "qmail-lspawn gets defaultdelivery"
is "$(cat "$O/qmail-send.cwd")" "$H" "qmail-send runs in HOME"
me=$(asuser id -u)
is "$(cat "$O/qmail-send.uid") $(cat "$O/qmail-lspawn.uid") $(cat "$O/qmail-clean.uid")" "$me $me $me" "single-user: no user switches"
kill -HUP "$SP"; kill -ALRM "$SP"
for _ in $(seq 100); do [ -e "$O/send.sig" ] && [ "$(wc -l < "$O/send.sig")" = 2 ] && break; sleep 0.05; done
is "$(sort "$O/send.sig" 2>/dev/null | tr '\n' ' ')" "alrm hup " "SIGHUP and SIGALRM reach qmail-send"
sleep 0.2
ok "$(kill -0 "$SP" 2>/dev/null; echo $?)" "the pid runs while qmail-send runs"
touch "$O/stop"
wait "$SP"; rc=$?
is "$rc" 7 "qmail-start exits with qmail-send's exit code"
is "$(cat "$T/start1.out")" "log line from qmail-send" "no logger: qmail-send's fd 0 is qmail-start's stdout"
waitfor "$O/qmail-lspawn.eof"; waitfor "$O/qmail-clean.eof"
ok "$([ -e "$O/qmail-lspawn.eof" ] && [ -e "$O/qmail-clean.eof" ]; echo $?)" "lspawn and clean see EOF when qmail-send exits"

# ---- single-user mode, logger and qmail-rspawn, SIGTERM -----------------
setup "$T/h2"
fake qmail-rspawn; fake qmail-queued
"${AS[@]}" env QMAILHOME="$H" "$B/qmail-start" ./Mailbox "$H/logger" a1 "b 2" < /dev/null > "$T/start2.out" 2>&1 &
SP=$!; _pids+=("$SP")  # killed (TERM) at exit if still there
snap qmail-send; snap qmail-lspawn; snap qmail-clean; snap qmail-rspawn; snap qmail-queued; snap logger
ok "$([ ! -e "$H/service" ]; echo $?)" "no service dir: no daemon.pid written"
is "$(fds qmail-send)" "0 1 2 3 4 5 6 7 " "qmail-send: fds 0..7 with qmail-rspawn and qmail-queued"
is "$(ino qmail-send 7) $(mode qmail-send 7) $(mode qmail-queued 0)" "$(ino qmail-queued 0) 1 0" "send fd 7 is the write end of queued's fd 0"
is "$(fds qmail-queued)" "0 1 2 " "qmail-queued: fds 0 1 2 only"
is "$(ino qmail-send 3) $(mode qmail-send 3) $(mode qmail-rspawn 0)" "$(ino qmail-rspawn 0) 1 0" "send fd 3 writes to rspawn fd 0"
is "$(ino qmail-send 4) $(mode qmail-send 4) $(mode qmail-rspawn 1)" "$(ino qmail-rspawn 1) 0 1" "send fd 4 reads rspawn fd 1"
is "$(ino qmail-send 0) $(mode qmail-send 0) $(mode logger 0)" "$(ino logger 0) 1 0" "send fd 0 writes to the logger's fd 0"
is "$(ino qmail-send 1) $(ino qmail-send 5)" "$(ino qmail-lspawn 0) $(ino qmail-clean 0)" "lspawn and clean still wired"
is "$(fds qmail-rspawn)" "0 1 2 " "qmail-rspawn: fds 0 1 2 only"
is "$(cat "$O/logger.argv")" "a1 b 2" "logger gets its arguments"
is "$(cat "$O/qmail-lspawn.argv")" "./Mailbox" "defaultdelivery passed on"
kill -TERM "$SP"
wait "$SP"; rc=$?
is "$rc" 3 "SIGTERM reaches qmail-send: the pid exits with its code"
waitfor "$O/qmail-rspawn.eof"; waitfor "$O/qmail-queued.eof"
ok "$([ -e "$O/qmail-rspawn.eof" ]; echo $?)" "rspawn sees EOF"
ok "$([ -e "$O/qmail-queued.eof" ]; echo $?)" "qmail-queued sees EOF on fd 0 when qmail-send exits"
for _ in $(seq 100); do [ -s "$O/logger.out" ] && break; sleep 0.05; done
sleep 0.1
is "$(cat "$O/logger.out")" "log line from qmail-send" "qmail-send's log reaches the logger"

# ---- with the real qmail-clean: a request through fds 5 and 6 -----------
setup "$T/h5"
sh "$SRCDIR/hub/queue/mkqueue.sh" -s "$H" || echo "# mkqueue.sh failed"
touch "$H/queue/mess/5/28" "$H/queue/intd/5/28"
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$H/queue"
ln -sf "$B/qmail-clean" "$H/bin/qmail-clean"
printf '#!/bin/sh\nO=%s\n' "$O" > "$H/bin/qmail-send"
cat >> "$H/bin/qmail-send" <<'SH'
printf 'M5/28\0T9/1\0' >&5
timeout 10 dd bs=1 count=2 <&6 > "$O/answer" 2>/dev/null
SH
"${AS[@]}" env QMAILHOME="$H" "$B/qmail-start" ./Maildir/ > /dev/null 2>&1
is "$?:$(cat "$O/answer")" "0:++" "real qmail-clean answers qmail-send through fds 5 and 6"
ok "$([ ! -e "$H/queue/mess/5/28" ] && [ ! -e "$H/queue/intd/5/28" ]; echo $?)" "real qmail-clean removed intd and mess"

# ---- errors --------------------------------------------------------------
asuser env QMAILHOME="$T/h2" "$B/qmail-start" > /dev/null 2>&1
is $? 100 "no defaultdelivery: usage, exit 100"
setup "$T/h3"; rm "$H/bin/qmail-send"
asuser env QMAILHOME="$H" "$B/qmail-start" ./Maildir/ > /dev/null 2> "$T/start3.err"
is $? 111 "missing qmail-send: exit 111"
like "$(cat "$T/start3.err")" "unable to run .*qmail-send" "missing qmail-send: message"

# ---- as root: users ------------------------------------------------------
if [ "$(id -u)" = 0 ] && id qmails >/dev/null 2>&1 && id qmailq >/dev/null 2>&1 && id qmailr >/dev/null 2>&1 \
   && id qmaill >/dev/null 2>&1 && getent group qmail >/dev/null && getent group nofiles >/dev/null; then
  setup "$T/h4"; fake qmail-rspawn; fake qmail-queued
  QMAILHOME="$H" "$B/qmail-start" ./Maildir/ "$H/logger" > /dev/null 2>&1 &
  SP=$!; _pids+=("$SP")
  for p in qmail-send qmail-lspawn qmail-clean qmail-rspawn qmail-queued logger; do waitfor "$O/$p.pid"; done
  is "$(cat "$O/qmail-queued.uid")" "$(id -u qmailq)" "root: qmail-queued runs as qmailq"
  is "$(cat "$O/qmail-send.uid")" "$(id -u qmails)" "root: qmail-send runs as qmails"
  is "$(cat "$O/qmail-clean.uid")" "$(id -u qmailq)" "root: qmail-clean runs as qmailq"
  is "$(cat "$O/qmail-rspawn.uid")" "$(id -u qmailr)" "root: qmail-rspawn runs as qmailr"
  is "$(cat "$O/logger.uid")" "$(id -u qmaill)" "root: the logger runs as qmaill"
  is "$(cat "$O/qmail-lspawn.uid")" 0 "root: qmail-lspawn stays root"
  is "$(cat "$O/qmail-send.pid")" "$SP" "root: qmail-start became qmail-send"
  is "$(awk '/^Uid/ { print $2 $3 $4 $5 }' "/proc/$SP/status")" "$(id -u qmails)$(id -u qmails)$(id -u qmails)$(id -u qmails)" \
     "root: no qmail-start process stays root (real, effective, saved, fs uid qmails)"
  pid=$(cat "$O/qmail-send.pid")
  is "$(awk '/^Gid/ { print $2 } /^Groups/ { print $2 }' "/proc/$pid/status" 2>/dev/null | tr '\n' ' ')" \
     "$(getent group qmail | cut -d: -f3) $(getent group qmail | cut -d: -f3) " "root: qmail-send in group qmail only"
  touch "$O/stop"; wait "$SP"
  is $? 7 "root: qmail-start exits with qmail-send"
else
  why="not root"; [ "$(id -u)" = 0 ] && why="the qmail users or groups are missing"
  for _ in 1 2 3 4 5 6 7 8 9 10; do ok 0 "# skip the 10 root checks: $why"; done
fi

# ---- qmail-clean -----------------------------------------------------------
Q=$T/q
sh "$SRCDIR/hub/queue/mkqueue.sh" -s "$Q" || echo "# mkqueue.sh failed"
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$Q"
qc() { asuser env QMAILHOME="$Q" "$B/qmail-clean"; }
mk() { asuser touch "$Q/queue/$1"; }
mk mess/5/28; mk intd/5/28; mk todo/5/28
mk mess/6/29; mk intd/6/29
mk mess/7/30
mk mess/8/31; mk todo/8/31
asuser mkdir "$Q/queue/todo/5/51"; asuser touch "$Q/queue/todo/5/51/x"
mk pid/old.1.1; touch -d '37 hours ago' "$Q/queue/pid/old.1.1"
mk pid/new.1.1; touch -d '35 hours ago' "$Q/queue/pid/new.1.1"
printf 'T5/28\0T8/31\0M6/29\0M7/30\0T5/999\0M5/999\0' | qc > "$T/ans1"
is "$?:$(cat "$T/ans1")" "0:++++++" "valid requests all answered +; exit 0 at EOF"
left() { (cd "$Q/queue" && find mess intd todo -type f | sort | tr '\n' ' '); }
is "$(left)" "mess/5/28 mess/8/31 todo/5/51/x " "T removed intd+todo, M removed intd+mess"
is "$(cd "$Q/queue/pid" && echo *)" "new.1.1" "pid/ file older than 36 h removed, younger kept"
printf 'T5/51\0M5/28\0' | qc > "$T/ans2" 2> "$T/clean.err"
is "$(cat "$T/ans2")" "!+" "failing unlink (a directory) answers !"
like "$(cat "$T/clean.err")" "unable to unlink todo/5/51" "failing unlink is logged"
long=$(printf 'T5/%0200d' 1)
printf 'T23/1\0T05/28\0T5/28x\0X8/31\0M../x\0T5/\0\0%s\0M8/31\0T8/31' "$long" | qc > "$T/ans3"
is "$?:$(cat "$T/ans3")" "0:!!!!!!!!+" "bad requests answer !, a valid one after them +, a cut request is dropped"
is "$(left)" "todo/5/51/x " "only the valid request removed files"
printf 'M8/31\0' | asuser env QMAILHOME="$T/none" "$B/qmail-clean" > /dev/null 2>&1
is $? 111 "no queue directory: exit 111"

done_testing
