/* q_date.c: RFC 5322 dates (see q_date.h). */
#include <stdio.h>
#include "q_date.h"

static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

size_t date_fmt822(char *buf, time_t t, int local)
{
  struct tm tm;
  long off = 0;
  int n;
  if (!(local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm))) {
    buf[0] = 0;  /* t beyond what struct tm holds: tm was not filled */
    return 0;
  }
  if (local) off = tm.tm_gmtoff / 60;
  n = snprintf(buf, DATE822_MAX, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
               days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
               tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
               off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
               (off < 0 ? -off : off) % 60);
  if (n < 0) n = 0;
  if (n >= DATE822_MAX) n = DATE822_MAX - 1;
  return (size_t)n;
}
