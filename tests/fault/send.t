#!/bin/bash
# send.t: crash and bad-input tests of delivery (docs/bad-input.md F2, F3,
# F12; the crash points are argued in hub/queue/QUEUE.md sec 2 and hub/send/todo.h).
# A hub home is installed in $T; qmail-send (under qmail-start, log on its
# stdout) and qmail-lspawn are replaced by wrappers that run the real binary,
# under strace when the test asks: "-e inject=SYSCALL:signal=SIGKILL:when=N"
# kills it right before its Nth call of SYSCALL. The ordinals come from a
# reference strace of the same scenario, so they follow the code. The local
# delivery runs in qmail-lspawn's child (no exec of qmail-local): it is
# reached by strace -f on qmail-lspawn, which counts each syscall per
# process, so "when=N" hits the delivery child's Nth call (the reference
# checks that no other process of qmail-lspawn's reaches N).
#  F2 kill -9 qmail-send at each fsync of preprocessing, at the request to
#     qmail-clean to drop todo/ (info/local written, todo still there), before
#     the T->D mark (pwrite), before unlinking info/, before asking qmail-clean
#     to drop mess/: after a restart every message is delivered at least once
#     and complete.
#  F3 kill -9 the local delivery mid-Maildir write, before the file's fsync, before
#     the link into new/, before new/'s fsync: no partial file in new/ (a
#     tmp/ leftover is tolerated), the crash is a deferral, the retry (ALRM)
#     delivers it complete; mid-mbox append and before the mbox fsync: the
#     next delivery truncates the unfinished entry (hub/local/mboxappend.h), so the
#     final mbox is valid mboxrd with each message exactly once.
#  F12 hand-written damaged queue files (envelope without terminator, todo
#     without mess, garbage in a channel file, info without channel files,
#     info without its F item): warnings, qmail-send keeps running and
#     delivers the good message.
. "$(dirname "$0")/../lib/common.sh"
for p in qmail-queue qmail-send qmail-start qmail-lspawn qmail-local qmail-clean; do
  [ -x "$SRCDIR/$BUILD/hub/$p" ] || { echo "Bail out! $p not built (BUILD=$BUILD: make all first)"; exit 1; }
done
command -v strace > /dev/null || { echo "1..0 # skip no strace"; exit 0; }
export ASAN_OPTIONS=detect_leaks=0
hub=$T/hub Q=$T/hub/queue FL=$T/fl new=$T/hub/alias/Maildir/new
root=0; [ "$(id -u)" = 0 ] && root=1
qmake install QMAILHOME="$hub" > "$T/install.log" 2>&1
ok $? "make install makes a hub home"
echo hub.example.org > "$hub/control/me"
printf 'hub.example.org\nlocalhost\n' > "$hub/control/locals"
echo ./mbox > "$hub/alias/.qmail-sendtmbox"   # (a name no system user has)
[ $root = 1 ] && chown alias "$hub/alias/.qmail-sendtmbox"
mkdir -m 777 "$FL"

# wrap NAME [-f]: bin/NAME runs bin/NAME.real, under strace when $FL/NAME.inject
# (an inject spec) or $FL/NAME.trace exists (each is used once); with -f
# strace follows the children (the trace: one file $FL/NAME.ref.PID per
# process). strace
# runs as a child of the wrapper, which waits for it alone: qmail-start
# becomes qmail-send, so the wrapper is the parent of qmail-lspawn and
# qmail-clean, and strace, were it that process, would wait for them too
# while holding their pipes open (they would never see end of file)
wrap() {
  local f='' o=''
  [ "$2" = -f ] && f=-f o=-ff
  mv "$hub/bin/$1" "$hub/bin/$1.real"
  cat > "$hub/bin/$1" <<SH
#!/bin/sh
# die PID: end as PID ended (a signal death stays one: qmail-lspawn's "crashed")
die() { wait "\$1" 2> /dev/null; st=\$?; [ \$st -gt 128 ] && kill -\$((st - 128)) \$\$; exit \$st; }
exec 9<&0
if mv "$FL/$1.inject" "$FL/$1.used" 2>/dev/null; then
  strace $f -o /dev/null -e inject="\$(cat "$FL/$1.used")" "$hub/bin/$1.real" "\$@" <&9 9<&- &
  die \$!
fi
if mv "$FL/$1.trace" "$FL/$1.traced" 2>/dev/null; then
  strace $o -o "$FL/$1.ref" "$hub/bin/$1.real" "\$@" <&9 9<&- &
  die \$!
fi
exec "$hub/bin/$1.real" "\$@" 9<&-
SH
  chmod 755 "$hub/bin/$1"
}
wrap qmail-send; wrap qmail-lspawn -f

