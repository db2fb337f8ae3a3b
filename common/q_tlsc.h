/* q_tlsc.h: client-side TLS over libtls (libretls on OpenSSL), with the
 * timed I/O of the plain path (q_io.h). The server side is q_tls.h; this
 * is its mirror for programs that connect out: qmail-remote's STARTTLS and
 * SMTPS (hub/remote/rtls.h), and any other protocol that wants TLS on a socket
 * it has connected (nothing here knows SMTP).
 *
 * Protocols TLS 1.2 and TLS 1.3. Options (struct qtlsc_opts):
 *   servername  sent as SNI (not for an address literal: libtls leaves
 *               it out) and, with verify, the name the certificate must
 *               carry; NULL: no SNI, and verify cannot be asked for.
 *   verify      1: the chain must lead to a trusted CA (cafile, else the
 *               system store, qtlsc_systemca) and be valid now, and the
 *               certificate must be for servername. 0: the certificate is
 *               not checked at all (opportunistic TLS, or DANE, which
 *               checks the chain itself after the handshake).
 *   cafile      a PEM file of trusted CAs, or NULL for the system store.
 *   certfile    optional: a client certificate, its chain and its key in
 *               one PEM file (as q_tls's servercert.pem), read here.
 *   pin         optional: "SHA256:<64 hex>" (tls_peer_cert_hash form, case
 *               ignored): the server's certificate must have that hash,
 *               whatever verify says.
 *   ciphers     a libtls cipher list, NULL: "secure".
 * Every failure is a -1 with why (NUL-terminated, never key bytes).
 *
 * I/O: the library reads and writes the socket through callbacks that use
 * io_read/io_write with the limits of the call (per-call timeout and a
 * deadline); the handshake also ends one timeout after its start, so a
 * server that stalls or trickles a handshake is cut off in bounded time.
 * Reads and writes take their limits per call, so a caller may keep the
 * limits in a structure that it copies or changes between calls.
 *
 * The connection is t->conn, a libtls struct tls *: a caller may ask libtls
 * more about it (e.g. DANE: tls_peer_cert_chain_pem). */
#ifndef Q_TLSC_H
#define Q_TLSC_H

#include <stddef.h>
#include <sys/types.h>
#include "stralloc.h"
#include "q_io.h"

struct tls;

struct qtlsc_opts {
  const char *servername;
  int verify;
  const char *cafile;
  const char *certfile;
  const char *pin;
  const char *ciphers;
};

#define QTLSC_DANE 2

struct qtlsc {
  struct tls *conn;               /* the libtls connection (after qtlsc_connect) */
  int rfd, wfd;
  const struct io_limits *lim;    /* the limits of the call in progress */
  int err;                        /* errno of the transport's last failure */
  int eof;                        /* the peer closed the TCP connection */
  int verified;                   /* the chain and name were checked and good;
                                     QTLSC_DANE: a caller matched DANE records */
  int pinned;                     /* the pin was checked and matched */
};

/* qtlsc_connect: a TLS handshake as client on rfd/wfd with options o. The
 * handshake ends at the earlier of lim's deadline and one lim->timeout_ms
 * from now. 0 ok; -1 with why and errno (ETIMEDOUT: deadline; 0 with
 * t->eof: the server closed; EPROTO: handshake or verification failed, or
 * the pin did not match; ENOMEM; EINVAL: a bad option or file). After a
 * failure qtlsc_free must still be called. */
int qtlsc_connect(struct qtlsc *t, int rfd, int wfd, const struct qtlsc_opts *o,
                  const struct io_limits *lim, stralloc *why);

/* qtlsc_read: up to len bytes of plaintext within lim: > 0, 0 at the end
 * (close_notify or the peer's TCP close), -1 error (errno: ETIMEDOUT,
 * EPROTO, ...). qtlsc_pending: bytes already decrypted and waiting. */
ssize_t qtlsc_read(struct qtlsc *t, char *buf, size_t len, const struct io_limits *lim);
/* qtlsc_read_nowait: qtlsc_read that never waits for the socket: what
 * the bytes already there give, or -1 with errno EAGAIN when that is no
 * plaintext yet (e.g. only a TLS 1.3 session ticket came); for a caller
 * that polls the socket itself (leaf/qmail-qmtpsc.c). Plaintext may stay
 * decrypted inside after a read that filled len: call again until EAGAIN
 * before polling. */
ssize_t qtlsc_read_nowait(struct qtlsc *t, char *buf, size_t len);
/* qtlsc_write: some of buf within lim: > 0 written, -1 error. */
ssize_t qtlsc_write(struct qtlsc *t, const char *buf, size_t len, const struct io_limits *lim);
/* qtlsc_free: send close_notify when the connection is up (within lim,
 * NULL: 2 s at most) and free everything; the descriptors stay open. */
void qtlsc_free(struct qtlsc *t, const struct io_limits *lim);

/* qtlsc_version, qtlsc_cipher: the connection's protocol ("TLSv1.3") and
 * cipher, with only letters, digits and "._-" ('?' else), at most 64
 * bytes, into buf (at least QTLSC_NAMEMAX bytes). */
#define QTLSC_NAMEMAX 65
const char *qtlsc_version(struct qtlsc *t, char *buf);
const char *qtlsc_cipher(struct qtlsc *t, char *buf);
/* qtlsc_describe: append "TLSv1.3 cipher NAME bits N verify STATE" where
 * STATE is "ok" (chain and name checked), "dane" (t->verified set to
 * QTLSC_DANE by the caller), "pin" (pin matched, chain not checked), or
 * "none" (not checked). 1 ok, 0 no memory. */
int qtlsc_describe(struct qtlsc *t, stralloc *sa);
/* qtlsc_systemca: the system's CA bundle (the first that exists of the
 * usual places, else libtls's default). */
const char *qtlsc_systemca(void);

#endif
