/* tests/unit/addr.c: TAP tests for common/q_addr.c, the RFC 5322 address-list
 * parser and rewriter that qmail-inject runs over To/Cc/From/... fields:
 * header output kept byte for byte except the qualified addr-specs, the
 * envelope forms handed to the callback, every syntax error, the caps
 * (comment nesting 100) and linear time on a 3000-address field; and the
 * envelope byte rule every entrance shares (addr_env_check): each control
 * byte 0-31 and DEL refused, space and 8-bit bytes kept, the length cap at
 * exactly max and max + 1. */
#include <string.h>
#include <time.h>
#include "tap.h"
#include "stralloc.h"
#include "q_addr.h"

static const struct addr_qualify qual = { "dh.example", "example.com", "plus.example" };

/* results of the last run() */
static stralloc out, env;
static int naddr, abort_at;
static const char *err;

/* collect: join envelope forms with ' ', the empty address shown as <> */
static int collect(void *ctx, const char *a, size_t l)
{
  (void)ctx;
  if (abort_at && naddr + 1 == abort_at) return 0;
  ++naddr;
  if (env.len && !stralloc_append(&env, " ")) return 0;
  if (!l) return stralloc_cats(&env, "<>");
  return stralloc_catb(&env, a, l);
}

static int runq_len(const char *in, size_t len, const struct addr_qualify *q)
{
  stralloc_zero(&out);
  stralloc_zero(&env);
  naddr = 0;
  err = 0;
  return addrlist_rewrite(in, len, q, &out, collect, 0, &err);
}

static int run(const char *in) { return runq_len(in, strlen(in), &qual); }

/* rewrites: in parses, header output is exp_out, envelopes are exp_env */
static void rewrites(const char *in, const char *exp_out, const char *exp_env, const char *name)
{
  int r = run(in);
  if (!ok(r == 0, name)) printf("#   error: %s\n", err ? err : "(none)");
  is_sa(out, exp_out, name);
  is_sa(env, exp_env, name);
}

/* fails: in is rejected with message exp, and nothing is left in out */
static void fails(const char *in, size_t len, const char *exp, const char *name)
{
  int r;
  stralloc_copys(&out, "X");
  r = addrlist_rewrite(in, len, &qual, &out, collect, 0, &err);
  is_int(r, -1, name);
  is_str(err, exp, name);
  is_sa(out, "X", name);
}

static void qualifies(const char *a, const struct addr_qualify *q, const char *exp, const char *name)
{
  stralloc sa = {0, 0, 0};
  stralloc_copys(&sa, a);
  ok(addr_qualify(&sa, q), name);
  is_sa(sa, exp, name);
  stralloc_free(&sa);
}

static void test_qualify(void)
{
  struct addr_qualify noplus = { "dh.example", "example.com", 0 };
  struct addr_qualify none = { 0, 0, 0 };
  qualifies("bob", &qual, "bob@dh.example", "qualify: bare local part gets defaulthost");
  qualifies("bob@x", &qual, "bob@x.example.com", "qualify: dotless host gets defaultdomain");
  qualifies("bob@x+", &qual, "bob@x.plus.example", "qualify: host+ gets plusdomain");
  qualifies("bob@x.y", &qual, "bob@x.y", "qualify: dotted host unchanged");
  qualifies("bob@+", &qual, "bob@plus.example", "qualify: host + alone becomes plusdomain");
  qualifies("bob@x.+", &qual, "bob@x.plus.example", "qualify: x.+ gets no empty label");
  qualifies("", &qual, "", "qualify: empty address stays empty");
  qualifies("bob@[1.2.3.4]", &qual, "bob@[1.2.3.4]", "qualify: literal not qualified");
  qualifies("bob@x+", &noplus, "bob@x+.example.com", "qualify: no plusdomain, dot rule applies");
  qualifies("bob", &none, "bob", "qualify: all rules off");
  qualifies("a@b@x", &qual, "a@b@x.example.com", "qualify: host is after the last @");
  qualifies("bob", 0, "bob", "qualify: q NULL");
}

