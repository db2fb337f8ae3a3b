/* tests/unit/smtpcmd.c: TAP tests for hub/servers/smtpcmd.c: splitting command
 * lines (CRLF, bare LF, blanks, NUL), verb matching, MAIL/RCPT paths
 * (brackets, lenient bare form S10, space after the colon, source routes
 * R6/R7, quoting R5, NUL S9, control characters, the address cap S12,
 * unbalanced brackets), ESMTP parameters (SIZE with overflow S11, BODY,
 * unknown ones -> 555), MAIL's AUTH= (xtext or <>, only where AUTH is on),
 * MAIL's SMTPUTF8 (no value, only where allowed), the 8-bit address rule
 * (smtpcmd_utf8) and the reply text for each result. */
#include <limits.h>
#include <string.h>
#include "tap.h"
#include "smtpcmd.h"

static struct smtp_path p;

/* path: parse a C string (or n bytes when n != 0) with a big cap */
static int path(const char *arg, size_t n, const char *kw, unsigned params)
{
  return smtpcmd_path(arg, n ? n : strlen(arg), kw, params, 1000, &p);
}

#define MAILP (SMTPCMD_P_SIZE | SMTPCMD_P_BODY)

static void check_addr(const char *arg, const char *kw, const char *want, const char *name)
{
  int r = path(arg, 0, kw, MAILP);
  is_int(r, SMTPCMD_OK, name);
  is_sa(p.addr, want, name);
}

static void check_err(const char *arg, const char *kw, int want, const char *name)
{
  is_int(path(arg, 0, kw, MAILP), want, name);
}

static void test_split(void)
{
  char a[] = "HELO  client.example.net \r\n", b[] = "quit\n", c[] = "\r\n";
  char d[] = "MAIL FROM:<a\0@evil>\r\n", e[] = "NOOP";
  struct smtp_line l;
  is_int(smtpcmd_split(a, strlen(a), &l), SMTPCMD_OK, "split HELO");
  is_mem(l.verb, l.verblen, "HELO", "verb");
  is_mem(l.arg, l.arglen, "client.example.net", "argument without blanks");
  ok(smtpcmd_verbis(&l, "helo") && !smtpcmd_verbis(&l, "hel") && !smtpcmd_verbis(&l, "helox"),
     "verb match ignores case, whole word only");
  is_int(smtpcmd_split(b, strlen(b), &l), SMTPCMD_OK, "bare LF line (S7)");
  ok(smtpcmd_verbis(&l, "QUIT") && l.arglen == 0, "lower-case verb, no argument (S6)");
  is_int(smtpcmd_split(c, strlen(c), &l), SMTPCMD_OK, "empty line");
  ok(l.verblen == 0 && l.arglen == 0, "empty verb");
  is_int(smtpcmd_split(d, sizeof d - 1, &l), SMTPCMD_NUL, "NUL in line refused (S9)");
  is_int(smtpcmd_split(e, strlen(e), &l), SMTPCMD_OK, "line without line end");
  is_mem(l.verb, l.verblen, "NOOP", "verb at end of input");
}

static void test_paths(void)
{
  check_addr("FROM:<a@b.c>", "FROM", "a@b.c", "plain path");
  check_addr("from:<a@b.c>", "FROM", "a@b.c", "keyword in lower case");
  check_addr("FROM: <a@b.c>", "FROM", "a@b.c", "space after colon");
  check_addr("FROM:a@b.c", "FROM", "a@b.c", "no brackets (S10)");
  check_addr("FROM: a@b.c", "FROM", "a@b.c", "no brackets after space (S10)");
  check_addr("FROM:<>", "FROM", "", "null path");
  check_addr("TO:<postmaster>", "TO", "postmaster", "unqualified postmaster (S16)");
  check_addr("TO:<-x@example.org>", "TO", "-x@example.org", "leading dash is data (S14)");
  check_addr("FROM:<$(id)@x>", "FROM", "$(id)@x", "shell text kept as data (S13)");
  check_addr("FROM:<${run{id}}@x>", "FROM", "${run{id}}@x", "expander text kept as data (S13)");
  check_addr("TO:<@example.org:x@evil.test>", "TO", "x@evil.test", "source route stripped (R6)");
  check_addr("TO:<@a.example,@b.example:x@example.org>", "TO", "x@example.org", "two-hop route (R7)");
  check_addr("TO:<\"x@evil.test\"@example.org>", "TO", "x@evil.test@example.org", "quoted local part (R5)");
  check_addr("TO:<\"a>b\"@c>", "TO", "a>b@c", "bracket inside quotes");
  check_addr("TO:<\"john doe\"@c>", "TO", "john doe@c", "space inside quotes");
  check_addr("TO:<a\\>b@c>", "TO", "a>b@c", "backslash escape");
  check_addr("TO:<x%evil.test@example.org>", "TO", "x%evil.test@example.org", "percent hack is data (R3)");
  check_addr("TO:<evil.test!x@example.org>", "TO", "evil.test!x@example.org", "bang path is data (R4)");
  check_addr("TO:<x@[192.0.2.1]>", "TO", "x@[192.0.2.1]", "domain literal");
  check_addr("TO:<\xc3\xa9@example.org>", "TO", "\xc3\xa9@example.org", "8-bit bytes kept");
}

