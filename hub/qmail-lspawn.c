/* qmail-lspawn: run qmail-local for each local delivery qmail-send asks
 * for (REFERENCE.md 1a, 1c; DESIGN.md §4, §5; the loop is hub/spawn).
 *   qmail-lspawn defaultdelivery
 * Job in: <slot><S/N>\0<sender>\0<local@domain>\0 on fd 0; the message is
 * HOME/queue/mess/S/N. The address's owner is looked up in HOME/users/cdb
 * (exact, then longest wildcard prefix), then by qmail-getpw's rule. The
 * child runs HOME/bin/qmail-local -- user home local dash ext domain sender
 * defaultdelivery with the message on fd 0, stdout+stderr captured, in the
 * user's home, as that user (setgroups/setgid/setuid) when we are root, or
 * as ourselves in single-user mode (not root), where addresses with no
 * users/cdb entry go to HOME/alias. Never as root.
 * Report out on fd 1: <slot><K|Z|D><text>\0. Exit mapping: 0 K; 111, 71,
 * 74, 75 and our own child codes 112-121 Z; a signal Z; 126 and any other
 * code D. Exit: 0 when qmail-send closes fd 0 and all children are done,
 * 111 on a protocol or output failure. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "qspawn.h"
#include "users.h"

/* child exit codes (REFERENCE.md 1c): all Z except EXIT_EXECHARD */
#define EXIT_ROOT 113
#define EXIT_HOME 115
#define EXIT_SYS 118
#define EXIT_EXEC 121
#define EXIT_EXECHARD 126

static const char *defaultdelivery;
static int singleuser;
static stralloc qlocal, messpath, who, localpart, domain;

static int zresult(stralloc *r, const char *text)
{
  if (!stralloc_copys(r, "Z") || !stralloc_cats(r, text)) fatal_nomem();
  return -1;
}

/* single: single-user answer: ourselves, HOME/alias, ext = local. */
static int single(stralloc *out)
{
  struct passwd *pw = getpwuid(getuid());
  char num[48];
  stralloc home = {0};
  if (!home_path(&home, "alias")) fatal_nomem();
  snprintf(num, sizeof num, "%lu%c%lu", (unsigned long)getuid(), 0, (unsigned long)getgid());
  if (!stralloc_copys(out, pw ? pw->pw_name : QUSER_ALIAS) || !stralloc_0(out) ||
      !stralloc_cats(out, num) || !stralloc_0(out) ||
      !stralloc_cats(out, num + strlen(num) + 1) || !stralloc_0(out) ||
      !stralloc_cats(out, home.s) || !stralloc_0(out) || !stralloc_cats(out, "-") ||
      !stralloc_0(out) || !stralloc_cat(out, &localpart)) fatal_nomem();
  stralloc_free(&home);
  return 1;
}

/* lookup: who = the 6 fields for localpart. 1 ok, -1 with result set. */
static int lookup(stralloc *r)
{
  stralloc path = {0};
  int fd, x = 0;
  if (!home_path(&path, "users/cdb")) fatal_nomem();
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&path);
  if (fd == -1 && errno != ENOENT) return zresult(r, "Unable to open users/cdb. (#4.3.0)");
  if (fd != -1) {
    x = users_cdb_lookup(fd, localpart.s, localpart.len - 1, &who);
    close(fd);
    if (x == -1) return zresult(r, "Unable to read users/cdb. (#4.3.0)");
  }
  if (x == 1) return 1;
  if (singleuser) return single(&who);
  x = users_getpw(localpart.s, localpart.len - 1, &who);
  if (x == -1) return zresult(r, "Unable to read the password database. (#4.3.0)");
  if (x == 0) return zresult(r, "Sorry, no alias user to deliver to. (#4.3.0)");
  return 1;
}

/* split: rcpt -> localpart, domain (both NUL-terminated); at the last '@'. */
static void split(const char *rcpt)
{
  const char *at = strrchr(rcpt, '@');
  size_t n = at ? (size_t)(at - rcpt) : strlen(rcpt);
  if (!stralloc_copyb(&localpart, rcpt, n) || !stralloc_0(&localpart) ||
      !stralloc_copys(&domain, at ? at + 1 : "") || !stralloc_0(&domain)) fatal_nomem();
}

