/* qmail-smtpd: the hub's ESMTP server (RFC 5321, RFC 1869 SIZE, RFC 2920
 * PIPELINING, RFC 6152 8BITMIME, RFC 2034 ENHANCEDSTATUSCODES), run under
 * tcpserver: one process per connection, fd 0 and fd 1 are the socket.
 * Man page: qmail-smtpd.8. Rows S, D, R and the queue status of docs/bad-input.md
 * are its tests (tests/proto/smtpd.t, tests/sys/smtpd.t).
 *
 * TLS: STARTTLS (RFC 3207) and, with $SMTPS, implicit TLS (RFC 8314) are
 * in smtptls.c; here are only its hooks (tls_begin, smtp_starttls, the
 * I/O ops, the Received protocol name). Tests: tests/sys/tls*.t.
 *
 * Every 4xx/5xx reply is logged on fd 2 as one escaped line with the
 * client's address, the stage and the client's bytes (refuselog.h).
 *
 * Messages stream into the queue program (q_qq.h) as they arrive: nothing
 * is held in memory. Replies are buffered and written only when no more
 * client input is waiting, so a pipelined burst gets one write.
 *
 * Caps (q_limits.h; control files of the same names override them):
 *   maxsmtpline     command line incl. CRLF (2048): longer -> 500 5.5.2, drop
 *   maxaddress      address (1000): longer -> 501 5.1.3
 *   maxrcpt         recipients per message (1000): more -> 452 4.5.3
 *   maxhops         Received/Delivered-To lines (100): that many -> 554 5.4.6
 *   maxheader, maxheaderfield  header block / one field: more -> 552 5.3.4
 *   timeoutsession  whole session, seconds (1800): -> 451 4.4.2, exit
 *   control/timeoutsmtpd  per read, seconds (300; 1 to 86400): -> 451 4.4.2, exit
 *   (timeouts, timeoutsession, databytes: read as every server reads them,
 *   srvconf.h)
 *   control/databytes or $DATABYTES  message bytes (0 = no cap) -> 552 5.3.4
 *
 * SMTPUTF8 (RFC 6531): offered after EHLO unless control/smtputf8 is 0.
 * DSN (RFC 3461): offered after EHLO when control/smtpdsn is 1; MAIL's RET
 * and ENVID, RCPT's NOTIFY and ORCPT (hub/servers/dsnparam.h, 501 when
 * bad) go into the envelope as DSN items (hub/queue/QUEUE.md).
 * An address with a byte >= 128 is taken only in a transaction whose MAIL
 * gave SMTPUTF8 (else 553 5.6.7) and only when it is valid UTF-8 (else
 * 553 5.6.7; smtpcmd_utf8, q_utf8.h); caps stay in bytes. Such a message
 * is received "with UTF8SMTP" (UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA). The
 * header and body need nothing more than the 8-bit transparency we have.
 *
 * RCPT for a local address nobody takes: 550 5.1.1, or 451 4.3.0 when the
 * recipient table cannot tell (control/rcptcheck; rcptcheck.h).
 *
 * AUTH PLAIN and LOGIN (RFC 4954) with a checkpassword program named by
 * the arguments or $CHECKPASSWORD; the submission rules with $SUBMISSION:
 * smtpauth.h, docs/auth.md.
 *
 * Exit codes: 0 QUIT or the client closed between commands; 100 dropped
 * for a protocol violation (line too long, bare LF in DATA); 111 temporary
 * trouble (timeout, I/O error, client gone during DATA, out of memory,
 * neither control/me nor control/smtpgreeting; a control file that is
 * present but unreadable or not a valid number, or junk in $DATABYTES:
 * 421 at connect and "alert: cannot use control/NAME: REASON" on fd 2). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "buffer.h"
#include "case.h"
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_perip.h"
#include "q_getln.h"
#include "q_io.h"
#include "q_limits.h"
#include "q_qq.h"
#include "q_qqstatus.h"
#include "q_sa.h"
#include "rcptcheck.h"
#include "rcpthosts.h"
#include "received.h"
#include "refuselog.h"
#include "srvfork.h"
#include "ctlcache.h"
#include "smtpauth.h"
#include "smtpcmd.h"
#include "smtpdata.h"
#include "smtptls.h"
#include "srvconf.h"

#define IOBUF 16384
#define LINGER_MS 1000
#define LINGER_BYTES (1024 * 1024)

static char inbuf[IOBUF], outbuf[IOBUF];
static buffer in, out;
static struct io_limits in_lim, out_lim;

/* settings, read once at start */
static struct srvname names;   /* me, greeting, localiphost, by (received.h) */
static stralloc bmf;
static const char *relayclient, *localip;
static int utf8on;   /* control/smtputf8: offer SMTPUTF8 (default 1) */
static int dsnon;    /* control/smtpdsn: offer DSN (default 0) */
static stralloc dsnmail;  /* this transaction's RET/ENVID words, or empty */
static stralloc rcptdsn;  /* per accepted recipient its NOTIFY/ORCPT words
                           * (maybe empty), each ended by NUL, as rcpts */
