/* q_qmqpc.c: ship one message to the hub over QMQP or QMTP with failover
 * (see q_qmqpc.h; protocols in docs/protocols.md, exit codes in qmail-qmqpc.8).
 *
 * Input: the message in a spool and a qmail-queue envelope F<sender>\0
 * T<rcpt>\0 ... \0. Anything else is 91; an address longer than
 * limit_get(LIM_ADDR) is 11; no recipient is 91 (nothing is sent).
 * Configuration: control/qmqpservers (syntax in q_net.h; missing, empty,
 * unreadable or holding an invalid line: 82 "Z<what is wrong, with the
 * line number> (#4.3.0)"), qmqptimeoutconnect (seconds
 * per connection attempt, default 10), qmqptimeout (seconds per read or
 * write, default 60); the whole send ends after timeoutsession (LIM_SESSION,
 * 3600 s). All addresses of all lines are candidates in file order; they are
 * raced happy-eyeballs style (q_net.c, next start after 250 ms).
 *
 * Every recipient is pending, accepted (K) or refused (D). A server gets the
 * pending recipients only:
 *   QMQP  one netstring of ns(message) ns(sender) ns(rcpt)...; the one reply
 *         applies to all of them: K accepted, D refused (final), Z they stay
 *         pending and the text is remembered.
 *   QMTP  one package ns("\n" message) ns(sender) ns(ns(rcpt)...), then one
 *         reply per recipient, in order, with the same meanings.
 *   QMTPS a qmtps: line: QMTP inside TLS. The connection made here is
 *         handed to bin/qmail-qmtpsc (fork and exec, so that the programs
 *         running this in-process never load libtls), which makes the
 *         handshake, checks the hub's certificate (control/qmtpsca.pem
 *         and/or control/qmtpspins), says "K<tls>" or "Z<why>" in one line
 *         and relays; QMTP then runs on the socket to it as above. Neither
 *         file: the line is not used (a problem "control/qmqpservers line
 *         N: qmtps: ...", as for a name that does not resolve). A failed
 *         handshake or certificate is a broken session of that hub.
 * A server that cannot be reached, or whose connection breaks or times out
 * before every answer arrived (or answers garbage), leaves the unanswered
 * recipients pending for the next candidate: a duplicate is possible, a
 * loss is not. Hub text is cleaned (printable ASCII kept, other bytes '?')
 * and capped at 1000 bytes; a text on fd 6 is at most 1001 bytes.
 *
 * Result, when no candidate is left or nothing is pending:
 *   all K                               0
 *   all D, first refusal has text       82 "D<that text>"
 *   all D, no text                      31
 *   K and D, none pending               82 "D<n> of <m> recipients refused:
 *                                          <addr>: <text>; ..."
 *   all pending, some server said Z     82 "Z<last Z text>" (71 if no text)
 *   all pending, no Z                   82 "Zno hub took the message:
 *                                          <where>: <what>; ... (#4.4.1)"
 *                                          naming every problem met (a name
 *                                          not resolving, a refused or timed
 *                                          out connect, a connection that
 *                                          broke or timed out: #4.4.2 when
 *                                          that was the last); 72, 73, 74
 *                                          only with no problem to name
 *   some pending, some K or D           82 "Z<n> of <m> recipients not
 *                                          accepted yet: <last Z text or the
 *                                          problems met>"
 * The problems list is capped at 800 bytes. With qmqpc_verbose, every
 * hub tried and its answer is said as it happens.
 * The caller retries a Z later and resends to everyone: duplicates for the
 * accepted recipients are accepted as the price of never losing one.
 * Out of memory is 51. SIGPIPE is ignored while this runs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "buffer.h"
#include "fmt.h"
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "q_io.h"
#include "q_limits.h"
#include "q_net.h"
#include "q_netstring.h"
#include "q_qmqpc.h"
#include "q_qqstatus.h"
#include "q_sa.h"

#define STAGGER_MS 250
#define REPLY_MAX 65536
#define TEXT_MAX 1000
#define WHY_MAX 800          /* the problems list, so the whole text fits */
#define MAXADDRS 16          /* addresses used per host name */
#define MAXSECONDS 86400UL   /* cap on a timeout control file */

enum { R_PENDING = 0, R_K, R_D, R_SENT };      /* recipient states */
#define QMTPS_HELPER "bin/qmail-qmtpsc"
#define QMTPS_STATUSMAX 512
enum { S_DONE = 0, S_BROKEN = -1, S_NOMEM = -2 };  /* session results */

struct env {
  const char *sender;
  size_t slen;
  const char *rc;     /* the first T item */
  size_t rclen;       /* bytes of T items, without the final NUL */
  size_t n;           /* recipients */
};

