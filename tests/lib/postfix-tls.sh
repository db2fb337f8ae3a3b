#!/bin/bash
# postfix-tls.sh: a private Postfix instance (its own config, queue and data
# directories under DIR; the system's Postfix is not touched) that requires
# TLS on its smtpd (smtpd_tls_security_level = encrypt), for
# tests/sys/remotetls.t. Root only (Postfix's daemons).
#
#   postfix-tls.sh start DIR IP CERT KEY   smtpd on IP and a free port
#                                          (written to DIR/port), log in
#                                          DIR/maillog; mail for example.com
#                                          is discarded after acceptance
#   postfix-tls.sh stop DIR
# Every wait is bounded; exit 1 with the reason when it cannot start.
set -u
cmd=$1 D=$2
PF=/usr/sbin/postfix
case $cmd in
stop)
  "$PF" -c "$D/etc" stop > /dev/null 2>&1
  for i in $(seq 50); do [ -s "$D/queue/pid/master.pid" ] || break; sleep 0.1; done
  exit 0 ;;
start) ;;
*) echo "usage: postfix-tls.sh start DIR IP CERT KEY | stop DIR" >&2; exit 2 ;;
esac
IP=$3 CERT=$4 KEY=$5
[ "$(id -u)" = 0 ] || { echo "postfix-tls.sh: root only" >&2; exit 1; }
mkdir -p "$D/etc" "$D/queue" "$D/data"
chown postfix "$D/data"
cat "$KEY" "$CERT" > "$D/etc/chain.pem"; chmod 600 "$D/etc/chain.pem"
PORT=$(python3 -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$IP")
cat > "$D/etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $D/etc
queue_directory = $D/queue
data_directory = $D/data
myhostname = pf.remotetls.test
mydestination =
inet_interfaces = all
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = example.com
transport_maps = inline:{example.com=discard:}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = encrypt
smtpd_tls_chain_files = $D/etc/chain.pem
smtpd_tls_loglevel = 1
maillog_file = $D/maillog
maillog_file_prefixes = $D
alias_maps =
alias_database =
biff = no
CF
cp /etc/postfix/master.cf.proto "$D/etc/master.cf"
sed -i '/^smtp[[:space:]]\+inet/d' "$D/etc/master.cf"
printf '%s:%s inet n - n - - smtpd\n' "$IP" "$PORT" >> "$D/etc/master.cf"
postconf -c "$D/etc" -F '*/*/chroot = n' > /dev/null
"$PF" -c "$D/etc" check 2>&1 || exit 1
"$PF" -c "$D/etc" start || exit 1
for i in $(seq 100); do
  python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' "$IP" "$PORT" 2>/dev/null && break
  sleep 0.1
done
echo "$PORT" > "$D/port"
python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' "$IP" "$PORT"
