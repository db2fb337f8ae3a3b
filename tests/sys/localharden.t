#!/bin/bash
# localharden.t: local delivery hardening (issue 10 items 1, 7, 8, 9, 13).
# First qmail-local alone (the installed one, as the recipient):
#   .qmail programs: control/timeoutprogram kills a program that runs too
#   long with its whole process group and defers (no sleep left behind); a
#   program that exits while a background child keeps its output open does
#   not hold the delivery; a malformed timeoutprogram defers, naming the
#   file; the program sees qmail's environment only (no SECRET exported by
#   the caller) and no descriptor above 2 (251 open in the caller).
#   mbox: a symlink (to a file, dangling), a file with two links, a FIFO
#   and a file of another user are refused (temporary, a clear message)
#   and left untouched.
#   Maildir: the default delivery creates a missing ./Maildir/ (0700,
#   tmp new cur); an explicit .qmail line does not, and says where, with
#   an absolute path.
# Then a running hub (qmailctl start with SECRET exported and fd 251 open):
#   a .qmail program's environment and descriptors, a user without a
#   Maildir gets one at the first default delivery, the timeout on the
#   hub (deferral logged), qmailctl stop ends a running program. As root also: the process tree has no root
#   process but qmail-lspawn and the supervisor's shell, the lookup
#   process (qmail-lspawn's child, named qmail-getpw: no exec) runs as
#   qmailp, users/cdb is read by a process that is not root,
#   qmail-start, qmail-lspawn and qmail-newu are mode 0700.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
export TZ=UTC

hub_install; ok $? "make install makes a hub home"
bin=$HUB/bin
for u in lh ln; do hub_user "$u"; done
mkdir -p "$T/home/lnomd"; chmod 755 "$T/home/lnomd"; chown "$RUID:$RGID" "$T/home/lnomd"
hub_assign "=lnomd:$RNAME:$RUID:$RGID:$T/home/lnomd:::"
hub_newu; ok $? "qmail-newu"
U=$T/home/lh
AS=(); [ "$(id -u)" = 0 ] && AS=(setpriv --reuid="$RUID" --regid="$RGID" --clear-groups)
asuser() { "${AS[@]}" "$@"; }
printf 'Subject: hardening\n\nbody\n' > "$T/msg"

# ql EXT [DEFAULTDELIVERY]: qmail-local for lh-EXT (lh when EXT is empty),
# at most 60 s; sets out, rc, secs. SECRET is exported and fd 251 open.
ql() {
  local t0=$SECONDS dash=- local=lh-$1
  [ -z "$1" ] && dash="" local=lh
  # a file, not $(...): a process left holding the output must not hang us
  (cd "$U" && SECRET=x timeout 60 "${AS[@]}" "$bin/qmail-local" lh "$U" "$local" "$dash" "$1" \
     hub.example.org s@example.net "${2:-./Maildir/}" < "$T/msg" > "$T/ql.out" 2>&1 251< /dev/null)
  rc=$? secs=$((SECONDS - t0)) out=$(cat "$T/ql.out")
}
# alive PID: a process that is not a zombie
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
# gone PID: PID ends within 10 s (if not, it is killed at exit)
gone() { local _; for _ in $(seq 100); do alive "$1" || return 0; sleep 0.1; done; _pids+=("$1"); return 1; }

# ---- programs: timeout, background children, timeoutprogram ---------------
echo 2 > "$HUB/control/timeoutprogram"
dq "$U" .qmail-slow '|sleep 1000000 & echo $! > slow.pid; wait
'
ql slow
is "$rc" 111 "timeout: a program over control/timeoutprogram is a temporary failure"
like "$out" 'program timed out after 2 s' "timeout: the message says so"
ok "$([ "$secs" -lt 30 ]; echo $?)" "timeout: it took ${secs} s (2 s limit, less than 30)"
sp=$(cat "$U/slow.pid" 2>/dev/null)
[ -n "$sp" ] && gone "$sp"; ok $? "timeout: the program's background sleep ($sp) was killed with its process group"
rm -f "$HUB/control/timeoutprogram"

