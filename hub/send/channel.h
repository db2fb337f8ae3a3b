/* channel.h: qmail-send's two delivery channels, 0 local (jobs to
 * qmail-lspawn) and 1 remote (jobs to qmail-rspawn), docs/queue.md sec 5.
 * Each channel has a priority queue of messages keyed by their next try;
 * pump() takes the due ones in turn, streams their channel file
 * (local/S/N, remote/S/N: hub/send/chanfile.h) and turns each T record into
 * a job in a free slot (wire format: hub/send/qspawn.h): a local job is one
 * recipient, a remote job the consecutive recipients of one domain (at
 * most JOB_RCPT_MAX, JOB_BYTES_MAX bytes; one per recipient for a VERP
 * sender). When a pass over the file has ended and its jobs have
 * answered (hub/send/report.h), settle() unlinks a file that is all done
 * or reschedules it on the retry schedule (hub/send/retry.h), keeping the
 * next try as the file's mtime. */
#ifndef CHANNEL_H
#define CHANNEL_H

#include <sys/types.h>
#include "stralloc.h"
#include "chanfile.h"
#include "prioq.h"
#include "msg.h"
#include "sconf.h"

#define JOB_RCPT_MAX 100          /* recipients per remote job (SPAWN_RCPT_MAX) */
#define JOB_BYTES_MAX 65536       /* a remote job grows no larger than this */

/* one recipient of a job: its record offset, delivery number, address */
struct jrcpt {
  off_t off;
  unsigned long long dno;
  size_t aoff, alen;  /* in the slot's addrs */
};

/* a job: one message, one sender, 1..JOB_RCPT_MAX recipients (remote: of
 * one domain, grouped from consecutive records); one report per recipient,
 * in order; the slot is free again after the last one */
struct slot {
  int busy;
  struct msg *m;
  unsigned n, next;       /* recipients; the next one to get a report */
  struct jrcpt r[JOB_RCPT_MAX];
  stralloc addrs;
  stralloc job;           /* wire form being built (hub/send/qspawn.h) */
};

struct chan {
  const char *name;    /* "local" / "remote" */
  const char *dir;     /* QDIR_LOCAL / QDIR_REMOTE */
  int jobfd, repfd;    /* -1 when the spawner is absent or dead */
  unsigned long conc, busy;  /* slots in use: conc, jobs out: busy */
  struct slot slots[SLOTS_MAX];
  struct prioq pq;
  struct msg *cur;     /* message whose file is being streamed */
  struct slot *open;   /* job being filled from cur's file, not yet sent */
  struct chanfile cf;
  stralloc rep;        /* partial reports */
};

extern struct chan ch[NCHAN];
extern int chan_exiting;  /* qmail-send is exiting: status lines say so */

/* chan_status: log qmail's "status: local L/LC remote R/RC" line (jobs
 * out / slots per channel; " exitasap" added while exiting), after each
 * job starts and after each job ends, as qmail-send did after each
 * delivery (a local job is one delivery, a remote job one or more
 * recipients of one domain) */
void chan_status(void);

/* chan_init: channel c is name, its files in dir, jobs to jobfd, reports
 * from repfd (both -1: no spawner), at most conc jobs at once (slots
 * 0..conc-1; conc <= SLOTS_MAX: the remote channel's count is rconf_slots) */
void chan_init(int c, const char *name, const char *dir, int jobfd, int repfd,
               unsigned long conc);
/* sched: message m waits on channel c until t */
void sched(struct msg *m, int c, long long t);
/* settle: the channel's pass is over and no job runs: done or deferred */
void settle(struct msg *m, int c);
/* pump: start as many deliveries on channel c as slots allow; stopping:
 * start none, only send what was grouped already */
void pump(int c, int stopping);
/* chan_dead: the spawner of channel c failed (why): its running jobs are
 * deferrals, the channel takes no more jobs */
void chan_dead(int c, const char *why);
/* chan_wake: the earlier of wake and the time channel c next has work */
long long chan_wake(int c, long long wake);
/* retry_all: every waiting message of both channels is due now (ALRM) */
void retry_all(void);

#endif
