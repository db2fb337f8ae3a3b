/* todo.h: qmail-send's preprocessing of one queued message, S4 -> S5
 * (hub/queue/QUEUE.md sec 2; docs/queue.md sec 4).
 *
 * todo_process reads todo/S/N (the envelope file
 * "u<uid>\0p<pid>\0[i<id>\0][m<msgid>\0][l<len>\0c<crc>\0]F<sender>\0T<rcpt>\0...\0\0",
 * at most TODO_MAX_BYTES; i and m are qmail-queue's trace items, msgid.h:
 * any other lowercase item there is skipped, a malformed i is ignored, an
 * m is cut at MID_MAX; l and c are written by a group commit, qmail-queued:
 * the decimal length and the CRC-32C, eight lowercase hex digits
 * (common/q_crc32c.h), of mess/S/N: both or neither, each at most once,
 * well formed, or the envelope is malformed), and, when it is complete and
 * mess/S/N exists (and, with l and c, has that length and CRC):
 *   1. unlinks stale info/S/N, local/S/N, remote/S/N, bounce/N (left by an
 *      earlier run that crashed before todo/S/N was removed: redoing the
 *      step may repeat deliveries, never lose one);
 *   2. writes local/S/N and remote/S/N ("T<addr>\0" records, each recipient
 *      rewritten by rewrite(): locals/virtualdomains), each only when it
 *      gets at least one record; a recipient that rewrite() refuses
 *      (too long after rewriting) gets a failure paragraph in bounce/N;
 *   3. fsyncs those files, then their directories (this project's ext4
 *      has no journal: a file's fsync does not make its name durable);
 *   4. only then writes info/S/N ("F<sender>\0"; its mtime = now = the
 *      message's birth), fsyncs it and info/S/. With DSN items in the
 *      envelope (hub/queue/QUEUE.md, "DSN items": a d item first among the
 *      lowercase ones before F, a d item right after a T) info/S/N goes on
 *      with "d<RET/ENVID words>\0" and, for each routed recipient with
 *      one, "R<channel address>\0d<NOTIFY/ORCPT words>\0"; items whose
 *      words hub/servers/dsnparam.h refuses are dropped. A d item anywhere
 *      else after F makes the envelope malformed.
 * So a durable info/S/N implies complete, durable local/remote/bounce
 * files. The caller then logs and calls todo_clean (intd, then todo).
 * NOTE for qmail-send: until todo/S/N is gone, an info/S/N may be a
 * leftover of a crashed run: the startup scan of info/ must skip any N
 * whose todo/S/N exists (todo processing redoes it).
 *
 * Outcomes (r->status), all with return value 0:
 *   TODO_DONE    preprocessed: S5 on disk; call todo_clean.
 *   TODO_GONE    todo/S/N does not exist (already done): nothing to do.
 *   TODO_NOMESS  mess/S/N is missing: the message was withdrawn by a
 *                qmail-queue that failed (never acknowledged). Log it and
 *                drop intd and todo (todo_clean, or qmail-clean's T request
 *                when todo/ belongs to another user, as in a root install).
 *   TODO_TORN    the envelope has l and c, and mess/S/N has another
 *                length or CRC: a crash cut a group-committed message
 *                before its flush, so it was never acknowledged; nothing
 *                is written (stale files of an earlier run are removed).
 *                Log it and drop intd and todo as for TODO_NOMESS (with
 *                TODO_NOSYNC: only after todo_sync, so that the removal of
 *                the stale files is durable first); never deliver it
 *                (mess/S/N is left to the stale-file cleanup).
 *   TODO_BAD     the envelope file is incomplete or malformed (or over
 *                TODO_MAX_BYTES): nothing written; leave it (QUEUE.md sec
 *                2: 36 h garbage cleanup), log it, do not retry it soon.
 * Return -1 (errno) on a system error (out of memory, a read, write or
 * fsync failure, a bad split_id: EINVAL): try again later; whatever was
 * written is stale and will be replaced by the next attempt. */
#ifndef TODO_H
#define TODO_H

#include "stralloc.h"
#include "msgid.h"
#include "rewrite.h"

#define TODO_MAX_BYTES (256UL * 1024 * 1024)

#define TODO_DONE 0
#define TODO_GONE 1
#define TODO_NOMESS 2
#define TODO_BAD 3
#define TODO_TORN 4

struct todo_result {
  int status;                /* TODO_* */
  unsigned long long id;     /* N */
  unsigned long long uid;    /* from the u item */
  unsigned long long pid;    /* from the p item (qp in the log) */
  unsigned long long bytes;  /* size of mess/S/N */
  long long birth;           /* mtime of info/S/N */
  unsigned long nlocal, nremote, nbounce;  /* records / paragraphs written */
  stralloc sender;           /* not NUL-terminated; start zeroed, caller frees */
  char qid[QID_MAX];         /* the i item, "" if none */
  stralloc mid;              /* the m item (empty if none); as sender */
  int dsn;                   /* info/S/N got DSN items after F */
};

/* todo_process: preprocess message split_id ("S/N", S = N % 23) of the
 * queue directory queuedir (HOME/queue), as described above. */
int todo_process(const char *queuedir, const char *split_id,
                 const struct rewrite *rw, struct todo_result *r);
/* todo_process_flags: todo_process with flags. TODO_NOSYNC skips steps 3
 * and 4's fsyncs: the files are only written. The caller must then call
 * todo_sync, and only when it returns 0 treat the TODO_DONE results of the
 * batch as preprocessed (log them, todo_clean them). A crash before that
 * leaves todo/S/N in place, so the step is redone; if todo_sync fails,
 * leave the todo files alone (the next scan redoes them). One todo_sync
 * for a batch (two device flushes) replaces four fsyncs per message. */
#define TODO_NOSYNC 1
int todo_process_flags(const char *queuedir, const char *split_id,
                       const struct rewrite *rw, struct todo_result *r, int flags);
/* todo_sync: make everything written on queuedir's filesystem durable
 * (common/q_commit.h): one syncfs, then, only where the filesystem needs
 * it, one fdatasync of TODO_BARRIER (queuedir/lock/sendmutex, qmail-send's
 * own file, opened in any case: missing, it fails with ENOENT). On ext4
 * without a journal (or a filesystem not known) the barrier is needed:
 * syncfs writes the last metadata buffers (directory blocks, inode
 * tables, bitmaps) after its device cache flush, so they could still be
 * in the disk's cache when syncfs returns; the fdatasync issues one more
 * flush (ext4 without a journal flushes on every fsync). On ext4 with its
 * journal, syncfs ends with the journal commit, whose flush comes after
 * everything the commit needs: no barrier. The decision is made at the
 * first call for a filesystem and kept. 0 ok, -1 error (errno). */
#define TODO_BARRIER "lock/sendmutex"
int todo_sync(const char *queuedir);

/* todo_clean: qmail-clean's part: unlink intd/S/N, then todo/S/N (the
 * order of QUEUE.md sec 2, S4 -> S5). ENOENT is success.
 * 0 ok, -1 error (errno). Not flushed: a todo that comes back after a crash
 * is preprocessed again (a duplicate at worst). */
int todo_clean(const char *queuedir, const char *split_id);
/* todo_parse_id: check "S/N" (decimal, no leading zeros, S = N % 23) and
 * return N in *id. 0 ok, -1 (errno EINVAL) otherwise. */
int todo_parse_id(const char *split_id, unsigned long long *id);

#endif