static void test_plain(void)
{
  rewrites("bob@x.y", "bob@x.y", "bob@x.y", "plain addr-spec");
  rewrites("Bob Smith <bob@x.y>", "Bob Smith <bob@x.y>", "bob@x.y", "display name and angle");
  rewrites("John Q. Public <jqp@x.y>", "John Q. Public <jqp@x.y>", "jqp@x.y", "obs-phrase with a dot");
  rewrites("=?utf-8?q?J=C3=B6rg?= <j@x.y>", "=?utf-8?q?J=C3=B6rg?= <j@x.y>", "j@x.y",
           "encoded-word display name");
  rewrites("j\xc3\xb6rg@x.y", "j\xc3\xb6rg@x.y", "j\xc3\xb6rg@x.y", "8-bit atom");
  rewrites("J\xc3\xb6rg <j\xc3\xb6rg@m\xc3\xbcnchen>", "J\xc3\xb6rg <j\xc3\xb6rg@m\xc3\xbcnchen.example.com>",
           "j\xc3\xb6rg@m\xc3\xbcnchen.example.com", "RFC 6532: UTF-8 phrase, local part and dotless host, qualified");
  rewrites("\"\xc3\x84 b\"@x.y", "\"\xc3\x84 b\"@x.y", "\xc3\x84 b@x.y", "RFC 6532: UTF-8 in a quoted local part");
  rewrites("bob", "bob@dh.example", "bob@dh.example", "bare local part qualified");
  rewrites("bob@x", "bob@x.example.com", "bob@x.example.com", "dotless host qualified");
  rewrites("<bob@x+>", "<bob@x.plus.example>", "bob@x.plus.example", "plus host qualified");
  rewrites("<>", "<>", "<>", "empty address not qualified");
  rewrites("Nobody < >", "Nobody < >", "<>", "empty address with name and space");
  rewrites("a..b@x.y", "a..b@x.y", "a..b@x.y", "lenient dots in local part");
  rewrites("bob @ x . y", "bob@x.y", "bob@x.y", "whitespace inside addr-spec dropped");
}

static void test_comments(void)
{
  rewrites("(c) bob@x.y (d)", "(c) bob@x.y (d)", "bob@x.y", "comments before and after kept");
  rewrites("bob(c)@x", "bob@x.example.com (c)", "bob@x.example.com", "comment inside moved after");
  rewrites("Bob <bob@x (in)> (out)", "Bob <bob@x.example.com (in)> (out)", "bob@x.example.com",
           "comment inside angle after the address");
  rewrites("bob@x.y (a (nested \\) one) here)", "bob@x.y (a (nested \\) one) here)", "bob@x.y",
           "nested comment with escape");
  rewrites("(nobody)", "(nobody)", "", "only a comment: no address");
}

static void test_quoted(void)
{
  rewrites("\"bob smith\"@x.y", "\"bob smith\"@x.y", "bob smith@x.y", "quoted local part");
  rewrites("\"a\\\"b\"@x", "\"a\\\"b\"@x.example.com", "a\"b@x.example.com", "escape in quoted local part");
  rewrites("\"Smith, Bob\" <bob@x.y>", "\"Smith, Bob\" <bob@x.y>", "bob@x.y",
           "comma inside quoted display name");
  rewrites("\"a\r\n b\"@x.y", "\"a\r\n b\"@x.y", "a b@x.y", "folded quoted string unfolded in envelope");
  rewrites("first.\"mid dle\".last@x.y", "first.\"mid dle\".last@x.y", "first.mid dle.last@x.y",
           "mixed atoms and quoted strings");
}

static void test_groups(void)
{
  rewrites("undisclosed-recipients:;", "undisclosed-recipients:;", "", "empty group");
  ok(naddr == 0, "empty group: no callbacks");
  rewrites("friends: a@x.y, \"B\" <b>;, c", "friends: a@x.y, \"B\" <b@dh.example>;, c@dh.example",
           "a@x.y b@dh.example c@dh.example", "group with members then a mailbox");
  is_int(naddr, 3, "group with members: 3 callbacks");
  rewrites("g: a (x) ; (after)", "g: a@dh.example (x) ; (after)", "a@dh.example",
           "comment after group end");
  rewrites("g: a", "g: a@dh.example", "a@dh.example", "unclosed group accepted");
}

