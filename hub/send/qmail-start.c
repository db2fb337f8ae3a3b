/* qmail-start: start the hub's delivery processes (docs/architecture.md
 * sec 3 and 4; the descriptors: docs/protocols.md).
 *   qmail-start defaultdelivery [logger [arg ...]]
 * Goes to HOME, makes the pipes and starts, each from HOME/bin:
 *   qmail-send   (qmails:qmail) fd 0 log, 1/2 jobs to/reports from
 *                qmail-lspawn, 3/4 the same for qmail-rspawn, 5/6 requests
 *                to/answers from qmail-clean;
 *   qmail-lspawn defaultdelivery (stays root: it switches per delivery)
 *                fd 0 jobs, fd 1 reports;
 *   qmail-rspawn (qmailr:qmail) fd 0 jobs, fd 1 reports; only if
 *                HOME/bin/qmail-rspawn exists, else qmail-send's fds 3 and
 *                4 stay closed;
 *   qmail-clean  (qmailq:qmail) fd 0 requests, fd 1 answers;
 *   qmail-queued (qmailq:qmail) the queue writer (group commit): fd 0 the
 *                read end of a pipe whose write end is qmail-send's fd 7,
 *                so it stops when qmail-send goes; only if
 *                HOME/bin/qmail-queued exists, else fd 7 stays closed (and
 *                the servers run bin/qmail-queue, as they also do while it
 *                is down);
 *   the logger   (qmaill:nofiles, found through PATH) if given: its fd 0
 *                is qmail-send's fd 0; without one, qmail-send logs to our
 *                own fd 1.
 * fd 2 of every program but qmail-send is our fd 2; no other descriptor
 * we inherited reaches any of them. Run by a normal user (single-user
 * mode) nobody switches users. qmail-start parses no input; it writes its
 * pid to HOME/service/qmail-send/daemon.pid when that directory exists,
 * starts the others as its children, and then becomes qmail-send itself
 * (as qmails), as in qmail: the pid is qmail-send's, so SIGALRM, SIGHUP
 * and SIGTERM (qmailctl flush, reload, stop) reach it directly, the
 * supervisor sees qmail-send's exit and restarts the set, and no process
 * of the set stays root but qmail-lspawn.
 * Exit: 100 usage, 111 a setup failure (users, pipes, fork, exec). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"

#define NOFD (-1)  /* target fd closed */
#define KEEP (-2)  /* target fd left as inherited */

struct ids { uid_t uid; gid_t gid; int set; };

static int root;

static struct ids lookup(const char *user, const char *group)
{
  struct ids r = { 0, 0, 0 };
  struct passwd *pw;
  struct group *gr;
  if (!root) return r;
  errno = 0;
  pw = getpwnam(user);
  if (!pw) {
    if (errno) fatal_sys(111, "unable to look up user ", user);
    fatal(111, "no user ", user);
  }
  errno = 0;
  gr = getgrnam(group);
  if (!gr) {
    if (errno) fatal_sys(111, "unable to look up group ", group);
    fatal(111, "no group ", group);
  }
  r.uid = pw->pw_uid; r.gid = gr->gr_gid; r.set = 1;
  return r;
}

/* fail: put our own fd 2 back (err) and die */
#define fail(err, ...) \
  do { if ((err) != -1) dup2((err), 2); fatal_sys(111, __VA_ARGS__); } while (0)

static void mkpipe(int p[2])
{
  /* close-on-exec: each program keeps only the ends moved into place */
  if (pipe2(p, O_CLOEXEC) == -1) fatal_sys(111, "unable to create pipe");
}

/* become: fd i = src[i] for i < n (NOFD: closed, KEEP: as inherited),
 * fd 2 kept, every other descriptor closed at exec (one inherited from
 * whoever started us included), then as ids run path argv (execvp if
 * search). */
static void become(const char *name, const int *src, int n, struct ids ids,
                   const char *path, char **argv, int search) __attribute__((noreturn));
