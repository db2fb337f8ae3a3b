/* tests/unit/raddr.c: hub/remote/raddr.c, envelope addresses written by
 * qmail-remote: a Dot-string local part goes out as it is, anything else
 * as a Quoted-string with '"' and '\' escaped, split at the last '@'
 * (the domain qmail-send routed on); UTF-8 (RFC 6531) as atext and in
 * domain labels; control bytes, 8-bit bytes that are not UTF-8, no '@',
 * a bad domain or literal, over-long addresses are refused; the null
 * sender; raddr_job's reports (#5.1.3 per recipient, #5.1.7 for the
 * sender, D when nothing is left). */
#include <string.h>
#include "tap.h"
#include "raddr.h"

#define MAX 1000

static void w(const char *a, const char *want, const char *name)
{
  stralloc out = {0};
  int r = raddr_smtp(a, strlen(a), MAX, &out);
  is_int(r, RADDR_OK, name);
  is_sa(out, want, name);
  is_int(raddr_check(a, strlen(a), MAX), RADDR_OK, "raddr_check agrees");
  stralloc_free(&out);
}

static void refused(const char *a, size_t len, size_t max, int want, const char *name)
{
  stralloc out = {0};
  int r;
  stralloc_copys(&out, "kept");
  r = raddr_smtp(a, len, max, &out);
  is_int(r, want, name);
  is_sa(out, "kept", "nothing written");
  is_int(raddr_check(a, len, max), want, "raddr_check agrees");
  stralloc_free(&out);
}
#define REF(a, want, name) refused((a), strlen(a), MAX, (want), (name))

static void lengths(void)
{
  char a[600], d[300];
  stralloc out = {0};
  memset(a, 'x', sizeof a);
  memcpy(a + 500, "@example.com", 12);
  refused(a, 512, 511, RADDR_LONG, "512-byte address with max 511: too long");
  is_int(raddr_smtp(a, 512, 512, &out), RADDR_OK, "exactly max: fine");
  a[0] = ' ';
  refused(a, 512, 513, RADDR_LONG, "quoting makes it 514 bytes: too long for 513");
  is_int(raddr_smtp(a, 512, 514, &out), RADDR_OK, "the quotes count: 514 is fine");
  memset(d, 'a', sizeof d);
  d[0] = 'x'; d[1] = '@';
  for (size_t i = 65; i < 300; i += 64) d[i] = '.';
  refused(d, 2 + 256, MAX, RADDR_LONG, "a 256-byte domain: too long");
  is_int(raddr_check(d, 2 + 255, MAX), RADDR_OK, "a 255-byte domain is fine");
  memset(d + 2, 'b', 64);
  refused(d, 2 + 64, MAX, RADDR_DOMAIN, "a 64-byte label: refused");
  is_int(raddr_check(d, 2 + 63, MAX), RADDR_OK, "a 63-byte label is fine");
  stralloc_free(&out);
}

static char *rc[] = { "ok@example.com", "a\tb@example.com", "x@bad_domain.example",
                      "\"q\"@example.com" };

static void job(void)
{
  struct rjob j;
  memset(&j, 0, sizeof j);
  rjob_init(&j, rc, 4);
  j.sender = "s@example.org";
  is_int(raddr_job(&j), 0, "job: two recipients left to send");
  ok(!j.rkind[0] && j.rkind[1] == 'h' && j.rkind[2] == 'h' && !j.rkind[3],
     "job: the tab and the underscore domain are h, the others open");
  ok(strstr(j.rtext[1].s, "control characters. (#5.1.3)") != 0, "job: h text has #5.1.3");
  ok(j.mkind == 0, "job: no message report yet");
  rjob_free(&j);
  rjob_init(&j, rc + 1, 2);
  j.sender = "s@example.org";
  is_int(raddr_job(&j), 1, "job: nothing left: done");
  ok(j.mkind == 'D' && strstr(j.mtext.s, "(#5.1.3)"), "job: D (#5.1.3)");
  rjob_free(&j);
  rjob_init(&j, rc, 1);
  j.sender = "s\r@example.org";
  is_int(raddr_job(&j), 1, "job: bad sender: done");
  ok(j.rkind[0] == 'h' && j.mkind == 'D' && strstr(j.mtext.s, "(#5.1.7)"), "job: bad sender: h D (#5.1.7)");
  rjob_free(&j);
  rjob_init(&j, rc, 1);
  j.sender = "#@[]";
  is_int(raddr_job(&j), 0, "job: the double-bounce sender passes");
  j.sender = "";
  is_int(raddr_job(&j), 0, "job: the null sender passes");
  rjob_free(&j);
}

