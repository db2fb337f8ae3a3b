/* q_qqstatus.h: the one mapping from a qmail-queue status to reply text.
 * Every caller of qmail-queue (qmail-inject, forward, the SMTP, QMTP and QMQP
 * servers, bounces) turns the exit status into K/Z/D text and an SMTP code
 * here and nowhere else. Table: docs/protocols.md, the queue status. */
#ifndef Q_QQSTATUS_H
#define Q_QQSTATUS_H

#include <stddef.h>

#define QQ_CRASH 256     /* the queue program died by a signal */
#define QQ_EXECFAIL 120  /* the queue program could not be run */
#define QQ_CUSTOM 82     /* custom text on fd 6: first byte D or Z */

struct qq_status {
  char kind;         /* 'K' accepted, 'Z' temporary, 'D' permanent */
  const char *smtp;  /* "250", "451" or "554" */
  const char *text;  /* human text with (#x.y.z), no K/Z/D prefix */
  size_t textlen;
};

/* qq_status: map exit status code (0..255, QQ_CRASH) to st. For code 82,
 * fd6[0..fd6len) is what the queue program wrote on fd 6; its first byte
 * must be 'D' or 'Z' (anything else counts as a temporary problem) and the
 * text is cut at the first CR, LF or NUL so it can go into one reply line.
 * st->text then points into fd6. */
void qq_status(int code, const char *fd6, size_t fd6len, struct qq_status *st);
/* qq_permanent: 1 when code is a permanent failure (11..40, or 82 with D). */
int qq_permanent(int code, const char *fd6, size_t fd6len);

#endif