struct job {
  struct spool *msg;
  struct env env;
  unsigned char *st;          /* per recipient: R_* */
  size_t nk, nd;
  struct net_addr *cand;      /* candidates, in preference order */
  unsigned char *cstate;      /* enum net_state */
  unsigned char *cproto;      /* enum net_proto */
  int *cerr;                  /* errno of a failed connect */
  size_t *clabel;             /* offset of its label in labels */
  size_t *chost;              /* offset of its host name in labels (QMTPS) */
  size_t ncand;
  stralloc labels;            /* "192.0.2.7:628", "hub.example (192.0.2.7:628)" */
  size_t w;                   /* the candidate in session */
  int tconn_ms, tio_ms;
  long long deadline;
  int problem;                /* 72, 73, 74 or 0: the last one seen */
  int zseen;
  stralloc ztext, dfirst, dlist;
  stralloc why;               /* the problems met: "where: what; ..." */
  char broke[160];            /* how the last session failed */
};

static int vfd = -1;          /* qmqpc_verbose */

void qmqpc_verbose(int fd) { vfd = fd; }

/* ---- envelope --------------------------------------------------------- */

/* env_item: an item starting with letter at env[pos]; *alen its length and
 * *next the byte after its NUL. 0 ok, else the exit code. */
static int env_item(const char *env, size_t len, size_t pos, char letter,
                    size_t *alen, size_t *next)
{
  const char *z;
  if (pos >= len || env[pos] != letter) return 91;
  z = memchr(env + pos + 1, 0, len - pos - 1);
  if (!z) return 91;
  *alen = (size_t)(z - (env + pos + 1));
  if (*alen > limit_get(LIM_ADDR)) return 11;
  *next = (size_t)(z - env) + 1;
  return 0;
}

static int env_parse(struct env *e, const char *env, size_t len)
{
  size_t pos, alen;
  int r = env_item(env, len, 0, 'F', &e->slen, &pos);
  if (r) return r;
  e->sender = env + 1;
  e->rc = env + pos;
  e->n = 0;
  while (pos < len && env[pos] != 0) {
    r = env_item(env, len, pos, 'T', &alen, &pos);
    if (r) return r;
    ++e->n;
  }
  if (pos + 1 != len || e->n == 0) return 91;  /* no final NUL, junk, none */
  e->rclen = (size_t)(env + pos - e->rc);
  return 0;
}

/* rcpt_next: walk the recipients; *pos starts at 0. 1 one more, 0 done. */
static int rcpt_next(const struct env *e, size_t *pos, const char **a, size_t *alen)
{
  const char *z;
  if (*pos >= e->rclen) return 0;
  *a = e->rc + *pos + 1;
  z = memchr(*a, 0, e->rclen - *pos - 1);
  *alen = (size_t)(z - *a);
  *pos += *alen + 2;
  return 1;
}

/* mark: every recipient in state from goes to state to. */
static void mark(struct job *j, unsigned char from, unsigned char to)
{
  size_t i;
  for (i = 0; i < j->env.n; ++i)
    if (j->st[i] == from) j->st[i] = to;
}

/* ---- texts ------------------------------------------------------------ */

/* cat_capped: append s[0..len) with bytes outside printable ASCII as '?',
 * never letting sa grow past cap. 1 ok, 0 no memory. */
static int cat_capped(stralloc *sa, const char *s, size_t len, size_t cap)
{
  size_t i;
  if (sa->len >= cap) return 1;
  if (len > cap - sa->len) len = cap - sa->len;
  if (!stralloc_readyplus(sa, len)) return 0;
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    sa->s[sa->len++] = (c >= 32 && c < 127) ? (char)c : '?';
  }
  return 1;
}

/* cat_clean: cat_capped to TEXT_MAX. */
static int cat_clean(stralloc *sa, const char *s, size_t len)
{
  return cat_capped(sa, s, len, TEXT_MAX);
}

static int cat_cleans(stralloc *sa, const char *s)
{
  return cat_clean(sa, s, strlen(s));
}

/* say: with qmqpc_verbose, the line "progname: a b c t" (t cleaned) on its
 * descriptor. Nothing is said when memory runs out. */
static void say(const char *a, const char *b, const char *c, const char *t, size_t tl)
{
  stralloc l = {0};
  if (vfd < 0) return;
  if (cat_cleans(&l, progname) && cat_cleans(&l, ": ") && cat_cleans(&l, a) &&
      cat_cleans(&l, b) && cat_cleans(&l, c) && cat_clean(&l, t, tl) &&
      stralloc_append(&l, "\n"))
    (void)!write(vfd, l.s, l.len);
  stralloc_free(&l);
}

static const char *label(const struct job *j, size_t i)
{
  return j->labels.s + j->clabel[i];
}

/* trouble: "where: what" joins the list of problems (capped at WHY_MAX)
 * and, verbose, is said with prefix. 1 ok, 0 no memory. */
