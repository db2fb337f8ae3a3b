#!/usr/bin/env python3
"""matchcheck.py: check a qmail-send log (multilog's, "@TAI64N " stamps)
against what qmailanalog's matchup and the status-line readers
(qmailmrtg and the like) expect, qmail-log(5):

  new msg M ...                      M a number (more fields are ignored)
  info msg M: bytes B from <S> qp Q uid U
  starting delivery D: msg M to local|remote RECIPIENT
  delivery D: success|failure|deferral: TEXT
  end msg M
  status: local L/LC remote R/RC[ exitasap]

and that the status lines tell the truth: a local delivery is one job, so
the line right after each local "starting delivery" and after each local
"delivery D:" is a status line whose L is the number of local deliveries
started and not yet answered; a remote job carries one or more
recipients, so R is at most the remote deliveries in flight and 0 exactly
when none is. Every line needs the stamp (matchup reads a time first).

Usage: matchcheck.py < LOG; exit 0 and "ok N status lines" or exit 1 and
the first problem (line number and text). Reads at most 64 MB."""
import re
import sys

STAMP = re.compile(r'^@[0-9a-f]{24} ')
NEW = re.compile(r'^new msg (\d+)( |$)')
INFO = re.compile(r'^info msg (\d+): bytes (\d+) from <[^>]*> qp (\d+) uid (\d+)$')
START = re.compile(r'^starting delivery (\d+): msg (\d+) to (local|remote) \S')
DONE = re.compile(r'^delivery (\d+): (success|failure|deferral): ')
END = re.compile(r'^end msg (\d+)$')
STATUS = re.compile(r'^status: local (\d+)/(\d+) remote (\d+)/(\d+)( exitasap)?$')


def fail(n, line, why):
    print("line %d: %s: %s" % (n, why, line.rstrip("\n")))
    sys.exit(1)


def main():
    data = sys.stdin.buffer.read(64 << 20).decode("latin-1")
    pending = {}          # delivery number -> (channel, message)
    msgs = set()
    want_status = None    # a local start or end was just logged
    nstatus = 0
    for n, line in enumerate(data.splitlines(), 1):
        if not STAMP.match(line):
            fail(n, line, "no tai64n stamp")
        text = line[26:]
        st = STATUS.match(text)
        if want_status and not st:
            fail(n, line, "no status line right after " + want_status)
        want_status = None
        if text.startswith("status: qmail-send started"):
            pending.clear()   # delivery numbers start again
            continue
        m = NEW.match(text)
        if m:
            msgs.add(m.group(1))
            continue
        if text.startswith("info msg ") and not INFO.match(text):
            fail(n, line, "info line not in qmail's form")
        if text.startswith("starting delivery "):
            m = START.match(text)
            if not m:
                fail(n, line, "starting line not in qmail's form")
            if m.group(1) in pending:
                fail(n, line, "delivery number in use")
            if m.group(2) not in msgs:
                fail(n, line, "delivery of a message never logged as new")
            pending[m.group(1)] = (m.group(3), m.group(2))
            if m.group(3) == "local":
                want_status = "a local start"
            continue
        if re.match(r'^delivery \d', text):
            m = DONE.match(text)
            if not m:
                fail(n, line, "delivery line not in qmail's form")
            if m.group(1) not in pending:
                fail(n, line, "result of a delivery never started")
            chan, _ = pending.pop(m.group(1))
            if chan == "local":
                want_status = "a local result"
            continue
        m = END.match(text)
        if m:
            if any(v[1] == m.group(1) for v in pending.values()):
                fail(n, line, "end msg with deliveries still running")
            continue
        if text.startswith("status: local") or (st is None and re.match(r'^status: .*/', text)):
            if not st:
                fail(n, line, "status line not in qmail's form")
        if st:
            nstatus += 1
            lo, lc, ro, rc = (int(x) for x in st.group(1, 2, 3, 4))
            nl = sum(1 for v in pending.values() if v[0] == "local")
            nr = len(pending) - nl
            if lo != nl:
                fail(n, line, "local count %d, %d local deliveries running" % (lo, nl))
            if ro > nr or (ro == 0) != (nr == 0):
                fail(n, line, "remote count %d, %d remote deliveries running" % (ro, nr))
            if lo > lc or ro > rc:
                fail(n, line, "more running than the concurrency")
    if want_status:
        fail(n, "(end of log)", "no status line right after " + want_status)
    if nstatus == 0:
        print("no status line")
        sys.exit(1)
    print("ok %d status lines" % nstatus)


main()
