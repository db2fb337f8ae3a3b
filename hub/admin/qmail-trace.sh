#!/bin/sh
# qmail-trace: one message's history from qmail-send's log (qmail-trace.8).
#   qmail-trace ID           the queue id of "new msg N id ID ..." (the one
#                            in the message's first Received line too)
#   qmail-trace MESSAGE-ID   its Message-ID, with or without the <>
# Reads @QMAILHOME@/log/qmail-send/: multilog's rotated files @* in name
# (= time) order, then current. For each message that matches it prints
# the lines from "new msg N" to "end msg N" that are about that message
# (info, starting delivery D, the results of those deliveries D, bounce,
# warnings, end), leaving out the lines of other messages that had the
# same number N before or after it; several matches (one Message-ID queued
# twice) are printed one after the other, separated by an empty line.
# multilog's tai64n stamps become local times: by tai64nlocal when it is
# installed (daemontools), else here with date(1).
# Exit: 0 found, 1 no such message in the log, 100 usage, 111 no log.
home=@QMAILHOME@
logdir=$home/log/qmail-send

if [ $# != 1 ] || [ -z "$1" ]; then
  echo "usage: qmail-trace ID|MESSAGE-ID" >&2
  exit 100
fi
if [ ! -d "$logdir" ]; then
  echo "qmail-trace: fatal: no log directory $logdir" >&2
  exit 111
fi

# the log files, oldest first
logs() {
  for f in "$logdir"/@*; do [ -f "$f" ] && printf '%s\n' "$f"; done
  [ -f "$logdir/current" ] && printf '%s\n' "$logdir/current"
}

# pick WANT < log: the lines of the matching messages (see above); exit 1
# when none matches. Bytes, not characters: LC_ALL=C.
pick() {
  WANT=$1 LC_ALL=C awk '
  # esc: a Message-ID as qmail-queue logs it: tabs as spaces, no blanks at
  # the ends, a backslash doubled, other bytes outside printable ASCII \ooo
  function esc(s,   i, c, r) {
    gsub(/\t/, " ", s); sub(/^ +/, "", s); sub(/ +$/, "", s)
    for (i = 1; i <= length(s); i++) {
      c = substr(s, i, 1)
      if (c == "\\") r = r "\\\\"
      else if (ord[c] < 32 || ord[c] > 126) r = r sprintf("\\%03o", ord[c])
      else r = r c
    }
    return r
  }
  function norm(s) { sub(/^</, "", s); sub(/>$/, "", s); return s }
  # hit: the logged Message-ID mid is w; one cut at the cap (200 bytes)
  # is the beginning of a longer w
  function hit(mid, w) {
    if (norm(mid) == norm(w)) return 1
    sub(/^</, "", mid); sub(/^</, "", w)
    return length(mid) >= 196 && length(w) > length(mid) && index(w, mid) == 1
  }
  # matches: the "new msg" line t names the wanted message: its id, or its
  # Message-ID given as logged or as in the header
  function matches(t,   i, a) {
    if (split(t, a, " ") >= 5 && a[4] == "id" && a[5] == want) return 1
    i = index(t, " mid ")
    return i && (hit(substr(t, i + 5), want) || hit(substr(t, i + 5), wesc))
  }
  function emit(k) { out[k] = out[k] $0 "\n" }
  BEGIN {
    want = ENVIRON["WANT"]  # not -v: that would undo backslashes
    for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i
    wesc = esc(want)
  }
  {
    t = $0
    if (t ~ /^@[0-9a-f]+ /) t = substr(t, index(t, " ") + 1)
    split(t, w, " ")
    if (w[1] == "new" && w[2] == "msg") {
      N = w[3]
      delete active[N]  # the number is used again: the earlier one ended
      if (matches(t)) { active[N] = ++nk; emit(nk) }
      next
    }
    if (t ~ /^status: qmail-send started/) {  # delivery numbers restart
      for (d in dno) delete dno[d]
      next
    }
    if (w[1] == "delivery" && w[2] ~ /^[0-9]+:$/) {
      d = substr(w[2], 1, length(w[2]) - 1)
      if (d in dno) {
        emit(dno[d])
        if (w[3] == "success:" || w[3] == "failure:") delete dno[d]
      }
      next
    }
    if (!match(t, /msg [0-9]+/)) next
    N = substr(t, RSTART + 4, RLENGTH - 4)
    if (!(N in active)) next
    emit(active[N])
    if (w[1] == "starting" && w[2] == "delivery") {
      d = w[3]; sub(/:$/, "", d); dno[d] = active[N]
    }
    if (w[1] == "end" && w[2] == "msg") delete active[N]
  }
  END {
    for (k = 1; k <= nk; k++) printf "%s%s", (k > 1 ? "\n" : ""), out[k]
    exit nk ? 0 : 1
  }'
}

# localtime: tai64n stamps as local times (tai64nlocal's form
# "YYYY-MM-DD HH:MM:SS.NNNNNNNNN"), one date(1) call per distinct second
localtime() {
  if command -v tai64nlocal > /dev/null 2>&1; then tai64nlocal; return; fi
  awk '
  function hex(s,   i, v) {
    v = 0
    for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return v
  }
  /^@40000000[0-9a-f]+ / && length($1) == 25 {
    s = hex(substr($0, 10, 8)) - 10  # TAI64 label: 2^62 + 10 + seconds
    if (!(s in when)) {
      c = "date -d @" s " \"+%Y-%m-%d %H:%M:%S\" 2>/dev/null"
      if ((c | getline v) <= 0) v = "@" s
      close(c)
      when[s] = v
    }
    printf "%s.%09d%s\n", when[s], hex(substr($0, 18, 8)), substr($0, 26)
    next
  }
  { print }'
}

out=$(logs | while IFS= read -r f; do cat "$f"; done | pick "$1") || {
  echo "qmail-trace: no such message in $logdir" >&2
  exit 1
}
printf '%s\n' "$out" | localtime
