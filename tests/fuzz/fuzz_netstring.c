/* tests/fuzz/fuzz_netstring.c: libFuzzer harness for common/q_netstring.c.
 * The first input byte picks the cap (255: SIZE_MAX for ns_parse), the
 * rest is the netstring text. Checks, beyond "no crash, no leak, no read
 * past the input":
 *  - ns_parse returns NS_OK, NS_BAD or NS_TOOBIG; on NS_OK used <= n,
 *    dlen <= cap, data lies inside the input, data[dlen] == ',', and the
 *    bytes before data are exactly ns_head(dlen) (strict: no leading zeros);
 *  - ns_get over buffer_frombuf (cap kept below 64 KB: it allocates the
 *    declared length) reads the same netstrings one after another, each
 *    out.len <= cap, and agrees with ns_parse on the first one;
 *  - ns_cat of the data parses back to the same data.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Dpure= -D_GNU_SOURCE
 *        -Icommon tests/fuzz/fuzz_netstring.c common/q_*.c -l:libowfat.a */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buffer.h"
#include "stralloc.h"
#include "q_netstring.h"

const char auto_home[] = "/nonexistent";

static void check_parse(const char *in, size_t n, size_t cap, int r, const char *data,
                        size_t dlen, size_t used)
{
  char head[NS_HEAD];
  size_t hl;
  if (r != NS_OK && r != NS_BAD && r != NS_TOOBIG) abort();
  if (r != NS_OK) return;
  if (used > n || dlen > cap || data < in || data + dlen >= in + n) abort();
  if (data[dlen] != ',' || (size_t)(data - in) + dlen + 1 != used) abort();
  hl = ns_head(head, dlen);
  if (hl != (size_t)(data - in) || memcmp(head, in, hl)) abort();
}

/* roundtrip: ns_cat of data parses back to exactly data */
static void roundtrip(const char *data, size_t dlen)
{
  stralloc s = {0, 0, 0};
  const char *d2;
  size_t l2, u2;
  if (!ns_cat(&s, data, dlen)) abort();
  if (s.len != ns_size(dlen)) abort();
  if (ns_parse(s.s, s.len, dlen, &d2, &l2, &u2) != NS_OK) abort();
  if (l2 != dlen || u2 != s.len || memcmp(d2, data, dlen)) abort();
  stralloc_free(&s);
}

/* get_all: ns_get until it stops; the first result must agree with ns_parse
 * (pr is ns_parse's result with the same cap, or NOCHECK) */
#define NOCHECK 100
static void get_all(const char *in, size_t n, size_t cap, int pr, const char *pdata, size_t pdlen)
{
  buffer b;
  stralloc out = {0, 0, 0};
  int r, first = 1;
  buffer_frombuf(&b, in, n);
  for (;;) {
    r = ns_get(&b, cap, &out);
    if (r != NS_OK) break;
    if (out.len > cap) abort();
    if (first && pr != NOCHECK && (pr != NS_OK || out.len != pdlen || memcmp(out.s, pdata, pdlen)))
      abort();
    first = 0;
  }
  if (r != NS_EOF && r != NS_BAD && r != NS_TOOBIG && r != NS_IOERR) abort();
  if (first && pr == NS_OK) abort();             /* ns_parse found one, ns_get did not */
  if (first && pr == NS_TOOBIG && r != NS_TOOBIG) abort();
  stralloc_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
  const char *in, *data = 0;
  size_t cap, gcap, dlen = 0, used = 0;
  int r;
  if (n < 1) return 0;
  cap = d[0] == 255 ? SIZE_MAX : (size_t)d[0] * (d[0] & 1 ? 1 : 257);
  in = (const char *)d + 1;
  --n;
  r = ns_parse(in, n, cap, &data, &dlen, &used);
  check_parse(in, n, cap, r, data, dlen, used);
  if (r == NS_OK) roundtrip(data, dlen);
  gcap = cap > 65535 ? 65535 : cap;
  if (gcap == cap) get_all(in, n, gcap, r, data, dlen);
  else get_all(in, n, gcap, NOCHECK, 0, 0);   /* caps differ: no cross-check */
  return 0;
}
