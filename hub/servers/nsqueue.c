/* nsqueue.c: streaming a netstring server's message into the queue (see
 * nsqueue.h). One message streams at a time per process; messages already
 * sent may wait for their verdicts (nsq_send, nsq_verdict). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "q_err.h"
#include "q_netstring.h"
#include "q_qq.h"
#include "q_qqstatus.h"
#include "q_sa.h"
#include "nsqueue.h"
#include "received.h"
#include "refuselog.h"

static struct qq qq;
static const char *proto, *tls, *by, *relayclient;
static const struct io_limits *lim;
static stralloc rcpt;   /* a recipient with RELAYCLIENT appended */

void nsq_init(const char *p, const char *t, const char *b, const struct io_limits *li,
              const char *rc)
{
  proto = p;
  tls = t;
  by = b;
  lim = li;
  relayclient = rc;
}

static void q_start(void *ctx)
{
  struct received_info ri;
  stralloc line = {0};
  (void)ctx;
  ri.proto = proto;
  ri.tls = tls;
  ri.auth = 0;
  ri.relay = relayclient != 0;   /* qmail-remote signs it (docs/dkim.md) */
  ri.by = by;
  ri.remoteip = getenv("TCPREMOTEIP");
  ri.remotehost = getenv("TCPREMOTEHOST");
  ri.remoteinfo = getenv("TCPREMOTEINFO");
  ri.helo = 0;
  qq_start(&qq);  /* a failure is remembered: qq_finish reports it */
  qq_limits(&qq, lim);
  if (!received_line(&line, &ri, (long long)time(0))) fatal_nomem();
  qq_put(&qq, line.s, line.len);
  stralloc_free(&line);
}

static void q_put(void *ctx, const char *buf, size_t len) { (void)ctx; qq_put(&qq, buf, len); }
static void q_from(void *ctx, const char *a, size_t len) { (void)ctx; qq_from(&qq, a, len); }
static void q_abort(void *ctx) { (void)ctx; qq_abort(&qq); }

static void q_to(void *ctx, const char *a, size_t len)
{
  (void)ctx;
  if (!relayclient) { qq_to(&qq, a, len); return; }
  if (!stralloc_copyb(&rcpt, a, len) || !stralloc_cats(&rcpt, relayclient)) fatal_nomem();
  qq_to(&qq, rcpt.s, rcpt.len);
}

const struct nsr_queue nsq_callbacks = { 0, q_start, q_put, q_from, q_to, q_abort };

void nsq_send(struct nsq_pending *p)
{
  p->pid = (unsigned long)(qq.pid ? qq.pid : getpid());
  qq_send(&qq, &p->qp);
}

void nsq_verdict(struct nsq_pending *p, stralloc *t)
{
  stralloc fd6 = {0};
  struct qq_status st;
  int code = qq_verdict(&p->qp, &fd6);
  qq_status(code, fd6.s, fd6.len, &st);
  if (!stralloc_copyb(t, &st.kind, 1) || !stralloc_catb(t, st.text, st.textlen)) fatal_nomem();
  if (st.kind == 'K' &&
      !(stralloc_cats(t, " ") && sa_catnum(t, (unsigned long long)time(0)) &&
        stralloc_cats(t, " qp ") && sa_catnum(t, p->pid)))
    fatal_nomem();
  if (st.kind != 'K') refuselog_ns("message", t->s, t->len, 0, 0);
  stralloc_free(&fd6);
}

void nsq_commit(stralloc *t)
{
  struct nsq_pending p;
  nsq_send(&p);
  nsq_verdict(&p, t);
}

/* stage: where in a request a refusal belongs. */
static const char *stage(enum nsr_why why)
{
  switch (why) {
  case NSR_SENDER: return "sender";
  case NSR_ADDR: case NSR_RELAY: case NSR_LATER: case NSR_TEMP: return "recipient";
  case NSR_NOUSER: case NSR_NOCHECK: return "recipient";
  case NSR_NORCPT: case NSR_TOOMANY: return "envelope";
  default: return "message";
  }
}

void nsq_refused(void *ctx, enum nsr_why why, const char *addr, size_t len)
{
  const char *t = nsr_reply(why);
  (void)ctx;
  refuselog_ns(stage(why), t, strlen(t), len ? addr : 0, len);
}

/* cat: append s to buf[0..*n), kept below size. */
static void cat(char *buf, size_t size, size_t *n, const char *s)
{
  size_t l = strlen(s);
  if (l > size - *n) l = size - *n;
  memcpy(buf + *n, s, l);
  *n += l;
}

int nsq_dropped(int r, const char *unit, const char *bad, const char *inside)
{
  char why[256];
  size_t n = 0;
  struct refusal f = { "envelope", "-", 0, why, 0, 0, 0 };
  int malformed = r == NS_BAD || r == NS_TOOBIG;
  cat(why, sizeof why, &n, "dropped ");
  cat(why, sizeof why, &n, unit);
  cat(why, sizeof why, &n, ": ");
  if (malformed) cat(why, sizeof why, &n, r == NS_BAD ? bad : "netstring over the size cap");
  else if (r == NS_NOMEM) cat(why, sizeof why, &n, "out of memory");
  else {
    cat(why, sizeof why, &n, "connection ended, timed out or failed inside ");
    cat(why, sizeof why, &n, inside);
  }
  f.reasonlen = n;
  refuselog(&f);
  return malformed ? 100 : 111;
}
