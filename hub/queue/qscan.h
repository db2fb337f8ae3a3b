/* qscan.h: walking one split directory of the queue (hub/queue/QUEUE.md sec 1:
 * DIR/0 .. DIR/22, entries named by the decimal inode N with N % 23 = S),
 * for the read-only admin tools qmail-qread and qmail-qstat. Streaming:
 * one directory handle at a time, nothing kept per message. Entries whose
 * name is not a valid "S/N" (dot files, editor leftovers) are skipped. */
#ifndef QSCAN_H
#define QSCAN_H

/* qscan_fn: called once per message id found; return 0 to go on, -1 to
 * stop the walk (qscan_walk then returns -1 with the callback's errno). */
typedef int (*qscan_fn)(unsigned long long id, void *ctx);

/* qscan_walk: call fn for every message in dir/0 .. dir/22 (dir relative
 * to the current directory, normally HOME/queue). 0 ok; -1 a split
 * directory could not be opened or read (errno; *bad gets its name, a
 * static buffer) or fn said stop. */
int qscan_walk(const char *dir, qscan_fn fn, void *ctx, const char **bad);

/* qscan_count: the number of messages in dir/0 .. dir/22 in *n.
 * 0 ok, -1 as qscan_walk. */
int qscan_count(const char *dir, unsigned long *n, const char **bad);

#endif
