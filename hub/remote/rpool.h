/* rpool.h: qmail-rspawn's pool of qmail-remote sessions (qmail-remote -S
 * host, qmail-remote.8): each session is one qmail-remote process that
 * keeps its connection open and takes job after job for one destination
 * domain, so a message to a domain that was just served costs neither a
 * process nor a connection, and a queue bound for one smarthost goes over
 * a few connections (QMTP: packages pipelined on each).
 *
 * Jobs from qmail-send (hub/send/qspawn.h wire format) go to a session of their
 * domain: the least busy one; a new one is started when every session of
 * the domain already has a job pending and there are fewer than perhost
 * for it and fewer than maxsess (control/concurrencyremote: connections)
 * in all, sessions that are ending included. When all of the domain's
 * sessions hold RPOOL_PENDING jobs, the job waits in rpool until one
 * answers; when the domain has none and maxsess are running, the job
 * waits and an idle session (nothing pending) is ended early to make
 * room (one at a time); with none idle, the least busy session that has
 * served RPOOL_TURN jobs retires (no new job; it ends once its jobs are
 * answered), so a destination is not starved by busy ones at the cap. qmail-send has at most SLOTS_MAX (256) jobs out
 * in session mode (hub/send/rconf.h), so the wait list (RPOOL_WAIT)
 * never overflows, and rpool holds at most 256 jobs of at most
 * SPAWN_JOB_MAX bytes each.
 * A session gets the job bytes as they came (the slot byte is its tag) and
 * answers, per job in order, the tagged records of qmail-remote: r/h/s per
 * recipient, then K/Z/D; rpool turns them into one report per recipient
 * for qmail-send with the mapping function it is given (the same one as
 * for a classic qmail-remote run).
 * A session with nothing pending for RPOOL_IDLE_MS gets end of file on its
 * input and ends (QUIT); that is shorter than qmail-remote's own idle exit
 * (control/timeoutidle, 5 s), so a job is seldom written to a session that
 * is just leaving (and if it is, the job goes to another session). A session that ends while jobs are pending: jobs
 * it answered nothing for are given once to a fresh session (a duplicate
 * delivery at worst, never a loss); otherwise what it did not answer is a
 * temporary failure (Z).
 * Caps: maxsess (at most RPOOL_MAX) sessions, RPOOL_PENDING jobs per session, a session's
 * unparsed output at most RPOOL_OUT_MAX bytes (more is a protocol error:
 * the session is killed and its jobs handled as above). */
#ifndef RPOOL_H
#define RPOOL_H

#include <stddef.h>
#include "stralloc.h"

#define RPOOL_MAX 256
#define RPOOL_PENDING 64
#define RPOOL_WAIT 256   /* jobs waiting for room in a full host's sessions */
#define RPOOL_TURN 32    /* jobs a session serves before it gives way at the cap */
#define RPOOL_IDLE_MS 2000
#define RPOOL_OUT_MAX (256 * 1024)

/* finish: as spawn_ops.finish: wstat 0 and a job's untagged records ->
 * nrcpt reports "<K|Z|D><text>\0" in r. */
typedef void (*rpool_finish)(int wstat, const char *out, size_t len, size_t nrcpt, stralloc *r);

/* rpool_loop: serve jobs from infd until it ends and every job has been
 * answered on outfd; sessions run "qremote -S host" in the current
 * directory, at most perhost per domain and maxsess in all. Returns 0;
 * exits 111 on a protocol error from qmail-send or when outfd fails. */
int rpool_loop(const char *qremote, unsigned perhost, unsigned maxsess, int infd, int outfd,
               rpool_finish finish);

#endif