static int trouble(struct job *j, const char *prefix, const char *where, const char *what)
{
  say(prefix, where, ": ", what, strlen(what));
  if (j->why.len && !cat_capped(&j->why, "; ", 2, WHY_MAX)) return 0;
  return cat_capped(&j->why, where, strlen(where), WHY_MAX) &&
         cat_capped(&j->why, ": ", 2, WHY_MAX) && cat_capped(&j->why, what, strlen(what), WHY_MAX);
}

/* tell_answer: verbose, what the hub in session answered (for rcpt a when
 * it answers per recipient). */
static void tell_answer(const struct job *j, const char *a, size_t al, const char *r, size_t rl)
{
  static const char *const what[3][2] = {
    { ": accepted", ": accepted: " }, { ": refused", ": refused: " },
    { ": deferred", ": deferred: " } };
  stralloc w = {0};
  int k = r[0] == 'K' ? 0 : r[0] == 'D' ? 1 : 2;
  if (vfd < 0) return;
  if (cat_cleans(&w, label(j, j->w)) && (!a || (cat_cleans(&w, ": ") && cat_clean(&w, a, al))) &&
      stralloc_0(&w))
    say("hub ", w.s, what[k][rl > 1], r + 1, rl - 1);
  stralloc_free(&w);
}

/* refused: remember the text of a D answer for addr. */
static int refused(struct job *j, const char *a, size_t al, const char *t, size_t tl)
{
  struct qq_status q;
  if (j->nd == 1 && !cat_clean(&j->dfirst, t, tl)) return 0;
  if (tl == 0) {
    qq_status(31, 0, 0, &q);
    t = q.text;
    tl = q.textlen;
  }
  if (j->nd > 1 && !cat_clean(&j->dlist, "; ", 2)) return 0;
  return cat_clean(&j->dlist, a, al) && cat_clean(&j->dlist, ": ", 2) &&
         cat_clean(&j->dlist, t, tl);
}

/* answer: apply reply r[0..rl) (first byte K, Z or D) to recipient i. */
static int answer(struct job *j, size_t i, const char *a, size_t al,
                  const char *r, size_t rl)
{
  if (r[0] == 'K') { j->st[i] = R_K; ++j->nk; return S_DONE; }
  if (r[0] == 'Z') {
    j->st[i] = R_PENDING;
    j->zseen = 1;
    j->ztext.len = 0;
    return cat_clean(&j->ztext, r + 1, rl - 1) ? S_DONE : S_NOMEM;
  }
  j->st[i] = R_D;
  ++j->nd;
  return refused(j, a, al, r + 1, rl - 1) ? S_DONE : S_NOMEM;
}

/* ---- the wire --------------------------------------------------------- */

/* add64: *sum += x, -1 on overflow. */
static int add64(unsigned long long *sum, unsigned long long x)
{
  if (x > UINT64_MAX - *sum) return -1;
  *sum += x;
  return 0;
}

/* head64: "<len>:" into buf (NS_HEAD bytes). */
static size_t head64(char *buf, unsigned long long len)
{
  size_t n = fmt_ulonglong(buf, len);
  buf[n++] = ':';
  return n;
}

/* nsize64: *sum += size of a netstring of len bytes; -1 on overflow. */
static int nsize64(unsigned long long *sum, unsigned long long len)
{
  char buf[NS_HEAD];
  unsigned long long s = head64(buf, len) + 1;
  return add64(&s, len) < 0 ? -1 : add64(sum, s);
}

/* rcpts_size: netstring bytes of the recipients in state R_SENT. */
static int rcpts_size(const struct job *j, unsigned long long *sum)
{
  size_t pos = 0, i = 0, al;
  const char *a;
  *sum = 0;
  for (; rcpt_next(&j->env, &pos, &a, &al); ++i)
    if (j->st[i] == R_SENT && nsize64(sum, al) < 0) return -1;
  return 0;
}

static int put_ns(buffer *b, const char *s, size_t len)
{
  char h[NS_HEAD];
  return buffer_put(b, h, head64(h, len)) || buffer_put(b, s, len) ||
         buffer_put(b, ",", 1) ? -1 : 0;
}

/* put_rcpts: the netstrings of the recipients in state R_SENT. */
static int put_rcpts(buffer *b, const struct job *j)
{
  size_t pos = 0, i = 0, al;
  const char *a;
  for (; rcpt_next(&j->env, &pos, &a, &al); ++i)
    if (j->st[i] == R_SENT && put_ns(b, a, al) < 0) return -1;
  return 0;
}

/* put_message: head (outer + message head), the spool, then the rest
 * through b. */
static int put_message(buffer *b, const struct job *j, const char *head,
                       size_t hl, const struct io_limits *lim)
{
  if (buffer_put(b, head, hl) || buffer_flush(b)) return -1;
  if (spool_write(j->msg, b->fd, lim) < 0) return -1;
  return buffer_put(b, ",", 1);
}

