#!/bin/bash
# checkpassword.t: qmail-checkpassword and qmail-passwd on an installed hub
# (issue 11, "our checkpassword").
#   qmail-passwd --stdin makes users/passwd (0600) and users/passwd.cdb
#   (0640, as root group qmaild's); a good login runs the program with
#   USER, HOME, SHELL, the account's uid, gid and groups (as root) and its
#   home as the working directory, the caller's environment kept and the
#   program's exit status passed on; the login ignores case; a request
#   without a timestamp (SMTP AUTH) works; exactly 512 bytes work.
#   Refusals: a wrong password and an unknown login exit 1 with nothing
#   printed, alike, and cost about the same time (medians of 20 tries each,
#   a factor of 3 either way); empty fields and over-long ones exit 1.
#   Misuse exits 2: no NUL, one NUL, nothing on descriptor 3, descriptor 3
#   closed, 513 bytes, no program. A missing, unreadable or broken cdb
#   exits 111. qmailctl cdb compiles a hand-edited users/passwd and keeps
#   the old cdb on a bad line (exit 111, the line named), and so does
#   qmail-passwd (users/passwd unchanged too); a caller that is not root
#   keeps its ids and gets / as its directory for another uid's account
#   (qmail-smtpd as qmaild); qmail-passwd
#   changes and removes passwords, keeps other lines and comments, asks
#   twice on a terminal with echo off (a pty) and refuses two different
#   answers; a system-form line for root is refused. No password appears in
#   any file of the home or in anything a program printed. As root also
#   /etc/shadow (control/checkpwshadow): a test account made with useradd
#   logs in, not when the switch is off, locked or expired; the switch for
#   a caller that cannot read /etc/shadow, or set to 2, is 111 for every
#   login; a system-form line in users/passwd for that account.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
for p in qmail-checkpassword qmail-passwd; do
  [ -x "$SRCDIR/$BUILD/hub/$p" ] || { echo "Bail out! hub/$p is not built in $SRCDIR/$BUILD"; exit 1; }
done
unset QMAILHOME

hub_install; ok $? "make install makes a hub home"
bin=$HUB/bin
R=$T/secret; mkdir -m 700 "$R"      # request files: the passwords, by design
O=$T/outputs; mkdir "$O"            # everything the programs printed
PW1=Pw1-$RANDOM-alpha PW2=Pw2-$RANDOM-bravo PW3=Pw3-$RANDOM-tty PW4=Pw4-$RANDOM-sys
AS=(); [ "$(id -u)" = 0 ] && AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# req LOGIN PASS [TIMESTAMP]: the request file $R/r (login\0pass\0ts\0)
req() { printf '%s\0%s\0%s\0' "$1" "$2" "${3-<1234.5678@hub>}" > "$R/r"; }
# cp [PREFIX...] -- PROG...: run qmail-checkpassword on $R/r; sets rc,
# out, err (all outputs kept in $O for the secrets check)
n_run=0
cp_run() {
  local pre=()
  while [ "$1" != -- ]; do pre+=("$1"); shift; done; shift
  n_run=$((n_run + 1))
  "${pre[@]}" "$bin/qmail-checkpassword" "$@" 3< "$R/r" > "$O/out.$n_run" 2> "$O/err.$n_run"
  rc=$?; out=$(cat "$O/out.$n_run"); err=$(cat "$O/err.$n_run")
}
show='printf "%s|%s|%s|%s|%s|%s|%s" "$USER" "$HOME" "$SHELL" "$(id -u)" "$(id -g)" "$(id -G)" "$(pwd)"'
login() { req "$1" "$2"; cp_run -- sh -c "$show"; }

ok "$([ -x "$bin/qmail-checkpassword" ] && [ -x "$bin/qmail-passwd" ]; echo $?)" "both programs installed"
ok "$([ -f "$HUB/man/man8/qmail-checkpassword.8" ] && [ -f "$HUB/man/man8/qmail-passwd.8" ]; echo $?)" "both man pages installed"
if ldd "$bin/qmail-send" 2>/dev/null | grep -q libcrypt; then ok 1 "qmail-send does not link libcrypt"
else ok 0 "qmail-send does not link libcrypt"; fi
like "$(ldd "$bin/qmail-checkpassword")" "libcrypt" "qmail-checkpassword links libcrypt"

