/* mtail.h: reading a service's log directory (multilog's: DIR/current
 * and the rotated DIR/@TAI64N.s and .u files; or a plain DIR/current)
 * from where the last read stopped, for qmail-metrics and qmail-top.
 *
 * A position is the inode of the file read last, the offset after its
 * last complete line, and the tai64n stamp of that line. The next read
 * finds that inode among the files (rotation renames current to @....s,
 * the inode stays), goes on from the offset and then reads every later
 * file whole; files are ordered by name, current last. When the inode is
 * gone (rotated away, or the file shrank), every line whose stamp is not
 * later than the saved stamp is skipped, so nothing is counted twice.
 * A partial last line (no newline yet) is left for the next read. A file
 * whose inode is no longer the one listed (multilog rotated it between the
 * listing and the read) ends the read there; the next one goes on.
 * Lines are capped at MTAIL_LINE bytes: a longer one is skipped whole and
 * counted in *skipped. At most MTAIL_FILES files per directory are read
 * (the oldest beyond are ignored). */
#ifndef MTAIL_H
#define MTAIL_H

#include <stddef.h>

#define MTAIL_LINE 4096
#define MTAIL_FILES 1000
#define MTAIL_STAMP 25       /* "@" and 24 hex digits */

struct mpos {
  unsigned long long ino, off;
  char stamp[MTAIL_STAMP + 1];   /* "" when unknown */
};

/* mtail_fn: one complete line, without its newline; stamp is its tai64n
 * stamp (NULL when the line has none) and text the rest after the stamp
 * and one space. */
typedef void (*mtail_fn)(const char *stamp, const char *text, size_t len, void *ctx);

/* mtail_read: the new lines of dir, in order, to fn; pos is updated.
 * 0 ok (a missing directory is ok: no lines); -1 a file could not be
 * read (errno; *bad the name, a static buffer). */
int mtail_read(const char *dir, struct mpos *pos, mtail_fn fn, void *ctx,
               unsigned long long *skipped, const char **bad);

/* mtail_secs: the seconds of a tai64n stamp ("@4000..."); 0 if it is none */
long long mtail_secs(const char *stamp);

#endif
