#!/bin/bash
# pop3.t: POP3 on an installed hub (issue 13): qmail-popup, the installed
# qmail-checkpassword and qmail-pop3d, as the services qmail-pop3d (STLS)
# and qmail-pop3s (POP3S=1), on random loopback ports. Mail for alice
# arrives over SMTP and qmail-local (the whole path), then:
#  - as installed: both services down, env/CHECKPASSWORD, control/tcp.pop3
#  - python poplib fetches over plain POP3 (loopback), STLS and POP3S; a
#    1 MB message through the TLS relay arrives whole
#  - fetchmail (keep + uidl: a second run gets nothing twice, a new
#    message alone; then without keep: deleted) and getmail6 (POP3S and
#    plain; read_all off: nothing twice; delete)
#  - USER/PASS/AUTH in the clear refused with AUTH_CLEARTEXT_LOOPBACK 0
#    (and CAPA offers no USER) until STLS; STLS offered only outside TLS
#  - bytes pipelined after STLS in the clear are discarded
#  - wrong passwords: the same reply for an unknown login, delays that
#    grow, the drop after control/authfailures, log lines with the address
#    and never the password
#  - a line over the cap, NUL, commands before login, too many commands,
#    a client that stalls in the TLS handshake (POP3S and STLS: the
#    deadline holds), a client that never QUITs (nothing deleted)
#  - as root, before the login (POP3S and plain) the process that does the
#    handshake and reads the commands has qmaild's ids and the root parent
#    reads nothing; after a TLS login the relay is that qmaild process
. "$(dirname "$0")/../lib/common.sh"
# a long script (about 100 s, several clients, deliberate delays and
# timeouts): a wait budget of its own, doubled for the sanitizer build
case $BUILD in *-san) : "${HUB_BUDGET:=1200}" ;; *) : "${HUB_BUDGET:=600}" ;; esac
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }
command -v openssl > /dev/null || { echo "1..0 # skip no openssl (make deps)"; exit 0; }
[ -x "$SRCDIR/$BUILD/hub/qmail-popup" ] && [ -x "$SRCDIR/$BUILD/hub/qmail-pop3d" ] ||
  { echo "Bail out! qmail-popup or qmail-pop3d is not built in $SRCDIR/$BUILD"; exit 1; }

hub_install; ok $? "make install makes a hub home"
for s in qmail-pop3d qmail-pop3s; do
  ok "$([ -e "$HUB/service/$s/down" ]; echo $?)" "$s is installed down"
  is "$(cat "$HUB/service/$s/env/CHECKPASSWORD")" "$HUB/bin/qmail-checkpassword" \
    "$s: env/CHECKPASSWORD names qmail-checkpassword"
  echo 127.0.0.1 > "$HUB/service/$s/env/IP"; _port > "$HUB/service/$s/env/PORT"
  rm -f "$HUB/service/$s/down"
