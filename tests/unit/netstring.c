/* tests/unit/netstring.c: TAP tests for common/q_netstring.c: the writers
 * (ns_head, ns_size, ns_cat, ns_cats) at the digit-count edges 0/9/10/99/100,
 * the strict parser ns_parse (leading zeros, non-digits, missing ':' or ',',
 * truncation, caps below one digit, 21 digits, lengths near SIZE_MAX) and
 * the buffer readers ns_getlen/ns_get/ns_getcomma over buffer_frombuf and
 * over ops that dribble one byte per read or fail. Inputs to ns_parse are
 * copied into exact-size heap blocks so ASan sees any read past the end. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "buffer.h"
#include "stralloc.h"
#include "q_netstring.h"

/* ---- writers ------------------------------------------------------------ */

static void check_len(size_t len, const char *head)
{
  char buf[NS_HEAD], name[80];
  stralloc out = {0}, data = {0};
  size_t hl = strlen(head), n;
  n = ns_head(buf, len);
  snprintf(name, sizeof name, "ns_head(%zu)", len);
  is_mem(buf, n, head, name);
  snprintf(name, sizeof name, "ns_size(%zu)", len);
  is_int(ns_size(len), hl + len + 1, name);
  if (!stralloc_ready(&data, len + 1)) abort();
  memset(data.s, 'x', len);
  data.len = len;
  stralloc_copys(&out, "P");
  snprintf(name, sizeof name, "ns_cat(%zu) returns 1", len);
  is_int(ns_cat(&out, data.s, len), 1, name);
  snprintf(name, sizeof name, "ns_cat(%zu) appends head+data+comma", len);
  ok(out.len == 1 + hl + len + 1 && out.s[0] == 'P' &&
     memcmp(out.s + 1, head, hl) == 0 &&
     memcmp(out.s + 1 + hl, data.s, len) == 0 && out.s[out.len - 1] == ',', name);
  stralloc_free(&out);
  stralloc_free(&data);
}

static void test_writers(void)
{
  char buf[NS_HEAD];
  stralloc out = {0};
  size_t n;
  check_len(0, "0:");
  check_len(9, "9:");
  check_len(10, "10:");
  check_len(99, "99:");
  check_len(100, "100:");
  n = ns_head(buf, SIZE_MAX);
  is_mem(buf, n, "18446744073709551615:", "ns_head(SIZE_MAX) fits NS_HEAD");
  ok(n <= NS_HEAD, "ns_head(SIZE_MAX) length <= NS_HEAD");
  is_int(ns_cats(&out, "hello"), 1, "ns_cats returns 1");
  is_int(ns_cats(&out, ""), 1, "ns_cats empty returns 1");
  is_sa(out, "5:hello,0:,", "ns_cats appends");
  stralloc_free(&out);
}

/* ---- ns_parse ----------------------------------------------------------- */

static const char *pdata;
static size_t pdlen, pused;

/* parse: ns_parse over an exact-size heap copy of in[0..n). */
static int parse(const char *in, size_t n, size_t cap)
{
  char *copy = malloc(n ? n : 1);
  int r;
  static char keep[256];
  if (!copy) abort();
  memcpy(copy, in, n);
  pdata = 0;
  pdlen = pused = 0;
  r = ns_parse(copy, n, cap, &pdata, &pdlen, &pused);
  if (r == NS_OK) {
    /* move the data out of the copy before freeing it */
    size_t k = pdlen < sizeof keep ? pdlen : sizeof keep;
    if (pdata < copy || pdata + pdlen > copy + n) { free(copy); return 99; }
    memcpy(keep, pdata, k);
    pdata = keep;
  }
  free(copy);
  return r;
}

static int parses(const char *in, size_t cap) { return parse(in, strlen(in), cap); }

static void parse_ok(const char *in, size_t cap, const char *data, size_t used, const char *name)
{
  is_int(parses(in, cap), NS_OK, name);
  is_mem(pdata, pdlen, data, name);
  is_int(pused, used, name);
}

