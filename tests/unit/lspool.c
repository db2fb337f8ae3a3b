/* tests/unit/lspool.c: TAP tests for the file side of common/q_lspool.c in
 * a temporary home ($QMAILHOME): lspool_rcpts on valid and broken
 * envelopes; lspool_open without spool/ (0), making the user's directory
 * (mode 0700) and refusing one that is open to others, a symbolic link,
 * a world-writable spool/ without the sticky bit; lspool_write then
 * lspool_read (why line cleaned and cut, only the recipients not 'K', the
 * message bytes, the time from the name), a rewrite in place (replace),
 * names sorted oldest first, a stale tmp.* file removed and a fresh one
 * kept, lspool_usage, and a file that is not a spool file (EPROTO). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include "tap.h"
#include "stralloc.h"
#include "q_lspool.h"
#include "q_spool.h"

static char home[] = "/tmp/lspooltestXXXXXX";

static void path(char *out, size_t n, const char *rel)
{
  snprintf(out, n, "%s/%s", home, rel);
}

/* uidpath: HOME/spool/UID */
static void uidpath(char *out, size_t n)
{
  char rel[64];
  snprintf(rel, sizeof rel, "spool/%lu", (unsigned long)geteuid());
  path(out, n, rel);
}

static void test_rcpts(void)
{
  is_int(lspool_rcpts("Fa\0Tb\0Tc\0\0", 10), 2, "two recipients");
  is_int(lspool_rcpts("F\0Tb\0\0", 6), 1, "null sender, one recipient");
  is_int(lspool_rcpts("Fa\0\0", 4), 0, "no recipient: not valid");
  is_int(lspool_rcpts("Fa\0Tb\0", 6), 0, "no final NUL: not valid");
  is_int(lspool_rcpts("Fa\0Xb\0\0", 7), 0, "an item that is not T: not valid");
  is_int(lspool_rcpts("Fa\0Tb\0\0x", 8), 0, "bytes after the end: not valid");
}

static void test_open(void)
{
  struct lspool_dir d;
  stralloc why = {0};
  char p[256], q[256];
  struct stat st;
  is_int(lspool_open(&d, 1, &why), 0, "no spool/ in the home: 0");
  ok(why.len && strstr(why.s, "does not exist"), "and why says so");
  lspool_close(&d);
  path(p, sizeof p, "spool");
  mkdir(p, 0777);
  chmod(p, 0777);
  is_int(lspool_open(&d, 1, &why), -1, "spool/ writable by all but not sticky: refused");
  lspool_close(&d);
  chmod(p, 01777);
  is_int(lspool_open(&d, 0, &why), 0, "no user directory, not asked to make one: 0");
  lspool_close(&d);
  umask(0);
  is_int(lspool_open(&d, 1, &why), 1, "the user directory is made");
  lspool_close(&d);
  umask(022);
  uidpath(q, sizeof q);
  is_int(stat(q, &st) == 0 ? (long long)(st.st_mode & 07777) : -1, 0700, "mode 0700 even with umask 0");
  chmod(q, 0755);
  is_int(lspool_open(&d, 1, &why), -1, "a user directory open to others is refused");
  ok(why.len && strstr(why.s, "mode 0700"), "and why says so");
  lspool_close(&d);
  rmdir(q);
  path(p, sizeof p, "elsewhere");
  mkdir(p, 0700);
  is_int(symlink(p, q), 0, "set-up: a symbolic link made");
  is_int(lspool_open(&d, 1, &why), -1, "a symbolic link in its place is refused");
  lspool_close(&d);
  unlink(q);
  rmdir(p);
  stralloc_free(&why);
}