/* qmqp_send: ns( ns(message) ns(sender) ns(rcpt)... ) */
static int qmqp_send(struct job *j, int fd, struct io_limits *lim)
{
  char space[8192], head[2 * NS_HEAD];
  unsigned long long msglen = spool_len(j->msg), inner = 0, r;
  size_t hl;
  buffer b;
  if (nsize64(&inner, msglen) || nsize64(&inner, j->env.slen) ||
      rcpts_size(j, &r) || add64(&inner, r)) { errno = EFBIG; return -1; }
  hl = head64(head, inner);
  hl += head64(head + hl, msglen);
  buffer_init(&b, io_bwrite, fd, space, sizeof space);
  b.cookie = lim;
  if (put_message(&b, j, head, hl, lim)) return -1;
  if (put_ns(&b, j->env.sender, j->env.slen) || put_rcpts(&b, j)) return -1;
  return buffer_put(&b, ",", 1) || buffer_flush(&b) ? -1 : 0;
}

/* qmtp_send: ns("\n" message) ns(sender) ns(ns(rcpt)...) */
static int qmtp_send(struct job *j, int fd, struct io_limits *lim)
{
  char space[8192], head[NS_HEAD + 1], h[NS_HEAD];
  unsigned long long msglen = spool_len(j->msg), list;
  size_t hl;
  buffer b;
  if (add64(&msglen, 1) || rcpts_size(j, &list)) { errno = EFBIG; return -1; }
  buffer_init(&b, io_bwrite, fd, space, sizeof space);
  b.cookie = lim;
  hl = head64(head, msglen);
  head[hl++] = '\n';  /* LF encoding: the message follows as is */
  if (put_message(&b, j, head, hl, lim)) return -1;
  if (put_ns(&b, j->env.sender, j->env.slen)) return -1;
  if (buffer_put(&b, h, head64(h, list)) || put_rcpts(&b, j)) return -1;
  return buffer_put(&b, ",", 1) || buffer_flush(&b) ? -1 : 0;
}

/* broke: say in j->broke how the session failed (the rest of the line
 * after "HOST: "): e is the errno of a failed read or write, doing what
 * was being done. */
static void broke(struct job *j, int e, const char *doing)
{
  int s = j->tio_ms / 1000;
  if (e == ETIMEDOUT && io_now_ms() >= j->deadline)
    snprintf(j->broke, sizeof j->broke, "timeoutsession reached %s", doing);
  else if (e == ETIMEDOUT)
    snprintf(j->broke, sizeof j->broke, "timed out after %d s %s", s, doing);
  else if (e == EPROTO)
    snprintf(j->broke, sizeof j->broke, "closed the connection in the middle of an answer");
  else
    snprintf(j->broke, sizeof j->broke, "%s %s", net_strerror(e), doing);
}

/* get_reply: one K/Z/D netstring. S_DONE, S_BROKEN (I/O, garbage: said in
 * j->broke), S_NOMEM. */
static int get_reply(struct job *j, buffer *b, stralloc *r)
{
  int s = ns_get(b, REPLY_MAX, r);
  if (s == NS_NOMEM) return S_NOMEM;
  if (s == NS_EOF) {
    snprintf(j->broke, sizeof j->broke, "closed the connection without an answer");
    return S_BROKEN;
  }
  if (s == NS_IOERR) { broke(j, errno, "waiting for an answer"); return S_BROKEN; }
  if (s != NS_OK || r->len == 0 || (r->s[0] != 'K' && r->s[0] != 'Z' && r->s[0] != 'D')) {
    snprintf(j->broke, sizeof j->broke, "answered something that is not a QMQP/QMTP answer");
    return S_BROKEN;
  }
  return S_DONE;
}

/* read_replies: one reply for every R_SENT recipient (QMTP), or one reply
 * for all of them (QMQP, all = 1). A K that arrives before the request was
 * completely sent (sent = 0) is not believed. */
static int read_replies(struct job *j, int fd, struct io_limits *lim, int all,
                        int sent)
{
  char space[1024];
  stralloc r = {0};
  size_t pos = 0, i = 0, al;
  const char *a;
  int res = S_DONE;
  buffer b;
  buffer_init(&b, io_bread, fd, space, sizeof space);
  b.cookie = lim;
  for (; res == S_DONE && rcpt_next(&j->env, &pos, &a, &al); ++i) {
    if (j->st[i] != R_SENT) continue;
    if (!all || r.len == 0) {
      res = get_reply(j, &b, &r);
      if (res == S_DONE) tell_answer(j, all ? 0 : a, al, r.s, r.len);
    }
    if (res == S_DONE && !sent && r.s[0] == 'K') {
      snprintf(j->broke, sizeof j->broke, "answered K before it had the whole message");
      res = S_BROKEN;
    }
    if (res == S_DONE) res = answer(j, i, a, al, r.s, r.len);
  }
  stralloc_free(&r);
  return res;
}

