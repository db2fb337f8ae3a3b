/* qmail-queued.c: the hub's queue writer daemon with group commit
 * (qmail-queued.8; hub/queue/QUEUE.md section 8: protocol, states, the
 * crash analysis; the wire protocol: qqproto.h, common/q_qq.h).
 *   qmail-queued [-t idle-seconds]
 * Started by qmail-start as qmailq next to qmail-clean; fd 0 is a pipe
 * whose other end qmail-send holds: at its EOF (qmail-send gone) or on
 * SIGTERM the daemon commits what is ready and exits. It listens on
 * HOME/qq/socket (mode 0666) and writes each client's message the way
 * qmail-queue does (qwrite.h: the same names, queue id, Received line and
 * envelope items; the client's uid and pid come from SO_PEERCRED). One
 * poll loop, non-blocking sockets: bytes go into mess/S/N as they come; a
 * complete envelope goes into intd/S/N, todo/S/N is linked, and the
 * message joins the batch. When no input is ready (or the batch is full
 * or 20 ms old) the batch is committed (common/q_commit.h: one syncfs of
 * the queue, and one fdatasync of lock/barrier only where the filesystem
 * needs it; the choice is logged at start); then every client gets 0
 * and its "N\n" goes into lock/trigger. A failed commit undoes the whole
 * batch (53). Since the links precede the flush, the envelope carries
 * l<length> and c<crc32c> of mess/S/N, checked by qmail-send.
 * Exit: 0 stopped, 100 usage, 111 a setup failure. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "scan.h"
#include "q_commit.h"
#include "q_crc32c.h"
#include "q_err.h"
#include "q_home.h"
#include "q_io.h"
#include "q_limits.h"
#include "q_netstring.h"
#include "q_qq.h"
#include "qconf.h"
#include "qqproto.h"
#include "qwrite.h"

#define OUTSIZE 16384   /* per-client write buffer (mess, then intd) */

/* batch[] gets one entry per client that completes its envelope, and
 * several can complete in one poll round before the size check: only
 * because a batch member stays a client until the commit does the batch
 * never hold more than QQD_CLIENTS */
_Static_assert(QQD_BATCH >= QQD_CLIENTS, "a batch must have room for every client");

struct client {
  int fd;                      /* -1: free slot */
  int ready;                   /* todo linked: waits for the commit */
  int pos;                     /* its place in slot[] */
  uid_t uid;
  unsigned long pid;           /* SO_PEERCRED */
  struct qqp p;
  struct qw w;
  unsigned long long len;      /* bytes of mess/S/N so far */
  uint32_t crc;                /* their running crc32c */
  long long idle_until, end_at;  /* CLOCK_MONOTONIC ms */
  size_t outlen;
  char out[OUTSIZE];
};

static struct client *cl;
static struct pollfd *pf;
static int *pfc;               /* pf[i] belongs to client pfc[i] (-1: none) */
static int *slot;              /* cl[] indexes: slot[0..nclients) the clients,
                                  the rest free (no loop over every slot) */
static int nclients, listenfd = -1, ctlfd = -1, queuefd = -1, barrierfd = -1;
static struct q_commit qc;   /* the queue's commit: syncfs [+ barrier] */
static int batch[QQD_BATCH], nbatch;
static long long batch_at;
static long long idle_ms = QQD_IDLE * 1000LL;
static unsigned long maxaddr, mypid;
static int named;              /* root install: "invoked from network" etc. */
static uid_t uid_daemon, uid_alias, uid_send;
static long long accept_at;    /* out of descriptors: accept again then (ms),
                                  or as soon as a client ends */
static volatile sig_atomic_t got_term;
static char rbuf[65536];

static void on_term(int sig) { (void)sig; got_term = 1; }

/* reply: the verdict as one netstring "<code>"; never blocks, never
 * kills us (the client may be gone) */
