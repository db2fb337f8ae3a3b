#!/bin/bash
# smtpd.t: golden transcripts for qmail-smtpd, run on stdin/stdout (no network).
# Each tests/proto/smtpd/NAME.in holds directive lines, a line "--- client",
# then the bytes the client sends (the file has CRLF line ends there). In
# the client part a line
#   --- sleep N      pauses N seconds (the server sees separate reads)
#   --- shell: CMD   sends CMD's output (bash), for big or binary input
# and every other line is sent as it is; lines between markers go out in
# one write. Directives (before "--- client"):
#   #desc: TEXT            what the case shows (ignored)
#   #env: NAME=value       an environment variable (printf %b; repeatable)
#   #unset: NAME           drop one of the default variables below
#   #control: file=value   a control file (printf %b; repeatable)
#   #nocontrol: file       remove a default control file
#   #strace                also report how many write(2)s went to fd 1
# Defaults: control/me = hub.example.org, control/rcpthosts = example.org;
# TCPREMOTEIP=192.0.2.9 TCPREMOTEHOST=client.example.net
# TCPLOCALIP=192.0.2.25, no RELAYCLIENT; QMAILQUEUE is a wrapper (written
# at run time) around tests/lib/qq-record.sh that gives each queue run its
# own directory and its exit code from the n-th word of $QQ_EXITS (else
# $QQ_EXIT); with $QQ_SIGNAL it kills itself with that signal instead.
# The transcript holds the server's replies (CR LF shown as line ends, a
# bare LF flagged), its exit code, stderr and every queue run: the envelope
# (NULs as line ends) and the message (cat -v), or "aborted" when no
# envelope came (nothing would be queued), each with the stub's exit. Times, pids and dates are
# replaced by placeholders; messages over 8 KB are summarised.
# UPDATE=1 rewrites the .exp files that differ, and reports those cases
# not ok (tests/lib/golden.sh).
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=$PWD
BIN=$SRCDIR/${BUILD:-build}/hub/qmail-smtpd
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. tests/lib/golden.sh

cat > "$tmp/qq.sh" <<'EOF'
#!/bin/sh
n=1
while [ -e "$QQ_BASE/$n" ]; do n=$((n + 1)); done
mkdir "$QQ_BASE/$n"
set -- $QQ_EXITS
eval "code=\${$n:-}"
QQ_OUT=$QQ_BASE/$n QQ_EXIT=${code:-${QQ_EXIT:-0}} "$QQ_RECORD"
rc=$?
if [ -n "${QQ_SIGNAL:-}" ]; then echo "signal $QQ_SIGNAL" > "$QQ_BASE/$n/rc"; kill "-$QQ_SIGNAL" $$; fi
echo "exit $rc" > "$QQ_BASE/$n/rc"
exit $rc
EOF
chmod +x "$tmp/qq.sh"

normalise() {
  sed -E -e 's/ok [0-9]+ qp [0-9]+/ok <TIME> qp <PID>/' \
         -e 's/^(  by .*); [A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [-+][0-9]{4}$/\1; <DATE>/'
}

# show_replies: CR LF -> line end; a line without CR is flagged
show_replies() { sed -e '/\r$/!s/$/ [no CR]/' -e 's/\r$//' "$1" | normalise | cat -v; }

show_message() {
  local f=$1 n
  normalise < "$f" | cat -v > "$tmp/msg"
  n=$(wc -c < "$tmp/msg")
  if [ "$n" -le 8192 ]; then cat "$tmp/msg"; return; fi
  cut -c1-120 "$tmp/msg" | head -8
  echo "[... message: $n bytes, $(wc -l < "$tmp/msg") lines, longest line $(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$tmp/msg") bytes]"
}

show_queue() {
  local d=$1 n="${1##*/} ($(cat "$1/rc" 2>/dev/null))"
  if [ ! -s "$d/envelope" ]; then echo "--- queue run $n: aborted (no envelope)"; return; fi
  if [ "$(tail -c 2 "$d/envelope" | od -An -tx1 | tr -d ' \n')" = 0000 ]; then
    echo "--- queue run $n: envelope"
  else
    echo "--- queue run $n: INCOMPLETE envelope"
  fi
  tr '\0' '\n' < "$d/envelope" | cat -v
  echo "--- queue run $n: message"
  show_message "$d/message"
}

