#!/bin/bash
# deb.t: the Debian packages (make deb; docs/packages.md) build, install,
# deliver, upgrade over themselves and purge, in throwaway roots made by
# mmdebstrap from the configured apt mirror; nothing is installed on this
# machine itself.
#  1. make deb twice: the tree's version and the same tree with a bumped
#     version (DEB_VERSION); lintian reports no error (E:) on either.
#  2. A hub root (qmail-hub, bsd-mailx, systemd for systemd-analyze) and a
#     leaf root (qmail-leaf, bsd-mailx). The units pass systemd-analyze
#     verify; their systemd-analyze security figures are printed.
#  3. In the hub root (chroot, sharing this machine's loopback: the hub's
#     qmail-qmqpd listens on 127.0.0.1 at a free port, written into its
#     conffile /etc/qmail/env/qmail-qmqpd/PORT) qmail-send and qmail-qmqpd
#     run from the run scripts their units call. sendmail and mail on the
#     hub, sendmail and mail on the leaf (over QMQP) each deliver a message
#     to a user's ~/Maildir. The services run with their units'
#     CapabilityBoundingSet and NoNewPrivileges (setpriv).
#  4. Upgrade: with qmail-send stopped a message waits in the hub's queue,
#     with qmail-qmqpd stopped one waits in the leaf's spool; dpkg -i of the
#     bumped packages; both are delivered after, the edited conffile kept.
#  5. Purge: no path named *qmail* is left in either root (the users stay,
#     as Debian policy has it).
# Needs root (chroot, mounts); without mmdebstrap/debhelper (make
# check-slow installs them) a failure as root, else a skip.
# DEB_KEEP=DIR keeps the packages and roots there; DEB_REUSE=1 with it
# takes the packages of an earlier run from there instead of building.

. "$(dirname "$0")/../lib/common.sh"
skipall() { echo "1..0 # skip $1"; exit 0; }
okr() { local s=$1; ok "$@"; return "$s"; }   # ok, returning the status it was given
isr() { local a=$1 b=$2; is "$@"; [ "$a" = "$b" ]; }   # is, returning whether it passed
[ "$(id -u)" = 0 ] || skipall "needs root (chroot into the throwaway roots)"
for t in mmdebstrap dpkg-buildpackage dh lintian; do
  command -v "$t" > /dev/null || { echo "1..1"; echo "not ok 1 - no $t: make check-slow installs debhelper, lintian, mmdebstrap"; exit 1; }
done
W=${DEB_KEEP:-$T}
mkdir -p "$W"
H=$W/hubroot L=$W/leafroot
V2=99.0
mounts=()
pgids=()
finish() {
  local g m
  for g in "${pgids[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
  sleep 1
  for g in "${pgids[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
  cleanup
}
trap finish EXIT

# ---- 1. the packages ----------------------------------------------------
build() { # DIR [VERSION]
  make -s -C "$SRCDIR" deb DEB_BUILD="$1" DEB_VERSION="${2:-}" > "$1.log" 2>&1
}
if [ -n "${DEB_REUSE:-}" ]; then
  echo "# DEB_REUSE: the packages of an earlier run in $W/v1 and $W/v2, not built again"
else
  build "$W/v1"; ok $? "make deb builds qmail-hub and qmail-leaf"
  build "$W/v2" "$V2"; ok $? "make deb DEB_VERSION=$V2 builds the bumped packages"
fi
rm -rf "$H" "$L"
sed 's/^/# /' "$W/v1/lintian.txt" 2>/dev/null
errs=$(grep -h '^E:' "$W/v1/lintian.txt" "$W/v2/lintian.txt" 2>/dev/null)
is "$errs" "" "lintian: no errors"
hubdeb=$(ls "$W"/v1/qmail-hub_*.deb 2>/dev/null) leafdeb=$(ls "$W"/v1/qmail-leaf_*.deb 2>/dev/null)
hub2=$(ls "$W"/v2/qmail-hub_*.deb 2>/dev/null) leaf2=$(ls "$W"/v2/qmail-leaf_*.deb 2>/dev/null)
[ -f "$hubdeb" ] && [ -f "$leafdeb" ] && [ -f "$hub2" ] && [ -f "$leaf2" ] ||
  { ok 1 "the four .deb files exist"; done_testing; exit 1; }

