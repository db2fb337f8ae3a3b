#!/bin/bash
# trace.t: following one message through a running hub (issue 10 item 17).
# qmail-queue gives each message a queue id SEC.NSEC.N, writes it into its
# Received line and, with the escaped and capped Message-ID, into the
# envelope (i and m items); qmail-send logs "new msg N id ID mid <...>";
# bin/qmail-trace prints one message's history by id or Message-ID with
# readable times. Checked: the i/m items and Received line of a message
# queued with bin/qmail-queue (control and 8-bit bytes, a backslash, a tab
# fold); the log lines for messages sent over SMTP (plain, control bytes,
# a 400-byte Message-ID cut to 200, one Message-ID twice) with no raw
# control byte anywhere in the log; the delivered message's Received line
# carries the logged id; qmail-trace (and qmailctl trace) by id, by
# Message-ID with and without <>, as logged and raw, prints exactly that
# message's lines (delivery success included) with times, nothing of the
# others; an unknown one exits 1; an inode number used again by the next
# message (tried up to 20 times: whether ext4 reuses it depends on the
# allocator) gets another id and each trace shows only its own message;
# and on a made-up log the reuse of N with and without an end line, a
# restart of qmail-send (its delivery numbers start again) and the date(1)
# fallback when tai64nlocal is not installed, against times computed by
# python.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built

hub_install; ok $? "make install makes a hub home"
TR=$HUB/bin/qmail-trace
[ -x "$TR" ]; ok $? "bin/qmail-trace is installed"
hub_user zt; hub_newu; ok $? "qmail-newu"
MD=$T/home/zt/Maildir/new
log() { qlog | sed 's/^@[0-9a-f]* //'; }  # the log without stamps
logged() { log | grep -q -- "$1"; }
skip() { _n=$((_n + 1)); echo "ok $_n # skip $1"; }

