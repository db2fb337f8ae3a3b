/* tests/unit/date.c: TAP tests for common/q_date.c (RFC 5322 sec 3.3 date
 * text): UTC at the epoch, before it, leap days (2000, 2024), the year 2100
 * (not a leap year), 5-digit and 10-digit years, a time no struct tm can
 * hold; local time in America/New_York (-0500 and -0400, and its -0456
 * local mean time of 1874), Asia/Kolkata (+0530) and America/St_Johns
 * (-0330). Zone checks are skipped when zoneinfo is missing. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "q_date.h"

static void fmt(time_t t, int local, const char *exp, const char *name)
{
  char buf[DATE822_MAX + 8];
  size_t n;
  memset(buf, 'X', sizeof buf);
  n = date_fmt822(buf, t, local);
  is_mem(buf, n, exp, name);
  ok(n < DATE822_MAX && buf[n] == 0, name);
  ok(buf[DATE822_MAX] == 'X', name);
}

static int set_zone(const char *tz)
{
  char path[256];
  snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
  if (access(path, R_OK) < 0) return 0;
  setenv("TZ", tz, 1);
  tzset();
  return 1;
}

static void skip(int n, const char *why)
{
  while (n-- > 0) printf("ok %d # skip %s\n", ++tap_n, why);
}

int main(void)
{
  fmt(0, 0, "Thu, 1 Jan 1970 00:00:00 +0000", "epoch UTC");
  fmt(-1, 0, "Wed, 31 Dec 1969 23:59:59 +0000", "one second before the epoch");
  fmt(951782400, 0, "Tue, 29 Feb 2000 00:00:00 +0000", "leap day 2000");
  fmt(1709164800, 0, "Thu, 29 Feb 2024 00:00:00 +0000", "leap day 2024 start");
  fmt(1709251199, 0, "Thu, 29 Feb 2024 23:59:59 +0000", "leap day 2024 end");
  fmt(1700000000, 0, "Tue, 14 Nov 2023 22:13:20 +0000", "two-digit day");
  fmt((time_t)4102444800LL, 0, "Fri, 1 Jan 2100 00:00:00 +0000", "year 2100 (64-bit time)");
  fmt((time_t)4107542399LL, 0, "Sun, 28 Feb 2100 23:59:59 +0000", "2100 is not a leap year");
  fmt((time_t)253402300800LL, 0, "Sat, 1 Jan 10000 00:00:00 +0000", "year 10000");
  fmt((time_t)67767976233316800LL, 0, "Sun, 29 Dec 2147483647 12:00:00 +0000",
      "year INT_MAX (no int overflow)");
  {
    char buf[DATE822_MAX];
    size_t n;
    memset(buf, 'X', sizeof buf);
    n = date_fmt822(buf, (time_t)LLONG_MAX, 0);
    ok(n < DATE822_MAX && buf[n] == 0, "time past struct tm: terminated, in bounds");
    is_int(n, 0, "time past struct tm: empty");
    memset(buf, 'X', sizeof buf);
    n = date_fmt822(buf, (time_t)LLONG_MIN, 1);
    ok(n < DATE822_MAX && buf[n] == 0, "time before struct tm, local: terminated, in bounds");
  }

  setenv("TZ", "UTC0", 1);
  tzset();
  fmt(0, 1, "Thu, 1 Jan 1970 00:00:00 +0000", "local with TZ=UTC0");

  if (set_zone("America/New_York")) {
    fmt(0, 1, "Wed, 31 Dec 1969 19:00:00 -0500", "New York at the epoch");
    fmt(1709164800, 1, "Wed, 28 Feb 2024 19:00:00 -0500", "New York winter");
    fmt(1719835200, 1, "Mon, 1 Jul 2024 08:00:00 -0400", "New York summer");
    fmt(1709164800, 0, "Thu, 29 Feb 2024 00:00:00 +0000", "UTC ignores TZ");
    fmt((time_t)-3000000000LL, 1, "Mon, 7 Dec 1874 13:43:58 -0456", "New York LMT 1874");
  } else
    skip(15, "no zoneinfo for America/New_York");
  if (set_zone("Asia/Kolkata")) {
    fmt(0, 1, "Thu, 1 Jan 1970 05:30:00 +0530", "Kolkata at the epoch");
    fmt(1709251199, 1, "Fri, 1 Mar 2024 05:29:59 +0530", "Kolkata across a leap day");
  } else
    skip(6, "no zoneinfo for Asia/Kolkata");
  if (set_zone("America/St_Johns"))
    fmt(-1, 1, "Wed, 31 Dec 1969 20:29:59 -0330", "St Johns half-hour negative offset");
  else
    skip(3, "no zoneinfo for America/St_Johns");
  return done_testing();
}
