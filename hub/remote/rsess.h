/* rsess.h: qmail-remote's two conversations over a connected rconn: SMTP
 * (rsmtp.c) and QMTP (rqmtp.c). Each fills the job's reports (rjob.h) and
 * returns RSESS_DONE, or RSESS_NORESPONSE when the server sent nothing at
 * all before the connection failed or timed out: then no report was made
 * and the caller may try another address (or SMTP after QMTP, MXPS).
 *
 * SMTP (RFC 5321): greeting, EHLO (HELO when EHLO is refused), SIZE
 * (a message over the server's limit is refused permanently, #5.3.4,
 * without sending it), 8BITMIME (BODY=8BITMIME for a message with 8-bit
 * bytes), SMTPUTF8 (RFC 6531: "MAIL FROM:<...> SMTPUTF8" when the sender
 * or a recipient of the job has a byte >= 128; when the server does not
 * offer it such a sender fails the job and such a recipient gets h,
 * #5.6.7, before MAIL), PIPELINING (MAIL and the RCPTs in batches of RSMTP_BATCH, then
 * the replies), one transaction for every recipient, DATA, the message
 * (rblast.h), QUIT. TLS and AUTH (rtls.h, c->td): an SMTPS route's
 * handshake comes before the greeting; STARTTLS (then EHLO again) after
 * EHLO when offered and the policy is not none, required by encrypt,
 * verify and dane (a deferral #4.7.5 otherwise; where TLS is not required
 * a failed handshake is followed by a new connection to the same address
 * without TLS, its K report saying "without TLS (its TLS handshake
 * failed)"); AUTH PLAIN (else LOGIN)
 * after that for an auth route, only over TLS unless auth-notls. A
 * message accepted over TLS says so in its K report: "accepted message
 * over TLS (TLSv1.3 cipher ... verify ok|none|pin|dane)". Success only after a 2xx to the final dot.
 * Reply classes (rreply_class): 5xx permanent, 2xx/3xx as the step
 * expects, everything else (4xx, protocol errors, odd codes) temporary.
 *
 * QMTP (docs/protocols.md, QMTP): one package: the message with the LF encoding
 * byte (rblast.h, RBLAST_LF), the sender, the recipients; one response
 * per recipient, K => r, Z => s, D => h.
 *
 * Addresses (raddr.h): both check the job's envelope first (raddr_job;
 * qmail-remote has done so before connecting, so this finds nothing new)
 * and leave out every recipient already reported: SMTP writes the
 * others in their RFC 5321 form, QMTP raw; the null sender is <> / "". */
#ifndef RSESS_H
#define RSESS_H

#include "rconn.h"
#include "rjob.h"

#define RSMTP_BATCH 100
#define RSESS_COPYBUF 65536

enum rsess_result { RSESS_DONE = 0, RSESS_NORESPONSE = 1, RSESS_READY = 2,
                    RSESS_STALE = 3 };

/* the SMTP extensions of one connection, from its EHLO reply */
struct rsmtp_ext {
  int pipelining, eightbit, hassize;
  int smtputf8;                /* SMTPUTF8 offered (RFC 6531) */
  int dsn;                     /* DSN offered (RFC 3461) */
  unsigned long long size;
  int starttls;                /* STARTTLS offered */
  int auth, authplain, authlogin;   /* AUTH offered; with PLAIN, LOGIN */
  char mechs[64];              /* the AUTH mechanisms offered (for the log) */
};

int rsmtp_deliver(struct rjob *j, struct rconn *c);
int rqmtp_deliver(struct rjob *j, struct rconn *c);