static void test_bad_paths(void)
{
  check_err("FROM:", "FROM", SMTPCMD_SYNTAX, "no path");
  check_err("FROM: ", "FROM", SMTPCMD_SYNTAX, "blank path");
  check_err("FROM<a@b.c>", "FROM", SMTPCMD_SYNTAX, "no colon");
  check_err("FROMX:<a@b.c>", "FROM", SMTPCMD_SYNTAX, "wrong keyword");
  check_err("TO:<a@b.c>", "FROM", SMTPCMD_SYNTAX, "TO for MAIL");
  check_err("FROM:<a@b.c", "FROM", SMTPCMD_SYNTAX, "unclosed bracket");
  check_err("FROM:a@b.c>", "FROM", SMTPCMD_SYNTAX, "stray closing bracket");
  check_err("FROM:<<a@b.c>>", "FROM", SMTPCMD_SYNTAX, "nested brackets");
  check_err("FROM:<a<b@c>", "FROM", SMTPCMD_SYNTAX, "bracket inside path");
  check_err("FROM:<a b@c>", "FROM", SMTPCMD_SYNTAX, "unquoted space inside path");
  check_err("FROM:<;sleep 5;>", "FROM", SMTPCMD_SYNTAX, "unquoted space (S13 text)");
  check_err("FROM:<\"a@b.c>", "FROM", SMTPCMD_SYNTAX, "unterminated quote");
  check_err("FROM:<a@b.c\\", "FROM", SMTPCMD_SYNTAX, "trailing backslash");
  check_err("TO:<@a,@b>", "TO", SMTPCMD_SYNTAX, "route without colon");
  check_err("TO:<@a b:x@y>", "TO", SMTPCMD_SYNTAX, "space in route");
  check_err("FROM:<a@b.c>x", "FROM", SMTPCMD_SYNTAX, "junk after path");
  check_err("FROM:<a\x01@b.c>", "FROM", SMTPCMD_CTRL, "control character");
  check_err("FROM:<a\t@b.c>", "FROM", SMTPCMD_CTRL, "tab");
  check_err("FROM:<\"a\x7f\"@b.c>", "FROM", SMTPCMD_CTRL, "DEL inside quotes");
  check_err("FROM:<a\\\x01@b.c>", "FROM", SMTPCMD_CTRL, "escaped control character");
  is_int(path("FROM:<a\0@evil>", 15, "FROM", MAILP), SMTPCMD_NUL, "NUL in path (S9)");
  is_int(path("FROM:<a@evil>\0", 14, "FROM", MAILP), SMTPCMD_NUL, "NUL after path");
}

static void test_cap(void)
{
  is_int(smtpcmd_path("TO:<abcdefghij>", 15, "TO", 0, 10, &p), SMTPCMD_OK, "address at the cap");
  is_int(smtpcmd_path("TO:<abcdefghijk>", 16, "TO", 0, 10, &p), SMTPCMD_TOOLONG, "one byte over (S12)");
  is_int(smtpcmd_path("TO:<\"abcdefghij\">", 17, "TO", 0, 10, &p), SMTPCMD_OK, "quotes not counted");
  is_int(smtpcmd_path("TO:abcdefghijk", 14, "TO", 0, 10, &p), SMTPCMD_TOOLONG, "bare form capped too");
  ok(p.addr.len <= 10, "address never grows past the cap");
}

