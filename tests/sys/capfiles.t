#!/bin/bash
# capfiles.t: numeric control files fail closed (control/README.md, "Syntax").
# A missing file means the default; a file that is present but invalid
# (junk such as "12x", 0 where a cap must be positive) or unreadable (a
# directory of that name, EISDIR, as root, who reads mode-000 files; mode
# 000, EACCES, as a normal user) is a temporary failure with a log line
# naming the file, never the default. On an installed hub (hub.sh), each
# program is run directly with a fake environment, per file:
#   qmail-smtpd   421 at connect, "alert: cannot use control/NAME: REASON"
#   qmail-qmqpd,  one "Zunable to read controls (#4.3.0)" netstring, exit
#   qmail-qmtpd   111, the same alert ($DATABYTES junk too)
#   qmail-queue   exit 55 (qq unable to read configuration), the alert
#   qmail-send    the alert and "cannot start" in its log, exit 111; on a
#                 reload (HUP) the old queuelifetime stays; a bounce waits
#                 while control/bouncemaxbytes is unusable; qmailctl start
#                 reports the failure
#   qmail-rspawn  every job Z naming control/sessionsperhost, the alert
#   qmail-remote  every recipient s naming the file; -S: the alert, exit 111
#   qmail-local, qmail-inject  (caps through q_limits' default hook) exit 111
# and that a missing file keeps the default and a valid value is used.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
hub_install
C=$HUB/control
QQ=$T/qq; mkdir -p "$QQ"
export LC_ALL=C
if [ "$(id -u)" = 0 ]; then UNREAD="a directory"; WHY_UNREAD="Is a directory"
else UNREAD="mode 000"; WHY_UNREAD="Permission denied"; fi

# spoil NAME junk|zero|unread: make control/NAME unusable
spoil() {
  rm -rf "${C:?}/$1"
  case $2 in
    junk) echo 12x > "$C/$1" ;;
    zero) echo 0 > "$C/$1" ;;
    unread) if [ "$(id -u)" = 0 ]; then mkdir "$C/$1"; else echo 5 > "$C/$1"; chmod 000 "$C/$1"; fi ;;
  esac
}
unspoil() { chmod 644 "$C/$1" 2>/dev/null; rm -rf "${C:?}/$1"; }
why() { case $1 in junk) echo "not a decimal number" ;; zero) echo "number too small" ;; unread) echo "$WHY_UNREAD" ;; esac; }

# run OUT PROG ARGS...: a program with a clean environment, stdin from
# $T/in, stdout to $T/OUT, stderr to $T/OUT.err; sets RC
run() {
  local out=$1; shift
  env -i PATH="$PATH" QMAILQUEUE="$SRCDIR/tests/lib/qq-record.sh" QQ_OUT="$QQ" \
    TCPREMOTEIP=127.0.0.1 TCPLOCALIP=127.0.0.1 $EXTRA_ENV \
    timeout 30 "$@" < "$T/in" > "$T/$out" 2> "$T/$out.err"
  RC=$?
}

# ---- qmail-smtpd ---------------------------------------------------------------
smtp_in() { printf 'EHLO client.example.net\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<u1@%s>\r\nRCPT TO:<u2@%s>\r\nRCPT TO:<u3@%s>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n' "$ME" "$ME" "$ME"; }
smtp_in > "$T/in"
for f in timeoutsmtpd databytes maxsmtpline maxaddress maxrcpt maxheader maxheaderfield maxhops timeoutsession; do
  for m in junk unread; do
    spoil "$f" "$m"
    run smtp "$HUB/bin/qmail-smtpd"
    is "$RC/$(head -n 1 "$T/smtp" | tr -d '\r')" "111/421 4.3.0 unable to read controls" "qmail-smtpd, $f $m: 421 at connect"
    like "$(cat "$T/smtp.err")" "^qmail-smtpd: alert: cannot use control/$f: $(why "$m")$" "qmail-smtpd, $f $m: the log names the file"
    unspoil "$f"
  done
