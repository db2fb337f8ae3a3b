/* nsread.c: streaming netstring readers and the QMQP and QMTP request
 * readers (see nsread.h). Caps come from the caller's struct nsr_policy;
 * nothing here allocates more than one address (maxaddr bytes) or, for a
 * QMTP package, one byte per recipient (bounded by blockcap / 3). */
#include <errno.h>
#include <string.h>
#include "byte.h"
#include "hops.h"
#include "q_addr.h"
#include "nsread.h"

/* ---- low-level readers ---------------------------------------------------- */

/* head_size: bytes of "<len>:" (no leading zeros, so the digits are exact). */
static size_t head_size(size_t len)
{
  size_t n = 2;
  while (len >= 10) { len /= 10; ++n; }
  return n;
}

int nsr_head(buffer *b, size_t cap, size_t *len, size_t *left)
{
  size_t v, need;
  int r;
  if (left && *left < cap) cap = *left;
  r = ns_getlen(b, cap, &v);
  if (r != NS_OK) {
    /* inside an enclosing netstring even a clean EOF is a truncation */
    if (left && r == NS_EOF) { errno = EPROTO; return NS_IOERR; }
    if (left && r == NS_TOOBIG) return NS_BAD;
    return r;
  }
  if (left) {
    need = head_size(v);
    if (need > *left || *left - need < v || *left - need - v < 1) return NS_BAD;
    *left -= need + v + 1;
  }
  *len = v;
  return NS_OK;
}

int nsr_stream(buffer *b, size_t len, nsr_sink sink, void *ctx)
{
  while (len > 0) {
    ssize_t n = buffer_feed(b);
    size_t m;
    if (n < 0) return NS_IOERR;
    if (n == 0) { errno = EPROTO; return NS_IOERR; }
    m = (size_t)n < len ? (size_t)n : len;
    if (sink) sink(ctx, buffer_peek(b), m);
    buffer_seek(b, m);
    len -= m;
  }
  return ns_getcomma(b);
}

int nsr_skip(buffer *b, size_t len)
{
  return nsr_stream(b, len, 0, 0);
}

static void sa_sink(void *ctx, const char *buf, size_t len)
{
  stralloc *sa = ctx;
  /* room was made before streaming, so this cannot fail or move */
  byte_copy(sa->s + sa->len, len, buf);
  sa->len += len;
}

int nsr_addr(buffer *b, size_t maxaddr, stralloc *sa, size_t *left)
{
  size_t len;
  int r = nsr_head(b, left ? (size_t)-1 : maxaddr, &len, left);
  if (r != NS_OK) return r;
  sa->len = 0;
  if (len > maxaddr) {
    r = nsr_skip(b, len);
    return r == NS_OK ? NSR_BADADDR : r;
  }
  if (!stralloc_ready(sa, len + 1)) return NS_NOMEM;
  r = nsr_stream(b, len, sa_sink, sa);
  if (r != NS_OK) return r;
  return addr_env_check(sa->s, sa->len, maxaddr) == ADDR_ENV_OK ? NSR_OK : NSR_BADADDR;
}

/* ---- reply texts ------------------------------------------------------------- */

static const char *const replies[NSR_WHYCOUNT] = {
  [NSR_ACCEPT] = "K",
  [NSR_TOOBIG] = "Dmessage is bigger than this server accepts (databytes) (#5.3.4)",
  [NSR_HOPS] = "Dtoo many Received/Delivered-To lines: mail loop? (#5.4.6)",
  [NSR_SENDER] = "Dsender address too long or containing a control character (#5.1.7)",
  [NSR_ADDR] = "Drecipient address too long or containing a control character (#5.1.3)",
  [NSR_NORCPT] = "Dno recipients (#5.1.3)",
  [NSR_TOOMANY] = "Dtoo many recipients for one message (#5.5.3)",
  [NSR_LATER] = "Ztoo many recipients, send the rest later (#4.5.3)",
  [NSR_RELAY] = "Ddomain not in rcpthosts, relaying denied (#5.7.1)",
  [NSR_TEMP] = "Zunable to check rcpthosts, try again later (#4.3.0)",
  [NSR_NOUSER] = "Dsorry, no mailbox here by that name (#5.1.1)",
  [NSR_NOCHECK] = "Zunable to check the recipient, try again later (#4.3.0)",
};