/* session: offer the pending recipients to the server on fd. */
static int session(struct job *j, int fd, int proto)
{
  struct io_limits lim;
  int sent, e, res = S_BROKEN;
  lim.deadline_ms = j->deadline;
  lim.timeout_ms = j->tio_ms;
  mark(j, R_PENDING, R_SENT);
  sent = (proto == NET_QMTP ? qmtp_send(j, fd, &lim) : qmqp_send(j, fd, &lim)) == 0;
  e = errno;
  /* a QMQP hub may refuse early and close: its answer is still worth reading */
  if (sent || (proto == NET_QMQP && e != ETIMEDOUT && e != EFBIG))
    res = read_replies(j, fd, &lim, proto == NET_QMQP, sent);
  if (res == S_BROKEN && !sent) {
    if (e == EFBIG) snprintf(j->broke, sizeof j->broke, "message too big to send");
    else broke(j, e, "sending the message");
  }
  mark(j, R_SENT, R_PENDING);
  return res;
}

/* ---- configuration ---------------------------------------------------- */

/* grow: make room for n candidates in every per-candidate array. */
static int grow(struct job *j, size_t n)
{
  void *p;
  if (n > SIZE_MAX / sizeof *j->cand) return -1;
  if (!(p = realloc(j->cand, n * sizeof *j->cand))) return -1;
  j->cand = p;
  if (!(p = realloc(j->cerr, n * sizeof *j->cerr))) return -1;
  j->cerr = p;
  if (!(p = realloc(j->clabel, n * sizeof *j->clabel))) return -1;
  j->clabel = p;
  if (!(p = realloc(j->chost, n * sizeof *j->chost))) return -1;
  j->chost = p;
  if (!(p = realloc(j->cstate, n))) return -1;
  j->cstate = p;
  if (!(p = realloc(j->cproto, n))) return -1;
  j->cproto = p;
  return 0;
}

/* cand_add: the k addresses of srv as candidates, each with its label. */
static int cand_add(struct job *j, const struct net_addr *a, size_t k,
                    const struct net_server *srv)
{
  size_t n = j->ncand + k, i, host = j->labels.len;
  char f[NET_FMT];
  if (n < k || grow(j, n) < 0) return -1;
  if (!stralloc_cats(&j->labels, srv->host) || !stralloc_0(&j->labels)) return -1;
  for (i = 0; i < k; ++i) {
    net_fmt(f, &a[i]);
    j->chost[j->ncand] = host;
    j->clabel[j->ncand] = j->labels.len;
    if (srv->family == 0 && (!stralloc_cats(&j->labels, srv->host) ||
                             !stralloc_cats(&j->labels, " ("))) return -1;
    if (!stralloc_cats(&j->labels, f)) return -1;
    if (srv->family == 0 && !stralloc_cats(&j->labels, ")")) return -1;
    if (!stralloc_0(&j->labels)) return -1;
    j->cand[j->ncand] = a[i];
    j->cerr[j->ncand] = 0;
    j->cstate[j->ncand] = NET_UNTRIED;
    j->cproto[j->ncand++] = (unsigned char)srv->proto;
  }
  return 0;
}

/* config_text: text = "Z<a><b><c> (#4.3.0)", for what was code 55: 82,
 * or 51. */
static int config_text(stralloc *text, const char *a, const char *b, const char *c)
{
  text->len = 0;
  return stralloc_copys(text, "Z") && cat_cleans(text, a) && cat_cleans(text, b) &&
         cat_cleans(text, c) && stralloc_cats(text, " (#4.3.0)") ? 82 : 51;
}

/* add_line: qmqpservers line number no, line[0..len); a name that does not
 * resolve is skipped (it counts as a refused connection). 0 ok, else the
 * exit code (an invalid line: 82 with its text). */
/* qmtps_ready: a qmtps: line can be used only when the hub's certificate
 * can be checked: control/qmtpsca.pem or control/qmtpspins (fail closed).
 * 1 yes, 0 no (what in *missing), -1 no memory. */
static int qmtps_ready(const char **missing)
{
  static const char *const files[] = { "qmtpsca.pem", "qmtpspins" };
  stralloc p = {0};
  size_t i;
  int ok = 0;
  *missing = "qmtps: no way to check the hub's certificate: neither control/qmtpsca.pem "
             "nor control/qmtpspins exists";
  for (i = 0; i < 2 && !ok; ++i) {
    if (!control_path(&p, files[i])) { stralloc_free(&p); return -1; }
    ok = access(p.s, F_OK) == 0;
  }
  stralloc_free(&p);
  return ok;
}

