/* tests/unit/dsnbounce.c: TAP tests for hub/send/dsnbounce.c: the Status
 * taken from a paragraph (qmail's "(#5.x.y)", the remote reply's enhanced
 * code, 4.4.7 for the queue lifetime, 5.0.0 otherwise, junk codes
 * refused), the per-recipient fields (Final-Recipient, Remote-MTA,
 * Diagnostic-Code folded, control bytes neutralised, no CR/LF breaking a
 * field), a whole bounce against a golden text, the boundary check, the
 * headers-only and cut variants, and control/bouncestyle (missing, qsbmf,
 * dsn, junk: an error, never the default). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tap.h"
#include "stralloc.h"
#include "bounce.h"
#include "dsnbounce.h"

#define T 1000000000
#define DATE "Sun, 9 Sep 2001 01:46:40 +0000"

static struct bounce_conf bc;
static const struct dsn_msg nod;  /* a failure, no DSN items */

static void status_is(const char *para, const char *exp, const char *name)
{
  char st[12];
  dsn_status(para, strlen(para), st);
  is_str(st, exp, name);
}

static void test_status(void)
{
  status_is("<a@b>:\nSorry, no mailbox here by that name. (#5.1.1)\n", "5.1.1", "qmail's (#5.1.1)");
  status_is("<a@b>:\nx (#5.2.0)\ny (#5.1.1)\n", "5.2.0", "the first code");
  status_is("<a@b>:\nConnected to 1.2.3.4 but it said. Remote host said: 550 5.7.1 no relay\n",
            "5.7.1", "the remote reply's enhanced code");
  status_is("<a@b>:\nRemote host said: 550-5.1.2 x / 550 5.1.2 y\n", "5.1.2", "multi-line reply");
  status_is("<a@b>:\nRemote host said: 550 no such user\n", "5.0.0", "no code: 5.0.0");
  status_is("<a@b>:\nRemote host said: 550 5.1.1234 x\n", "5.0.0", "detail of 4 digits: no code");
  status_is("<a@b>:\nx (#5.x.1)\n", "5.0.0", "junk code ignored");
  status_is("<a@b>:\nx (#4.4.1)\n", "5.0.0", "a 4.x.x code is no failure status");
  status_is("<a@b>:\nx (#5.5.5\n", "5.0.0", "no closing parenthesis");
  status_is("<a@b>:\nConnected to 1.2.3.4 but timed out (#4.4.2)\n"
            "I'm not going to try again; this message has been in the queue too long.\n",
            "4.4.7", "queue lifetime: 4.4.7");
}