dq "$U" .qmail-bg '|sleep 1000000 & echo $! > bg.pid; echo started
./Maildir/
'
n0=$(nfiles "$U/Maildir/new")
ql bg
is "$rc" 0 "background child holding the output: the delivery still ends"
ok "$([ "$secs" -lt 30 ]; echo $?)" "background child: it took ${secs} s (less than 30)"
like "$out" 'started' "background child: the program's output is passed on"
is "$(nfiles "$U/Maildir/new")" "$((n0 + 1))" "background child: the next line was delivered"
bp=$(cat "$U/bg.pid" 2>/dev/null)
[ -n "$bp" ] && gone "$bp"; ok $? "background child ($bp) still holding the output is killed"

dq "$U" .qmail-ran '|touch ran
'
echo 'ten seconds' > "$HUB/control/timeoutprogram"
ql ran
is "$rc" 111 "malformed timeoutprogram: temporary failure"
like "$out" "$HUB/control/timeoutprogram" "malformed timeoutprogram: the message names the file"
ok "$([ ! -e "$U/ran" ]; echo $?)" "malformed timeoutprogram: the program did not run"
for v in 0 604801 99999999999999999999999; do
  echo "$v" > "$HUB/control/timeoutprogram"
  ql ran
  is "$rc:$(test -e "$U/ran"; echo $?)" "111:1" "timeoutprogram $v: temporary failure, the program did not run"
done
rm -f "$HUB/control/timeoutprogram"
ql ran
is "$rc:$(test -e "$U/ran"; echo $?)" "0:0" "no timeoutprogram: the default applies, the program runs"

# ---- programs: environment and descriptors --------------------------------
dq "$U" .qmail-env '|env -0 > env.out; sh -c "ls /proc/\$PPID/fd > fd.out"; exit 0
'
ql env
is "$rc" 0 "environment: delivered"
# env.out: NUL-separated; one variable a line, inner newlines as spaces
envl() { tr '\n\0' ' \n' < "$1/env.out"; }
ok "$(envl "$U" | grep -q '^SECRET='; [ $? = 1 ]; echo $?)" "environment: nothing exported by the caller (SECRET)"
is "$(tr '\n' ' ' < "$U/fd.out")" "0 1 2 " "descriptors: the program has 0 1 2 only (251 was open in the caller)"
extra=$(envl "$U" | sed 's/=.*//' | grep -vxE 'SENDER|NEWSENDER|RECIPIENT|USER|HOME|HOST[234]?|LOCAL|EXT[234]?|DEFAULT|DTLINE|RPLINE|UFLINE|PATH|QMAILHOME|QMAILQUEUE|PWD|SHLVL|_' | tr '\n' ' ')
is "$extra" "" "environment: only qmail's variables (and what sh adds)"
is "$(envl "$U" | grep -E '^(SENDER|RECIPIENT|USER|HOME|LOCAL|EXT)=' | sort | tr '\n' '|')" \
   "EXT=env|HOME=$U|LOCAL=lh-env|RECIPIENT=lh-env@hub.example.org|SENDER=s@example.net|USER=lh|" "environment: qmail's variables"
like "$(envl "$U" | grep '^PATH=')" "^PATH=$HUB/bin:" "environment: PATH starts with the home's bin"