static int add_line(struct job *j, size_t no, const char *line, size_t len, stralloc *text)
{
  struct net_server srv;
  struct net_addr a[MAXADDRS];
  char why[NET_WHY], where[64];
  const char *missing;
  size_t k;
  snprintf(where, sizeof where, "control/qmqpservers line %zu: ", no);
  if (net_parse_why(line, len, &srv, why) < 0) return config_text(text, where, why, "");
  if (srv.proto == NET_QMTPS) {
    int r = qmtps_ready(&missing);
    if (r < 0) return 51;
    if (r == 0) {
      j->problem = 73;
      where[strlen(where) - 2] = 0;   /* no ": " */
      return trouble(j, "", where, missing) ? 0 : 51;
    }
  }
  if (net_resolve(&srv, a, MAXADDRS, &k) < 0) {
    if (errno == ENOMEM) return 51;
    j->problem = 73;
    return trouble(j, where, srv.host, net_strerror(errno)) ? 0 : 51;
  }
  return cand_add(j, a, k, &srv) < 0 ? 51 : 0;
}

static int load_servers(struct job *j, stralloc *text)
{
  stralloc raw = {0};
  size_t pos = 0, no = 0, len;
  const char *line;
  int code = 0, r = control_readfile(&raw, "qmqpservers");
  if (r < 0) code = errno == ENOMEM ? 51 : config_text(text,
                    "unable to read control/qmqpservers: ", strerror(errno), "");
  else if (r == 0)
    code = config_text(text, "control/qmqpservers is missing: ", "there is no hub to send to", "");
  while (!code && net_line(raw.s, raw.len, &pos, &no, &line, &len))
    code = add_line(j, no, line, len, text);
  stralloc_free(&raw);
  if (!code && j->ncand == 0 && !j->why.len)
    code = config_text(text, "control/qmqpservers names no hub", "", "");
  return code;
}

/* seconds_ms: a timeout control file in ms; def when missing or 0. */
static int seconds_ms(const char *name, unsigned long def, int *ms, stralloc *text)
{
  unsigned long v = def;
  char where[64];
  if (control_readulong(&v, name) < 0) {
    if (errno == ENOMEM) return 51;
    snprintf(where, sizeof where, "control/%s: ", name);
    return config_text(text, where, errno == EINVAL || errno == ERANGE
                       ? "not a number of seconds" : strerror(errno), "");
  }
  if (v == 0) v = def;
  if (v > MAXSECONDS) v = MAXSECONDS;
  *ms = (int)(v * 1000);
  return 0;
}

static int job_setup(struct job *j, stralloc *text)
{
  unsigned long session = limit_get(LIM_SESSION);
  int code = seconds_ms("qmqptimeoutconnect", 10, &j->tconn_ms, text);
  if (!code) code = seconds_ms("qmqptimeout", 60, &j->tio_ms, text);
  if (code) return code;
  if (session > MAXSECONDS) session = MAXSECONDS;
  j->deadline = io_now_ms() + (long long)session * 1000;
  j->st = calloc(j->env.n, 1);
  if (!j->st) return 51;
  return load_servers(j, text);
}

/* ---- the result ------------------------------------------------------- */

/* set_text: text = letter + counts + what + reason (capped). */
static int set_text(stralloc *text, char letter, size_t n, size_t m,
                    const char *what, const stralloc *reason)
{
  text->len = 0;
  if (!stralloc_append(text, &letter) || !sa_catnum(text, n) ||
      !stralloc_cats(text, " of ") || !sa_catnum(text, m) ||
      !stralloc_cats(text, what)) return 51;
  if (!stralloc_catb(text, reason->s, reason->len)) return 51;
  if (text->len > TEXT_MAX + 1) text->len = TEXT_MAX + 1;
  return 82;
}

/* plain_text: text = letter + t; 82, or 51. */
static int plain_text(stralloc *text, char letter, const stralloc *t)
{
  text->len = 0;
  return stralloc_append(text, &letter) && stralloc_catb(text, t->s, t->len) ? 82 : 51;
}

/* still_pending: some recipients got an answer, some are still pending. */
static int still_pending(struct job *j, size_t pending, stralloc *text)
{
  stralloc why = {0};
  struct qq_status q;
  int code;
  if (j->zseen && j->ztext.len) {
    code = set_text(text, 'Z', pending, j->env.n, " recipients not accepted yet: ", &j->ztext);
  } else if (!j->zseen && j->why.len) {
    code = set_text(text, 'Z', pending, j->env.n, " recipients not accepted yet: ", &j->why);
  } else {
    qq_status(j->zseen ? 71 : j->problem ? j->problem : 73, 0, 0, &q);
    if (!stralloc_copyb(&why, q.text, q.textlen)) return 51;
    code = set_text(text, 'Z', pending, j->env.n, " recipients not accepted yet: ", &why);
  }
  stralloc_free(&why);
  return code;
}

