/* hops.c: counting hops in a streamed header (see hops.h). */
#include "case.h"
#include "hops.h"

void hops_init(struct hops *h)
{
  h->count = 0;
  h->col = 0;
  h->inbody = 0;
}

/* line_start: the current line has begun with enough bytes to judge. */
static void judge(struct hops *h)
{
  if (h->col >= 9 && case_diffb(h->start, 9, "received:") == 0) ++h->count;
  else if (h->col >= 13 && case_diffb(h->start, 13, "delivered-to:") == 0) ++h->count;
}

void hops_feed(struct hops *h, const char *buf, size_t len)
{
  size_t i;
  for (i = 0; i < len && !h->inbody; ++i) {
    char c = buf[i];
    if (c == '\n') {
      if (h->col == 0 || (h->col == 1 && h->start[0] == '\r')) h->inbody = 1;
      else if (h->col < 13) judge(h);
      h->col = 0;
      continue;
    }
    if (h->col < sizeof h->start) h->start[h->col] = c;
    if (++h->col == 13) judge(h);
  }
}
