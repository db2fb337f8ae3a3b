/* rqmtp.c: qmail-remote's QMTP client (see rsess.h; docs/protocols.md): one
 * package per connection (inside TLS for a qmtps route: rqmtps.c), the message in the LF encoding (rblast.h: no
 * lone CR), streamed from the queue file in RSESS_COPYBUF chunks; the
 * envelope raw, checked by raddr_job; responses of at most RCONN_NSMAX
 * bytes. The pieces of a package and the response reader are shared with
 * the pipelined session mode (rsession.c). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "q_netstring.h"
#include "raddr.h"
#include "rblast.h"
#include "rsess.h"

/* rqmtp_tlsnote: set by rqmtp_open (rqmtps.c) */
char rqmtp_tlsnote[RQMTP_TLSNOTE];

/* send_message: "<len>:\n" + the message. 0 ok, 1 failed (reported
 * unless nothing was received: then 2), -1 no memory. */
static int send_message(struct rjob *j, struct rconn *c)
{
  static char buf[RSESS_COPYBUF];
  unsigned long long left = j->msgsize, wire = rqmtp_length(j), sent = 0;
  struct rblast b;
  size_t before;
  if (!rqmtp_head(j, &c->out)) return -1;
  rblast_start(&b, RBLAST_LF);
  if (lseek(j->msgfd, 0, SEEK_SET) < 0) goto readerr;
  while (left) {
    ssize_t n = read(j->msgfd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) goto readerr;
    left -= (unsigned long long)n;
    before = c->out.len;
    if (!rblast_put(&b, buf, (size_t)n, &c->out)) return -1;
    sent += c->out.len - before;
    if (sent > wire) goto readerr;    /* the file changed under us */
    if (c->out.len >= sizeof buf && rconn_flush(c) < 0) return 2;
  }
  before = c->out.len;
  if (!rblast_end(&b, &c->out)) return -1;
  if (sent + (c->out.len - before) != wire) goto readerr;
  return 0;  /* rqmtp_tail adds the ',' */
readerr:
  /* the package stays incomplete, so the server discards it */
  rjob_all(j, 's', 'Z', "Unable to read the message (#4.3.0)", (const char *)0);
  return 1;
}

unsigned long long rqmtp_length(const struct rjob *j)
{
  return j->msgcrlfs <= j->msgsize ? j->msgsize - j->msgcrlfs : 0;
}

size_t rqmtp_next(const struct rjob *j, size_t i)
{
  while (i < j->nrcpt && j->rkind[i]) ++i;
  return i;
}

int rqmtp_head(const struct rjob *j, stralloc *out)
{
  char head[NS_HEAD];
  unsigned long long len = rqmtp_length(j);
  if (len > (unsigned long long)(SIZE_MAX - 1)) return 0;
  return stralloc_catb(out, head, ns_head(head, (size_t)len + 1)) &&
         stralloc_cats(out, "\n");
}

int rqmtp_tail(const struct rjob *j, stralloc *out)
{
  stralloc list = {0};
  size_t i;
  int ok = stralloc_cats(out, ",") && ns_cats(out, raddr_null(j->sender) ? "" : j->sender);
  for (i = rqmtp_next(j, 0); ok && i < j->nrcpt; i = rqmtp_next(j, i + 1))
    ok = ns_cats(&list, j->rcpt[i]);
  ok = ok && ns_cat(out, list.s, list.len);
  stralloc_free(&list);
  return ok;
}

static int send_envelope(struct rjob *j, struct rconn *c)
{
  return rqmtp_tail(j, &c->out) ? 0 : -1;
}

int rqmtp_answer(struct rjob *j, const char *ip, size_t i, const char *a, size_t len)
{
  char text[RCONN_NSMAX + 1];
  size_t tl = len ? len - 1 : 0;
  char k;
  if (len == 0 || tl > RCONN_NSMAX) return -1;
  memcpy(text, a + 1, tl);
  text[tl] = 0;
  if (a[0] == 'K') k = 'r';
  else if (a[0] == 'Z') k = 's';
  else if (a[0] == 'D') k = 'h';
  else return -1;
  rjob_rcpt(j, i, k, ip, k == 'r' ? " accepted message (QMTP). Remote host said: "
                                  : " refused recipient (QMTP). Remote host said: ",
            text, (const char *)0);
  return 0;
}

