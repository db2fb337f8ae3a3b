/* qmail-send: the hub's queue manager (docs/queue.md; hub/queue/QUEUE.md).
 * No arguments; started by qmail-start in HOME with these descriptors:
 *   0 log out, 1/2 jobs to / reports from qmail-lspawn,
 *   3/4 jobs to / reports from qmail-rspawn (optional: without them remote
 *   recipients are deferred, never lost),
 *   5/6 requests to / answers from qmail-clean (optional: without them
 *   qmail-send unlinks itself).
 * It preprocesses todo/S/N (hub/send/todo.h) in batches of TODO_BATCH between
 * delivery rounds, then delivers each recipient of the
 * local and remote channel files through the spawners, one job per
 * recipient (wire format: hub/send/qspawn.h), checkpoints results in the channel
 * files (hub/send/chanfile.h), collects failures in bounce/N and injects the
 * bounce through qmail-queue (common/q_qq.h) when the message is done.
 * Deferred channels are retried on the quadratic schedule (hub/send/retry.h);
 * the next try is kept as the channel file's mtime across restarts.
 * Stale files (mess/ without info/ or todo/, older than QUEUE_STALE) are
 * removed through qmail-clean at start and every CLEAN_EVERY.
 * Signals: TERM = stop starting deliveries, wait for running ones (at most
 * TERM_WAIT s), exit 0; ALRM = retry everything now; HUP = reload the
 * rewriting rules, bounce settings, queuelifetime and holdremote.
 * A control file that is present but unreadable or invalid is never the
 * default: "alert: cannot use control/NAME: REASON" in the log, and at
 * start qmail-send exits 111; on HUP the old value stays; a bounce waits
 * while control/bouncemaxbytes is unusable. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_io.h"
#include "q_home.h"
#include "q_qq.h"
#include "q_sa.h"
#include "bounce.h"
#include "chanfile.h"
#include "prioq.h"
#include "qconf.h"
#include "qname.h"
#include "retry.h"
#include "rewrite.h"
#include "todo.h"

#define SCAN_INTERVAL (25 * 60)  /* todo/ scan without a trigger */
#define TERM_WAIT 60             /* seconds to wait for deliveries on TERM */
#define BOUNCE_RETRY 300         /* a failed bounce injection is retried after */
#define CONC_MAX 120
#define LIFETIME_DEFAULT 604800UL
#define NCHAN 2
#define CLEAN_EVERY (21L * 60 * 60)  /* stale-file cleanup interval */
#define JOB_RCPT_MAX 100          /* recipients per remote job (SPAWN_RCPT_MAX) */
#define JOB_BYTES_MAX 65536       /* a remote job grows no larger than this */
#define NAMED_MAX 4096            /* message ids from the trigger kept at most */
#define TRIGGER_FULL 60000        /* bytes read at once: the FIFO (64 KB) was full */
#define TODO_BATCH 64            /* todo entries preprocessed between delivery rounds */

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
  int bad;                    /* TODO_BAD: ignored until restart */
  int finishing;              /* in doneq */
  struct msg *hnext;
};

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
  unsigned long conc, busy;
  struct slot slots[CONC_MAX];
  struct prioq pq;
  struct msg *cur;     /* message whose file is being streamed */
  struct slot *open;   /* job being filled from cur's file, not yet sent */
  struct chanfile cf;
  stralloc rep;        /* partial reports */
};

static struct chan ch[NCHAN];
static struct prioq doneq = PRIOQ_INIT;
static struct rewrite rw;
static struct bounce_conf bc;
static unsigned long lifetime = LIFETIME_DEFAULT;
static int holdremote;  /* control/holdremote exists: start no remote job */
static int cleanfd = -1, cleanans = -1;
static int trigfd = -1;
static unsigned long long dnum;
static volatile sig_atomic_t got_term, got_alrm, got_hup;
static int want_scan = 1;
static long long next_scan;
static long long next_clean;  /* stale-file cleanup: at start, then every CLEAN_EVERY */
static struct { int active; unsigned s; DIR *dir; } tscan;  /* todo/ scan in progress */
static unsigned long long named[NAMED_MAX];  /* ids from the trigger, to preprocess */
static size_t nnamed;

/* ---------- message table: hash on id ---------- */
static struct msg **htab;
static size_t hsize, hcount;

static size_t hslot(unsigned long long id, size_t size)
{
  return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 17) & (size - 1);
}

static struct msg *msg_find(unsigned long long id)
{
  struct msg *m;
  if (!hsize) return 0;
  for (m = htab[hslot(id, hsize)]; m; m = m->hnext)
    if (m->id == id) return m;
  return 0;
}

static void hgrow(void)
{
  size_t ns = hsize ? hsize * 2 : 1024, i;
  struct msg **nt = calloc(ns, sizeof *nt), *m, *n;
  if (!nt) fatal_nomem();
  for (i = 0; i < hsize; i++)
    for (m = htab[i]; m; m = n) {
      n = m->hnext;
      m->hnext = nt[hslot(m->id, ns)];
      nt[hslot(m->id, ns)] = m;
    }
  free(htab);
  htab = nt;
  hsize = ns;
}