static void test_files(void)
{
  static const char env[] = "Fs@x\0Ta@x\0Tb@x\0Tc@x\0";
  struct lspool_dir d;
  struct lspool_msg m;
  struct spool msg;
  stralloc why = {0}, names = {0};
  char name[LSPOOL_NAME], name2[LSPOOL_NAME], p[300], q[256], buf[64];
  unsigned long long bytes;
  size_t n;
  time_t t0 = time(0);
  int fd;
  ssize_t r;
  ok(lspool_open(&d, 1, &why) == 1, "open the user directory");
  spool_init(&msg);
  spool_put(&msg, "Subject: x\n\nbody\n", 17);
  is_int(lspool_write(&d, "why\nnot\001this", 12, env, sizeof env, "KZD", &msg, 0, name), 0,
         "write a message");
  is_int(lspool_read(&d, name, &m), 0, "read it back");
  is_sa(m.why, "why?not?this", "the why line, control bytes made '?'");
  ok(m.env.len == 16 && !memcmp(m.env.s, "Fs@x\0Tb@x\0Tc@x\0", 16),
     "the envelope without the accepted recipient");
  is_int(m.nrcpt, 2, "two recipients");
  ok(m.when >= t0 - 1 && m.when <= time(0) + 1, "its time comes from its name");
  is_int(m.len, 17, "the message length");
  r = pread(m.fd, buf, sizeof buf, (off_t)m.off);
  is_mem(buf, r > 0 ? (size_t)r : 0, "Subject: x\n\nbody\n", "the message bytes");
  lspool_msgfree(&m);
  is_int(lspool_write(&d, "second", 6, env, sizeof env, 0, &msg, 0, name2), 0, "a second message");
  is_int(lspool_write(&d, "again", 5, env, sizeof env, "ZKK", &msg, name, 0), 0, "the first rewritten in place");
  ok(lspool_read(&d, name, &m) == 0 && m.nrcpt == 1 && m.why.len == 5, "it has its one recipient left, same name");
  lspool_msgfree(&m);
  uidpath(q, sizeof q);
  snprintf(p, sizeof p, "%s/tmp.0000000001.000000000.1", q);
  close(open(p, O_WRONLY | O_CREAT, 0600));
  utime(p, &(struct utimbuf){ 1, 1 });
  snprintf(p, sizeof p, "%s/tmp.9999999999.000000000.1", q);
  close(open(p, O_WRONLY | O_CREAT, 0600));
  ok(lspool_names(&d, &names, &n, 1) == 0 && n == 2, "two names (tmp.* files are not messages)");
  ok(n == 2 && !strcmp(names.s, name) && !strcmp(names.s + strlen(names.s) + 1, name2), "oldest first");
  snprintf(p, sizeof p, "%s/tmp.0000000001.000000000.1", q);
  ok(access(p, F_OK) < 0, "a stale tmp.* file is removed");
  snprintf(p, sizeof p, "%s/tmp.9999999999.000000000.1", q);
  ok(access(p, F_OK) == 0, "a fresh one is left");
  unlink(p);
  ok(lspool_usage(&d, &n, &bytes) == 0 && n == 2 && bytes > 34, "usage: two messages and their bytes");
  snprintf(p, sizeof p, "%s/1000000000.000000000.1", q);
  fd = open(p, O_WRONLY | O_CREAT, 0600);
  (void)!write(fd, "why\nFa\0Tb\0", 10);   /* no end of envelope */
  close(fd);
  errno = 0;
  ok(lspool_read(&d, "1000000000.000000000.1", &m) < 0 && errno == EPROTO, "a cut envelope: EPROTO");
  lspool_msgfree(&m);
  unlink(p);
  lspool_close(&d);
  spool_free(&msg);
  stralloc_free(&why);
  stralloc_free(&names);
}

int main(void)
{
  char cmd[100];
  if (!mkdtemp(home)) return 1;
  setenv("QMAILHOME", home, 1);
  test_rcpts();
  test_open();
  test_files();
  snprintf(cmd, sizeof cmd, "rm -rf %s", home);
  if (system(cmd) != 0) return 1;
  return done_testing();
}
