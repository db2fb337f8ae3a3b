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
 * So do the verdicts: while more input is waiting, a package's message is
 * ended on its own connection to qmail-queued without waiting for the
 * verdict (a window of at most 32 packages), so that the daemon commits
 * the messages of a pipelined batch with one flush; the verdicts are
 * collected, and the replies sent, in order once no input is waiting, the
 * window is full, or the session ends. A reply still comes only after its
 * message's verdict (durable); a daemon failure is a Z for the packages it
 * held, and each later package runs bin/qmail-queue, as always.
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
 * QMTPS ($QMTPS non-empty; the qmail-qmtps service, port 6209 as s/qmail
 * uses; docs/tls.md): implicit TLS, the handshake (common/q_tls.h, with a
 * deadline of one timeoutqmtpd) before the first package, then every read
 * and write goes through TLS with the same caps and timeouts. The
 * certificate is control/servercert.pem: missing, unreadable or broken, it
 * is logged and we exit 111 without a byte in the clear. A client
 * certificate is asked for but optional and its chain is not checked in
 * the handshake; one listed in control/tlsclients (by fingerprint or CA,
 * tlsclients.h) may relay as with RELAYCLIENT="" (an env RELAYCLIENT
 * wins), logged with its fingerprint. An unusable control/tlsclients is a
 * temporary failure as for the other control files: the alert is logged,
 * one Z reply goes inside TLS, exit 111. The Received line says
 * "with QMTPS (TLSv1.3 cipher NAME bits N)". A failed handshake is one
 * refusal line (stage qmtps, code "-"); exit 0 when the client went away,
 * 111 at the deadline, 100 for no TLS or a failed handshake.
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
#include <tls.h>
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
#include "q_tls.h"
#include "nsconf.h"
#include "nsqueue.h"
#include "nsread.h"
#include "rcptcheck.h"
#include "rcpthosts.h"
#include "received.h"
#include "ctlcache.h"
#include "refuselog.h"
#include "srvconf.h"
#include "srvfork.h"
#include "tlsclients.h"

#define TIMEOUT_DEFAULT 60

static struct io_limits lim;
static char inspace[65536];
static buffer in;
static char outspace[8192];
static buffer out;
static struct srvname names;   /* received.h */
static const char *relayclient;
static struct qtls tls;
static int intls;      /* the session is inside TLS */
static stralloc tlsdesc; /* for the Received line */

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
  nsconf_init();
  lim.timeout_ms = srvconf_timeout("timeoutqmtpd", TIMEOUT_DEFAULT);
  lim.deadline_ms = srvconf_deadline();
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
  db = srvconf_databytes();
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
  if (srvname_read(&names, SRVNAME_ME, &name) < 0) die_control(name);
}


/* ---- I/O ---------------------------------------------------------------------- */

static void win_drain(void);

/* read_op: unless input is waiting already, answer the window and flush
 * the held replies, so replies are batched for a pipelining client and
 * never held while we block waiting for one. */
static ssize_t read_op(int fd, char *buf, size_t len, void *b)
{
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  if (poll(&p, 1, 0) <= 0) {
    win_drain();
    if (buffer_flush(&out) < 0) return -1;
  }
  return intls ? qtls_read(&tls, buf, len) : io_bread(fd, buf, len, b);
}

static ssize_t write_op(int fd, const char *buf, size_t len, void *b)
{
  return intls ? qtls_write(&tls, buf, len) : io_bwrite(fd, buf, len, b);
}

/* finish: answer the window and send what is held (with a fresh timeout:
 * the session deadline may be what ended us), and exit. */
static void finish(int code)
{
  lim.deadline_ms = 0;
  win_drain();
  if (buffer_flush(&out) < 0 && code == 0) code = 111;
  if (intls) qtls_close(&tls);
  _exit(code);
}

/* drop: the packages before this one are answered, this one is not */
static void drop(int r)
{
  lim.deadline_ms = 0;
  win_drain();
  finish(nsq_dropped(r, "package", "malformed netstring or encoding byte", "a package"));
}

/* answer: one reply netstring per recipient, in order (why: one enum
 * nsr_why per recipient; kept: the queue's reply for the accepted ones). */
static void answer(const stralloc *why, const stralloc *kept)
{
  stralloc reply = {0};
  size_t i;
  for (i = 0; i < why->len; ++i) {
    enum nsr_why w = (enum nsr_why)why->s[i];
    const char *t = w == NSR_ACCEPT ? kept->s : nsr_reply(w);
    size_t tl = w == NSR_ACCEPT ? kept->len : strlen(t);
    reply.len = 0;
    if (!ns_cat(&reply, t, tl)) fatal_nomem();
    if (buffer_put(&out, reply.s, reply.len) < 0) finish(111);
  }
  stralloc_free(&reply);
}

