/* report.c: delivery reports and checkpoints (contract in report.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_io.h"
#include "qconf.h"
#include "qname.h"
#include "retry.h"
#include "slog.h"
#include "todo.h"
#include "dfree.h"
#include "channel.h"
#include "dsninfo.h"
#include "dsnparam.h"
#include "finish.h"
#include "report.h"

#define REPORT_MAX 65536  /* an unfinished report longer than this: dead */
#define MARKS_MAX 1024    /* failure checkpoints waiting for one flush */

/* a failed recipient whose paragraph is in bounce/N but not yet durable:
 * its record (offset off in channel c's file of message id) becomes D
 * only after report_flush's flush */
struct mark { unsigned long long id; int c; off_t off; };
static struct mark marks[MARKS_MAX];
static unsigned nmarks;
/* channels whose pass ended during this read: settled after the flush,
 * so that one flush serves every failure of the read */
static struct { struct msg *m; int c; } ends[SLOTS_MAX];
static unsigned nends;

/* append_bounce: a failure paragraph for addr into bounce/N (not
 * flushed: report_flush does that for all of them). 0 ok, -1 logged. */
static int append_bounce(struct msg *m, const char *addr, size_t alen,
                         const char *text, size_t tlen)
{
  static stralloc para;
  char p[64];
  int fd, rc = 0;
  para.len = 0;
  if (bounce_rcpt(&para, addr, alen, text, tlen) == -1) fatal_nomem();
  snprintf(p, sizeof p, "%s/%llu", QDIR_BOUNCE, m->id);
  fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1 || io_writeall(fd, para.s, para.len, 0) == -1) {
    lg_sys("alert: unable to append to ", p);
    rc = -1;
  }
  if (fd != -1) close(fd);
  return rc;
}

/* mark_done: checkpoint the record at off of file p (channel c of
 * message m, NULL if gone) as done; m's count of records left follows */
static void mark_done(struct msg *m, int c, const char *p, off_t off)
{
  if (chanfile_markdone(p, off) == -1) {
    lg_sys("warning: unable to mark done in ", p);
    if (m) m->known[c] = 0;  /* settle reads the file */
  } else if (m && m->left[c]) m->left[c]--;
  else if (m) m->known[c] = 0;
}

void report_flush(void)
{
  char p[QNAME_MAX];
  unsigned i;
  if (!nmarks) return;
  if (dfree_sync() == -1) {  /* todo_sync, and frees removed files (dfree.h) */
    lg_sys("warning: unable to flush bounce paragraphs, their recipients stay to do", 0);
  } else {
    for (i = 0; i < nmarks; i++) {
      fname(p, ch[marks[i].c].dir, marks[i].id);
      mark_done(msg_find(marks[i].id), marks[i].c, p, marks[i].off);
    }
  }
  nmarks = 0;
}

/* mark_failed: the recipient's record becomes D once its bounce
 * paragraph is durable (the next report_flush) */
static void mark_failed(int c, const struct msg *m, const struct jrcpt *j)
{
  if (nmarks == MARKS_MAX) report_flush();
  marks[nmarks].id = m->id;
  marks[nmarks].c = c;
  marks[nmarks].off = j->off;
  nmarks++;
}

/* passed_on: a remote K text that says the next hop took the recipient's
 * DSN request (qmail-rspawn puts DSN_PASSED first, dsnparam.h) */
static int passed_on(const char *text, size_t tlen)
{
  return tlen >= sizeof DSN_PASSED - 1 && !memcmp(text, DSN_PASSED, sizeof DSN_PASSED - 1);
}

