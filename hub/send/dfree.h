/* dfree.h: deferred free. A queue file's inode (and its blocks) is freed
 * only after the removal of its names is durable (hub/queue/QUEUE.md
 * sec 6b).
 *
 * Why: on ext4 without a journal nothing orders an unlink against the
 * reuse of the inode it freed. The unlink's directory block may still be
 * dirty in memory (or in the disk's volatile cache) while the freed inode
 * is reused by a newer file that some other process fsyncs (qmail-queued's
 * next message, a Maildir file): after a power cut e2fsck keeps the old
 * name, now pointing at the newer file. The queue's names are the
 * messages' state, and a mess/ inode number is the message number, so
 * such a name is another message's file under a live message's name.
 *
 * The rule: before qmail-send removes a name in the queue (or asks
 * qmail-clean to), it opens the file with O_PATH and keeps the
 * descriptor; an open descriptor keeps an unlinked inode and its blocks
 * allocated. The descriptors are closed only after a flush of the
 * queue's filesystem (todo_sync: syncfs and a barrier, hub/send/todo.h)
 * that started after the unlinks returned. Then the name's removal is on
 * the disk before the inode can be handed out again.
 *
 * The flushes qmail-send makes anyway (a preprocessing batch's, the
 * bounce paragraphs') go through dfree_sync and release what was held
 * before them; when nothing flushed for DFREE_WAIT seconds, or DFREE_MAX
 * descriptors are held, or qmail-send exits, dfree makes a flush of its
 * own. A failed flush keeps the descriptors (logged; tried again after
 * DFREE_WAIT). At the cap with a failed flush no more holds are taken:
 * dfree_hold fails and the caller leaves the name for later; the
 * guarantee is never dropped. (If qmail-send itself dies, the kernel
 * closes the descriptors: a window of one crash inside another.)
 * Names are relative to the current directory: qmail-send runs in
 * HOME/queue. O_PATH needs no read permission on the file, only search
 * permission on its directory (qmails may search mess/ and todo/, not
 * intd/; todo/S/N is intd/S/N's inode). */
#ifndef DFREE_H
#define DFREE_H

#define DFREE_MAX 256  /* descriptors held at most */
#define DFREE_WAIT 1   /* seconds a hold waits for someone else's flush */

/* dfree_hold: hold the file named path (before its name is removed).
 * 0 held, or there is no such name (nothing to hold); -1 it cannot be
 * held (errno: the open's, or the flush's at the cap): do not remove the
 * name now. */
int dfree_hold(const char *path);
/* dfree_unlink: dfree_hold, then unlink(path): 0 ok, -1 error (errno;
 * ENOENT when there was no such name), as unlink */
int dfree_unlink(const char *path);
/* dfree_sync: todo_sync(".") and, when it worked, close the descriptors
 * held before it started. 0 ok, -1 failed (errno; nothing closed; not
 * logged here: the caller logs) */
int dfree_sync(void);
/* dfree_due: at t, a flush of its own when a hold has waited DFREE_WAIT
 * seconds (a failure is logged, tried again after DFREE_WAIT) */
void dfree_due(long long t);
/* dfree_wake: the earlier of wake and the time dfree_due has work */
long long dfree_wake(long long wake);
/* dfree_end: at exit, flush and close everything held (logged if the
 * flush fails: the descriptors close with the process anyway) */
void dfree_end(void);
/* dfree_held: descriptors held now (for tests and the log) */
unsigned dfree_held(void);

#endif
