#!/bin/bash
# dsn.t: control/bouncestyle dsn on a running hub (installed in $T, started
# by qmailctl, mail sent over SMTP): a message with a failing local
# recipient (bouncesaying), a failing remote one (tests/lib/smtpfake.py
# answers RCPT 550 5.1.1) and a good one gives one multipart/report bounce
# (RFC 6522) that python's email package parses: a text/plain part with the
# QSBMF words, a message/delivery-status part (Reporting-MTA, Arrival-Date,
# per failed recipient Final-Recipient, Action: failed, Status from the
# failure text, Remote-MTA and Diagnostic-Code for the remote one), the
# whole message as message/rfc822; over bouncemaxbytes the header only, as
# text/rfc822-headers, with a note and never a cut message/rfc822; a double
# bounce in the same form. DSN items in the envelope (hub/queue/QUEUE.md),
# queued with qmail-queue: RET=HDRS, ENVID (Original-Envelope-Id) and ORCPT
# (Original-Recipient) in a bounce; NOTIFY=NEVER and NOTIFY=DELAY send no
# bounce (logged); NOTIFY=SUCCESS sends a delivered notice after a local
# delivery and a relayed one after a remote one; a message without them
# gets no notice. The same over SMTP with control/smtpdsn 1 (smtplib's
# mail_options and rcpt_options). RET=HDRS in the QSBMF style. Junk in
# bouncestyle holds the bounce back (logged).
# QSBMF as the default is bounce.t's. As root the recipients are
# uid 65534; otherwise single-user mode.
. "$(dirname "$0")/../lib/common.sh"
. "$SRCDIR/tests/lib/hub.sh"
hub_skip_unless_built

hub_install; ok $? "make install makes a hub home"
bin=$HUB/bin
echo dsn > "$HUB/control/bouncestyle"
echo bh.example.org > "$HUB/control/bouncehost"
echo zs-db > "$HUB/control/doublebounceto"
echo hub.example.org > "$HUB/control/doublebouncehost"
mkdir -p "$T/flog"
python3 "$SRCDIR/tests/lib/smtpfake.py" ok --logdir "$T/flog" --lifetime 600 > "$T/fport" 2> "$T/ferr" &
_pids+=($!)
wait_until test -s "$T/fport"; FPORT=$(head -n 1 "$T/fport")
ok "$([ -n "$FPORT" ]; echo $?)" "the fake remote SMTP server is up"
printf 'remote.example:127.0.0.1:%s\n' "$FPORT" > "$HUB/control/smtproutes"
printf '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n' > "$HUB/control/tcp.smtp"
for u in zs zb; do hub_user "$u"; done
hub_newu; ok $? "qmail-newu"
S=$T/home/zs B=$T/home/zb
for m in B DB; do md "$S" "$m"; done
dq "$S" .qmail-b './B/
'
dq "$S" .qmail-db './DB/
'
dq "$B" .qmail-hard1 "|$bin/bouncesaying 'Mailbox one is closed. (#5.2.1)'
"
dq "$B" .qmail-ok './Maildir/
'
echo 1 > "$HUB/control/smtpdsn"
hub_start; ok $? "qmailctl start"

# check FILE SUBJECT: python's email package reads the bounce and prints
# what it found, one "key=value" line each (the recipients' blocks as
# "rcpt Final-Recipient|Action|Status|Remote-MTA|Diagnostic-Code")
check() {
  python3 - "$1" "$2" <<'PY'
import email, sys
from email import policy
f, mode = sys.argv[1], sys.argv[2]
raw = open(f, "rb").read()
m = email.message_from_bytes(raw, policy=policy.compat32)
out = []
out.append("type=%s" % m.get_content_type())
out.append("report-type=%s" % m.get_param("report-type"))
parts = m.get_payload()
out.append("parts=%s" % ",".join(p.get_content_type() for p in parts))
out.append("defects=%d" % sum(len(p.defects) for p in m.walk()))
text = parts[0].get_payload(decode=True).decode("utf-8", "replace")
out.append("qsbmf=%s" % text.startswith("Hi. This is the qmail-send program at bh.example.org."))
ds = parts[1].get_payload()
out.append("reporting=%s" % ds[0].get("Reporting-MTA"))
out.append("arrival=%s" % bool(ds[0].get("Arrival-Date")))
for r in ds[1:]:
    out.append("rcpt %s|%s|%s|%s|%s" % (r.get("Final-Recipient"), r.get("Action"), r.get("Status"),
               r.get("Remote-MTA"), " ".join((r.get("Diagnostic-Code") or "").split())))
ret = parts[2]
if ret.get_content_type() == "message/rfc822":
    inner = ret.get_payload()[0]
    out.append("returned subject=%s body=%r" % (inner.get("Subject"), inner.get_payload()[:40]))
else:
    body = ret.get_payload()
    out.append("headers subject=%s hasbody=%s" % ("Subject: " + mode in body, "yyyy" in body))
    out.append("note=%s" % ("only its header is returned" in text))
print("\n".join(out))
PY
}

