#!/bin/bash
# firstcontact.t: a new administrator's first hour (issue 10 items 11, 12).
#  - make install DOMAIN=example.org writes me, locals, rcpthosts,
#    defaultdomain, plusdomain consistently (me local, rcpthosts covering
#    locals), databytes 50 MB, env/PERIP; an upgrade keeps every file and
#    says so when DOMAIN asks for another value; a bad DOMAIN is refused
#  - qmailctl check on that fresh home finds nothing (exit 0); each broken
#    setting gives one line naming the file and line, and exit 1
#  - qmail-send warns at start when me is not local
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built

qmake install QMAILHOME="$HUB" DOMAIN=example.org > "$T/install.log" 2>&1
ok $? "make install DOMAIN=example.org"
C=$HUB/control
fq=$(hostname -f 2>/dev/null || hostname)
case $fq in *.example.org) me=$fq ;; *) me=example.org ;; esac
is "$(cat "$C/me")" "$me" "me is this host's name inside example.org, else example.org"
like "$(paste -sd ' ' "$C/locals")" "^example.org( $me)? localhost$" "locals: the domain, me, localhost"
is "$(cat "$C/rcpthosts")" "$(cat "$C/locals")" "rcpthosts covers every local domain"
is "$(cat "$C/defaultdomain") $(cat "$C/plusdomain")" "example.org example.org" "defaultdomain and plusdomain"
is "$(cat "$C/databytes")" 52428800 "databytes: 50 MB for SMTP, QMTP and QMQP"
is "$(cat "$HUB/service/qmail-smtpd/env/PERIP")" 10 "env/PERIP: 10 connections per address"

echo kept.example.net > "$C/me"
qmake install QMAILHOME="$HUB" DOMAIN=example.org > "$T/install2.log" 2>&1
ok $? "an upgrade with DOMAIN"
is "$(cat "$C/me")" kept.example.net "the upgrade keeps control/me"
like "$(cat "$T/install2.log")" "control/me exists, kept" "and says it kept it"
qmake install QMAILHOME="$T/bad" DOMAIN='exa mple;org' > "$T/install3.log" 2>&1
ok "$([ $? != 0 ]; echo $?)" "a bad DOMAIN is refused"
echo "$me" > "$C/me"

# ---- qmailctl check ---------------------------------------------------------
for s in qmail-smtpd qmail-qmtpd qmail-qmqpd; do
  echo 127.0.0.1 > "$HUB/service/$s/env/IP"; _port > "$HUB/service/$s/env/PORT"
done
out=$("$HUB/bin/qmailctl" check 2>&1); rc=$?
is "$rc" 0 "qmailctl check on a fresh install: exit 0"
like "$out" "no problems found" "and says so"
[ "$rc" = 0 ] || echo "$out" | sed 's/^/# /'

echo 12x > "$C/concurrencyremote"
echo "bad host" > "$C/helohost"
printf 'example.org\nlocalhost\n' > "$C/locals"                  # me no longer local
printf 'virt.example:alice\n' > "$C/virtualdomains"             # not in rcpthosts
printf 'a.example:relay.example:99999\nb.example\n' > "$C/smtproutes"
printf '127.0.0.1\nnot-an-ip\n' > "$C/dnsservers"
printf '=u:u:65534:65534:%s/nohome:::\n.\n' "$T" > "$HUB/users/assign"
"$HUB/bin/qmail-newu"; touch -d '+2 sec' "$HUB/users/assign"   # cdb older than its source
touch -d '+2 sec' "$C/tcp.smtp"
cp "$HUB/service/qmail-qmtpd/env/PORT" "$HUB/service/qmail-qmqpd/env/PORT"
echo 70000 > "$HUB/service/qmail-smtpd/env/PORT"
out=$("$HUB/bin/qmailctl" check 2>&1); rc=$?
is "$rc" 1 "qmailctl check with broken settings: exit 1"
chk() { like "$out" "$1" "check: $2"; }
case $me in example.org) ;; *)
chk "control/locals: does not hold me" "me not in locals" ;; esac
chk "control/concurrencyremote line 1: not a decimal number: '12x'" "a number with garbage"
chk "control/helohost line 1: not a host name" "a bad host name"
chk "control/rcpthosts: does not cover virt.example" "rcpthosts misses a virtual domain"
chk "control/smtproutes line 1: bad port: '99999'" "a route with a bad port"
chk "control/smtproutes line 2: no ':'" "a route without a relay"
chk "control/dnsservers line 2: not an IP address" "a DNS server that is not an address"
chk "users/cdb: older than users/assign" "users/cdb older than users/assign"
chk "control/tcp.smtp.cdb: older than control/tcp.smtp" "tcp.smtp.cdb older than tcp.smtp"
chk "users/assign line 1: home .*/nohome does not exist" "a user's home is missing"
chk "service/qmail-smtpd/env/PORT: bad port: '70000'" "a bad port"
chk "service/qmail-qmtpd/env/PORT: .* is also used by service/qmail-qmqpd" "two services on one port"
like "$(echo "$out" | tail -n 1)" "problem" "a summary line"

# ---- qmail-send warns when me is not local --------------------------------
printf 'example.org\nlocalhost\n' > "$C/locals"; echo hub.other.example > "$C/me"
rm -f "$C/virtualdomains" "$C/smtproutes" "$C/dnsservers" "$C/concurrencyremote" "$C/helohost"
printf '.\n' > "$HUB/users/assign"; "$HUB/bin/qmail-newu"
hub_install_ports() { for s in qmail-smtpd qmail-qmtpd qmail-qmqpd; do _port > "$HUB/service/$s/env/PORT"; done; SMTP=$(cat "$HUB/service/qmail-smtpd/env/PORT"); }
hub_install_ports
"$HUB/bin/qmailctl" cdb > /dev/null
hub_start; ok $? "the hub starts"
wait_until inlog 'warning: me .* not local'
ok $? "qmail-send warns at start that me (hub.other.example) is not local"
hub_stop
done_testing