done
like "$(cat "$HUB/control/tcp.pop3")" "^:allow$" "control/tcp.pop3 allows everyone"
grep -q "POP3S=1" "$HUB/service/qmail-pop3s/run"; ok $? "qmail-pop3s runs with POP3S=1"
hub_user alice
hub_newu
PW=Pop-$RANDOM-sesame
printf '%s\n' "$PW" | "$HUB/bin/qmail-passwd" --stdin alice "$RUID" "$RGID" "$T/home/alice" > "$T/passwd.log" 2>&1
ok $? "qmail-passwd --stdin alice"
printf '300\n' > "$HUB/control/authdelay"
printf '3\n' > "$HUB/control/authfailures"
hub_start; ok $? "hub started"
P3=$(cat "$HUB/service/qmail-pop3d/env/PORT") P3S=$(cat "$HUB/service/qmail-pop3s/env/PORT")   # maybe picked again
listening() { python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.5)" 2>/dev/null; }
wait_until listening "$P3"; ok $? "qmail-pop3d listens"
wait_until listening "$P3S"; ok $? "qmail-pop3s listens"
MD=$T/home/alice/Maildir
slog() { cat "$HUB"/log/"$1"/@* "$HUB/log/$1/current" 2>/dev/null; }
alllogs() { cat "$HUB"/log/*/@* "$HUB"/log/*/current 2>/dev/null; }
drive() { python3 "$SRCDIR/tests/lib/popupdrive.py" "$@" 2>&1; }
# mail NAME...: one message to alice per name (Subject: NAME), over SMTP
# and qmail-local; waits until they are all in her Maildir
mail() {
  local n want
  want=$(( $(nfiles "$MD/new") + $(nfiles "$MD/cur") + $# ))
  for n in "$@"; do
    printf 'Subject: %s\n\nbody of %s\n' "$n" "$n" | send "bob@example.org" "alice@$ME" || return 1
  done
  wait_until eval '[ $(( $(nfiles "$MD/new") + $(nfiles "$MD/cur") )) -ge '"$want"' ]'
}
inbox() { echo $(( $(nfiles "$MD/new") + $(nfiles "$MD/cur") )); }

# ---- python poplib: plain, STLS, POP3S ------------------------------------
mail one two three; ok $? "three messages delivered to alice by qmail-local"
cat > "$T/pl.py" <<'PY'
import poplib, ssl, sys
mode, port, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl._create_unverified_context()
if mode == "pop3s":
    p = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=30)
else:
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    if mode == "stls":
        p.stls(context=ctx)
p.user("alice")
p.pass_(pw)
n, size = p.stat()
subj = []
for i in range(1, n + 1):
    lines = p.retr(i)[1]
    subj += [l.decode()[9:] for l in lines if l.startswith(b"Subject: ")]
    if sys.argv[4:] == ["dele"]:
        p.dele(i)
print(mode, n, " ".join(sorted(subj)), len(p.uidl()[1]))
p.quit()
PY
is "$(python3 "$T/pl.py" plain "$P3" "$PW" 2>&1)" "plain 3 one three two 3" "poplib, plain from loopback: 3 messages"
is "$(python3 "$T/pl.py" stls "$P3" "$PW" 2>&1)" "stls 3 one three two 3" "poplib with STLS: the same"
is "$(python3 "$T/pl.py" pop3s "$P3S" "$PW" 2>&1)" "pop3s 3 one three two 3" "poplib POP3_SSL on the POP3S port: the same"
like "$(slog qmail-pop3d)" "qmail-popup: info: login ok: 127\.0\.0\.1 login=\"alice\" TLS" "a login is logged with the address"

# ---- a 1 MB message through the TLS relay ----------------------------------
python3 - "$T/big" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("Subject: big\n\n")
    for i in range(16384):
        f.write(".%063d\n" % i)   # a leading dot on every line: byte-stuffed
PY
send "bob@example.org" "alice@$ME" < "$T/big"; ok $? "a 1 MB message (every line starting with a dot) sent"
wait_until eval '[ "$(inbox)" -ge 4 ]'
cat > "$T/big.py" <<'PY'
import hashlib, poplib, ssl, sys
port, pw, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl._create_unverified_context()
if mode == "pop3s":
    p = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=30)
else:
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.stls(context=ctx)
p.user("alice"); p.pass_(pw)
for i in range(1, p.stat()[0] + 1):
    lines = p.retr(i)[1]
    if b"Subject: big" in lines:
        body = lines[lines.index(b"") + 1:]
        print(len(body), all(l == (".%063d" % k).encode() for k, l in enumerate(body)))
p.quit()
PY
is "$(python3 "$T/big.py" "$P3" "$PW" stls 2>&1)" "16384 True" "RETR of 1 MB over STLS: every line back, unstuffed"
is "$(python3 "$T/big.py" "$P3S" "$PW" pop3s 2>&1)" "16384 True" "and over POP3S"

