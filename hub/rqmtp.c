/* rqmtp.c: qmail-remote's QMTP client (see rsess.h; REFERENCE.md 2): one
 * package per connection, the message in the LF encoding, streamed from
 * the queue file in RSESS_COPYBUF chunks; responses of at most
 * RCONN_NSMAX bytes. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "q_netstring.h"
#include "rsess.h"

/* send_message: "<len>:\n" + the message + ",". 0 ok, 1 failed (reported
 * unless nothing was received: then 2), -1 no memory. */
static int send_message(struct rjob *j, struct rconn *c)
{
  static char buf[RSESS_COPYBUF];
  char head[NS_HEAD];
  unsigned long long left = j->msgsize;
  if (j->msgsize > (unsigned long long)(SIZE_MAX - 1)) return -1;
  if (!stralloc_catb(&c->out, head, ns_head(head, (size_t)j->msgsize + 1)) ||
      !stralloc_cats(&c->out, "\n")) return -1;
  if (lseek(j->msgfd, 0, SEEK_SET) < 0) goto readerr;
  while (left) {
    ssize_t n = read(j->msgfd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) goto readerr;
    left -= (unsigned long long)n;
    if (!stralloc_catb(&c->out, buf, (size_t)n)) return -1;
    if (c->out.len >= sizeof buf && rconn_flush(c) < 0) return 2;
  }
  return stralloc_cats(&c->out, ",") ? 0 : -1;
readerr:
  /* the package stays incomplete, so the server discards it */
  rjob_all(j, 's', 'Z', "Unable to read the message (#4.3.0)", (const char *)0);
  return 1;
}

static int send_envelope(struct rjob *j, struct rconn *c)
{
  stralloc list = {0};
  size_t i;
  int ok = ns_cats(&c->out, j->sender);
  for (i = 0; ok && i < j->nrcpt; ++i) ok = ns_cats(&list, j->rcpt[i]);
  ok = ok && ns_cat(&c->out, list.s, list.len);
  stralloc_free(&list);
  return ok ? 0 : -1;
}

/* response: record the answer for recipient i. 0 ok, -1 not QMTP. */
static int response(struct rjob *j, struct rconn *c, size_t i, stralloc *a)
{
  char text[RCONN_NSMAX + 1];
  size_t tl = a->len ? a->len - 1 : 0;
  char k;
  if (a->len == 0) return -1;
  memcpy(text, a->s + 1, tl);
  text[tl] = 0;
  if (a->s[0] == 'K') k = 'r';
  else if (a->s[0] == 'Z') k = 's';
  else if (a->s[0] == 'D') k = 'h';
  else return -1;
  rjob_rcpt(j, i, k, c->ip, k == 'r' ? " accepted message (QMTP). Remote host said: "
                                      : " refused recipient (QMTP). Remote host said: ",
            text, (const char *)0);
  return 0;
}

/* finish: the message report from the recipients' reports. */
static void finish(struct rjob *j, struct rconn *c, const char *why)
{
  if (why)
    rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but the QMTP connection ", why,
             " (#4.4.2)", (const char *)0);
  if (rjob_count(j, 'r'))
    rjob_msg(j, 'K', c->ip, " accepted message (QMTP)", (const char *)0);
  else if (rjob_count(j, 'h') == j->nrcpt)
    rjob_msg(j, 'D', "Giving up on ", c->ip, ": no recipient was accepted (QMTP)", (const char *)0);
  else
    rjob_msg(j, 'Z', "Giving up on ", c->ip, ": no recipient was accepted (QMTP)", (const char *)0);
}

static int read_responses(struct rjob *j, struct rconn *c)
{
  stralloc a = {0};
  size_t i;
  for (i = 0; i < j->nrcpt; ++i) {
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
  int s = send_message(j, c);
  if (s == 0) s = send_envelope(j, c);
  if (s == 0 && rconn_flush(c) < 0) s = 2;
  if (s == 2 && !c->gotany) return RSESS_NORESPONSE;
  if (s == 2) { finish(j, c, "died"); return RSESS_DONE; }
  if (s < 0) { rjob_all(j, 's', 'Z', "out of memory (#4.3.0)", (const char *)0); return RSESS_DONE; }
  if (s == 1) return RSESS_DONE;
  return read_responses(j, c);
}
