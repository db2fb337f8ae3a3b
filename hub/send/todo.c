/* todo.c: preprocessing of one todo/S/N entry (contract and crash
 * reasoning in todo.h; layout in hub/queue/QUEUE.md). Streams the envelope with
 * the chanfile reader, so memory does not grow with the recipient count;
 * output goes through one 64 KB buffer per channel file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "q_commit.h"
#include "q_crc32c.h"
#include "chanfile.h"
#include "bounce.h"
#include "dsnparam.h"
#include "dfree.h"
#include "qconf.h"
#include "todo.h"

#define WFLUSH 65536

/* Every address written here must be readable back by chanfile_next. */
_Static_assert(CHANFILE_ITEM_MAX == REWRITE_ADDR_MAX + 2, "chanfile cap != rewrite cap");
#define TOOLONG_REPORT "Sorry, the address is too long after rewriting. (#5.1.3)\n"

int todo_parse_id(const char *s, unsigned long long *id)
{
  unsigned long long sp = 0, n = 0;
  const char *p = s;
  int i;
  for (i = 0; *p >= '0' && *p <= '9' && i < 3; ++i) sp = sp * 10 + (unsigned long long)(*p++ - '0');
  if (i == 0 || i > 2 || (i == 2 && s[0] == '0') || *p++ != '/') goto bad;
  s = p;
  for (i = 0; *p >= '0' && *p <= '9'; ++i, ++p) {
    unsigned int d = (unsigned int)(*p - '0');
    if (n > (ULLONG_MAX - d) / 10) goto bad;
    n = n * 10 + d;
  }
  if (*p || i == 0 || (i > 1 && s[0] == '0') || n % QUEUE_SPLIT != sp) goto bad;
  *id = n;
  return 0;
bad:
  errno = EINVAL;
  return -1;
}

/* path: buf = queuedir/dir/name; -1 (ENAMETOOLONG) if it does not fit. */
static int path(char *buf, const char *queuedir, const char *dir, const char *name)
{
  int n = snprintf(buf, PATH_MAX, "%s/%s/%s", queuedir, dir, name);
  if (n < 0 || n >= PATH_MAX) { errno = ENAMETOOLONG; return -1; }
  return 0;
}

static int unlink_ok(const char *p)
{
  return unlink(p) == -1 && errno != ENOENT ? -1 : 0;
}

/* drop_ok: unlink_ok, the file held until the unlink is durable
 * (hub/send/dfree.h): a stale name of an earlier run, or a partial output */
static int drop_ok(const char *p)
{
  return dfree_unlink(p) == -1 && errno != ENOENT ? -1 : 0;
}

/* syncdir: make the names in directory queuedir/dir[/S] durable. */
static int syncdir(const char *queuedir, const char *dir, const char *sub)
{
  char p[PATH_MAX];
  int fd, rc, e;
  if (path(p, queuedir, dir, sub) == -1) return -1;
  fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1) return -1;
  rc = fsync(fd);
  e = errno;
  close(fd);
  errno = e;
  return rc;
}

static int writeall(int fd, const char *s, size_t len)
{
  while (len) {
    ssize_t n = write(fd, s, len);
    if (n == -1) { if (errno == EINTR) continue; return -1; }
    s += n;
    len -= (size_t)n;
  }
  return 0;
}

/* An output file, created on its first record. */
struct wfile {
  char path[PATH_MAX];
  int fd;
  unsigned long n;
  stralloc buf;
};

static int wf_flush(struct wfile *w)
{
  if (w->fd == -1) {
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd == -1) return -1;
  }
  if (writeall(w->fd, w->buf.s, w->buf.len) == -1) return -1;
  w->buf.len = 0;
  return 0;
}

/* wf_put: append type + addr + NUL. */
static int wf_put(struct wfile *w, char type, const char *a, size_t alen)
{
  if (!stralloc_append(&w->buf, &type) || !stralloc_catb(&w->buf, a, alen) ||
      !stralloc_0(&w->buf)) return -1;
  ++w->n;
  return w->buf.len >= WFLUSH ? wf_flush(w) : 0;
}

