/* rblast.h: qmail-remote's message encoders. The queue stores messages
 * with LF line ends; a CR is an ordinary byte there, and nothing stops a
 * message from holding one. A receiver that takes a lone CR (or LF) for
 * a line end could be handed a second message inside the first ("SMTP
 * smuggling"), so no lone CR and no lone LF ever leaves:
 *
 *   - a CR directly before an LF belongs to that line end (the stored
 *     "CR LF" is one line end, as if it were a plain LF);
 *   - any other CR becomes a space (as Postfix 3.9 does);
 *   - an LF is a line end.
 *
 * SMTP DATA (RFC 5321 sec 4.5.2, RBLAST_SMTP): a line end is CRLF, a '.'
 * at the start of a line is doubled; rblast_end adds CRLF when the message
 * did not end with a line end, then ".\r\n". The output thus never holds a
 * CR or an LF outside a CRLF pair, and the message cannot contain the end
 * of data in any form.
 * QMTP's LF encoding (RBLAST_LF): a line end is LF, nothing else changes:
 * the same lines as over SMTP. Its length is known in advance: the stored
 * size less the CRs that stood before an LF (rblast_scan's crlfs).
 *
 * The encoder is a small state machine (at the start of a line or not, a
 * CR held back until the next byte shows what it is), so a message can be
 * fed in chunks split anywhere. The output of one rblast_put is at most
 * 2 * len + 1 bytes; growth is overflow-checked. */
#ifndef RBLAST_H
#define RBLAST_H

#include <stddef.h>
#include "stralloc.h"

enum rblast_mode { RBLAST_SMTP = 0, RBLAST_LF = 1 };

struct rblast {
  int mode;      /* enum rblast_mode */
  int midline;   /* 0 at the start of a line */
  int cr;        /* a CR is held back */
};

/* rblast_start: a new message in the given mode. */
void rblast_start(struct rblast *b, int mode);
/* rblast_put: append the encoding of in[0..len) to out. 1 ok, 0 no memory. */
int rblast_put(struct rblast *b, const char *in, size_t len, stralloc *out);
/* rblast_end: append the end: a held CR as a space; SMTP: CRLF if needed
 * and ".\r\n". 1 ok, 0 no memory. */
int rblast_end(struct rblast *b, stralloc *out);

/* rblast_facts: what rblast_scan found in a stored message so far. */
struct rblast_facts {
  unsigned long long lfs;     /* LF bytes */
  unsigned long long crlfs;   /* CR bytes directly before an LF */
  int eightbit;               /* a byte >= 0x80 */
  int cr;                     /* the last byte seen was a CR */
};

/* rblast_scan: add the chunk in[0..len) (chunks in order; start from a
 * zeroed struct). */
void rblast_scan(struct rblast_facts *f, const char *in, size_t len);

#endif
