/* qmail-qmtpd: the hub's QMTP server (cr.yp.to/proto/qmtp.txt;
 * docs/protocols.md and docs/bad-input.md, QMTP), run by tcpserver with
 * the socket on fd 0/1.
 *
 * Many packages per connection (at most maxqmtppackages, LIM_QMTPPKGS),
 * each ns(encoded message) ns(sender) ns(ns(rcpt)...). The message's first
 * byte is LF (stored as it is) or CR (CRLF becomes LF, a lone CR stays; a
 * bare LF in CR form stays too: T6); anything else drops the connection.
 * The message streams into the queue under a Received line "with QMTP".
 * After the package's last byte: one reply per recipient, in order,
 * duplicates included. A recipient is refused alone for a bad address
 * (#5.1.3), a domain outside rcpthosts (#5.7.1; no check when RELAYCLIENT
 * is set, whose value is then appended to each recipient), a local
 * address nobody takes (#5.1.1; Z #4.3.0 when the recipient table cannot
 * tell; control/rcptcheck, rcptcheck.h), or beyond maxrcpt (Z #4.5.3); the whole package for a bad sender (#5.1.7), size
 * over databytes (#5.3.4) or maxhops hops (#5.4.6). The accepted
 * recipients share one queued copy and the queue's K/Z/D.
 *
 * Pipelining: replies wait in a buffer while more input is already there
 * and are flushed before any read that could block, so a client that
 * writes every package before reading is answered once it stops writing.
 *
 * Caps as for qmail-qmqpd (maxnetstring per message, databytes, maxaddress,
 * maxrcpt, maxhops), plus the recipient list of one package: at most
 * 2 * maxrcpt * (maxaddress + 8) bytes. Timeouts: control/timeoutqmtpd
 * seconds per read or write (default 60), timeoutsession for the whole
 * connection (LIM_SESSION, 1800). A control file that is present but
 * unreadable or invalid is never the default: one Z reply, exit 111
 * (nsconf.h).
 *
 * Each refusal is one escaped log line on fd 2 (refuselog.h, nsqueue.h):
 * one per recipient refused alone, one per package refused as a whole.
 *
 * Exit: 0 client done (EOF between packages) or package cap reached;
 * 100 malformed or oversized netstring or bad encoding byte (the package
 * is dropped unanswered, earlier replies are still sent); 111 timeout, EOF
 * inside a package, I/O error, out of memory, unusable control file. */
#include <poll.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "buffer.h"
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_perip.h"
#include "q_io.h"
#include "q_limits.h"
#include "q_netstring.h"
#include "q_qq.h"
#include "q_qqstatus.h"
#include "q_sa.h"
#include "nsconf.h"
#include "nsqueue.h"
#include "nsread.h"
#include "rcptcheck.h"
#include "rcpthosts.h"
#include "received.h"

#define TIMEOUT_DEFAULT 60

static struct io_limits lim;
static char inspace[65536];
static buffer in;
static char outspace[8192];
static buffer out;
static stralloc local;
static const char *relayclient;

static void die_control(const char *name) __attribute__((noreturn));
static void die_control(const char *name) { nsconf_fail(name, control_strerror(errno)); }

/* blockcap: 2 * maxrcpt * (maxaddress + 8), saturating at msgcap. */
static size_t blockcap(size_t msgcap, unsigned long maxrcpts, size_t maxaddr)
{
  size_t per = maxaddr + 8, n;
  if (per < maxaddr || maxrcpts > msgcap / 2 / per) return msgcap;
  n = 2 * (size_t)maxrcpts * per;
  return n < msgcap ? n : msgcap;
}

static void config_limits(void)
{
  limit_onfail(nsconf_fail);
  lim.timeout_ms = nsconf_timeout("timeoutqmtpd", TIMEOUT_DEFAULT);
  lim.deadline_ms = io_now_ms() + (long long)limit_get(LIM_SESSION) * 1000;
}

static int rcpt_ok(void *ctx, const char *a, size_t len)
{
  (void)ctx;
  return relayclient ? 1 : rcpthosts_ok(a, len);
}

