/* channel.c: scheduling and job dispatch of qmail-send's channels
 * (contract in channel.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_io.h"
#include "bounce.h"
#include "dfree.h"
#include "dsnbounce.h"
#include "dsninfo.h"
#include "dsnparam.h"
#include "finish.h"
#include "qname.h"
#include "report.h"
#include "retry.h"
#include "slog.h"
#include "channel.h"

struct chan ch[NCHAN];
int chan_exiting;
static unsigned long long dnum;  /* the last delivery number given */

void chan_status(void)
{
  int c;
  lg_s("status:");
  for (c = 0; c < NCHAN; c++) {
    lg_s(" "); lg_s(ch[c].name); lg_s(" "); lg_n(ch[c].busy); lg_s("/"); lg_n(ch[c].conc);
  }
  if (chan_exiting) lg_s(" exitasap");
  lg_flush();
}

void chan_init(int c, const char *name, const char *dir, int jobfd, int repfd,
               unsigned long conc)
{
  ch[c].name = name;
  ch[c].dir = dir;
  ch[c].jobfd = jobfd;
  ch[c].repfd = repfd;
  ch[c].conc = conc < SLOTS_MAX ? conc : SLOTS_MAX;
}

void sched(struct msg *m, int c, long long t)
{
  m->cs[c] = CS_WAIT;
  m->next[c] = t;
  m->passdone[c] = 0;
  if (!prioq_insert(&ch[c].pq, t, m->id)) fatal_nomem();
}

/* keep_time: set the mtime (and atime) of the channel file to t */
static void keep_time(struct msg *m, int c, long long t)
{
  char p[QNAME_MAX];
  struct timeval tv[2];
  fname(p, ch[c].dir, m->id);
  tv[0].tv_sec = tv[1].tv_sec = (time_t)t;
  tv[0].tv_usec = tv[1].tv_usec = 0;
  if (utimes(p, tv) == -1 && errno != ENOENT) lg_sys("warning: unable to utime ", p);
}

void settle(struct msg *m, int c)
{
  char p[QNAME_MAX];
  int r;
  long long t = now(), nx;
  report_flush();  /* the file must show every failure as done */
  fname(p, ch[c].dir, m->id);
  if (m->known[c]) r = m->left[c] == 0;  /* the pass kept count: no read */
  else r = chanfile_alldone(p);
  if (r == 1 || (r == -1 && errno == ENOENT)) {
    if (dfree_unlink(p) == -1 && errno != ENOENT) lg_sys("warning: unable to unlink ", p);  /* dfree.h */
    m->cs[c] = CS_NONE;
    if (m->cs[0] == CS_NONE && m->cs[1] == CS_NONE) to_done(m, t);
    return;
  }
  if (r == -1) lg_sys("warning: trouble reading ", p);
  nx = retry_next(m->birth, t, c);
  keep_time(m, c, nx);
  sched(m, c, nx);
}

void retry_all(void)
{
  int c;
  long long t = now();
  for (c = 0; c < NCHAN; c++) {
    struct prioq nq = PRIOQ_INIT;
    struct prioq_elt e;
    while (prioq_min(&ch[c].pq, &e)) {
      struct msg *m = msg_find(e.id);
      prioq_delmin(&ch[c].pq);
      if (!m || m->cs[c] != CS_WAIT || m->next[c] != e.t) continue;
      m->next[c] = t;
      if (!prioq_insert(&nq, t, e.id)) fatal_nomem();
    }
    prioq_free(&ch[c].pq);
    ch[c].pq = nq;
  }
}

long long chan_wake(int c, long long wake)
{
  struct prioq_elt e;
  if (ch[c].busy < ch[c].conc && !ch[c].cur && !(c == 1 && holdremote) &&
      prioq_min(&ch[c].pq, &e) && e.t < wake)
    return e.t;
  return wake;
}

void chan_dead(int c, const char *why)
{
  unsigned i;
  struct chan *h = &ch[c];
  lg_s("alert: qmail-"); lg_s(c ? "rspawn" : "lspawn"); lg_s(" "); lg_s(why);
  lg_s(": "); lg_s(h->name); lg_s(" deliveries deferred"); lg_flush();
  if (h->jobfd >= 0) close(h->jobfd);
  if (h->repfd >= 0) close(h->repfd);
  h->jobfd = h->repfd = -1;
  h->open = 0;
  for (i = 0; i < h->conc; i++) {
    struct slot *s = &h->slots[i];
    if (!s->busy) continue;
    for (; s->next < s->n; s->next++) {
      lg_s("delivery "); lg_n(s->r[s->next].dno); lg_s(": deferral: spawner_gone"); lg_flush();
    }
    s->busy = 0;
    h->busy--;
    chan_status();
    if (--s->m->jobs[c] == 0 && s->m->passdone[c]) settle(s->m, c);
  }
}