# ---- fetchmail: keep + uidl across runs, then delete -----------------------
if command -v fetchmail > /dev/null; then
  mkdir -p "$T/fm"; chmod 700 "$T/fm"
  # fm NAME SERVER USER: a run of fetchmail with those server and user
  # options; the messages it delivers are appended to $T/fm/NAME.out, the
  # UIDs it has seen kept in $T/fm/NAME.ids; its exit code
  fm() {
    printf 'set no syslog\nset no bouncemail\npoll 127.0.0.1 service %s protocol pop3 %s\n  user alice password "%s" mda "cat >> %s" %s\n' \
      "$2" "$3" "$PW" "$T/fm/$1.out" "$4" > "$T/fm/rc"
    chmod 600 "$T/fm/rc"
    HOME=$T/fm fetchmail -f "$T/fm/rc" -i "$T/fm/$1.ids" --pidfile "$T/fm/pid" > "$T/fm/$1.log" 2>&1
  }
  nsub() { grep -c '^Subject: ' "$T/fm/$1.out" 2>/dev/null || echo 0; }
  stls="sslproto TLS1.2+ no sslcertck"
  fm stls "$P3" uidl "keep $stls"; ok $? "fetchmail over STLS, keep + uidl: mail fetched"
  like "$(cat "$T/fm/stls.log")" "4 messages for alice" "fetchmail saw the 4 messages"
  is "$(nsub stls)" 4 "and delivered 4"
  fm stls "$P3" uidl "keep $stls"; is $? 1 "fetchmail again: nothing new (exit 1)"
  is "$(nsub stls)" 4 "nothing fetched twice"
  mail four; fm stls "$P3" uidl "keep $stls"; ok $? "a new message: fetchmail gets it"
  is "$(nsub stls)" 5 "only the new one"
  is "$(inbox)" 5 "all still on the server (keep)"
  fm pop3s "$P3S" "" "keep ssl no sslcertck"; ok $? "fetchmail over POP3S"
  is "$(nsub pop3s)" 5 "5 messages over POP3S"
  fm plain "$P3" "" "keep sslproto ''"; ok $? "fetchmail over plain POP3 from loopback"
  is "$(nsub plain)" 5 "5 messages in the clear"
  fm del "$P3" "" "$stls"; ok $? "fetchmail over STLS without keep"
  is "$(nsub del)" 5 "5 messages"
  is "$(inbox)" 0 "fetchmail deleted them on the server"
else
  dep_missing 17 "fetchmail"
fi

# ---- getmail6 --------------------------------------------------------------
if command -v getmail > /dev/null; then
  mail g1 g2
  mkdir -p "$T/gm/new" "$T/gm/cur" "$T/gm/tmp" "$T/gmd"
  # as root getmail delivers as another user only: nobody, owning $T/gm
  asuser=""; [ "$(id -u)" = 0 ] && { asuser="user = $(id -un 65534)"; chown -R 65534 "$T/gm"; }
  # gm TYPE PORT EXTRA: one getmail run into the Maildir $T/gm
  gm() {
    printf '[retriever]\ntype = %s\nserver = 127.0.0.1\nport = %s\nusername = alice\npassword = %s\n[destination]\ntype = Maildir\npath = %s/gm/\n%s\n[options]\nread_all = false\nverbose = 0\n%s\n' \
      "$1" "$2" "$PW" "$T" "$asuser" "$3" > "$T/gmd/rc"
    getmail --getmaildir "$T/gmd" --rcfile rc > "$T/gmd/log" 2>&1
  }
  gm SimplePOP3SSLRetriever "$P3S" "delete = false"; ok $? "getmail over POP3S (keep)"
  is "$(nfiles "$T/gm/new")" 2 "getmail got the 2 messages"
  gm SimplePOP3SSLRetriever "$P3S" "delete = false"; ok $? "getmail again"
  is "$(nfiles "$T/gm/new")" 2 "nothing twice (read_all off: its UIDL list)"
  gm SimplePOP3Retriever "$P3" "delete = true"; ok $? "getmail over plain POP3 from loopback, delete"
  is "$(inbox)" 0 "getmail deleted them on the server"
else
  dep_missing 6 "getmail6"
fi

# ---- the dialogue before the login -------------------------------------------
out=$(drive "$P3" 127.0.0.1 CAPA STAT "PASS x" "APOP alice 0123456789abcdef0123456789abcdef" \
  "USER alice" NOOP "PASS $PW" STAT QUIT)
line() { printf '%s\n' "$out" | sed -n "$1p"; }
is "$(line 1)" "+OK $ME POP3 ready" "the greeting: no APOP timestamp"
is "$(line 2)" "+OK capability list follows|USER|SASL PLAIN|STLS|TOP|UIDL" \
  "CAPA (loopback, in the clear): USER, SASL PLAIN, STLS, TOP, UIDL"
