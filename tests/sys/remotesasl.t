#!/bin/bash
# remotesasl.t: our qmail-remote's AUTH on an smtproutes `auth` route
# (docs/remote-tls.md) against a real server: a private Postfix instance as
# a submission service with TLS required and Cyrus SASL. The instance lives
# under $T/pf: its own config_directory, queue_directory and data_directory,
# chroot off, its log in $T/pf/maillog; two smtpd listeners on random
# loopback ports, both with smtpd_sasl_auth_enable and
# smtpd_relay_restrictions = permit_sasl_authenticated, reject:
#   pf-sub    smtpd_tls_security_level = encrypt
#   pf-plain  no TLS at all (AUTH offered in plain text)
# Cyrus SASL reads $T/pf/etc/sasl/smtpd.conf (cyrus_sasl_config_path; Debian's
# Postfix looks in config_directory/sasl whatever it says, so both): auxprop,
# sasldb in $T/pf (made with saslpasswd2, readable by postfix), PLAIN and
# LOGIN. Mail for someone@example.net that Postfix accepts goes to a
# Maildir under $T/pf/vmail (its virtual delivery agent).
# Our side: an installed hub (tests/lib/hub.sh) with smtproutes
# example.net:127.0.0.1:PORT:auth, tlsdestinations example.net:encrypt and
# control/remoteauth (0600, owner qmailr). Checked:
#  - the right password: delivered into Postfix's Maildir; Postfix logs our
#    TLS connection and sasl_method=PLAIN, sasl_username=...; qmail-send's
#    log says over TLS
#  - a wrong password: Postfix refuses (535), our message is deferred with
#    the scrubbed reply, no password nor its base64 in any log; nothing
#    arrives
#  - the auth route to the listener without TLS: no AUTH sent (Postfix's
#    disconnect line counts no auth), deferred, nothing arrives
# Root only (Postfix's master starts as root); skipped with the reason as a
# normal user; as root a missing Postfix, saslpasswd2 (sasl2-bin) or the
# Cyrus PLAIN module (libsasl2-modules) is a failure (make deps installs
# them). The system's Postfix is never used: every postfix command gets -c
# with our directory, and the instance is stopped with postfix -c DIR stop
# (its master's pid killed if that fails). Every wait is bounded.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
unlike() { _n=$((_n + 1)); if printf '%s' "$1" | grep -qE -- "$2"; then echo "not ok $_n - $3"; _fail=$((_fail + 1)); else echo "ok $_n - $3"; fi; }
[ "$(id -u)" = 0 ] || { echo "1..0 # skip Postfix's master must start as root (run as root, as CI does)"; exit 0; }
need() { echo "1..1"; echo "not ok 1 - $1: make deps installs it"; exit 1; }
command -v postfix > /dev/null && command -v postconf > /dev/null || need "no Postfix"
command -v saslpasswd2 > /dev/null || need "no saslpasswd2 (sasl2-bin)"
ls /usr/lib/*/sasl2/libplain.so* > /dev/null 2>&1 || need "no Cyrus SASL PLAIN module (libsasl2-modules)"
ls /usr/lib/*/sasl2/libsasldb.so* > /dev/null 2>&1 || need "no Cyrus SASL sasldb module (libsasl2-modules-db)"
getent passwd postfix > /dev/null && getent group postdrop > /dev/null ||
  { echo "1..0 # skip no postfix user or postdrop group (the Postfix package makes them)"; exit 0; }
command -v openssl > /dev/null || need "no openssl"

hub_install; ok $? "make install makes a hub home"
hub_newu
chmod 711 "$T"      # Postfix's daemons (user postfix) reach $T/pf

