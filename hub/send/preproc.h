/* preproc.h: qmail-send's side of preprocessing, S4 -> S5 of
 * hub/queue/QUEUE.md sec 2 (docs/queue.md sec 3 and 4). Messages come from
 * the trigger's names (hub/send/trigger.h) and from scans of todo/0 ..
 * todo/22 (at start, when asked by want_scan, and every SCAN_INTERVAL).
 * Each step takes at most TODO_BATCH named messages (those of one trigger
 * read, or the first of them) and TODO_BATCH entries of the scan, so
 * deliveries keep flowing between steps however large the backlog. The
 * step's messages are preprocessed by hub/send/todo.h without flushes
 * (info, local, remote, bounce written for all of them), made durable
 * together by one todo_sync (one syncfs and one barrier fdatasync: two
 * device flushes for the step, whatever its size), and only then logged
 * ("new msg", "info msg"), cleaned from intd/ and todo/ by qmail-clean,
 * and loaded for delivery (hub/send/load.h). A crash before the flush
 * leaves todo/S/N in place: the step is redone (duplicates allowed, loss
 * never). */
#ifndef PREPROC_H
#define PREPROC_H

#define SCAN_INTERVAL (25 * 60)  /* todo/ scan without a trigger */
#define TODO_BATCH 64            /* todo entries preprocessed between delivery rounds */

extern int want_scan;        /* scan todo/ at the next step */

/* pre_step: start a scan if one is asked for or due, then preprocess the
 * next batch of named messages and the next batch of the scan */
void pre_step(long long t);
/* pre_wake: when preprocessing next has work: t if it has now */
long long pre_wake(long long t);

#endif
