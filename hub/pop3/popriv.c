/* popriv.c: qmail-popup's privileged half and running checkpassword
 * (see popriv.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "q_err.h"
#include "q_io.h"
#include "popriv.h"
#include "smtpauth.h"

pid_t popriv_spawn(char **argv, const char *cred, size_t n, int io)
{
  int p[2];
  pid_t pid;
  if (n > POPRIV_CRED || pipe2(p, O_CLOEXEC) == -1) return -1;
  pid = fork();
  if (pid == -1) { close(p[0]); close(p[1]); return -1; }
  if (pid == 0) {
    if (io >= 0 && (dup2(io, 0) == -1 || dup2(io, 1) == -1)) _exit(111);
    if (p[0] == 3) { if (fcntl(3, F_SETFD, 0) == -1) _exit(111); }
    else if (dup2(p[0], 3) == -1) _exit(111);
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    err_print("alert", errno, "unable to run ", argv[0], (const char *)0);
    _exit(111);
  }
  close(p[0]);
  /* at most 512 bytes into an empty pipe: one write that cannot block */
  while (write(p[1], cred, n) == -1 && errno == EINTR) ;
  close(p[1]);
  return pid;
}

int popriv_verdict(int st)
{
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return POPRUN_OK;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 1) return POPRUN_REFUSED;
  return POPRUN_TEMP;
}

static pid_t victim;
static void on_alarm(int sig)
{
  (void)sig;
  if (victim > 0) kill(victim, SIGKILL);
}

int poprun_io(char **argv, const char *cred, size_t n, int io, long long deadline_ms)
{
  int st;
  pid_t pid = popriv_spawn(argv, cred, n, io);
  if (pid == -1) return POPRUN_TEMP;
  victim = pid;
  if (deadline_ms > 0) {
    long long left = deadline_ms - io_now_ms();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, 0);
    alarm(left <= 0 ? 1 : (unsigned)((left + 999) / 1000));
  }
  while (waitpid(pid, &st, 0) == -1)
    if (errno != EINTR) { alarm(0); victim = 0; return POPRUN_TEMP; }
  alarm(0);
  victim = 0;
  return popriv_verdict(st);
}

int poprun_plain(char **argv, const char *cred, size_t n, long long deadline_ms)
{
  return poprun_io(argv, cred, n, -1, deadline_ms);
}

int popriv_drop(unsigned long uid, unsigned long gid)
{
  gid_t g = (gid_t)gid;
  if (setgroups(1, &g) == -1 || setgid(g) == -1 || setuid((uid_t)uid) == -1) return -1;
  if (uid != 0 && setuid(0) != -1) return -1;   /* really gone */
  return 0;
}

/* ---- the child's half --------------------------------------------- */

int popriv_answer(int ctl)
{
  unsigned char c;
  ssize_t r;
  while ((r = read(ctl, &c, 1)) == -1 && errno == EINTR) ;
  if (r != 1 || c > POPRUN_TEMP) return POPRUN_TEMP;
  return c;
}

ssize_t popriv_sendfd(int s, const void *buf, size_t len, int fd)
{
  struct msghdr mh;
  struct iovec iov;
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } cm;
  ssize_t r;
  memset(&mh, 0, sizeof mh);
  iov.iov_base = (void *)buf;
  iov.iov_len = len;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (fd >= 0) {
    memset(&cm, 0, sizeof cm);
    mh.msg_control = cm.b;
    mh.msg_controllen = sizeof cm.b;
    cm.h.cmsg_level = SOL_SOCKET;
    cm.h.cmsg_type = SCM_RIGHTS;
    cm.h.cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(&cm.h), &fd, sizeof fd);
  }
  while ((r = sendmsg(s, &mh, MSG_NOSIGNAL)) == -1 && errno == EINTR) ;
  return r;
}