/* job_add: recipient r joins the slot's job (logged as its delivery) */
static void job_add(int c, struct slot *s, const struct chanrec *r)
{
  struct jrcpt *j = &s->r[s->n++];
  j->off = r->offset;
  j->dno = ++dnum;
  j->aoff = s->addrs.len;
  j->alen = r->alen;
  s->m->left[c]++;
  if (!stralloc_catb(&s->addrs, r->addr, r->alen) ||
      !stralloc_catb(&s->job, r->addr, r->alen) || !stralloc_0(&s->job)) fatal_nomem();
  lg_s("starting delivery "); lg_n(j->dno); lg_s(": msg "); lg_n(s->m->id); lg_s(" to ");
  lg_s(ch[c].name); lg_s(" "); lg_safe(r->addr, r->alen); lg_flush();
}

/* start_job: take a free slot for message m, first recipient r */
static struct slot *start_job(int c, struct msg *m, const struct chanrec *r)
{
  struct chan *h = &ch[c];
  static stralloc vs;
  unsigned i;
  char sid[32];
  struct slot *s = 0;
  for (i = 0; i < h->conc; i++) if (!h->slots[i].busy) { s = &h->slots[i]; break; }
  if (!s) return 0;  /* cannot happen: the caller checked h->busy */
  if (bounce_verp(m->sender.s, m->sender.len, r->addr, r->alen, &vs) == -1) fatal_nomem();
  splitid(sid, m->id);
  s->job.len = s->addrs.len = 0;
  if (!stralloc_append(&s->job, (char *)&(unsigned char){(unsigned char)i}) ||
      !stralloc_cats(&s->job, sid) || !stralloc_0(&s->job) ||
      !stralloc_cat(&s->job, &vs) || !stralloc_0(&s->job)) fatal_nomem();
  s->busy = 1;
  s->m = m;
  s->n = s->next = 0;
  h->busy++;
  m->jobs[c]++;
  job_add(c, s, r);
  chan_status();
  return s;
}

/* can_join: may r ride in the open job? remote only, same domain, a
 * sender that is not VERP (VERP gives each recipient its own sender),
 * within the caps */
static int can_join(int c, const struct slot *s, const struct chanrec *r)
{
  const char *a0 = s->addrs.s, *d0, *d1;
  size_t l0 = s->r[0].alen;
  if (!c || s->n >= JOB_RCPT_MAX || s->job.len + r->alen + 2 > JOB_BYTES_MAX) return 0;
  if (s->m->sender.len >= 4 && !memcmp(s->m->sender.s + s->m->sender.len - 4, "-@[]", 4)) return 0;
  d0 = memrchr(a0, '@', l0);
  d1 = memrchr(r->addr, '@', r->alen);
  if (!d0 || !d1) return 0;
  l0 -= (size_t)(d0 - a0);
  return l0 == r->alen - (size_t)(d1 - r->addr) && !strncasecmp(d0, d1, l0);
}

/* dsn_lines: a remote job of a message with DSN items gets them after
 * its id, one line for MAIL and one per recipient (qspawn.h): at most
 * JOB_RCPT_MAX * (DSN_ORCPT_MAX + 40) bytes more, within SPAWN_JOB_MAX */
static void dsn_lines(int c, struct slot *s)
{
  static stralloc items, t;
  struct dsn_mail dm;
  struct dsn_rcpt dr;
  size_t idend;
  unsigned i;
  if (!c || s->m->dsn == 1 || dsninfo_read(s->m, &items) == -1 || !items.len) return;
  idend = 1 + strlen(s->job.s + 1);  /* the id item's NUL */
  t.len = 0;
  dsn_items_mail(items.s, items.len, &dm);
  if (!stralloc_catb(&t, s->job.s, idend) || !stralloc_append(&t, "\n") ||
      dsn_mail_item(&t, &dm) != 0) fatal_nomem();
  for (i = 0; i < s->n; i++) {
    dsn_items_rcpt(items.s, items.len, s->addrs.s + s->r[i].aoff, s->r[i].alen, &dr);
    if (!stralloc_append(&t, "\n") || dsn_rcpt_item(&t, &dr) != 0) fatal_nomem();
  }
  if (!stralloc_catb(&t, s->job.s + idend, s->job.len - idend) || !stralloc_copy(&s->job, &t))
    fatal_nomem();
}

