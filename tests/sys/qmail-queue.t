#!/bin/bash
# qmail-queue.t: end-to-end tests of hub/queue/mkqueue.sh and hub/qmail-queue
# (hub/queue/QUEUE.md): the queue tree (and, as root, its owners and modes) and
# that mkqueue.sh never touches what exists; one message lands as exactly
# one mess + intd + todo entry with the exact bytes (Received line first,
# NUL bytes, a last line without newline), the envelope with u/p items;
# zero recipients; bad envelopes exit 91 and leave nothing; 1001-byte
# addresses exit 11 (control/maxaddress lowers the cap, garbage in it keeps
# the default); a 50 MB message streams in small memory; the trigger FIFO
# gets a byte when read, and qmail-queue neither blocks nor fails without a
# reader or with a full FIFO; the 24 h alarm (sent early) exits 52 and
# leaves its files for the cleanup; 200 messages get 200 distinct names; as
# root, the bin/qmail-queue of a home installed with make install (setuid
# qmailq, 4711), run by other users, ignores $QMAILHOME, leaves qmailq's
# files, records the caller's uid and "invoked from network / by alias /
# for bounce / by uid U", and cleans up after a bad envelope; without its
# setuid bit nobody cannot queue (as a normal user: skipped, an install
# sets no owners then).
# TAP on stdout; BUILD=build|build-san picks the binaries.

