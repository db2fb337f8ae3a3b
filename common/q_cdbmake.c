/* q_cdbmake.c: atomic cdb writing; the contract is in q_cdbmake.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "q_cdbmake.h"

int cdbmake_open(struct cdbmake *c, const char *path, mode_t mode)
{
  const char *slash = strrchr(path, '/');
  c->fd = -1;
  if (!stralloc_copys(&c->path, path) || !stralloc_0(&c->path) ||
      !stralloc_copys(&c->tmp, path) || !stralloc_cats(&c->tmp, ".tmp") || !stralloc_0(&c->tmp) ||
      !(slash ? stralloc_copyb(&c->dir, path, slash == path ? 1 : (size_t)(slash - path))
              : stralloc_copys(&c->dir, ".")) || !stralloc_0(&c->dir)) { errno = ENOMEM; return -1; }
  c->fd = open(c->tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (c->fd == -1) return -1;
  if (fchmod(c->fd, mode) == -1) { cdbmake_abort(c); return -1; }
  return 0;
}

int cdbmake_start(struct cdbmake *c, const char *path, mode_t mode)
{
  if (cdbmake_open(c, path, mode) == -1) return -1;
  if (cdb_make_start(&c->cm, c->fd) == -1) { cdbmake_abort(c); return -1; }
  return 0;
}

int cdbmake_add(struct cdbmake *c, const char *key, size_t klen, const char *data, size_t dlen)
{
  if (cdb_make_add(&c->cm, (const unsigned char *)key, klen, (const unsigned char *)data, dlen) == -1) {
    if (!errno) errno = ENOMEM;
    return -1;
  }
  return 0;
}

void cdbmake_abort(struct cdbmake *c)
{
  int e = errno;
  if (c->fd != -1) close(c->fd);
  c->fd = -1;
  if (c->tmp.s) unlink(c->tmp.s);
  errno = e;
}

int cdbmake_finish(struct cdbmake *c, const char **what)
{
  *what = "write";
  if (cdb_make_finish(&c->cm) == -1) { cdbmake_abort(c); return -1; }
  return cdbmake_commit(c, what);
}

int cdbmake_commit(struct cdbmake *c, const char **what)
{
  int fd;
  *what = "write";
  if (fsync(c->fd) == -1) { cdbmake_abort(c); return -1; }
  fd = c->fd;
  c->fd = -1;
  if (close(fd) == -1) { cdbmake_abort(c); return -1; }
  *what = "rename";
  if (rename(c->tmp.s, c->path.s) == -1) { cdbmake_abort(c); return -1; }
  *what = "sync";
  fd = open(c->dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1 || fsync(fd) == -1) { int e = errno; if (fd != -1) close(fd); errno = e; return -1; }
  close(fd);
  return 0;
}
