/* q_tls.h: server-side TLS for the hub's receivers, over libtls (libretls
 * on OpenSSL), with the same timed I/O as the plain path (q_io.h).
 *
 * Settings are control files with the names qmail-TLS administrators know:
 *   control/servercert.pem   the certificate, its chain, and the private
 *                            key, PEM, in one file (qmailctl tlscert makes
 *                            a self-signed one). Readable by the receivers'
 *                            user only: qmaild:qmail 0640 in a root install
 *                            (docs/tls.md)
 *   control/tlsserverciphers optional: a libtls cipher list ("secure",
 *                            "compat", or an OpenSSL list); default "secure"
 * Protocols: TLS 1.2 and TLS 1.3, nothing older.
 *
 * A server loads its context only when a client asks for TLS: tls_init and
 * the key cost milliseconds that a plain session should not pay; or its
 * listener preloads it once for all sessions (qtls_preload). Before
 * that, qtls_havecert says cheaply whether the certificate can be read.
 *
 * The connection reads and writes the descriptors through callbacks that
 * use io_read/io_write with the caller's limits (per-call timeout and
 * session deadline), so a TLS session has the same timeouts as a plain
 * one; the handshake also has a deadline of its own (one timeout from its
 * start), so a client that trickles a handshake is cut off too.
 *
 * Reuse: a QMTPS or submission server calls qtls_config, adds what it
 * needs to the config (e.g. client certificates), then qtls_server;
 * qtls_accept, qtls_read, qtls_write and qtls_describe are the same. */
#ifndef Q_TLS_H
#define Q_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include "stralloc.h"
#include "q_io.h"

struct tls;
struct tls_config;

#define QTLS_CERT "servercert.pem"
#define QTLS_CIPHERS "tlsserverciphers"

struct qtls {
  struct tls *srv;                /* the server context (qtls_server) */
  struct tls *conn;               /* the connection (qtls_accept) */
  int rfd, wfd;
  const struct io_limits *rlim;   /* limits of reads and writes; during */
  const struct io_limits *wlim;   /* the handshake, hs */
  struct io_limits hs;
  int err;                        /* errno of the transport's last failure */
  int eof;                        /* the peer closed the TCP connection */
};

/* qtls_havecert: can control/servercert.pem be opened for reading? 1 yes,
 * 0 it does not exist, -1 it cannot be read (errno). Reads nothing; with a
 * preloaded context (below), 1 without a look. */
int qtls_havecert(void);

/* qtls_config: a server config from the control files (certificate and
 * key, ciphers, TLS 1.2 and 1.3). 0 ok; -1 with why (NUL-terminated,
 * never holding key bytes): missing or unreadable file, bad PEM, a key
 * that does not match, a bad cipher list, no memory. */
int qtls_config(struct tls_config **cfg, stralloc *why);

/* qtls_server: t->srv configured from cfg (which it frees, having wiped
 * the key copies in it). 0 ok, -1 with why. */
int qtls_server(struct qtls *t, struct tls_config *cfg, stralloc *why);

/* Preload, for a listener that forks its sessions (hub/servers/srvfork.h):
 * qtls_preload builds the server context once (tls_init, certificate and
 * key parsed, adjust applied to the config, e.g. client certificates),
 * kept for the children; called again before each fork it costs two
 * stat calls and builds the context anew only when control/servercert.pem
 * or tlsserverciphers changed (inode, size, mtime, ctime). A context that
 * cannot be built is no preload: each session then loads its own and
 * reports the error as before. qtls_preloaded: t set up with the
 * preloaded context (1), or nothing preloaded (0: qtls_config and
 * qtls_server as usual). */
void qtls_preload(void (*adjust)(struct tls_config *));
int qtls_preloaded(struct qtls *t);

/* qtls_accept: the handshake on rfd/wfd. rlim/wlim are the limits for the
 * session after it; the handshake itself ends at the earlier of their
 * deadline and one rlim->timeout_ms from now. 0 ok; -1 with why and errno
 * (ETIMEDOUT: deadline; 0 with t->eof: the client went away; EPROTO: the
 * client's bytes were no TLS or the handshake failed). */
int qtls_accept(struct qtls *t, int rfd, int wfd, const struct io_limits *rlim,
                const struct io_limits *wlim, stralloc *why);

/* qtls_read: up to len bytes of plaintext: > 0, 0 at the end (close_notify
 * or the peer's TCP close), -1 error (errno: ETIMEDOUT, EPROTO, ...). */
ssize_t qtls_read(struct qtls *t, char *buf, size_t len);
/* qtls_write: some of buf (a record at most): > 0 written, -1 error. */
ssize_t qtls_write(struct qtls *t, const char *buf, size_t len);
/* qtls_close: send close_notify (within the write limits); no waiting. */
void qtls_close(struct qtls *t);

/* qtls_describe: append "TLSv1.3 cipher NAME bits N" for the connection
 * (only letters, digits and "._-" of the library's names). 1 ok, 0 no
 * memory. */
int qtls_describe(struct qtls *t, stralloc *sa);
/* qtls_error: the library's last error text for the connection, or for
 * the server context before it; never NULL. */
const char *qtls_error(struct qtls *t);

#endif
