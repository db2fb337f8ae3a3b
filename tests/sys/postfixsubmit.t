#!/bin/bash
# postfixsubmit.t: Postfix's smtp client relays into our submission port
# with STARTTLS and SASL (issue 11: a real client that is not ours). A
# private Postfix instance lives under $T/pf: its own config_directory,
# queue_directory and data_directory, no listening port at all (master.cf
# without the smtp inet line), chroot off, its log in $T/pf/maillog. It
# relays everything to [127.0.0.1]:SUBMISSION (our installed hub's
# qmail-submission, on a random port) with smtp_tls_security_level encrypt
# and smtp_sasl_auth_enable, the login alice from a texthash password map,
# alice's password set with our qmail-passwd. Checked:
#  - a message injected with Postfix's sendmail -C lands in alice's Maildir
#    with our Received line "with ESMTPSA (TLS...)"; our log has the AUTH
#    success for alice; no log (ours or Postfix's) has the password
#  - with a wrong password in the map Postfix keeps the message deferred
#    (postqueue -p shows it with the SASL failure), our log has the refusal
#    with the client's address, nothing is delivered, no password logged
# Root only (Postfix's master runs as root and drops to the postfix user);
# skipped with the reason when not root; as root a missing Postfix or Cyrus
# SASL PLAIN/LOGIN modules (libsasl2-modules) is a failure (make deps
# installs both).
# The system's Postfix (/etc/postfix, /var/spool/postfix) is never used:
# every postfix command gets -c/-C with our directory, and the instance is
# stopped with postfix -c DIR stop (its master's pid killed if that fails).
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
[ "$(id -u)" = 0 ] || { echo "1..0 # skip Postfix's master must start as root (run as root, as CI does)"; exit 0; }
# as root (CI, after make deps) a missing package is a failure, not a skip
need() { echo "1..1"; echo "not ok 1 - $1: make deps installs it"; exit 1; }
command -v postfix > /dev/null && command -v postconf > /dev/null || need "no Postfix"
ls /usr/lib/*/sasl2/libplain.so* > /dev/null 2>&1 ||
  need "no Cyrus SASL PLAIN module for Postfix's client (libsasl2-modules)"
getent passwd postfix > /dev/null && getent group postdrop > /dev/null ||
  { echo "1..0 # skip no postfix user or postdrop group (the Postfix package makes them)"; exit 0; }
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }

hub_install; ok $? "make install makes a hub home"
hub_user alice
hub_newu
PW=Pf-$RANDOM$RANDOM-secret
printf '%s\n' "$PW" | "$HUB/bin/qmail-passwd" --stdin alice "$RUID" "$RGID" "$T/home/alice" > "$T/passwd.log" 2>&1
ok $? "qmail-passwd --stdin alice"
rm "$HUB/service/qmail-submission/down"
hub_start; ok $? "hub started with qmail-submission"
SUB=$SUBMISSION_PORT
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SUB),0.5)" 2>/dev/null
ok $? "submission listens on 127.0.0.1:$SUB"

# ---- the private Postfix ------------------------------------------------------
PF=$T/pf PFC=$T/pf/etc
mkdir -p "$PFC" "$PF/queue" "$PF/data"
chmod 755 "$PF"
chown postfix "$PF/data"
# master.cf: the packaged prototype without the smtp listener (nothing here
# listens on a port), no chroot (the queue directory is not a chroot jail)
grep -v '^smtp[[:space:]]*inet' "$(postconf -h meta_directory)/master.cf.proto" > "$PFC/master.cf"
cat > "$PFC/main.cf" <<EOF
# postfixsubmit.t: a private instance; relays everything to our submission
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = pf.example.org
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
relayhost = [127.0.0.1]:$SUB
smtp_tls_security_level = encrypt
smtp_tls_loglevel = 1
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = texthash:$PFC/sasl_passwd
smtp_sasl_security_options = noanonymous
smtp_sasl_tls_security_options = noanonymous
EOF
printf '[127.0.0.1]:%s alice:%s\n' "$SUB" "$PW" > "$PFC/sasl_passwd"
chmod 600 "$PFC/sasl_passwd"
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
trap 'pf_stop; _hub_exit' EXIT
postfix -c "$PFC" check >> "$T/pf.log" 2>&1 && postfix -c "$PFC" start >> "$T/pf.log" 2>&1
r=$?; [ $r = 0 ] || sed 's/^/# /' "$T/pf.log"
ok $r "a private Postfix started (postfix -c \$T/pf/etc start)"
wait_until eval '[ -n "$(pf_pid)" ] && kill -0 "$(pf_pid)" 2>/dev/null'
ok $? "its master runs (pid $(pf_pid))"
pflog() { cat "$PF/maillog" 2>/dev/null; }
slog() { cat "$HUB"/log/qmail-submission/@* "$HUB/log/qmail-submission/current" 2>/dev/null; }
alllogs() { cat "$HUB"/log/*/@* "$HUB"/log/*/current "$PF/maillog" 2>/dev/null; }
MD=$T/home/alice/Maildir

# ---- the right password: delivered, with ESMTPSA -------------------------
printf 'Subject: via postfix\n\nhello from Postfix\n' |
  sendmail -C "$PFC" -f sender@pf.example.org "alice@$ME"
ok $? "Postfix's sendmail -C took the message"
wait_until files_ge "$MD/new" 1
is "$(nfiles "$MD/new")" 1 "the message landed in alice's Maildir"
f=$(ls "$MD"/new/* 2>/dev/null | head -1)
like "$(sed -n '/^Received: from/{N;p;q}' "$f" 2>/dev/null | tr '\n' ' ')" \
  "by $ME with ESMTPSA \(TLSv1\.[23] cipher [A-Z0-9_-]+ bits [0-9]+\);" \
  "our Received line: with ESMTPSA and the TLS cipher"
like "$(grep -c 'hello from Postfix' "$f" 2>/dev/null)" '^1$' "with the body"
wait_until eval 'slog | grep -q "AUTH ok: 127\.0\.0\.1 login=\"alice\""'
ok $? "our log: AUTH ok for alice from 127.0.0.1"
wait_until eval 'pflog | grep -q "status=sent"'
like "$(pflog | grep 'status=sent')" "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$SUB" "Postfix logged it sent to our port"
like "$(pflog)" "TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:$SUB: TLSv1\.[23]" \
  "Postfix's log says it used TLS"
is "$(postqueue -c "$PFC" -p 2>&1 | tail -1)" "Mail queue is empty" "Postfix's queue is empty"

# ---- a wrong password: deferred, nothing delivered ------------------------
before=$(slog | grep -c "refused: 127\.0\.0\.1 auth 535")
printf '[127.0.0.1]:%s alice:wrong-%s\n' "$SUB" "$PW" > "$PFC/sasl_passwd"
postfix -c "$PFC" reload > /dev/null 2>&1; ok $? "Postfix reloaded with a wrong password in its map"
printf 'Subject: wrong password\n\nnot for delivery\n' |
  sendmail -C "$PFC" -f sender@pf.example.org "alice@$ME"
ok $? "Postfix's sendmail -C took the second message"
wait_until eval 'pflog | grep -q "status=deferred.*SASL authentication failed"'
like "$(pflog | grep 'status=deferred')" "SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] said: 535 5\.7\.8" \
  "Postfix deferred it: SASL authentication failed, our 535 5.7.8"
q=$(postqueue -c "$PFC" -p 2>&1)
like "$q" "sender@pf\.example\.org" "postqueue -p shows the message still queued"
like "$q" "SASL authentication failed" "with the reason"
like "$q" "alice@$ME" "for alice"
wait_until eval '[ "$(slog | grep -c "refused: 127\.0\.0\.1 auth 535")" -gt "$before" ]'
ok $? "our log: the refusal with the client's address (refused: 127.0.0.1 auth 535)"
is "$(nfiles "$MD/new")" 1 "nothing more was delivered"
is "$(alllogs | grep -cF -- "$PW")" 0 "no log (ours, Postfix's) has the password, right or wrong"
is "$(alllogs | grep -cF -- "$(printf '\0alice\0%s' "$PW" | base64 -w0)")" 0 "nor its PLAIN base64"
is "$(alllogs | grep -cF -- "$(printf '%s' "$PW" | base64 -w0)")" 0 "nor its LOGIN base64"

pf_stop
ok "$(kill -0 "$(pf_pid)" 2>/dev/null; [ $? != 0 ]; echo $?)" "the private Postfix stopped"
done_testing