is "$(line 3)" "-ERR authorization first" "STAT before the login: -ERR"
is "$(line 4)" "-ERR USER first" "PASS before USER: -ERR"
like "$(line 5)" "^-ERR APOP is not supported" "APOP: -ERR (only hashes are stored)"
is "$(line 6)" "+OK " "USER: +OK"
is "$(line 7)" "-ERR authorization first" "NOOP before the login: -ERR, USER kept"
like "$(line 8)" "^\+OK" "PASS: qmail-pop3d's +OK"
like "$(line 9)" "^\+OK 0 0$" "STAT: qmail-pop3d answers (the mailbox is empty)"
out=$(drive "$P3S" 127.0.0.1 -s CAPA STLS QUIT)
is "$(line 2)" "+OK capability list follows|USER|SASL PLAIN|TOP|UIDL" "POP3S: CAPA offers no STLS"
is "$(line 3)" "-ERR authorization first" "and STLS is unknown there"
out=$(drive "$P3" 127.0.0.1 +stls STLS "AUTH PLAIN [[%alice%$PW]]" STAT QUIT)
is "$(line 4)" "-ERR TLS is already active" "STLS twice: -ERR"
like "$(line 5)" "^\+OK" "AUTH PLAIN with an initial response (RFC 5034): logged in"
out=$(drive "$P3" 127.0.0.1 "AUTH PLAIN" "[[alice%alice%$PW]]" STAT QUIT)
is "$(line 2)" "+ " "AUTH PLAIN without one: the '+ ' prompt"
like "$(line 3)" "^\+OK" "the response with an authzid equal to the login: logged in"
out=$(drive "$P3" 127.0.0.1 "AUTH PLAIN" "*" "AUTH CRAM-MD5" QUIT)
is "$(line 3)" "-ERR authentication cancelled" "'*' cancels"
is "$(line 4)" "-ERR unrecognized authentication type" "other mechanisms: -ERR"

# ---- bytes pipelined after STLS -----------------------------------------------
out=$(drive "$P3" 127.0.0.1 "+stlspipe:USER alice" "PASS $PW" "USER alice" "PASS $PW" STAT QUIT)
is "$(line 3)" "tls" "STLS with USER pipelined behind it in the clear: the handshake works"
is "$(line 4)" "-ERR USER first" "the pipelined USER was discarded, never executed inside TLS"
like "$(line 6)" "^\+OK" "USER and PASS inside TLS: logged in"

# ---- wrong passwords ---------------------------------------------------------
: > "$T/mark"
out=$(drive "$P3" 127.0.0.1 "USER alice" "+t:PASS wrong-$PW-1" "USER nosuchuser" "+t:PASS wrong-$PW-2" \
  "USER alice" "+t:PASS wrong-$PW-3" STAT)
t1=$(line 3 | cut -d' ' -f1) t2=$(line 5 | cut -d' ' -f1) t3=$(line 7 | cut -d' ' -f1)
is "$(line 3 | cut -d' ' -f2-)" "-ERR authorization failed" "a wrong password: -ERR authorization failed"
is "$(line 5 | cut -d' ' -f2-)" "-ERR authorization failed" "an unknown login: the same reply"
like "$(line 7 | cut -d' ' -f2-)" "^-ERR authorization failed, too many failures" "the third failure: dropped"
is "$(line 8)" "closed" "and the connection is closed"
ok "$(awk -v a="$t1" -v b="$t2" -v c="$t3" 'BEGIN { exit !(a >= 0.3 && b >= 0.6 && c >= 1.2) }'; echo $?)" \
  "the delays grow: $t1 >= 0.3, $t2 >= 0.6, $t3 >= 1.2 s (control/authdelay 300 ms, doubled)"
is "$(slog qmail-pop3d | grep -c 'qmail-popup: refused: 127\.0\.0\.1 pass -ERR - reason="authorization failed')" 3 \
  "each failure is logged with the client's address"
is "$(alllogs | grep -c -e "wrong-$PW" -e "$PW" -e nosuchuser)" 0 "no password and no refused login in any log"

