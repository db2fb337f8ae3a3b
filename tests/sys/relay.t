#!/bin/bash
# relay.t: on an installed hub, control/tcp.* decides who may relay (issue
# 17 item 8). Every other hub test connects from 127.0.0.1, which the rules
# as installed (127.:allow,RELAYCLIENT="") make a relay client, so a hub
# that relayed for everyone would pass them all. Here clients also bind
# 127.0.0.2 (Linux routes all of 127/8 to lo):
#  - the rules as installed: 127.0.0.2 is in 127. and relays too (SMTP,
#    QMTP, QMQP)
#  - the installed rules with their relay line narrowed to 127.0.0.1, so
#    that 127.0.0.2 falls to the installed ":allow" line, the one every
#    outside client meets: SMTP RCPT to a foreign domain gets 553 while a
#    local recipient is accepted; QMTP refuses the foreign recipient alone
#    (D, #5.7.1) and takes the local one; QMQP, which has no rcpthosts,
#    is closed at connect by tcp.qmqp's ":deny"
#  - from 127.0.0.1 under the same narrowed rules SMTP, QMTP and QMQP
#    relay: the rule decides, not the protocol or being on loopback
#  - the queue holds exactly the recipients that were accepted
# The hub runs without qmail-send, so accepted mail stays in todo/. Works
# as root and as a normal user (single-user home); skips when 127.0.0.2
# cannot be bound.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
for p in qmail-qmtpd qmail-qmqpd; do
  [ -x "$SRCDIR/$BUILD/hub/$p" ] || { echo "Bail out! $p not built (BUILD=$BUILD: make all first)"; exit 1; }
done
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
  { echo "1..0 # skip cannot bind 127.0.0.2 (no 127/8 route on lo)"; exit 0; }

hub_install
rm -rf "$HUB/service/qmail-send"   # acceptance only: the queue keeps what came in
QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT") QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")
is "$(cat "$HUB/control/tcp.smtp" "$HUB/control/tcp.qmtp")" '127.:allow,RELAYCLIENT=""
:allow
127.:allow,RELAYCLIENT=""
:allow' "tcp.smtp and tcp.qmtp as installed: 127. relays, anyone else may send to rcpthosts"
like "$(cat "$HUB/control/tcp.qmqp")" '^127\.:allow$' "tcp.qmqp as installed allows 127."
like "$(cat "$HUB/control/tcp.qmqp")" '^:deny$' "and denies the rest"

"$HUB/bin/qmailctl" start > "$T/start.log" 2>&1
ok $? "qmailctl start"
for p in $SMTP $QMTP $QMQP; do
  wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$p),0.5).close()" 2>/dev/null
done

# client PROTO SRC RCPT...: one message from SRC (bound before connecting)
# to the hub; prints one word per answer:
#   smtp  the RCPT code of each recipient, then data=CODE (or data=none)
#   qmtp  each recipient's reply: its first byte and the (#x.y.z) code
#   qmqp  the reply's first byte and code, or "closed" when the connection
#         ends without a reply (tcpserver's deny)
cat > "$T/client.py" <<'PY'
import re, smtplib, socket, sys
proto, port, src, rcpts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
msg = b"Subject: relay test\n\nhello\n"
def ns(b): return str(len(b)).encode() + b":" + b + b","
def code(r): m = re.search(rb"\(#\d\.\d\.\d\)", r); return r[:1].decode() + (m.group(0).decode() if m else "")
def readns(f):
    n = b""
    while True:
        c = f.read(1)
        if c == b"": return None
        if c == b":": break
        n += c
    body = f.read(int(n)); f.read(1)
    return body
if proto == "smtp":
    s = smtplib.SMTP(timeout=30, source_address=(src, 0))
    s.connect("127.0.0.1", port)
    s.ehlo("relay.test")
    s.mail("sender@example.org")
    codes = [s.rcpt(r)[0] for r in rcpts]
    out = [str(c) for c in codes]
    out.append("data=" + (str(s.data(msg.decode())[0]) if 250 in codes else "none"))
    s.quit()
    print(" ".join(out))
    sys.exit(0)
