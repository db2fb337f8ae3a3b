/* qspawn.c: the spawn skeleton (contract in qspawn.h): a slot table, jobs
 * parsed from qmail-send, children's output collected through pipes, one
 * NUL-terminated report per recipient. One poll() loop; a child is reaped
 * with waitpid once its pipe reaches end of file, so its last words are
 * never lost. A job's reports are written in one write() so qmail-send
 * never sees a torn record from us. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "q_err.h"
#include "qspawn.h"

struct slot {
  int busy, fd;
  pid_t pid;
  size_t nrcpt;
  stralloc out;
};

static struct slot slots[256];
static struct spawn_reader rd;  /* jobs from qmail-send */
static stralloc report;

int spawn_id_ok(const char *id)
{
  const char *s = id;
  if (*s < '0' || *s > '9') return 0;
  while (*s >= '0' && *s <= '9') ++s;
  if (*s++ != '/' || *s < '0' || *s > '9') return 0;
  while (*s >= '0' && *s <= '9') ++s;
  return !*s && s - id < 64;
}

int spawn_text(stralloc *result, const char *out, size_t len)
{
  size_t i;
  while (len && (out[len - 1] == '\n' || out[len - 1] == ' ')) --len;
  if (len > SPAWN_TEXT_MAX) len = SPAWN_TEXT_MAX;
  for (i = 0; i < len; ++i) {
    char c = out[i] == '\0' ? '_' : out[i];
    if (!stralloc_append(result, &c)) return 0;
  }
  return 1;
}

void spawn_put(int outfd, unsigned char slot, const stralloc *r, size_t nrcpt, int one)
{
  size_t done = 0, k = 0, n;
  ssize_t w;
  report.len = 0;
  for (n = 0; n < nrcpt; ++n) {
    size_t start = one ? 0 : k, end = start;
    while (end < r->len && r->s[end]) ++end;
    if (end == start) fatal(111, "internal error: empty report (#4.3.0)");
    if (!stralloc_catb(&report, (const char *)&slot, 1) ||
        !stralloc_catb(&report, r->s + start, end - start) || !stralloc_0(&report)) fatal_nomem();
    k = end + 1;
  }
  if (!one && k < r->len) fatal(111, "internal error: extra reports (#4.3.0)");
  while (done < report.len) {
    w = write(outfd, report.s + done, report.len - done);
    if (w == -1 && errno == EINTR) continue;
    if (w <= 0) fatal_sys(111, "unable to write report");
    done += (size_t)w;
  }
}

/* parse: job = slot, id (and DSN lines), sender, recipients, empty item.
 * 0 ok, -1 bad. */
static int parse(const stralloc *job, struct spawn_job *j, size_t maxrcpt)
{
  const char *p = job->s + 1, *end = job->s + job->len, *nl;
  size_t il;
  j->slot = (unsigned char)job->s[0];
  j->id = p; p += strlen(p) + 1;
  j->dsn = 0;
  if ((nl = strchr(j->id, '\n'))) {  /* DSN lines (qspawn.h) */
    il = (size_t)(nl - j->id);
    if (il >= sizeof j->idbuf) return -1;
    memcpy(j->idbuf, j->id, il);
    j->idbuf[il] = 0;
    j->id = j->idbuf;
    j->dsn = nl + 1;
  }
  j->sender = p; p += strlen(p) + 1;
  j->nrcpt = 0;
  while (p < end && *p) {
    if (j->nrcpt >= maxrcpt || j->nrcpt >= SPAWN_RCPT_MAX) return -1;
    j->rcpts[j->nrcpt++] = p;
    p += strlen(p) + 1;
  }
  j->rcpt = j->rcpts[0];
  return j->nrcpt ? 0 : -1;
}

void spawn_feed(struct spawn_reader *r, const char *b, size_t n)
{
  size_t i;
  for (i = 0; i < n; ++i) {
    stralloc *job = &r->job;
    if (!stralloc_append(job, b + i)) fatal_nomem();
    if (job->len > SPAWN_JOB_MAX) fatal(111, "job from qmail-send too long (#4.3.0)");
    if (job->len == 1 || b[i]) continue;
    if (++r->nuls == 3 && !job->s[job->len - 2]) fatal(111, "job without a recipient from qmail-send (#4.3.0)");
    if (r->nuls < 4 || job->s[job->len - 2]) continue;
    if (parse(job, &r->j, r->maxrcpt) == -1) fatal(111, "bad job from qmail-send (#4.3.0)");
    if (!spawn_id_ok(r->j.id)) fatal(111, "bad message id from qmail-send (#4.3.0)");
    r->onjob(&r->j, job->s, job->len, r->arg);
    job->len = 0;
    r->nuls = 0;
  }
}

