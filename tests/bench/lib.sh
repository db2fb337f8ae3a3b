# lib.sh: shell functions shared by the hub benchmarks (tests/bench/accept.sh,
# tests/bench/local.sh); sourced, never run. The caller sets, before use:
#   BENCH  its name (for messages)     top    the source tree
#   BUILD  the build directory         tmp    its temp dir (mode 755)
#   H      the hub home to install     PY     python3
# and gets: log, die, note (NOTES), bgrun (bg_pid), free_port, find_peers
# (PEERS), hub_install, hub_start, hub_stop (hub_up), hub_pgids,
# hub_tcpserver, listening, pf_acquire (have_pf, pf_started), pf_master,
# pf_pids, dev_of.

log() { echo "== $*"; }
die() { echo "$BENCH: $*" >&2; exit 1; }
NOTES=()
note() { NOTES+=("$*"); echo "  note: $*"; }

# run a command in the background and wait for it (so a signal is handled
# at once, not after the command): its stdout goes to $1
bg_pid=''
bgrun() { local out=$1; shift; "$@" > "$out" & bg_pid=$!; wait "$bg_pid"; local rc=$?; bg_pid=''; return $rc; }

free_port() {
  "$PY" -c 'import socket,random
for _ in range(200):
    p=random.randint(20000,29999); s=socket.socket()
    try: s.bind(("127.0.0.1",p)); print(p); break
    except OSError: pass
    finally: s.close()'
}

# the peer kit: ../shared/peers or /work/shared/peers (empty if missing)
find_peers() {
  PEERS=
  local d
  for d in "$top/../shared/peers" /work/shared/peers; do
    if [ -f "$d/postfix-peer-setup.sh" ] && [ -f "$d/peer-env.sh" ]; then PEERS=$(cd "$d" && pwd); return 0; fi
  done
}

# ---- our hub -----------------------------------------------------------------
# hub_install: a hub home in $H for domain hub.test, every network service on
# 127.0.0.1 (ports $OUR_SMTP $OUR_QMQP $OUR_QMTP, chosen here if unset)
hub_install() {
  : "${OUR_SMTP:=$(free_port)}" "${OUR_QMQP:=$(free_port)}" "${OUR_QMTP:=$(free_port)}"
  mkdir -p "$H/control"
  echo hub.test > "$H/control/me"
  echo hub.test > "$H/control/rcpthosts"
  local s
  for s in qmail-smtpd:$OUR_SMTP qmail-qmqpd:$OUR_QMQP qmail-qmtpd:$OUR_QMTP; do
    mkdir -p "$H/service/${s%%:*}/env"
    echo 127.0.0.1 > "$H/service/${s%%:*}/env/IP"
    echo "${s#*:}" > "$H/service/${s%%:*}/env/PORT"
    echo 40 > "$H/service/${s%%:*}/env/CONCURRENCY"
    echo 1000 > "$H/service/${s%%:*}/env/PERIP"   # every client is 127.0.0.1
  done
  # -o all: install what $BUILD holds (make bench-* has just built it),
  # without rebuilding from a tree someone may be editing meanwhile
  make -s -C "$top" -o all install QMAILHOME="$H" BUILD="$BUILD" > "$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; die "make install QMAILHOME=$H failed"; }
  chmod 755 "$tmp" "$H"
}

listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q "127.0.0.1:$1"; }
hub_up=0
hub_start() {
  "$H/bin/qmailctl" start > "$tmp/qmailctl.log" 2>&1 || { cat "$tmp/qmailctl.log"; die "qmailctl start failed"; }
  hub_up=1
  local i
  for i in $(seq 100); do listening "$OUR_SMTP" && listening "$OUR_QMQP" && return 0; sleep 0.1; done
  "$H/bin/qmailctl" stat; die "our servers do not listen on $OUR_SMTP/$OUR_QMQP"
}
hub_stop() { "$H/bin/qmailctl" stop > /dev/null; hub_up=0; }
hub_pgids() { cat "$H"/service/*/qmailctl.pid 2>/dev/null | paste -sd, -; }
hub_tcpserver() {  # pid of the tcpserver of service $1
  pgrep -g "$(head -n 1 "$H/service/$1/qmailctl.pid")" -x tcpserver | head -n 1
}

# ---- Postfix -----------------------------------------------------------------
# pf_acquire: source the peer kit's settings and get a Postfix to measure:
# one this run starts (pf_started=1), or, with PF_REUSE=1, one already
# running. Someone else's Postfix (another benchmark) is left alone: wait up
# to PF_WAIT s for it to stop. have_pf=1 when there is one to measure.
have_pf=0 pf_started=0
pf_running() { [ -s "$PF_PIDFILE" ] && kill -0 "$(tr -d ' ' < "$PF_PIDFILE")" 2>/dev/null; }
pf_acquire() {
  if [ -z "$PEERS" ]; then
    note "the peer kit is missing (no ../shared/peers or /work/shared/peers): only our own figures, no Postfix to compare with"
    return 0
  fi
  . "$PEERS/peer-env.sh"
  if pf_running && [ "${PF_REUSE:-0}" != 1 ]; then
    log "Postfix is already running (pid $(tr -d ' ' < "$PF_PIDFILE")), not started by this run: waiting up to $PF_WAIT s for its owner to stop it"
    local w=0; while pf_running && [ "$w" -lt "$PF_WAIT" ]; do sleep 5; w=$((w + 5)); done
  fi
  if pf_running; then
    if [ "${PF_REUSE:-0}" = 1 ]; then
      note "Postfix was already running (pid $(tr -d ' ' < "$PF_PIDFILE")): used as it is (PF_REUSE=1) and left running"
      have_pf=1
    else
      note "Postfix was already running (pid $(tr -d ' ' < "$PF_PIDFILE")) and still is after $PF_WAIT s: left alone, no Postfix figures (PF_REUSE=1 uses it anyway)"
    fi
  elif bash "$PEERS/postfix-peer-setup.sh" > "$tmp/pf-setup.log" 2>&1; then
    if bash "$PEERS/postfix-peer-start.sh" > "$tmp/pf-start.log" 2>&1; then pf_started=1 have_pf=1
    else cat "$tmp/pf-start.log"; note "postfix-peer-start.sh failed: no Postfix figures"; fi
  else
    cat "$tmp/pf-setup.log"; note "postfix-peer-setup.sh failed: no Postfix figures"
  fi
}
pf_master() { tr -d ' ' < "$PF_PIDFILE" 2>/dev/null; }
pf_pids() {  # the master's tree, except pid $1 if given (a stopped qmgr strace must not touch)
  ps -e -o pid=,ppid= | awk -v r="$(pf_master)" -v x="${1:-}" '
    { pid[NR]=$1; pp[NR]=$2 }
    END { keep[r]=1; ch=1
          while (ch) { ch=0; for (i=1;i<=NR;i++) if (!(pid[i] in keep) && (pp[i] in keep)) { keep[pid[i]]=1; ch=1 } }
          for (p in keep) if (p != x) print p }'
}

# dev_of PATH: the block device (whole disk) under PATH, if /sys/block has it
dev_of() {
  local src name
  src=$(findmnt -no SOURCE -T "$1" 2>/dev/null | head -n 1)
  [ -b "$src" ] || return 0
  name=$(lsblk -no PKNAME "$src" 2>/dev/null | head -n 1)
  [ -n "$name" ] || name=$(basename "$(readlink -f "$src")")
  [ -r "/sys/block/$name/stat" ] && echo "$name"
}