# ---- mbox: only a regular file of ours with one link -----------------------
asuser sh -c "echo other > '$U/other'; ln -s other '$U/mlink'; ln -s nowhere '$U/mdang'; echo x > '$U/m2'; ln '$U/m2' '$U/m2b'; mkfifo '$U/mfifo'"
dq "$U" .qmail-sym './mlink
'
ql sym
is "$rc" 111 "mbox symlink: temporary failure"
like "$out" "Refusing to deliver to $U/mlink: it is a symbolic link" "mbox symlink: clear message, absolute path"
is "$(cat "$U/other")" "other" "mbox symlink: its target is not written"
dq "$U" .qmail-dang './mdang
'
ql dang
is "$rc:$(test -e "$U/nowhere"; echo $?)" "111:1" "dangling mbox symlink: refused, no file created through it"
dq "$U" .qmail-two './m2
'
ql two
is "$rc" 111 "mbox with two links: temporary failure"
like "$out" "it has more than one link" "mbox with two links: clear message"
is "$(cat "$U/m2")" "x" "mbox with two links: not written"
dq "$U" .qmail-fifo './mfifo
'
ql fifo
is "$rc" 111 "mbox FIFO: refused (without blocking)"
like "$out" "it is not a regular file" "mbox FIFO: clear message"
if [ "$(id -u)" = 0 ]; then
  echo root > "$U/mroot"; chmod 666 "$U/mroot"
  dq "$U" .qmail-notours './mroot
'
  ql notours
  is "$rc:$(cat "$U/mroot")" "111:root" "mbox of another user (root): refused, not written"
  like "$out" "it does not belong to the recipient" "mbox of another user: clear message"
fi
dq "$U" .qmail-mb './mgood
'
ql mb
is "$rc:$(grep -c '^Subject: hardening' "$U/mgood")" "0:1" "a plain mbox is still written (and created)"

# ---- Maildir: the default delivery creates it ------------------------------
dq "$U" .qmail-nomd './NoSuchDir/
'
ql nomd
is "$rc" 111 "explicit Maildir line, no such Maildir: deferred"
like "$out" "in $U/NoSuchDir/" "explicit Maildir line: the message gives the absolute path"
ok "$([ ! -e "$U/NoSuchDir" ]; echo $?)" "explicit Maildir line: nothing created"
mv "$U/Maildir" "$U/Maildir.old"
ql ""
is "$rc" 0 "default delivery, no Maildir: delivered"
is "$(nfiles "$U/Maildir/new")" 1 "default delivery: the message is in the new Maildir's new/"
is "$(stat -c '%a %u' "$U/Maildir" "$U/Maildir/tmp" "$U/Maildir/new" "$U/Maildir/cur" | tr '\n' ' ')" \
   "700 $RUID 700 $RUID 700 $RUID 700 $RUID " "default delivery: Maildir, tmp, new, cur made 0700 by the user"
rm -rf "$U/Maildir"; mv "$U/Maildir.old" "$U/Maildir"

# ---- the running hub ------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
  echo './Maildir/' > "$HUB/alias/.qmail-lhgetpw"; chown alias "$HUB/alias/.qmail-lhgetpw"
fi
dq "$T/home/ln" .qmail-env '|env -0 > env.out; sh -c "ls /proc/\$PPID/fd > fd.out"; exit 0
'
dq "$T/home/ln" .qmail-slow '|sleep 1000000 & echo $! > slow.pid; wait
'
echo 2 > "$HUB/control/timeoutprogram"
( export SECRET=x; exec 251< /dev/null; hub_start ); ok $? "the hub starts (SECRET exported, fd 251 open)"

printf 'Subject: env\n\nx\n' | send s@example.net ln-env@$ME
wait_until test -s "$T/home/ln/fd.out"; ok $? "hub: the program ran"
sleep 0.2
ok "$(envl "$T/home/ln" | grep -q '^SECRET='; [ $? = 1 ]; echo $?)" "hub: the program does not see SECRET"
is "$(tr '\n' ' ' < "$T/home/ln/fd.out")" "0 1 2 " "hub: the program has descriptors 0 1 2 only"

printf 'Subject: first\n\nx\n' | send s@example.net lnomd@$ME
wait_until has_file "$T/home/lnomd/Maildir/new" 1 'Subject: first'
ok $? "hub: a user without a Maildir gets one at the first default delivery, the message in new/"
is "$(stat -c '%a %u' "$T/home/lnomd/Maildir" 2>/dev/null)" "700 $RUID" "hub: the new Maildir is the user's, 0700"