static void test_params(void)
{
  is_int(path("FROM:<a@b.c> SIZE=12345", 0, "FROM", MAILP), SMTPCMD_OK, "SIZE");
  ok(p.has_size && p.size == 12345, "SIZE value");
  is_int(path("FROM:<a@b.c>", 0, "FROM", MAILP), SMTPCMD_OK, "no SIZE");
  ok(!p.has_size && p.size == 0 && p.body == SMTP_BODY_NONE, "fields reset between calls");
  is_int(path("FROM:<a@b.c> size=0  body=8bitmime", 0, "FROM", MAILP), SMTPCMD_OK, "two params");
  ok(p.has_size && p.size == 0 && p.body == SMTP_BODY_8BITMIME, "SIZE=0 and BODY=8BITMIME");
  is_int(path("FROM:a@b.c BODY=7BIT", 0, "FROM", MAILP), SMTPCMD_OK, "param after bare address");
  ok(p.body == SMTP_BODY_7BIT, "BODY=7BIT");
  is_int(path("FROM:<a@b.c> SIZE=18446744073709551615", 0, "FROM", MAILP), SMTPCMD_OK, "SIZE max");
  ok(p.size == ULLONG_MAX, "SIZE max value");
  is_int(path("FROM:<a@b.c> SIZE=999999999999999999999999999999", 0, "FROM", MAILP), SMTPCMD_OK,
         "SIZE overflow accepted");
  ok(p.size == ULLONG_MAX, "SIZE overflow saturates (S11)");
  is_int(path("FROM:<a@b.c> SIZE=999999999999", 0, "FROM", MAILP), SMTPCMD_OK, "SIZE S11 value");
  ok(p.size == 999999999999ULL, "SIZE 999999999999");
  check_err("FROM:<a@b.c> SIZE=", "FROM", SMTPCMD_PARAMSYN, "empty SIZE");
  check_err("FROM:<a@b.c> SIZE=12a", "FROM", SMTPCMD_PARAMSYN, "SIZE with a letter");
  check_err("FROM:<a@b.c> SIZE=-1", "FROM", SMTPCMD_PARAMSYN, "negative SIZE");
  check_err("FROM:<a@b.c> BODY=BINARYMIME", "FROM", SMTPCMD_PARAMSYN, "unknown BODY");
  check_err("FROM:<a@b.c> FOO=1", "FROM", SMTPCMD_PARAM, "unknown param (S11)");
  check_err("FROM:<a@b.c> SIZE", "FROM", SMTPCMD_PARAM, "SIZE without value");
  check_err("FROM:<a@b.c> SMTPUTF8", "FROM", SMTPCMD_PARAM, "SMTPUTF8 not offered");
  is_int(path("TO:<a@b.c> SIZE=1", 0, "TO", 0), SMTPCMD_PARAM, "SIZE not allowed for RCPT");
  is_int(path("TO:<a@b.c> NOTIFY=NEVER", 0, "TO", 0), SMTPCMD_PARAM, "DSN not offered");
}

static void test_replies(void)
{
  is_str(smtpcmd_reply(SMTPCMD_OK), "", "no reply for OK");
  ok(!strncmp(smtpcmd_reply(SMTPCMD_NUL), "501 5.5.4 ", 10), "NUL -> 501 5.5.4");
  ok(!strncmp(smtpcmd_reply(SMTPCMD_SYNTAX), "501 5.5.4 ", 10), "syntax -> 501 5.5.4");
  ok(!strncmp(smtpcmd_reply(SMTPCMD_CTRL), "501 5.5.4 ", 10), "control -> 501 5.5.4");
  ok(!strncmp(smtpcmd_reply(SMTPCMD_TOOLONG), "501 5.1.3 ", 10), "too long -> 501 5.1.3");
  ok(!strncmp(smtpcmd_reply(SMTPCMD_PARAMSYN), "501 5.5.4 ", 10), "bad value -> 501 5.5.4");
  ok(!strncmp(smtpcmd_reply(SMTPCMD_PARAM), "555 5.5.4 ", 10), "unknown param -> 555 5.5.4");
  ok(!strncmp(smtpcmd_reply(SMTPCMD_NOMEM), "421 4.3.0 ", 10), "no memory -> 421 4.3.0");
}

