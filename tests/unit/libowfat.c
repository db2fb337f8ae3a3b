/* tests/unit/libowfat.c: a canary for the libowfat functions this project
 * relies on or avoids (docs/libowfat.md P1, P2). Built, like everything here,
 * with -Dpure=, fmt_ulong, fmt_ulonglong, scan_ulong and scan_netstring
 * must work: those are ordinary checks. fmt_ulong0, stralloc_catulong0
 * and fmt_netstring are broken in Debian's binary: their correct behaviour
 * is checked on "# TODO" lines, which prove does not count as failures but
 * reports as "TODO passed" once a fixed libowfat is installed; then the
 * project may start using them (and this file should move them up). */
#include <limits.h>
#include <string.h>
#include "tap.h"
#include "fmt.h"
#include "scan.h"
#include "stralloc.h"

/* todo: a TAP line with a TODO directive; never counted as a failure */
static void todo(int cond, const char *name, const char *why)
{
  printf("%sok %d - %s # TODO %s\n", cond ? "" : "not ", ++tap_n, name, why);
  fflush(stdout);
}

static void test_working(void)
{
  char buf[FMT_ULONG + 1];
  unsigned long v = 12345;
  size_t n;
  char *d = 0;
  size_t dl = 0;
  static char ns[] = "5:hello,rest";
  static char empty[] = "0:,";

  n = fmt_ulong(buf, 0);
  is_mem(buf, n, "0", "fmt_ulong 0");
  n = fmt_ulong(buf, 1234567890UL);
  is_mem(buf, n, "1234567890", "fmt_ulong 1234567890");
  n = fmt_ulong(buf, ULONG_MAX);
  is_mem(buf, n, "18446744073709551615", "fmt_ulong ULONG_MAX");
  is_int(fmt_ulong(0, 100000), 6, "fmt_ulong(NULL) gives the length");
  n = fmt_ulonglong(buf, 9876543210ULL);
  is_mem(buf, n, "9876543210", "fmt_ulonglong");

  is_int(scan_ulong("23abc", &v), 2, "scan_ulong consumed");
  is_int(v, 23, "scan_ulong value");
  v = 7;
  is_int(scan_ulong("x", &v), 0, "scan_ulong non-digit -> 0");
  is_int(scan_ulong("18446744073709551615", &v), 20, "scan_ulong ULONG_MAX consumed");
  ok(v == ULONG_MAX, "scan_ulong ULONG_MAX value");

  is_int(scan_netstring(ns, strlen(ns), &d, &dl), 8, "scan_netstring consumed");
  ok(d == ns + 2, "scan_netstring data pointer set (needs -Dpure=)");
  is_int(dl, 5, "scan_netstring data length set (needs -Dpure=)");
  d = 0;
  dl = 99;
  is_int(scan_netstring(empty, 3, &d, &dl), 3, "scan_netstring 0:,");
  is_int(dl, 0, "scan_netstring 0:, length");
  is_int(scan_netstring(ns, 6, &d, &dl), 0, "scan_netstring incomplete -> 0");
}

static void test_broken(void)
{
  char buf[64];
  size_t n;
  stralloc sa = {0};

  memset(buf, 'X', sizeof buf);
  n = fmt_ulong0(buf, 7, 3);
  todo(n == 3 && memcmp(buf, "007", 3) == 0, "fmt_ulong0(7,3) gives 007",
       "broken in Debian libowfat 0.32 (docs/libowfat.md P2)");
  memset(buf, 'X', sizeof buf);
  n = fmt_ulong0(buf, 234, 2);
  todo(n == 3 && memcmp(buf, "234", 3) == 0, "fmt_ulong0(234,2) gives 234",
       "broken in Debian libowfat 0.32 (docs/libowfat.md P2)");

  if (stralloc_copys(&sa, "n=") && stralloc_catulong0(&sa, 42, 0))
    todo(sa.len == 4 && memcmp(sa.s, "n=42", 4) == 0, "stralloc_catulong0(42) appends 42",
         "broken in Debian libowfat 0.32 (docs/libowfat.md P2)");
  else
    todo(0, "stralloc_catulong0(42) appends 42", "out of memory");
  stralloc_free(&sa);

  memset(buf, 'X', sizeof buf);
  n = fmt_netstring(buf, "hello", 5);
  todo(n == 8 && memcmp(buf, "5:hello,", 8) == 0, "fmt_netstring(hello) gives 5:hello,",
       "broken in Debian libowfat 0.32 (docs/libowfat.md P2)");
  memset(buf, 'X', sizeof buf);
  n = fmt_netstring(buf, "0123456789ab", 12);
  todo(n == 16 && memcmp(buf, "12:0123456789ab,", 16) == 0,
       "fmt_netstring(12 bytes) gives 12:...,", "broken in Debian libowfat 0.32 (docs/libowfat.md P2)");
}

int main(void)
{
  test_working();
  test_broken();
  return done_testing();
}