# ---- no users/passwd yet: every login is a temporary failure ---------------
login alice "$PW1"
is "$rc" 111 "no users/passwd.cdb: 111"
like "$err" "unable to open .*users/passwd.cdb" "and stderr names the cdb"

# ---- qmail-passwd --stdin --------------------------------------------------
A=$T/home/alice; mkdir -p "$A"; chown "$RUID:$RGID" "$A"
printf '%s\n' "$PW1" | "$bin/qmail-passwd" --stdin alice "$RUID" "$RGID" "$A" > "$O/passwd.1" 2>&1
is "$?" 0 "qmail-passwd --stdin alice UID GID HOME"
is "$(cat "$O/passwd.1")" "alice: password set" "it says so"
like "$(cat "$HUB/users/passwd")" "^alice:\\\$y\\\$[^:]+:$RUID:$RGID:$A\$" "users/passwd: alice:\$y\$...:uid:gid:home"
is "$(stat -c %a "$HUB/users/passwd")" 600 "users/passwd mode 0600"
is "$(stat -c %a "$HUB/users/passwd.cdb")" 640 "users/passwd.cdb mode 0640"
if [ "$(id -u)" = 0 ]; then
  is "$(stat -c %g "$HUB/users/passwd.cdb")" "$(id -g qmaild)" "as root: the cdb's group is qmaild's"
  is "$(stat -c %a:%U "$bin/qmail-passwd")" 700:root "as root: qmail-passwd mode 0700"
else
  ok 0 "# skip the cdb's group (not root)"; ok 0 "# skip qmail-passwd's mode (not root)"
fi