static void test_fields(void)
{
  stralloc o = {0};
  char word[1200];
  const char *p1 = "<bob@b.test>:\nConnected to 192.0.2.7 but sender was rejected. "
                   "Remote host said: 553 5.7.1 we do not like you\n";
  const char *p6 = "<c@d>:\nConnected to 2001:db8::1 but it said. Remote host said: 550 x\n";
  is_int(dsn_fields(&o, p1, strlen(p1), &nod), 0, "fields: remote paragraph");
  is_sa(o, "\nFinal-Recipient: rfc822; bob@b.test\nAction: failed\nStatus: 5.7.1\n"
           "Remote-MTA: dns; [192.0.2.7]\nDiagnostic-Code: smtp; 553 5.7.1 we do not like you\n",
        "fields: golden");
  o.len = 0;
  dsn_fields(&o, p6, strlen(p6), &nod);
  ok(memmem(o.s, o.len, "Remote-MTA: dns; [IPv6:2001:db8::1]\n", 36) != 0, "fields: IPv6 remote");
  o.len = 0;
  dsn_fields(&o, "<x@y>:\nConnected to evil]host but x\n", 36, &nod);
  ok(!memmem(o.s, o.len, "Remote-MTA", 10), "fields: no Remote-MTA for a name that is no address");
  o.len = 0;
  is_int(dsn_fields(&o, "x@y:\nno\n", 8, &nod), 1, "fields: not a paragraph");
  is_int(o.len, 0, "fields: nothing appended then");
  dsn_fields(&o, "<a\tb\x7f@c>:\nlocal (#5.1.1)\n", 24, &nod);
  ok(memmem(o.s, o.len, "Final-Recipient: rfc822; a_b_@c\n", 32) != 0, "fields: control bytes as _");
  ok(!memmem(o.s, o.len, "Diagnostic", 10), "fields: no Diagnostic-Code without a remote reply");
  o.len = 0;
  dsn_fields(&o, "<\xc3\xa9@c>:\nx\n", 10, &nod);
  ok(memmem(o.s, o.len, "Final-Recipient: utf-8; \xc3\xa9@c\n", 28) != 0, "fields: 8-bit address: utf-8 type");
  {
    stralloc p = {0};
    size_t i, col = 0, maxcol = 0;
    stralloc_copys(&p, "<a@b>:\nRemote host said: 550");
    for (i = 0; i < 60; i++) stralloc_cats(&p, " word");
    memset(word, 'w', sizeof word);
    stralloc_cats(&p, " ");
    stralloc_catb(&p, word, sizeof word);
    stralloc_cats(&p, "\n");
    o.len = 0;
    dsn_fields(&o, p.s, p.len, &nod);
    for (i = 0; i < o.len; i++) {  /* lines without the long word */
      if (o.s[i] == '\n') { col = 0; continue; }
      if (o.s[i] == 'w' && i + 1 < o.len && o.s[i + 1] == 'w') col = 0;  /* in the long word */
      else if (++col > maxcol) maxcol = col;
    }
    ok(maxcol <= DSN_FOLD, "fields: the diagnostic is folded at blanks");
    ok(memmem(o.s, o.len, "\n 550 word", 10) == 0 && memmem(o.s, o.len, "\n word", 6) != 0,
       "fields: continuation lines start with a blank");
    ok(memmem(o.s, o.len, " [...]\n", 7) != 0, "fields: an overlong word is cut");
    stralloc_free(&p);
  }
  stralloc_free(&o);
}

static const char dsn_exp[] =
  "From: MAILER-DAEMON@hub.test\n"
  "To: alice@a.test\n"
  "Subject: failure notice\n"
  "Date: " DATE "\n"
  "MIME-Version: 1.0\n"
  "Content-Type: multipart/report; report-type=delivery-status;\n"
  " boundary=\"=_qmail-dsn_7_1000000000_0\"\n"
  "\n"
  "This is a delivery status notification in MIME format.\n"
  "\n--=_qmail-dsn_7_1000000000_0\n"
  "Content-Type: text/plain; charset=us-ascii\n"
  "\n"
  "Hi. This is the qmail-send program at hub.test.\n"
  "Your message could not be delivered to the addresses listed below.\n"
  "The failure is permanent, so no further attempts will be made. Sorry.\n"
  "\n"
  "<bob@b.test>:\n"
  "Sorry, no mailbox here by that name. (#5.1.1)\n"
  "\n"
  "<carol@c.test>:\n"
  "Connected to 192.0.2.1 but sender was rejected. Remote host said: 550 no\n"
  "\n"
  "\n--=_qmail-dsn_7_1000000000_0\n"
  "Content-Type: message/delivery-status\n"
  "\n"
  "Reporting-MTA: dns; hub.test\n"
  "Arrival-Date: Sun, 9 Sep 2001 01:46:00 +0000\n"
  "\n"
  "Final-Recipient: rfc822; bob@b.test\n"
  "Action: failed\n"
  "Status: 5.1.1\n"
  "\n"
  "Final-Recipient: rfc822; carol@c.test\n"
  "Action: failed\n"
  "Status: 5.0.0\n"
  "Remote-MTA: dns; [192.0.2.1]\n"
  "Diagnostic-Code: smtp; 550 no\n"
  "\n--=_qmail-dsn_7_1000000000_0\n"
  "Content-Type: message/rfc822\n"
  "\n"
  "Return-Path: <alice@a.test>\n";

