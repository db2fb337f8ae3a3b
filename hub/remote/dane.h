/* dane.h: DANE for SMTP (RFC 7672) in qmail-remote: which TLSA records
 * apply to an MX host, and whether the server's certificate chain matches
 * them. docs/dane.md has the rules; in short:
 *
 *  - DANE applies to a host when its MX RRset (for a host from MX records),
 *    its address records and its TLSA RRset (_PORT._tcp.HOST) are all
 *    authenticated (rdns_secure); an insecure answer, NXDOMAIN or no TLSA
 *    records means no DANE for the host; a failed lookup means "try later";
 *  - usable records are usage 2 (DANE-TA) and 3 (DANE-EE), selector 0
 *    (certificate) or 1 (SubjectPublicKeyInfo), matching type 0 (full),
 *    1 (SHA-256) or 2 (SHA-512); 0 and 1 (PKIX) are unusable for SMTP;
 *  - DANE-EE: the server's certificate matches; name and dates not checked;
 *  - DANE-TA: a certificate the server sent matches, the chain from it to
 *    the server's certificate verifies (signatures and dates), and the
 *    server's certificate names the MX host or the next-hop domain
 *    (a "*." wildcard for the whole first label only). A trust anchor the
 *    server does not send (a bare "2 1 x" key) cannot be matched;
 *  - TLSA records that are all unusable: TLS is still required, without
 *    authentication (RFC 7672 sec 2.2).
 * The TLS handshake itself checks nothing (the match decides). */
#ifndef DANE_H
#define DANE_H

#include <stddef.h>
#include "rdns.h"
#include "stralloc.h"

struct tls;

enum dane_state {
  DANE_NONE = 0,     /* no DANE for this host: the usual policy */
  DANE_ON = 1,       /* TLSA records: TLS required, chain must match */
  DANE_TEMP = -1     /* a lookup failed: defer */
};

enum dane_verdict {
  DANE_MATCH = 0,    /* authenticated by a usable record */
  DANE_UNAUTH = 1,   /* no usable record: TLS was enough */
  DANE_FAIL = -1     /* no record matched (why says more) */
};

#define DANE_CERTMAX 16          /* certificates read from a chain */
#define DANE_PEMMAX 262144       /* bytes of PEM chain looked at */

struct dane {
  int state;
  size_t n, usable;
  struct rdns_tlsa rec[RDNS_TLSAMAX];
  const char *why;   /* a short reason for the last state or verdict */
};

/* dane_usable: is r usable for SMTP (usage, selector, type, length). */
int dane_usable(const struct rdns_tlsa *r);
/* dane_lookup: fill d for the SMTP server host on port. domain: the
 * next-hop domain whose MX records named host (its MX RRset must be
 * authenticated and list host), or 0 when host was not found through MX
 * records (a route, or the domain's own address records). Returns d->state. */
int dane_lookup(struct dane *d, const char *domain, const char *host,
                unsigned short port);
/* dane_verify: match the peer chain of the TLS connection t. domain as
 * for dane_lookup (also a name DANE-TA accepts), may be 0. */
int dane_verify(struct dane *d, struct tls *t, const char *domain, const char *host);
/* dane_verify_pem: the same for a PEM chain, server certificate first. */
int dane_verify_pem(struct dane *d, const unsigned char *pem, size_t len,
                    const char *domain, const char *host);

/* The hook of qmail-remote's `dane` policy (rtls.h, rtls_dane: same
 * phases, same results; *p is the hook's state, freed by dane_hook_free).
 * Before the handshake: the MX host's TLSA records (the MX RRset must be
 * authenticated when host came from MX records, rdns_mx_named). After it:
 * the match, t->verified = QTLSC_DANE when a record matched. */
struct qtlsc;
int dane_hook(int phase, void **p, const char *host, unsigned short port,
              struct qtlsc *t, stralloc *why);
void dane_hook_free(void **p);

#endif
