/* qmail-lspawn: run qmail-local for each local delivery qmail-send asks
 * for (docs/protocols.md, the spawn protocol; docs/architecture.md sec 4;
 * the loop is hub/qspawn).
 *   qmail-lspawn defaultdelivery
 * Job in: <slot><S/N>\0<sender>\0<local@domain>\0 on fd 0; the message is
 * HOME/queue/mess/S/N. Each delivery is a child of ours, with stdout and
 * stderr captured, the message on fd 0 and nothing above fd 2. The
 * child finds the address's owner: HOME/users/cdb (exact, then longest
 * wildcard prefix), then HOME/bin/qmail-getpw. Run as root, that lookup
 * (users/cdb, the password database, NSS) happens in a grandchild that
 * has switched to qmailp first, as in qmail, so no root process ever
 * parses those files or loads an NSS module for an address from the
 * network; the root child only reads the six fields it answers. Then the
 * child runs HOME/bin/qmail-local -- user home local dash ext domain sender
 * defaultdelivery in the user's home, as that user (setgroups/setgid/
 * setuid). Not root (single-user mode): no switches, the lookup in the
 * child, addresses with no users/cdb entry go to HOME/alias. Never
 * qmail-local as root.
 * Report out on fd 1: <slot><K|Z|D><text>\0. Exit mapping: 0 K; 111, 71,
 * 74, 75 and our own child codes 112-121 Z; a signal Z; 126 and any other
 * code D (100 included: qmail-getpw's "address too long").
 * Exit: 0 when qmail-send closes fd 0 and all children are done, 111 on a
 * protocol or output failure, or (as root) when there is no user qmailp. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "local.h"
#include "qspawn.h"
#include "users.h"

#define LOOKUP_USER "qmailp"  /* the lookups run as this user (root mode) */
#define ANSWER_MAX (80 * 1024)  /* bytes of a lookup answer (cdb data <= 64 KB) */

/* child exit codes (docs/protocols.md): all Z */
#define EXIT_ROOT 113
#define EXIT_HOME 115
#define EXIT_LOOKUP 116
#define EXIT_CDB 117
#define EXIT_SYS 118
#define EXIT_EXEC 121

static const char *defaultdelivery;
static int singleuser;
static uid_t lookup_uid;
static gid_t lookup_gid;
static stralloc qgetpw, messpath, who, localpart, domain;

static int zresult(stralloc *r, const char *text)
{
  if (!stralloc_copys(r, "Z") || !stralloc_cats(r, text)) fatal_nomem();
  return -1;
}

/* child_die: in a child, the text on fd 2 (the report), then exit. */
static void child_die(int code, const char *text) __attribute__((noreturn));
static void child_die(int code, const char *text)
{
  if (write(2, text, strlen(text)) < 0) {}
  _exit(code);
}

static void child_nomem(void) __attribute__((noreturn));
static void child_nomem(void) { child_die(EXIT_SYS, "Out of memory. (#4.3.0)"); }

/* single: single-user answer: ourselves, HOME/alias, ext = local. */
static void single(stralloc *out)
{
  struct passwd *pw = getpwuid(getuid());
  char num[48];
  stralloc home = {0};
  if (!home_path(&home, "alias")) child_nomem();
  snprintf(num, sizeof num, "%lu%c%lu", (unsigned long)getuid(), 0, (unsigned long)getgid());
  if (!stralloc_copys(out, pw ? pw->pw_name : QUSER_ALIAS) || !stralloc_0(out) ||
      !stralloc_cats(out, num) || !stralloc_0(out) ||
      !stralloc_cats(out, num + strlen(num) + 1) || !stralloc_0(out) ||
      !stralloc_cats(out, home.s) || !stralloc_0(out) || !stralloc_cats(out, "-") ||
      !stralloc_0(out) || !stralloc_cat(out, &localpart)) child_nomem();
  stralloc_free(&home);
}

/* find: who = the 6 fields for localpart: users/cdb, then single-user's
 * rule, or (as qmailp) qmail-getpw run in place of this process. */