/* report: the next recipient of the job in slot gets kind/text */
static void report(int c, unsigned char slot, char kind, const char *text, size_t tlen)
{
  struct chan *h = &ch[c];
  struct slot *s;
  struct jrcpt *j;
  struct msg *m;
  char p[QNAME_MAX];
  static stralloc t2;
  if (slot >= h->conc || !h->slots[slot].busy || &h->slots[slot] == h->open) {
    lg_s("warning: report for an idle "); lg_s(h->name); lg_s(" slot"); lg_flush();
    return;
  }
  s = &h->slots[slot];
  m = s->m;
  j = &s->r[s->next++];
  fname(p, h->dir, m->id);
  if (kind == 'Z' && retry_expired(m->birth, now(), (long long)lifetime)) {
    t2.len = 0;
    if (!stralloc_catb(&t2, text, tlen) ||
        !stralloc_cats(&t2, "\nI'm not going to try again; this message has been in the queue too long."))
      fatal_nomem();
    lg_s("delivery "); lg_n(j->dno); lg_s(": deferral: "); lg_report(text, tlen); lg_flush();
    text = t2.s; tlen = t2.len; kind = 'D';
  }
  lg_s("delivery "); lg_n(j->dno);
  if (kind == 'K') {
    lg_s(": success: "); lg_report(text, tlen); lg_flush();
    mark_done(m, c, p, j->off);
    if (m->dsn != 1 && dsninfo_notify(m, s->addrs.s + j->aoff, j->alen) & DSN_NOTIFY_SUCCESS) {
      if (c && passed_on(text, tlen)) {  /* the next hop owes the notices */
        lg_s("delivery "); lg_n(j->dno);
        lg_s(": no success notice: the DSN request went on to the next hop"); lg_flush();
      } else
        finish_success(m, c, s->addrs.s + j->aoff, j->alen, text, tlen);
    }
  } else if (kind == 'D') {
    int n = m->dsn == 1 ? 0 : dsninfo_notify(m, s->addrs.s + j->aoff, j->alen);
    lg_s(": failure: "); lg_report(text, tlen); lg_flush();
    if (n && !(n & DSN_NOTIFY_FAILURE)) {  /* NOTIFY=NEVER, or without FAILURE */
      lg_s("delivery "); lg_n(j->dno); lg_s(": no failure notice: the sender asked for none");
      lg_flush();
      mark_done(m, c, p, j->off);
    } else if (append_bounce(m, s->addrs.s + j->aoff, j->alen, text, tlen) == 0) {
      mark_failed(c, m, j);
    }
  } else {
    lg_s(": deferral: "); lg_report(text, tlen); lg_flush();
  }
  if (s->next < s->n) return;
  s->busy = 0;
  h->busy--;
  chan_status();
  if (--m->jobs[c] == 0 && m->passdone[c]) {
    ends[nends].m = m;  /* one per slot at most: nends < SLOTS_MAX */
    ends[nends++].c = c;
  }
}

/* settle_ends: flush the read's failures, then settle its ended passes */
static void settle_ends(void)
{
  unsigned i;
  report_flush();
  for (i = 0; i < nends; i++) settle(ends[i].m, ends[i].c);
  nends = 0;
}

void read_reports(int c)
{
  struct chan *h = &ch[c];
  char buf[8192];
  ssize_t n = read(h->repfd, buf, sizeof buf);
  size_t i, start = 0;
  if (n < 0) { if (errno == EINTR || errno == EAGAIN) return; chan_dead(c, "unreadable"); return; }
  if (n == 0) { chan_dead(c, "exited"); return; }
  if (!stralloc_catb(&h->rep, buf, (size_t)n)) fatal_nomem();
  /* each report: slot byte (may be NUL), letter, text, NUL */
  while (h->repfd >= 0 && h->rep.len - start >= 2) {
    const char *e = memchr(h->rep.s + start + 1, 0, h->rep.len - start - 1);
    if (!e) break;
    i = (size_t)(e - h->rep.s);
    report(c, (unsigned char)h->rep.s[start], h->rep.s[start + 1],
           h->rep.s + start + 2, i > start + 1 ? i - start - 2 : 0);
    start = i + 1;
  }
  settle_ends();
  if (h->repfd < 0) { h->rep.len = 0; return; }
  memmove(h->rep.s, h->rep.s + start, h->rep.len - start);
  h->rep.len -= start;
  if (h->rep.len > REPORT_MAX) chan_dead(c, "sent an oversized report");
}
