/* rsmtp.c: qmail-remote's SMTP conversation (see rsess.h): one delivery
 * per connection (rsmtp_deliver), or in session mode the greeting once
 * (rsmtp_open) and then one transaction per job (rsmtp_txn). Caps: replies
 * as rreply.h, RSMTP_BATCH pipelined RCPTs before their replies are read,
 * the message copied in RSESS_COPYBUF chunks.
 * SMTPUTF8 (RFC 6531) is asked for by the envelope alone: a sender or
 * recipient with a byte >= 128 (raddr_utf8). UTF-8 in the header does not
 * count: the queue does not keep whether the client declared SMTPUTF8,
 * and guessing from the header would bounce mail that old servers take
 * with BODY=8BITMIME today (docs/smtputf8.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "q_sa.h"
#include "dsnparam.h"
#include "raddr.h"
#include "rdsn.h"
#include "rblast.h"
#include "rsess.h"
#include "rtls.h"

/* keyword: line "250-WORD..." / "250 WORD..." starts with word (then end or blank). */
static int keyword(const char *line, size_t len, const char *word, size_t *after)
{
  size_t wl = strlen(word);
  if (len < 4 + wl || strncasecmp(line + 4, word, wl) != 0) return 0;
  if (len > 4 + wl && line[4 + wl] != ' ') return 0;
  *after = 4 + wl;
  return 1;
}

/* on_auth: the mechanisms of an "AUTH ..." line (also the old "AUTH=") */
static void on_auth(struct rsmtp_ext *x, const char *m, size_t len)
{
  size_t i = 0, n = strlen(x->mechs);
  x->auth = 1;
  while (i < len) {
    size_t k = i;
    while (k < len && m[k] != ' ') ++k;
    if (k - i == 5 && strncasecmp(m + i, "PLAIN", 5) == 0) x->authplain = 1;
    if (k - i == 5 && strncasecmp(m + i, "LOGIN", 5) == 0) x->authlogin = 1;
    if (k > i && n + (k - i) + 2 < sizeof x->mechs) {   /* sanitized by rreply */
      if (n) x->mechs[n++] = ' ';
      memcpy(x->mechs + n, m + i, k - i);
      n += k - i;
      x->mechs[n] = 0;
    }
    i = k + 1;
  }
}

/* on_ehlo_line: pick the extensions we use out of each EHLO reply line. */
static void on_ehlo_line(void *ctx, const char *line, size_t len)
{
  struct rsmtp_ext *x = ctx;
  size_t a, i;
  if (keyword(line, len, "PIPELINING", &a)) x->pipelining = 1;
  if (keyword(line, len, "8BITMIME", &a)) x->eightbit = 1;
  if (keyword(line, len, "SMTPUTF8", &a)) x->smtputf8 = 1;
  if (keyword(line, len, "DSN", &a)) x->dsn = 1;
  if (keyword(line, len, "STARTTLS", &a)) x->starttls = 1;
  if (len > 8 && (strncasecmp(line + 4, "AUTH ", 5) == 0 || strncasecmp(line + 4, "AUTH=", 5) == 0))
    on_auth(x, line + 9, len - 9);
  if (keyword(line, len, "SIZE", &a)) {
    unsigned long long v = 0;
    x->hassize = 1;
    for (i = a; i < len && line[i] == ' '; ++i) ;
    for (; i < len && line[i] >= '0' && line[i] <= '9'; ++i)
      v = v > (~0ULL - 9) / 10 ? ~0ULL : v * 10 + (unsigned long long)(line[i] - '0');
    x->size = v;
  }
}

/* ---- failures ------------------------------------------------------------ */

/* Step functions return 0 to go on, 1 when the reports are made (the
 * conversation is over), -1 when out of memory. */

/* lost: the connection failed or the reply was not SMTP during "what". */
static int lost(struct rjob *j, struct rconn *c, int s, const char *what)
{
  c->broken = 1;
  if (s != RREPLY_BAD && c->reuse && !c->gotany) {  /* gone while idle */
    c->stale = 1;
    return 1;
  }
  if (s == RREPLY_BAD)
    rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but its reply to ", what,
             " was not valid SMTP (#4.4.2)", (const char *)0);
  else
    rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but the connection died during ",
             what, ": ", rconn_why(c), " (#4.4.2)", (const char *)0);
  return 1;
}