static void find(void)
{
  stralloc path = {0};
  char *argv[] = { "qmail-getpw", localpart.s, 0 };
  int fd, x = 0;
  if (!home_path(&path, "users/cdb")) child_nomem();
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&path);
  if (fd == -1 && errno != ENOENT) child_die(EXIT_CDB, "Unable to open users/cdb. (#4.3.0)");
  if (fd != -1) {
    x = users_cdb_lookup(fd, localpart.s, localpart.len - 1, &who);
    close(fd);
    if (x == -1) child_die(EXIT_CDB, "Unable to read users/cdb. (#4.3.0)");
  }
  if (x == 1) return;
  if (singleuser) { single(&who); return; }
  execv(qgetpw.s, argv);
  child_die(EXIT_EXEC, "Unable to run qmail-getpw. (#4.3.0)");
}

/* finder: the grandchild: become qmailp, answer on fd 1 (out), errors on
 * fd 2 (the report); nothing else open. */
static void finder(int out) __attribute__((noreturn));
static void finder(int out)
{
  int null = open("/dev/null", O_RDONLY);
  size_t done = 0;
  ssize_t w;
  if (null == -1 || dup2(null, 0) == -1 || dup2(out, 1) == -1)
    child_die(EXIT_SYS, "Unable to set up the lookup's descriptors. (#4.3.0)");
  if (close_range(3, ~0U, 0) == -1)
    child_die(EXIT_SYS, "Unable to close descriptors for the lookup. (#4.3.0)");
  if (setgroups(1, &lookup_gid) == -1 || setgid(lookup_gid) == -1 || setuid(lookup_uid) == -1)
    child_die(EXIT_SYS, "Unable to switch to " LOOKUP_USER ". (#4.3.0)");
  if (!getuid() || !geteuid()) child_die(EXIT_ROOT, "Refusing to look up as root. (#4.3.0)");
  find();
  while (done < who.len) {
    w = write(1, who.s + done, who.len - done);
    if (w <= 0) _exit(EXIT_SYS);
    done += (size_t)w;
  }
  _exit(0);
}

/* lookup: who = the answer, found as qmailp by finder. Returns only with
 * an answer; a finder that failed has said why on fd 2, except a crash. */
static void lookup(void)
{
  char buf[4096];
  ssize_t r;
  int p[2], wstat;
  pid_t pid;
  if (singleuser) { find(); return; }
  if (pipe2(p, O_CLOEXEC) == -1) child_die(EXIT_SYS, "Unable to create a pipe. (#4.3.0)");
  pid = fork();
  if (pid == -1) child_die(EXIT_SYS, "Unable to fork. (#4.3.0)");
  if (pid == 0) finder(p[1]);
  close(p[1]);
  who.len = 0;
  while ((r = read(p[0], buf, sizeof buf)) != 0) {
    if (r == -1) { if (errno == EINTR) continue; child_die(EXIT_SYS, "Unable to read the lookup's answer. (#4.3.0)"); }
    if (who.len + (size_t)r > ANSWER_MAX) child_die(EXIT_LOOKUP, "The lookup's answer is too long. (#4.3.0)");
    if (!stralloc_catb(&who, buf, (size_t)r)) child_nomem();
  }
  while (waitpid(pid, &wstat, 0) == -1)
    if (errno != EINTR) child_die(EXIT_SYS, "Unable to wait for the lookup. (#4.3.0)");
  if (!WIFEXITED(wstat)) child_die(EXIT_LOOKUP, "The user lookup crashed. (#4.3.0)");
  if (WEXITSTATUS(wstat) == 100) _exit(100);  /* qmail-getpw: address too long */
  if (WEXITSTATUS(wstat)) _exit(EXIT_LOOKUP);
}

/* split: rcpt -> localpart, domain (both NUL-terminated); at the last '@'. */
static void split(const char *rcpt)
{
  const char *at = strrchr(rcpt, '@');
  size_t n = at ? (size_t)(at - rcpt) : strlen(rcpt);
  if (!stralloc_copyb(&localpart, rcpt, n) || !stralloc_0(&localpart) ||
      !stralloc_copys(&domain, at ? at + 1 : "") || !stralloc_0(&domain)) fatal_nomem();
}

/* child_signals: what an exec would have given qmail-local: every caught
 * signal back to its default (the ignored ones stay ignored, SIGPIPE
 * among them, as across an exec) and nothing blocked. */
