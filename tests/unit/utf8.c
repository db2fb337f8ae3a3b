/* tests/unit/utf8.c: TAP tests for common/q_utf8.c: valid UTF-8 of every
 * length (ASCII, 2, 3 and 4 bytes, the edges U+0080, U+07FF, U+0800,
 * U+FFFF, U+10000, U+10FFFF, the code points next to the surrogates), and
 * every refused form: stray and missing continuation bytes, overlongs
 * (C0, C1, E0 80, F0 80), surrogates (ED A0..BF), past U+10FFFF (F4 90,
 * F5..FF), a sequence cut by the end; the offset of the first bad byte;
 * utf8_ascii. */
#include <string.h>
#include "tap.h"
#include "q_utf8.h"

static void good(const char *s, const char *name)
{
  is_int(utf8_valid(s, strlen(s)), strlen(s), name);
}

/* bad: s is refused at offset at */
static void bad(const char *s, size_t at, const char *name)
{
  is_int(utf8_valid(s, strlen(s)), at, name);
}

static void test_valid(void)
{
  good("", "empty");
  good("plain@example.org", "ASCII");
  good("\xc2\x80", "U+0080 (first 2-byte)");
  good("\xdf\xbf", "U+07FF (last 2-byte)");
  good("\xe0\xa0\x80", "U+0800 (first 3-byte)");
  good("\xed\x9f\xbf", "U+D7FF (below the surrogates)");
  good("\xee\x80\x80", "U+E000 (above the surrogates)");
  good("\xef\xbf\xbf", "U+FFFF");
  good("\xf0\x90\x80\x80", "U+10000 (first 4-byte)");
  good("\xf4\x8f\xbf\xbf", "U+10FFFF (the last)");
  good("j\xc3\xb6rg@m\xc3\xbcnchen.example", "Latin letters in UTF-8");
  good("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8", "CJK address");
}

static void test_invalid(void)
{
  bad("a\x80", 1, "stray continuation byte");
  bad("ab\xbf", 2, "stray BF");
  bad("\xc3(", 0, "missing continuation byte");
  bad("ok\xc3", 2, "2-byte sequence cut by the end");
  bad("\xe2\x82", 0, "3-byte sequence cut by the end");
  bad("\xf0\x9f\x98", 0, "4-byte sequence cut by the end");
  bad("\xc0\xaf", 0, "overlong C0 ('/')");
  bad("\xc1\xbf", 0, "overlong C1");
  bad("\xe0\x80\xaf", 0, "overlong 3-byte");
  bad("\xe0\x9f\xbf", 0, "overlong 3-byte, top");
  bad("\xf0\x80\x80\xaf", 0, "overlong 4-byte");
  bad("\xf0\x8f\xbf\xbf", 0, "overlong 4-byte, top");
  bad("x\xed\xa0\x80", 1, "surrogate U+D800");
  bad("\xed\xbf\xbf", 0, "surrogate U+DFFF");
  bad("\xf4\x90\x80\x80", 0, "U+110000");
  bad("\xf5\x80\x80\x80", 0, "F5");
  bad("\xff", 0, "FF");
  bad("\xfe", 0, "FE");
  bad("\xe2\x28\xa1", 0, "bad second byte of 3");
  bad("\xe2\x82\x28", 0, "bad third byte of 3");
  bad("\xf0\x90\x28\xbc", 0, "bad third byte of 4");
  bad("\xf0\x90\x8c\x28", 0, "bad fourth byte of 4");
  bad("\xc3\xa9\xc3", 2, "offset of the bad sequence after a good one");
  bad("caf\xe9@example.org", 3, "Latin-1 byte (not UTF-8)");
}

static void test_ascii(void)
{
  ok(utf8_ascii("a@b", 3), "ASCII");
  ok(utf8_ascii("", 0), "empty is ASCII");
  ok(!utf8_ascii("a\xc3\xa9", 3), "UTF-8 is not ASCII");
  ok(!utf8_ascii("\x80", 1), "one 8-bit byte");
  ok(utf8_ascii("\x7f", 1), "DEL is ASCII");
}

int main(void)
{
  test_valid();
  test_invalid();
  test_ascii();
  return done_testing();
}
