#!/bin/sh
# install-hub.sh: make (or upgrade) a hub home at DIR. Called by
#   make install QMAILHOME=DIR
#   install-hub.sh DIR BUILD "CC LDFLAGS" "LDLIBS" "LEAFPROGS" "LEAFSCRIPTS" "HUBPROGS"
# As root: creates the qmail users and groups when missing and sets qmail's
# owners and modes (qmail-queue setuid qmailq, mode 4711; nothing setuid
# root). As a normal user: a single-user home owned by that user, nothing
# setuid. An existing home is upgraded: programs and run scripts are
# replaced; the queue, control files and env/ settings are never touched.
set -eu
dir=$1 build=$2 cc=$3 libs=$4 leafprogs=$5 leafscripts=$6 hubprogs=$7
case $dir in /*) ;; *) echo "install: QMAILHOME must be an absolute path" >&2; exit 100 ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/leaf/install-lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
root=0; [ "$(id -u)" = 0 ] && root=1
# the programs that speak TLS link with libtls too (link_progs); the
# Makefile passes both, these defaults serve a direct call
TLS_PROGS=${TLS_PROGS-qmail-smtpd} TLS_LIBS=${TLS_LIBS--ltls -lssl -lcrypto}
upgrade=0; [ -d "$dir/queue" ] && upgrade=1   # a hub that has run: keep its behaviour

make_users() {
  getent group qmail >/dev/null || groupadd -r qmail
  getent group nofiles >/dev/null || groupadd -r nofiles
  for u in alias:nofiles:$dir/alias qmaild:nofiles:$dir qmaill:nofiles:$dir \
           qmailp:nofiles:$dir qmailq:qmail:$dir qmailr:qmail:$dir qmails:qmail:$dir; do
    name=${u%%:*} rest=${u#*:}
    id "$name" >/dev/null 2>&1 ||
      useradd -r -M -g "${rest%%:*}" -d "${rest#*:}" -s /usr/sbin/nologin "$name"
  done
}

[ $root = 1 ] && make_users
mkdir -p "$dir" "$dir/bin" "$dir/control" "$dir/users" "$dir/alias" "$dir/service" "$dir/log" "$dir/man"
chmod 755 "$dir" "$dir/bin" "$dir/control" "$dir/users" "$dir/service" "$dir/log"

home_object "$dir" "$cc" "$tmp"
hubleaf=""
for p in $leafprogs; do [ "$p" = qmail-qmqpc ] || hubleaf="$hubleaf $p"; done
# shellcheck disable=SC2086
link_progs "$dir" "$build" leaf "$cc" "$libs" "$tmp" $hubleaf
# $CRYPT_PROGS (from the Makefile: the password programs) link with libcrypt
plainprogs="" cryptprogs=""
for p in $hubprogs; do
  case " ${CRYPT_PROGS:-} " in *" $p "*) cryptprogs="$cryptprogs $p" ;; *) plainprogs="$plainprogs $p" ;; esac
done
# shellcheck disable=SC2086
link_progs "$dir" "$build" hub "$cc" "$libs" "$tmp" $plainprogs
# shellcheck disable=SC2086
link_progs "$dir" "$build" hub "$cc" "$libs -lcrypt" "$tmp" $cryptprogs
# shellcheck disable=SC2086
install_scripts "$dir" "$src/leaf" $leafscripts
install_scripts "$dir" "$src/hub/admin" qmailctl qmail-checkctl qmail-trace
ln -sfn sendmail "$dir/bin/mailq"
ln -sfn sendmail "$dir/bin/newaliases"
install_man "$dir" "$src/leaf"
for d in "$src"/hub/*/; do install_man "$dir" "${d%/}"; done
install_man "$dir" "$src/docs/man"  # section 5: files and formats
if [ $root = 1 ]; then
  chown -R root:qmail "$dir/bin"
  [ -f "$dir/bin/qmail-queue" ] && chown qmailq:qmail "$dir/bin/qmail-queue" && chmod 4711 "$dir/bin/qmail-queue"
  chown alias:qmail "$dir/alias"; chmod 2755 "$dir/alias"
fi
# Programs only root runs (issue 10, privileges as qmail had them): mode
# 0700 in a root install. qmail-start (the supervisor runs it as root; it
# becomes qmail-send as qmails), qmail-lspawn (qmail-start runs it, the
# only root process of the set: it switches to each recipient), qmail-newu
# (writes users/cdb in the root-owned users/), qmail-passwd (users/passwd
# and its cdb, the same way). Not qmail-getpw: qmail-lspawn
# runs it as qmailp, so that no root process reads the password database.
if [ $root = 1 ]; then
  for p in qmail-start qmail-lspawn qmail-newu qmail-passwd qmail-qconvert; do
    [ -f "$dir/bin/$p" ] && chown root:qmail "$dir/bin/$p" && chmod 700 "$dir/bin/$p"
  done
fi

if [ -f "$src/hub/queue/mkqueue.sh" ]; then sh "$src/hub/queue/mkqueue.sh" "$dir"; fi