static void become(const char *name, const int *src, int n, struct ids ids,
                   const char *path, char **argv, int search)
{
  int tmp[8], i, err;
  /* our fd 2, for messages once fd 2 is the program's (qmail-send: a pipe) */
  err = fcntl(2, F_DUPFD_CLOEXEC, 64);
  /* two steps, so a source that sits on another target fd is not lost */
  for (i = 0; i < n; ++i) {
    tmp[i] = -1;
    if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64)) == -1)
      fail(err, "unable to set up descriptors for ", name);
  }
  for (i = 0; i < n; ++i) {
    if (tmp[i] >= 0) {
      if (dup2(tmp[i], i) == -1) fail(err, "unable to set up descriptors for ", name);
    } else if (src[i] == NOFD) close(i);
  }
  if (close_range(n > 3 ? (unsigned)n : 3, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
    fail(err, "unable to close descriptors for ", name);
  if (ids.set) {
    if (setgroups(1, &ids.gid) == -1) fail(err, "unable to set groups for ", name);
    if (setgid(ids.gid) == -1) fail(err, "unable to set gid for ", name);
    if (setuid(ids.uid) == -1) fail(err, "unable to set uid for ", name);
  }
  if (search) execvp(path, argv); else execv(path, argv);
  fail(err, "unable to run ", path);
}

/* start: become() in a child. */
static void start(const char *name, const int *src, int n, struct ids ids,
                  const char *path, char **argv, int search)
{
  pid_t pid = fork();
  if (pid == -1) fatal_sys(111, "unable to fork for ", name);
  if (pid == 0) become(name, src, n, ids, path, argv, search);
}

static void writepid(void)
{
  stralloc dir = {0};
  struct stat st;
  char num[32];
  int fd, len;
  if (!home_path(&dir, "service/qmail-send")) fatal_nomem();
  if (stat(dir.s, &st) == -1 || !S_ISDIR(st.st_mode)) { stralloc_free(&dir); return; }
  if (!home_path(&dir, "service/qmail-send/daemon.pid")) fatal_nomem();
  len = snprintf(num, sizeof num, "%ld\n", (long)getpid());
  fd = open(dir.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1 || write(fd, num, (size_t)len) != len) warn_sys("unable to write ", dir.s);
  if (fd != -1) close(fd);
  stralloc_free(&dir);
}

int main(int argc, char **argv)
{
  stralloc p_send = {0}, p_lspawn = {0}, p_rspawn = {0}, p_clean = {0}, p_queued = {0};
  struct ids i_send, i_rspawn = { 0, 0, 0 }, i_clean, i_log = { 0, 0, 0 }, none = { 0, 0, 0 };
  int logp[2] = { -1, -1 }, lj[2], lr[2], rj[2] = { -1, -1 }, rr[2] = { -1, -1 }, cj[2], cr[2];
  int qd[2] = { -1, -1 };
  int rspawn, queued, fd;
  sigset_t set;
  char *a_send[] = { (char *)"qmail-send", 0 };
  char *a_lspawn[] = { (char *)"qmail-lspawn", 0, 0 };
  char *a_rspawn[] = { (char *)"qmail-rspawn", 0 };
  char *a_clean[] = { (char *)"qmail-clean", 0 };
  char *a_queued[] = { (char *)"qmail-queued", 0 };

  progname = "qmail-start";
  if (argc < 2) fatal(100, "usage: qmail-start defaultdelivery [logger [arg ...]]");
  a_lspawn[1] = argv[1];
  /* a closed 0, 1 or 2 would be taken by a pipe end */
  while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2) ;
  if (fd > 2) close(fd);
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to switch to ", home_dir());
  if (!home_path(&p_send, "bin/qmail-send") || !home_path(&p_lspawn, "bin/qmail-lspawn") ||
      !home_path(&p_rspawn, "bin/qmail-rspawn") || !home_path(&p_clean, "bin/qmail-clean") ||
      !home_path(&p_queued, "bin/qmail-queued"))
    fatal_nomem();
  rspawn = access(p_rspawn.s, X_OK) == 0;
  queued = access(p_queued.s, X_OK) == 0;

  root = geteuid() == 0;
  i_send = lookup(QUSER_SEND, QGROUP);
  i_clean = lookup(QUSER_QUEUE, QGROUP);
  if (rspawn) i_rspawn = lookup(QUSER_REMOTE, QGROUP);
  if (argc > 2) i_log = lookup("qmaill", "nofiles");
  endpwent(); endgrent();

  writepid();

  /* the signals qmailctl sends, as the programs expect them, whatever our
   * starter ignored or blocked */
  signal(SIGALRM, SIG_DFL); signal(SIGHUP, SIG_DFL); signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigemptyset(&set);
  sigprocmask(SIG_SETMASK, &set, 0);

  if (argc > 2) mkpipe(logp);
  mkpipe(lj); mkpipe(lr); mkpipe(cj); mkpipe(cr);
  if (rspawn) { mkpipe(rj); mkpipe(rr); }
  if (queued) mkpipe(qd);

  if (argc > 2) {
    int f[1] = { logp[0] };
    start("the logger", f, 1, i_log, argv[2], argv + 2, 1);
  }
  {
    int f[2] = { lj[0], lr[1] };
    start("qmail-lspawn", f, 2, none, p_lspawn.s, a_lspawn, 0);
  }
  if (rspawn) {
    int f[2] = { rj[0], rr[1] };
    start("qmail-rspawn", f, 2, i_rspawn, p_rspawn.s, a_rspawn, 0);
  }
  {
    int f[2] = { cj[0], cr[1] };
    start("qmail-clean", f, 2, i_clean, p_clean.s, a_clean, 0);
  }
  if (queued) {
    int f[1] = { qd[0] };
    start("qmail-queued", f, 1, i_clean, p_queued.s, a_queued, 0);
  }
  /* we become qmail-send, as in qmail: no process of ours stays root but
   * qmail-lspawn, and the pid in daemon.pid is qmail-send's own. The pipe
   * ends it does not take are close-on-exec. */
  {
    int f[8] = { argc > 2 ? logp[1] : 1, lj[1], lr[0], rj[1], rr[0], cj[1], cr[0], qd[1] };
    if (!rspawn) f[3] = f[4] = NOFD;
    if (!queued) f[7] = NOFD;
    become("qmail-send", f, 8, i_send, p_send.s, a_send, 0);
  }
}