/* Session mode (rsession.h): the SMTP steps one by one. c->session set
 * makes a failed transaction end with RSET (QUIT when c->broken) instead
 * of QUIT, and a completed one end with nothing.
 * rsmtp_open: greeting and EHLO/HELO into x. RSESS_READY; RSESS_NORESPONSE
 * (nothing reported); RSESS_DONE: the connection failed or refused us, the
 * job j reported (the connection is over).
 * rsmtp_txn: one transaction for j (SIZE check, MAIL, RCPTs, DATA). Always
 * reports j, except RSESS_STALE: c->reuse was set and the server was gone
 * (EOF, or 421 to MAIL) before it answered anything: nothing reported, the
 * caller may try again on a new connection. c->broken is set when the
 * connection cannot carry another transaction.
 * rsmtp_quit: QUIT, waiting at most 2 s for the answer. */
int rsmtp_open(struct rjob *j, struct rconn *c, struct rsmtp_ext *x);
int rsmtp_txn(struct rjob *j, struct rconn *c, const struct rsmtp_ext *x);
void rsmtp_quit(struct rconn *c);

/* QMTP pipelining pieces (rqmtp.c), for rsession.c:
 * rqmtp_length: the length of j's message in the LF encoding (rblast.h);
 * rqmtp_next: the first recipient from i on without a report yet (the
 * ones reported before the package are not in it), nrcpt when none;
 * rqmtp_head: the package's start "<len>:\n" for j's message into out;
 * rqmtp_tail: "," then the sender and recipient netstrings. 1 ok, 0 no memory.
 * rqmtp_answer: record response a[0..len) ("K..", "Z..", "D..") for
 * recipient i of j. 0 ok, -1 not a QMTP response.
 * rqmtp_finish: the message report of j from its recipients' reports;
 * with why, every recipient still unanswered first gets s with "Connected
 * to <ip> but the QMTP connection <why> (#4.4.2)". */
unsigned long long rqmtp_length(const struct rjob *j);
size_t rqmtp_next(const struct rjob *j, size_t i);
int rqmtp_head(const struct rjob *j, stralloc *out);
int rqmtp_tail(const struct rjob *j, stralloc *out);
int rqmtp_answer(struct rjob *j, const char *ip, size_t i, const char *a, size_t len);
void rqmtp_finish(struct rjob *j, const char *ip, const char *why);
/* QMTPS (a qmtproutes line with the qmtps option; c->td->smtps set):
 * rqmtp_open (rqmtps.c): before rqmtp_deliver or the session's first
 * package: the TLS handshake on a fresh connection (rtls_start, the policy
 * of control/tlsdestinations for the certificate; no TLS asked: nothing).
 * RSESS_READY, or RSESS_DONE with j reported (#4.7.5). It sets
 * rqmtp_tlsnote (" over TLS (TLSv1.3 cipher ... verify ...)", or "") for
 * the K reports of the connection.
 * rqmtp_tlsread: what the TLS connection has without waiting (-1 EAGAIN:
 * nothing yet); rqmtp_tlswrite: some of buf (rconn's limits). */
int rqmtp_open(struct rjob *j, struct rconn *c);
#define RQMTP_TLSNOTE 240
extern char rqmtp_tlsnote[RQMTP_TLSNOTE];
ssize_t rqmtp_tlsread(struct rconn *c, char *buf, size_t len);
ssize_t rqmtp_tlswrite(struct rconn *c, const char *buf, size_t len);

/* rqmtp_ns: an incremental reader of response netstrings (at most
 * RCONN_NSMAX bytes): rqmtp_ns_feed consumes in[0..len) up to the end of
 * one netstring (*used bytes) and returns 1 when one is complete (n->buf,
 * n->len; the next feed starts a new one), 0 when more is needed, -1 when
 * the input is not a netstring or is too long. */
struct rqmtp_ns {
  int state;                   /* 0 length, 1 body, 2 comma */
  size_t digits, len, got;
  char buf[RCONN_NSMAX + 1];
};
void rqmtp_ns_start(struct rqmtp_ns *n);
int rqmtp_ns_feed(struct rqmtp_ns *n, const char *in, size_t len, size_t *used);

#endif
