#!/bin/bash
# svc.t: the service layer of an installed hub (issue 10 items 1, 6, 18).
#  - qmailctl start from a shell that exports RELAYCLIENT=, DATABYTES=1,
#    QMAILQUEUE, SECRET=x and holds fd 251 open: relay is still refused,
#    databytes is the control file's, tcpserver and the servers see only
#    PATH and their env/ files, no process of the hub holds fd 251, and a
#    .qmail program sees no SECRET and no descriptor above 2
#  - per-address limit: 40 idle connections from 127.0.0.2 (PERIP 10: 30
#    of them refused at once with 421 and a log line) and a client from
#    127.0.0.1 that is served at once; the same for QMTP
#  - qmailctl: every verb says what it did; start reports a service that
#    cannot bind and exits 111; restart; help; unknown verb is usage (100)
#  - qmailctl stop on a full hub (issue 17 item 11): every process of the
#    running hub (tcpservers, loggers, qmail-send and its helpers, a
#    qmail-smtpd in mid-session), recorded with its start time, session
#    and group, is gone after stop, and nothing is left in those sessions
#    or groups or running from $HUB (a process that left its group)
#  - a .qmail line calls preline by its bare name, found through the PATH
#    qmail-local gives (HOME/bin first), as on a real host (issue 17 item 12)
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
[ -x "$SRCDIR/$BUILD/hub/qmail-svcrun" ] || { echo "Bail out! qmail-svcrun not built (BUILD=$BUILD: make all first)"; exit 1; }

hub_install
hub_user u1
hub_newu
QMTP=$(cat "$HUB/service/qmail-qmtpd/env/PORT")
# nobody gets RELAYCLIENT from the rules: only the caller's environment could open the relay
printf ':allow\n' > "$HUB/control/tcp.smtp"; printf ':allow\n' > "$HUB/control/tcp.qmtp"
echo 100000 > "$HUB/control/databytes"
# preline by its bare name, as a user writes it: found in HOME/bin, which
# qmail-local puts first in PATH (qmail-local.t calls the build tree's by
# its full path)
# each delivery rewrites prog.env and prog.fd: by rename, so that a reader
# never sees one half written (or emptied by the next message's delivery)
dq "$T/home/u1" .qmail "|env > $T/home/u1/e.tmp && mv $T/home/u1/e.tmp $T/home/u1/prog.env; ls /proc/self/fd > $T/home/u1/f.tmp && mv $T/home/u1/f.tmp $T/home/u1/prog.fd
./Maildir/
|preline cat > $T/home/u1/preline.out
"

# ---- 1: a dirty caller ----------------------------------------------------
(
  exec 251< /dev/null
  export RELAYCLIENT= DATABYTES=1 SECRET=x QMAILQUEUE=/bin/false QMAILREMOTE=/bin/false
  hub_start
)
ok $? "qmailctl start from a shell with RELAYCLIENT, DATABYTES, SECRET and fd 251"

relay=$(python3 - "$SMTP" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("x")
s.mail("a@example.org")
print(s.rcpt("victim@elsewhere.example")[0])
s.quit()
PY
)
is "$relay" 553 "relay refused although the caller exported RELAYCLIENT"
printf 'Subject: size\n\n%s\n' "$(head -c 2000 /dev/zero | tr '\0' x)" | send a@example.org u1@$ME
ok $? "a 2 KB message is accepted: DATABYTES=1 of the caller did not leak"
big=$(python3 - "$SMTP" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
try:
    s.sendmail("a@example.org", ["u1@hub.example.org"], "Subject: big\n\n" + "y" * 200000 + "\n")
    print("accepted")
except smtplib.SMTPException as e:
    print(getattr(e, "smtp_code", "error"))
PY
)
is "$big" 552 "control/databytes (100000) refuses a 200 KB message"

envs() { local p; for p in "$@"; do tr '\0' '\n' < "/proc/$p/environ"; done 2>/dev/null; }
hubpids() { local s g; for s in qmail-smtpd qmail-qmtpd qmail-qmqpd qmail-send; do
  g=$(head -n 1 "$HUB/service/$s/qmailctl.pid"); ps -eo pid=,pgid= | awk -v g="$g" '$2 == g { print $1 }'; done; }
pids=$(hubpids)
ok "$([ -n "$pids" ]; echo $?)" "the hub's processes are found by their groups"
is "$(envs $pids | grep -cE '^(SECRET|RELAYCLIENT|DATABYTES|QMAILQUEUE|QMAILREMOTE)=')" 0 \
  "no process of the hub has SECRET, RELAYCLIENT, DATABYTES, QMAILQUEUE or QMAILREMOTE"
