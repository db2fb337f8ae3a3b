/* mboxappend.h: undoing an mbox append cut short by a crash
 * (docs/bad-input.md F3). qmail-local appends an entry under flock and,
 * on an error it sees,
 * truncates the file back; but after kill -9 (or any crash) nobody is left
 * to do that, and the partial entry would stay in the mailbox while
 * qmail-send retries the delivery. So, while it appends, qmail-local keeps
 * a record on the mbox itself, in the extended attribute MBOXAPPEND_XATTR:
 *   "<start> <end>\n<first line>"
 * start = the file size before the entry, end = the size the file will
 * have when the write under way is complete (updated before each write),
 * first line = the entry's From_ line. The record is removed once the entry
 * is written and fsynced. The next delivery to the mbox (holding the lock)
 * calls mboxappend_recover first: if a record is there, the file size is
 * in (start, end] and the bytes at start are still that From_ line, the
 * entry was never acknowledged, so the file is truncated back to start
 * (the retry appends it again: each message exactly once). If any check
 * fails (someone else changed the file since), nothing is cut: at least
 * once, and never a loss of someone else's data.
 * Where user extended attributes are not supported, nothing is recorded
 * and a crash leaves the partial entry, as in qmail. */
#ifndef MBOXAPPEND_H
#define MBOXAPPEND_H

#include <stddef.h>
#include <sys/types.h>

#define MBOXAPPEND_XATTR "user.qmail.append"
#define MBOXAPPEND_LINEMAX 1024  /* longer first lines are recorded cut */

/* mboxappend_mark: record (start, end, first[0..flen)) on fd. Best effort:
 * 0 recorded, -1 not (errno; ENOTSUP where the filesystem has no user
 * extended attributes). */
int mboxappend_mark(int fd, off_t start, off_t end, const char *first, size_t flen);
/* mboxappend_done: remove the record. 0 ok (also when there was none),
 * -1 error (errno). */
int mboxappend_done(int fd);
/* mboxappend_recover: on the locked mbox fd, before appending: truncate an
 * unfinished entry as described above and remove the record. fd must be a
 * regular file with one link (else -1, EINVAL, nothing touched); it may be
 * write-only: the bytes are then read through /proc/self/fd, only when
 * that opens the same regular file (dev and inode compared).
 * 1 truncated, 0 nothing to do, -1 error (errno). */
int mboxappend_recover(int fd);

#endif
