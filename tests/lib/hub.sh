# hub.sh: a real running hub for the delivery end-to-end scripts
# (dotqmail.t, bounce.t, virtual.t, retry.t). Source it after common.sh.
#   hub_install         make install QMAILHOME=$HUB, me/locals/rcpthosts,
#                       loopback ports (SMTP, SMTPS_PORT for qmail-smtps, which
#                       stays down unless the test removes its down file);
#                       drops alias/.qmail-default and turns the RCPT
#                       check off (control/rcptcheck 0) so unknown
#                       local addresses bounce in both modes
#   hub_user NAME       a recipient home $T/home/NAME with users/assign lines
#                       =NAME (dash "", ext "") and +NAME- (dash "-"); call
#                       hub_newu once the assign lines are all written
#   hub_assign LINE     one more users/assign line (before hub_newu)
#   hub_start / hub_stop / hub_reload / hub_flush
#   dq HOME FILE TEXT   write a .qmail file (mode 644, owned by the user)
#   send FROM RCPT...   one message from stdin over SMTP (python smtplib)
#   wait_until CMD...   poll CMD every 0.1 s, at most WAIT_MAX tries (and
#                       never past HUB_BUDGET seconds into the script)
#   nfiles DIR          number of files under DIR
#   qlog                the qmail-send log so far (multilog's rotated files too)
#   marker NAME         a message to postmaster@$ME sent now; waits until it ends
# As root the recipients run as nobody (uid 65534: their homes are chowned
# to it); as a normal user every delivery runs as that user (single-user
# mode) and users/assign carries our own uid. Nothing else is touched.
HUB=$T/hub
ME=hub.example.org
if [ "$(id -u)" = 0 ]; then RUID=65534 RGID=65534; RNAME=$(id -un 65534 2>/dev/null || echo nobody)
else RUID=$(id -u) RGID=$(id -g) RNAME=$(id -un); fi
WAIT_MAX=${WAIT_MAX:-300}
_assign=""