# ---- 2. the roots ---------------------------------------------------------
# mmdebstrap installs our package with apt (its dependencies from the
# mirror); the .deb files are copied in at the same path, where apt's
# chrooted dpkg finds them
mkroot() { # DIR MAILNAME DEB [PACKAGES...]
  local d=$1 name=$2 deb=$3 aliases; shift 3
  # Debian's usual /etc/aliases, there before the package (its postinst
  # runs newaliases): root's mail goes to a user
  aliases='printf "# See man 5 aliases\\npostmaster: root\\nroot: tester\\n" > "$1/etc/aliases"'

  local inc=() p
  for p in "$@"; do inc+=("--include=$p"); done
  mmdebstrap --variant=apt --setup-hook="mkdir -p \"\$1$W\" && cp -r $W/v1 \"\$1$W/\"" \
    --essential-hook="echo $name > \"\$1/etc/mailname\"; $aliases" \
    --include="$deb" "${inc[@]}" bookworm "$d" > "$d.log" 2>&1 || return 1
  mount -t proc proc "$d/proc" && mounts+=("$d/proc")
}
mkroot "$H" hub.example.test "$hubdeb" bsd-mailx systemd daemontools
okr $? "a root with qmail-hub, bsd-mailx and daemontools installed by apt (mmdebstrap)" || tail -20 "$H.log" | sed 's/^/# /'
mkroot "$L" leaf.example.test "$leafdeb" bsd-mailx
okr $? "a root with qmail-leaf and bsd-mailx installed by apt (mmdebstrap)" || tail -20 "$L.log" | sed 's/^/# /'
in_h() { chroot "$H" "$@"; }
in_l() { chroot "$L" "$@"; }

is "$(cat "$H/etc/qmail/me" 2>/dev/null)" hub.example.test "hub: control/me from /etc/mailname"
is "$(cat "$L/etc/qmail/me" 2>/dev/null)" leaf.example.test "leaf: control/me from /etc/mailname"
is "$(in_h stat -c '%U:%G %a' /usr/lib/qmail/bin/qmail-queue)" "qmailq:qmail 4711" "hub: qmail-queue setuid qmailq (dpkg-statoverride)"
n=0; for u in alias qmaild qmaill qmailp qmailq qmailr qmails; do in_h getent passwd "$u" > /dev/null && n=$((n + 1)); done
is "$n" 7 "hub: qmail's seven users made by adduser"
is "$(stat -c %a "$L/var/spool/qmail")" 1777 "leaf: /var/spool/qmail open to all and sticky"
for f in qmqpservers; do
  in_l dpkg-query -W -f='${Conffiles}\n' qmail-leaf | grep -q "/etc/qmail/$f "; ok $? "leaf: /etc/qmail/$f is a conffile"
done
for f in tcp.smtp tcp.qmqp databytes env/qmail-smtpd/PORT; do
  in_h dpkg-query -W -f='${Conffiles}\n' qmail-hub | grep -q "/etc/qmail/$f "; ok $? "hub: /etc/qmail/$f is a conffile"
done
for u in qmail-send qmail-smtpd qmail-qmtpd qmail-qmqpd; do
  [ -L "$H/etc/systemd/system/multi-user.target.wants/$u.service" ]; ok $? "hub: $u.service enabled"
done
[ -L "$L/etc/systemd/system/timers.target.wants/qmail-spool-flush.timer" ]; ok $? "leaf: qmail-spool-flush.timer enabled"
[ -L "$H/etc/systemd/system/timers.target.wants/qmail-metrics.timer" ]; ok $? "hub: qmail-metrics.timer enabled"
[ -f "$H/etc/aliases.cdb" ]; ok $? "hub: the postinst compiled /etc/aliases into /etc/aliases.cdb"
if command -v systemd-analyze > /dev/null; then
  for u in qmail-send.service qmail-smtpd.service qmail-qmtpd.service qmail-qmqpd.service qmail@qmail-pop3d.service qmail-metrics.service; do
    out=$(systemd-analyze verify --man=no --root="$H" "$u" 2>&1)
    is "$out" "" "systemd-analyze verify $u"
    echo "# systemd-analyze security $u: $(systemd-analyze security --offline=yes --root="$H" "$u" 2>&1 | grep -o 'exposure level.*')"
  done
  out=$(systemd-analyze verify --man=no --root="$L" qmail-spool-flush.timer 2>&1 | grep -v 'sysinit.target\|timers.target')
  is "$out" "" "systemd-analyze verify qmail-spool-flush.timer"
  out=$(systemd-analyze verify --man=no --root="$H" qmail-metrics.timer 2>&1 | grep -v 'sysinit.target\|timers.target')
  is "$out" "" "systemd-analyze verify qmail-metrics.timer"
else
  echo "# no systemd-analyze on this machine: the units are not verified"
