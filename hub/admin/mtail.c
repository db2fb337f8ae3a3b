/* mtail.c: reading a service's log directory incrementally (contract in
 * mtail.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mtail.h"

#define NAME_MAX_ 32   /* "@" 24 hex ".s": 27; "current" */

struct flist {
  char (*name)[NAME_MAX_];
  size_t n, a;
};

static char badpath[4096];

static int is_stamp(const char *s)
{
  size_t i;
  if (s[0] != '@') return 0;
  for (i = 1; i < MTAIL_STAMP; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

long long mtail_secs(const char *stamp)
{
  unsigned long long v = 0;
  size_t i;
  if (!stamp || !is_stamp(stamp)) return 0;
  for (i = 1; i <= 16; i++)
    v = v * 16 + (unsigned long long)(stamp[i] <= '9' ? stamp[i] - '0' : stamp[i] - 'a' + 10);
  return (long long)(v - 4611686018427387904ULL - 10);  /* 2^62, TAI-UTC 10 s */
}

static int rotated(const char *s)
{
  size_t l = strlen(s);
  return l == MTAIL_STAMP + 2 && is_stamp(s) && s[MTAIL_STAMP] == '.' &&
         (s[MTAIL_STAMP + 1] == 's' || s[MTAIL_STAMP + 1] == 'u');
}

static int cmpname(const void *a, const void *b) { return strcmp(a, b); }

/* list: the rotated files of dir by name, oldest first, the newest
 * MTAIL_FILES of them; then "current". 0 ok (a missing dir: none), -1 */
static int list(const char *dir, struct flist *fl)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  fl->n = 0;
  if (!d) return errno == ENOENT ? 0 : -1;
  while ((errno = 0, de = readdir(d))) {
    if (!rotated(de->d_name)) continue;
    if (fl->n == fl->a) {
      size_t na = fl->a ? fl->a * 2 : 16;
      void *p = na > (size_t)MTAIL_FILES * 4 ? 0 : realloc(fl->name, na * NAME_MAX_);
      if (!p) { closedir(d); errno = ENOMEM; return -1; }
      fl->name = p; fl->a = na;
    }
    strcpy(fl->name[fl->n++], de->d_name);
    if (fl->n == (size_t)MTAIL_FILES * 4) break;
  }
  if (errno) { int e = errno; closedir(d); errno = e; return -1; }
  closedir(d);
  if (fl->n > 1) qsort(fl->name, fl->n, NAME_MAX_, cmpname);
  if (fl->n > MTAIL_FILES) {
    memmove(fl->name, fl->name + (fl->n - MTAIL_FILES), (size_t)MTAIL_FILES * NAME_MAX_);
    fl->n = MTAIL_FILES;
  }
  if (fl->n == fl->a) {
    void *p = realloc(fl->name, (fl->a + 1) * NAME_MAX_);
    if (!p) { errno = ENOMEM; return -1; }
    fl->name = p; fl->a++;
  }
  strcpy(fl->name[fl->n++], "current");
  return 0;
}

struct reader {
  struct mpos *pos;
  const char *after;     /* skip lines stamped no later than this ("": none) */
  mtail_fn fn;
  void *ctx;
  unsigned long long *skipped;
  char line[MTAIL_LINE];
  size_t len;
  int toolong;
};

/* emit: one complete line */
static void emit(struct reader *r)
{
  const char *stamp = 0, *text = r->line;
  size_t len = r->len;
  if (len > MTAIL_STAMP && is_stamp(r->line) && r->line[MTAIL_STAMP] == ' ') {
    stamp = r->line;
    text = r->line + MTAIL_STAMP + 1;
    len -= MTAIL_STAMP + 1;
    if (*r->after && memcmp(stamp, r->after, MTAIL_STAMP) <= 0) return;
    memcpy(r->pos->stamp, stamp, MTAIL_STAMP);
    r->pos->stamp[MTAIL_STAMP] = 0;
  }
  r->line[r->len] = 0;  /* room: len < MTAIL_LINE here */
  r->fn(stamp, text, len, r->ctx);
}

/* feed: bytes of the file; off is the file offset after them */
static void feed(struct reader *r, const char *b, size_t n, unsigned long long off)
{
  size_t i;
  for (i = 0; i < n; i++) {
    if (b[i] == '\n') {
      if (r->toolong) ++*r->skipped; else emit(r);
      r->len = 0; r->toolong = 0;
      r->pos->off = off - (n - i - 1);
    } else if (r->len < MTAIL_LINE - 1) {
      r->line[r->len++] = b[i];
    } else {
      r->toolong = 1;
    }
  }
}

/* read_file: dir/name, the file of inode want, from offset from. 0 ok;
 * 1 it vanished or is another file now (multilog rotated it since the
 * listing: stop here, the next read goes on from the position); -1 error */
static int read_file(const char *dir, const char *name, unsigned long long want,
                     unsigned long long from, struct reader *r)
{
  char buf[65536];
  struct stat st;
  unsigned long long off = from;
  int fd;
  snprintf(badpath, sizeof badpath, "%s/%s", dir, name);
  fd = open(badpath, O_RDONLY | O_CLOEXEC);
  if (fd == -1) return errno == ENOENT ? 1 : -1;
  if (fstat(fd, &st) == -1) { int e = errno; close(fd); errno = e; return -1; }
  if ((unsigned long long)st.st_ino != want) { close(fd); return 1; }
  if (from && lseek(fd, (off_t)from, SEEK_SET) == -1) { int e = errno; close(fd); errno = e; return -1; }
  r->pos->ino = (unsigned long long)st.st_ino;
  r->pos->off = from;
  r->len = 0; r->toolong = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) { if (errno == EINTR) continue; int e = errno; close(fd); errno = e; return -1; }
    if (n == 0) break;
    off += (unsigned long long)n;
    feed(r, buf, (size_t)n, off);
  }
  close(fd);
  return 0;
}

/* find: the inode of each listed file into ino (0: gone); the index of
 * the file holding pos (its inode, at least pos->off bytes), -1 none */
static long find(const char *dir, const struct flist *fl, unsigned long long *ino,
                 const struct mpos *pos)
{
  size_t i;
  long at = -1;
  struct stat st;
  for (i = 0; i < fl->n; i++) {
    snprintf(badpath, sizeof badpath, "%s/%s", dir, fl->name[i]);
    ino[i] = stat(badpath, &st) == 0 ? (unsigned long long)st.st_ino : 0;
    if (at < 0 && pos->ino && ino[i] == pos->ino && (unsigned long long)st.st_size >= pos->off)
      at = (long)i;
  }
  return at;
}

int mtail_read(const char *dir, struct mpos *pos, mtail_fn fn, void *ctx,
               unsigned long long *skipped, const char **bad)
{
  static struct flist fl;
  static struct reader r;
  static unsigned long long ino[MTAIL_FILES + 1];
  char after[MTAIL_STAMP + 1];
  long at;
  size_t i;
  int rc = 0;
  if (list(dir, &fl) == -1) { snprintf(badpath, sizeof badpath, "%s", dir); *bad = badpath; return -1; }
  at = find(dir, &fl, ino, pos);
  strcpy(after, at < 0 ? pos->stamp : "");
  r.pos = pos; r.after = after; r.fn = fn; r.ctx = ctx; r.skipped = skipped;
  for (i = at < 0 ? 0 : (size_t)at; i < fl.n; i++) {
    rc = read_file(dir, fl.name[i], ino[i], at >= 0 && i == (size_t)at ? pos->off : 0, &r);
    if (rc) break;
  }
  if (rc == -1) { *bad = badpath; return -1; }
  return 0;
}