/* quit: say QUIT and wait a little for the answer (ignored). */
static void quit(struct rconn *c)
{
  if (c->fd < 0) return;
  struct rreply r;
  long long end = io_now_ms() + 2000;
  if (c->lim.deadline_ms == 0 || end < c->lim.deadline_ms) c->lim.deadline_ms = end;
  if (!stralloc_cats(&c->out, "QUIT\r\n")) return;
  rreply_start(&r);
  rconn_reply(c, &r);
}

void rsmtp_quit(struct rconn *c)
{
  quit(c);
}

/* rset: end a failed transaction in session mode. */
static void rset(struct rconn *c)
{
  struct rreply r;
  if (!stralloc_cats(&c->out, "RSET\r\n")) { c->broken = 1; return; }
  rreply_start(&r);
  if (rconn_reply(c, &r) != RREPLY_DONE || rreply_class(r.code) != 2) c->broken = 1;
}

/* txn_end: the transaction is over (dirty: the server still holds some of
 * it). Classic mode: QUIT; session mode: RSET when dirty, or QUIT when
 * the connection is broken anyway. */
static void txn_end(struct rconn *c, int dirty)
{
  if (!c->session || c->broken) quit(c);
  else if (dirty) rset(c);
}

/* refused: a whole-message refusal at step "what", by reply class. */
static int refused(struct rjob *j, struct rconn *c, const char *what, struct rreply *r)
{
  int perm = rreply_class(r->code) == 5;
  if (r->code == 421) c->broken = 1;
  rjob_all(j, perm ? 'h' : 's', perm ? 'D' : 'Z', "Connected to ", c->ip, " but ", what,
           ". Remote host said: ", r->text, (const char *)0);
  txn_end(c, 1);
  return 1;
}

/* mail_refused: MAIL was refused; a 421 on a reused connection means the
 * server is closing it while idle: stale, nothing reported. */
static int mail_refused(struct rjob *j, struct rconn *c, struct rreply *r)
{
  if (c->reuse && r->code == 421) {
    c->broken = c->stale = 1;
    return 1;
  }
  return refused(j, c, "sender was rejected", r);
}

/* ---- steps ---------------------------------------------------------------- */

static int hello(struct rjob *j, struct rconn *c, struct rsmtp_ext *x, struct rreply *r)
{
  int s;
  memset(x, 0, sizeof *x);
  if (!stralloc_cats(&c->out, "EHLO ") || !stralloc_cats(&c->out, j->helo) ||
      !stralloc_cats(&c->out, "\r\n")) return -1;
  rreply_start(r);
  r->online = on_ehlo_line;
  r->ctx = x;
  s = rconn_reply(c, r);
  r->online = 0;
  if (s != RREPLY_DONE) return lost(j, c, s, "EHLO");
  if (rreply_class(r->code) == 2) return 0;
  memset(x, 0, sizeof *x);
  if (!stralloc_cats(&c->out, "HELO ") || !stralloc_cats(&c->out, j->helo) ||
      !stralloc_cats(&c->out, "\r\n")) return -1;
  s = rconn_reply(c, r);
  if (s != RREPLY_DONE) return lost(j, c, s, "HELO");
  if (rreply_class(r->code) == 2) return 0;
  c->broken = 1;
  return refused(j, c, "my name was rejected", r);
}

/* ---- TLS and AUTH ----------------------------------------------------------- */

/* tls_refused: the TLS policy cannot be met (why): a deferral, #4.7.5. */
static int tls_refused(struct rjob *j, struct rconn *c, const char *why)
{
  c->broken = 1;
  rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but ", why, " (#4.7.5)", (const char *)0);
  quit(c);
  return 1;
}

/* tls_failed: the handshake (or DANE) failed, why from rtls (the stub's
 * text carries its own code): a deferral; the connection is unusable. */
static int tls_failed(struct rjob *j, struct rconn *c, stralloc *why)
{
  if (!stralloc_0(why)) return -1;
  c->broken = 1;
  rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but TLS failed: ", why->s,
           strstr(why->s, "(#4.") ? "" : " (#4.7.5)", (const char *)0);
  return 1;
}

