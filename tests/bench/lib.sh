# lib.sh: shell functions shared by the hub benchmarks (tests/bench/accept.sh,
# tests/bench/local.sh); sourced, never run. The caller sets, before use:
#   BENCH  its name (for messages)     top    the source tree
#   BUILD  the build directory         tmp    its temp dir (mode 755)
#   H      the hub home to install     PY     python3
# and gets: log, die, note (NOTES), bgrun (bg_pid), free_port, find_peers
# (PEERS), hub_install, hub_maildir (MD), hub_start, hub_stop (hub_up),
# hub_pgids, svc_pids, hub_pids, hub_scope, listening, pf_acquire (have_pf,
# pf_started), pf_master, pf_pids, pf_scope, dev_of, the cgroups
# (cg_make, cg_join, cg_release; HUB_CG, PF_CG) and a tracefs
# (tracefs_mount, tracefs_umount; TRACEFS).
# OUTDIR is $BENCH_OUTDIR when set (tests/bench/goals.sh runs the other
# benchmarks with their reports in a folder of its own).

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

# the listener's own log lines (tcpserver's, or a server that listens
# itself and logs as tcpserver does: "qmail-smtpd: ok PID ..."), as an ERE
LISTENER_LOG=' [a-z0-9-]+: (status: [0-9]|pid [0-9]|ok [0-9]|deny [0-9]|end [0-9])'
listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q "127.0.0.1:$1"; }
hub_up=0
hub_start() {  # in the cgroup HUB_CG when there is one: every process the services start is in it
  ( [ -z "${HUB_CG:-}" ] || echo "$BASHPID" > "$HUB_CG/cgroup.procs"; exec "$H/bin/qmailctl" start ) \
    > "$tmp/qmailctl.log" 2>&1 || { cat "$tmp/qmailctl.log"; die "qmailctl start failed"; }
  hub_up=1
  if [ -n "${HUB_CG:-}" ] && [ -z "$(cat "$HUB_CG/cgroup.procs")" ]; then
    note "the hub's processes could not be put in the cgroup $HUB_CG: measured by their process groups instead"
    HUB_CG=''
  fi
  local i
  for i in $(seq 100); do listening "$OUR_SMTP" && listening "$OUR_QMQP" && return 0; sleep 0.1; done
  "$H/bin/qmailctl" stat; die "our servers do not listen on $OUR_SMTP/$OUR_QMQP"
}
hub_stop() { "$H/bin/qmailctl" stop > /dev/null; hub_up=0; }
hub_pgids() { cat "$H"/service/*/qmailctl.pid 2>/dev/null | paste -sd, -; }
# svc_pids NAME...: every process in the process groups of those services
# (qmailctl starts each service in a group of its own): found by group, not
# by program name, so a server that serves connections itself instead of
# under tcpserver, or a queue daemon, is found all the same
svc_pids() {
  local g='' s
  for s; do g="$g,$(head -n 1 "$H/service/$s/qmailctl.pid" 2>/dev/null)"; done
  ps -eo pid=,pgid= | awk -v g="$g," 'index(g, "," $2 ",") { print $1 }'
}
hub_pids() {  # every process of the hub: its cgroup, or its services' groups
  if [ -n "${HUB_CG:-}" ]; then cat "$HUB_CG/cgroup.procs"
  else ps -eo pid=,pgid= | awk -v g=",$(hub_pgids)," 'index(g, "," $2 ",") { print $1 }'; fi
}
# the acceptdrive.py --scope of the hub's processes (CPU, memory)
hub_scope() { if [ -n "${HUB_CG:-}" ]; then echo "cgroup:$HUB_CG"; else echo "pgidfiles:$H/service/*/qmailctl.pid"; fi; }
# hub_maildir: mbox@hub.test delivered by the hub into $MD
# ($H/alias/Maildir-bench/, through users/assign and alias/.qmail-mbox: the
# peer kit's Unix user mbox would otherwise take it)
hub_maildir() {
  MD=$H/alias/Maildir-bench
  echo hub.test > "$H/control/locals"
  printf '=mbox:alias:%s:%s:%s:-:mbox:\n.\n' "$(id -u alias)" "$(id -g alias)" "$H/alias" > "$H/users/assign"
  "$H/bin/qmail-newu" || die "qmail-newu failed"
  echo ./Maildir-bench/ > "$H/alias/.qmail-mbox"
  "$H/bin/maildirmake" "$MD"
  chown -R alias:nofiles "$MD" "$H/alias/.qmail-mbox"
  chmod 644 "$H/alias/.qmail-mbox"
}

# ---- tracefs: flush requests of the hub's processes ------------------------------
# tracefs_mount: TRACEFS, a tracefs for acceptdrive.py --flushtrace: the
# system's, or one mounted here at /tmp/bench-tracefs.PID (never under
# $tmp, which is removed with rm -rf) that tracefs_umount removes; empty
# when there is none (the flushbio figures are then NA)
TRACEFS='' tracefs_made=''
tracefs_mount() {
  local d
  for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
    [ -d "$d/instances" ] && { TRACEFS=$d; return 0; }
  done
  d=/tmp/bench-tracefs.$$
  mkdir -p "$d" && mount -t tracefs nodev "$d" 2> /dev/null && [ -d "$d/instances" ] &&
    { TRACEFS=$d tracefs_made=$d; return 0; }
  mountpoint -q "$d" && umount "$d"
  rmdir "$d" 2> /dev/null
  TRACEFS=''
}
tracefs_umount() {
  [ -n "$tracefs_made" ] || return 0
  umount "$tracefs_made" && rmdir "$tracefs_made"
  tracefs_made=''
}

# ---- cgroups -------------------------------------------------------------------
# cg_make VAR NAME: a CPU-accounting cgroup of this run (cgroup v1 cpuacct,
# or v2) in VAR, empty when none can be made (not root, no cgroupfs): the
# scopes then fall back to process groups (ours) and the master's tree
# (Postfix). Its CPU counter (cpuacct.usage, cpu.stat usage_usec) counts
# every process that ran in it, exited ones included, whatever it is
# called and whatever group or session it put itself in.
CG_ALL=''
cg_make() {
  local base d
  eval "$1=''"
  for base in /sys/fs/cgroup/cpuacct /sys/fs/cgroup; do
    [ -f "$base/cpuacct.usage" ] || [ -f "$base/cgroup.controllers" ] || continue
    d=$base/bench-$2.$$
    mkdir "$d" 2> /dev/null || continue
    CG_ALL="$CG_ALL $d"; eval "$1=\$d"; return 0
  done
}
cg_join() { local d=$1 p; shift; for p; do echo "$p" > "$d/cgroup.procs" 2> /dev/null; done; }
# cg_release: back to the parent cgroup whatever is left (a Postfix used with
# PF_REUSE), then remove the run's cgroups
cg_release() {
  local d
  for d in $CG_ALL; do
    [ -d "$d" ] || continue
    cg_join "$(dirname "$d")" $(cat "$d/cgroup.procs" 2> /dev/null)
    rmdir "$d" 2> /dev/null
  done
  CG_ALL=''
}

# ---- Postfix -----------------------------------------------------------------
# pf_acquire: source the peer kit's settings and get a Postfix to measure:
# one this run starts (pf_started=1), or, with PF_REUSE=1, one already
# running. Someone else's Postfix (another benchmark) is left alone: wait up
# to PF_WAIT s for it to stop. have_pf=1 when there is one to measure.
have_pf=0 pf_started=0
# (the pid must still be Postfix's master: a stale pid file's number may
# belong to another process by now)
pf_running() { [ -s "$PF_PIDFILE" ] && kill -0 "$(tr -d ' ' < "$PF_PIDFILE")" 2>/dev/null &&
  [ "$(cat "/proc/$(tr -d ' ' < "$PF_PIDFILE")/comm" 2>/dev/null)" = master ]; }
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
# pf_scope: the acceptdrive.py --scope of Postfix's processes; pf_cg: put
# them in the cgroup PF_CG (made here if cgroups can be made), so they are
# measured as ours are
pf_scope() { if [ -n "${PF_CG:-}" ]; then echo "cgroup:$PF_CG"; else echo "tree:$(pf_master)"; fi; }
pf_cg() {
  [ "$have_pf" = 1 ] || return 0
  [ -n "${PF_CG:-}" ] || cg_make PF_CG postfix
  [ -n "$PF_CG" ] && cg_join "$PF_CG" $(pf_pids)
}
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
