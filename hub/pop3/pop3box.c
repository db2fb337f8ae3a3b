/* pop3box.c: listing a Maildir for qmail-pop3d (pop3box.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pop3box.h"
#include "pop3msg.h"

static char rbuf[65536];

static void skip(struct pop3box *b, const char *what, const char *name, int e)
{
  ++b->skipped;
  if (b->warn) b->warn(what, name, e);
}

/* clean_tmp: step 1; errors are ignored (nothing depends on it). */
static void clean_tmp(time_t now)
{
  DIR *d = opendir("tmp");
  struct dirent *e;
  stralloc p = {0};
  if (!d) return;
  while ((e = readdir(d))) {
    struct stat st;
    if (e->d_name[0] == '.') continue;
    p.len = 0;
    if (!stralloc_copys(&p, "tmp/") || !stralloc_cats(&p, e->d_name) || !stralloc_0(&p)) break;
    if (lstat(p.s, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime + POP3BOX_TMPAGE < now)
      unlink(p.s);
  }
  closedir(d);
  stralloc_free(&p);
}

/* move: from to to, never replacing to: 0 ok, -1 errno. */
static int move(const char *from, const char *to)
{
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (link(from, to) < 0) return -1;
  unlink(from);
  return 0;
}

int pop3box_tocur(const struct pop3box *b, size_t i)
{
  const char *path = pop3box_path(b, i), *file = pop3box_file(b, i);
  stralloc to = {0};
  int r;
  if (strncmp(path, "new/", 4)) return 0;
  if (!stralloc_copys(&to, "cur/") || !stralloc_cats(&to, file)
      || (!strchr(file, ':') && !stralloc_cats(&to, ":2,")) || !stralloc_0(&to)) {
    errno = ENOMEM;
    return -1;
  }
  r = move(path, to.s);
  stralloc_free(&to);
  return r;
}

/* grow: room for one more message. */
static int grow(struct pop3box *b)
{
  struct pop3box_msg *m;
  size_t cap;
  if (b->n < b->cap) return 1;
  cap = b->cap ? b->cap * 2 : 256;
  if (cap < b->cap || cap > (size_t)-1 / sizeof *m) return 0;
  m = realloc(b->m, cap * sizeof *m);
  if (!m) return 0;
  b->m = m;
  b->cap = cap;
  return 1;
}

/* openreg: open path for reading, a regular file only, symlinks not
 * followed; st gets its status. */
static int openreg(const char *path, struct stat *st)
{
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, st) < 0) { int e = errno; close(fd); errno = e; return -1; }
  if (!S_ISREG(st->st_mode)) { close(fd); errno = EISDIR; return -1; }
  return fd;
}

int pop3box_open(const struct pop3box *b, size_t i)
{
  struct stat st;
  return openreg(pop3box_path(b, i), &st);
}

/* add: the entry name (pool offset off, "dir/NAME") as message b->n: 1
 * added, 0 left out, -1 no memory. */
static int add(struct pop3box *b, size_t off)
{
  struct pop3box_msg *m;
  struct pop3msg pm;
  struct stat st;
  int fd, r;
  if (!grow(b)) return -1;
  m = b->m + b->n;
  m->name = off;
  m->deleted = 0;
  fd = openreg(b->pool.s + off, &st);
  if (fd < 0) {
    skip(b, errno == ELOOP ? "a symbolic link" : errno == EISDIR ? "not a regular file" : "cannot open",
         b->pool.s + off, errno == ELOOP || errno == EISDIR ? 0 : errno);
    return 0;
  }
  pop3msg_init(&pm, 0, 0, 0, 0);
  r = pop3msg_fd(&pm, fd, rbuf, sizeof rbuf);
  if (r < 0) { skip(b, "cannot read", b->pool.s + off, errno); close(fd); return 0; }
  close(fd);
  m->size = pop3msg_size(&pm);
  m->mtime = st.st_mtime;
  ++b->n;
  return 1;
}

static int list(struct pop3box *b, const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int r;
  if (!d) return errno == ENOENT && dir[0] == 'n' ? 0 : -1;
  while ((e = readdir(d))) {
    size_t off = b->pool.len;
    if (e->d_name[0] == '.') continue;
    if (!stralloc_cats(&b->pool, dir) || !stralloc_append(&b->pool, "/")
        || !stralloc_cats(&b->pool, e->d_name) || !stralloc_0(&b->pool)
        || (r = add(b, off)) < 0) {
      closedir(d);
      errno = ENOMEM;
      return -1;
    }
    if (!r) b->pool.len = off;  /* left out: drop its name */
  }
  closedir(d);
  return 0;
}

static const struct pop3box *sorting;

static int older(const void *x, const void *y)
{
  const struct pop3box_msg *a = x, *c = y;
  if (a->mtime != c->mtime) return a->mtime < c->mtime ? -1 : 1;
  return strcmp(sorting->pool.s + a->name + 4, sorting->pool.s + c->name + 4);
}

/* uniq_cmp: by the unique part of the name (before ':'), then by number. */
static int uniq_cmp(const void *x, const void *y)
{
  const char *a = sorting->pool.s + sorting->m[*(const size_t *)x].name + 4;
  const char *c = sorting->pool.s + sorting->m[*(const size_t *)y].name + 4;
  size_t al = strcspn(a, ":"), cl = strcspn(c, ":");
  int r = memcmp(a, c, al < cl ? al : cl);
  if (r) return r;
  if (al != cl) return al < cl ? -1 : 1;
  return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* dedupe: step 5: of messages sharing a unique part (the same message
 * in new/ and cur/, or twice in cur/ with other flags) the oldest is
 * kept, the others are left out with a warning, so that every unique id
 * is listed once (RFC 1939 section 7). -1 no memory. */
static int dedupe(struct pop3box *b)
{
  size_t *ix, i, j;
  if (b->n < 2) return 0;
  if (b->n > (size_t)-1 / sizeof *ix || !(ix = malloc(b->n * sizeof *ix))) return -1;
  for (i = 0; i < b->n; ++i) ix[i] = i;
  qsort(ix, b->n, sizeof *ix, uniq_cmp);
  for (i = 1; i < b->n; ++i) {
    const char *a = pop3box_file(b, ix[i - 1]), *c = pop3box_file(b, ix[i]);
    size_t al = strcspn(a, ":");
    if (al == strcspn(c, ":") && !memcmp(a, c, al)) {
      b->m[ix[i]].deleted = -1;
      skip(b, "another file has the same unique name", pop3box_path(b, ix[i]), 0);
      ix[i] = ix[i - 1];  /* keep comparing with the one kept */
    }
  }
  free(ix);
  for (i = j = 0; i < b->n; ++i)
    if (b->m[i].deleted != -1) b->m[j++] = b->m[i];
  b->n = j;
  return 0;
}

int pop3box_scan(struct pop3box *b, time_t now)
{
  clean_tmp(now);
  if (list(b, "cur") < 0 || list(b, "new") < 0) return -1;
  sorting = b;
  if (b->n) qsort(b->m, b->n, sizeof *b->m, older);
  if (dedupe(b) < 0) { errno = ENOMEM; return -1; }
  return 0;
}

const char *pop3box_path(const struct pop3box *b, size_t i)
{
  return b->pool.s + b->m[i].name;
}

const char *pop3box_file(const struct pop3box *b, size_t i)
{
  return b->pool.s + b->m[i].name + 4;
}

void pop3box_free(struct pop3box *b)
{
  free(b->m);
  stralloc_free(&b->pool);
  b->m = 0;
  b->n = b->cap = 0;
}
