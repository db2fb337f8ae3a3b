/* cleanreq.c: qmail-clean's request syntax; see cleanreq.h. */
#include "cleanreq.h"
#include "qconf.h"

/* digits: length of the decimal number at s[0..len) without a leading
 * zero (except "0" itself), or 0 if there is none. */
static size_t digits(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9') ++i;
  if (i > 1 && s[0] == '0') return 0;
  return i;
}

int cleanreq_parse(const char *req, size_t len)
{
  size_t ls, ln, i;
  unsigned long split = 0;
  if (len < 4 || len > CLEANREQ_MAX) return 0;
  if (req[0] != 'T' && req[0] != 'M') return 0;
  ls = digits(req + 1, len - 1);
  if (!ls || ls > 2 || 1 + ls >= len || req[1 + ls] != '/') return 0;
  for (i = 0; i < ls; ++i) split = split * 10 + (unsigned long)(req[1 + i] - '0');
  if (split >= QUEUE_SPLIT) return 0;
  ln = digits(req + 2 + ls, len - 2 - ls);
  if (!ln || ln > 20 || 2 + ls + ln != len) return 0;
  return req[0];
}
