#!/bin/bash
# tests/sys/rspawn.t: qmail-rspawn with a fake qmail-remote (as
# HOME/bin/qmail-remote and through $QMAILREMOTE) that records its argv and
# the message and answers by the recipient's local part: every mapping of
# r/h/s + K/Z/D records and exit codes to qmail-send's K/Z/D, a crash,
# silence, a missing message file, one report per job.
source "$(dirname "$0")/../lib/common.sh"
B=$SRCDIR/$BUILD/hub
[ -x "$B/qmail-rspawn" ] || { echo "Bail out! qmail-rspawn not built (BUILD=$BUILD: make all first)"; exit 1; }
H=$T/home
mkdir -p "$H/bin" "$H/queue/mess/7" "$H/log" "$H/control"
echo 0 > "$H/control/sessionsperhost"   # classic mode first: one run per job
cat > "$H/bin/qmail-remote" <<'SH'
#!/bin/sh
# fake qmail-remote host sender rcpt: record, then act on the local part
log="$(dirname "$0")/../log/${3%@*}"
printf '%s|' "$@" > "$log"; echo >> "$log"
cat >> "$log"
case "$3" in
  ok*) printf 'r\0Kexample.net accepted message./Remote host said: 250 ok\0' ;;
  soft*) printf 'sexample.net does not like recipient./Remote host said: 450 try later\0Z\0' ;;
  hard*) printf 'hexample.net does not like recipient./Remote host said: 550 no such user\0D\0' ;;
  rz*) printf 'r\0ZConnection died. (#4.4.2)\0' ;;
  rd*) printf 'r\0DSorry, message too big. (#5.3.4)\0' ;;
  onlyk*) printf 'Kcheating\0' ;;
  onlyr*) printf 'r\0' ;;
  silent*) ;;
  e111*) echo "temporary trouble"; exit 111 ;;
  e100*) echo "usage trouble"; exit 100 ;;
  crash*) kill -9 $$ ;;
  nul*) printf 'sbad\001text\0Z\0' ;;
esac
exit 0
SH
chmod 755 "$H/bin/qmail-remote"
printf 'Subject: hi\n\nbody\n' > "$H/queue/mess/7/1234"
job() { printf '%s7/1234\0%s\0%s\0\0' "$1" "$2" "$3"; }
{ job a s@x.org ok@example.net; job b s@x.org soft@example.net; job c s@x.org hard@example.net
  job d s@x.org rz@example.net; job e s@x.org rd@example.net; job f s@x.org onlyk@example.net
  job g s@x.org onlyr@example.net; job h s@x.org silent@example.net; job i s@x.org e111@example.net
  job j s@x.org e100@example.net; job k s@x.org crash@example.net; job l '' nul@a@example.net
  printf 'm7/999\0s@x\0ok2@example.net\0\0'
} > "$T/jobs"
QMAILHOME=$H timeout 30 "$B/qmail-rspawn" < "$T/jobs" > "$T/out"
ok $? "qmail-rspawn exits 0 at end of input"
res() { tr '\0' '\n' < "$T/out" | grep "^$1" ; }
is "$(res a)" "aKexample.net accepted message./Remote host said: 250 ok" "r + K => K with the message text"
is "$(res b)" "bZexample.net does not like recipient./Remote host said: 450 try later" "s => Z with the recipient text"
is "$(res c)" "cDexample.net does not like recipient./Remote host said: 550 no such user" "h => D with the recipient text"
is "$(res d)" "dZConnection died. (#4.4.2)" "r + Z => Z"
is "$(res e)" "eDSorry, message too big. (#5.3.4)" "r + D => D"
like "$(res f)" "^fZ.*no recipient report" "K without a recipient record is not success"
like "$(res g)" "^gZ.*no report" "r without a message record => Z"
like "$(res h)" "^hZ.*no report" "no output => Z"
is "$(res i)" "iZtemporary trouble" "exit 111 => Z with the output as text"
job y s@x.org ok@example.net | QMAILHOME=$H QMAILREMOTE=$T/none timeout 10 "$B/qmail-rspawn" > "$T/out5"
is "$(tr '\0' '\n' < "$T/out5")" "yZUnable to run qmail-remote. (#4.3.0)" "a missing qmail-remote => Z"
is "$(res j)" "jDusage trouble" "other non-zero exit => D"
like "$(res k)" "^kZ.*crashed" "a crash => Z"
like "$(res l)" "^lZbad.text" "control bytes stay out of the report"
like "$(res m)" "^mZUnable to open the message file" "missing message => Z"
is "$(tr -cd '\0' < "$T/out" | wc -c)" 13 "one report per job"
is "$(head -1 "$H/log/ok")" "example.net|s@x.org|ok@example.net|" "argv: host sender recipient"
is "$(sed -n 2p "$H/log/ok")" "Subject: hi" "the message on fd 0"
is "$(head -1 "$H/log/nul@a")" "example.net||nul@a@example.net|" "host after the last @, empty sender"

# several recipients in one job: one qmail-remote run, one report each, in order
cat > "$T/multi" <<'SH'
#!/bin/sh
shift 2; echo "$@" > "$(dirname "$0")/multi.argv"; cat > /dev/null
for r in "$@"; do case $r in h*) printf 'hno %s\0' "$r";; s*) printf 'slater %s\0' "$r";; *) printf 'r\0';; esac; done
printf 'Kall done\0'
SH
chmod 755 "$T/multi"
printf 'x7/1234\0s@x.org\0a@example.net\0hb@example.net\0sc@example.net\0d@example.net\0\0' |
  QMAILHOME=$H QMAILREMOTE=$T/multi timeout 10 "$B/qmail-rspawn" > "$T/out3"