const char *nsr_reply(enum nsr_why why)
{
  return (unsigned)why < NSR_WHYCOUNT ? replies[why] : replies[NSR_TEMP];
}

/* ---- one message on its way to the queue ---------------------------------------
 * Message bytes (as stored) pass through msg_feed, which counts them
 * against databytes, counts hops and hands them on. The first problem
 * aborts the queue at once: the rest of the message is read and dropped. */

struct msg {
  const struct nsr_policy *p;
  const struct nsr_queue *q;
  int live;                /* queue started and not aborted */
  enum nsr_why why;        /* first message-level problem, or NSR_ACCEPT */
  unsigned long long size; /* bytes as stored */
  struct hops hops;
  int pendcr;              /* CR encoding: a CR ended the last chunk */
};

static void msg_init(struct msg *m, const struct nsr_policy *p, const struct nsr_queue *q)
{
  m->p = p;
  m->q = q;
  m->live = 0;
  m->why = NSR_ACCEPT;
  m->size = 0;
  m->pendcr = 0;
  hops_init(&m->hops);
}

static void msg_start(struct msg *m)
{
  m->q->start(m->q->ctx);
  m->live = 1;
}

static void msg_abort(struct msg *m)
{
  if (m->live) m->q->abort(m->q->ctx);
  m->live = 0;
}

/* told: a refusal decided (see refused in nsread.h). */
static void told(const struct nsr_policy *p, enum nsr_why why, const stralloc *sa)
{
  if (p->refused) p->refused(p->rcpt_ctx, why, sa ? sa->s : 0, sa ? sa->len : 0);
}

static void msg_refuse(struct msg *m, enum nsr_why why, const stralloc *sa)
{
  if (m->why == NSR_ACCEPT) {
    m->why = why;
    told(m->p, why, sa);
  }
  msg_abort(m);
}

static void msg_feed(struct msg *m, const char *buf, size_t len)
{
  unsigned long db = m->p->databytes;
  if (m->why != NSR_ACCEPT || len == 0) return;
  if (db && (m->size > db || len > db - m->size)) { msg_refuse(m, NSR_TOOBIG, 0); return; }
  m->size += len;
  hops_feed(&m->hops, buf, len);
  if (m->hops.count >= m->p->maxhops) { msg_refuse(m, NSR_HOPS, 0); return; }
  if (m->live) m->q->put(m->q->ctx, buf, len);
}

static void lf_sink(void *ctx, const char *buf, size_t len)
{
  msg_feed(ctx, buf, len);
}

/* cr_sink: CR encoding. Each CRLF becomes LF, a CR not followed by LF is
 * kept, a bare LF is kept (T6: such a message is "unsafe" and the spec
 * lets us alter it; storing the LF unchanged is the least surprise). A CR
 * at the end of a chunk waits for the next byte. */
static void cr_sink(void *ctx, const char *buf, size_t len)
{
  struct msg *m = ctx;
  size_t i, start = 0;
  if (m->pendcr) {
    m->pendcr = 0;
    if (buf[0] != '\n') msg_feed(m, "\r", 1);
  }
  for (i = 0; i < len; ++i) {
    if (buf[i] != '\r') continue;
    if (i + 1 == len) {
      msg_feed(m, buf + start, i - start);
      m->pendcr = 1;
      return;
    }
    if (buf[i + 1] == '\n') {
      msg_feed(m, buf + start, i - start);
      start = i + 1;
    }
  }
  msg_feed(m, buf + start, len - start);
}