static struct msg *msg_new(unsigned long long id)
{
  struct msg *m = calloc(1, sizeof *m);
  size_t h;
  if (!m) fatal_nomem();
  if (hcount >= hsize) hgrow();
  m->id = id;
  h = hslot(id, hsize);
  m->hnext = htab[h];
  htab[h] = m;
  hcount++;
  return m;
}

static void msg_del(struct msg *m)
{
  struct msg **p = &htab[hslot(m->id, hsize)];
  while (*p && *p != m) p = &(*p)->hnext;
  if (*p) *p = m->hnext;
  hcount--;
  stralloc_free(&m->sender);
  free(m);
}

/* ---------- log ---------- */
static stralloc lg;

static void lg_s(const char *s) { if (!stralloc_cats(&lg, s)) fatal_nomem(); }
static void lg_n(unsigned long long n) { if (!sa_catnum(&lg, n)) fatal_nomem(); }
static void lg_safe(const char *s, size_t len) { if (!sa_catsafe(&lg, s, len)) fatal_nomem(); }
/* lg_report: a delivery report's text, its newlines as '/' (qmail's log) */
static void lg_report(const char *s, size_t len)
{
  const char *nl;
  while ((nl = memchr(s, '\n', len))) {
    lg_safe(s, (size_t)(nl - s));
    lg_s("/");
    len -= (size_t)(nl - s) + 1;
    s = nl + 1;
  }
  lg_safe(s, len);
}
static void lg_flush(void)
{
  size_t off = 0;
  if (!stralloc_append(&lg, "\n")) fatal_nomem();
  while (off < lg.len) {
    ssize_t w = write(0, lg.s + off, lg.len - off);
    if (w < 0) { if (errno == EINTR) continue; break; }
    off += (size_t)w;
  }
  lg.len = 0;
}
static void lg_line(const char *s) { lg_s(s); lg_flush(); }
static void lg_sys(const char *s, const char *obj)
{
  const char *e = strerror(errno);
  lg_s(s); if (obj) lg_safe(obj, strlen(obj)); lg_s(": "); lg_s(e); lg_flush();
}

static long long now(void) { return (long long)time(0); }

static void fname(char *buf, const char *dir, unsigned long long id)
{
  qname_file(buf, dir, id);
}

static void splitid(char *buf, unsigned long long id)
{
  snprintf(buf, 32, "%u/%llu", qname_split(id), id);
}

/* ---------- unlinking through qmail-clean ---------- */
static int clean(char kind, unsigned long long id)
{
  char sid[32], req[40], c;
  size_t len, off = 0;
  splitid(sid, id);
  if (cleanfd < 0) {
    if (kind == 'T') return todo_clean(".", sid);
    char p[QNAME_MAX];
    fname(p, QDIR_INTD, id);
    if (unlink(p) == -1 && errno != ENOENT) return -1;
    fname(p, QDIR_MESS, id);
    if (unlink(p) == -1 && errno != ENOENT) return -1;
    return 0;
  }
  len = (size_t)snprintf(req, sizeof req, "%c%s", kind, sid) + 1;
  while (off < len) {
    ssize_t w = write(cleanfd, req + off, len - off);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    off += (size_t)w;
  }
  for (;;) {
    ssize_t r = read(cleanans, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r != 1) { errno = EPIPE; return -1; }
    break;
  }
  if (c != '+') { errno = EIO; return -1; }
  return 0;
}

/* ---------- scheduling ---------- */
static void sched(struct msg *m, int c, long long t)
{
  m->cs[c] = CS_WAIT;
  m->next[c] = t;
  m->passdone[c] = 0;
  if (!prioq_insert(&ch[c].pq, t, m->id)) fatal_nomem();
}

static void to_done(struct msg *m, long long t)
{
  if (m->finishing) return;
  m->finishing = 1;
  if (!prioq_insert(&doneq, t, m->id)) fatal_nomem();
}

/* set the mtime (and atime) of the channel file to t */
static void keep_time(struct msg *m, int c, long long t)
{
  char p[QNAME_MAX];
  struct timeval tv[2];
  fname(p, ch[c].dir, m->id);
  tv[0].tv_sec = tv[1].tv_sec = (time_t)t;
  tv[0].tv_usec = tv[1].tv_usec = 0;
  if (utimes(p, tv) == -1 && errno != ENOENT) lg_sys("warning: unable to utime ", p);
}

/* settle: the channel's pass is over and no job runs: done or deferred */
static void settle(struct msg *m, int c)
{
  char p[QNAME_MAX];
  int r;
  long long t = now(), nx;
  fname(p, ch[c].dir, m->id);
  r = chanfile_alldone(p);
  if (r == 1 || (r == -1 && errno == ENOENT)) {
    if (unlink(p) == -1 && errno != ENOENT) lg_sys("warning: unable to unlink ", p);
    m->cs[c] = CS_NONE;
    if (m->cs[0] == CS_NONE && m->cs[1] == CS_NONE) to_done(m, t);
    return;
  }
  if (r == -1) lg_sys("warning: trouble reading ", p);
  nx = retry_next(m->birth, t, c);
  keep_time(m, c, nx);
  sched(m, c, nx);
}

