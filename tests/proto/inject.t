#!/bin/bash
# inject.t: golden transcripts for qmail-inject and sendmail.
# Each tests/proto/inject/NAME.in holds directives, a line "--- message",
# then the message fed on stdin. Directives:
#   #prog: sendmail         run bin/sendmail instead of qmail-inject
#   #args: -a bob@x         arguments (word-split by the shell)
#   #env: NAME=value        one environment variable (repeatable)
#   #control: file=value    a control file in the test home (repeatable)
#   #hub: REPLY             the QMQP hub's answer (K, Z or D and a text;
#                           default "Kok")
# Values go through printf %b, so \n and \r write line breaks, and @HOME@
# stands for the test home's path, @QQ@ for tests/lib/qq-record.sh.
# The programs run from a leaf home installed once with `make install-leaf`
# (so sendmail finds its bin/, as on a real host; #prog: mailq runs the
# mailq link), with a clean environment (USER=alice, QMAILHOME set to that
# home, no QMAILQUEUE). They deliver the way a real leaf does: QMQP inside
# the process (bin/qmail-queue is the qmail-qmqpc link) to a fake hub,
# tests/lib/qmqprecord.py, which records the message and the envelope and
# answers as the case says. Before each case control/ is emptied and me,
# defaultdomain, plusdomain, idhost and qmqpservers (the fake hub) are
# written, and the spool is emptied (it is on, as installed, unless the
# case writes control/spool). Only the cases named qmailqueue-override-*
# set QMAILQUEUE=tests/lib/qq-record.sh, which records the same way.
# The transcript records the exit code, stdout, stderr, the envelope (NULs
# shown as newlines), the message, and the names of the spool's files
# (only when there are any), with dates, Message-ID numbers, pids, the
# fake hub's port and the spool's uid directory replaced by placeholders,
# and is compared with NAME.exp. UPDATE=1 rewrites the .exp files that
# differ, and reports those cases not ok (tests/lib/golden.sh).
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=$PWD
BUILD=${BUILD:-build}
tmp=$(mktemp -d) || exit 1
hubpid=""
trap '[ -n "$hubpid" ] && kill "$hubpid" 2>/dev/null; rm -rf "$tmp"' EXIT
. tests/lib/golden.sh
san=""; case $BUILD in *-san) san=SAN=1 ;; esac
if ! make -s -C "$SRCDIR" BUILD="$BUILD" $san install-leaf QMAILHOME="$tmp/home" > "$tmp/install.log" 2>&1; then
  sed 's/^/# /' "$tmp/install.log"; echo "Bail out! make install-leaf failed"; exit 1
fi

# the fake hub: one for all cases; it writes into $tmp/out, which each case
# makes anew, and answers with the first line of $tmp/answer
mkdir -p "$tmp/out"
coproc HUB { exec python3 "$SRCDIR/tests/lib/qmqprecord.py" "$tmp/out" "$tmp/answer"; }
hubpid=$HUB_PID
read -r -t 10 hubport <&"${HUB[0]}" || { echo "Bail out! the fake QMQP hub did not start"; exit 1; }

normalise() {
  sed -E -e 's/^(Date|Resent-Date): .*/\1: <DATE>/' \
         -e 's/<[0-9]+\.[0-9]+\.[0-9]+\.qmail@/<ID.qmail@/' \
         -e 's/-[0-9]{9,}\.[0-9]+(@|-@)/-<TIME>.<PID>\1/g'
}

run_case() {
  local in=$1 home=$tmp/home out=$tmp/out prog=qmail-inject line w l
  local -a envs=() args=()
  rm -rf "$home/control" "$out"; mkdir -p "$home/control" "$out"
  printf 'leaf.example.org\n' > "$home/control/me"
  printf 'example.org\n' > "$home/control/defaultdomain"
  printf 'plus.example.net\n' > "$home/control/plusdomain"
  printf 'id.example.org\n' > "$home/control/idhost"
  printf '127.0.0.1:%s\n' "$hubport" > "$home/control/qmqpservers"
  rm -f "$tmp/answer"; rm -rf "$home/spool/"*
  while IFS= read -r line; do
    case $line in
      "--- message") break ;;
      "#prog: "*) prog=${line#\#prog: } ;;
      "#args: "*) for w in ${line#\#args: }; do args+=("$(printf '%b' "$w")"); done ;;
      "#env: "*) l=${line#\#env: }; l=${l//@HOME@/$home}; envs+=("$(printf '%b' "${l//@QQ@/$SRCDIR/tests/lib/qq-record.sh}")") ;;
      "#hub: "*) printf '%s\n' "${line#\#hub: }" > "$tmp/answer" ;;
      "#control: "*) l=${line#\#control: }; printf '%b\n' "${l#*=}" > "$home/control/${l%%=*}" ;;
    esac
  done < "$in"
  sed '0,/^--- message$/d' "$in" > "$tmp/stdin"
  env -i PATH=/usr/bin:/bin USER=alice QMAILHOME="$home" QQ_OUT="$out" \
      "${envs[@]}" \
      "$home/bin/$prog" "${args[@]}" < "$tmp/stdin" > "$out/stdout" 2> "$out/stderr"
  echo "exit: $?"
  echo "--- stderr"; sed "s/127\.0\.0\.1:$hubport\b/127.0.0.1:<HUBPORT>/g" "$out/stderr"
  echo "--- stdout"; normalise < "$out/stdout"
  echo "--- envelope"; [ -f "$out/envelope" ] && tr '\0' '\n' < "$out/envelope" | normalise
  echo "--- message"; [ -f "$out/message" ] && normalise < "$out/message"
  find "$home/spool" -type f | sed -E -e "s|^$home/spool/[0-9]+/|spool/<UID>/|" -e 's/[0-9]+\.[0-9]+\.[0-9]+$/<FILE>/' | sort > "$out/spool"
  if [ -s "$out/spool" ]; then echo "--- spool"; cat "$out/spool"; fi
}

cases=(tests/proto/inject/*.in)
echo "1..${#cases[@]}"
n=0
for c in "${cases[@]}"; do
  n=$((n + 1)); exp=${c%.in}.exp
  run_case "$c" > "$tmp/got" 2>&1
  if golden "$n" "$(basename "$c" .in)" "$tmp/got" "$exp"; then echo "ok $n - $(basename "$c" .in)"; fi
done