/* wf_finish: write the rest and, unless nosync, fsync (only when the
 * file was begun). */
static int wf_finish(struct wfile *w, int nosync)
{
  if (w->fd == -1 && w->buf.len == 0) return 0;
  if (wf_flush(w) == -1) return -1;
  return nosync ? 0 : fsync(w->fd);
}

static void wf_close(struct wfile *w, int drop)
{
  if (w->fd != -1) {
    close(w->fd);
    if (drop) drop_ok(w->path);
  }
  w->fd = -1;
  stralloc_free(&w->buf);
}

/* number: parse a u or p item: decimal digits only, no overflow. */
static int number(const struct chanrec *c, char type, unsigned long long *v)
{
  unsigned long long n = 0;
  size_t i;
  if (c->type != type || c->alen == 0 || c->alen > 20) return -1;
  for (i = 0; i < c->alen; ++i) {
    unsigned int d = (unsigned int)(c->addr[i] - '0');
    if (d > 9 || n > (ULLONG_MAX - d) / 10) return -1;
    n = n * 10 + d;
  }
  *v = n;
  return 0;
}

/* Everything one run needs. */
struct todo_run {
  const char *qd;
  int nosync;            /* TODO_NOSYNC: no fsyncs, the caller calls todo_sync */
  const struct rewrite *rw;
  struct todo_result *r;
  struct chanfile cf;
  struct wfile chan[2];  /* REWRITE_REMOTE, REWRITE_LOCAL */
  struct wfile bounce, info;
  stralloc addr;
  int has_l, has_c;          /* the group commit's l and c items were seen */
  unsigned long long mlen;   /* l: length of mess/S/N */
  uint32_t mcrc;             /* c: its CRC-32C */
  stralloc dsn;              /* info's DSN items: [d<mail words>\0] then
                              * R<channel addr>\0d<rcpt words>\0 ... */
  int routed;                /* the last T went to a channel: its address
                              * is in addr */
};

/* next: 1 item, 0 bad envelope, -1 system error. */
static int next(struct todo_run *t, struct chanrec *c)
{
  int rc = chanfile_next(&t->cf, c);
  if (rc == 1) return 1;
  if (rc == 0 || errno == ENAMETOOLONG || errno == EPROTO) return 0;
  return -1;
}

/* lc_item: the group commit's l (decimal length) or c (CRC-32C, eight
 * lowercase hex digits) item, each at most once. 1 ok, 0 malformed. */
static int lc_item(struct todo_run *t, const struct chanrec *c)
{
  size_t i;
  if (c->type == 'l') {
    if (t->has_l || number(c, 'l', &t->mlen) == -1) return 0;
    t->has_l = 1;
    return 1;
  }
  if (t->has_c || !crc32c_scan(c->addr, c->alen, &t->mcrc)) return 0;
  for (i = 0; i < c->alen; ++i)
    if (c->addr[i] >= 'A' && c->addr[i] <= 'F') return 0;
  t->has_c = 1;
  return 1;
}

/* dsn_item: a DSN item (hub/queue/QUEUE.md): the message's (rcpt 0) or
 * the last recipient's, kept for info/S/N when its words are good (a
 * malformed one is dropped: the message is delivered as without it).
 * 0 ok, -1 no memory. */
static int dsn_item(struct todo_run *t, const struct chanrec *c, int rcpt)
{
  struct dsn_mail dm;
  struct dsn_rcpt dr;
  if (rcpt ? dsn_rcpt_parse(&dr, c->addr, c->alen) : dsn_mail_parse(&dm, c->addr, c->alen))
    return 0;
  if (!c->alen || (!rcpt && t->dsn.len)) return 0;  /* the message's: the first only */
  if (rcpt && (!stralloc_append(&t->dsn, "R") || !stralloc_catb(&t->dsn, t->addr.s, t->addr.len) ||
               !stralloc_0(&t->dsn)))
    return -1;
  if (!stralloc_append(&t->dsn, "d") || !stralloc_catb(&t->dsn, c->addr, c->alen) ||
      !stralloc_0(&t->dsn))
    return -1;
  return 0;
}

