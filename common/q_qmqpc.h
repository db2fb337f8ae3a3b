/* q_qmqpc.h: the leaf's way to the hub. Ships one message with its envelope
 * to the servers in control/qmqpservers over QMQP (or QMTP on lines that ask
 * for it), with failover, and answers as qmail-queue would: an exit code
 * from REFERENCE.md's table (0 queued, 31 D, 71 Z, 72 timeout, 73 refused,
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
 * any), ready for fd 6. Progress and failover are not printed. */
int qmqpc_send(struct spool *msg, const char *env, size_t envlen, stralloc *text);

#endif
