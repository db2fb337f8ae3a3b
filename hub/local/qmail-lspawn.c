/* qmail-lspawn: run the local delivery for each job qmail-send asks for
 * (docs/protocols.md, the spawn protocol; docs/architecture.md sec 4;
 * the loop is hub/qspawn).
 *   qmail-lspawn defaultdelivery
 * Job in: <slot><S/N>\0<sender>\0<local@domain>\0 on fd 0; the message is
 * HOME/queue/mess/S/N. Each delivery is a child of ours, with stdout and
 * stderr captured, the message on fd 0 and nothing above fd 2.
 * The address's owner comes first, from the lookup process: ONE process,
 * started with us (and again when it is found gone), that has switched to
 * qmailp (root mode; not root: our own user) and answers each lookup with
 * qmail-getpw's rule in-process: HOME/users/cdb (opened per lookup, so a
 * new one counts at once; exact, then longest wildcard prefix), then the
 * password database (users_getpw; single-user mode: HOME/alias). So no
 * root process ever parses those files or loads an NSS module for an
 * address from the network; the root side sends the local part and
 * checks the fixed-size answer it gets back (its sequence number, the six
 * fields, decimal ids), over a SOCK_SEQPACKET socketpair (a request and
 * an answer are each one message, whole or not at all). A lookup process
 * that dies, hangs (LOOKUP_TIMEOUT) or answers out of turn is killed and
 * replaced once; if that fails too the delivery is deferred: never a
 * guess. A lookup is made in start, before the fork, one at a time: a
 * slow password database holds the loop (and its reports) that long, at
 * most 2 x LOOKUP_TIMEOUT. Then the child becomes that user (setgroups/setgid/setuid; never
 * root), switches to the home, and runs the delivery code in-process
 * (local.h, qmail-local's code; no exec) as qmail-local -- user home local
 * dash ext domain sender defaultdelivery.
 * Report out on fd 1: <slot><K|Z|D><text>\0. Exit mapping: 0 K; 111, 71,
 * 74, 75 and our own child codes 112-121 Z; a signal Z; any other code D.
 * A lookup that fails is reported at once: Z, or D for a local part longer
 * than USERS_LOCAL_MAX (as qmail-getpw's exit 100).
 * Exit: 0 when qmail-send closes fd 0 and all children are done, 111 on a
 * protocol or output failure, or (as root) when there is no user qmailp. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "local.h"
#include "qspawn.h"
#include "users.h"

#define LOOKUP_USER "qmailp"  /* the lookups run as this user (root mode) */
#define LOOKUP_TIMEOUT 60       /* seconds for one answer */
#define ANSWER_MAX 8192         /* bytes of the six fields (assign lines <= 4 KB) */

/* child exit codes (docs/protocols.md): all Z */
#define EXIT_ROOT 113
#define EXIT_HOME 115
#define EXIT_LOOKUP 116
#define EXIT_CDB 117
#define EXIT_SYS 118

static const char *defaultdelivery;
static int singleuser;
static uid_t lookup_uid;
static gid_t lookup_gid;
static stralloc messpath, who, localpart, domain;

/* the lookup protocol: one request, one answer, each one fixed-size message */
struct lk_req { unsigned long seq; size_t len; char local[USERS_LOCAL_MAX + 1]; };
struct lk_ans { unsigned long seq; int code; size_t len; char text[ANSWER_MAX]; };
static struct lk_req req;
static struct lk_ans ans;
static pid_t lk_pid = -1;
static int lk_fd = -1;
static unsigned long lk_seq;

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

/* ---- the lookup process ---- */

/* lk_fail: the answer is the failure code and its text. */
static void lk_fail(int code, const char *text)
{
  ans.code = code;
  ans.len = strlen(text);
  memcpy(ans.text, text, ans.len);
}

/* single: single-user answer: ourselves, HOME/alias, ext = local.
 * 1 ok, 0 no memory. */
static int single(stralloc *out, const char *local, size_t len)
{
  struct passwd *pw = getpwuid(getuid());
  char num[48];
  stralloc home = {0};
  int ok;
  if (!home_path(&home, "alias")) return 0;
  snprintf(num, sizeof num, "%lu%c%lu", (unsigned long)getuid(), 0, (unsigned long)getgid());
  ok = stralloc_copys(out, pw ? pw->pw_name : QUSER_ALIAS) && stralloc_0(out) &&
       stralloc_cats(out, num) && stralloc_0(out) &&
       stralloc_cats(out, num + strlen(num) + 1) && stralloc_0(out) &&
       stralloc_cats(out, home.s) && stralloc_0(out) && stralloc_cats(out, "-") &&
       stralloc_0(out) && stralloc_catb(out, local, len) && stralloc_0(out);
  stralloc_free(&home);
  return ok;
}

