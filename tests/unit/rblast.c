/* tests/unit/rblast.c: hub/rblast.c, qmail-remote's SMTP DATA encoding:
 * LF -> CRLF, leading dots doubled, bare CR kept, a last line without LF
 * completed, the final dot; every split of the input into two chunks
 * gives the same output; rblast_scan's LF count and 8-bit flag. */
#include <string.h>
#include "tap.h"
#include "rblast.h"

static void enc(const char *in, const char *want, const char *name)
{
  size_t len = strlen(in), cut, same = 1;
  stralloc out = {0};
  for (cut = 0; cut <= len; ++cut) {
    struct rblast b;
    out.len = 0;
    rblast_start(&b);
    rblast_put(&b, in, cut, &out);
    rblast_put(&b, in + cut, len - cut, &out);
    rblast_end(&b, &out);
    if (out.len != strlen(want) || memcmp(out.s, want, out.len)) same = 0;
  }
  is_sa(out, want, name);
  ok(same, "every chunking gives the same bytes");
  stralloc_free(&out);
}

int main(void)
{
  unsigned long long lfs = 0;
  int eight = 0;
  enc("a\nb\n", "a\r\nb\r\n.\r\n", "LF -> CRLF, final dot");
  enc(".x\n..y\nz.\n", "..x\r\n...y\r\nz.\r\n.\r\n", "leading dots doubled, others kept");
  enc(".\n", "..\r\n.\r\n", "a lone dot line");
  enc("a\rb\n", "a\rb\r\n.\r\n", "bare CR kept");
  enc("a\r\n", "a\r\r\n.\r\n", "CR before LF is content");
  enc("last", "last\r\n.\r\n", "last line without LF completed");
  enc("", ".\r\n", "empty message");
  enc("\n.\n", "\r\n..\r\n.\r\n", "dot after an empty line");
  rblast_scan("a\nb\xc3\n\n", 6, &lfs, &eight);
  ok(lfs == 3 && eight == 1, "scan: 3 LFs, 8-bit");
  lfs = 0; eight = 0;
  rblast_scan("plain\n", 6, &lfs, &eight);
  ok(lfs == 1 && eight == 0, "scan: 7-bit");
  return done_testing();
}
