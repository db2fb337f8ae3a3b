/* q_commit.h: commit the queue: make everything written on the queue's
 * filesystem durable, with as few device cache flushes as that filesystem
 * allows (hub/queue/QUEUE.md section 8). One syncfs writes every dirty
 * inode, data and metadata block of the filesystem and, on ext4, ends
 * with a device flush. Whether that flush comes after the last block
 * depends on the filesystem:
 *   ext4 with its journal (an internal one): every metadata block goes
 *     into the journal, and syncfs waits for the journal commit, whose
 *     commit record is written with a cache flush before it and FUA (or
 *     ext4 sends its own flush when that commit would not): the data
 *     written back before, the journal and the commit record are durable
 *     when syncfs returns. syncfs alone is enough.
 *   ext4 without a journal: syncfs issues its flush (ext4_sync_fs) before
 *     the block device's own dirty buffers (directory blocks, inode
 *     tables, bitmaps) are written, so those may still be in the disk's
 *     cache when it returns. One fdatasync of a barrier file then sends
 *     one more flush (ext4 without a journal flushes on every fsync).
 *   anything else, or anything not known for sure (no /sys or /proc, an
 *     external journal, another filesystem): syncfs and the barrier, as
 *     before (fail safe).
 * The decision is made once, at open, from facts an unprivileged user can
 * read: statfs's f_type, the device of st_dev by /sys/dev/block/MAJ:MIN,
 * and /proc/fs/jbd2/DEV-8 (the jbd2 journal in inode 8 of DEV, there only
 * while the filesystem is mounted with its journal). */
#ifndef Q_COMMIT_H
#define Q_COMMIT_H

#include <stddef.h>

#define Q_COMMIT_WHY 160   /* the decision in words, NUL included */

struct q_commit {
  int fd;                  /* a directory on the filesystem */
  int barrierfd;           /* a file on it, flushed as the barrier */
  int barrier;             /* 1: flush barrierfd after syncfs; 0: not */
  char why[Q_COMMIT_WHY];  /* "syncfs only: ..." or "syncfs and barrier: ..." */
};

/* q_commit_init: decide for the filesystem of the open directory fd
 * (both descriptors stay the caller's: open the barrier file whatever the
 * decision, so the queue's layout does not depend on the filesystem).
 * When the filesystem cannot be examined the barrier is kept. */
void q_commit_init(struct q_commit *c, int fd, int barrierfd);
/* q_commit: syncfs, then fdatasync of the barrier if c->barrier.
 * 0 ok, -1 error (errno): nothing may be acknowledged then. */
int q_commit(const struct q_commit *c);

/* q_commit_decide: the decision for a filesystem of type fstype (statfs
 * f_type) on device maj:min, with /sys and /proc looked up under root
 * ("" for the real ones; a fixture tree in the tests). 1 the barrier is
 * needed, 0 syncfs alone is enough. why gets the reason (n bytes). */
int q_commit_decide(const char *root, unsigned long fstype, unsigned int maj,
                    unsigned int min, char *why, size_t n);
/* q_commit_devname: the device name at the end of a /sys/dev/block link
 * target ("../../devices/virtual/block/loop0" -> "loop0") into name (n
 * bytes). 0 ok; -1 when it is empty, ".", "..", too long, or has a byte
 * other than [A-Za-z0-9._:-] (it becomes part of a path). */
int q_commit_devname(const char *link, char *name, size_t n);

#endif
