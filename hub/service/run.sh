#!/bin/sh
# run: @NAME@, which listens itself (SERVE=1, hub/servers/srvfork.h) or,
# with env/TCPSERVER holding 1, under tcpserver; for daemontools'
# supervise, systemd or qmailctl start. Settings are files in env/ (daemontools envdir style):
#   IP, PORT      listen address and port (0.0.0.0, @PORT@)
#   CONCURRENCY   most connections at once (as tcpserver -c, 40)
#   PERIP         most connections from one client address (10; docs/limits.md)
#   BACKLOG       listen backlog (256: tcpserver's own 20 makes a burst of
#                 connections overflow into SYN cookies and hang unanswered)
#   TCPSERVER     1: classic mode, tcpserver forks and execs the server for
#                 each connection (default 0: the server's own fork server)
# and anything else there (DATABYTES, ...) becomes the server's environment.
# Settings the install puts on the qmail-svcrun line (SMTPS=1 for the SMTPS
# service) come after env/ and win.
# The server starts from an EMPTY environment plus env/ and no descriptor
# above 2 (qmail-svcrun): nothing of the shell that started the service
# leaks in. Per-address rules come from control/@RULES@.cdb (qmailctl cdb
# makes it); without it the service refuses to start.
# -D: no Nagle delay, so a reply that follows a full output buffer is not
# held back 40 ms waiting for the client's delayed ACK.
# As root the server runs as qmaild:nofiles (qmail-popup starts as root for
# checkpassword and talks to the client as qmaild); as a normal user, as
# that user.
home=@QMAILHOME@
cd "$home/service/@NAME@" || exit 111
exec 2>&1
val() { v=$(head -n 1 "env/$1" 2>/dev/null); echo "${v:-$2}"; }
IP=$(val IP 0.0.0.0) PORT=$(val PORT @PORT@) CONC=$(val CONCURRENCY 40)
BACKLOG=$(val BACKLOG 256) PERIP=$(val PERIP 10)
rules=$home/control/@RULES@.cdb
if [ ! -f "$rules" ]; then
  echo "@NAME@: $rules is missing: run qmailctl cdb (refusing to start open)"
  sleep 5; exit 111
fi
# TLS (docs/tls.md): without control/servercert.pem qmail-smtpd offers no
# STARTTLS, and an SMTPS service (SMTPS=1) or a QMTPS one (QMTPS=1)
# cannot work at all
for tls in SMTPS QMTPS; do
  case " @SET@ " in *" $tls=1 "*) [ -f "$home/control/servercert.pem" ] ||
    { echo "@NAME@: $home/control/servercert.pem is missing: run qmailctl tlscert ($tls needs a certificate)"
      sleep 5; exit 111; } ;;
  esac
done
if [ "@PROG@" = qmail-smtpd ] && [ ! -f "$home/control/servercert.pem" ]; then
  echo "@NAME@: $home/control/servercert.pem is missing: STARTTLS is not offered (qmailctl tlscert makes one)"
fi
# POP3 (docs/pop3.md): qmail-popup HOSTNAME CHECKPASSWORD qmail-pop3d
# ./Maildir/, with env/CHECKPASSWORD (the install writes it); POP3S
# (POP3S=1) cannot work without a certificate
set --
if [ "@PROG@" = qmail-popup ]; then
  if [ ! -f "$home/control/servercert.pem" ]; then
    case " @SET@ " in *" POP3S=1 "*)
      echo "@NAME@: $home/control/servercert.pem is missing: run qmailctl tlscert (POP3S needs a certificate)"
      sleep 5; exit 111 ;;
    esac
    echo "@NAME@: $home/control/servercert.pem is missing: STLS is not offered (qmailctl tlscert makes one)"
  fi
  me=$(head -n 1 "$home/control/me" 2>/dev/null)
  [ -n "$me" ] || { echo "@NAME@: $home/control/me is missing or empty"; sleep 5; exit 111; }
  set -- "$me" "$(val CHECKPASSWORD "$home/bin/qmail-checkpassword")" "$home/bin/qmail-pop3d" ./Maildir/
fi
# the per-address table: one 64-byte slot per connection (common/q_perip.c)
table=$home/service/@NAME@/perip.table
rm -f "$table" && : > "$table" && chmod 600 "$table" || exit 111
# qmail-smtpd's failed-AUTH count per address (hub/servers/authguard.h): kept
# across restarts; the other servers take no AUTH and get no table
guard=""
if [ "@PROG@" = qmail-smtpd ]; then
  guard=$home/service/@NAME@/authguard.table
  [ -f "$guard" ] || { : > "$guard" && chmod 600 "$guard"; } || exit 111
fi
uid="" gid=""
if [ "$(id -u)" = 0 ]; then
  chown qmaild "$table" ${guard:+"$guard"} || exit 111
  # qmail-popup starts as root for checkpassword, which becomes the user;
  # it reads the client only in a child that is qmaild (docs/pop3.md)
  [ "@PROG@" = qmail-popup ] ||
  { uid=$(id -u qmaild) && gid=$(getent group nofiles | cut -d: -f3) && [ -n "$gid" ]; } ||
  { echo "@NAME@: no user qmaild or group nofiles"; sleep 5; exit 111; }
fi
# The process model (docs/process.md): the server listens itself (SERVE=1)
# and forks one child per connection, which runs the session with
# tcpserver's environment and no exec; env/TCPSERVER holding 1 runs it
# under tcpserver instead (classic mode, the same logs and environment).
# shellcheck disable=SC2086
if [ "$(val TCPSERVER 0)" = 1 ]; then
  exec "$home/bin/qmail-svcrun" ./env @SET@ SERVE= PERIP="$PERIP" PERIPTABLE="$table" ${guard:+"AUTHGUARDTABLE=$guard"} CONCURRENCY="$CONC" \
    tcpserver -v -DHRl0 -b "$BACKLOG" -c "$CONC" -x "$rules" ${uid:+-u "$uid" -g "$gid"} "$IP" "$PORT" "$home/bin/@PROG@" "$@"
fi
exec "$home/bin/qmail-svcrun" ./env @SET@ PERIP="$PERIP" PERIPTABLE="$table" ${guard:+"AUTHGUARDTABLE=$guard"} CONCURRENCY="$CONC" \
  SERVE=1 SERVE_IP="$IP" SERVE_PORT="$PORT" SERVE_BACKLOG="$BACKLOG" SERVE_RULES="$rules" \
  ${uid:+SERVE_UID="$uid" SERVE_GID="$gid"} "$home/bin/@PROG@" "$@"
