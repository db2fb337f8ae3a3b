#!/bin/bash
# inject.t: golden transcripts for qmail-inject and sendmail.
# Each tests/proto/inject/NAME.in holds directives, a line "--- message",
# then the message fed on stdin. Directives:
#   #prog: sendmail         run bin/sendmail instead of qmail-inject
#   #args: -a bob@x         arguments (word-split by the shell)
#   #env: NAME=value        one environment variable (repeatable)
#   #control: file=value    a control file in the test home (repeatable)
# Values go through printf %b, so \n and \r write line breaks, and @HOME@
# stands for the test home's path.
# The programs run from a leaf home installed once with `make install-leaf`
# (so sendmail finds its bin/, as on a real host; #prog: mailq runs the
# mailq link), with a clean environment (USER=alice, QMAILHOME set to that
# home, QMAILQUEUE=tests/lib/qq-record.sh). Before each case control/ is
# emptied and me, defaultdomain, plusdomain, idhost are written (no
# qmqpservers unless the case writes one). The transcript records the
# exit code, stdout, stderr, the envelope (NULs shown as newlines) and the
# message, with dates, Message-ID numbers and pids replaced by
# placeholders, and is compared with NAME.exp. UPDATE=1 rewrites the .exp
# files that differ, and reports those cases not ok (tests/lib/golden.sh).
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=$PWD
BUILD=${BUILD:-build}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. tests/lib/golden.sh
san=""; case $BUILD in *-san) san=SAN=1 ;; esac
if ! make -s -C "$SRCDIR" BUILD="$BUILD" $san install-leaf QMAILHOME="$tmp/home" > "$tmp/install.log" 2>&1; then
  sed 's/^/# /' "$tmp/install.log"; echo "Bail out! make install-leaf failed"; exit 1
fi

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
  while IFS= read -r line; do
    case $line in
      "--- message") break ;;
      "#prog: "*) prog=${line#\#prog: } ;;
      "#args: "*) for w in ${line#\#args: }; do args+=("$(printf '%b' "$w")"); done ;;
      "#env: "*) l=${line#\#env: }; envs+=("$(printf '%b' "${l//@HOME@/$home}")") ;;
      "#control: "*) l=${line#\#control: }; printf '%b\n' "${l#*=}" > "$home/control/${l%%=*}" ;;
    esac
  done < "$in"
  sed '0,/^--- message$/d' "$in" > "$tmp/stdin"
  env -i PATH=/usr/bin:/bin USER=alice QMAILHOME="$home" QQ_OUT="$out" \
      QMAILQUEUE="$SRCDIR/tests/lib/qq-record.sh" "${envs[@]}" \
      "$home/bin/$prog" "${args[@]}" < "$tmp/stdin" > "$out/stdout" 2> "$out/stderr"
  echo "exit: $?"
  echo "--- stderr"; cat "$out/stderr"
  echo "--- stdout"; normalise < "$out/stdout"
  echo "--- envelope"; [ -f "$out/envelope" ] && tr '\0' '\n' < "$out/envelope" | normalise
  echo "--- message"; [ -f "$out/message" ] && normalise < "$out/message"
}

cases=(tests/proto/inject/*.in)
echo "1..${#cases[@]}"
n=0
for c in "${cases[@]}"; do
  n=$((n + 1)); exp=${c%.in}.exp
  run_case "$c" > "$tmp/got" 2>&1
  if golden "$n" "$(basename "$c" .in)" "$tmp/got" "$exp"; then echo "ok $n - $(basename "$c" .in)"; fi
done
