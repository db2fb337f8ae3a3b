/* q_commit.c: commit the queue with one syncfs, plus a barrier fdatasync
 * only where the filesystem needs it (the rule and why: q_commit.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "q_commit.h"

#define EXT4_MAGIC 0xEF53UL   /* ext2, ext3 and ext4 share it */

int q_commit_devname(const char *link, char *name, size_t n)
{
  const char *b = strrchr(link, '/');
  size_t len, i;
  b = b ? b + 1 : link;
  len = strlen(b);
  if (!len || len >= n || !strcmp(b, ".") || !strcmp(b, "..")) return -1;
  for (i = 0; i < len; ++i) {
    char ch = b[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '.' || ch == '_' || ch == '-' || ch == ':' || ch == '!'))
      return -1;
  }
  memcpy(name, b, len + 1);
  return 0;
}

/* devname: the kernel's name of block device maj:min, from sysfs */
static int devname(const char *root, unsigned int maj, unsigned int min, char *name, size_t n)
{
  char p[PATH_MAX], t[PATH_MAX];
  ssize_t r;
  int k = snprintf(p, sizeof p, "%s/sys/dev/block/%u:%u", root, maj, min);
  if (k < 0 || (size_t)k >= sizeof p) return -1;
  r = readlink(p, t, sizeof t - 1);
  if (r <= 0) return -1;
  t[r] = 0;
  return q_commit_devname(t, name, n);
}

/* has_journal: 1 when DEV's ext4 runs with its internal journal (jbd2
 * names the journal in inode 8 of DEV "DEV-8"), 0 otherwise */
static int has_journal(const char *root, const char *dev)
{
  char p[PATH_MAX];
  struct stat st;
  int k = snprintf(p, sizeof p, "%s/proc/fs/jbd2/%s-8", root, dev);
  if (k < 0 || (size_t)k >= sizeof p) return 0;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int q_commit_decide(const char *root, unsigned long fstype, unsigned int maj,
                    unsigned int min, char *why, size_t n)
{
  char dev[64];
  if (fstype != EXT4_MAGIC) {
    snprintf(why, n, "syncfs and barrier: not ext4 (f_type 0x%lx), not known to flush after its last block", fstype);
    return 1;
  }
  if (devname(root, maj, min, dev, sizeof dev) == -1) {
    snprintf(why, n, "syncfs and barrier: ext4 on device %u:%u, not found in /sys/dev/block", maj, min);
    return 1;
  }
  if (!has_journal(root, dev)) {
    snprintf(why, n, "syncfs and barrier: ext4 without an internal journal on %s (no /proc/fs/jbd2/%s-8)", dev, dev);
    return 1;
  }
  snprintf(why, n, "syncfs only: ext4 with its journal on %s (the journal commit flushes the device cache)", dev);
  return 0;
}

void q_commit_init(struct q_commit *c, int fd, int barrierfd)
{
  struct statfs sf;
  struct stat st;
  c->fd = fd;
  c->barrierfd = barrierfd;
  c->barrier = 1;
  if (fstatfs(fd, &sf) == -1 || fstat(fd, &st) == -1) {
    snprintf(c->why, sizeof c->why, "syncfs and barrier: cannot examine the filesystem: %s", strerror(errno));
    return;
  }
  c->barrier = q_commit_decide("", (unsigned long)sf.f_type, major(st.st_dev), minor(st.st_dev),
                               c->why, sizeof c->why);
}

int q_commit(const struct q_commit *c)
{
  if (syncfs(c->fd) == -1) return -1;
  if (c->barrier && fdatasync(c->barrierfd) == -1) return -1;
  return 0;
}