# ---- caps --------------------------------------------------------------------
out=$(drive "$P3" 127.0.0.1 "+long:5000:USER " NOOP)
is "$(line 2)" "-ERR line too long" "a 5000-byte line: -ERR"
is "$(line 3)" "closed" "and the connection is closed"
out=$(drive "$P3" 127.0.0.1 '+raw:USER ali\x00ce' QUIT)
is "$(line 2)" "-ERR NUL in command" "a NUL in a command: -ERR"
set -- ; for i in $(seq 31); do set -- "$@" NOOP; done
out=$(drive "$P3" 127.0.0.1 "$@")
is "$(line 31)" "-ERR authorization first" "30 commands without a login are answered"
is "$(line 32)" "-ERR too many commands without a login" "the 31st: dropped"

# ---- stalls and deadlines ---------------------------------------------------
echo 2 > "$HUB/control/timeoutpop3d"
cat > "$T/stall.py" <<'PY'
import socket, sys, time
port, how = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), 30)
t0 = time.time()
if how == "stls":
    s.sendall(b"STLS\r\n")
    buf = b""
    while b"\n" not in buf[buf.find(b"\n") + 1:]:
        buf += s.recv(1000)
# a ClientHello's first bytes, then one byte a second: the handshake
# never completes
hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40
try:
    for b in hello:
        s.sendall(bytes([b]))
        s.settimeout(1)
        try:
            if s.recv(100) == b"":
                break
        except socket.timeout:
            pass
except OSError:
    pass
print("%.1f" % (time.time() - t0))
PY
t=$(python3 "$T/stall.py" "$P3S" pop3s)
ok "$(awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t < 15) }'; echo $?)" \
  "POP3S: a handshake trickled a byte a second is cut off after about one timeout ($t s)"
t=$(python3 "$T/stall.py" "$P3" stls)
ok "$(awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t < 15) }'; echo $?)" "after STLS the same ($t s)"
like "$(slog qmail-pop3s)" "qmail-popup: refused: 127\.0\.0\.1 pop3s - - reason=\"TLS handshake: timeout\"" \
  "the stalled handshake is logged"
out=$(drive "$P3" 127.0.0.1 +stls "USER alice" "PASS $PW" +waitclose)
t=$(line 6 | sed -n 's/^closed after \([0-9.]*\) s$/\1/p')
ok "$(awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t < 6) }'; echo $?)" \
  "an idle session inside TLS ends when qmail-pop3d's timeoutpop3d (2 s) ends it (${t:-?} s)"
