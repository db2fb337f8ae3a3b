/* tests/unit/pop3cmd.c: POP3 command lines and unique ids (hub/pop3/pop3cmd.h).
 * Checks: keywords without regard to case, arguments split on spaces,
 * trailing spaces allowed, more than two arguments and NUL refused, an
 * empty line; message numbers (0, negative, huge, non-numeric, trailing
 * garbage, leading zeros, count bounds); line counts; unique ids: the
 * Maildir name's unique part, the same in new/ and cur/, a hash for
 * names that are too long or not printable, always 1 to 70 printable
 * characters. */
#include <string.h>
#include "tap.h"
#include "stralloc.h"
#include "pop3cmd.h"

static int parse(const char *s, struct pop3_cmd *c) { return pop3_parse(s, strlen(s), c); }
static int num(const char *s, size_t count, size_t *i) { return pop3_msgnum(s, strlen(s), count, i); }

static int uid_ok(const stralloc *u)
{
  size_t i;
  if (u->len < 1 || u->len > POP3_UIDMAX) return 0;
  for (i = 0; i < u->len; ++i)
    if ((unsigned char)u->s[i] < 0x21 || (unsigned char)u->s[i] > 0x7e) return 0;
  return 1;
}

int main(void)
{
  struct pop3_cmd c;
  unsigned long long v;
  size_t i = 99;
  stralloc u = {0}, w = {0};
  char longname[200];

  is_int(parse("retr 12", &c), POP3_OK, "retr 12");
  is_int(c.verb, POP3_RETR, "lower case keyword");
  is_int(c.nargs, 1, "one argument");
  is_mem(c.arg[0], c.arglen[0], "12", "the argument");
  is_int(parse("ToP 1  5  ", &c), POP3_OK, "TOP with extra and trailing spaces");
  is_int(c.verb, POP3_TOP, "mixed case");
  is_int(c.nargs, 2, "two arguments");
  is_mem(c.arg[1], c.arglen[1], "5", "second argument");
  is_int(parse("LIST 1 2 3", &c), POP3_TOOMANY, "three arguments refused");
  is_int(pop3_parse("LIST\0", 5, &c), POP3_NUL, "NUL refused");
  is_int(parse("   ", &c), POP3_EMPTY, "spaces only");
  is_int(parse("", &c), POP3_EMPTY, "empty line");
  parse("XTND XMIT", &c);
  is_int(c.verb, POP3_UNKNOWN, "unknown keyword");
  parse("STATS", &c);
  is_int(c.verb, POP3_UNKNOWN, "a keyword with a letter more is unknown");
  parse("pass secret", &c);
  is_int(c.verb, POP3_AUTHSTATE, "PASS is an authorization command");
  parse("STLS", &c);
  is_int(c.verb, POP3_AUTHSTATE, "STLS is an authorization command");

  is_int(num("1", 3, &i), 1, "1 of 3");
  is_int(i, 0, "index 0");
  is_int(num("003", 3, &i), 1, "leading zeros");
  is_int(i, 2, "index 2");
  is_int(num("0", 3, &i), -1, "0 out of range");
  is_int(num("4", 3, &i), -1, "past the count");
  is_int(num("99999999999999999999", 3, &i), -1, "huge number out of range");
  is_int(num("-1", 3, &i), 0, "negative: not a number");
  is_int(num("+1", 3, &i), 0, "a sign: not a number");
  is_int(num("x", 3, &i), 0, "letters: not a number");
  is_int(num("1x", 3, &i), 0, "trailing garbage: not a number");
  is_int(num("", 3, &i), 0, "empty: not a number");
  is_int(num("1", 0, &i), -1, "empty mailbox: nothing in range");
  ok(pop3_number("18446744073709551615", 20, &v) && v == 18446744073709551615ULL, "ULLONG_MAX lines");
  ok(!pop3_number("18446744073709551616", 20, &v), "ULLONG_MAX + 1 refused");
  ok(!pop3_number("1 ", 2, &v), "a space refused");

  ok(pop3_uid(&u, "1700000000.M5P6Q1R00ff.hub.example.org"), "uid of a new/ name");
  is_sa(u, "1700000000.M5P6Q1R00ff.hub.example.org", "unique part as it is");
  u.len = 0;
  pop3_uid(&u, "1700000000.M5P6Q1R00ff.hub.example.org:2,S");
  is_sa(u, "1700000000.M5P6Q1R00ff.hub.example.org", "the same after the move to cur/ with flags");
  u.len = 0;
  memset(longname, 'a', 80); longname[80] = 0;
  pop3_uid(&u, longname);
  ok(uid_ok(&u) && u.s[0] == '~' && u.len == 33, "a 80-byte name: hashed to 33 printable characters");
  pop3_uid(&w, longname);
  ok(u.len == w.len && !memcmp(u.s, w.s, u.len), "the hash is the same every time");
  u.len = 0; w.len = 0;
  pop3_uid(&u, "a b:2,");
  ok(uid_ok(&u) && u.s[0] == '~', "a name with a space: hashed");
  pop3_uid(&w, "a c:2,");
  ok(u.len == w.len && memcmp(u.s, w.s, u.len), "different names, different hashes");
  u.len = 0;
  pop3_uid(&u, ":2,S");
  ok(uid_ok(&u) && u.s[0] == '~', "an empty unique part: hashed");
  u.len = 0;
  memset(longname, 'b', 70); longname[70] = 0;
  pop3_uid(&u, longname);
  ok(u.len == 70 && u.s[0] == 'b', "70 characters: as they are");
  stralloc_free(&u);
  stralloc_free(&w);
  return done_testing();
}
