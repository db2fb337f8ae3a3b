/* rblast.c: SMTP DATA encoding of a stored LF message (see rblast.h). */
#include <stdint.h>
#include "rblast.h"

void rblast_start(struct rblast *b)
{
  b->midline = 0;
}

int rblast_put(struct rblast *b, const char *in, size_t len, stralloc *out)
{
  size_t i;
  if (len > (SIZE_MAX - 8) / 2) return 0;
  if (!stralloc_readyplus(out, 2 * len + 8)) return 0;
  for (i = 0; i < len; ++i) {
    char c = in[i];
    if (c == '\n') {
      out->s[out->len++] = '\r';
      out->s[out->len++] = '\n';
      b->midline = 0;
      continue;
    }
    if (c == '.' && !b->midline) out->s[out->len++] = '.';
    out->s[out->len++] = c;
    b->midline = 1;
  }
  return 1;
}

int rblast_end(struct rblast *b, stralloc *out)
{
  if (b->midline && !stralloc_catb(out, "\r\n", 2)) return 0;
  b->midline = 0;
  return stralloc_catb(out, ".\r\n", 3);
}

void rblast_scan(const char *in, size_t len, unsigned long long *lfs, int *eight)
{
  size_t i;
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)in[i];
    if (c == '\n') ++*lfs;
    else if (c >= 0x80) *eight = 1;
  }
}