/* MAIL's AUTH= (RFC 4954 sec 5): xtext or <>, only when asked for */
static void test_auth_param(void)
{
  unsigned m = MAILP | SMTPCMD_P_AUTH;
  is_int(path("FROM:<a@b> AUTH=<>", 0, "FROM", m), SMTPCMD_OK, "AUTH=<>");
  is_int(path("FROM:<a@b> AUTH=alice+40example.org", 0, "FROM", m), SMTPCMD_OK, "AUTH=xtext with +40");
  is_int(path("FROM:<a@b> SIZE=10 AUTH=x BODY=8BITMIME", 0, "FROM", m), SMTPCMD_OK, "AUTH= among others");
  ok(p.has_size && p.size == 10 && p.body == SMTP_BODY_8BITMIME, "and the others still read");
  is_int(path("FROM:<a@b> AUTH=<>", 0, "FROM", MAILP), SMTPCMD_PARAM, "AUTH= not asked for: 555");
  is_int(path("FROM:<a@b> AUTH=", 0, "FROM", m), SMTPCMD_PARAMSYN, "AUTH= empty");
  is_int(path("FROM:<a@b> AUTH=a+4", 0, "FROM", m), SMTPCMD_PARAMSYN, "AUTH= a cut +HH");
  is_int(path("FROM:<a@b> AUTH=a+4g", 0, "FROM", m), SMTPCMD_PARAMSYN, "AUTH= +HH not hex");
  is_int(path("FROM:<a@b> AUTH=a+4a", 0, "FROM", m), SMTPCMD_PARAMSYN, "AUTH= +HH in lower case");
  is_int(path("FROM:<a@b> AUTH=a=b", 0, "FROM", m), SMTPCMD_PARAMSYN, "AUTH= with '='");
  is_int(path("FROM:<a@b> AUTH=a\x7f", 0, "FROM", m), SMTPCMD_PARAMSYN, "AUTH= with DEL");
  is_int(path("FROM:<a@b> AUTH=<x>", 0, "FROM", m), SMTPCMD_OK, "AUTH=<x> is xtext too");
}

static void test_utf8(void)
{
  const unsigned U = SMTPCMD_P_SIZE | SMTPCMD_P_UTF8;
  is_int(path("FROM:<j\xc3\xb6rg@b.c> SMTPUTF8", 0, "FROM", U), SMTPCMD_OK, "SMTPUTF8 taken");
  ok(p.smtputf8, "SMTPUTF8 noted");
  is_sa(p.addr, "j\xc3\xb6rg@b.c", "UTF-8 address kept as bytes");
  is_int(path("FROM:<a@b.c> smtputf8 SIZE=10", 0, "FROM", U), SMTPCMD_OK, "SMTPUTF8 in lower case");
  ok(p.smtputf8 && p.size == 10, "with SIZE after it");
  is_int(path("FROM:<a@b.c>", 0, "FROM", U), SMTPCMD_OK, "no SMTPUTF8");
  ok(!p.smtputf8, "flag reset by the next parse");
  is_int(path("FROM:<a@b.c> SMTPUTF8=yes", 0, "FROM", U), SMTPCMD_PARAMSYN, "SMTPUTF8 takes no value");
  is_int(path("FROM:<a@b.c> SMTPUTF8", 0, "FROM", MAILP), SMTPCMD_PARAM, "SMTPUTF8 where not allowed: 555");
  is_int(path("FROM:<a@b.c> SIZE", 0, "FROM", U), SMTPCMD_PARAM, "SIZE without a value still 555");
  is_int(smtpcmd_utf8("a@b.c", 5, 0), SMTPCMD_OK, "ASCII without SMTPUTF8");
  is_int(smtpcmd_utf8("", 0, 0), SMTPCMD_OK, "null path");
  is_int(smtpcmd_utf8("\xc3\xa9@b.c", 6, 0), SMTPCMD_NEEDUTF8, "UTF-8 without SMTPUTF8: 553 5.6.7");
  is_int(smtpcmd_utf8("\xc3\xa9@b.c", 6, 1), SMTPCMD_OK, "UTF-8 with SMTPUTF8");
  is_int(smtpcmd_utf8("\xe9@b.c", 5, 1), SMTPCMD_BADUTF8, "Latin-1 with SMTPUTF8: refused");
  is_int(smtpcmd_utf8("\xc0\xaf@b.c", 6, 1), SMTPCMD_BADUTF8, "overlong refused");
  is_int(smtpcmd_utf8("\xe9@b.c", 5, 0), SMTPCMD_NEEDUTF8, "Latin-1 without SMTPUTF8: needs it");
  is_str(smtpcmd_reply(SMTPCMD_NEEDUTF8), "553 5.6.7 sorry, a non-ASCII address needs SMTPUTF8 (RFC 6531)",
         "reply for 8-bit without SMTPUTF8");
  is_str(smtpcmd_reply(SMTPCMD_BADUTF8), "553 5.6.7 sorry, that address is not valid UTF-8",
         "reply for bad UTF-8");
}

