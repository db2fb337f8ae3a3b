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
# The program runs with a clean environment (USER=alice, QMAILHOME set to a
# temp home, QMAILQUEUE=tests/lib/qq-record.sh). The transcript records the
# exit code, stderr, the envelope (NULs shown as newlines) and the message,
# with dates, Message-ID numbers and pids replaced by placeholders, and is
# compared with NAME.exp. UPDATE=1 rewrites the .exp files.
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=$PWD
BIN=$SRCDIR/${BUILD:-build}/leaf
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

normalise() {
  sed -E -e 's/^(Date|Resent-Date): .*/\1: <DATE>/' \
         -e 's/<[0-9]+\.[0-9]+\.[0-9]+\.qmail@/<ID.qmail@/' \
         -e 's/-[0-9]{9,}\.[0-9]+(@|-@)/-<TIME>.<PID>\1/g'
}

run_case() {
  local in=$1 home=$tmp/home out=$tmp/out prog=qmail-inject line w l
  local -a envs=() args=()
  rm -rf "$home" "$out"; mkdir -p "$home/control" "$out"
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
      "$BIN/$prog" "${args[@]}" < "$tmp/stdin" > "$out/stdout" 2> "$out/stderr"
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
  if [ -n "${UPDATE:-}" ]; then cp "$tmp/got" "$exp"; fi
  if cmp -s "$tmp/got" "$exp"; then echo "ok $n - $(basename "$c" .in)"
  else echo "not ok $n - $(basename "$c" .in)"; diff -u "$exp" "$tmp/got" | sed 's/^/# /' | head -40; fi
done
