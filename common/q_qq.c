/* q_qq.c: running qmail-queue, talking to qmail-queued, or QMQP in-process
 * on a leaf (see q_qq.h). Cost per message in exec mode: one posix_spawn
 * (vfork + exec); in socket and in-process mode: none. Socket mode, a
 * message under 16 KB: socket, connect, one writev (message, end chunk
 * and envelope), shutdown, poll and read for the reply, close. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "q_home.h"
#include "q_lspool.h"
#include "q_netstring.h"
#include "q_qq.h"
#include "q_qqstatus.h"

extern char **environ;

/* qq_start clears the struct up to outbuf: nothing but padding after it */
_Static_assert(sizeof (struct qq) - offsetof(struct qq, outbuf) - sizeof ((struct qq *)0)->outbuf
               < _Alignof(struct qq), "outbuf is the last member of struct qq");

/* leaf_queue: 1 if path is a symlink whose target is named qmail-qmqpc. */
static int leaf_queue(const char *path)
{
  char t[4096];
  ssize_t n = readlink(path, t, sizeof t - 1);
  const char *base;
  if (n <= 0) return 0;
  t[n] = 0;
  base = strrchr(t, '/');
  base = base ? base + 1 : t;
  return strcmp(base, "qmail-qmqpc") == 0;
}

/* sock_writev: all of v[0..n) into the daemon's socket (non-blocking):
 * written at once when the socket has room, as it has for every message
 * but a big one; waited for (within the limits) only when it has not.
 * 0, or -1 with the first error remembered. v is used up. */
static int sock_writev(struct qq *q, struct iovec *v, int n)
{
  while (n) {
    ssize_t r = writev(q->sock, v, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && io_wait(q->sock, POLLOUT, q->lim) > 0) continue;
      if (!q->werr) q->werr = 53;
      return -1;
    }
    while (n && (size_t)r >= v->iov_len) { r -= (ssize_t)v->iov_len; ++v; --n; }
    if (n) { v->iov_base = (char *)v->iov_base + r; v->iov_len -= (size_t)r; }
  }
  return 0;
}

/* chunk: "<len>:" bytes "," as the first three of v (head: NS_HEAD bytes
 * of room) */
static void chunk(struct iovec *v, char *head, const char *buf, size_t len)
{
  v[0].iov_base = head;
  v[0].iov_len = ns_head(head, len);
  v[1].iov_base = (char *)buf;
  v[1].iov_len = len;
  v[2].iov_base = (char *)",";
  v[2].iov_len = 1;
}

static ssize_t out_op(int fd, const char *buf, size_t len, void *b)
{
  struct qq *q = (struct qq *)((buffer *)b)->cookie;
  if (q->sock >= 0) {
    /* one chunk of at most QQ_CHUNK bytes of a longer piece (libowfat's
     * buffer_put hands a big piece straight to us; buffer_stubborn comes
     * back for the rest) */
    char head[NS_HEAD];
    struct iovec v[3];
    if (len > QQ_CHUNK) len = QQ_CHUNK;
    chunk(v, head, buf, len);
    return sock_writev(q, v, 3) < 0 ? -1 : (ssize_t)len;
  }
  if (q->inproc) {
    if (spool_put(&q->spool, buf, len) < 0) { q->werr = errno == ENOMEM ? 51 : 53; errno = EIO; return -1; }
    return (ssize_t)len;
  }
  {
    /* libowfat's buffer_flush does not pass a failed write on (it returned
     * 0 for EBADF here): the first error is remembered where it happens */
    ssize_t r = io_write(fd, buf, len, q->lim);
    if (r < 0 && !q->werr) q->werr = 53;
    return r;
  }
}

/* spawn: start prog with pipes on fds 0, 1 and 6. */
static int spawn(struct qq *q, const char *prog)
{
  int m[2], e[2], x[2], r;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t dfl;
  char *argv[2];
  if (pipe2(m, O_CLOEXEC) < 0) return -1;
  if (pipe2(e, O_CLOEXEC) < 0) { close(m[0]); close(m[1]); return -1; }
  if (pipe2(x, O_CLOEXEC) < 0) { close(m[0]); close(m[1]); close(e[0]); close(e[1]); return -1; }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, m[0], 0);
  posix_spawn_file_actions_adddup2(&fa, e[0], 1);
  posix_spawn_file_actions_adddup2(&fa, x[1], 6);
  /* we ignore SIGPIPE; the queue program gets the default back */
  posix_spawnattr_init(&at);
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGPIPE);
  posix_spawnattr_setsigdefault(&at, &dfl);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
  argv[0] = (char *)prog;
  argv[1] = 0;
  r = posix_spawn(&q->pid, prog, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(m[0]); close(e[0]); close(x[1]);
  q->msgfd = m[1]; q->envfd = e[1]; q->errfd = x[0];
  if (r != 0) {
    close(m[1]); close(e[1]); close(x[0]);
    q->msgfd = q->envfd = q->errfd = -1;
    q->pid = 0; errno = r; return -1;
  }
  return 0;
}