/* ---------- message load (startup scan, preprocessing) ---------- */
static int read_sender(unsigned long long id, stralloc *out, long long *birth)
{
  char p[QNAME_MAX];
  struct chanfile cf;
  struct chanrec r;
  struct stat st;
  int rc;
  fname(p, QDIR_INFO, id);
  if (chanfile_open(&cf, p) == -1) return -1;
  if (fstat(cf.fd, &st) == -1) { chanfile_close(&cf); return -1; }
  *birth = (long long)st.st_mtime;
  rc = chanfile_next(&cf, &r);
  if (rc == 1 && r.type == 'F') {
    if (!stralloc_copyb(out, r.addr, r.alen)) fatal_nomem();
  } else {
    out->len = 0;
    if (rc != -1) errno = EPROTO;
    rc = -1;
  }
  chanfile_close(&cf);
  return rc == 1 ? 0 : -1;
}

/* load: schedule message id (info exists) at each channel file's mtime. */
static void load(unsigned long long id, long long birth, const stralloc *sender, int fresh)
{
  struct msg *m = msg_find(id);
  int c, any = 0;
  long long t = now();
  if (m) return;  /* already known */
  m = msg_new(id);
  m->birth = birth;
  if (!stralloc_copy(&m->sender, sender)) fatal_nomem();
  for (c = 0; c < NCHAN; c++) {
    char p[QNAME_MAX];
    struct stat st;
    fname(p, ch[c].dir, id);
    if (stat(p, &st) == -1) continue;
    any = 1;
    sched(m, c, fresh || (long long)st.st_mtime < t ? t : (long long)st.st_mtime);
  }
  if (!any) to_done(m, t);
}

static void scan_info(void)
{
  unsigned s;
  stralloc snd = {0};
  for (s = 0; s < QUEUE_SPLIT; s++) {
    char d[QNAME_MAX];
    DIR *dir;
    struct dirent *de;
    snprintf(d, sizeof d, "%s/%u", QDIR_INFO, s);
    dir = opendir(d);
    if (!dir) { lg_sys("warning: unable to opendir ", d); continue; }
    while ((de = readdir(dir))) {
      char sid[64], p[QNAME_MAX];
      unsigned long long id;
      long long birth;
      struct stat st;
      if (de->d_name[0] == '.') continue;
      if (strlen(de->d_name) > 20) continue;
      snprintf(sid, sizeof sid, "%u/%s", s, de->d_name);
      if (todo_parse_id(sid, &id) == -1) continue;
      fname(p, QDIR_TODO, id);
      if (stat(p, &st) == 0) continue;  /* todo processing redoes it */
      if (read_sender(id, &snd, &birth) == -1) {
        lg_s("warning: unable to read info for msg "); lg_n(id); lg_flush();
        continue;
      }
      load(id, birth, &snd, 0);
    }
    closedir(dir);
  }
  stralloc_free(&snd);
}

/* Preprocessed messages of the current batch, not yet durable: they are
 * flushed together by one todo_sync (hub/send/todo.h, TODO_NOSYNC), and only
 * then logged, cleaned from todo/ and scheduled. */
struct pend {
  unsigned long long id, bytes, pid, uid;
  long long birth;
  stralloc sender;
  char qid[QID_MAX];   /* qmail-queue's queue id, "" if none */
  stralloc mid;        /* the Message-ID as qmail-queue escaped it */
};
static struct pend pend[TODO_BATCH];
static unsigned npend;

/* preprocess_one: todo/S/<name> (a readdir entry of todo/S) */
static void preprocess_one(unsigned s, const char *name, struct todo_result *r)
{
  char sid[64];
  unsigned long long id;
  struct msg *m;
  if (name[0] == '.' || strlen(name) > 20) return;
  snprintf(sid, sizeof sid, "%u/%s", s, name);
  if (todo_parse_id(sid, &id) == -1) return;
  m = msg_find(id);
  if (m && m->bad) return;
  if (todo_process_flags(".", sid, &rw, r, TODO_NOSYNC) == -1) {
    lg_sys("warning: trouble preprocessing ", sid);
    return;
  }
  if (r->status == TODO_NOMESS) {
    lg_s("warning: msg "); lg_n(id); lg_s(" has no message file: withdrawn"); lg_flush();
    if (clean('T', id) == -1) lg_sys("warning: unable to clean todo ", sid);
  } else if (r->status == TODO_BAD) {
    lg_s("warning: msg "); lg_n(id); lg_s(" has a damaged envelope: left alone"); lg_flush();
    if (!m) { m = msg_new(id); m->bad = 1; }
  } else if (r->status == TODO_DONE) {
    struct pend *p = &pend[npend++];
    p->id = id; p->bytes = r->bytes; p->pid = r->pid; p->uid = r->uid; p->birth = r->birth;
    if (!stralloc_copy(&p->sender, &r->sender) || !stralloc_copy(&p->mid, &r->mid)) fatal_nomem();
    memcpy(p->qid, r->qid, sizeof p->qid);
  }
}

