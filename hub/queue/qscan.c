/* qscan.c: walking a split queue directory (contract in qscan.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "qconf.h"
#include "qscan.h"
#include "todo.h"

static char badname[64];

/* walk_one: the entries of dir/s. 0 ok, -1 error (errno). */
static int walk_one(const char *dir, unsigned s, qscan_fn fn, void *ctx)
{
  DIR *d;
  struct dirent *de;
  int rc = 0, e = 0;
  snprintf(badname, sizeof badname, "%s/%u", dir, s);
  d = opendir(badname);
  if (!d) return -1;
  for (;;) {
    char sid[64];
    unsigned long long id;
    errno = 0;
    de = readdir(d);
    if (!de) { if (errno) { rc = -1; e = errno; } break; }
    if (strlen(de->d_name) > 20) continue;
    snprintf(sid, sizeof sid, "%u/%s", s, de->d_name);
    if (todo_parse_id(sid, &id) == -1) continue;
    if (fn(id, ctx) == -1) { rc = -1; e = errno; break; }
  }
  closedir(d);
  errno = e;
  return rc;
}

int qscan_walk(const char *dir, qscan_fn fn, void *ctx, const char **bad)
{
  unsigned s;
  for (s = 0; s < QUEUE_SPLIT; s++)
    if (walk_one(dir, s, fn, ctx) == -1) {
      if (bad) *bad = badname;
      return -1;
    }
  return 0;
}

static int count_one(unsigned long long id, void *ctx)
{
  (void)id;
  ++*(unsigned long *)ctx;
  return 0;
}

int qscan_count(const char *dir, unsigned long *n, const char **bad)
{
  *n = 0;
  return qscan_walk(dir, count_one, n, bad);
}