# make_feed IN: write $tmp/feed.sh sending the client part of IN
make_feed() {
  local n=0 line raw more
  : > "$tmp/feed.sh"; : > "$tmp/chunk.0"
  sed '0,/^--- client/d' "$1" > "$tmp/client"
  while more=1; IFS= read -r raw || { more=0; [ -n "$raw" ]; }; do
    line=${raw%$'\r'}
    case $line in
      "--- sleep "*|"--- shell: "*)
        if [ -s "$tmp/chunk.$n" ]; then echo "cat '$tmp/chunk.$n'" >> "$tmp/feed.sh"; n=$((n + 1)); : > "$tmp/chunk.$n"; fi
        case $line in
          "--- sleep "*) echo "sleep ${line#--- sleep }" >> "$tmp/feed.sh" ;;
          *) echo "${line#--- shell: }" >> "$tmp/feed.sh" ;;
        esac ;;
      *) if [ $more = 1 ]; then printf '%s\n' "$raw"; else printf '%s' "$raw"; fi >> "$tmp/chunk.$n" ;;
    esac
  done < "$tmp/client"
  if [ -s "$tmp/chunk.$n" ]; then echo "cat '$tmp/chunk.$n'" >> "$tmp/feed.sh"; fi
}

run_case() {
  local in=$1 home=$tmp/home q=$tmp/qq line l rc trace=""
  local -A envs=([TCPREMOTEIP]=192.0.2.9 [TCPREMOTEHOST]=client.example.net [TCPLOCALIP]=192.0.2.25)
  local -a envlist=() pre=()
  rm -rf "$home" "$q" "$tmp"/chunk.* "$tmp/trace"; mkdir -p "$home/control" "$q"
  printf 'hub.example.org\n' > "$home/control/me"
  printf 'example.org\n' > "$home/control/rcpthosts"
  while IFS= read -r line; do
    line=${line%$'\r'}
    case $line in
      "--- client") break ;;
      "#env: "*) l=${line#\#env: }; envs[${l%%=*}]=$(printf '%b' "${l#*=}") ;;
      "#unset: "*) unset "envs[${line#\#unset: }]" ;;
      "#control: "*) l=${line#\#control: }; printf '%b\n' "${l#*=}" > "$home/control/${l%%=*}" ;;
      "#nocontrol: "*) rm -f "$home/control/${line#\#nocontrol: }" ;;
      "#strace") trace=1; pre=(strace -qq -e trace=write -e signal=none -o "$tmp/trace") ;;
    esac
  done < "$in"
  for l in "${!envs[@]}"; do envlist+=("$l=${envs[$l]}"); done
  make_feed "$in"
  ( bash "$tmp/feed.sh" 2>/dev/null ) |
    env -i PATH=/usr/bin:/bin QMAILHOME="$home" QMAILQUEUE="$tmp/qq.sh" QQ_BASE="$q" \
        QQ_RECORD="$SRCDIR/tests/lib/qq-record.sh" "${envlist[@]}" \
        timeout 60 "${pre[@]}" "$BIN" > "$tmp/stdout" 2> "$tmp/stderr"
  rc=${PIPESTATUS[1]}
  echo "--- server"; show_replies "$tmp/stdout"
  echo "--- exit: $rc"
  if [ -s "$tmp/stderr" ]; then echo "--- stderr"; cat -v "$tmp/stderr"; fi
  if [ -n "$trace" ]; then echo "--- writes to fd 1: $(grep -c '^write(1,' "$tmp/trace")"; fi
  for l in $(ls "$q" | sort -n); do show_queue "$q/$l"; done
}

cases=(tests/proto/smtpd/*.in)
echo "1..${#cases[@]}"
n=0
for c in "${cases[@]}"; do
  n=$((n + 1)); exp=${c%.in}.exp
  run_case "$c" > "$tmp/got" 2>&1
  if golden "$n" "$(basename "$c" .in)" "$tmp/got" "$exp"; then echo "ok $n - $(basename "$c" .in)"; fi
done