/* unreached: no hub answered: the problems met, 82 (51 out of memory). */
static int unreached(struct job *j, stralloc *text)
{
  text->len = 0;
  return stralloc_copys(text, "Zno hub took the message: ") && stralloc_cat(text, &j->why) &&
         stralloc_cats(text, j->problem == 74 ? " (#4.4.2)" : " (#4.4.1)") ? 82 : 51;
}

static int finish(struct job *j, stralloc *text)
{
  size_t pending = j->env.n - j->nk - j->nd;
  if (pending == 0 && j->nd == 0) return 0;
  if (pending == 0 && j->nk == 0)
    return j->dfirst.len ? plain_text(text, 'D', &j->dfirst) : 31;
  if (pending == 0)
    return set_text(text, 'D', j->nd, j->env.n, " recipients refused: ", &j->dlist);
  if (pending < j->env.n) return still_pending(j, pending, text);
  if (j->zseen) return j->ztext.len ? plain_text(text, 'Z', &j->ztext) : 71;
  if (j->why.len) return unreached(j, text);
  return j->problem ? j->problem : 73;
}

/* ---- the run ---------------------------------------------------------- */

/* failed_connects: note every candidate whose connection failed since
 * before[] was taken. 1 ok, 0 no memory. */
static int failed_connects(struct job *j, const unsigned char *before)
{
  char what[64];
  size_t k;
  for (k = 0; k < j->ncand; ++k) {
    if (before[k] != NET_UNTRIED || j->cstate[k] != NET_FAILED) continue;
    if (j->cerr[k] == ETIMEDOUT && io_now_ms() >= j->deadline)
      snprintf(what, sizeof what, "timeoutsession reached while connecting");
    else if (j->cerr[k] == ETIMEDOUT)
      snprintf(what, sizeof what, "connect timed out after %d s", j->tconn_ms / 1000);
    else
      snprintf(what, sizeof what, "%s", net_strerror(j->cerr[k]));
    if (!trouble(j, "hub ", label(j, k), what)) return 0;
  }
  return 1;
}

/* ---- QMTPS: bin/qmail-qmtpsc holds the TLS ------------------------------ */

/* helper_exec: in the child: fd 0 the plaintext socket, fd 3 the hub's. */
static void helper_exec(const char *path, int plain, int fd, char **argv)
{
  char *envp[2] = { 0, 0 };
  const char *home = getenv("QMAILHOME");
  stralloc e = {0};
  if (home && stralloc_copys(&e, "QMAILHOME=") && stralloc_cats(&e, home) && stralloc_0(&e))
    envp[0] = e.s;
  if (dup2(plain, 0) < 0 || (fd == 3 ? fcntl(3, F_SETFD, 0) : dup2(fd, 3)) < 0) _exit(111);
  closefrom(4);
  execve(path, argv, envp);
  (void)!write(0, "Zcannot run " QMTPS_HELPER "\n", sizeof "Zcannot run " QMTPS_HELPER);
  _exit(111);
}

/* status_line: the helper's first line into line (NUL-terminated, no LF).
 * 0 ok, -1 (j->broke set). */
static int status_line(struct job *j, int fd, char *line, size_t max)
{
  struct io_limits lim;
  size_t n = 0;
  lim.deadline_ms = j->deadline;
  lim.timeout_ms = j->tio_ms + 5000;   /* the helper's handshake has tio_ms */
  for (;;) {
    ssize_t r = io_read(fd, line + n, 1, &lim);
    if (r <= 0) {
      if (r < 0) broke(j, errno, "waiting for the TLS handshake");
      else snprintf(j->broke, sizeof j->broke, "TLS: " QMTPS_HELPER " ended without a word");
      return -1;
    }
    if (line[n] == '\n') break;
    if (++n >= max - 1) {
      snprintf(j->broke, sizeof j->broke, "TLS: " QMTPS_HELPER " said too much");
      return -1;
    }
  }
  line[n] = 0;
  return 0;
}

/* tunnel_close: end the helper: it sees EOF, sends close_notify and exits;
 * waited for 3 s at most, then killed. */