static void cr_end(struct msg *m)
{
  if (m->pendcr) msg_feed(m, "\r", 1);
  m->pendcr = 0;
}

/* ---- QMQP -------------------------------------------------------------------- */

/* qmqp_message: the message netstring inside the outer one. */
static int qmqp_message(buffer *b, struct msg *m, size_t *left)
{
  size_t len;
  int r = nsr_head(b, m->p->msgcap, &len, left);
  if (r != NS_OK) return r;
  if (m->p->databytes && len > m->p->databytes) {
    m->why = NSR_TOOBIG;   /* known from the length: no queue at all */
    told(m->p, NSR_TOOBIG, 0);
    return nsr_skip(b, len);
  }
  msg_start(m);
  return nsr_stream(b, len, lf_sink, m);
}

/* qmqp_refuse: the request's one refusal, if it has none yet. */
static void qmqp_refuse(struct msg *m, enum nsr_why *why, enum nsr_why w, const stralloc *sa)
{
  if (*why != NSR_ACCEPT) return;
  *why = w;
  told(m->p, w, sa);
}

/* qmqp_known: rcpt_known's verdicts over the request, counted in k[0]
 * (no such address), k[1] (deliverable), k[2] (cannot tell). */
static void qmqp_known(const struct nsr_policy *p, const stralloc *sa, unsigned long k[3])
{
  int r = p->rcpt_known ? p->rcpt_known(p->rcpt_ctx, sa->s, sa->len) : 1;
  ++k[r < 0 ? 2 : r > 0];
}

/* qmqp_rcpts: recipients until the outer netstring is used up. */
static int qmqp_rcpts(buffer *b, struct msg *m, stralloc *sa, size_t *left, enum nsr_why *why)
{
  unsigned long n = 0, k[3] = {0, 0, 0};
  while (*left > 0) {
    int r = nsr_addr(b, m->p->maxaddr, sa, left);
    if (r < 0) return r;
    if (r == NSR_BADADDR) { qmqp_refuse(m, why, NSR_ADDR, sa); continue; }
    if (++n > m->p->maxrcpts) { qmqp_refuse(m, why, NSR_TOOMANY, 0); continue; }
    if (*why == NSR_ACCEPT) qmqp_known(m->p, sa, k);
    if (m->live && *why == NSR_ACCEPT) m->q->to(m->q->ctx, sa->s, sa->len);
  }
  if (n == 0) qmqp_refuse(m, why, NSR_NORCPT, 0);
  if (n && !k[1]) qmqp_refuse(m, why, k[2] ? NSR_NOCHECK : NSR_NOUSER, 0);
  return NS_OK;
}

static int qmqp_body(buffer *b, struct msg *m, stralloc *sa, enum nsr_why *why)
{
  size_t outer;
  int r = nsr_head(b, m->p->msgcap, &outer, 0);
  if (r == NS_EOF) { errno = EPROTO; return NS_IOERR; }
  if (r != NS_OK) return r;
  r = qmqp_message(b, m, &outer);
  if (r != NS_OK) return r;
  r = nsr_addr(b, m->p->maxaddr, sa, &outer);
  if (r < 0) return r;
  if (r == NSR_BADADDR) msg_refuse(m, NSR_SENDER, sa);
  else if (m->live && m->why == NSR_ACCEPT) m->q->from(m->q->ctx, sa->s, sa->len);
  *why = m->why;
  r = qmqp_rcpts(b, m, sa, &outer, why);
  if (r != NS_OK) return r;
  return ns_getcomma(b);
}

int nsr_qmqp(buffer *b, const struct nsr_policy *p, const struct nsr_queue *q,
             enum nsr_why *why)
{
  struct msg m;
  stralloc sa = {0, 0, 0};
  int r;
  msg_init(&m, p, q);
  *why = NSR_ACCEPT;
  r = qmqp_body(b, &m, &sa, why);
  stralloc_free(&sa);
  if (r != NS_OK || *why != NSR_ACCEPT) msg_abort(&m);
  return r;
}