/* lg_mid: the Message-ID record; qmail-queue escaped it already, so it is
 * logged as it is unless it holds a byte outside printable ASCII (a
 * damaged file): then that is escaped once more. */
static void lg_mid(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
    if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126) { lg_safe(s, len); return; }
  if (!stralloc_catb(&lg, s, len)) fatal_nomem();
}

/* accept_one: a preprocessed message is durable: log, clean todo, load */
static void accept_one(const struct pend *p)
{
  struct msg *m = msg_find(p->id);
  lg_s("new msg "); lg_n(p->id);
  if (p->qid[0]) { lg_s(" id "); lg_s(p->qid); }
  if (p->mid.len) { lg_s(" mid "); lg_mid(p->mid.s, p->mid.len); }
  lg_flush();
  lg_s("info msg "); lg_n(p->id); lg_s(": bytes "); lg_n(p->bytes); lg_s(" from <");
  lg_safe(p->sender.s, p->sender.len); lg_s("> qp "); lg_n(p->pid); lg_s(" uid ");
  lg_n(p->uid); lg_flush();
  if (clean('T', p->id) == -1) { lg_s("warning: unable to clean todo of msg "); lg_n(p->id); lg_flush(); }
  if (m) { /* stale entry of an earlier run: replace it */
    int c, busy = m->finishing;
    for (c = 0; c < NCHAN; c++) if (m->cs[c] == CS_PASS) busy = 1;
    if (busy) return;  /* picked up again by the next scan of info */
    msg_del(m);
  }
  load(p->id, p->birth, &p->sender, 1);
}

/* commit_batch: one flush for the batch, then accept each message; if the
 * flush fails they stay in todo/ and the next scan (in a minute) redoes them */
static void commit_batch(void)
{
  unsigned i;
  if (!npend) return;
  if (todo_sync(".") == -1) {
    lg_sys("warning: unable to flush preprocessed messages, trying again later", 0);
    if (next_scan > now() + 60) next_scan = now() + 60;
  } else {
    for (i = 0; i < npend; i++) accept_one(&pend[i]);
  }
  npend = 0;
}

/* todo_step: go on with the scan of todo/ (todo/0 .. todo/22), at most
 * TODO_BATCH entries per call, so deliveries keep flowing between batches
 * however large the backlog. Returns 1 while the scan has more to do. */
static struct todo_result tres;  /* preprocessing results, reused */

static int todo_step(void)
{
  unsigned n = 0;
  while (n < TODO_BATCH) {
    struct dirent *de;
    if (!tscan.dir) {
      char d[QNAME_MAX];
      if (tscan.s >= QUEUE_SPLIT) { tscan.active = 0; break; }
      snprintf(d, sizeof d, "%s/%u", QDIR_TODO, tscan.s);
      tscan.dir = opendir(d);
      if (!tscan.dir) { lg_sys("warning: unable to opendir ", d); tscan.s++; continue; }
    }
    de = readdir(tscan.dir);
    if (!de) { closedir(tscan.dir); tscan.dir = 0; tscan.s++; continue; }
    if (de->d_name[0] == '.') continue;
    preprocess_one(tscan.s, de->d_name, &tres);
    n++;
  }
  commit_batch();
  return tscan.active;
}

/* named_step: preprocess up to TODO_BATCH of the messages qmail-queue
 * named in the trigger, without reading any directory */
static void named_step(void)
{
  size_t i, n = nnamed < TODO_BATCH ? nnamed : TODO_BATCH;
  for (i = 0; i < n; i++) {
    char name[24];
    snprintf(name, sizeof name, "%llu", named[i]);
    preprocess_one((unsigned)(named[i] % QUEUE_SPLIT), name, &tres);
  }
  memmove(named, named + n, (nnamed - n) * sizeof *named);
  nnamed -= n;
  commit_batch();
}

/* todo_begin: start a new scan of todo/ unless one is running */
static void todo_begin(void)
{
  if (tscan.active) return;
  tscan.active = 1;
  tscan.s = 0;
}

/* ---------- stale files (QUEUE.md sec 2: S2/S3 garbage) ---------- */
/* stale_one: mess/S/N older than QUEUE_STALE with no info/S/N and no
 * todo/S/N (or a damaged one) was never acknowledged, or is what a crash
 * left after the message was done: have qmail-clean remove it. */
static void stale_one(unsigned long long id, time_t limit)
{
  char p[QNAME_MAX];
  struct stat st;
  struct msg *m = msg_find(id);
  fname(p, QDIR_MESS, id);
  if (stat(p, &st) == -1 || st.st_mtime >= limit) return;
  fname(p, QDIR_INFO, id);
  if (stat(p, &st) == 0 || errno != ENOENT) return;
  fname(p, QDIR_TODO, id);
  if (stat(p, &st) == 0) {
    if (!m || !m->bad) return;  /* queued: todo processing will take it */
    if (clean('T', id) == -1) { lg_sys("warning: unable to clean todo of stale msg ", 0); return; }
  } else if (errno != ENOENT) return;
  if (clean('M', id) == -1) { lg_s("warning: unable to clean stale msg "); lg_n(id); lg_flush(); return; }
  if (m && m->bad) msg_del(m);
  lg_s("status: removed stale msg "); lg_n(id); lg_flush();
}

