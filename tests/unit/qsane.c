/* tests/unit/qsane.c: TAP tests for hub/send/qsane.c and hub/send/todochk.c
 * on a temporary queue made by hub/queue/mkqueue.sh -s, in the states that
 * a power cut leaves on a filesystem without a journal (hub/queue/QUEUE.md
 * sec 6a): a mess/S/N name whose inode is not N, or with a second link
 * (sane only when pid/ holds it), a todo/S/N that shares the inode of a
 * message file, a todo with two links and no intd, a todo and intd of two
 * inodes, info/local names with a second link (a file outside the queue)
 * or another owner (as root);
 * and todochk's decisions: a stale todo without info is left alone and
 * marked bad (logged), a damaged one without info is not taken, a todo
 * whose mess is stale is left alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "qconf.h"
#include "qname.h"
#include "msg.h"
#include "qsane.h"
#include "todochk.h"

static char qd[512];

static void put(const char *p, const char *s)
{
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) { perror(p); exit(2); }
  close(fd);
}

/* newmess: a message file in pid/, linked as mess/S/N (N its inode), the
 * pid/ name removed unless keep; returns N */
static unsigned long long newmess(int keep)
{
  char p[QNAME_MAX];
  struct stat st;
  put("pid/x", "Subject: x\n\nbody\n");
  if (stat("pid/x", &st) == -1) { perror("pid/x"); exit(2); }
  fname(p, QDIR_MESS, (unsigned long long)st.st_ino);
  if (link("pid/x", p) == -1) { perror(p); exit(2); }
  if (!keep) unlink("pid/x");
  return (unsigned long long)st.st_ino;
}

/* queued: intd/S/N and todo/S/N (one inode, two links) for message n */
static void queued(unsigned long long n)
{
  char i[QNAME_MAX], t[QNAME_MAX];
  fname(i, QDIR_INTD, n);
  fname(t, QDIR_TODO, n);
  put(i, "u1\0p2\0Fa@b\0Tc@d\0\0");
  if (link(i, t) == -1) { perror(t); exit(2); }
}

static void rm(const char *dir, unsigned long long n)
{
  char p[QNAME_MAX];
  fname(p, dir, n);
  unlink(p);
}

static void test_mess(void)
{
  char p[QNAME_MAX];
  unsigned long long n = newmess(0), k;
  ok(sane_mess(n) == 1, "mess/S/N with inode N and one link: sane");
  fname(p, QDIR_MESS, n);
  ok(link(p, "../outside") == 0 && sane_mess(n) == 0, "a second link outside pid/: stale");
  unlink("../outside");
  ok(sane_mess(n) == 1, "one link again: sane");
  k = newmess(1);
  ok(sane_mess(k) == 1, "a second link that is pid/'s name (crash before its unlink): sane");
  unlink("pid/x");
  /* a mess/S/N name over another inode: a file renamed onto it */
  fname(p, QDIR_MESS, n);
  put("other", "another file\n");
  ok(rename("other", p) == 0 && sane_mess(n) == 0, "mess/S/N whose inode is not N: stale");
  unlink(p);
  errno = 0;
  ok(sane_mess(n) == -1 && errno == ENOENT, "no mess/S/N: -1, ENOENT");
  rm(QDIR_MESS, k);
}

static void test_todo(void)
{
  char p[QNAME_MAX], q[QNAME_MAX];
  unsigned long long n = newmess(0), o = newmess(0);
  queued(n);
  ok(sane_todo(n) == 1, "todo and intd, one inode, two links: sane");
  rm(QDIR_INTD, n);
  ok(sane_todo(n) == 1, "todo alone with one link (intd cleaned first): sane");
  fname(p, QDIR_TODO, n);
  ok(link(p, "../outside") == 0 && sane_todo(n) == 0, "todo alone with two links: stale");
  unlink("../outside");
  rm(QDIR_TODO, n);
  fname(q, QDIR_MESS, o);
  ok(link(q, p) == 0 && sane_todo(n) == 0, "todo/S/N linked to another message's mess: stale");
  rm(QDIR_TODO, n);
  queued(n);
  fname(p, QDIR_TODO, n);
  unlink(p);
  put(p, "u1\0p2\0Fa@b\0\0");
  ok(sane_todo(n) == 0, "todo and intd of two inodes: stale");
  rm(QDIR_TODO, n); rm(QDIR_INTD, n);
  errno = 0;
  ok(sane_todo(n) == -1 && errno == ENOENT, "no todo: -1, ENOENT");
  rm(QDIR_MESS, n); rm(QDIR_MESS, o);
}

