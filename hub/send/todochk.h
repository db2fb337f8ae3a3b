/* todochk.h: qmail-send's check of a todo/S/N name before and after it is
 * read (hub/queue/QUEUE.md sec 6a, "names that come back"; hub/send/qsane.h).
 *
 * A todo/S/N that is stale (qsane.h: it shares its inode with a message
 * file, or has a link count that intd/S/N does not explain) is never read:
 * its bytes are someone else's. A stale or damaged (TODO_BAD) todo/S/N
 * next to an info/S/N with one link, no older than mess/S/N, was left by
 * a crash after the message's preprocessing (todo/ is cleaned only after
 * the step's flush made info, local and remote durable): qmail-clean
 * removes the todo and intd names and the message is loaded from info/,
 * local/, remote/ (hub/send/load.h, load_info), logged "warning: msg N
 * has a stale todo entry: loaded from info" (or "a damaged envelope").
 * Without an info/S/N a stale todo is left alone as a damaged one (the
 * 36 h cleanup of hub/send/stale.h): logged "warning: msg N has a stale
 * todo entry: left alone". A todo/S/N whose mess/S/N names another file
 * (qsane.h) is left alone the same way ("a stale message file"): the
 * message's bytes are not in the queue, and nothing is deleted. */
#ifndef TODOCHK_H
#define TODOCHK_H

/* todo_check: before todo/S/N of message id is read: 1 read it; 0 it was
 * handled here (dropped and loaded from info, or marked bad) */
int todo_check(unsigned long long id);
/* todo_damaged: todo/S/N was read and is not a complete envelope: 1 it was
 * dropped and the message loaded from info/S/N; 0 no usable info/S/N (the
 * caller leaves the todo alone) */
int todo_damaged(unsigned long long id);

#endif