static void reply(struct client *c, int code)
{
  char b[NS_HEAD + 8];
  char num[4];
  size_t n = 0, h;
  if (code >= 100) num[n++] = (char)('0' + code / 100);
  if (code >= 10) num[n++] = (char)('0' + code / 10 % 10);
  num[n++] = (char)('0' + code % 10);
  h = ns_head(b, n);
  memcpy(b + h, num, n);
  b[h + n] = ',';
  (void)!send(c->fd, b, h + n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* drop: end a client: the verdict (code >= 0), the undo of what was not
 * committed, the socket closed */
static void drop(struct client *c, int code)
{
  if (code >= 0) reply(c, code);
  qw_cleanup(&c->w);
  close(c->fd);
  c->fd = -1;
  c->ready = 0;
  --nclients;
  /* the last client takes c's place in slot[], c's index goes free */
  slot[c->pos] = slot[nclients];
  cl[slot[c->pos]].pos = c->pos;
  slot[nclients] = (int)(c - cl);
  c->pos = nclients;
  accept_at = 0;
}

/* out_flush: the client's buffer into fd; 0 or 53 */
static int out_flush(struct client *c, int fd)
{
  int r = qw_writeall(fd, c->out, c->outlen);
  c->outlen = 0;
  return r ? 53 : 0;
}

/* out_put: bytes for fd through the buffer; 0 or 53 */
static int out_put(struct client *c, int fd, const char *s, size_t n)
{
  if (c->outlen + n > OUTSIZE && out_flush(c, fd)) return 53;
  if (n >= OUTSIZE) return qw_writeall(fd, s, n) ? 53 : 0;
  memcpy(c->out + c->outlen, s, n);
  c->outlen += n;
  return 0;
}

/* mess_put: message bytes, counted into l and c */
static int mess_put(struct client *c, const char *s, size_t n)
{
  c->len += n;
  c->crc = crc32c_update(c->crc, s, n);
  return out_put(c, c->w.messfd, s, n);
}

/* how: the Received line's words for uid (only in a root install, as
 * qmail-queue does only when setuid) */
static const char *how(uid_t uid)
{
  if (!named) return 0;
  if (uid == uid_daemon) return qw_how(QUSER_DAEMON);
  if (uid == uid_alias) return qw_how(QUSER_ALIAS);
  if (uid == uid_send) return qw_how(QUSER_SEND);
  return 0;
}

/* start: a new client on fd: mess/S/N made, the Received line written */
static void start(int fd, const struct ucred *cr)
{
  struct client *c;
  char line[QW_RECEIVED_MAX];
  time_t when;
  long long now = io_now_ms();
  int r;
  if (nclients >= QQD_CLIENTS) { close(fd); return; }
  c = &cl[slot[nclients]];
  c->pos = nclients;
  c->fd = fd;
  c->ready = 0;
  c->uid = cr->uid;
  c->pid = (unsigned long)cr->pid;
  c->len = 0;
  c->crc = crc32c_init();
  c->outlen = 0;
  c->idle_until = now + idle_ms;
  c->end_at = now + QUEUE_ALARM * 1000LL;
  ++nclients;
  qw_init(&c->w);
  qqp_init(&c->p, maxaddr);
  r = qw_create(&c->w, mypid, time(0), &when);
  if (!r) {
    size_t n = qw_received(&c->w, line, c->pid, c->uid, how(c->uid), when);
    r = mess_put(c, line, n);
  }
  if (r) drop(c, r);
}

static void on_accept(void)
{
  while (nclients < QQD_CLIENTS) {
    struct ucred cr;
    socklen_t len = sizeof cr;
    int fd = accept4(listenfd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      /* out of descriptors: poll would report the listener at once, again
       * and again; the client waits in the backlog until one of ours ends */
      if (errno == EMFILE || errno == ENFILE) accept_at = io_now_ms() + 100;
      return;  /* EAGAIN, or an aborted connection */
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) { close(fd); continue; }
    start(fd, &cr);
  }
}

/* envelope_start: the message is complete: its buffer flushed, intd/S/N
 * made and its leading items (u p i m, then l c) buffered */
static int envelope_start(struct client *c)
{
  char items[QW_ITEMS_MAX + QW_LC_MAX];
  size_t n;
  int r = out_flush(c, c->w.messfd);
  if (r || (r = qw_open_intd(&c->w))) return r;
  n = qw_items(&c->w, items, c->uid, c->pid);
  n += qw_lc(items + n, c->len, crc32c_final(c->crc));
  return out_put(c, c->w.intdfd, items, n);
}

/* envelope_end: intd/S/N written, todo/S/N linked: into the batch */
static int envelope_end(struct client *c)
{
  int r = out_flush(c, c->w.intdfd);
  if (r || (r = qw_link_todo(&c->w))) return r;
  c->ready = 1;
  if (!nbatch) batch_at = io_now_ms();
  batch[nbatch++] = (int)(c - cl);
  return 0;
}

/* feed: the client's bytes in[0..len) through the parser; 0 or a code */
static int feed(struct client *c, const char *in, size_t len)
{
  while (len && !c->ready) {
    const char *d;
    size_t used, dlen;
    int ev = qqp_next(&c->p, in, len, &used, &d, &dlen), r = 0;
    in += used;
    len -= used;
    switch (ev) {
      case QQP_MORE: break;
      case QQP_DATA:
        midscan_feed(&c->w.mids, d, dlen);
        r = mess_put(c, d, dlen);
        break;
      case QQP_MSGEND: r = envelope_start(c); break;
      case QQP_ENV: r = out_put(c, c->w.intdfd, d, dlen); break;
      case QQP_ENVEND:
        r = out_put(c, c->w.intdfd, d, dlen);
        if (!r) r = envelope_end(c);
        break;
      default: return qqp_code(ev);
    }
    if (r) return r;
  }
  return 0;
}

/* on_read: what the client sent; EOF before the envelope's end is 91 (as
 * qmail-queue's EOF on fd 1), a read error 54 */
static void on_read(struct client *c)
{
  ssize_t n = read(c->fd, rbuf, sizeof rbuf);
  int r;
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    drop(c, 54);
    return;
  }
  if (n == 0) { drop(c, 91); return; }
  c->idle_until = io_now_ms() + idle_ms;
  r = feed(c, rbuf, (size_t)n);
  if (r) drop(c, r);
}

/* commit: the batch made durable by one syncfs of the queue's filesystem
 * and, where it needs one, a flush of lock/barrier (QUEUE.md section 8),
 * then acknowledged and named in the trigger; on failure undone, newest
 * first */
static void commit(void)
{
  int i, tfd;
  if (!nbatch) return;
  if (q_commit(&qc) < 0) {
    warn_sys("unable to commit a batch: 53 to its clients");
    for (i = nbatch - 1; i >= 0; --i) drop(&cl[batch[i]], 53);
    nbatch = 0;
    return;
  }
  tfd = qw_trigger_open();
  for (i = 0; i < nbatch; ++i) {
    struct client *c = &cl[batch[i]];
    qw_committed(&c->w);
    reply(c, 0);
    if (tfd >= 0) qw_trigger(tfd, c->w.ino);
    drop(c, -1);
  }
  if (tfd >= 0) close(tfd);
  nbatch = 0;
}

/* expire: a client idle too long, or alive past the 24 h of qmail-queue's
 * alarm, gets 52 and is undone; returns the ms to the next deadline */
static long long expire(long long now)
{
  long long next = -1;
  int k;
  for (k = nclients - 1; k >= 0; --k) {  /* a drop moves only visited ones */
    struct client *c = &cl[slot[k]];
    long long t;
    if (c->ready) continue;
    t = c->idle_until < c->end_at ? c->idle_until : c->end_at;
    if (t <= now) { drop(c, 52); continue; }
    if (next < 0 || t - now < next) next = t - now;
  }
  return next;
}

/* ---------- setup ---------- */

static void users(void)
{
  struct passwd *pw = getpwuid(getuid());
  if (!pw || !pw->pw_name || strcmp(pw->pw_name, QUSER_QUEUE)) return;
  named = 1;
  uid_daemon = uid_alias = uid_send = (uid_t)-1;
  if ((pw = getpwnam(QUSER_DAEMON))) uid_daemon = pw->pw_uid;
  if ((pw = getpwnam(QUSER_ALIAS))) uid_alias = pw->pw_uid;
  if ((pw = getpwnam(QUSER_SEND))) uid_send = pw->pw_uid;
  endpwent();
}

/* take_lock: the one daemon of this home; an ending one gets 10 s */
static void take_lock(void)
{
  int fd = open(QQ_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600), i;
  if (fd < 0) fatal_sys(111, "unable to open ", QQ_LOCK);
  for (i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; ++i) {
    if (errno != EWOULDBLOCK || i >= QQD_LOCKWAIT)
      fatal_sys(111, "unable to lock ", QQ_LOCK, " (another qmail-queued?)");
    usleep(100000);
  }
}

/* listen_socket: HOME/qq/socket, mode 0666, replacing a stale one (the
 * lock says no live daemon has it) */
static void listen_socket(void)
{
  struct sockaddr_un sun;
  mode_t m;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, QQ_SOCKET, sizeof QQ_SOCKET);
  listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listenfd < 0) fatal_sys(111, "unable to create a socket");
  if (unlink(QQ_SOCKET) < 0 && errno != ENOENT) fatal_sys(111, "unable to remove ", QQ_SOCKET);
  m = umask(0111);
  if (bind(listenfd, (struct sockaddr *)&sun, sizeof sun) < 0) fatal_sys(111, "unable to bind ", QQ_SOCKET);
  umask(m);
  if (listen(listenfd, QQD_BACKLOG) < 0) fatal_sys(111, "unable to listen on ", QQ_SOCKET);
}