/* clean_stale: walk mess/ for stale_one (at start, then every CLEAN_EVERY) */
static void clean_stale(void)
{
  time_t limit = time(0) - QUEUE_STALE;
  unsigned s;
  for (s = 0; s < QUEUE_SPLIT; s++) {
    char d[QNAME_MAX], sid[64];
    DIR *dir;
    struct dirent *de;
    unsigned long long id;
    snprintf(d, sizeof d, "%s/%u", QDIR_MESS, s);
    dir = opendir(d);
    if (!dir) { lg_sys("warning: unable to opendir ", d); continue; }
    while ((de = readdir(dir))) {
      if (de->d_name[0] == '.' || strlen(de->d_name) > 20) continue;
      snprintf(sid, sizeof sid, "%u/%s", s, de->d_name);
      if (todo_parse_id(sid, &id) == 0) stale_one(id, limit);
    }
    closedir(dir);
  }
}

/* ---------- finishing a message: bounce, unlink ---------- */
static int inject_bounce(struct msg *m, const char *bpath)
{
  stralloc para = {0}, out = {0}, efrom = {0}, eto = {0}, fd6 = {0};
  char p[QNAME_MAX];
  char buf[16384];
  struct qq q;
  unsigned long limit, copied = 0;
  int kind, rc = -1, fd, status, last_nl = 1;

  if (bounce_copylimit(&limit) < 0) {  /* never a silent default: try later */
    const char *why = control_strerror(errno);
    lg_s("alert: cannot use control/bouncemaxbytes: "); lg_s(why);
    lg_s(": bounce of msg "); lg_n(m->id); lg_s(" deferred"); lg_flush();
    return -1;
  }

  fd = open(bpath, O_RDONLY | O_CLOEXEC);
  if (fd == -1) { lg_sys("warning: unable to open ", bpath); goto out; }
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) { if (errno == EINTR) continue; close(fd); lg_sys("warning: unable to read ", bpath); goto out; }
    if (n == 0) break;
    if (!stralloc_catb(&para, buf, (size_t)n)) fatal_nomem();
  }
  close(fd);
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
  if (qq_start(&q) == -1) {
    close(fd);
    lg_s("warning: unable to start qmail-queue for the bounce of msg "); lg_n(m->id); lg_flush();
    qq_finish(&q, &fd6);
    goto out;
  }
  qq_put(&q, out.s, out.len);
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    size_t take;
    if (n < 0) { if (errno == EINTR) continue; break; }
    if (n == 0) break;
    take = (size_t)n;
    if (limit && copied + take > limit) take = limit - copied;
    if (take) { qq_put(&q, buf, take); last_nl = buf[take - 1] == '\n'; }
    copied += take;
    if (limit && copied >= limit && take < (size_t)n) {
      out.len = 0;
      if (bounce_cutnote(&out, limit, !last_nl) == -1) fatal_nomem();
      qq_put(&q, out.s, out.len);
      break;
    }
  }
  close(fd);
  qq_from(&q, efrom.s, efrom.len);
  qq_to(&q, eto.s, eto.len);
  status = qq_finish(&q, &fd6);
  if (status) {
    lg_s("warning: unable to inject the bounce of msg "); lg_n(m->id);
    lg_s(": qmail-queue status "); lg_n((unsigned long long)status); lg_flush();
    goto out;
  }
  lg_s("bounce msg "); lg_n(m->id); lg_s(" to <"); lg_safe(eto.s, eto.len);
  lg_s(kind == BOUNCE_DOUBLE ? ">: double bounce injected" : ">: injected"); lg_flush();
  want_scan = 1;
  rc = 0;
out:
  stralloc_free(&para); stralloc_free(&out); stralloc_free(&efrom); stralloc_free(&eto);
  stralloc_free(&fd6);
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
    if (unlink(p) == -1 && errno != ENOENT) lg_sys("warning: unable to unlink ", p);
  }
  for (c = 0; c < NCHAN; c++) {
    fname(p, ch[c].dir, m->id);
    if (unlink(p) == -1 && errno != ENOENT) lg_sys("warning: unable to unlink ", p);
  }
  fname(p, QDIR_INFO, m->id);
  if (unlink(p) == -1 && errno != ENOENT) {
    lg_sys("warning: unable to unlink ", p);
    to_done(m, now() + BOUNCE_RETRY);
    return;
  }
  if (clean('M', m->id) == -1) {
    lg_s("warning: unable to clean msg "); lg_n(m->id); lg_s(": left to the 36 h cleanup");
    lg_flush();
  }
  lg_s("end msg "); lg_n(m->id); lg_flush();
  msg_del(m);
}

/* ---------- deliveries ---------- */
static void chan_dead(int c, const char *why)
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

