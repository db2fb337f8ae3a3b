#!/bin/bash
# smtpd.t: end-to-end tests of hub/qmail-smtpd under tcpserver on loopback,
# driven by real clients: python3 smtplib (a normal message, EHLO keywords,
# relay refusal, a 5 MB message stored byte for byte, 1100 recipients ->
# 452 4.5.3 after 1000), a raw socket (a pipelined MAIL/RCPT/DATA burst,
# bare-LF smuggling -> 451 and close, nothing queued), swaks when installed
# (plain and --pipeline), and a second server with timeoutsmtpd 1 (idle
# client -> 451 4.4.2 and close). The queue is tests/lib/qq-record.sh behind
# a wrapper that gives each message its own directory. Every client call is
# bounded by timeout(1); servers are killed by pid at exit.
. "$(dirname "$0")/../lib/common.sh"
BIN=$SRCDIR/$BUILD/hub/qmail-smtpd
PY=python3

cat > "$T/qq.sh" <<'EOF'
#!/bin/sh
d=$(mktemp -d "$QQ_BASE/run.XXXXXX") || exit 53
QQ_OUT=$d "$QQ_RECORD"; rc=$?
: > "$d/done"
exit $rc
EOF
chmod +x "$T/qq.sh"

# start_smtpd HOME QQDIR: tcpserver on a random loopback port; sets PORT.
start_smtpd() {
  local out=$T/port.$RANDOM i
  mkdir -p "$2"
  env QMAILHOME="$1" QMAILQUEUE="$T/qq.sh" QQ_BASE="$2" QQ_RECORD="$SRCDIR/tests/lib/qq-record.sh" \
    tcpserver -v -1 -HRl0 127.0.0.1 0 "$BIN" > "$out" 2> "$T/tcpserver.log" &
  _pids+=($!)
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  PORT=$(head -1 "$out")
}

mkhome() {
  mkdir -p "$1/control"
  printf 'hub.example.org\n' > "$1/control/me"
  printf 'example.org\n' > "$1/control/rcpthosts"
}

mkhome "$T/home"
start_smtpd "$T/home" "$T/qq"
like "$PORT" '^[0-9]+$' "tcpserver listens on a port"

cat > "$T/client.py" <<'EOF'
import glob, os, re, smtplib, socket, sys, time
port, qq = int(sys.argv[1]), sys.argv[2]
tcplog = os.environ["TCPLOG"]

def report(ok, name, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)), flush=True)

def runs():
    return sorted(glob.glob(qq + "/run.*"), key=os.path.getmtime)

def newest_after(before):
    new = [r for r in runs() if r not in before]
    return new[-1] if new else None

def envelope(run):
    with open(run + "/envelope", "rb") as f:
        return f.read()

def ended(cport, budget=60):
    """wait until the qmail-smtpd that served our port cport has exited
    (tcpserver -v logs "ok PID ... :CPORT" and "end PID status N") and
    every queue run is over; False past the budget"""
    deadline = time.time() + budget
    while time.time() < deadline:
        with open(tcplog) as f:
            log = f.read()
        pids = [m.group(1) for m in re.finditer(r"^tcpserver: ok (\d+) \S+ \S*:(\d+)$", log, re.M)
                if int(m.group(2)) == cport]
        if pids and re.search(r"^tcpserver: end %s status" % pids[-1], log, re.M) and \
                all(os.path.exists(r + "/done") for r in runs()):
            return True
        time.sleep(0.05)
    return False

def message(run):
    with open(run + "/message", "rb") as f:
        return f.read()

