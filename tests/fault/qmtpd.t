#!/bin/bash
# qmtpd.t: tests/fault/smtpd.t for qmail-qmtpd (kill -9 at every syscall while
# a client sends two QMTP packages; what was acknowledged compared with the queue).
RECV=qmtpd exec bash "$(dirname "$0")/smtpd.t" "$@"