static void test_route_literal(void)
{
  rewrites("<@a,@b:bob@x>", "<@a,@b:bob@x.example.com>", "bob@x.example.com", "route kept, dropped from envelope");
  rewrites("Bob <@a.b , @[1.2.3.4]: bob@x.y>", "Bob <@a.b , @[1.2.3.4]: bob@x.y>", "bob@x.y",
           "route with spaces and literal");
  rewrites("bob@[1.2.3.4]", "bob@[1.2.3.4]", "bob@[1.2.3.4]", "domain literal not qualified");
  rewrites("bob@[ 1.2.3.4 ]", "bob@[ 1.2.3.4 ]", "bob@[1.2.3.4]", "literal whitespace dropped in envelope");
}

static void test_list_shape(void)
{
  rewrites("a@x.y,\n b@x.y\n", "a@x.y,\n b@x.y\n", "a@x.y b@x.y", "folded list with final newline");
  rewrites("a, , b,", "a@dh.example, , b@dh.example,", "a@dh.example b@dh.example",
           "empty elements and trailing comma");
  rewrites("", "", "", "empty input");
  rewrites(" \t\r\n ", " \t\r\n ", "", "whitespace only");
  is_int(naddr, 0, "whitespace only: no callbacks");
  is_int(runq_len("bob, b@x", 8, 0), 0, "q NULL parses");
  is_sa(out, "bob, b@x", "q NULL: no qualification");
  is_sa(env, "bob b@x", "q NULL: envelope unqualified");
}

static void test_errors(void)
{
  fails("\"bob", 4, "unterminated quoted string", "unterminated quoted string");
  fails("\"bob\\\"", 6, "unterminated quoted string", "quoted string ending in an escape");
  fails("(bob", 4, "unterminated comment", "unterminated comment");
  fails("<bob@x", 6, "unbalanced <", "unbalanced <");
  fails("<<bob@x", 7, "nested <", "<<bob@x");
  fails("bob@x>", 6, "unbalanced >", "unbalanced >");
  fails("bob)", 4, "unbalanced )", "unbalanced )");
  fails("bob@[1.2", 8, "unterminated domain literal", "unterminated domain literal");
  fails("bob@[a@b]", 9, "bad domain literal", "@ inside a domain literal");
  fails("bob@[1\\]]", 9, "bad domain literal", "escape inside a domain literal");
  fails("bob@", 4, "address with empty domain", "bob@");
  fails("a, bob@ (c), b", 14, "address with empty domain", "bob@ in a list");
  fails("@x", 2, "bad address", "@x alone");
  fails("Bob Smith", 9, "bad address", "two atoms without a dot");
  fails("bob\0@x", 6, "NUL in address", "NUL in addr-spec");
  fails("B\0b <b@x>", 9, "NUL in address", "NUL in display name");
  fails("bob@x..y", 8, "bad address", "empty domain label");
  fails("bob@x.", 6, "bad address", "trailing dot in domain");
  fails("a@x <b@y>", 9, "bad address", "@ in unquoted display name");
  fails("<a@x> <b@y>", 11, "bad address", "two angle addresses");
  fails("a; b", 4, "; outside group", "semicolon outside group");
  fails("g: a;b", 6, "bad address", "missing comma after group");
  fails("g: h: a;", 8, "nested group", "nested group");
  fails(": a;", 4, "bad address", "group without a name");
  fails("\"\"@x", 4, "bad address", "empty quoted local part");
  fails("<@a:>", 5, "bad address", "route without address");
  fails("<x:bob@y>", 9, "bad address", "route not starting with @");
  fails("bob\\@x", 6, "bad address", "backslash outside quotes");
  fails("bo\x01" "b@x", 6, "bad address", "control byte in atom");
}

static void test_callback_abort(void)
{
  int r;
  abort_at = 2;
  r = run("a@x.y, b@x.y, c@x.y");
  abort_at = 0;
  is_int(r, -1, "callback abort returns -1");
  is_str(err, "out of memory", "callback abort reports out of memory");
  is_int(naddr, 1, "callback abort stops at once");
}

