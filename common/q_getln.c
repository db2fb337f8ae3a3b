/* q_getln.c: capped line reading over libowfat buffers (see q_getln.h). */
#include <string.h>
#include "q_getln.h"

int getln(buffer *b, stralloc *sa, size_t cap)
{
  sa->len = 0;
  for (;;) {
    ssize_t avail = buffer_feed(b);
    char *p, *nl;
    size_t take;
    if (avail < 0) return GETLN_ERR;
    if (avail == 0) return GETLN_EOF;
    p = buffer_peek(b);
    nl = memchr(p, '\n', (size_t)avail);
    take = nl ? (size_t)(nl - p) + 1 : (size_t)avail;
    if (take > cap - sa->len) take = cap - sa->len;
    if (!stralloc_catb(sa, p, take)) return GETLN_NOMEM;
    buffer_seek(b, take);
    if (sa->len && sa->s[sa->len - 1] == '\n') return GETLN_LINE;
    if (sa->len >= cap) return GETLN_TOOLONG;
  }
}

int getln_peek(buffer *b, char *c)
{
  ssize_t avail = buffer_feed(b);
  if (avail < 0) return -1;
  if (avail == 0) return 0;
  *c = *buffer_peek(b);
  return 1;
}