rm "$HUB/control/timeoutpop3d"
echo 4 > "$HUB/control/timeoutsession"
out=$(drive "$P3" 127.0.0.1 +stls "USER alice" "PASS $PW" +sleep:1.5 NOOP +sleep:1.5 NOOP +sleep:1.5 NOOP +sleep:1.5 NOOP)
like "$out" "closed" "the session deadline (control/timeoutsession 4) ends a TLS session that goes on"
# outside TLS qmail-popup only waits for its child: at the deadline it
# kills it (here a subprogram that never ends, run directly on pipes)
cat > "$T/deadline.py" <<'PY'
import subprocess, sys, time
hub, me, pw = sys.argv[1:4]
t0 = time.time()
p = subprocess.Popen([hub + "/bin/qmail-popup", me, hub + "/bin/qmail-checkpassword", "/bin/sleep", "60"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     env={"TCPREMOTEIP": "127.0.0.1"})
p.stdin.write(("USER alice\r\nPASS %s\r\n" % pw).encode()); p.stdin.flush()
try:
    out, err = p.communicate(timeout=30)
    print("%.1f %d %s" % (time.time() - t0, p.returncode, "deadline" if b"session deadline" in err else err))
except subprocess.TimeoutExpired:
    p.kill(); print("still running after 30 s")
PY
echo 3 > "$HUB/control/timeoutsession"
out=$(python3 "$T/deadline.py" "$HUB" "$ME" "$PW" 2>&1)
like "$out" " 111 deadline$" "outside TLS the child is killed at the session deadline: exit 111, logged ($out)"
ok "$(awk -v t="${out%% *}" 'BEGIN { exit !(t >= 2.5 && t < 10) }'; echo $?)" "after about 3 s"
rm "$HUB/control/timeoutsession"

# ---- a client that never QUITs -------------------------------------------
mail keep1 keep2; ok $? "two more messages for alice"
out=$(drive "$P3" 127.0.0.1 "USER alice" "PASS $PW" "DELE 1" +drop)
like "$(line 4)" "^\+OK" "plain: DELE 1 accepted"
out=$(drive "$P3" 127.0.0.1 +stls "USER alice" "PASS $PW" "DELE 2" +drop)
like "$(line 6)" "^\+OK" "STLS: DELE 2 accepted"
sleep 1
is "$(inbox)" 2 "both sessions ended without QUIT: nothing deleted"
out=$(drive "$P3" 127.0.0.1 +stls "USER alice" "PASS $PW" "DELE 1" QUIT)
wait_until eval '[ "$(inbox)" = 1 ]'; ok $? "with QUIT the DELE is done (through the relay)"

# ---- privileges: who reads the client ---------------------------------------
# roles: one line per qmail-popup process of this hub, "ROLE UID RCHAR"
# sorted: ROLE parent for the one the listener forked, child for one that
# qmail-popup forked; RCHAR its bytes read so far (/proc/PID/io)
roles() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$HUB/bin/qmail-popup" ] || continue
    # the service's listener (SERVE=1, hub/servers/srvfork.h; its children
    # show the same exec-time environ, but have a qmail-popup parent) is
    # tcpserver's part
    tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx 'SERVE=1' &&
      [ "$(readlink "/proc/$(awk '/^PPid:/ { print $2 }' "$p/status")/exe" 2>/dev/null)" != "$HUB/bin/qmail-popup" ] &&
      continue
    echo "${p#/proc/} $(awk '/^PPid:/ { pp = $2 } /^Uid:/ { u = $2 } END { print pp, u }' "$p/status") $(awk '/^rchar:/ { print $2 }' "$p/io")"
  done 2>/dev/null | awk '{ pid[$1] = 1; l[NR] = $0 }
    END { for (i = 1; i <= NR; ++i) { split(l[i], f, " "); print (f[2] in pid ? "child" : "parent"), f[3], f[4] } }' | sort
}
held() { sed -n "$1p" "$T/held" | grep -q '^+OK'; }
col() { awk -v r="$1" -v c="$2" '$1 == r { print $c }' "$3"; }
QD=$(id -u qmaild 2>/dev/null)
# a client in the AUTHORIZATION state over POP3S and plain (4 s between
# the greeting and CAPA: time enough for the first look, even loaded): the TLS
# handshake, CAPA and USER are done by a process with qmaild's ids; the
# root parent reads nothing meanwhile
for mode in pop3s plain; do
  if [ $mode = pop3s ]; then set -- "$P3S" 127.0.0.1 -s; else set -- "$P3" 127.0.0.1; fi
  PYTHONUNBUFFERED=1 drive "$@" +sleep:4 CAPA "USER alice" +sleep:4 QUIT > "$T/held" &
  hold=$!
  wait_until held 1; roles > "$T/r1"
  wait_until held 3; roles > "$T/r2"
  wait "$hold"
  if [ "$(id -u)" = 0 ]; then
    is "$(awk '{ print $1, $2 }' "$T/r2" | tr '\n' ' ')" "child $QD parent 0 " \
      "$mode, before the login: the process that reads the client runs as qmaild; only the idle parent is root"
    is "$(col parent 3 "$T/r2")" "$(col parent 3 "$T/r1")" "$mode: the root parent read nothing while CAPA and USER were read"
    ok "$([ "$(col child 3 "$T/r2")" -gt "$(col child 3 "$T/r1")" ]; echo $?)" "$mode: the qmaild child read them"
  else
    is "$(awk '{ print $1, $2 }' "$T/r2" | tr '\n' ' ')" "parent $(id -u) " "$mode, as a normal user: one process, the user's"
    ok 0 "# skip nothing to drop as a normal user"; ok 0 "# skip nothing to drop as a normal user"
  fi
done
# after a TLS login: the relay is the qmaild child, the parent only waits
PYTHONUNBUFFERED=1 drive "$P3" 127.0.0.1 +stls "USER alice" "PASS $PW" +sleep:5 QUIT > "$T/held" &
hold=$!
wait_until held 5
roles > "$T/r2"
wait "$hold"
if [ "$(id -u)" = 0 ]; then
  is "$(awk '{ print $1, $2 }' "$T/r2" | tr '\n' ' ')" "child $QD parent 0 " \
    "as root, the relay after a TLS login runs as qmaild (the root parent waits for qmail-pop3d)"
