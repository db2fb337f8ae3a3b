/* rqmtps.c: QMTPS for qmail-remote (see rsess.h; docs/qmtps.md): the TLS
 * handshake of a qmtps route's connection (rtls_start: the policy of
 * control/tlsdestinations decides how the certificate is checked) and the
 * TLS reads and writes of the session mode (rsession.c). Apart from
 * rqmtp.c so that what links the QMTP pieces alone needs no libtls. */
#include <stdio.h>
#include <string.h>
#include "q_tlsc.h"
#include "rsess.h"
#include "rtls.h"

int rqmtp_open(struct rjob *j, struct rconn *c)
{
  stralloc why = {0};
  rqmtp_tlsnote[0] = 0;
  if (!c->td || !c->td->smtps) return RSESS_READY;
  if (rtls_need(c, &why) >= 0 && rtls_start(c, &why) == 0) {
    stralloc_free(&why);
    snprintf(rqmtp_tlsnote, sizeof rqmtp_tlsnote, " over TLS (%s)", c->tlsinfo);
    return RSESS_READY;
  }
  c->broken = 1;
  if (!stralloc_0(&why)) why.len = 0;
  rjob_all(j, 's', 'Z', "Connected to ", c->ip, " but TLS failed (QMTPS): ",
           why.len ? why.s : "out of memory", why.len && strstr(why.s, "(#4.") ? "" : " (#4.7.5)",
           (const char *)0);
  stralloc_free(&why);
  return RSESS_DONE;
}

ssize_t rqmtp_tlsread(struct rconn *c, char *buf, size_t len)
{
  return qtlsc_read_nowait(c->tls, buf, len);
}

ssize_t rqmtp_tlswrite(struct rconn *c, const char *buf, size_t len)
{
  return qtlsc_write(c->tls, buf, len, &c->lim);
}