/* smtps: an SMTPS route: the handshake before the greeting. */
static int smtps(struct rjob *j, struct rconn *c)
{
  stralloc why = {0};
  int r = 0;
  if (!c->td || !c->td->smtps) return 0;
  if (rtls_need(c, &why) < 0 || rtls_start(c, &why) < 0) r = tls_failed(j, c, &why);
  stralloc_free(&why);
  return r;
}

/* plain_again: the handshake failed where TLS was not required (may, or
 * dane without usable TLSA records): the same address again without TLS,
 * as RFC 7435 allows (whoever can break the handshake could as well have
 * removed the STARTTLS offer). Credentials still need TLS (auth). */
static int plain_again(struct rjob *j, struct rconn *c, struct rsmtp_ext *x, struct rreply *r)
{
  static struct rtls_dest plain;
  int s;
  plain = *c->td;
  plain.policy = RTLS_NONE;
  if (rconn_reconnect(c) < 0) {
    c->broken = 1;
    rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but the TLS handshake failed, and so did"
             " the connection without TLS: ", rconn_why(c), " (#4.4.2)", (const char *)0);
    return 1;
  }
  c->td = &plain;
  c->plainretry = 1;
  rreply_start(r);
  s = rconn_reply(c, r);
  if (s != RREPLY_DONE) return lost(j, c, s, "the greeting");
  if (rreply_class(r->code) != 2) { c->broken = 1; return refused(j, c, "greeting failed", r); }
  return hello(j, c, x, r);
}

/* starttls: after EHLO: STARTTLS as the policy says, then EHLO again. */
static int starttls(struct rjob *j, struct rconn *c, struct rsmtp_ext *x, struct rreply *r)
{
  stralloc why = {0};
  int need, s, st;
  if (c->tls || !c->td || c->td->policy == RTLS_NONE) return 0;
  need = rtls_need(c, &why);
  if (need < 0) { st = tls_failed(j, c, &why); stralloc_free(&why); return st; }
  if (!x->starttls) {
    stralloc_free(&why);
    return need ? tls_refused(j, c, "it does not offer STARTTLS, and TLS is required") : 0;
  }
  if (!stralloc_cats(&c->out, "STARTTLS\r\n")) { stralloc_free(&why); return -1; }
  s = rconn_reply(c, r);
  if (s != RREPLY_DONE) { stralloc_free(&why); return lost(j, c, s, "STARTTLS"); }
  if (r->code != 220) {
    stralloc_free(&why);
    if (need) return tls_refused(j, c, "it refused STARTTLS, and TLS is required");
    return 0;   /* may: go on in plain text, the session is still in step */
  }
  if (rtls_start(c, &why) < 0) {
    st = need || c->td->smtps ? tls_failed(j, c, &why) : plain_again(j, c, x, r);
    stralloc_free(&why);
    return st;
  }
  stralloc_free(&why);
  return hello(j, c, x, r);
}

/* auth_failed: a deferral naming the step; the server's text scrubbed of
 * every form of the secret we sent. */
static int auth_failed(struct rjob *j, struct rconn *c, const char *what, struct rreply *r,
                       const char *const *secrets)
{
  if (r) rtls_scrub(r->text, secrets);
  c->broken = 1;
  rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but ", what, r ? ". Remote host said: " : "",
           r ? r->text : "", " (#4.7.0)", (const char *)0);
  quit(c);
  return 1;
}

/* auth_step: send line (a secret: wiped after), read the reply. */
static int auth_step(struct rconn *c, stralloc *line, struct rreply *r)
{
  int s;
  if (!stralloc_cat(&c->out, line) || !stralloc_cats(&c->out, "\r\n")) return -3;
  s = rconn_reply(c, r);
  if (c->out.s) explicit_bzero(c->out.s, c->out.a);
  c->out.len = 0;
  return s;
}

