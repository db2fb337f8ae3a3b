/* mboxappend.c: the unfinished-append record on an mbox (contract and
 * reasoning in mboxappend.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "mboxappend.h"

#define RECMAX (64 + MBOXAPPEND_LINEMAX)

int mboxappend_mark(int fd, off_t start, off_t end, const char *first, size_t flen)
{
  char rec[RECMAX];
  int n;
  if (flen > MBOXAPPEND_LINEMAX) flen = MBOXAPPEND_LINEMAX;
  n = snprintf(rec, sizeof rec, "%lld %lld\n", (long long)start, (long long)end);
  if (n < 0 || (size_t)n + flen > sizeof rec) { errno = EOVERFLOW; return -1; }
  memcpy(rec + n, first, flen);
  return fsetxattr(fd, MBOXAPPEND_XATTR, rec, (size_t)n + flen, 0);
}

int mboxappend_done(int fd)
{
  if (fremovexattr(fd, MBOXAPPEND_XATTR) == -1 && errno != ENODATA && errno != ENOTSUP)
    return -1;
  return 0;
}

/* parse: "start end\n" + line. 0 ok, -1 malformed. */
static int parse(const char *rec, size_t len, long long *start, long long *end,
                 const char **line, size_t *llen)
{
  char head[64], *nl, *e;
  const char *p = memchr(rec, '\n', len);
  if (!p || (size_t)(p - rec) >= sizeof head) return -1;
  memcpy(head, rec, (size_t)(p - rec));
  head[p - rec] = 0;
  *start = strtoll(head, &e, 10);
  if (e == head || *e != ' ') return -1;
  nl = e + 1;
  *end = strtoll(nl, &e, 10);
  if (e == nl || *e || *start < 0 || *end < *start) return -1;
  *line = p + 1;
  *llen = len - (size_t)(p + 1 - rec);
  return 0;
}

/* reopen: a read-only descriptor of the very file fd (st) is open on,
 * through /proc/self/fd; -1 if that is impossible or the file opened is
 * not the same regular file (never blocks on a FIFO or follows a name). */
static int reopen(int fd, const struct stat *st)
{
  char path[64];
  struct stat rst;
  int rfd;
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (rfd == -1) return -1;
  if (fstat(rfd, &rst) == -1 || !S_ISREG(rst.st_mode) ||
      rst.st_dev != st->st_dev || rst.st_ino != st->st_ino) { close(rfd); return -1; }
  return rfd;
}

/* ours: 1 if fd (st) holds line at offset start. fd may be write-only (an
 * mbox opened for append): read through a second descriptor of the same
 * file (reopen); if that is impossible, 0 (cut nothing). */
static int ours(int fd, const struct stat *st, long long start, const char *line, size_t llen)
{
  char buf[MBOXAPPEND_LINEMAX];
  ssize_t r;
  int rfd;
  if (llen == 0 || llen > sizeof buf) return 0;
  r = pread(fd, buf, llen, (off_t)start);
  if (r == -1 && errno == EBADF) {
    if ((rfd = reopen(fd, st)) == -1) return 0;
    r = pread(rfd, buf, llen, (off_t)start);
    close(rfd);
  }
  return r == (ssize_t)llen && memcmp(buf, line, llen) == 0;
}

int mboxappend_recover(int fd)
{
  char rec[RECMAX];
  struct stat st;
  long long start, end;
  const char *line;
  size_t llen;
  int cut = 0;
  ssize_t len;
  if (fstat(fd, &st) == -1) return -1;
  if (!S_ISREG(st.st_mode) || st.st_nlink != 1) { errno = EINVAL; return -1; }
  len = fgetxattr(fd, MBOXAPPEND_XATTR, rec, sizeof rec);
  if (len == -1) return errno == ENODATA || errno == ENOTSUP ? 0 : -1;
  if (parse(rec, (size_t)len, &start, &end, &line, &llen) == 0 &&
      (long long)st.st_size > start && (long long)st.st_size <= end &&
      ours(fd, &st, start, line, llen)) {
    if (ftruncate(fd, (off_t)start) == -1) return -1;
    cut = 1;
  }
  if (mboxappend_done(fd) == -1) return -1;
  return cut;
}
