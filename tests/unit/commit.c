/* tests/unit/commit.c: TAP tests for common/q_commit.c: the device name
 * taken from a /sys/dev/block link (whole disks, partitions, dm; empty,
 * dot, too long and path-breaking names refused); the barrier decision on
 * a fixture tree of sys/dev/block and proc/fs/jbd2 (ext4 with its journal:
 * syncfs only; without one, with an entry that is no directory, an unknown
 * device, a bad device name, or another filesystem: the barrier kept);
 * and q_commit_init/q_commit on a real directory, their failures.
 * With arguments it is tests/sys/commit.t's probe instead of a test:
 *   commit DIR DEV ROUNDS
 * prints the decision for DIR's filesystem ("why <text>"), then runs
 * ROUNDS rounds of: three small files written in DIR, one plain syncfs,
 * three more, one q_commit; and prints the device flushes each kind cost
 * in all and the fewest one call cost, from /sys/block/DEV/stat (flush
 * I/Os, field 16): "syncfs <total> <min>" and "commit <total> <min>". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "q_commit.h"

static char top[] = "/tmp/commit-unit.XXXXXX";

static void mk(const char *rel, int dir)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", top, rel);
  if (dir) mkdir(p, 0755);
  else close(open(p, O_WRONLY | O_CREAT, 0644));
}

static void link_dev(const char *majmin, const char *target)
{
  char p[512];
  snprintf(p, sizeof p, "%s/sys/dev/block/%s", top, majmin);
  if (symlink(target, p) == -1) perror("symlink");
}

static void devnames(void)
{
  char n[16];
  ok(q_commit_devname("../../devices/virtual/block/loop0", n, sizeof n) == 0 && !strcmp(n, "loop0"), "loop0 from its link");
  ok(q_commit_devname("../../devices/pci0000:00/0000:00:05.0/virtio2/block/vda", n, sizeof n) == 0 && !strcmp(n, "vda"), "vda");
  ok(q_commit_devname("../../devices/pci0000:00/ata1/host0/block/sda/sda1", n, sizeof n) == 0 && !strcmp(n, "sda1"), "a partition: sda1");
  ok(q_commit_devname("../../devices/virtual/block/dm-0", n, sizeof n) == 0 && !strcmp(n, "dm-0"), "dm-0");
  ok(q_commit_devname("cciss!c0d0", n, sizeof n) == 0 && !strcmp(n, "cciss!c0d0"), "no slash: the whole name");
  ok(q_commit_devname("", n, sizeof n) == -1, "empty refused");
  ok(q_commit_devname("../block/", n, sizeof n) == -1, "trailing slash refused");
  ok(q_commit_devname("../block/..", n, sizeof n) == -1, ".. refused");
  ok(q_commit_devname("../block/.", n, sizeof n) == -1, ". refused");
  ok(q_commit_devname("../block/bad name", n, sizeof n) == -1, "a space refused");
  ok(q_commit_devname("../block/abcdefghijklmnop", n, sizeof n) == -1, "longer than the buffer refused");
  ok(q_commit_devname("../block/abcdefghijklmno", n, sizeof n) == 0, "15 bytes and the NUL fit");
}

static void decisions(void)
{
  char why[Q_COMMIT_WHY];
  mk("sys", 1); mk("sys/dev", 1); mk("sys/dev/block", 1);
  mk("proc", 1); mk("proc/fs", 1); mk("proc/fs/jbd2", 1);
  link_dev("7:0", "../../devices/virtual/block/loop0");
  link_dev("7:1", "../../devices/virtual/block/loop1");
  link_dev("7:2", "../../devices/virtual/block/loop2");
  link_dev("7:3", "../../devices/virtual/block/bad name");
  link_dev("8:1", "../../devices/pci0000:00/ata1/host0/block/sda/sda1");
  link_dev("7:4", "../../devices/virtual/block/loop4");
  mk("proc/fs/jbd2/loop0-8", 1);   /* loop0: ext4 with its journal */
  mk("proc/fs/jbd2/loop2-8", 0);   /* loop2: a file, not jbd2's directory */
  mk("proc/fs/jbd2/sda1-8", 1);
  mk("proc/fs/jbd2/loop4", 1);     /* an external journal's own device */
  is_int(q_commit_decide(top, 0xEF53, 7, 0, why, sizeof why), 0, "ext4 with its journal: syncfs only");
  ok(!strncmp(why, "syncfs only: ext4 with its journal on loop0 ", 44), "  and the log says so");
  is_int(q_commit_decide(top, 0xEF53, 8, 1, why, sizeof why), 0, "a partition with its journal: syncfs only");
  is_int(q_commit_decide(top, 0xEF53, 7, 1, why, sizeof why), 1, "ext4 without a journal: the barrier");
  ok(!strncmp(why, "syncfs and barrier: ext4 without an internal journal on loop1", 61), "  and the log says so");
  is_int(q_commit_decide(top, 0xEF53, 7, 2, why, sizeof why), 1, "a jbd2 entry that is no directory: the barrier");
  is_int(q_commit_decide(top, 0xEF53, 7, 3, why, sizeof why), 1, "a device name with a space: the barrier");
  is_int(q_commit_decide(top, 0xEF53, 7, 4, why, sizeof why), 1, "DEV without -8 (not the internal journal): the barrier");
  is_int(q_commit_decide(top, 0xEF53, 7, 9, why, sizeof why), 1, "a device not in /sys: the barrier");
  ok(strstr(why, "7:9") != 0, "  named in the log");
  is_int(q_commit_decide(top, 0x58465342, 7, 0, why, sizeof why), 1, "xfs on a journalled device: the barrier (not known)");
  is_int(q_commit_decide(top, 0x01021994, 7, 0, why, sizeof why), 1, "tmpfs: the barrier");
  ok(strstr(why, "0x1021994") != 0, "  f_type in the log");
  is_int(q_commit_decide("/nonexistent", 0xEF53, 7, 0, why, sizeof why), 1, "no /sys or /proc: the barrier");
  is_int(q_commit_decide(top, 0xEF53, 7, 0, why, 12), 0, "a short buffer: the same decision");
  is_int((int)strlen(why), 11, "  the text cut, NUL-terminated");
}