static void child_die(int code, const char *text) __attribute__((noreturn));
static void child_die(int code, const char *text)
{
  if (write(1, text, strlen(text)) < 0) {}
  _exit(code);
}

/* child: become the user, run qmail-local. f = the 6 fields. */
static void child(const struct spawn_job *j, int messfd, int outfd, const char *f[6])
{
  unsigned long uid = strtoul(f[1], 0, 10), gid = strtoul(f[2], 0, 10);
  char *argv[] = { "qmail-local", "--", (char *)f[0], (char *)f[3], localpart.s,
                   (char *)f[4], (char *)f[5], domain.s, (char *)j->sender,
                   (char *)defaultdelivery, 0 };
  if (dup2(outfd, 1) == -1 || dup2(outfd, 2) == -1 || dup2(messfd, 0) == -1)
    child_die(EXIT_SYS, "Unable to set up qmail-local's descriptors. (#4.3.0)");
  if (!singleuser) {
    gid_t g = (gid_t)gid;
    if (!uid) child_die(EXIT_ROOT, "Refusing to deliver as root. (#4.3.0)");
    if (setgroups(1, &g) == -1 || setgid(g) == -1 || setuid((uid_t)uid) == -1)
      child_die(EXIT_SYS, "Unable to switch to the recipient's user. (#4.3.0)");
  }
  if (!getuid() || !geteuid()) child_die(EXIT_ROOT, "Refusing to deliver as root. (#4.3.0)");
  if (chdir(f[3]) == -1) child_die(EXIT_HOME, "Unable to switch to the recipient's home directory. (#4.3.0)");
  execv(qlocal.s, argv);
  if (errno == ENOENT || errno == EACCES || errno == ENOEXEC)
    child_die(EXIT_EXECHARD, "Unable to run qmail-local. (#5.3.0)");
  child_die(EXIT_EXEC, "Unable to run qmail-local. (#4.3.0)");
}

static pid_t start(const struct spawn_job *j, int outfd, stralloc *r)
{
  const char *f[6];
  int messfd;
  pid_t pid;
  split(j->rcpt);
  if (lookup(r) == -1) return -1;
  if (!users_fields(&who, f)) return zresult(r, "Bad users/cdb record. (#4.3.0)");
  if (!stralloc_copys(&messpath, "queue/mess/") || !stralloc_cats(&messpath, j->id) ||
      !stralloc_0(&messpath)) fatal_nomem();
  messfd = open(messpath.s, O_RDONLY | O_CLOEXEC);
  if (messfd == -1) return zresult(r, "Unable to open the message file. (#4.3.0)");
  pid = fork();
  if (pid == 0) child(j, messfd, outfd, f);
  close(messfd);
  if (pid == -1) return zresult(r, "Unable to fork. (#4.3.0)");
  return pid;
}

static void finish(int wstat, const char *out, size_t len, size_t nrcpt, stralloc *r)
{
  int code = WIFEXITED(wstat) ? WEXITSTATUS(wstat) : -1;
  char letter = 'D', num[64];
  (void)nrcpt;  /* always 1: maxrcpt */
  if (code == 0) letter = 'K';
  else if (code == -1 || code == 111 || code == 71 || code == 74 || code == 75 ||
           (code >= 112 && code <= 121)) letter = 'Z';
  if (!stralloc_copyb(r, &letter, 1) || !spawn_text(r, out, len)) fatal_nomem();
  if (r->len > 1) { if (!stralloc_0(r)) fatal_nomem(); return; }
  if (code == 0) snprintf(num, sizeof num, "Delivered.");
  else if (code == -1) snprintf(num, sizeof num, "qmail-local crashed. (#4.3.0)");
  else snprintf(num, sizeof num, "qmail-local exited %d. (#%c.3.0)", code, letter == 'Z' ? '4' : '5');
  if (!stralloc_cats(r, num) || !stralloc_0(r)) fatal_nomem();
}

int main(int argc, char **argv)
{
  static const struct spawn_ops ops = { start, finish, 1 };
  progname = "qmail-lspawn";
  if (argc != 2 || !argv[1][0]) fatal(111, "usage: qmail-lspawn defaultdelivery");
  defaultdelivery = argv[1];
  singleuser = getuid() != 0;
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to switch to ", home_dir());
  if (!home_path(&qlocal, "bin/qmail-local")) fatal_nomem();
  return spawn_loop(&ops, 0, 1);
}