# --- a local and a remote failure, one good recipient
printf 'Subject: first\n\nline one\n' | send zs-b@hub.example.org zb-hard1@hub.example.org \
  carol-bad@remote.example zb-ok@hub.example.org
ok $? "SMTP: one message, a failing local and a failing remote recipient, one good one"
wait_until has_file "$S/B/new" 1 'Subject: failure notice'; ok $? "a bounce comes back to the sender"
wait_until queue_empty; ok $? "the message and its bounce have left the queue"
f=$(one "$S/B/new" 'Subject: failure notice')
is "$(nfiles "$S/B/new")" 1 "one bounce for both failures"
like "$(head -1 "$f")" '^Return-Path: <>$' "the bounce has a null envelope sender"
r=$(check "$f" first | tr '\n' '~')
echo "$r" | tr '~' '\n' | sed 's/^/# /'
like "$r" '^type=multipart/report~report-type=delivery-status~parts=text/plain,message/delivery-status,message/rfc822~defects=0~qsbmf=True~reporting=dns; bh\.example\.org~arrival=True~' "multipart/report; report-type=delivery-status: three parts, no defects, QSBMF text, Reporting-MTA, Arrival-Date"
like "$r" 'rcpt rfc822; zb-hard1@hub\.example\.org\|failed\|5\.2\.1\|None\|~' "local failure: Final-Recipient, Action: failed, Status from (#5.2.1), no Remote-MTA, no Diagnostic-Code"
like "$r" 'rcpt rfc822; carol-bad@remote\.example\|failed\|5\.1\.1\|dns; \[127\.0\.0\.1\]\|smtp; 550 5\.1\.1 no such user' \
  "remote failure: Status 5.1.1 from the reply, Remote-MTA, Diagnostic-Code: smtp; the reply"
is "$(echo "$r" | tr '~' '\n' | grep -c '^rcpt ')" 2 "two recipient blocks: the delivered one has none"
like "$r" "returned subject=first body='line one" "the whole message returned as message/rfc822"
like "$(tr '\n' '~' < "$f")" '~~Return-Path: <zs-b@hub\.example\.org>~Received: ' "the returned message starts with its Return-Path and Received lines"
like "$(qlog)" 'bounce msg [0-9]+ to <zs-b@hub\.example\.org>: injected \(dsn\)' "qmail-send logs the DSN bounce"

# --- bouncemaxbytes: the header only, never a cut message/rfc822
echo 3000 > "$HUB/control/bouncemaxbytes"
{ printf 'Subject: big\n\n'; head -c 60000 /dev/zero | tr '\0' 'y' | fold -w 70; } | send zs-b@hub.example.org zb-hard1@hub.example.org
wait_until has_file "$S/B/new" 2 'Subject: failure notice'; ok $? "the bounce of a big message"
wait_until queue_empty
f=$(grep -L 'Subject: first' $(grep -rl 'Subject: failure notice' "$S/B/new") | head -1)
r=$(check "$f" big | tr '\n' '~')
like "$r" 'parts=text/plain,message/delivery-status,text/rfc822-headers~defects=0~' "over bouncemaxbytes: text/rfc822-headers"
like "$r" 'headers subject=True hasbody=False' "the header is returned, not the body"
like "$r" 'note=True' "the text part says only the header is returned"
size=$(stat -c %s "$f")
ok "$([ "$size" -lt 4500 ]; echo $?)" "the bounce is small ($size bytes)"
rm -f "$HUB/control/bouncemaxbytes"

# --- a double bounce is a DSN too
printf 'Subject: nullsender\n\nfrom nobody\n' | send "" zb-hard1@hub.example.org
wait_until has_file "$S/DB/new" 1 'Subject: failure notice'; ok $? "a null-sender failure: double bounce"
f=$(one "$S/DB/new" 'Subject: failure notice')
like "$(head -1 "$f")" '^Return-Path: <#@\[\]>$' "the double bounce's envelope sender is #@[]"
r=$(check "$f" nullsender | tr '\n' '~')
like "$r" 'parts=text/plain,message/delivery-status,message/rfc822~defects=0~' "the double bounce is a multipart/report"
like "$r" 'rcpt rfc822; zb-hard1@hub\.example\.org\|failed\|5\.2\.1' "double bounce: the failed recipient's block"