static unsigned long databytes, maxline, maxaddr, maxrcpt, maxhops, maxheader, maxfield;

/* session and transaction state */
static stralloc line, helo, mailfrom, rcpts;
static struct smtp_path path;
static unsigned long nrcpts;
static int esmtp, seenmail, rcpt_tried;
static int utf8txn;    /* this transaction's MAIL gave SMTPUTF8 */
static int needhelo;   /* after STARTTLS: HELO/EHLO again before MAIL */
static struct qq qq;
static int qq_open;

/* ---- output -------------------------------------------------------- */

/* what a refusal is logged with: the stage ("connect" until the first
 * command, then the command's) and the client bytes it refused, if any */
static const char *stage = "connect";
static const char *input;
static size_t inputlen;

static void out_puts(const char *s) { buffer_puts(&out, s); }
/* reply: one reply line; a refusal (4xx, 5xx) is also logged. */
static void reply(const char *s)
{
  if (*s == '4' || *s == '5') refuselog_smtp(stage, s, input, inputlen);
  out_puts(s);
  out_puts("\r\n");
}

/* read_op: the input buffer's read operation. Everything we owe the client
 * is written before we wait for more from it: this is the only place where
 * replies are flushed during a session (RFC 2920 sec 3.1). */
static ssize_t read_op(int fd, char *buf, size_t len, void *b)
{
  (void)b;
  if (buffer_flush(&out) < 0) return -1;
  return smtptls_read(fd, buf, len, &in_lim);
}

/* ---- leaving ------------------------------------------------------- */

static void qq_cleanup(void)
{
  if (qq_open) qq_abort(&qq);
  qq_open = 0;
}

/* linger: after a protocol error the client may still be sending; read and
 * drop its bytes for a moment so closing does not reset the connection
 * before it has read our last reply. */
static void linger(void)
{
  char buf[4096];
  struct io_limits l;
  size_t total = 0;
  ssize_t r;
  l.deadline_ms = io_now_ms() + LINGER_MS;
  l.timeout_ms = LINGER_MS;
  shutdown(1, SHUT_WR);
  while (total < LINGER_BYTES && (r = io_read(0, buf, sizeof buf, &l)) > 0) total += (size_t)r;
}

/* die: abandon any message, send the last reply (with a few seconds of
 * grace even when the session deadline is gone), exit. */
static void __attribute__((noreturn)) die(int code, const char *msg, int drain)
{
  qq_cleanup();
  if (msg) {
    out_lim.deadline_ms = io_now_ms() + 5000;
    out_lim.timeout_ms = 5000;
    reply(msg);
  }
  buffer_flush(&out);
  smtptls_end();
  if (drain) linger();
  _exit(code);
}

static void die_nomem(void) { die(111, "421 4.3.0 out of memory", 0); }
static void die_timeout(void) { die(111, "451 4.4.2 timeout", 0); }
static void die_toolong(void) { die(100, "500 5.5.2 line too long", 1); }
static void die_barelf(void)
{
  die(100, "451 4.5.2 bare LF in message, see https://cr.yp.to/docs/smtplf.html", 1);
}
/* die_io: the client went away (EOF or error) or stalled. */
static void die_io(int eof)
{
  if (!eof && errno == ETIMEDOUT) die_timeout();
  die(eof ? 0 : 111, 0, 0);
}
/* refuse_controls: a setting is present but unusable: srvconf.h has
 * logged the line naming it; 421 to the client, never a silent default. */
