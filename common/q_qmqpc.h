/* q_qmqpc.h: the leaf's way to the hub. Ships one message with its envelope
 * to the servers in control/qmqpservers over QMQP (or QMTP on lines that ask
 * for it), with failover, and answers as qmail-queue would: an exit code
 * from qmail-queue's table (qmail-qmqpc.8; 0 queued, 31 D, 71 Z, 72 timeout, 73 refused,
 * 74 broken connection, 55 no configuration, 82 custom text ...).
 * Used by qmail-qmqpc and, in-process, by qmail-inject and forward when the
 * home's bin/qmail-queue is qmail-qmqpc. */
#ifndef Q_QMQPC_H
#define Q_QMQPC_H

#include <stddef.h>
#include "stralloc.h"
#include "q_spool.h"

/* qmqpc_send: env[0..envlen) is a qmail-queue envelope (F<sender>\0
 * T<rcpt>\0 ... \0). Returns the qmail-queue exit code. When it returns
 * 82, text holds "D<text>" or "Z<text>" (the hub's own words when it gave
 * any), ready for fd 6. A problem of configuration or of reaching the
 * hubs is 82 too, with a Z text naming the cause ("control/qmqpservers
 * line 2: bad port \"99999\"", "no hub took the message: hub.example: no
 * such host; 127.0.0.1:628: connection refused"); 55, 72, 73 and 74 are
 * left for the cases with nothing to name. */
int qmqpc_send(struct spool *msg, const char *env, size_t envlen, stralloc *text);
/* qmqpc_send_st: qmqpc_send, and st[i] says what became of recipient i of
 * env (the caller counts them; one byte each): 'K' accepted, 'D' refused,
 * 'Z' not accepted yet. st is written only when the envelope was valid and
 * the configuration read; otherwise it is left as the caller set it. The
 * leaf's spool (q_lspool.h) keeps only the recipients not accepted. */
int qmqpc_send_st(struct spool *msg, const char *env, size_t envlen, stralloc *text,
                  char *st);

/* qmqpc_verbose: from now on say each hub tried and its answer, one line
 * each ("progname: hub 127.0.0.1:628: connection refused", "...: accepted:
 * ok"), on descriptor fd; -1 (the default) says nothing. */
void qmqpc_verbose(int fd);

#endif