/* DSN (RFC 3461) through hub/servers/dsnparam.h: MAIL's RET and ENVID,
 * RCPT's NOTIFY and ORCPT, only where allowed; bad values 501 */
static void test_dsn(void)
{
  const unsigned DM = SMTPCMD_P_SIZE | SMTPCMD_P_DSNMAIL, DR = SMTPCMD_P_DSNRCPT;
  is_int(path("FROM:<a@b.c> RET=HDRS ENVID=x+2By SIZE=5", 0, "FROM", DM), SMTPCMD_OK, "RET and ENVID taken");
  ok(p.dsnm.ret == DSN_RET_HDRS && p.dsnm.envidlen == 5 && p.size == 5, "RET, ENVID and SIZE noted");
  is_int(path("FROM:<a@b.c>", 0, "FROM", DM), SMTPCMD_OK, "no DSN parameters");
  ok(!p.dsnm.ret && !p.dsnm.has_envid, "reset by the next parse");
  is_int(path("FROM:<a@b.c> RET=HDRS", 0, "FROM", MAILP), SMTPCMD_PARAM, "RET where not allowed: 555");
  is_int(path("FROM:<a@b.c> NOTIFY=NEVER", 0, "FROM", DM), SMTPCMD_PARAM, "NOTIFY on MAIL: 555");
  is_int(path("FROM:<a@b.c> RET=ALL", 0, "FROM", DM), SMTPCMD_PARAMSYN, "RET=ALL: 501");
  is_int(path("FROM:<a@b.c> RET", 0, "FROM", DM), SMTPCMD_PARAMSYN, "RET without a value: 501");
  is_int(path("FROM:<a@b.c> RET=FULL RET=FULL", 0, "FROM", DM), SMTPCMD_PARAMSYN, "RET twice: 501");
  is_int(path("TO:<a@b.c> notify=success,failure orcpt=rfc822;a+40b.c", 0, "TO", DR), SMTPCMD_OK,
         "NOTIFY and ORCPT taken");
  ok(p.dsnr.notify == (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE) && p.dsnr.orcptlen == 14, "NOTIFY and ORCPT noted");
  is_int(path("TO:<a@b.c>", 0, "TO", DR), SMTPCMD_OK, "RCPT without them");
  ok(!p.dsnr.notify && !p.dsnr.orcpt, "RCPT: reset by the next parse");
  is_int(path("TO:<a@b.c> NOTIFY=NEVER,DELAY", 0, "TO", DR), SMTPCMD_PARAMSYN, "NEVER with DELAY: 501");
  is_int(path("TO:<a@b.c> ORCPT=a@b.c", 0, "TO", DR), SMTPCMD_PARAMSYN, "ORCPT without a type: 501");
  is_int(path("TO:<a@b.c> NOTIFY=NEVER", 0, "TO", 0), SMTPCMD_PARAM, "NOTIFY where not allowed: 555");
}

int main(void)
{
  test_dsn();
  test_utf8();
  test_split();
  test_paths();
  test_bad_paths();
  test_cap();
  test_params();
  test_auth_param();
  test_replies();
  stralloc_free(&p.addr);
  return done_testing();
}
