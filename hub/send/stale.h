/* stale.h: removal of stale queue files (hub/queue/QUEUE.md sec 2, S2/S3
 * garbage; docs/queue.md sec 8). A mess/S/N older than QUEUE_STALE (36 h,
 * more than qmail-queue's 24 h alarm) with neither info/S/N nor todo/S/N,
 * or whose envelope was found damaged, was never acknowledged or is what a
 * crash left after the message was done: qmail-clean removes it and its
 * intd/S/N ("status: removed stale msg N"). A local/S/N or remote/S/N
 * with neither info/S/N nor todo/S/N, of no message in the table, is a
 * name a power cut brought back (QUEUE.md sec 6a): the name is unlinked
 * ("status: removed orphan local/S/N"). */
#ifndef STALE_H
#define STALE_H

#define CLEAN_EVERY (21L * 60 * 60)  /* stale-file cleanup interval */

/* clean_stale: walk mess/ and remove what is stale (at start, then every
 * CLEAN_EVERY) */
void clean_stale(void);

#endif
