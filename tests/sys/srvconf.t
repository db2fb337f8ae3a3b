#!/bin/bash
# srvconf.t: the settings every server reads (hub/servers/srvconf.h) have
# one rule in qmail-smtpd, qmail-qmtpd, qmail-qmqpd, qmail-popup and
# qmail-pop3d (issue 14: they had drifted apart: smtpd took a timeout of 0
# as "none" and clamped a huge one, the netstring servers clamped theirs
# at a day, and a huge timeoutsession was clamped by smtpd and popup but
# overflowed the deadline in qmqpd, qmtpd and pop3d). Each program, run
# directly on an installed hub with a clean environment:
#   its per-read timeout file (timeoutsmtpd, timeoutqmtpd, timeoutqmqpd,
#   timeoutpop3d) at 0 or 86401: refused, "alert: cannot use control/NAME:
#   number too small|large" and the protocol's temporary failure; at 1 and
#   86400: served
#   timeoutsession at 31536001 (over a year): refused the same way; at
#   31536000: served
#   $DATABYTES junk (smtpd, qmtpd, qmqpd): refused, "cannot use $DATABYTES"
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
hub_install
C=$HUB/control
export LC_ALL=C
"$HUB/bin/maildirmake" "$T/md"

ns() { printf '%d:%s,' "${#1}" "$1"; }
msg=$'Subject: x\n\nhi\n'
ns "$(ns "$msg")$(ns a@example.net)$(ns "u1@$ME")" > "$T/qmqpd.in"
{ ns $'\n'"$msg"; ns a@example.net; ns "$(ns "u1@$ME")"; } > "$T/qmtpd.in"
printf 'QUIT\r\n' > "$T/line.in"
Z='33:Zunable to read controls \(#4\.3\.0\),'   # as a regex

# each server: NAME TIMEOUTFILE INPUT ANSWER-WHEN-SERVED ANSWER-WHEN-REFUSED
servers="smtpd|timeoutsmtpd|line|^220 |^421 4\.3\.0 unable to read controls
qmtpd|timeoutqmtpd|qmtpd|:K|^$Z\$
qmqpd|timeoutqmqpd|qmqpd|:K|^$Z\$
popup|timeoutpop3d|line|^\+OK |^-ERR unable to read controls
pop3d|timeoutpop3d|line|^\+OK|^-ERR \[SYS/TEMP\] unable to read controls"

# run NAME INPUT [VAR=VALUE]: the program, its answer in $T/out, log in $T/err
run() {
  local args=()
  case $1 in
    popup) args=("$HUB/bin/qmail-popup" "$ME" /bin/false "$HUB/bin/qmail-pop3d" ./Maildir/) ;;
    pop3d) args=("$HUB/bin/qmail-pop3d" "$T/md") ;;
    *) args=("$HUB/bin/qmail-$1") ;;
  esac
  env -i PATH="$PATH" QMAILQUEUE="$SRCDIR/tests/lib/qq-record.sh" QQ_OUT="$T" \
    TCPREMOTEIP=127.0.0.1 TCPLOCALIP=127.0.0.1 ${3:+"$3"} \
    timeout 30 "${args[@]}" < "$T/$2.in" > "$T/out" 2> "$T/err"
}
first() { tr -d '\r' < "$T/out" | head -n 1; }

while IFS='|' read -r srv tf input good bad; do
  for v in 0 86401; do
    echo "$v" > "$C/$tf"; run "$srv" "$input"
    [ "$v" = 0 ] && why="number too small" || why="number too large"
    like "$(first)" "$bad" "$srv, $tf $v: refused"
    like "$(cat "$T/err")" "alert: cannot use control/$tf: $why\$" "$srv, $tf $v: the log names the file"
  done
  for v in 1 86400; do
    echo "$v" > "$C/$tf"; run "$srv" "$input"
    like "$(tr -d '\r' < "$T/out")" "$good" "$srv, $tf $v: served"
  done
  rm -f "$C/$tf"
  echo 31536001 > "$C/timeoutsession"; run "$srv" "$input"
  like "$(first)" "$bad" "$srv, timeoutsession over a year: refused"
  like "$(cat "$T/err")" "alert: cannot use control/timeoutsession: number too large\$" "$srv, timeoutsession over a year: logged"
  echo 31536000 > "$C/timeoutsession"; run "$srv" "$input"
  like "$(tr -d '\r' < "$T/out")" "$good" "$srv, timeoutsession of a year: served"
  rm -f "$C/timeoutsession"
  case $srv in smtpd|qmtpd|qmqpd)
    run "$srv" "$input" DATABYTES=5k
    like "$(first)" "$bad" "$srv, \$DATABYTES junk: refused"
    like "$(cat "$T/err")" 'alert: cannot use \$DATABYTES: not a decimal number$' "$srv, \$DATABYTES junk: logged"
  esac
done <<< "$servers"
done_testing
