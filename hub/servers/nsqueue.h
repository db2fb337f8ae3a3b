/* nsqueue.h: the queue side of the netstring servers (qmail-qmqpd,
 * qmail-qmtpd): the struct nsr_queue callbacks nsread.c drives, which put
 * our Received line first and stream into qmail-queue (q_qq), the commit
 * that maps the queue's status to the reply text (q_qqstatus), and the
 * refusal log lines (refuselog.h) both servers write. */
#ifndef NSQUEUE_H
#define NSQUEUE_H

#include "stralloc.h"
#include "nsread.h"
#include "q_io.h"
#include "q_qq.h"

/* nsq_init: the protocol for the Received line ("QMQP", "QMTP") and the
 * TLS description (NULL outside TLS; received.h), our name (srvname's
 * by), the limits for writes to the queue program, and RELAYCLIENT (NULL
 * if unset: its value is appended to every recipient, as qmail does). The
 * strings must outlive the server. */
void nsq_init(const char *proto, const char *tls, const char *by, const struct io_limits *lim,
              const char *relayclient);
/* nsq_callbacks: the callbacks for nsr_qmqp/nsr_qmtp. */
extern const struct nsr_queue nsq_callbacks;
/* nsq_commit: finish the queued message; t gets "K<text> <time> qp <pid>"
 * or the queue's "Z..."/"D..." text (logged as a refusal, stage message).
 * It is nsq_send and nsq_verdict together. */
void nsq_commit(stralloc *t);

/* A queued message whose verdict may still be coming (q_qq.h qq_pending). */
struct nsq_pending {
  struct qq_pending qp;
  unsigned long pid;    /* for the K reply: the queue program's, or ours */
};
/* nsq_send: end the queued message without waiting for the verdict (with
 * qmail-queued: only then can messages sent back to back share a commit);
 * the callbacks may start the next message at once. */
void nsq_send(struct nsq_pending *p);
/* nsq_verdict: p's verdict, waited for, as nsq_commit gives it in t. */
void nsq_verdict(struct nsq_pending *p, stralloc *t);

/* nsq_refused: the struct nsr_policy refused callback: one refusal line
 * (stage sender, recipient, envelope or message; the address as input). */
void nsq_refused(void *ctx, enum nsr_why why, const char *addr, size_t len);

/* nsq_dropped: log why a request is dropped unanswered (a refusal line,
 * stage envelope, code "-"; r is the NS_* status; unit "request"/"package";
 * bad: what a malformed one is; inside: where the input ended) and return
 * the exit code: 100 for malformed or oversized input, 111 otherwise. */
int nsq_dropped(int r, const char *unit, const char *bad, const char *inside);

#endif