. "$(dirname "$0")/../lib/common.sh"
case $BUILD in /*) B=$BUILD ;; *) B=$SRCDIR/$BUILD ;; esac
QQ=$B/hub/qmail-queue
MKQ=$SRCDIR/hub/queue/mkqueue.sh
H=$T/home
Q=$H/queue
skip() { _n=$((_n + 1)); echo "ok $_n # skip $1"; }
ME=$(id -u)

# qq MSG ENV: run qmail-queue on files; sets rc.
qq() { QMAILHOME=$H "$QQ" < "$1" 1< "$2"; rc=$?; }
# nfiles DIR...: regular files below queue/DIR.
nfiles() { local d n=0; for d; do n=$((n + $(find "$Q/$d" -type f | wc -l))); done; echo $n; }
state() { echo "pid=$(nfiles pid) mess=$(nfiles mess) intd=$(nfiles intd) todo=$(nfiles todo)"; }
clearq() { find "$Q/pid" "$Q/mess" "$Q/intd" "$Q/todo" -type f -delete; }

# check_one MSG ENV UID: the queue holds exactly one committed message and
# it is exact; prints "ok" or what is wrong.
check_one() {
  python3 - "$Q" "$1" "$2" "$3" <<'EOF'
import os, re, sys
q, msgf, envf, uid = sys.argv[1:5]
msg = open(msgf, 'rb').read(); env = open(envf, 'rb').read()
def files(d):
    out = []
    for s in os.listdir(os.path.join(q, d)):
        for n in os.listdir(os.path.join(q, d, s)):
            out.append((s, n))
    return out
todo, mess, intd = files('todo'), files('mess'), files('intd')
if len(todo) != 1 or len(mess) != 1 or len(intd) != 1 or os.listdir(q + '/pid'):
    print('counts', len(todo), len(mess), len(intd)); sys.exit()
s, n = todo[0]
if mess[0] != (s, n) or intd[0] != (s, n): print('names differ'); sys.exit()
if int(s) != int(n) % 23: print('split', s, n); sys.exit()
m = os.stat(f'{q}/mess/{s}/{n}'); t = os.stat(f'{q}/todo/{s}/{n}'); i = os.stat(f'{q}/intd/{s}/{n}')
if m.st_ino != int(n): print('mess inode', m.st_ino, n); sys.exit()
if t.st_ino != i.st_ino or t.st_nlink != 2: print('todo not a link of intd'); sys.exit()
if m.st_mode & 0o777 != 0o644 or t.st_mode & 0o777 != 0o644: print('modes'); sys.exit()
body = open(f'{q}/mess/{s}/{n}', 'rb').read()
line, _, rest = body.partition(b'\n')
r = re.fullmatch(rb'Received: \(qmail (\d+) invoked by uid (\d+) id (\d+\.\d{9}\.(\d+))\); '
                 rb'(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000', line)
if not r: print('received line', line); sys.exit()
if r.group(2).decode() != uid: print('uid in Received', r.group(2)); sys.exit()
if r.group(4).decode() != n: print('queue id not of inode', n, r.group(3)); sys.exit()
if rest != msg: print('message bytes differ', len(rest), len(msg)); sys.exit()
want = b'u' + uid.encode() + b'\0p' + r.group(1) + b'\0i' + r.group(3) + b'\0' + env
got = open(f'{q}/todo/{s}/{n}', 'rb').read()
if got != want: print('envelope', repr(got[:200]), repr(want[:200])); sys.exit()
import email.utils, time
d = email.utils.parsedate_to_datetime(line.split(b'; ', 1)[1].decode()).timestamp()
if abs(d - time.time()) > 60: print('date off by', d - time.time()); sys.exit()
print('ok')
EOF
}

# ---- root: the qmail users (the install creates them; so do we) ---------
if [ "$ME" = 0 ]; then
  getent group qmail > /dev/null || groupadd -r qmail
  getent group nofiles > /dev/null || groupadd -r nofiles
  for u in alias:nofiles:/var/qmail/alias qmaild:nofiles:/var/qmail \
           qmailq:qmail:/var/qmail qmails:qmail:/var/qmail qmailr:qmail:/var/qmail; do
    IFS=: read -r name grp dir <<< "$u"
    getent passwd "$name" > /dev/null ||
      useradd -r -M -g "$grp" -d "$dir" -s /usr/sbin/nologin "$name"
  done
fi

# ---- mkqueue.sh ---------------------------------------------------------
sh "$MKQ" "$H" > "$T/mkq.out" 2>&1
ok $? "mkqueue.sh makes a queue"
n=0
for d in mess intd todo info local remote; do
  for i in $(seq 0 22); do [ -d "$Q/$d/$i" ] && n=$((n + 1)); done
done
is "$n" 138 "23 split directories in each of mess intd todo info local remote"
is "$(ls "$Q" | tr '\n' ' ')" "bounce info intd local lock mess pid remote todo " "queue/ entries"
is "$(ls "$Q/lock" | tr '\n' ' ')" "barrier sendmutex tcpto trigger " "lock/ entries"
[ -p "$Q/lock/trigger" ]; ok $? "lock/trigger is a FIFO"
is "$(stat -c %a "$Q/lock/barrier" 2>/dev/null)" 600 "lock/barrier (qmail-queued's flush) is 0600"
is "$(stat -c %a "$H/qq" 2>/dev/null)" 755 "qq/ (qmail-queued's socket) is a 0755 directory"
[ -f "$Q/lock/sendmutex" ] && [ ! -s "$Q/lock/sendmutex" ]; ok $? "lock/sendmutex is an empty file"
is "$(od -An -v -tx1 "$Q/lock/tcpto" | tr -d ' \n' | tr -d 0 | wc -c)/$(stat -c %s "$Q/lock/tcpto")" "0/1024" "lock/tcpto is 1024 zero bytes"
modes() {
  local p
  for p in "" pid mess mess/0 mess/22 intd intd/7 todo todo/22 info info/3 local local/0 \
           remote remote/22 bounce lock lock/sendmutex lock/trigger lock/tcpto; do
    printf '%s=%s ' "${p:-queue}" "$(stat -c "%a$2" "$1/$p")"
  done
}
want_modes="queue=750 pid=700 mess=750 mess/0=750 mess/22=750 intd=700 intd/7=700 todo=750 todo/22=750 info=700 info/3=700 local=700 local/0=700 remote=700 remote/22=700 bounce=700 lock=750 lock/sendmutex=600 lock/trigger=622 lock/tcpto=644 "
is "$(modes "$Q" "")" "$want_modes" "modes as qmail's hier.c"
if [ "$ME" = 0 ]; then
  is "$(modes "$Q" ":%U:%G" | tr ' ' '\n' | sed 's/=[0-7]*:/=/' | tr '\n' ' ')" \
     "queue=qmailq:qmail pid=qmailq:qmail mess=qmailq:qmail mess/0=qmailq:qmail mess/22=qmailq:qmail intd=qmailq:qmail intd/7=qmailq:qmail todo=qmailq:qmail todo/22=qmailq:qmail info=qmails:qmail info/3=qmails:qmail local=qmails:qmail local/0=qmails:qmail remote=qmails:qmail remote/22=qmails:qmail bounce=qmails:qmail lock=qmailq:qmail lock/sendmutex=qmails:qmail lock/trigger=qmails:qmail lock/tcpto=qmailr:qmail " \
     "root layout: owners as qmail's hier.c"
  sh "$MKQ" -s "$T/single" > /dev/null 2>&1
  is "$(find "$T/single" ! -user root | wc -l)" 0 "-s: single-user layout owned by the caller"
  is "$(modes "$T/single/queue" "")" "$want_modes" "-s: same modes"
else
  is "$(find "$Q" ! -user "$ME" | wc -l)" 0 "single-user layout: everything owned by the caller"
  skip "root layout owners (not root)"
  skip "-s layout (not root)"
fi

# ---- one message ---------------------------------------------------------
printf 'Subject: test\nX-Bin: a\0b\0\n\nbody line\n\0\0\nlast line without newline' > "$T/m1"
printf 'Fsender@example.org\0Trcpt1@example.net\0Trcpt2@example.com\0\0' > "$T/e1"
qq "$T/m1" "$T/e1"
is "$rc" 0 "message queued: exit 0"
is "$(check_one "$T/m1" "$T/e1" "$ME")" ok "one mess/intd/todo entry, exact bytes, Received line, u/p items"
clearq

printf 'Fa@b\0\0' > "$T/e0"
qq "$T/m1" "$T/e0"
is "$rc" 0 "zero recipients: exit 0"
is "$(check_one "$T/m1" "$T/e0" "$ME")" ok "zero recipients: exact"
clearq

: > "$T/empty"
qq "$T/empty" "$T/e1"
is "$rc" 0 "empty message: exit 0"
is "$(check_one "$T/empty" "$T/e1" "$ME")" ok "empty message: Received line only"
clearq

# the envelope stops at its final empty item: what follows is not read
printf 'Fa@b\0Tc@d\0\0trailing junk' > "$T/ej"
printf 'Fa@b\0Tc@d\0\0' > "$T/ejx"
qq "$T/m1" "$T/ej"
is "$rc" 0 "bytes after the final empty item: exit 0"
is "$(check_one "$T/m1" "$T/ejx" "$ME")" ok "bytes after the final empty item are not stored"
clearq

# ---- bad envelopes: 91, nothing left -------------------------------------
bad() {
  printf "$1" > "$T/eb"
  qq "$T/m1" "$T/eb"
  is "$rc/$(state)" "91/pid=0 mess=0 intd=0 todo=0" "bad envelope ($2): exit 91, nothing left"
}
bad '' "empty"
bad '\0' "lone NUL"
bad 'Ta@b\0\0' "T first"
bad 'Fa@b\0Fc@d\0\0' "F twice"
bad 'Fa@b\0Xc@d\0\0' "X item"
bad 'Fa@b\0Tc@d\0' "EOF before the final empty item"
bad 'Fa@b' "EOF inside the sender"
qq "$T/m1" /dev/null
is "$rc/$(state)" "91/pid=0 mess=0 intd=0 todo=0" "envelope at EOF at once: 91"

# ---- address caps: 11 ------------------------------------------------------
a1000=$(head -c 1000 /dev/zero | tr '\0' a)
printf 'F%s\0T%s\0\0' "$a1000" "$a1000" > "$T/e1000"
qq "$T/m1" "$T/e1000"
is "$rc" 0 "1000-byte sender and recipient: exit 0"
is "$(check_one "$T/m1" "$T/e1000" "$ME")" ok "1000-byte addresses stored exactly"
clearq
printf 'F%sb\0Tc\0\0' "$a1000" > "$T/e1001"
qq "$T/m1" "$T/e1001"
is "$rc/$(state)" "11/pid=0 mess=0 intd=0 todo=0" "1001-byte sender: exit 11, nothing left"
printf 'Fs\0Tc\0T%sb\0\0' "$a1000" > "$T/e1001"
qq "$T/m1" "$T/e1001"
is "$rc/$(state)" "11/pid=0 mess=0 intd=0 todo=0" "1001-byte recipient: exit 11, nothing left"
mkdir -p "$H/control"
echo 10 > "$H/control/maxaddress"
printf 'Fs\0T12345678901\0\0' > "$T/e11"
qq "$T/m1" "$T/e11"
is "$rc/$(state)" "11/pid=0 mess=0 intd=0 todo=0" "control/maxaddress 10: 11-byte address exits 11"
echo junk > "$H/control/maxaddress"
qq "$T/m1" "$T/e1000"
is "$rc/$(state)" "55/pid=0 mess=0 intd=0 todo=0" "garbage in control/maxaddress: exit 55 (never the default), nothing left"
rm -f "$H/control/maxaddress"

# ---- 50 MB streams -----------------------------------------------------------
head -c $((50 * 1024 * 1024)) /dev/urandom > "$T/big"
if [ -x /usr/bin/time ]; then
  cat "$T/big" | QMAILHOME=$H /usr/bin/time -o "$T/rss" -f %M "$QQ" 1< "$T/e1"
  rc=$?; rss=$(tail -1 "$T/rss")
else
  cat "$T/big" | QMAILHOME=$H "$QQ" 1< "$T/e1" & p=$!; rss=0
  while [ -d /proc/$p ]; do
    v=$(awk '/VmHWM/ {print $2}' /proc/$p/status 2>/dev/null); [ -n "$v" ] && rss=$v; sleep 0.02
  done
  wait $p; rc=$?
fi
is "$rc" 0 "50 MB message through a pipe: exit 0"
is "$(check_one "$T/big" "$T/e1" "$ME")" ok "50 MB message stored exactly"
[ "$rss" -gt 0 ] && [ "$rss" -lt 16384 ]; ok $? "50 MB message: peak RSS ${rss} KB < 16 MB"
clearq; rm -f "$T/big"

# ---- the trigger: "N\n" -------------------------------------------------------------
exec 9<> "$Q/lock/trigger"   # a reader (and writer) that never blocks
qq "$T/m1" "$T/e1"
is "$rc" 0 "with a trigger reader: exit 0"
is "$(timeout 5 head -n 1 <&9)" "$(cd "$Q/todo" && ls */ | grep -v / | grep -v '^$')" "the trigger names the queued message (N and a newline)"
head -c 65536 /dev/zero >&9  # fill the FIFO: the next write would block
timeout 10 env QMAILHOME="$H" "$QQ" < "$T/m1" 1< "$T/e1"
is "$?" 0 "trigger FIFO full: exit 0 at once (no blocking)"
exec 9<&-
timeout 10 env QMAILHOME="$H" "$QQ" < "$T/m1" 1< "$T/e1"
is "$?" 0 "no trigger reader: exit 0 at once"
is "$(nfiles todo)" 3 "all three queued"
clearq