int main(void)
{
  w("john.doe+tag@example.com", "john.doe+tag@example.com", "dot-string passes through");
  w("!#$%&'*+-/=?^_`{|}~@x.org", "!#$%&'*+-/=?^_`{|}~@x.org", "every atext byte is a dot-string");
  w("a b@example.com", "\"a b\"@example.com", "a blank: quoted");
  w("a>b@example.com", "\"a>b\"@example.com", "a '>': quoted");
  w("victim@target> NOTIFY=SUCCESS@example.com", "\"victim@target> NOTIFY=SUCCESS\"@example.com",
    "the injection attempt is one quoted local part at example.com");
  w("\"x\"@example.com", "\"\\\"x\\\"\"@example.com", "quotes escaped");
  w("a\\b@example.com", "\"a\\\\b\"@example.com", "backslash escaped");
  w("x@y@z", "\"x@y\"@z", "x@y@z: the last @ splits");
  w("a.@example.com", "\"a.\"@example.com", "trailing dot: quoted");
  w(".a@example.com", "\".a\"@example.com", "leading dot: quoted");
  w("a..b@example.com", "\"a..b\"@example.com", "double dot: quoted");
  w("@example.com", "\"\"@example.com", "empty local part: \"\"");
  w("a<b>(c),d;e:f[g]@example.com", "\"a<b>(c),d;e:f[g]\"@example.com", "specials: quoted");
  w("u@[192.0.2.1]", "u@[192.0.2.1]", "IPv4 literal");
  w("u@[IPv6:2001:db8::1]", "u@[IPv6:2001:db8::1]", "IPv6 literal");
  w("u@[x-tag:some-text]", "u@[x-tag:some-text]", "general address literal");
  w("u@EXAMPLE.com", "u@EXAMPLE.com", "domain case kept");
  w("u@localhost", "u@localhost", "one-label domain");
  w("u@0-0.a1", "u@0-0.a1", "digits and inner hyphens");
  REF("a\rb@example.com", RADDR_CTRL, "CR: refused");
  REF("a\nb@example.com", RADDR_CTRL, "LF: refused");
  REF("a\tb@example.com", RADDR_CTRL, "TAB: refused");
  REF("a\x7f@example.com", RADDR_CTRL, "DEL: refused");
  REF("a@example.com\r\nRSET", RADDR_CTRL, "CRLF in the domain: refused");
  refused("a\0b@example.com", 15, MAX, RADDR_CTRL, "NUL: refused");
  w("caf\xc3\xa9@example.com", "caf\xc3\xa9@example.com", "UTF-8 local part: a Dot-string (RFC 6531 atext)");
  w("u@b\xc3\xbc" "cher.de", "u@b\xc3\xbc" "cher.de", "UTF-8 domain label (U-label), as it is");
  w("\xe7\x94\xa8 \xe6\x88\xb7@example.com", "\"\xe7\x94\xa8 \xe6\x88\xb7\"@example.com", "UTF-8 with a blank: quoted");
  REF("caf\xe9@example.com", RADDR_8BIT, "Latin-1 local part (not UTF-8): refused");
  REF("u@b\xfc" "cher.de", RADDR_8BIT, "Latin-1 domain: refused");
  REF("a\xc0\xaf@example.com", RADDR_8BIT, "overlong UTF-8: refused");
  REF("a\xed\xa0\x80@example.com", RADDR_8BIT, "surrogate: refused");
  REF("u@\xc3\xbc-.de", RADDR_DOMAIN, "U-label ending with a hyphen");
  REF("u@[\xc3\xbc]", RADDR_DOMAIN, "UTF-8 in a literal");
  ok(raddr_utf8("j\xc3\xb6rg@b.c") && !raddr_utf8("a@b.c") && !raddr_utf8(""), "raddr_utf8");
  REF("noat", RADDR_NOAT, "no @: refused");
  REF("", RADDR_NOAT, "empty: refused");
  REF("u@", RADDR_DOMAIN, "empty domain");
  REF("u@example.com.", RADDR_DOMAIN, "trailing dot in the domain");
  REF("u@.example.com", RADDR_DOMAIN, "leading dot in the domain");
  REF("u@a..b", RADDR_DOMAIN, "empty label");
  REF("u@-a.b", RADDR_DOMAIN, "label starting with a hyphen");
  REF("u@a-.b", RADDR_DOMAIN, "label ending with a hyphen");
  REF("u@under_score.example", RADDR_DOMAIN, "underscore in the domain");
  REF("u@example.com> NOTIFY=SUCCESS", RADDR_DOMAIN, "parameters after the domain");
  REF("u@exa mple.com", RADDR_DOMAIN, "blank in the domain");
  REF("u@[]", RADDR_DOMAIN, "empty literal");
  REF("#@[]", RADDR_DOMAIN, "the double-bounce sender is no address (raddr_null handles it)");
  REF("u@[1.2.3]", RADDR_DOMAIN, "three-part IPv4 literal");
  REF("u@[1.2.3.256]", RADDR_DOMAIN, "IPv4 literal part over 255");
  REF("u@[1.2.3.4.5]", RADDR_DOMAIN, "five-part IPv4 literal");
  REF("u@[IPv6:zz::1]", RADDR_DOMAIN, "bad IPv6 literal");
  REF("u@[tag:a]b]", RADDR_DOMAIN, "']' inside a literal");
  REF("u@[tag:a\\]", RADDR_DOMAIN, "'\\' inside a literal");
  REF("u@[tag:]", RADDR_DOMAIN, "general literal without content");
  REF("u@[1.2.3.4", RADDR_DOMAIN, "unclosed literal");
  ok(raddr_null("") && raddr_null("#@[]") && !raddr_null("a@b"), "raddr_null: \"\" and #@[]");
  ok(strstr(raddr_why(RADDR_CTRL), "control") != 0, "raddr_why: a text");
  lengths();
  job();
  return done_testing();
}