/* trace: a lowercase item between p and F: i (queue id) and m
 * (Message-ID) are kept, d (DSN) too when it is the first item there, l and c checked and kept (lc_item), others
 * skipped (a later qmail-queue's). 1 ok, 0 malformed, -1 no memory. */
static int trace(struct todo_run *t, const struct chanrec *c)
{
  if (c->type == 'l' || c->type == 'c') return lc_item(t, c);
  if (c->type == 'i' && qid_check(c->addr, c->alen)) {
    memcpy(t->r->qid, c->addr, c->alen);
    t->r->qid[c->alen] = 0;
  } else if (c->type == 'm') {
    if (!stralloc_copyb(&t->r->mid, c->addr, c->alen < MID_MAX ? c->alen : MID_MAX)) return -1;
  } else if (c->type == 'd') {
    return dsn_item(t, c, 0) == -1 ? -1 : 1;
  }
  return 1;
}

/* header: the u, p, trace and F items. 1 ok, 0 bad, -1 error. */
static int header(struct todo_run *t)
{
  struct chanrec c;
  int rc;
  if ((rc = next(t, &c)) != 1) return rc;
  if (number(&c, 'u', &t->r->uid) == -1) return 0;
  if ((rc = next(t, &c)) != 1) return rc;
  if (number(&c, 'p', &t->r->pid) == -1) return 0;
  for (;;) {
    if ((rc = next(t, &c)) != 1) return rc;
    if (c.type < 'a' || c.type > 'z') break;
    if ((rc = trace(t, &c)) != 1) return rc;
  }
  if (c.type != 'F' || t->has_l != t->has_c) return 0;
  if (!stralloc_copyb(&t->r->sender, c.addr, c.alen)) return -1;
  return 1;
}

/* rcpt: route one recipient. 0 ok, -1 error. */
static int rcpt(struct todo_run *t, const struct chanrec *c)
{
  int kind = rewrite(t->rw, c->addr, c->alen, &t->addr);
  t->routed = 0;
  /* rewrite() caps its input only; the channel files' reader (chanfile.h)
   * takes REWRITE_ADDR_MAX bytes: a longer result is refused here too. */
  if (kind != -1 && t->addr.len > REWRITE_ADDR_MAX) { kind = -1; errno = ENAMETOOLONG; }
  if (kind == -1 && errno == ENAMETOOLONG) {
    /* Cannot be delivered anywhere: a failure paragraph for bounce/N. */
    ++t->bounce.n;
    return bounce_rcpt(&t->bounce.buf, c->addr, c->alen, TOOLONG_REPORT,
                       sizeof TOOLONG_REPORT - 1);
  }
  if (kind == -1) return -1;
  t->routed = 1;
  return wf_put(&t->chan[kind == REWRITE_LOCAL], 'T', t->addr.s, t->addr.len);
}

/* recipients: the T items up to the empty item, then end of file. 1 ok,
 * 0 bad, -1 error. */
static int recipients(struct todo_run *t)
{
  struct chanrec c;
  int rc;
  char last = 'F';
  for (;;) {
    if ((rc = next(t, &c)) != 1) return rc;
    if (c.type == '\0') break;
    if (c.type == 'd' && last == 'T') {  /* the DSN item of the last T */
      if (t->routed && dsn_item(t, &c, 1) == -1) return -1;
    } else if (c.type != 'T') {
      return 0;
    } else if (rcpt(t, &c) == -1) {
      return -1;
    }
    last = c.type;
  }
  rc = chanfile_next(&t->cf, &c);
  if (rc == -1 && errno != ENAMETOOLONG && errno != EPROTO) return -1;
  return rc == 0;  /* anything after the final empty item: bad */
}

