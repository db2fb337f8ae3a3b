/* tests/unit/chanfile.c: TAP tests for hub/send/chanfile.c: reading T/D records
 * with their offsets, markdone (one byte overwritten, nothing else
 * changed), alldone and count, items spanning the reader's buffer
 * boundary, an item at and over the cap (ENAMETOOLONG), a file ending
 * inside an item (EPROTO), an empty file, a missing file (ENOENT), an
 * empty item, and a record of an unknown type. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "stralloc.h"
#include "chanfile.h"

static char path[256];

static void put(const char *s, size_t len)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || write(fd, s, len) != (ssize_t)len) { perror(path); exit(2); }
  close(fd);
}
#define PUT(lit) put(lit, sizeof lit - 1)

static void test_basic(void)
{
  struct chanfile c;
  struct chanrec r;
  char b[64];
  unsigned long t = 9, d = 9;
  int fd;
  PUT("Ta@b\0Dcc@d\0Te@f\0");
  ok(chanfile_open(&c, path) == 0, "open");
  ok(chanfile_next(&c, &r) == 1 && r.type == 'T' && r.offset == 0 && r.alen == 3 &&
     !memcmp(r.addr, "a@b", 3), "first record");
  ok(chanfile_next(&c, &r) == 1 && r.type == 'D' && r.offset == 5 && r.alen == 4 &&
     !memcmp(r.addr, "cc@d", 4), "second record");
  ok(chanfile_next(&c, &r) == 1 && r.type == 'T' && r.offset == 11 && r.alen == 3, "third record");
  is_int(chanfile_next(&c, &r), 0, "end of file");
  chanfile_close(&c);
  ok(chanfile_count(path, &t, &d) == 0 && t == 2 && d == 1, "count 2 T, 1 D");
  is_int(chanfile_alldone(path), 0, "not all done");
  is_int(chanfile_markdone(path, 11), 0, "markdone third");
  is_int(chanfile_markdone(path, 0), 0, "markdone first");
  fd = open(path, O_RDONLY);
  ok(fd != -1 && read(fd, b, sizeof b) == 16 && !memcmp(b, "Da@b\0Dcc@d\0De@f\0", 16),
     "only the type bytes changed");
  close(fd);
  is_int(chanfile_alldone(path), 1, "all done");
  ok(chanfile_markdone("/nonexistent/x", 0) == -1 && errno == ENOENT, "markdone missing file");
}

static void test_edges(void)
{
  struct chanfile c;
  struct chanrec r;
  PUT("");
  is_int(chanfile_alldone(path), 1, "empty file: all done");
  ok(chanfile_alldone("/nonexistent/x") == -1 && errno == ENOENT, "missing file: ENOENT");
  PUT("Ta@b\0Tc@");
  ok(chanfile_alldone(path) == -1 && errno == EPROTO, "ends inside an item: EPROTO");
  PUT("Ta@b\0Xc@d\0");
  ok(chanfile_alldone(path) == -1 && errno == EPROTO, "unknown type: EPROTO");
  PUT("Ta@b\0\0");
  ok(chanfile_open(&c, path) == 0, "open with empty item");
  chanfile_next(&c, &r);
  ok(chanfile_next(&c, &r) == 1 && r.type == '\0' && r.alen == 0 && r.offset == 5, "empty item");
  is_int(chanfile_next(&c, &r), 0, "then end");
  chanfile_close(&c);
}

static void test_cap(void)
{
  stralloc s = {0};
  struct chanfile c;
  struct chanrec r;
  stralloc_copys(&s, "T");
  for (int i = 0; i < CHANFILE_ITEM_MAX - 2; ++i) stralloc_append(&s, "x");
  stralloc_0(&s);
  stralloc_cats(&s, "Ty");
  stralloc_0(&s);
  put(s.s, s.len);
  ok(chanfile_open(&c, path) == 0, "open cap file");
  ok(chanfile_next(&c, &r) == 1 && r.alen == CHANFILE_ITEM_MAX - 2, "item at the cap");
  ok(chanfile_next(&c, &r) == 1 && r.alen == 1 && r.offset == CHANFILE_ITEM_MAX, "next after it");
  chanfile_close(&c);
  stralloc_copys(&s, "T");
  for (int i = 0; i < CHANFILE_ITEM_MAX - 1; ++i) stralloc_append(&s, "x");
  stralloc_0(&s);
  put(s.s, s.len);
  ok(chanfile_alldone(path) == -1 && errno == ENAMETOOLONG, "item over the cap: ENAMETOOLONG");
  stralloc_free(&s);
}

static void test_big(void)
{
  stralloc s = {0};
  struct chanfile c;
  struct chanrec r;
  char a[64];
  int i, n, bad = 0;
  off_t off = 0;
  for (i = 0; i < 20000; ++i) {
    n = snprintf(a, sizeof a, "T%d@%.*s", i, i % 37, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop");
    stralloc_catb(&s, a, (size_t)n + 1);
  }
  put(s.s, s.len);
  ok(s.len > 3 * CHANFILE_BUF, "big file spans several buffers");
  ok(chanfile_open(&c, path) == 0, "open big");
  for (i = 0; i < 20000; ++i) {
    n = snprintf(a, sizeof a, "T%d@%.*s", i, i % 37, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop");
    if (chanfile_next(&c, &r) != 1 || r.offset != off || r.type != 'T' ||
        r.alen != (size_t)n - 1 || memcmp(r.addr, a + 1, r.alen)) { ++bad; break; }
    off += n + 1;
  }
  is_int(bad, 0, "every record and offset right across buffer boundaries");
  is_int(chanfile_next(&c, &r), 0, "big: end");
  chanfile_close(&c);
  /* unread: every other record is pushed back once and read again */
  ok(chanfile_open(&c, path) == 0, "open big for unread");
  bad = 0; off = 0;
  for (i = 0; i < 20000; ++i) {
    if (chanfile_next(&c, &r) != 1 || r.offset != off) { ++bad; break; }
    if (i % 2 == 0) {
      chanfile_unread(&c, &r);
      if (chanfile_next(&c, &r) != 1 || r.offset != off) { ++bad; break; }
    }
    off += (off_t)r.alen + 2;
  }
  is_int(bad, 0, "unread gives the same record again, across buffer boundaries");
  chanfile_close(&c);
  /* mark every record done through its offset */
  ok(chanfile_open(&c, path) == 0, "reopen big");
  bad = 0;
  while (chanfile_next(&c, &r) == 1) if (chanfile_markdone(path, r.offset) == -1) ++bad;
  chanfile_close(&c);
  is_int(bad, 0, "markdone every record");
  is_int(chanfile_alldone(path), 1, "big: all done");
  stralloc_free(&s);
}

int main(void)
{
  snprintf(path, sizeof path, "/tmp/chanfile-test.%d", (int)getpid());
  test_basic();
  test_edges();
  test_cap();
  test_big();
  unlink(path);
  return done_testing();
}
