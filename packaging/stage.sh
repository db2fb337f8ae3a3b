#!/bin/sh
# stage.sh: lay out the Debian package qmail-hub or qmail-leaf under DEST
# (debian/rules calls it through `make deb-stage`; docs/packages.md has the
# layout). Nothing outside DEST is touched, no user is made, nothing is
# chowned: the maintainer scripts do that on the target machine.
#   stage.sh hub|leaf DEST BUILD "CC LDFLAGS" "LDLIBS" "LEAFPROGS" "LEAFSCRIPTS" "HUBPROGS"
# The programs are linked again with auto_home /var/lib/qmail (as `make
# install` does for its DIR) and go to /usr/lib/qmail/bin; the home
# /var/lib/qmail reaches them and its control files through symlinks:
#   /var/lib/qmail/bin     -> /usr/lib/qmail/bin
#   /var/lib/qmail/control -> /etc/qmail          (conffiles)
#   /var/lib/qmail/log     -> /var/log/qmail      (hub)
#   /var/lib/qmail/spool   -> /var/spool/qmail    (leaf)
set -eu
pkg=$1 dest=$2 build=$3 cc=$4 libs=$5 leafprogs=$6 leafscripts=$7 hubprogs=$8
home=/var/lib/qmail lib=/usr/lib/qmail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/leaf/install-lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
case $dest in /*) ;; *) echo "stage.sh: DEST must be an absolute path" >&2; exit 100 ;; esac

# script NAME FROM: a shell script with the home put in, into lib/bin
script() {
  sed "s|@QMAILHOME@|$home|g" "$2/$1.sh" > "$dest$lib/bin/$1"
  chmod 755 "$dest$lib/bin/$1"
}
# man DIR: its X.[158] pages into /usr/share/man (dh_compress gzips them)
man() {
  for m in "$1"/*.[158]; do
    [ -f "$m" ] || continue
    mkdir -p "$dest/usr/share/man/man${m##*.}"
    cp "$m" "$dest/usr/share/man/man${m##*.}/"
  done
}
# conf NAME TEXT: a control file shipped as a conffile in /etc/qmail
conf() { printf '%s' "$2" > "$dest/etc/qmail/$1"; chmod 644 "$dest/etc/qmail/$1"; }

mkdir -p "$dest$lib/bin" "$dest$home" "$dest/etc/qmail" "$dest/usr/sbin" \
         "$dest/usr/bin" "$dest/usr/lib" "$dest/lib/systemd/system"
ln -sfn "$lib/bin" "$dest$home/bin"
ln -sfn /etc/qmail "$dest$home/control"
home_object "$home" "$cc" "$tmp"
# the library of the install scripts: the maintainer scripts use its
# default_controls (me, locals ... from /etc/mailname, never overwriting)
cp "$src/leaf/install-lib.sh" "$dest$lib/install-lib.sh"
ln -sfn "$lib/bin/sendmail" "$dest/usr/sbin/sendmail"
ln -sfn ../sbin/sendmail "$dest/usr/lib/sendmail"
ln -sfn ../lib/qmail/bin/sendmail "$dest/usr/bin/mailq"
ln -sfn ../lib/qmail/bin/sendmail "$dest/usr/bin/newaliases"
ln -sfn sendmail "$dest$lib/bin/mailq"
ln -sfn sendmail "$dest$lib/bin/newaliases"
man "$src/leaf"
man "$src/docs/man"
# mailq and newaliases are sendmail: their pages are sendmail(8)
for l in mailq newaliases; do echo ".so man8/sendmail.8" > "$dest/usr/share/man/man8/$l.8"; done

if [ "$pkg" = leaf ]; then
  # shellcheck disable=SC2086
  link_progs "$dest$lib" "$build" leaf "$cc" "$libs" "$tmp" $leafprogs
  for s in $leafscripts; do script "$s" "$src/leaf"; done
  ln -sfn qmail-qmqpc "$dest$lib/bin/qmail-queue"
  ln -sfn /var/spool/qmail "$dest$home/spool"
  mkdir -p "$dest/var/spool/qmail"; chmod 1777 "$dest/var/spool/qmail"
  conf qmqpservers '# qmqpservers: the hubs this leaf sends through, tried in order.
# One per line: [qmtp:|qmqp:|qmtps:]HOST[:PORT]; HOST is 1.2.3.4, [2001:db8::1] or a name.
# Until a hub is named here, mail waits in /var/spool/qmail (docs/spool.md).
# Examples:
#   192.0.2.25
#   qmtp:hub.example.org
#   [2001:db8::25]:628
'
  for u in qmail-spool-flush.service qmail-spool-flush.timer; do
    sed "s|@QMAILHOME@|$home|g" "$src/leaf/$u" > "$dest/lib/systemd/system/$u"
  done
  exit 0
fi

# ---- hub ----------------------------------------------------------------
hubleaf="" plain="" crypt=""
for p in $leafprogs; do [ "$p" = qmail-qmqpc ] || hubleaf="$hubleaf $p"; done
for p in $hubprogs; do
  case " ${CRYPT_PROGS:-} " in *" $p "*) crypt="$crypt $p" ;; *) plain="$plain $p" ;; esac
done
# shellcheck disable=SC2086
link_progs "$dest$lib" "$build" leaf "$cc" "$libs" "$tmp" $hubleaf
# shellcheck disable=SC2086
link_progs "$dest$lib" "$build" hub "$cc" "$libs" "$tmp" $plain
# shellcheck disable=SC2086
link_progs "$dest$lib" "$build" hub "$cc" "$libs -lcrypt" "$tmp" $crypt
for s in $leafscripts; do script "$s" "$src/leaf"; done
for s in qmailctl qmail-checkctl qmail-trace; do script "$s" "$src/hub/admin"; done
# programs only root runs (hub/install-hub.sh): 0700; qmail-queue's
# setuid qmailq is a dpkg-statoverride made by the postinst
for p in qmail-start qmail-lspawn qmail-newu qmail-passwd; do chmod 700 "$dest$lib/bin/$p"; done
cp "$src/hub/queue/mkqueue.sh" "$dest$lib/mkqueue.sh"
for d in "$src"/hub/*/; do man "${d%/}"; done
ln -sfn /var/log/qmail "$dest$home/log"