static void refuse_controls(void) __attribute__((noreturn));
static void refuse_controls(void) { die(111, "421 4.3.0 unable to read controls", 0); }
static void die_control(const char *name) __attribute__((noreturn));
static void die_control(const char *name) { srvconf_fail(name, control_strerror(errno)); }

/* ---- transaction state ---------------------------------------------- */

static void txn_reset(void)
{
  seenmail = 0;
  utf8txn = 0;
  rcpt_tried = 0;
  nrcpts = 0;
  rcpts.len = 0;
  mailfrom.len = 0;
  dsnmail.len = 0;
  rcptdsn.len = 0;
}

/* bmf_match: is the sender in control/badmailfrom (exact address, or an
 * "@domain" entry matching everything after its last '@'), ignoring case? */
static int bmf_match(const char *a, size_t len)
{
  size_t i, at = len;
  while (at > 0 && a[at - 1] != '@') --at;
  for (i = 0; i < bmf.len; i += strlen(bmf.s + i) + 1) {
    const char *e = bmf.s + i;
    size_t elen = strlen(e);
    if (elen == len && case_diffb(e, len, a) == 0) return 1;
    if (e[0] == '@' && at > 0 && elen == len - at + 1 && case_diffb(e + 1, elen - 1, a + at) == 0)
      return 1;
  }
  return 0;
}

/* literal_is_me: is host ("[1.2.3.4]" or "[IPv6:...]") our TCPLOCALIP? */
static int literal_is_me(const char *h, size_t n)
{
  size_t il;
  if (!localip || !*localip || n < 3 || h[0] != '[' || h[n - 1] != ']') return 0;
  ++h;
  n -= 2;
  if (n > 5 && case_diffb(h, 5, "ipv6:") == 0) { h += 5; n -= 5; }
  il = strlen(localip);
  return n == il && case_diffb(h, n, localip) == 0;
}

/* localip_fix: x@[our ip] -> x@localiphost, as qmail does. */
static void localip_fix(stralloc *a)
{
  size_t at = a->len;
  while (at > 0 && a->s[at - 1] != '@') --at;
  if (at == 0 || !literal_is_me(a->s + at, a->len - at)) return;
  a->len = at;
  if (!stralloc_cats(a, names.localiphost.s)) die_nomem();
}

/* ---- commands ------------------------------------------------------ */

static void err_cmd(int r)
{
  if (r == SMTPCMD_NOMEM) die_nomem();
  reply(smtpcmd_reply(r));
}

/* set_helo: remember the HELO/EHLO name for the Received line. */
static int set_helo(const char *arg, size_t len, const char *verb)
{
  if (len == 0) {
    reply(*verb == 'H' ? "501 5.5.4 syntax: HELO hostname" : "501 5.5.4 syntax: EHLO hostname");
    return 0;
  }
  if (!stralloc_copyb(&helo, arg, len) || !stralloc_0(&helo)) die_nomem();
  needhelo = 0;
  txn_reset();
  return 1;
}

static void smtp_helo(char *arg, size_t len)
{
  if (!set_helo(arg, len, "HELO")) return;
  esmtp = 0;
  out_puts("250 ");
  reply(names.me.s);
}

static void smtp_ehlo(char *arg, size_t len)
{
  if (!set_helo(arg, len, "EHLO")) return;
  esmtp = 1;
  out_puts("250-");
  reply(names.me.s);
  reply("250-PIPELINING");
  reply("250-8BITMIME");
  if (utf8on) reply("250-SMTPUTF8");
  if (dsnon) reply("250-DSN");
  if (smtptls_offer()) reply("250-STARTTLS");
  if (smtpauth_offer(smtptls_active())) reply("250-AUTH PLAIN LOGIN");
  if (databytes) {
    out_puts("250-SIZE ");
    buffer_putulong(&out, databytes);
    reply("");
  } else {
    reply("250-SIZE");
  }
  reply("250 ENHANCEDSTATUSCODES");
}

/* ---- AUTH (smtpauth.c) --------------------------------------------- */

