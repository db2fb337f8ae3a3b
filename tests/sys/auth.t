#!/bin/bash
# auth.t: SMTP AUTH (RFC 4954, PLAIN and LOGIN) and the submission service
# (RFC 6409) on an installed hub (issue 11). Users are made with
# qmail-passwd --stdin; qmail-smtpd runs qmail-checkpassword from
# env/CHECKPASSWORD (the install writes it for qmail-submission; here it is
# added to qmail-smtpd on port 25 too). control/authdelay 300 (ms) and
# control/authfailures 3 keep the delays short. Checked:
#  - as installed: port 25 offers no AUTH (502), submission does
#  - real clients: python smtplib PLAIN and LOGIN (with and without the
#    initial response) over STARTTLS on 587 and on 25, PLAIN over SMTPS
#    (465, where the install names the checkpassword too); swaks --auth PLAIN
#    and LOGIN --tls; Received says "with ESMTPSA (TLS...)", and ESMTPA for
#    AUTH in the clear from loopback
#  - submission: MAIL before AUTH 530; with AUTH_CLEARTEXT_LOOPBACK 0 no
#    AUTH in the clear (not offered, 538) until STARTTLS; from a
#    non-loopback address (qmail-smtpd run directly with TCPREMOTEIP) the
#    same without any setting
#  - relay: from 127.0.0.2, which the rules here do not let relay, a
#    foreign RCPT is 553 without AUTH and 250 after it (25 and 587)
#  - the dialogue: garbage base64 501, '*' cancels 501, unknown mechanism
#    504, AUTH twice 503, AUTH in a transaction 503, AUTH before EHLO 503,
#    authzid not the login 535, a 1 MB AUTH line and a 1 MB continuation
#    line 500 and closed (the server reads no more than its line cap)
#  - wrong passwords: each failure waits longer (>= 0.3, 0.6, 1.2 s), the
#    third is followed by 421 and the end of the connection; each failure
#    is logged with the client's address, the success with the login, and
#    no password appears in any log
#  - control/authsenders: a sender the login is not given is 553; an
#    unreadable one is 421 at connect
#  - a checkpassword program that hangs is killed after timeoutsmtpd: 454
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built
command -v tcprules > /dev/null || { echo "1..0 # skip no tcprules"; exit 0; }
command -v openssl > /dev/null || { echo "1..0 # skip no openssl (make deps)"; exit 0; }
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
  { echo "1..0 # skip cannot bind 127.0.0.2 (no 127/8 route on lo)"; exit 0; }

hub_install; ok $? "make install makes a hub home"
is "$(cat "$HUB/service/qmail-submission/env/CHECKPASSWORD")" "$HUB/bin/qmail-checkpassword" \
  "the install names qmail-checkpassword in qmail-submission's env/CHECKPASSWORD"
ok "$([ -e "$HUB/service/qmail-submission/down" ]; echo $?)" "qmail-submission is installed down"
ok "$([ ! -e "$HUB/service/qmail-smtpd/env/CHECKPASSWORD" ]; echo $?)" "port 25 has no AUTH as installed"
is "$(cat "$HUB/service/qmail-smtps/env/CHECKPASSWORD")" "$HUB/bin/qmail-checkpassword" "SMTPS has it"
hub_user alice
hub_newu
PW=Sesame-$RANDOM-open
printf '%s\n' "$PW" | "$HUB/bin/qmail-passwd" --stdin alice "$RUID" "$RGID" "$T/home/alice" > "$T/passwd.log" 2>&1
ok $? "qmail-passwd --stdin alice"
printf '300\n' > "$HUB/control/authdelay"
printf '3\n' > "$HUB/control/authfailures"
# relay from 127.0.0.1 only, so that 127.0.0.2 meets the ":allow" line
printf '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n' > "$HUB/control/tcp.smtp"
rm "$HUB/service/qmail-submission/down" "$HUB/service/qmail-smtps/down"