/* nest: "(" x depth, ")" x depth, after "bob@x.y " */
static void nest(stralloc *sa, int depth)
{
  int i;
  stralloc_copys(sa, "bob@x.y ");
  for (i = 0; i < depth; ++i) stralloc_append(sa, "(");
  for (i = 0; i < depth; ++i) stralloc_append(sa, ")");
}

static void test_nesting(void)
{
  stralloc sa = {0, 0, 0};
  nest(&sa, 100);
  is_int(runq_len(sa.s, sa.len, &qual), 0, "comments nested 100 deep accepted");
  is_int(naddr, 1, "depth 100: address found");
  nest(&sa, 101);
  is_int(runq_len(sa.s, sa.len, &qual), -1, "comments nested 101 deep rejected");
  is_str(err, "comments nested too deeply", "depth 101: message");
  nest(&sa, 100000);
  is_int(runq_len(sa.s, sa.len, &qual), -1, "comments nested 100000 deep rejected");
  stralloc_free(&sa);
}

static void test_big(void)
{
  stralloc sa = {0, 0, 0};
  clock_t t0;
  double secs;
  int i;
  for (i = 0; i < 3000; ++i)
    stralloc_cats(&sa, i % 2 ? "\"User\" <user@host>,\n " : "(c) other.user@example.org, ");
  t0 = clock();
  is_int(runq_len(sa.s, sa.len, &qual), 0, "3000 addresses parse");
  secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  is_int(naddr, 3000, "3000 callbacks");
  ok(secs < 1.0, "3000 addresses in under 1 s");
  printf("# 3000 addresses (%zu bytes) in %.4f s\n", sa.len, secs);
  stralloc_free(&sa);
}

static void test_append(void)
{
  stralloc_copys(&out, "To: ");
  is_int(addrlist_rewrite("bob", 3, &qual, &out, 0, 0, &err), 0, "NULL callback accepted");
  is_sa(out, "To: bob@dh.example", "output is appended");
}

static void test_env_check(void)
{
  char a[8] = "a@b.org";
  int c, bad = 0, good = 0;
  is_int(addr_env_check("", 0, 10), ADDR_ENV_OK, "env: the empty address is fine");
  is_int(addr_env_check("a@b.org", 7, 1000), ADDR_ENV_OK, "env: plain address");
  is_int(addr_env_check("\"a b\"@x", 7, 1000), ADDR_ENV_OK, "env: space kept (quoted local part)");
  is_int(addr_env_check("\x80\xe9\xff@x", 5, 1000), ADDR_ENV_OK, "env: 8-bit bytes kept");
  for (c = 0; c < 256; ++c) {
    int r;
    a[1] = (char)c;
    r = addr_env_check(a, 7, 1000);
    if (c < 32 || c == 127) bad += r == ADDR_ENV_CTRL;
    else good += r == ADDR_ENV_OK;
    if ((c < 32 || c == 127) != !addr_env_byte((unsigned char)c)) ++bad;
  }
  is_int(bad, 33, "env: each of 0-31 and 127 refused (CR, LF, ESC, NUL, DEL ...)");
  is_int(good, 256 - 33, "env: every other byte kept");
  is_int(addr_env_check("a\r\n@b", 5, 1000), ADDR_ENV_CTRL, "env: CRLF refused");
  is_int(addr_env_check("a@b\x1b[31m", 8, 1000), ADDR_ENV_CTRL, "env: ESC refused");
  is_int(addr_env_check("abcde", 5, 5), ADDR_ENV_OK, "env: exactly max bytes");
  is_int(addr_env_check("abcdef", 6, 5), ADDR_ENV_TOOLONG, "env: max + 1 bytes");
  is_int(addr_env_check("abcd\n\n", 6, 5), ADDR_ENV_TOOLONG, "env: too long wins over a control byte");
}

int main(void)
{
  test_qualify();
  test_plain();
  test_comments();
  test_quoted();
  test_groups();
  test_route_literal();
  test_list_shape();
  test_errors();
  test_callback_abort();
  test_nesting();
  test_big();
  test_append();
  test_env_check();
  stralloc_free(&out);
  stralloc_free(&env);
  return done_testing();
}