/* begin: a complete job from qmail-send; start it. */
struct loopctx { const struct spawn_ops *ops; int outfd; };
static void begin(const struct spawn_job *jp, const char *raw, size_t rawlen, void *arg)
{
  const struct loopctx *lc = arg;
  const struct spawn_ops *ops = lc->ops;
  int outfd = lc->outfd;
  struct spawn_job j = *jp;
  struct slot *s;
  stralloc r = {0};
  int p[2];
  (void)raw; (void)rawlen;
  s = &slots[j.slot];
  if (s->busy) fatal(111, "busy slot reused by qmail-send (#4.3.0)");
  if (pipe2(p, O_CLOEXEC) == -1) {
    if (!stralloc_copys(&r, "ZUnable to create a pipe. (#4.3.0)")) fatal_nomem();
    spawn_put(outfd, j.slot, &r, j.nrcpt, 1); stralloc_free(&r); return;
  }
  s->pid = ops->start(&j, p[1], &r);
  close(p[1]);
  if (s->pid == -1) { close(p[0]); spawn_put(outfd, j.slot, &r, j.nrcpt, 1); stralloc_free(&r); return; }
  s->busy = 1; s->fd = p[0]; s->out.len = 0; s->nrcpt = j.nrcpt;
  stralloc_free(&r);
}

/* reap: the child in slot i closed its output: wait, report, free slot. */
static void reap(const struct spawn_ops *ops, int outfd, unsigned i)
{
  struct slot *s = &slots[i];
  stralloc r = {0};
  int wstat = 0;
  close(s->fd);
  while (waitpid(s->pid, &wstat, 0) == -1)
    if (errno != EINTR) { wstat = 111 << 8; break; }
  ops->finish(wstat, s->out.s, s->out.len, s->nrcpt, &r);
  s->busy = 0;
  spawn_put(outfd, (unsigned char)i, &r, s->nrcpt, 0);
  stralloc_free(&r);
}

static void collect(const struct spawn_ops *ops, int outfd, unsigned i)
{
  char buf[4096];
  struct slot *s = &slots[i];
  ssize_t n = read(s->fd, buf, sizeof buf);
  if (n == -1 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) { reap(ops, outfd, i); return; }
  if (s->out.len < SPAWN_OUT_MAX) {
    size_t k = (size_t)n < SPAWN_OUT_MAX - s->out.len ? (size_t)n : SPAWN_OUT_MAX - s->out.len;
    if (!stralloc_catb(&s->out, buf, k)) fatal_nomem();
  }
}

int spawn_loop(const struct spawn_ops *ops, int infd, int outfd)
{
  struct pollfd pfd[257];
  unsigned map[257], i, n, busy;
  int eof = 0;
  char buf[4096];
  ssize_t r;
  static struct loopctx lc;
  lc.ops = ops; lc.outfd = outfd;
  rd.maxrcpt = ops->maxrcpt; rd.onjob = begin; rd.arg = &lc;
  signal(SIGPIPE, SIG_IGN);
  for (;;) {
    n = busy = 0;
    if (!eof) { pfd[n].fd = infd; pfd[n].events = POLLIN; map[n++] = 256; }
    for (i = 0; i < 256; ++i)
      if (slots[i].busy) { pfd[n].fd = slots[i].fd; pfd[n].events = POLLIN; map[n++] = i; ++busy; }
    if (eof && !busy) return 0;
    if (poll(pfd, n, -1) == -1) { if (errno == EINTR) continue; fatal_sys(111, "unable to poll"); }
    for (i = 0; i < n; ++i) {
      if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (map[i] < 256) { collect(ops, outfd, map[i]); continue; }
      r = read(infd, buf, sizeof buf);
      if (r == -1 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) eof = 1;
      else spawn_feed(&rd, buf, (size_t)r);
    }
  }
}