# ---- as installed: no AUTH on 25 ------------------------------------------
hub_start; ok $? "hub started (qmail-smtpd, qmail-submission)"
SUB=$SUBMISSION_PORT   # hub_start may pick the ports again
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SUB),0.5)" 2>/dev/null
drive() { python3 "$SRCDIR/tests/lib/authdrive.py" "$@" 2>&1; }
out=$(drive "$SMTP" 127.0.0.1 "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" "MAIL FROM:<a@$ME> AUTH=<>" QUIT)
unlike() { like "$(printf '%s' "$1" | grep -cE -- "$2")" '^0$' "$3"; }
unlike "$out" "AUTH" "port 25 as installed: EHLO offers no AUTH"
like "$out" "^502 5\.5\.1" "and AUTH is unknown there (502)"
like "$out" "^555 5\.5\.4" "and so is MAIL's AUTH= parameter (555)"
hub_stop
echo "$HUB/bin/qmail-checkpassword" > "$HUB/service/qmail-smtpd/env/CHECKPASSWORD"
hub_start; ok $? "hub restarted with env/CHECKPASSWORD for port 25 too"
SUB=$SUBMISSION_PORT
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SUB),0.5)" 2>/dev/null

slog() { cat "$HUB"/log/"$1"/@* "$HUB/log/$1/current" 2>/dev/null; }
alllogs() { cat "$HUB"/log/*/@* "$HUB"/log/*/current 2>/dev/null; }
MD=$T/home/alice/Maildir

# ---- real clients -----------------------------------------------------------
cat > "$T/login.py" <<'PY'
import smtplib, ssl, sys
port, mech, ir, pw, subj = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "ir", sys.argv[4], sys.argv[5]
ctx = ssl._create_unverified_context()
if len(sys.argv) > 6:   # smtps
    s = smtplib.SMTP_SSL("127.0.0.1", port, timeout=30, context=ctx)
    s.ehlo("client.example")
else:
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.example")
    s.starttls(context=ctx)
    s.ehlo("client.example")
assert "auth" in s.esmtp_features, s.esmtp_features
s.user, s.password = "alice", pw
code, _ = s.auth(mech, s.auth_plain if mech == "PLAIN" else s.auth_login, initial_response_ok=ir)
s.sendmail("alice@hub.example.org", ["alice@hub.example.org"],
           "Subject: %s\r\n\r\nhello\r\n" % subj)
s.quit()
print("login: %d" % code)
PY
for port in "$SUB" "$SMTP"; do
  for m in PLAIN LOGIN; do
    for ir in ir noir; do
      is "$(python3 "$T/login.py" "$port" $m $ir "$PW" "py-$port-$m-$ir" 2>&1)" "login: 235" \
        "smtplib on $([ "$port" = "$SUB" ] && echo 587 || echo 25): STARTTLS, AUTH $m ($ir), a message"
    done
  done
done
is "$(python3 "$T/login.py" "$SMTPS_PORT" PLAIN ir "$PW" py-smtps smtps 2>&1)" "login: 235" \
  "smtplib SMTP_SSL on the SMTPS port: AUTH PLAIN, a message"
if command -v swaks > /dev/null && perl -MIO::Socket::SSL -e 1 2> /dev/null; then
  for m in PLAIN LOGIN; do
    swaks --server 127.0.0.1 --port "$SUB" --tls --auth $m --auth-user alice --auth-password "$PW" \
      --from alice@hub.example.org --to "alice@$ME" --header "Subject: swaks-$m" > "$T/swaks-$m" 2>&1
    ok $? "swaks --tls --auth $m on 587: a message"
  done
  like "$(cat "$T/swaks-PLAIN")" "235 2\.7\.0" "swaks saw 235"
else
  dep_missing 3 "swaks with IO::Socket::SSL (libio-socket-ssl-perl)"
fi
out=$(drive "$SUB" 127.0.0.1 "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" "MAIL FROM:<alice@$ME>" \
  "RCPT TO:<alice@$ME>" DATA +msg:cleartext QUIT)
