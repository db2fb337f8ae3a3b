#!/bin/bash
# tls.sh: `make bench-tls` (never part of make check). TLS on the hub's SMTP
# server against Postfix's smtpd with TLS, in one run, same certificate
# (ours, from qmailctl tlscert: ECDSA P-256; KEY=rsa makes it RSA 2048),
# same client (tests/bench/tlsload.py, python ssl, no session resumption):
#   sessions/s   plain (EHLO, QUIT), STARTTLS (EHLO, STARTTLS, handshake,
#                EHLO, QUIT), SMTPS (handshake, EHLO, QUIT), at CONCS
#   messages/s   SIZE-byte messages over STARTTLS, one per session (as an
#                MTA sends) and PER per session
#   CPU          server CPU per session or message, from /proc of the
#                server's own processes (ours: the qmailctl process groups;
#                Postfix: the master's tree); CPU per handshake = STARTTLS
#                session - plain session
# Ours: a hub home in a temp dir (qmail-smtpd and qmail-smtps on 127.0.0.1,
# qmail-send not started: acceptance only, mail stays in the queue).
# Postfix: the peer kit (../shared/peers or /work/shared/peers), TLS turned
# on for the run (smtpd_tls_security_level may, smtpd_tls_chain_files our
# certificate, a wrapper-mode smtpd for SMTPS), its qmgr stopped during the
# message cases (nothing delivered, in_flow_delay 0), all undone at the end.
# Env: N sessions or messages per case (400; QUICK=1: 100), CONCS ("1 4"),
# SIZE (2048), PER (20), KEY (ec|rsa), BUILD (build), PF_WAIT, PF_REUSE (as
# accept.sh). Root on Debian 12; all traffic on 127.0.0.1.
# Output: the table on stdout and in $BUILD/bench/tls.txt.
set -u

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) ||
  top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 111
BUILD=${BUILD:-build}
if [ "${QUICK:-0}" = 1 ]; then : "${N:=100}"; fi
N=${N:-400}
CONCS=${CONCS:-"1 4"}
SIZE=${SIZE:-2048}
PER=${PER:-20}
KEY=${KEY:-ec}
PF_WAIT=${PF_WAIT:-600}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
LOAD=$top/tests/bench/tlsload.py
OUTDIR=$top/$BUILD/bench
OUT=$OUTDIR/tls.txt

BENCH=tls.sh
. "$top/tests/bench/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root (the hub home gets the qmail users; Postfix is configured)"
[ -x "$BUILD/hub/qmail-smtpd" ] || die "$BUILD/hub/qmail-smtpd is not built (make all)"
tmp=$(mktemp -d /tmp/bench-tls.XXXXXX); chmod 755 "$tmp"
load0=$(cut -d' ' -f1-3 /proc/loadavg)   # the table says how busy the machine was
H=$tmp/hub
mkdir -p "$OUTDIR"
: > "$tmp/results"

