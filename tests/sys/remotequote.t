#!/bin/bash
# remotequote.t: what qmail-remote puts on the wire for hostile envelopes
# and message bodies (hub/remote/raddr.h, hub/remote/rblast.h).
#  1. qmail-remote run by hand (classic mode) against the scripted SMTP
#     server tests/lib/smtpfake.py: local parts with '>', blanks, quotes,
#     backslashes, '@' go out as RFC 5321 Quoted-strings, routed on the
#     domain after the last '@'; recipients with control bytes, 8-bit
#     bytes that are not UTF-8 (UTF-8 ones: tests/sys/smtputf8.t) or a bad domain get h (#5.1.3) and are never sent; a bad
#     sender fails the job (#5.1.7) before any connection; the null and
#     double-bounce senders are <>; a body with bare CRs (a CR before LF,
#     "CR.CR", a CR at the end) reaches the wire with no lone CR or LF.
#     The same over QMTP (control/qmtproutes) to a recording QMTP server:
#     raw addresses, the bad ones left out, no CR in the message.
#  2. A real hub (tests/lib/hub.sh, session mode as installed): the hostile
#     forms come in as quoted local parts over SMTP and raw in a QMTP
#     package to the hub's qmail-qmtpd; example.com is routed by
#     control/smtproutes to smtpfake.py, qmtp.example by
#     control/qmtproutes to the recording QMTP server. On the recorded
#     wire every address is in its quoted form and nothing injected
#     appears as a command or parameter; the unwritable recipients bounce
#     to the sender with #5.1.3; no lone CR or LF in any DATA.
# Every server is started here and killed by pid; every wait is bounded.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v python3 > /dev/null || { echo "1..0 # skip no python3"; exit 0; }
QR=$SRCDIR/$BUILD/hub/qmail-remote

# ---- helpers ------------------------------------------------------------------
# fake DIR [ARGS]: smtpfake.py ok logging into DIR; sets FPORT, FPID.
fake() {
  local dir=$1 out=$T/fake.$RANDOM i; shift
  rm -rf "$dir"; mkdir -p "$dir"
  python3 "$SRCDIR/tests/lib/smtpfake.py" ok --logdir "$dir" --lifetime 280 "$@" > "$out" 2> "$out.err" &
  FPID=$!; _pids+=("$FPID")
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  FPORT=$(head -n 1 "$out")
}
# qrec DIR: a QMTP server writing each package's parts to DIR/N.msg (the
# message as received, encoding byte included), N.from, N.rcpt (the
# recipients, one a line, each as hex); answers K for each; sets QPORT.
cat > "$T/qrec.py" <<'PY'
import os, socket, sys, threading
d = sys.argv[1]
n = [0]
lock = threading.Lock()
def ns(f):
    ln = b""
    while True:
        c = f.read(1)
        if not c: raise EOFError
        if c == b":": break
        ln += c
        if len(ln) > 10: raise ValueError
    body = f.read(int(ln))
    if f.read(1) != b",": raise ValueError
    return body
