/* rsession.c: qmail-remote's session mode (see rsession.h, rjobq.h). One
 * poll() loop over fd 0 (jobs) and the connection; SMTP transactions run
 * one at a time with the blocking rconn calls, QMTP packages are written
 * and answered without blocking. Caps: RSESSION_PENDING jobs held,
 * RSESSION_WINDOW packages unanswered, RSESS_COPYBUF bytes of message
 * buffered for the socket. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "q_err.h"
#include "q_io.h"
#include "raddr.h"
#include "rblast.h"
#include "rdkim.h"
#include "rjobq.h"
#include "rsession.h"

struct sjob {
  struct rjob j;
  char tag;
  char *raw;            /* the job's bytes; j.sender, j.rcpt point in it */
  char **rcpt;
  char path[sizeof "queue/mess/" + RJOBQ_IDMAX];
  int wire;             /* its package is (being) sent (QMTP) */
  size_t answered;      /* QMTP: the recipient the next response is for */
  struct rblast enc;    /* QMTP: the message's LF encoding */
  unsigned long long wireleft;   /* QMTP: encoded bytes still to come */
};

static const struct rsession_conf *cf;
static struct sjob *q[RSESSION_PENDING];
static size_t qhead, qn, qnext;   /* ring; q[0..qnext) started */
static stralloc in;               /* fd 0 bytes not parsed yet */
static int in_eof, in_err, out_err;
static long long lastact;         /* last job in or report out */

static struct rconn c;
static int conn, qmtp;
static struct rsmtp_ext ext;
static unsigned long txns;        /* transactions started on c */
static size_t inflight, outpos;
static unsigned long long unacked, sendleft;
static struct sjob *sending;      /* the package being written */
static struct rqmtp_ns ns;
static long long lastio;
static int tlsmore;               /* QMTPS: qmtp_read may find more at once */

#define AT(i) q[(qhead + (i)) % RSESSION_PENDING]

/* ---- jobs ------------------------------------------------------------------ */

static void nomem(void) __attribute__((noreturn));
static void nomem(void)
{
  fatal_nomem();
  _exit(111);
}

static void job_add(const char *buf, const struct rjobq_job *jb)
{
  struct sjob *sj = calloc(1, sizeof *sj);
  size_t i, pos;
  if (!sj || !(sj->raw = malloc(jb->len))) nomem();
  memcpy(sj->raw, buf, jb->len);
  if (!(sj->rcpt = calloc(jb->nrcpt ? jb->nrcpt : 1, sizeof *sj->rcpt))) nomem();
  for (i = 0, pos = jb->rcptoff; i < jb->nrcpt; ++i, pos += strlen(sj->raw + pos) + 1)
    sj->rcpt[i] = sj->raw + pos;
  if (rjob_init(&sj->j, sj->rcpt, jb->nrcpt) < 0) nomem();
  sj->tag = jb->tag;
  sj->j.host = cf->host;
  sj->j.sender = sj->raw + jb->senderoff;
  sj->j.helo = cf->helo;
  sj->j.timeout_ms = cf->timeout_ms;
  sj->j.msgfd = -1;
  if (jb->bad)
    rjob_all(&sj->j, 's', 'Z', "Sorry, qmail-remote got a bad job: ", rjobq_why(jb->bad),
             ". (#4.3.0)", (const char *)0);
  else {
    const char *id = sj->raw + jb->idoff, *nl = strchr(id, '\n');
    size_t il = nl ? (size_t)(nl - id) : strlen(id);  /* at most RJOBQ_IDMAX */
    memcpy(sj->path, "queue/mess/", 11);
    memcpy(sj->path + 11, id, il);
    sj->path[11 + il] = 0;
    if (nl) sj->j.dsn = nl + 1;
  }
  AT(qn) = sj;
  ++qn;
  lastact = io_now_ms();
}

static void job_closefd(struct sjob *sj)
{
  if (sj->j.msgfd >= 0) close(sj->j.msgfd);
  sj->j.msgfd = -1;
}

static void job_free(struct sjob *sj)
{
  job_closefd(sj);
  rjob_free(&sj->j);
  free(sj->rcpt);
  free(sj->raw);
  free(sj);
}

/* job_start: check the envelope, open and scan the message. 0 ok, -1
 * failed or nothing to send (reported). */
