/* envelope.c: streaming check of a qmail-queue envelope (see envelope.h). */
#include "q_addr.h"
#include "envelope.h"

void envscan_init(struct envscan *e, unsigned long maxaddr)
{
  e->max = maxaddr;
  e->cur = 0;
  e->items = 0;
  e->initem = 0;
}

/* item_start: the type byte c of a new item. 1 end of envelope, 0 item
 * begun, ENV_BAD. */
static long item_start(struct envscan *e, char c)
{
  if (c == 0)
    return e->items ? 1 : ENV_BAD;  /* a lone NUL first: no sender item */
  if (c != (e->items ? 'T' : 'F'))
    return ENV_BAD;
  ++e->items;
  e->initem = 1;
  e->cur = 0;
  return 0;
}

long envscan_feed(struct envscan *e, const char *buf, size_t len)
{
  size_t i;
  long r;
  for (i = 0; i < len; ++i) {
    if (!e->initem) {
      r = item_start(e, buf[i]);
      if (r == 1) return (long)(i + 1);
      if (r < 0) return r;
    } else if (buf[i] == 0) {
      e->initem = 0;
    } else if (++e->cur > e->max) {
      return ENV_LONG;
    } else if (!addr_env_byte((unsigned char)buf[i])) {
      return ENV_CTRL;
    }
  }
  return 0;
}

unsigned long envscan_rcpts(const struct envscan *e)
{
  return e->items ? e->items - 1 : 0;
}