# ---- qmail-queue: the i and m items and the Received line ----------------
printf 'Subject: ctl\nMessage-ID:\n\t<ctl\001\033[1m\177\303\251\\x@example.org>  \n\nMessage-ID: <not@this>\n' > "$T/mc"
printf 'Fs@example.org\0Tzt@hub.example.org\0\0' > "$T/ec"
"$HUB/bin/qmail-queue" < "$T/mc" 1< "$T/ec"
is "$?" 0 "qmail-queue: a message with a Message-ID of control bytes queued"
r=$(python3 - "$HUB/queue" <<'EOF'
import os, re, sys
q = sys.argv[1]
t = [(s, n) for s in os.listdir(q + '/todo') for n in os.listdir(f'{q}/todo/{s}')]
if len(t) != 1: print('todo entries', len(t)); sys.exit()
s, n = t[0]
items = open(f'{q}/todo/{s}/{n}', 'rb').read().split(b'\0')
if not (items[0].startswith(b'u') and items[1].startswith(b'p')): print('u p', items[:2]); sys.exit()
i, m = items[2], items[3]
if not re.fullmatch(rb'i\d+\.\d{9}\.' + n.encode(), i): print('i item', i); sys.exit()
want = b'm<ctl\\001\\033[1m\\177\\303\\251\\\\x@example.org>'
if m != want: print('m item', m, want); sys.exit()
if items[4:] != [b'Fs@example.org', b'Tzt@hub.example.org', b'', b'']: print('envelope', items[4:]); sys.exit()
line = open(f'{q}/mess/{s}/{n}', 'rb').read().split(b'\n')[0]
if not re.fullmatch(rb'Received: \(qmail \d+ invoked by uid \d+ id ' + re.escape(i[1:]) + rb'\); .*', line):
    print('Received', line); sys.exit()
print('ok', i[1:].decode())
EOF
)
like "$r" '^ok ' "qmail-queue: i item (SEC.NSEC.N of its inode), m item escaped, unfolded and trimmed, the same id in the Received line; a Message-ID in the body is not taken"
IDC=${r#ok }

hub_start; ok $? "hub started"

sendmsg() { # MESSAGE-ID SUBJECT
  printf 'Message-ID: %s\nSubject: %s\n\nbody of %s\n' "$1" "$2" "$2" |
    send "s@example.org" zt@hub.example.org
}
LONG="<$(printf 'l%.0s' $(seq 400))@example.org>"
sendmsg '<trace-a@example.org>' ta; ok $? "sent ta"
printf 'Message-ID: <ctl2\001\002\033@example.org>\nSubject: tc\n\nbody\n' |
  send "s@example.org" zt@hub.example.org; ok $? "sent tc (control bytes over SMTP)"
sendmsg "$LONG" tl; ok $? "sent tl (a 400-byte Message-ID)"
sendmsg '<trace-dup@example.org>' td1; ok $? "sent td1"
sendmsg '<trace-dup@example.org>' td2; ok $? "sent td2 (the same Message-ID)"
delivered() { [ "$(nfiles "$MD")" -ge "$1" ]; }
ended() { [ "$(log | grep -c '^end msg ')" -ge "$1" ]; }
wait_until delivered 6; ok $? "all six delivered"
wait_until ended 6; ok $? "all six ended in the log"

# ---- the log -----------------------------------------------------------------
newline() { log | grep -F " mid $1" | head -1; }  # the new msg line of a Message-ID
L=$(newline '<trace-a@example.org>')
like "$L" '^new msg [0-9]+ id [0-9]+\.[0-9]{9}\.[0-9]+ mid <trace-a@example.org>$' "new msg N id ID mid <...> logged"
NA=$(echo "$L" | cut -d' ' -f3) IDA=$(echo "$L" | cut -d' ' -f5)
is "${IDA##*.}" "$NA" "the id ends in the message number"
is "$(log | grep -F "new msg ${IDC##*.} id $IDC mid " | sed 's/.* mid //')" '<ctl\001\033[1m\177\303\251\\x@example.org>' \
  "the message queued before the start: logged with the id of its envelope, its Message-ID escaped"
is "$(newline '<ctl2' | sed 's/.* mid //')" '<ctl2\001\002\033@example.org>' "control bytes from SMTP: escaped in the log"
bad=$(qlog | LC_ALL=C tr -d '\n' | LC_ALL=C tr -dc '\000-\037\177' | wc -c)
is "$bad" 0 "no control byte anywhere in the log"
L=$(newline '<llll')
mid=${L#* mid }
is "${#mid}" 200 "a 400-byte Message-ID is logged cut at 200 bytes"
is "$mid" "${LONG:0:200}" "its first 200 bytes"

# ---- the Received line of the delivered message --------------------------
f=$(grep -l '^Subject: ta$' "$MD"/* | head -1)
like "$(grep -m1 '^Received: ' "$f")" "^Received: \\(qmail [0-9]+ invoked (by uid [0-9]+|from network) id $IDA\\); " \
  "the delivered message's first Received line carries the logged id"

# ---- qmail-trace -----------------------------------------------------------
check() { # OUTPUT N ID: exactly one message's history, with times
  python3 - "$1" "$2" "$3" <<'EOF'
import re, sys
out, n, qid = sys.argv[1:4]
lines = out.split('\n')
tm = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} ')
if not lines or not all(tm.match(l) for l in lines): print('times', lines); sys.exit()
t = [tm.sub('', l) for l in lines]
if not re.fullmatch(rf'new msg {n} id {re.escape(qid)}( mid .*)?', t[0]): print('first', t[0]); sys.exit()
if t[-1] != f'end msg {n}': print('last', t[-1]); sys.exit()
if not any(l.startswith(f'info msg {n}: ') for l in t): print('no info'); sys.exit()
starts = [m.group(1) for l in t for m in [re.match(rf'starting delivery (\d+): msg {n} to local zt@hub.example.org$', l)] if m]
results = [m.group(1) for l in t for m in [re.match(r'delivery (\d+): success: ', l)] if m]
if len(starts) != 1 or results != starts: print('deliveries', starts, results); sys.exit()
for l in t:
    for m in re.finditer(r'msg (\d+)', l):
        if m.group(1) != n: print('other message', l); sys.exit()
    if l.startswith('new msg') and l != t[0]: print('second new msg', l); sys.exit()
if len(t) != 5: print('lines', t); sys.exit()
print('ok')
EOF
}
out=$("$TR" "$IDA"); rc=$?
is "$rc/$(check "$out" "$NA" "$IDA")" "0/ok" "qmail-trace ID: new, info, starting delivery, success, end of exactly that message, with local times"
is "$("$TR" '<trace-a@example.org>')" "$out" "qmail-trace <MESSAGE-ID>: the same"
is "$("$TR" 'trace-a@example.org')" "$out" "qmail-trace MESSAGE-ID without <>: the same"
is "$("$HUB/bin/qmailctl" trace "$IDA")" "$out" "qmailctl trace ID: the same"
out=$("$TR" "$IDC")
is "$(check "$out" "${IDC##*.}" "$IDC")" ok "qmail-trace of the message with control bytes, by id"
is "$("$TR" "$(printf '<ctl\001\033[1m\177\303\251\\x@example.org>')")" "$out" "... by its raw Message-ID"
is "$("$TR" '<ctl\001\033[1m\177\303\251\\x@example.org>')" "$out" "... by its Message-ID as logged"
L=$(newline '<llll')
out=$("$TR" "$LONG")
is "$(check "$out" "$(echo "$L" | cut -d' ' -f3)" "$(echo "$L" | cut -d' ' -f5)")" ok "the 400-byte Message-ID finds the message logged with 200 bytes of it"
out=$("$TR" '<trace-dup@example.org>')
is "$(printf '%s\n' "$out" | grep -c ' new msg ')/$(printf '%s\n' "$out" | grep -c ' end msg ')/$(printf '%s\n' "$out" | grep -c '^$')" \
  "2/2/1" "a Message-ID queued twice: both histories, one after the other, an empty line between"
out=$("$TR" '<no-such@example.org>' 2> "$T/err"); rc=$?
is "$rc/$out" "1/" "an unknown Message-ID: exit 1, nothing printed"
like "$(cat "$T/err")" 'no such message' "and a word on stderr"
"$TR" > /dev/null 2>&1; is "$?" 100 "no argument: usage, 100"

# ---- an inode number used again ----------------------------------------------
seen=" $(log | sed -n 's/^new msg \([0-9]*\) .*/\1/p' | tr '\n' ' ')"
reused=""
for i in $(seq 20); do
  sendmsg "<reuse-$i@example.org>" "reuse $i" || break
  wait_until logged " mid <reuse-$i@example.org>" || break
  n=$(newline "<reuse-$i@example.org>" | cut -d' ' -f3)
  wait_until logged "^end msg $n\$" || break  # its files are gone by then
  case $seen in *" $n "*) reused=$i; break ;; esac
  seen="$seen$n "
done
if [ -n "$reused" ]; then
  n=$(newline "<reuse-$reused@example.org>" | cut -d' ' -f3)
  ids=$(log | sed -n "s/^new msg $n id \\([^ ]*\\) .*/\\1/p")
  is "$(echo "$ids" | sort -u | wc -l)" "$(echo "$ids" | wc -l)" "message number $n used again (try $reused): every use has its own id"
  for id in $ids; do
    out=$("$TR" "$id")
    is "$(check "$out" "$n" "$id")" ok "qmail-trace $id: only that use of number $n"
  done
else
  skip "no inode number used again in 20 tries on this filesystem"
fi
dups=$(log | sed -n 's/^new msg \([0-9]*\) id \([^ ]*\).*/\1 \2/p' | sort | uniq -d | wc -l)
is "$dups" 0 "no two new msg lines with the same number share an id"

# ---- a made-up log: reuse, a restart, the date(1) fallback -------------------
F=$T/fake
mkdir -p "$F/bin" "$F/log/qmail-send" "$T/nobin"
sed "s|@QMAILHOME@|$F|g" "$SRCDIR/hub/admin/qmail-trace.sh" > "$F/bin/qmail-trace"; chmod 755 "$F/bin/qmail-trace"
st() { printf '@40000000%08x%08x' $(($1 + 10)) "$2"; }  # a tai64n stamp for unix time $1
S0=1733600000
{
  echo "$(st $S0 1) status: qmail-send started"
  echo "$(st $S0 2) new msg 100 id $S0.000000001.100 mid <old@x>"
  echo "$(st $S0 3) info msg 100: bytes 10 from <a@b> qp 1 uid 0"
  echo "$(st $S0 4) starting delivery 1: msg 100 to local x@y"
  echo "$(st $S0 5) delivery 1: success: did_0+0+1/"
  echo "$(st $S0 6) end msg 100"
} > "$F/log/qmail-send/@4000000067549f2000000000.s"
{
  echo "$(st $((S0 + 1)) 1) new msg 100 id $((S0 + 1)).000000001.100 mid <new@x>"
  echo "$(st $((S0 + 1)) 2) info msg 100: bytes 10 from <a@b> qp 2 uid 0"
  echo "$(st $((S0 + 1)) 3) new msg 1001 id $((S0 + 1)).000000002.1001 mid <other@x>"
  echo "$(st $((S0 + 1)) 4) starting delivery 2: msg 1001 to local x@y"
  echo "$(st $((S0 + 1)) 5) starting delivery 3: msg 100 to local x@y"
  echo "$(st $((S0 + 1)) 6) delivery 3: deferral: busy/"
  echo "$(st $((S0 + 1)) 7) delivery 2: success: did_0+0+1/"
  echo "$(st $((S0 + 2)) 8) status: qmail-send started"
  echo "$(st $((S0 + 2)) 9) starting delivery 1: msg 100 to local x@y"
  echo "$(st $((S0 + 2)) 10) starting delivery 2: msg 1001 to local x@y"
  echo "$(st $((S0 + 2)) 11) delivery 2: success: did_0+0+1/"
  echo "$(st $((S0 + 2)) 12) delivery 1: success: did_0+0+1/"
  echo "$(st $((S0 + 2)) 13) end msg 100"
  echo "$(st $((S0 + 3)) 14) new msg 100 id $((S0 + 3)).000000001.100 mid <crashed@x>"
  echo "$(st $((S0 + 3)) 15) info msg 100: bytes 10 from <a@b> qp 3 uid 0"
  echo "$(st $((S0 + 4)) 16) new msg 100 id $((S0 + 4)).000000001.100 mid <new@x>"
  echo "$(st $((S0 + 4)) 17) end msg 100"
  echo "plain line without a stamp: new msg 5"
} > "$F/log/qmail-send/current"
want=$(python3 - $S0 <<'EOF'
import sys, time
s0 = int(sys.argv[1])
def t(d, ns): return time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(s0 + d)) + '.%09d ' % ns
print(t(1, 1) + 'new msg 100 id %d.000000001.100 mid <new@x>' % (s0 + 1))
print(t(1, 2) + 'info msg 100: bytes 10 from <a@b> qp 2 uid 0')
print(t(1, 5) + 'starting delivery 3: msg 100 to local x@y')
print(t(1, 6) + 'delivery 3: deferral: busy/')
print(t(2, 9) + 'starting delivery 1: msg 100 to local x@y')
print(t(2, 12) + 'delivery 1: success: did_0+0+1/')
print(t(2, 13) + 'end msg 100')
print()
print(t(4, 16) + 'new msg 100 id %d.000000001.100 mid <new@x>' % (s0 + 4))
print(t(4, 17) + 'end msg 100')
EOF
)
for p in awk cat date; do ln -sf "$(command -v $p)" "$T/nobin/$p"; done
is "$(PATH=$T/nobin "$F/bin/qmail-trace" '<new@x>')" "$want" \
  "made-up log, without tai64nlocal: both uses of <new@x>, not the one before, between or after them, not the other message's delivery 2, local times"
if command -v tai64nlocal > /dev/null; then
  is "$("$F/bin/qmail-trace" '<new@x>')" "$want" "the same through tai64nlocal"
else
  skip "tai64nlocal not installed"
fi
is "$("$F/bin/qmail-trace" '<crashed@x>' | sed 's/^[^ ]* [^ ]* //')" \
  "new msg 100 id $((S0 + 3)).000000001.100 mid <crashed@x>
info msg 100: bytes 10 from <a@b> qp 3 uid 0" "a message whose end line is missing ends where its number is used again"
is "$("$F/bin/qmail-trace" $S0.000000001.100 | sed 's/^[^ ]* [^ ]* //' | tr '\n' '~')" \
  "new msg 100 id $S0.000000001.100 mid <old@x>~info msg 100: bytes 10 from <a@b> qp 1 uid 0~starting delivery 1: msg 100 to local x@y~delivery 1: success: did_0+0+1/~end msg 100~" \
  "by id, from a rotated file: only the first use of number 100"

done_testing
