/* qwrite.h: writing one message into the queue, the steps both queue
 * writers share (qmail-queue, one process per message, and qmail-queued,
 * the group-commit daemon): the fresh inode N and its names, the queue id,
 * the Received line, the envelope file's leading items, the commit link,
 * the undo, the trigger. What differs between them (how bytes arrive, and
 * the flushes) stays in each program. Layout, states and why each step
 * is safe: hub/queue/QUEUE.md.
 *
 * Every step returns 0 or a qmail-queue exit code (53 for a full disk or
 * quota wherever it happens, else the step's own code: 63 pid/, 64 mess/,
 * 65 intd/, 66 todo/); the caller undoes with qw_cleanup. */
#ifndef QWRITE_H
#define QWRITE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "msgid.h"
#include "qname.h"

#define QW_RECEIVED_MAX 256  /* qw_received's line, bytes */
#define QW_ITEMS_MAX 512     /* qw_items' u, p, i, m items, bytes */
#define QW_LC_MAX 48         /* qw_lc's l and c items, bytes */

struct qw {
  unsigned long long ino;    /* N: the inode of mess/S/N */
  int messfd, intdfd;        /* -1 when not open */
  int made_pid, made_mess, made_intd, made_todo;
  char pidfn[64];
  char messfn[QNAME_MAX], intdfn[QNAME_MAX], todofn[QNAME_MAX];
  char qid[QID_MAX];         /* the queue id SEC.NSEC.N (msgid.h) */
  struct midscan mids;       /* the Message-ID, fed by the caller */
};

/* qw_init: nothing made yet. */
void qw_init(struct qw *w);
/* qw_create: pid/PID.TIME.SEQ made exclusively (its inode is N, messfd
 * open on it), the queue id read from the clock, the file linked to
 * mess/S/N and the pid name removed (S2). *when gets the clock's
 * seconds, for the Received line. The caller is in HOME/queue. */
int qw_create(struct qw *w, unsigned long pid, time_t now, time_t *when);
/* qw_how: the words of the Received line for the user named name:
 * "invoked from network" (qmaild), "by alias", "for bounce" (qmails), or
 * 0 for "invoked by uid U". */
const char *qw_how(const char *name);
/* qw_received: the message's first line into buf (QW_RECEIVED_MAX bytes):
 *   Received: (qmail PID invoked by uid U id QID); DATE\n
 * ("invoked from network" etc. instead of "invoked by uid U" when how is
 * not 0); returns its length. */
size_t qw_received(const struct qw *w, char *buf, unsigned long pid, uid_t uid,
                   const char *how, time_t when);
/* qw_open_intd: create intd/S/N exclusively (S3), intdfd open on it. */
int qw_open_intd(struct qw *w);
/* qw_items: u<uid>\0 p<pid>\0 i<qid>\0 [m<Message-ID>\0] into buf
 * (QW_ITEMS_MAX bytes); returns the length. */
size_t qw_items(const struct qw *w, char *buf, uid_t uid, unsigned long pid);
/* qw_lc: the group commit's items l<length of mess/S/N>\0
 * c<crc32c, 8 lowercase hex digits>\0 into buf (QW_LC_MAX bytes). */
size_t qw_lc(char *buf, unsigned long long len, uint32_t crc);
/* qw_link_todo: link intd/S/N to todo/S/N (S4 once durable). */
int qw_link_todo(struct qw *w);
/* qw_writeall: all of p[0..len) into fd (EINTR retried): 0, or -1 with
 * errno set. */
int qw_writeall(int fd, const char *p, size_t len);
/* qw_close: close messfd and intdfd (no error: the data is flushed by
 * then, or the message is undone). */
void qw_close(struct qw *w);
/* qw_cleanup: unlink what was made, newest first (todo, intd, mess, pid),
 * so a crash in here leaves S2/S3 garbage, never a todo without its mess;
 * then qw_close. Safe to call twice. */
void qw_cleanup(struct qw *w);
/* qw_committed: the message is queued: qw_cleanup will undo nothing. */
void qw_committed(struct qw *w);
/* qw_trigger_open: lock/trigger for writing, non-blocking; -1 when no
 * qmail-send reads it (ENXIO) or it cannot be opened: harmless. */
int qw_trigger_open(void);
/* qw_trigger: "N\n" into the trigger fd (one atomic write; a full FIFO is
 * ignored: qmail-send scans todo/ then). */
void qw_trigger(int fd, unsigned long long ino);

#endif
