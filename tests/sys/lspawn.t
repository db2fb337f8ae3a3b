#!/bin/bash
# tests/sys/lspawn.t: qmail-lspawn end to end with the real delivery code,
# which its child runs in-process (hub/local/local.h), in single-user mode
# (run as nobody when the test runs as root), then as root. The .qmail
# files run $H/act, a program that records what the delivery sees (its
# environment, directory, message, ids, the delivery process's
# descriptors, signals and name) and acts on $LOCAL: K, Z (111, 75), D
# (100, 64), a crash of the delivery, and a missing message file;
# users/cdb from qmail-newu decides user/home/dash/ext for listed
# addresses, the rest go to HOME/alias. strace -f shows no execve of
# qmail-local or qmail-getpw in N deliveries. As root: the delivery runs
# as the users/cdb uid, gid and groups; uid 0 is refused; the lookups are
# answered by one process, qmailp, reused from one delivery to the next;
# killed, it is replaced and each address still goes to its own user; a
# new users/cdb counts at once; a users/cdb root alone may read defers.
source "$(dirname "$0")/../lib/common.sh"
B=$SRCDIR/$BUILD/hub
H=$T/home
mkdir -p "$H/bin" "$H/users" "$H/alias" "$H/joe" "$H/queue/mess/7" "$H/log"
chmod 777 "$H/log"
cat > "$H/act" <<SH
#!/bin/sh
# .qmail program: record what the delivery gives, then act on \$LOCAL
log=$H/log/\$LOCAL
{ printf '%s|' "\$USER" "\$HOME" "\$LOCAL" "\$EXT" "\$HOST" "\$SENDER" "\$(pwd)"; echo; } > "\$log"
cat >> "\$log"
id -u > "\$log.uid"; id -g > "\$log.gid"; id -G > "\$log.groups"
env > "\$log.env"
ls -l /proc/\$PPID/fd 2> /dev/null | awk 'NR > 1 && \$9 > 2 { print \$11 }' | sed 's/:.*//' | sort > "\$log.fds"
grep -E '^Sig(Blk|Cgt)' /proc/\$PPID/status > "\$log.sig" 2> /dev/null
cat /proc/\$PPID/comm > "\$log.comm" 2> /dev/null
# the lookup process: qmail-lspawn's child named qmail-getpw
lsp=\$(awk '/^PPid:/ { print \$2 }' /proc/\$PPID/status)
ps -o pid=,user=,comm= --ppid "\$lsp" | awk '\$3 == "qmail-getpw" { print \$1, \$2 }' > "\$log.lk"
case "\$LOCAL" in
  k*) exit 0 ;;
  z*) echo "Temporary trouble."; exit 111 ;;
  e75*) exit 75 ;;
  d*) echo "Sorry, no mailbox here by that name. (#5.1.1)"; exit 100 ;;
  e64*) exit 64 ;;
  crash*) kill -9 \$PPID; exit 0 ;;
esac
SH
chmod 755 "$H/act"
# (exec: the program's parent is the delivery process itself)
echo "|exec $H/act" > "$H/alias/.qmail-default"
echo "|exec $H/act" > "$H/joe/.qmail"
echo "|exec $H/act" > "$H/joe/.qmail-default"
echo "./Maildir/" > "$H/alias/.qmail-md-default"
printf 'Subject: hi\n\nbody\n' > "$H/queue/mess/7/1234"
cat > "$H/users/assign" <<EOF2
=joe:joe:1:2:$H/joe:::
+kjoe-:joe:1:2:$H/joe:-:w-:
.
EOF2
QMAILHOME=$H "$B/qmail-newu"; ok $? "qmail-newu compiles users/assign"

asuser() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$H"