/* lk_find: ans = the 6 fields for local[0..len): users/cdb (opened now),
 * then qmail-getpw's rule (users_getpw), or single-user's. */
static void lk_find(const char *local, size_t len)
{
  static stralloc out, path;
  int fd, x = 0;
  ans.code = 0;
  out.len = 0;
  if (!home_path(&path, "users/cdb")) { lk_fail(EXIT_SYS, "Out of memory. (#4.3.0)"); return; }
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  if (fd == -1 && errno != ENOENT) { lk_fail(EXIT_CDB, "Unable to open users/cdb. (#4.3.0)"); return; }
  if (fd != -1) {
    x = users_cdb_lookup(fd, local, len, &out);
    close(fd);
    if (x == -1) { lk_fail(EXIT_CDB, "Unable to read users/cdb. (#4.3.0)"); return; }
  }
  if (x == 0 && singleuser) x = single(&out, local, len) ? 1 : -2;
  else if (x == 0) {
    x = users_getpw(local, len, &out);
    if (x == -1) { lk_fail(EXIT_LOOKUP, "Unable to read the password database. (#4.3.0)"); return; }
    if (x == 0) { lk_fail(EXIT_LOOKUP, "Unable to find the alias user. (#4.3.0)"); return; }
  }
  if (x == -2) { lk_fail(EXIT_SYS, "Out of memory. (#4.3.0)"); return; }
  if (out.len > ANSWER_MAX) { lk_fail(EXIT_LOOKUP, "The lookup's answer is too long. (#4.3.0)"); return; }
  memcpy(ans.text, out.s, out.len);
  ans.len = out.len;
}

/* lookupd: the lookup process: the socket on fd 0, /dev/null on 1, our
 * stderr (the log) on 2, nothing else; qmailp (root mode) for good; one
 * answer per request until qmail-lspawn closes its end. */
static void lookupd(int sock) __attribute__((noreturn));
static void lookupd(int sock)
{
  int null = open("/dev/null", O_WRONLY);
  ssize_t r;
  prctl(PR_SET_NAME, "qmail-getpw");  /* it runs qmail-getpw's code */
  if (null == -1 || dup2(sock, 0) == -1 || dup2(null, 1) == -1 || close_range(3, ~0U, 0) == -1)
    _exit(EXIT_SYS);
  if (!singleuser &&
      (setgroups(1, &lookup_gid) == -1 || setgid(lookup_gid) == -1 || setuid(lookup_uid) == -1))
    _exit(EXIT_SYS);
  if (!singleuser && (!getuid() || !geteuid())) _exit(EXIT_ROOT);
  for (;;) {
    r = recv(0, &req, sizeof req, 0);
    if (r == 0) _exit(0);
    if (r == -1) { if (errno == EINTR) continue; _exit(EXIT_SYS); }
    if ((size_t)r != sizeof req || req.len > USERS_LOCAL_MAX || memchr(req.local, 0, req.len))
      lk_fail(EXIT_LOOKUP, "Bad lookup request. (#4.3.0)");
    else lk_find(req.local, req.len);
    ans.seq = req.seq;
    if (send(0, &ans, sizeof ans, MSG_NOSIGNAL) != (ssize_t)sizeof ans) _exit(EXIT_SYS);
  }
}

/* lk_start: a new lookup process. 0 ok, -1 not (errno). */
static int lk_start(void)
{
  int sv[2];
  pid_t pid;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) return -1;
  pid = fork();
  if (pid == 0) lookupd(sv[1]);
  close(sv[1]);
  if (pid == -1) { close(sv[0]); return -1; }
  lk_fd = sv[0];
  lk_pid = pid;
  return 0;
}