done
spoil maxrcpt zero
run smtp "$HUB/bin/qmail-smtpd"
like "$(cat "$T/smtp.err")" "cannot use control/maxrcpt: number too small" "qmail-smtpd: a cap of 0 is refused too"
unspoil maxrcpt
run smtp "$HUB/bin/qmail-smtpd"
out=$(tr -d '\r' < "$T/smtp")
like "$out" "^220 " "qmail-smtpd, every file missing: it greets"
like "$out" "250-SIZE"$'\n' "qmail-smtpd, databytes missing: SIZE without a number (no cap)"
like "$(grep -c '^250 ' <<<"$out")" "^[5-9]$" "qmail-smtpd, every file missing: three recipients (default maxrcpt)"
like "$out" "250 2\.0\.0 ok [0-9]+ qp" "qmail-smtpd, every file missing: the message is queued"
echo 2 > "$C/maxrcpt"; echo 12345 > "$C/databytes"
EXTRA_ENV="DATABYTES=12x" run smtp "$HUB/bin/qmail-smtpd"
is "$RC/$(head -n 1 "$T/smtp" | tr -d '\r')" "111/421 4.3.0 unable to read controls" "qmail-smtpd, \$DATABYTES junk: 421"
like "$(cat "$T/smtp.err")" 'cannot use \$DATABYTES: not a decimal number' "qmail-smtpd, \$DATABYTES junk: logged"
run smtp "$HUB/bin/qmail-smtpd"
out=$(tr -d '\r' < "$T/smtp")
like "$out" "250-SIZE 12345" "qmail-smtpd, databytes 12345: used"
like "$out" "452 4.5.3" "qmail-smtpd, maxrcpt 2: the third recipient waits"
rm -f "$C/maxrcpt" "$C/databytes"
echo 1 > "$C/timeoutsmtpd"
: > "$T/in"
mkfifo "$T/idle"
sleep 20 > "$T/idle" & spid=$!; _pids+=("$spid")
start=$SECONDS
env -i PATH="$PATH" timeout 30 "$HUB/bin/qmail-smtpd" < "$T/idle" > "$T/smtp" 2>&1
kill "$spid" 2>/dev/null
like "$(tr -d '\r' < "$T/smtp")" "451 4.4.2 timeout" "qmail-smtpd, timeoutsmtpd 1: an idle client times out"
ok "$([ $((SECONDS - start)) -lt 10 ]; echo $?)" "qmail-smtpd, timeoutsmtpd 1: within seconds"
rm -f "$C/timeoutsmtpd"

# ---- qmail-qmqpd, qmail-qmtpd ------------------------------------------------------
ns() { printf '%d:%s,' "${#1}" "$1"; }
msg=$'Subject: x\n\nhi\n'
ns "$(ns "$msg")$(ns a@example.net)$(ns "u1@$ME")" > "$T/qmqpd.in"
{ ns $'\n'"$msg"; ns a@example.net; ns "$(ns "u1@$ME")"; } > "$T/qmtpd.in"
Z='33:Zunable to read controls (#4.3.0),'
for srv in qmqpd qmtpd; do
  cp "$T/$srv.in" "$T/in"
  files="timeout$srv databytes maxnetstring maxaddress maxrcpt maxhops timeoutsession"
  [ $srv = qmtpd ] && files="$files maxqmtppackages"
  for f in $files; do
    for m in junk unread; do
      spoil "$f" "$m"
      run ns "$HUB/bin/qmail-$srv"
      is "$RC/$(cat "$T/ns")" "111/$Z" "qmail-$srv, $f $m: one Z reply, exit 111"
      like "$(cat "$T/ns.err")" "^qmail-$srv: alert: cannot use control/$f: $(why "$m")$" "qmail-$srv, $f $m: the log names the file"
      unspoil "$f"
    done
  done
  spoil "timeout$srv" zero
  run ns "$HUB/bin/qmail-$srv"
  like "$(cat "$T/ns.err")" "cannot use control/timeout$srv: number too small" "qmail-$srv: a timeout of 0 is refused"
  unspoil "timeout$srv"
  EXTRA_ENV="DATABYTES=5k" run ns "$HUB/bin/qmail-$srv"
  is "$RC/$(cat "$T/ns")" "111/$Z" "qmail-$srv, \$DATABYTES junk: Z"
  like "$(cat "$T/ns.err")" 'cannot use \$DATABYTES: not a decimal number' "qmail-$srv, \$DATABYTES junk: logged"
  run ns "$HUB/bin/qmail-$srv"
  like "$RC/$(cat "$T/ns")" "^0/[0-9]+:Kok" "qmail-$srv, every file missing: accepted"
  echo 10 > "$C/databytes"
  run ns "$HUB/bin/qmail-$srv"
  like "$(cat "$T/ns")" "^[0-9]+:D.*databytes.*#5\.3\.4" "qmail-$srv, databytes 10: the message is refused"
  rm -f "$C/databytes"
