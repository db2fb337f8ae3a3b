/* envelope.c: streaming check of a qmail-queue envelope (see envelope.h). */
#include "q_addr.h"
#include "envelope.h"

void envscan_init(struct envscan *e, unsigned long maxaddr)
{
  e->max = maxaddr;
  e->cur = 0;
  e->items = 0;
  e->initem = 0;
  e->last = 0;
}

/* next_ok: may an item of type c follow the last one? */
static int next_ok(const struct envscan *e, char c)
{
  switch (e->last) {
  case 0: return c == 'd' || c == 'F';
  case 'd': return c == 'F';
  case 'T': return c == 'T' || c == 'd';
  default: return c == 'T';  /* after F or a recipient's d item */
  }
}

/* item_start: the type byte c of a new item. 1 end of envelope, 0 item
 * begun, ENV_BAD. */
static long item_start(struct envscan *e, char c)
{
  if (c == 0)
    return e->items ? 1 : ENV_BAD;  /* a lone NUL before F: no sender item */
  if (!next_ok(e, c))
    return ENV_BAD;
  if (c != 'd') ++e->items;
  e->last = c == 'd' && e->last == 'T' ? 'r' : c;
  e->initem = 1;
  e->cur = 0;
  return 0;
}

/* in_dsn: the current item is a d item */
static int in_dsn(const struct envscan *e)
{
  return e->last == 'd' || e->last == 'r';
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
    } else if (++e->cur > (in_dsn(e) ? ENV_DSN_MAX : e->max)) {
      return ENV_LONG;
    } else if (in_dsn(e) ? buf[i] < 32 || buf[i] > 126 : !addr_env_byte((unsigned char)buf[i])) {
      return ENV_CTRL;
    }
  }
  return 0;
}

unsigned long envscan_rcpts(const struct envscan *e)
{
  return e->items ? e->items - 1 : 0;
}
