/* mqueue.h: the queue's gauges, as qmail-qstat counts them, for
 * qmail-metrics and qmail-top: messages (files in mess/), messages not
 * yet preprocessed (todo/), and the oldest message's time (its mess/
 * file's mtime). */
#ifndef MQUEUE_H
#define MQUEUE_H

#include <time.h>

struct mqueue {
  unsigned long mess, todo;
  time_t oldest;   /* 0: no message */
  int up;          /* 1: the queue could be read */
};

/* mqueue_read: q from HOME/queue; the working directory is given back.
 * 0 read (q->up 1); -1 the queue could not be read (errno; *bad names
 * the directory, "" when the queue itself); -2 the working directory
 * could not be gone back to (the caller should stop). */
int mqueue_read(struct mqueue *q, const char **bad);

#endif