static int job_start(struct sjob *sj)
{
  static char buf[RSESS_COPYBUF];
  struct rblast_facts f = {0};
  struct stat st;
  int fd;
  if (raddr_job(&sj->j)) return -1;
  fd = open(sj->path, O_RDONLY | O_CLOEXEC);
  sj->j.deadline_ms = io_now_ms() + cf->delivery_ms;
  if (fd < 0 || fstat(fd, &st) < 0) goto fail;
  sj->j.msgfd = fd;
  sj->j.msgsize = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) goto fail;
    if (n == 0) break;
    sj->j.msgsize += (unsigned long long)n;
    rblast_scan(&f, buf, (size_t)n);
  }
  sj->j.msglfs = f.lfs;
  sj->j.msgcrlfs = f.crlfs;
  sj->j.eightbit = f.eightbit;
  if (rdkim_job(&sj->j) < 0) { job_closefd(sj); return -1; }   /* DKIM (docs/dkim.md) */
  return 0;
fail:
  rjob_all(&sj->j, 's', 'Z', "Unable to read the message ", sj->path, ": ", strerror(errno),
           ". (#4.3.0)", (const char *)0);
  job_closefd(sj);
  return -1;
}

/* report_ready: write the finished jobs at the head, in order. */
static void report_ready(void)
{
  while (qn && AT(0)->j.mkind) {
    struct sjob *sj = AT(0);
    stralloc out = {0};
    if (!rjobq_output(sj->tag, &sj->j, &out)) nomem();
    if (io_writeall(1, out.s, out.len, 0) < 0) out_err = 1;
    stralloc_free(&out);
    job_free(sj);
    qhead = (qhead + 1) % RSESSION_PENDING;
    --qn;
    if (qnext) --qnext;
    lastact = io_now_ms();
  }
}

/* ---- fd 0 ------------------------------------------------------------------ */

/* parse_input: take the complete jobs out of in, while below the cap. */
static void parse_input(void)
{
  size_t pos = 0;
  int r = 1;
  while (qn < RSESSION_PENDING && pos < in.len) {
    struct rjobq_job jb;
    r = rjobq_parse(in.s + pos, in.len - pos, &jb);
    if (r < 0) { in_eof = in_err = 1; in.len = pos; break; }
    if (r == 0) break;
    job_add(in.s + pos, &jb);
    pos += jb.len;
  }
  if (pos) memmove(in.s, in.s + pos, in.len - pos);
  in.len -= pos;
  if (in_eof && r == 0 && in.len) { in_err = 1; in.len = 0; }   /* incomplete job at EOF */
}

static void read_input(void)
{
  ssize_t n;
  if (!stralloc_readyplus(&in, RSESS_COPYBUF)) nomem();
  n = read(0, in.s + in.len, RSESS_COPYBUF);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) { in_eof = 1; in_err |= n < 0; }
  else in.len += (size_t)n;
  parse_input();
}

/* ---- the connection --------------------------------------------------------- */

static void conn_close(void)
{
  if (conn) rconn_close(&c);
  conn = 0;
  inflight = 0;
  unacked = 0;
  sending = 0;
  outpos = 0;
}

/* conn_gone: between jobs, the server closed or said something (a 421):
 * close our end. 1 when closed. */
static int conn_gone(void)
{
  struct pollfd p;
  p.fd = c.fd;
  p.events = POLLIN;
  if (poll(&p, 1, 0) <= 0) return 0;
  conn_close();
  return 1;
}

/* conn_open: connect for job sj. 0 ok, -1 failed (sj reported). */
static int conn_open(struct sjob *sj)
{
  memset(&ext, 0, sizeof ext);
  if (cf->connect(&sj->j, &c, &qmtp, &ext) < 0) return -1;
  conn = 1;
  c.session = 1;
  txns = 0;
  rqmtp_ns_start(&ns);
  return 0;
}

static void conn_quit(void)
{
  if (conn && !qmtp) {
    c.lim.deadline_ms = 0;
    rsmtp_quit(&c);
  }
  conn_close();
}

/* ---- SMTP ------------------------------------------------------------------- */

static int smtp_txn(struct sjob *sj)
{
  int r;
  c.reuse = txns++ > 0;
  c.lim.deadline_ms = sj->j.deadline_ms;
  c.lim.timeout_ms = cf->timeout_ms;
  r = rsmtp_txn(&sj->j, &c, &ext);
  if (c.broken || c.fd < 0) conn_close();
  return r;
}

static void qmtp_begin(struct sjob *sj);

static void smtp_run(struct sjob *sj)
{
  if (smtp_txn(sj) != RSESS_STALE) return;
  if (conn_open(sj) < 0) return;      /* the one reconnect */
  if (qmtp) { qmtp_begin(sj); return; }
  if (smtp_txn(sj) == RSESS_STALE)
    rjob_all(&sj->j, 's', 'Z', "Connected to ", c.ip, " but the connection died at once (#4.4.2)",
             (const char *)0);
}