/* connect_daemon: a connected, non-blocking socket to HOME/qq/socket, or
 * -1 for any reason (no daemon, refused, backlog full, path too long):
 * the caller then runs bin/qmail-queue. */
static int connect_daemon(void)
{
  struct sockaddr_un sun;
  stralloc path = {0};
  int fd = -1;
  if (!home_path(&path, QQ_SOCKET) || path.len >= sizeof sun.sun_path) goto done;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path.s, path.len + 1);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) { close(fd); fd = -1; }
done:
  stralloc_free(&path);
  return fd;
}

int qq_start(struct qq *q)
{
  const char *prog = getenv("QMAILQUEUE");
  stralloc path = {0};
  int r = 0;
  /* not the output buffer: 16 KB cleared for nothing, pages touched for
   * nothing in a freshly forked server */
  memset(q, 0, offsetof(struct qq, outbuf));
  q->msgfd = q->envfd = q->errfd = q->sock = -1;
  spool_init(&q->spool);
  signal(SIGPIPE, SIG_IGN);
  if (!prog || !*prog) {
    if (!home_path(&path, "bin/qmail-queue")) { q->werr = 51; return -1; }
    prog = path.s;
    q->inproc = leaf_queue(prog);
    if (!q->inproc) q->sock = connect_daemon();
    /* the envelope follows the end chunk in one write (finish_sock) */
    if (q->sock >= 0 && !stralloc_copys(&q->env, "0:,")) q->werr = 51;
  }
  if (!q->inproc && q->sock < 0) r = spawn(q, prog);
  if (r < 0) q->werr = QQ_EXECFAIL;
  stralloc_free(&path);
  buffer_init(&q->out, (ssize_t (*)())out_op, q->sock >= 0 ? q->sock : q->msgfd, q->outbuf, sizeof q->outbuf);
  q->out.cookie = q;
  return r;
}

void qq_limits(struct qq *q, const struct io_limits *lim)
{
  q->lim = lim;
}

void qq_put(struct qq *q, const char *buf, size_t len)
{
  if (q->werr) return;
  if (buffer_put(&q->out, buf, len) < 0 && !q->werr) q->werr = 53;
}

void qq_puts(struct qq *q, const char *s)
{
  qq_put(q, s, strlen(s));
}

static void env_add(struct qq *q, char type, const char *addr, size_t len)
{
  if (q->werr) return;
  if (!stralloc_append(&q->env, &type) || !stralloc_catb(&q->env, addr, len) ||
      !stralloc_append(&q->env, ""))
    q->werr = 51;
}

void qq_from(struct qq *q, const char *addr, size_t len) { env_add(q, 'F', addr, len); }
void qq_to(struct qq *q, const char *addr, size_t len) { env_add(q, 'T', addr, len); }
void qq_dsn(struct qq *q, const char *words, size_t len) { if (!q->inproc) env_add(q, 'd', words, len); }

/* reap: wait for the child; its exit code, or QQ_CRASH. */
static int reap(struct qq *q)
{
  int st;
  while (waitpid(q->pid, &st, 0) < 0)
    if (errno != EINTR) return QQ_CRASH;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return QQ_CRASH;
}

/* read_fd6: the child's custom text, of which the first 1000 bytes are
 * kept; the rest is read and dropped so the child never dies of SIGPIPE. */
static void read_fd6(int fd, stralloc *fd6)
{
  char buf[1024];
  ssize_t n;
  while ((n = io_fullread(fd, buf, sizeof buf)) > 0)
    if (fd6->len < 1000)
      stralloc_catb(fd6, buf, (size_t)n < 1000 - fd6->len ? (size_t)n : 1000 - fd6->len);
}

static int finish_exec(struct qq *q, stralloc *fd6)
{
  int code;
  close(q->msgfd);
  if (!q->werr && io_writeall(q->envfd, q->env.s, q->env.len, q->lim) < 0) q->werr = 53;
  close(q->envfd);
  read_fd6(q->errfd, fd6);
  close(q->errfd);
  code = reap(q);
  /* the child's verdict wins: a write error usually means it exited early */
  return code;
}

