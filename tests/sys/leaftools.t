#!/bin/bash
# leaftools.t: the leaf's small user tools end to end, straight from the
# build tree: maildirmake, maildir2mbox (mboxrd output, safety on errors),
# predate, qmail-showctl (leaf and hub style homes), and the datemail and
# mailsubj scripts (with @QMAILHOME@ filled in by sed, as install does)
# against fake bin/sendmail and bin/qmail-inject that record what they got.
# Programs: $SRCDIR/${BUILD:-build}/leaf/<prog>; SRCDIR defaults to the repo.
# TAP on stdout; run by prove.
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=${SRCDIR:-$PWD}
case ${BUILD:-build} in /*) B=$BUILD/leaf ;; *) B=$SRCDIR/${BUILD:-build}/leaf ;; esac
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
export TZ=UTC

echo "1..67"
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; }
# check NAME CMD...: ok when CMD succeeds
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
# is GOT WANT NAME
is() {
  if [ "$1" = "$2" ]; then pass "$3"; else
    fail "$3"; printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
  fi
}
# has TEXT NEEDLE NAME: NEEDLE is a line of TEXT
has() {
  if grep -qxF -- "$2" <<<"$1"; then pass "$3"; else
    fail "$3"; printf '#   no line: %s\n' "$2"; printf '%s\n' "$1" | sed 's/^/#   | /' | head -80
  fi
}
# same FILE WANTFILE NAME: byte-exact comparison
same() {
  if cmp -s "$1" "$2"; then pass "$3"; else
    fail "$3"; diff "$2" "$1" | sed 's/^/#   /' | head -40
  fi
}
mode_of() { stat -c %a "$1"; }
nmsgs() { find "$md/new" "$md/cur" -type f | wc -l; }

# ---- maildirmake ---------------------------------------------------------
md=$T/Maildir
"$B/maildirmake" "$md" 2>"$T/err"
is "$?" 0 "maildirmake makes a new Maildir"
is "$(mode_of "$md") $(mode_of "$md/tmp") $(mode_of "$md/new") $(mode_of "$md/cur")" \
   "700 700 700 700" "maildirmake: dir, tmp, new, cur are mode 700"
(umask 0; "$B/maildirmake" "$T/md0")
is "$(mode_of "$T/md0")" 700 "maildirmake: 700 even with umask 0"
"$B/maildirmake" "$md" 2>"$T/err"
is "$?" 111 "maildirmake refuses an existing directory with 111"
check "maildirmake names the problem" grep -q 'unable to mkdir .*Maildir: File exists' "$T/err"
"$B/maildirmake" 2>/dev/null
is "$?" 100 "maildirmake without an argument is a usage error (100)"

# ---- maildir2mbox --------------------------------------------------------
printf 'Subject: one\n\nfirst\n' > "$md/cur/1700000001.M1P1.leaf:2,S"
printf 'Return-Path: <alice@example.org>\nSubject: two\n\nFrom the start\n>From quoted\n>>From twice\nFrom: not quoted\nFromage\nlast line' \
  > "$md/new/1700000002.M2P2.leaf"
printf 'Return-Path: <>\nSubject: three\n\nbounce\n' > "$md/new/1700000003.M3P3.leaf"
printf 'From old@example.org Tue Nov 14 00:00:00 2023\nSubject: old\n\nold body\n\n' > "$T/mbox"
cp "$T/mbox" "$T/mbox.orig"

# error paths first: MAIL must stay untouched and the Maildir full
env -u MAILTMP MAILDIR="$md" MAIL="$T/mbox" "$B/maildir2mbox" 2>"$T/err"
is "$?" 111 "maildir2mbox without MAILTMP exits 111"
check "and says MAILTMP is not set" grep -q 'MAILTMP is not set' "$T/err"
same "$T/mbox" "$T/mbox.orig" "and leaves MAIL untouched"
is "$(nmsgs)" 3 "and removes no message"
MAILDIR="$md" MAIL="$T/mbox" MAILTMP="$T/nodir/mbox.tmp" "$B/maildir2mbox" 2>/dev/null
is "$?" 111 "maildir2mbox with an uncreatable MAILTMP exits 111"
same "$T/mbox" "$T/mbox.orig" "and leaves MAIL untouched"
MAILDIR="$md" MAIL="$T/nodir/mbox" MAILTMP="$T/mbox.tmp" "$B/maildir2mbox" 2>/dev/null
is "$?:$(nmsgs)" "111:3" "a failed rename removes no message"
check "and leaves no MAILTMP behind" test ! -e "$T/mbox.tmp"

MAILDIR="$md" MAIL="$T/mbox" MAILTMP="$T/mbox.tmp" "$B/maildir2mbox"
is "$?" 0 "maildir2mbox moves 3 messages"
{
  cat "$T/mbox.orig"
  printf 'From MAILER-DAEMON Tue Nov 14 22:13:21 2023\nSubject: one\n\nfirst\n\n'
  printf 'From alice@example.org Tue Nov 14 22:13:22 2023\nReturn-Path: <alice@example.org>\nSubject: two\n\n'
  printf '>From the start\n>>From quoted\n>>>From twice\nFrom: not quoted\nFromage\nlast line\n\n'
  printf 'From MAILER-DAEMON Tue Nov 14 22:13:23 2023\nReturn-Path: <>\nSubject: three\n\nbounce\n\n'
} > "$T/want"
same "$T/mbox" "$T/want" "mbox content is exact (order, From_ lines, mboxrd quoting)"
is "$(nmsgs)" 0 "the Maildir is emptied"
check "MAILTMP is gone" test ! -e "$T/mbox.tmp"
MAILDIR="$md" MAIL="$T/fresh" MAILTMP="$T/fresh.tmp" "$B/maildir2mbox"
is "$?:$(test -e "$T/fresh" && echo made)" "0:" "an empty Maildir: nothing to do, no mbox made"
printf 'Subject: x\n\ny\n' > "$md/new/1700000004.M4P4.leaf"
MAILDIR="$md" MAIL="$T/fresh" MAILTMP="$T/fresh.tmp" "$B/maildir2mbox"
is "$?:$(mode_of "$T/fresh")" "0:600" "a missing MAIL counts as empty; the new mbox is mode 600"
printf 'From MAILER-DAEMON Tue Nov 14 22:13:24 2023\nSubject: x\n\ny\n\n' > "$T/want"
same "$T/fresh" "$T/want" "and holds just the message"

# ---- predate -------------------------------------------------------------
printf 'Subject: hi\n\nno newline at the end' | "$B/predate" cat > "$T/out"
is "$?" 0 "predate cat exits 0"
first=$(head -n 1 "$T/out")
check "the first line is a Date: field" grep -qE '^Date: [A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$' <<<"$first"
t=$(date -d "${first#Date: }" +%s 2>/dev/null || echo 0)
now=$(date +%s)
check "which parses as about now ($first)" test $((now - t)) -ge 0 -a $((now - t)) -lt 30
tail -n +2 "$T/out" > "$T/rest"
printf 'Subject: hi\n\nno newline at the end' > "$T/want"
same "$T/rest" "$T/want" "then the input, unchanged"
is "$(TZ=IST-5:30 "$B/predate" cat </dev/null | grep -o '+0530$')" "+0530" "the date is in the local zone (TZ)"
echo x | "$B/predate" sh -c 'cat >/dev/null; exit 7'
is "$?" 7 "predate returns the child's exit code"
echo x | "$B/predate" sh -c 'kill -9 $$' 2>/dev/null
is "$?" 111 "a child killed by a signal is 111"
"$B/predate" </dev/null 2>/dev/null
is "$?" 100 "predate without a child is a usage error (100)"
"$B/predate" "$T/no-such-program" </dev/null 2>/dev/null
is "$?" 111 "a child that cannot run is 111"
seq 1 200000 | "$B/predate" head -n 1 >/dev/null
is "$?" 0 "a child that stops reading early is no error of ours"

# ---- qmail-showctl -------------------------------------------------------
hub=$T/hub
mkdir -p "$hub/control"
echo hub.example.org > "$hub/control/me"
echo 'example.org  ' > "$hub/control/defaultdomain"
echo 55 > "$hub/control/concurrencyremote"
echo 4096 > "$hub/control/maxsmtpline"
echo 0 > "$hub/control/maxrcpt"
printf 'example.org\n.example.org\n' > "$hub/control/rcpthosts"
printf '# hubs\n192.0.2.7\nqmtp:[::1]\nhub.example.org:6628\nbad host\n' > "$hub/control/qmqpservers"
echo what > "$hub/control/frobnicate"
out=$(QMAILHOME=$hub "$B/qmail-showctl")
is "$?" 0 "qmail-showctl exits 0 on a hub home"
has "$out" "qmail home directory: $hub." "it prints the home in force"
has "$out" "me: My name is hub.example.org." "me is shown"
has "$out" "defaultdomain: Default domain name is example.org." "a set value is shown (trailing blanks stripped)"
has "$out" "defaulthost: (Default.) Default host name is hub.example.org." "a default from me is marked (Default.)"
has "$out" "concurrencyremote: Remote concurrency is 55." "a number is shown"
has "$out" "concurrencylocal: (Default.) Local concurrency is 10." "a compiled default is shown"
has "$out" "defaultdelivery: (Default.) Delivery without a .qmail file: ./Maildir/." "defaultdelivery is known, with its default"
has "$out" "SMTP clients may send messages to recipients at .example.org." "list items are shown"
has "$out" "QMQP to IPv4 address 192.0.2.7 port 628." "qmqpservers: IPv4, default QMQP port"
has "$out" "QMTP to IPv6 address ::1 port 209." "qmqpservers: [IPv6] with qmtp:, default QMTP port"
has "$out" "QMQP to host name hub.example.org port 6628." "qmqpservers: host name and port"
check "qmqpservers: a bad line is reported" grep -q '^Not understood.*: bad host$' <<<"$out"
has "$out" "maxsmtpline: Longest SMTP command or data line is 4096 bytes." "a cap set by its file"
has "$out" "maxaddress: (Default.) Longest address is 1000 bytes." "a cap at its default"
check "a cap file holding 0 is reported unusable" grep -q '^maxrcpt: Oops! Not usable (0 is not a cap): the programs .* fail until it is fixed. Default: At most 1000 recipients' <<<"$out"
has "$out" "qmqptimeout: (Default.) QMQP/QMTP read and write timeout is 60 seconds." "qmqptimeout default"
has "$out" "frobnicate: I have no idea what this file does." "an unknown file is reported"

leaf=$T/leaf
mkdir -p "$leaf/control"
cp "$SRCDIR/control/README.md" "$leaf/control/README.md"
out=$(QMAILHOME=$leaf "$B/qmail-showctl" -v)
is "$?" 0 "qmail-showctl -v exits 0 on a bare leaf home"
has "$out" "me: (Default.) I have no name: files that default to me use their own fallbacks." "no me"
has "$out" "defaulthost: (Default.) Default host name is defaulthost." "fallback literal without me"
check "rcpthosts default says nothing is relayed" grep -q '^rcpthosts: (Default.) .*relays nothing' <<<"$out"
check "-v tells who reads a file" grep -qF '  [read by qmail-qmqpc on leaf: ' <<<"$out"
check "README.md is not an unknown file" grep -q '^README.md: The documentation' <<<"$out"
QMAILHOME=$T/nohome "$B/qmail-showctl" >/dev/null 2>&1
is "$?" 111 "a missing control directory is 111"

# ---- mailsubj and datemail ----------------------------------------------
mkdir -p "$T/bin"
cat > "$T/bin/qmail-inject" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$T/inject.args"
cat > "$T/inject.in"
exit \${FAKE_RC:-0}
EOF
cat > "$T/bin/sendmail" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$T/sendmail.args"
cat > "$T/sendmail.in"
exit \${FAKE_RC:-0}
EOF
cp "$B/predate" "$T/bin/predate"
for s in mailsubj datemail; do
  sed "s|@QMAILHOME@|$T|g" "$SRCDIR/leaf/$s.sh" > "$T/bin/$s"
done
chmod 755 "$T"/bin/*

# shellcheck disable=SC2016 # the $HOME must reach the header unexpanded
subj='it'\''s "50%" off $HOME \n *'
printf 'body\n' | "$T/bin/mailsubj" "$subj" alice@example.org -odd@example.org
is "$?" 0 "mailsubj exits 0"
printf -- '--\nalice@example.org\n-odd@example.org\n' > "$T/want"
same "$T/inject.args" "$T/want" "qmail-inject gets -- and the recipients as arguments"
printf 'Subject: %s\nTo: alice@example.org, -odd@example.org\n\nbody\n' "$subj" > "$T/want"
same "$T/inject.in" "$T/want" "the header is Subject:, To: joined by ', ', blank line, body"
printf 'b\n' | "$T/bin/mailsubj" "$(printf 'one\nBcc: evil@example.org')" bob@example.org
check "a line break in the subject cannot add a header line" \
  grep -qx 'Subject: one Bcc: evil@example.org' "$T/inject.in"
"$T/bin/mailsubj" onlysubject </dev/null 2>/dev/null
is "$?" 100 "mailsubj without a recipient is a usage error (100)"
printf 'b\n' | FAKE_RC=111 "$T/bin/mailsubj" s bob@example.org
is "$?" 111 "mailsubj returns qmail-inject's exit code"

printf 'Subject: d\n\nbody\n' | "$T/bin/datemail" -oi carol@example.org
is "$?" 0 "datemail exits 0"
printf -- '-oi\ncarol@example.org\n' > "$T/want"
same "$T/sendmail.args" "$T/want" "sendmail gets datemail's arguments"
check "sendmail's input starts with a Date: line" grep -qE '^Date: .* [+-][0-9]{4}$' <(head -n 1 "$T/sendmail.in")
tail -n +2 "$T/sendmail.in" > "$T/rest"
printf 'Subject: d\n\nbody\n' > "$T/want"
same "$T/rest" "$T/want" "followed by the message"
printf 'x\n' | FAKE_RC=100 "$T/bin/datemail" dave@example.org
is "$?" 100 "datemail returns sendmail's exit code"

[ "$n" = 67 ] || echo "# planned 67 tests but ran $n"