is "$(tr '\0' '\n' < "$T/out3" | tr '\n' '|')" "xKall done|xDno hb@example.net|xZlater sc@example.net|xKall done|" "four recipients: four reports in order"
is "$(cat "$T/multi.argv")" "a@example.net hb@example.net sc@example.net d@example.net" "one qmail-remote with every recipient"
printf '#!/bin/sh\ncat > /dev/null; printf "r\\0Kalternative\\0"\n' > "$T/short"; chmod 755 "$T/short"
printf 'x7/1234\0s@x.org\0a@example.net\0b@example.net\0\0' |
  QMAILHOME=$H QMAILREMOTE=$T/short timeout 10 "$B/qmail-rspawn" > "$T/out4"
is "$(tr '\0' '\n' < "$T/out4" | tr '\n' '|')" "xKalternative|xZqmail-remote gave no recipient report. (#4.3.0)|" "a recipient without its record is not delivered"

# $QMAILREMOTE replaces HOME/bin/qmail-remote
cat > "$T/alt" <<'SH'
#!/bin/sh
cat > /dev/null; printf 'r\0Kalternative\0'
SH
chmod 755 "$T/alt"
job z s@x.org ok@example.net | QMAILHOME=$H QMAILREMOTE=$T/alt timeout 10 "$B/qmail-rspawn" > "$T/out2"
is "$(tr '\0' '\n' < "$T/out2")" "zKalternative" "QMAILREMOTE names the program to run"

# ---- session mode (the default): long-lived "qmail-remote -S host" ----
rm "$H/control/sessionsperhost"
cat > "$H/bin/qmail-remote" <<'PY'
#!/usr/bin/env python3
# fake session qmail-remote -S host: per job, tagged records by local part;
# "die*" exits at once without a word; logs "pid host rcpt..." per job
import os, sys
assert sys.argv[1] == "-S"
log = open(os.path.join(os.path.dirname(sys.argv[0]), "..", "log", "sessions"), "a")
buf = b""
while True:
    d = os.read(0, 65536)
    if not d: break
    buf += d
    while True:
        parts = buf[1:].split(b"\0")
        try: end = parts.index(b"", 2)
        except ValueError: break
        tag, rc = buf[0:1], parts[2:end]
        buf = b"\0".join(parts[end + 1:])
        log.write("%d %s %s\n" % (os.getpid(), sys.argv[2], " ".join(r.decode() for r in rc))); log.flush()
        out = b""
        for r in rc:
            if r.startswith(b"die"): os._exit(0)
            if r.startswith(b"h"): out += tag + b"h" + r + b" no such user\0"
            elif r.startswith(b"s"): out += tag + b"s" + r + b" later\0"
            else: out += tag + b"r\0"
        os.write(1, out + tag + b"Ksession ok\0")
PY
chmod 755 "$H/bin/qmail-remote"
: > "$H/log/sessions"
{ job a s@x.org ok1@one.test; job b s@x.org ok2@one.test; job c s@x.org hx@one.test
  job d s@x.org ok3@two.test; job e s@x.org sy@two.test; job f s@x.org die@three.test
  printf 'g7/1234\0s@x.org\0p@one.test\0hq@one.test\0\0'
} > "$T/sjobs"
QMAILHOME=$H timeout 30 "$B/qmail-rspawn" < "$T/sjobs" > "$T/sout"
ok $? "session mode: exits 0 at end of input"
sres() { tr '\0' '\n' < "$T/sout" | grep "^$1" | tr '\n' '|'; }
is "$(sres a)" "aKsession ok|" "session: accepted => K"
is "$(sres c)" "cDhx@one.test no such user|" "session: h => D"
is "$(sres e)" "eZsy@two.test later|" "session: s => Z"
is "$(sres g)" "gKsession ok|gDhq@one.test no such user|" "session: a two-recipient job, one report each in order"
like "$(sres f)" "^fZThe qmail-remote session ended" "session that dies without a word: retried once on a new session, then Z"
is "$(tr -cd '\0' < "$T/sout" | wc -c)" 8 "session: one report per recipient"
is "$(awk '$2 == "one.test"' "$H/log/sessions" | wc -l)" 4 "four one.test jobs"
ok "$([ "$(awk '$2 == "three.test" {print $1}' "$H/log/sessions" | sort -u | wc -l)" = 2 ]; echo $?)" "the dying job went to two sessions"
# sessions per host: at most control/sessionsperhost processes per domain
echo 1 > "$H/control/sessionsperhost"; : > "$H/log/sessions"
for i in $(seq 200); do printf '%b7/1234\0s@x.org\0ok%s@one.test\0\0' "\\$(printf %03o $((i + 20)))" "$i"; done > "$T/sjobs2"
QMAILHOME=$H timeout 30 "$B/qmail-rspawn" < "$T/sjobs2" > "$T/sout2"
is "$(tr -cd '\0' < "$T/sout2" | wc -c)" 200 "200 jobs, 200 reports"
is "$(tr '\0' '\n' < "$T/sout2" | cut -c2- | sort | uniq -c | awk '{print $1, $2, $3}')" "200 Ksession ok" "every one delivered: more jobs than a session holds wait for room"
is "$(awk '{print $1}' "$H/log/sessions" | sort -u | wc -l)" 1 "sessionsperhost 1: one session carries all 200 jobs"
echo 0 > "$H/control/sessionsperhost"

# a job with a bad id is a protocol error: exit 111, nothing run
printf 'a../x\0s\0ok@example.net\0\0' | QMAILHOME=$H timeout 10 "$B/qmail-rspawn" > /dev/null 2>&1
is $? 111 "a bad message id from qmail-send: exit 111"
done_testing
