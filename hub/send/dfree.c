/* dfree.c: deferred free of removed queue files (contract and the why in
 * dfree.h). The held descriptors are a FIFO: a flush releases the ones
 * held when it started. qmail-send is one thread and every removal (its
 * own unlink, or qmail-clean's, answered before clean_req returns) has
 * returned before the next flush starts. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "msg.h"
#include "slog.h"
#include "todo.h"
#include "dfree.h"

static int held[DFREE_MAX];
static unsigned nheld;
static long long since;  /* when the oldest hold was taken (or last tried) */

/* release: close the first n held descriptors */
static void release(unsigned n)
{
  unsigned i;
  for (i = 0; i < n; i++) close(held[i]);
  memmove(held, held + n, (nheld - n) * sizeof held[0]);
  nheld -= n;
  since = now();
}

int dfree_sync(void)
{
  unsigned n = nheld;  /* what was held before the flush starts */
  if (todo_sync(".") == -1) return -1;
  release(n);
  return 0;
}

/* own_flush: a flush for the held descriptors only; logged on failure */
static int own_flush(const char *why)
{
  if (dfree_sync() == 0) return 0;
  lg_sys("warning: unable to flush removed queue files, kept open: ", why);
  since = now();
  return -1;
}

int dfree_hold(const char *path)
{
  int fd;
  if (nheld == DFREE_MAX && own_flush("at the cap") == -1) return -1;
  fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) return errno == ENOENT ? 0 : -1;
  if (!nheld) since = now();
  held[nheld++] = fd;
  return 0;
}

int dfree_unlink(const char *path)
{
  if (dfree_hold(path) == -1) return -1;
  return unlink(path);
}

void dfree_due(long long t)
{
  if (nheld && t >= since + DFREE_WAIT) own_flush("waited");
}

long long dfree_wake(long long wake)
{
  if (nheld && since + DFREE_WAIT < wake) return since + DFREE_WAIT;
  return wake;
}

void dfree_end(void)
{
  if (nheld) own_flush("at exit");
}

unsigned dfree_held(void)
{
  return nheld;
}