/* auth: an auth route: AUTH PLAIN, else LOGIN, with the relay's credentials. */
static int auth(struct rjob *j, struct rconn *c, const struct rsmtp_ext *x, struct rreply *r)
{
  const struct rtls_dest *d = c->td;
  stralloc blob = {0}, b64 = {0}, bu = {0}, bp = {0};
  const char *secrets[5];
  int s, st = 0;
  if (!d || !d->auth) return 0;
  if (!c->tls && !d->authnotls)
    return auth_failed(j, c, "I do not send credentials without TLS (the route does not say auth-notls)", 0, 0);
  if (!x->auth) return auth_failed(j, c, "it does not offer AUTH", 0, 0);
  if (!x->authplain && !x->authlogin) {
    rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but it offers no AUTH mechanism I have (PLAIN, LOGIN), only: ",
             x->mechs, " (#4.7.0)", (const char *)0);
    c->broken = 1;
    quit(c);
    return 1;
  }
  if (!stralloc_catb(&blob, "", 1) || !stralloc_cats(&blob, d->user) || !stralloc_catb(&blob, "", 1) ||
      !stralloc_cats(&blob, d->pass) || !rtls_b64(&b64, blob.s, blob.len) ||
      !rtls_b64(&bu, d->user, strlen(d->user)) || !rtls_b64(&bp, d->pass, strlen(d->pass)) ||
      !stralloc_0(&b64) || !stralloc_0(&bp)) { st = -1; goto done; }
  --b64.len; --bp.len;
  secrets[0] = d->pass; secrets[1] = b64.s; secrets[2] = bp.s; secrets[3] = 0;
  if (x->authplain) {
    stralloc line = {0};
    if (!stralloc_cats(&line, "AUTH PLAIN ") || !stralloc_cat(&line, &b64)) { st = -1; goto done; }
    s = auth_step(c, &line, r);
    explicit_bzero(line.s, line.a);
    stralloc_free(&line);
    if (s == -3) { st = -1; goto done; }
    if (s != RREPLY_DONE) { st = lost(j, c, s, "AUTH"); goto done; }
    if (r->code != 235) st = auth_failed(j, c, "my AUTH PLAIN was refused", r, secrets);
    goto done;
  }
  {
    stralloc line = {0};
    if (!stralloc_copys(&line, "AUTH LOGIN")) { st = -1; goto done; }
    s = auth_step(c, &line, r);
    if (s == RREPLY_DONE && r->code == 334 && stralloc_copy(&line, &bu)) s = auth_step(c, &line, r);
    if (s == RREPLY_DONE && r->code == 334 && stralloc_copy(&line, &bp)) s = auth_step(c, &line, r);
    if (line.s) explicit_bzero(line.s, line.a);
    stralloc_free(&line);
    if (s == -3) { st = -1; goto done; }
    if (s != RREPLY_DONE) { st = lost(j, c, s, "AUTH"); goto done; }
    if (r->code != 235) st = auth_failed(j, c, "my AUTH LOGIN was refused", r, secrets);
  }
done:
  if (blob.s) explicit_bzero(blob.s, blob.a);
  if (b64.s) explicit_bzero(b64.s, b64.a);
  if (bp.s) explicit_bzero(bp.s, bp.a);
  stralloc_free(&blob); stralloc_free(&b64); stralloc_free(&bu); stralloc_free(&bp);
  return st;
}

/* wire_size: the message's size on the wire (CRLF), dot-stuffing aside:
 * every LF two bytes, a CR before an LF none (rblast.h). */
static unsigned long long wire_size(const struct rjob *j)
{
  unsigned long long n = j->msgsize + j->msglfs;
  if (n < j->msgsize) return ~0ULL;
  return j->msgcrlfs <= n ? n - j->msgcrlfs : 0;
}