job() { printf '%s7/1234\0%s\0%s\0\0' "$1" "$2" "$3"; }
{ job a s@x.org k1@ex.org; job b s@x.org z1@ex.org; job c s@x.org e75@ex.org
  job d s@x.org d1@ex.org; job e s@x.org e64@ex.org; job f s@x.org crash@ex.org
  printf 'g7/999\0s@x\0k2@ex.org\0\0'; job h '' joe@ex.org; job i s@x.org kjoe-list-x@ex.org
} > "$T/jobs"
asuser env -i SECRET=x QMAILHOME="$H" PATH="$PATH" "$B/qmail-lspawn" ./Maildir/ < "$T/jobs" > "$T/out"
ok $? "qmail-lspawn exits 0 at end of input"
res() { tr '\0' '\n' < "$T/out" | grep "^$1" ; }
is "$(res a)" "aKdid 0+0+1" "delivered => K with the delivery's text"
like "$(res b)" "^bZTemporary trouble." "program exit 111 => Z with its text"
like "$(res c)" "^cZ.*failed temporarily .exit code 75" "program exit 75 => Z"
is "$(res d)" "dDSorry, no mailbox here by that name. (#5.1.1)" "program exit 100 => D with its text"
is "$(tr '\0' '\n' < "$T/out" | grep -c '^The .qmail program failed permanently (exit code 100)')" 1 "... and the delivery's own line"
like "$(res e)" "^eD.*exit code 64" "program exit 64 => D"
is "$(res f)" "fZqmail-local crashed. (#4.3.0)" "the delivery killed by a signal => Z"
like "$(res g)" "^gZUnable to open the message file" "missing message => Z"
is "$(tr -cd '\0' < "$T/out" | wc -c)" 9 "one report per job"
me=$(asuser id -un)
is "$(head -1 "$H/log/k1")" "$me|$H/alias|k1|k1|ex.org|s@x.org|$H/alias|" "alias: user, home, local, ext in single-user mode, run in the home"
is "$(sed -n 2p "$H/log/k1")" "Subject: hi" "message on fd 0"
is "$(head -1 "$H/log/joe")" "joe|$H/joe|joe||ex.org||$H/joe|" "users/cdb exact entry, empty sender"
is "$(head -1 "$H/log/kjoe-list-x")" "joe|$H/joe|kjoe-list-x|w-list-x|ex.org|s@x.org|$H/joe|" "users/cdb wildcard entry"
# what the in-process delivery gets from qmail-lspawn: nothing
ok "$(grep -q '^SECRET=' "$H/log/k1.env"; [ $? = 1 ]; echo $?)" "the program does not see qmail-lspawn's environment (SECRET)"
is "$(grep '^PATH=' "$H/log/k1.env")" "PATH=$H/bin:/usr/local/bin:/usr/bin:/bin" "the program's PATH is qmail-local's"
is "$(tr '\n' ' ' < "$H/log/k1.fds")" "anon_inode pipe " "the delivery process holds only its program's pipe and pidfd above fd 2"
is "$(tr '\n' ' ' < "$H/log/k1.sig" | tr -s '\t ' '  ')" "SigBlk: 0000000000000000 SigCgt: 0000000000004003 " \
  "the delivery process blocks nothing and catches only HUP, INT, TERM (its own) while the program runs"
is "$(cat "$H/log/k1.comm")" "qmail-local" "the delivery process is named qmail-local"

# no exec in N deliveries: strace -f on qmail-lspawn
if command -v strace > /dev/null; then
  for n in 1 2 3 4 5; do job "$n" s@x.org "md-$n@ex.org"; done > "$T/jobs5"
  mkdir -p "$H/alias/Maildir/new" "$H/alias/Maildir/tmp" "$H/alias/Maildir/cur"
  [ "$(id -u)" = 0 ] && chown -R 65534:65534 "$H/alias/Maildir"
  asuser env ASAN_OPTIONS=detect_leaks=0 QMAILHOME="$H" strace -f -qq -o "$H/log/tr5" \
    -e trace=execve,clone,clone3,fork,vfork,rt_sigaction,openat \
    "$B/qmail-lspawn" ./Maildir/ < "$T/jobs5" > "$T/out5"
  is "$(tr '\0' '\n' < "$T/out5" | grep -c '^.Kdid 1+0+0')" 5 "strace: five deliveries into the Maildir"
  is "$(grep -c 'execve(' "$H/log/tr5")" 1 "strace: no execve but qmail-lspawn's own in five deliveries"
  is "$(grep -cE 'execve\("[^"]*/qmail-(local|getpw)"' "$H/log/tr5")" 0 "strace: qmail-local and qmail-getpw are never executed"
  # per-delivery costs: the signal dispositions are asked once (not NSIG
  # queries in each child), /etc/localtime is read once (tzset at start)
  nq=$(grep -cE 'rt_sigaction\([A-Z0-9_]+, NULL,' "$H/log/tr5")
  [ "$nq" -le 70 ]
  ok $? "strace: the signal dispositions are asked once for five deliveries ($nq queries, at most 70)"
  is "$(grep -c 'openat([^"]*"/etc/localtime"' "$H/log/tr5")" 1 "strace: /etc/localtime is read once, not by each delivery"
