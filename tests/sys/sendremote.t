#!/bin/bash
# sendremote.t: qmail-send's remote channel on a running hub (qmailctl,
# qmail-start, the real qmail-rspawn) with a stub HOME/bin/qmail-remote that
# records each run's argv: recipients of one domain go in one run whatever
# their envelope order, each recipient gets its own result (accepted,
# refused for good => bounce paragraph, refused for now => deferral, the
# message stays queued for that recipient only), a VERP sender gives each
# recipient its own run and sender.
. "$(dirname "$0")/../lib/common.sh"
for p in qmail-send qmail-start qmail-rspawn qmail-lspawn qmail-local qmail-clean qmail-queue qmail-inject; do
  [ -x "$SRCDIR/$BUILD/hub/$p" ] || [ -x "$SRCDIR/$BUILD/leaf/$p" ] || { echo "Bail out! $p not built (BUILD=$BUILD: make all first)"; exit 1; }
done
hub=$T/hub
qmake install QMAILHOME="$hub" > "$T/install.log" 2>&1
ok $? "make install"
echo hub.example.org > "$hub/control/me"
printf 'hub.example.org\n' > "$hub/control/locals"
echo 0 > "$hub/control/sessionsperhost"   # the stub below is a classic qmail-remote
for s in qmail-smtpd qmail-qmtpd qmail-qmqpd; do rm -rf "$hub/service/$s"; done
cat > "$hub/bin/qmail-remote" <<'SH'
#!/bin/sh
# stub qmail-remote host sender rcpt...: log, then r / h (local part h*) / s (s*)
log=@LOG@
echo "$*" >> "$log"
cat > /dev/null
shift 2
for r in "$@"; do
  case $r in
    h*) printf 'h%s does not exist./Remote host said: 550 5.1.1 no such user\0' "$r" ;;
    s*) printf 's%s is busy./Remote host said: 451 4.2.1 try later\0' "$r" ;;
    *) printf 'r\0' ;;
  esac
done
printf 'Kstub.example accepted message./Remote host said: 250 ok\0'
SH
sed -i "s|@LOG@|$T/remote.log|" "$hub/bin/qmail-remote"
: > "$T/remote.log"; chmod 666 "$T/remote.log"
chmod 755 "$hub/bin/qmail-remote"
"$hub/bin/qmailctl" start > "$T/start.log" 2>&1
ok $? "qmailctl start"
_stop() { "$hub/bin/qmailctl" stop > /dev/null 2>&1; cleanup; }
trap _stop EXIT
log=$hub/log/qmail-send/current
# wait_log PATTERN [COUNT]: up to 60 s for COUNT (1) log lines matching
wait_log() { local i; for i in $(seq 600); do [ "$(cat "$log" 2>/dev/null | grep -cE -- "$1")" -ge "${2:-1}" ] && return 0; sleep 0.1; done; return 1; }
# marker NAME: a local message (Message-ID <NAME.marker@hub.example.org>, to
# postmaster) queued now; waits until qmail-send logs its end. qmail-send
# takes queued messages in in order and reads a delivery's report only in a
# later round, so by then every message queued before the marker has been
# taken in and had its chance to start deliveries: "nothing happened" read
# after this is not "nothing happened yet".
marker() {
  local n
  printf 'Message-ID: <%s.marker@hub.example.org>\nSubject: marker %s\n\nx\n' "$1" "$1" |
    "$hub/bin/qmail-inject" -f postmaster@hub.example.org postmaster@hub.example.org || return 1
  wait_log " mid <$1\.marker@" || return 1
  n=$(sed -nE "s/.* new msg ([0-9]+) .* mid <$1\.marker@.*/\1/p" "$log" | tail -n 1)
  # "end msg N" after the marker's "new msg" line (message numbers are
  # inode numbers: an earlier message may have had the same)
  for _ in $(seq 600); do
    sed -n "/ mid <$1\.marker@/,\$p" "$log" | grep -qE " end msg $n\$" && return 0
    sleep 0.1
  done
  return 1
}

printf 'To: list\nSubject: grouped\n\nhello\n' |
  "$hub/bin/qmail-inject" -f postmaster@hub.example.org a@one.test c@two.test b@ONE.test hx@one.test sy@two.test d@one.test