static void child_signals(void)
{
  struct sigaction sa;
  sigset_t none;
  int sig;
  for (sig = 1; sig < NSIG; ++sig)
    if (sigaction(sig, 0, &sa) == 0 &&
        ((sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL)))
      signal(sig, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, 0);
}

/* child: find the user, become that user, run the delivery (local.h)
 * in this process. */
static void child(const struct spawn_job *j, int messfd, int outfd) __attribute__((noreturn));
static void child(const struct spawn_job *j, int messfd, int outfd)
{
  const char *f[6];
  unsigned long uid, gid;
  char *argv[11];
  prctl(PR_SET_NAME, "qmail-local");  /* as ps showed it after the exec */
  if (dup2(outfd, 1) == -1 || dup2(outfd, 2) == -1 || dup2(messfd, 0) == -1 ||
      close_range(3, ~0U, 0) == -1)
    child_die(EXIT_SYS, "Unable to set up qmail-local's descriptors. (#4.3.0)");
  lookup();
  if (!users_fields(&who, f)) child_die(EXIT_LOOKUP, "Bad users/cdb record. (#4.3.0)");
  uid = strtoul(f[1], 0, 10); gid = strtoul(f[2], 0, 10);
  argv[0] = "qmail-local"; argv[1] = "--"; argv[2] = (char *)f[0]; argv[3] = (char *)f[3];
  argv[4] = localpart.s; argv[5] = (char *)f[4]; argv[6] = (char *)f[5]; argv[7] = domain.s;
  argv[8] = (char *)j->sender; argv[9] = (char *)defaultdelivery; argv[10] = 0;
  if (!singleuser) {
    gid_t g = (gid_t)gid;
    if (!uid) child_die(EXIT_ROOT, "Refusing to deliver as root. (#4.3.0)");
    if (setgroups(1, &g) == -1 || setgid(g) == -1 || setuid((uid_t)uid) == -1)
      child_die(EXIT_SYS, "Unable to switch to the recipient's user. (#4.3.0)");
  }
  if (!getuid() || !geteuid()) child_die(EXIT_ROOT, "Refusing to deliver as root. (#4.3.0)");
  if (chdir(f[3]) == -1) child_die(EXIT_HOME, "Unable to switch to the recipient's home directory. (#4.3.0)");
  child_signals();
  _exit(local_main(10, argv));
}

static pid_t start(const struct spawn_job *j, int outfd, stralloc *r)
{
  int messfd;
  pid_t pid;
  split(j->rcpt);
  if (!stralloc_copys(&messpath, "queue/mess/") || !stralloc_cats(&messpath, j->id) ||
      !stralloc_0(&messpath)) fatal_nomem();
  messfd = open(messpath.s, O_RDONLY | O_CLOEXEC);
  if (messfd == -1) return zresult(r, "Unable to open the message file. (#4.3.0)");
  pid = fork();
  if (pid == 0) child(j, messfd, outfd);
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

/* lookup_user: qmailp's ids, once at start (a fixed name, as qmail-start
 * looks up its users; the only password lookup qmail-lspawn makes as root). */
static void lookup_user(void)
{
  struct passwd *pw;
  errno = 0;
  pw = getpwnam(LOOKUP_USER);
  if (!pw) {
    if (errno) fatal_sys(111, "unable to look up user " LOOKUP_USER);
    fatal(111, "no user " LOOKUP_USER);
  }
  if (!pw->pw_uid) fatal(111, "user " LOOKUP_USER " is root");
  lookup_uid = pw->pw_uid;
  lookup_gid = pw->pw_gid;
  endpwent();
}

int main(int argc, char **argv)
{
  static const struct spawn_ops ops = { start, finish, 1 };
  progname = "qmail-lspawn";
  if (argc != 2 || !argv[1][0]) fatal(111, "usage: qmail-lspawn defaultdelivery");
  defaultdelivery = argv[1];
  singleuser = getuid() != 0;
  if (!singleuser) lookup_user();
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to switch to ", home_dir());
  if (!home_path(&qgetpw, "bin/qmail-getpw")) fatal_nomem();
  return spawn_loop(&ops, 0, 1);
}