# recipient checks at RCPT time (docs/rcptcheck.md): on for a new hub; a
# hub upgraded in place keeps qmail's behaviour (accept, bounce later)
# until the administrator writes 1 to control/rcptcheck
[ $upgrade = 1 ] || [ -e "$dir/control/rcptcheck" ] || echo 1 > "$dir/control/rcptcheck"
default_controls "$dir" hub
# one message cap for SMTP, QMTP and QMQP (50 MB; 0 would mean no limit)
[ -e "$dir/control/databytes" ] || echo 52428800 > "$dir/control/databytes"
[ -e "$dir/control/tcp.smtp" ] || printf '127.:allow,RELAYCLIENT=""\n:allow\n' > "$dir/control/tcp.smtp"
[ -e "$dir/control/tcp.qmtp" ] || printf '127.:allow,RELAYCLIENT=""\n:allow\n' > "$dir/control/tcp.qmtp"
[ -e "$dir/control/tcp.qmqp" ] || printf '# QMQP relays anything: allow only hosts you trust (your leaves)\n127.:allow\n:deny\n' > "$dir/control/tcp.qmqp"
cp "$src/control/README.md" "$dir/control/README.md" 2>/dev/null || true

# TLS: a self-signed certificate for control/me unless there is one, so
# that STARTTLS works from the start (docs/tls.md; qmailctl tlscert)
if [ ! -e "$dir/control/servercert.pem" ]; then
  "$dir/bin/qmailctl" tlscert ||
    echo "install: no control/servercert.pem: STARTTLS is off until qmailctl tlscert succeeds" >&2
fi

# services: run scripts are code (replaced); env/ is the administrator's (kept)
service() { # name program port rules [settings of the run script]
  s=$dir/service/$1
  mkdir -p "$s/env" "$s/log" "$dir/log/$1"
  sed -e "s|@QMAILHOME@|$dir|g" -e "s|@NAME@|$1|g" -e "s|@PROG@|$2|g" \
      -e "s|@PORT@|$3|g" -e "s|@RULES@|$4|g" -e "s|@SET@|${5:-}|g" "$src/hub/service/run.sh" > "$s/run.new"
  sed -e "s|@QMAILHOME@|$dir|g" -e "s|@NAME@|$1|g" "$src/hub/service/log-run.sh" > "$s/log/run.new"
  chmod 755 "$s/run.new" "$s/log/run.new"
  mv -f "$s/run.new" "$s/run"; mv -f "$s/log/run.new" "$s/log/run"
  [ -e "$s/env/IP" ] || echo 0.0.0.0 > "$s/env/IP"
  [ -e "$s/env/PORT" ] || echo "$3" > "$s/env/PORT"
  [ -e "$s/env/CONCURRENCY" ] || echo 40 > "$s/env/CONCURRENCY"
  [ -e "$s/env/PERIP" ] || echo 10 > "$s/env/PERIP"
  [ $root = 1 ] && chown qmaill "$dir/log/$1"
  return 0
}
for p in $hubprogs; do
  case $p in
    qmail-smtpd) service qmail-smtpd qmail-smtpd 25 tcp.smtp
      # SMTPS (RFC 8314, implicit TLS): installed "down" (daemontools'
      # flag, which qmailctl start honours too): an upgrade never opens
      # a port by itself; rm service/qmail-smtps/down to run it
      [ -d "$dir/service/qmail-smtps" ] || { mkdir -p "$dir/service/qmail-smtps"; : > "$dir/service/qmail-smtps/down"; }
      service qmail-smtps qmail-smtpd 465 tcp.smtp SMTPS=1 ;;
    qmail-qmtpd) service qmail-qmtpd qmail-qmtpd 209 tcp.qmtp
      # QMTPS (QMTP inside implicit TLS, port 6209 as s/qmail uses;
      # docs/tls.md): installed "down" as qmail-smtps is
      [ -d "$dir/service/qmail-qmtps" ] || { mkdir -p "$dir/service/qmail-qmtps"; : > "$dir/service/qmail-qmtps/down"; }
      service qmail-qmtps qmail-qmtpd 6209 tcp.qmtp QMTPS=1 ;;
    qmail-qmqpd) service qmail-qmqpd qmail-qmqpd 628 tcp.qmqp ;;
  esac
done
# submission (RFC 6409, docs/auth.md): qmail-smtpd with SUBMISSION=1 on
# 587 (tcp.smtp's rules), AUTH before MAIL; installed "down" as SMTPS is.
# AUTH is on where env/CHECKPASSWORD names a checkpassword program: the
# install writes it for submission and SMTPS; port 25 has none unless the
# administrator adds it (kept, like all of env/)
case " $hubprogs " in *" qmail-smtpd "*)
  [ -d "$dir/service/qmail-submission" ] || { mkdir -p "$dir/service/qmail-submission"; : > "$dir/service/qmail-submission/down"; }
  service qmail-submission qmail-smtpd 587 tcp.smtp SUBMISSION=1
  for s in qmail-submission qmail-smtps; do
    [ ! -d "$dir/service/$s/env" ] || [ -e "$dir/service/$s/env/CHECKPASSWORD" ] ||
      echo "$dir/bin/qmail-checkpassword" > "$dir/service/$s/env/CHECKPASSWORD"
  done ;;