def serve(conn):
    f = conn.makefile("rb")
    try:
        while True:
            msg = ns(f); frm = ns(f); blk = ns(f)
            rc = []
            while blk:
                i = blk.index(b":"); k = int(blk[:i]); rc.append(blk[i + 1:i + 1 + k]); blk = blk[i + 2 + k:]
            with lock:
                n[0] += 1; m = n[0]
            open(os.path.join(d, "%d.msg" % m), "wb").write(msg)
            open(os.path.join(d, "%d.from" % m), "wb").write(frm)
            open(os.path.join(d, "%d.rcpt" % m), "w").write("".join(r.hex() + "\n" for r in rc))
            for r in rc: conn.sendall(b"7:Kthanks,")
    except (EOFError, ValueError, OSError):
        pass
    conn.close()
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
threading.Timer(280, lambda: os._exit(0)).start()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
qrec() {
  local out=$T/qrec.$RANDOM i
  rm -rf "$1"; mkdir -p "$1"
  python3 "$T/qrec.py" "$1" > "$out" 2> "$out.err" &
  QPID=$!; _pids+=("$QPID")
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  QPORT=$(head -n 1 "$out")
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# lastcmds DIR: the commands of smtpfake's latest connection
lastcmds() { local f; f=$(ls "$1"/conn-*.cmds 2>/dev/null | sort -t- -k2 -n | tail -n 1)
             [ -n "$f" ] && tr -d '\r' < "$f"; }
# hexes STRING...: each argument as hex, one a line (for N.rcpt)
hexes() { local a; for a in "$@"; do printf '%s' "$a" | od -An -v -tx1 | tr -d ' \n'; echo; done; }
# wirecheck FILE...: every lone CR or LF in the files (SMTP DATA), counted
wirecheck() { python3 -c '
import re, sys
n = 0
for p in sys.argv[1:]:
    b = open(p, "rb").read()
    n += len(re.findall(rb"\r(?!\n)|(?<!\r)\n", b))
print(n)' "$@"; }
# cmdcheck DIR: command lines (all connections) that are not plain SMTP
# commands with one well-formed path: none may be left.
cmdcheck() { cat "$1"/conn-*.cmds 2>/dev/null | python3 -c '
import re, sys
dot = rb"[A-Za-z0-9!#$%&\x27*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&\x27*+/=?^_`{|}~-]+)*"
quoted = rb"\"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*\""
dom = rb"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[\x21-\x5a\x5e-\x7e]+\])"
path = rb"<(?:(?:" + dot + rb"|" + quoted + rb")@" + dom + rb")?>"
ok = [rb"(?:EHLO|HELO) [^ ]+", rb"MAIL FROM:" + path + rb"(?: SIZE=[0-9]+)?(?: BODY=8BITMIME)?",
      rb"RCPT TO:" + path, rb"DATA", rb"QUIT", rb"RSET"]
bad = [l for l in sys.stdin.buffer.read().split(b"\r\n")[:-1]
       if not any(re.fullmatch(p, l) for p in ok)]
for l in bad: print(repr(l))'; }

printf 'Subject: cr\n\nbare\rcr\n\r.\r\nx\r\n.\rlast\r' > "$T/crmsg"
H=$T/rhome
mkdir -p "$H/control" "$H/queue/lock"
head -c 1024 /dev/zero > "$H/queue/lock/tcpto"
printf 'hub.example.org\n' > "$H/control/me"
printf '127.0.0.1:1\n' > "$H/control/dnsservers"
# remote SENDER RCPT...: qmail-remote example.com by hand; OUT = reports
remote() {
  QMAILHOME=$H timeout 60 "$QR" example.com "$@" < "${MSG:-$T/crmsg}" > "$T/out" 2> "$T/err"
  OUT=$(tr '\0' '\n' < "$T/out")
}
letters() { printf '%s\n' "$OUT" | cut -c1 | tr -d '\n'; }

# ---- 1. qmail-remote by hand ---------------------------------------------------
fake "$T/f1"
printf 'example.com:127.0.0.1:%s\n' "$FPORT" > "$H/control/smtproutes"
remote 's p@b.org' 'victim@target> NOTIFY=SUCCESS@example.com' '"x"@example.com' 'a\b@example.com' \
  "$(printf 'ctl\tx@example.com')" 'x@y@example.com' 'caf'$'\xe9''@example.com' 'u@bad_domain.example.com' \
  'good.one@example.com' '@example.com' 'u@example.com> NOTIFY=SUCCESS'
is "$(letters)" "rrrhrhhrrhK" "classic: the writable ones accepted, the others h, K"
is "$(sed -n 4p <<< "$OUT")" "hSorry, I can't send to this address: it has control characters. (#5.1.3)" "classic: control bytes: h #5.1.3"
like "$(sed -n 6p <<< "$OUT")" "^hSorry.*8-bit characters.*\(#5\.1\.3\)$" "classic: 8-bit local part: h #5.1.3"
like "$(sed -n 7p <<< "$OUT")" "^hSorry.*not a valid domain.*\(#5\.1\.3\)$" "classic: bad domain: h #5.1.3"
like "$(sed -n 10p <<< "$OUT")" "^hSorry.*not a valid domain.*\(#5\.1\.3\)$" "classic: parameters after the domain: h #5.1.3"
is "$(tr -d '\r' < "$T/f1/conn-1.cmds")" 'EHLO hub.example.org
MAIL FROM:<"s p"@b.org> SIZE=38
RCPT TO:<"victim@target> NOTIFY=SUCCESS"@example.com>
RCPT TO:<"\"x\""@example.com>
RCPT TO:<"a\\b"@example.com>
RCPT TO:<"x@y"@example.com>
RCPT TO:<good.one@example.com>
RCPT TO:<""@example.com>
DATA
QUIT' "classic: the wire has every address quoted, nothing unwritable, nothing injected"
is "$(cmdcheck "$T/f1")" "" "classic: every command line is one well-formed path and known parameters"
is "$(wirecheck "$T/f1/conn-1.data")" 0 "classic: no lone CR or LF in DATA"
is "$(od -An -c "$T/f1/conn-1.data" | tr -s ' \n' ' ')" \
   "$(printf 'Subject: cr\r\n\r\nbare cr\r\n .\r\nx\r\n.. last \r\n.\r\n' | od -An -c | tr -s ' \n' ' ')" \
   "classic: a bare CR is a space, a CR before LF part of the line end, no dot line smuggled"
rm -f "$T/f1"/conn-*
remote "$(printf 'a\rb@b.org')" good@example.com other@example.com
is "$(letters)" "hhD" "classic: a sender with a CR: every recipient h, D"
like "$OUT" "envelope sender: it has control characters\. \(#5\.1\.7\)$" "classic: bad sender text (#5.1.7)"
remote 'x@[]' good@example.com
is "$(letters)" "hD" "classic: sender with a bad domain: h D"
remote 'a@b.org' 'u@bad_domain.example.com' "$(printf 'x\ny@example.com')"
is "$(letters)" "hhD" "classic: no writable recipient: h h D"
like "$(tail -n 1 <<< "$OUT")" "no recipient address can be sent\. \(#5\.1\.3\)$" "classic: no recipient: D (#5.1.3)"
is "$(ls "$T/f1" | grep -c conn-)" 0 "classic: bad sender or no recipient: no connection made"
printf 'Subject: x\n\nx\n' > "$T/plain"
MSG=$T/plain remote '#@[]' good@example.com
is "$(letters)/$(lastcmds "$T/f1" | sed -n 2p)" "rK/MAIL FROM:<> SIZE=17" "classic: the double-bounce sender #@[] is <>"
MSG=$T/plain remote '' good@example.com
is "$(letters)/$(lastcmds "$T/f1" | sed -n 2p)" "rK/MAIL FROM:<> SIZE=17" "classic: the null sender is <>"
stop "$FPID"

qrec "$T/q1"
rm -f "$H/control/smtproutes"
printf 'example.com:127.0.0.1:%s\n' "$QPORT" > "$H/control/qmtproutes"
remote 's p@b.org' 'victim@target> NOTIFY=SUCCESS@example.com' "$(printf 'ctl\rx@example.com')" '"x"@example.com' \
  'u@bad_domain.example.com' 'x@y@example.com'
is "$(letters)" "rhrhrK" "classic QMTP: the writable ones accepted, the others h, K"
like "$(sed -n 2p <<< "$OUT")" "control characters\. \(#5\.1\.3\)$" "classic QMTP: control bytes: h #5.1.3"
is "$(cat "$T/q1/1.rcpt")" "$(hexes 'victim@target> NOTIFY=SUCCESS@example.com' '"x"@example.com' 'x@y@example.com')" \
  "classic QMTP: recipients raw, the unwritable ones left out"
is "$(cat "$T/q1/1.from")" "s p@b.org" "classic QMTP: sender raw"
is "$(od -An -c "$T/q1/1.msg" | tr -s ' \n' ' ')" "$(printf '\nSubject: cr\n\nbare cr\n .\nx\n. last ' | od -An -c | tr -s ' \n' ' ')" \
  "classic QMTP: LF encoding, a bare CR is a space, a CR before LF dropped"
MSG=$T/plain remote '#@[]' good@example.com
is "$(letters)/$(wc -c < "$T/q1/2.from")" "rK/0" "classic QMTP: the double-bounce sender goes as the empty sender"
stop "$QPID"
rm -f "$H/control/qmtproutes"

# ---- 2. through a hub ------------------------------------------------------------
hub_install; ok $? "make install makes a hub home"
printf '%s\nexample.com\nbad_domain.example.com\nqmtp.example\n' "$ME" > "$HUB/control/rcpthosts"
fake "$T/f2"
qrec "$T/q2"
printf 'example.com:127.0.0.1:%s\nbad_domain.example.com:127.0.0.1:%s\n' "$FPORT" "$FPORT" > "$HUB/control/smtproutes"
printf 'qmtp.example:127.0.0.1:%s\n' "$QPORT" > "$HUB/control/qmtproutes"
QMTPPORT=$(cat "$HUB/service/qmail-qmtpd/env/PORT")
hub_start; ok $? "qmailctl start"

# smtp_raw: a raw SMTP client: stdin lines sent as they are (CRLF added),
# each command's reply read; prints the reply codes
cat > "$T/smtpraw.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 30)
f = s.makefile("rb")
def reply():
    code = b""
    while True:
        l = f.readline()
        if not l: return b"EOF"
        if l[3:4] != b"-": return l[:3]
codes = [reply()]
lines = sys.stdin.buffer.read().split(b"\n")
i = 0
while i < len(lines) and lines[i] != b"":
    s.sendall(lines[i] + b"\r\n")
    if lines[i] == b"DATA":
        codes.append(reply())
        body = b"\n".join(lines[i + 1:]).rstrip(b"\n")
        s.sendall(body.replace(b"\n", b"\r\n") + b"\r\n.\r\n")
        codes.append(reply())
        break
    codes.append(reply())
    i += 1
s.sendall(b"QUIT\r\n"); codes.append(reply())
print(b" ".join(codes).decode())
PY
codes=$(python3 "$T/smtpraw.py" "$SMTP" <<EOF
EHLO client.test
MAIL FROM:<postmaster@$ME>
RCPT TO:<"victim@target> NOTIFY=SUCCESS"@example.com>
RCPT TO:<"\\"x\\""@example.com>
RCPT TO:<"a\\\\b"@example.com>
RCPT TO:<"a b"@example.com>
RCPT TO:<good@example.com>
RCPT TO:<x@bad_domain.example.com>
RCPT TO:<"victim@target> NOTIFY=SUCCESS"@qmtp.example>
DATA
Subject: smtp in

hello
EOF
)
is "$codes" "220 250 250 250 250 250 250 250 250 250 354 250 221" "SMTP in: the quoted local parts are accepted"
codes=$(python3 "$T/smtpraw.py" "$SMTP" <<EOF
EHLO client.test
MAIL FROM:<"odd>sender"@$ME>
RCPT TO:<plain@example.com>
DATA
Subject: odd sender

x
EOF
)
is "$codes" "220 250 250 250 354 250 221" "SMTP in: a quoted sender is accepted"

# QMTP in: one package, LF encoding, raw envelope, a body with bare CRs
python3 - "$QMTPPORT" "$ME" > "$T/qmtpin" <<'PY'
import socket, sys
def ns(b): return str(len(b)).encode() + b":" + b + b","
port, me = int(sys.argv[1]), sys.argv[2].encode()
msg = b"\nSubject: qmtp in\n\nbare\rcr\n\r.\r\nx\r\n.\rend\r"
rc = [b"victim@target> NOTIFY=SUCCESS@example.com", b"q\"uo\\te@example.com",
      b"tab\there@example.com", b"caf\xe9@example.com", b"victim@target> X@qmtp.example"]
s = socket.create_connection(("127.0.0.1", port), 30)
s.sendall(ns(msg) + ns(b"postmaster@" + me) + ns(b"".join(ns(r) for r in rc)))
f = s.makefile("rb"); out = []
for r in rc:
    n = b""
    while True:
        c = f.read(1)
        if not c or c == b":": break
        n += c
    if not n: out.append("EOF"); break
    out.append(f.read(int(n) + 1)[:1].decode())
print(" ".join(out))
PY
like "$(cat "$T/qmtpin")" "^K K [KD] [KD] K$" "QMTP in: the package is taken (a control or 8-bit recipient may be refused at the door)"
door_tab=$(cut -d' ' -f3 "$T/qmtpin") door_8bit=$(cut -d' ' -f4 "$T/qmtpin")

# wait until the queue is empty and the bounces are home
wait_until queue_empty; ok $? "the queue drains"
wait_until files_ge "$HUB/alias/Maildir/new" 1; ok $? "a bounce reaches the postmaster"
sleep 1
hub_stop
bounces=$(cat "$HUB"/alias/Maildir/new/* 2>/dev/null)
like "$(printf '%s' "$bounces" | tr '\n' ' ')" "<x@bad_domain\.example\.com>:.*can't send to this address: its domain is not a valid domain.*#5\.1\.3" \
  "hub: the bad-domain recipient bounces with #5.1.3"
if [ "$door_tab" = K ]; then
  like "$(printf '%s' "$bounces" | tr '\n' ' ')" "<tab.here@example\.com>:.*control characters.*#5\.1\.3" "hub: the TAB recipient bounces with #5.1.3"
else ok 0 "# skip qmail-qmtpd refused the TAB recipient itself"; fi
if [ "$door_8bit" = K ]; then
  like "$(printf '%s' "$bounces" | tr '\n' ' ')" "8-bit characters.*#5\.1\.3" "hub: the 8-bit recipient bounces with #5.1.3"
else ok 0 "# skip qmail-qmtpd refused the 8-bit recipient itself"; fi
like "$(qlog | grep -E 'delivery [0-9]+: failure' | tr '\n' ' ')" "failure: Sorry, I can't send to this address: its domain is not a valid domain.*\(#5\.1\.3\)" \
  "hub: the failure is logged with #5.1.3"

rcpts=$(cat "$T"/f2/conn-*.cmds | tr -d '\r' | grep '^RCPT' | sort)
is "$rcpts" "$(printf '%s\n' 'RCPT TO:<"\"x\""@example.com>' 'RCPT TO:<"a b"@example.com>' 'RCPT TO:<"a\\b"@example.com>' \
  'RCPT TO:<"q\"uo\\te"@example.com>' 'RCPT TO:<"victim@target> NOTIFY=SUCCESS"@example.com>' \
  'RCPT TO:<"victim@target> NOTIFY=SUCCESS"@example.com>' 'RCPT TO:<good@example.com>' 'RCPT TO:<plain@example.com>' | sort)" \
  "hub SMTP out: every recipient in its quoted form, the unwritable ones never sent"
like "$(cat "$T"/f2/conn-*.cmds | tr -d '\r' | grep '^MAIL' | sort | tr '\n' '|')" \
  "MAIL FROM:<\"odd>sender\"@$ME> SIZE=[0-9]+\|" "hub SMTP out: the quoted sender"
is "$(cmdcheck "$T/f2")" "" "hub SMTP out: every command line is one well-formed path and known parameters"
is "$(wirecheck "$T"/f2/conn-*.data)" 0 "hub SMTP out: no lone CR or LF in any DATA"
like "$(cat "$T"/f2/conn-*.data | tr '\r\n' '<>')" "bare cr<> \.<>x<>\.\. end <>" "hub SMTP out: the QMTP-borne bare CRs went out as spaces"
is "$(cat "$T"/q2/*.rcpt | sort)" "$(hexes 'victim@target> NOTIFY=SUCCESS@qmtp.example' 'victim@target> X@qmtp.example' | sort)" \
  "hub QMTP out: raw recipients, as routed"
is "$(cat "$T"/q2/*.msg | tr -dc '\r' | wc -c)" 0 "hub QMTP out: no CR in the message"
stop "$FPID"; stop "$QPID"
done_testing