/* ---- QMTP ------------------------------------------------------------------- */

static void qmtp_begin(struct sjob *sj)
{
  sj->wire = 1;
  ++txns;
  if (!inflight) lastio = io_now_ms();
  ++inflight;
  unacked += sj->j.msgsize;
  sj->answered = rqmtp_next(&sj->j, 0);
  sj->wireleft = rqmtp_length(&sj->j);
  rblast_start(&sj->enc, RBLAST_LF);
  if (!rqmtp_head(&sj->j, &c.out)) nomem();
  sending = sj;
  sendleft = sj->j.msgsize;
  if (lseek(sj->j.msgfd, 0, SEEK_SET) < 0) sendleft = ~0ULL;
}

/* qmtp_break: the connection failed: every job on the wire and not fully
 * answered gets s for its unanswered recipients. */
static void qmtp_break(const char *why)
{
  size_t i;
  for (i = 0; i < qnext; ++i) {
    struct sjob *sj = AT(i);
    if (!sj->wire || sj->j.mkind) continue;
    rqmtp_finish(&sj->j, c.ip, why);
    job_closefd(sj);
  }
  conn_close();
}

/* qmtp_unreadable: the package being sent cannot be completed: give up
 * on the connection (the server discards the incomplete package). */
static void qmtp_unreadable(struct sjob *sj)
{
  rjob_all(&sj->j, 's', 'Z', "Unable to read the message (#4.3.0)", (const char *)0);
  qmtp_break("was closed after a local read error");
}

/* qmtp_encoded: n more encoded bytes of sj's message are in c.out; at the
 * end they must have come to the length announced. 1 ok, 0 failed. */
static int qmtp_encoded(struct sjob *sj, size_t n, int end)
{
  if (n > sj->wireleft || (end && n != sj->wireleft)) {   /* the file changed */
    qmtp_unreadable(sj);
    return 0;
  }
  sj->wireleft -= n;
  return 1;
}

/* qmtp_fill1: put more of the package being sent into c.out. */
static void qmtp_fill1(void)
{
  static char buf[RSESS_COPYBUF];
  struct sjob *sj = sending;
  ssize_t n = 0;
  size_t want, before;
  if (outpos && outpos == c.out.len) outpos = c.out.len = 0;
  if (!sj || c.out.len - outpos >= RSESS_COPYBUF) return;
  before = c.out.len;
  if (sendleft == 0) {
    if (!rblast_end(&sj->enc, &c.out)) nomem();
    if (!qmtp_encoded(sj, c.out.len - before, 1)) return;
    if (!rqmtp_tail(&sj->j, &c.out)) nomem();
    job_closefd(sj);
    sending = 0;
    return;
  }
  want = sendleft < RSESS_COPYBUF ? (size_t)sendleft : RSESS_COPYBUF;
  if (sendleft != ~0ULL)
    do n = read(sj->j.msgfd, buf, want); while (n < 0 && errno == EINTR);
  if (n <= 0) { qmtp_unreadable(sj); return; }
  sendleft -= (unsigned long long)n;
  if (!rblast_put(&sj->enc, buf, (size_t)n, &c.out)) nomem();
  qmtp_encoded(sj, c.out.len - before, 0);
}

static void qmtp_fill(void)
{
  while (conn && sending && c.out.len - outpos < RSESS_COPYBUF) qmtp_fill1();
}

/* qmtp_answer: one response netstring: for the oldest unanswered job. */
static int qmtp_answer(const char *a, size_t len)
{
  size_t i;
  for (i = 0; i < qnext; ++i) {
    struct sjob *sj = AT(i);
    if (!sj->wire || sj->answered >= sj->j.nrcpt || sj->j.mkind) continue;
    if (rqmtp_answer(&sj->j, c.ip, sj->answered, a, len) < 0) return -1;
    sj->answered = rqmtp_next(&sj->j, sj->answered + 1);
    if (sj->answered == sj->j.nrcpt) {
      rqmtp_finish(&sj->j, c.ip, 0);
      --inflight;
      unacked -= sj->j.msgsize;
      job_closefd(sj);
    }
    return 0;
  }
  return -1;
}

static void qmtp_read(void)
{
  char buf[RCONN_INBUF];
  size_t pos = 0;
  ssize_t n = c.tls ? rqmtp_tlsread(&c, buf, sizeof buf) : read(c.fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    if (inflight) qmtp_break(n == 0 ? "died: connection closed" : "died");
    else conn_close();
    return;
  }
  lastio = io_now_ms();
  while (pos < (size_t)n) {
    size_t used;
    int r = rqmtp_ns_feed(&ns, buf + pos, (size_t)n - pos, &used);
    pos += used;
    if (r == 1 && qmtp_answer(ns.buf, ns.len) == 0) continue;
    if (r != 0) { qmtp_break("gave an invalid response"); return; }
  }
  tlsmore = c.tls != 0;   /* TLS may hold more decrypted: read until EAGAIN */
}

