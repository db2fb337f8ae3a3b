#!/bin/bash
# netservers.t: qmail-qmqpd and qmail-qmtpd on loopback under tcpserver,
# with QMAILQUEUE=tests/lib/qq-record.sh. Covers: the leaf's qmail-qmqpc
# to both servers (K, a relay refusal mixed with an accepted recipient, a
# queue Z passed back), the installed databytes refusing a 51 MB message,
# a 200 MB message through qmqpd (with databytes 0) with the server's
# peak RSS flat, pipelined QMTP packages from python
# (all written before reading, and one at a time waiting for the reply
# without closing: replies are flushed before the server blocks), the
# per-read timeouts (control/timeoutqmqpd, timeoutqmtpd) and the total
# session deadline (timeoutsession) against a slow-loris client.
# Every server is started here with `tcpserver -1` and killed by pid; every
# wait is bounded. TAP on stdout.
. "$(dirname "$0")/../lib/common.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QMQPD=$B/hub/qmail-qmqpd
QMTPD=$B/hub/qmail-qmtpd
QMQPC=$B/leaf/qmail-qmqpc
if [ ! -x "$QMQPD" ] || [ ! -x "$QMTPD" ] || [ ! -x "$QMQPC" ] || ! command -v tcpserver >/dev/null; then
  echo "1..0 # skip servers, qmail-qmqpc or tcpserver missing"; exit 0
fi

HUB=$T/hub LEAF=$T/leaf QQ=$T/qq
mkdir -p "$HUB/control" "$LEAF/control" "$QQ"
# the servers read the control files of an installed hub (qmake install),
# so they run with the installed defaults (databytes 52428800 among them);
# only me and rcpthosts are this test's
if ! qmake install QMAILHOME="$T/inst" > "$T/install.log" 2>&1; then
  sed 's/^/# /' "$T/install.log"; echo "Bail out! qmake install failed"; exit 1
fi
cp -R "$T/inst/control/." "$HUB/control/"
printf 'hub.example.org\n' > "$HUB/control/me"
printf 'example.org\n' > "$HUB/control/rcpthosts"
printf 'leaf.example.org\n' > "$LEAF/control/me"

