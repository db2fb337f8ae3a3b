#!/bin/bash
# srvname.t: the servers' local name (hub/servers/received.h) and the
# listener's copy of the control files (hub/servers/ctlcache.h) on an
# installed hub whose services listen themselves (SERVE=1). A change to a
# control file counts at the next connection, without a restart:
#   control/me: the SMTP greeting and EHLO name, and the "by" of the
#   Received line of a message over SMTP and over QMQP
#   control/smtpgreeting: the greeting; removed: me again
#   control/localiphost: alice@[127.0.0.1] is queued as alice@ME without
#   it, as alice@localiphost with it (qmail-send's log)
#   control/me made unreadable (a directory): 421 "unable to read
#   controls" (fail closed, as a child reading the file itself does),
#   then served again once it is a file
#   control/me a symbolic link: a change of its target counts too
#   control/timeoutpop3d 0 for qmail-popup: refused, then served again
# And the cost: a session's child opens no control file the listener
# keeps (strace of a listener started here; skipped without strace), where
# the child used to open each one per connection; a held session's child
# has no inotify descriptor (the listener's, closed at fork).
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
hub_install
hub_user alice
hub_newu
echo lip.example.org >> "$HUB/control/locals"
echo 127.0.0.1 > "$HUB/service/qmail-pop3d/env/IP"; _port > "$HUB/service/qmail-pop3d/env/PORT"
rm -f "$HUB/service/qmail-pop3d/down"
QMQP=1
C=$HUB/control
hub_start || { echo "Bail out! the hub did not start"; exit 1; }
QMQP=$(cat "$HUB/service/qmail-qmqpd/env/PORT")
P3=$(cat "$HUB/service/qmail-pop3d/env/PORT")

# chat PORT LINES...: one SMTP session, the lines sent one by one, each
# after the previous reply; prints the replies (CR removed) until the
# server closes
cat > "$T/chat.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 30)
f = s.makefile("rb")
def reply():
    out = []
    while True:
        l = f.readline()
        if not l: break
        out.append(l.decode(errors="replace").rstrip("\r\n"))
        if len(l) < 4 or l[3:4] != b"-": break
    print("\n".join(out))
reply()
try:
    for line in sys.argv[2:]:
        s.sendall(line.encode() + b"\r\n")
        reply()
except OSError:
    pass  # the server ended the session (a 421 greeting): its replies are printed
PY
chat() { timeout 60 python3 "$T/chat.py" "$SMTP" "$@"; }
greeting() { chat QUIT | sed -n 1p; }

# qmqp RCPT: one message over QMQP, its answer
cat > "$T/qmqp.py" <<'PY'
import socket, sys
def ns(b): return str(len(b)).encode() + b":" + b + b","
msg = b"Subject: over qmqp\n\n" + sys.argv[3].encode() + b"\n"
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 30)
c.sendall(ns(ns(msg) + ns(b"a@example.net") + ns(sys.argv[2].encode())))
r = b""
while True:
    d = c.recv(4096)
    if not d: break
    r += d
print(r.decode(errors="replace"))
PY
qmqp() { timeout 60 python3 "$T/qmqp.py" "$QMQP" "$@"; }
# received TAG: the Received line (both lines) of alice's message holding TAG
received() {
  local f
  wait_until has_file "$T/home/alice/Maildir/new" 1 "$1" || return 1
  f=$(one "$T/home/alice/Maildir/new" "$1")
  sed -n '/^Received: from/{N;p;q}' "$f" | tr '\n' ' '
}

like "$(greeting)" '^220 hub\.example\.org ESMTP$' "greeting: control/me"
echo new.example.org > "$C/me"
like "$(greeting)" '^220 new\.example\.org ESMTP$' "control/me changed: the next connection's greeting"
like "$(chat 'EHLO c.example' QUIT | sed -n 2p)" '^250-new\.example\.org$' "control/me changed: the EHLO name"
printf 'Subject: one\n\nsmtp-tag-1\n' | send a@example.net "alice@$ME"
like "$(received smtp-tag-1)" 'by new\.example\.org with ESMTP' "Received over SMTP: by the new name"
like "$(qmqp "alice@$ME" qmqp-tag-1)" ':K' "QMQP accepted"
like "$(received qmqp-tag-1)" 'by new\.example\.org with QMQP;' "Received over QMQP: by the new name"

echo 'greet.example.org at your service' > "$C/smtpgreeting"
like "$(greeting)" '^220 greet\.example\.org at your service ESMTP$' "control/smtpgreeting: the next greeting"
rm -f "$C/smtpgreeting"
like "$(greeting)" '^220 new\.example\.org ESMTP$' "smtpgreeting removed: me again"

