/* q_spool.c: a message spool in memory up to SPOOL_MEM bytes, then in an
 * unlinked temporary file (see q_spool.h).
 *
 * The temporary file is opened with O_TMPFILE in $TMPDIR (else /tmp); a
 * file system without O_TMPFILE falls back to mkostemp + unlink, so no name
 * is ever left behind. A regular file handed to spool_readfd is adopted
 * where it stands (no copy): content is read with pread, so the caller's
 * file offset does not matter and spool_write can run any number of times.
 * Lengths are unsigned 64-bit and every sum is checked (EFBIG on overflow);
 * offsets must also fit off_t. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "q_spool.h"

#define CHUNK 65536
#define OFF_MAX ((unsigned long long)INT64_MAX)

void spool_init(struct spool *s)
{
  s->mem.s = 0;
  s->mem.len = 0;
  s->mem.a = 0;
  s->fd = -1;
  s->off = 0;
  s->len = 0;
  s->owned = 0;
}

unsigned long long spool_len(const struct spool *s)
{
  return s->len;
}

/* tmp_mkstemp: fallback when O_TMPFILE is not supported: a named file
 * unlinked at once. */
static int tmp_mkstemp(const char *dir)
{
  stralloc path = {0};
  int fd = -1, e;
  if (!stralloc_copys(&path, dir) || !stralloc_cats(&path, "/qspoolXXXXXX") ||
      !stralloc_0(&path)) {
    stralloc_free(&path);
    errno = ENOMEM;
    return -1;
  }
  fd = mkostemp(path.s, O_CLOEXEC);
  if (fd >= 0 && unlink(path.s) < 0) { e = errno; close(fd); fd = -1; errno = e; }
  e = errno;
  stralloc_free(&path);
  errno = e;
  return fd;
}

/* tmp_in: an anonymous read-write file in dir, or -1. */
static int tmp_in(const char *dir)
{
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) return -1;
  return tmp_mkstemp(dir);
}

/* tmp_open: try $TMPDIR first, then /tmp. */
static int tmp_open(void)
{
  const char *dir = getenv("TMPDIR");
  int fd = -1;
  if (dir && *dir) fd = tmp_in(dir);
  if (fd < 0) fd = tmp_in("/tmp");
  return fd;
}

/* pwrite_all: write buf at offset off of fd. */
static int pwrite_all(int fd, const char *buf, size_t len, unsigned long long off)
{
  while (len) {
    ssize_t w = pwrite(fd, buf, len, (off_t)off);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    if (w == 0) { errno = EIO; return -1; }
    buf += w;
    len -= (size_t)w;
    off += (unsigned long long)w;
  }
  return 0;
}

/* pread_full: read exactly len bytes at off; a short file is EIO. */
static int pread_full(int fd, char *buf, size_t len, unsigned long long off)
{
  while (len) {
    ssize_t r = pread(fd, buf, len, (off_t)off);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) { errno = EIO; return -1; }
    buf += r;
    len -= (size_t)r;
    off += (unsigned long long)r;
  }
  return 0;
}

/* copy_file: copy len bytes at from_off of from into to at offset 0. */
static int copy_file(int to, int from, unsigned long long from_off,
                     unsigned long long len)
{
  char buf[CHUNK];
  unsigned long long done = 0;
  while (done < len) {
    size_t n = len - done > CHUNK ? CHUNK : (size_t)(len - done);
    if (pread_full(from, buf, n, from_off + done) < 0) return -1;
    if (pwrite_all(to, buf, n, done) < 0) return -1;
    done += n;
  }
  return 0;
}

/* to_owned_file: move the content (memory or an adopted file) into a
 * temporary file of our own, so that appending never touches the caller's
 * file and memory stays at most SPOOL_MEM. */
static int to_owned_file(struct spool *s)
{
  int fd = tmp_open(), e;
  if (fd < 0) return -1;
  if (s->fd >= 0 ? copy_file(fd, s->fd, s->off, s->len)
                 : pwrite_all(fd, s->mem.s, s->mem.len, 0)) {
    e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  if (s->fd >= 0 && s->owned) close(s->fd);
  stralloc_free(&s->mem);
  s->fd = fd;
  s->off = 0;
  s->owned = 1;
  return 0;
}

int spool_put(struct spool *s, const char *buf, size_t len)
{
  unsigned long long end;
  if (s->len > OFF_MAX || len > OFF_MAX - s->len ||
      s->off > OFF_MAX - s->len - len) {
    errno = EFBIG;
    return -1;
  }
  if (s->fd < 0 && s->len + len <= SPOOL_MEM) {
    if (!stralloc_catb(&s->mem, buf, len)) { errno = ENOMEM; return -1; }
    s->len += len;
    return 0;
  }
  if ((s->fd < 0 || !s->owned) && to_owned_file(s) < 0) return -1;
  end = s->off + s->len;
  if (pwrite_all(s->fd, buf, len, end) < 0) return -1;
  s->len += len;
  return 0;
}

/* adopt: take a regular file with data beyond its offset as the content. */
static int adopt(struct spool *s, int fd)
{
  struct stat st;
  off_t pos;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY) return 0;
  if (s->len || s->fd >= 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return 0;
  pos = lseek(fd, 0, SEEK_CUR);
  if (pos < 0 || st.st_size <= pos) return 0;  /* /proc files claim size 0 */
  s->fd = fd;
  s->off = (unsigned long long)pos;
  s->len = (unsigned long long)(st.st_size - pos);
  s->owned = 0;
  return 1;
}

int spool_readfd(struct spool *s, int fd)
{
  char buf[CHUNK];
  if (adopt(s, fd)) return 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) return 0;
    if (spool_put(s, buf, (size_t)r) < 0) return -1;
  }
}

int spool_write(struct spool *s, int fd, const struct io_limits *lim)
{
  char buf[CHUNK];
  unsigned long long done = 0;
  if (s->fd < 0) return s->len ? io_writeall(fd, s->mem.s, s->mem.len, lim) : 0;
  while (done < s->len) {
    size_t n = s->len - done > CHUNK ? CHUNK : (size_t)(s->len - done);
    if (pread_full(s->fd, buf, n, s->off + done) < 0) return -1;
    if (io_writeall(fd, buf, n, lim) < 0) return -1;
    done += n;
  }
  return 0;
}

void spool_free(struct spool *s)
{
  stralloc_free(&s->mem);
  if (s->fd >= 0 && s->owned) close(s->fd);
  spool_init(s);
}