s = socket.socket()
s.settimeout(30)
s.bind((src, 0))
s.connect(("127.0.0.1", port))
if proto == "qmtp":
    s.sendall(ns(b"\n" + msg) + ns(b"sender@example.org") + ns(b"".join(ns(r.encode()) for r in rcpts)))
    out, f = [], s.makefile("rb")
    for r in rcpts:
        rep = readns(f)
        out.append("closed" if rep is None else code(rep))
    print(" ".join(out))
else:
    s.sendall(ns(ns(msg) + ns(b"sender@example.org") + b"".join(ns(r.encode()) for r in rcpts)))
    try:
        rep = readns(s.makefile("rb"))
    except ConnectionResetError:
        rep = None
    print("closed" if rep is None else code(rep))
PY
smtp() { python3 "$T/client.py" smtp "$SMTP" "$@" 2>&1; }
qmtp() { python3 "$T/client.py" qmtp "$QMTP" "$@" 2>&1; }
qmqp() { python3 "$T/client.py" qmqp "$QMQP" "$@" 2>&1; }
L=bob@$ME
# the recipients of every queued envelope (todo/S/N: T items), sorted
queued_rcpts() { find "$HUB/queue/todo" -type f -exec cat {} + | tr '\0' '\n' | sed -n 's/^T//p' | sort | paste -sd ' '; }

# ---- the rules as installed: all of 127/8 relays ---------------------------
is "$(smtp 127.0.0.2 a2@elsewhere.example)" "250 data=250" "installed rules: SMTP from 127.0.0.2 relays (127. matches it)"
is "$(qmtp 127.0.0.2 b2@elsewhere.example)" "K" "installed rules: QMTP from 127.0.0.2 relays"
is "$(qmqp 127.0.0.2 c2@elsewhere.example)" "K" "installed rules: QMQP from 127.0.0.2 is accepted"

# ---- narrowed: 127.0.0.2 is an outside client -------------------------------
for r in tcp.smtp tcp.qmtp tcp.qmqp; do sed -i 's/^127\.:/127.0.0.1:/' "$HUB/control/$r"; done
"$HUB/bin/qmailctl" cdb > /dev/null
ok $? "the installed rules narrowed to 127.0.0.1 compile"
is "$(smtp 127.0.0.2 s2@elsewhere.example "$L")" "553 250 data=250" \
  "SMTP from 127.0.0.2: RCPT to a foreign domain gets 553, a local recipient 250"
is "$(smtp 127.0.0.2 S2@ELSEWHERE.EXAMPLE.)" "553 data=none" "and so does the foreign domain in capitals with a trailing dot"
is "$(qmtp 127.0.0.2 q2@elsewhere.example "$L")" "D(#5.7.1) K" \
  "QMTP from 127.0.0.2: the foreign recipient refused (D #5.7.1), the local one accepted"
is "$(qmqp 127.0.0.2 p2@elsewhere.example)" "closed" "QMQP from 127.0.0.2: closed at connect, no reply (tcp.qmqp :deny)"
wait_until grep -q 'qmail-smtpd: refused: 127.0.0.2 .*553' "$HUB/log/qmail-smtpd/current"
ok $? "the SMTP refusal is logged with 127.0.0.2"
wait_until grep -qE '(tcpserver|qmail-qmqpd): deny .*:127\.0\.0\.2:' "$HUB/log/qmail-qmqpd/current"
ok $? "the listener logs the QMQP deny for 127.0.0.2"

# ---- narrowed: 127.0.0.1 still relays -----------------------------------------
is "$(smtp 127.0.0.1 s1@elsewhere.example)" "250 data=250" "SMTP from 127.0.0.1 relays"
is "$(qmtp 127.0.0.1 q1@elsewhere.example)" "K" "QMTP from 127.0.0.1 relays"
is "$(qmqp 127.0.0.1 p1@elsewhere.example)" "K" "QMQP from 127.0.0.1 is accepted"

is "$(queued_rcpts)" "$(printf '%s\n' a2@elsewhere.example b2@elsewhere.example c2@elsewhere.example "$L" "$L" s1@elsewhere.example q1@elsewhere.example p1@elsewhere.example | sort | paste -sd ' ')" \
  "the queue holds exactly the accepted recipients: none of 127.0.0.2's foreign ones"
hub_stop
done_testing