static int too_big(struct rjob *j, struct rconn *c, const struct rsmtp_ext *x)
{
  stralloc a = {0}, b = {0};
  if (!x->hassize || x->size == 0 || wire_size(j) <= x->size) return 0;
  sa_catnum(&a, x->size);
  sa_catnum(&b, wire_size(j));
  stralloc_0(&a);
  stralloc_0(&b);
  rjob_all(j, 'h', 'D', "Connected to ", c->ip, " but the message is too big for it: it takes at most ",
           a.s ? a.s : "?", " bytes, this message has ", b.s ? b.s : "?", " (#5.3.4)", (const char *)0);
  stralloc_free(&a);
  stralloc_free(&b);
  txn_end(c, 0);
  return 1;
}

/* cat_addr: a checked address (raddr_job) in its SMTP form, in <>. */
static int cat_addr(struct rconn *c, const char *a)
{
  if (!stralloc_cats(&c->out, "<")) return 0;
  if (!raddr_null(a) && raddr_smtp(a, strlen(a), raddr_max(), &c->out) != RADDR_OK) return 0;
  return stralloc_cats(&c->out, ">");
}

/* utf8_env: the sender or a recipient still to be sent is not ASCII. */
static int utf8_env(const struct rjob *j)
{
  size_t i;
  if (raddr_utf8(j->sender)) return 1;
  for (i = 0; i < j->nrcpt; ++i)
    if (!j->rkind[i] && raddr_utf8(j->rcpt[i])) return 1;
  return 0;
}

/* utf8_gate: without SMTPUTF8 at the next hop a non-ASCII sender fails
 * the job and a non-ASCII recipient gets h, both #5.6.7 (RFC 6531 sec
 * 3.2: no downgrade here). Returns 1 when nothing is left to send. */
static int utf8_gate(struct rjob *j, struct rconn *c, const struct rsmtp_ext *x)
{
  size_t i;
  if (x->smtputf8) return 0;
  if (raddr_utf8(j->sender)) {
    rjob_all(j, 'h', 'D', "Connected to ", c->ip, " but it does not support SMTPUTF8,"
             " and the envelope sender is not ASCII (#5.6.7)", (const char *)0);
    txn_end(c, 0);
    return 1;
  }
  for (i = 0; i < j->nrcpt; ++i)
    if (!j->rkind[i] && raddr_utf8(j->rcpt[i]))
      rjob_rcpt(j, i, 'h', "Connected to ", c->ip, " but it does not support SMTPUTF8,"
                " and this address is not ASCII (#5.6.7)", (const char *)0);
  if (rjob_count(j, 0)) return 0;
  rjob_msg(j, 'D', "Giving up on ", c->ip, ": it does not support SMTPUTF8,"
           " which every recipient needs (#5.6.7)", (const char *)0);
  txn_end(c, 0);
  return 1;
}

static int cat_mail(struct rjob *j, struct rconn *c, const struct rsmtp_ext *x)
{
  if (!stralloc_cats(&c->out, "MAIL FROM:") || !cat_addr(c, j->sender)) return 0;
  if (x->hassize && (!stralloc_cats(&c->out, " SIZE=") || !sa_catnum(&c->out, wire_size(j))))
    return 0;
  if (j->eightbit && x->eightbit && !stralloc_cats(&c->out, " BODY=8BITMIME")) return 0;
  if (x->smtputf8 && utf8_env(j) && !stralloc_cats(&c->out, " SMTPUTF8")) return 0;
  j->dsnuse = x->dsn && j->dsn && rdsn_ok(j->dsn, j->nrcpt);   /* rdsn.h */
  if (j->dsnuse && !rdsn_mail(&c->out, j->dsn)) return 0;
  return stralloc_cats(&c->out, "\r\n");
}

static int cat_rcpt(struct rjob *j, struct rconn *c, size_t i)
{
  int notify;
  return stralloc_cats(&c->out, "RCPT TO:") && cat_addr(c, j->rcpt[i]) &&
         (!j->dsnuse || rdsn_rcpt(&c->out, j->dsn, i, &notify)) &&
         stralloc_cats(&c->out, "\r\n");
}

/* passed: recipient i's NOTIFY went on to the next hop, which now owes
 * the notices (qmail-rspawn and qmail-send look for DSN_PASSED) */
