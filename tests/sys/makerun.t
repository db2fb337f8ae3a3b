#!/bin/bash
# makerun.t: what `make run` does (tests/lib/make-run.sh, issue 10 item 19),
# into a temp RUNDIR: the hub and the leaf are installed, the welcome
# message is delivered into the alias Maildir, the log view shows that
# delivery, a message submitted on 587 with STARTTLS and AUTH PLAIN (the
# user demo, made by make-run.sh) arrives "with ESMTPSA", the welcome
# message is fetched back over POP3 with STLS as demo (its QUIT moves
# new/ to cur/: the checks look in both), and SIGINT (Ctrl-C) stops the hub, says "stopped" and exits 0
# with nothing of the hub left running. tests/lib/deps.sh as a normal user
# asks for the packages in one apt-get line instead of installing them.
. "$(dirname "$0")/../lib/common.sh"
[ -x "$SRCDIR/$BUILD/hub/qmail-send" ] || { echo "Bail out! hub not built (BUILD=$BUILD: make all first)"; exit 1; }
command -v tcpserver >/dev/null || { echo "1..0 # skip no tcpserver"; exit 0; }
san=""; case $BUILD in *-san) san=1;; esac

out=$T/out
set -m   # job control: a background job keeps SIGINT (as under a terminal)
RUNDIR=$T/run BUILD=$BUILD SAN=$san bash "$SRCDIR/tests/lib/make-run.sh" > "$out" 2>&1 &
pid=$!; _pids+=("$pid")
set +m
for _ in $(seq 600); do grep -q 'delivery [0-9]*: success' "$out" && break; sleep 0.1; done
like "$(cat "$out")" "== delivered to the hub's Maildir: $T/run/hub/alias/Maildir/new/" "the welcome message is delivered"
like "$(cat "$out")" "delivery [0-9]+: success" "the log view shows the delivery just made"
like "$(cat "$out")" "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ (status|new msg)" "with readable times"
like "$(cat "$out")" "== submitted on port [0-9]+ with STARTTLS and AUTH PLAIN as demo: 250" \
  "a message submitted on 587 with STARTTLS and AUTH (issue 11)"
for _ in $(seq 300); do grep -lq '^Subject: submitted' "$T"/run/hub/alias/Maildir/new/* "$T"/run/hub/alias/Maildir/cur/* 2>/dev/null && break; sleep 0.1; done
like "$(grep -l '^Subject: submitted' "$T"/run/hub/alias/Maildir/new/* "$T"/run/hub/alias/Maildir/cur/* 2>/dev/null | head -1 | xargs -r sed -n '/^Received: from/{N;p;q}' | tr '\n' ' ')" \
  "with ESMTPSA \(TLSv1\.[23] cipher" "and delivered, Received 'with ESMTPSA'"
for _ in $(seq 300); do grep -q '^== \(fetched back over POP3\|POP3\)' "$out" && break; sleep 0.1; done
like "$(cat "$out")" "== fetched back over POP3 on port [0-9]+ \(STLS, USER/PASS as demo\): message [0-9]+ of [0-9]+" \
  "the welcome message is fetched back over POP3 with STLS (issue 13)"
like "$(sed -n '/^== fetched back over POP3/,/^== /p' "$out")" "   \| Subject: welcome" "and shown"
kill -INT "$pid"
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
wait "$pid"; rc=$?
is "$rc" 0 "Ctrl-C: exit 0"
like "$(tail -n 1 "$out")" "== stopped" "and a clear 'stopped'"
left=0
for s in qmail-smtpd qmail-qmtpd qmail-qmqpd qmail-submission qmail-pop3d qmail-send; do
  [ -f "$T/run/hub/service/$s/qmailctl.pid" ] && left=$((left + 1))
done
is "$left" 0 "every service stopped"

if id nobody > /dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  msg=$(su -s /bin/sh nobody -c "sh '$SRCDIR/tests/lib/deps.sh' no-such-package-xyz" 2>&1); rc=$?
  is "$rc" 1 "deps as a normal user: exit 1"
  is "$msg" "missing packages: as root, run: apt-get install no-such-package-xyz" "and one line with the apt-get command"
fi
done_testing
