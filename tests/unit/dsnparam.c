/* tests/unit/dsnparam.c: TAP tests for hub/servers/dsnparam.c: xtext
 * (valid and invalid forms, lower-case hex, a cut "+H", '=' and blanks,
 * decoded control bytes refused, decode and encode round trip), RET,
 * ENVID (the 100-byte cap), NOTIFY (NEVER alone, the word list, repeats,
 * empty words, case), ORCPT (type;xtext, the 500-byte cap), a parameter
 * given twice, and the queue's item form written and read back. */
#include <string.h>
#include "tap.h"
#include "stralloc.h"
#include "dsnparam.h"

#define S(x) x, sizeof x - 1

static void test_xtext(void)
{
  stralloc o = {0};
  char big[600];
  ok(dsn_xtext_ok(S("abc")), "xtext: plain");
  ok(dsn_xtext_ok(S("a+2Bb+3Dc")), "xtext: +2B and +3D");
  ok(!dsn_xtext_ok(S("a+2bb")), "xtext: lower-case hex refused");
  ok(!dsn_xtext_ok(S("a+2")), "xtext: cut +H refused");
  ok(!dsn_xtext_ok(S("a+")), "xtext: lone + refused");
  ok(!dsn_xtext_ok(S("a=b")), "xtext: = refused");
  ok(!dsn_xtext_ok(S("a b")), "xtext: blank refused");
  ok(!dsn_xtext_ok(S("a\x7f")), "xtext: DEL refused");
  ok(!dsn_xtext_ok(S("a\xc3\xa9")), "xtext: 8-bit refused");
  ok(!dsn_xtext_ok(S("a+0D+0Ab")), "xtext: encoded CR LF refused");
  ok(!dsn_xtext_ok(S("+00")), "xtext: encoded NUL refused");
  ok(dsn_xtext_ok(S("+20")), "xtext: encoded blank allowed");
  ok(!dsn_xtext_ok("", 0), "xtext: empty refused");
  is_int(dsn_xtext_decode(&o, S("a+2Bb+3D+20c")), 0, "decode");
  is_sa(o, "a+b= c", "decode: text");
  o.len = 0;
  is_int(dsn_xtext_decode(&o, S("a+0A")), DSNP_SYNTAX, "decode: bad text refused");
  is_int(o.len, 0, "decode: nothing appended then");
  is_int(dsn_xtext_encode(&o, S("a+b= c\n")), 0, "encode");
  is_sa(o, "a+2Bb+3D+20c+0A", "encode: text");
  memset(big, 'x', sizeof big);
  o.len = 0;
  dsn_xtext_encode(&o, big, sizeof big);
  ok(o.len == sizeof big && dsn_xtext_ok(o.s, o.len), "encode: long plain text stays");
  stralloc_free(&o);
}

static void test_mail(void)
{
  struct dsn_mail d;
  char env[DSN_ENVID_MAX + 2];
  stralloc o = {0};
  memset(&d, 0, sizeof d);
  is_int(dsn_ret(&d, S("hdrs")), DSNP_OK, "RET=hdrs (any case)");
  is_int(d.ret, DSN_RET_HDRS, "RET: HDRS");
  is_int(dsn_ret(&d, S("FULL")), DSNP_SYNTAX, "RET twice refused");
  memset(&d, 0, sizeof d);
  is_int(dsn_ret(&d, S("FULLY")), DSNP_SYNTAX, "RET=FULLY refused");
  is_int(dsn_ret(&d, "", 0), DSNP_SYNTAX, "RET= empty refused");
  is_int(dsn_ret(&d, S("FULL")), DSNP_OK, "RET=FULL");
  memset(env, 'e', sizeof env);
  is_int(dsn_envid(&d, env, DSN_ENVID_MAX + 1), DSNP_SYNTAX, "ENVID over 100 refused");
  is_int(dsn_envid(&d, env, DSN_ENVID_MAX), DSNP_OK, "ENVID of 100 taken");
  is_int(dsn_envid(&d, S("x")), DSNP_SYNTAX, "ENVID twice refused");
  memset(&d, 0, sizeof d);
  is_int(dsn_envid(&d, S("a b")), DSNP_SYNTAX, "ENVID not xtext refused");
  is_int(dsn_envid(&d, S("QQ314159+2Bx")), DSNP_OK, "ENVID xtext");
  is_int(dsn_mail_item(&o, &d), 0, "item");
  is_sa(o, "ENVID=QQ314159+2Bx", "item: ENVID alone");
  dsn_ret(&d, S("HDRS"));
  o.len = 0;
  dsn_mail_item(&o, &d);
  is_sa(o, "RET=HDRS ENVID=QQ314159+2Bx", "item: RET and ENVID");
  memset(&d, 0, sizeof d);
  is_int(dsn_mail_parse(&d, o.s, o.len), DSNP_OK, "item read back");
  ok(d.ret == DSN_RET_HDRS && d.envidlen == 12 && !memcmp(d.envid, "QQ314159+2Bx", 12), "item read back: values");
  is_int(dsn_mail_parse(&d, S("RET=HDRS NOTIFY=NEVER")), DSNP_SYNTAX, "item: an unknown word refused");
  is_int(dsn_mail_parse(&d, S("RET=HDRS RET=FULL")), DSNP_SYNTAX, "item: a word twice refused");
  is_int(dsn_mail_parse(&d, S("RET")), DSNP_SYNTAX, "item: a word without = refused");
  is_int(dsn_mail_parse(&d, "", 0), DSNP_OK, "item: empty is nothing");
  is_int(d.ret + d.has_envid, 0, "item: empty: nothing set");
  stralloc_free(&o);
}