static void setup(int argc, char **argv)
{
  struct sigaction sa;
  struct stat st;
  unsigned long t;
  int i;
  if (argc == 3 && !strcmp(argv[1], "-t") && scan_ulong(argv[2], &t) == strlen(argv[2]) &&
      t >= 1 && t <= 86400)
    idle_ms = (long long)t * 1000;
  else if (argc != 1)
    fatal(100, "usage: qmail-queued [-t idle-seconds]");
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, 0);
  sigaction(SIGHUP, &sa, 0);   /* qmailctl's reload and flush are for qmail-send */
  sigaction(SIGALRM, &sa, 0);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, 0);
  umask(QUEUE_UMASK);
  mypid = (unsigned long)getpid();
  users();
  maxaddr = limit_get(LIM_ADDR);  /* read once: a change needs a restart */
  if (fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) ctlfd = 0;
  if (chdir(home_dir()) < 0) fatal_sys(111, "unable to switch to ", home_dir());
  take_lock();
  listen_socket();
  if (chdir(QUEUE_DIR) < 0) fatal_sys(111, "unable to switch to ", QUEUE_DIR);
  queuefd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (queuefd < 0) fatal_sys(111, "unable to open ", QUEUE_DIR);
  barrierfd = open(QFILE_BARRIER, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (barrierfd < 0) fatal_sys(111, "unable to open ", QFILE_BARRIER);
  q_commit_init(&qc, queuefd, barrierfd);
  err_print("info", 0, "queue commit: ", qc.why, (const char *)0);
  cl = calloc(QQD_CLIENTS, sizeof *cl);
  pf = calloc(QQD_CLIENTS + 2, sizeof *pf);
  pfc = calloc(QQD_CLIENTS + 2, sizeof *pfc);
  slot = calloc(QQD_CLIENTS, sizeof *slot);
  if (!cl || !pf || !pfc || !slot) fatal_nomem();
  for (i = 0; i < QQD_CLIENTS; ++i) { cl[i].fd = -1; cl[i].pos = i; slot[i] = i; }
}

