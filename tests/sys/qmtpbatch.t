#!/bin/bash
# qmtpbatch.t: a pipelined QMTP batch is committed together (issue 14).
# An installed hub (tests/lib/hub.sh) with qmail-queued, qmail-qmtpd and
# qmail-qmtps; bin/qmail-queue wrapped to count its runs (as queued.t);
# tcp.qmtp without the install's relay for 127. (a package to another
# domain is refused alone); the client is tests/lib/qmtpblast.py (many
# packages over one connection, one recipient each, Message-ID <TAG.i@..>):
#  1. 200 packages written at once: 200 K replies, all 200 delivered, no
#     qmail-queue run, and qmail-queued made fewer syncfs calls (strace)
#     than there were packages: each package's message went to the daemon
#     without waiting for the one before to be committed;
#  2. relay refusals in the middle of 60: those packages get their own D
#     in their place, the others K and delivered;
#  3. QMTPS: 100 packages inside TLS, as 1;
#  4. qmail-queued stopped (SIGSTOP) while the client sends 40 more
#     packages after 10 answered ones, then killed: the packages held in
#     qmail-qmtpd's window get Z (qq crashed), the ones after them K by
#     bin/qmail-queue (one run each); every K'd message is delivered;
#  5. the fallback with no daemon: 20 more pipelined packages, all K, 20
#     qmail-queue runs, all delivered.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }
diag() { echo "# $*"; }

QMTP=x
hub_install
hub_user alice
hub_newu
printf ':allow\n' > "$HUB/control/tcp.qmtp"   # no relay by address, even from 127.
"$HUB/bin/qmailctl" cdb > /dev/null 2>&1
RUNS=$HUB/qqruns
: > "$RUNS"; chmod 666 "$RUNS"
mv "$HUB/bin/qmail-queue" "$HUB/bin/qmail-queue.real"
printf '#!/bin/sh\necho run >> %s\nexec %s "$@"\n' "$RUNS" "$HUB/bin/qmail-queue.real" > "$HUB/bin/qmail-queue"
chmod 755 "$HUB/bin/qmail-queue"
runs() { wc -l < "$RUNS" | tr -d ' '; }
rm "$HUB/service/qmail-qmtps/down"
hub_start || { echo "Bail out! hub did not start"; exit 1; }
QPS=$(cat "$HUB/service/qmail-qmtps/env/PORT")
SOCK=$HUB/qq/socket
MD=$T/home/alice/Maildir/new
wait_until [ -S "$SOCK" ]; ok $? "qmail-queued is listening"
QDPID=$(pgrep -x qmail-queued | while read -r p; do
  [ "$(readlink "/proc/$p/cwd")" = "$HUB/queue" ] && echo "$p"; done | head -1)
ok "$([ -n "$QDPID" ]; echo $?)" "qmail-queued of this hub found (pid ${QDPID:-none})"
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$QPS),0.5)" 2>/dev/null

# blast PORT N TAG [ARGS]: qmtpblast.py's JSON line into $T/TAG.json
blast() {
  timeout 300 python3 "$SRCDIR/tests/lib/qmtpblast.py" "$1" "$2" --tag "$3" --size 1024 \
    --rcpt "alice@$ME" "${@:4}" > "$T/$3.json"
}
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/$1.json" "$2"; }
# ids TAG: the distinct packages of TAG delivered, as sorted indexes
ids() { grep -rhoE "^Message-ID: <$1\.[0-9]+@qmtpblast>" "$MD" 2>/dev/null | sed -E 's/.*\.([0-9]+)@.*/\1/' | sort -nu; }
nids() { ids "$1" | wc -l | tr -d ' '; }
nids_ge() { [ "$(nids "$1")" -ge "$2" ]; }
rep() { printf "%${2}s" "" | tr ' ' "$1"; }   # rep K 3: KKK
# traced TAG CMD...: CMD with qmail-queued's syncfs calls counted into
# SYNCS ("" when strace cannot attach here)
traced() {
  local st="" tag=$1
  shift
  SYNCS=""
  if command -v strace > /dev/null; then
    strace -f -e trace=syncfs -o "$T/syncfs.$tag" -p "$QDPID" 2> /dev/null & st=$!
    sleep 1
    kill -0 "$st" 2> /dev/null || st=""
  fi
  "$@"
  [ -n "$st" ] || return 0
  sleep 0.5
  kill "$st"; wait "$st" 2> /dev/null
  SYNCS=$(grep -c 'syncfs(' "$T/syncfs.$tag")
}
fewer() { # TAG N: the syncfs check of a traced run of N packages
  if [ -z "$SYNCS" ]; then ok 0 "# skip strace cannot attach to qmail-queued here"; return; fi
  diag "$1: qmail-queued made $SYNCS syncfs calls for $2 packages"
  ok "$([ "$SYNCS" -gt 0 ] && [ "$SYNCS" -le $(($2 / 2)) ]; echo $?)" \
    "$1: the batch was committed together: $SYNCS syncfs calls for $2 packages (at most $(($2 / 2)))"
}