dq "$T/home/ln" .qmail-bg '|sleep 1000000 & echo $! > bg.pid; echo started
'
printf 'Subject: bg\n\nx\n' | send s@example.net ln-bg@$ME
wait_until inlog 'success: started'
ok $? "hub: a program whose background child keeps its output open does not pin the delivery slot"
bp=$(cat "$T/home/ln/bg.pid" 2>/dev/null)
[ -n "$bp" ] && gone "$bp"; ok $? "hub: that background child is killed"

printf 'Subject: slow\n\nx\n' | send s@example.net ln-slow@$ME
wait_until inlog 'deferral: .*program_timed_out_after_2_s|deferral: .*program timed out after 2 s'
ok $? "hub: the program over time is deferred (logged)"
sp=$(cat "$T/home/ln/slow.pid" 2>/dev/null)
[ -n "$sp" ] && gone "$sp"; ok $? "hub: its sleep is gone"

if [ "$(id -u)" = 0 ]; then
  printf 'Subject: getpw\n\nx\n' | send s@example.net lhgetpw@$ME
  wait_until has_file "$HUB/alias/Maildir/new" 1 'Subject: getpw'; ok $? "hub: an address found by qmail-getpw is delivered"

  g=$(head -n 1 "$HUB/service/qmail-send/qmailctl.pid")
  tree=$(ps -eo user=,pid=,pgid=,comm= | awk -v g="$g" '$3 == g')
  echo "$tree" | sed 's/^/# /'
  roots=$(echo "$tree" | awk '$1 == "root" { print $4 }' | sort -u | tr '\n' ' ')
  like "$roots" '^(sh )?qmail-lspawn $|^qmail-lspawn (sh )?$' "hub: no root process but qmail-lspawn (and the supervisor's sh)"
  is "$(echo "$tree" | awk '$4 == "qmail-send" { print $1 }')" qmails "hub: qmail-send (which qmail-start became) runs as qmails"
  is "$(echo "$tree" | awk '$4 == "qmail-getpw" { print $1 }')" qmailp "hub: one lookup process (the password database's qmail-getpw rule), as qmailp"
  is "$(stat -c %a "$bin/qmail-start" "$bin/qmail-lspawn" "$bin/qmail-newu" | tr '\n' ' ')" "700 700 700 " \
     "root install: qmail-start, qmail-lspawn, qmail-newu are mode 0700"

  chmod 600 "$HUB/users/cdb"
  n=$(nfiles "$T/home/ln/Maildir/new")
  printf 'Subject: cdb\n\nx\n' | send s@example.net ln@$ME
  wait_until inlog 'deferral: .*Unable_to_open_users/cdb|deferral: .*Unable to open users/cdb'
  ok $? "hub: users/cdb is read by a process that is not root (mode 0600: deferred)"
  chmod 644 "$HUB/users/cdb"; hub_flush > /dev/null
  wait_until has_file "$T/home/ln/Maildir/new" 1 'Subject: cdb'; ok $? "hub: readable again: delivered"
else
  echo "# skipped: root checks (not root)"
fi

# a program runs in a process group of its own: qmailctl stop (TERM to the
# service's group) must still end it, through qmail-local
# (as root, the flush after users/cdb retried it once more: let that end)
[ "$(id -u)" = 0 ] && wait_until log_more 'timed out after 2 s' 1
rm -f "$HUB/control/timeoutprogram" "$T/home/ln/slow.pid"
hub_flush > /dev/null
wait_until test -s "$T/home/ln/slow.pid"; ok $? "hub: the slow program runs again (no timeout now)"
sp=$(cat "$T/home/ln/slow.pid" 2>/dev/null)
hub_stop
[ -n "$sp" ] && gone "$sp"; ok $? "hub: qmailctl stop ends the running program's process group too"

done_testing