static const char *passed(const struct rjob *j, size_t i)
{
  static stralloc t;
  int notify = 0;
  t.len = 0;
  if (j->dsnuse && rdsn_rcpt(&t, j->dsn, i, &notify) && notify) return DSN_PASSED;
  return "";
}

/* rcpt_result: record the reply to recipient i. */
static void rcpt_result(struct rjob *j, struct rconn *c, size_t i, struct rreply *r)
{
  int cls = rreply_class(r->code);
  if (cls == 2)
    rjob_rcpt(j, i, 'r', passed(j, i), c->ip, " accepted recipient. Remote host said: ", r->text,
              (const char *)0);
  else
    rjob_rcpt(j, i, cls == 5 ? 'h' : 's', c->ip, " does not like recipient. Remote host said: ",
              r->text, (const char *)0);
}

/* next_batch: queue the RCPTs from *i on (at most RSMTP_BATCH, or one
 * without pipelining); *end gets the index after the last one queued. */
static int next_batch(struct rjob *j, struct rconn *c, size_t from, size_t max, size_t *end)
{
  size_t i, n = 0;
  for (i = from; i < j->nrcpt && n < max; ++i) {
    if (j->rkind[i]) continue;
    if (!cat_rcpt(j, c, i)) return -1;
    ++n;
  }
  *end = i;
  return 0;
}

/* rcpts: send every recipient, record the replies. 0 ok, 1 done (failed). */
static int rcpts(struct rjob *j, struct rconn *c, const struct rsmtp_ext *x, struct rreply *r,
                 int mail_pending)
{
  size_t from = 0, end, i;
  size_t max = x->pipelining ? RSMTP_BATCH : 1;
  while (from < j->nrcpt) {
    if (next_batch(j, c, from, max, &end) < 0) return -1;
    if (mail_pending) {
      int s = rconn_reply(c, r);
      if (s != RREPLY_DONE) return lost(j, c, s, "MAIL");
      if (rreply_class(r->code) != 2) return mail_refused(j, c, r);
      mail_pending = 0;
    }
    for (i = from; i < end; ++i) {
      int s;
      if (j->rkind[i]) continue;
      s = rconn_reply(c, r);
      if (s != RREPLY_DONE) return lost(j, c, s, "RCPT");
      rcpt_result(j, c, i, r);
    }
    from = end;
  }
  if (mail_pending) {  /* every recipient was refused before sending */
    int s = rconn_reply(c, r);
    if (s != RREPLY_DONE) return lost(j, c, s, "MAIL");
    if (rreply_class(r->code) != 2) return mail_refused(j, c, r);
  }
  return 0;
}

static int envelope(struct rjob *j, struct rconn *c, const struct rsmtp_ext *x, struct rreply *r)
{
  if (raddr_job(j)) {   /* nothing that can be written (qmail-remote checked already) */
    txn_end(c, 0);
    return 1;
  }
  if (utf8_gate(j, c, x)) return 1;
  if (!cat_mail(j, c, x)) return -1;
  if (!x->pipelining) {
    int s = rconn_reply(c, r);
    if (s != RREPLY_DONE) return lost(j, c, s, "MAIL");
    if (rreply_class(r->code) != 2) return mail_refused(j, c, r);
    return rcpts(j, c, x, r, 0);
  }
  return rcpts(j, c, x, r, 1);
}

/* ---- the message ------------------------------------------------------ */

/* blast: send the message and the final dot. 0 ok, 1 done (failed). */
static int blast(struct rjob *j, struct rconn *c)
{
  static char buf[RSESS_COPYBUF];
  struct rblast b;
  unsigned long long left = j->msgsize;
  rblast_start(&b, RBLAST_SMTP);
  if (lseek(j->msgfd, 0, SEEK_SET) < 0) goto readerr;
  while (left) {
    ssize_t n = read(j->msgfd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) goto readerr;
    left -= (unsigned long long)n;
    if (!rblast_put(&b, buf, (size_t)n, &c->out)) return -1;
    if (c->out.len >= sizeof buf && rconn_flush(c) < 0) return lost(j, c, -2, "DATA");
  }
  if (!rblast_end(&b, &c->out)) return -1;
  return 0;
readerr:
  /* never send the dot for a message we could not read whole */
  c->broken = 1;
  rjob_all(j, 's', 'Z', "Unable to read the message (#4.3.0)", (const char *)0);
  return 1;
}