/* send_job: the open job is complete: write it to the spawner */
static void send_job(int c)
{
  struct chan *h = &ch[c];
  struct slot *s = h->open;
  if (!s) return;
  h->open = 0;
  if (!stralloc_0(&s->job)) fatal_nomem();  /* the empty item ends the job */
  if (io_writeall(h->jobfd, s->job.s, s->job.len, 0) == -1) chan_dead(c, "unwritable");
}

/* defer_chan: the channel has no spawner: keep the message for later */
static void defer_nospawner(struct msg *m, int c)
{
  long long nx = retry_next(m->birth, now(), c);
  lg_s("delivery to "); lg_s(ch[c].name); lg_s(" deferred: msg "); lg_n(m->id);
  lg_s(": no qmail-"); lg_s(c ? "rspawn" : "lspawn"); lg_flush();
  keep_time(m, c, nx);
  sched(m, c, nx);
}

/* pump: start as many deliveries on channel c as slots allow */
static void pump(int c)
{
  struct chan *h = &ch[c];
  long long t = now();
  while (!got_term) {
    struct chanrec r;
    int rc;
    if (!h->cur) {
      struct prioq_elt e;
      struct msg *m;
      char p[QNAME_MAX];
      if (!prioq_min(&h->pq, &e) || e.t > t) return;
      if (c == 1 && holdremote) return;
      prioq_delmin(&h->pq);
      m = msg_find(e.id);
      if (!m || m->cs[c] != CS_WAIT || m->next[c] != e.t) continue;  /* stale */
      if (h->jobfd < 0) { defer_nospawner(m, c); continue; }
      if (h->busy >= h->conc) { if (!prioq_insert(&h->pq, e.t, e.id)) fatal_nomem(); return; }
      fname(p, h->dir, m->id);
      m->cs[c] = CS_PASS;
      m->passdone[c] = 0;
      if (chanfile_open(&h->cf, p) == -1) {
        if (errno != ENOENT) lg_sys("warning: unable to open ", p);
        m->passdone[c] = 1;
        if (!m->jobs[c]) settle(m, c);
        continue;
      }
      h->cur = m;
    }
    if (h->jobfd < 0) return;
    if (!h->open && h->busy >= h->conc) return;
    rc = chanfile_next(&h->cf, &r);
    if (rc == 1 && r.type == 'T') {
      if (h->open && can_join(c, h->open, &r)) { job_add(c, h->open, &r); continue; }
      if (h->open) {
        send_job(c);
        if (h->busy >= h->conc || h->jobfd < 0) { chanfile_unread(&h->cf, &r); return; }
      }
      h->open = start_job(c, h->cur, &r);
      if (!c) send_job(c);
      continue;
    }
    if (rc == 1 && r.type == 'D') continue;
    if (rc == 1 || rc == -1) {
      char p[QNAME_MAX];
      if (rc == 1) errno = EPROTO;
      fname(p, h->dir, h->cur->id);
      lg_sys("warning: trouble reading ", p);
    }
    /* end of the pass */
    send_job(c);
    chanfile_close(&h->cf);
    {
      struct msg *m = h->cur;
      h->cur = 0;
      m->passdone[c] = 1;
      if (!m->jobs[c]) settle(m, c);
    }
  }
  send_job(c);  /* stopping (TERM): what was grouped still goes */
}

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
    if (chanfile_markdone(p, j->off) == -1) lg_sys("warning: unable to mark done in ", p);
  } else if (kind == 'D') {
    lg_s(": failure: "); lg_report(text, tlen); lg_flush();
    append_bounce(m, s->addrs.s + j->aoff, j->alen, text, tlen);
    if (chanfile_markdone(p, j->off) == -1) lg_sys("warning: unable to mark done in ", p);
  } else {
    lg_s(": deferral: "); lg_report(text, tlen); lg_flush();
  }
  if (s->next < s->n) return;
  s->busy = 0;
  h->busy--;
  if (--m->jobs[c] == 0 && m->passdone[c]) settle(m, c);
}

static void read_reports(int c)
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
  if (h->rep.len > 65536) chan_dead(c, "sent an oversized report");
}

/* ---------- trigger, signals, config ---------- */
/* trig_open: read-write, so the FIFO always has a writer (us): it never
 * reads as end of file and never needs reopening, and a qmail-queue never
 * finds it without a reader while qmail-send runs */