static void test_compose(void)
{
  stralloc p = {0}, out = {0}, b = {0};
  struct dsn_msg d = { .arrival = T - 40 };
  const char r1[] = "Sorry, no mailbox here by that name. (#5.1.1)\n";
  const char r2[] = "Connected to 192.0.2.1 but sender was rejected. Remote host said: 550 no\n";
  bounce_rcpt(&p, "bob@b.test", 10, r1, sizeof r1 - 1);
  bounce_rcpt(&p, "carol@c.test", 12, r2, sizeof r2 - 1);
  is_int(dsn_boundary(&b, 7, T, 0), 0, "boundary");
  is_str(b.s, "=_qmail-dsn_7_1000000000_0", "boundary text");
  d.boundary = b.s;
  is_int(dsn_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, &d), BOUNCE_SINGLE, "compose: kind");
  is_sa(out, dsn_exp, "compose: golden text");
  ok(dsn_boundary_ok(&out, b.s), "compose: boundary only where it belongs");
  is_int(dsn_end(&out, b.s), 0, "end");
  ok(out.len > 33 && memcmp(out.s + out.len - 33, "\n\n--=_qmail-dsn_7_1000000000_0--\n", 33) == 0,
     "end: closing delimiter");
  /* the boundary in a failure text or the sender: not ok */
  p.len = 0;
  bounce_rcpt(&p, "x@y", 3, "said =_qmail-dsn_7_1000000000_0 here", 36);
  dsn_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, &d);
  ok(!dsn_boundary_ok(&out, b.s), "boundary in the report text: refused");
  p.len = 0;
  bounce_rcpt(&p, "x@y", 3, "fine", 4);
  dsn_compose(&out, &bc, "=_qmail-dsn_7_1000000000_0@a", 28, p.s, p.len, T, &d);
  ok(!dsn_boundary_ok(&out, b.s), "boundary in the sender: refused");
  /* headers only */
  d.hdrs_only = 1;
  d.cut = 3000;
  dsn_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, &d);
  ok(memmem(out.s, out.len, "Content-Type: text/rfc822-headers\n\nReturn-Path: <alice@a.test>\n", 63) != 0,
     "cut: text/rfc822-headers");
  ok(!memmem(out.s, out.len, "message/rfc822", 14), "cut: never message/rfc822");
  ok(memmem(out.s, out.len, "longer than 3000 bytes, so only its header", 42) != 0, "cut: a note says why");
  d.cut = 0;
  dsn_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, &d);
  ok(memmem(out.s, out.len, "Only the header of the message is returned.\n", 44) != 0, "headers only: note");
  /* double bounce and discard */
  d.hdrs_only = 0;
  is_int(dsn_compose(&out, &bc, "", 0, p.s, p.len, T, &d), BOUNCE_DOUBLE, "double: kind");
  ok(memmem(out.s, out.len, "To: postmaster@pm.test\n", 23) && memmem(out.s, out.len, "bounce itself bounced", 21),
     "double: to doublebounceto, double intro");
  is_int(dsn_compose(&out, &bc, "#@[]", 4, p.s, p.len, T, &d), BOUNCE_DISCARD, "triple: discard");
  is_int(out.len, 0, "triple: nothing");
  /* 8-bit report text */
  p.len = 0;
  bounce_rcpt(&p, "x@y", 3, "caf\xc3\xa9", 5);
  dsn_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, &d);
  ok(memmem(out.s, out.len, "charset=utf-8\nContent-Transfer-Encoding: 8bit\n", 46) != 0, "8-bit text: declared");
  stralloc_free(&p); stralloc_free(&out); stralloc_free(&b);
}

/* has: out holds the text s */
static int has(const stralloc *out, const char *s)
{
  return memmem(out->s, out->len, s, strlen(s)) != 0;
}

/* the DSN items of info/S/N (todo.h): ENVID, ORCPT, success notices */
static const char items[] =
  "dRET=HDRS ENVID=ev+2Bid\0"
  "Rother@x\0dNOTIFY=NEVER\0"
  "Rbob@b.test\0dNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+40B.test\0";