fi

# ---- 3. delivery ----------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo 127.0.0.1 > "$H/etc/qmail/env/qmail-qmqpd/IP"
echo "$port" > "$H/etc/qmail/env/qmail-qmqpd/PORT"
echo "127.0.0.1:$port" >> "$L/etc/qmail/qmqpservers"
in_h adduser --quiet --disabled-password --gecos '' tester > /dev/null 2>&1
in_h runuser -u tester -- /usr/lib/qmail/bin/maildirmake /home/tester/Maildir
ok $? "hub: a user tester with ~/Maildir"
# a new user: the recipient table again, as an administrator does (docs/rcptcheck.md)
in_h /var/lib/qmail/bin/qmailctl cdb > "$W/cdb.out" 2>&1; okr $? "hub: qmailctl cdb" || sed 's/^/# /' "$W/cdb.out"
# svc_start NAME: what NAME.service's ExecStart runs, in its own process
# group, with the unit's capability bounding set and NoNewPrivileges
# (setpriv; the rest of the unit's sandbox needs systemd)
svc_start() {
  local u=$H/lib/systemd/system/$1.service caps nnp=""
  caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$u" | tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
  grep -qx 'NoNewPrivileges=yes' "$u" && nnp=--no-new-privs
  [ -n "$caps" ] || caps=-all
  # the unit's ExecStart (svclog: the run script with its log/run, as systemd starts it)
  # shellcheck disable=SC2046
  setsid chroot "$H" setpriv $nnp --bounding-set "-all,$caps" $(sed -n 's/^ExecStart=//p' "$u") >> "$W/$1.out" 2>&1 < /dev/null &
  pgids+=("$!"); eval "pg_${1//-/_}=$!"
}
svc_stop() { # NAME
  local v=pg_${1//-/_} i; local g=${!v}
  kill -TERM -- "-$g" 2>/dev/null
  for i in $(seq 100); do kill -0 -- "-$g" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$g" 2>/dev/null; return 0
}
# mails N: wait (bounded) until tester's Maildir/new holds N messages
mails() {
  local i
  for i in $(seq 600); do
    [ "$(ls "$H/home/tester/Maildir/new" | wc -l)" -ge "$1" ] && break; sleep 0.1
  done
  ls "$H/home/tester/Maildir/new" | wc -l
}
listening() { local i; for i in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
svc_start qmail-send
svc_start qmail-qmqpd
listening; okr $? "hub: qmail-qmqpd listens on 127.0.0.1:$port" || sed 's/^/# /' "$W/qmail-qmqpd.out"
msg() { printf 'To: tester@hub.example.test\nSubject: %s\n\n%s body\n' "$1" "$1"; }
msg one | in_h /usr/sbin/sendmail -t
isr "$(mails 1)" 1 "hub: sendmail delivers to ~tester/Maildir" || sed 's/^/# /' "$W/qmail-send.out"
echo "two body" | in_h mail -s two tester
is "$(mails 2)" 2 "hub: mail (bsd-mailx) delivers to ~tester/Maildir"
msg three | in_l /usr/sbin/sendmail -t
is "$(mails 3)" 3 "leaf: sendmail delivers over QMQP to the hub"
echo "four body" | in_l mail -s four tester@hub.example.test
is "$(mails 4)" 4 "leaf: mail (bsd-mailx) delivers over QMQP to the hub"
grep -q "Subject: three" "$H"/home/tester/Maildir/new/*; ok $? "the leaf's message is the one delivered"

# /etc/aliases (root: tester) and ~/.forward, as Debian users have them
echo "five body" | in_h mail -s five root
is "$(mails 5)" 5 "hub: mail to root reaches tester through /etc/aliases"
in_h adduser --quiet --disabled-password --gecos '' fwd > /dev/null 2>&1
in_h runuser -u fwd -- sh -c 'echo tester > /home/fwd/.forward'
in_h /var/lib/qmail/bin/qmailctl cdb > /dev/null 2>&1
echo "six body" | in_h mail -s six fwd
is "$(mails 6)" 6 "hub: mail to fwd reaches tester through ~fwd/.forward"

# the services' logs are multilog directories under systemd's ExecStart
# too (svclog); qmail-metrics (the timer's service) counts from them
grep -q 'status: local [0-9]*/[0-9]* remote' "$H"/var/log/qmail/qmail-send/current; ok $? "hub: qmail-send's log in /var/log/qmail/qmail-send has qmail's status lines"
# 8 local deliveries: one, two, three, four; root (the alias, which
# forwards) and tester; fwd (the .forward) and tester
for i in $(seq 100); do
  [ "$(grep -c 'delivery [0-9]*: success' "$H/var/log/qmail/qmail-send/current")" -ge 8 ] && break; sleep 0.1
done
cmd=$(sed -n 's/^ExecStart=//p' "$H/lib/systemd/system/qmail-metrics.service")
# shellcheck disable=SC2086
in_h $cmd > "$W/metrics.out" 2>&1; okr $? "hub: qmail-metrics.service's command runs" || sed 's/^/# /' "$W/metrics.out"
prom=$H/var/lib/qmail/metrics/qmail.prom
sed -n '/^qmail_delivered_total\|^qmail_queue_messages /s/^/# /p' "$prom"
is "$(sed -n 's/^qmail_delivered_total{channel="local"} //p' "$prom")" 8 "hub: qmail_delivered_total{channel=\"local\"} counts the 8 local deliveries"

# ---- 4. upgrade over itself with mail waiting -----------------------------
svc_stop qmail-send
svc_stop qmail-qmqpd
msg seven | in_h /usr/sbin/sendmail -t
msg eight | in_l /usr/sbin/sendmail -t 2> "$W/leaf-eight.err"
n=$(find "$H/var/lib/qmail/queue/mess" -type f | wc -l)
is "$n" 1 "hub: with qmail-send stopped one message waits in the queue"
n=$(find "$L/var/spool/qmail" -type f | wc -l)
ok $([ "$n" -ge 1 ]; echo $?) "leaf: with the hub's qmqpd stopped the message waits in the spool ($n files)"
cp "$hub2" "$H/root/" && cp "$leaf2" "$L/root/"
in_h dpkg -i "/root/${hub2##*/}" < /dev/null > "$W/up-hub.log" 2>&1; okr $? "hub: dpkg -i the bumped package" || tail -20 "$W/up-hub.log" | sed 's/^/# /'
in_l dpkg -i "/root/${leaf2##*/}" < /dev/null > "$W/up-leaf.log" 2>&1; okr $? "leaf: dpkg -i the bumped package" || tail -20 "$W/up-leaf.log" | sed 's/^/# /'
rm -f "$H/root/${hub2##*/}" "$L/root/${leaf2##*/}"
is "$(in_h dpkg-query -W -f='${Version}' qmail-hub) $(in_l dpkg-query -W -f='${Version}' qmail-leaf)" "$V2 $V2" "both upgraded to $V2"
is "$(cat "$H/etc/qmail/env/qmail-qmqpd/PORT")" "$port" "hub: the edited conffile env/qmail-qmqpd/PORT is kept"
is "$(find "$H/var/lib/qmail/queue/mess" -type f | wc -l)" 1 "hub: the queued message is still in the queue"
svc_start qmail-send
svc_start qmail-qmqpd
listening
is "$(mails 7)" 7 "hub: the message queued before the upgrade is delivered after it"
in_l /usr/lib/qmail/bin/qmail-qmqpc -flush > "$W/flush.out" 2>&1
isr "$(mails 8)" 8 "leaf: the spooled message is sent after the upgrade (qmail-qmqpc -flush)" || sed 's/^/# /' "$W/flush.out"
svc_stop qmail-send
svc_stop qmail-qmqpd

# ---- 5. purge -------------------------------------------------------------
in_h dpkg --purge bsd-mailx qmail-hub > "$W/purge-hub.log" 2>&1; okr $? "hub: dpkg --purge" || tail -20 "$W/purge-hub.log" | sed 's/^/# /'
in_l dpkg --purge bsd-mailx qmail-leaf > "$W/purge-leaf.log" 2>&1; okr $? "leaf: dpkg --purge" || tail -20 "$W/purge-leaf.log" | sed 's/^/# /'
left() { find "$1" -path "$1/proc" -prune -o -path "$1$W" -prune -o -name '*qmail*' -print | sed "s|^$1||"; }
is "$(left "$H")" "" "hub: no path named *qmail* left after purge"
is "$(left "$L")" "" "leaf: no path named *qmail* left after purge"
in_h getent passwd qmailq > /dev/null; ok $? "hub: the users stay after purge (Debian policy)"
for r in "$H" "$L"; do
  n=0; for f in usr/sbin/sendmail usr/lib/sendmail usr/bin/mailq usr/bin/newaliases; do [ -e "$r/$f" ] || [ -L "$r/$f" ] && n=$((n + 1)); done
  is "$n" 0 "${r##*/}: no sendmail, mailq, newaliases left after purge"
done

done_testing