esac
# POP3 (docs/pop3.md): qmail-popup, the checkpassword program of
# env/CHECKPASSWORD, qmail-pop3d ./Maildir/ as the user; 110 with STLS and
# 995 with implicit TLS (POP3S=1). Both installed "down" as SMTPS is; the
# rules in control/tcp.pop3 (allow all: the login is the gate)
case " $hubprogs " in *" qmail-popup "*)
  [ -e "$dir/control/tcp.pop3" ] || printf '# POP3 and POP3S: anyone may try to log in (docs/pop3.md)\n:allow\n' > "$dir/control/tcp.pop3"
  for s in qmail-pop3d qmail-pop3s; do
    [ -d "$dir/service/$s" ] || { mkdir -p "$dir/service/$s"; : > "$dir/service/$s/down"; }
  done
  service qmail-pop3d qmail-popup 110 tcp.pop3
  service qmail-pop3s qmail-popup 995 tcp.pop3 POP3S=1
  for s in qmail-pop3d qmail-pop3s; do
    [ -e "$dir/service/$s/env/CHECKPASSWORD" ] ||
      echo "$dir/bin/qmail-checkpassword" > "$dir/service/$s/env/CHECKPASSWORD"
  done ;;
esac
# qmail-send: qmail-start runs it with lspawn, (rspawn,) clean; local mail
# without a users/assign entry goes to the alias home's ./Maildir/
case " $hubprogs " in *" qmail-start "*)
  if [ -f "$src/hub/service/send-run.sh" ]; then
    s=$dir/service/qmail-send
    mkdir -p "$s/log" "$dir/log/qmail-send"
    sed "s|@QMAILHOME@|$dir|g" "$src/hub/service/send-run.sh" > "$s/run.new"
    sed -e "s|@QMAILHOME@|$dir|g" -e "s|@NAME@|qmail-send|g" "$src/hub/service/log-run.sh" > "$s/log/run.new"
    chmod 755 "$s/run.new" "$s/log/run.new"
    mv -f "$s/run.new" "$s/run"; mv -f "$s/log/run.new" "$s/log/run"
    [ $root = 1 ] && chown qmaill "$dir/log/qmail-send"
  fi
  [ -e "$dir/control/defaultdelivery" ] || echo ./Maildir/ > "$dir/control/defaultdelivery"
  if [ ! -d "$dir/alias/Maildir" ]; then
    "$dir/bin/maildirmake" "$dir/alias/Maildir"
    [ $root = 1 ] && chown -R alias:nofiles "$dir/alias/Maildir"
  fi
  # the system aliases read by the postmaster; in single-user mode the alias
  # home takes every local address that has no users/assign entry
  names="postmaster root mailer-daemon"; [ $root = 1 ] || names="$names default"
  for a in $names; do
    f=$dir/alias/.qmail-$a
    [ -e "$f" ] && continue
    echo ./Maildir/ > "$f"; chmod 644 "$f"
    [ $root = 1 ] && chown alias:nofiles "$f"
  done
  ;;
esac
# qmail-metrics: the counters every 15 s into metrics/qmail.prom (node_exporter's
# textfile collector, docs/metrics.md); installed down, as qmail-smtps is
case " $hubprogs " in *" qmail-metrics "*)
  if [ -f "$src/hub/service/metrics-run.sh" ]; then
    s=$dir/service/qmail-metrics
    [ -d "$s" ] || { mkdir -p "$s"; : > "$s/down"; }
    mkdir -p "$s/log" "$dir/log/qmail-metrics" "$dir/metrics"
    sed "s|@QMAILHOME@|$dir|g" "$src/hub/service/metrics-run.sh" > "$s/run.new"
    sed -e "s|@QMAILHOME@|$dir|g" -e "s|@NAME@|qmail-metrics|g" "$src/hub/service/log-run.sh" > "$s/log/run.new"
    chmod 755 "$s/run.new" "$s/log/run.new"
    mv -f "$s/run.new" "$s/run"; mv -f "$s/log/run.new" "$s/log/run"
    [ $root = 1 ] && chown qmaill "$dir/log/qmail-metrics"
  fi ;;
esac
sed "s|@QMAILHOME@|$dir|g" "$src/hub/service/qmail@.service" > "$dir/service/qmail@.service"
cp "$src/hub/service/README.md" "$dir/service/README.md"
if command -v tcprules >/dev/null 2>&1; then "$dir/bin/qmailctl" cdb; fi
echo "hub home installed in $dir ($( [ $root = 1 ] && echo "qmail users, qmail-queue setuid qmailq" || echo "single-user mode, owned by $(id -un)"))"
