/* rpool.c: qmail-rspawn's pool of qmail-remote sessions (contract in
 * rpool.h). One poll() loop over qmail-send's jobs and every session's
 * two pipes; writes to a session never block (its input is non-blocking
 * and unwritten job bytes wait in the session's buffer). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "q_err.h"
#include "rpool.h"
#include "qspawn.h"

struct pjob {
  unsigned char slot;
  size_t nrcpt;
  int retried;        /* already given to a second session */
  stralloc raw;       /* the job as qmail-send sent it */
  stralloc host;
};

struct sess {
  int used, closing;  /* closing: its input is closed, waiting for its end */
  int retiring;       /* no new jobs: its input is closed once they are answered */
  unsigned served;    /* jobs given to it since it started */
  pid_t pid;
  int in, out;        /* our ends of its fd 0 and fd 1 */
  stralloc host;
  stralloc wbuf;      /* job bytes still to write */
  stralloc rbuf;      /* its output not yet parsed */
  stralloc cur;       /* the oldest job's records so far, untagged */
  struct pjob *q[RPOOL_PENDING];
  unsigned qn;        /* pending jobs, q[0] the oldest */
  long long idle;     /* when qn became 0 (ms) */
};

static struct sess pool[RPOOL_MAX];
static struct pjob *waiting[RPOOL_WAIT];  /* jobs for which every session was full */
static unsigned nwaiting;
static const char *qremote;
static unsigned perhost, maxsess;
static int outfd;
static rpool_finish fin;

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void job_free(struct pjob *p)
{
  stralloc_free(&p->raw);
  stralloc_free(&p->host);
  free(p);
}

/* fail: every recipient of p gets Z text; p is freed */
static void fail(struct pjob *p, const char *text)
{
  stralloc r = {0};
  if (!stralloc_copys(&r, "Z") || !stralloc_cats(&r, text)) fatal_nomem();
  spawn_put(outfd, p->slot, &r, p->nrcpt, 1);
  stralloc_free(&r);
  job_free(p);
}

/* sess_start: a new session for host; 0 when none can be started */
static struct sess *sess_start(const char *host)
{
  int i, pin[2], pout[2];
  struct sess *s = 0;
  for (i = 0; i < RPOOL_MAX && !s; i++) if (!pool[i].used) s = &pool[i];
  if (!s || pipe2(pin, O_CLOEXEC) == -1) return 0;
  if (pipe2(pout, O_CLOEXEC) == -1) { close(pin[0]); close(pin[1]); return 0; }
  s->pid = fork();
  if (s->pid == 0) {
    char *argv[] = { (char *)"qmail-remote", (char *)"-S", (char *)host, 0 };
    if (dup2(pin[0], 0) == -1 || dup2(pout[1], 1) == -1) _exit(111);
    execv(qremote, argv);
    _exit(111);
  }
  close(pin[0]);
  close(pout[1]);
  if (s->pid == -1) { close(pin[1]); close(pout[0]); return 0; }
  s->in = pin[1];
  s->out = pout[0];
  fcntl(s->in, F_SETFL, O_NONBLOCK);
  fcntl(s->out, F_SETFL, O_NONBLOCK);
  s->used = 1;
  s->closing = 0;
  s->retiring = 0;
  s->served = 0;
  s->qn = 0;
  s->wbuf.len = s->rbuf.len = s->cur.len = 0;
  if (!stralloc_copys(&s->host, host) || !stralloc_0(&s->host)) fatal_nomem();
  return s;
}

/* pick: the session for host: an idle one, else a new one while the host
 * has fewer than perhost and there are fewer than maxsess in all (closing
 * ones count: their connection is still open), else the least busy one
 * with room; 0 if none. *full: there was no room for a new session. */
static struct sess *pick(const char *host, int *full)
{
  struct sess *best = 0, *s;
  unsigned i, n = 0, all = 0;
  for (i = 0; i < RPOOL_MAX; i++) {
    s = &pool[i];
    if (s->used) all++;
    if (!s->used || s->closing || s->retiring || strcasecmp(s->host.s, host)) continue;
    n++;
    if (s->qn < RPOOL_PENDING && (!best || s->qn < best->qn)) best = s;
  }
  *full = all >= maxsess;
  if (best && best->qn == 0) return best;
  if (n < perhost && !*full && (s = sess_start(host))) return s;
  return best;
}

static void shut_input(struct sess *s)
{
  if (s->in >= 0) close(s->in);
  s->in = -1;
  s->closing = 1;
  s->wbuf.len = 0;
}

/* make_room: at the cap, a job has no session: end an idle session (its
 * end wakes the waiting jobs); with none idle, retire the least busy one
 * that has had its turn (RPOOL_TURN jobs): it takes no new job and ends
 * once its jobs are answered, so a destination waits for a few turns of
 * the others at most, however busy they stay. Nothing when a session is
 * ending or retiring already; called again whenever a waiting job is
 * given another try (after every answer). */
