#!/bin/bash
# qmtpd.t: golden transcripts for hub/qmail-qmtpd over tests/proto/qmtpd/*.in;
# the runner (format, environment, normalising) is qmqpd.t with NS_SERVER=qmtpd.
NS_SERVER=qmtpd exec bash "$(dirname "$0")/qmqpd.t" "$@"
