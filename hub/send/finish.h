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
/* finish_due: finish every message whose time has come */
void finish_due(void);
/* finish_wake: the earlier of wake and the next finishing time */
long long finish_wake(long long wake);

#endif
