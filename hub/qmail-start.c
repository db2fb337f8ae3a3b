/* qmail-start: start the hub's delivery processes (REFERENCE.md 1a;
 * DESIGN.md section 4).
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
 *   the logger   (qmaill:nofiles, found through PATH) if given: its fd 0
 *                is qmail-send's fd 0; without one, qmail-send logs to our
 *                own fd 1.
 * fd 2 of every program but qmail-send is our fd 2. Run by a normal user
 * (single-user mode) nobody switches users. qmail-start parses no input;
 * it writes its pid to HOME/service/qmail-send/daemon.pid when that
 * directory exists, forwards SIGALRM, SIGHUP and SIGTERM to qmail-send
 * (qmailctl flush, reload, stop), and exits when qmail-send exits, with
 * its exit code (111 if it was killed), so a supervisor restarts the set.
 * Exit: 100 usage, 111 a setup failure (users, pipes, fork). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"

#define NOFD (-1)  /* target fd closed */
#define KEEP (-2)  /* target fd left as inherited */

struct ids { uid_t uid; gid_t gid; int set; };

static volatile pid_t sendpid;
static int root;

static void forward(int sig)
{
  int e = errno;
  if (sendpid > 0) kill(sendpid, sig);
  errno = e;
}

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

/* childfail: in a child, put our own fd 2 back (err) and die */
#define childfail(err, ...) \
  do { if ((err) != -1) dup2((err), 2); fatal_sys(111, __VA_ARGS__); } while (0)

static void mkpipe(int p[2])
{
  /* close-on-exec: each child keeps only the ends it moves into place */
  if (pipe2(p, O_CLOEXEC) == -1) fatal_sys(111, "unable to create pipe");
}

/* start: fork a child with fd i = src[i] for i < n (NOFD: closed, KEEP:
 * as inherited), as ids, running path argv (execvp if search). */