done

# ---- qmail-queue -------------------------------------------------------------------
printf 'Subject: x\n\nhi\n' > "$T/in"
printf 'Fa@example.net\0\0' > "$T/env"
qq() { "$HUB/bin/qmail-queue" < "$T/in" 1< "$T/env" 2> "$T/qq.err"; RC=$?; }
for m in junk zero unread; do
  spoil maxaddress "$m"; qq
  is "$RC" 55 "qmail-queue, maxaddress $m: exit 55"
  like "$(cat "$T/qq.err")" "^qmail-queue: alert: cannot use control/maxaddress: $(why "$m")$" "qmail-queue, maxaddress $m: the alert names the file"
  unspoil maxaddress
done
qq; is "$RC" 0 "qmail-queue, maxaddress missing: queued (no recipient)"
echo 10 > "$C/maxaddress"
printf 'Fa2345678901\0\0' > "$T/env"; qq
is "$RC" 11 "qmail-queue, maxaddress 10: an 11-byte sender exits 11"
rm -f "$C/maxaddress"

# ---- qmail-local, qmail-inject (q_limits' default hook) ----------------------------
if [ "$(id -u)" != 0 ]; then
  mkdir -p "$T/lh"; printf 'Delivered-To: x\n\nhi\n' > "$T/in"
  spoil maxhops junk
  run local "$HUB/bin/qmail-local" "$(id -un)" "$T/lh" u - "" "$ME" a@example.net ./Maildir/
  is "$RC" 111 "qmail-local, maxhops junk: exit 111"
  like "$(cat "$T/local.err")" "qmail-local: alert: cannot use control/maxhops: not a decimal number" "qmail-local, maxhops junk: names the file"
  unspoil maxhops
else
  for i in 1 2; do _n=$((_n + 1)); echo "ok $_n # skip qmail-local refuses to run as root"; done
fi
printf 'To: b@example.net\n\nhi\n' > "$T/in"
spoil maxaddress junk
run inj "$HUB/bin/qmail-inject"
is "$RC" 111 "qmail-inject, maxaddress junk: exit 111"
like "$(cat "$T/inj.err")" "qmail-inject: alert: cannot use control/maxaddress: not a decimal number" "qmail-inject, maxaddress junk: names the file"
unspoil maxaddress

# ---- qmail-remote --------------------------------------------------------------------
port=$(_port)   # nothing listens there
echo "example.com:127.0.0.1:$port" > "$C/smtproutes"
printf 'Subject: x\n\nhi\n' > "$T/in"
rrun() { run rem "$HUB/bin/qmail-remote" example.com a@example.net b@example.com; tr '\0' '\n' < "$T/rem" > "$T/rem.txt"; }
for f in timeoutconnect timeoutremote timeoutdelivery timeoutidle maxaddress; do
  for m in junk zero unread; do
    spoil "$f" "$m"
    rrun
    like "$(head -n 1 "$T/rem.txt")" "^sSorry, qmail-remote cannot use control/$f: $(why "$m")\. \(#4\.3\.0\)$" "qmail-remote, $f $m: the recipient is deferred, naming the file"
    unspoil "$f"
  done
done
spoil timeoutremote junk
: > "$T/in"
run rem "$HUB/bin/qmail-remote" -S example.com
is "$RC" 111 "qmail-remote -S, timeoutremote junk: exit 111"
like "$(cat "$T/rem.err")" "^qmail-remote: alert: cannot use control/timeoutremote: not a decimal number$" "qmail-remote -S, timeoutremote junk: the alert names the file"
unspoil timeoutremote
printf 'Subject: x\n\nhi\n' > "$T/in"
rrun
like "$(head -n 1 "$T/rem.txt")" "^sSorry, (I wasn't able to establish|every address of example.com failed recently)" "qmail-remote, every file missing: it goes on to connect"
rm -f "$C/smtproutes"

