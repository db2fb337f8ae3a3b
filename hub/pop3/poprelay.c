/* poprelay.c: inside TLS, the relay between qmail-popup's child
 * (checkpassword, then qmail-pop3d) and the client (see poprelay.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "q_err.h"
#include "poprelay.h"

static int ctl = -1;

void poprun_split(int fd)
{
  ctl = fd;
}

/* reap: wait for the child at most POPRELAY_REAP_MS, then kill it; split
 * (poprun_split), the privileged half's answer instead */
static int reap(pid_t pid)
{
  int st, ms = 0, step = 1;
  if (ctl >= 0) return popriv_answer(ctl);
  for (;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return popriv_verdict(st);
    if (r == -1 && errno != EINTR) return POPRUN_TEMP;
    if (ms >= POPRELAY_REAP_MS) {
      if (kill(pid, SIGKILL) == -1) return POPRUN_TEMP;
      while (waitpid(pid, &st, 0) == -1 && errno == EINTR) ;
      return POPRUN_TEMP;
    }
    poll(0, 0, step);
    ms += step;
    if (step < 64) step *= 2;
  }
}

/* tls_put: all of buf to the client */
static int tls_put(struct qtls *t, const char *buf, size_t len)
{
  while (len) {
    ssize_t w = qtls_write(t, buf, len);
    if (w <= 0) return -1;
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

struct relay {
  struct qtls *t;
  int fd;                          /* our end of the socketpair */
  char up[POPRELAY_BUF];           /* client -> child */
  size_t upoff, uplen;
  char down[POPRELAY_BUF];         /* child -> client */
  int neteof, childeof;
};

/* wait_ms: how long poll may wait within lim; 0 expired */
static int wait_ms(const struct io_limits *lim)
{
  long long ms = lim->timeout_ms > 0 ? lim->timeout_ms : -1;
  if (lim->deadline_ms > 0) {
    long long left = lim->deadline_ms - io_now_ms();
    if (left <= 0) return 0;
    if (ms < 0 || left < ms) ms = left;
  }
  return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* step: one poll round. 1 go on, 0 the relay is over. */
static int step(struct relay *r, const struct io_limits *lim)
{
  struct pollfd p[2];
  int ms = wait_ms(lim), n;
  ssize_t k;
  p[0].fd = r->uplen || r->neteof ? -1 : 0;
  p[0].events = POLLIN;
  p[1].fd = r->fd;
  p[1].events = (short)((r->childeof ? 0 : POLLIN) | (r->uplen ? POLLOUT : 0));
  if (r->childeof) return 0;
  if (ms == 0) return 0;
  n = poll(p, 2, ms);
  if (n == -1) return errno == EINTR;
  if (n == 0) return 0;   /* nothing moved for a timeout: the end */
  if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
    k = read(r->fd, r->down, sizeof r->down);
    if (k == -1 && (errno == EAGAIN || errno == EINTR)) return 1;
    if (k <= 0) { r->childeof = 1; return 0; }
    if (!r->neteof && tls_put(r->t, r->down, (size_t)k) < 0) return 0;
  }
  if (r->uplen && (p[1].revents & POLLOUT)) {
    k = write(r->fd, r->up + r->upoff, r->uplen);
    if (k == -1 && (errno == EAGAIN || errno == EINTR)) return 1;
    if (k <= 0) return 0;
    r->upoff += (size_t)k;
    r->uplen -= (size_t)k;
  }
  if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    k = qtls_read(r->t, r->up, sizeof r->up);
    if (k < 0) return 0;
    if (k == 0) { r->neteof = 1; shutdown(r->fd, SHUT_WR); return 1; }   /* no QUIT: pop3d deletes nothing */
    r->upoff = 0;
    r->uplen = (size_t)k;
  }
  return 1;
}

/* first: the child's first bytes, or its end without a word */
static ssize_t first(struct relay *r, const struct io_limits *lim)
{
  for (;;) {
    ssize_t k = io_read(r->fd, r->down, sizeof r->down, lim);
    if (k >= 0 || errno != EAGAIN) return k;
  }
}

static struct relay rel;

int poprun_tls(char **argv, const char *cred, size_t n, struct qtls *t, buffer *in,
               const struct io_limits *lim, void (*started)(void))
{
  int sv[2], res;
  pid_t pid;
  ssize_t k;
  struct io_limits idle;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) return POPRUN_TEMP;
  if (ctl >= 0) pid = popriv_ask(ctl, cred, n, sv[1]);   /* 0 or -1 */
  else pid = popriv_spawn(argv, cred, n, sv[1]);
  close(sv[1]);
  if (pid == -1) { close(sv[0]); return POPRUN_TEMP; }
  memset(&rel, 0, sizeof rel);
  rel.t = t;
  rel.fd = sv[0];
  k = first(&rel, lim);
  if (k <= 0) {   /* refused (or it hung: it is killed) */
    close(sv[0]);
    res = reap(pid);
    return k < 0 && res == POPRUN_REFUSED ? POPRUN_TEMP : res;
  }
  started();
  if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 || tls_put(t, rel.down, (size_t)k) < 0) {
    close(sv[0]);
    if (ctl < 0) reap(pid);
    return POPRUN_OK;
  }
  rel.uplen = (size_t)(in->n - in->p);   /* pipelined after PASS: the child's now */
  if (rel.uplen > sizeof rel.up) rel.uplen = sizeof rel.up;   /* cannot be: in is no larger */
  memcpy(rel.up, in->x + in->p, rel.uplen);
  in->p = in->n = 0;
  idle = *lim;   /* qmail-pop3d's own timeout ends an idle session first, with its words */
  if (idle.timeout_ms > 0 && idle.timeout_ms <= 0x7fffffff - POPRELAY_GRACE_MS) idle.timeout_ms += POPRELAY_GRACE_MS;
  while (step(&rel, &idle)) ;
  if (!rel.neteof) qtls_close(t);
  close(sv[0]);
  if (ctl < 0) reap(pid);   /* split: the privileged half waits for it */
  return POPRUN_OK;
}
