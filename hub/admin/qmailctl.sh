#!/bin/sh
# qmailctl: start, stop and look after the hub's services in @QMAILHOME@.
#   qmailctl start    start every service/<name>/run not already running
#                     and not marked service/<name>/down (daemontools' flag),
#                     each in its own process group, logging through log/run,
#                     from an empty environment and with no descriptor above
#                     2 (qmail-svcrun); the group id goes to
#                     service/<name>/qmailctl.pid. A second later each one
#                     must still run: one that died (a port in use...) is
#                     reported with the end of its log, and the exit is 111
#   qmailctl stop     stop exactly the groups qmailctl started
#   qmailctl restart  stop, then start
#   qmailctl stat     which services run, on which address and port; queue counts
#   qmailctl queue    queue counts (qmail-qstat), then each message (qmail-qread)
#   qmailctl flush    release held remote deliveries (rm control/holdremote)
#                     and ask qmail-send to retry everything now (HUP, ALRM)
#   qmailctl hold     hold remote deliveries (touch control/holdremote, HUP):
#                     for a hub whose link is down; local mail still flows
#   qmailctl reload   ask qmail-send to reread locals/virtualdomains (SIGHUP)
#   qmailctl cdb      compile control/tcp.{smtp,qmtp,qmqp,pop3} and morercpthosts,
#                     and users/passwd (qmail-passwd -c), users/assign
#                     (qmail-newu), the recipient table control/recipients.cdb
#                     (qmail-rcptcdb; start does this too when the check is
#                     on and the table is missing or older than its sources)
#   qmailctl tlscert [-f] [-rsa]   a self-signed certificate for control/me
#                     in control/servercert.pem (ECDSA P-256, or RSA 2048),
#                     mode 0640 qmaild:qmail as root, 0600 otherwise; an
#                     existing one is replaced only with -f (docs/tls.md)
#   qmailctl dkimkey DOMAIN [SELECTOR] [-ed25519] [-f]   a DKIM key in
#                     control/dkim/DOMAIN/SELECTOR.key (RSA 2048 or Ed25519,
#                     0600 qmailr as root) and the DNS TXT record to publish
#                     (printed, and in SELECTOR.txt beside it; docs/dkim.md)
#   qmailctl check    check the control files, cdbs, services and users
#                     (bin/qmail-checkctl): one line per problem
#   qmailctl trace ID|MESSAGE-ID   one message's history from the logs
#                     (bin/qmail-trace)
#   qmailctl metrics [ARGS]   the counters and queue gauges in Prometheus'
#                     text format, once (bin/qmail-metrics; docs/metrics.md)
#   qmailctl top [-n COUNT]   a live one-screen view of the queue and the
#                     rates (bin/qmail-top; q quits)
#   qmailctl help     this list
# Works with or without svscan or systemd; under them, use their tools.
# Exit: 0 ok, 100 usage, 111 a step failed.
home=@QMAILHOME@
svc=$home/service

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# group_alive PGID: a process of that group still runs (zombies do not count:
# some containers' PID 1 reaps them late)
group_alive() { ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { n++ } END { exit n == 0 }'; }
pidof_svc() { head -n 1 "$svc/$1/qmailctl.pid" 2>/dev/null; }
services() { for d in "$svc"/*/; do [ -x "$d/run" ] && basename "$d"; done; }

cdb() {
  rc=0
  for r in tcp.smtp tcp.qmtp tcp.qmqp tcp.pop3; do
    [ -f "$home/control/$r" ] || continue
    if tcprules "$home/control/$r.cdb" "$home/control/$r.tmp" < "$home/control/$r"; then
      echo "control/$r.cdb: compiled"
    else echo "control/$r.cdb: not compiled: syntax error in control/$r" >&2; rc=111; fi
  done
  if [ -f "$home/control/morercpthosts" ] && [ -x "$home/bin/qmail-newmrh" ]; then
    if "$home/bin/qmail-newmrh"; then echo "control/morercpthosts.cdb: compiled"; else rc=111; fi
  fi
  if [ -f "$home/users/passwd" ]; then
    if "$home/bin/qmail-passwd" -c; then echo "users/passwd.cdb: compiled"; else rc=111; fi
  fi
  # the recipient table (docs/rcptcheck.md) is made from users/cdb: that first
  if [ -f "$home/users/assign" ]; then
    if "$home/bin/qmail-newu"; then echo "users/cdb: compiled"; else rc=111; fi
  fi
  if [ -x "$home/bin/qmail-rcptcdb" ]; then
    if n=$("$home/bin/qmail-rcptcdb"); then echo "control/recipients.cdb: compiled ($n)"; else rc=111; fi
  fi
  return $rc
}

# rcpt_stale: the recipient check is on and its table is missing or older
# than users/assign, users/cdb, control/recipients or the alias home
rcpt_stale() {
  [ "$(head -n 1 "$home/control/rcptcheck" 2>/dev/null)" = 1 ] || return 1
  [ -f "$home/control/recipients.cdb" ] || return 0
  for f in users/assign users/cdb control/recipients alias; do
    [ "$home/$f" -nt "$home/control/recipients.cdb" ] && return 0
  done
  return 1
}

needs_cdb() {
  for r in tcp.smtp tcp.qmtp tcp.qmqp tcp.pop3; do
    [ -f "$home/control/$r" ] || continue
    [ "$home/control/$r.cdb" -nt "$home/control/$r" ] || return 0
  done
  [ ! -f "$home/users/passwd" ] || [ "$home/users/passwd.cdb" -nt "$home/users/passwd" ] || return 0
  rcpt_stale && return 0
  return 1
}

start_one() {
  pid=$(pidof_svc "$1")
  if alive "$pid"; then echo "$1: already running (pid $pid)"; return 0; fi
  mkdir -p "$home/log/$1"
  [ "$(id -u)" = 0 ] && id qmaill >/dev/null 2>&1 && chown qmaill "$home/log/$1"
  # qmail-svcrun: nothing of this shell's environment or open files reaches
  # the service (its run script ends in qmail-svcrun ./env too)
  setsid "$home/bin/qmail-svcrun" - sh -c 'cd "$1" && { ./run 2>&1 | (cd log && exec ./run); }' \
    qmailctl "$svc/$1" < /dev/null > /dev/null 2>&1 &
  echo $! > "$svc/$1/qmailctl.pid"
  started="$started $1"
}

# lastlog NAME: the last line of a service's log, without its time stamp
lastlog() { tail -n 1 "$home/log/$1/current" 2>/dev/null | sed 's/^@[0-9a-f]* //'; }

# verify: a second after the start, every service just started must still
# run; one that died is reported with the end of its log
verify() {
  rc=0
  [ -n "$started" ] || return 0
  sleep 1
  for s in $started; do
    pid=$(pidof_svc "$s")
    if alive "$pid" || group_alive "$pid"; then
      echo "$s: started (pid $pid)"
    else
      echo "$s: FAILED to start: $(lastlog "$s")" >&2
      rm -f "$svc/$s/qmailctl.pid"; rc=111
    fi
  done
  return $rc
}

stop_one() {
  pid=$(pidof_svc "$1")
  if ! alive "$pid"; then rm -f "$svc/$1/qmailctl.pid"; echo "$1: not running"; return 0; fi
  kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid"  # the whole group (dash: no "--")
  i=0
  while group_alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  group_alive "$pid" && kill -KILL "-$pid" 2>/dev/null
  rm -f "$svc/$1/qmailctl.pid"
  echo "$1: stopped"
}

stat_one() {
  pid=$(pidof_svc "$1")
  ip=$(head -n 1 "$svc/$1/env/IP" 2>/dev/null) port=$(head -n 1 "$svc/$1/env/PORT" 2>/dev/null)
  if alive "$pid"; then echo "$1: up (pid $pid) ${ip:-0.0.0.0}:${port:-default}"
  elif [ -e "$svc/$1/down" ]; then echo "$1: down (service/$1/down: not started)"
  else echo "$1: down"; fi
}

# tlscert [-f] [-rsa]: a self-signed certificate and its key for control/me,
# made in a private directory (umask 077) and renamed into place whole
tlscert() {
  force=0 key="ec -pkeyopt ec_paramgen_curve:P-256"
  for a in "$@"; do
    case $a in -f) force=1 ;; -rsa) key=rsa:2048 ;; *) usage >&2; return 100 ;; esac
  done
  f=$home/control/servercert.pem
  if [ -e "$f" ] && [ $force = 0 ]; then
    echo "qmailctl: control/servercert.pem exists: kept (tlscert -f replaces it)" >&2; return 100
  fi
  me=$(head -n 1 "$home/control/me" 2>/dev/null)
  case $me in
    ''|*[!A-Za-z0-9.-]*|.*|*.|*..*)
      echo "qmailctl: control/me ('$me') is not a host name: no certificate made" >&2; return 111 ;;
  esac
  command -v openssl >/dev/null 2>&1 ||
    { echo "qmailctl: openssl is not installed: no certificate made" >&2; return 111; }
  d=$(umask 077 && mktemp -d "$home/control/.tlscert.XXXXXX") || return 111
  # shellcheck disable=SC2086
  if ! (umask 077 && openssl req -x509 -newkey $key -nodes -days 3650 -subj "/CN=$me" \
          -addext "subjectAltName=DNS:$me" -keyout "$d/key" -out "$d/cert" 2> "$d/err" &&
        cat "$d/cert" "$d/key" > "$d/pem"); then
    echo "qmailctl: openssl failed: $(tail -n 1 "$d/err")" >&2; rm -rf "$d"; return 111
  fi
  if [ "$(id -u)" = 0 ] && id qmaild >/dev/null 2>&1; then
    chown qmaild:qmail "$d/pem" && chmod 640 "$d/pem"
  else chmod 600 "$d/pem"; fi && mv -f "$d/pem" "$f" || { rm -rf "$d"; return 111; }
  rm -rf "$d"
  echo "control/servercert.pem: self-signed for $me, 10 years; $(openssl x509 -noout -fingerprint -sha256 -in "$f")"
}

# dkimkey DOMAIN [SELECTOR] [-ed25519] [-f]: a DKIM signing key in
# control/dkim/DOMAIN/SELECTOR.key (RSA 2048, or Ed25519), readable by
# qmailr alone (qmail-remote signs; 0600 qmailr:qmail as root, 0600 the
# user's otherwise); prints the DNS TXT record (also in SELECTOR.txt),
# in strings of at most 255 bytes (docs/dkim.md)
dkimkey() {
  dom="" sel="" alg=rsa force=0
  for a in "$@"; do
    case $a in
      -ed25519) alg=ed25519 ;; -f) force=1 ;; -*) usage >&2; return 100 ;;
      *) if [ -z "$dom" ]; then dom=$a; elif [ -z "$sel" ]; then sel=$a; else usage >&2; return 100; fi ;;
    esac
  done
  dom=$(printf '%s' "$dom" | tr 'A-Z' 'a-z')
  case $dom in ''|*[!a-z0-9.-]*|.*|*.|*..*)
    echo "qmailctl: dkimkey: '$dom' is not a domain name" >&2; return 100 ;; esac
  [ -n "$sel" ] || sel=$( [ $alg = rsa ] && echo rsa || echo ed )-$(date -u +%Y%m)
  case $sel in *[!A-Za-z0-9_.-]*|.*|*.|*..*)
    echo "qmailctl: dkimkey: '$sel' is not a selector (letters, digits, '-', '_', '.')" >&2; return 100 ;; esac
  d=$home/control/dkim/$dom f=$home/control/dkim/$dom/$sel.key
  if [ -e "$f" ] && [ $force = 0 ]; then
    echo "qmailctl: control/dkim/$dom/$sel.key exists: kept (dkimkey -f replaces it)" >&2; return 100
  fi
  command -v openssl >/dev/null 2>&1 ||
    { echo "qmailctl: openssl is not installed: no key made" >&2; return 111; }
  mkdir -p "$d" || return 111
  chmod 755 "$home/control/dkim"
  root=0; [ "$(id -u)" = 0 ] && id qmailr >/dev/null 2>&1 && root=1
  if [ $root = 1 ]; then chown root:qmail "$d" && chmod 750 "$d" || return 111; else chmod 700 "$d"; fi
  t=$(umask 077 && mktemp "$d/.key.XXXXXX") || return 111
  if [ $alg = rsa ]; then set -- -algorithm RSA -pkeyopt rsa_keygen_bits:2048
  else set -- -algorithm ED25519; fi
  if ! (umask 077 && openssl genpkey "$@" -out "$t" 2> "$t.err"); then
    echo "qmailctl: openssl failed: $(tail -n 1 "$t.err")" >&2; rm -f "$t" "$t.err"; return 111
  fi
  rm -f "$t.err"
  # the public key: RSA as its DER SubjectPublicKeyInfo, Ed25519 as the
  # raw 32 bytes (RFC 8463), both in base64
  if [ $alg = rsa ]; then p=$(openssl pkey -in "$t" -pubout -outform DER | openssl base64 -A)
  else p=$(openssl pkey -in "$t" -pubout -outform DER | tail -c 32 | openssl base64 -A); fi
  [ -n "$p" ] || { echo "qmailctl: openssl could not give the public key" >&2; rm -f "$t"; return 111; }
  if [ $root = 1 ]; then chown qmailr:qmail "$t" || { rm -f "$t"; return 111; }; fi
  mv -f "$t" "$f" || { rm -f "$t"; return 111; }
  printf 'v=DKIM1; k=%s; p=%s' $alg "$p" |
    awk -v n="$sel._domainkey.$dom." '{ printf "%s IN TXT (", n
      for (i = 1; i <= length($0); i += 255) printf " \"%s\"", substr($0, i, 255)
      print " )" }' > "$d/$sel.txt" && chmod 644 "$d/$sel.txt" || return 111
  echo "control/dkim/$dom/$sel.key: $( [ $alg = rsa ] && echo RSA 2048 || echo Ed25519 ); publish this record in DNS:" >&2
  cat "$d/$sel.txt"
}

count() { find "$1" -type f 2>/dev/null | wc -l; }

# qstat: the queue counts (bin/qmail-qstat; a find fallback for a home
# installed before it existed)
qstat() {
  if [ -x "$home/bin/qmail-qstat" ]; then "$home/bin/qmail-qstat"; return; fi
  echo "messages in queue: $(count "$home/queue/mess")"
  echo "messages in queue but not yet preprocessed: $(count "$home/queue/todo")"
}

# queue: the counts, then every message and its recipients (qmail-qread)
queue() {
  qstat || return 111
  if [ -x "$home/bin/qmail-qread" ]; then "$home/bin/qmail-qread" || return 111; fi
}

# signal_send: qmail-send's run script records its own pid (it execs
# qmail-start, which becomes qmail-send) in service/qmail-send/daemon.pid
signal_send() {
  pid=$(head -n 1 "$svc/qmail-send/daemon.pid" 2>/dev/null)
  if ! alive "$pid"; then echo "qmailctl: qmail-send is not running" >&2; return 111; fi
  kill -"$1" "$pid"
}

usage() {
  cat <<'END'
usage: qmailctl VERB
  start     start the services not running (checked a second later)
  stop      stop the services qmailctl started
  restart   stop, then start
  stat      which services run, where; queue counts
  queue     queue counts and every queued message
  flush     release held remote mail and retry everything now
  hold      hold remote deliveries (the link is down)
  reload    reread locals, virtualdomains and the other control files
  cdb       compile control/tcp.*, morercpthosts, users/passwd, users/assign
            and the recipient table (control/recipients.cdb)
  tlscert [-f] [-rsa]   a self-signed certificate for control/me (TLS)
  dkimkey DOMAIN [SELECTOR] [-ed25519] [-f]   a DKIM key; prints its DNS record
  check     check the control files, cdbs, services and users
  trace ID|MESSAGE-ID   one message's history from the logs
  metrics   the counters and queue gauges (Prometheus text format)
  top [-n COUNT]   a live view of the queue and the rates (q quits)
  help      this text
END
}

start_all() {
  started=""
  if needs_cdb; then cdb || exit 111; fi
  for s in $(services); do [ -e "$svc/$s/down" ] || start_one "$s"; done
  verify || exit 111
}

case ${1:-} in
  start) start_all ;;
  stop) for s in $(services); do stop_one "$s"; done ;;
  restart) for s in $(services); do stop_one "$s"; done; start_all ;;
  stat) for s in $(services); do stat_one "$s"; done; qstat || exit 111 ;;
  queue) queue || exit 111 ;;
  flush) rm -f "$home/control/holdremote" && signal_send HUP && signal_send ALRM || exit 111
         echo "qmail-send: remote deliveries released, every message retried now" ;;
  hold) : > "$home/control/holdremote" && signal_send HUP || exit 111
        echo "qmail-send: remote deliveries held (control/holdremote); qmailctl flush releases them" ;;
  reload) signal_send HUP || exit 111; echo "qmail-send: told to reread its control files (HUP)" ;;
  cdb) cdb || exit 111 ;;
  tlscert) shift; tlscert "$@" || exit $? ;;
  dkimkey) shift; dkimkey "$@" || exit $? ;;
  check) exec "$home/bin/qmail-checkctl" ;;
  trace) shift; exec "$home/bin/qmail-trace" "$@" ;;
  metrics) shift; exec "$home/bin/qmail-metrics" "$@" ;;
  top) shift; exec "$home/bin/qmail-top" "$@" ;;
  help|-h|--help) usage ;;
  *) usage >&2; exit 100 ;;
esac
