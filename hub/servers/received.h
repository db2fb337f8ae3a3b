/* received.h: the servers' own name and the Received: line, one module
 * for qmail-smtpd, qmail-qmtpd, qmail-qmqpd and qmail-popup so that they
 * cannot drift apart (issue 14).
 *
 * The local name (control/README.md, qmail's rules):
 *   me           control/me; when missing or empty, the first word of
 *                control/smtpgreeting; else none ("")
 *   greeting     control/smtpgreeting (the SMTP banner after "220 "), else
 *                me; qmail-smtpd refuses to serve when both are missing
 *   localiphost  control/localiphost, else me (x@[our IP] -> x@localiphost)
 *   by           the Received line's "by": $TCPLOCALHOST unless it is
 *                unset, empty or "0" (what tcpserver -l0 and the fork
 *                server set), else me, else "unknown"
 * A file that is present but unreadable is a failure (the caller's
 * refusal, srvconf.h), never the default.
 *
 * The Received line (RFC 5321 sec 4.4, in qmail's form):
 *   Received: from HELO (HOST [IP] ident=INFO)
 *     by BY with PROTO; DATE
 * HELO, HOST and INFO come from the network or DNS, IP and BY from the
 * environment; all five are made safe the same way: only letters, digits
 * and "-._:[]@+" are kept, anything else (a control byte such as CR, LF,
 * ESC or DEL, a space, a quote, a byte >= 128) becomes '?', and each is
 * cut at 255 bytes. So no byte of theirs can end the line, fold it or
 * forge another field. No HELO: the host; no host: "unknown". The line
 * always ends in "\n".
 * PROTO is the protocol (SMTP, ESMTP, UTF8SMTP for an SMTPUTF8
 * transaction as RFC 6531 sec 3.7.3 names it, QMTP, QMQP) with RFC 3848's
 * letters: S inside TLS, A after AUTH (ESMTPS, ESMTPA, ESMTPSA, QMTPS; TLS
 * or AUTH make SMTP ESMTP), then the TLS description in parentheses, then
 * DKIM_RELAYMARK for a relay client that did not authenticate (so
 * qmail-remote signs it, docs/dkim.md). */
#ifndef RECEIVED_H
#define RECEIVED_H

#include "stralloc.h"

struct srvname {
  stralloc me, greeting, localiphost;   /* NUL-terminated */
  const char *by;
};

/* srvname_read: the names above. want: SRVNAME_ME alone (the netstring
 * servers), or with SRVNAME_SMTP (also greeting and localiphost). 0 ok;
 * -1 a file present but unreadable (*failed: its name, errno set).
 * n->me.s is "" when there is none (qmail-smtpd then refuses). */
#define SRVNAME_ME 0
#define SRVNAME_SMTP 1
int srvname_read(struct srvname *n, int want, const char **failed);

struct received_info {
  const char *proto;      /* "SMTP", "ESMTP", "UTF8SMTP", "QMTP", "QMQP" */
  const char *tls;        /* TLS description (qtls_describe), or NULL */
  int auth;               /* the client authenticated (SMTP AUTH) */
  int relay;              /* a relay client (RELAYCLIENT) that is not auth */
  const char *by;         /* our name (srvname's by) */
  const char *remoteip;   /* TCPREMOTEIP, may be NULL */
  const char *remotehost; /* TCPREMOTEHOST, may be NULL */
  const char *remoteinfo; /* TCPREMOTEINFO, may be NULL */
  const char *helo;       /* HELO/EHLO argument, may be NULL */
};

/* received_with: append PROTO as above. 1 ok, 0 no memory. */
int received_with(stralloc *out, const struct received_info *ri);
/* received_line: append the line to out. 1 ok, 0 no memory. */
int received_line(stralloc *out, const struct received_info *ri, long long when);

#endif