static pid_t start(const char *name, const int *src, int n, struct ids ids,
                   const char *path, char **argv, int search, const sigset_t *old)
{
  pid_t pid = fork();
  int tmp[8], i, err;
  if (pid == -1) fatal_sys(111, "unable to fork for ", name);
  if (pid) return pid;
  /* our fd 2, for messages once fd 2 is the child's (qmail-send: a pipe) */
  err = fcntl(2, F_DUPFD_CLOEXEC, 64);
  signal(SIGALRM, SIG_DFL); signal(SIGHUP, SIG_DFL); signal(SIGTERM, SIG_DFL);
  sigprocmask(SIG_SETMASK, old, 0);
  /* two steps, so a source that sits on another target fd is not lost */
  for (i = 0; i < n; ++i) {
    tmp[i] = -1;
    if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64)) == -1)
      childfail(err, "unable to set up descriptors for ", name);
  }
  for (i = 0; i < n; ++i) {
    if (tmp[i] >= 0) {
      if (dup2(tmp[i], i) == -1) childfail(err, "unable to set up descriptors for ", name);
    } else if (src[i] == NOFD) close(i);
  }
  if (ids.set) {
    if (setgroups(1, &ids.gid) == -1) childfail(err, "unable to set groups for ", name);
    if (setgid(ids.gid) == -1) childfail(err, "unable to set gid for ", name);
    if (setuid(ids.uid) == -1) childfail(err, "unable to set uid for ", name);
  }
  if (search) execvp(path, argv); else execv(path, argv);
  childfail(err, "unable to run ", path);
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
  stralloc p_send = {0}, p_lspawn = {0}, p_rspawn = {0}, p_clean = {0};
  struct ids i_send, i_rspawn = { 0, 0, 0 }, i_clean, i_log = { 0, 0, 0 }, none = { 0, 0, 0 };
  int logp[2] = { -1, -1 }, lj[2], lr[2], rj[2] = { -1, -1 }, rr[2] = { -1, -1 }, cj[2], cr[2];
  int rspawn, fd, status;
  struct sigaction sa;
  sigset_t block, old;
  pid_t pid;
  char *a_send[] = { (char *)"qmail-send", 0 };
  char *a_lspawn[] = { (char *)"qmail-lspawn", 0, 0 };
  char *a_rspawn[] = { (char *)"qmail-rspawn", 0 };
  char *a_clean[] = { (char *)"qmail-clean", 0 };

  progname = "qmail-start";
  if (argc < 2) fatal(100, "usage: qmail-start defaultdelivery [logger [arg ...]]");
  a_lspawn[1] = argv[1];
  /* a closed 0, 1 or 2 would be taken by a pipe end */
  while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2) ;
  if (fd > 2) close(fd);
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to switch to ", home_dir());
  if (!home_path(&p_send, "bin/qmail-send") || !home_path(&p_lspawn, "bin/qmail-lspawn") ||
      !home_path(&p_rspawn, "bin/qmail-rspawn") || !home_path(&p_clean, "bin/qmail-clean"))
    fatal_nomem();
  rspawn = access(p_rspawn.s, X_OK) == 0;

  root = geteuid() == 0;
  i_send = lookup(QUSER_SEND, QGROUP);
  i_clean = lookup(QUSER_QUEUE, QGROUP);
  if (rspawn) i_rspawn = lookup(QUSER_REMOTE, QGROUP);
  if (argc > 2) i_log = lookup("qmaill", "nofiles");
  endpwent(); endgrent();

  writepid();

  sigemptyset(&block);
  sigaddset(&block, SIGALRM); sigaddset(&block, SIGHUP); sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, 0); sigaction(SIGHUP, &sa, 0); sigaction(SIGTERM, &sa, 0);
  signal(SIGPIPE, SIG_DFL);

  if (argc > 2) mkpipe(logp);
  mkpipe(lj); mkpipe(lr); mkpipe(cj); mkpipe(cr);
  if (rspawn) { mkpipe(rj); mkpipe(rr); }

  if (argc > 2) {
    int f[1] = { logp[0] };
    start("the logger", f, 1, i_log, argv[2], argv + 2, 1, &old);
  }
  {
    int f[2] = { lj[0], lr[1] };
    start("qmail-lspawn", f, 2, none, p_lspawn.s, a_lspawn, 0, &old);
  }
  if (rspawn) {
    int f[2] = { rj[0], rr[1] };
    start("qmail-rspawn", f, 2, i_rspawn, p_rspawn.s, a_rspawn, 0, &old);
  }
  {
    int f[2] = { cj[0], cr[1] };
    start("qmail-clean", f, 2, i_clean, p_clean.s, a_clean, 0, &old);
  }
  {
    int f[7] = { argc > 2 ? logp[1] : 1, lj[1], lr[0], rj[1], rr[0], cj[1], cr[0] };
    if (!rspawn) f[3] = f[4] = NOFD;
    sendpid = start("qmail-send", f, 7, i_send, p_send.s, a_send, 0, &old);
  }
  /* the children hold every pipe end now; keeping one would hide an EOF */
  for (fd = 0; fd < 2; ++fd) {
    if (logp[fd] >= 0) close(logp[fd]);
    if (rj[fd] >= 0) close(rj[fd]);
    if (rr[fd] >= 0) close(rr[fd]);
    close(lj[fd]); close(lr[fd]); close(cj[fd]); close(cr[fd]);
  }
  stralloc_free(&p_send); stralloc_free(&p_lspawn);
  stralloc_free(&p_rspawn); stralloc_free(&p_clean);
  sigprocmask(SIG_SETMASK, &old, 0);

  for (;;) {
    pid = waitpid(-1, &status, 0);
    if (pid == -1) {
      if (errno == EINTR) continue;
      fatal_sys(111, "unable to wait for qmail-send");
    }
    if (pid == sendpid) break;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 111;
}