static int response(struct rjob *j, struct rconn *c, size_t i, stralloc *a)
{
  return rqmtp_answer(j, c->ip, i, a->s, a->len);
}

void rqmtp_finish(struct rjob *j, const char *ip, const char *why)
{
  if (why)
    rjob_all(j, 's', 'Z', "Connected to ", ip, " but the QMTP connection ", why,
             " (#4.4.2)", (const char *)0);
  if (rjob_count(j, 'r'))
    rjob_msg(j, 'K', ip, " accepted message (QMTP)", rqmtp_tlsnote, (const char *)0);
  else if (rjob_count(j, 'h') == j->nrcpt)
    rjob_msg(j, 'D', "Giving up on ", ip, ": no recipient was accepted (QMTP)", (const char *)0);
  else
    rjob_msg(j, 'Z', "Giving up on ", ip, ": no recipient was accepted (QMTP)", (const char *)0);
}

static void finish(struct rjob *j, struct rconn *c, const char *why)
{
  rqmtp_finish(j, c->ip, why);
}

void rqmtp_ns_start(struct rqmtp_ns *n)
{
  n->state = 0;
  n->digits = n->len = n->got = 0;
}

/* ns_digit: one byte of the length part. 1 done (':'), 0 more, -1 bad. */
static int ns_digit(struct rqmtp_ns *n, char ch)
{
  if (ch == ':') return n->digits ? 1 : -1;
  if (ch < '0' || ch > '9' || (n->digits == 1 && n->len == 0)) return -1;
  n->len = n->len * 10 + (size_t)(ch - '0');
  if (++n->digits > 5 || n->len > RCONN_NSMAX) return -1;
  return 0;
}

int rqmtp_ns_feed(struct rqmtp_ns *n, const char *in, size_t len, size_t *used)
{
  size_t i = 0;
  if (n->state == 3) rqmtp_ns_start(n);
  while (i < len) {
    if (n->state == 0) {
      int d = ns_digit(n, in[i++]);
      if (d < 0) { *used = i; return -1; }
      if (d) n->state = 1;
    } else if (n->state == 1 && n->got < n->len) {
      size_t k = len - i < n->len - n->got ? len - i : n->len - n->got;
      memcpy(n->buf + n->got, in + i, k);
      n->got += k;
      i += k;
    } else if (n->state == 1) {
      n->state = 2;
    } else {
      *used = i + 1;
      if (in[i] != ',') return -1;
      n->buf[n->len] = 0;
      n->state = 3;
      return 1;
    }
  }
  if (n->state == 1 && n->got == n->len) n->state = 2;
  *used = i;
  return 0;
}

static int read_responses(struct rjob *j, struct rconn *c)
{
  stralloc a = {0};
  size_t i;
  for (i = rqmtp_next(j, 0); i < j->nrcpt; i = rqmtp_next(j, i + 1)) {
    int g = rconn_netstring(c, &a);
    if (g == -2 && !c->gotany) { stralloc_free(&a); return RSESS_NORESPONSE; }
    if (g == -2) { finish(j, c, c->err == ETIMEDOUT ? "timed out" : "died"); break; }
    if (g < 0 || response(j, c, i, &a) < 0) { finish(j, c, "gave an invalid response"); break; }
  }
  stralloc_free(&a);
  finish(j, c, 0);
  return RSESS_DONE;
}

int rqmtp_deliver(struct rjob *j, struct rconn *c)
{
  int s;
  if (raddr_job(j)) return RSESS_DONE;   /* qmail-remote checked already */
  s = send_message(j, c);
  if (s == 0) s = send_envelope(j, c);
  if (s == 0 && rconn_flush(c) < 0) s = 2;
  if (s == 2 && !c->gotany) return RSESS_NORESPONSE;
  if (s == 2) { finish(j, c, "died"); return RSESS_DONE; }
  if (s < 0) { rjob_all(j, 's', 'Z', "out of memory (#4.3.0)", (const char *)0); return RSESS_DONE; }
  if (s == 1) return RSESS_DONE;
  return read_responses(j, c);
}
