/* load.h: putting preprocessed messages (S5, hub/queue/QUEUE.md sec 2)
 * into qmail-send's table and channel queues: all of info/ at start, and
 * each message as its preprocessing becomes durable (hub/send/preproc.h).
 * A channel is scheduled at its file's mtime, the next try kept across
 * restarts (docs/queue.md sec 6); a message without channel files goes to
 * the done queue (hub/send/finish.h). */
#ifndef LOAD_H
#define LOAD_H

#include "stralloc.h"

/* load: schedule message id (info/S/N exists, written at birth, sender
 * sender); fresh: just preprocessed, every channel due now. Nothing if
 * the message is known already. */
void load(unsigned long long id, long long birth, const stralloc *sender, int fresh);
/* load_info: load message id from info/S/N (the caller checked that
 * todo/S/N is gone and the message is not known), snd a buffer for the
 * sender; only when its names are sane (hub/send/qsane.h): a message
 * whose mess/S/N is missing or names another file is never delivered, its
 * info, local and remote names are removed (and a stale mess name by
 * qmail-clean), logged "warning: msg N: ...: stale names removed, not
 * delivered"; an info that cannot be read and has a second link names
 * another file and is removed too. 0 loaded, -1 not. */
int load_info(unsigned long long id, stralloc *snd);
/* scan_info: load every info/S/N whose todo/S/N is gone (a todo still
 * there means preprocessing is redone: its info may be a leftover) */
void scan_info(void);

#endif
