/* finish.c: bounces and the end of a message (contract in finish.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
#include "dsnbounce.h"
#include "dsninfo.h"
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

/* copy_head: the header of the open message fd (up to its blank line),
 * at most limit bytes (0: no cap), ending with '\n' */
static void copy_head(struct qq *q, int fd, unsigned long limit)
{
  char buf[16384];
  unsigned long copied = 0;
  int last_nl = 1, done = 0;
  while (!done) {
    ssize_t n = read(fd, buf, sizeof buf);
    size_t take = 0;
    if (n < 0) { if (errno == EINTR) continue; break; }
    if (n == 0) break;
    while (take < (size_t)n && !done) {
      if (buf[take] == '\n' && last_nl) done = 1;  /* the blank line: not copied */
      else last_nl = buf[take++] == '\n';
      if (limit && copied + take >= limit) done = 1;
    }
    qq_put(q, buf, take);
    copied += take;
  }
  if (!last_nl) qq_put(q, "\n", 1);
}

/* mess_has: 1 if the first max bytes (0: all) of fd hold needle, 0 not,
 * -1 read error; fd is rewound */
static int mess_has(int fd, unsigned long max, const char *needle)
{
  char buf[16384 + 128];
  size_t nlen = strlen(needle), keep = 0;
  unsigned long seen = 0;
  int found = 0;
  for (;;) {
    ssize_t n = read(fd, buf + keep, sizeof buf - 128);
    size_t have;
    if (n < 0) { if (errno == EINTR) continue; return -1; }
    if (n == 0 || (max && seen >= max)) break;
    seen += (unsigned long)n;
    have = keep + (size_t)n;
    if (memmem(buf, have, needle, nlen)) { found = 1; break; }
    keep = have < nlen - 1 ? have : nlen - 1;  /* a match across reads */
    memmove(buf, buf + have - keep, keep);
  }
  if (lseek(fd, 0, SEEK_SET) == -1) return -1;
  return found;
}

/* dsn_text: the DSN text of m (d's action, items; hdrs_only when the
 * message asked for headers) into out, its boundary into b (one that is
 * neither in the text nor in what is copied of the message, fd); d's
 * hdrs_only ends up set when only the header is returned. 0 ok, -1 logged */
static int dsn_text(struct msg *m, int fd, const stralloc *para, unsigned long limit,
                    stralloc *out, stralloc *b, struct dsn_msg *d)
{
  struct stat st;
  unsigned n;
  if (fstat(fd, &st) == -1) { lg_sys("warning: unable to stat the message for a bounce", 0); return -1; }
  d->arrival = (time_t)m->birth;
  d->cut = limit && (unsigned long long)st.st_size > limit ? limit : 0;
  d->hdrs_only = d->hdrs_only || d->cut;
  for (n = 0; n < 100; n++) {
    int has;
    if (dsn_boundary(b, m->id, (time_t)now(), n) == -1) fatal_nomem();
    d->boundary = b->s;
    if (dsn_compose(out, &bc, m->sender.s, m->sender.len, para->s, para->len, (time_t)now(),
                    d) == -1)
      fatal_nomem();
    if (!dsn_boundary_ok(out, b->s)) continue;
    has = mess_has(fd, limit, b->s);
    if (has == -1) { lg_sys("warning: unable to read the message for a bounce", 0); return -1; }
    if (!has) return 0;
  }
  lg_s("warning: no MIME boundary found for the bounce of msg "); lg_n(m->id); lg_flush();
  return -1;
}

/* queue_bounce: run qmail-queue with the bounce text out, the copy of
 * the open message fd and the envelope; a DSN bounce (boundary b) gets
 * the header only when hdrs, and its closing delimiter. 0 injected, -1
 * not (logged) */
