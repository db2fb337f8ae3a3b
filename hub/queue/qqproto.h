/* qqproto.h: the server side of the queue socket's wire protocol
 * (qmail-queued(8); hub/queue/QUEUE.md section 8; docs/protocols.md):
 *   message:  chunks "<len>:<bytes>," with 1 <= len <= QQ_CHUNKMAX, no
 *             leading zeros, then the empty chunk "0:," that ends it
 *   envelope: F<sender>\0 T<rcpt>\0 ... \0, exactly as qmail-queue reads
 *             it on fd 1 (checked by envelope.h as it streams), at most
 *             QQ_ENVMAX bytes
 *   reply:    (from the daemon) one netstring "<code>" or "<code> <text>"
 *             (common/q_qq.h qq_reply_parse)
 * A streaming parser: any chunking of the input gives the same events;
 * it keeps no copy of the bytes (events point into the caller's buffer). */
#ifndef QQPROTO_H
#define QQPROTO_H

#include <stddef.h>
#include "envelope.h"
#include "q_qq.h"

enum qqp_event {
  QQP_MORE = 0,     /* all input used, nothing to do: read more */
  QQP_DATA = 1,     /* *data[0..*dlen) is message bytes */
  QQP_MSGEND = 2,   /* the empty chunk: the envelope follows */
  QQP_ENV = 3,      /* *data[0..*dlen) is envelope bytes, checked */
  QQP_ENVEND = 4,   /* *data[0..*dlen) ends the envelope (final NUL
                       included); nothing after it belongs to the message */
  QQP_BADCHUNK = -1,  /* chunk framing broken or a chunk over QQ_CHUNKMAX: 81 */
  QQP_BADENV = -2,    /* envelope format: 91 */
  QQP_LONGADDR = -3,  /* an address over the cap or with a control byte: 11 */
  QQP_BIGENV = -4     /* the envelope over QQ_ENVMAX: 91 */
};

struct qqp {
  int state;            /* qqproto.c */
  size_t left;          /* bytes left in the current chunk */
  size_t len;           /* the chunk length being read */
  int digits;           /* digits of it so far */
  unsigned long long envbytes;  /* envelope bytes so far */
  struct envscan es;
};

/* qqp_init: a new message; maxaddr is the address cap (control/maxaddress). */
void qqp_init(struct qqp *p, unsigned long maxaddr);
/* qqp_next: the next event from in[0..len). *used gets the bytes consumed
 * (call again with the rest); for QQP_DATA, QQP_ENV and QQP_ENVEND,
 * *data and *dlen the bytes. After an error or QQP_ENVEND the parser is done:
 * every later call returns the same. */
int qqp_next(struct qqp *p, const char *in, size_t len, size_t *used,
             const char **data, size_t *dlen);
/* qqp_code: the qmail-queue exit code of an error event. */
int qqp_code(int event);

#endif
