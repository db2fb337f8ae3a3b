#!/bin/bash
# refuselog.t: every refusal of qmail-smtpd, qmail-qmtpd and qmail-qmqpd is
# one line in the service's log (QMAILHOME/log/<service>/current) with the
# client address, the stage, the code sent and the reason, the client's
# bytes escaped (issue 10 item 16; format in hub/servers/refuselog.h and the man
# pages). On a running hub whose rules give 127.0.0.1 no RELAYCLIENT
# (control/maxrcpt 2, databytes 300), each server is driven into several
# refusals: relay denied, a bad address, too many recipients, a message
# too big, a command too long, an unknown command carrying escape
# sequences, AUTH with a password (never logged), a malformed QMTP
# package, a QMQP request without recipients. Each gives exactly one line;
# no log holds a raw control byte.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }

hub_install; ok $? "make install makes a hub home"
hub_user zu
hub_newu
printf '127.:allow\n' > "$HUB/control/tcp.smtp"
printf '127.:allow\n' > "$HUB/control/tcp.qmtp"
"$HUB/bin/qmailctl" cdb > /dev/null; ok $? "rules without RELAYCLIENT compiled"
echo 2 > "$HUB/control/maxrcpt"
echo 300 > "$HUB/control/databytes"
hub_start; ok $? "hub started"
QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT")   # after the start: a port taken
QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")   # meanwhile is picked again

slog() { cat "$HUB"/log/"$1"/@* "$HUB/log/$1/current" 2>/dev/null; }
# has SERVICE TEXT: a log line of SERVICE holds TEXT (fixed string)
has() { slog "$1" | grep -qF -- "$2"; }
refusals() { slog "$1" | grep -c ': refused: '; }
# logged SERVICE TEXT NAME: wait for the line, then check it
logged() { wait_until has "$1" "$2"; ok $? "$3"; }

# ---- SMTP ------------------------------------------------------------------
cat > "$T/smtp.py" <<'EOF'
import socket, sys
port = int(sys.argv[1])
def session(cmds):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    def reply():
        l = f.readline()
        while l[3:4] == b"-": l = f.readline()
        return l[:3].decode() or "EOF"
    out = [reply()]
    for c in cmds:
        s.sendall(c)
        if c == b"DATA\r\n":
            out.append(reply())
            s.sendall(b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n") 
            for _ in range(6): s.sendall(b"y" * 70 + b"\r\n")
            s.sendall(b".\r\n")
        out.append(reply())
    return " ".join(out)
print(session([b"EHLO client.example\r\n",
               b"X\x1b[2J\x1b]0;evil\x07 junk argument\r\n",
               b"AUTH PLAIN c2VjcmV0cGFzc3dvcmQ=\r\n",
               b"MAIL FROM:<a@leaf.example.org> SIZE=100000\r\n",
               b"MAIL FROM:<a@leaf.example.org>\r\n",
               b"RCPT TO:<x@evil.test>\r\n",
               b"RCPT TO:<\"a\x1b[31mb\"@hub.example.org>\r\n",
               b"RCPT TO:<zu@hub.example.org>\r\n",
               b"RCPT TO:<postmaster@hub.example.org>\r\n",
               b"RCPT TO:<root@hub.example.org>\r\n",
               b"DATA\r\n",
               b"QUIT\r\n"]))
print(session([b"HELO " + b"h" * 3000 + b"\r\n"]))
EOF
is "$(timeout 60 python3 "$T/smtp.py" "$SMTP" | tr '\n' '/')" \
   "220 250 502 502 552 250 553 501 250 250 452 354 552 221/220 500/" "SMTP: the refusals were sent"
S=qmail-smtpd
logged $S 'qmail-smtpd: refused: 127.0.0.1 command 502 5.5.1 reason="unimplemented" input="X\x1b[2J\x1b]0;evil\x07"' \
  "SMTP unknown command: its verb escaped, its argument not logged"
logged $S 'qmail-smtpd: refused: 127.0.0.1 auth 502 5.5.1 reason="unimplemented" input="AUTH"' "SMTP AUTH: stage auth"
has $S c2VjcmV0; is "$?" 1 "SMTP AUTH: the password is not logged"
logged $S 'qmail-smtpd: refused: 127.0.0.1 mail 552 5.3.4 reason="sorry, that message size exceeds my databytes limit" input="FROM:<a@leaf.example.org> SIZE=100000"' \
  "SMTP SIZE over databytes: stage mail"
logged $S 'qmail-smtpd: refused: 127.0.0.1 rcpt 553 5.7.1 reason="sorry, that domain isn'"'"'t in my list of allowed rcpthosts" input="TO:<x@evil.test>"' \
  "SMTP relay denied: stage rcpt"
logged $S 'qmail-smtpd: refused: 127.0.0.1 rcpt 501 5.5.4 reason="sorry, control characters are not allowed in addresses" input="TO:<\"a\x1b[31mb\"@hub.example.org>"' \
  "SMTP bad address: ESC and quotes escaped"
logged $S 'qmail-smtpd: refused: 127.0.0.1 rcpt 452 4.5.3 reason="too many recipients" input="TO:<root@hub.example.org>"' \
  "SMTP too many recipients"
logged $S 'qmail-smtpd: refused: 127.0.0.1 data 552 5.3.4 reason="sorry, that message size exceeds my databytes limit"' \
  "SMTP message too big: stage data"
logged $S 'qmail-smtpd: refused: 127.0.0.1 connect 500 5.5.2 reason="line too long"' "SMTP line too long"
is "$(refusals $S)" 8 "SMTP: one line per refusal (8)"

# ---- QMTP ------------------------------------------------------------------
# nsc PROTO PORT CASE: one QMTP package or QMQP request of the kind CASE
# (tests/lib/nsclient.py), replies discarded
BIG='Subject: big\n\n'$(printf 'x%.0s' $(seq 400))'\n'
nsc() {
  local c=(--msg 'Subject: t\n\nhello\n')
  case $1:$3 in
    qmtp:mixed) c+=(a@leaf.example.org x@evil.test 'x\x1b[2J@hub.example.org' zu@hub.example.org
                    postmaster@hub.example.org root@hub.example.org) ;;
    *:big) c=(--msg "$BIG" a@leaf.example.org zu@hub.example.org) ;;
    qmtp:sender) c+=('a\r\nX: y@leaf.example.org' zu@hub.example.org) ;;
    qmtp:junk) c=(--raw '12x:') ;;
    qmqp:rcpt) c+=(a@leaf.example.org zu@hub.example.org 'q\x7f\x00@hub.example.org') ;;
    qmqp:none) c+=(a@leaf.example.org) ;;
  esac
  timeout 60 python3 "$SRCDIR/tests/lib/nsclient.py" "$1" "$2" "${c[@]}" > /dev/null
}
nsc qmtp "$QMTP" mixed; nsc qmtp "$QMTP" big; nsc qmtp "$QMTP" sender; nsc qmtp "$QMTP" junk
S=qmail-qmtpd
logged $S 'qmail-qmtpd: refused: 127.0.0.1 recipient D 5.7.1 reason="domain not in rcpthosts, relaying denied" input="x@evil.test"' \
  "QMTP relay denied: stage recipient, D 5.7.1"
