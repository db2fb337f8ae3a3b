/* tests/unit/authguard.c: TAP tests for hub/servers/authguard.c: the key of an
 * address (IPv4, IPv6 /64, IPv4-mapped, junk), counting refused attempts
 * per address in a window, other addresses apart, the window's end, a
 * full probe range taking the oldest record, the record format, and a
 * missing table as an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "authguard.h"

static char table[] = "/tmp/qauthguardXXXXXX";

int main(void)
{
  char key[AUTHGUARD_KEYMAX + 1], buf[AUTHGUARD_RECSIZE * 2];
  time_t t = 1800000000;
  int fd, i;
  long n = 0;

  authguard_key(key, "192.0.2.7");
  is_str(key, "192.0.2.7", "key: IPv4 as is");
  authguard_key(key, "2001:db8:1:2:3:4:5:6");
  is_str(key, "2001:db8:1:2::/64", "key: IPv6 by its /64");
  authguard_key(key, "2001:DB8:1:2::99");
  is_str(key, "2001:db8:1:2::/64", "key: the same /64, another host and case");
  authguard_key(key, "::ffff:192.0.2.7");
  is_str(key, "192.0.2.7", "key: IPv4-mapped as IPv4");
  authguard_key(key, "x 1 2\n");
  is_str(key, "?", "key: junk is ?");
  authguard_key(key, 0);
  is_str(key, "?", "key: no address is ?");

  fd = mkstemp(table);
  ok(fd >= 0, "a table file");
  close(fd);
  is_int(authguard_count(table, "192.0.2.7", 60, t, 0), 0, "an address never seen: 0");
  for (i = 1; i <= 3; ++i) n = authguard_count(table, "192.0.2.7", 60, t + i, 1);
  is_int(n, 3, "three refused attempts: 3");
  is_int(authguard_count(table, "192.0.2.7", 60, t + 10, 0), 3, "looking does not count");
  is_int(authguard_count(table, "192.0.2.8", 60, t + 10, 0), 0, "another address: 0");
  is_int(authguard_count(table, "::ffff:192.0.2.7", 60, t + 10, 0), 3, "the same address IPv4-mapped: 3");
  is_int(authguard_count(table, "192.0.2.7", 60, t + 60, 0), 3, "the last second of the window: 3");
  is_int(authguard_count(table, "192.0.2.7", 60, t + 61, 0), 0, "after the window (from the first): 0");
  is_int(authguard_count(table, "192.0.2.7", 60, t + 62, 1), 1, "a new window starts at 1");
  is_int(authguard_count(table, "2001:db8::1", 60, t, 1), 1, "an IPv6 host");
  is_int(authguard_count(table, "2001:db8::2", 60, t, 1), 2, "another host of its /64 adds to it");

  /* fill the probe range of one slot with other addresses: the oldest
   * record gives way, the table does not grow */
  for (i = 0; i < 4000; ++i) {
    char ip[32];
    snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
    if (authguard_count(table, ip, 100000, t + 100 + i, 1) != 1) break;
  }
  is_int(i, 4000, "4000 addresses each counted once");
  fd = open(table, O_RDONLY);
  ok(lseek(fd, 0, SEEK_END) == AUTHGUARD_SLOTS * AUTHGUARD_RECSIZE, "the table has its slots, no more");
  ok(pread(fd, buf, AUTHGUARD_RECSIZE, 0) == AUTHGUARD_RECSIZE && buf[AUTHGUARD_RECSIZE - 1] == '\n',
     "records are lines of AUTHGUARD_RECSIZE bytes");
  close(fd);
  is_int(authguard_count(table, "10.15.159.1", 100000, t + 5000, 0), 1, "the newest address is still there");
  unlink(table);
  errno = 0;
  ok(authguard_count(table, "192.0.2.7", 60, t, 1) == -1 && errno == ENOENT, "a missing table: -1 ENOENT");
  ok(authguard_count(table, "192.0.2.7", 60, t, 0) == -1, "and for a look too");
  return done_testing();
}
