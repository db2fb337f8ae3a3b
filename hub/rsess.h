/* rsess.h: qmail-remote's two conversations over a connected rconn: SMTP
 * (rsmtp.c) and QMTP (rqmtp.c). Each fills the job's reports (rjob.h) and
 * returns RSESS_DONE, or RSESS_NORESPONSE when the server sent nothing at
 * all before the connection failed or timed out: then no report was made
 * and the caller may try another address (or SMTP after QMTP, MXPS).
 *
 * SMTP (RFC 5321): greeting, EHLO (HELO when EHLO is refused), SIZE
 * (a message over the server's limit is refused permanently, #5.3.4,
 * without sending it), 8BITMIME (BODY=8BITMIME for a message with 8-bit
 * bytes), PIPELINING (MAIL and the RCPTs in batches of RSMTP_BATCH, then
 * the replies), one transaction for every recipient, DATA, the message
 * (rblast.h), QUIT. Success only after a 2xx to the final dot.
 * Reply classes (rreply_class): 5xx permanent, 2xx/3xx as the step
 * expects, everything else (4xx, protocol errors, odd codes) temporary.
 *
 * QMTP (REFERENCE.md 2): one package: the message with the LF encoding
 * byte, the sender, the recipients; one response per recipient, K => r,
 * Z => s, D => h. */
#ifndef RSESS_H
#define RSESS_H

#include "rconn.h"
#include "rjob.h"

#define RSMTP_BATCH 100
#define RSESS_COPYBUF 65536

enum rsess_result { RSESS_DONE = 0, RSESS_NORESPONSE = 1 };

int rsmtp_deliver(struct rjob *j, struct rconn *c);
int rqmtp_deliver(struct rjob *j, struct rconn *c);

/* rsess_addr_ok: an envelope address safe to put on a command line: no
 * control characters (CR, LF, NUL, DEL...), at most 1000 bytes. A
 * recipient that is not gets 'h' (#5.1.3), a sender that is not fails
 * the whole message (#5.1.7), before anything is sent. */
int rsess_addr_ok(const char *a);

#endif
