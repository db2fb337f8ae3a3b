/* tests/unit/pop3box.c: listing a Maildir for qmail-pop3d (hub/pop3/pop3box.h).
 * Checks: the scan moves nothing; pop3box_tocur moves new/ to cur/ with
 * ":2," (a name with ':' kept as it is), never over a name already in
 * cur/; two files with one unique part listed once; dot names
 * left out silently; a directory, a symlink (not followed) and a fifo left
 * out with a warning; a file nobody may read left out with a warning
 * (checked as an ordinary user, asnobody.h); old regular files in tmp/
 * removed, new ones kept; numbering oldest first; sizes as POP3 sends
 * them; pop3box_open refuses what the scan refuses; a Maildir without
 * cur/ is an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "asnobody.h"
#include "pop3box.h"

static char base[] = "/tmp/pop3boxtestXXXXXX";
static int warnings;

static void count_warn(const char *what, const char *name, int e)
{
  (void)what; (void)name; (void)e;
  ++warnings;
}

static void put(const char *path, const char *data, time_t mtime)
{
  struct timeval tv[2];
  FILE *f = fopen(path, "w");
  if (!f || fputs(data, f) < 0 || fclose(f)) { perror(path); exit(2); }
  tv[0].tv_sec = tv[1].tv_sec = mtime;
  tv[0].tv_usec = tv[1].tv_usec = 0;
  utimes(path, tv);
}

static void mk(const char *md)
{
  char p[512];
  if (mkdir(md, 0755) < 0) exit(2);
  snprintf(p, sizeof p, "%s/tmp", md); mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/new", md); mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/cur", md); mkdir(p, 0755);
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

static void test_scan(void)
{
  struct pop3box b;
  time_t now = time(0);
  memset(&b, 0, sizeof b);
  b.warn = count_warn;
  if (chdir(base) < 0 || chdir("md1") < 0) exit(2);
  put("new/300.A.host", "third\n", 300);
  put("new/100.B.host", "first\n.dot\n", 100);
  put("new/150.C.host:2,S", "flagged\n", 150);
  put("new/200.D.host", "new copy\n", 200);
  put("cur/200.D.host:2,", "cur copy\n", 200);
  put("new/.hidden", "x\n", 50);
  put("cur/.hidden", "x\n", 50);
  mkdir("cur/adir", 0755);
  if (symlink("/etc/passwd", "cur/link") != 0) perror("symlink cur/link");
  mkfifo("cur/fifo", 0644);
  put("tmp/old", "x", now - POP3BOX_TMPAGE - 60);
  put("tmp/fresh", "x", now - 60);
  mkdir("tmp/olddir", 0755);
  ok(pop3box_scan(&b, now) == 0, "scan");
  is_int(b.n, 4, "four messages");
  is_int(warnings, 4, "four warnings: directory, symlink, fifo, the second copy");
  is_int(b.skipped, 4, "four left out");
  ok(exists("new/300.A.host") && !exists("cur/300.A.host:2,"), "nothing moves at the scan");
  is_str(pop3box_path(&b, 0), "new/100.B.host", "1: the oldest");
  is_int(b.m[0].size, 13, "its size with CRLF, no stuffing");
  is_str(pop3box_path(&b, 1), "new/150.C.host:2,S", "2");
  is_str(pop3box_path(&b, 2), "new/200.D.host", "3: one copy only (the first by name)");
  is_str(pop3box_path(&b, 3), "new/300.A.host", "4");
  is_str(pop3box_file(&b, 1), "150.C.host:2,S", "file name without the directory");
  ok(!exists("tmp/old"), "old tmp/ file removed");
  ok(exists("tmp/fresh") && exists("tmp/olddir"), "fresh tmp/ file and directory kept");
  {
    int fd = pop3box_open(&b, 0);
    ok(fd >= 0, "open a listed message");
    if (fd >= 0) close(fd);
  }
  is_int(pop3box_tocur(&b, 3), 0, "tocur");
  ok(exists("cur/300.A.host:2,") && !exists("new/300.A.host"), "new/ moved to cur/ with :2,");
  is_int(pop3box_tocur(&b, 1), 0, "tocur of a name with ':'");
  ok(exists("cur/150.C.host:2,S"), "moved as it is");
  ok(pop3box_tocur(&b, 2) < 0 && errno == EEXIST, "tocur never over an existing name");
  ok(exists("new/200.D.host") && exists("cur/200.D.host:2,"), "both copies still there");
  ok(exists("new/.hidden"), "dot names stay in new/");
  errno = 0;
  ok(pop3box_open(&b, 3) < 0 && errno == ENOENT, "a vanished message: ENOENT");
  unlink("cur/150.C.host:2,S");
  if (symlink("/etc/passwd", "new/150.C.host:2,S") != 0) perror("symlink new/150");
  ok(pop3box_open(&b, 1) < 0, "a message replaced by a symlink is not followed");
  pop3box_free(&b);
}

static void unreadable(void)
{
  struct pop3box b;
  memset(&b, 0, sizeof b);
  b.warn = count_warn;
  warnings = 0;
  ok(pop3box_scan(&b, time(0)) == 0, "scan as an ordinary user");
  is_int(b.n, 1, "the readable message only");
  is_int(warnings, 1, "a warning for the unreadable one");
  pop3box_free(&b);
}

int main(void)
{
  struct pop3box b;
  char p[512];
  if (!mkdtemp(base)) return 2;
  chmod(base, 0755);
  snprintf(p, sizeof p, "%s/md1", base); mk(p);
  test_scan();

  snprintf(p, sizeof p, "%s/md2", base); mk(p);
  if (chdir(p) < 0) return 2;
  put("cur/1.a:2,", "ok\n", 10);
  put("cur/2.b:2,", "secret\n", 20);
  chmod("cur/2.b:2,", 0);
  chmod("cur", 0777); chmod("new", 0777); chmod("tmp", 0777);
  tap_as_nobody(unreadable, 3);

  snprintf(p, sizeof p, "%s/md3", base);
  mkdir(p, 0755);
  if (chdir(p) < 0) return 2;
  memset(&b, 0, sizeof b);
  ok(pop3box_scan(&b, time(0)) < 0, "no cur/: an error");
  pop3box_free(&b);
  if (chdir("/") == 0) { snprintf(p, sizeof p, "rm -rf %s", base); if (system(p)) {} }
  return done_testing();
}
