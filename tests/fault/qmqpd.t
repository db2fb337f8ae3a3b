#!/bin/bash
# qmqpd.t: tests/fault/smtpd.t for qmail-qmqpd (kill -9 at every syscall while
# a client sends a QMQP request; what was acknowledged compared with the queue).
RECV=qmqpd exec bash "$(dirname "$0")/smtpd.t" "$@"
