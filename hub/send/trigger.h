/* trigger.h: the wake-up FIFO lock/trigger (hub/queue/QUEUE.md sec 3,
 * docs/queue.md sec 3). qmail-queue writes "N\n" for the message it
 * queued: a line of digits names a message to preprocess directly (at
 * most NAMED_MAX are kept); any other byte (qmail's anonymous trigger, a
 * damaged line), a list overflow, or a read that finds the FIFO (nearly)
 * full asks for a scan of todo/ (want_scan, hub/send/preproc.h). */
#ifndef TRIGGER_H
#define TRIGGER_H

#include <stddef.h>

#define NAMED_MAX 4096            /* message ids from the trigger kept at most */
#define TRIGGER_FULL 60000        /* bytes read at once: the FIFO (64 KB) was full */

/* trig_open: open the FIFO read-write, so it always has a writer (us):
 * it never reads as end of file and never needs reopening, and a
 * qmail-queue never finds it without a reader while qmail-send runs */
void trig_open(void);
/* trig_fd: the FIFO's descriptor, -1 if it could not be opened */
int trig_fd(void);
/* trig_read: drain the FIFO (it is readable) */
void trig_read(void);
/* trig_pending: the number of named messages waiting */
size_t trig_pending(void);
/* trig_named: take up to max named messages, oldest first, into ids;
 * returns how many */
size_t trig_named(unsigned long long *ids, size_t max);

#endif
