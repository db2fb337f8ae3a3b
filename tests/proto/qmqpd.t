#!/bin/bash
# qmqpd.t: golden transcripts for hub/qmail-qmqpd (and, when run as
# NS_SERVER=qmtpd by qmtpd.t, for hub/qmail-qmtpd), on stdin/stdout with no
# network. Inputs tests/proto/$NS_SERVER/NAME.in come from mk-ns-cases.py:
# directive lines (#env:, #control:, #nocontrol:, #expect:, #row:), a line
# "--- request", then the raw request bytes fed to the server.
#
# Each case runs with a clean environment: QMAILHOME a temp home
# (control/me hub.example.org, control/rcpthosts example.org),
# QMAILQUEUE=tests/lib/qq-record.sh (QQ_EXIT / QQ_TEXT make it fail; run
# through a wrapper that gives each queue run its own directory),
# TCPREMOTEIP=192.0.2.7, TCPREMOTEHOST=client.example.net. The transcript
# holds the exit code, stderr, the reply made printable (K replies with
# <LEN>, <TIME>, <PID>; every length checked first), and what the queue
# stub recorded, run by run: not started, aborted (empty envelope: nothing
# queued) or the envelope and message (Received date as <DATE>). A case passes when
# the transcript equals NAME.exp AND every #expect: ERE matches one of its
# lines (the row's "expected" column, which UPDATE=1 cannot rewrite).
# UPDATE=1 rewrites the .exp files that differ, and reports those cases
# not ok (tests/lib/golden.sh).
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=$PWD
SERVER=${NS_SERVER:-qmqpd}
BIN=$SRCDIR/${BUILD:-build}/hub/qmail-$SERVER
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. tests/lib/golden.sh
export LC_ALL=C

# qq: the queue stub, each run recording into its own numbered directory
# ($QQ_BASE/1, 2, ...) so that every package of a QMTP session shows.
cat > "$tmp/qq" <<EOF
#!/bin/sh
i=1
while ! mkdir "\$QQ_BASE/\$i" 2>/dev/null; do i=\$((i + 1)); done
QQ_OUT=\$QQ_BASE/\$i exec "$SRCDIR/tests/lib/qq-record.sh"
EOF
chmod +x "$tmp/qq"

cat > "$tmp/show.py" <<'EOF'
import os, re, sys
out, code = sys.argv[1], sys.argv[2]

def esc(b, keep_nl):
    s = []
    for c in b:
        if c == 10 and keep_nl: s.append("\n")
        elif c == 92: s.append("\\\\")
        elif c == 13: s.append("\\r")
        elif c == 9: s.append("\\t")
        elif c == 0: s.append("\\0")
        elif 32 <= c < 127: s.append(chr(c))
        else: s.append("\\x%02x" % c)
    return "".join(s)

def read(name):
    p = os.path.join(out, name)
    return open(p, "rb").read() if os.path.exists(p) else None

def replies(d):
    res, i = [], 0
    while i < len(d):
        m = re.match(rb"(\d+):", d[i:])
        if not m:
            res.append(esc(d[i:], False) + "<NOT A NETSTRING>")
            break
        n, j = int(m.group(1)), i + m.end()
        body = d[j:j + n]
        if len(body) < n or d[j + n:j + n + 1] != b",":
            res.append(esc(d[i:], False) + "<BAD NETSTRING>")
            break
        t = esc(body, False)
        res.append("<LEN>:Kok <TIME> qp <PID>," if re.fullmatch(r"Kok \d+ qp \d+", t) else "%d:%s," % (n, t))
        i = j + n + 1
    return "".join(res)

DATE = re.compile(r"; [A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [-+]\d{4}$", re.M)
print("exit: " + code)
print("--- stderr")
sys.stdout.write(esc(read("stderr") or b"", True))
reply = read("reply") or b""
print("--- reply (none)" if not reply else "--- reply\n" + replies(reply))
runs = sorted((d for d in os.listdir(out) if d.isdigit()), key=int)
if not runs:
    print("--- queue: not started")
for r in runs:
    msg, env = read(r + "/message"), read(r + "/envelope")
    if not env:
        print("--- queue run %s: aborted, nothing queued" % r)
        continue
    print("--- queue run %s: envelope" % r)
    items = env.split(b"\0")
    while items and items[0]:
        print(esc(items.pop(0), False))
    rest = b"\0".join(items[1:]) if items else None
    print("<END>" if rest == b"" else "<UNTERMINATED>" if rest is None
          else "<END> then " + esc(rest, False))
    print("--- message")
    m = DATE.sub("; <DATE>", esc(msg or b"", True))
    sys.stdout.write(m if m.endswith("\n") or not m else m + "\n<NO FINAL NEWLINE>\n")
EOF

run_case() {
  local in=$1 home=$tmp/home out=$tmp/out line l hdr=0 rc
  local -a envs=()
  rm -rf "$home" "$out"; mkdir -p "$home/control" "$out"
  printf 'hub.example.org\n' > "$home/control/me"
  printf 'example.org\n' > "$home/control/rcpthosts"
  while IFS= read -r line; do
    hdr=$((hdr + ${#line} + 1))
    case $line in
      "--- request") break ;;
      "#env: "*) envs+=("${line#\#env: }") ;;
      "#control: "*) l=${line#\#control: }; printf '%s\n' "${l#*=}" > "$home/control/${l%%=*}" ;;
      "#nocontrol: "*) rm -f "$home/control/${line#\#nocontrol: }" ;;
    esac
  done < "$in"
  tail -c +$((hdr + 1)) "$in" > "$tmp/request"
  env -i PATH=/usr/bin:/bin QMAILHOME="$home" QQ_BASE="$out" QMAILQUEUE="$tmp/qq" \
      TCPREMOTEIP=192.0.2.7 TCPREMOTEHOST=client.example.net "${envs[@]}" \
      timeout 60 "$BIN" < "$tmp/request" > "$out/reply" 2> "$out/stderr"
  rc=$?
  python3 "$tmp/show.py" "$out" "$rc"
}

# expectations: every #expect: ERE of $1 must match a line of $2.
expectations() {
  local line re bad=0
  while IFS= read -r line; do
    case $line in
      "--- request") break ;;
      "#expect: "*) re=${line#\#expect: }
        if ! grep -qE -- "$re" "$2"; then echo "#   no line matches: $re"; bad=1; fi ;;
    esac
  done < "$1"
  return $bad
}

if [ ! -x "$BIN" ]; then echo "Bail out! $BIN not built (BUILD=$BUILD: make all first)"; exit 1; fi
cases=(tests/proto/$SERVER/*.in)
echo "1..${#cases[@]}"
n=0
for c in "${cases[@]}"; do
  n=$((n + 1)); exp=${c%.in}.exp; name=$(basename "$c" .in)
  run_case "$c" > "$tmp/got" 2>&1
  if ! golden "$n" "$SERVER $name" "$tmp/got" "$exp"; then :
  elif ! expectations "$c" "$tmp/got" > "$tmp/why"; then
    echo "not ok $n - $SERVER $name (expected column)"; cat "$tmp/why"
  else
    echo "ok $n - $SERVER $name"
  fi
done
