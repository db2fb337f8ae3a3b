#!/bin/sh
# install-leaf.sh: make (or upgrade) a leaf home at DIR. Called by
# `make install-leaf QMAILHOME=DIR`; needs no root.
#   install-leaf.sh DIR BUILD "CC LDFLAGS" "LDLIBS" "PROGS" "SCRIPTS" [SENDMAIL_LINKS]
# Programs are linked again with an auto_home object naming DIR, so the
# home works with no environment variable. Existing control files are
# never overwritten; missing me/defaultdomain/plusdomain/idhost are made
# from this host's name. bin/qmail-queue is a symlink to qmail-qmqpc.
set -eu
dir=$1 build=$2 cc=$3 libs=$4 progs=$5 scripts=$6 links=${7:-}
case $dir in /*) ;; *) echo "install-leaf: QMAILHOME must be an absolute path" >&2; exit 100 ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

mkdir -p "$dir/bin" "$dir/control" "$dir/man/man1" "$dir/man/man5" "$dir/man/man8"
esc=$(printf '%s' "$dir" | sed 's/[\\"]/\\&/g')
printf 'const char auto_home[] = "%s";\n' "$esc" > "$tmp/auto_home.c"
$cc -c -o "$tmp/auto_home.o" "$tmp/auto_home.c"

for p in $progs; do
  # shellcheck disable=SC2086
  $cc -o "$dir/bin/.$p.new" "$build/leaf/$p.o" "$tmp/auto_home.o" \
      "$build/libleaf.a" "$build/libcommon.a" $libs
  chmod 755 "$dir/bin/.$p.new"
  mv -f "$dir/bin/.$p.new" "$dir/bin/$p"
done
for s in $scripts; do
  sed "s|@QMAILHOME@|$dir|g" "$src/leaf/$s.sh" > "$dir/bin/.$s.new"
  chmod 755 "$dir/bin/.$s.new"
  mv -f "$dir/bin/.$s.new" "$dir/bin/$s"
done
ln -sfn qmail-qmqpc "$dir/bin/qmail-queue"
ln -sfn sendmail "$dir/bin/mailq"
ln -sfn sendmail "$dir/bin/newaliases"

for m in "$src"/leaf/*.[158]; do
  [ -f "$m" ] || continue
  sec=${m##*.}
  cp "$m" "$dir/man/man$sec/"
done

# control files this host needs; never overwrite the administrator's
me=$(hostname -f 2>/dev/null || hostname)
case $me in *.*) dom=${me#*.} ;; *) dom=$me ;; esac
[ -e "$dir/control/me" ] || printf '%s\n' "$me" > "$dir/control/me"
[ -e "$dir/control/defaultdomain" ] || printf '%s\n' "$dom" > "$dir/control/defaultdomain"
[ -e "$dir/control/plusdomain" ] || printf '%s\n' "$dom" > "$dir/control/plusdomain"
[ -e "$dir/control/idhost" ] || printf '%s\n' "$me" > "$dir/control/idhost"
[ -e "$dir/control/qmqpservers" ] || cat > "$dir/control/qmqpservers" <<'EOT'
# qmqpservers: the hubs this leaf sends through, tried in order.
# One per line: [qmtp:|qmqp:]HOST[:PORT]; HOST is 1.2.3.4, [2001:db8::1] or a name.
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
