/* tests/fuzz/fuzz_chanfile.c: libFuzzer harness for hub/send/chanfile.c, the
 * reader of qmail-send's channel files (and of the envelope files of
 * hub/send/todo.c). The first two input bytes put the rest after a run of
 * filler records (none, or 12..19 of 4000 bytes, then 0..255 bytes more)
 * so that it may straddle the reader's 64 KB buffer; the third picks which
 * records are pushed back with chanfile_unread; the first T record gets
 * chanfile_markdone. The file is a memfd. Checks, beyond "no crash, no
 * leak, no undefined behaviour", against a model that walks the bytes
 * with memchr:
 *  - chanfile_next returns every item in order with its file offset, type
 *    byte and address exactly as in the file (an empty item is a lone
 *    NUL), then 0 at the end; an item with no NUL within
 *    CHANFILE_ITEM_MAX bytes is ENAMETOOLONG, bytes after the last NUL
 *    that fall short of that are EPROTO;
 *  - after chanfile_unread the same item comes back;
 *  - chanfile_count and chanfile_alldone agree with the items, and after
 *    chanfile_markdone the marked byte is 'D'.
 * Build: make fuzz-build (links hub/send/chanfile.c). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "chanfile.h"

#define FILLER 4000

static char *file;    /* what the memfd holds */
static size_t flen;

static void build(const uint8_t *data, size_t size)
{
  size_t nfill = data[0] & 0x80 ? 12 + (data[0] & 7) : 0, extra = data[1], i;
  char *p;
  flen = nfill * FILLER + (extra ? extra + 2 : 0) + size - 3;
  file = malloc(flen ? flen : 1);
  if (!file) abort();
  p = file;
  for (i = 0; i < nfill; ++i, p += FILLER) {
    memset(p, 'a', FILLER);
    p[0] = i & 1 ? 'D' : 'T';
    p[FILLER - 1] = 0;
  }
  if (extra) {
    memset(p, 'b', extra + 2);
    p[0] = 'T';
    p[extra + 1] = 0;
    p += extra + 2;
  }
  memcpy(p, data + 3, size - 3);
}

/* model: the item at pos: 1 (its length with the NUL in *n), 0 end, or
 * -1 with the errno chanfile_next must give. */
static int model(size_t pos, size_t *n, int *err)
{
  size_t avail = flen - pos, w = avail > CHANFILE_ITEM_MAX ? CHANFILE_ITEM_MAX : avail;
  const char *z;
  if (!avail) return 0;
  z = memchr(file + pos, 0, w);
  if (z) { *n = (size_t)(z - (file + pos)) + 1; return 1; }
  *err = avail >= CHANFILE_ITEM_MAX ? ENAMETOOLONG : EPROTO;
  return -1;
}

static void check_rec(const struct chanrec *r, size_t pos, size_t n)
{
  if (r->offset != (off_t)pos || r->type != file[pos]) abort();
  if (n == 1) {
    if (r->type || r->alen) abort();
  } else if (r->alen != n - 2 || memcmp(r->addr, file + pos + 1, n - 2) || r->addr[r->alen]) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct chanfile c;
  struct chanrec r, again;
  char path[64];
  size_t pos = 0, n = 0, items = 0;
  unsigned long nt = 0, nd = 0, t, d;
  static int fd = -1;                          /* one memfd for the process */
  int st, want = 0, err = 0, bad = 0, ac;
  unsigned char pick;
  if (size < 3) return 0;
  pick = data[2];
  build(data, size);
  if (fd < 0 && (fd = memfd_create("chan", 0)) < 0) abort();
  if (ftruncate(fd, 0) || (flen && pwrite(fd, file, flen, 0) != (ssize_t)flen) ||
      lseek(fd, 0, SEEK_SET))
    abort();
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (chanfile_fdopen(&c, dup(fd)) < 0) abort();
  for (;;) {
    want = model(pos, &n, &err);
    errno = 0;
    st = chanfile_next(&c, &r);
    if (st != want || (st < 0 && errno != err)) abort();
    if (st <= 0) break;
    check_rec(&r, pos, n);
    if ((pick >> (items & 7)) & 1) {           /* push back, read again */
      chanfile_unread(&c, &r);
      if (chanfile_next(&c, &again) != 1 || again.offset != r.offset) abort();
    }
    if (r.type == 'T') ++nt;
    else if (r.type == 'D') ++nd;
    else bad = 1;
    pos += n;
    ++items;
  }
  chanfile_close(&c);
  if (c.fd != -1 || c.buf) abort();

  ac = chanfile_count(path, &t, &d);
  if (want < 0 || bad) {                       /* the first problem's errno */
    if (ac != -1 || errno != (bad ? EPROTO : err)) abort();
  } else if (ac != 0 || t != nt || d != nd) {
    abort();
  }
  st = chanfile_alldone(path);
  if (st != (ac < 0 ? -1 : nt == 0)) abort();
  if (flen && !ac && nt) {                      /* mark the first T done */
    size_t k;
    char b;
    for (k = 0; file[k] != 'T'; k += strlen(file + k) + 1) ;
    if (chanfile_markdone(path, (off_t)k)) abort();
    if (pread(fd, &b, 1, (off_t)k) != 1 || b != 'D') abort();
    if (chanfile_count(path, &t, &d) || t != nt - 1 || d != nd + 1) abort();
  }
  free(file);
  return 0;
}
