/* tests/unit/tcpto.c: hub/remote/tcpto.c, the recent-failure table: key form
 * (v4-mapped), the record layout (64-bit little-endian time), skip rule
 * and backoff, clearing on success, slot reuse when full, and the file
 * functions (wrong size and missing file disable the table). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap.h"
#include "tcpto.h"

int main(void)
{
  unsigned char tab[TCPTO_BYTES], key[16], k2[16], ip4[4] = { 192, 0, 2, 1 }, ip6[16] = { 0x20, 1, 0xd, 0xb8 };
  struct tcpto_entry e;
  char path[] = "/tmp/tcpto-test-XXXXXX";
  size_t i, used;
  int fd;
  memset(tab, 0, sizeof tab);
  tcpto_key(AF_INET, ip4, key);
  ok(key[10] == 0xff && key[11] == 0xff && key[12] == 192 && key[15] == 1 && key[0] == 0, "IPv4 key is v4-mapped");
  tcpto_note(tab, key, 0x123456789LL, TCPTO_TIMEOUT);
  ok(tcpto_get(tab, 0, &e) && e.fails == 1 && e.kind == TCPTO_TIMEOUT && e.when == 0x123456789LL, "first failure recorded");
  ok(tab[16] == 0x89 && tab[17] == 0x67 && tab[20] == 0x01 && tab[24] == 1 && tab[25] == 1, "layout: LE 64-bit time, count, kind");
  ok(!tcpto_dead(tab, key, 0x123456789LL + 1), "one failure: not skipped");
  tcpto_note(tab, key, 1000, TCPTO_REFUSED);
  ok(tcpto_dead(tab, key, 1000 + 119) && !tcpto_dead(tab, key, 1000 + 120), "two failures: skipped for 120 s");
  is_int(tcpto_backoff(3), 240, "backoff doubles");
  is_int(tcpto_backoff(200), TCPTO_MAXSKIP, "backoff capped");
  tcpto_key(AF_INET6, ip6, k2);
  ok(!tcpto_dead(tab, k2, 1000), "another address is not skipped");
  tcpto_note(tab, key, 1001, TCPTO_OK);
  ok(!tcpto_dead(tab, key, 1001) && !tcpto_get(tab, 0, &e), "success clears the slot");
  for (i = 0; i < TCPTO_SLOTS + 5; ++i) {
    unsigned char k[16] = { 0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (unsigned char)i };
    tcpto_note(tab, k, 5000 + (long long)i, TCPTO_TIMEOUT);
  }
  for (i = 0, used = 0; i < TCPTO_SLOTS; ++i) used += tcpto_get(tab, i, &e) && e.when >= 5005;
  is_int(used, TCPTO_SLOTS, "full table: the oldest entries are replaced");
  fd = mkstemp(path);
  ok(fd >= 0 && write(fd, tab, 100) == 100, "temp file");
  ok(tcpto_load(path, tab) < 0 && errno == EINVAL, "wrong size: unusable");
  ok(ftruncate(fd, TCPTO_BYTES) == 0 && tcpto_clear(path) == 0 && tcpto_load(path, tab) == 0, "clear and load");
  for (i = 0, used = 0; i < TCPTO_BYTES; ++i) used += tab[i] != 0;
  is_int(used, 0, "cleared table is zeros");
  {
    const unsigned char keys[2][16] = { { 0 }, { 1 } };
    int kinds[2] = { TCPTO_TIMEOUT, TCPTO_TIMEOUT };
    ok(tcpto_update(path, keys, kinds, 2, 77) == 0 && tcpto_load(path, tab) == 0 &&
       tcpto_get(tab, 0, &e) && tcpto_get(tab, 1, &e) && e.when == 77, "update writes the results");
  }
  close(fd);
  unlink(path);
  ok(tcpto_update(path, 0, 0, 0, 0) < 0 && errno == ENOENT, "missing file: unusable, no crash");
  return done_testing();
}