/* A remote record and its domain, for sorting. */
struct rrec { const char *s; size_t len; const char *dom; size_t dlen; size_t ix; };

static int rrec_cmp(const void *a, const void *b)
{
  const struct rrec *x = a, *y = b;
  size_t n = x->dlen < y->dlen ? x->dlen : y->dlen;
  int d = strncasecmp(x->dom, y->dom, n);
  if (d) return d;
  if (x->dlen != y->dlen) return x->dlen < y->dlen ? -1 : 1;
  return x->ix < y->ix ? -1 : x->ix > y->ix;  /* stable: envelope order */
}

/* group_domains: reorder the records "T<addr>\0" of a remote file still
 * wholly in memory (under WFLUSH bytes) so that recipients of one domain
 * are adjacent, the domains in sorted order, each domain's recipients in
 * envelope order: qmail-send then hands them to qmail-rspawn as one job.
 * A larger file keeps envelope order (delivery is the same, with more
 * jobs). 0 ok, -1 no memory. */
static int group_domains(struct wfile *w)
{
  struct rrec *v;
  stralloc out = {0};
  size_t n = w->n, i = 0, pos = 0;
  if (w->fd != -1 || n < 2) return 0;
  v = calloc(n, sizeof *v);
  if (!v) return -1;
  for (i = 0; i < n && pos < w->buf.len; ++i) {
    const char *r = w->buf.s + pos, *at;
    size_t len = strlen(r);
    at = memrchr(r, '@', len);
    v[i].s = r; v[i].len = len + 1; v[i].ix = i;
    v[i].dom = at ? at + 1 : r + len; v[i].dlen = at ? (size_t)(r + len - at - 1) : 0;
    pos += len + 1;
  }
  n = i;
  qsort(v, n, sizeof *v, rrec_cmp);
  for (i = 0; i < n; ++i)
    if (!stralloc_catb(&out, v[i].s, v[i].len)) { free(v); stralloc_free(&out); return -1; }
  free(v);
  stralloc_free(&w->buf);
  w->buf = out;
  return 0;
}

/* info_dsn: the DSN items after F in info/S/N. 0 ok, -1 error. */
static int info_dsn(struct todo_run *t)
{
  size_t pos = 0;
  t->r->dsn = t->dsn.len > 0;
  while (pos < t->dsn.len) {
    size_t len = strlen(t->dsn.s + pos);
    if (wf_put(&t->info, t->dsn.s[pos], t->dsn.s + pos + 1, len - 1) == -1) return -1;
    pos += len + 1;
  }
  return 0;
}

/* commit: make the channel files and their names durable, then info
 * (with TODO_NOSYNC: only write them; todo_sync makes them durable). */
static int commit(struct todo_run *t)
{
  struct stat st;
  static const char *const dirs[2] = { QDIR_REMOTE, QDIR_LOCAL };
  char sub[8];  /* "S" of "S/N": the split directory */
  int i, ns = t->nosync;
  snprintf(sub, sizeof sub, "%u", (unsigned int)(t->r->id % QUEUE_SPLIT));
  if (group_domains(&t->chan[0]) == -1) return -1;
  for (i = 0; i < 2; ++i)
    if (wf_finish(&t->chan[i], ns) == -1) return -1;
  if (t->bounce.n && wf_finish(&t->bounce, ns) == -1) return -1;
  for (i = 0; i < 2 && !ns; ++i)
    if (t->chan[i].n && syncdir(t->qd, dirs[i], sub) == -1) return -1;
  if (!ns && t->bounce.n && syncdir(t->qd, QDIR_BOUNCE, ".") == -1) return -1;
  if (wf_put(&t->info, 'F', t->r->sender.s, t->r->sender.len) == -1 || info_dsn(t) == -1 ||
      wf_finish(&t->info, ns) == -1 || fstat(t->info.fd, &st) == -1) return -1;
  if (!ns && syncdir(t->qd, QDIR_INFO, sub) == -1) return -1;
  t->r->birth = (long long)st.st_mtime;
  t->r->nremote = t->chan[0].n;
  t->r->nlocal = t->chan[1].n;
  t->r->nbounce = t->bounce.n;
  return 0;
}