logged $S 'qmail-qmtpd: refused: 127.0.0.1 recipient D 5.1.3 reason="recipient address too long or containing a control character" input="x\x1b[2J@hub.example.org"' \
  "QMTP bad address: escaped"
logged $S 'qmail-qmtpd: refused: 127.0.0.1 recipient Z 4.5.3 reason="too many recipients, send the rest later" input="root@hub.example.org"' \
  "QMTP too many recipients: Z 4.5.3"
logged $S 'qmail-qmtpd: refused: 127.0.0.1 message D 5.3.4 reason="message is bigger than this server accepts (databytes)"' \
  "QMTP message too big: stage message"
logged $S 'qmail-qmtpd: refused: 127.0.0.1 sender D 5.1.7 reason="sender address too long or containing a control character" input="a\x0d\x0aX: y@leaf.example.org"' \
  "QMTP bad sender: stage sender, CR LF escaped"
logged $S 'qmail-qmtpd: refused: 127.0.0.1 envelope - - reason="dropped package: malformed netstring or encoding byte"' \
  "QMTP malformed package: dropped, code -"
is "$(refusals $S)" 6 "QMTP: one line per refusal (6)"

# ---- QMQP ------------------------------------------------------------------
nsc qmqp "$QMQP" rcpt; nsc qmqp "$QMQP" big; nsc qmqp "$QMQP" none
S=qmail-qmqpd
logged $S 'qmail-qmqpd: refused: 127.0.0.1 recipient D 5.1.3 reason="recipient address too long or containing a control character" input="q\x7f\x00@hub.example.org"' \
  "QMQP bad address: DEL and NUL escaped"
logged $S 'qmail-qmqpd: refused: 127.0.0.1 message D 5.3.4 reason="message is bigger than this server accepts (databytes)"' \
  "QMQP message too big"
logged $S 'qmail-qmqpd: refused: 127.0.0.1 envelope D 5.1.3 reason="no recipients"' "QMQP no recipients: stage envelope"
is "$(refusals $S)" 3 "QMQP: one line per refusal (3)"

for s in qmail-smtpd qmail-qmtpd qmail-qmqpd; do
  ok "$(slog $s | tr -d '\n' | grep -qP '[\x00-\x1f\x7f-\xff]'; [ $? = 1 ]; echo $?)" "$s: no raw control byte in its log"
done

done_testing