else
  is "$(awk '{ print $1, $2 }' "$T/r2" | tr '\n' ' ')" "parent $(id -u) " "as a normal user, the relay runs as that user"
fi

# ---- no USER/PASS in the clear with AUTH_CLEARTEXT_LOOPBACK 0; PERIP ---------
hub_stop
echo 0 > "$HUB/service/qmail-pop3d/env/AUTH_CLEARTEXT_LOOPBACK"
echo 1 > "$HUB/service/qmail-pop3s/env/PERIP"
hub_start; ok $? "hub restarted with AUTH_CLEARTEXT_LOOPBACK 0 for qmail-pop3d, PERIP 1 for qmail-pop3s"
P3=$(cat "$HUB/service/qmail-pop3d/env/PORT") P3S=$(cat "$HUB/service/qmail-pop3s/env/PORT")   # maybe picked again
wait_until listening "$P3"; wait_until listening "$P3S"
PYTHONUNBUFFERED=1 drive "$P3S" 127.0.0.1 -s +sleep:8 QUIT > "$T/held" &
hold=$!
wait_until held 1
out=$(drive "$P3S" 127.0.0.1 -s QUIT)
wait "$hold"
like "$(line 1)" "^closed|^connect failed: .*(EOF|reset)" "PERIP 1: a second POP3S connection from the address is closed (no cleartext reply there)"
like "$(slog qmail-pop3s)" "qmail-popup: refused: 127\.0\.0\.1 connect - .*too many connections" "and logged"
out=$(drive "$P3S" 127.0.0.1 -s QUIT)
like "$(line 1)" "^\+OK" "once the first has gone, the next is served"
out=$(drive "$P3" 127.0.0.1 CAPA "USER alice" "PASS $PW" "AUTH PLAIN [[%alice%$PW]]" +stls CAPA "USER alice" "PASS $PW" STAT QUIT)
is "$(line 2)" "+OK capability list follows|STLS|TOP|UIDL" "CAPA in the clear offers no USER, no SASL"
like "$(line 3)" "^-ERR login only after STLS" "USER in the clear: -ERR"
like "$(line 4)" "^-ERR login only after STLS" "PASS in the clear: -ERR"
like "$(line 5)" "^-ERR login only after STLS" "AUTH in the clear: -ERR"
is "$(line 8)" "+OK capability list follows|USER|SASL PLAIN|TOP|UIDL" "after STLS: USER, no STLS"
like "$(line 10)" "^\+OK" "and the login works"
like "$(slog qmail-pop3d)" "refused: 127\.0\.0\.1 user -ERR - reason=\"login only after STLS" "the refusal is logged"
python3 "$T/pl.py" plain "$P3" "$PW" > "$T/pl.out" 2>&1
like "$(cat "$T/pl.out")" "login only after STLS" "poplib's plain login is refused"
like "$(python3 "$T/pl.py" stls "$P3" "$PW" 2>&1)" "^stls 1 keep[12] 1$" "poplib with STLS logs in (keep1 or keep2 left: two messages of one second sort by name)"
# ---- control/tcp.pop3 and qmailctl check ---------------------------------
unlike() { like "$(printf '%s' "$1" | grep -cE -- "$2")" '^0$' "$3"; }
unlike "$("$HUB/bin/qmailctl" check 2>&1)" "tcp\.pop3" "qmailctl check: nothing to say about tcp.pop3"
if python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null; then
  sleep 1; printf '127.0.0.2:deny\n:allow\n' > "$HUB/control/tcp.pop3"
  like "$("$HUB/bin/qmailctl" check 2>&1)" "tcp\.pop3\.cdb: older than control/tcp\.pop3" \
    "qmailctl check: tcp.pop3.cdb older than its source"
  "$HUB/bin/qmailctl" cdb > /dev/null 2>&1; ok $? "qmailctl cdb compiles control/tcp.pop3"
  is "$(drive "$P3" 127.0.0.2 QUIT | head -1)" "closed" "a client tcp.pop3 denies gets nothing"
  like "$(drive "$P3" 127.0.0.1 QUIT | head -1)" "^\+OK" "the others are served"
else
  ok 0 "# skip cannot bind 127.0.0.2"; ok 0 "# skip"; ok 0 "# skip"; ok 0 "# skip"
fi
done_testing
