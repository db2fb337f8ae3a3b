#!/bin/sh
# run: @NAME@ under tcpserver, for daemontools' supervise, systemd or
# qmailctl start. Listen address and port come from env/IP and env/PORT,
# the connection cap from env/CONCURRENCY (daemontools envdir style), the
# listen backlog from env/BACKLOG (default 256: tcpserver's own 20 makes
# a burst of connections overflow into SYN cookies and hang unanswered),
# per-address rules from control/@RULES@.cdb (qmailctl cdb makes it).
# -D: no Nagle delay, so a reply that follows a full output buffer is not
# held back 40 ms waiting for the client's delayed ACK.
# As root the server runs as qmaild:nofiles; as a normal user, as that user.
home=@QMAILHOME@
cd "$home/service/@NAME@" || exit 111
exec 2>&1
IP=$(head -n 1 env/IP 2>/dev/null); IP=${IP:-0.0.0.0}
PORT=$(head -n 1 env/PORT 2>/dev/null); PORT=${PORT:-@PORT@}
CONC=$(head -n 1 env/CONCURRENCY 2>/dev/null); CONC=${CONC:-40}
BACKLOG=$(head -n 1 env/BACKLOG 2>/dev/null); BACKLOG=${BACKLOG:-256}
rules=$home/control/@RULES@.cdb
if [ ! -f "$rules" ]; then
  echo "@NAME@: $rules is missing: run qmailctl cdb (refusing to start open)"
  sleep 5; exit 111
fi
ids=""
if [ "$(id -u)" = 0 ]; then
  ids="-u $(id -u qmaild) -g $(getent group nofiles | cut -d: -f3)"
fi
# shellcheck disable=SC2086
exec tcpserver -v -DHRl0 -b "$BACKLOG" -c "$CONC" -x "$rules" $ids "$IP" "$PORT" "$home/bin/@PROG@"