static void trig_open(void)
{
  trigfd = open(QFILE_TRIGGER, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (trigfd == -1) lg_sys("warning: unable to open ", QFILE_TRIGGER);
}

/* trig_take: bytes from the trigger. qmail-queue writes "N\n" for the
 * message it queued; a line of digits is that message, to preprocess
 * directly; any other byte (qmail's anonymous trigger, a damaged line) asks
 * for a scan of todo/, and so does a list overflow */
static void trig_take(const char *b, size_t n)
{
  static unsigned long long id;
  static unsigned digits;
  static int junk;
  size_t i;
  for (i = 0; i < n; i++) {
    if (b[i] >= '0' && b[i] <= '9' && digits < 20) { id = id * 10 + (unsigned)(b[i] - '0'); digits++; continue; }
    if (b[i] == '\n' && digits && !junk) {
      if (nnamed < NAMED_MAX) named[nnamed++] = id;
      else want_scan = 1;
    } else if (b[i] != '\n') { junk = 1; want_scan = 1; continue; }
    id = 0; digits = 0; junk = 0;
  }
}

/* trig_read: drain the trigger. A read that finds the FIFO (nearly) full
 * means a writer may have met EAGAIN and lost its name: scan todo/ too. */
static void trig_read(void)
{
  char buf[4096];
  size_t total = 0;
  for (;;) {
    ssize_t n = read(trigfd, buf, sizeof buf);
    if (n > 0) { trig_take(buf, (size_t)n); total += (size_t)n; continue; }
    if (n == 0) break;  /* cannot happen: we hold the FIFO open for writing too */
    if (errno == EINTR) continue;
    break;  /* EAGAIN */
  }
  if (total >= TRIGGER_FULL) want_scan = 1;
}

static void on_sig(int s)
{
  if (s == SIGTERM) got_term = 1;
  else if (s == SIGALRM) got_alrm = 1;
  else if (s == SIGHUP) got_hup = 1;
}

/* conf_bad: control/name is present but unusable (errno says why): never
 * the default. At start qmail-send refuses to run (exit 111: qmail-start
 * exits too and the supervisor tries again); on a reload the value in
 * force is kept. */
static void conf_bad(const char *name, int first)
{
  const char *why = control_strerror(errno);
  lg_s("alert: cannot use control/"); lg_s(name); lg_s(": "); lg_s(why); lg_flush();
  if (first) { lg_line("alert: cannot start: unable to read controls"); _exit(111); }
}

/* conc_get: a concurrency file; 0 counts as 1, more than CONC_MAX as
 * CONC_MAX */
static unsigned long conc_get(const char *name, unsigned long def)
{
  unsigned long v = def;
  if (control_readulong(&v, name) < 0) conf_bad(name, 1);
  if (v < 1) v = 1;
  if (v > CONC_MAX) v = CONC_MAX;
  return v;
}

/* conf_hold: control/holdremote present = hold remote deliveries (a hub on
 * an intermittent link; qmailctl hold / flush): messages wait, nothing is
 * tried, so their retry schedule does not advance either */
static void conf_hold(void)
{
  stralloc p = {0};
  int was = holdremote;
  if (!control_path(&p, "holdremote")) fatal_nomem();
  holdremote = access(p.s, F_OK) == 0;
  stralloc_free(&p);
  if (holdremote != was) lg_line(holdremote ? "status: remote deliveries held" : "status: remote deliveries released");
}

/* me_local: warn when mail to postmaster@me would leave this host (me in
 * neither locals nor virtualdomains): the site's own mail would be sent
 * to its MX, which may be this host, and bounce (issue 10, item 11) */
static void me_local(void)
{
  stralloc me = {0}, a = {0}, out = {0};
  if (control_readline(&me, "me") == 1 && me.len > 0 &&
      stralloc_copys(&a, "postmaster@") && stralloc_cat(&a, &me) &&
      rewrite(&rw, a.s, a.len, &out) == REWRITE_REMOTE) {
    lg_s("warning: me ("); lg_safe(me.s, me.len);
    lg_s(") is not local: add it to control/locals, or this host's own mail leaves it");
    lg_flush();
  }
  stralloc_free(&me); stralloc_free(&a); stralloc_free(&out);
}

static void conf_load(int first)
{
  struct rewrite nrw;
  struct bounce_conf nbc;
  unsigned long lt = LIFETIME_DEFAULT;
  unsigned long bmb;
  memset(&nrw, 0, sizeof nrw);
  memset(&nbc, 0, sizeof nbc);
  if (rewrite_load(&nrw) == -1) {  /* the log, not fd 2: that is a pipe from qmail-lspawn */
    if (first) { lg_sys("alert: cannot start: unable to read control/locals or control/me", 0); _exit(111); }
    lg_sys("warning: unable to reload rewriting rules, keeping the old ones", 0);
  } else {
    rewrite_free(&rw);
    rw = nrw;
    me_local();
  }
  if (bounce_conf_load(&nbc) == -1) {
    if (first) { lg_sys("alert: cannot start: unable to read the bounce control files", 0); _exit(111); }
    lg_sys("warning: unable to reload bounce settings", 0);
  } else {
    bounce_conf_free(&bc);
    bc = nbc;
  }
  if (control_readulong(&lt, "queuelifetime") < 0) {
    conf_bad("queuelifetime", first);
    lg_line("warning: keeping the old queuelifetime");
  } else lifetime = lt;
  /* read again for each bounce; checked here so that junk is seen at once */
  if (bounce_copylimit(&bmb) < 0) conf_bad("bouncemaxbytes", first);
  conf_hold();
}

static void retry_all(void)
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

static int fd_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

static void cloexec(int fd) { fcntl(fd, F_SETFD, FD_CLOEXEC); }

int main(int argc, char **argv)
{
  struct sigaction sa;
  sigset_t block, empty;
  int lockfd, c;
  long long term_deadline = 0;
  (void)argv;
  progname = "qmail-send";
  if (argc > 1) fatal(100, "usage: qmail-send");
  if (!fd_open(0) || !fd_open(1) || !fd_open(2))
    fatal(111, "descriptors 0, 1 and 2 must be open");
  for (c = 0; c <= 6; c++) if (fd_open(c)) cloexec(c);
  ch[0].name = "local"; ch[0].dir = QDIR_LOCAL; ch[0].jobfd = 1; ch[0].repfd = 2;
  ch[1].name = "remote"; ch[1].dir = QDIR_REMOTE;
  if (fd_open(3) && fd_open(4)) { ch[1].jobfd = 3; ch[1].repfd = 4; }
  else ch[1].jobfd = ch[1].repfd = -1;
  if (fd_open(5) && fd_open(6)) { cleanfd = 5; cleanans = 6; }

  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to chdir to ", home_dir());
  conf_load(1);
  ch[0].conc = conc_get("concurrencylocal", 10);
  ch[1].conc = conc_get("concurrencyremote", 20);
  if (chdir(QUEUE_DIR) == -1) fatal_sys(111, "unable to chdir to ", QUEUE_DIR);
  lockfd = open(QFILE_SENDMUTEX, O_RDWR | O_CLOEXEC);
  if (lockfd == -1) fatal_sys(111, "unable to open ", QFILE_SENDMUTEX);
  if (flock(lockfd, LOCK_EX | LOCK_NB) == -1) fatal_sys(111, "unable to lock ", QFILE_SENDMUTEX);

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, 0);
  sa.sa_handler = on_sig;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGALRM, &sa, 0);
  sigaction(SIGHUP, &sa, 0);
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGALRM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &empty);
  sigdelset(&empty, SIGTERM);
  sigdelset(&empty, SIGALRM);
  sigdelset(&empty, SIGHUP);

  lg_line("status: qmail-send started");
  if (ch[1].jobfd < 0) lg_line("status: no qmail-rspawn: remote deliveries deferred");
  trig_open();
  scan_info();
  lg_s("status: "); lg_n(hcount); lg_s(" messages in the queue"); lg_flush();

  for (;;) {
    struct pollfd pf[3];
    int np = 0, ti = -1, ri[NCHAN] = { -1, -1 }, r;
    long long t = now(), wake = t + SCAN_INTERVAL, tmo;
    struct prioq_elt e;

    if (got_hup) { got_hup = 0; lg_line("status: reloading rewriting rules"); conf_load(0); }
    if (got_alrm) { got_alrm = 0; lg_line("status: retrying everything now"); retry_all(); want_scan = 1; }
    if (got_term && !term_deadline) {
      lg_line("status: exiting, waiting for running deliveries");
      term_deadline = t + TERM_WAIT;
    }
    if (got_term) {
      if ((ch[0].busy == 0 && ch[1].busy == 0) || t >= term_deadline) break;
    } else {
      if ((want_scan || t >= next_scan) && !tscan.active) {
        want_scan = 0;
        next_scan = t + SCAN_INTERVAL;
        todo_begin();
      }
      if (nnamed) named_step();
      if (tscan.active) todo_step();
      if (t >= next_clean) { next_clean = t + CLEAN_EVERY; clean_stale(); }
      while (prioq_min(&doneq, &e) && e.t <= now()) {
        struct msg *m = msg_find(e.id);
        prioq_delmin(&doneq);
        if (m && m->finishing) finish(m);
      }
      for (c = 0; c < NCHAN; c++) pump(c);
      t = now();
      wake = tscan.active || want_scan || nnamed ? t : next_scan;
      if (next_clean < wake) wake = next_clean;
      for (c = 0; c < NCHAN; c++)
        if (ch[c].busy < ch[c].conc && !ch[c].cur && !(c == 1 && holdremote) &&
            prioq_min(&ch[c].pq, &e) && e.t < wake)
          wake = e.t;
      if (prioq_min(&doneq, &e) && e.t < wake) wake = e.t;
    }
    if (got_term) wake = term_deadline;

    if (trigfd >= 0 && !got_term) { pf[np].fd = trigfd; pf[np].events = POLLIN; ti = np++; }
    for (c = 0; c < NCHAN; c++)
      if (ch[c].repfd >= 0) { pf[np].fd = ch[c].repfd; pf[np].events = POLLIN; ri[c] = np++; }
    tmo = wake - t;
    if (tmo < 0) tmo = 0;
    if (tmo > 3600) tmo = 3600;
    {
      struct timespec ts = { (time_t)tmo, tmo ? 0 : 0 };
      if (wake > t && tmo == 0) ts.tv_sec = 1;
      r = ppoll(pf, (nfds_t)np, &ts, &empty);
    }
    if (r < 0) { if (errno == EINTR) continue; fatal_sys(111, "poll failed"); }
    if (ti >= 0 && pf[ti].revents) trig_read();
    for (c = 0; c < NCHAN; c++)
      if (ri[c] >= 0 && pf[ri[c]].revents) read_reports(c);
  }
  if (ch[0].busy || ch[1].busy) lg_line("status: giving up on running deliveries");
  lg_line("status: exiting");
  return 0;
}
