/* tcpto.c: the recent-connect-failure table (format in tcpto.h). Fixed
 * size, no allocation; file access with flock, pread/pwrite. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "qconf.h"
#include "tcpto.h"

_Static_assert(TCPTO_BYTES == QTCPTO_SIZE, "tcpto table is the size mkqueue makes");

void tcpto_key(int family, const unsigned char *ip, unsigned char key[16])
{
  if (family == AF_INET6) { memcpy(key, ip, 16); return; }
  memset(key, 0, 10);
  key[10] = key[11] = 0xff;
  memcpy(key + 12, ip, 4);
}

static long long get64(const unsigned char *p)
{
  unsigned long long v = 0;
  int i;
  for (i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return (long long)v;
}

static void put64(unsigned char *p, long long v)
{
  unsigned long long u = (unsigned long long)v;
  int i;
  for (i = 0; i < 8; ++i) { p[i] = (unsigned char)(u & 0xff); u >>= 8; }
}

int tcpto_get(const unsigned char *tab, size_t i, struct tcpto_entry *e)
{
  const unsigned char *r = tab + i * TCPTO_REC;
  memcpy(e->ip, r, 16);
  e->when = get64(r + 16);
  e->fails = r[24];
  e->kind = r[25];
  return e->fails != 0;
}

long long tcpto_backoff(unsigned fails)
{
  long long s = 120;
  if (fails < 2) return 0;
  while (fails-- > 2 && s < TCPTO_MAXSKIP) s *= 2;
  return s > TCPTO_MAXSKIP ? TCPTO_MAXSKIP : s;
}

/* find: the slot holding key, or -1. */
static int find(const unsigned char *tab, const unsigned char key[16])
{
  size_t i;
  for (i = 0; i < TCPTO_SLOTS; ++i) {
    const unsigned char *r = tab + i * TCPTO_REC;
    if (r[24] && memcmp(r, key, 16) == 0) return (int)i;
  }
  return -1;
}

int tcpto_dead(const unsigned char *tab, const unsigned char key[16], long long now)
{
  struct tcpto_entry e;
  int i = find(tab, key);
  if (i < 0) return 0;
  tcpto_get(tab, (size_t)i, &e);
  if (e.fails < 2) return 0;
  return now >= e.when && now - e.when < tcpto_backoff(e.fails);
}

/* victim: a free slot, else the oldest failure. */
static size_t victim(const unsigned char *tab)
{
  size_t i, best = 0;
  long long oldest = 0;
  for (i = 0; i < TCPTO_SLOTS; ++i) {
    const unsigned char *r = tab + i * TCPTO_REC;
    long long w = get64(r + 16);
    if (!r[24]) return i;
    if (i == 0 || w < oldest) { oldest = w; best = i; }
  }
  return best;
}

void tcpto_note(unsigned char *tab, const unsigned char key[16], long long now, int kind)
{
  int i = find(tab, key);
  unsigned char *r;
  if (kind == TCPTO_OK) {
    if (i >= 0) memset(tab + (size_t)i * TCPTO_REC, 0, TCPTO_REC);
    return;
  }
  if (i < 0) {
    r = tab + victim(tab) * TCPTO_REC;
    memset(r, 0, TCPTO_REC);
    memcpy(r, key, 16);
  } else {
    r = tab + (size_t)i * TCPTO_REC;
  }
  put64(r + 16, now);
  if (r[24] < 255) ++r[24];
  r[25] = (unsigned char)kind;
}

/* open_locked: open path and flock it; -1 on any problem (also when the
 * file is not exactly TCPTO_BYTES long). */
static int open_locked(const char *path, int flags, int op)
{
  struct stat st;
  int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW), e;
  if (fd < 0) return -1;
  if (flock(fd, op) < 0 || fstat(fd, &st) < 0) goto fail;
  if (!S_ISREG(st.st_mode) || st.st_size != TCPTO_BYTES) { errno = EINVAL; goto fail; }
  return fd;
fail:
  e = errno;
  close(fd);
  errno = e;
  return -1;
}

static int readtab(int fd, unsigned char *tab)
{
  ssize_t r = pread(fd, tab, TCPTO_BYTES, 0);
  if (r == TCPTO_BYTES) return 0;
  if (r >= 0) errno = EIO;
  return -1;
}

static int writetab(int fd, const unsigned char *tab)
{
  ssize_t w = pwrite(fd, tab, TCPTO_BYTES, 0);
  if (w == TCPTO_BYTES) return 0;
  if (w >= 0) errno = EIO;
  return -1;
}

static int finish(int fd, int r)
{
  int e = errno;
  close(fd);  /* drops the lock */
  errno = e;
  return r;
}

int tcpto_load(const char *path, unsigned char *tab)
{
  int fd = open_locked(path, O_RDONLY, LOCK_SH);
  if (fd < 0) return -1;
  return finish(fd, readtab(fd, tab));
}

int tcpto_update(const char *path, const unsigned char (*keys)[16],
                 const int *kinds, size_t n, long long now)
{
  unsigned char tab[TCPTO_BYTES];
  size_t i;
  int fd = open_locked(path, O_RDWR, LOCK_EX);
  if (fd < 0) return -1;
  if (readtab(fd, tab) < 0) return finish(fd, -1);
  for (i = 0; i < n; ++i) tcpto_note(tab, keys[i], now, kinds[i]);
  return finish(fd, writetab(fd, tab));
}

int tcpto_clear(const char *path)
{
  unsigned char tab[TCPTO_BYTES];
  int fd = open_locked(path, O_RDWR, LOCK_EX);
  if (fd < 0) return -1;
  memset(tab, 0, sizeof tab);
  return finish(fd, writetab(fd, tab));
}