# serve NAME PROG: start tcpserver on a free loopback port; sets PORT, SPID.
serve() {
  local out=$T/port.$1 i
  rm -f "$out"   # a second server of the same name must not find the first one's port
  QMAILHOME=$HUB QMAILQUEUE=$SRCDIR/tests/lib/qq-record.sh QQ_OUT=$QQ \
    tcpserver -1 -HRl0 127.0.0.1 0 "${@:2}" > "$out" 2> "$T/tcpserver.$1.err" &
  SPID=$!; _pids+=("$SPID")
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  PORT=$(head -n 1 "$out")
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# client SERVERLINE: qmail-qmqpc with $T/msg on fd 0 and $T/env on fd 1;
# sets RC and FD6.
client() {
  printf '%s\n' "$1" > "$LEAF/control/qmqpservers"
  rm -f "$QQ"/*
  QMAILHOME=$LEAF timeout 120 "$QMQPC" < "$T/msg" 1< "$T/env" 6> "$T/fd6"
  RC=$?
  FD6=$(cat "$T/fd6")
}
envelope() { tr '\0' ' ' < "$QQ/envelope" 2>/dev/null; }

printf 'From: a@leaf.example.org\nSubject: hi\n\nhello\n' > "$T/msg"
printf 'Fa@leaf.example.org\0Tb@example.org\0Tc@example.org\0\0' > "$T/env"

# ---- the leaf client to both servers ----------------------------------------
serve qmqpd "$QMQPD"; QP_PID=$SPID; QP_PORT=$PORT
serve qmtpd "$QMTPD"; QT_PID=$SPID; QT_PORT=$PORT
like "$QP_PORT" '^[1-9][0-9]*$' "tcpserver -1 printed qmqpd's port ($QP_PORT)"
like "$QT_PORT" '^[1-9][0-9]*$' "tcpserver -1 printed qmtpd's port ($QT_PORT)"

client "127.0.0.1:$QP_PORT"
is "$RC" 0 "qmqpc -> qmqpd: exit 0"
is "$(envelope)" "Fa@leaf.example.org Tb@example.org Tc@example.org  " "qmqpd: envelope queued"
like "$(head -2 "$QQ/message" | tr '\n' ' ')" '^Received: from unknown \(unknown \[127\.0\.0\.1\]\)   by hub\.example\.org with QMQP; ' \
  "qmqpd: Received line with QMQP on top"
is "$(tail -n +3 "$QQ/message" | cmp - "$T/msg" && echo same)" same "qmqpd: message stored unchanged"

client "qmtp:127.0.0.1:$QT_PORT"
is "$RC" 0 "qmqpc -> qmtpd: exit 0"
is "$(envelope)" "Fa@leaf.example.org Tb@example.org Tc@example.org  " "qmtpd: envelope queued"
like "$(sed -n 2p "$QQ/message")" ' with QMTP; ' "qmtpd: Received line with QMTP"
is "$(tail -n +3 "$QQ/message" | cmp - "$T/msg" && echo same)" same "qmtpd: message stored unchanged"

printf 'Fa@leaf.example.org\0Tx@evil.test\0Tb@example.org\0\0' > "$T/env"
client "qmtp:127.0.0.1:$QT_PORT"
is "$RC" 82 "qmtpd relay refusal + accepted recipient: qmqpc exit 82"
like "$FD6" '^D1 of 2 recipients refused: x@evil\.test: .*\(#5\.7\.1\)$' "qmqpc reports the refused recipient"
is "$(envelope)" "Fa@leaf.example.org Tb@example.org  " "only the accepted recipient was queued"
stop "$QT_PID"

printf 'Fa@leaf.example.org\0Tb@example.org\0\0' > "$T/env"
stop "$QP_PID"
QQ_EXIT=71 serve qmqpd-z "$QMQPD"; QP_PID=$SPID
client "127.0.0.1:$PORT"
is "$RC" 82 "queue says 71: qmqpc exit 82"
like "$FD6" '^Z.*temporarily rejected.*\(#4\.3\.0\)$' "qmqpc gets qmqpd's Z text"
stop "$QP_PID"

# ---- the installed databytes refuses a bigger message ------------------------
is "$(cat "$HUB/control/databytes")" 52428800 "the installed control/databytes is 52428800"
# big_msg MB: a message of MB megabytes on stdout
big_msg() {
  python3 -c '
import sys
mb = int(sys.argv[1])
out = sys.stdout.buffer
out.write(b"Subject: big\n\n")
chunk = (b"x" * 1023 + b"\n") * 1024
for _ in range(mb):
    out.write(chunk)
' "$1"
}
serve qmqpd "$QMQPD"; QP_PID=$SPID
printf '%s\n' "127.0.0.1:$PORT" > "$LEAF/control/qmqpservers"
rm -f "$QQ"/*
big_msg 51 | QMAILHOME=$LEAF timeout 300 "$QMQPC" 1< "$T/env" 6> "$T/fd6" 2> /dev/null
RC=$?
is "$RC" 82 "51 MB message, installed databytes: qmqpc exit 82"
like "$(cat "$T/fd6")" '^D.*\(#5\.3\.4\)$' "51 MB message, installed databytes: refused for its size ($(head -c 100 "$T/fd6"))"
ok "$([ ! -e "$QQ/envelope" ]; echo $?)" "51 MB message, installed databytes: nothing queued"
stop "$QP_PID"

# ---- 200 MB through qmqpd: memory stays flat ----------------------------------
# With control/databytes 0 (no limit), written here: an installed hub would
# refuse it (above).
printf '0\n' > "$HUB/control/databytes"
# The server's peak memory is its ru_maxrss, read by a small C wrapper that
# waits for it (polling /proc missed a short-lived server on a loaded
# machine; a python wrapper would count its own image, copied by fork).
cat > "$T/maxrss.c" <<'C'
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
  struct rusage ru;
  char tmp[4096];
  FILE *f;
  int st = 0;
  pid_t pid;
  if (argc < 3) return 100;
  if ((pid = fork()) == 0) { execv(argv[2], argv + 2); _exit(127); }
  if (pid < 0 || waitpid(pid, &st, 0) < 0 || getrusage(RUSAGE_CHILDREN, &ru) < 0) return 111;
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  if (!(f = fopen(tmp, "w"))) return 111;
  fprintf(f, "%ld\n", ru.ru_maxrss);
  if (fclose(f) != 0 || rename(tmp, argv[1]) != 0) return 111;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 111;
}
C
cc -O -o "$T/maxrss" "$T/maxrss.c" || { echo "Bail out! cannot compile the maxrss wrapper"; exit 1; }
serve qmqpd "$T/maxrss" "$T/hwm" "$QMQPD"; QP_PID=$SPID; QP_PORT=$PORT
# big MB: send a message of MB megabytes through qmqpc; prints "RC HWM_KB"
# where HWM_KB is the server's peak resident size (with qmail-queue's).
big() {
  local mb=$1 rc i
  printf '%s\n' "127.0.0.1:$QP_PORT" > "$LEAF/control/qmqpservers"
  rm -f "$QQ"/* "$T/hwm"
  big_msg "$mb" | QMAILHOME=$LEAF timeout 300 "$QMQPC" 1< "$T/env" 2> /dev/null
  rc=$?
  for i in $(seq 600); do [ -s "$T/hwm" ] && break; sleep 0.05; done
  echo "$rc $(cat "$T/hwm" 2>/dev/null || echo 0)"
}
read -r RC1 HWM1 < <(big 32)
read -r RC200 HWM200 < <(big 200)
SIZE=$(stat -c %s "$QQ/message" 2>/dev/null)
is "$RC1" 0 "32 MB message: exit 0"
is "$RC200" 0 "200 MB message, databytes 0: exit 0"
ok "$([ "${SIZE:-0}" -gt $((200 * 1024 * 1024)) ]; echo $?)" "200 MB message: the queue got all of it ($SIZE bytes)"
LIMIT=16384; [ "$BUILD" != "${BUILD%san}" ] && LIMIT=131072
ok "$([ "$HWM200" -gt 0 ] && [ "$HWM200" -lt "$LIMIT" ]; echo $?)" "200 MB message: server VmHWM ${HWM200} KB < ${LIMIT} KB"
ok "$([ "$HWM1" -gt 0 ] && [ $((HWM200 - HWM1)) -lt 4096 ]; echo $?)" \
  "memory flat: VmHWM ${HWM1} KB for 32 MB, ${HWM200} KB for 200 MB"
rm -f "$QQ"/*
stop "$QP_PID"
cp "$T/inst/control/databytes" "$HUB/control/databytes"

# ---- pipelined QMTP from python ---------------------------------------------------
serve qmtpd "$QMTPD"; QT_PID=$SPID; QT_PORT=$PORT
cat > "$T/pipe.py" <<'EOF'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]

def ns(b):
    return b"%d:" % len(b) + b + b","

def pkg(i, rcpts):
    return ns(b"\nSubject: %d\n\nbody %d\n" % (i, i)) + ns(b"a@leaf.example.org") + \
        ns(b"".join(ns(r) for r in rcpts))

def replies(s, n, timeout):
    s.settimeout(timeout)
    buf, out = b"", []
    while len(out) < n:
        while True:
            i = buf.find(b":")
            if i < 0 or len(buf) < i + 1 + int(buf[:i]) + 1:
                break
            l = int(buf[:i])
            out.append(buf[i + 1:i + 1 + l][:1].decode())
            buf = buf[i + 2 + l:]
        if len(out) >= n:
            break
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return "".join(out)

s = socket.create_connection(("127.0.0.1", port), timeout=30)
if mode == "all":
    # every package written before any reply is read, then half-close
    n = int(sys.argv[3])
    data = b"".join(pkg(i, [b"b@example.org", b"x@evil.test"] if i % 10 == 3 else [b"b@example.org"])
                    for i in range(n))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    print(replies(s, n + n // 10 + 1, 60))
else:
    # one package at a time, waiting for its reply with the connection open
    got = []
    for i in range(3):
        t0 = time.time()
        s.sendall(pkg(i, [b"b@example.org"]))
        r = replies(s, 1, 5)
        got.append("%s%s" % (r, "" if time.time() - t0 < 4 else "(slow)"))
    print(" ".join(got))
EOF
N=50
OUT=$(timeout 120 python3 "$T/pipe.py" "$QT_PORT" all $N)
EXP=$(python3 -c "print(''.join('KD' if i % 10 == 3 else 'K' for i in range($N)))")
is "$OUT" "$EXP" "$N pipelined packages written before reading: one reply per recipient, in order"
OUT=$(timeout 60 python3 "$T/pipe.py" "$QT_PORT" wait)
is "$OUT" "K K K" "packages one at a time: each reply arrives while the connection stays open"
stop "$QT_PID"

# ---- timeouts and the session deadline ------------------------------------------------
cat > "$T/slow.py" <<'EOF'
import socket, sys, time
port, step, limit = int(sys.argv[1]), float(sys.argv[3]), float(sys.argv[4])
first = sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port), timeout=limit + 5)
t0 = time.time()
s.sendall(first)
got = b""
try:
    while time.time() - t0 < limit:
        if step > 0:
            s.sendall(b"x")   # a slow loris: one byte per step
            s.settimeout(step)
        else:
            s.settimeout(limit)
        try:
            d = s.recv(100)
        except socket.timeout:
            continue
        if not d:
            break
        got += d
except (BrokenPipeError, ConnectionResetError):
    pass
print("%.1f %s" % (time.time() - t0, got.decode() or "-"))
EOF
printf '1\n' > "$HUB/control/timeoutqmqpd"
printf '1\n' > "$HUB/control/timeoutqmtpd"
serve qmqpd "$QMQPD"; QP_PID=$SPID; QP_PORT=$PORT
serve qmtpd "$QMTPD"; QT_PID=$SPID; QT_PORT=$PORT
rm -f "$QQ"/*
read -r SECS GOT < <(python3 "$T/slow.py" "$QP_PORT" "100:5:hello" 0 20)
ok "$(awk -v s="$SECS" 'BEGIN { exit !(s >= 0.8 && s < 5) }'; echo $?)" "qmqpd: silent client dropped after timeoutqmqpd 1 s (${SECS} s)"
is "$GOT" "-" "qmqpd: no reply to a timed-out request"
ok "$([ ! -s "$QQ/envelope" ]; echo $?)" "qmqpd: nothing queued"
read -r SECS GOT < <(python3 "$T/slow.py" "$QT_PORT" "100:\nhello" 0 20)
ok "$(awk -v s="$SECS" 'BEGIN { exit !(s >= 0.8 && s < 5) }'; echo $?)" "qmtpd: silent client dropped after timeoutqmtpd 1 s (${SECS} s)"
stop "$QP_PID"; stop "$QT_PID"
rm -f "$HUB/control/timeoutqmqpd" "$HUB/control/timeoutqmtpd"
printf '2\n' > "$HUB/control/timeoutsession"
serve qmqpd "$QMQPD"; QP_PID=$SPID; QP_PORT=$PORT
serve qmtpd "$QMTPD"; QT_PID=$SPID; QT_PORT=$PORT
read -r SECS GOT < <(python3 "$T/slow.py" "$QP_PORT" "100000:99990:" 0.3 20)
ok "$(awk -v s="$SECS" 'BEGIN { exit !(s >= 1.5 && s < 6) }'; echo $?)" "qmqpd: slow loris cut at timeoutsession 2 s (${SECS} s)"
read -r SECS GOT < <(python3 "$T/slow.py" "$QT_PORT" "100000:\n" 0.3 20)
ok "$(awk -v s="$SECS" 'BEGIN { exit !(s >= 1.5 && s < 6) }'; echo $?)" "qmtpd: slow loris cut at timeoutsession 2 s (${SECS} s)"
stop "$QP_PID"; stop "$QT_PID"
rm -f "$HUB/control/timeoutsession"

done_testing