/* ---- the window -------------------------------------------------------------
 * A package read while the client has sent more is not answered at once:
 * its message is ended (nsq_send, on its own connection to qmail-queued)
 * and the next package is read, so that the daemon commits the messages
 * of a pipelined batch together (one flush) instead of one by one. When
 * no more input is waiting (read_op), the window is full, or the session
 * ends, the verdicts are collected in order and the replies go out in
 * order; each reply still comes only after its message's verdict. A
 * package with nothing to queue waits in the window too (its replies
 * keep their place). Caps: WINDOW packages, WINDOW_BYTES recipients. */
#define WINDOW 32
#define WINDOW_BYTES 65536

struct slot {
  stralloc why;              /* the package's outcome per recipient */
  int queued;                /* a message is waiting for its verdict */
  struct nsq_pending q;
};
static struct slot win[WINDOW];
static size_t whead, wn, wbytes;
static int draining;         /* a failed write inside win_drain exits */

/* win_push: the package just read joins the window */
static void win_push(const struct nsr_pkg *pkg)
{
  struct slot *s = &win[(whead + wn) % WINDOW];
  if (!stralloc_copy(&s->why, &pkg->why)) fatal_nomem();
  s->queued = pkg->accepted > 0;
  if (s->queued) nsq_send(&s->q);
  ++wn;
  wbytes += s->why.len;
}

static int win_full(void) { return wn >= WINDOW || wbytes >= WINDOW_BYTES; }

/* win_drain: every package of the window answered, oldest first */
static void win_drain(void)
{
  stralloc kept = {0};
  if (draining) return;
  draining = 1;
  while (wn) {
    struct slot *s = &win[whead];
    kept.len = 0;
    if (s->queued) nsq_verdict(&s->q, &kept);
    s->queued = 0;
    answer(&s->why, &kept);
    wbytes -= s->why.len;
    if (s->why.a > 4096) stralloc_free(&s->why);   /* a big package's list goes */
    whead = (whead + 1) % WINDOW;
    --wn;
  }
  draining = 0;
  stralloc_free(&kept);
}

/* ---- QMTPS ---------------------------------------------------------------------- */

static int qmtps(void)
{
  const char *s = getenv("QMTPS");
  return s && *s;
}

static void tls_unavailable(const stralloc *why) __attribute__((noreturn));
static void tls_unavailable(const stralloc *why)
{
  err_print("alert", 0, "QMTPS not available: ", why->len ? why->s : "out of memory", (const char *)0);
  _exit(111);
}

/* tls_refused: one refusal line for a failed handshake (no reply: "-") */
static void tls_refused(const stralloc *why)
{
  struct refusal r;
  r.stage = "qmtps";
  r.code = "-";
  r.enh = 0;
  r.reason = why->len ? why->s : "TLS handshake failed";
  r.reasonlen = why->len ? why->len - 1 : strlen(r.reason);
  r.input = 0;
  r.inputlen = 0;
  refuselog(&r);
}

/* tls_adjust: a client certificate asked for but optional, its chain
 * left to tls_relay (libtls would refuse a self-signed one pinned by
 * fingerprint) */
static void tls_adjust(struct tls_config *cfg)
{
  tls_config_verify_client_optional(cfg);
  tls_config_insecure_noverifycert(cfg);
}

/* tls_preload: in the listener (srvfork.h): the context for every session */
static void tls_preload(void) { qtls_preload(tls_adjust); }

/* tls_begin: certificate, key and ciphers (the listener's, else loaded
 * here), tls_adjust; the handshake on fds 0 and 1. */
static void tls_begin(void)
{
  stralloc why = {0};
  struct tls_config *cfg;
  if (!qtls_preloaded(&tls)) {
    if (qtls_config(&cfg, &why) < 0) tls_unavailable(&why);
    tls_adjust(cfg);
    if (qtls_server(&tls, cfg, &why) < 0) tls_unavailable(&why);
  }
  if (qtls_accept(&tls, 0, 1, &lim, &lim, &why) < 0) {
    int code = errno == ETIMEDOUT ? 111 : tls.eof ? 0 : 100;
    tls_refused(&why);
    _exit(code);
  }
  intls = 1;
  stralloc_free(&why);
  if (!qtls_describe(&tls, &tlsdesc) || !stralloc_0(&tlsdesc)) fatal_nomem();
}