/* rcpt_known: the recipient check (rcptcheck.h) on the address as it
 * will be queued, RELAYCLIENT's suffix included. */
static int rcpt_known(void *ctx, const char *a, size_t len)
{
  static stralloc q;
  (void)ctx;
  if (!stralloc_copyb(&q, a, len) || (relayclient && !stralloc_cats(&q, relayclient))) fatal_nomem();
  return rcptcheck(q.s, q.len);
}

static void config(struct nsr_policy *p)
{
  unsigned long db;
  const char *name;
  config_limits();
  db = nsconf_databytes();
  relayclient = getenv("RELAYCLIENT");
  if (rcpthosts_init() < 0) die_control("rcpthosts");
  if (rcptcheck_init(&name) < 0) die_control(name);
  p->msgcap = limit_get(LIM_NETSTRING);
  p->databytes = db;
  p->maxaddr = limit_get(LIM_ADDR);
  p->maxrcpts = limit_get(LIM_RCPTS);
  p->maxhops = limit_get(LIM_HOPS);
  p->blockcap = blockcap(p->msgcap, p->maxrcpts, p->maxaddr);
  p->rcpt_ok = rcpt_ok;
  p->rcpt_known = rcptcheck_on() ? rcpt_known : 0;
  p->rcpt_ctx = 0;
  p->refused = nsq_refused;
  if (received_localname(&local) < 0) die_control("me");
}


/* ---- I/O ---------------------------------------------------------------------- */

/* read_op: flush the held replies unless input is waiting already, so
 * replies are batched for a pipelining client and never held while we
 * block waiting for one. */
static ssize_t read_op(int fd, char *buf, size_t len, void *b)
{
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  if (poll(&p, 1, 0) <= 0 && buffer_flush(&out) < 0) return -1;
  return io_bread(fd, buf, len, b);
}

/* finish: send what is held (with a fresh timeout: the session deadline
 * may be what ended us) and exit. */
static void finish(int code)
{
  lim.deadline_ms = 0;
  if (buffer_flush(&out) < 0 && code == 0) code = 111;
  _exit(code);
}

static void drop(int r)
{
  finish(nsq_dropped(r, "package", "malformed netstring or encoding byte", "a package"));
}

/* answer: one reply netstring per recipient, in order. */
static void answer(const struct nsr_pkg *pkg, const stralloc *kept)
{
  stralloc reply = {0};
  size_t i;
  for (i = 0; i < pkg->why.len; ++i) {
    enum nsr_why w = (enum nsr_why)pkg->why.s[i];
    const char *t = w == NSR_ACCEPT ? kept->s : nsr_reply(w);
    size_t tl = w == NSR_ACCEPT ? kept->len : strlen(t);
    reply.len = 0;
    if (!ns_cat(&reply, t, tl)) fatal_nomem();
    if (buffer_put(&out, reply.s, reply.len) < 0) finish(111);
  }
  stralloc_free(&reply);
}

int main(void)
{
  struct nsr_policy pol;
  struct nsr_pkg pkg = { {0, 0, 0}, 0 };
  stralloc kept = {0};
  unsigned long n, maxpkgs;
  progname = "qmail-qmtpd";
  signal(SIGPIPE, SIG_IGN);
  perip_gate(progname, 0);   /* docs/limits.md: PERIP */
  config(&pol);
  nsq_init("QMTP", local.s, &lim, relayclient);
  maxpkgs = limit_get(LIM_QMTPPKGS);
  buffer_init(&in, (ssize_t (*)())read_op, 0, inspace, sizeof inspace);
  in.cookie = &lim;
  buffer_init(&out, (ssize_t (*)())io_bwrite, 1, outspace, sizeof outspace);
  out.cookie = &lim;
  for (n = 0; n < maxpkgs; ++n) {
    int r = nsr_qmtp(&in, &pol, &nsq_callbacks, &pkg);
    if (r == NS_EOF) finish(0);
    if (r != NSR_OK) drop(r);
    kept.len = 0;
    if (pkg.accepted) nsq_commit(&kept);
    answer(&pkg, &kept);
  }
  finish(0);
  return 0;
}
