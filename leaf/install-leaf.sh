#!/bin/sh
# install-leaf.sh: make (or upgrade) a leaf home at DIR. Called by
# `make install-leaf QMAILHOME=DIR`; needs no root.
#   install-leaf.sh DIR BUILD "CC LDFLAGS" "LDLIBS" "PROGS" "SCRIPTS" [SENDMAIL_LINKS]
# Programs are linked again with an auto_home object naming DIR, so the
# home works with no environment variable. Existing control files are
# never overwritten; missing me/defaultdomain/plusdomain/idhost are made
# from this host's name. bin/qmail-queue is a symlink to qmail-qmqpc.
# spool/ (mode 1777) is made when missing; etc/ gets the flush timer and
# cron line (docs/spool.md), to be copied into place by whoever wants them.
set -eu
dir=$1 build=$2 cc=$3 libs=$4 progs=$5 scripts=$6 links=${7:-}
case $dir in /*) ;; *) echo "install-leaf: QMAILHOME must be an absolute path" >&2; exit 100 ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/leaf/install-lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

mkdir -p "$dir/bin" "$dir/control" "$dir/man"
home_object "$dir" "$cc" "$tmp"
# shellcheck disable=SC2086
link_progs "$dir" "$build" leaf "$cc" "$libs" "$tmp" $progs
# shellcheck disable=SC2086
install_scripts "$dir" "$src/leaf" $scripts
ln -sfn qmail-qmqpc "$dir/bin/qmail-queue"
# the spool (docs/spool.md): open to all and sticky, as /tmp; each user's
# messages go into a directory of its own (mode 0700) made at first use.
# An existing spool is left as it is.
[ -d "$dir/spool" ] || { mkdir "$dir/spool" && chmod 1777 "$dir/spool"; }
# offered, never enabled here: a systemd timer and a cron line that flush it
mkdir -p "$dir/etc"
install_etc "$dir" "$src/leaf" qmail-spool-flush.service qmail-spool-flush.timer qmail-spool.cron
ln -sfn sendmail "$dir/bin/mailq"
ln -sfn sendmail "$dir/bin/newaliases"
install_man "$dir" "$src/leaf"
install_man "$dir" "$src/docs/man"  # section 5: files and formats
default_controls "$dir"
[ -e "$dir/control/qmqpservers" ] || cat > "$dir/control/qmqpservers" <<'EOT'
# qmqpservers: the hubs this leaf sends through, tried in order.
# One per line: [qmtp:|qmqp:|qmtps:]HOST[:PORT]; HOST is 1.2.3.4, [2001:db8::1] or a name.
# Examples:
#   192.0.2.25
#   qmtp:hub.example.org
#   [2001:db8::25]:628
EOT
cp "$src/control/README.md" "$dir/control/README.md" 2>/dev/null || true

if [ -n "$links" ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-leaf: SENDMAIL_LINKS needs root" >&2; exit 100; fi
  ln -sfn "$dir/bin/sendmail" /usr/sbin/sendmail
  ln -sfn "$dir/bin/sendmail" /usr/lib/sendmail
fi
echo "leaf home installed in $dir"
