/* blklog.c: a recording "disk" for the power-loss test (docs/powerloss.md).
 *
 *   blklog SIZE LOG MOUNTPOINT
 *
 * A FUSE filesystem with two files: disk, SIZE bytes of memory (zeros at
 * the start), meant to carry a loop device; and ctl. Every change to disk
 * is served from memory and appended to LOG, in the order received, as a
 * record (struct rec, then the data of a write):
 *   W off len  a write of len bytes at off (the data follows)
 *   Z off len  a fallocate (discard, write-zeroes): len zero bytes at off
 *   F          an fsync of disk: the loop device's cache flush (REQ_FLUSH
 *              and the flushes around a FUA write arrive as this)
 *   C          the cut: "cut" written to ctl. Records after it are not
 *              logged (the disk keeps working, from memory)
 * each with the CLOCK_MONOTONIC time it was received. Reading ctl gives
 * counters, "writes W bytes B fsyncs F zeroes Z closes L cut 0|1\n".
 * It runs single-threaded in the foreground (-f -s) so that the log is the
 * order in which the requests were served, and the kernel's writeback cache
 * for the file is off: a write reaches us before the loop device completes
 * it. tests/slow/crashimg.py builds crash images from LOG.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 31
#include <fuse.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct rec {            /* 32 bytes, host byte order */
  uint32_t type;        /* 'W', 'Z', 'F', 'C' */
  uint32_t pad;
  uint64_t off, len;
  uint64_t ns;          /* CLOCK_MONOTONIC */
};

static unsigned char *disk;
static uint64_t disksize;
static FILE *logf;
static int cut;
static uint64_t nwrites, nbytes, nfsyncs, nzeroes, ncloses;

static uint64_t now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int logrec(uint32_t type, uint64_t off, uint64_t len, const void *data)
{
  struct rec r = { type, 0, off, len, now() };
  if (cut) return 0;
  if (fwrite(&r, sizeof r, 1, logf) != 1) return -EIO;
  if (data && len && fwrite(data, len, 1, logf) != 1) return -EIO;
  if (type == 'F' || type == 'C')
    if (fflush(logf) != 0) return -EIO;
  return 0;
}

static int isdisk(const char *p) { return !strcmp(p, "/disk"); }
static int isctl(const char *p) { return !strcmp(p, "/ctl"); }

static int bl_getattr(const char *p, struct stat *st, struct fuse_file_info *fi)
{
  (void)fi;
  memset(st, 0, sizeof *st);
  if (!strcmp(p, "/")) { st->st_mode = S_IFDIR | 0755; st->st_nlink = 2; return 0; }
  if (isdisk(p)) { st->st_mode = S_IFREG | 0600; st->st_size = (off_t)disksize; }
  else if (isctl(p)) { st->st_mode = S_IFREG | 0600; st->st_size = 4096; }
  else return -ENOENT;
  st->st_nlink = 1;
  return 0;
}

static int bl_readdir(const char *p, void *buf, fuse_fill_dir_t fill, off_t o,
                      struct fuse_file_info *fi, enum fuse_readdir_flags fl)
{
  (void)o; (void)fi; (void)fl;
  if (strcmp(p, "/")) return -ENOENT;
  fill(buf, ".", 0, 0, 0); fill(buf, "..", 0, 0, 0);
  fill(buf, "disk", 0, 0, 0); fill(buf, "ctl", 0, 0, 0);
  return 0;
}

static int bl_open(const char *p, struct fuse_file_info *fi)
{
  if (isctl(p)) { fi->direct_io = 1; return 0; }
  return isdisk(p) ? 0 : -ENOENT;
}

/* inside: the range [off, off+len) lies within the disk */
static int inside(off_t off, size_t len)
{
  return off >= 0 && (uint64_t)off <= disksize && len <= disksize - (uint64_t)off;
}

