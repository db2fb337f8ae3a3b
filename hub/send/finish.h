/* finish.h: the end of a message (docs/queue.md sec 7). When both of its
 * channels are done, a message goes into the done queue; finish_due()
 * then, for each one due: injects the bounce if bounce/N exists (through
 * qmail-queue, hub/send/bounce.h; a failed injection is retried after
 * BOUNCE_RETRY s and the message stays), unlinks bounce/N, the channel
 * files and info/S/N, has qmail-clean remove intd/S/N and mess/S/N, logs
 * "end msg N" and forgets the message. A crash in between repeats the
 * step: a bounce may be sent twice, a message never dropped unbounced. */
#ifndef FINISH_H
#define FINISH_H

#include "msg.h"

#define BOUNCE_RETRY 300  /* a failed bounce injection is retried after */

/* to_done: finish m at t (nothing if it is already in the done queue) */
void to_done(struct msg *m, long long t);
/* finish_success: a delivery of addr (channel c: 0 local, 1 remote) of m
 * succeeded with text and its recipient asked for NOTIFY=SUCCESS: inject
 * at once a success notice (dsnbounce.h: delivered or relayed; the header
 * of the message unless RET=FULL) to m's sender, never to a null one. A
 * failure is logged and the notice lost (a crash before it repeats the
 * delivery, and so the notice). */
void finish_success(struct msg *m, int c, const char *addr, size_t alen, const char *text,
                    size_t tlen);
/* finish_due: finish every message whose time has come */
void finish_due(void);
/* finish_wake: the earlier of wake and the next finishing time */
long long finish_wake(long long wake);

#endif