static void tunnel_close(int fd, pid_t pid)
{
  int i, st;
  close(fd);
  for (i = 0; i < 300; ++i) {
    if (waitpid(pid, &st, WNOHANG) != 0) return;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  (void)waitpid(pid, &st, 0);
}

/* tunnel_open: run bin/qmail-qmtpsc on the hub's socket fd (closed here)
 * for candidate w and read its status. The plaintext socket (*pid the
 * helper), or -1 with j->broke set (-2: no memory). */
static int tunnel_open(struct job *j, int fd, size_t w, pid_t *pid)
{
  char tmo[24], dl[24], line[QMTPS_STATUSMAX];
  char *argv[5];
  stralloc path = {0};
  long long left = j->deadline - io_now_ms();
  int sp[2];
  if (!home_path(&path, QMTPS_HELPER)) { close(fd); return -2; }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
    broke(j, errno, "starting " QMTPS_HELPER);
    stralloc_free(&path);
    close(fd);
    return -1;
  }
  snprintf(tmo, sizeof tmo, "%d", j->tio_ms);
  snprintf(dl, sizeof dl, "%lld", left > 0 ? left : 1);
  argv[0] = (char *)"qmail-qmtpsc";
  argv[1] = j->labels.s + j->chost[w];
  argv[2] = tmo;
  argv[3] = dl;
  argv[4] = 0;
  *pid = fork();
  if (*pid == 0) helper_exec(path.s, sp[1], fd, argv);
  stralloc_free(&path);
  close(sp[1]);
  close(fd);
  if (*pid < 0) { broke(j, errno, "starting " QMTPS_HELPER); close(sp[0]); return -1; }
  if (status_line(j, sp[0], line, sizeof line) < 0) { tunnel_close(sp[0], *pid); return -1; }
  if (line[0] != 'K') {
    snprintf(j->broke, sizeof j->broke, "%s", line[0] == 'Z' ? line + 1 : "TLS: a bad status");
    tunnel_close(sp[0], *pid);
    return -1;
  }
  say("hub ", label(j, w), ": connected (QMTPS) ", line + 1, strlen(line + 1));
  return sp[0];
}

/* converse: the session with candidate w on the connected socket fd
 * (closed here). */
static int converse(struct job *j, int fd, size_t w)
{
  pid_t pid;
  int res;
  if (j->cproto[w] != NET_QMTPS) {
    say("hub ", label(j, w), j->cproto[w] == NET_QMTP ? ": connected (QMTP)"
                                                     : ": connected (QMQP)", "", 0);
    res = session(j, fd, j->cproto[w]);
    close(fd);
    return res;
  }
  fd = tunnel_open(j, fd, w, &pid);
  if (fd == -2) return S_NOMEM;
  if (fd < 0) return S_BROKEN;
  res = session(j, fd, NET_QMTP);
  tunnel_close(fd, pid);
  return res;
}

/* attempts: connect and offer the pending recipients until none is left
 * pending or no candidate is left. 0, or 51. */
static int attempts(struct job *j, unsigned char *before)
{
  while (j->nk + j->nd < j->env.n) {
    size_t w;
    int err, res, fd;
    if (j->ncand) memcpy(before, j->cstate, j->ncand);
    fd = net_connect_errs(j->cand, j->cstate, j->cerr, j->ncand, STAGGER_MS,
                          j->tconn_ms, j->deadline, &w, &err);
    if (!failed_connects(j, before)) { if (fd >= 0) close(fd); return 51; }
    if (fd < 0) {
      if (err == ENOMEM) return 51;
      if (err != ENOENT) j->problem = err == ETIMEDOUT ? 72 : 73;
      return 0;
    }
    j->w = w;
    res = converse(j, fd, w);
    if (res == S_NOMEM) return 51;
    if (res == S_BROKEN) {
      j->problem = 74;
      if (!trouble(j, "hub ", label(j, w), j->broke)) return 51;
    }
  }
  return 0;
}

static int job_run(struct job *j, stralloc *text)
{
  unsigned char *before = malloc(j->ncand ? j->ncand : 1);
  int code;
  if (!before) return 51;
  code = attempts(j, before);
  free(before);
  return code ? code : finish(j, text);
}

static void job_free(struct job *j)
{
  free(j->st);
  free(j->cand);
  free(j->cstate);
  free(j->cproto);
  free(j->cerr);
  free(j->clabel);
  free(j->chost);
  stralloc_free(&j->labels);
  stralloc_free(&j->ztext);
  stralloc_free(&j->dfirst);
  stralloc_free(&j->dlist);
  stralloc_free(&j->why);
}

/* states: each recipient's fate, for qmqpc_send_st. */
static void states(const struct job *j, char *st)
{
  size_t i;
  for (i = 0; i < j->env.n; ++i)
    st[i] = j->st[i] == R_K ? 'K' : j->st[i] == R_D ? 'D' : 'Z';
}

int qmqpc_send(struct spool *msg, const char *env, size_t envlen, stralloc *text)
{
  return qmqpc_send_st(msg, env, envlen, text, 0);
}

int qmqpc_send_st(struct spool *msg, const char *env, size_t envlen, stralloc *text,
                  char *st)
{
  struct job j;
  struct sigaction ign, old;
  int code;
  memset(&j, 0, sizeof j);
  j.msg = msg;
  text->len = 0;
  code = env_parse(&j.env, env, envlen);
  if (!code) code = job_setup(&j, text);
  if (!code) {
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    code = job_run(&j, text);
    sigaction(SIGPIPE, &old, 0);
    if (st) states(&j, st);
  }
  job_free(&j);
  return code;
}