static int data(struct rjob *j, struct rconn *c, struct rreply *r)
{
  int s, b;
  if (!stralloc_cats(&c->out, "DATA\r\n")) return -1;
  s = rconn_reply(c, r);
  if (s != RREPLY_DONE) return lost(j, c, s, "DATA");
  if (r->code != 354) return refused(j, c, "DATA was not accepted", r);
  b = blast(j, c);
  if (b) return b;
  s = rconn_reply(c, r);
  if (s != RREPLY_DONE) return lost(j, c, s, "the end of the message");
  if (rreply_class(r->code) == 2)
    rjob_msg(j, 'K', c->ip, " accepted message", c->tls ? " over TLS (" : "", c->tls ? c->tlsinfo : "",
             c->tls ? ")" : "", c->plainretry ? " without TLS (its TLS handshake failed)" : "",
             ". Remote host said: ", r->text, (const char *)0);
  else
    rjob_msg(j, rreply_class(r->code) == 5 ? 'D' : 'Z', c->ip,
             " failed after I sent the message. Remote host said: ", r->text, (const char *)0);
  if (r->code == 421) c->broken = 1;
  txn_end(c, 0);
  return 1;
}

/* nobody: no recipient was accepted: D if all were refused for good. */
static int nobody(struct rjob *j, struct rconn *c)
{
  int perm = rjob_count(j, 'h') == j->nrcpt;
  rjob_msg(j, perm ? 'D' : 'Z', "Giving up on ", c->ip, ": no recipient was accepted", (const char *)0);
  txn_end(c, 1);
  return 1;
}

static int nomem(struct rjob *j)
{
  rjob_all(j, 's', 'Z', "out of memory (#4.3.0)", (const char *)0);
  return RSESS_DONE;
}

int rsmtp_open(struct rjob *j, struct rconn *c, struct rsmtp_ext *x)
{
  struct rreply *r = malloc(sizeof *r);
  int s, st;
  if (!r) { c->broken = 1; return nomem(j); }
  rreply_start(r);
  memset(x, 0, sizeof *x);
  st = smtps(j, c);
  if (st) { free(r); c->broken = 1; return st < 0 ? nomem(j) : RSESS_DONE; }
  s = rconn_reply(c, r);
  if (s == -2 && !c->gotany && !c->tls) { free(r); return RSESS_NORESPONSE; }
  if (s != RREPLY_DONE) st = lost(j, c, s, "the greeting");
  else if (rreply_class(r->code) != 2) { c->broken = 1; st = refused(j, c, "greeting failed", r); }
  else st = hello(j, c, x, r);
  if (st == 0) st = starttls(j, c, x, r);
  if (st == 0) st = auth(j, c, x, r);
  free(r);
  if (st < 0) { c->broken = 1; nomem(j); }
  return st == 0 ? RSESS_READY : RSESS_DONE;
}

int rsmtp_txn(struct rjob *j, struct rconn *c, const struct rsmtp_ext *x)
{
  struct rreply *r = malloc(sizeof *r);
  int st;
  c->stale = 0;
  if (c->reuse) c->gotany = 0;
  if (!r) return nomem(j);
  rreply_start(r);
  st = too_big(j, c, x);
  if (st == 0) st = envelope(j, c, x, r);
  if (st == 0) st = rjob_count(j, 'r') ? data(j, c, r) : nobody(j, c);
  free(r);
  if (c->stale) return RSESS_STALE;
  if (st < 0) { c->broken = 1; nomem(j); }
  return RSESS_DONE;
}

int rsmtp_deliver(struct rjob *j, struct rconn *c)
{
  struct rsmtp_ext x;
  int s = rsmtp_open(j, c, &x);
  if (s != RSESS_READY) return s;
  return rsmtp_txn(j, c, &x);
}