# ---- the private Postfix ------------------------------------------------------
PF=$T/pf PFC=$T/pf/etc
mkdir -p "$PFC/sasl" "$PF/queue" "$PF/data" "$PF/vmail"
chmod 755 "$PF" "$PFC" "$PFC/sasl"
chown postfix "$PF/data"
chown 65534:65534 "$PF/vmail"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=pf.remotesasl.test -keyout "$PFC/key.pem" -out "$PFC/cert.pem" > "$T/openssl.log" 2>&1
cat "$PFC/key.pem" "$PFC/cert.pem" > "$PFC/chain.pem"; chmod 600 "$PFC/chain.pem"
PORT=$(free_port) PORT2=$(free_port)
while [ "$PORT2" = "$PORT" ]; do PORT2=$(free_port); done
SUSER=alice@sasl.test PW=Rs-$RANDOM$RANDOM-secret
printf '%s' "$PW" | saslpasswd2 -p -c -f "$PF/sasldb2" -u sasl.test alice > "$T/saslpasswd.log" 2>&1
ok $? "saslpasswd2 made the sasldb with $SUSER"
chown root:postfix "$PF/sasldb2"; chmod 640 "$PF/sasldb2"
cat > "$PFC/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $PF/sasldb2
mech_list: PLAIN LOGIN
EOF
grep -v '^smtp[[:space:]]*inet' "$(postconf -h meta_directory)/master.cf.proto" > "$PFC/master.cf"
cat >> "$PFC/master.cf" <<EOF
127.0.0.1:$PORT inet n - n - - smtpd
  -o syslog_name=pf-sub
127.0.0.1:$PORT2 inet n - n - - smtpd
  -o syslog_name=pf-plain
  -o smtpd_tls_security_level=none
EOF
cat > "$PFC/main.cf" <<EOF
# remotesasl.t: a private submission service, TLS and SASL required
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = pf.remotesasl.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks =
alias_maps =
alias_database =
biff = no
smtpd_tls_security_level = encrypt
smtpd_tls_chain_files = $PFC/chain.pem
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $PFC/sasl
smtpd_sasl_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject
virtual_mailbox_domains = example.net
virtual_mailbox_base = $PF/vmail
virtual_mailbox_maps = inline:{ someone@example.net=someone/ }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
EOF
postconf -c "$PFC" -F '*/*/chroot = n' > "$T/pf.log" 2>&1
pf_pid() { tr -d ' ' < "$PF/queue/pid/master.pid" 2>/dev/null; }
pf_stop() {
  local p i
  p=$(pf_pid)
  [ -n "$p" ] || return 0
  postfix -c "$PFC" stop > /dev/null 2>&1
  for i in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$p" 2>/dev/null
}
# at exit: stop Postfix; after a failure show the end of its log too
trap 'pf_stop; [ "$_fail" = 0 ] || tail -n 30 "$PF/maillog" 2>/dev/null | sed "s/^/# pf: /"; _hub_exit' EXIT
postfix -c "$PFC" check >> "$T/pf.log" 2>&1 && postfix -c "$PFC" start >> "$T/pf.log" 2>&1
r=$?; [ $r = 0 ] || sed 's/^/# /' "$T/pf.log"
ok $r "a private Postfix started (postfix -c \$T/pf/etc start)"
listens() { python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.5).close()" 2>/dev/null; }
wait_until listens "$PORT"; ok $? "its submission smtpd (TLS required) listens on 127.0.0.1:$PORT"
wait_until listens "$PORT2"; ok $? "its smtpd without TLS listens on 127.0.0.1:$PORT2"
pflog() { cat "$PF/maillog" 2>/dev/null; }
alllogs() { cat "$HUB"/log/*/@* "$HUB"/log/*/current "$PF/maillog" 2>/dev/null; }
VMD=$PF/vmail/someone/new

# ---- our hub: the auth route ----------------------------------------------------
printf 'example.net:127.0.0.1:%s:auth\nplain.example.net:127.0.0.1:%s:auth\n' "$PORT" "$PORT2" > "$HUB/control/smtproutes"
printf 'example.net:encrypt\n' > "$HUB/control/tlsdestinations"
setauth() { (umask 077; printf '127.0.0.1:%s:%s\n' "$SUSER" "$1" > "$HUB/control/remoteauth"); chown qmailr "$HUB/control/remoteauth"; }
setauth "$PW"
hub_start; ok $? "hub started"

