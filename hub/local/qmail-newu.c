/* qmail-newu: compile HOME/users/assign into HOME/users/cdb
 * (qmail-users(5); format and cdb layout in users.h).
 * Atomic (common/q_cdbmake.h): the cdb is written to users/cdb.tmp,
 * fsynced, closed, then renamed over users/cdb, and the users/ directory
 * is fsynced so the new name survives a crash. On any error nothing is
 * replaced.
 * Caps: users/assign at most CONTROL_MAX bytes, lines USERS_LINE_MAX.
 * Exit: 0 done; 111 any failure (bad syntax names the line number). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_cdbmake.h"
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "users.h"

/* readall: the whole file at path into sa, or exit 111 saying why */
static void readall(const char *path, stralloc *sa)
{
  int r = control_readpath(sa, path);
  if (r == 0) errno = ENOENT;
  if (r == -1 && errno == EFBIG) fatal(111, "unable to read ", path, ": file too big (#4.3.0)");
  if (r != 1) fatal_sys(111, "unable to read ", path);
}

static struct cdbmake cm;              /* ~12 KB: static */
static stralloc assign, cdb, text;     /* static: live until exit */

int main(void)
{
  unsigned long line;
  const char *what;
  char num[24];
  int r;
  progname = "qmail-newu";
  if (!home_path(&assign, "users/assign") || !home_path(&cdb, "users/cdb")) fatal_nomem();
  readall(assign.s, &text);
  if (cdbmake_open(&cm, cdb.s, 0644) == -1) fatal_sys(111, "unable to create ", cm.tmp.s);
  r = users_compile(text.s ? text.s : "", text.len, cm.fd, &line);
  if (r != 1) cdbmake_abort(&cm);
  if (r == 0) {
    snprintf(num, sizeof num, "%lu", line);
    fatal(111, "unable to parse ", assign.s, ": bad syntax on line ", num, " (#4.3.0)");
  }
  if (r == -1) fatal_sys(111, "unable to write ", cm.tmp.s);
  if (cdbmake_commit(&cm, &what) == -1) fatal_sys(111, "unable to ", what, " ", cm.tmp.s);
  return 0;
}