static void test_own(void)
{
  char p[QNAME_MAX];
  unsigned long long n = 46;
  fname(p, QDIR_INFO, n);
  put(p, "Fa@b");
  ok(sane_own(QDIR_INFO, n) == 1, "info with one link: sane");
  ok(link(p, "../maildirfile") == 0 && sane_own(QDIR_INFO, n) == SANE_SHARED,
     "info sharing its inode with a file outside the queue: shared (the content decides)");
  unlink("../maildirfile");
  if (getuid() == 0) {
    ok(chown(p, 65534, 65534) == 0 && sane_own(QDIR_INFO, n) == 0,
       "info owned by another user (a Maildir file's owner): someone else's");
    fname(p, QDIR_MESS, newmess(0));
    ok(chown(p, 65534, 65534) == 0 && sane_mess(strtoull(strrchr(p, '/') + 1, 0, 10)) == 0,
       "mess owned by another user: stale");
    unlink(p);
    fname(p, QDIR_INFO, n);
  } else {
    ok(1, "# SKIP not root: no chown");
    ok(1, "# SKIP not root: no chown");
  }
  unlink(p);
  fname(p, QDIR_LOCAL, n);
  put(p, "Ta@b");
  ok(sane_own(QDIR_LOCAL, n) == 1, "local with one link: sane");
  unlink(p);
}

/* logged: the log (fd 0, a file) holds s */
static int logged(const char *s)
{
  char buf[8192];
  ssize_t r = pread(0, buf, sizeof buf - 1, 0);
  if (r < 0) return 0;
  buf[r] = 0;
  return strstr(buf, s) != 0;
}

static void test_check(void)
{
  char p[QNAME_MAX], q[QNAME_MAX], line[128];
  unsigned long long n = newmess(0), o = newmess(0);
  struct msg *m;
  queued(n);
  ok(todo_check(n) == 1 && !msg_find(n), "a sane todo and mess: read it");
  rm(QDIR_INTD, n); rm(QDIR_TODO, n);
  fname(p, QDIR_TODO, n);
  fname(q, QDIR_MESS, o);
  if (link(q, p) == -1) { perror(p); exit(2); }
  m = 0;
  ok(todo_check(n) == 0 && (m = msg_find(n)) && m->bad, "a stale todo without info: not read, marked bad");
  snprintf(line, sizeof line, "warning: msg %llu has a stale todo entry: left alone", n);
  ok(logged(line), "logged as left alone");
  ok(access(p, F_OK) == 0 && access(q, F_OK) == 0, "nothing removed");
  if (m) msg_del(m);
  unlink(p);
  ok(todo_damaged(n) == 0, "a damaged todo without info: not taken");
  queued(n);
  fname(p, QDIR_MESS, n);
  put("other", "another file\n");  /* made first: n is not free for it */
  if (rename("other", p) == -1) { perror(p); exit(2); }
  m = 0;
  ok(todo_check(n) == 0 && (m = msg_find(n)) && m->bad, "a todo whose mess names another file: not read");
  snprintf(line, sizeof line, "warning: msg %llu has a stale message file: left alone", n);
  ok(logged(line), "logged as a stale message file");
  if (m) msg_del(m);
}

int main(void)
{
  char cmd[1200], logf[600];
  const char *src = getenv("SRCDIR");
  int fd;
  snprintf(qd, sizeof qd, "/tmp/qsane-test.%d", (int)getpid());
  snprintf(cmd, sizeof cmd, "sh %s/hub/queue/mkqueue.sh -s %s", src ? src : ".", qd);
  if (system(cmd) != 0) { printf("Bail out! mkqueue.sh failed\n"); return 1; }
  snprintf(logf, sizeof logf, "%s/log", qd);
  fd = open(logf, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || dup2(fd, 0) == -1) { printf("Bail out! log\n"); return 1; }
  strcat(qd, "/queue");
  if (chdir(qd) == -1) { printf("Bail out! chdir\n"); return 1; }
  test_mess();
  test_todo();
  test_own();
  test_check();
  qd[strlen(qd) - 6] = 0;
  if (chdir("/") == -1) return 1;
  snprintf(cmd, sizeof cmd, "rm -rf %s", qd);
  if (system(cmd) != 0) return 1;
  return done_testing();
}
