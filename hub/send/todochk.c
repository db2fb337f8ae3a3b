/* todochk.c: stale and damaged todo/ names (contract in todochk.h). */
#include <errno.h>
#include <sys/stat.h>
#include "qname.h"
#include "stralloc.h"
#include "qconf.h"
#include "load.h"
#include "msg.h"
#include "qsane.h"
#include "sclean.h"
#include "slog.h"
#include "todochk.h"

/* info_fits: info/S/N has one link and is no older than mess/S/N (an
 * info name of an earlier message N that came back is older than this
 * message file) */
static int info_fits(unsigned long long id)
{
  char p[QNAME_MAX];
  struct stat i, m;
  if (sane_own(QDIR_INFO, id) != 1) return 0;
  fname(p, QDIR_INFO, id);
  if (stat(p, &i) == -1) return 0;
  fname(p, QDIR_MESS, id);
  return stat(p, &m) == 0 && i.st_mtime >= m.st_mtime;
}

/* from_info: todo/S/N is unusable (why); if info/S/N fits, the message
 * was preprocessed: drop the todo and intd names and load it from info.
 * 1 done, 0 no info (or one that does not fit). */
static int from_info(unsigned long long id, const char *why)
{
  static stralloc snd;
  if (!info_fits(id)) return 0;
  lg_s("warning: msg "); lg_n(id); lg_s(" has "); lg_s(why); lg_s(": loaded from info");
  lg_flush();
  if (clean_req('T', id) == -1) {
    lg_s("warning: unable to clean todo of msg "); lg_n(id); lg_flush();
    return 1;  /* the next scan tries again */
  }
  load_info(id, &snd);
  return 1;
}

/* left_alone: never read again until a restart (the 36 h cleanup's) */
static void left_alone(unsigned long long id, const char *why)
{
  struct msg *m = msg_find(id);
  lg_s("warning: msg "); lg_n(id); lg_s(" has "); lg_s(why); lg_s(": left alone"); lg_flush();
  if (!m) m = msg_new(id);
  m->bad = 1;
}

int todo_check(unsigned long long id)
{
  int t = sane_todo(id), ms;
  if (t == -1) return 1;  /* gone, or cannot tell: todo_process says */
  if (t == 0) {
    if (!from_info(id, "a stale todo entry")) left_alone(id, "a stale todo entry");
    return 0;
  }
  ms = sane_mess(id);
  if (ms == 0) { left_alone(id, "a stale message file"); return 0; }
  return 1;
}

int todo_damaged(unsigned long long id)
{
  return from_info(id, "a damaged envelope");
}