/* auth_getline: a line of the AUTH dialogue, under the command line cap */
static void auth_getline(stralloc *sa)
{
  int r = getln(&in, sa, maxline);
  if (r == GETLN_TOOLONG) die_toolong();
  if (r == GETLN_NOMEM) die_nomem();
  if (r == GETLN_ERR) die_io(0);
  if (r == GETLN_EOF) die_io(1);
  while (sa->len && (sa->s[sa->len - 1] == '\n' || sa->s[sa->len - 1] == '\r')) --sa->len;
}
static void auth_drop(const char *msg) { die(100, msg, 0); }
static const struct smtpauth_io auth_io = { reply, auth_getline, auth_drop, die_nomem };

/* AUTH (RFC 4954): after EHLO, outside a mail transaction; without a
 * checkpassword program the command is unknown here. The command line
 * held credentials: it is wiped. */
static void smtp_auth(char *arg, size_t len)
{
  if (!smtpauth_enabled()) reply("502 5.5.1 unimplemented");
  else if (!esmtp || needhelo) reply("503 5.5.1 EHLO first");
  else if (seenmail) reply("503 5.5.1 AUTH is not allowed during a mail transaction");
  else smtpauth_cmd(&auth_io, arg, len, smtptls_active());
  explicit_bzero(line.s, line.len);
}

static void smtp_mail(char *arg, size_t len)
{
  int r;
  if (seenmail) { reply("503 5.5.1 nested MAIL command"); return; }
  if (needhelo) { reply("503 5.5.1 EHLO first: the session restarted with TLS"); return; }
  r = smtpcmd_path(arg, len, "FROM", SMTPCMD_P_SIZE | SMTPCMD_P_BODY |
                   (smtpauth_enabled() ? SMTPCMD_P_AUTH : 0) |
                   (utf8on && esmtp ? SMTPCMD_P_UTF8 : 0) |
                   (dsnon && esmtp ? SMTPCMD_P_DSNMAIL : 0), maxaddr, &path);
  if (r == SMTPCMD_OK) r = smtpcmd_utf8(path.addr.s, path.addr.len, path.smtputf8);
  if (r != SMTPCMD_OK) { err_cmd(r); return; }
  if (databytes && path.has_size && path.size > databytes) {
    reply("552 5.3.4 sorry, that message size exceeds my databytes limit");
    return;
  }
  if (bmf_match(path.addr.s, path.addr.len)) {
    reply("553 5.7.1 sorry, your envelope sender is in my badmailfrom list");
    return;
  }
  if (!smtpauth_mail(&auth_io, path.addr.s, path.addr.len)) return;
  if (!stralloc_copy(&mailfrom, &path.addr)) die_nomem();
  dsnmail.len = 0;
  if (dsn_mail_item(&dsnmail, &path.dsnm) != 0) die_nomem();
  seenmail = 1;
  utf8txn = path.smtputf8;
  reply("250 2.1.0 ok");
}

/* rcpt_allowed: rcpthosts, unless RELAYCLIENT is set or the client
 * authenticated. Replies when not. */
static int rcpt_allowed(const stralloc *a)
{
  int r;
  if (relayclient || smtpauth_user()) return 1;   /* AUTH: may relay */
  r = rcpthosts_ok(a->s, a->len);
  if (r > 0) return 1;
  if (r < 0) reply("451 4.3.0 unable to read rcpthosts");
  else reply("553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts");
  return 0;
}

/* rcpt_known: a local recipient must be deliverable (rcptcheck.h; off
 * unless control/rcptcheck is 1). Replies when not. */
static int rcpt_known(const stralloc *a)
{
  int r = rcptcheck(a->s, a->len);
  if (r == RCPT_OK) return 1;
  if (r == RCPT_NOUSER) reply("550 5.1.1 sorry, no mailbox here by that name");
  else reply("451 4.3.0 unable to check the recipient, try again later");
  return 0;
}

