/* load.c: loading preprocessed messages (contract in load.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "qconf.h"
#include "qname.h"
#include "chanfile.h"
#include "channel.h"
#include "dfree.h"
#include "finish.h"
#include "qsane.h"
#include "sclean.h"
#include "slog.h"
#include "todo.h"
#include "load.h"

/* read_sender: the F record of info/S/N and its mtime (the birth).
 * 0 ok, -1 error (errno) */
static int read_sender(unsigned long long id, stralloc *out, long long *birth)
{
  char p[QNAME_MAX];
  struct chanfile cf;
  struct chanrec r;
  struct stat st;
  int rc;
  fname(p, QDIR_INFO, id);
  if (chanfile_open(&cf, p) == -1) return -1;
  if (fstat(cf.fd, &st) == -1) { chanfile_close(&cf); return -1; }
  *birth = (long long)st.st_mtime;
  rc = chanfile_next(&cf, &r);
  if (rc == 1 && r.type == 'F') {
    if (!stralloc_copyb(out, r.addr, r.alen)) fatal_nomem();
  } else {
    out->len = 0;
    if (rc != -1) errno = EPROTO;
    rc = -1;
  }
  chanfile_close(&cf);
  return rc == 1 ? 0 : -1;
}

void load(unsigned long long id, long long birth, const stralloc *sender, int fresh)
{
  struct msg *m = msg_find(id);
  int c, any = 0;
  long long t = now();
  if (m) return;  /* already known */
  m = msg_new(id);
  m->birth = birth;
  if (!stralloc_copy(&m->sender, sender)) fatal_nomem();
  for (c = 0; c < NCHAN; c++) {
    char p[QNAME_MAX];
    struct stat st;
    fname(p, ch[c].dir, id);
    if (stat(p, &st) == -1) continue;
    any = 1;
    sched(m, c, fresh || (long long)st.st_mtime < t ? t : (long long)st.st_mtime);
  }
  if (!any) to_done(m, t);
}

/* drop_name: unlink dir/S/N (names only: a file shared with another name
 * keeps it). The name may be stale and point at a reused inode (another
 * message's file): it is held like any other (hub/send/dfree.h): when
 * the inode has other names nothing is freed and the hold costs nothing;
 * when this was its last name, it is freed only once the unlink is
 * durable, or the same stale name could come back again. */
static void drop_name(const char *dir, unsigned long long id)
{
  char p[QNAME_MAX];
  fname(p, dir, id);
  if (dfree_unlink(p) == -1 && errno != ENOENT) lg_sys("warning: unable to unlink ", p);
}

/* drop_all: info, local and remote names of message id (info first) */
static void drop_all(unsigned long long id)
{
  int c;
  drop_name(QDIR_INFO, id);
  for (c = 0; c < NCHAN; c++) drop_name(ch[c].dir, id);
}

/* names_sane: may message id be delivered from info/S/N and its mess/S/N
 * (hub/send/qsane.h)? When mess/S/N is gone or names another file the
 * message's bytes are not in the queue (a name of a finished message that
 * came back after a crash): its info, local and remote names are removed,
 * and a stale mess name by qmail-clean; never delivered. 1 yes, 0 no. */
static int names_sane(unsigned long long id)
{
  int ms = sane_mess(id);
  if (ms == 1) return 1;
  if (ms == -1 && errno != ENOENT) {
    lg_s("warning: unable to check msg "); lg_n(id); lg_s(", trying again later"); lg_flush();
    return 0;
  }
  lg_s("warning: msg "); lg_n(id);
  lg_s(ms == 0 ? ": mess names another file" : ": no message file");
  lg_s(": stale names removed, not delivered"); lg_flush();
  drop_all(id);
  if (ms == 0 && clean_req('M', id) == -1) { lg_s("warning: unable to clean msg "); lg_n(id); lg_flush(); }
  return 0;
}

int load_info(unsigned long long id, stralloc *snd)
{
  long long birth;
  int io = sane_own(QDIR_INFO, id), rs;
  if (io == -1 && errno == ENOENT) return -1;
  rs = io == 0 ? -1 : read_sender(id, snd, &birth);
  if (io == 0 || (io == SANE_SHARED && rs == -1)) {  /* someone else's file */
    lg_s("warning: msg "); lg_n(id); lg_s(": info names another file: stale names removed, not delivered");
    lg_flush();
    drop_all(id);
    return -1;
  }
  if (!names_sane(id)) return -1;
  if (rs == -1) {
    lg_s("warning: unable to read info for msg "); lg_n(id); lg_flush();
    return -1;
  }
  load(id, birth, snd, 0);
  return 0;
}

/* load_entry: info/S/<name> (a readdir entry of info/S) */
static void load_entry(unsigned s, const char *name, stralloc *snd)
{
  char sid[64], p[QNAME_MAX];
  unsigned long long id;
  struct stat st;
  if (name[0] == '.') return;
  if (strlen(name) > 20) return;
  snprintf(sid, sizeof sid, "%u/%s", s, name);
  if (todo_parse_id(sid, &id) == -1) return;
  fname(p, QDIR_TODO, id);
  if (stat(p, &st) == 0) return;  /* todo processing redoes it */
  if (msg_find(id)) return;       /* known already */
  load_info(id, snd);
}

void scan_info(void)
{
  unsigned s;
  stralloc snd = {0};
  for (s = 0; s < QUEUE_SPLIT; s++) {
    char d[QNAME_MAX];
    DIR *dir;
    struct dirent *de;
    snprintf(d, sizeof d, "%s/%u", QDIR_INFO, s);
    dir = opendir(d);
    if (!dir) { lg_sys("warning: unable to opendir ", d); continue; }
    while ((de = readdir(dir))) load_entry(s, de->d_name, &snd);
    closedir(dir);
  }
  stralloc_free(&snd);
}
