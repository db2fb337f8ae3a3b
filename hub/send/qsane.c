/* qsane.c: checks of queue names against the queue's invariants (contract
 * in qsane.h). */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "qconf.h"
#include "qname.h"
#include "msg.h"
#include "qsane.h"

/* pid_holds: does pid/ have a name for inode ino? 1 yes, 0 no, -1 pid/
 * cannot be read (errno) */
static int pid_holds(unsigned long long ino)
{
  DIR *d = opendir(QDIR_PID);
  struct dirent *de;
  int found = 0;
  if (!d) return -1;
  while (!found && (de = readdir(d)))
    if ((unsigned long long)de->d_ino == ino && de->d_name[0] != '.') found = 1;
  closedir(d);
  return found;
}

/* ours: is st a regular file owned by the owner of p's directory (the
 * queue's own files; a Maildir file or a user's file is not)? 1 yes, 0
 * no, -1 error */
static int ours(const char *p, const struct stat *st)
{
  char d[QNAME_MAX];
  struct stat ds;
  char *slash;
  if (!S_ISREG(st->st_mode)) return 0;
  strcpy(d, p);
  slash = strrchr(d, '/');
  if (slash) *slash = 0;
  if (stat(slash ? d : ".", &ds) == -1) return -1;
  return st->st_uid == ds.st_uid;
}

int sane_mess(unsigned long long id)
{
  char p[QNAME_MAX];
  struct stat st;
  int o;
  fname(p, QDIR_MESS, id);
  if (stat(p, &st) == -1) return -1;
  if ((unsigned long long)st.st_ino != id) return 0;
  if ((o = ours(p, &st)) != 1) return o;
  if (st.st_nlink == 1) return 1;
  if (st.st_nlink != 2) return 0;
  return pid_holds(id) != 0;  /* unreadable pid/: the benefit of the doubt */
}

/* is_mess: is inode ino a message file (mess/S/ino with inode ino)? */
static int is_mess(unsigned long long ino)
{
  char p[QNAME_MAX];
  struct stat st;
  fname(p, QDIR_MESS, ino);
  return stat(p, &st) == 0 && (unsigned long long)st.st_ino == ino;
}

int sane_todo(unsigned long long id)
{
  char p[QNAME_MAX];
  struct stat t, i;
  int o;
  fname(p, QDIR_TODO, id);
  if (stat(p, &t) == -1) return -1;
  if ((o = ours(p, &t)) != 1) return o;
  if (is_mess((unsigned long long)t.st_ino)) return 0;
  fname(p, QDIR_INTD, id);
  if (stat(p, &i) == 0) return i.st_ino == t.st_ino && t.st_nlink == 2;
  if (errno == ENOENT) return t.st_nlink == 1;
  if (errno == EACCES) return t.st_nlink <= 2;
  return -1;
}

int sane_own(const char *dir, unsigned long long id)
{
  char p[QNAME_MAX];
  struct stat st;
  int o;
  fname(p, dir, id);
  if (stat(p, &st) == -1) return -1;
  if ((o = ours(p, &st)) != 1) return o;
  return st.st_nlink == 1 ? 1 : SANE_SHARED;
}