static void smtp_rcpt(char *arg, size_t len)
{
  int r;
  if (!seenmail) { reply("503 5.5.1 MAIL first"); return; }
  rcpt_tried = 1;
  r = smtpcmd_path(arg, len, "TO", dsnon && esmtp ? SMTPCMD_P_DSNRCPT : 0, maxaddr, &path);
  if (r == SMTPCMD_OK) r = smtpcmd_utf8(path.addr.s, path.addr.len, utf8txn);
  if (r != SMTPCMD_OK) { err_cmd(r); return; }
  if (path.addr.len == 0) { reply("501 5.1.3 sorry, <> is not a valid recipient"); return; }
  if (nrcpts >= maxrcpt) { reply("452 4.5.3 too many recipients"); return; }
  localip_fix(&path.addr);
  if (!rcpt_allowed(&path.addr)) return;
  if (relayclient && !stralloc_cats(&path.addr, relayclient)) die_nomem();
  if (!rcpt_known(&path.addr)) return;
  if (!stralloc_cat(&rcpts, &path.addr) || !stralloc_0(&rcpts) ||
      dsn_rcpt_item(&rcptdsn, &path.dsnr) != 0 || !stralloc_0(&rcptdsn))
    die_nomem();
  ++nrcpts;
  reply("250 2.1.5 ok");
}

static void smtp_rset(char *arg, size_t len)
{
  (void)arg; (void)len;
  txn_reset();
  reply("250 2.0.0 ok");
}

static void smtp_noop(char *arg, size_t len)
{
  (void)arg; (void)len;
  reply("250 2.0.0 ok");
}

static void smtp_vrfy(char *arg, size_t len)
{
  (void)arg; (void)len;
  reply("252 2.0.0 send some mail, I'll try my best");
}

static void smtp_expn(char *arg, size_t len)
{
  (void)arg; (void)len;
  reply("502 5.5.1 EXPN is not available");
}

static void smtp_help(char *arg, size_t len)
{
  (void)arg; (void)len;
  reply("214 2.0.0 qmail-smtpd: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY QUIT; see RFC 5321");
}

static void smtp_quit(char *arg, size_t len)
{
  (void)arg; (void)len;
  out_puts("221 2.0.0 ");
  out_puts(names.me.s);
  reply(" closing connection");
  die(0, 0, 0);
}

static void smtp_unimpl(char *arg, size_t len)
{
  (void)arg; (void)len;
  reply("502 5.5.1 unimplemented");
}

/* ---- TLS (smtptls.c) ---------------------------------------------- */

/* tls_begin: the handshake (the client's cleartext after STARTTLS is
 * dropped first); a failure is logged by smtptls and ends the session
 * without a reply: there is no channel left to send one on. */
static void tls_begin(void)
{
  int r;
  if (buffer_flush(&out) < 0) die_io(0);
  r = smtptls_handshake(&in, &in_lim, &out_lim);
  if (r != SMTPTLS_OK) die(r == SMTPTLS_EOF ? 0 : r == SMTPTLS_TIMEOUT ? 111 : 100, 0, 0);
}

/* STARTTLS (RFC 3207): afterwards everything the client said before is
 * forgotten: its HELO name, the transaction; it must greet again. */
static void smtp_starttls(char *arg, size_t len)
{
  (void)arg;
  if (len) { reply("501 5.5.4 syntax: STARTTLS takes no argument"); return; }
  if (smtptls_active()) { reply("503 5.5.1 TLS is already active"); return; }
  if (smtptls_prepare() < 0) {
    reply("454 4.7.0 TLS not available due to temporary reason");
    return;
  }
  reply("220 2.0.0 Ready to start TLS");
  tls_begin();
  helo.len = 0;
  esmtp = 0;
  needhelo = 1;
  txn_reset();
  smtpauth_reset();
}

/* ---- DATA ---------------------------------------------------------- */

/* The DATA state machine (CRLF.CRLF, dot-unstuffing, bare LF refused
 * against SMTP smuggling, the size and hop caps) is in smtpdata.c. */
static void data_put(void *ctx, const char *s, size_t n)
{
  (void)ctx;
  qq_put(&qq, s, n);
}

/* data_read: the message up to CRLF.CRLF; dies on EOF, error, bare LF. */
static void data_read(struct smtpdata *d)
{
  while (d->state != SMTPDATA_END) {
    ssize_t n = buffer_feed(&in);
    if (n == 0) die(111, 0, 0);   /* EOF here is no clean end */
    if (n < 0) die_io(0);
    buffer_seek(&in, smtpdata_scan(d, buffer_peek(&in), (size_t)n));
    if (d->state == SMTPDATA_BARELF) die_barelf();
  }
}