static int queue_bounce(struct msg *m, int fd, const stralloc *out, unsigned long limit,
                        const char *b, int hdrs, const stralloc *efrom, const stralloc *eto)
{
  stralloc fd6 = {0}, end = {0};
  struct qq q;
  int status;
  if (qq_start(&q) == -1) {
    lg_s("warning: unable to start qmail-queue for the bounce of msg "); lg_n(m->id); lg_flush();
    qq_finish(&q, &fd6);
    stralloc_free(&fd6);
    return -1;
  }
  qq_put(&q, out->s, out->len);
  if (hdrs) copy_head(&q, fd, limit);
  else copy_mess(&q, fd, b ? 0 : limit);
  if (b) {
    if (dsn_end(&end, b) == -1) fatal_nomem();
    qq_put(&q, end.s, end.len);
    stralloc_free(&end);
  }
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

/* bounce_settings: bouncemaxbytes and bouncestyle; never a silent
 * default: -1 (logged) when one is unusable, the bounce then waits */
static int bounce_settings(struct msg *m, unsigned long *limit, int *style)
{
  const char *f, *why;
  if (bounce_copylimit(limit) == -1) {
    f = "bouncemaxbytes";
    why = control_strerror(errno);
  } else if (dsn_style(style) == -1) {
    f = "bouncestyle";
    why = errno == EINVAL ? "not qsbmf or dsn" : control_strerror(errno);
  } else {
    return 0;
  }
  lg_s("alert: cannot use control/"); lg_s(f); lg_s(": "); lg_s(why);
  lg_s(": bounce of msg "); lg_n(m->id); lg_s(" deferred"); lg_flush();
  return -1;
}

/* inject_bounce: the bounce of m from the paragraphs in bpath. 0 done
 * (injected or discarded), -1 try again later */
static int inject_bounce(struct msg *m, const char *bpath)
{
  stralloc para = {0}, out = {0}, efrom = {0}, eto = {0}, b = {0}, items = {0};
  char p[QNAME_MAX];
  unsigned long limit;
  int kind, style, fd = -1, rc = -1;
  struct dsn_msg d = { .action = DSN_FAILED };
  struct dsn_mail dm;

  if (bounce_settings(m, &limit, &style) == -1) return -1;
  if (read_all(bpath, &para) == -1) goto out;
  if (m->dsn != 1 && dsninfo_read(m, &items) == -1) goto out;
  dsn_items_mail(items.s, items.len, &dm);
  d.hdrs_only = dm.ret == DSN_RET_HDRS;
  d.items = items.s;
  d.ilen = items.len;
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
  fname(p, QDIR_MESS, m->id);
  fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd == -1) { lg_sys("warning: unable to open ", p); goto out; }
  if (style == BOUNCE_DSN && dsn_text(m, fd, &para, limit, &out, &b, &d) == -1) goto out;
  if (queue_bounce(m, fd, &out, limit, style == BOUNCE_DSN ? b.s : 0, d.hdrs_only, &efrom, &eto) == -1)
    goto out;
  lg_s("bounce msg "); lg_n(m->id); lg_s(" to <"); lg_safe(eto.s, eto.len);
  lg_s(kind == BOUNCE_DOUBLE ? ">: double bounce injected" : ">: injected");
  if (style == BOUNCE_DSN) lg_s(" (dsn)");
  lg_flush();
  want_scan = 1;
  rc = 0;
out:
  if (fd != -1) close(fd);
  stralloc_free(&para); stralloc_free(&out); stralloc_free(&efrom); stralloc_free(&eto);
  stralloc_free(&b); stralloc_free(&items);
  return rc;
}

void finish_success(struct msg *m, int c, const char *addr, size_t alen, const char *text,
                    size_t tlen)
{
  stralloc para = {0}, out = {0}, efrom = {0}, eto = {0}, b = {0}, items = {0};
  char p[QNAME_MAX];
  unsigned long limit;
  int style, fd = -1;
  struct dsn_msg d = { .action = c == 0 ? DSN_DELIVERED : DSN_RELAYED };
  struct dsn_mail dm;

  if (bounce_kind(m->sender.s, m->sender.len) != BOUNCE_SINGLE) return;  /* never to <> */
  if (bounce_settings(m, &limit, &style) == -1 || dsninfo_read(m, &items) == -1) goto out;
  dsn_items_mail(items.s, items.len, &dm);
  d.hdrs_only = dm.ret != DSN_RET_FULL;  /* without RET: the header */
  d.items = items.s;
  d.ilen = items.len;
  if (bounce_rcpt(&para, addr, alen, text, tlen) == -1 ||
      bounce_envelope(&bc, m->sender.s, m->sender.len, &efrom, &eto) == -1)
    fatal_nomem();
  fname(p, QDIR_MESS, m->id);
  fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd == -1) { lg_sys("warning: unable to open ", p); goto out; }
  if (dsn_text(m, fd, &para, limit, &out, &b, &d) == -1 ||
      queue_bounce(m, fd, &out, limit, b.s, d.hdrs_only, &efrom, &eto) == -1)
    goto out;
  lg_s("success notice msg "); lg_n(m->id); lg_s(" to <"); lg_safe(eto.s, eto.len);
  lg_s(">: injected (dsn)"); lg_flush();
  want_scan = 1;
out:
  if (fd != -1) close(fd);
  stralloc_free(&para); stralloc_free(&out); stralloc_free(&efrom); stralloc_free(&eto);
  stralloc_free(&b); stralloc_free(&items);
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
