/* chanfile.c: reading and checkpointing qmail-send's channel files
 * (contract in chanfile.h; format in hub/queue/QUEUE.md sec 1). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "chanfile.h"

int chanfile_fdopen(struct chanfile *c, int fd)
{
  c->buf = malloc(CHANFILE_BUF);
  if (!c->buf) return -1;
  c->fd = fd;
  c->base = 0;
  c->pos = c->len = 0;
  c->eof = 0;
  return 0;
}

int chanfile_open(struct chanfile *c, const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) return -1;
  if (chanfile_fdopen(c, fd) == -1) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return 0;
}

void chanfile_close(struct chanfile *c)
{
  if (c->fd != -1) close(c->fd);
  c->fd = -1;
  free(c->buf);
  c->buf = 0;
}

/* fill: move the unread bytes to the front and read more. 1 got bytes,
 * 0 end of file, -1 error. */
static int fill(struct chanfile *c)
{
  ssize_t n;
  if (c->pos) {
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->base += (off_t)c->pos;
    c->len -= c->pos;
    c->pos = 0;
  }
  if (c->len == CHANFILE_BUF) return 1;  /* caller checks the item cap */
  do n = read(c->fd, c->buf + c->len, CHANFILE_BUF - c->len);
  while (n == -1 && errno == EINTR);
  if (n == -1) return -1;
  if (n == 0) { c->eof = 1; return 0; }
  c->len += (size_t)n;
  return 1;
}

int chanfile_next(struct chanfile *c, struct chanrec *r)
{
  for (;;) {
    char *s = c->buf + c->pos;
    size_t avail = c->len - c->pos;
    char *z = memchr(s, '\0', avail > CHANFILE_ITEM_MAX ? CHANFILE_ITEM_MAX : avail);
    if (z) {
      r->offset = c->base + (off_t)c->pos;
      r->type = s[0];
      r->addr = z == s ? s : s + 1;
      r->alen = z == s ? 0 : (size_t)(z - s - 1);
      c->pos += (size_t)(z - s) + 1;
      return 1;
    }
    if (avail >= CHANFILE_ITEM_MAX) { errno = ENAMETOOLONG; return -1; }
    if (c->eof) {
      if (avail) { errno = EPROTO; return -1; }
      return 0;
    }
    if (fill(c) == -1) return -1;
  }
}

int chanfile_markdone(const char *path, off_t offset)
{
  ssize_t n;
  int e;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd == -1) return -1;
  /* One byte, one pwrite: a single-byte write cannot be torn, so after a
   * crash the record is either T (delivered again: a duplicate) or D. */
  do n = pwrite(fd, "D", 1, offset);
  while (n == -1 && errno == EINTR);
  e = errno;
  if (close(fd) == -1 && n == 1) return -1;
  if (n != 1) { errno = n == -1 ? e : EIO; return -1; }
  return 0;
}

int chanfile_count(const char *path, unsigned long *ntodo, unsigned long *ndone)
{
  struct chanfile c;
  struct chanrec r;
  unsigned long t = 0, d = 0;
  int rc;
  if (chanfile_open(&c, path) == -1) return -1;
  while ((rc = chanfile_next(&c, &r)) == 1) {
    if (r.type == 'T') ++t;
    else if (r.type == 'D') ++d;
    else { rc = -1; errno = EPROTO; break; }
  }
  chanfile_close(&c);
  if (rc == -1) return -1;
  if (ntodo) *ntodo = t;
  if (ndone) *ndone = d;
  return 0;
}

int chanfile_alldone(const char *path)
{
  unsigned long t;
  if (chanfile_count(path, &t, 0) == -1) return -1;
  return t == 0;
}

void chanfile_unread(struct chanfile *c, const struct chanrec *r)
{
  c->pos = (size_t)(r->offset - c->base);
}
