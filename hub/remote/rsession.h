/* rsession.h: qmail-remote's session mode (qmail-remote -S host): one
 * process and one connection carry many jobs for one destination, the
 * jobs and reports of rjobq.h on fd 0 and fd 1.
 *
 * Jobs are started in the order they arrive, each with its own deadline
 * (delivery_ms from its start) and its message opened read-only from
 * queue/mess/S/N (relative to the current directory, the home). The
 * connection is made for the first job (cf->connect: rdest.h's choice,
 * SMTP greeting and EHLO included) and kept:
 *  - SMTP: one transaction per job, one after the other (rsmtp_txn); a
 *    failed transaction that leaves state ends with RSET. fd 0 is read
 *    between transactions.
 *  - QMTP: packages are pipelined, at most RSESSION_WINDOW packages or
 *    RSESSION_WINDOW_BYTES message bytes unanswered (one package is always
 *    allowed); responses are read while packages are written; a job is
 *    reported as soon as all its recipients are answered.
 * A job's report block goes out in one write, in the order jobs arrived.
 * Connection lost in the middle of a QMTP batch: the jobs whose answers
 * all came are reported as answered, every other job on the wire gets s
 * for its unanswered recipients ("... the QMTP connection died (#4.4.2)").
 * Connection closed by the server between jobs (EOF or a 421 seen while
 * idle, or no answer at all to the next MAIL): reconnect for the next job
 * (once; a failure reports that job, the next job tries again). No
 * destination reachable: each job gets the connect error (s/Z, or h/D for
 * a permanent one) and the session goes on.
 * Idle: no job pending for idle_ms: QUIT (SMTP) or close (QMTP), exit 0.
 * EOF on fd 0: finish every pending job, QUIT, exit 0. A protocol error
 * on fd 0 (a job over RJOBQ_MAXJOB bytes, an incomplete job at EOF):
 * the jobs already read are finished and reported, then exit 111.
 * Memory: at most RSESSION_PENDING jobs are held (fd 0 is not read while
 * at the cap); messages are streamed from their files. */
#ifndef RSESSION_H
#define RSESSION_H

#include "rconn.h"
#include "rjob.h"
#include "rsess.h"

#define RSESSION_PENDING 256
#define RSESSION_WINDOW 64
#define RSESSION_WINDOW_BYTES (1024UL * 1024)
#define RSESSION_IDLE 5

struct rsession_conf {
  const char *host;        /* the recipient domain of every job */
  const char *helo;
  int timeout_ms;          /* per read or write (timeoutremote) */
  long long delivery_ms;   /* per job (timeoutdelivery) */
  int idle_ms;             /* idle exit */
  /* connect: reach the destination for job j (j->deadline_ms set). 0: c is
   * connected, *qmtp says the protocol, for SMTP the greeting and EHLO
   * are done (x). -1: nothing reachable, j is reported. */
  int (*connect)(struct rjob *j, struct rconn *c, int *qmtp, struct rsmtp_ext *x);
};

/* rsession_run: serve jobs until EOF or idle. Returns the exit code (0,
 * or 111 after a protocol error on fd 0 or a failed write on fd 1). */
int rsession_run(const struct rsession_conf *cf);

#endif