# ---- the 24 h alarm (sent early): 52, files left for the cleanup --------------
mkfifo "$T/slow"
QMAILHOME=$H "$QQ" < "$T/slow" 1< "$T/e1" & p=$!
exec 8> "$T/slow"
printf 'partial' >&8
for i in $(seq 100); do [ "$(nfiles mess)" = 1 ] && break; sleep 0.05; done
kill -ALRM $p; wait $p; rc=$?
exec 8>&-
is "$rc/$(state)" "52/pid=0 mess=1 intd=0 todo=0" "SIGALRM: exit 52, mess left for the stale cleanup"
clearq

# ---- 200 messages --------------------------------------------------------------
fails=0
for i in $(seq 200); do qq "$T/m1" "$T/e1"; [ "$rc" = 0 ] || fails=$((fails + 1)); done
is "$fails" 0 "200 messages: all exit 0"
is "$(state)" "pid=0 mess=200 intd=200 todo=200" "200 messages: 200 mess/intd/todo entries"
is "$(find "$Q/todo" -type f -printf '%f\n' | sort -u | wc -l)" 200 "200 distinct names"
bad=0
for f in $(find "$Q/todo" -type f); do
  n=${f##*/}; s=${f%/*}; s=${s##*/}
  [ "$s" = $((n % 23)) ] && [ "$(stat -c %i "$Q/mess/$s/$n")" = "$n" ] &&
    [ "$(stat -c %i "$f")" = "$(stat -c %i "$Q/intd/$s/$n")" ] || bad=$((bad + 1))
done
is "$bad" 0 "each: split = N % 23, mess/S/N has inode N, todo/S/N = intd/S/N"
subdirs=$(find "$Q/todo" -type f -printf '%h\n' | sort -u | wc -l)
[ "$subdirs" -ge 15 ]; ok $? "200 messages spread over $subdirs of 23 todo subdirectories"

# ---- mkqueue.sh again on a live queue: nothing touched -------------------------
chmod 711 "$Q/bounce"
printf 'x' > "$Q/lock/tcpto"
before=$(find "$Q" -printf '%p %i %m %s %u\n' | sort | md5sum)
sh "$MKQ" "$H" > /dev/null 2>&1
ok $? "mkqueue.sh again: exit 0"
is "$(find "$Q" -printf '%p %i %m %s %u\n' | sort | md5sum)" "$before" "mkqueue.sh again: no entry changed (modes, files, messages)"
rm -r "$Q/info/5" "$Q/lock/trigger"
sh "$MKQ" "$H" > /dev/null 2>&1
[ -d "$Q/info/5" ] && [ -p "$Q/lock/trigger" ] && [ "$(stat -c %a "$Q/bounce")" = 711 ]
ok $? "mkqueue.sh again: missing entries made, existing ones kept"
clearq

# ---- root: the installed bin/qmail-queue (make install as root) ----------------
# The install makes it qmailq:qmail 4711 in a root-layout queue that only
# the qmail users may enter. Run as another user it must: queue into the
# home compiled in ($QMAILHOME, pointing at a queue the caller could write,
# is ignored), leave files owned by qmailq, record the caller's real uid (u
# item and Received line, with qmail's words for qmaild, alias and
# qmails), and clean up after itself when it refuses an envelope.
NSUID=16
if [ "$ME" != 0 ]; then
  for i in $(seq $NSUID); do skip "installed setuid qmail-queue: a normal user's install sets no owners and nothing setuid"; done
else
  IH=$T/ihome IQS=$T/ihome/queue
  qmake install QMAILHOME="$IH" > "$T/install.log" 2>&1 ||
    { sed 's/^/# /' "$T/install.log"; echo "Bail out! make install failed"; exit 1; }
  IQQ=$IH/bin/qmail-queue
  is "$(stat -c '%U:%G %a' "$IQQ")" "qmailq:qmail 4711" "installed bin/qmail-queue: qmailq:qmail, mode 4711"
  is "$(stat -c '%U:%G %a' "$IQS" "$IQS/mess" "$IQS/todo" "$IQS/intd" "$IQS/pid" | tr '\n' ' ')" \
     "qmailq:qmail 750 qmailq:qmail 750 qmailq:qmail 750 qmailq:qmail 700 qmailq:qmail 700 " \
     "installed queue: qmailq's, closed to other users"
  # a decoy queue the callers could write, named by $QMAILHOME
  sh "$MKQ" -s "$T/decoy" > /dev/null 2>&1 && chmod -R a+rwx "$T/decoy"
  chmod 644 "$T/m1" "$T/e1"
  istate() { # the installed queue: "pid=.. mess=.. intd=.. todo=.."
    local d n out=""
    for d in pid mess intd todo; do n=$(find "$IQS/$d" -type f | wc -l); out="$out$d=$n "; done
    echo "${out% }"
  }
  dstate() { find "$T/decoy/queue" -type f ! -path '*/lock/*' | wc -l; }
  # as USER [ENV...] -- CMD...: run CMD as USER (its own group, no others)
  as() {
    local u=$1; shift
    env ASAN_OPTIONS=detect_leaks=0 QMAILHOME="$T/decoy" \
      setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"
  }
  suid() {  # suid USER WANTED-WORDS
    local uid r f line env own
    uid=$(id -u "$1")
    as "$1" "$IQQ" < "$T/m1" 1< "$T/e1"; r=$?
    f=$(find "$IQS/mess" -type f)
    line=$(head -1 "$f" 2>/dev/null)
    env=$(find "$IQS/todo" -type f -exec cat {} + | tr '\0' ' ')
    own=$(stat -c %U "$f" "$(find "$IQS/todo" -type f)" 2>/dev/null | tr '\n' ' ')
    like "$r#$(istate)#$(dstate)" "^0#pid=0 mess=1 intd=1 todo=1#0\$" \
      "setuid, run by $1: exit 0, one message in the installed home, none in \$QMAILHOME's"
    is "$own" "qmailq qmailq " "setuid, run by $1: mess and todo files owned by qmailq"
    like "$line#$env" \
      "^Received: \(qmail [0-9]+ $2 id [0-9]+\.[0-9]{9}\.[0-9]+\); [^#]*#u$uid p[0-9]+ i[0-9]+\.[0-9]{9}\.[0-9]+ Fsender@example.org " \
      "setuid, run by $1: '$2' and u$uid recorded"
    find "$IQS/mess" "$IQS/intd" "$IQS/todo" -type f -delete
  }
  suid nobody "invoked by uid $(id -u nobody)"
  suid qmaild "invoked from network"
  suid alias "invoked by alias"
  suid qmails "invoked for bounce"
  # refusals: a bad envelope leaves nothing behind (the caller could not
  # remove qmailq's files); without the setuid bit nobody cannot get in
  printf 'Tc@d\0\0' > "$T/ebad"; chmod 644 "$T/ebad"
  as nobody "$IQQ" < "$T/m1" 1< "$T/ebad"
  is "$?/$(istate)/$(dstate)" "91/pid=0 mess=0 intd=0 todo=0/0" "setuid, bad envelope: exit 91, nothing left in either queue"
  cp "$IQQ" "$T/qq-plain"; chmod 755 "$T/qq-plain"
  env -u QMAILHOME setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    env ASAN_OPTIONS=detect_leaks=0 "$T/qq-plain" < "$T/m1" 1< "$T/e1"
  is "$?/$(istate)" "62/pid=0 mess=0 intd=0 todo=0" "the same program without the setuid bit, run by nobody: queue/ not enterable: exit 62"
fi

QMAILHOME=$T/nonexistent "$QQ" < "$T/m1" 1< "$T/e1"
is "$?" 61 "no home: exit 61"
mkdir -p "$T/noqueue"
QMAILHOME=$T/noqueue "$QQ" < "$T/m1" 1< "$T/e1"
is "$?" 62 "home without queue/: exit 62"

done_testing