/* put_received: our Received line on top of the message (received.h). */
static void put_received(void)
{
  stralloc r = {0, 0, 0}, tls = {0, 0, 0};
  struct received_info ri;
  if (!smtptls_describe(&tls)) die_nomem();
  ri.proto = utf8txn ? "UTF8SMTP" : esmtp ? "ESMTP" : "SMTP";   /* RFC 6531 sec 3.7.3 */
  ri.tls = tls.len ? tls.s : 0;
  ri.auth = smtpauth_user() != 0;
  ri.relay = relayclient != 0;   /* qmail-remote signs its mail (docs/dkim.md) */
  ri.by = names.by;
  ri.remoteip = getenv("TCPREMOTEIP");
  ri.remotehost = getenv("TCPREMOTEHOST");
  ri.remoteinfo = getenv("TCPREMOTEINFO");
  ri.helo = helo.len ? helo.s : 0;
  if (!received_line(&r, &ri, (long long)time(0))) die_nomem();
  qq_put(&qq, r.s, r.len);
  stralloc_free(&r);
  stralloc_free(&tls);
}

/* enhanced: the x.y.z of a queue status text "... (#x.y.z)", if its class
 * matches the reply code, else the generic one. */
static void enhanced(const struct qq_status *st, char code[16])
{
  const char *t = st->text, *e = t + st->textlen, *h = 0, *p;
  for (p = t; p + 2 <= e; ++p) if (p[0] == '(' && p[1] == '#') h = p + 2;
  strcpy(code, st->smtp[0] == '5' ? "5.3.0" : "4.3.0");
  if (!h || h[0] != st->smtp[0]) return;
  for (p = h; p < e && p - h < 15 && ((*p >= '0' && *p <= '9') || *p == '.'); ++p) ;
  if (p == e || *p != ')') return;
  memcpy(code, h, (size_t)(p - h));
  code[p - h] = 0;
}

/* reply_status: the one reply after the queue program is done. */
static void reply_status(int status, const stralloc *fd6, pid_t pid)
{
  struct qq_status st;
  stralloc r = {0, 0, 0};
  char code[16];
  qq_status(status, fd6->s, fd6->len, &st);
  if (st.kind == 'K') {
    out_puts("250 2.0.0 ok ");
    buffer_putulong(&out, (unsigned long)time(0));
    out_puts(" qp ");
    buffer_putulong(&out, (unsigned long)pid);
    reply("");
    return;
  }
  enhanced(&st, code);
  if (!stralloc_copys(&r, st.smtp) || !stralloc_append(&r, " ") || !stralloc_cats(&r, code) ||
      !stralloc_append(&r, " ") || !stralloc_catb(&r, st.text, st.textlen) || !stralloc_0(&r))
    die_nomem();
  reply(r.s);   /* a custom fd 6 text stops at CR, LF or NUL (q_qqstatus) */
  stralloc_free(&r);
}

/* data_verdict: refuse what data_read marked, else hand the envelope over. */
static void data_verdict(const struct smtpdata *d)
{
  stralloc fd6 = {0, 0, 0};
  pid_t pid = qq.pid ? qq.pid : getpid();
  size_t i, j;
  int status;
  if (d->toobig || d->hdrbig || d->loop) {
    qq_cleanup();
    if (d->toobig) reply("552 5.3.4 sorry, that message size exceeds my databytes limit");
    else if (d->hdrbig) reply("552 5.3.4 sorry, the message header is too big");
    else reply("554 5.4.6 too many hops, this message is looping");
    return;
  }
  if (dsnmail.len) qq_dsn(&qq, dsnmail.s, dsnmail.len);
  qq_from(&qq, mailfrom.s, mailfrom.len);
  for (i = j = 0; i < rcpts.len; i += strlen(rcpts.s + i) + 1, j += strlen(rcptdsn.s + j) + 1) {
    qq_to(&qq, rcpts.s + i, strlen(rcpts.s + i));
    if (rcptdsn.s[j]) qq_dsn(&qq, rcptdsn.s + j, strlen(rcptdsn.s + j));
  }
  status = qq_finish(&qq, &fd6);
  qq_open = 0;
  reply_status(status, &fd6, pid);
  stralloc_free(&fd6);
}

