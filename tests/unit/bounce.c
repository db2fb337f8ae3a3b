/* tests/unit/bounce.c: TAP tests for hub/send/bounce.c with golden strings:
 * a single bounce (header, intro starting "Hi. This is the", recipient
 * paragraphs, break, Return-Path), Message-ID optional, a double bounce
 * (envelope "#@[]" to doublebounceto@doublebouncehost), the triple-bounce
 * discard, VERP expansion and collapse, report neutralisation (blank
 * lines, CRLF, bare CR, NUL, CR/LF in addresses), the line, report and
 * address caps, the cut note, and the control-file loaders over a
 * temporary $QMAILHOME (defaults, bouncemaxbytes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tap.h"
#include "stralloc.h"
#include "bounce.h"

#define T 1000000000
#define DATE "Sun, 9 Sep 2001 01:46:40 +0000"

static struct bounce_conf bc;

static const char single_exp[] =
  "From: MAILER-DAEMON@hub.test\n"
  "To: alice@a.test\n"
  "Subject: failure notice\n"
  "Date: " DATE "\n"
  "Message-ID: <1.2@hub.test>\n"
  "\n"
  "Hi. This is the qmail-send program at hub.test.\n"
  "Your message could not be delivered to the addresses listed below.\n"
  "The failure is permanent, so no further attempts will be made. Sorry.\n"
  "\n"
  "<bob@b.test>:\n"
  "Sorry, no mailbox here by that name. (#5.1.1)\n"
  "\n"
  "<carol@c.test>:\n"
  "Remote host said: 550 no\n"
  "/\n"
  "second paragraph kept inside\n"
  "\n"
  "--- Below this line is a copy of the message.\n"
  "\n"
  "Return-Path: <alice@a.test>\n";

static void test_single(void)
{
  stralloc p = {0}, out = {0};
  const char rep[] = "Remote host said: 550 no\r\n\r\nsecond paragraph kept inside\n";
  const char rep1[] = "Sorry, no mailbox here by that name. (#5.1.1)\n";
  is_int(bounce_rcpt(&p, "bob@b.test", 10, rep1, sizeof rep1 - 1), 0, "rcpt 1");
  is_int(bounce_rcpt(&p, "carol@c.test", 12, rep, sizeof rep - 1), 0, "rcpt 2");
  is_int(bounce_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, "1.2@hub.test"),
         BOUNCE_SINGLE, "single: kind");
  is_sa(out, single_exp, "single: golden text");
  ok(memmem(out.s, out.len, "\n\nHi. This is the ", 18) != 0, "intro starts with the QSBMF marker");
  is_int(bounce_compose(&out, &bc, "alice@a.test", 12, p.s, p.len, T, 0), BOUNCE_SINGLE, "no msgid");
  ok(out.len == sizeof single_exp - 1 - strlen("Message-ID: <1.2@hub.test>\n") &&
     !memmem(out.s, out.len, "Message-ID", 10), "no msgid: header left out");
  stralloc_free(&p);
  stralloc_free(&out);
}

static const char double_exp[] =
  "From: MAILER-DAEMON@hub.test\n"
  "To: postmaster@pm.test\n"
  "Subject: failure notice\n"
  "Date: " DATE "\n"
  "\n"
  "Hi. This is the qmail-send program at hub.test.\n"
  "A failure notice sent from here could not be delivered either:\n"
  "the bounce itself bounced. Here is what happened at each address.\n"
  "\n"
  "<alice@a.test>:\n"
  "gone\n"
  "\n"
  "--- Below this line is a copy of the message.\n"
  "\n"
  "Return-Path: <>\n";

static void test_kinds(void)
{
  stralloc p = {0}, out = {0}, f = {0}, t = {0};
  bounce_rcpt(&p, "alice@a.test", 12, "gone", 4);
  is_int(bounce_compose(&out, &bc, "", 0, p.s, p.len, T, 0), BOUNCE_DOUBLE, "double: kind");
  is_sa(out, double_exp, "double: golden text");
  is_int(bounce_envelope(&bc, "", 0, &f, &t), BOUNCE_DOUBLE, "double: envelope kind");
  is_sa(f, "#@[]", "double: envelope sender");
  is_sa(t, "postmaster@pm.test", "double: envelope recipient");
  is_int(bounce_compose(&out, &bc, "#@[]", 4, p.s, p.len, T, 0), BOUNCE_DISCARD, "triple: discard");
  is_int(out.len, 0, "triple: nothing composed");
  is_int(bounce_envelope(&bc, "#@[]", 4, &f, &t), BOUNCE_DISCARD, "triple: envelope");
  ok(f.len == 0 && t.len == 0, "triple: empty envelope");
  is_int(bounce_envelope(&bc, "a@b", 3, &f, &t), BOUNCE_SINGLE, "single: envelope");
  ok(f.len == 0, "single: envelope sender empty");
  is_sa(t, "a@b", "single: envelope recipient");
  is_int(bounce_envelope(&bc, "list-@l.test-@[]", 16, &f, &t), BOUNCE_SINGLE, "verp: single");
  is_sa(t, "list-@l.test", "verp: bounce goes to the collapsed sender");
  is_int(bounce_compose(&out, &bc, "list-@l.test-@[]", 16, 0, 0, T, 0), BOUNCE_SINGLE, "verp compose");
  ok(memmem(out.s, out.len, "\nTo: list-@l.test\n", 18) &&
     memmem(out.s, out.len, "Return-Path: <list-@l.test-@[]>\n", 32),
     "verp: To collapsed, Return-Path as received");
  is_int(bounce_kind("-@[]", 4), BOUNCE_DOUBLE, "verp collapsing to empty: double");
  is_int(bounce_kind("#@[]x", 5), BOUNCE_SINGLE, "#@[]x is an ordinary sender");
  stralloc_free(&p); stralloc_free(&out); stralloc_free(&f); stralloc_free(&t);
}

static void test_verp(void)
{
  stralloc o = {0};
  is_int(bounce_verp("list-@l.test-@[]", 16, "bob@b.test", 10, &o), 1, "verp: applied");
  is_sa(o, "list-bob=b.test@l.test", "verp: prefix-rbox=rhost@host");
  is_int(bounce_verp("list-@l.test-@[]", 16, "a@b@c.test", 10, &o), 1, "verp: last @");
  is_sa(o, "list-a@b=c.test@l.test", "verp: rhost after the last @");
  is_int(bounce_verp("list-@l.test-@[]", 16, "bob", 3, &o), 1, "verp: rcpt without @");
  is_sa(o, "list-bob@l.test", "verp: no =rhost");
  is_int(bounce_verp("x-@[]", 5, "bob@b", 5, &o), 1, "verp: sender without host");
  is_sa(o, "xbob=b", "verp: no @host");
  is_int(bounce_verp("alice@a.test", 12, "bob@b", 5, &o), 0, "verp: plain sender");
  is_sa(o, "alice@a.test", "verp: plain sender copied");
  is_int(bounce_verp("", 0, "bob@b", 5, &o), 0, "verp: empty sender");
  is_int(o.len, 0, "verp: empty copied");
  is_int(bounce_unverp("p-@h-@[]", 8, &o), 1, "unverp");
  is_sa(o, "p-@h", "unverp: collapsed");
  is_int(bounce_unverp("p@h", 3, &o), 0, "unverp: plain");
  is_sa(o, "p@h", "unverp: plain copied");
  stralloc_free(&o);
}

static void test_neutralise(void)
{
  stralloc p = {0};
  static char longline[BOUNCE_LINE_MAX + 10], many[BOUNCE_REPORT_LINES * 2 + 10];
  static char longaddr[BOUNCE_ADDR_MAX + 5];
  size_t i;
  bounce_rcpt(&p, "a\nb\rc\0d", 7, "x\0y\rz\n \t\nlast", 13);
  is_sa(p, "<a_b_c_d>:\nx_y_z\n/\nlast\n\n", "CR/LF/NUL in address and report, blank line");
  p.len = 0;
  bounce_rcpt(&p, "a@b", 3, "", 0);
  is_sa(p, "<a@b>:\n\n", "empty report");
  p.len = 0;
  bounce_rcpt(&p, "a@b", 3, "\n\n", 2);
  is_sa(p, "<a@b>:\n/\n/\n\n", "report of blank lines");
  memset(longline, 'x', sizeof longline);
  p.len = 0;
  bounce_rcpt(&p, "a@b", 3, longline, sizeof longline);
  is_int(p.len, 7 + BOUNCE_LINE_MAX + 6 + 2, "long line cut");
  ok(p.len > 8 && memcmp(p.s + p.len - 8, " [...]\n\n", 8) == 0, "long line marked");
  for (i = 0; i < sizeof many; i += 2) { many[i] = 'l'; many[i + 1] = '\n'; }
  p.len = 0;
  bounce_rcpt(&p, "a@b", 3, many, sizeof many);
  is_int(p.len, 7 + BOUNCE_REPORT_LINES * 2 + 21 + 1, "report lines capped");
  ok(memmem(p.s, p.len, "l\n[rest of report cut]\n\n", 24) != 0, "report cut marked");
  memset(longaddr, 'a', sizeof longaddr);
  p.len = 0;
  bounce_rcpt(&p, longaddr, sizeof longaddr, "r", 1);
  is_int(p.len, 1 + BOUNCE_ADDR_MAX + 3 + 2 + 1, "address capped");
  p.len = 0;
  bounce_cutnote(&p, 65536, 1);
  is_sa(p, "\n[The rest of the message was cut: a bounce carries only its first 65536 bytes.]\n",
        "cut note mid-line");
  p.len = 0;
  bounce_cutnote(&p, 10, 0);
  is_sa(p, "[The rest of the message was cut: a bounce carries only its first 10 bytes.]\n",
        "cut note at line start");
  stralloc_free(&p);
}

static void put(const char *dir, const char *name, const char *text)
{
  char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/control/%s", dir, name);
  f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) { perror(path); exit(2); }
}

static void test_load(void)
{
  char home[] = "/tmp/qbncXXXXXX", path[256];
  struct bounce_conf c = { {0}, {0}, {0}, {0}, 0 };
  unsigned long lim = 0;
  if (!mkdtemp(home)) { perror("mkdtemp"); exit(2); }
  snprintf(path, sizeof path, "%s/control", home);
  mkdir(path, 0755);
  setenv("QMAILHOME", home, 1);
  ok(bounce_copylimit(&lim) == 0 && lim == 65536, "copylimit default");
  ok(bounce_conf_load(&c) == 0, "load: no files");
  is_sa(c.from, "MAILER-DAEMON", "load: bouncefrom default");
  is_sa(c.host, "localhost", "load: no me: localhost");
  put(home, "me", "me.test\n");
  ok(bounce_conf_load(&c) == 0, "load: me");
  is_sa(c.host, "me.test", "load: bouncehost = me");
  is_sa(c.dbto, "postmaster", "load: doublebounceto default");
  is_sa(c.dbhost, "me.test", "load: doublebouncehost = me");
  put(home, "bouncefrom", "bounces\n");
  put(home, "bouncehost", "bh.test\n");
  put(home, "doublebounceto", "dbt\n");
  put(home, "doublebouncehost", "dbh.test\n");
  put(home, "bouncemaxbytes", "1000\n");
  ok(bounce_conf_load(&c) == 0, "load: all files");
  ok(c.from.len == 7 && c.host.len == 7 && c.dbto.len == 3 && c.dbhost.len == 8, "load: values");
  is_int(c.dbdiscard, 0, "load: doublebounceto set: double bounces sent");
  put(home, "doublebounceto", "\n");
  ok(bounce_conf_load(&c) == 0, "load: empty doublebounceto");
  is_int(c.dbdiscard, 1, "load: empty doublebounceto: double bounces dropped");
  put(home, "doublebounceto", "dbt\n");
  ok(bounce_conf_load(&c) == 0 && !c.dbdiscard, "load: doublebounceto again: not dropped");
  ok(bounce_copylimit(&lim) == 0 && lim == 1000, "copylimit from file");
  put(home, "bouncemaxbytes", "0\n");
  ok(bounce_copylimit(&lim) == 0 && lim == 0, "copylimit 0 = no cap");
  put(home, "bouncemaxbytes", "junk\n");
  lim = 7;
  ok(bounce_copylimit(&lim) == -1 && lim == 7, "copylimit garbage: an error, not the default");
  bounce_conf_free(&c);
  snprintf(path, sizeof path, "rm -rf '%s'", home);
  if (system(path) != 0) perror("rm");
}

int main(void)
{
  if (bounce_conf_set(&bc, "me.test", 0, "hub.test", 0, "pm.test") < 0) return 2;
  test_single();
  test_kinds();
  test_verp();
  test_neutralise();
  test_load();
  bounce_conf_free(&bc);
  return done_testing();
}
