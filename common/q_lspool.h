/* q_lspool.h: the leaf's spool (docs/spool.md). A message that no hub
 * takes for a temporary reason is kept on the leaf, durably, and sent
 * later: after the next send a hub accepts, by `qmail-qmqpc -flush` or
 * `sendmail -q`, or by the timer or cron line the install offers. There is
 * no daemon.
 *
 * Layout: HOME/spool (made by install-leaf, mode 1777 like /tmp) holds one
 * directory per user, named by the uid, mode 0700 and owned by that user:
 * nobody else can list, read, change or remove what is in it. It is made
 * by the user's first kept message and removed by the flush that empties
 * it, so a send that finds nothing waiting costs one stat. In it:
 *   SSSSSSSSSS.NNNNNNNNN.PID       a message, named by the time it was
 *                                  kept (the names sort oldest first)
 *   tmp.SSSSSSSSSS.NNNNNNNNN.PID   a message being written
 * A message file is one line saying why it was kept (printable ASCII, at
 * most LSPOOL_WHY bytes, then LF), the qmail-queue envelope F<sender>\0
 * T<rcpt>\0 ... \0 of the recipients not yet accepted, then the message.
 * It is written as tmp.*, fsynced, renamed to its name, and the directory
 * is fsynced (the disk may have no journal): once a caller hears "kept",
 * a crash cannot take the message back. A message leaves the spool only
 * after a hub accepted it (or it became a bounce, itself kept first), so
 * a crash can make a duplicate, never a loss. */
#ifndef Q_LSPOOL_H
#define Q_LSPOOL_H

#include <stddef.h>
#include <time.h>
#include "stralloc.h"
#include "q_spool.h"

#define LSPOOL_WHY 1000                 /* bytes of the "why" line */
#define LSPOOL_MAXMSGS 10000            /* messages one user's spool holds */
#define LSPOOL_MAX_DEFAULT 100000000UL  /* control/spoolmax: bytes per user */
#define LSPOOL_LIFE_DEFAULT 604800UL    /* control/spoollifetime: 7 days */
#define LSPOOL_STALE 3600               /* a tmp.* file this old is dead */
#define LSPOOL_NAME 64                  /* room for a file name */

/* One user's spool directory, open. */
struct lspool_dir {
  int top;          /* HOME/spool */
  int fd;           /* HOME/spool/UID */
  char uid[24];     /* "UID" */
  stralloc path;    /* "HOME/spool/UID", NUL-terminated */
};

/* One message file, its head read. */
struct lspool_msg {
  char name[LSPOOL_NAME];
  time_t when;                /* when it was kept (from the name) */
  stralloc why;               /* the first line */
  stralloc env;               /* F..\0 T..\0 ... \0 */
  size_t nrcpt;
  unsigned long long off;     /* where the message starts in the file */
  unsigned long long len;     /* its length */
  int fd;                     /* the file, open for reading */
};

/* lspool_send: what a leaf does instead of qmqpc_send (same arguments and
 * result). Accepted: 0, and when mail of this user waits in the spool a
 * flush starts in a detached child (lspool_kick). A temporary failure
 * naming the hubs or the configuration (qmqpc_send's 55, 71-74, 82 Z):
 * unless control/spool is "none", the message is kept with its recipients
 * not accepted, "PROG: kept in the spool ..." goes to stderr and the
 * result is 0; when it cannot be kept, "PROG: warning: not kept in the
 * spool: WHY" goes to stderr and the result is qmqpc_send's. Anything
 * else (a refusal, a bad envelope, out of memory) is returned as it is. */
int lspool_send(struct spool *msg, const char *env, size_t envlen, stralloc *text);

/* lspool_kick: after a send a hub accepted: one stat of HOME/spool (its
 * link count says whether any user has a directory in it); when this user
 * has mail waiting, a detached child (new session, descriptors 0-2 on
 * /dev/null, no other descriptor) runs lspool_flush without waiting for
 * the lock, and this process goes on at once. */
void lspool_kick(void);

/* lspool_flush: send what waits in this user's spool, oldest first, until
 * it is empty or a send fails for a temporary reason (docs/spool.md has
 * what happens to refusals and to messages older than spoollifetime).
 * wait: wait for a flush already running; else return at once. vfd >= 0:
 * one line per message there, and the hubs' answers. 0 done (whatever
 * still waits waits for a hub), -1 a problem, said on stderr. */
int lspool_flush(int wait, int vfd);

/* lspool_open: this user's spool (by effective uid). create: make it when
 * missing. 1 open; 0 it does not exist (nor HOME/spool, when create);
 * -1 it cannot be used, the cause in why (replaced). */
int lspool_open(struct lspool_dir *d, int create, stralloc *why);
void lspool_close(struct lspool_dir *d);

/* lspool_names: the message names in d, oldest first, each NUL-terminated,
 * into sa (replaced); *n how many. With stale, also removes tmp.* files
 * older than LSPOOL_STALE seconds. 0 ok, -1 error (errno). */
int lspool_names(const struct lspool_dir *d, stralloc *sa, size_t *n, int stale);

/* lspool_usage: messages and bytes in d. 0 ok, -1 error (errno). */
int lspool_usage(const struct lspool_dir *d, size_t *n, unsigned long long *bytes);

/* lspool_read: open message name of d and read its head into m (fd open,
 * positioned nowhere in particular). 0 ok; -1 errno (EPROTO: not a spool
 * file: wrong owner or type, bad head). */
int lspool_read(const struct lspool_dir *d, const char *name, struct lspool_msg *m);
void lspool_msgfree(struct lspool_msg *m);

/* lspool_write: a new message file in d: why (cleaned, cut at LSPOOL_WHY),
 * the envelope env with only the recipients i for which st[i] != 'K' (st
 * NULL: all), and msg's content; durable when it returns. replace: the
 * name of a message file it takes the place of (rename over it), else a
 * new name. name (LSPOOL_NAME bytes, may be NULL) gets the name. 0 ok, -1
 * error (errno; ENOENT: d was removed meanwhile, open it again). */
int lspool_write(struct lspool_dir *d, const char *why, size_t whylen,
                 const char *env, size_t envlen, const char *st,
                 struct spool *msg, const char *replace, char *name);

/* lspool_rcpts: the number of recipients of a qmail-queue envelope (as
 * counted for qmqpc_send_st); 0 when it is not valid. */
size_t lspool_rcpts(const char *env, size_t envlen);

#endif