# --- DSN items in the envelope (hub/queue/QUEUE.md), through qmail-queue
# qq ENVELOPE SUBJECT: queue a small message with the envelope (printf form)
qq() { printf 'Subject: %s\n\nbody text\n' "$2" > "$T/qmsg"; printf "$1" > "$T/qenv"
       "$bin/qmail-queue" < "$T/qmsg" 1< "$T/qenv"; }
qq 'dRET=HDRS ENVID=env+2B1\0Fzs-b@hub.example.org\0Tzb-hard1@hub.example.org\0dNOTIFY=FAILURE ORCPT=rfc822;Orig+40hub.example.org\0\0' dsnfail
ok $? "qmail-queue takes an envelope with DSN items"
wait_until has_file "$S/B/new" 1 'Subject: dsnfail'; ok $? "NOTIFY=FAILURE: the bounce comes"
f=$(one "$S/B/new" 'Subject: dsnfail')
r=$(check "$f" dsnfail | tr '\n' '~')
like "$r" 'parts=text/plain,message/delivery-status,text/rfc822-headers~defects=0~' "RET=HDRS: the header only"
like "$r" 'headers subject=True' "RET=HDRS: the header is there"
like "$(tr '\n' '~' < "$f")" '~Original-Envelope-Id: env\+1~Reporting-MTA: dns; bh\.example\.org~' "ENVID: Original-Envelope-Id, decoded"
like "$(tr '\n' '~' < "$f")" '~~Original-Recipient: rfc822;Orig@hub\.example\.org~Final-Recipient: rfc822; zb-hard1@hub\.example\.org~Action: failed~' \
  "ORCPT: Original-Recipient, decoded, before Final-Recipient"
is "$(grep -c 'body text' "$f")" 0 "RET=HDRS: no body"

qq 'Fzs-b@hub.example.org\0Tzb-hard1@hub.example.org\0dNOTIFY=NEVER\0Tzb-hard1@hub.example.org\0dNOTIFY=DELAY\0Tzb-ok@hub.example.org\0dNOTIFY=SUCCESS ORCPT=rfc822;ok+40x\0\0' dsnquiet
ok $? "qmail-queue: NOTIFY=NEVER, DELAY alone and SUCCESS"
wait_until inlog 'no failure notice: the sender asked for none'; ok $? "NOTIFY=NEVER: logged"
wait_until has_file "$S/B/new" 1 'Subject: delivery notice'; ok $? "NOTIFY=SUCCESS: a success notice after the local delivery"
f=$(one "$S/B/new" 'Subject: delivery notice')
r=$(check "$f" dsnquiet | tr '\n' '~')
like "$r" 'parts=text/plain,message/delivery-status,text/rfc822-headers~defects=0~' "success notice: a multipart/report, the header only without RET"
like "$r" 'rcpt rfc822; zb-ok@hub\.example\.org\|delivered\|2\.0\.0\|' "success notice: Action: delivered, Status: 2.0.0"
like "$(tr '\n' '~' < "$f")" 'Original-Recipient: rfc822;ok@x~' "success notice: Original-Recipient"
like "$(qlog)" 'success notice msg [0-9]+ to <zs-b@hub\.example\.org>: injected \(dsn\)' "success notice logged"
wait_until queue_empty; ok $? "the queue is empty"
is "$(grep -l 'Subject: dsnquiet' $(grep -rl 'Subject: failure notice' "$S/B/new") 2>/dev/null | wc -l | tr -d ' ')" 0 \
  "NOTIFY=NEVER and NOTIFY=DELAY: no bounce"
is "$(nlog 'no failure notice')" 2 "both refusals logged"

qq 'Fzs-b@hub.example.org\0Tcarol@remote.example\0dNOTIFY=SUCCESS\0\0' dsnrelay
wait_until has_file "$S/B/new" 1 'Action: relayed'; ok $? "NOTIFY=SUCCESS to a remote host: a relayed notice"
f=$(one "$S/B/new" 'Action: relayed')
like "$(check "$f" dsnrelay | tr '\n' '~')" 'rcpt rfc822; carol@remote\.example\|relayed\|2\.0\.0\|dns; \[127\.0\.0\.1\]\|smtp; 250' \
  "relayed: Remote-MTA and the remote's answer"
n0=$(nfiles "$S/B/new")
printf 'Subject: plain\n\nx\n' | send zs-b@hub.example.org zb-ok@hub.example.org
wait_until queue_empty; ok $? "a message without DSN items"
is "$(nfiles "$S/B/new")" "$n0" "no notice for it"

