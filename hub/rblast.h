/* rblast.h: qmail-remote's message encoders. The queue stores messages
 * with LF line ends (a CR is an ordinary byte there).
 *
 * SMTP DATA (RFC 5321 sec 4.5.2): every LF becomes CRLF, a '.' at the
 * start of a line is doubled, any other byte (a bare CR included) goes
 * out as it is; rblast_end adds CRLF when the message did not end with a
 * LF, then ".\r\n". Since every LF is sent as CRLF, the message cannot
 * contain the end-of-data sequence CRLF.CRLF in any form.
 *
 * The encoder is a tiny state machine (at the start of a line or not), so
 * a message can be fed in chunks split anywhere. The output grows by at
 * most 2x the input plus 5 bytes; growth is overflow-checked. */
#ifndef RBLAST_H
#define RBLAST_H

#include <stddef.h>
#include "stralloc.h"

struct rblast {
  int midline;   /* 0 at the start of a line */
};

/* rblast_start: a new message. */
void rblast_start(struct rblast *b);
/* rblast_put: append the encoding of in[0..len) to out. 1 ok, 0 no memory. */
int rblast_put(struct rblast *b, const char *in, size_t len, stralloc *out);
/* rblast_end: append the end of data (CRLF if needed, ".\r\n"). 1 ok, 0 no memory. */
int rblast_end(struct rblast *b, stralloc *out);

/* rblast_scan: facts about a stored message chunk: *lfs += its LF count,
 * *eight |= 1 when it has a byte >= 0x80. */
void rblast_scan(const char *in, size_t len, unsigned long long *lfs, int *eight);

#endif