int qq_reply_parse(const char *in, size_t len, int *code, const char **text, size_t *tlen)
{
  const char *d;
  size_t n, used, i = 0;
  int c = 0;
  if (ns_parse(in, len, QQ_REPLYMAX, &d, &n, &used) != NS_OK || used != len) return 0;
  while (i < n && i < 3 && d[i] >= '0' && d[i] <= '9') c = c * 10 + (d[i++] - '0');
  if (!i || c > 255 || (i > 1 && d[0] == '0')) return 0;
  if (i < n && (d[i] != ' ' || n - i - 1 > QQ_TEXTMAX)) return 0;
  *code = c;
  *text = i < n ? d + i + 1 : d + n;
  *tlen = i < n ? n - i - 1 : 0;
  return 1;
}

/* send_sock: what the buffer holds as the last chunk, the end chunk and
 * the envelope in one write, our side shut; the socket goes to p for the
 * reply. A write that failed is no verdict: the daemon may have refused
 * early and will say why. */
static void send_sock(struct qq *q, struct qq_pending *p)
{
  char head[NS_HEAD];
  struct iovec v[4];
  int n = 0;
  if (!q->werr && q->out.p) { chunk(v, head, q->out.x, q->out.p); n = 3; }
  q->out.p = 0;
  v[n].iov_base = q->env.s;
  v[n++].iov_len = q->env.len;
  if (!q->werr) sock_writev(q, v, n);
  if (q->werr && q->werr != 53) {  /* our own failure: the daemon sees EOF */
    close(q->sock);
    q->sock = -1;
    p->code = q->werr;
    return;
  }
  shutdown(q->sock, SHUT_WR);
  p->sock = q->sock;
  q->sock = -1;
}

/* verdict_sock: the reply, read until it is one whole netstring (the
 * daemon closes after it: no read waits for that) or the daemon's close.
 * No well-formed reply (the daemon died, or went away mid-message) is
 * QQ_CRASH, temporary. */
static int verdict_sock(struct qq_pending *p, stralloc *fd6)
{
  char in[QQ_REPLYMAX + 32];
  size_t got = 0, tlen;
  const char *text;
  int code;
  while (got < sizeof in) {
    ssize_t r = io_read(p->sock, in + got, sizeof in - got, p->lim);
    const char *d;
    size_t dlen, used;
    if (r <= 0) break;
    got += (size_t)r;
    if (ns_parse(in, got, QQ_REPLYMAX, &d, &dlen, &used) == NS_OK) break;
  }
  close(p->sock);
  p->sock = -1;
  if (!qq_reply_parse(in, got, &code, &text, &tlen)) return QQ_CRASH;
  if (code == QQ_CUSTOM && !stralloc_copyb(fd6, text, tlen)) return 51;
  return code;
}

void qq_send(struct qq *q, struct qq_pending *p)
{
  p->sock = -1;
  p->code = 0;
  p->text.s = 0;
  p->text.len = p->text.a = 0;
  p->lim = q->lim;
  /* socket mode: the buffer goes with the envelope (send_sock) */
  if (q->sock < 0 && !q->werr && buffer_flush(&q->out) < 0 && !q->werr) q->werr = 53;
  if (!q->werr && !stralloc_append(&q->env, "")) q->werr = 51;  /* envelope end */
  if (q->sock >= 0) send_sock(q, p);
  else if (q->pid) p->code = finish_exec(q, &p->text);
  else if (q->werr) p->code = q->werr;
  else p->code = lspool_send(&q->spool, q->env.s, q->env.len, &p->text);
  spool_free(&q->spool);
  stralloc_free(&q->env);
}

int qq_verdict(struct qq_pending *p, stralloc *fd6)
{
  int code = p->code;
  fd6->len = 0;
  if (p->sock >= 0) code = verdict_sock(p, fd6);
  else if (p->text.len && !stralloc_copy(fd6, &p->text)) code = 51;
  stralloc_free(&p->text);
  return code;
}

int qq_finish(struct qq *q, stralloc *fd6)
{
  struct qq_pending p;
  qq_send(q, &p);
  return qq_verdict(&p, fd6);
}

void qq_abort(struct qq *q)
{
  if (q->sock >= 0) {
    close(q->sock);  /* no end chunk: the daemon must not commit */
    q->sock = -1;
  }
  if (q->pid) {
    close(q->msgfd);
    close(q->envfd);  /* no envelope: the queue program must not commit */
    close(q->errfd);
    reap(q);
    q->pid = 0;
  }
  spool_free(&q->spool);
  stralloc_free(&q->env);
}
