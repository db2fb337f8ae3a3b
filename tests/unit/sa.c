/* tests/unit/sa.c: TAP tests for common/q_sa.c: sa_catnum at 0, 9, 10 and
 * ULLONG_MAX (appending, not replacing), sa_catsafe (printable ASCII kept,
 * backslash doubled, NUL, CR, LF, TAB, DEL and 8-bit bytes as \ooo) and
 * sa_has_any (NUL in the set only when setlen covers it, empty inputs,
 * an empty stralloc whose s is NULL). */
#include <limits.h>
#include <string.h>
#include "tap.h"
#include "stralloc.h"
#include "q_sa.h"

static void test_catnum(void)
{
  stralloc sa = {0};
  is_int(sa_catnum(&sa, 0), 1, "catnum 0 returns 1");
  is_sa(sa, "0", "catnum 0");
  stralloc_copys(&sa, "n=");
  sa_catnum(&sa, 9);
  is_sa(sa, "n=9", "catnum appends 9");
  sa_catnum(&sa, 10);
  is_sa(sa, "n=910", "catnum appends 10");
  stralloc_zero(&sa);
  is_int(sa_catnum(&sa, ULLONG_MAX), 1, "catnum ULLONG_MAX returns 1");
  is_sa(sa, "18446744073709551615", "catnum ULLONG_MAX");
  stralloc_zero(&sa);
  sa_catnum(&sa, 4294967296ULL);
  is_sa(sa, "4294967296", "catnum 2^32");
  stralloc_free(&sa);
}

static void safe(const char *in, size_t len, const char *exp, const char *name)
{
  stralloc sa = {0};
  stralloc_copys(&sa, "<");
  is_int(sa_catsafe(&sa, in, len), 1, name);
  stralloc_cats(&sa, ">");
  is_sa(sa, exp, name);
  stralloc_free(&sa);
}

static void test_catsafe(void)
{
  safe("", 0, "<>", "catsafe empty");
  safe("Hello, world! ~{}", 17, "<Hello, world! ~{}>", "catsafe printable kept");
  safe(" ", 1, "< >", "catsafe space kept");
  safe("a\\b", 3, "<a\\\\b>", "catsafe backslash doubled");
  safe("\\", 1, "<\\\\>", "catsafe lone backslash");
  safe("a\0b", 3, "<a\\000b>", "catsafe NUL");
  safe("\r\n", 2, "<\\015\\012>", "catsafe CR LF");
  safe("\t", 1, "<\\011>", "catsafe TAB");
  safe("\177", 1, "<\\177>", "catsafe DEL");
  safe("\200", 1, "<\\200>", "catsafe 0x80");
  safe("\377", 1, "<\\377>", "catsafe 0xff");
  safe("\303\251", 2, "<\\303\\251>", "catsafe UTF-8 bytes");
  safe("x\001", 2, "<x\\001>", "catsafe control byte");
  safe("abcdef", 3, "<abc>", "catsafe uses len only");
}

static void test_has_any(void)
{
  static const char s[] = "abc\0def";
  stralloc empty = {0};
  is_int(sa_has_any(s, 7, "xyzd", 4), 1, "has_any found after NUL");
  is_int(sa_has_any(s, 3, "d", 1), 0, "has_any not within len");
  is_int(sa_has_any(s, 7, "xyz", 3), 0, "has_any not found");
  is_int(sa_has_any(s, 7, "\r\n", 3), 1, "has_any NUL counts when setlen covers it");
  is_int(sa_has_any(s, 7, "\r\n", 2), 0, "has_any NUL not counted outside setlen");
  is_int(sa_has_any(s, 3, "\r\n", 3), 0, "has_any no NUL within len");
  is_int(sa_has_any(s, 1, "a", 1), 1, "has_any first byte");
  is_int(sa_has_any(s, 7, "f", 1), 1, "has_any last byte");
  is_int(sa_has_any(s, 0, "a", 1), 0, "has_any len 0");
  is_int(sa_has_any(s, 7, "", 0), 0, "has_any empty set");
  is_int(sa_has_any(empty.s, empty.len, "\r\n", 3), 0, "has_any empty stralloc (s NULL)");
  is_int(sa_has_any("\377", 1, "\377", 1), 1, "has_any 8-bit byte");
}

int main(void)
{
  test_catnum();
  test_catsafe();
  test_has_any();
  return done_testing();
}
