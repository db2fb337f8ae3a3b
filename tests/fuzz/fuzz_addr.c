/* tests/fuzz/fuzz_addr.c: libFuzzer harness for common/q_addr.c
 * (addrlist_rewrite, addr_qualify). Checks, beyond "no crash, no leak":
 *  - on error the output stralloc is back at its length on entry and the
 *    message is set; on success every envelope address is free of NUL, CR
 *    and LF;
 *  - the rewritten field parses again to the same envelope addresses
 *    (qualification is idempotent, the rewriting keeps the structure);
 *  - addr_qualify is idempotent on each envelope address.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Dpure= -D_GNU_SOURCE
 *        -Icommon tests/fuzz/fuzz_addr.c common/q_addr.c -l:libowfat.a */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stralloc.h"
#include "q_addr.h"

static const struct addr_qualify qual = { "dh.example", "example.com", "plus.example" };

struct count {
  size_t n;
  stralloc all;   /* envelope addresses, each followed by a NUL */
};

static int collect(void *ctx, const char *a, size_t l)
{
  struct count *c = ctx;
  stralloc one = {0, 0, 0};
  if (memchr(a, 0, l) || memchr(a, '\r', l) || memchr(a, '\n', l)) abort();
  if (!stralloc_copyb(&one, a, l) || !addr_qualify(&one, &qual)) abort();
  if (one.len != l || memcmp(one.s, a, l)) abort();   /* qualified already */
  stralloc_free(&one);
  ++c->n;
  return stralloc_catb(&c->all, a, l) && stralloc_0(&c->all);
}

static void check_error(const stralloc *out, size_t before, const char *err)
{
  if (out->len != before || !err || !*err) abort();
}

/* reparse: the rewritten field must give the same envelope list again */
static void reparse(const stralloc *out, const struct count *first)
{
  struct count again = {0, {0, 0, 0}};
  stralloc out2 = {0, 0, 0};
  const char *err = 0;
  if (addrlist_rewrite(out->s, out->len, &qual, &out2, collect, &again, &err)) abort();
  if (again.n != first->n || again.all.len != first->all.len) abort();
  if (first->all.len && memcmp(again.all.s, first->all.s, first->all.len)) abort();
  if (out2.len != out->len || (out->len && memcmp(out2.s, out->s, out->len))) abort();
  stralloc_free(&again.all);
  stralloc_free(&out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
  struct count c = {0, {0, 0, 0}};
  stralloc out = {0, 0, 0};
  const char *err = 0;
  int r;
  if (!stralloc_copys(&out, "To: ")) abort();
  r = addrlist_rewrite((const char *)d, n, &qual, &out, collect, &c, &err);
  if (r == -1) check_error(&out, 4, err);
  else if (r != 0) abort();
  else {
    stralloc body = {0, 0, 0};
    if (!stralloc_copyb(&body, out.s + 4, out.len - 4)) abort();
    reparse(&body, &c);
    stralloc_free(&body);
  }
  stralloc_free(&out);
  stralloc_free(&c.all);
  return 0;
}