static void make_room(void)
{
  struct sess *idle = 0, *busy = 0;
  unsigned i;
  for (i = 0; i < RPOOL_MAX; i++) {
    struct sess *s = &pool[i];
    if (!s->used) continue;
    if (s->closing || s->retiring) return;
    if (!s->qn) { if (!idle) idle = s; }
    else if (s->served >= RPOOL_TURN && (!busy || s->qn < busy->qn)) busy = s;
  }
  if (idle) shut_input(idle);
  else if (busy) busy->retiring = 1;
}

/* push: write what the session's input takes now */
static void push(struct sess *s)
{
  size_t off = 0;
  while (s->in >= 0 && off < s->wbuf.len) {
    ssize_t w = write(s->in, s->wbuf.s + off, s->wbuf.len - off);
    if (w > 0) { off += (size_t)w; continue; }
    if (w == -1 && errno == EINTR) continue;
    if (w == -1 && errno == EAGAIN) break;
    shut_input(s);  /* it is gone: its end of file tells the rest */
    return;
  }
  memmove(s->wbuf.s, s->wbuf.s + off, s->wbuf.len - off);
  s->wbuf.len -= off;
}

/* has_sess: some live session serves host */
static int has_sess(const char *host)
{
  unsigned i;
  for (i = 0; i < RPOOL_MAX; i++)
    if (pool[i].used && !pool[i].closing && !pool[i].retiring && !strcasecmp(pool[i].host.s, host)) return 1;
  return 0;
}

/* dispatch: p to a session; when the host's sessions are all full, or
 * it has none and there are maxsess sessions, p waits here for room
 * (wake_waiting; in the second case an idle session is ended to make
 * it); Z only when no session can be had at all */
static void dispatch(struct pjob *p)
{
  int full;
  struct sess *s = pick(p->host.s, &full);
  if (!s) {
    int mine = has_sess(p->host.s);
    if (nwaiting < RPOOL_WAIT && (mine || full)) {
      waiting[nwaiting++] = p;
      if (!mine) make_room();
      return;
    }
    fail(p, "Unable to start a qmail-remote session. (#4.3.0)");
    return;
  }
  s->q[s->qn++] = p;
  s->served++;
  if (!stralloc_cat(&s->wbuf, &p->raw)) fatal_nomem();
  push(s);
}

/* wake_waiting: give waiting jobs, in order, to sessions that have room */
static void wake_waiting(void)
{
  unsigned i, n = nwaiting;
  struct pjob *w[RPOOL_WAIT];
  memcpy(w, waiting, n * sizeof *w);
  nwaiting = 0;
  for (i = 0; i < n; i++) dispatch(w[i]);
}

static void onjob(const struct spawn_job *j, const char *raw, size_t rawlen, void *arg)
{
  struct pjob *p = calloc(1, sizeof *p);
  const char *at = strrchr(j->rcpt, '@');
  (void)arg;
  if (!p) fatal_nomem();
  p->slot = j->slot;
  p->nrcpt = j->nrcpt;
  if (!stralloc_copyb(&p->raw, raw, rawlen) ||
      !stralloc_copys(&p->host, at ? at + 1 : "") || !stralloc_0(&p->host)) fatal_nomem();
  dispatch(p);
}

/* answer: the oldest job of s is complete (its records in s->cur) */
static void answer(struct sess *s, int wstat)
{
  struct pjob *p = s->q[0];
  stralloc r = {0};
  fin(wstat, s->cur.s, s->cur.len, p->nrcpt, &r);
  spawn_put(outfd, p->slot, &r, p->nrcpt, 0);
  stralloc_free(&r);
  job_free(p);
  memmove(s->q, s->q + 1, --s->qn * sizeof *s->q);
  s->cur.len = 0;
  if (!s->qn) s->idle = now_ms();
  if (!s->qn && s->retiring) shut_input(s);  /* its end makes the room */
  if (nwaiting) wake_waiting();
}

/* parse: take the complete records in s->rbuf. -1 on a protocol error. */
static int parse(struct sess *s)
{
  size_t pos = 0;
  for (;;) {
    const char *nul;
    char letter;
    if (s->rbuf.len - pos < 2) break;
    nul = memchr(s->rbuf.s + pos + 1, 0, s->rbuf.len - pos - 1);
    if (!nul) break;
    if (!s->qn || (unsigned char)s->rbuf.s[pos] != s->q[0]->slot) return -1;
    letter = s->rbuf.s[pos + 1];
    if (!stralloc_catb(&s->cur, s->rbuf.s + pos + 1, (size_t)(nul - s->rbuf.s) - pos)) fatal_nomem();
    pos = (size_t)(nul - s->rbuf.s) + 1;
    if (letter == 'K' || letter == 'Z' || letter == 'D') answer(s, 0);
  }
  memmove(s->rbuf.s, s->rbuf.s + pos, s->rbuf.len - pos);
  s->rbuf.len -= pos;
  return s->rbuf.len > RPOOL_OUT_MAX ? -1 : 0;
}