else
  for i in 1 2 3 4 5; do ok 1 "# skip no strace"; done
fi
printf 'a7/1234\0s\0k@x\0k2@x\0\0' | asuser env QMAILHOME="$H" "$B/qmail-lspawn" ./Maildir/ > /dev/null 2>&1
is $? 111 "two recipients in one local job => exit 111"
printf 'a7/../x\0s\0k@x\0\0' | asuser env QMAILHOME="$H" "$B/qmail-lspawn" ./Maildir/ > /dev/null 2>&1
is $? 111 "bad message id => exit 111"
asuser env QMAILHOME="$H" "$B/qmail-lspawn" < /dev/null > /dev/null 2>&1
is $? 111 "no defaultdelivery => exit 111"
if [ "$(id -u)" = 0 ] && id qmailp > /dev/null 2>&1; then
  # root mode: switch to the users/cdb uid; never deliver as root
  mkdir -p "$H/nob" "$H/oth"; echo "|exec $H/act" > "$H/nob/.qmail"; echo "|exec $H/act" > "$H/nob/.qmail-default"
  echo "|exec $H/act" > "$H/oth/.qmail"
  chown -R 65534:65534 "$H/nob"; chown -R 65533:65533 "$H/oth"
  assign() { printf '=knob:nobody:65534:65534:%s/nob:::\n+knob-:nobody:65534:65534:%s/nob:-::\n=kroot:root:0:0:/root:::\n=kother:o:65533:65533:%s/oth:::\n%s.\n' "$H" "$H" "$H" "$1" > "$H/users/assign"
    QMAILHOME=$H "$B/qmail-newu"; }
  assign "=kchg:nobody:65534:65534:$H/nob:::
"
  { job a s@x knob@ex.org; job b s@x kroot@ex.org; job c s@x knob-1@ex.org; job d s@x knob-2@ex.org; } |
    QMAILHOME=$H "$B/qmail-lspawn" ./Maildir/ > "$T/out"
  is "$(res a)" "aKdid 0+0+1" "root mode: K"
  is "$(cat "$H/log/knob.uid") $(cat "$H/log/knob.gid") $(cat "$H/log/knob.groups")" "65534 65534 65534" \
    "root mode: the delivery runs as the users/cdb uid, gid and only that group"
  like "$(res b)" "^bZRefusing to deliver as root" "root mode: uid 0 refused"
  ok "$([ ! -e "$H/log/kroot" ]; echo $?)" "root mode: nothing run for uid 0"
  lk=$(cat "$H/log/knob.lk")
  like "$lk" "^[0-9]+ qmailp$" "root mode: the lookup process is qmailp" || ps -eo pid,ppid,user,comm | grep qmail | sed "s/^/# /"
  is "$(cat "$H/log/knob-1.lk") $(cat "$H/log/knob-2.lk")" "$lk $lk" "root mode: one lookup process answers every lookup"

  # one qmail-lspawn fed job by job: kill its lookup process, change users/cdb
  mkfifo "$T/in"
  QMAILHOME=$H "$B/qmail-lspawn" ./Maildir/ < "$T/in" > "$T/out" &
  lsp=$!
  exec 3> "$T/in"
  # deliver SLOT ADDRESS: one job, then wait (30 s at most) for its report
  deliver() { local n; n=$(tr -cd '\0' < "$T/out" | wc -c); job "$1" s@x "$2" >&3
    for _ in $(seq 300); do [ "$(tr -cd '\0' < "$T/out" | wc -c)" -gt "$n" ] && return 0; sleep 0.1; done; return 1; }
  deliver e knob-3@ex.org; is "$(res e)" "eKdid 0+0+1" "fed: delivered"
  lk1=$(cut -d' ' -f1 "$H/log/knob-3.lk")
  kill -9 "$lk1"
  deliver f kother@ex.org; is "$(res f)" "fKdid 0+0+1" "lookup process killed: the next delivery is made"
  is "$(cat "$H/log/kother.uid") $(cat "$H/log/kother.gid")" "65533 65533" "... as its own user (65533)"
  lk2=$(cat "$H/log/kother.lk")
  like "$lk2" "^[0-9]+ qmailp$" "... the lookup process replaced, qmailp again"
  ok "$([ "${lk2% *}" != "$lk1" ]; echo $?)" "... a new process ($lk1 -> ${lk2% *})"
  deliver g knob-4@ex.org; is "$(cat "$H/log/knob-4.uid")" 65534 "... and the next one as its own user (65534)"
  deliver h kchg@ex.org; is "$(cat "$H/log/kchg.uid")" 65534 "users/cdb: kchg is 65534"
  assign "=kchg:o:65533:65533:$H/oth:::