static void real_dir(void)
{
  struct q_commit c;
  int fd = open(top, O_RDONLY | O_DIRECTORY);
  int bfd = open(top, O_RDONLY | O_DIRECTORY);
  q_commit_init(&c, fd, bfd);
  ok(!strncmp(c.why, "syncfs ", 7), "q_commit_init on a real directory: a decision in words");
  is_int(c.barrier, strncmp(c.why, "syncfs only", 11) != 0, "  the barrier as the words say");
  is_int(q_commit(&c), 0, "q_commit");
  c.barrier = 1;
  c.barrierfd = -1;
  ok(q_commit(&c) == -1, "a barrier that fails: -1");
  c.barrier = 0;
  is_int(q_commit(&c), 0, "  not used without the barrier");
  q_commit_init(&c, -1, bfd);
  is_int(c.barrier, 1, "a filesystem that cannot be examined: the barrier");
  ok(strstr(c.why, "cannot examine") != 0, "  and the log says why");
  c.fd = -1;
  ok(q_commit(&c) == -1, "a failing syncfs: -1");
  close(fd);
  close(bfd);
}

/* flushes: the flush I/Os DEV has completed (/sys/block/DEV/stat) */
static long flushes(const char *dev)
{
  char p[256];
  long v[16];
  int i;
  FILE *f;
  snprintf(p, sizeof p, "/sys/block/%s/stat", dev);
  f = fopen(p, "r");
  if (!f) return -1;
  for (i = 0; i < 16; ++i)
    if (fscanf(f, "%ld", &v[i]) != 1) { fclose(f); return -1; }
  fclose(f);
  return v[15];
}

static void small_files(const char *dir, int round, const char *kind)
{
  char p[512], buf[2000];
  int i, fd;
  memset(buf, 'x', sizeof buf);
  for (i = 0; i < 3; ++i) {
    snprintf(p, sizeof p, "%s/%s.%d.%d", dir, kind, round, i);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd == -1 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) { perror(p); exit(1); }
    close(fd);
  }
}

static int probe(const char *dir, const char *dev, int rounds)
{
  struct q_commit c;
  long s = 0, k = 0, smin = -1, kmin = -1, a, d;
  int r, fd = open(dir, O_RDONLY | O_DIRECTORY), bfd = -1;
  char p[512];
  snprintf(p, sizeof p, "%s/barrier", dir);
  if (fd == -1 || (bfd = open(p, O_WRONLY | O_CREAT, 0600)) == -1) { perror(dir); return 1; }
  q_commit_init(&c, fd, bfd);
  printf("why %s\n", c.why);
  if (q_commit(&c) == -1) { perror("q_commit"); return 1; }
  for (r = 0; r < rounds; ++r) {
    small_files(dir, r, "s");
    a = flushes(dev);
    if (syncfs(fd) == -1) { perror("syncfs"); return 1; }
    d = flushes(dev) - a;
    s += d;
    if (smin < 0 || d < smin) smin = d;
    small_files(dir, r, "c");
    a = flushes(dev);
    if (q_commit(&c) == -1) { perror("q_commit"); return 1; }
    d = flushes(dev) - a;
    k += d;
    if (kmin < 0 || d < kmin) kmin = d;
  }
  if (flushes(dev) < 0) { perror(dev); return 1; }
  printf("syncfs %ld %ld\ncommit %ld %ld\n", s, smin, k, kmin);
  close(bfd);
  close(fd);
  return 0;
}

int main(int argc, char **argv)
{
  char cmd[600];
  if (argc == 4) return probe(argv[1], argv[2], atoi(argv[3]));
  if (!mkdtemp(top)) { perror("mkdtemp"); return 1; }
  devnames();
  decisions();
  real_dir();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
  if (system(cmd) != 0) fprintf(stderr, "# rm -rf %s failed\n", top);
  done_testing();
}