static void qmtp_write(void)
{
  ssize_t n = c.tls ? rqmtp_tlswrite(&c, c.out.s + outpos, c.out.len - outpos)
                    : write(c.fd, c.out.s + outpos, c.out.len - outpos);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0) { qmtp_break("died"); return; }
  outpos += (size_t)n;
  lastio = io_now_ms();
}

/* qmtp_overdue: the oldest job's deadline or the read timeout passed. */
static void qmtp_overdue(long long now)
{
  size_t i;
  if (!inflight) return;
  for (i = 0; i < qnext; ++i)
    if (AT(i)->wire && !AT(i)->j.mkind) break;
  if ((i < qnext && now >= AT(i)->j.deadline_ms) || now - lastio >= cf->timeout_ms)
    qmtp_break("timed out");
}

/* ---- the loop --------------------------------------------------------------- */

/* can_start: the next job may be started now. */
static int can_start(void)
{
  if (qnext >= qn) return 0;
  if (!conn || !qmtp) return !inflight;
  if (sending) return 0;
  return !inflight || (inflight < RSESSION_WINDOW && unacked < RSESSION_WINDOW_BYTES);
}

static void start_next(void)
{
  struct sjob *sj = AT(qnext);
  ++qnext;
  if (sj->j.mkind || job_start(sj) < 0) return;
  if (conn && !inflight) conn_gone();   /* closed while idle: reconnect */
  if (!conn && conn_open(sj) < 0) { job_closefd(sj); return; }
  if (qmtp) qmtp_begin(sj);
  else smtp_run(sj);
}

/* wait_ms: how long poll may wait (-1: no limit); -2: the idle time is over. */
static int wait_ms(long long now)
{
  long long t = -1;
  if (can_start()) return 0;
  if (qn == 0 && !in_eof) {
    t = lastact + cf->idle_ms - now;
    if (t <= 0) return -2;
  }
  if (inflight) {
    long long d = lastio + cf->timeout_ms - now;
    size_t i;
    for (i = 0; i < qnext; ++i)
      if (AT(i)->wire && !AT(i)->j.mkind) {
        if (AT(i)->j.deadline_ms - now < d) d = AT(i)->j.deadline_ms - now;
        break;
      }
    if (d < 0) d = 0;
    if (t < 0 || d < t) t = d;
  }
  if (t > 1000000) t = 1000000;
  return t == -1 ? -1 : t < 0 ? 0 : (int)t;
}

/* step: one round of polling. 0 go on, 1 done (idle or EOF). */
static int step(void)
{
  struct pollfd p[2];
  int n = 0, t, fin = -1, sock = -1, r;
  if (in.len && qn < RSESSION_PENDING) parse_input();
  if (can_start()) start_next();
  while (conn && qmtp && (qmtp_fill(), can_start())) start_next();
  report_ready();
  if (in_eof && qn == 0 && !in.len) return 1;
  t = wait_ms(io_now_ms());
  if (t == -2) return 1;
  if (!in_eof && qn < RSESSION_PENDING) { fin = n; p[n].fd = 0; p[n++].events = POLLIN; }
  if (conn) {
    sock = n;
    p[n].fd = c.fd;
    p[n++].events = POLLIN | (qmtp && outpos < c.out.len ? POLLOUT : 0);
  }
  if (n == 0) return 0;
  r = poll(p, (nfds_t)n, t);
  if (r < 0 && errno != EINTR) fatal(111, "poll failed");
  if (r > 0 && fin >= 0 && p[fin].revents) read_input();
  if (r > 0 && sock >= 0 && p[sock].revents) {
    if (!qmtp) conn_close();   /* SMTP between jobs: 421 or EOF */
    else {
      if (p[sock].revents & (POLLIN | POLLHUP | POLLERR))
        do { tlsmore = 0; qmtp_read(); } while (conn && tlsmore);
      if (conn && (p[sock].revents & POLLOUT)) qmtp_write();
    }
  }
  if (conn && qmtp) qmtp_overdue(io_now_ms());
  return 0;
}

int rsession_run(const struct rsession_conf *conf)
{
  cf = conf;
  lastact = io_now_ms();
  while (!step() && !out_err) ;
  report_ready();
  conn_quit();
  return in_err || out_err ? 111 : 0;
}