"
  rm -f "$H/log/kchg"*
  deliver i kchg@ex.org; is "$(cat "$H/log/kchg.uid") $(res i)" "65533 iKdid 0+0+1" "users/cdb replaced while running: kchg is 65533 at once"
  is "$(cat "$H/log/kchg.lk")" "$lk2" "... with the same lookup process"
  chmod 600 "$H/users/cdb"
  deliver j knob@ex.org; like "$(res j)" "^jZUnable to open users/cdb" "users/cdb only root may read: deferred (no root process reads it)"
  chmod 644 "$H/users/cdb"
  exec 3>&-
  wait "$lsp"; is $? 0 "fed: qmail-lspawn exits 0 at end of input"

  # strace, root mode: N deliveries, no execve, one switch to qmailp
  if command -v strace > /dev/null; then
    { for n in 1 2 3 4 5; do job "$n" s@x.org "knob-$n@ex.org"; done; } |
      ASAN_OPTIONS=detect_leaks=0 QMAILHOME="$H" strace -f -qq -o "$T/trr" -e trace=execve,setuid,clone,clone3 \
      "$B/qmail-lspawn" ./Maildir/ > "$T/out5"
    is "$(tr '\0' '\n' < "$T/out5" | grep -c '^.Kdid 0+0+1')" 5 "strace, root: five deliveries"
    is "$(grep -c 'execve("[^"]*/qmail-' "$T/trr")" 1 "strace, root: no execve of a qmail program but qmail-lspawn's own"
    is "$(grep -cE 'execve\("[^"]*/qmail-(local|getpw)"' "$T/trr")" 0 "strace, root: qmail-local and qmail-getpw are never executed"
    is "$(grep -cE "setuid\($(id -u qmailp)[ )]" "$T/trr")" 1 "strace, root: one switch to qmailp for five lookups"
    is "$(grep -cE 'setuid\(65534[ )]' "$T/trr")" 5 "strace, root: five switches to the recipient"
  fi
fi
printf '=a:a:1\n.\n' > "$H/users/assign"
cp "$H/users/cdb" "$T/cdb.before"
QMAILHOME=$H "$B/qmail-newu" 2> "$T/err"; is $? 111 "bad assign => 111"
like "$(cat "$T/err")" "line 1" "error names the line"
cmp -s "$H/users/cdb" "$T/cdb.before"; ok $? "users/cdb untouched on error"

# qmail-pw2u: passwd -> users/assign that qmail-newu accepts
if [ -x "$B/qmail-pw2u" ]; then
  printf 'ex\n' > "$H/users/exclude"; printf 'ann:anne:a.b\n' > "$H/users/mailnames"
  printf 'sub:joe:pfx:\n' > "$H/users/subusers"; printf '+:alias:7:7:/al:-::\n' > "$H/users/append"
  printf 'joe:x:1001:100:Joe:/home/joe:/bin/sh\nroot:x:0:0::/root:/bin/sh\nBob:x:5:5::/b:/bin/sh\nann:x:1002:100::/home/ann:/bin/sh\nex:x:9:9::/e:/x\n' \
    | QMAILHOME=$H "$B/qmail-pw2u" > "$H/users/assign"
  ok $? "qmail-pw2u exits 0"
  is "$(cat "$H/users/assign")" "=joe:joe:1001:100:/home/joe:::
+joe-:joe:1001:100:/home/joe:-::
=anne:ann:1002:100:/home/ann:::
+anne-:ann:1002:100:/home/ann:-::
=a.b:ann:1002:100:/home/ann:::
+a.b-:ann:1002:100:/home/ann:-::
=sub:joe:1001:100:/home/joe:-:pfx:
+sub-:joe:1001:100:/home/joe:-:pfx-:
+:alias:7:7:/al:-::
." "qmail-pw2u: root, upper case, excluded skipped; mailnames, subusers, append"
  QMAILHOME=$H "$B/qmail-newu"; ok $? "qmail-newu accepts qmail-pw2u's output"
  printf 'a:b\n' | QMAILHOME=$H "$B/qmail-pw2u" > /dev/null 2>&1; is $? 111 "qmail-pw2u: bad line => 111"
fi
done_testing
