#!/bin/bash
# qqclient.t: the cost of a message on the queue socket (issue 14: CPU per
# message), on an installed hub (tests/lib/hub.sh):
#  1. a server's queue client (common/q_qq.c) hands a small message to
#     qmail-queued in ONE write (the message as one chunk, the end chunk
#     and the envelope together) and reads the reply in ONE read, without
#     waiting for the daemon's close (strace of qmail-smtpd's child;
#     skipped where strace cannot attach);
#  2. qmail-queued's client slots (hub/queue/qmail-queued.c keeps the
#     clients in use in a list, not a scan of all 256): 300 clients at
#     once, more than it takes (the rest wait in the backlog), every 7th
#     of them dying mid-message, the others ending in a shuffled order (a
#     fixed seed), so that clients leave the list from every place and
#     new ones join it in between: each survivor gets 0, and exactly the
#     survivors are delivered.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
[ -x "$SRCDIR/$BUILD/hub/qmail-queued" ] || { echo "Bail out! hub/qmail-queued is not built"; exit 1; }

hub_install
hub_user alice
hub_newu
MD=$T/home/alice/Maildir/new
SOCK=$HUB/qq/socket
hub_start || { echo "Bail out! hub did not start"; exit 1; }
wait_until [ -S "$SOCK" ]; ok $? "qmail-queued listens on qq/socket"

# ---- 1. one write, one read ----------------------------------------------
SPID=$(pgrep -g "$(head -n 1 "$HUB/service/qmail-smtpd/qmailctl.pid")" -x qmail-smtpd | head -1)
STRACE=""
if command -v strace > /dev/null && [ -n "$SPID" ]; then
  strace -f -e trace=connect,write,writev,read,close -o "$T/st" -p "$SPID" 2> /dev/null & STRACE=$!
  sleep 1
  kill -0 "$STRACE" 2> /dev/null || STRACE=""
fi
send "a@example.org" "alice@$ME" < /dev/null; ok $? "SMTP: a message accepted"
wait_until files_ge "$MD" 1; ok $? "and delivered"
if [ -n "$STRACE" ]; then
  kill "$STRACE"; wait "$STRACE" 2> /dev/null
  # the child's connect to qq/socket gives its pid and fd; its calls on
  # that fd until the close
  set -- $(grep -m1 -E "connect\([0-9]+, \{sa_family=AF_UNIX, sun_path=\"$HUB/qq/socket\"" "$T/st" |
           sed -E 's/^([0-9]+) +connect\(([0-9]+),.*/\1 \2/')
  P=${1:-none} F=${2:-none}
  awk -v p="$P" -v f="$F" '$1 != p { next } /qq\/socket/ { on = 1; next }
    on && index($0, "(" f ",") { print } on && index($0, "close(" f ")") { exit }' "$T/st" > "$T/qq"
  diag() { echo "# $*"; }
  while read -r l; do diag "$l"; done < "$T/qq"
  is "$(grep -cE "(write|writev)\($F," "$T/qq")" 1 "the message, end chunk and envelope go in one write"
  is "$(grep -cE "read\($F," "$T/qq")" 1 "the reply is had in one read"
  is "$(grep -cE "read\($F, .*= 0$" "$T/qq")" 0 "no read waits for the daemon's close"
else
  for i in 1 2 3; do ok 0 "# skip strace cannot attach to qmail-smtpd here"; done
fi

# ---- 2. more clients than slots ------------------------------------------
cat > "$T/many.py" <<'PY'
import random, socket, sys
sock, n = sys.argv[1], int(sys.argv[2])
def ns(b): return str(len(b)).encode() + b":" + b + b","
cs = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)                # blocking: waits while the backlog is full
    s.settimeout(120)
    s.sendall(ns(b"Subject: many %d\n\n" % i))
    cs.append(s)
bad = []
for i in range(0, n, 7):           # these die mid-message
    cs[i].close()
order = [i for i in range(n) if i % 7]
random.Random(14).shuffle(order)
for i in order:
    cs[i].sendall(ns(b"body %d\n" % i) + b"0:,Fa@example.org\0Talice@" + sys.argv[3].encode() + b"\0\0")
for i in range(n):
    if i % 7 == 0:
        continue
    d = b""
    try:
        while not d.endswith(b","):
            c = cs[i].recv(100)
            if not c: break
            d += c
    except OSError:
        pass
    if d != b"1:0,":
        bad.append("%d:%r" % (i, d))
print(" ".join(bad) or "all 0")
PY
before=$(nfiles "$MD")
is "$(timeout 300 python3 "$T/many.py" "$SOCK" 300 "$ME")" "all 0" "300 clients at once, every 7th dying mid-message: each of the others gets 0"
wait_until files_ge "$MD" $((before + 257)); ok $? "the 257 survivors are delivered"
sleep 1
is "$(nfiles "$MD")" $((before + 257)) "and nothing else"
is "$(grep -l 'Subject: many [0-9]*$' "$MD"/* | xargs grep -h '^Subject: many' | awk '$3 % 7 == 0' | wc -l | tr -d ' ')" 0 \
  "none of the dead ones"

done_testing
