/* load.c: loading preprocessed messages (contract in load.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "stralloc.h"
#include "q_err.h"
#include "qconf.h"
#include "qname.h"
#include "chanfile.h"
#include "channel.h"
#include "finish.h"
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

/* load_entry: info/S/<name> (a readdir entry of info/S) */
static void load_entry(unsigned s, const char *name, stralloc *snd)
{
  char sid[64], p[QNAME_MAX];
  unsigned long long id;
  long long birth;
  struct stat st;
  if (name[0] == '.') return;
  if (strlen(name) > 20) return;
  snprintf(sid, sizeof sid, "%u/%s", s, name);
  if (todo_parse_id(sid, &id) == -1) return;
  fname(p, QDIR_TODO, id);
  if (stat(p, &st) == 0) return;  /* todo processing redoes it */
  if (read_sender(id, snd, &birth) == -1) {
    lg_s("warning: unable to read info for msg "); lg_n(id); lg_flush();
    return;
  }
  load(id, birth, snd, 0);
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
