/* qmail-newu: compile HOME/users/assign into HOME/users/cdb
 * (qmail-users(5); format and cdb layout in users.h).
 * Atomic: the cdb is written to users/cdb.tmp, fsynced, closed, then
 * renamed over users/cdb, and the users/ directory is fsynced so the new
 * name survives a crash. On any error nothing is replaced.
 * Caps: users/assign at most CONTROL_MAX bytes, lines USERS_LINE_MAX.
 * Exit: 0 done; 111 any failure (bad syntax names the line number). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "users.h"

static void readall(const char *path, stralloc *sa)
{
  char buf[8192];
  ssize_t r;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) fatal_sys(111, "unable to open ", path);
  for (;;) {
    r = read(fd, buf, sizeof buf);
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) fatal_sys(111, "unable to read ", path);
    if (!r) break;
    if (sa->len + (size_t)r > CONTROL_MAX) fatal(111, "unable to read ", path, ": file too big (#4.3.0)");
    if (!stralloc_catb(sa, buf, (size_t)r)) fatal_nomem();
  }
  close(fd);
}

static stralloc assign, tmp, cdb, dir, text;  /* static: live until exit */

int main(void)
{
  unsigned long line;
  char num[24];
  int fd, r;
  progname = "qmail-newu";
  if (!home_path(&assign, "users/assign") || !home_path(&tmp, "users/cdb.tmp") ||
      !home_path(&cdb, "users/cdb") || !home_path(&dir, "users")) fatal_nomem();
  readall(assign.s, &text);
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1) fatal_sys(111, "unable to create ", tmp.s);
  r = users_compile(text.s ? text.s : "", text.len, fd, &line);
  if (r == 0) {
    unlink(tmp.s);
    snprintf(num, sizeof num, "%lu", line);
    fatal(111, "unable to parse ", assign.s, ": bad syntax on line ", num, " (#4.3.0)");
  }
  if (r == -1) { r = errno; unlink(tmp.s); errno = r; fatal_sys(111, "unable to write ", tmp.s); }
  if (fsync(fd) == -1 || close(fd) == -1) { r = errno; unlink(tmp.s); errno = r; fatal_sys(111, "unable to write ", tmp.s); }
  if (rename(tmp.s, cdb.s) == -1) { r = errno; unlink(tmp.s); errno = r; fatal_sys(111, "unable to move ", tmp.s, " to ", cdb.s); }
  fd = open(dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1 || fsync(fd) == -1) fatal_sys(111, "unable to sync ", dir.s);
  close(fd);
  return 0;
}