/* stop: commit what is ready, undo what is not (those clients get no
 * reply: "qq crashed", temporary); the socket goes (the lock says it is
 * ours) */
static void __attribute__((noreturn)) stop(void)
{
  int i;
  commit();
  for (i = 0; i < QQD_CLIENTS; ++i)
    if (cl[i].fd >= 0) qw_cleanup(&cl[i].w);
  if (fchdir(queuefd) == 0 && chdir("..") == 0) unlink(QQ_SOCKET);
  _exit(0);
}

int main(int argc, char **argv)
{
  progname = "qmail-queued";
  setup(argc, argv);
  for (;;) {
    int np = 0, li = -1, ci = -1, n, i, k;
    long long now = io_now_ms(), next = expire(now), tmo;
    if (got_term) stop();
    if (nbatch) tmo = 0;
    else tmo = next;
    if (accept_at > now && (tmo < 0 || accept_at - now < tmo)) tmo = accept_at - now;
    if (ctlfd >= 0) { pf[np].fd = ctlfd; pf[np].events = POLLIN; pfc[np] = -1; ci = np++; }
    if (nclients < QQD_CLIENTS && accept_at <= now) { pf[np].fd = listenfd; pf[np].events = POLLIN; pfc[np] = -1; li = np++; }
    for (k = 0; k < nclients; ++k)
      if (!cl[slot[k]].ready) { i = slot[k]; pf[np].fd = cl[i].fd; pf[np].events = POLLIN; pfc[np++] = i; }
    n = poll(pf, (nfds_t)np, tmo > 0x7fffffff ? 0x7fffffff : (int)tmo);
    if (n < 0 && errno != EINTR) fatal_sys(111, "unable to poll");
    if (n <= 0) { commit(); continue; }  /* nothing more is ready: commit */
    if (ci >= 0 && pf[ci].revents) {
      char b[64];
      if (read(ctlfd, b, sizeof b) <= 0) stop();  /* qmail-send is gone */
    }
    for (i = 0; i < np; ++i)
      if (pfc[i] >= 0 && pf[i].revents && cl[pfc[i]].fd == pf[i].fd) on_read(&cl[pfc[i]]);
    if (li >= 0 && pf[li].revents) on_accept();
    if (nbatch >= QQD_BATCH || (nbatch && io_now_ms() - batch_at >= QQD_BATCH_MS)) commit();
  }
}