SP=
start() {
  "$hub/bin/qmail-start" ./Maildir/ < /dev/null >> "$T/send.log" 2>&1 & SP=$!; _pids+=("$SP")
  local _; for _ in $(seq 50); do [ -n "$(qsend)" ] && break; sleep 0.1; done
}
# qsend: the pid of the real qmail-send: $SP itself (qmail-start becomes
# the wrapper, which execs it) or, under strace, the wrapper's strace's
# child; signals go to it directly, as strace does not pass them on
qsend() {
  local p c
  [ "$(cat "/proc/$SP/comm" 2>/dev/null)" = qmail-send.real ] && { echo "$SP"; return; }
  for p in $(ps -o pid= --ppid "$SP" 2>/dev/null); do
    c=$(cat "/proc/$p/comm" 2>/dev/null)
    [ "$c" = strace ] && p=$(ps -o pid= --ppid "$p" | head -1) && c=$(cat "/proc/${p// /}/comm" 2>/dev/null)
    [ "$c" = qmail-send.real ] && { echo "${p// /}"; return; }
  done
}
sig() { local p; p=$(qsend); [ -n "$p" ] && kill -"$1" "$p"; }
# gone: wait (10 s at most) for qmail-start to end by itself
gone() { local _; for _ in $(seq 100); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done; ! kill -0 "$SP" 2>/dev/null; }
stop() {
  local p; p=$(qsend)
  [ -n "$p" ] && kill -TERM "$p"
  gone || { [ -n "$p" ] && kill -KILL "$p"; kill -KILL "$SP"; }
  wait "$SP" 2>/dev/null
}
# drained [S]: no message left in todo/ info/ local/ remote/ (S seconds, 15)
drained() {
  local i
  for i in $(seq $((${1:-15} * 10))); do
    [ "$(find "$Q/todo" "$Q/info" "$Q/local" "$Q/remote" -type f | wc -l)" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}
# waitlog N PATTERN: up to 15 s for N log lines matching PATTERN
waitlog() { local _; for _ in $(seq 150); do [ "$(grep -cE -- "$2" "$T/send.log")" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }

# qmsg ID RCPT KB: queue message ID (body of about KB kilobytes, with
# lines that mboxrd must quote) and keep its body in $T/body.ID
qmsg() {
  python3 - "$1" "$3" > "$T/body.$1" <<'PY'
import sys
i, kb = sys.argv[1], int(sys.argv[2])
out = ["marker-%s" % i, "From the start", ">From quoted", ""]
k = 0
while sum(len(l) + 1 for l in out) < kb * 1024:
    out.append("%s line %06d %s" % (i, k, "x" * (k % 70))); k += 1
    if k % 500 == 0: out.append("From inside %d" % k)
print("\n".join(out))
PY
  { printf 'Subject: test %s\n\n' "$1"; cat "$T/body.$1"; } > "$T/msg.$1"
  printf 'Fsender@example.org\0T%s\0\0' "$2" > "$T/env.$1"
  "$hub/bin/qmail-queue" < "$T/msg.$1" 1< "$T/env.$1"
}

# copies ID: "C/P" = complete/partial copies of message ID in new/ and the mbox
cat > "$T/copies.py" <<'PY'
import os, re, sys
new, mbox, body_dir, i = sys.argv[1:5]
body = open(f"{body_dir}/body.{i}", "rb").read()
mark = b"marker-" + i.encode() + b"\n"
c = p = 0
for f in os.listdir(new):
    d = open(os.path.join(new, f), "rb").read()
    if mark in d:
        if d.endswith(b"\n\n" + body): c += 1
        else: p += 1
if os.path.exists(mbox):
    d = open(mbox, "rb").read()
    for e in re.split(rb"(?m)^(?=From )", d):
        if mark not in e: continue
        lines = e.split(b"\n")[1:]
        m = b"\n".join(re.sub(rb"^>(>*From )", rb"\1", l) for l in lines)
        if m.endswith(b"\n\n" + body + b"\n"): c += 1
        else: p += 1
print(f"{c}/{p}")
PY
copies() { python3 "$T/copies.py" "$new" "$hub/alias/mbox" "$T" "$1"; }
# mboxrd_ok: the mbox is empty or starts with From_, every entry ends in a
# blank line, and every From_ line is a real entry separator
mboxrd_ok() {
  python3 - "$hub/alias/mbox" <<'PY'
import re, sys
d = open(sys.argv[1], "rb").read()
ok = d == b"" or (d.startswith(b"From ") and d.endswith(b"\n\n"))
for e in re.split(rb"(?m)^(?=From )", d)[1:]:
    ok = ok and e.endswith(b"\n\n") and re.match(rb"From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n", e) is not None
print("valid" if ok else "invalid")
PY
}

# ---- reference runs: where each syscall falls ---------------------------------
touch "$FL/qmail-send.trace"
qmsg ref postmaster@hub.example.org 2
start; drained; ok $? "reference run (qmail-send under strace) delivers"; stop
R=$FL/qmail-send.ref
# nth SYSCALL REGEX: the ordinal of the first call of SYSCALL whose line
# matches REGEX, counting every call of SYSCALL (strace's when=)
nth() { awk -v s="$1" -v re="$2" '{ n = $0; sub(/\(.*/, "", n) } n == s { c++; if ($0 ~ re) { print c; exit } }' "$3"; }
wT=$(nth write '^write\(5, "T' "$R")
wM=$(nth write '^write\(5, "M' "$R")
uI=$(nth unlink '^unlink\("info/' "$R")
# the flushes of preprocessing (fsync or syncfs), before the todo request
flushes=$(awk '{ n = $0; sub(/\(.*/, "", n) } n == "fsync" || n == "syncfs" { c[n]++; printf "%s:%d ", n, c[n] }
  /^write\(5, "T/ { exit }' "$R")
ok "$([ -n "$wT" ] && [ -n "$wM" ] && [ -n "$uI" ] && [ -n "$flushes" ]; echo $?)" \
  "reference trace: flushes $flushes before the todo request (write #$wT), info unlink #$uI, mess request write #$wM"

# ---- F2: kill -9 qmail-send -----------------------------------------------
f2() { # ID SPEC WHAT
  qmsg "$1" postmaster@hub.example.org 2
  echo "$2" > "$FL/qmail-send.inject"
  start; gone; local died=$?; wait "$SP" 2>/dev/null
  start; drained; local d=$?; stop
  is "$died/$d/$(copies "$1" | cut -d/ -f2)" "0/0/0" "F2: kill -9 qmail-send $3: restarted, delivered, nothing partial"
  like "$(copies "$1")" '^[12]/0$' "F2 ($1): delivered at least once (got $(copies "$1" | cut -d/ -f1))"
}
for f in $flushes; do f2 "pre${f/:/}" "${f%:*}:signal=SIGKILL:when=${f#*:}" "at preprocessing ${f%:*} #${f#*:}"; done
f2 preT "write:signal=SIGKILL:when=$wT" "after info/local are written, before todo/ is dropped"
f2 mark "pwrite64:signal=SIGKILL:when=1" "after the delivery, before the T->D mark"
f2 info "unlink:signal=SIGKILL:when=$uI" "before unlinking info/"
f2 mess "write:signal=SIGKILL:when=$wM" "before asking qmail-clean to drop mess/"
is "$(find "$Q/mess" -type f | wc -l)" 1 "F2: only the last case leaves its mess/ file (garbage for the 36 h cleanup)"
find "$Q/mess" -type f -delete

# ---- F3: kill -9 the local delivery (qmail-lspawn's child) ------------------------
: > "$T/send.log"
# ref DIR ID RCPT: one delivery with qmail-lspawn under strace -f, its
# per-process traces kept in $FL/DIR (each run as a fault run: one job)
ref() {
  touch "$FL/qmail-lspawn.trace"
  start
  qmsg "$2" "$3" 300
  drained; local r=$?
  stop
  mkdir "$FL/$1" && mv "$FL"/qmail-lspawn.ref.* "$FL/$1/"
  return $r
}
ref md lref postmaster@hub.example.org; r=$?
ref mb mref sendtmbox@hub.example.org
is "$r/$?" 0/0 "reference deliveries (qmail-lspawn under strace -f) to the Maildir and the mbox"
# ords.py: the kill points of the delivery child whose trace opens WHAT
# (maildir: a tmp/ file; mbox: the mbox), from the per-process traces;
# a point some other process of the run reaches too is printed as 0
cat > "$T/ords.py" <<'PY'
import glob, re, sys
what = sys.argv[1]
pat = {"maildir": r'openat\(.*"[^"]*/tmp/[^"]*", O_WRONLY\|O_CREAT\|O_EXCL.*= (\d+)$',
       "mbox": r'openat\(.*"[^"]*/mbox", O_(?:WRONLY|RDWR).*O_APPEND.*= (\d+)$'}[what]
files = sorted(glob.glob(sys.argv[2] + ".*"))
def calls(f, name):
    return sum(1 for l in open(f) if l.startswith(name + "("))
child = [f for f in files if any(re.match(pat, l) for l in open(f))]
if len(child) != 1: print("bad=1"); sys.exit(0)
fd = None; w = f = 0; ws = []; fs = []
for l in open(child[0]).read().split("\n"):
    m = re.match(pat, l)
    if m: fd = m.group(1)
    if l.startswith("write("):
        w += 1
        if fd and l.startswith(f"write({fd},"): ws.append(w)
    if l.startswith("fsync("):
        f += 1
        if what == "maildir" or (fd and l.startswith(f"fsync({fd})")): fs.append(f)
def only(name, n):  # n, if no other process makes n calls of name
    return n if all(calls(o, name) < n for o in files if o != child[0]) else 0
if what == "maildir":
    print("w2=%d fs1=%d fs2=%d lk=%d bad=0" % (only("write", ws[1]), only("fsync", fs[0]),
          only("fsync", fs[1]), only("link", 1)))
else:
    print("mw2=%d mfs=%d bad=0" % (only("write", ws[1]) if len(ws) > 1 else 0,
          only("fsync", fs[-1]) if fs else 0))
PY
eval "$(python3 "$T/ords.py" maildir "$FL/md/qmail-lspawn.ref")"
[ "$bad" = 0 ] && [ "$w2" -gt 0 ] && [ "$fs1" -gt 0 ] && [ "$fs2" -gt 0 ] && [ "$lk" -gt 0 ]
ok $? "reference trace: the Maildir delivery child's kill points reached by no other process"
echo "# Maildir: write #$w2 is mid-message, fsync #$fs1 the file's, fsync #$fs2 new/'s"
# inject SPEC: restart qmail-send with qmail-lspawn under strace -f -e inject=SPEC
inject() { stop; echo "$1" > "$FL/qmail-lspawn.inject"; start; }
# retry: restart without a fault and, once it has loaded the queue (its
# handlers are set), make every deferred message due
retry() {
  local n; n=$(grep -c 'messages in the queue' "$T/send.log")
  stop; start; waitlog $((n + 1)) 'messages in the queue'; sig ALRM
}
f3() { # ID SPEC WHAT WANT
  : > "$FL/x"
  inject "$2"
  local nd; nd=$(grep -c 'deferral' "$T/send.log")
  qmsg "$1" postmaster@hub.example.org 300
  waitlog $((nd + 1)) 'deferral'
  is "$(copies "$1" | cut -d/ -f2)" 0 "F3: kill -9 the delivery $3: no partial file in new/"
  like "$(grep -v '^status: ' "$T/send.log" | tail -n 1)" 'deferral: .*crashed' "F3 ($1): the crash is a deferral"
  retry
  drained; is "$?/$(copies "$1")" "0/$4" "F3 ($1): retried: $4 complete/partial copies"
}
f3 mdw "write:signal=SIGKILL:when=$w2" "mid-Maildir write" 1/0
f3 mdf "fsync:signal=SIGKILL:when=$fs1" "before the Maildir file's fsync" 1/0
f3 mdl "link:signal=SIGKILL:when=$lk" "before the link into new/" 1/0
f3 mdd "fsync:signal=SIGKILL:when=$fs2" "after the link, before new/'s fsync (at least once)" 2/0
like "$(find "$hub/alias/Maildir/tmp" -type f | wc -l)" '^[1-9]' "F3: tmp/ leftovers of the killed runs are tolerated"

# mbox: ordinals from the mbox delivery's child in the reference
eval "$(python3 "$T/ords.py" mbox "$FL/mb/qmail-lspawn.ref")"
echo "# mbox: write #$mw2 is mid-entry, fsync #$mfs the mbox's"
f3m() { # ID SPEC WHAT
  inject "$2"
  local nd; nd=$(grep -c 'deferral' "$T/send.log")
  local before; before=$(stat -c %s "$hub/alias/mbox")
  qmsg "$1" sendtmbox@hub.example.org 300
  waitlog $((nd + 1)) 'deferral'
  like "$(grep -v '^status: ' "$T/send.log" | tail -n 1)" 'deferral: .*crashed' "F3 ($1): kill -9 the delivery $3: a deferral"
  local after; after=$(stat -c %s "$hub/alias/mbox")
  [ "$after" -gt "$before" ]; ok $? "F3 ($1): the mbox grew from $before to $after bytes (unfinished entry)"
  retry
  drained; is "$?/$(copies "$1")/$(mboxrd_ok)" "0/1/0/valid" "F3 ($1): retried: the unfinished entry truncated, the message exactly once, valid mboxrd"
}
[ "$bad" = 0 ] && [ "$mw2" -gt 0 ] && [ "$mfs" -gt 0 ]; ok $? "reference trace: the mbox delivery writes in several steps and fsyncs"
f3m mbw "write:signal=SIGKILL:when=$mw2" "mid-mbox append"
f3m mbf "fsync:signal=SIGKILL:when=$mfs" "after the whole entry, before its fsync"
is "$(copies mref)" "1/0" "the reference mbox message is still there once"
stop

# ---- F12: damaged queue files ---------------------------------------------------
: > "$T/send.log"
# put FILE CONTENT OWNER: a hand-written queue file
put() {
  printf "$2" > "$Q/$1"
  [ $root = 1 ] && chown "$3" "$Q/$1"
  return 0
}
# mkmess: a message file named by its own inode (the invariant qmail-send
# checks, QUEUE.md sec 1); prints N
mkmess() {
  local n
  put "mess/new" 'Subject: junk\n\njunk\n' qmailq
  n=$(stat -c %i "$Q/mess/new") && mv "$Q/mess/new" "$Q/mess/$((n % 23))/$n" && echo "$n"
}
id1=$(mkmess) id2=$(mkmess) id3=$(mkmess) id4=$(mkmess) id5=$(mkmess)
s=$((id1 % 23)); put "todo/$s/$id1" 'u0\0p1\0Fa@example.org\0Tpostmaster@hub.example.org\0' qmailq
ln "$Q/todo/$s/$id1" "$Q/intd/$s/$id1"
rm -f "$Q/mess/$((id2 % 23))/$id2"
s=$((id2 % 23)); put "todo/$s/$id2" 'u0\0p1\0Fa@example.org\0Tpostmaster@hub.example.org\0\0' qmailq
s=$((id3 % 23)); put "info/$s/$id3" 'Fa@example.org\0' qmails
put "local/$s/$id3" 'Xgarbage\0\377\376 no terminator' qmails
s=$((id4 % 23)); put "info/$s/$id4" 'Fa@example.org\0' qmails
s=$((id5 % 23)); put "info/$s/$id5" '\377garbage' qmails
put "local/$s/$id5" 'Tpostmaster@hub.example.org\0' qmails
start
qmsg good postmaster@hub.example.org 2
for _ in $(seq 100); do [ "$(copies good)" = 1/0 ] && break; sleep 0.1; done
is "$(copies good)" "1/0" "F12: the good message is delivered"
sleep 0.5
ok "$(kill -0 "$(qsend)"; echo $?)" "F12: qmail-send keeps running"
like "$(grep "$id1" "$T/send.log")" "warning: .*$id1.*damaged envelope" "F12: envelope without terminator: warning, left alone"
ok "$([ -e "$Q/todo/$((id1 % 23))/$id1" ]; echo $?)" "F12: ... and left for the 36 h cleanup (never acknowledged)"
like "$(grep "$id2" "$T/send.log")" "warning: .*$id2.*no message file" "F12: todo without mess: warning"
ok "$([ ! -e "$Q/todo/$((id2 % 23))/$id2" ]; echo $?)" "F12: ... and its todo removed"
like "$(grep "local/$((id3 % 23))/$id3" "$T/send.log")" "warning: trouble reading local/$((id3 % 23))/$id3" "F12: garbage in a channel file: warning"
ok "$([ -e "$Q/info/$((id3 % 23))/$id3" ]; echo $?)" "F12: ... and the message is kept"
like "$(grep "$id4" "$T/send.log" | tr '\n' ' ')" "end msg $id4" "F12: info without channel files: nothing to deliver, the message ends"
like "$(grep "$id5" "$T/send.log")" "warning: unable to read info for msg $id5" "F12: info without its F item: warning, skipped"
is "$(copies good)" "1/0" "F12: nothing of the damaged messages was delivered"
stop
ok "$(grep -c '^status: exiting$' "$T/send.log" | grep -qx 1; echo $?)" "F12: qmail-send stops normally on TERM"
done_testing
