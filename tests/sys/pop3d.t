#!/bin/bash
# pop3d.t: the installed qmail-pop3d driven directly (no qmail-popup): run
# in a user's home as checkpassword would, "qmail-pop3d ./Maildir/", the
# client on a socketpair (python poplib and raw dialogues, tests/lib/
# pop3drive.py) or on pipes.
#  * the contract with qmail-popup: "+OK " first, exit 0; a missing
#    Maildir and an unusable control file answer one -ERR line, exit 0;
#  * LIST equals RETR's octets for CRLF files, bare CRs, lone dots, a
#    missing last LF, an empty file; RETR bytes; TOP; UIDL stable across
#    sessions and the move from new/ to cur/; CAPA; LAST;
#  * deletions and the move to cur/ only at QUIT: a session ending
#    without QUIT (end of file, dropped mid-RETR, timeout, deadline)
#    changes nothing;
#  * bad input (BAD-INPUT.md O4-O7): message numbers 0, -1, huge,
#    non-numeric, trailing garbage, DELE twice, RETR after DELE; long
#    lines, NUL, the third bad line drops; a file removed between LIST
#    and RETR; garbage names, a directory, a symlink, an unreadable file;
#    pipelined commands;
#  * a 1 GB message streams in bounded memory; 100,000 messages are
#    listed in bounded time and memory (figures as TAP comments).
source "$(dirname "$0")/../lib/common.sh"
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)

H=$T/hub
qmake install QMAILHOME="$H" > "$T/install.log" 2>&1 ||
  { sed 's/^/# /' "$T/install.log"; echo "Bail out! make install failed"; exit 1; }
POP3D=$H/bin/qmail-pop3d
[ -x "$POP3D" ] || { echo "Bail out! $POP3D is not installed"; exit 1; }
export POP3D
SAN=0; case $BUILD in *-san) SAN=1;; esac
# the 100,000-message mailbox goes to tmpfs when there is one (pop3drive.py
# limits): made here so that the exit trap removes it however we end
SHM=$T; [ -w /dev/shm ] && SHM=$(mktemp -d /dev/shm/pop3d-t.XXXXXX) && trap 'rm -rf "$SHM"; cleanup' EXIT

# each block of pop3drive.py prints "PASS name" or "FAIL name: why"
drive() {
  local line
  while IFS= read -r line; do
    case $line in
      "PASS "*) ok 0 "${line#PASS }" ;;
      "FAIL "*) ok 1 "${line#FAIL }" ;;
      "EXIT "*) ok "${line#EXIT }" "pop3drive.py $*: every check ran" ;;
      *) echo "# $line" ;;
    esac
  done < <(cd "$T" && env -i PATH="$PATH" POP3D="$POP3D" HOMEDIR="$T/u" SHMDIR="$SHM" SAN=$SAN "$PY" "$SRCDIR/tests/lib/pop3drive.py" "$@" 2>&1; echo "EXIT $?")
}

mkdir -p "$T/u"
drive basics
drive update
drive badinput
drive garbage
drive limits

# ---- an unreadable file, as an ordinary user ----------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
  rm -rf "$T/n"; mkdir -p "$T/n/Maildir/cur" "$T/n/Maildir/new" "$T/n/Maildir/tmp"
  printf 'A: b\n\nok\n' > "$T/n/Maildir/cur/1.a:2,"
  printf 'A: b\n\nsecret\n' > "$T/n/Maildir/cur/2.b:2,"
  chmod 0 "$T/n/Maildir/cur/2.b:2,"
  chown -R 65534:65534 "$T/n"; chmod 755 "$T" 2>/dev/null
  out=$(cd "$T/n" && printf 'STAT\r\nQUIT\r\n' | setpriv --reuid=65534 --regid=65534 --clear-groups "$POP3D" ./Maildir/ 2> "$T/n.err" | tr -d '\r')
  is "$out" "$(printf '+OK \n+OK 1 12\n+OK ')" "unreadable file left out, the session goes on (as nobody)"
  like "$(cat "$T/n.err")" "left out cur/2.b:2,: cannot open: .*ermission denied" "and a warning names it"
else
  ok 0 "# skip unreadable files: needs root and setpriv (tests/unit/pop3box.c checks it as nobody)"
  ok 0 "# skip"
fi

# ---- a 1 GB message in bounded memory ----------------------------------------
rm -rf "$T/big"; mkdir -p "$T/big/Maildir/cur" "$T/big/Maildir/new" "$T/big/Maildir/tmp"
f=$T/big/Maildir/new/1.big
{ printf 'Subject: big\n\n'; } > "$f"
truncate -s 1073741824 "$f"          # a sparse tail of NULs: one very long line
printf '\n.tail\n' >> "$f"
start=$(date +%s)
out=$(cd "$T/big" && printf 'LIST\r\nRETR 1\r\nQUIT\r\n' |
      /usr/bin/time -f '%M' -o "$T/big.rss" "$POP3D" ./Maildir/ 2> /dev/null |
      "$PY" -c '
import sys
f = sys.stdin.buffer
n = 0; head = b""; tail = b""
while True:
    b = f.read(1 << 20)
    if not b: break
    if len(head) < 200: head += b[:200]
    n += len(b); tail = (tail + b)[-64:]
print(n); print(head[:60]); print(tail)')
secs=$(( $(date +%s) - start ))
rss=$(cat "$T/big.rss")
# the file: "Subject: big\n\n", NULs up to 1 GB, "\n.tail\n": 4 LFs get a CR
size=$((1073741824 + 7 + 4)); L=${#size}
echo "# 1 GB RETR: ${secs}s, max RSS ${rss} KB"
# +OK, LIST (26+L, 4+L, 3), RETR (13+L, the message and its stuffed dot, 3), QUIT
is "$(echo "$out" | sed -n 1p)" "$(( 6 + 26 + L + 4 + L + 3 + 13 + L + size + 1 + 3 + 6 ))" "1 GB message: every byte sent"
like "$(echo "$out" | sed -n 2p)" "\\+OK 1 messages \\($size octets\\)" "LIST gives the size RETR sends"
like "$(echo "$out" | sed -n 3p)" '\.\.tail\\r\\n\.\\r\\n\+OK \\r\\n' "ends with the stuffed last line, the dot and QUIT's +OK"
lim=20000; [ "$SAN" = 1 ] && lim=200000
ok "$([ "${rss:-999999}" -lt "$lim" ]; echo $?)" "1 GB RETR within ${lim} KB of memory (${rss} KB)"

done_testing
