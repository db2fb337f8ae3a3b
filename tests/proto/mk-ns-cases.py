#!/usr/bin/env python3
"""mk-ns-cases.py: write the golden-transcript inputs for qmail-qmqpd and
qmail-qmtpd: tests/proto/qmqpd/NAME.in and tests/proto/qmtpd/NAME.in.

Each .in holds directive lines, a line "--- request", then the raw bytes
sent to the server on stdin (binary: netstrings, NULs, CRs). Directives:
  #row: P7 ...              the docs/bad-input.md row (or feature) it covers
  #env: NAME=value          environment for the server (repeatable)
  #control: name=value      a control file in the test home (value + "\\n")
  #nocontrol: name          remove a control file the test home has
  #expect: ERE              must match a line of the transcript: the
                            check against the row's "expected" column that
                            UPDATE=1 cannot silently change
Run from anywhere: python3 tests/proto/mk-ns-cases.py. Cases no longer
listed here have their .in removed (their .exp stays until deleted).
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def ns(b):
    if isinstance(b, str):
        b = b.encode()
    return b"%d:" % len(b) + b + b","


def qmqp(msg, sender, rcpts):
    return ns(ns(msg) + ns(sender) + b"".join(ns(r) for r in rcpts))


def pkg(msg, sender, rcpts, enc=b"\n"):
    """One QMTP package; msg is given in LF form and encoded as asked."""
    if isinstance(msg, str):
        msg = msg.encode()
    if enc == b"\r":
        msg = msg.replace(b"\n", b"\r\n")
    return ns(enc + msg) + ns(sender) + ns(b"".join(ns(r) for r in rcpts))


MSG = "From: a@leaf.example.org\nTo: b@example.org\nSubject: test\n\nhello\n"
LONG = "a" * 995 + "@x.org"       # 1001 bytes: one over maxaddress
EXACT = "a" * 994 + "@x.org"      # 1000 bytes: the cap itself
HOPS99 = "".join("Received: from hop%d\n" % i for i in range(99))

# qmail-queue exit codes and what they must map to (docs/protocols.md, the queue status)
QQ_CODES = [
    (11, r"D.*\(#5\.1\.3\)"), (31, r"D.*\(#5\.3\.0\)"), (20, r"D.*\(#5\.3\.0\)"),
    (51, r"Z.*out of memory.*\(#4\.3\.0\)"), (52, r"Z.*timeout.*\(#4\.3\.0\)"),
    (53, r"Z.*disk full.*\(#4\.3\.0\)"), (54, r"Z.*read error.*\(#4\.3\.0\)"),
    (55, r"Z.*configuration.*\(#4\.3\.0\)"), (56, r"Z.*network.*\(#4\.3\.0\)"),
    (61, r"Z.*home directory.*\(#4\.3\.0\)"), (62, r"Z.*queue.*\(#4\.3\.0\)"),
    (63, r"Z.*queue.*\(#4\.3\.0\)"), (64, r"Z.*queue.*\(#4\.3\.0\)"),
    (65, r"Z.*queue.*\(#4\.3\.0\)"), (66, r"Z.*queue.*\(#4\.3\.0\)"),
    (71, r"Z.*temporarily.*\(#4\.3\.0\)"), (72, r"Z.*timed out.*\(#4\.4\.1\)"),
    (73, r"Z.*\(#4\.4\.1\)"), (74, r"Z.*\(#4\.4\.2\)"), (81, r"Z.*internal bug.*\(#4\.3\.0\)"),
    (91, r"Z.*internal bug.*\(#4\.3\.0\)"), (100, r"Z.*temporary problem.*\(#4\.3\.0\)"),
    (111, r"Z.*temporary problem.*\(#4\.3\.0\)"),
]

# control bytes every entrance refuses in an address, and how the refusal
# log shows each (its \xHH escape, then doubled by the transcript's own
# escaping, then as an ERE)
CTRL = [("cr", b"\r"), ("lf", b"\n"), ("esc", b"\x1b"), ("del", b"\x7f"), ("nul", b"\0"), ("tab", b"\t")]
LOGGED = {t: "\\\\\\\\x%02x" % b[0] for t, b in CTRL}

DROP = r"^--- reply \(none\)$"
NOQ = r"^--- queue( run 1)?: (not started|aborted, nothing queued)$"
QUEUED = r"^--- queue run 1: envelope$"
K1 = r"^<LEN>:Kok <TIME> qp <PID>,$"


def qmqpd_cases():
    c = []
    add = lambda name, req, *d: c.append((name, list(d), req))
    good = qmqp(MSG, "a@leaf.example.org", ["b@example.org", "c@elsewhere.test"])
    add("P1-valid", good, "#row: P1 valid request: Kok, queued with a Received line",
        "#expect: " + K1, "#expect: " + QUEUED, "#expect: with QMQP; <DATE>$", "#expect: ^exit: 0$")
    add("P1-remoteinfo", good, "#row: P1 with TCPREMOTEHOST, TCPREMOTEINFO and TCPLOCALHOST",
        "#env: TCPREMOTEINFO=alice", "#env: TCPLOCALHOST=mx.example.org",
        "#expect: ident=alice", "#expect: by mx\\.example\\.org with QMQP")
    add("P2-nondigit", b"2x:" + good[3:], "#row: P2 non-digit in the length: drop, nothing queued",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 100$")
    add("P2-inner-nondigit", ns(b"1a:" + MSG.encode() + b"," + ns("a@b") + ns("c@d")),
        "#row: P2 non-digit in an inner length: drop", "#expect: " + DROP, "#expect: " + NOQ)
    add("P3-huge", b"999999999999:" + good, "#row: P3 length 999999999999: drop",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 100$")
    add("P3-over-maxnetstring", good, "#row: P3 outer length over control/maxnetstring: drop",
        "#control: maxnetstring=50", "#expect: " + DROP, "#expect: " + NOQ)
    add("P4-no-comma", good[:-1] + b";", "#row: P4 missing final comma: drop, nothing queued",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 100$")
    add("P4-truncated", good[:40], "#row: P4 truncated inside the message: drop",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 111$")
    add("P4-no-comma-eof", good[:-1], "#row: P4 EOF where the final comma belongs: drop",
        "#expect: " + DROP, "#expect: " + NOQ)
    inner = good[good.index(b":") + 1:-1]
    add("P5-outer-longer", b"%d:" % (len(inner) + 20) + inner,
        "#row: P5 outer length larger than the content, then EOF: drop",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 111$")
    add("P5-outer-shorter", b"%d:" % (len(inner) - 3) + inner + b",",
        "#row: P5 (variant) outer length shorter than its items: drop",
        "#expect: " + DROP, "#expect: " + NOQ)
    add("P6-leading-zero", b"0" + good, "#row: P6 leading zero in the outer length: drop",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 100$")
    add("P6-inner-leading-zero", ns(b"0" + ns(MSG) + ns("a@b") + ns("c@d")),
        "#row: P6 leading zero in the message length: drop", "#expect: " + DROP, "#expect: " + NOQ)
    add("P7-long-rcpt", qmqp(MSG, "a@b.org", ["ok@example.org", LONG]),
        "#row: P7 recipient of 1001 bytes (> maxaddress): D #5.1.3, nothing queued",
        "#expect: ^<LEN>:D.*\\(#5\\.1\\.3\\),$", "#expect: " + NOQ, "#expect: ^exit: 0$")
    add("P7-nul-rcpt", qmqp(MSG, "a@b.org", ["ok@example.org", "x\0y@example.org"]),
        "#row: P7 recipient containing NUL: D #5.1.3, nothing queued",
        "#expect: ^<LEN>:D.*\\(#5\\.1\\.3\\),$", "#expect: " + NOQ)
    add("P7-rcpt-1000", qmqp(MSG, "a@b.org", [EXACT]),
        "#row: P7 boundary: a recipient of exactly maxaddress (1000) bytes is accepted",
        "#expect: " + K1, "#expect: " + QUEUED)
    add("P8-no-rcpt", qmqp(MSG, "a@b.org", []), "#row: P8 zero recipients: D #5.1.3, nothing queued",
        "#expect: ^<LEN>:D.*\\(#5\\.1\\.3\\),$", "#expect: " + NOQ)
    add("P10-minus-one", b"-1:" + good, "#row: P10 '-1:': drop",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 100$")
    add("empty-connection", b"", "#row: client connects and closes: nothing to answer",
        "#expect: " + DROP, "#expect: " + NOQ)
    add("sender-long", qmqp(MSG, LONG, ["b@example.org"]), "#row: sender over maxaddress: D #5.1.7",
        "#expect: ^<LEN>:D.*\\(#5\\.1\\.7\\),$", "#expect: " + NOQ)
    add("sender-nul", qmqp(MSG, "a\0b@x.org", ["b@example.org"]), "#row: sender with NUL: D #5.1.7",
        "#expect: ^<LEN>:D.*\\(#5\\.1\\.7\\),$", "#expect: " + NOQ)
    for tag, byte in CTRL:
        add("ctrl-rcpt-" + tag, qmqp(MSG, "a@b.org", ["ok@example.org", b"x" + byte + b"@example.org"]),
            "#row: recipient holding %s: D #5.1.3, nothing queued (SMTP's byte rule)" % tag,
            "#expect: ^[0-9]+:D.*control character \\(#5\\.1\\.3\\),$", "#expect: " + NOQ,
            "#expect: ^qmail-qmqpd: refused: 192\\.0\\.2\\.7 recipient D 5\\.1\\.3 .* input=\"x%s@example\\.org\"$"
            % LOGGED[tag])
    add("ctrl-sender-esc", qmqp(MSG, b"a\x1b[2J@b.org", ["b@example.org"]),
        "#row: sender holding ESC: D #5.1.7, nothing queued",
        "#expect: ^[0-9]+:D.*\\(#5\\.1\\.7\\),$", "#expect: " + NOQ,
        "#expect: ^qmail-qmqpd: refused: 192\\.0\\.2\\.7 sender D 5\\.1\\.7 .* input=\"a\\\\\\\\x1b\\[2J@b\\.org\"$")
    add("ctrl-sender-crlf", qmqp(MSG, b"a@b.org\r\nTo: forged", ["b@example.org"]),
        "#row: sender holding CR LF: D #5.1.7, nothing queued",
        "#expect: ^[0-9]+:D.*\\(#5\\.1\\.7\\),$", "#expect: " + NOQ)
    add("sender-null", qmqp(MSG, "", ["b@example.org"]), "#row: null sender (a bounce) is fine",
        "#expect: " + K1, "#expect: ^F$")
    add("binary-message", qmqp(b"Subject: 8bit\n\n\x00\xff\xe9\r\nx\rlast", "a@b", ["b@example.org"]),
        "#row: NUL, 8-bit, CR and a partial last line stored as they are", "#expect: " + K1)
    add("databytes-over", qmqp(MSG, "a@b", ["b@example.org"]),
        "#row: message over control/databytes: D #5.3.4 after reading it all",
        "#control: databytes=20", "#expect: ^<LEN>:D.*\\(#5\\.3\\.4\\),$", "#expect: " + NOQ)
    add("databytes-exact", qmqp(MSG, "a@b", ["b@example.org"]),
        "#row: message of exactly databytes bytes is accepted",
        "#control: databytes=%d" % len(MSG), "#expect: " + K1)
    add("databytes-env", qmqp(MSG, "a@b", ["b@example.org"]),
        "#row: $DATABYTES overrides control/databytes",
        "#control: databytes=20", "#env: DATABYTES=0", "#expect: " + K1)
    add("databytes-env-over", qmqp(MSG, "a@b", ["b@example.org"]),
        "#row: $DATABYTES smaller than the message: D #5.3.4",
        "#env: DATABYTES=10", "#expect: ^<LEN>:D.*\\(#5\\.3\\.4\\),$", "#expect: " + NOQ)
    add("hops-100", qmqp(HOPS99 + "Delivered-To: x@example.org\n" + MSG, "a@b", ["b@example.org"]),
        "#row: 100 Received/Delivered-To lines (maxhops): D #5.4.6",
        "#expect: ^<LEN>:D.*\\(#5\\.4\\.6\\),$", "#expect: " + NOQ)
    add("hops-99", qmqp(HOPS99 + MSG, "a@b", ["b@example.org"]),
        "#row: 99 Received lines: accepted", "#expect: " + K1)
    add("hops-in-body", qmqp("Subject: x\n\n" + HOPS99 + "Received: y\n", "a@b", ["b@example.org"]),
        "#row: Received lines in the body do not count", "#expect: " + K1)
    add("too-many-rcpts", qmqp(MSG, "a@b", ["r%d@example.org" % i for i in range(3)]),
        "#row: more than control/maxrcpt recipients: D #5.5.3",
        "#control: maxrcpt=2", "#expect: ^<LEN>:D.*\\(#5\\.5\\.3\\),$", "#expect: " + NOQ)
    for code, want in QQ_CODES:
        add("qq-exit-%d" % code, good, "#row: 4.3 queue exit %d mapped by qq_status" % code,
            "#env: QQ_EXIT=%d" % code, "#expect: ^<LEN>:%s,$" % want)
    add("qq-exit-82-D", good, "#row: 4.3 queue exit 82 with D text on fd 6",
        "#env: QQ_EXIT=82", "#env: QQ_TEXT=Dno thanks (#5.7.0)", "#expect: ^<LEN>:Dno thanks \\(#5\\.7\\.0\\),$")
    add("qq-exit-82-Z", good, "#row: 4.3 queue exit 82 with Z text on fd 6",
        "#env: QQ_EXIT=82", "#env: QQ_TEXT=Zlater please (#4.3.0)", "#expect: ^<LEN>:Zlater please \\(#4\\.3\\.0\\),$")
    add("qq-exit-82-junk", good, "#row: 4.3 queue exit 82 with text not starting D/Z: temporary",
        "#env: QQ_EXIT=82", "#env: QQ_TEXT=Kgarbage", "#expect: ^<LEN>:Z.*\\(#4\\.3\\.0\\),$")
    add("qq-exec-fail", good, "#row: 4.3 queue program cannot be run: Z unable to exec qq",
        "#env: QMAILQUEUE=/nonexistent/qmail-queue", "#expect: ^<LEN>:Zunable to exec qq \\(#4\\.3\\.0\\),$")
    return c


def qmtpd_cases():
    c = []
    add = lambda name, req, *d: c.append((name, list(d), req))
    one = pkg(MSG, "a@leaf.example.org", ["b@example.org"])
    add("T1-lf", one, "#row: T1 valid package, LF form: Kok, queued with a Received line",
        "#expect: " + K1, "#expect: " + QUEUED, "#expect: with QMTP; <DATE>$", "#expect: ^exit: 0$")
    add("T1-cr", pkg(MSG + "lone\rCR\n", "a@b", ["b@example.org"], b"\r"),
        "#row: T1 CR form: CRLF stored as LF, a lone CR kept", "#expect: " + K1, "#expect: ^lone\\\\rCR$")
    add("T2-relay", pkg(MSG, "a@b", ["x@evil.test"]),
        "#row: T2 recipient outside rcpthosts: D #5.7.1, nothing queued",
        "#expect: ^<LEN>:D.*rcpthosts.*\\(#5\\.7\\.1\\),$", "#expect: " + NOQ)
    add("T2-relay-mixed", pkg(MSG, "a@b", ["x@evil.test", "b@example.org", "y@sub.evil.test", "c@EXAMPLE.ORG"]),
        "#row: T2 relay refusals mixed with accepted recipients: one reply each, in order",
        "#expect: ^<LEN>:D.*\\(#5\\.7\\.1\\),<LEN>:Kok <TIME> qp <PID>,<LEN>:D.*\\(#5\\.7\\.1\\),<LEN>:Kok <TIME> qp <PID>,$",
        "#expect: ^Tb@example\\.org$", "#expect: ^Tc@EXAMPLE\\.ORG$")
    add("T2-no-rcpthosts", pkg(MSG, "a@b", ["b@example.org", "postmaster"]),
        "#row: T2 missing control/rcpthosts relays nothing (fail closed); no-@ recipients pass",
        "#nocontrol: rcpthosts",
        "#expect: ^<LEN>:D.*\\(#5\\.7\\.1\\),<LEN>:Kok <TIME> qp <PID>,$", "#expect: ^Tpostmaster$")
    add("T3-bad-encoding", ns("Xhello\n") + ns("a@b") + ns(ns("b@example.org")),
        "#row: T3 first byte neither LF nor CR: drop", "#expect: " + DROP, "#expect: " + NOQ,
        "#expect: ^exit: 100$")
    add("T3-empty-message", ns("") + ns("a@b") + ns(ns("b@example.org")),
        "#row: T3 empty message netstring (no encoding byte): drop", "#expect: " + DROP, "#expect: " + NOQ)
    add("T4-huge", b"99999999999999:\nhello", "#row: T4 huge length: drop, nothing queued",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 100$")
    add("T4-truncated", one[:30], "#row: T4 truncated package: drop, nothing queued",
        "#expect: " + DROP, "#expect: " + NOQ, "#expect: ^exit: 111$")
    add("T4-no-comma", one[:-1] + b";", "#row: T4 bad comma after the recipient list: drop",
        "#expect: " + DROP, "#expect: " + NOQ)
    add("T4-leading-zero", b"0" + one, "#row: T4 leading zero: drop", "#expect: " + DROP, "#expect: " + NOQ)
    add("T4-minus-one", b"-1:" + one, "#row: T4 '-1:': drop", "#expect: " + DROP, "#expect: " + NOQ)
    add("T5-two-packages", one + pkg("Subject: second\n\nbye\n", "z@leaf.example.org", ["c@example.org"]),
        "#row: T5 two messages on one connection: two replies",
        "#expect: ^" + K1[1:-1] * 2 + "$", "#expect: ^exit: 0$",
        "#expect: ^--- queue run 2: envelope$", "#expect: ^Fz@leaf\\.example\\.org$")
    add("T6-cr-bare-lf", ns(b"\rSubject: t6\r\n\r\nbare\nLF\r\n") + ns("a@b") + ns(ns("b@example.org")),
        "#row: T6 CR form with a bare LF: accepted, the bare LF stored as is",
        "#expect: " + K1, "#expect: ^bare$", "#expect: ^LF$")
    add("multi-packages", one + pkg(MSG, "a@b", ["x@evil.test"], b"\r")
        + pkg(MSG, "", ["b@example.org", "c@example.org"]),
        "#row: three pipelined packages, CR and LF, relay refusal: replies in order",
        "#expect: ^" + K1[1:-1] + "<LEN>:D.*\\(#5\\.7\\.1\\)," + K1[1:-1] * 2 + "$",
        "#expect: ^--- queue run 2: aborted, nothing queued$", "#expect: ^--- queue run 3: envelope$")
    add("duplicate-rcpts", pkg(MSG, "a@b", ["b@example.org", "b@example.org", "b@example.org"]),
        "#row: duplicate recipients get one reply each",
        "#expect: ^" + K1[1:-1] * 3 + "$")
    add("no-rcpts", pkg(MSG, "a@b", []) + one, "#row: a package without recipients gets no reply",
        "#expect: ^" + K1[1:-1] + "$")
    add("relayclient", pkg(MSG, "a@b", ["x@evil.test", "b@example.org"]),
        "#row: RELAYCLIENT set (empty): no rcpthosts check", "#env: RELAYCLIENT=",
        "#expect: ^" + K1[1:-1] * 2 + "$", "#expect: ^Tx@evil\\.test$")
    add("relayclient-append", pkg(MSG, "a@b", ["x@evil.test"]),
        "#row: RELAYCLIENT's value is appended to each recipient", "#env: RELAYCLIENT=.relay",
        "#expect: " + K1, "#expect: ^Tx@evil\\.test\\.relay$")
    add("bad-rcpt", pkg(MSG, "a@b", [LONG, "b@example.org", "x\0@example.org"]),
        "#row: recipients too long or with NUL: D #5.1.3 each, the rest accepted",
        "#expect: ^<LEN>:D.*\\(#5\\.1\\.3\\)," + K1[1:-1] + "<LEN>:D.*\\(#5\\.1\\.3\\),$")
    add("ctrl-rcpts", pkg(MSG, "a@b", [b"x" + byte + b"@example.org" for _, byte in CTRL]
                          + ["b@example.org", LONG]),
        "#row: recipients holding CR, LF, ESC, DEL, NUL, TAB, and one too long: D #5.1.3 each, the good one queued",
        "#expect: ^(<LEN>:D.*control character \\(#5\\.1\\.3\\),){6}" + K1[1:-1] + "<LEN>:D.*\\(#5\\.1\\.3\\),$",
        "#expect: ^Tb@example\\.org$", "#expect: ^<END>$",
        *["#expect: ^qmail-qmtpd: refused: 192\\.0\\.2\\.7 recipient D 5\\.1\\.3 .* input=\"x%s@example\\.org\"$"
          % LOGGED[t] for t, _ in CTRL])
    add("ctrl-sender", pkg(MSG, b"a\x1b[2J\r\n@b", ["b@example.org", "c@example.org"]),
        "#row: sender holding ESC, CR, LF: D #5.1.7 for every recipient, nothing queued",
        "#expect: ^<LEN>:D.*\\(#5\\.1\\.7\\),<LEN>:D.*\\(#5\\.1\\.7\\),$", "#expect: " + NOQ,
        "#expect: ^qmail-qmtpd: refused: 192\\.0\\.2\\.7 sender D 5\\.1\\.7 .* input=\"a\\\\\\\\x1b\\[2J\\\\\\\\x0d\\\\\\\\x0a@b\"$")
    add("rcpt-1000", pkg(MSG, "a@b", [EXACT]), "#row: recipient of exactly maxaddress bytes",
        "#env: RELAYCLIENT=", "#expect: " + K1)
    add("bad-sender", pkg(MSG, LONG, ["b@example.org", "c@example.org"]),
        "#row: sender too long: D #5.1.7 for every recipient, nothing queued",
        "#expect: ^<LEN>:D.*\\(#5\\.1\\.7\\),<LEN>:D.*\\(#5\\.1\\.7\\),$", "#expect: " + NOQ)
    add("bad-sender-nul", pkg(MSG, "a\0b", ["b@example.org"]),
        "#row: sender with NUL: D #5.1.7", "#expect: ^<LEN>:D.*\\(#5\\.1\\.7\\),$", "#expect: " + NOQ)
    add("databytes-over", pkg(MSG, "a@b", ["b@example.org", "c@example.org"]),
        "#row: databytes: every recipient D #5.3.4, nothing queued", "#control: databytes=20",
        "#expect: ^<LEN>:D.*\\(#5\\.3\\.4\\),<LEN>:D.*\\(#5\\.3\\.4\\),$", "#expect: " + NOQ)
    add("databytes-cr-exact", pkg(MSG, "a@b", ["b@example.org"], b"\r"),
        "#row: databytes counts bytes as stored: CR form of exactly databytes LF bytes fits",
        "#control: databytes=%d" % len(MSG), "#expect: " + K1)
    add("databytes-then-ok", pkg(MSG, "a@b", ["b@example.org"]) + pkg("Subject: s\n\nx\n", "a@b", ["b@example.org"]),
        "#row: a refused package does not spoil the next one", "#control: databytes=20",
        "#expect: ^<LEN>:D.*\\(#5\\.3\\.4\\)," + K1[1:-1] + "$")
    add("hops-100", pkg(HOPS99 + "Delivered-To: x@example.org\n" + MSG, "a@b", ["b@example.org"]),
        "#row: 100 hops: D #5.4.6", "#expect: ^<LEN>:D.*\\(#5\\.4\\.6\\),$", "#expect: " + NOQ)
    add("maxrcpt", pkg(MSG, "a@b", ["r%d@example.org" % i for i in range(3)]),
        "#row: recipients over control/maxrcpt: Z #4.5.3 for the extra ones",
        "#control: maxrcpt=2", "#expect: ^" + K1[1:-1] * 2 + "<LEN>:Z.*\\(#4\\.5\\.3\\),$")
    add("maxqmtppackages", one * 3, "#row: package cap per connection: the rest unanswered",
        "#control: maxqmtppackages=2", "#expect: ^" + K1[1:-1] * 2 + "$", "#expect: ^exit: 0$")
    add("good-then-bad", one + b"12x:", "#row: a malformed package after a good one: its reply is sent, then drop",
        "#expect: ^" + K1[1:-1] + "$", "#expect: ^exit: 100$")
    add("empty-connection", b"", "#row: client connects and closes: nothing to answer",
        "#expect: " + DROP, "#expect: ^exit: 0$")
    for code, want in [(31, r"D.*\(#5\.3\.0\)"), (53, r"Z.*\(#4\.3\.0\)"), (71, r"Z.*\(#4\.3\.0\)"),
                       (91, r"Z.*\(#4\.3\.0\)")]:
        add("qq-exit-%d" % code, pkg(MSG, "a@b", ["b@example.org", "x@evil.test", "c@example.org"]),
            "#row: 4.3 queue exit %d given to each accepted recipient" % code, "#env: QQ_EXIT=%d" % code,
            "#expect: ^<LEN>:%s,<LEN>:D.*\\(#5\\.7\\.1\\),<LEN>:%s,$" % (want, want))
    add("qq-exit-82-D", one, "#row: 4.3 queue exit 82 with D text", "#env: QQ_EXIT=82",
        "#env: QQ_TEXT=Dno thanks (#5.7.0)", "#expect: ^<LEN>:Dno thanks \\(#5\\.7\\.0\\),$")
    add("qq-exec-fail", one, "#row: 4.3 queue program cannot be run",
        "#env: QMAILQUEUE=/nonexistent/qmail-queue", "#expect: ^<LEN>:Zunable to exec qq \\(#4\\.3\\.0\\),$")
    return c


def write(dirname, cases):
    d = os.path.join(HERE, dirname)
    os.makedirs(d, exist_ok=True)
    names = set()
    for name, directives, req in cases:
        names.add(name)
        # only K replies carry a varying length (time and pid); D and Z
        # replies keep their exact netstring length in the transcript
        directives = [re.sub(r"<LEN>:(?!Kok)", "[0-9]+:", x) if x.startswith("#expect: ") else x
                      for x in directives]
        head = "".join(x + "\n" for x in directives) + "--- request\n"
        with open(os.path.join(d, name + ".in"), "wb") as f:
            f.write(head.encode() + req)
    for f in os.listdir(d):
        if f.endswith(".in") and f[:-3] not in names:
            os.unlink(os.path.join(d, f))
    print("%s: %d cases" % (dirname, len(cases)), file=sys.stderr)


if __name__ == "__main__":
    write("qmqpd", qmqpd_cases())
    write("qmtpd", qmtpd_cases())
