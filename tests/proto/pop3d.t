#!/bin/bash
# pop3d.t: golden transcripts for qmail-pop3d, run on pipes in a home
# directory as checkpassword would run it ("qmail-pop3d ./Maildir/").
# Each tests/proto/pop3d/NAME.in holds directive lines, a line
# "--- client", then the client's command lines (each sent with CRLF).
# In the client part a line "--- shell: CMD" sends CMD's output as it is
# (bash: long lines, NUL bytes, a bare LF). Directives:
#   #desc: TEXT            what the case shows (ignored)
#   #msg: DIR/NAME=DATA    a message file (printf %b), oldest first: the
#                          n-th gets the modification time 1700000000 + n
#   #mkdir: DIR/NAME       a directory inside the Maildir
#   #symlink: DIR/NAME     a symbolic link to /etc/passwd there
#   #control: file=value   a control file (printf %b)
#   #args: ARG             the Maildir argument (default ./Maildir/)
# The transcript holds the replies (CR LF shown as line ends, a bare LF
# flagged, cat -v), the exit code, stderr, and the Maildir's files after
# the session. UPDATE=1 rewrites the .exp files that differ, and reports
# those cases not ok (tests/lib/golden.sh).
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=$PWD
BIN=$SRCDIR/${BUILD:-build}/hub/qmail-pop3d
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. tests/lib/golden.sh
[ -x "$BIN" ] || { echo "Bail out! $BIN is not built"; exit 1; }

show_replies() { sed -e '/\r$/!s/$/ [no CR]/' -e 's/\r$//' "$1" | cat -v; }

make_feed() {
  local line
  : > "$tmp/feed.sh"
  sed '0,/^--- client/d' "$1" | while IFS= read -r line; do
    case $line in
      "--- shell: "*) echo "${line#--- shell: }" ;;
      *) printf "printf '%%s\\\\r\\\\n' %q\n" "$line" ;;
    esac
  done > "$tmp/feed.sh"
}

run_case() {
  local in=$1 line l n=0 args=./Maildir/ rc
  rm -rf "$tmp/home" "$tmp/u"
  mkdir -p "$tmp/home/control" "$tmp/u/Maildir/cur" "$tmp/u/Maildir/new" "$tmp/u/Maildir/tmp"
  while IFS= read -r line; do
    case $line in
      "--- client") break ;;
      "#msg: "*) l=${line#\#msg: }; n=$((n + 1))
                 printf '%b' "${l#*=}" > "$tmp/u/Maildir/${l%%=*}"
                 touch -d "@$((1700000000 + n))" "$tmp/u/Maildir/${l%%=*}" ;;
      "#mkdir: "*) mkdir "$tmp/u/Maildir/${line#\#mkdir: }" ;;
      "#symlink: "*) ln -s /etc/passwd "$tmp/u/Maildir/${line#\#symlink: }" ;;
      "#control: "*) l=${line#\#control: }; printf '%b\n' "${l#*=}" > "$tmp/home/control/${l%%=*}" ;;
      "#args: "*) args=${line#\#args: } ;;
    esac
  done < "$in"
  make_feed "$in"
  (cd "$tmp/u" && bash "$tmp/feed.sh" | env -i QMAILHOME="$tmp/home" timeout 60 "$BIN" "$args" > "$tmp/out" 2> "$tmp/err")
  rc=$?
  {
    echo "--- replies"
    show_replies "$tmp/out"
    echo "--- exit: $rc"
    echo "--- stderr"
    cat -v "$tmp/err"
    echo "--- maildir after"
    (cd "$tmp/u/Maildir" && find cur new tmp -mindepth 1 | LC_ALL=C sort | cat -v)
  } > "$tmp/got"
}

n=0 fail=0
for in in tests/proto/pop3d/*.in; do
  name=${in##*/}; name=${name%.in}
  n=$((n + 1))
  run_case "$in"
  if golden "$n" "$name" "$tmp/got" "${in%.in}.exp"; then echo "ok $n - $name"; else fail=$((fail + 1)); fi
done
echo "1..$n"
[ "$fail" = 0 ]
