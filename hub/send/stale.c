/* stale.c: stale-file cleanup (contract in stale.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "qconf.h"
#include "qname.h"
#include "msg.h"
#include "dfree.h"
#include "sclean.h"
#include "slog.h"
#include "todo.h"
#include "stale.h"

/* stale_one: mess/S/N older than limit with no info/S/N and no todo/S/N
 * (or a damaged one): have qmail-clean remove it */
static void stale_one(unsigned long long id, time_t limit)
{
  char p[QNAME_MAX];
  struct stat st;
  struct msg *m = msg_find(id);
  fname(p, QDIR_MESS, id);
  if (stat(p, &st) == -1 || st.st_mtime >= limit) return;
  fname(p, QDIR_INFO, id);
  if (stat(p, &st) == 0 || errno != ENOENT) return;
  fname(p, QDIR_TODO, id);
  if (stat(p, &st) == 0) {
    if (!m || !m->bad) return;  /* queued: todo processing will take it */
    if (clean_req('T', id) == -1) { lg_sys("warning: unable to clean todo of stale msg ", 0); return; }
  } else if (errno != ENOENT) return;
  if (clean_req('M', id) == -1) { lg_s("warning: unable to clean stale msg "); lg_n(id); lg_flush(); return; }
  if (m && m->bad) msg_del(m);
  lg_s("status: removed stale msg "); lg_n(id); lg_flush();
}

/* orphan_one: dir/S/N (local or remote) of a message with neither
 * info/S/N nor todo/S/N that qmail-send does not hold: a name a crash
 * brought back after the message was done (QUEUE.md sec 6a). Only the
 * name goes (its inode may be someone else's file now); it is held until
 * the unlink is durable (hub/send/dfree.h), as drop_name in load.c. */
static void orphan_one(const char *dir, unsigned long long id)
{
  char p[QNAME_MAX];
  struct stat st;
  if (msg_find(id)) return;
  fname(p, QDIR_INFO, id);
  if (stat(p, &st) == 0 || errno != ENOENT) return;
  fname(p, QDIR_TODO, id);
  if (stat(p, &st) == 0 || errno != ENOENT) return;
  fname(p, dir, id);
  if (dfree_unlink(p) == -1) { if (errno != ENOENT) lg_sys("warning: unable to remove orphan ", p); return; }
  lg_s("status: removed orphan "); lg_s(p); lg_flush();
}

/* clean_orphans: every name in local/ and remote/ without its message */
static void clean_orphans(void)
{
  static const char *const dirs[] = { QDIR_LOCAL, QDIR_REMOTE };
  unsigned s, i;
  for (i = 0; i < 2; i++)
    for (s = 0; s < QUEUE_SPLIT; s++) {
      char d[QNAME_MAX], sid[64];
      DIR *dir;
      struct dirent *de;
      unsigned long long id;
      snprintf(d, sizeof d, "%s/%u", dirs[i], s);
      dir = opendir(d);
      if (!dir) { if (errno != ENOENT) lg_sys("warning: unable to opendir ", d); continue; }
      while ((de = readdir(dir))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) > 20) continue;
        snprintf(sid, sizeof sid, "%u/%s", s, de->d_name);
        if (todo_parse_id(sid, &id) == 0) orphan_one(dirs[i], id);
      }
      closedir(dir);
    }
}

void clean_stale(void)
{
  time_t limit = time(0) - QUEUE_STALE;
  unsigned s;
  for (s = 0; s < QUEUE_SPLIT; s++) {
    char d[QNAME_MAX], sid[64];
    DIR *dir;
    struct dirent *de;
    unsigned long long id;
    snprintf(d, sizeof d, "%s/%u", QDIR_MESS, s);
    dir = opendir(d);
    if (!dir) { lg_sys("warning: unable to opendir ", d); continue; }
    while ((de = readdir(dir))) {
      if (de->d_name[0] == '.' || strlen(de->d_name) > 20) continue;
      snprintf(sid, sizeof sid, "%u/%s", s, de->d_name);
      if (todo_parse_id(sid, &id) == 0) stale_one(id, limit);
    }
    closedir(dir);
  }
  clean_orphans();
}
