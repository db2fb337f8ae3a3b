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
#include "channel.h"
#include "report.h"

#define REPORT_MAX 65536  /* an unfinished report longer than this: dead */

/* append_bounce: a failure paragraph for addr into bounce/N */
static void append_bounce(struct msg *m, const char *addr, size_t alen,
                          const char *text, size_t tlen)
{
  static stralloc para;
  char p[64];
  int fd;
  para.len = 0;
  if (bounce_rcpt(&para, addr, alen, text, tlen) == -1) fatal_nomem();
  snprintf(p, sizeof p, "%s/%llu", QDIR_BOUNCE, m->id);
  fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1 || io_writeall(fd, para.s, para.len, 0) == -1)
    lg_sys("alert: unable to append to ", p);
  if (fd != -1) close(fd);
}

/* mark_done: checkpoint the recipient's record as done */
static void mark_done(const char *p, const struct jrcpt *j)
{
  if (chanfile_markdone(p, j->off) == -1) lg_sys("warning: unable to mark done in ", p);
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
    mark_done(p, j);
  } else if (kind == 'D') {
    lg_s(": failure: "); lg_report(text, tlen); lg_flush();
    append_bounce(m, s->addrs.s + j->aoff, j->alen, text, tlen);
    mark_done(p, j);
  } else {
    lg_s(": deferral: "); lg_report(text, tlen); lg_flush();
  }
  if (s->next < s->n) return;
  s->busy = 0;
  h->busy--;
  if (--m->jobs[c] == 0 && m->passdone[c]) settle(m, c);
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
  if (h->repfd < 0) { h->rep.len = 0; return; }
  memmove(h->rep.s, h->rep.s + start, h->rep.len - start);
  h->rep.len -= start;
  if (h->rep.len > REPORT_MAX) chan_dead(c, "sent an oversized report");
}