# ---- a good login ----------------------------------------------------------
groups=$RGID; [ "$(id -u)" = 0 ] || groups=$(id -G)
login alice "$PW1"
is "$rc" 0 "good login: exit 0 (the program's)"
is "$out" "alice|$A|/usr/sbin/nologin|$RUID|$RGID|$groups|$A" "USER HOME SHELL uid gid groups cwd"
is "$err" "" "nothing on stderr"
login ALICE "$PW1"
is "$rc:${out%%|*}" 0:alice "the login ignores case; USER is as stored"
req alice "$PW1"; cp_run env FOO=bar-env -- sh -c 'printf %s "$FOO"'
is "$rc:$out" 0:bar-env "the caller's environment is kept"
req alice "$PW1"; cp_run -- sh -c 'exit 7'
is "$rc" 7 "the program's exit status is passed on"
printf '%s\0%s\0' alice "$PW1" > "$R/r"; cp_run -- true
is "$rc" 0 "no timestamp (SMTP AUTH): accepted"
ts=$(head -c $((512 - 6 - ${#PW1} - 2)) /dev/zero | tr '\0' x)
req alice "$PW1" "$ts"; is "$(stat -c %s "$R/r")" 512 "a request of exactly 512 bytes"
cp_run -- true; is "$rc" 0 "is accepted"

# ---- refusals: 1, nothing printed, wrong password = unknown login ----------
login alice "$PW1-x"; wrong="$rc|$out|$err"
is "$wrong" "1||" "wrong password: exit 1, nothing printed"
login nosuchuser "$PW1"; unknown="$rc|$out|$err"
is "$unknown" "1||" "unknown login: exit 1, nothing printed"
is "$unknown" "$wrong" "the two look the same"
login alice ""; is "$rc|$out$err" "1|" "empty password: 1"
login "" "$PW1"; is "$rc|$out$err" "1|" "empty login: 1"
login "$(head -c 300 /dev/zero | tr '\0' a)" "$PW1"; is "$rc|$out$err" "1|" "300-byte login: 1"
login alice "$(head -c 300 /dev/zero | tr '\0' a)"; is "$rc|$out$err" "1|" "300-byte password: 1"
login "ali:ce" "$PW1"; is "$rc|$out$err" "1|" "login with ':': 1"

# timing: 20 of each, interleaved; medians within a factor of 3
ms() { local s e; s=$(date +%s%N); cp_run -- true; e=$(date +%s%N); echo $(((e - s) / 1000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
: > "$T/t.wrong"; : > "$T/t.unknown"
for i in $(seq 20); do
  req alice "wrong-$i"; ms >> "$T/t.wrong"
  req "nobody-$i" "wrong-$i"; ms >> "$T/t.unknown"
done
mw=$(median < "$T/t.wrong") mu=$(median < "$T/t.unknown")
echo "# median microseconds: wrong password $mw, unknown login $mu"
ok "$([ $((mu * 3)) -ge "$mw" ] && [ $((mw * 3)) -ge "$mu" ]; echo $?)" "unknown login and wrong password take about the same time"

# ---- misuse: 2 --------------------------------------------------------------
printf 'alice' > "$R/r"; cp_run -- true; is "$rc|$out" "2|" "no NUL: 2"
printf 'alice\0%s' "$PW1" > "$R/r"; cp_run -- true; is "$rc|$out" "2|" "password without its NUL: 2"
: > "$R/r"; cp_run -- true; is "$rc|$out" "2|" "nothing on descriptor 3: 2"
req alice "$PW1" "$ts"x; cp_run -- true; is "$rc|$out" "2|" "513 bytes: 2"
like "$err" "more than 512 bytes" "and says why"
req alice "$PW1"; cp_run --; is "$rc|$out" "2|" "no program: 2"
"$bin/qmail-checkpassword" true 3<&- > "$O/out.closed" 2> "$O/err.closed"
is "$?" 2 "descriptor 3 closed: 2"

# ---- the cdb unreadable or broken: 111 -------------------------------------
cdb=$HUB/users/passwd.cdb
if [ "$(id -u)" = 0 ]; then
  req alice "$PW1"; cp_run "${AS[@]}" -- true
  is "$rc" 111 "cdb unreadable (nobody, not in its group): 111"
else
  chmod 000 "$cdb"; req alice "$PW1"; cp_run -- true; chmod 640 "$cdb"
  is "$rc" 111 "cdb unreadable (mode 000): 111"
fi
like "$err" "unable to open .*passwd.cdb" "and says which file"
mv "$cdb" "$cdb.keep"; mkdir "$cdb"
req alice "$PW1"; cp_run -- true; is "$rc" 111 "a directory in place of the cdb: 111"
req nosuchuser "$PW1"; cp_run -- true; is "$rc" 111 "for an unknown login too"
rmdir "$cdb"; head -c 1000 /dev/urandom > "$cdb"
req alice "$PW1"; cp_run -- true; ok "$([ "$rc" = 111 ] || [ "$rc" = 1 ]; echo $?)" "a cdb of random bytes: 111 or 1, never 0"
mv -f "$cdb.keep" "$cdb"
login alice "$PW1"; is "$rc" 0 "the cdb back: alice logs in"

# ---- qmail-passwd: change, keep other lines, remove ------------------------
B=$T/home/bob; mkdir -p "$B"; chown "$RUID:$RGID" "$B"
printf '%s\n' "$PW2" | "$bin/qmail-passwd" --stdin bob "$RUID" "$RGID" "$B" > "$O/passwd.2" 2>&1
is "$?" 0 "qmail-passwd --stdin bob"
printf '# a comment kept\n' >> "$HUB/users/passwd"
printf '%s\n' "$PW2" | "$bin/qmail-passwd" --stdin ALICE > "$O/passwd.3" 2>&1
is "$?" 0 "qmail-passwd --stdin ALICE: alice's password changed"
login alice "$PW1"; is "$rc" 1 "the old password is refused"
login alice "$PW2"; is "$rc:$out" "0:alice|$A|/usr/sbin/nologin|$RUID|$RGID|$groups|$A" "the new one works; uid, gid, home kept"
login bob "$PW2"; is "$rc" 0 "bob still logs in"
like "$(cat "$HUB/users/passwd")" "# a comment kept" "the comment is kept"
is "$(grep -c '^alice:' "$HUB/users/passwd")" 1 "alice has one line"
"$bin/qmail-passwd" -d bob > "$O/passwd.4" 2>&1; is "$?" 0 "qmail-passwd -d bob"
login bob "$PW2"; is "$rc" 1 "bob is gone"
"$bin/qmail-passwd" -d bob > "$O/passwd.5" 2>&1; is "$?" 100 "-d for a missing login: 100"
printf '%s\n' "$PW2" | "$bin/qmail-passwd" --stdin "bad:login" > "$O/passwd.6" 2>&1; is "$?" 100 "a login with ':': 100"
printf '%s\n' "$PW2" | "$bin/qmail-passwd" --stdin carl 0 0 /root > "$O/passwd.7" 2>&1; is "$?" 100 "uid 0: 100"
printf '\n' | "$bin/qmail-passwd" --stdin carl > "$O/passwd.8" 2>&1; is "$?" 100 "an empty password: 100"
ok "$(grep -q '^carl:' "$HUB/users/passwd"; [ $? = 1 ]; echo $?)" "none of them wrote a line"

# root in the system form: the right password, still refused
h=$(sed -n 's/^alice:\([^:]*\):.*/\1/p' "$HUB/users/passwd")
printf 'root:%s\n' "$h" >> "$HUB/users/passwd"
"$bin/qmailctl" cdb > "$O/cdb.1" 2>&1; is "$?" 0 "qmailctl cdb"
like "$(cat "$O/cdb.1")" "users/passwd.cdb: compiled" "it compiles users/passwd"
login root "$PW2"; is "$rc|$out" "1|" "root (uid 0) with its right password: 1"

# ---- qmailctl cdb: a hand-edited file; a bad line keeps the old cdb --------
C=$T/home/carol; mkdir -p "$C"; chown "$RUID:$RGID" "$C"
printf 'Carol:%s:%s:%s:%s\n' "$h" "$RUID" "$RGID" "$C" >> "$HUB/users/passwd"
login carol "$PW2"; is "$rc" 1 "carol before qmailctl cdb: 1"
"$bin/qmailctl" cdb > "$O/cdb.2" 2>&1; is "$?" 0 "qmailctl cdb"
login carol "$PW2"; is "$rc|${out%%|*}" "0|carol" "carol after it: 0"
printf 'dave:%s:x:1:/h\n' "$h" >> "$HUB/users/passwd"
"$bin/qmailctl" cdb > "$O/cdb.3" 2>&1; is "$?" 111 "qmailctl cdb with a bad line: 111"
like "$(cat "$O/cdb.3")" "line $(wc -l < "$HUB/users/passwd"): bad uid" "naming the line"
login carol "$PW2"; is "$rc" 0 "the old cdb still works"
ok "$([ ! -e "$HUB/users/passwd.cdb.tmp" ]; echo $?)" "no temporary file left"
cp -p "$HUB/users/passwd" "$T/passwd.before"
printf '%s\n' "$PW1" | "$bin/qmail-passwd" --stdin carol > "$O/passwd.9" 2>&1
is "$?" 111 "qmail-passwd with a bad line elsewhere in the file: 111"
ok "$(cmp -s "$HUB/users/passwd" "$T/passwd.before"; echo $?)" "and users/passwd is unchanged"
login carol "$PW2"; is "$rc" 0 "and so is the cdb"
sed -i '/^dave:/d' "$HUB/users/passwd"

# a caller that is not root keeps its ids; another uid's account gets cwd /
E=$T/home/eve; mkdir -p "$E"
if [ "$(id -u)" = 0 ]; then
  euid=12345 caller=(setpriv --reuid=65534 --regid="$(id -g qmaild)" --clear-groups) cuid=65534
else euid=$(($(id -u) + 1)) caller=() cuid=$(id -u); fi
printf '%s\n' "$PW1" | "$bin/qmail-passwd" --stdin eve "$euid" "$euid" "$E" > "$O/passwd.10" 2>&1
req eve "$PW1"; cp_run "${caller[@]}" -- sh -c 'printf "%s|%s|%s" "$(id -u)" "$HOME" "$(pwd)"'
is "$rc|$out" "0|$cuid|$E|/" "not root (as qmaild's group): ids kept, HOME set, cwd / (eve's uid is not ours)"

# ---- qmail-passwd on a terminal: twice, echo off ---------------------------
ptyrun() { # ptyrun ANSWER1 ANSWER2 ARGS...: output and exit code
  python3 - "$@" <<'EOF'
import os, pty, sys, time
a1, a2, args = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(args[0], args)
out, answers, end = b"", [a1, a2], time.time() + 30
while time.time() < end:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
    if answers and out.rstrip().endswith(b"password:"):
        os.write(fd, (answers.pop(0) + "\n").encode())
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("rc=%d" % os.waitstatus_to_exitcode(st))
EOF
}
D=$T/home/dave; mkdir -p "$D"; chown "$RUID:$RGID" "$D"
tty=$(ptyrun "$PW3" "$PW3" "$bin/qmail-passwd" dave "$RUID" "$RGID" "$D"); echo "$tty" > "$O/tty.1"
like "$tty" "rc=0" "qmail-passwd on a terminal: exit 0"
like "$(echo "$tty" | tr "\n" " ")" "New password: .*Retype new password: " "it asks twice"
ok "$(printf '%s' "$tty" | grep -qF -- "$PW3"; [ $? = 1 ]; echo $?)" "the password is not echoed"
login dave "$PW3"; is "$rc" 0 "dave logs in"
tty=$(ptyrun "$PW3-a" "$PW3-b" "$bin/qmail-passwd" dave); echo "$tty" > "$O/tty.2"
like "$tty" "rc=100" "two different answers: 100"
like "$tty" "the passwords differ" "saying so"
login dave "$PW3"; is "$rc" 0 "the password is unchanged"

# ---- /etc/shadow (root only) -------------------------------------------------
U=qcpt$$ S=$T/home/sys
_cp_exit() { [ -n "${made_user:-}" ] && userdel "$U" >/dev/null 2>&1; _hub_exit; }
trap _cp_exit EXIT
retry() { local i; for i in $(seq 20); do "$@" 2>/dev/null && return 0; sleep 0.3; done; return 1; }
if [ "$(id -u)" != 0 ]; then
  for i in $(seq 14); do ok 0 "# skip /etc/shadow checks need root (useradd, reading /etc/shadow)"; done
else
  mkdir -p "$S"
  retry useradd -M -d "$S" -s /bin/sh "$U"; ok $? "useradd $U"; made_user=1
  chown "$U:" "$S"
  printf '%s:%s\n' "$U" "$PW4" | retry chpasswd; ok $? "chpasswd $U"
  uid=$(id -u "$U") gid=$(id -g "$U")
  login "$U" "$PW4"; is "$rc" 1 "no control/checkpwshadow: a system account is unknown"
  echo 1 > "$HUB/control/checkpwshadow"
  login "$U" "$PW4"; is "$rc|$out" "0|$U|$S|/bin/sh|$uid|$gid|$(id -G "$U")|$S" "checkpwshadow 1: logs in as $U"
  login "$U" "$PW4-x"; is "$rc|$out$err" "1|" "wrong password: 1"
  login alice "$PW2"; is "$rc" 0 "users/passwd still comes first"
  retry usermod -L "$U"; login "$U" "$PW4"; is "$rc" 1 "locked (usermod -L): 1"
  retry usermod -U "$U"; retry usermod -e 1 "$U"; login "$U" "$PW4"; is "$rc" 1 "expired (usermod -e 1): 1"
  retry usermod -e '' "$U"; login "$U" "$PW4"; is "$rc" 0 "unlocked, not expired: 0"
  req "$U" "$PW4"; cp_run "${AS[@]}" -- true
  is "$rc" 111 "checkpwshadow 1 for a caller that cannot read /etc/shadow: 111"
  req nosuchuser "$PW4"; cp_run "${AS[@]}" -- true
  is "$rc" 111 "for an unknown login alike"
  echo 2 > "$HUB/control/checkpwshadow"
  login "$U" "$PW4"; is "$rc" 111 "checkpwshadow 2: 111"
  echo 1 > "$HUB/control/checkpwshadow"; mv "$cdb" "$cdb.keep"
  login nosuchuser "$PW4"; is "$rc" 1 "checkpwshadow 1 and no cdb: an unknown login is 1, not 111"
  mv "$cdb.keep" "$cdb"; rm -f "$HUB/control/checkpwshadow"
  # the system form in users/passwd: this file's hash, the account's ids
  printf '%s:%s\n' "$U" "$h" >> "$HUB/users/passwd"; "$bin/qmailctl" cdb > "$O/cdb.4" 2>&1
  login "$U" "$PW2"; is "$rc|$out" "0|$U|$S|/bin/sh|$uid|$gid|$(id -G "$U")|$S" "system form in users/passwd: the account's ids and home"
fi

# ---- no password in any file of the home, nor in anything printed -----------
for p in "$PW1" "$PW2" "$PW3" "$PW4"; do
  hits=$(grep -rlaF -- "$p" "$HUB" "$O" 2>/dev/null)
  is "$hits" "" "password ${p%%-*} appears nowhere (home, outputs)"
done

done_testing