# control files with the same contents as make install writes; the
# host's names (me, locals, rcpthosts ...) are the postinst's
conf databytes '52428800
'
conf defaultdelivery './Maildir/
'
conf rcptcheck '1
'
conf tcp.smtp '127.:allow,RELAYCLIENT=""
:allow
'
conf tcp.qmtp '127.:allow,RELAYCLIENT=""
:allow
'
conf tcp.qmqp '# QMQP relays anything: allow only hosts you trust (your leaves)
127.:allow
:deny
'
conf tcp.pop3 '# POP3 and POP3S: anyone may try to log in (docs/pop3.md)
:allow
'

# services: run and log/run as make install writes them; env/ is a
# symlink to /etc/qmail/env/NAME, whose files are conffiles
sub() { # NAME PROG PORT RULES SET < template
  sed -e "s|@QMAILHOME@|$home|g" -e "s|@NAME@|$1|g" -e "s|@PROG@|$2|g" \
      -e "s|@PORT@|$3|g" -e "s|@RULES@|$4|g" -e "s|@SET@|$5|g"
}
logrun() {
  mkdir -p "$dest$home/service/$1/log"
  sub "$1" - - - - < "$src/hub/service/log-run.sh" > "$dest$home/service/$1/log/run"
  chmod 755 "$dest$home/service/$1/log/run"
}
grep -v '^#' "$src/packaging/services" | while read -r name prog port rules state set; do
  [ -n "$name" ] || continue
  s=$dest$home/service/$name e=$dest/etc/qmail/env/$name
  mkdir -p "$s" "$e"
  sub "$name" "$prog" "$port" "$rules" "${set:-}" < "$src/hub/service/run.sh" > "$s/run"
  chmod 755 "$s/run"
  logrun "$name"
  ln -sfn "/etc/qmail/env/$name" "$s/env"
  echo 0.0.0.0 > "$e/IP"; echo "$port" > "$e/PORT"
  echo 40 > "$e/CONCURRENCY"; echo 10 > "$e/PERIP"
  case $name in qmail-submission|qmail-smtps|qmail-pop3d|qmail-pop3s)
    echo "$lib/bin/qmail-checkpassword" > "$e/CHECKPASSWORD" ;;
  esac
  if [ "$state" = on ]; then
    sub "$name" "$prog" "$port" "$rules" - < "$src/packaging/systemd/server.service.in" \
      > "$dest/lib/systemd/system/$name.service"
  fi
done
mkdir -p "$dest$home/service/qmail-send"
sed "s|@QMAILHOME@|$home|g" "$src/hub/service/send-run.sh" > "$dest$home/service/qmail-send/run"
chmod 755 "$dest$home/service/qmail-send/run"
logrun qmail-send
cp "$src/packaging/systemd/qmail-send.service" "$src/packaging/systemd/qmail@.service" \
   "$src/packaging/systemd/qmail-metrics.service" "$src/packaging/systemd/qmail-metrics.timer" \
   "$dest/lib/systemd/system/"
# the metrics file the timer writes (docs/metrics.md)
mkdir -p "$dest$home/metrics"
# the units start each service through svclog, so its log is
# /var/log/qmail/NAME under systemd too
cp "$src/packaging/svclog.sh" "$dest$lib/svclog"; chmod 755 "$dest$lib/svclog"