static void test_parse(void)
{
  parse_ok("5:hello,", 100, "hello", 8, "parse 5:hello,");
  parse_ok("5:hello,3:abc,", 100, "hello", 8, "parse stops after one netstring");
  parse_ok("0:,", 100, "", 3, "parse 0:,");
  parse_ok("0:,", 0, "", 3, "parse 0:, with cap 0");
  parse_ok("5:hello,", 5, "hello", 8, "parse length == cap");
  parse_ok("10:0123456789,", 10, "0123456789", 14, "parse 10 bytes");
  is_int(parse("3:a\0b,", 6, 10), NS_OK, "parse data with NUL");
  is_int(pdlen, 3, "parse data with NUL: length");

  is_int(parses("01:a,", 100), NS_BAD, "leading zero 01:a,");
  is_int(parses("00:,", 100), NS_BAD, "leading zero 00:,");
  is_int(parses("007:abcdefg,", 100), NS_BAD, "leading zeros 007:");
  is_int(parses("a:xx,", 100), NS_BAD, "non-digit first");
  is_int(parses("5x:hello,", 100), NS_BAD, "non-digit after digits");
  is_int(parses("-1:", 100), NS_BAD, "negative length");
  is_int(parses(" 5:hello,", 100), NS_BAD, "leading space");
  is_int(parses(":,", 100), NS_BAD, "no digits");
  is_int(parses("", 100), NS_BAD, "empty input");
  is_int(parses("5hello,", 100), NS_BAD, "missing ':'");
  is_int(parses("5", 100), NS_BAD, "digits only");
  is_int(parses("5:helloX", 100), NS_BAD, "missing ',' (other byte)");
  is_int(parses("5:hello", 100), NS_BAD, "truncated before ','");
  is_int(parses("5:hel", 100), NS_BAD, "truncated in data");
  is_int(parses("5:", 100), NS_BAD, "truncated after ':'");
  is_int(parses("0:", 100), NS_BAD, "0: without ','");

  is_int(parses("6:hello!,", 5), NS_TOOBIG, "length cap+1");
  is_int(parses("5:hello,", 3), NS_TOOBIG, "one digit above a cap below 10");
  is_int(parses("1:a,", 0), NS_TOOBIG, "1 with cap 0");
  is_int(parses("9:123456789,", 8), NS_TOOBIG, "9 with cap 8");
  is_int(parses("10:0123456789,", 9), NS_TOOBIG, "10 with cap 9");
  is_int(parses("100:", 99), NS_TOOBIG, "100 with cap 99");
  is_int(parses("1000000:", 100), NS_TOOBIG, "huge length rejected before the data");

  is_int(parses("100000000000000000000:", SIZE_MAX), NS_TOOBIG, "21-digit length");
  is_int(parses("000000000000000000001:", SIZE_MAX), NS_BAD, "21 digits with leading zero");
  is_int(parses("18446744073709551616:", SIZE_MAX), NS_TOOBIG, "SIZE_MAX+1");
  is_int(parses("99999999999999999999:", SIZE_MAX), NS_TOOBIG, "20 nines");
  is_int(parses("18446744073709551615:", SIZE_MAX), NS_BAD, "SIZE_MAX length, no data");
  is_int(parses("18446744073709551615:x,", SIZE_MAX), NS_BAD, "SIZE_MAX length, short data");
  is_int(parses("18446744073709551614:,", SIZE_MAX), NS_BAD, "SIZE_MAX-1 length, short data");
  is_int(parses("18446744073709551615:", SIZE_MAX - 1), NS_TOOBIG, "SIZE_MAX with cap SIZE_MAX-1");
}

/* ---- buffer readers ----------------------------------------------------- */

static buffer fb;

static void from(const char *s, size_t n) { buffer_frombuf(&fb, s, n); }

#define DRIP_SPACE 4
#include "drip.h"

static void test_getlen(void)
{
  size_t len = 777;
  from("", 0);
  is_int(ns_getlen(&fb, 100, &len), NS_EOF, "getlen: EOF before first byte");
  is_int(len, 777, "getlen: len untouched on EOF");
  from("123:", 4);
  is_int(ns_getlen(&fb, 1000, &len), NS_OK, "getlen 123:");
  is_int(len, 123, "getlen value");
  from("0:", 2);
  is_int(ns_getlen(&fb, 0, &len), NS_OK, "getlen 0: cap 0");
  is_int(len, 0, "getlen value 0");
  from("12", 2);
  errno = 0;
  is_int(ns_getlen(&fb, 100, &len), NS_IOERR, "getlen: EOF inside digits");
  is_int(errno, EPROTO, "getlen: EPROTO");
  from(":", 1);
  is_int(ns_getlen(&fb, 100, &len), NS_BAD, "getlen: no digits");
  from("-1:", 3);
  is_int(ns_getlen(&fb, 100, &len), NS_BAD, "getlen: -1:");
  from("01:", 3);
  is_int(ns_getlen(&fb, 100, &len), NS_BAD, "getlen: leading zero");
  from("12a:", 4);
  is_int(ns_getlen(&fb, 100, &len), NS_BAD, "getlen: non-digit");
  from("101:", 4);
  is_int(ns_getlen(&fb, 100, &len), NS_TOOBIG, "getlen: cap exceeded");
  from("7:", 2);
  is_int(ns_getlen(&fb, 5, &len), NS_TOOBIG, "getlen: single digit above cap");
  from("100000000000000000000:", 22);
  is_int(ns_getlen(&fb, SIZE_MAX, &len), NS_TOOBIG, "getlen: 21 digits");
  from("18446744073709551616:", 21);
  is_int(ns_getlen(&fb, SIZE_MAX, &len), NS_TOOBIG, "getlen: SIZE_MAX+1");
  drip("", 1);
  is_int(ns_getlen(&db, 100, &len), NS_IOERR, "getlen: read error first");
  drip("12", 1);
  is_int(ns_getlen(&db, 100, &len), NS_IOERR, "getlen: read error inside");
  is_int(errno, EIO, "getlen: errno from the op");
}

