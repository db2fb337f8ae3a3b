/* drip.h: a libowfat buffer over a string that gives one byte per read,
 * then end of input or (fail != 0) a read error: for testing readers on
 * the worst chunking. Header-only like tap.h. Define DRIP_SPACE (the
 * buffer's size) before including it; drip() (re)starts the buffer db. */
#ifndef DRIP_H
#define DRIP_H

#include <errno.h>
#include <string.h>
#include "buffer.h"

#ifndef DRIP_SPACE
#define DRIP_SPACE 4
#endif

static const char *drip_src;
static size_t drip_len, drip_pos;
static int drip_fail;

static ssize_t drip_op(int fd, char *buf, size_t len, void *b)
{
  (void)fd; (void)b;
  if (drip_pos >= drip_len) {
    if (drip_fail) { errno = EIO; return -1; }
    return 0;
  }
  if (len == 0) return 0;
  buf[0] = drip_src[drip_pos++];
  return 1;
}

static char dspace[DRIP_SPACE];
static buffer db;

static void drip(const char *s, int fail)
{
  drip_src = s;
  drip_len = strlen(s);
  drip_pos = 0;
  drip_fail = fail;
  buffer_init(&db, (ssize_t (*)())drip_op, 0, dspace, sizeof dspace);
}

#endif