like "$out" "^235 2\.7\.0" "587 in the clear from loopback: AUTH PLAIN 235"
like "$out" "^250 2\.0\.0 ok [0-9]+ qp" "and a message"
nmsg=$([ -f "$T/swaks-LOGIN" ] && echo 12 || echo 10)
wait_until files_ge "$MD/new" "$nmsg"
# rcv SUBJECT: qmail-smtpd's Received field of that message, on one line
rcv() { grep -l "^Subject: $1\$" "$MD"/new/* 2>/dev/null | head -1 | xargs -r sed -n '/^Received: from/{N;p;q}' | tr '\n' ' '; }
like "$(rcv "py-$SUB-PLAIN-ir")" "with ESMTPSA \(TLSv1\.[23] cipher [A-Z0-9_-]+ bits [0-9]+\);" \
  "Received (587, STARTTLS, AUTH): with ESMTPSA and the cipher"
like "$(rcv "py-$SMTP-LOGIN-noir")" "with ESMTPSA \(TLSv1\.[23] cipher" "Received (25, STARTTLS, AUTH): ESMTPSA"
like "$(rcv cleartext)" "with ESMTPA;" "Received (AUTH in the clear): with ESMTPA"
like "$(rcv py-smtps)" "with ESMTPSA \(TLSv1\.[23] cipher" "Received (SMTPS, AUTH): ESMTPSA"
[ -f "$T/swaks-LOGIN" ] && like "$(rcv swaks-LOGIN)" "with ESMTPSA \(" "Received (swaks): ESMTPSA"
is "$(ls "$MD/new" | wc -l)" "$nmsg" "every message arrived, no other"

# ---- submission: AUTH before MAIL, TLS before AUTH -------------------------
out=$(drive "$SUB" 127.0.0.1 "EHLO c.example" "MAIL FROM:<alice@$ME>" QUIT)
like "$out" "^530 5\.7\.0" "submission: MAIL before AUTH is 530"
hub_stop
echo 0 > "$HUB/service/qmail-submission/env/AUTH_CLEARTEXT_LOOPBACK"
hub_start; ok $? "hub restarted with AUTH_CLEARTEXT_LOOPBACK 0 for submission"
SUB=$SUBMISSION_PORT
wait_until python3 -c "import socket; socket.create_connection(('127.0.0.1',$SUB),0.5)" 2>/dev/null
out=$(drive "$SUB" 127.0.0.1 "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" "MAIL FROM:<alice@$ME>" +tls \
  "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" "MAIL FROM:<alice@$ME> AUTH=alice+40$ME" RSET \
  "MAIL FROM:<alice@$ME> AUTH=a+4" QUIT)
is "$(printf '%s\n' "$out" | sed -n 2p | grep -c AUTH)" 0 "AUTH_CLEARTEXT_LOOPBACK 0: EHLO in the clear offers no AUTH"
like "$(printf '%s\n' "$out" | sed -n 3p)" "^538 5\.7\.11" "AUTH in the clear: 538 5.7.11"
like "$(printf '%s\n' "$out" | sed -n 4p)" "^530 5\.7\.0" "MAIL: still 530"
like "$(printf '%s\n' "$out" | sed -n 6p)" "250-AUTH PLAIN LOGIN" "after STARTTLS EHLO offers AUTH PLAIN LOGIN"
like "$(printf '%s\n' "$out" | sed -n 7p)" "^235 " "and AUTH succeeds"
like "$(printf '%s\n' "$out" | sed -n 8p)" "^250 " "and MAIL is accepted, with AUTH=xtext (RFC 4954 sec 5)"
like "$(printf '%s\n' "$out" | sed -n 10p)" "^501 5\.5\.4" "a broken AUTH= value: 501"
# qmail-smtpd run directly, as from a non-loopback address
direct() {
  env -i TCPREMOTEIP=192.0.2.7 CHECKPASSWORD="$HUB/bin/qmail-checkpassword" "$@" "$HUB/bin/qmail-smtpd" 2>/dev/null |
    tr -d '\r'
}
out=$(printf 'EHLO c.example\r\nAUTH LOGIN\r\nMAIL FROM:<x@example.org>\r\nQUIT\r\n' | direct SUBMISSION=1)
is "$(printf '%s\n' "$out" | grep -c AUTH)" 0 "from 192.0.2.7 in the clear: no AUTH offered"
like "$out" "538 5\.7\.11" "AUTH: 538"
like "$out" "530 5\.7\.0" "MAIL: 530"
out=$(printf 'EHLO c.example\r\nAUTH LOGIN\r\nQUIT\r\n' | env -i TCPREMOTEIP=127.0.0.1 "$HUB/bin/qmail-smtpd" \
  "$HUB/bin/qmail-checkpassword" 2>/dev/null | tr -d '\r')
like "$out" "^250-AUTH PLAIN LOGIN" "the checkpassword program as an argument turns AUTH on too"
like "$out" "^334 VXNlcm5hbWU6" "and AUTH LOGIN prompts"

# ---- relay -----------------------------------------------------------------
for port in "$SMTP" "$SUB"; do
  out=$(drive "$port" 127.0.0.2 "EHLO c.example" +tls "EHLO c.example" "MAIL FROM:<alice@$ME>" \
    "RCPT TO:<someone@relay.example>" RSET "AUTH PLAIN [[%alice%$PW]]" "MAIL FROM:<alice@$ME>" \
    "RCPT TO:<someone@relay.example>" RSET QUIT)
  n=$([ "$port" = "$SUB" ] && echo 587 || echo 25)
  if [ "$port" = "$SMTP" ]; then
    like "$(printf '%s\n' "$out" | sed -n 6p)" "^553 5\.7\.1" "$n from 127.0.0.2: relaying refused without AUTH"
  else
    like "$(printf '%s\n' "$out" | sed -n 5p)" "^530 5\.7\.0" "$n from 127.0.0.2: MAIL without AUTH 530"
  fi
  like "$(printf '%s\n' "$out" | sed -n 8p)" "^235 " "$n from 127.0.0.2: AUTH"
  like "$(printf '%s\n' "$out" | sed -n 10p)" "^250 2\.1\.5" "$n from 127.0.0.2: relaying allowed after AUTH"
done

# ---- the dialogue -------------------------------------------------------------
out=$(drive "$SMTP" 127.0.0.1 "AUTH PLAIN [[%alice%$PW]]" "EHLO c.example" "AUTH PLAIN !!!!" "AUTH PLAIN" "Zm9v=" \
  "AUTH LOGIN" "*" "AUTH CRAM-MD5" "AUTH" "AUTH PLAIN [[bob%alice%$PW]]" NOOP NOOP)
like "$(printf '%s\n' "$out" | sed -n 2p)" "^503 5\.5\.1" "AUTH before EHLO: 503"
like "$(printf '%s\n' "$out" | sed -n 4p)" "^501 5\.5\.2" "garbage base64 as the initial response: 501 5.5.2"
like "$(printf '%s\n' "$out" | sed -n 5p)" "^334 \$" "AUTH PLAIN without a response: 334"
like "$(printf '%s\n' "$out" | sed -n 6p)" "^501 5\.5\.2" "not base64 after 334 (5 bytes): 501 5.5.2"
like "$(printf '%s\n' "$out" | sed -n 7p)" "^334 VXNlcm5hbWU6\$" "AUTH LOGIN: 334 Username:"
like "$(printf '%s\n' "$out" | sed -n 8p)" "^501 5\.0\.0 authentication cancelled" "'*' cancels: 501"
like "$(printf '%s\n' "$out" | sed -n 9p)" "^504 5\.5\.4" "unknown mechanism: 504"
like "$(printf '%s\n' "$out" | sed -n 10p)" "^501 5\.5\.4" "AUTH without a mechanism: 501"
like "$(printf '%s\n' "$out" | sed -n 11p)" "^535 5\.7\.8" "authzid bob for login alice: 535"
like "$(printf '%s\n' "$out" | sed -n 12p)" "^421 4\.7\.0" "the third failure (two bad base64, this): 421"
like "$(printf '%s\n' "$out" | sed -n 13p)" "^closed\$" "and the connection is closed"
out=$(drive "$SMTP" 127.0.0.1 "EHLO c.example" "AUTH PLAIN [[alice%alice%$PW]]" "AUTH PLAIN [[%alice%$PW]]" QUIT)
like "$(printf '%s\n' "$out" | sed -n 3p)" "^235 " "authzid equal to the login: 235"
like "$(printf '%s\n' "$out" | sed -n 4p)" "^503 5\.5\.1 already" "AUTH after AUTH: 503"
out=$(drive "$SMTP" 127.0.0.1 "EHLO c.example" "MAIL FROM:<a@$ME>" "AUTH PLAIN [[%alice%$PW]]" QUIT)
like "$(printf '%s\n' "$out" | sed -n 4p)" "^503 5\.5\.1" "AUTH in a mail transaction: 503"
out=$(drive "$SMTP" 127.0.0.1 "EHLO c.example" "+long:1000000:AUTH PLAIN " "NOOP")
like "$(printf '%s\n' "$out" | sed -n 3p)" "^500 5\.5\.2 line too long" "a 1 MB AUTH line: 500 5.5.2"
like "$(printf '%s\n' "$out" | sed -n 4p)" "^closed\$" "and the connection is closed"
out=$(drive "$SMTP" 127.0.0.1 "EHLO c.example" "AUTH LOGIN" "+long:1000000:" "NOOP")
like "$(printf '%s\n' "$out" | sed -n 4p)" "^500 5\.5\.2 line too long" "a 1 MB response line after 334: 500 5.5.2"
like "$(drive "$SMTP" 127.0.0.1 "EHLO c.example" NOOP QUIT | sed -n 3p)" "^250 " "the server still answers afterwards"

# ---- wrong passwords: the delay grows, the connection is dropped -----------
before=$(slog qmail-smtpd | grep -c "refused: 127\.0\.0\.3 auth 535")
out=$(drive "$SMTP" 127.0.0.3 "EHLO c.example" "+t:AUTH PLAIN [[%alice%wrong1-$PW]]" \
  "+t:AUTH LOGIN [[alice]]" "+t:[[wrong2-$PW]]" "+t:AUTH PLAIN [[%alice%wrong3-$PW]]" NOOP NOOP)
t1=$(printf '%s\n' "$out" | sed -n 3p) t2=$(printf '%s\n' "$out" | sed -n 5p) t3=$(printf '%s\n' "$out" | sed -n 6p)
like "$t1" "^[0-9.]+ 535 5\.7\.8" "first wrong password: 535 5.7.8"
like "$t2" "^[0-9.]+ 535 5\.7\.8" "second (LOGIN): 535 5.7.8"
like "$t3" "^[0-9.]+ 535 5\.7\.8" "third: 535"
like "$(printf '%s\n' "$out" | sed -n 7p)" "^421 4\.7\.0 too many failed" "then 421"
ok "$(awk -v a="${t1%% *}" 'BEGIN { exit !(a >= 0.3) }'; echo $?)" "first failure took >= 0.3 s (${t1%% *})"
ok "$(awk -v a="${t2%% *}" 'BEGIN { exit !(a >= 0.6) }'; echo $?)" "second took >= 0.6 s (${t2%% *})"
ok "$(awk -v a="${t3%% *}" 'BEGIN { exit !(a >= 1.2) }'; echo $?)" "third took >= 1.2 s (${t3%% *})"
like "$(printf '%s\n' "$out" | sed -n 8p)" "^closed\$" "the connection is closed after the third"
wait_until eval '[ "$(slog qmail-smtpd | grep -c "refused: 127\.0\.0\.3 auth 535")" -ge $((before + 3)) ]'
is "$(slog qmail-smtpd | grep -c "refused: 127\.0\.0\.3 auth 535")" "$((before + 3))" \
  "each failure logged once with the client's address"
like "$(slog qmail-smtpd)" "refused: 127\.0\.0\.3 auth 421 4\.7\.0" "and the drop"
like "$(slog qmail-submission)" 'AUTH ok: 127\.0\.0\.1 login="alice"' "a success is logged with the login"
is "$(alllogs | grep -c -- "$PW")" 0 "no password in any log (the right one nor the wrong ones)"
is "$(alllogs | grep -cF -- "$(printf '\0alice\0%s' "$PW" | base64)")" 0 "nor its base64"

# ---- control/authsenders ---------------------------------------------------
printf 'alice: alice@%s @alice.example\n' "$ME" > "$HUB/control/authsenders"
out=$(drive "$SUB" 127.0.0.1 "EHLO c.example" +tls "EHLO c.example" "AUTH PLAIN [[%alice%$PW]]" \
  "MAIL FROM:<bob@$ME>" "MAIL FROM:<x@alice.example>" RSET "MAIL FROM:<>" RSET "MAIL FROM:<alice@$ME>" QUIT)
like "$(printf '%s\n' "$out" | sed -n 6p)" "^553 5\.7\.1" "authsenders: another's address 553"
like "$(printf '%s\n' "$out" | sed -n 7p)" "^250 " "authsenders: @domain"
like "$(printf '%s\n' "$out" | sed -n 9p)" "^250 " "authsenders: <>"
like "$(printf '%s\n' "$out" | sed -n 11p)" "^250 " "authsenders: own address"
chmod 000 "$HUB/control/authsenders"
like "$(drive "$SUB" 127.0.0.1 QUIT)" "^421 4\.3\.0" "an unreadable authsenders: 421 at connect (fail closed)"
rm -f "$HUB/control/authsenders"

# ---- a checkpassword that hangs is killed after timeoutsmtpd ----------------
printf '#!/bin/sh\nexec sleep 60\n' > "$T/slowpw"; chmod 755 "$T/slowpw"
echo 2 > "$HUB/control/timeoutsmtpd"
start=$SECONDS
out=$(printf 'EHLO c.example\r\nAUTH PLAIN %s\r\nQUIT\r\n' "$(printf '\0alice\0x' | base64)" |
  env -i TCPREMOTEIP=127.0.0.1 "$HUB/bin/qmail-smtpd" "$T/slowpw" 2>"$T/slow.err" | tr -d '\r')
el=$((SECONDS - start))
like "$out" "454 4\.7\.0" "a checkpassword that hangs: 454 4.7.0"
ok "$([ "$el" -ge 1 ] && [ "$el" -lt 20 ]; echo $?)" "after the 2 s of timeoutsmtpd (took ${el}s)"
like "$(cat "$T/slow.err")" "took too long: killed" "and a warning says so"

# ---- unusable settings fail closed, qmailctl check and showctl know them --
for f in authfailures authdelay; do
  for v in junk 0; do
    [ "$f$v" = authdelay0 ] && continue   # no delay is allowed
    echo "$v" > "$HUB/control/$f"
    out=$(printf 'QUIT\r\n' | env -i TCPREMOTEIP=127.0.0.1 "$HUB/bin/qmail-smtpd" "$HUB/bin/qmail-checkpassword" \
      2>"$T/ctl.err" | tr -d '\r')
    like "$out" "^421 4\.3\.0" "control/$f $v: 421 at connect"
    like "$(cat "$T/ctl.err")" "cannot use control/$f" "and the log names it"
  done
  echo junk > "$HUB/control/$f"
  like "$("$HUB/bin/qmailctl" check 2>&1)" "control/$f line 1: not a decimal number" "qmailctl check names control/$f junk"
  rm -f "$HUB/control/$f"
done
like "$("$HUB/bin/qmail-showctl" 2>&1)" "authfailures: \(Default\.\) SMTP AUTH: the connection ends after 3" \
  "qmail-showctl knows authfailures"

done_testing
