/* tests/unit/dfree.c: TAP tests for hub/send/dfree.c (deferred free) in a
 * temporary directory standing for HOME/queue (with lock/sendmutex, the
 * flush's barrier): a removed file is held until a flush; a missing name
 * holds nothing; a flush that fails (the barrier made to fail by renaming
 * lock/sendmutex away) keeps every descriptor and is logged, and the next
 * due time tries again; at the cap a flush of its own makes room, and when
 * that flush fails the name is not removed; at exit everything is
 * released. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "msg.h"
#include "dfree.h"

static void put(const char *p)
{
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || write(fd, "x\n", 2) != 2) { perror(p); exit(2); }
  close(fd);
}

static int exists(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0;
}

/* logged: does the log (descriptor 0) hold s? */
static int logged(const char *s)
{
  char buf[8192];
  ssize_t n = pread(0, buf, sizeof buf - 1, 0);
  if (n < 0) return 0;
  buf[n] = 0;
  return strstr(buf, s) != 0;
}

static void barrier(int on)
{
  if (rename(on ? "lock/off" : "lock/sendmutex", on ? "lock/sendmutex" : "lock/off") == -1) {
    perror("rename");
    exit(2);
  }
}

static void test_basic(void)
{
  put("a");
  is_int(dfree_unlink("a"), 0, "unlink: 0");
  ok(!exists("a"), "unlink: the name is gone");
  is_int((int)dfree_held(), 1, "unlink: the file is held");
  errno = 0;
  is_int(dfree_unlink("missing"), -1, "a missing name: -1");
  is_int(errno, ENOENT, "a missing name: ENOENT");
  is_int((int)dfree_held(), 1, "a missing name: nothing more held");
  ok(dfree_wake(now() + 3600) <= now() + DFREE_WAIT, "a hold wakes qmail-send within DFREE_WAIT");
  is_int(dfree_sync(), 0, "a flush: 0");
  is_int((int)dfree_held(), 0, "a flush releases what was held before it");
  is_int((int)(dfree_wake(now() + 3600) - now()), 3600, "nothing held: no wake");
}

static void test_failed(void)
{
  put("b");
  is_int(dfree_unlink("b"), 0, "failing flush: unlink 0");
  barrier(0);
  is_int(dfree_sync(), -1, "a failed flush: -1");
  is_int((int)dfree_held(), 1, "a failed flush keeps the descriptor");
  dfree_due(now() + DFREE_WAIT);
  is_int((int)dfree_held(), 1, "a failed flush of its own keeps it too");
  ok(logged("warning: unable to flush removed queue files, kept open: waited: "), "and is logged");
  barrier(1);
  dfree_due(now() + 2 * DFREE_WAIT);
  is_int((int)dfree_held(), 0, "the next due time flushes and releases");
}

static void test_cap(void)
{
  char p[32];
  int i, bad = 0;
  for (i = 0; i <= DFREE_MAX; i++) {
    snprintf(p, sizeof p, "c%d", i);
    put(p);
    if (dfree_unlink(p) != 0) bad++;
  }
  is_int(bad, 0, "cap: every unlink done");
  is_int((int)dfree_held(), 1, "cap: a flush of its own at the cap made room");
  for (i = 1; i < DFREE_MAX; i++) {
    snprintf(p, sizeof p, "d%d", i);
    put(p);
    if (dfree_unlink(p) != 0) bad++;
  }
  is_int((int)dfree_held(), DFREE_MAX, "cap: full");
  barrier(0);
  put("z");
  is_int(dfree_unlink("z"), -1, "cap, flush fails: the unlink is refused");
  ok(exists("z"), "cap, flush fails: the name stays");
  is_int((int)dfree_held(), DFREE_MAX, "cap, flush fails: nothing released");
  ok(logged("kept open: at the cap: "), "cap, flush fails: logged");
  barrier(1);
  dfree_end();
  is_int((int)dfree_held(), 0, "exit: everything released");
}

int main(void)
{
  char d[64], cmd[128];
  int fd;
  snprintf(d, sizeof d, "/tmp/dfree-test.%d", (int)getpid());
  if (mkdir(d, 0700) == -1 || chdir(d) == -1 || mkdir("lock", 0700) == -1) {
    printf("Bail out! %s\n", d);
    return 1;
  }
  put("lock/sendmutex");
  fd = open("log", O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || dup2(fd, 0) == -1) { printf("Bail out! log\n"); return 1; }
  test_basic();
  test_failed();
  test_cap();
  if (chdir("/") == -1) return 1;
  snprintf(cmd, sizeof cmd, "rm -rf %s", d);
  if (system(cmd) != 0) return 1;
  return done_testing();
}