static void smtp_data(char *arg, size_t len)
{
  struct smtpdata d;
  (void)arg; (void)len;
  if (!seenmail) { reply("503 5.5.1 MAIL first"); return; }
  if (!nrcpts) { reply(rcpt_tried ? "554 5.5.1 no valid recipients" : "503 5.5.1 RCPT first"); return; }
  qq_open = 1;
  if (qq_start(&qq) < 0) {   /* qq_finish turns the failure into a status */
    stralloc fd6 = {0, 0, 0};
    qq_open = 0;
    reply_status(qq_finish(&qq, &fd6), &fd6, 0);
    stralloc_free(&fd6);
    txn_reset();
    return;
  }
  qq_limits(&qq, &out_lim);
  smtpdata_start(&d, databytes, maxheader, maxfield, maxhops, data_put, 0);
  put_received();
  reply("354 go ahead, end your message with a line holding only a dot");
  data_read(&d);
  data_verdict(&d);
  txn_reset();
}

/* ---- the session --------------------------------------------------- */

static const struct verb {
  const char *name;
  void (*fn)(char *arg, size_t len);
} verbs[] = {
  { "helo", smtp_helo }, { "ehlo", smtp_ehlo }, { "mail", smtp_mail },
  { "rcpt", smtp_rcpt }, { "data", smtp_data }, { "rset", smtp_rset },
  { "noop", smtp_noop }, { "vrfy", smtp_vrfy }, { "expn", smtp_expn },
  { "help", smtp_help }, { "quit", smtp_quit }, { "starttls", smtp_starttls },
  { "auth", smtp_auth }, { 0, smtp_unimpl },
};

/* log_as: the stage and input of the command about to run. The argument
 * is logged only where it is an address or a name (HELO, EHLO, MAIL,
 * RCPT); of AUTH and unknown commands only the verb, as their argument
 * may be a secret. */
static void log_as(const struct verb *v, const struct smtp_line *l)
{
  if (v->name) stage = v->name;
  else stage = smtpcmd_verbis(l, "auth") ? "auth" : "command";
  input = l->verb;
  inputlen = l->verblen;
  if (v->fn == smtp_helo || v->fn == smtp_ehlo || v->fn == smtp_mail || v->fn == smtp_rcpt) {
    input = l->arg;
    inputlen = l->arglen;
  } else if (v->name && v->fn != smtp_auth) {   /* AUTH: the verb alone */
    input = 0;
  }
}

static void command(char *s, size_t len)
{
  struct smtp_line l;
  const struct verb *v;
  size_t i = 0;
  if (smtpcmd_split(s, len, &l) != SMTPCMD_OK) {
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r')) --len;
    while (i < len && s[i] != ' ') ++i;   /* the verb, NUL and all */
    stage = "command";
    input = s;
    inputlen = i;
    reply(smtpcmd_reply(SMTPCMD_NUL));
    return;
  }
  for (v = verbs; v->name; ++v)
    if (smtpcmd_verbis(&l, v->name)) break;
  if (v->fn == smtp_starttls && !smtptls_active() && !smtptls_offer())
    while (v->name) ++v;   /* no certificate: STARTTLS is unknown here */
  log_as(v, &l);
  v->fn(l.arg, l.arglen);
}

static void session(void)
{
  for (;;) {
    int r = getln(&in, &line, maxline);
    if (r == GETLN_TOOLONG) die_toolong();
    if (r == GETLN_NOMEM) die_nomem();
    if (r == GETLN_ERR) die_io(0);
    if (r == GETLN_EOF) die_io(1);
    command(line.s, line.len);
    stage = "command";   /* between commands: timeouts, overlong lines */
    input = 0;
  }
}

/* ---- start --------------------------------------------------------- */

/* read_names: me, smtpgreeting, localiphost (received.h); with neither
 * me nor a greeting we refuse to serve. */
