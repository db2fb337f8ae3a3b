/* received.h: the Received: line a server puts on top of a message it
 * accepts (RFC 5321 sec 4.4, in qmail's form):
 *   Received: from HELO (HOST [IP] ident=INFO)
 *     by LOCAL with PROTO; DATE
 * HELO, HOST and INFO come from the network or DNS, IP and LOCAL from the
 * environment; all five are made safe the same way: only letters, digits
 * and "-._:[]@+" are kept, anything else (a control byte such as CR, LF,
 * ESC or DEL, a space, a quote, a byte >= 128) becomes '?', and each is
 * cut at 255 bytes. So no byte of theirs can end the
 * line, fold it or forge another field. The line always ends in "\n". */
#ifndef RECEIVED_H
#define RECEIVED_H

#include "stralloc.h"

struct received_info {
  const char *proto;      /* "SMTP", "ESMTP", "QMTP", "QMQP" */
  const char *local;      /* our name (TCPLOCALHOST or control/me) */
  const char *remoteip;   /* TCPREMOTEIP, may be NULL */
  const char *remotehost; /* TCPREMOTEHOST, may be NULL */
  const char *remoteinfo; /* TCPREMOTEINFO, may be NULL */
  const char *helo;       /* HELO/EHLO argument, may be NULL */
};

/* received_localname: our name for the "by" part: $TCPLOCALHOST unless it
 * is unset, empty or "0" (what tcpserver -l0 sets), else control/me, else
 * "unknown". sa is NUL-terminated. 0 ok, -1 control/me unreadable. */
int received_localname(stralloc *sa);
/* received_line: append the line to out. 1 ok, 0 no memory. */
int received_line(stralloc *out, const struct received_info *ri, long long when);

#endif