is $? 0 "a message to six recipients on two domains is queued"
wait_log 'delivery [0-9]+: deferral' ; ok $? "the soft refusal is deferred"
wait_log 'delivery [0-9]+: (success|failure|deferral)' 6; ok $? "each of the six recipients has its result"
is "$(sort "$T/remote.log")" "one.test postmaster@hub.example.org a@one.test b@ONE.test hx@one.test d@one.test
two.test postmaster@hub.example.org c@two.test sy@two.test" "one qmail-remote run per domain, every recipient of the domain in it"
is "$(grep -c 'starting delivery' "$log")" 6 "six deliveries logged"
is "$(grep -cE 'delivery [0-9]+: success' "$log")" 4 "four successes"
like "$(grep -E 'delivery [0-9]+: failure' "$log")" "hx@one.test does not exist" "the hard refusal is a failure"
q=$hub/queue
ok "$([ -n "$(find "$q/remote" -type f)" ]; echo $?)" "the message stays queued for the deferred recipient"
left=$(find "$q/remote" -type f -exec cat {} + | tr '\0' '\n' | grep '^T')
is "$left" "Tsy@two.test" "only the deferred recipient is still to do"
ok "$([ -n "$(find "$q/bounce" -type f)" ]; echo $?)" "a bounce paragraph is kept for the failed recipient"

# the retry: the stub now accepts sy (rewrite the stub's rule), flush
sed -i 's/^    s\*) .*$/    s*) printf "r\\0" ;;/' "$hub/bin/qmail-remote"
: > "$T/remote.log"
"$hub/bin/qmailctl" flush > /dev/null 2>&1
wait_log ' end msg ' ; ok $? "after a flush the deferred recipient is delivered and the message ends"
is "$(cat "$T/remote.log")" "two.test postmaster@hub.example.org sy@two.test" "the retry carries only the deferred recipient"
new=$hub/alias/Maildir/new
for _ in $(seq 100); do [ -n "$(ls -A "$new" 2>/dev/null)" ] && break; sleep 0.1; done
b=$(cat "$new"/* 2>/dev/null)
like "$(printf '%s' "$b" | tr '\n' ' ')" "<hx@one.test>:.*does not exist.*Below this line" "the bounce reaches the sender (postmaster) and names the failed recipient"
ok "$(printf '%s' "$b" | grep -q 'sy@two.test'; [ $? = 1 ]; echo $?)" "the bounce does not name the recipient that was delivered later"

# VERP: each recipient its own run with its own sender
: > "$T/remote.log"
printf 'Flist-@hub.example.org-@[]\0Tp@three.test\0Tq@three.test\0\0' > "$T/env"
printf 'Subject: verp\n\nhello\n' | "$hub/bin/qmail-queue" 1< "$T/env"
for _ in $(seq 150); do [ "$(wc -l < "$T/remote.log")" -ge 2 ] && break; sleep 0.1; done
is "$(sort "$T/remote.log")" "three.test list-p=three.test@hub.example.org p@three.test
three.test list-q=three.test@hub.example.org q@three.test" "a VERP sender: one run per recipient, each with its own sender"
# hold: nothing remote is tried while control/holdremote exists; flush sends
"$hub/bin/qmailctl" hold > /dev/null 2>&1
ok "$([ -e "$hub/control/holdremote" ]; echo $?)" "qmailctl hold creates control/holdremote"
wait_log 'remote deliveries held'; ok $? "qmail-send logs the hold"
: > "$T/remote.log"
nm=$(grep -c ' new msg ' "$log")
for i in 1 2 3; do printf 'Subject: held %s\n\nx\n' $i | "$hub/bin/qmail-inject" -f postmaster@hub.example.org "held$i@four.test"; done
wait_log ' new msg ' $((nm + 3)); ok $? "held: qmail-send takes the three messages in"
marker hold; ok $? "held: a local message queued after them is delivered and ends"
is "$(grep -c 'starting delivery .* to remote held' "$log")" 0 "held: no remote delivery of theirs is started"
is "$(wc -l < "$T/remote.log")" 0 "held: qmail-remote is not run"
ns=$(grep -cE 'delivery [0-9]+: success' "$log")
"$hub/bin/qmailctl" flush > /dev/null 2>&1
ok "$([ ! -e "$hub/control/holdremote" ]; echo $?)" "qmailctl flush removes control/holdremote"
wait_log 'delivery [0-9]+: success' $((ns + 3)); ok $? "flush: the held messages are delivered"
is "$(wc -l < "$T/remote.log")" 3 "flush: three qmail-remote runs"
done_testing