# hub_skip_unless_built: the hub programs the Makefile lists must be built
# (make check builds them first): one missing is a bail-out, never a skip.
# BUILD may be absolute or relative to SRCDIR: an absolute one is made
# relative here, since the scripts join "$SRCDIR/$BUILD". Skips only
# without tcpserver.
hub_skip_unless_built() {
  local p
  case $BUILD in /*) BUILD=$(realpath -m --relative-to="$SRCDIR" "$BUILD") ;; esac
  for p in qmail-queue qmail-smtpd qmail-send qmail-start qmail-lspawn qmail-local qmail-clean qmail-newu; do
    [ -x "$SRCDIR/$BUILD/hub/$p" ] ||
      { echo "Bail out! hub/$p is not built in $SRCDIR/$BUILD (make all BUILD=$BUILD)"; exit 1; }
  done
  command -v tcpserver >/dev/null || { echo "1..0 # skip no tcpserver"; exit 0; }
}

. "$SRCDIR/tests/lib/ports.sh"
_port() { free_port; }

hub_install() {
  local s
  qmake install QMAILHOME="$HUB" > "$T/install.log" 2>&1 ||
    { sed 's/^/# /' "$T/install.log"; echo "Bail out! make install failed"; exit 1; }
  echo "$ME" > "$HUB/control/me"
  printf '%s\nlocalhost\n' "$ME" > "$HUB/control/locals"
  printf '%s\n' "$ME" > "$HUB/control/rcpthosts"
  rm -f "$HUB/alias/.qmail-default"
  echo 0 > "$HUB/control/rcptcheck"   # unknown users bounce here; rcptcheck.t turns it on
  # qmail-smtps is installed down: its port is set here, a test that wants
  # it removes service/qmail-smtps/down before hub_start
  for s in qmail-smtpd qmail-qmtpd qmail-qmqpd qmail-smtps qmail-submission qmail-qmtps; do
    echo 127.0.0.1 > "$HUB/service/$s/env/IP"; _port > "$HUB/service/$s/env/PORT"
  done
  SMTP=$(cat "$HUB/service/qmail-smtpd/env/PORT") SMTPS_PORT=$(cat "$HUB/service/qmail-smtps/env/PORT")
  SUBMISSION_PORT=$(cat "$HUB/service/qmail-submission/env/PORT")   # down too, as installed
  mkdir -p "$T/home"; chmod 755 "$T/home"
}

hub_user() {
  local h=$T/home/$1
  mkdir -p "$h"; chmod 755 "$h"
  "$HUB/bin/maildirmake" "$h/Maildir"
  chown -R "$RUID:$RGID" "$h"
  hub_assign "=$1:$RNAME:$RUID:$RGID:$h:::"
  hub_assign "+$1-:$RNAME:$RUID:$RGID:$h:-::"
}

hub_assign() { _assign="$_assign$1
"; }

hub_newu() {
  printf '%s.\n' "$_assign" > "$HUB/users/assign"
  "$HUB/bin/qmail-newu"
}

# md HOME DIR: a Maildir HOME/DIR owned by the recipient
md() { "$HUB/bin/maildirmake" "$1/$2"; chown -R "$RUID:$RGID" "$1/$2"; }

dq() { printf '%s' "$3" > "$1/$2"; chmod 644 "$1/$2"; chown "$RUID:$RGID" "$1/$2"; }

# hub_start: qmailctl start; a port taken since hub_install picked it is
# picked again (qmailctl_start, tests/lib/ports.sh), and SMTP and the
# other port variables are read again from env/PORT (QMTP and QMQP too,
# when the test has set them)
hub_start() {
  local i
  qmailctl_start "$HUB" "$T/start.log" || return 1
  SMTP=$(cat "$HUB/service/qmail-smtpd/env/PORT") SMTPS_PORT=$(cat "$HUB/service/qmail-smtps/env/PORT")
  [ -z "${QMTP:-}" ] || QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT")
  [ -z "${QMQP:-}" ] || QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")
  [ -z "${SUBMISSION_PORT:-}" ] || SUBMISSION_PORT=$(cat "$HUB/service/qmail-submission/env/PORT")
  for i in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$SMTP),0.2)" 2>/dev/null &&
      grep -q 'qmail-send started' "$HUB/log/qmail-send/current" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
hub_stop() { "$HUB/bin/qmailctl" stop > /dev/null 2>&1; }
hub_reload() { "$HUB/bin/qmailctl" reload; }
hub_flush() { "$HUB/bin/qmailctl" flush; }
# at exit: stop the hub; after a failure show the end of qmail-send's log
_hub_exit() {
  hub_stop
  [ "$_fail" = 0 ] || qlog | tail -n "${HUB_LOGLINES:-40}" | sed 's/^/# log: /'
  cleanup
}
trap _hub_exit EXIT
[ -n "${HUB_KEEP:-}" ] && trap hub_stop EXIT  # debugging: keep $T

_send_py='
import smtplib, sys
port, frm, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
msg = sys.stdin.buffer.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.sendmail(frm, rcpts, msg)
s.quit()
'
send() { python3 -c "$_send_py" "$SMTP" "$@"; }

# a whole script gives up waiting after HUB_BUDGET seconds, so that a
# broken hub fails fast instead of waiting WAIT_MAX for every check
# (doubled for the sanitizer build, whose install and programs are slower)
_budget=240; case $BUILD in *-san) _budget=480 ;; esac
HUB_DEADLINE=$((SECONDS + ${HUB_BUDGET:-$_budget}))
wait_until() {
  local i
  for i in $(seq "$WAIT_MAX"); do
    "$@" && return 0
    [ "$SECONDS" -lt "$HUB_DEADLINE" ] || return 1
    sleep 0.1
  done
  return 1
}

nfiles() { find "$1" -type f 2>/dev/null | wc -l | tr -d ' '; }
qlog() { cat "$HUB"/log/qmail-send/@* "$HUB/log/qmail-send/current" 2>/dev/null; }  # rotated ones first
# has_file DIR N [PATTERN]: at least N files under DIR (containing PATTERN)
has_file() { [ "$(grep -rlE -- "${3:-.}" "$1" 2>/dev/null | wc -l)" -ge "$2" ]; }
# one DIR PATTERN: the first file under DIR containing PATTERN
one() { grep -rlE -- "$2" "$1" 2>/dev/null | head -1; }
inlog() { qlog | grep -qE -- "$1"; }
# for wait_until (its arguments are expanded once, so counts go in here)
nlog() { qlog | grep -cE -- "$1"; }
log_more() { [ "$(nlog "$1")" -gt "$2" ]; }     # log_more PATTERN N
files_eq() { [ "$(nfiles "$1")" = "$2" ]; }      # files_eq DIR N
files_ge() { [ "$(nfiles "$1")" -ge "$2" ]; }    # files_ge DIR N
queue_empty() { [ "$(nfiles "$HUB/queue/mess")" = 0 ]; }
# marker NAME: a message to postmaster (the alias home's Maildir) with
# Message-ID <NAME.marker@$ME>, sent now; waits until qmail-send logs its
# end. qmail-send takes queued messages in in order and reads a delivery's
# report only in a later round, so by then every message queued before the
# marker has been taken in and had its round to start deliveries, and a
# retry due at once would have started: "nothing happened" read after this
# is not "nothing happened yet".
marker() {
  local n
  printf 'Message-ID: <%s.marker@%s>\nSubject: marker %s\n\nx\n' "$1" "$ME" "$1" |
    send "postmaster@$ME" "postmaster@$ME" || return 1
  wait_until inlog " mid <$1\.marker@" || return 1
  n=$(qlog | sed -nE "s/.* new msg ([0-9]+) .* mid <$1\.marker@.*/\1/p" | tail -n 1)
  [ -n "$n" ] && wait_until _ended "$1" "$n"
}
# _ended NAME N: "end msg N" after the marker's "new msg" line (message
# numbers are inode numbers: an earlier message may have had the same)
_ended() { qlog | sed -n "/ mid <$1\.marker@/,\$p" | grep -qE " end msg $2\$"; }
