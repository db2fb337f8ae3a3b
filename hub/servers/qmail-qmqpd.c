/* qmail-qmqpd: the hub's QMQP server (cr.yp.to/proto/qmqp.html;
 * docs/protocols.md and docs/bad-input.md, QMQP), run by tcpserver with
 * the socket on fd 0/1.
 *
 * One request per connection: ns( ns(message) ns(sender) ns(rcpt)... ).
 * The message streams into the queue as it arrives, under a Received line
 * "with QMQP"; memory stays flat whatever its size. One reply netstring
 * after the last byte: "Kok <time> qp <pid>", or the queue's Z/D text
 * (q_qqstatus), or a refusal from nsread.c.
 *
 * Caps: the outer netstring <= maxnetstring (LIM_NETSTRING), the message
 * <= databytes ($DATABYTES, else control/databytes; 0 = unlimited), an
 * address <= maxaddress bytes without a control character (q_addr.h),
 * <= maxrcpt recipients,
 * < maxhops Received/Delivered-To lines. Each read or write waits at most
 * control/timeoutqmqpd seconds (default 60), the whole session at most
 * timeoutsession (LIM_SESSION, 1800). A control file that is present but
 * unreadable or invalid is never the default: a Z reply, exit 111
 * (nsconf.h).
 *
 * Each refusal is one escaped log line on fd 2 (refuselog.h, nsqueue.h).
 *
 * Exit: 0 a reply was sent; 100 malformed or oversized netstring (dropped,
 * no reply, nothing queued); 111 timeout, EOF inside the request, read or
 * write error, out of memory, unusable control file. Access control is
 * tcpserver's job (QMQP has no rcpthosts).
 *
 * Recipient check (control/rcptcheck, rcptcheck.h): QMQP answers once per
 * message, so a message is refused only when none of its recipients is
 * deliverable: D #5.1.1 when each is a local address nobody takes, Z
 * #4.3.0 when one of them could not be checked. A message with at least
 * one good recipient is queued whole and the unknown ones bounce to the
 * sender, a user of a trusted leaf (tcp.qmqp), never a stranger. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
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
#include "received.h"
#include "ctlcache.h"
#include "srvconf.h"
#include "srvfork.h"

#define TIMEOUT_DEFAULT 60

static struct io_limits lim;
static char inspace[65536];
static buffer in;
static char outspace[1024];
static buffer out;
static struct srvname names;   /* received.h */

static void die_control(const char *name) __attribute__((noreturn));
static void die_control(const char *name) { nsconf_fail(name, control_strerror(errno)); }

static int rcpt_known(void *ctx, const char *a, size_t len)
{
  (void)ctx;
  return rcptcheck(a, len);
}

/* config: timeouts, databytes, our name, the recipient check; everything
 * else is a cap. */
static void config(struct nsr_policy *p)
{
  const char *name;
  nsconf_init();
  lim.timeout_ms = srvconf_timeout("timeoutqmqpd", TIMEOUT_DEFAULT);
  lim.deadline_ms = srvconf_deadline();
  p->databytes = srvconf_databytes();
  p->msgcap = limit_get(LIM_NETSTRING);
  p->blockcap = 0;
  p->maxaddr = limit_get(LIM_ADDR);
  p->maxrcpts = limit_get(LIM_RCPTS);
  p->maxhops = limit_get(LIM_HOPS);
  p->rcpt_ok = 0;
  if (rcptcheck_init(&name) < 0) die_control(name);
  p->rcpt_known = rcptcheck_on() ? rcpt_known : 0;
  p->rcpt_ctx = 0;
  p->refused = nsq_refused;
  if (srvname_read(&names, SRVNAME_ME, &name) < 0) die_control(name);
}


/* drop: a request we will not answer. */
static void drop(int r)
{
  _exit(nsq_dropped(r, "request", "malformed netstring", "the request"));
}

/* the control files a session reads, kept by the listener (ctlcache.h) */
static const char *const ctlfiles[] = {
  "me", "smtpgreeting", "timeoutqmqpd", "timeoutsession", "databytes", "rcptcheck", "locals",
  "virtualdomains", "percenthack", "envnoathost", "maxnetstring", "maxaddress", "maxrcpt",
  "maxhops", 0
};

static void preload(void) { ctlcache_load(ctlfiles); }

int main(void)
{
  struct nsr_policy pol;
  enum nsr_why why;
  stralloc text = {0}, reply = {0};
  int r;
  progname = "qmail-qmqpd";
  srvfork(progname, preload);   /* $SERVE: listen, return per connection (srvfork.h) */
  signal(SIGPIPE, SIG_IGN);
  perip_gate(progname, 0);   /* docs/limits.md: PERIP */
  config(&pol);
  nsq_init("QMQP", 0, names.by, &lim, 0);
  buffer_init(&in, (ssize_t (*)())io_bread, 0, inspace, sizeof inspace);
  in.cookie = &lim;
  buffer_init(&out, (ssize_t (*)())io_bwrite, 1, outspace, sizeof outspace);
  out.cookie = &lim;
  r = nsr_qmqp(&in, &pol, &nsq_callbacks, &why);
  if (r != NSR_OK) drop(r);
  if (why == NSR_ACCEPT) nsq_commit(&text);
  else if (!stralloc_copys(&text, nsr_reply(why))) fatal_nomem();
  if (!ns_cat(&reply, text.s, text.len)) fatal_nomem();
  if (buffer_putflush(&out, reply.s, reply.len) < 0) _exit(111);
  stralloc_free(&text);
  stralloc_free(&reply);
  return 0;
}
