#!/bin/sh
# svclog NAME: run the hub service NAME (/var/lib/qmail/service/NAME/run)
# with its output going through NAME/log/run, as svscan and qmailctl run
# it, so that under systemd too each service's log is the multilog
# directory /var/log/qmail/NAME (tai64n stamps, rotated): what qmailanalog
# and qmail-metrics read (docs/packages.md, docs/metrics.md). The Debian
# package's units start services through it. The log process reads a
# FIFO in /run/qmail/NAME (the unit's RuntimeDirectory); this shell then
# becomes the service itself (exec: the unit's main process, so
# ExecReload's signal reaches qmail-send). When the FIFO cannot be made
# the service runs with its output on the journal.
name=$1
svc=/var/lib/qmail/service/$name
case $name in ''|*/*|.*) echo "svclog: bad service name" >&2; exit 100 ;; esac
fifo=/run/qmail/$name/log
if mkdir -p "/run/qmail/$name" && { [ -p "$fifo" ] || mkfifo -m 600 "$fifo"; }; then
  "$svc/log/run" < "$fifo" &
  exec "$svc/run" > "$fifo" 2>&1
fi
exec "$svc/run"
