#!/bin/sh
# run: the qmail-metrics service: every 15 seconds (env/INTERVAL) the
# hub's counters and queue gauges into @QMAILHOME@/metrics/qmail.prom
# (env/OUTPUT), written whole and renamed into place, for node_exporter's
# textfile collector (--collector.textfile.directory=@QMAILHOME@/metrics;
# docs/metrics.md). Installed down (service/qmail-metrics/down): remove
# the flag to run it. It reads every service's log and the queue, so it
# runs as root (or as the single-user home's owner); qmail-metrics starts
# from an empty environment (qmail-svcrun) each round.
home=@QMAILHOME@
cd "$home/service/qmail-metrics" || exit 111
exec 2>&1
val() { v=$(head -n 1 "env/$1" 2>/dev/null); echo "${v:-$2}"; }
out=$(val OUTPUT "$home/metrics/qmail.prom")
interval=$(val INTERVAL 15)
case $interval in ''|*[!0-9]*|0) echo "qmail-metrics: env/INTERVAL must be a positive number"; sleep 5; exit 111 ;; esac
mkdir -p "$(dirname "$out")" || exit 111
while :; do
  "$home/bin/qmail-svcrun" - "$home/bin/qmail-metrics" -o "$out"
  sleep "$interval"
done