# --- the same over SMTP (control/smtpdsn 1): smtplib's mail and rcpt options
# smtpdsn SUBJECT RCPT MAIL-OPTIONS RCPT-OPTIONS: one message, options
# blank-separated; prints whether EHLO offered DSN
smtpdsn() {
  python3 - "$SMTP" "$@" <<'PY'
import smtplib, sys
port, subj, rcpt, mo, ro = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5].split()
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.example.net")
print("dsn=%s" % s.has_extn("dsn"))
s.sendmail("zs-b@hub.example.org", [rcpt], ("Subject: %s\r\n\r\nsmtp body\r\n" % subj).encode(),
           mail_options=mo, rcpt_options=ro)
s.quit()
PY
}
n0=$(nlog 'no failure notice')
is "$(smtpdsn smtpnever zb-hard1@hub.example.org 'RET=FULL' 'NOTIFY=NEVER')" "dsn=True" "SMTP: EHLO offers DSN; NOTIFY=NEVER taken"
wait_until log_more 'no failure notice' "$n0"; ok $? "SMTP NOTIFY=NEVER: no failure notice, logged"
smtpdsn smtpfail zb-hard1@hub.example.org 'RET=HDRS ENVID=smtp+2Benv' 'NOTIFY=FAILURE,DELAY ORCPT=rfc822;first+40hub.example.org' > /dev/null
ok $? "SMTP: RET, ENVID, NOTIFY, ORCPT taken"
wait_until has_file "$S/B/new" 1 'Original-Envelope-Id: smtp\+env'; ok $? "SMTP: the bounce names the ENVID"
f=$(one "$S/B/new" 'Original-Envelope-Id: smtp\+env')
like "$(tr '\n' '~' < "$f")" '~Original-Recipient: rfc822;first@hub\.example\.org~Final-Recipient: rfc822; zb-hard1@hub\.example\.org~' "SMTP: Original-Recipient"
like "$(check "$f" smtpfail | tr '\n' '~')" 'text/rfc822-headers~defects=0~.*headers subject=True' "SMTP: RET=HDRS"
smtpdsn smtpok zb-ok@hub.example.org '' 'NOTIFY=SUCCESS' > /dev/null
wait_until has_file "$S/B/new" 1 'Subject: smtpok'; ok $? "SMTP NOTIFY=SUCCESS: a success notice"
like "$(cat "$(one "$S/B/new" 'Subject: smtpok')")" 'Action: delivered' "SMTP: Action: delivered"
wait_until queue_empty; ok $? "the queue is empty"
is "$(grep -l 'smtpnever' $(grep -rl 'Subject: failure notice' "$S/B/new") 2>/dev/null | wc -l | tr -d ' ')" 0 "SMTP NOTIFY=NEVER: no bounce"

# --- RET=HDRS in the QSBMF style: the header only after the break
echo qsbmf > "$HUB/control/bouncestyle"
qq 'dRET=HDRS\0Fzs-b@hub.example.org\0Tzb-hard1@hub.example.org\0\0' qsbmfhdrs
wait_until has_file "$S/B/new" 1 'Subject: qsbmfhdrs'; ok $? "QSBMF: the bounce comes"
f=$(one "$S/B/new" 'Subject: qsbmfhdrs')
like "$(tr '\n' '~' < "$f")" '~Hi\. This is the qmail-send program at bh\.example\.org\.~.*~--- Below this line is a copy of the message\.~~Return-Path: <zs-b@hub\.example\.org>~Received: ' \
  "QSBMF: the usual text"
is "$(grep -c 'body text\|^Content-Type: multipart' "$f")" 0 "QSBMF RET=HDRS: no body, no MIME"
wait_until queue_empty; ok $? "the queue is empty"

# --- junk in bouncestyle: the bounce waits, logged
wait_until queue_empty; ok $? "the queue is empty"
echo mime > "$HUB/control/bouncestyle"
printf 'Subject: held\n\nx\n' | send zs-b@hub.example.org zb-hard1@hub.example.org
wait_until inlog 'alert: cannot use control/bouncestyle: not qsbmf or dsn: bounce of msg [0-9]+ deferred'
ok $? "junk in bouncestyle: logged, the bounce deferred"
sleep 1
ok "$(queue_empty; [ $? != 0 ]; echo $?)" "the message stays in the queue"
is "$(grep -rl 'Subject: held' "$S/B/new" | wc -l | tr -d ' ')" 0 "no bounce in a guessed style"
done_testing