def normal():
    before = runs()
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    code, _ = s.ehlo("client.example.net")
    feats = s.esmtp_features
    report(code == 250 and all(k in feats for k in ("pipelining", "8bitmime", "size", "enhancedstatuscodes")),
           "EHLO advertises PIPELINING 8BITMIME SIZE ENHANCEDSTATUSCODES", feats)
    refused = s.sendmail("alice@client.example.net", ["bob@example.org"],
                         b"Subject: hello\r\n\r\nfirst line\r\n.leading dot\r\n")
    report(refused == {}, "smtplib message accepted", refused)
    run = newest_after(before)
    report(run is not None and envelope(run) == b"Falice@client.example.net\0Tbob@example.org\0\0",
           "envelope recorded", run and envelope(run))
    m = message(run) if run else b""
    report(m.startswith(b"Received: from client.example.net (unknown [127.0.0.1])\n  by hub.example.org with ESMTP; "),
           "Received line with ESMTP and the peer IP", m[:120])
    report(m.endswith(b"Subject: hello\n\nfirst line\n.leading dot\n"), "body stored in LF form, dot unstuffed", m[-60:])
    try:
        s.sendmail("alice@client.example.net", ["x@evil.test"], b"Subject: relay\r\n\r\nx\r\n")
        report(False, "relay refused", "accepted")
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients["x@evil.test"]
        report(code == 553 and text.startswith(b"5.7.1"), "relay to x@evil.test refused with 553 5.7.1", e.recipients)
    code, text = s.docmd("STARTTLS")
    report(code == 502 and text.startswith(b"5.5.1"), "STARTTLS not offered -> 502 5.5.1", (code, text))
    s.quit()

def lines_until(f, last_code):
    got = []
    while True:
        l = f.readline()
        if not l:
            return got
        got.append(l.decode("latin-1").rstrip("\r\n"))
        if l[:3] == last_code and l[3:4] == b" ":
            return got

def pipelining():
    before = runs()
    c = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = c.makefile("rb")
    lines_until(f, b"220")
    c.sendall(b"EHLO client.example.net\r\n")
    lines_until(f, b"250")
    c.sendall(b"MAIL FROM:<a@client.example.net>\r\nRCPT TO:<bob@example.org>\r\n"
              b"RCPT TO:<x@evil.test>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n")
    got = lines_until(f, b"354")
    codes = [l[:3] for l in got]
    report(codes == ["250", "250", "553", "250", "354"], "pipelined burst answered in order", got)
    c.sendall(b"Subject: burst\r\n\r\nx\r\n.\r\nQUIT\r\n")
    got = lines_until(f, b"221")
    report(len(got) == 2 and got[0].startswith("250 2.0.0 ok ") and got[1].startswith("221 2.0.0"),
           "message and QUIT pipelined", got)
    run = newest_after(before)
    report(run is not None and envelope(run) == b"Fa@client.example.net\0Tbob@example.org\0Tcarol@example.org\0\0",
           "pipelined message queued for the two accepted recipients", run and envelope(run))
    c.close()

def big():
    before = runs()
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_=+0123456789\r\n"
    body = b"Subject: big\r\n\r\n" + b"".join(b"%06d " % i + line for i in range(62000))
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.ehlo("client.example.net")
    t0 = time.time()
    refused = s.sendmail("alice@client.example.net", ["bob@example.org"], body)
    report(refused == {} and len(body) > 5000000, "5 MB message accepted (%.1f s)" % (time.time() - t0), refused)
    s.quit()
    run = newest_after(before)
    m = message(run) if run else b""
    idx = m.find(b"\nSubject: big\n")
    report(idx > 0 and m[idx + 1:] == body.replace(b"\r\n", b"\n"), "5 MB message stored byte for byte",
           (len(m), len(body)))

def many_rcpts():
    before = runs()
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.ehlo("client.example.net")
    s.mail("alice@client.example.net")
    codes = [s.rcpt("u%d@example.org" % i)[0] for i in range(1100)]
    report(codes[:1000] == [250] * 1000, "first 1000 RCPTs accepted", codes[:1000].count(250))
    last = s.rcpt("u@example.org")
    report(codes[1000:] == [452] * 100 and last[1].startswith(b"4.5.3"), "RCPTs after 1000 -> 452 4.5.3", last)
    code, _ = s.data(b"Subject: many\r\n\r\nx\r\n")
    report(code == 250, "message to 1000 recipients accepted", code)
    code, _ = s.noop()
    report(code == 250, "session goes on after the cap", code)
    s.quit()
    run = newest_after(before)
    env = envelope(run) if run else b""
    report(env.count(b"\0T") == 1000 and env.endswith(b"Tu999@example.org\0\0"), "1000 recipients in the envelope",
           env.count(b"\0T"))