static int bl_read(const char *p, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
  char line[200];
  int n;
  (void)fi;
  if (isctl(p)) {
    n = snprintf(line, sizeof line, "writes %llu bytes %llu fsyncs %llu zeroes %llu closes %llu cut %d\n",
                 (unsigned long long)nwrites, (unsigned long long)nbytes, (unsigned long long)nfsyncs,
                 (unsigned long long)nzeroes, (unsigned long long)ncloses, cut);
    if (off < 0 || off >= n) return 0;
    if (len > (size_t)(n - off)) len = (size_t)(n - off);
    memcpy(buf, line + off, len);
    return (int)len;
  }
  if (!isdisk(p) || off < 0) return -EINVAL;
  if ((uint64_t)off >= disksize) return 0;
  if (len > disksize - (uint64_t)off) len = (size_t)(disksize - (uint64_t)off);
  memcpy(buf, disk + off, len);
  return (int)len;
}

static int bl_write(const char *p, const char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
  int r;
  (void)fi;
  if (isctl(p)) {
    if (len < 3 || memcmp(buf, "cut", 3)) return -EINVAL;
    if ((r = logrec('C', 0, 0, 0))) return r;
    cut = 1;
    return (int)len;
  }
  if (!isdisk(p)) return -EINVAL;
  if (!inside(off, len)) return -ENOSPC;
  memcpy(disk + off, buf, len);
  nwrites++; nbytes += len;
  if ((r = logrec('W', (uint64_t)off, len, buf))) return r;
  return (int)len;
}

static int bl_fsync(const char *p, int datasync, struct fuse_file_info *fi)
{
  (void)datasync; (void)fi;
  if (!isdisk(p)) return 0;
  nfsyncs++;
  return logrec('F', 0, 0, 0);
}

static int bl_flush(const char *p, struct fuse_file_info *fi)
{
  (void)fi;
  if (isdisk(p)) ncloses++;
  return 0;
}

static int bl_fallocate(const char *p, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
  (void)fi;
  if (!isdisk(p) || len < 0) return -EINVAL;
  if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))) return 0;  /* allocation: nothing to do */
  if (!inside(off, (size_t)len)) return -EINVAL;
  memset(disk + off, 0, (size_t)len);
  nzeroes++;
  return logrec('Z', (uint64_t)off, (uint64_t)len, 0);
}

static int bl_truncate(const char *p, off_t size, struct fuse_file_info *fi)
{
  (void)fi;
  if (isctl(p)) return 0;
  return isdisk(p) && (uint64_t)size == disksize ? 0 : -EPERM;
}

static void *bl_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;   /* writes reach us at once */
  cfg->kernel_cache = 0;
  cfg->attr_timeout = 0;
  return 0;
}

static const struct fuse_operations ops = {
  .init = bl_init, .getattr = bl_getattr, .readdir = bl_readdir, .open = bl_open,
  .read = bl_read, .write = bl_write, .fsync = bl_fsync, .flush = bl_flush,
  .fallocate = bl_fallocate, .truncate = bl_truncate,
};

int main(int argc, char **argv)
{
  char *fargv[] = { argv[0], "-f", "-s", "-o", "fsname=blklog", 0, 0 };
  char *end;
  int r;
  if (argc != 4) { fprintf(stderr, "usage: blklog SIZE LOG MOUNTPOINT\n"); return 100; }
  disksize = strtoull(argv[1], &end, 10);
  if (*end || !disksize || disksize > ((uint64_t)1 << 34)) { fprintf(stderr, "blklog: bad SIZE\n"); return 100; }
  if (!(disk = calloc(1, (size_t)disksize))) { fprintf(stderr, "blklog: out of memory\n"); return 111; }
  if (!(logf = fopen(argv[2], "wbx"))) { perror("blklog: LOG"); return 111; }
  setvbuf(logf, 0, _IOFBF, 1 << 20);
  fargv[5] = argv[3];
  r = fuse_main(6, fargv, &ops, 0);
  if (fclose(logf) != 0) { perror("blklog: LOG"); return 111; }
  return r;
}