static void read_names(void)
{
  const char *name;
  if (srvname_read(&names, SRVNAME_SMTP, &name) < 0) die_control(name);
  if (!*names.me.s) {
    warn("neither control/me nor control/smtpgreeting exists");
    die(111, "421 4.3.0 this server is not configured (#4.3.0)", 0);
  }
}

/* read_utf8: control/smtputf8, 0 or 1; missing: 1 (offered); and
 * control/smtpdsn, 0 or 1; missing: 0 (DSN not offered). */
static void read_utf8(void)
{
  unsigned long v = 1;
  if (control_readulong(&v, "smtputf8") < 0) die_control("smtputf8");
  if (v > 1) { errno = ERANGE; die_control("smtputf8"); }
  utf8on = v == 1;
  v = 0;
  if (control_readulong(&v, "smtpdsn") < 0) die_control("smtpdsn");
  if (v > 1) { errno = ERANGE; die_control("smtpdsn"); }
  dsnon = v == 1;
}

static void read_controls(char **args)
{
  const char *name;
  int r;
  read_names();
  in_lim.timeout_ms = out_lim.timeout_ms = srvconf_timeout("timeoutsmtpd", 300);
  databytes = srvconf_databytes();
  r = control_readlist(&bmf, "badmailfrom");
  if (r < 0) die_control("badmailfrom");
  if (r == 0) bmf.len = 0;
  case_lowerb(bmf.s, bmf.len);
  if (rcpthosts_init() < 0) die_control("rcpthosts");
  read_utf8();
  if (rcptcheck_init(&name) < 0) die_control(name);
  if (smtpauth_init(args, in_lim.timeout_ms, &name) < 0) die_control(name);
}

static void read_limits(void)
{
  srvconf_onfail(refuse_controls);   /* settings: srvconf.h */
  limit_onfail(srvconf_fail);
  maxline = limit_get(LIM_SMTPLINE);
  maxaddr = limit_get(LIM_ADDR);
  maxrcpt = limit_get(LIM_RCPTS);
  maxhops = limit_get(LIM_HOPS);
  maxheader = limit_get(LIM_HEADER);
  maxfield = limit_get(LIM_HEADERLINE);
  in_lim.deadline_ms = out_lim.deadline_ms = srvconf_deadline();
}

static void read_env(void)
{
  relayclient = getenv("RELAYCLIENT");
  localip = getenv("TCPLOCALIP");
}

/* the control files a session reads, kept by the listener (ctlcache.h) */
static const char *const ctlfiles[] = {
  "me", "smtpgreeting", "localiphost", "timeoutsmtpd", "timeoutsession", "databytes",
  "badmailfrom", "rcpthosts", "rcptcheck", "locals", "virtualdomains", "percenthack",
  "envnoathost", "maxsmtpline", "maxaddress", "maxrcpt", "maxhops", "maxheader",
  "maxheaderfield", "smtputf8", "smtpdsn", "authfailures", "authdelay", "authguard", "authguardtime", "authsenders", 0
};

/* preload: in the listener before each fork (srvfork.h) */
static void preload(void)
{
  smtptls_preload();
  ctlcache_load(ctlfiles);
}

int main(int argc, char **argv)
{
  progname = "qmail-smtpd";
  srvfork(progname, preload);   /* $SERVE: listen, return per connection (srvfork.h) */
  signal(SIGPIPE, SIG_IGN);
  perip_gate(progname, smtptls_implicit() ? 0 :   /* SMTPS: no cleartext */
             "421 too many connections from your address (#4.7.0)\r\n");   /* docs/limits.md: PERIP */
  buffer_init(&in, (ssize_t (*)())read_op, 0, inbuf, sizeof inbuf);
  buffer_init(&out, (ssize_t (*)())smtptls_bwrite, 1, outbuf, sizeof outbuf);
  out.cookie = &out_lim;
  out_lim.timeout_ms = 60000;   /* until timeoutsmtpd is known */
  read_limits();
  read_controls(argc > 1 ? argv + 1 : 0);
  read_env();
  if (smtptls_implicit()) {   /* SMTPS (RFC 8314): TLS before the greeting */
    if (smtptls_prepare() < 0) die(111, 0, 0);
    tls_begin();
  }
  out_puts("220 ");
  out_puts(names.greeting.s);
  reply(" ESMTP");
  session();
  return 0;
}
