/* q_qq.h: handing a message to the queue, as every qmail-queue caller does.
 * The queue program is $QMAILQUEUE when set, else HOME/bin/qmail-queue,
 * started with posix_spawn: the message goes to its fd 0, the envelope
 * (F<sender>\0 T<rcpt>\0 ... \0) to its fd 1, and a custom error text may
 * come back on its fd 6 (exit 82). When $QMAILQUEUE is unset and
 * HOME/bin/qmail-queue is a symbolic link to qmail-qmqpc (a leaf home),
 * the same work is done in this process by lspool_send (qmqpc_send, and
 * the leaf's spool when no hub takes the message): no exec at all.
 * On a hub (bin/qmail-queue is the real queue) with $QMAILQUEUE unset, the
 * message goes to the queue daemon qmail-queued over its unix socket
 * HOME/qq/socket instead (no exec either; qmail-queued(8), the wire
 * protocol below); when no daemon listens (the socket is missing, refuses,
 * its backlog is full, or its path is too long for a socket address),
 * bin/qmail-queue is started as before, so everything works with
 * qmail-send down.
 * Writes never fail loudly: the first error is remembered and qq_finish
 * (or qq_verdict) reports it as a status. */
#ifndef Q_QQ_H
#define Q_QQ_H

#include <sys/types.h>
#include "buffer.h"
#include "stralloc.h"
#include "q_spool.h"

/* The queue socket (qmail-queued(8), hub/queue/QUEUE.md section 8):
 * the message in chunks "<len>:<bytes>," (1..QQ_CHUNKMAX bytes), then "0:,",
 * then the envelope exactly as qmail-queue reads it on fd 1 (at most
 * QQ_ENVMAX bytes); the daemon answers with one netstring "<code>" or
 * "<code> <text>" (code: a qmail-queue exit status; text: what qmail-queue
 * would write on fd 6 with code 82, at most QQ_TEXTMAX bytes) and closes.
 * A message that fits the buffer (QQ_CHUNK) goes as one chunk with the end
 * chunk and the envelope in one write; the reply is taken as soon as it is
 * one whole netstring (no read waits for the close). */
#define QQ_SOCKET "qq/socket"   /* relative to the home */
#define QQ_CHUNKMAX 65536UL
#define QQ_ENVMAX (16UL << 20)
#define QQ_TEXTMAX 1000
#define QQ_REPLYMAX (QQ_TEXTMAX + 16)  /* a reply netstring, all of it */

#define QQ_CHUNK 16384  /* socket mode: the largest chunk sent */

struct qq {
  int inproc;        /* 1: QMQP/QMTP from this process */
  int sock;          /* socket mode: connected to qmail-queued, else -1 */
  pid_t pid;         /* exec mode: the child */
  int msgfd, envfd, errfd;
  int werr;          /* first write error: a qmail-queue status code */
  const struct io_limits *lim;  /* bounds on writes to the queue program */
  struct spool spool;
  stralloc env;
  buffer out;
  char outbuf[QQ_CHUNK];  /* last: qq_start clears what comes before it */
};

/* qq_reply_parse: the daemon's reply in[0..len) (the whole of what it sent
 * before closing). 1 and *code, and *text, *tlen the text (empty without
 * one), or 0 when it is not one well-formed reply netstring. */
int qq_reply_parse(const char *in, size_t len, int *code, const char **text, size_t *tlen);

/* qq_start: start the queue program (or prepare the in-process path).
 * 0 ok; -1 if it could not be started (qq_finish then gives QQ_EXECFAIL). */
int qq_start(struct qq *q);
/* qq_limits: bound every write to the queue program (a server passes its
 * session deadline, so a stalled queue cannot hold it forever). Call it
 * after qq_start; without it writes block. */
void qq_limits(struct qq *q, const struct io_limits *lim);
/* qq_put, qq_puts: message bytes. */
void qq_put(struct qq *q, const char *buf, size_t len);
void qq_puts(struct qq *q, const char *s);
/* qq_from, qq_to: envelope sender (once, first) and recipients. */
void qq_from(struct qq *q, const char *addr, size_t len);
void qq_to(struct qq *q, const char *addr, size_t len);
/* qq_dsn: a DSN item "d<words>" (hub/queue/QUEUE.md): before qq_from for
 * the message's, right after a qq_to for that recipient's. Not sent in
 * the in-process (QMQP) mode. */
void qq_dsn(struct qq *q, const char *words, size_t len);
/* qq_finish: end the message and envelope, wait for the verdict. Returns a
 * qmail-queue exit status (0 queued, 11..40 permanent, QQ_CRASH, ...);
 * for QQ_CUSTOM (82) fd6 holds the text. Map it with qq_status().
 * It is qq_send and qq_verdict together. */
int qq_finish(struct qq *q, stralloc *fd6);

/* A message whose end is sent and whose verdict may still be coming: in
 * socket mode the connection to the daemon (which answers after the batch
 * holding it is committed); exec and in-process mode have finished in
 * qq_send and keep the verdict here. Small: a server keeps a window of
 * them, each message on its own daemon connection, so that messages sent
 * back to back are committed together (qmail-qmtpd). */
struct qq_pending {
  int sock;          /* socket mode: the reply comes here; else -1 */
  int code;          /* without a socket: the verdict */
  stralloc text;     /* without a socket: qmail-queue's fd 6 text */
  const struct io_limits *lim;  /* qq_limits' bounds, for the reply's read */
};
/* qq_send: end the message and envelope without waiting for the verdict
 * (exec and in-process mode: the verdict is had at once); q may be
 * started again. Every p must be given to qq_verdict. */
void qq_send(struct qq *q, struct qq_pending *p);
/* qq_verdict: the verdict of p, waited for (bounded by the limits q had);
 * as qq_finish returns it. */
int qq_verdict(struct qq_pending *p, stralloc *fd6);
/* qq_abort: give up on this message (too big, looping, client gone): the
 * queue program sees its input end without an envelope and queues nothing. */
void qq_abort(struct qq *q);

#endif
