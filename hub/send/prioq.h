/* prioq.h: a binary min-heap of (time, message id) for qmail-send's
 * channels (docs/queue.md sec 5: one queue per channel keyed by the
 * next attempt time). Order: time, then id, so equal times come out in a
 * fixed order (smallest id first). The array grows by doubling, every size
 * computation overflow-checked; memory is only returned by prioq_free. */
#ifndef PRIOQ_H
#define PRIOQ_H

#include <stddef.h>

struct prioq_elt {
  long long t;            /* when (seconds since the epoch) */
  unsigned long long id;  /* message id (inode number) */
};

struct prioq {
  struct prioq_elt *a;
  size_t len, cap;
};

#define PRIOQ_INIT { 0, 0, 0 }

/* prioq_insert: add (t, id). 1 ok, 0 out of memory (queue unchanged). */
int prioq_insert(struct prioq *q, long long t, unsigned long long id);
/* prioq_min: the smallest element into *e. 1 ok, 0 empty. */
int prioq_min(const struct prioq *q, struct prioq_elt *e);
/* prioq_delmin: remove the smallest element (nothing when empty). */
void prioq_delmin(struct prioq *q);
/* prioq_len: the number of elements. */
size_t prioq_len(const struct prioq *q);
/* prioq_free: release the array; q is then empty and reusable. */
void prioq_free(struct prioq *q);

#endif
