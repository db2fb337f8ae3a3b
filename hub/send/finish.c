/* finish.c: bounces and the end of a message (contract in finish.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_qq.h"
#include "qconf.h"
#include "qname.h"
#include "bounce.h"
#include "channel.h"
#include "dfree.h"
#include "preproc.h"
#include "sclean.h"
#include "sconf.h"
#include "slog.h"
#include "finish.h"

static struct prioq doneq = PRIOQ_INIT;

void to_done(struct msg *m, long long t)
{
  if (m->finishing) return;
  m->finishing = 1;
  if (!prioq_insert(&doneq, t, m->id)) fatal_nomem();
}

/* read_all: the whole file p into sa. 0 ok, -1 error (logged) */
static int read_all(const char *p, stralloc *sa)
{
  char buf[16384];
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd == -1) { lg_sys("warning: unable to open ", p); return -1; }
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) { if (errno == EINTR) continue; close(fd); lg_sys("warning: unable to read ", p); return -1; }
    if (n == 0) break;
    if (!stralloc_catb(sa, buf, (size_t)n)) fatal_nomem();
  }
  close(fd);
  return 0;
}

/* copy_mess: at most limit bytes (0: all) of the open message fd into
 * the bounce, and the note when it was cut */
static void copy_mess(struct qq *q, int fd, unsigned long limit)
{
  char buf[16384];
  stralloc note = {0};
  unsigned long copied = 0;
  int last_nl = 1;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    size_t take;
    if (n < 0) { if (errno == EINTR) continue; break; }
    if (n == 0) break;
    take = (size_t)n;
    if (limit && copied + take > limit) take = limit - copied;
    if (take) { qq_put(q, buf, take); last_nl = buf[take - 1] == '\n'; }
    copied += take;
    if (limit && copied >= limit && take < (size_t)n) {
      if (bounce_cutnote(&note, limit, !last_nl) == -1) fatal_nomem();
      qq_put(q, note.s, note.len);
      break;
    }
  }
  stralloc_free(&note);
}

/* queue_bounce: run qmail-queue with the bounce text out, the copy of
 * mess/S/N and the envelope. 0 injected, -1 not (logged) */
static int queue_bounce(struct msg *m, const stralloc *out, unsigned long limit,
                        const stralloc *efrom, const stralloc *eto)
{
  stralloc fd6 = {0};
  char p[QNAME_MAX];
  struct qq q;
  int fd, status;
  fname(p, QDIR_MESS, m->id);
  fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd == -1) { lg_sys("warning: unable to open ", p); return -1; }
  if (qq_start(&q) == -1) {
    close(fd);
    lg_s("warning: unable to start qmail-queue for the bounce of msg "); lg_n(m->id); lg_flush();
    qq_finish(&q, &fd6);
    stralloc_free(&fd6);
    return -1;
  }
  qq_put(&q, out->s, out->len);
  copy_mess(&q, fd, limit);
  close(fd);
  qq_from(&q, efrom->s, efrom->len);
  qq_to(&q, eto->s, eto->len);
  status = qq_finish(&q, &fd6);
  stralloc_free(&fd6);
  if (status) {
    lg_s("warning: unable to inject the bounce of msg "); lg_n(m->id);
    lg_s(": qmail-queue status "); lg_n((unsigned long long)status); lg_flush();
    return -1;
  }
  return 0;
}

/* inject_bounce: the bounce of m from the paragraphs in bpath. 0 done
 * (injected or discarded), -1 try again later */
static int inject_bounce(struct msg *m, const char *bpath)
{
  stralloc para = {0}, out = {0}, efrom = {0}, eto = {0};
  unsigned long limit;
  int kind, rc = -1;

  if (bounce_copylimit(&limit) < 0) {  /* never a silent default: try later */
    const char *why = control_strerror(errno);
    lg_s("alert: cannot use control/bouncemaxbytes: "); lg_s(why);
    lg_s(": bounce of msg "); lg_n(m->id); lg_s(" deferred"); lg_flush();
    return -1;
  }
  if (read_all(bpath, &para) == -1) goto out;
  kind = bounce_compose(&out, &bc, m->sender.s, m->sender.len, para.s, para.len,
                        (time_t)now(), 0);
  if (kind == -1) fatal_nomem();
  if (kind == BOUNCE_DISCARD || (kind == BOUNCE_DOUBLE && bc.dbdiscard)) {
    lg_s(kind == BOUNCE_DISCARD ? "triple" : "double");
    lg_s(" bounce: discarding bounce/"); lg_n(m->id); lg_flush();
    rc = 0;
    goto out;
  }
  if (bounce_envelope(&bc, m->sender.s, m->sender.len, &efrom, &eto) == -1) fatal_nomem();
  if (queue_bounce(m, &out, limit, &efrom, &eto) == -1) goto out;
  lg_s("bounce msg "); lg_n(m->id); lg_s(" to <"); lg_safe(eto.s, eto.len);
  lg_s(kind == BOUNCE_DOUBLE ? ">: double bounce injected" : ">: injected"); lg_flush();
  want_scan = 1;
  rc = 0;
out:
  stralloc_free(&para); stralloc_free(&out); stralloc_free(&efrom); stralloc_free(&eto);
  return rc;
}

static void finish(struct msg *m)
{
  char p[QNAME_MAX];
  struct stat st;
  int c;
  m->finishing = 0;
  snprintf(p, sizeof p, "%s/%llu", QDIR_BOUNCE, m->id);
  if (stat(p, &st) == 0) {
    if (inject_bounce(m, p) == -1) { to_done(m, now() + BOUNCE_RETRY); return; }
    if (dfree_unlink(p) == -1 && errno != ENOENT) lg_sys("warning: unable to unlink ", p);
  }
  for (c = 0; c < NCHAN; c++) {
    fname(p, ch[c].dir, m->id);
    if (dfree_unlink(p) == -1 && errno != ENOENT) lg_sys("warning: unable to unlink ", p);
  }
  fname(p, QDIR_INFO, m->id);
  if (dfree_unlink(p) == -1 && errno != ENOENT) {
    lg_sys("warning: unable to unlink ", p);
    to_done(m, now() + BOUNCE_RETRY);
    return;
  }
  if (clean_req('M', m->id) == -1) {
    lg_s("warning: unable to clean msg "); lg_n(m->id); lg_s(": left to the 36 h cleanup");
    lg_flush();
  }
  lg_s("end msg "); lg_n(m->id); lg_flush();
  msg_del(m);
}

void finish_due(void)
{
  struct prioq_elt e;
  while (prioq_min(&doneq, &e) && e.t <= now()) {
    struct msg *m = msg_find(e.id);
    prioq_delmin(&doneq);
    if (m && m->finishing) finish(m);
  }
}

long long finish_wake(long long wake)
{
  struct prioq_elt e;
  if (prioq_min(&doneq, &e) && e.t < wake) return e.t;
  return wake;
}