# the listeners: the servers started with SERVE=1 (hub/servers/srvfork.h)
tcps=$(for p in $pids; do envs "$p" | grep -qx 'SERVE=1' && echo "$p"; done)
ids=""; [ "$(id -u)" = 0 ] && ids="SERVE_GID SERVE_UID"
is "$(envs $tcps | cut -d= -f1 | sort -u | paste -sd ' ')" \
  "$(printf '%s\n' AUTHGUARDTABLE CONCURRENCY IP PATH PERIP PERIPTABLE PORT SERVE SERVE_BACKLOG $ids SERVE_IP SERVE_PORT SERVE_RULES |
     sort | paste -sd ' ')" \
  "the listeners' environment is PATH, env/, the per-address settings (smtpd's AUTH guard table) and SERVE's"
is "$(echo $tcps | wc -w)" 3 "three listeners: smtpd, qmtpd, qmqpd"
fd251=0; for p in $pids; do [ -e "/proc/$p/fd/251" ] && fd251=$((fd251 + 1)); done
is "$fd251" 0 "no process of the hub holds the caller's fd 251"

echo hi | send a@example.org u1@$ME
wait_until test -s "$T/home/u1/prog.fd"
test -s "$T/home/u1/prog.env"; ok $? "the .qmail program ran"
is "$(grep -c '^SECRET=' "$T/home/u1/prog.env" 2>/dev/null)" 0 "the .qmail program has no SECRET"
like "$(grep '^RECIPIENT=' "$T/home/u1/prog.env")" "RECIPIENT=u1@$ME" "the .qmail program has qmail's variables"
# ls opens /proc/self/fd as the lowest free descriptor: 3 when 0-2 are all it got
is "$(sort -n "$T/home/u1/prog.fd" 2>/dev/null | paste -sd ' ')" "0 1 2 3" "the .qmail program has only fds 0, 1, 2 (3 is ls's own)"
like "$(grep '^PATH=' "$T/home/u1/prog.env")" "^PATH=$HUB/bin:" "the .qmail program's PATH starts with the home's bin/"
wait_until grep -qx hi "$T/home/u1/preline.out"
is "$(head -n 3 "$T/home/u1/preline.out" 2>/dev/null | sed '1s/^\(From a@example.org\) .*/\1/')" \
  "$(printf 'From a@example.org\nReturn-Path: <a@example.org>\nDelivered-To: u1@%s' "$ME")" \
  "|preline by its bare name runs the installed preline"

# ---- 6: per-address limit ---------------------------------------------------
python3 - "$SMTP" "$QMTP" > "$T/loris.out" 2>&1 <<'PY'
import socket, sys, time
smtp, qmtp = int(sys.argv[1]), int(sys.argv[2])
def slow(port, n, greeting):
    held, refused = [], 0
    for i in range(n):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        s.settimeout(20)
        if greeting:
            line = s.recv(512)
            if line.startswith(b"421"):
                refused += 1; s.close(); continue
            held.append(s)
        else:
            held.append(s)
    return held, refused
held, refused = slow(smtp, 40, True)
print("smtp held", len(held), "refused", refused)
t = time.time()
c = socket.create_connection(("127.0.0.1", smtp), 20)
print("smtp other", c.recv(512)[:3].decode(), "%.1f" % (time.time() - t))
c.close()
# QMTP: no greeting; a refused connection is closed at once
qheld, _ = slow(qmtp, 40, False)
closed = 0
deadline = time.time() + 20
for s in qheld:
    s.settimeout(max(0.1, deadline - time.time()))
    try:
        if s.recv(1) == b"": closed += 1
    except socket.timeout:
        pass
    if closed >= 30: break
print("qmtp closed", closed)
PY
out=$(cat "$T/loris.out")
like "$out" "smtp held 10 refused 30" "SMTP: 10 connections from 127.0.0.2 held, 30 refused with 421"
like "$out" "smtp other 220" "a client from 127.0.0.1 is greeted while 127.0.0.2 holds its 10"
like "$out" "qmtp closed 30" "QMTP: 30 connections over the limit closed at once"
wait_until grep -q 'qmail-smtpd: refused: 127.0.0.2 connect 421 4.7.0 reason="too many connections' "$HUB/log/qmail-smtpd/current"
ok $? "the refusal is logged with the client address"

# ---- 18: qmailctl's verbs -----------------------------------------------------
like "$("$HUB/bin/qmailctl" hold 2>&1)" "held" "qmailctl hold says what it did"
like "$("$HUB/bin/qmailctl" flush 2>&1)" "released" "qmailctl flush says what it did"
like "$("$HUB/bin/qmailctl" reload 2>&1)" "reread" "qmailctl reload says what it did"
like "$("$HUB/bin/qmailctl" cdb 2>&1)" "tcp.smtp.cdb: compiled" "qmailctl cdb says what it did"
like "$("$HUB/bin/qmailctl" help 2>&1)" "restart" "qmailctl help lists the verbs"
"$HUB/bin/qmailctl" frobnicate > /dev/null 2>&1; is $? 100 "an unknown verb is a usage error (100)"
like "$("$HUB/bin/qmailctl" restart 2>&1 | tr '\n' ' ')" "qmail-smtpd: stopped.*qmail-smtpd: started" "qmailctl restart stops and starts"