echo "$ME" > "$C/me"
printf 'Subject: lip\n\nlip-tag-1\n' | send a@example.net 'alice@[127.0.0.1]'
wait_until inlog 'to local alice@hub\.example\.org$'
ok $? "alice@[our IP] without localiphost: alice@me"
echo lip.example.org > "$C/localiphost"
printf 'Subject: lip\n\nlip-tag-2\n' | send a@example.net 'alice@[127.0.0.1]'
wait_until inlog 'to local alice@lip\.example\.org$'
ok $? "control/localiphost changed: alice@lip.example.org at the next connection"
rm -f "$C/localiphost"

rm -f "$C/me"; mkdir "$C/me"
like "$(greeting)" '^421 4\.3\.0 unable to read controls' "control/me unreadable: refused at the next connection"
like "$(qmqp "alice@$ME" qmqp-tag-2)" 'Zunable to read controls' "control/me unreadable: QMQP refused too"
rmdir "$C/me"; echo back.example.org > "$C/me"
like "$(greeting)" '^220 back\.example\.org ESMTP$' "control/me a file again: served"

echo link.example.org > "$T/me.target"
rm -f "$C/me"; ln -s "$T/me.target" "$C/me"
like "$(greeting)" '^220 link\.example\.org ESMTP$' "control/me a symbolic link: its target"
echo moved.example.org > "$T/me.target"
like "$(greeting)" '^220 moved\.example\.org ESMTP$' "the link's target changed: the next connection"
rm -f "$C/me"; echo "$ME" > "$C/me"

# qmail-popup: its timeout file changed counts at the next connection
pop() { timeout 60 python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),30); print(s.recv(200).decode(errors="replace").strip())' "$P3"; }
listening() { python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.5)" 2>/dev/null; }
wait_until listening "$P3"
like "$(pop)" '^\+OK ' "qmail-popup serves"
echo 0 > "$C/timeoutpop3d"
like "$(pop)" '^-ERR unable to read controls' "control/timeoutpop3d 0: qmail-popup refuses at the next connection"
rm -f "$C/timeoutpop3d"
like "$(pop)" '^\+OK ' "control/timeoutpop3d removed: served again"

# the cost: a child opens no kept control file
if command -v strace > /dev/null && [ "$(id -u)" = 0 ]; then
  P=$(free_port)
  ( cd "$HUB/service/qmail-smtpd" && exec strace -f -e trace=openat,open -o "$T/st" \
      "$HUB/bin/qmail-svcrun" ./env PERIP=10 PERIPTABLE="$T/perip" SERVE=1 SERVE_IP=127.0.0.1 \
      SERVE_PORT="$P" SERVE_RULES="$C/tcp.smtp.cdb" "$HUB/bin/qmail-smtpd" 2> "$T/st.log" ) &
  _pids+=($!)
  wait_until grep -qs 'status: 0/' "$T/st.log"
  : > "$T/perip"
  for i in 1 2 3; do greeting_p=$(SMTP=$P chat QUIT | sed -n 1p); done
  like "$greeting_p" '^220 hub\.example\.org ESMTP$' "a listener of our own serves"
  child=$(sed -n 's/.*ok \([0-9]*\) 0:.*/\1/p' "$T/st.log" | tail -n 1)
  n=$(grep -c "^$child .*/control/\(me\|rcpthosts\|databytes\|timeoutsmtpd\|maxsmtpline\|badmailfrom\)\"" "$T/st" || true)
  is "$n" 0 "the third session's child opened none of the kept control files"
  n=$(grep -c "/control/me\"" "$T/st" || true)
  is "$n" 1 "the listener read control/me once for three connections"
  # a session held open: its child has no inotify descriptor of the listener
  before=$(grep -c ' ok [0-9]* 0:' "$T/st.log")
  python3 -c 'import socket,sys,time; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),30); s.recv(100); time.sleep(3)' "$P" &
  hold=$!
  more_ok() { [ "$(grep -c ' ok [0-9]* 0:' "$T/st.log")" -gt "$before" ]; }
  wait_until more_ok
  child=$(sed -n 's/.*ok \([0-9]*\) 0:.*/\1/p' "$T/st.log" | tail -n 1)
  fds=$(ls -l "/proc/$child/fd" 2>/dev/null | sed -n 's/.*-> //p' | tr '\n' ' ')
  echo "# the held session's descriptors: $fds"
  like "$fds" 'socket' "the held session's child is found"
  case $fds in *inotify*) r=1 ;; *) r=0 ;; esac
  ok $r "no inotify descriptor in the session's child"
  wait "$hold"
  kill $(cat "/proc/${_pids[-1]}/task/${_pids[-1]}/children") 2>/dev/null   # the listener; strace ends with it
  wait "${_pids[-1]}" 2>/dev/null
else
  for i in 1 2 3 4 5; do ok 0 "# skip no strace or not root"; done
fi
done_testing