/* tls_badconf: control/tlsclients unusable: nsconf_fail's answer, inside
 * TLS (one Z, the client's input drained a moment, exit 111) */
static void tls_badconf(const stralloc *why) __attribute__((noreturn));
static void tls_badconf(const stralloc *why)
{
  stralloc z = {0};
  char buf[4096];
  size_t total = 0;
  ssize_t r;
  err_print("alert", 0, "cannot use control/" TLSCLIENTS_FILE ": ", why->len ? why->s : "out of memory",
            (const char *)0);
  lim.deadline_ms = io_now_ms() + NSCONF_LINGER_MS;
  if (ns_cats(&z, "Zunable to read controls (#4.3.0)") && buffer_put(&out, z.s, z.len) == 0 &&
      buffer_flush(&out) == 0)
    while (total < 1024 * 1024 && (r = qtls_read(&tls, buf, sizeof buf)) > 0) total += (size_t)r;
  qtls_close(&tls);
  _exit(111);
}

/* tls_relay: a client certificate listed in control/tlsclients relays as
 * RELAYCLIENT="" does (a RELAYCLIENT from the tcp rules stays as it is) */
static void tls_relay(void)
{
  struct tlsclients tc = { {0, 0, 0}, 0, 0 };
  stralloc why = {0};
  const char *hash, *how = 0, *ip = getenv("TCPREMOTEIP");
  const uint8_t *pem;
  size_t len = 0;
  int r;
  if (tlsclients_load(&tc, &why) < 0) tls_badconf(&why);
  if (tls_peer_cert_provided(tls.conn)) {
    hash = tls_peer_cert_hash(tls.conn);
    if (tlsclients_fp(&tc, hash)) how = " (fingerprint listed)";
    else {
      pem = tls_peer_cert_chain_pem(tls.conn, &len);
      r = tlsclients_ca(&tc, (const char *)pem, pem ? len : 0);
      if (r < 0) fatal_nomem();
      if (r) how = " (issued under a ca: file)";
    }
    if (how && !relayclient) relayclient = "";
    err_print("info", 0, how ? "relay by certificate " : "client certificate ", hash ? hash : "unknown",
              how ? how : " not in control/tlsclients: no relay by it", " from ", ip ? ip : "unknown",
              (const char *)0);
  }
  tlsclients_free(&tc);
}

/* the control files a session reads, kept by the listener (ctlcache.h) */
static const char *const ctlfiles[] = {
  "me", "smtpgreeting", "timeoutqmtpd", "timeoutsession", "databytes", "rcpthosts",
  "rcptcheck", "locals", "virtualdomains", "percenthack", "envnoathost", "maxnetstring",
  "maxaddress", "maxrcpt", "maxhops", "maxqmtppackages", "tlsclients", 0
};

/* preload: in the listener before each fork (srvfork.h) */
static void preload(void)
{
  if (qmtps()) tls_preload();
  ctlcache_load(ctlfiles);
}

int main(void)
{
  struct nsr_policy pol;
  struct nsr_pkg pkg = { {0, 0, 0}, 0 };
  unsigned long n, maxpkgs;
  progname = "qmail-qmtpd";
  srvfork(progname, preload);   /* $SERVE: listen, return per connection (srvfork.h) */
  signal(SIGPIPE, SIG_IGN);
  perip_gate(progname, 0);   /* docs/limits.md: PERIP */
  config(&pol);
  maxpkgs = limit_get(LIM_QMTPPKGS);
  buffer_init(&in, (ssize_t (*)())read_op, 0, inspace, sizeof inspace);
  in.cookie = &lim;
  buffer_init(&out, (ssize_t (*)())write_op, 1, outspace, sizeof outspace);
  out.cookie = &lim;
  if (qmtps()) {   /* implicit TLS: the handshake before the first package */
    tls_begin();
    tls_relay();
  }
  nsq_init("QMTP", intls ? tlsdesc.s : 0, names.by, &lim, relayclient);
  for (n = 0; n < maxpkgs; ++n) {
    int r = nsr_qmtp(&in, &pol, &nsq_callbacks, &pkg);
    if (r == NS_EOF) finish(0);
    if (r != NSR_OK) drop(r);
    win_push(&pkg);
    if (win_full()) {   /* a client ahead of us gets these answers now */
      win_drain();
      if (buffer_flush(&out) < 0) finish(111);
    }
  }
  finish(0);
  return 0;
}