def smuggle():
    before = runs()
    c = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = c.makefile("rb")
    lines_until(f, b"220")
    c.sendall(b"EHLO client.example.net\r\nMAIL FROM:<a@client.example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
    lines_until(f, b"354")
    c.sendall(b"Subject: smuggle\r\n\r\nx\n.\nMAIL FROM:<evil@evil.test>\r\nRCPT TO:<victim@example.org>\r\n"
              b"DATA\r\nforged\r\n.\r\nQUIT\r\n")
    got = lines_until(f, b"451")
    rest = f.read()
    report(got and got[-1].startswith("451 4.5.2") and rest == b"", "bare LF smuggling -> 451 4.5.2 and close", (got, rest))
    # qmail-smtpd waits for its queue program before it exits: read what
    # was queued once that session's process and every queue run are over
    report(ended(c.getsockname()[1]), "the smuggling session's qmail-smtpd has exited")
    queued = [r for r in runs() if r not in before and envelope(r)]
    report(queued == [], "nothing queued after smuggling", queued)
    c.close()

for t in sys.argv[3:]:
    try:
        globals()[t]()
    except Exception as e:
        report(False, t + " ran without an exception", repr(e))
print("END", flush=True)
EOF

client() { TCPLOG=$T/tcpserver.log timeout 120 $PY "$T/client.py" "$PORT" "$1" "${@:2}" 2>&1; }
tap_from() {  # turn PASS/FAIL lines into TAP through ok(); END must come
  local l end=1
  while IFS= read -r l; do
    case $l in
      "PASS "*) ok 0 "${l#PASS }" ;;
      "FAIL "*) ok 1 "${l#FAIL }" ;;
      END) end=0 ;;
      *) echo "# $l" ;;
    esac
  done
  ok $end "client $1 ran to the end"
}

tap_from normal < <(client "$T/qq" normal)
tap_from pipelining < <(client "$T/qq" pipelining)
tap_from big < <(client "$T/qq" big)
tap_from many_rcpts < <(client "$T/qq" many_rcpts)
tap_from smuggle < <(client "$T/qq" smuggle)

if command -v swaks > /dev/null; then
  n0=$(ls "$T/qq" | wc -l)
  out=$(timeout 60 swaks --server 127.0.0.1 --port "$PORT" --helo client.example.net \
        --from alice@client.example.net --to bob@example.org --header 'Subject: swaks' --body 'from swaks' 2>&1)
  ok $? "swaks sends a message"
  like "$out" '<-  250 2\.0\.0 ok [0-9]+ qp [0-9]+' "swaks sees 250 2.0.0 ok"
  out=$(timeout 60 swaks --pipeline --server 127.0.0.1 --port "$PORT" --helo client.example.net \
        --from alice@client.example.net --to bob@example.org,carol@example.org 2>&1)
  ok $? "swaks --pipeline sends a message"
  like "$out" '<-  250 2\.1\.5 ok' "swaks pipelined RCPT replies"
  is "$(ls "$T/qq" | wc -l)" "$((n0 + 2))" "two queue runs from swaks"
else
  echo "# swaks not installed: skipped"
fi

# a second server with a 1-second read timeout: an idle client is cut off
mkhome "$T/home2"
printf '1\n' > "$T/home2/control/timeoutsmtpd"
start_smtpd "$T/home2" "$T/qq2"
out=$(timeout 20 $PY - "$PORT" <<'EOF'
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
t0 = time.time()
data = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    data += b
print(repr(data), "%.1f" % (time.time() - t0))
EOF
)
like "$out" "^b'220 hub\.example\.org ESMTP\\\\r\\\\n451 4\.4\.2 timeout\\\\r\\\\n' [12]\." "idle client: 451 4.4.2 timeout after about 1 s, then close"

done_testing
