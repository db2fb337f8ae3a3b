#!/bin/bash
# make-run.sh: what `make run` does. Installs a leaf home under ./run/leaf,
# starts a receiver on a loopback port, sends a welcome message through
# the leaf's sendmail, shows it arrived, then keeps the receiver running in
# the foreground with its log visible (Ctrl-C stops what this started).
# The hub does not exist yet: the receiver is tests/lib/qmqp-inbox.py, a
# stand-in that stores what it gets over QMQP in run/inbox (a Maildir).
set -eu
cd "$(dirname "$0")/../.."
top=$PWD run=$top/run
make -s install-leaf QMAILHOME="$run/leaf" >/dev/null
mkdir -p "$run/inbox"
log=$run/receiver.log; : > "$log"
python3 tests/lib/qmqp-inbox.py 0 "$run/inbox" > "$log" 2>&1 &
pid=$!
stop() { trap - EXIT INT TERM; kill "$pid" ${tailpid:-} 2>/dev/null; echo; echo "stopped receiver (pid $pid)"; }
trap stop EXIT INT TERM
for _ in $(seq 50); do [ -s "$log" ] && break; sleep 0.1; done
port=$(head -1 "$log")
echo "127.0.0.1:$port" > "$run/leaf/control/qmqpservers"
echo "== leaf home: $run/leaf   receiver: 127.0.0.1:$port (pid $pid)   inbox: $run/inbox"
printf 'Subject: welcome\n\nHello from the leaf: this message went sendmail -> QMQP -> receiver.\n' |
  "$run/leaf/bin/sendmail" -t "${USER:-$(id -un)}" \
  && echo "== sent; exit code 0"
sleep 0.3
f=$(ls -t "$run/inbox/new" | head -1)
echo "== delivered: run/inbox/new/$f"; sed 's/^/   | /' "$run/inbox/new/$f"
echo "== send more:  echo hi | $run/leaf/bin/sendmail you@example.org"
echo "== receiver log (Ctrl-C to stop):"
tail -n +2 -f "$log" &
tailpid=$!
wait "$pid"