/* lk_stop: the lookup process killed and reaped (it keeps no state). */
static void lk_stop(void)
{
  if (lk_fd != -1) close(lk_fd);
  if (lk_pid > 0) {
    kill(lk_pid, SIGKILL);
    while (waitpid(lk_pid, 0, 0) == -1 && errno == EINTR) {}
  }
  lk_fd = -1;
  lk_pid = -1;
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* lk_ask: one request for local[0..len), its answer in ans. 1 answered
 * (in turn, well formed), 0 the lookup process failed. */
static int lk_ask(const char *local, size_t len)
{
  long long end = now_ms() + LOOKUP_TIMEOUT * 1000LL, left;
  struct pollfd p;
  ssize_t r;
  if (lk_pid <= 0 && lk_start() == -1) return 0;
  memset(&req, 0, sizeof req);
  req.seq = ++lk_seq;
  req.len = len;
  memcpy(req.local, local, len);
  if (send(lk_fd, &req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req) return 0;
  for (;;) {
    if ((left = end - now_ms()) <= 0) return 0;
    p.fd = lk_fd; p.events = POLLIN;
    r = poll(&p, 1, (int)left);
    if (r == -1 && errno != EINTR) return 0;
    if (r == 1) break;
  }
  do r = recv(lk_fd, &ans, sizeof ans, 0); while (r == -1 && errno == EINTR);
  return r == (ssize_t)sizeof ans && ans.seq == req.seq && ans.len <= ANSWER_MAX &&
         (ans.code == 0 || (ans.code >= 112 && ans.code <= 121));
}

/* decimal_id: s is 1-10 digits and below (uid_t)-1. */
static int decimal_id(const char *s)
{
  size_t n = strlen(s), i;
  if (!n || n > 10) return 0;
  for (i = 0; i < n; ++i) if (s[i] < '0' || s[i] > '9') return 0;
  return strtoull(s, 0, 10) < (unsigned long long)(uid_t)-1;
}

/* lookup: who = the 6 fields for localpart, checked. 0 ok, -1 with the
 * report in r (the lookup's failure, or ours). */
static int lookup(stralloc *r)
{
  const char *f[6];
  int tries;
  if (localpart.len - 1 > USERS_LOCAL_MAX) {
    if (!stralloc_copys(r, "DUnable to look up the address: too long. (#5.1.3)")) fatal_nomem();
    return -1;
  }
  for (tries = 0; tries < 2; ++tries) {
    if (lk_ask(localpart.s, localpart.len - 1)) break;
    lk_stop();  /* dead, hung or out of turn: a new one */
  }
  if (tries == 2) return zresult(r, "Unable to look up the address: the lookup process failed. (#4.3.0)");
  if (ans.code) {
    if (!stralloc_copys(r, "Z") || !stralloc_catb(r, ans.text, ans.len)) fatal_nomem();
    return -1;
  }
  if (!stralloc_copyb(&who, ans.text, ans.len)) fatal_nomem();
  if (!users_fields(&who, f) || !decimal_id(f[1]) || !decimal_id(f[2]) || !*f[3])
    return zresult(r, "Bad users/cdb record. (#4.3.0)");
  return 0;
}

/* split: rcpt -> localpart, domain (both NUL-terminated); at the last '@'. */
static void split(const char *rcpt)
{
  const char *at = strrchr(rcpt, '@');
  size_t n = at ? (size_t)(at - rcpt) : strlen(rcpt);
  if (!stralloc_copyb(&localpart, rcpt, n) || !stralloc_0(&localpart) ||
      !stralloc_copys(&domain, at ? at + 1 : "") || !stralloc_0(&domain)) fatal_nomem();
}

/* caught_signals: the signals we catch (a handler, not SIG_IGN or
 * SIG_DFL), looked up once, in the first start(): no code of ours sets a
 * handler after spawn_loop has begun, so each child need not ask the
 * kernel about all NSIG of them again (64 syscalls per delivery). */
static sigset_t caught;
static int caught_known;
static void caught_signals(void)
{
  struct sigaction sa;
  int sig;
  sigemptyset(&caught);
  for (sig = 1; sig < NSIG; ++sig)
    if (sigaction(sig, 0, &sa) == 0 &&
        ((sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL)))
      sigaddset(&caught, sig);
  caught_known = 1;
}

/* child_signals: what an exec would have given qmail-local: every caught
 * signal back to its default (the ignored ones stay ignored, SIGPIPE
 * among them, as across an exec) and nothing blocked. */
static void child_signals(void)
{
  sigset_t none;
  int sig;
  for (sig = 1; sig < NSIG; ++sig)
    if (sigismember(&caught, sig) == 1) signal(sig, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, 0);
}

/* child: become the user found (who), run the delivery (local.h) in this
 * process. */
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
  if (lookup(r) == -1) return -1;
  if (!stralloc_copys(&messpath, "queue/mess/") || !stralloc_cats(&messpath, j->id) ||
      !stralloc_0(&messpath)) fatal_nomem();
  messfd = open(messpath.s, O_RDONLY | O_CLOEXEC);
  if (messfd == -1) return zresult(r, "Unable to open the message file. (#4.3.0)");
  if (!caught_known) caught_signals();
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
  int r;
  progname = "qmail-lspawn";
  if (argc != 2 || !argv[1][0]) fatal(111, "usage: qmail-lspawn defaultdelivery");
  defaultdelivery = argv[1];
  singleuser = getuid() != 0;
  if (!singleuser) lookup_user();
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to switch to ", home_dir());
  tzset();  /* once here: glibc's first time conversion (gmtime_r too) reads
               /etc/localtime, which each delivery child would do again */
  if (lk_start() == -1) fatal_sys(111, "unable to start the lookup process");
  r = spawn_loop(&ops, 0, 1);
  lk_stop();  /* no wait for a lookup stuck in NSS */
  return r;
}