/* ---- QMTP -------------------------------------------------------------------- */

/* qmtp_message: the encoded message: its first byte says LF or CR form. */
static int qmtp_message(buffer *b, struct msg *m)
{
  size_t len;
  char c;
  ssize_t got;
  int r = nsr_head(b, m->p->msgcap, &len, 0);
  if (r != NS_OK) return r;
  if (len == 0) return NS_BAD;
  got = buffer_getc(b, &c);
  if (got < 0) return NS_IOERR;
  if (got == 0) { errno = EPROTO; return NS_IOERR; }
  if (c != '\n' && c != '\r') return NS_BAD;
  msg_start(m);
  r = nsr_stream(b, len - 1, c == '\n' ? lf_sink : cr_sink, m);
  cr_end(m);
  return r;
}

static int qmtp_sender(buffer *b, struct msg *m, stralloc *sa)
{
  size_t budget = m->p->msgcap;
  int r = nsr_addr(b, m->p->maxaddr, sa, &budget);
  if (r < 0) return r;
  if (r == NSR_BADADDR) msg_refuse(m, NSR_SENDER, sa);
  else if (m->live && m->why == NSR_ACCEPT) m->q->from(m->q->ctx, sa->s, sa->len);
  return NS_OK;
}

/* qmtp_judge: the fate of one recipient that was read without trouble. */
static enum nsr_why qmtp_judge(struct msg *m, struct nsr_pkg *pkg, const stralloc *sa)
{
  const struct nsr_policy *p = m->p;
  int ok = 1;
  if (pkg->accepted >= p->maxrcpts) return NSR_LATER;
  if (p->rcpt_ok) ok = p->rcpt_ok(p->rcpt_ctx, sa->s, sa->len);
  if (ok < 0) return NSR_TEMP;
  if (ok == 0) return NSR_RELAY;
  if (p->rcpt_known) ok = p->rcpt_known(p->rcpt_ctx, sa->s, sa->len);
  if (ok < 0) return NSR_NOCHECK;
  if (ok == 0) return NSR_NOUSER;
  ++pkg->accepted;
  m->q->to(m->q->ctx, sa->s, sa->len);
  return NSR_ACCEPT;
}

static int qmtp_rcpts(buffer *b, struct msg *m, stralloc *sa, struct nsr_pkg *pkg)
{
  size_t left;
  int r = nsr_head(b, m->p->blockcap, &left, 0);
  if (r == NS_EOF) { errno = EPROTO; return NS_IOERR; }
  if (r != NS_OK) return r;
  while (left > 0) {
    char w;
    r = nsr_addr(b, m->p->maxaddr, sa, &left);
    if (r < 0) return r;
    if (m->why != NSR_ACCEPT) w = (char)m->why;
    else {
      w = r == NSR_BADADDR ? NSR_ADDR : (char)qmtp_judge(m, pkg, sa);
      if (w != NSR_ACCEPT) told(m->p, (enum nsr_why)w, sa);
    }
    if (!stralloc_append(&pkg->why, &w)) return NS_NOMEM;
  }
  return ns_getcomma(b);
}

int nsr_qmtp(buffer *b, const struct nsr_policy *p, const struct nsr_queue *q,
             struct nsr_pkg *pkg)
{
  struct msg m;
  stralloc sa = {0, 0, 0};
  int r;
  msg_init(&m, p, q);
  pkg->why.len = 0;
  pkg->accepted = 0;
  r = qmtp_message(b, &m);
  if (r == NS_OK) r = qmtp_sender(b, &m, &sa);
  else if (r == NS_EOF) { stralloc_free(&sa); return NS_EOF; }
  if (r == NS_OK) r = qmtp_rcpts(b, &m, &sa, pkg);
  stralloc_free(&sa);
  if (r != NS_OK || pkg->accepted == 0) {
    msg_abort(&m);
    pkg->accepted = 0;
  }
  return r;
}