/* sess_end: the session's output ended (or it broke the protocol): reap
 * it; the oldest job keeps what it was told; the others (and the oldest
 * when it was told nothing) go once to another session, else Z */
static void sess_end(struct sess *s)
{
  struct pjob *left[RPOOL_PENDING];
  unsigned i, n;
  int wstat = 0;
  s->closing = 1;  /* no new job for it while its jobs are handed on */
  kill(s->pid, SIGKILL);  /* no-op when it has exited */
  while (waitpid(s->pid, &wstat, 0) == -1 && errno == EINTR) {}
  if (s->in >= 0) close(s->in);
  close(s->out);
  if (s->qn && s->cur.len) answer(s, 0);  /* records without K/Z/D: rspawn's "no report" */
  n = s->qn;
  memcpy(left, s->q, n * sizeof *left);
  s->qn = 0;
  s->used = 0;
  for (i = 0; i < n; i++) {
    if (left[i]->retried) { fail(left[i], "The qmail-remote session ended. (#4.3.0)"); continue; }
    left[i]->retried = 1;
    dispatch(left[i]);
  }
  if (nwaiting) wake_waiting();
}

static void collect(struct sess *s)
{
  char buf[8192];
  ssize_t n = read(s->out, buf, sizeof buf);
  if (n == -1 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) { sess_end(s); return; }
  if (!stralloc_catb(&s->rbuf, buf, (size_t)n)) fatal_nomem();
  if (parse(s) == -1) sess_end(s);
}

/* tidy: close the input of sessions idle too long (or all idle ones once
 * qmail-send is gone); returns the poll timeout in ms (-1: none) */
static int tidy(int eof)
{
  long long t = now_ms(), wake = -1;
  unsigned i;
  for (i = 0; i < RPOOL_MAX; i++) {
    struct sess *s = &pool[i];
    if (!s->used || s->closing || s->qn) continue;
    if (eof || t - s->idle >= RPOOL_IDLE_MS) { shut_input(s); continue; }
    if (wake == -1 || s->idle + RPOOL_IDLE_MS - t < wake) wake = s->idle + RPOOL_IDLE_MS - t;
  }
  return (int)wake;
}

int rpool_loop(const char *prog, unsigned ph, unsigned ms, int infd, int ofd, rpool_finish f)
{
  static struct spawn_reader rd;
  struct pollfd pfd[1 + 2 * RPOOL_MAX];
  int map[1 + 2 * RPOOL_MAX], eof = 0;
  char buf[8192];
  qremote = prog; perhost = ph ? ph : 1; outfd = ofd; fin = f;
  maxsess = ms < 1 ? 1 : ms > RPOOL_MAX ? RPOOL_MAX : ms;
  rd.maxrcpt = SPAWN_RCPT_MAX; rd.onjob = onjob;
  signal(SIGPIPE, SIG_IGN);
  for (;;) {
    unsigned i, n = 0, used = 0;
    int tmo = tidy(eof);
    if (!eof) { pfd[n].fd = infd; pfd[n].events = POLLIN; map[n++] = -1; }
    for (i = 0; i < RPOOL_MAX; i++) {
      struct sess *s = &pool[i];
      if (!s->used) continue;
      used++;
      pfd[n].fd = s->out; pfd[n].events = POLLIN; map[n++] = (int)i;
      if (s->in >= 0 && s->wbuf.len) { pfd[n].fd = s->in; pfd[n].events = POLLOUT; map[n++] = (int)i; }
    }
    if (eof && !used) return 0;
    if (poll(pfd, n, tmo) == -1) { if (errno == EINTR) continue; fatal_sys(111, "unable to poll"); }
    for (i = 0; i < n; i++) {
      struct sess *s;
      if (!pfd[i].revents) continue;
      if (map[i] == -1) {
        ssize_t r = read(infd, buf, sizeof buf);
        if (r == -1 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) eof = 1;
        else spawn_feed(&rd, buf, (size_t)r);
        continue;
      }
      s = &pool[map[i]];
      /* ended earlier in this round (its slot may hold a new session) */
      if (!s->used || pfd[i].fd != (pfd[i].events == POLLOUT ? s->in : s->out)) continue;
      if (pfd[i].events == POLLOUT) push(s);
      else collect(s);
    }
  }
}
