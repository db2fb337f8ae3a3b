/* aliasdb.c: the aliases settings and cdb lookup; contract in aliasdb.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "cdb.h"
#include "q_control.h"
#include "aliasdb.h"

int aliasdb_paths(stralloc *src, stralloc *cdb, const char **why)
{
  stralloc list = {0};
  const char *second = 0;
  int r = control_readlist(&list, "aliases");
  if (r < 0) return -1;
  if (r == 0 || !list.len) {
    if (!stralloc_copys(src, ALIASES_DEFAULT)) goto nomem;
  } else {
    size_t n = strlen(list.s) + 1;
    if (!stralloc_copys(src, list.s)) goto nomem;
    if (n < list.len) second = list.s + n;
    if (second && n + strlen(second) + 1 < list.len) { *why = "more than two lines"; r = 0; goto done; }
  }
  if (!(second ? stralloc_copys(cdb, second) : stralloc_copy(cdb, src) && stralloc_cats(cdb, ".cdb")) ||
      !stralloc_0(src) || !stralloc_0(cdb)) goto nomem;
  r = 1;
  if (src->s[0] != '/' || cdb->s[0] != '/') { *why = "a path that is not absolute"; r = 0; }
done:
  stralloc_free(&list);
  return r;
nomem:
  stralloc_free(&list);
  errno = ENOMEM;
  return -1;
}

int aliasdb_lookup(const char *path, const char *name, size_t len, stralloc *out)
{
  struct cdb c;
  stralloc key = {0};
  size_t i;
  uint32 dl;
  int r = -1, fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) return errno == ENOENT ? 0 : -1;
  memset(&c, 0, sizeof c);  /* cdb_init begins with cdb_free(&c) */
  cdb_init(&c, fd);
  if (!stralloc_copyb(&key, name, len)) { errno = ENOMEM; goto done; }
  for (i = 0; i < len; ++i) if (key.s[i] >= 'A' && key.s[i] <= 'Z') key.s[i] += 32;
  r = cdb_find(&c, (const unsigned char *)key.s, key.len);
  if (r <= 0) goto done;
  r = -1;
  dl = cdb_datalen(&c);
  if (dl > ALIASES_DATA_MAX || !dl) { errno = EINVAL; goto done; }
  if (!stralloc_ready(out, dl)) { errno = ENOMEM; goto done; }
  if (cdb_read(&c, (unsigned char *)out->s, dl, cdb_datapos(&c)) == -1) goto done;
  out->len = dl;
  r = out->s[dl - 1] == 0 ? 1 : (errno = EINVAL, -1);  /* entries end in NUL */
done:
  { int e = errno; cdb_free(&c); close(fd); stralloc_free(&key); errno = e; }
  return r;
}