static void test_getcomma(void)
{
  from(",", 1);
  is_int(ns_getcomma(&fb), NS_OK, "getcomma ,");
  from("x", 1);
  is_int(ns_getcomma(&fb), NS_BAD, "getcomma other byte");
  from("", 0);
  errno = 0;
  is_int(ns_getcomma(&fb), NS_IOERR, "getcomma EOF");
  is_int(errno, EPROTO, "getcomma EOF: EPROTO");
  drip("", 1);
  is_int(ns_getcomma(&db), NS_IOERR, "getcomma read error");
}

static void test_get(void)
{
  stralloc out = {0};
  static const char two[] = "5:hello,3:abc,";
  from(two, sizeof two - 1);
  is_int(ns_get(&fb, 100, &out), NS_OK, "get first");
  is_sa(out, "hello", "get first data");
  is_int(ns_get(&fb, 100, &out), NS_OK, "get second");
  is_sa(out, "abc", "get second replaces");
  is_int(ns_get(&fb, 100, &out), NS_EOF, "get at clean EOF");

  stralloc_copys(&out, "old");
  from("0:,", 3);
  is_int(ns_get(&fb, 0, &out), NS_OK, "get 0:, cap 0");
  is_int(out.len, 0, "get 0:, empties out");

  from("3:a\0b,", 6);
  is_int(ns_get(&fb, 3, &out), NS_OK, "get with NUL, length == cap");
  ok(out.len == 3 && memcmp(out.s, "a\0b", 3) == 0, "get with NUL: bytes");

  from("5:hel", 5);
  errno = 0;
  is_int(ns_get(&fb, 100, &out), NS_IOERR, "get: EOF inside data");
  is_int(errno, EPROTO, "get: EOF inside data EPROTO");
  from("5:hello", 7);
  is_int(ns_get(&fb, 100, &out), NS_IOERR, "get: EOF before comma");
  from("5:", 2);
  is_int(ns_get(&fb, 100, &out), NS_IOERR, "get: EOF after colon");
  from("5:helloX", 8);
  is_int(ns_get(&fb, 100, &out), NS_BAD, "get: missing comma");
  from("-1:", 3);
  is_int(ns_get(&fb, 100, &out), NS_BAD, "get: -1:");
  from("6:hello!,", 9);
  is_int(ns_get(&fb, 5, &out), NS_TOOBIG, "get: cap exceeded");
  from("5:hello,", 8);
  is_int(ns_get(&fb, 5, &out), NS_OK, "get: length == cap");
  {
    /* len + 1 must not wrap to a tiny allocation that the data then overruns */
    static char big[21 + 200];
    stralloc fresh = {0};
    memcpy(big, "18446744073709551615:", 21);
    memset(big + 21, 'z', 200);
    from(big, sizeof big);
    char c = 0;
    is_int(ns_get(&fb, SIZE_MAX, &fresh), NS_NOMEM, "get: SIZE_MAX length with cap SIZE_MAX is NS_NOMEM");
    ok(buffer_getc(&fb, &c) == 1 && c == 'z', "get: SIZE_MAX length: no data read into a short block");
    stralloc_free(&fresh);
  }

  drip("11:hello world,2:xy,", 0);
  is_int(ns_get(&db, 100, &out), NS_OK, "get one byte per read");
  is_sa(out, "hello world", "get one byte per read: data");
  is_int(ns_get(&db, 100, &out), NS_OK, "get one byte per read: second");
  is_sa(out, "xy", "get one byte per read: second data");
  is_int(ns_get(&db, 100, &out), NS_EOF, "get one byte per read: EOF");
  drip("5:hel", 1);
  is_int(ns_get(&db, 100, &out), NS_IOERR, "get: read error inside data");
  is_int(errno, EIO, "get: read error errno");
  stralloc_free(&out);
}

int main(void)
{
  test_writers();
  test_parse();
  test_getlen();
  test_getcomma();
  test_get();
  return done_testing();
}
