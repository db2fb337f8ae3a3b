/* qmail-newmrh: compile HOME/control/morercpthosts into
 * HOME/control/morercpthosts.cdb, the big list of domains the servers
 * accept mail for besides control/rcpthosts (hub/servers/rcpthosts.h:
 * a host is accepted when it, or a ".suffix" of it, is a key).
 *   qmail-newmrh
 * The list is read as every control list (q_control.h): one entry a line,
 * blank lines and '#' lines ignored, trailing white space stripped, at most
 * CONTROL_MAX bytes. Entries are lowercased; one longer than MRH_MAX bytes
 * or holding a byte outside printable ASCII, a space or an '@' is refused
 * (it could never match). A missing list is an error: no empty table is
 * made by mistake.
 * Atomic, as qmail-newu: written to morercpthosts.cdb.tmp, fsynced, closed,
 * renamed over morercpthosts.cdb, the control/ directory fsynced; on any
 * error nothing is replaced. The servers open the table once per
 * connection, so a new one is in force for the next connection.
 * Exit: 0 done (one line on stdout counts the entries); 100 usage;
 * 111 any failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cdb_make.h"
#include "case.h"
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"

#define MRH_MAX 255  /* bytes in one entry (a domain name) */

static struct cdb_make cm;             /* ~12 KB: static */
static stralloc list, tmp, cdb, dir;   /* static: live until exit */

static void die_sys(const char *verb, const char *what) __attribute__((noreturn));
static void die_sys(const char *verb, const char *what)
{
  int e = errno;
  unlink(tmp.s);
  errno = e;
  fatal_sys(111, "unable to ", verb, " ", what);
}

/* entry_ok: may s (len bytes) be a key? */
static int entry_ok(const char *s, size_t len)
{
  size_t i;
  if (!len || len > MRH_MAX) return 0;
  for (i = 0; i < len; ++i)
    if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127 || s[i] == '@') return 0;
  return 1;
}

int main(int argc, char **argv)
{
  unsigned long n = 0;
  char num[24];
  size_t i;
  int fd, r;
  (void)argv;
  progname = "qmail-newmrh";
  if (argc != 1) fatal(100, "usage: qmail-newmrh");
  if (!control_path(&tmp, "morercpthosts.cdb.tmp") || !control_path(&cdb, "morercpthosts.cdb") ||
      !control_path(&dir, ".")) fatal_nomem();
  r = control_readlist(&list, "morercpthosts");
  if (r == 0) fatal(111, "unable to read control/morercpthosts: file does not exist");
  if (r < 0) fatal(111, "unable to read control/morercpthosts: ", control_strerror(errno));
  for (i = 0; i < list.len; i += strlen(list.s + i) + 1) {
    ++n;
    if (!entry_ok(list.s + i, strlen(list.s + i))) {
      snprintf(num, sizeof num, "%lu", n);
      fatal(111, "unable to use control/morercpthosts: entry ", num,
            " is not a domain (too long, or a space, '@' or control byte)");
    }
  }
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd == -1) fatal_sys(111, "unable to create ", tmp.s);
  if (fchmod(fd, 0644) == -1 || cdb_make_start(&cm, fd) == -1) die_sys("write", tmp.s);
  for (i = 0; i < list.len; i += strlen(list.s + i) + 1) {
    size_t len = strlen(list.s + i);
    case_lowerb(list.s + i, len);
    if (cdb_make_add(&cm, (const unsigned char *)list.s + i, len, (const unsigned char *)"", 0) == -1)
      die_sys("write", tmp.s);
  }
  if (cdb_make_finish(&cm) == -1 || fsync(fd) == -1 || close(fd) == -1) die_sys("write", tmp.s);
  if (rename(tmp.s, cdb.s) == -1) die_sys("move into place", tmp.s);
  fd = open(dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1 || fsync(fd) == -1) fatal_sys(111, "unable to sync ", dir.s);
  close(fd);
  printf("%lu domains in control/morercpthosts.cdb\n", n);
  return fflush(stdout) == EOF ? 111 : 0;
}
