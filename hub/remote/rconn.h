/* rconn.h: one connection of qmail-remote to a mail server: a socket with
 * an input buffer, an output buffer and the delivery's limits (a per-call
 * timeout and the delivery's total deadline, q_io.h), plus the readers the
 * SMTP and QMTP sessions need. Caps: RCONN_INBUF bytes read at a time;
 * replies are capped by their parsers (rreply.h, RCONN_NSMAX). */
#ifndef RCONN_H
#define RCONN_H

#include <stddef.h>
#include "stralloc.h"
#include "q_io.h"
#include "q_net.h"
#include "rreply.h"
#include "rdns.h"
#include "rtls.h"

#define RCONN_INBUF 8192
#define RCONN_NSMAX 4096   /* a QMTP response netstring */

struct rconn {
  int fd;
  char ip[64];                 /* the peer's address as text, no port */
  struct io_limits lim;
  char in[RCONN_INBUF];
  size_t inpos, inlen;
  int gotany;                  /* at least one byte came from the peer */
  int eof;                     /* the peer closed */
  int err;                     /* errno of the last I/O failure */
  stralloc out;                /* bytes waiting for rconn_flush */
  /* session mode (qmail-remote -S, rsession.h): many transactions */
  int session;                 /* end a transaction with RSET, not QUIT */
  int reuse;                   /* this transaction is not the first */
  int broken;                  /* the connection cannot carry another one */
  int stale;                   /* reuse, and the server was gone before
                                  answering MAIL: the job is not reported */
  /* TLS (rtls.h): set by the caller after rconn_open */
  const struct rtls_dest *td;  /* the destination's TLS and AUTH settings;
                                  NULL: plain text, no AUTH */
  char name[RDNS_NAMEMAX + 1]; /* the host's name: SNI, verify, DANE */
  unsigned short port;
  struct net_addr addr;        /* the peer, for rconn_reconnect */
  int plainretry;              /* TLS failed under may: this is the plain
                                  connection made after it */
  struct qtlsc *tls;           /* TLS is on: reads and writes go through it */
  /* set by rtls.c, so that rconn.c itself needs no libtls */
  ssize_t (*tlsread)(struct qtlsc *, char *, size_t, const struct io_limits *);
  ssize_t (*tlswrite)(struct qtlsc *, const char *, size_t, const struct io_limits *);
  void (*tlsfree)(struct rconn *c);   /* free tls and the dane state */
  int tlsneed;                 /* rtls_need said TLS is required */
  struct rtls_dane_state dane;
  char tlsinfo[200];           /* "TLSv1.3 cipher ... verify ..." for the log */
};

/* rconn_open: set up c for the connected socket fd to peer a. */
void rconn_open(struct rconn *c, int fd, const struct net_addr *a,
                int timeout_ms, long long deadline_ms);
/* rconn_close: close the socket (TLS: close_notify first, 2 s at most),
 * free the buffers. */
void rconn_close(struct rconn *c);
/* rconn_flush: write all of c->out. 0 ok, -1 error (c->err). */
int rconn_flush(struct rconn *c);
/* rconn_reply: flush, then read one SMTP reply into r. RREPLY_DONE, or
 * RREPLY_BAD for a protocol error, or -2 for EOF, timeout or read error
 * (c->err: 0 for EOF). */
int rconn_reply(struct rconn *c, struct rreply *r);
/* rconn_netstring: flush, then read one netstring of at most RCONN_NSMAX
 * bytes into sa. 0 ok; -1 malformed or too long; -2 EOF/timeout/error. */
int rconn_netstring(struct rconn *c, stralloc *sa);
/* rconn_reconnect: drop the connection (TLS and buffers too) and connect
 * to the same address again within c's limits. 0 ok; -1 failed (c->err). */
int rconn_reconnect(struct rconn *c);
/* rconn_pending: input bytes read but not consumed yet. */
size_t rconn_pending(const struct rconn *c);
/* rconn_why: a short text for c's failure ("timed out", "connection
 * closed", strerror). */
const char *rconn_why(const struct rconn *c);

#endif