# ---- qmail-rspawn ----------------------------------------------------------------------
mkdir -p "$HUB/queue/mess/1"
printf 'Subject: x\n\nhi\n' > "$HUB/queue/mess/1/999999"
printf '\001%s\0%s\0%s\0\0' 1/999999 a@example.net b@example.com > "$T/in"
cat > "$T/fakeremote" <<'EOF'
#!/bin/sh
printf 'rfake remote\0Kfake remote took it\0'
EOF
chmod 755 "$T/fakeremote"
for m in junk unread; do
  spoil sessionsperhost "$m"
  EXTRA_ENV="QMAILREMOTE=$T/fakeremote" run rs "$HUB/bin/qmail-rspawn"
  is "$RC/$(tr '\0\001' '|#' < "$T/rs")" "0/#ZSorry, qmail-rspawn cannot use control/sessionsperhost: $(why "$m"). (#4.3.0)|" "qmail-rspawn, sessionsperhost $m: the job is deferred, naming the file"
  like "$(cat "$T/rs.err")" "^qmail-rspawn: alert: cannot use control/sessionsperhost: $(why "$m"):" "qmail-rspawn, sessionsperhost $m: the alert names the file"
  unspoil sessionsperhost
done
EXTRA_ENV="QMAILREMOTE=$T/fakeremote" run rs "$HUB/bin/qmail-rspawn"
is "$RC/$(tr '\0\001' '|#' < "$T/rs")" "0/#Kfake remote took it|" "qmail-rspawn, sessionsperhost missing: the job runs"
echo 0 > "$C/sessionsperhost"
EXTRA_ENV="QMAILREMOTE=$T/fakeremote" run rs "$HUB/bin/qmail-rspawn"
is "$RC/$(tr '\0\001' '|#' < "$T/rs")" "0/#Kfake remote took it|" "qmail-rspawn, sessionsperhost 0: the job runs"
rm -f "$C/sessionsperhost" "$HUB/queue/mess/1/999999"

# ---- qmail-send ----------------------------------------------------------------------------
: > "$T/in"
for f in concurrencylocal concurrencyremote queuelifetime bouncemaxbytes; do
  for m in junk unread; do
    spoil "$f" "$m"
    timeout 5 "$HUB/bin/qmail-send" 0> "$T/slog" 1> /dev/null 2> /dev/null
    RC=$?
    is "$RC" 111 "qmail-send, $f $m: refuses to start (exit 111)"
    like "$(head -n 1 "$T/slog")" "^alert: cannot use control/$f: $(why "$m")$" "qmail-send, $f $m: the log names the file"
    like "$(sed -n 2p "$T/slog")" "^alert: cannot start: unable to read controls$" "qmail-send, $f $m: and says it cannot start"
    unspoil "$f"
  done
done
spoil concurrencyremote junk
"$HUB/bin/qmailctl" start > "$T/start.out" 2>&1
ok "$([ $? != 0 ]; echo $?)" "qmailctl start, concurrencyremote junk: fails"
like "$(cat "$T/start.out")" "qmail-send: FAILED to start" "qmailctl start says qmail-send failed"
wait_until inlog "alert: cannot use control/concurrencyremote: not a decimal number"
ok $? "qmailctl start: the log names the file"
unspoil concurrencyremote
echo 7 > "$C/concurrencylocal"; echo 1 > "$C/queuelifetime"
hub_start
ok $? "hub starts with valid values"
echo 12x > "$C/queuelifetime"
hub_reload > /dev/null
wait_until inlog "warning: keeping the old queuelifetime"
ok $? "reload, queuelifetime junk: the old value stays"
like "$(qlog | grep 'cannot use control/queuelifetime' | tail -n 1)" "alert: cannot use control/queuelifetime: not a decimal number" "reload, queuelifetime junk: the log names the file"
echo 12x > "$C/bouncemaxbytes"
printf 'Subject: x\n\nhi\n' | send a@example.net nosuchuser@"$ME"
wait_until inlog "alert: cannot use control/bouncemaxbytes: not a decimal number: bounce of msg [0-9]+ deferred"
ok $? "bouncemaxbytes junk: the bounce waits, the log names the file"
ok "$([ "$(nfiles "$HUB/queue/bounce")" -ge 1 ]; echo $?)" "bouncemaxbytes junk: the bounce is kept"
"$HUB/bin/qmailctl" stat > "$T/stat" 2>&1
like "$(cat "$T/stat")" "qmail-send: up" "qmail-send is still running"
rm -f "$C/bouncemaxbytes" "$C/queuelifetime" "$C/concurrencylocal"

done_testing