/* send_job: the open job is complete: write it to the spawner */
static void send_job(int c)
{
  struct chan *h = &ch[c];
  struct slot *s = h->open;
  if (!s) return;
  h->open = 0;
  dsn_lines(c, s);
  if (!stralloc_0(&s->job)) fatal_nomem();  /* the empty item ends the job */
  if (io_writeall(h->jobfd, s->job.s, s->job.len, 0) == -1) chan_dead(c, "unwritable");
}

/* defer_nospawner: the channel has no spawner: keep the message for later */
static void defer_nospawner(struct msg *m, int c)
{
  long long nx = retry_next(m->birth, now(), c);
  lg_s("delivery to "); lg_s(ch[c].name); lg_s(" deferred: msg "); lg_n(m->id);
  lg_s(": no qmail-"); lg_s(c ? "rspawn" : "lspawn"); lg_flush();
  keep_time(m, c, nx);
  sched(m, c, nx);
}

/* pass_begin: take the next due message of channel c and open its file.
 * 1 h->cur is set, 0 nothing to start now, -1 go on looking */
static int pass_begin(int c, long long t)
{
  struct chan *h = &ch[c];
  struct prioq_elt e;
  struct msg *m;
  char p[QNAME_MAX];
  if (!prioq_min(&h->pq, &e) || e.t > t) return 0;
  if (c == 1 && holdremote) return 0;
  prioq_delmin(&h->pq);
  m = msg_find(e.id);
  if (!m || m->cs[c] != CS_WAIT || m->next[c] != e.t) return -1;  /* stale */
  if (h->jobfd < 0) { defer_nospawner(m, c); return -1; }
  if (h->busy >= h->conc) { if (!prioq_insert(&h->pq, e.t, e.id)) fatal_nomem(); return 0; }
  fname(p, h->dir, m->id);
  m->cs[c] = CS_PASS;
  m->passdone[c] = 0;
  m->left[c] = 0;
  m->known[c] = 0;
  if (chanfile_open(&h->cf, p) == -1) {
    if (errno != ENOENT) lg_sys("warning: unable to open ", p);
    m->passdone[c] = 1;
    if (!m->jobs[c]) settle(m, c);
    return -1;
  }
  h->cur = m;
  m->known[c] = 1;  /* until the pass or a mark goes wrong */
  return 1;
}

/* pass_end: the current file is read to its end (or unreadable) */
static void pass_end(int c, int rc)
{
  struct chan *h = &ch[c];
  struct msg *m = h->cur;
  if (rc == 1 || rc == -1) {
    char p[QNAME_MAX];
    if (rc == 1) errno = EPROTO;
    fname(p, h->dir, m->id);
    lg_sys("warning: trouble reading ", p);
    m->known[c] = 0;
  }
  send_job(c);
  chanfile_close(&h->cf);
  h->cur = 0;
  m->passdone[c] = 1;
  if (!m->jobs[c]) settle(m, c);
}

/* rcpt_job: T record r of the current file joins the open job or starts
 * one. 1 go on, 0 no free slot: r is pushed back */
static int rcpt_job(int c, struct chanrec *r)
{
  struct chan *h = &ch[c];
  if (h->open && can_join(c, h->open, r)) { job_add(c, h->open, r); return 1; }
  if (h->open) {
    send_job(c);
    if (h->busy >= h->conc || h->jobfd < 0) { chanfile_unread(&h->cf, r); return 0; }
  }
  h->open = start_job(c, h->cur, r);
  if (!c) send_job(c);
  return 1;
}

void pump(int c, int stopping)
{
  struct chan *h = &ch[c];
  long long t = now();
  while (!stopping) {
    struct chanrec r;
    int rc;
    if (!h->cur) {
      rc = pass_begin(c, t);
      if (rc == 0) return;
      if (rc == -1) continue;
    }
    if (h->jobfd < 0) return;
    if (!h->open && h->busy >= h->conc) return;
    rc = chanfile_next(&h->cf, &r);
    if (rc == 1 && r.type == 'T') {
      if (!rcpt_job(c, &r)) return;
      continue;
    }
    if (rc == 1 && r.type == 'D') continue;
    pass_end(c, rc);  /* end of the pass */
  }
  send_job(c);  /* stopping (TERM): what was grouped still goes */
}