# ---- 17/11: qmailctl stop stops every process it started, on a full hub ------
# hubprocs [SID...]: one line "pid starttime sid pgid comm" for each live
# (not zombie) process of this hub: in a session or process group qmailctl
# started (the SIDs given, else service/*/qmailctl.pid), a descendant of
# one, or running a program or in a directory under $HUB (a process that
# left its group). The start time tells a pid reused later from the same.
cat > "$T/hubprocs.py" <<'PY'
import os, sys
hub, leaders = sys.argv[1].rstrip("/") + "/", {int(x) for x in sys.argv[2:]}
procs = {}
for d in os.listdir("/proc"):
    if not d.isdigit(): continue
    try:
        st = open("/proc/%s/stat" % d).read()
    except OSError:
        continue
    comm, f = st[st.index("(") + 1:st.rindex(")")], st[st.rindex(")") + 2:].split()
    if f[0] == "Z": continue
    paths = []
    for l in ("exe", "cwd"):
        try: paths.append(os.readlink("/proc/%s/%s" % (d, l)) + "/")
        except OSError: pass
    procs[int(d)] = (int(f[1]), int(f[2]), int(f[3]), f[19], comm, any(x.startswith(hub) for x in paths))
def ours(p, seen=0):
    if p not in procs or seen > 64: return False
    ppid, pgid, sid, _, _, under = procs[p]
    return under or sid in leaders or pgid in leaders or p in leaders or ours(ppid, seen + 1)
for p in sorted(procs):
    if ours(p): print(p, procs[p][3], procs[p][2], procs[p][1], procs[p][4])
PY
hubprocs() { [ $# != 0 ] || set -- $(cat "$HUB"/service/*/qmailctl.pid 2>/dev/null); python3 "$T/hubprocs.py" "$HUB" "$@"; }
# a client in the middle of an SMTP session: its qmail-smtpd is one of them
python3 -c 'import socket,sys,time; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 20); print(s.recv(512)[:3].decode(), flush=True); time.sleep(120)' "$SMTP" > "$T/held" &
held=$!; _pids+=("$held")
wait_until grep -q 220 "$T/held"
names() { awk '{ print $5 }' "$T/running" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }'; }
# everything a full hub runs: three listening servers, four loggers,
# qmail-send with its helpers (qmail-rspawn when installed), the held
# session's qmail-smtpd (a child of smtpd's listener)
rsp=""; [ -x "$HUB/bin/qmail-rspawn" ] && rsp="qmail-rspawn=1 "
want="qmail-clean=1 qmail-lspawn=1 qmail-qmqpd=1 qmail-qmtpd=1 ${rsp}qmail-send=1 qmail-smtpd=2"
# full: record the hub's processes in $T/running; true once all are there
full() { local n w; hubprocs > "$T/running"; n=$(names)
  for w in $want; do case " $n" in *" $w "*) ;; *) return 1 ;; esac; done
  [ "$(awk '$5 == "multilog" || $5 == "cat"' "$T/running" | wc -l)" = 4 ]; }
wait_until full; rc=$?
ok $rc "a full hub runs: $want and four loggers"
[ $rc = 0 ] || echo "#   got: $(names)" >&2
sids=$(cat "$HUB"/service/*/qmailctl.pid)
"$HUB/bin/qmailctl" stop > "$T/stop.out" 2>&1
# gone: none of the recorded processes (same pid and start time) is alive,
# and nothing runs in their sessions or groups or under $HUB any more
survivors() { local pid st rest; while read -r pid st rest; do
    [ "$(awk '{ sub(/.*\) /, ""); if ($1 != "Z") print $20 }' "/proc/$pid/stat" 2>/dev/null)" = "$st" ] && echo "$pid ${rest##* }"
  done < "$T/running"; hubprocs $sids | awk '{ print $1, $5 }'; }
gone() { [ -z "$(survivors)" ]; }
wait_until gone
is "$(survivors | sort -u | paste -sd ';')" "" "qmailctl stop: none of the $(wc -l < "$T/running") processes of the running hub is left"
kill "$held" 2>/dev/null
like "$("$HUB/bin/qmailctl" stop 2>&1)" "not running" "stop on a stopped hub says so"
# a port that is taken: start reports the service and fails
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("ok", flush=True); time.sleep(60)' "$SMTP" > "$T/squat" &
squat=$!; _pids+=("$squat")
wait_until test -s "$T/squat"
out=$("$HUB/bin/qmailctl" start 2>&1); rc=$?
is "$rc" 111 "qmailctl start exits 111 when a service cannot bind"
like "$out" "qmail-smtpd: FAILED to start: .*(bind|address)" "and names the service and the cause"
like "$out" "qmail-qmtpd: started" "the other services are started"
kill "$squat"
hub_stop
done_testing