# ---- 1. 200 pipelined packages -----------------------------------------------
traced g blast "$QMTP" 200 g --window 0
is "$(field g seq)" "$(rep K 200)" "200 packages written at once: 200 K replies, in order"
fewer "QMTP" 200
wait_until nids_ge g 200; ok $? "all 200 delivered"
is "$(ids g | tr '\n' ' ')" "$(seq 0 199 | tr '\n' ' ')" "each of them once at least, none missing"
is "$(runs)" 0 "no qmail-queue run: every message went through qmail-queued"

# ---- 2. refused packages in the middle -----------------------------------------
blast "$QMTP" 60 m --window 0 --bad 20,21,40
is "$(field m seq)" "$(rep K 20)DD$(rep K 18)D$(rep K 19)" \
  "60 packages, 3 relay refusals in the middle: each its own D in its place, K for the others"
wait_until nids_ge m 57; ok $? "the 57 accepted ones delivered"
is "$(ids m | tr '\n' ' ')" "$(seq 0 59 | grep -vxE '20|21|40' | tr '\n' ' ')" "and none of the refused ones"

# ---- 3. QMTPS ---------------------------------------------------------------------
traced s blast "$QPS" 100 s --window 0 --tls
is "$(field s seq)" "$(rep K 100)" "QMTPS: 100 packages inside TLS: 100 K replies"
fewer "QMTPS" 100
wait_until nids_ge s 100; ok $? "QMTPS: all 100 delivered"
like "$(grep -rh -m1 ' with QMTPS' "$(grep -rl '<s.0@qmtpblast>' "$MD" | head -1)")" "with QMTPS \(TLS" \
  "QMTPS: the Received line says with QMTPS"
is "$(runs)" 0 "still no qmail-queue run"

# ---- 4. the daemon killed with packages in the window ---------------------------
# its listener's backlog (ss: Recv-Q of the listening socket, by inode)
LINO=$(for f in /proc/"$QDPID"/fd/*; do readlink "$f"; done 2> /dev/null | sed -nE 's/^socket:\[([0-9]+)\]$/\1/p' | tr '\n' '|')
backlog() { ss -xlH 2> /dev/null | awk -v re="^(${LINO%|})\$" '$6 ~ re { print $3 }' | head -1; }
blast "$QMTP" 50 k --window 0 --pause-after 10 --pause-file "$T/go" & BL=$!
wait_until [ -e "$T/go.ready" ]; ok $? "10 packages sent and answered"
kill -STOP "$QDPID"
touch "$T/go"
# qmail-qmtpd connects for each package of its window (into the stopped
# daemon's backlog), then waits for the first verdict: wait until the
# backlog has stopped growing
prev=-1
for i in $(seq 50); do
  b=$(backlog); [ -n "$b" ] && [ "$b" -gt 0 ] && [ "$b" = "$prev" ] && break
  prev=$b; sleep 0.2
done
diag "connections waiting in the stopped daemon's backlog: ${b:-unknown}"
kill -9 "$QDPID"
wait "$BL"
seq=$(field k seq)
diag "replies: $seq"
like "$seq" "^$(rep K 10)Z{2,32}K+\$" \
  "daemon killed: the 10 before K, then Z for the packages held in the window (more than one), K after"
nz=$(field k Z); nk=$(field k K)
like "$(field k ztext)" "^Zqq crashed \(#4\.3\.0\)" "the held ones: qq crashed, temporary"
is "$(runs)" $((nk - 10)) "each package after the kill ran bin/qmail-queue ($((nk - 10)))"
kids() { python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
print(' '.join(str(i) for i, c in enumerate(d['seq']) if c == 'K'))" "$T/k.json"; }
got_all_k() { local i have; have=" $(ids k | tr '\n' ' ')"; for i in $(kids); do case $have in *" $i "*) ;; *) return 1 ;; esac; done; }
wait_until got_all_k; ok $? "every acknowledged message ($nk) is delivered; $nz Z"

# ---- 5. the fallback, no daemon -----------------------------------------------------
before=$(runs)
blast "$QMTP" 20 f --window 0
is "$(field f seq)" "$(rep K 20)" "with no daemon: 20 pipelined packages, 20 K"
is "$(runs)" $((before + 20)) "each through bin/qmail-queue"
wait_until nids_ge f 20; ok $? "all 20 delivered"
done_testing