static void test_items(void)
{
  stralloc p = {0}, out = {0}, b = {0};
  struct dsn_msg d = { .arrival = T, .items = items, .ilen = sizeof items - 1 };
  struct dsn_mail dm;
  struct dsn_rcpt dr;
  const char r1[] = "Sorry, no mailbox here by that name. (#5.1.1)\n";
  dsn_items_mail(items, sizeof items - 1, &dm);
  ok(dm.ret == DSN_RET_HDRS && dm.envidlen == 7, "items: the message's RET and ENVID");
  ok(dsn_items_rcpt(items, sizeof items - 1, "other@x", 7, &dr) && dr.notify == DSN_NOTIFY_NEVER,
     "items: a recipient's NOTIFY");
  ok(!dsn_items_rcpt(items, sizeof items - 1, "bob@b", 5, &dr) && !dr.notify, "items: a prefix is no match");
  ok(!dsn_items_rcpt(items + 24, sizeof items - 25, "x", 1, &dr), "items: unknown address");
  dsn_items_mail(items + 24, sizeof items - 25, &dm);
  ok(!dm.ret && !dm.has_envid, "items: no message item");
  bounce_rcpt(&p, "bob@b.test", 10, r1, sizeof r1 - 1);
  dsn_boundary(&b, 7, T, 0);
  d.boundary = b.s;
  dsn_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, &d);
  ok(has(&out, "\nOriginal-Envelope-Id: ev+id\nReporting-MTA: dns; hub.test\n") != 0,
     "ENVID: Original-Envelope-Id decoded, before Reporting-MTA");
  ok(has(&out, "\n\nOriginal-Recipient: rfc822;Bob@B.test\nFinal-Recipient: rfc822; bob@b.test\n"
            "Action: failed\nStatus: 5.1.1\n") != 0, "ORCPT: Original-Recipient decoded, before Final-Recipient");
  d.action = DSN_DELIVERED;
  p.len = 0;
  bounce_rcpt(&p, "bob@b.test", 10, "did 1+0+0", 9);
  dsn_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, &d);
  ok(has(&out, "Subject: delivery notice\n") && has(&out, "was delivered to") &&
     !has(&out, "could not be delivered"), "delivered: subject and words");
  ok(has(&out, "Action: delivered\nStatus: 2.0.0\n") != 0, "delivered: Action and Status");
  d.action = DSN_RELAYED;
  dsn_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, &d);
  ok(has(&out, "Action: relayed\nStatus: 2.0.0\n") && has(&out, "was relayed"),
     "relayed: Action, Status and words");
  ok(dsn_boundary_ok(&out, b.s), "relayed: boundary count");
  stralloc_free(&p); stralloc_free(&out); stralloc_free(&b);
}

static void put(const char *dir, const char *name, const char *text)
{
  char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/control/%s", dir, name);
  f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) { perror(path); exit(2); }
}

static void test_style(void)
{
  char home[] = "/tmp/qdsnXXXXXX", path[256];
  int st = 7;
  if (!mkdtemp(home)) { perror("mkdtemp"); exit(2); }
  snprintf(path, sizeof path, "%s/control", home);
  mkdir(path, 0755);
  setenv("QMAILHOME", home, 1);
  ok(dsn_style(&st) == 0 && st == BOUNCE_QSBMF, "style: no file: qsbmf");
  put(home, "bouncestyle", "dsn\n");
  ok(dsn_style(&st) == 0 && st == BOUNCE_DSN, "style: dsn");
  put(home, "bouncestyle", " qsbmf \n");
  ok(dsn_style(&st) == 0 && st == BOUNCE_QSBMF, "style: qsbmf with blanks");
  st = 7;
  put(home, "bouncestyle", "DSN\n");
  ok(dsn_style(&st) == -1 && errno == EINVAL && st == 7, "style: junk is an error, not the default");
  put(home, "bouncestyle", "\n");
  ok(dsn_style(&st) == -1 && st == 7, "style: empty line is an error");
  snprintf(path, sizeof path, "rm -rf '%s'", home);
  if (system(path) != 0) perror("rm");
}

int main(void)
{
  if (bounce_conf_set(&bc, "me.test", 0, "hub.test", 0, "pm.test") < 0) return 2;
  test_status();
  test_fields();
  test_compose();
  test_items();
  test_style();
  bounce_conf_free(&bc);
  return done_testing();
}
