/* msg.h: qmail-send's table of the messages it knows (preprocessed, S5 of
 * hub/queue/QUEUE.md sec 2, or found damaged), a hash on the message
 * number N, and the small helpers every part of qmail-send uses: the
 * clock and the names of queue files. Each message has a state per
 * channel (0 local, 1 remote: hub/send/channel.h). Out of memory is fatal. */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>
#include "stralloc.h"

#define NCHAN 2

/* channel states of one message */
#define CS_NONE 0  /* no file, or done */
#define CS_WAIT 1  /* in the channel's prioq at m->next[c] */
#define CS_PASS 2  /* being streamed, or jobs running */

struct msg {
  unsigned long long id;
  long long birth;
  stralloc sender;
  int cs[NCHAN];
  long long next[NCHAN];
  unsigned long jobs[NCHAN];  /* running deliveries */
  int passdone[NCHAN];        /* the channel file was read to its end */
  unsigned long left[NCHAN];  /* T records of this pass not yet marked D */
  int known[NCHAN];           /* left is exact (the pass read the whole
                                 file, every mark written): settle need
                                 not read the file again */
  int bad;                    /* TODO_BAD: ignored until restart */
  int finishing;              /* in the done queue (hub/send/finish.h) */
  int dsn;                    /* DSN items in info/S/N: 0 not known yet,
                                 1 none, 2 some (hub/send/dsninfo.h) */
  struct msg *hnext;
};

/* msg_find: the message numbered id, or NULL */
struct msg *msg_find(unsigned long long id);
/* msg_new: a new zeroed entry for id (the caller checked it is absent) */
struct msg *msg_new(unsigned long long id);
/* msg_del: remove m from the table and free it */
void msg_del(struct msg *m);
/* msg_count: the number of messages in the table */
size_t msg_count(void);

/* now: the time in seconds */
long long now(void);
/* fname: buf (QNAME_MAX bytes) = "dir/S/N" for message id */
void fname(char *buf, const char *dir, unsigned long long id);
/* splitid: buf (32 bytes) = "S/N" */
void splitid(char *buf, unsigned long long id);

#endif