# ---- the right password: delivered over TLS after AUTH PLAIN ---------------
printf 'Subject: via auth route\n\nhello through Postfix\n' | "$HUB/bin/qmail-inject" -f "postmaster@$ME" someone@example.net
wait_until files_ge "$VMD" 1
is "$(nfiles "$VMD")" 1 "the message arrived in Postfix's Maildir for someone@example.net"
like "$(cat "$VMD"/* 2>/dev/null)" "hello through Postfix" "with its body"
n1=$(nfiles "$VMD")
wait_until inlog "success: .*accepted.message.over.TLS"
like "$(qlog | grep 'success: ')" "127\.0\.0\.1.accepted.message.over.TLS.\(TLSv1\.[23].cipher.*verify.none\)" \
  "qmail-send's log: accepted over TLS (version, cipher, verify none)"
like "$(pflog)" "pf-sub/smtpd\[[0-9]+\]: .*TLS connection established from localhost\[127\.0\.0\.1\]: TLSv1\.[23]" \
  "Postfix's log: our TLS connection on the submission smtpd"
like "$(pflog)" "pf-sub/smtpd\[[0-9]+\]: [0-9A-F]+: client=localhost\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=$SUSER" \
  "Postfix's log: sasl_method=PLAIN, sasl_username=$SUSER"
# qmail-remote -S keeps an idle session open a moment: the next message
# must find it closed, or it would not read control/remoteauth again
wait_until eval 'pflog | grep -q "pf-sub/smtpd.*disconnect from.* ehlo="'
like "$(pflog | grep 'pf-sub/smtpd.*disconnect from.* ehlo=')" "ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1" \
  "Postfix's log: EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA, QUIT"

# ---- a wrong password: refused (535), deferred, nothing arrives ----------------
WPW=Wr-$RANDOM$RANDOM-bad
setauth "$WPW"
printf 'Subject: wrong password\n\nnot for delivery\n' | "$HUB/bin/qmail-inject" -f "postmaster@$ME" someone@example.net
wait_until inlog "deferral: .*AUTH.PLAIN.was.refused"
like "$(qlog | grep 'deferral: ')" "Connected.to.127\.0\.0\.1.but.my.AUTH.PLAIN.was.refused\..Remote.host.said:.535.5\.7\.8" \
  "qmail-send's log: deferred, my AUTH PLAIN was refused, Postfix's 535 5.7.8"
wait_until eval 'pflog | grep -q "SASL PLAIN authentication failed"'
like "$(pflog)" "pf-sub/smtpd\[[0-9]+\]: warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed" \
  "Postfix's log: SASL PLAIN authentication failed"
marker wrongpw; ok $? "a marker message went through qmail-send after it"
is "$(nfiles "$VMD")" "$n1" "nothing more arrived"
for p in "$PW" "$WPW"; do
  is "$(alllogs | grep -cF -- "$p")" 0 "no log (ours, Postfix's) has the password ${p%%-*}-..."
  is "$(alllogs | grep -cF -- "$(printf '\0%s\0%s' "$SUSER" "$p" | base64 -w0)")" 0 "nor its PLAIN base64"
  is "$(alllogs | grep -cF -- "$(printf '%s' "$p" | base64 -w0)")" 0 "nor its LOGIN base64"
done

# ---- auth route, the server offers no TLS: no credentials, deferred --------------
setauth "$PW"
printf 'Subject: no tls\n\nnot for delivery either\n' | "$HUB/bin/qmail-inject" -f "postmaster@$ME" someone@plain.example.net
wait_until inlog "deferral: .*credentials.without.TLS"
like "$(qlog | grep 'deferral: .*without.TLS')" "I.do.not.send.credentials.without.TLS" \
  "qmail-send's log: deferred, I do not send credentials without TLS"
wait_until eval 'pflog | grep -q "pf-plain/smtpd.*disconnect from.* ehlo="'
d=$(pflog | grep 'pf-plain/smtpd.*disconnect from.* ehlo=')
like "$d" "ehlo=1" "Postfix's plain smtpd saw our EHLO"
unlike "$d" "auth=|starttls=" "and no AUTH (nor STARTTLS) from us"
is "$(pflog | grep -c 'pf-plain/smtpd.*sasl')" 0 "no SASL line from the plain smtpd"
is "$(nfiles "$VMD")" "$n1" "nothing arrived"
is "$(alllogs | grep -cF -- "$PW")" 0 "no log has the password"

pf_stop
ok "$(kill -0 "$(pf_pid)" 2>/dev/null; [ $? != 0 ]; echo $?)" "the private Postfix stopped"
done_testing
