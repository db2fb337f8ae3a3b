/* mqueue.c: the queue's gauges for qmail-metrics and qmail-top (mqueue.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "q_home.h"
#include "qconf.h"
#include "qname.h"
#include "qscan.h"
#include "mqueue.h"

static int one(unsigned long long id, void *ctx)
{
  struct mqueue *q = ctx;
  char p[QNAME_MAX];
  struct stat st;
  q->mess++;
  qname_file(p, QDIR_MESS, id);
  if (stat(p, &st) == 0 && (!q->oldest || st.st_mtime < q->oldest)) q->oldest = st.st_mtime;
  return 0;
}

int mqueue_read(struct mqueue *q, const char **bad)
{
  int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = -1, e = 0;
  memset(q, 0, sizeof *q);
  *bad = "";
  if (cwd == -1) return -2;
  if (chdir(home_dir()) == 0 && chdir(QUEUE_DIR) == 0 &&
      qscan_walk(QDIR_MESS, one, q, bad) == 0 && qscan_count(QDIR_TODO, &q->todo, bad) == 0)
    r = 0, q->up = 1;
  else
    e = errno;
  if (fchdir(cwd) == -1) r = -2;
  close(cwd);
  errno = e;
  return r;
}
