/* tlsclients.h: control/tlsclients, the client certificates that may
 * relay through QMTPS (qmail-qmtpd with $QMTPS) as RELAYCLIENT="" does.
 * One item per line (control_readlist: blank lines and '#' lines skipped):
 *   sha256:HEX   a certificate by its SHA-256 fingerprint: 64 hex digits,
 *                either case, pairs may be separated by ':' (as
 *                `openssl x509 -noout -fingerprint -sha256` prints them)
 *   ca:FILE      every certificate that chains up to a certificate in
 *                FILE (PEM, one or more; a path relative to control/ or
 *                absolute), checked for the TLS client purpose and the
 *                validity dates
 * Anything else is an error (the whole file is then unusable: the caller
 * fails closed). The handshake itself never checks the client's chain
 * (libtls: optional client certificate, insecure_noverifycert), so a
 * self-signed certificate pinned by its fingerprint and a client with an
 * unlisted one are served; the chain is checked here, after the
 * handshake, against the ca: files only. */
#ifndef TLSCLIENTS_H
#define TLSCLIENTS_H

#include <stddef.h>
#include "stralloc.h"

#define TLSCLIENTS_FILE "tlsclients"
#define TLSCLIENTS_MAXCERTS 4096   /* certificates in all ca: files together */

struct tlsclients {
  stralloc fps;      /* 64 lowercase hex digits per listed fingerprint */
  void *store;       /* X509_STORE of the ca: files, or NULL */
  unsigned long ncerts;
};

/* tlsclients_parse: items (each NUL-terminated, as control_readlist gives
 * them) into tc, which starts zeroed. 0 ok; -1 with why (NUL-terminated:
 * the item's number and what is wrong with it, or a ca: file that cannot
 * be read or holds no certificate). */
int tlsclients_parse(struct tlsclients *tc, const char *items, size_t len, stralloc *why);
/* tlsclients_load: control/tlsclients into tc (zeroed). 1 read, 0 the file
 * does not exist (nothing listed), -1 with why. */
int tlsclients_load(struct tlsclients *tc, stralloc *why);
/* tlsclients_fp: is hash ("SHA256:hex", what libtls's tls_peer_cert_hash
 * gives) listed? 1 yes, 0 no. */
int tlsclients_fp(const struct tlsclients *tc, const char *hash);
/* tlsclients_ca: does the peer's chain (PEM, the client's own certificate
 * first, as tls_peer_cert_chain_pem gives it) verify against the ca:
 * files? 1 yes, 0 no (or no ca: line), -1 no memory. */
int tlsclients_ca(const struct tlsclients *tc, const char *pem, size_t len);
/* tlsclients_free: release what tc holds. */
void tlsclients_free(struct tlsclients *tc);

#endif