/* prepare: output names, and the stale files of an earlier run removed
 * (info first: no info ever stands without its channel files). */
static int prepare(struct todo_run *t, const char *id)
{
  char b[32];
  snprintf(b, sizeof b, "%llu", t->r->id);
  if (path(t->info.path, t->qd, QDIR_INFO, id) == -1 ||
      path(t->chan[1].path, t->qd, QDIR_LOCAL, id) == -1 ||
      path(t->chan[0].path, t->qd, QDIR_REMOTE, id) == -1 ||
      path(t->bounce.path, t->qd, QDIR_BOUNCE, b) == -1) return -1;
  if (drop_ok(t->info.path) == -1 || drop_ok(t->chan[1].path) == -1 ||
      drop_ok(t->chan[0].path) == -1 || drop_ok(t->bounce.path) == -1)
    return -1;
  return 0;
}

/* mess_crc: the CRC-32C of the rest of fd. 0 ok, -1 read error. */
static int mess_crc(int fd, uint32_t *crc)
{
  char buf[65536];
  uint32_t c = crc32c_init();
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == -1) { if (errno == EINTR) continue; return -1; }
    if (n == 0) break;
    c = crc32c_update(c, buf, (size_t)n);
  }
  *crc = crc32c_final(c);
  return 0;
}

/* mess_whole: does mess/S/N have the length and CRC-32C that the l and c
 * items promise? 1 yes, 0 no (a crash cut or damaged it), -1 error. */
static int mess_whole(struct todo_run *t, const char *id)
{
  char p[PATH_MAX];
  struct stat st;
  uint32_t crc;
  int fd, rc, e;
  if (path(p, t->qd, QDIR_MESS, id) == -1) return -1;
  fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd == -1) return errno == ENOENT ? 0 : -1;
  if (fstat(fd, &st) == -1) rc = -1;
  else if ((unsigned long long)st.st_size != t->mlen) rc = 0;
  else if (mess_crc(fd, &crc) == -1) rc = -1;
  else rc = crc == t->mcrc;
  e = errno;
  close(fd);
  errno = e;
  return rc;
}

/* run: the work after todo is open and mess exists. */
static int run(struct todo_run *t, const char *id)
{
  int rc = header(t);
  if (rc == 1) rc = prepare(t, id) == -1 ? -1 : recipients(t);
  if (rc == 0) t->r->status = TODO_BAD;
  if (rc == 1 && t->has_l && (rc = mess_whole(t, id)) == 0) t->r->status = TODO_TORN;
  if (rc == 1) rc = commit(t) == -1 ? -1 : 1;
  return rc == -1 ? -1 : 0;
}

static int todo_open(struct todo_run *t, const char *id, struct todo_result *r)
{
  char p[PATH_MAX];
  struct stat st;
  int fd;
  if (path(p, t->qd, QDIR_TODO, id) == -1) return -1;
  fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    if (errno != ENOENT) return -1;
    r->status = TODO_GONE;
    return 0;
  }
  if (fstat(fd, &st) == -1 || chanfile_fdopen(&t->cf, fd) == -1) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  if ((unsigned long long)st.st_size > TODO_MAX_BYTES) r->status = TODO_BAD;
  return 1;
}

/* mess_check: 1 present (size in r->bytes), 0 missing, -1 error. */
static int mess_check(const char *qd, const char *id, struct todo_result *r)
{
  char p[PATH_MAX];
  struct stat st;
  if (path(p, qd, QDIR_MESS, id) == -1) return -1;
  if (stat(p, &st) == -1) return errno == ENOENT ? 0 : -1;
  r->bytes = (unsigned long long)st.st_size;
  return 1;
}