int popriv_ask(int ctl, const char *cred, size_t n, int fd)
{
  struct popriv_msg m;
  ssize_t r;
  if (n > POPRIV_CRED) return fd >= 0 ? -1 : POPRUN_TEMP;
  memset(&m, 0, sizeof m);
  m.kind = fd >= 0 ? POPRIV_TLS : POPRIV_PLAIN;
  m.len = (unsigned short)n;
  memcpy(m.cred, cred, n);
  r = popriv_sendfd(ctl, &m, sizeof m, fd);
  explicit_bzero(&m, sizeof m);
  if (r != (ssize_t)sizeof m) return fd >= 0 ? -1 : POPRUN_TEMP;
  return fd >= 0 ? 0 : popriv_answer(ctl);
}

/* ---- the parent's half -------------------------------------------- */

/* wellformed: "login\0password\0\0", nothing more, nothing less */
static int wellformed(const struct popriv_msg *m)
{
  size_t i, nuls = 0;
  if (m->kind != POPRIV_PLAIN && m->kind != POPRIV_TLS) return 0;
  if (m->pad || m->len < 3 || m->len > POPRIV_CRED) return 0;
  for (i = 0; i < m->len; ++i) nuls += !m->cred[i];
  return nuls == 3 && !m->cred[m->len - 1] && !m->cred[m->len - 2];
}

/* receive: one message and its descriptor (or -1). 1, 0 end, -1 bad. */
static int receive(int ctl, struct popriv_msg *m, int *fd)
{
  struct msghdr mh;
  struct iovec iov;
  struct cmsghdr *h;
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int) * 4)]; } cm;
  ssize_t r;
  int bad = 0;
  *fd = -1;
  memset(&mh, 0, sizeof mh);
  iov.iov_base = m;
  iov.iov_len = sizeof *m;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cm.b;
  mh.msg_controllen = sizeof cm.b;
  while ((r = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR) ;
  for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {   /* every fd taken, all but one closed */
    size_t k, nfd;
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) { bad = 1; continue; }
    nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (k = 0; k < nfd; ++k) {
      int f;
      memcpy(&f, CMSG_DATA(h) + k * sizeof(int), sizeof f);
      if (*fd == -1 && !bad) *fd = f;
      else { close(f); bad = 1; }
    }
  }
  if (r == 0 && *fd == -1 && !bad) return 0;
  if (r != (ssize_t)sizeof *m || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || bad || !wellformed(m)) bad = 1;
  else if (m->kind == POPRIV_PLAIN ? *fd != -1 : *fd == -1) bad = 1;
  else if (*fd >= 0) {
    struct stat st;
    if (fstat(*fd, &st) == -1 || !S_ISSOCK(st.st_mode)) bad = 1;
  }
  if (bad && *fd >= 0) { close(*fd); *fd = -1; }
  return bad ? -1 : 1;
}

static void sleep_ms(unsigned long ms)
{
  struct timespec ts;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) ;
}

int popriv_serve(int ctl, char **argv, long long deadline_ms, unsigned long maxfail,
                 unsigned long basedelay)
{
  static struct popriv_msg m;
  unsigned long failures = 0;
  for (;;) {
    int fd, r = receive(ctl, &m, &fd);
    unsigned char c;
    if (r == 0) return 0;
    if (r < 0 || (maxfail && failures >= maxfail)) {
      explicit_bzero(&m, sizeof m);
      err_print("alert", 0, "bad message from the unprivileged half: no login tried", (const char *)0);
      return -1;
    }
    r = poprun_io(argv, m.cred, m.len, fd, deadline_ms);
    explicit_bzero(&m, sizeof m);
    if (fd >= 0) close(fd);
    if (r == POPRUN_REFUSED) sleep_ms(smtpauth_delay(basedelay, ++failures));
    c = (unsigned char)r;
    while (send(ctl, &c, 1, MSG_NOSIGNAL) == -1 && errno == EINTR) ;
  }
}