static void test_rcpt(void)
{
  struct dsn_rcpt d;
  char orc[DSN_ORCPT_MAX + 2];
  stralloc o = {0};
  memset(&d, 0, sizeof d);
  is_int(dsn_notify(&d, S("never")), DSNP_OK, "NOTIFY=never");
  is_int(d.notify, DSN_NOTIFY_NEVER, "NOTIFY: NEVER");
  is_int(dsn_notify(&d, S("FAILURE")), DSNP_SYNTAX, "NOTIFY twice refused");
  memset(&d, 0, sizeof d);
  is_int(dsn_notify(&d, S("NEVER,FAILURE")), DSNP_SYNTAX, "NEVER with another word refused");
  is_int(dsn_notify(&d, S("SUCCESS,SUCCESS")), DSNP_SYNTAX, "a word twice refused");
  is_int(dsn_notify(&d, S("SUCCESS,")), DSNP_SYNTAX, "an empty word refused");
  is_int(dsn_notify(&d, S(",FAILURE")), DSNP_SYNTAX, "a leading comma refused");
  is_int(dsn_notify(&d, "", 0), DSNP_SYNTAX, "empty refused");
  is_int(dsn_notify(&d, S("SOMETIMES")), DSNP_SYNTAX, "an unknown word refused");
  is_int(dsn_notify(&d, S("delay,Success,FAILURE")), DSNP_OK, "three words, any case");
  is_int(d.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY, "three words: flags");
  is_int(dsn_orcpt(&d, S("rfc822;bob+40b.test")), DSNP_OK, "ORCPT rfc822;xtext");
  is_int(dsn_orcpt(&d, S("rfc822;x")), DSNP_SYNTAX, "ORCPT twice refused");
  dsn_rcpt_item(&o, &d);
  is_sa(o, "NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;bob+40b.test", "item: NOTIFY and ORCPT");
  memset(&d, 0, sizeof d);
  is_int(dsn_rcpt_parse(&d, o.s, o.len), DSNP_OK, "item read back");
  ok(d.notify == (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY) && d.orcptlen == 19,
     "item read back: values");
  memset(&d, 0, sizeof d);
  is_int(dsn_orcpt(&d, S("rfc822")), DSNP_SYNTAX, "ORCPT without ; refused");
  is_int(dsn_orcpt(&d, S(";a@b")), DSNP_SYNTAX, "ORCPT without type refused");
  is_int(dsn_orcpt(&d, S("rfc822;")), DSNP_SYNTAX, "ORCPT without address refused");
  is_int(dsn_orcpt(&d, S("rfc 822;a@b")), DSNP_SYNTAX, "ORCPT type with a blank refused");
  is_int(dsn_orcpt(&d, S("rfc822;a+0D+0Ab")), DSNP_SYNTAX, "ORCPT with encoded CR LF refused");
  memcpy(orc, "rfc822;", 7);
  memset(orc + 7, 'a', sizeof orc - 7);
  is_int(dsn_orcpt(&d, orc, DSN_ORCPT_MAX + 1), DSNP_SYNTAX, "ORCPT over 500 refused");
  is_int(dsn_orcpt(&d, orc, DSN_ORCPT_MAX), DSNP_OK, "ORCPT of 500 taken");
  memset(&d, 0, sizeof d);
  dsn_notify(&d, S("NEVER"));
  o.len = 0;
  dsn_rcpt_item(&o, &d);
  is_sa(o, "NOTIFY=NEVER", "item: NOTIFY=NEVER alone");
  is_int(dsn_rcpt_parse(&d, S("NOTIFY=NEVER  ORCPT=utf-8;x")), DSNP_OK, "item: blanks between words");
  is_int(dsn_rcpt_parse(&d, S("ORCPT=a;b ENVID=x")), DSNP_SYNTAX, "item: a MAIL word refused");
  stralloc_free(&o);
}

int main(void)
{
  test_xtext();
  test_mail();
  test_rcpt();
  return done_testing();
}