# ---- cleanup: only what this run started ---------------------------------
pf_tls=0 qmgr_stopped='' ifd_old='' ifd_changed=0
cleanup() {
  trap - EXIT INT TERM
  [ -n "$qmgr_stopped" ] && kill -CONT "$qmgr_stopped" 2>/dev/null
  [ "$hub_up" = 1 ] && hub_stop
  if [ "$pf_tls" = 1 ]; then
    postsuper -d ALL > /dev/null 2>&1
    postconf -X smtpd_tls_security_level smtpd_tls_chain_files smtpd_tls_loglevel 2> /dev/null
    postconf -MX "127.0.0.1:$PF_SMTPS/inet" 2> /dev/null
    if [ "$ifd_changed" = 1 ]; then
      if [ -n "$ifd_old" ]; then postconf -e "in_flow_delay = $ifd_old"; else postconf -X in_flow_delay; fi
    fi
    rm -f /etc/postfix/bench-tls.pem
    [ "$pf_started" = 1 ] || postfix reload > /dev/null 2>&1
  fi
  [ "$pf_started" = 1 ] && bash "$PEERS/postfix-peer-stop.sh" > /dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "tls.sh: interrupted, cleaning up" >&2; exit 130' INT TERM

# ---- ours ---------------------------------------------------------------
OUR_SMTPS=$(free_port)
log "installing our hub in $H"
hub_install
[ -f "$H/service/qmail-send/run" ] && chmod -x "$H/service/qmail-send/run"   # acceptance only
rm -f "$H/service/qmail-smtps/down"
echo 127.0.0.1 > "$H/service/qmail-smtps/env/IP"; echo "$OUR_SMTPS" > "$H/service/qmail-smtps/env/PORT"
echo 40 > "$H/service/qmail-smtps/env/CONCURRENCY"; echo 1000 > "$H/service/qmail-smtps/env/PERIP"
if [ "$KEY" = rsa ]; then "$H/bin/qmailctl" tlscert -f -rsa > /dev/null || die "tlscert -rsa failed"; fi
[ -f "$H/control/servercert.pem" ] || die "the install made no control/servercert.pem"
hub_start
for _ in $(seq 100); do listening "$OUR_SMTPS" && break; sleep 0.1; done
listening "$OUR_SMTPS" || die "qmail-smtps does not listen on $OUR_SMTPS"
OUR_SCOPE="pgidfiles:$H/service/*/qmailctl.pid"

# ---- Postfix ------------------------------------------------------------
find_peers
pf_acquire
if [ "$have_pf" = 1 ]; then
  PF_SMTPS=$(free_port)
  # the same key and certificate; Postfix wants the key first in the file
  (umask 077; { openssl pkey -in "$H/control/servercert.pem"; openssl x509 -in "$H/control/servercert.pem"; } \
     > /etc/postfix/bench-tls.pem) || die "cannot copy our certificate for Postfix"
  pf_tls=1
  postconf -e "smtpd_tls_security_level = may" "smtpd_tls_chain_files = /etc/postfix/bench-tls.pem" \
    "smtpd_tls_loglevel = 0" &&
  postconf -M "127.0.0.1:$PF_SMTPS/inet=127.0.0.1:$PF_SMTPS inet n - n - - smtpd" &&
  postconf -P "127.0.0.1:$PF_SMTPS/inet/smtpd_tls_wrappermode=yes" &&
  ifd_old=$(postconf -nh in_flow_delay 2>/dev/null) && postconf -e "in_flow_delay = 0s" && ifd_changed=1 &&
  postfix reload > /dev/null 2>&1 || die "cannot turn TLS on in Postfix"
  for _ in $(seq 100); do listening "$PF_SMTPS" && break; sleep 0.1; done
  listening "$PF_SMTPS" || die "Postfix's wrapper-mode smtpd does not listen on $PF_SMTPS"
  PF_SCOPE="tree:$(pf_master)"
fi

# run SERVER LABEL MODE PORT C [args]: one case into the results
run() {
  local server=$1 label=$2 mode=$3 port=$4 c=$5 scope line; shift 5
  if [ "$server" = ours ]; then scope=$OUR_SCOPE; else scope=$PF_SCOPE; fi
  if [ "$server" = postfix ] && [ "$mode" = msg ]; then
    qmgr_stopped=$(pgrep -P "$(pf_master)" -x qmgr | head -n 1)
    [ -n "$qmgr_stopped" ] && kill -STOP "$qmgr_stopped"
  fi
  line=$("$PY" "$LOAD" "$mode" --port "$port" --n "$N" --c "$c" --scope "$scope" \
         --size "$SIZE" --rcpt postmaster@hub.test --label "$label" "$@")
  if [ -n "$qmgr_stopped" ]; then
    postsuper -d ALL > /dev/null 2>&1; kill -CONT "$qmgr_stopped"; qmgr_stopped=''
  fi
  echo "server=$server $line" | tee -a "$tmp/results"
}

servers="ours"; [ "$have_pf" = 1 ] && servers="ours postfix"
for c in $CONCS; do
  for s in $servers; do
    if [ "$s" = ours ]; then p=$OUR_SMTP ps=$OUR_SMTPS; else p=$SMTP_PORT ps=$PF_SMTPS; fi
    log "$s, concurrency $c"
    run "$s" "plain sessions c=$c" plain "$p" "$c"
    run "$s" "STARTTLS sessions c=$c" starttls "$p" "$c"
    run "$s" "SMTPS sessions c=$c" smtps "$ps" "$c"
    run "$s" "msgs, 1/session, STARTTLS c=$c" msg "$p" "$c" --per 1
    run "$s" "msgs, $PER/session, STARTTLS c=$c" msg "$p" "$c" --per "$PER"
  done
done

# ---- the table ------------------------------------------------------------
"$PY" - "$tmp/results" > "$OUT" <<'EOF'
import sys
rows, order = {}, []
for l in open(sys.argv[1]):
    server = l.split()[0].split("=", 1)[1]
    label = l.split("label=", 1)[1].split(" mode=")[0]
    rest = dict(x.split("=", 1) for x in ("mode=" + l.split(" mode=", 1)[1]).split())
    rows[(server, label)] = rest
    if label not in order:
        order.append(label)
have_pf = any(s == "postfix" for s, _ in rows)
print("%-34s %10s %12s %10s %12s %7s" % ("case", "ours /s", "ours ms CPU", "Postfix /s", "Postfix ms", "ratio"))
for label in order:
    o, p = rows.get(("ours", label)), rows.get(("postfix", label))
    def f(r, k, fmt): return fmt % float(r[k]) if r else "-"
    ratio = "%.2f" % (float(o["rate"]) / float(p["rate"])) if o and p else "-"
    err = "" if all(r is None or r["errors"] == "0" for r in (o, p)) else "  (errors: %s/%s)" % (
        o["errors"] if o else "-", p["errors"] if p else "-")
    print("%-34s %10s %12s %10s %12s %7s%s" % (label, f(o, "rate", "%.1f"), f(o, "srv_ms_per", "%.2f"),
          f(p, "rate", "%.1f"), f(p, "srv_ms_per", "%.2f"), ratio, err))
print()
for c in sorted({l.split("c=")[1] for l in order if "c=" in l}):
    for s in ("ours", "postfix"):
        t, pl = rows.get((s, "STARTTLS sessions c=" + c)), rows.get((s, "plain sessions c=" + c))
        if t and pl:
            print("CPU per handshake (STARTTLS session - plain session), %s, c=%s: %.2f ms"
                  % ("ours" if s == "ours" else "Postfix", c, float(t["srv_ms_per"]) - float(pl["srv_ms_per"])))
print()
print("ms CPU: the server's own processes per session or message (/proc); ratio: ours/Postfix rate.")
print("The client is python ssl (its own CPU not counted), TCP_QUICKACK after each handshake (tlsload.py);")
print("every handshake is a full one.")
EOF
echo
echo "# tls.sh: N=$N CONCS=\"$CONCS\" SIZE=$SIZE PER=$PER KEY=$KEY; $(nproc) CPUs;" \
  "load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end" | tee -a "$OUT"
cat "$OUT"
[ "$have_pf" = 1 ] || echo "(no Postfix figures: ${NOTES[*]:-})"