int todo_process(const char *queuedir, const char *split_id,
                 const struct rewrite *rw, struct todo_result *r)
{
  return todo_process_flags(queuedir, split_id, rw, r, 0);
}

/* commit_for: c for the filesystem of fd. The decision (statfs, the
 * device's jbd2 entry: q_commit_init) is made once per filesystem and
 * kept; a later call on the same device only fstats. */
static void commit_for(struct q_commit *c, int fd, int bfd)
{
  static struct q_commit known;
  static dev_t dev;
  static int have;
  struct stat st;
  int st_ok = fstat(fd, &st) == 0;
  if (have && st_ok && st.st_dev == dev) {
    *c = known;
    c->fd = fd;
    c->barrierfd = bfd;
    return;
  }
  q_commit_init(c, fd, bfd);
  if (st_ok) { known = *c; dev = st.st_dev; have = 1; }
}

int todo_sync(const char *queuedir)
{
  char p[PATH_MAX];
  struct q_commit c;
  int fd, bfd, rc, e;
  int n = snprintf(p, sizeof p, "%s/%s", queuedir, TODO_BARRIER);
  if (n < 0 || n >= (int)sizeof p) { errno = ENAMETOOLONG; return -1; }
  if ((fd = open(queuedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) return -1;
  if ((bfd = open(p, O_RDONLY | O_CLOEXEC)) == -1) { e = errno; close(fd); errno = e; return -1; }
  commit_for(&c, fd, bfd);
  rc = q_commit(&c);
  e = errno;
  close(bfd);
  close(fd);
  errno = e;
  return rc;
}

int todo_process_flags(const char *queuedir, const char *split_id,
                       const struct rewrite *rw, struct todo_result *r, int flags)
{
  struct todo_run t;
  int rc, i;
  r->status = TODO_DONE;
  r->uid = r->pid = r->bytes = 0;
  r->birth = 0;
  r->nlocal = r->nremote = r->nbounce = 0;
  r->sender.len = 0;
  r->qid[0] = 0;
  r->mid.len = 0;
  if (todo_parse_id(split_id, &r->id) == -1) return -1;
  memset(&t, 0, sizeof t);
  t.qd = queuedir;
  t.nosync = (flags & TODO_NOSYNC) != 0;
  t.rw = rw;
  t.r = r;
  r->dsn = 0;
  t.chan[0].fd = t.chan[1].fd = t.bounce.fd = t.info.fd = -1;
  rc = todo_open(&t, split_id, r);
  if (rc <= 0) return rc;
  rc = r->status == TODO_BAD ? 1 : mess_check(queuedir, split_id, r);
  if (rc == 0) {
    /* not todo_clean here: in a root install todo/ belongs to qmailq and
     * only qmail-clean may unlink in it (the caller asks it) */
    r->status = TODO_NOMESS;
    rc = 0;
  } else if (rc == 1) {
    rc = r->status == TODO_BAD ? 0 : run(&t, split_id);
  }
  chanfile_close(&t.cf);
  /* On failure, a bad envelope or a torn message, drop partial output;
   * info goes first. */
  wf_close(&t.info, rc == -1);
  for (i = 0; i < 2; ++i) wf_close(&t.chan[i], rc == -1 || r->status != TODO_DONE);
  wf_close(&t.bounce, rc == -1 || r->status != TODO_DONE);
  stralloc_free(&t.addr);
  stralloc_free(&t.dsn);
  return rc;
}

int todo_clean(const char *queuedir, const char *split_id)
{
  char p[PATH_MAX];
  if (path(p, queuedir, QDIR_INTD, split_id) == -1 || unlink_ok(p) == -1) return -1;
  if (path(p, queuedir, QDIR_TODO, split_id) == -1 || unlink_ok(p) == -1) return -1;
  return 0;
}
