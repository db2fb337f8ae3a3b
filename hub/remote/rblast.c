/* rblast.c: qmail-remote's message encoders (see rblast.h). */
#include <stdint.h>
#include "rblast.h"

void rblast_start(struct rblast *b, int mode)
{
  b->mode = mode;
  b->midline = 0;
  b->cr = 0;
}

/* line_end: the mode's line end into out (room checked by the caller). */
static void line_end(struct rblast *b, stralloc *out)
{
  if (b->mode == RBLAST_SMTP) out->s[out->len++] = '\r';
  out->s[out->len++] = '\n';
  b->midline = 0;
}

int rblast_put(struct rblast *b, const char *in, size_t len, stralloc *out)
{
  size_t i;
  if (len > (SIZE_MAX - 8) / 2) return 0;
  if (!stralloc_readyplus(out, 2 * len + 8)) return 0;
  for (i = 0; i < len; ++i) {
    char c = in[i];
    if (b->cr) {            /* the held CR: part of a line end, or a space */
      b->cr = 0;
      if (c == '\n') { line_end(b, out); continue; }
      out->s[out->len++] = ' ';
      b->midline = 1;
    }
    if (c == '\r') { b->cr = 1; continue; }
    if (c == '\n') { line_end(b, out); continue; }
    if (c == '.' && !b->midline && b->mode == RBLAST_SMTP) out->s[out->len++] = '.';
    out->s[out->len++] = c;
    b->midline = 1;
  }
  return 1;
}

int rblast_end(struct rblast *b, stralloc *out)
{
  if (b->cr) {
    b->cr = 0;
    b->midline = 1;
    if (!stralloc_catb(out, " ", 1)) return 0;
  }
  if (b->mode != RBLAST_SMTP) return 1;
  if (b->midline && !stralloc_catb(out, "\r\n", 2)) return 0;
  b->midline = 0;
  return stralloc_catb(out, ".\r\n", 3);
}

void rblast_scan(struct rblast_facts *f, const char *in, size_t len)
{
  size_t i;
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)in[i];
    if (c == '\n') {
      ++f->lfs;
      if (f->cr) ++f->crlfs;
    } else if (c >= 0x80) f->eightbit = 1;
    f->cr = c == '\r';
  }
}
