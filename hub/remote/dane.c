/* dane.c: DANE for SMTP (see dane.h): the lookups through rdns.c, the
 * match with OpenSSL's libcrypto on the PEM chain libtls hands out. */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tls.h>
#include "dane.h"
#include "q_tlsc.h"
#include "rtls.h"

int dane_usable(const struct rdns_tlsa *r)
{
  if (r->usage != 2 && r->usage != 3) return 0;
  if (r->selector > 1 || r->toolong) return 0;
  switch (r->mtype) {
  case 0: return r->len > 0;
  case 1: return r->len == 32;
  case 2: return r->len == 64;
  default: return 0;
  }
}

/* mx_ok: the MX RRset of domain is authenticated and names host (or the
 * domain has no MX records, authenticated, and host is the domain).
 * 1 yes, 0 no DANE, -1 lookup failed. */
static int mx_ok(const char *domain, const char *host)
{
  struct rdns_mx mx[RDNS_MXMAX];
  size_t n = 0, i;
  int r = rdns_mx(domain, mx, RDNS_MXMAX, &n);
  if (r == RDNS_TEMP) return -1;
  if (!rdns_secure()) return 0;
  if (r == RDNS_NONE) return strcasecmp(domain, host) == 0;
  for (i = 0; i < n; ++i)
    if (strcasecmp(mx[i].name, host) == 0) return 1;
  return 0;
}

static int state(struct dane *d, int s, const char *why)
{
  d->why = why;
  return d->state = s;
}

int dane_lookup(struct dane *d, const char *domain, const char *host,
                unsigned short port)
{
  struct net_addr a[RDNS_ADDRMAX];
  size_t na = 0, i;
  int r;
  d->n = d->usable = 0;
  if (domain) {
    r = mx_ok(domain, host);
    if (r < 0) return state(d, DANE_TEMP, "MX lookup failed");
    if (r == 0) return state(d, DANE_NONE, "MX records not authenticated");
  }
  r = rdns_addrs(host, port, a, RDNS_ADDRMAX, &na);
  if (r == RDNS_TEMP) return state(d, DANE_TEMP, "address lookup failed");
  if (!rdns_secure()) return state(d, DANE_NONE, "address records not authenticated");
  r = rdns_tlsa(host, port, d->rec, RDNS_TLSAMAX, &d->n);
  if (r == RDNS_TEMP) return state(d, DANE_TEMP, "TLSA lookup failed");
  if (!rdns_secure()) { d->n = 0; return state(d, DANE_NONE, "TLSA records not authenticated"); }
  if (r != RDNS_OK) return state(d, DANE_NONE, "no TLSA records");
  for (i = 0; i < d->n; ++i) d->usable += dane_usable(&d->rec[i]) != 0;
  return state(d, DANE_ON, d->usable ? "TLSA records" : "TLSA records, none usable");
}

/* digest_eq: data[0..len) under matching type mtype equals r's data. */
static int digest_eq(const struct rdns_tlsa *r, const unsigned char *data, size_t len)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (r->mtype == 0) return len == r->len && memcmp(data, r->data, len) == 0;
  if (!EVP_Digest(data, len, md, &mdlen, r->mtype == 1 ? EVP_sha256() : EVP_sha512(), 0))
    return 0;
  return mdlen == r->len && memcmp(md, r->data, mdlen) == 0;
}

/* cert_matches: x under r's selector and matching type equals r's data. */
static int cert_matches(const struct rdns_tlsa *r, X509 *x)
{
  unsigned char *der = 0;
  int len = r->selector == 0 ? i2d_X509(x, &der)
                             : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
  int ok = len > 0 && digest_eq(r, der, (size_t)len);
  OPENSSL_free(der);
  return ok;
}

/* chain_verifies: the chain from the trust anchor ta to leaf (through the
 * certificates the server sent) verifies, and leaf names host or domain. */
static int chain_verifies(X509 *ta, X509 **c, size_t nc, const char *domain,
                          const char *host)
{
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  X509_VERIFY_PARAM *p;
  size_t i;
  int ok = 0;
  if (!store || !ctx || !untrusted || !X509_STORE_add_cert(store, ta)) goto done;
  for (i = 1; i < nc; ++i)
    if (!sk_X509_push(untrusted, c[i])) goto done;
  if (!X509_STORE_CTX_init(ctx, store, c[0], untrusted)) goto done;
  p = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (!X509_VERIFY_PARAM_set1_host(p, host, 0)) goto done;
  if (domain && !X509_VERIFY_PARAM_add1_host(p, domain, 0)) goto done;
  ok = X509_verify_cert(ctx) == 1;
done:
  sk_X509_free(untrusted);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

/* read_chain: up to DANE_CERTMAX certificates from PEM; their number. */
static size_t read_chain(const unsigned char *pem, size_t len, X509 **c)
{
  BIO *b;
  size_t n = 0;
  if (len > DANE_PEMMAX) return 0;
  b = BIO_new_mem_buf(pem, (int)len);
  if (!b) return 0;
  while (n < DANE_CERTMAX && (c[n] = PEM_read_bio_X509(b, 0, 0, 0)) != 0) ++n;
  BIO_free(b);
  return n;
}

/* match: a usable record matches the chain c[0..nc). */
static int match(const struct dane *d, X509 **c, size_t nc, const char *domain,
                 const char *host)
{
  size_t i, k;
  for (i = 0; i < d->n; ++i) {
    const struct rdns_tlsa *r = &d->rec[i];
    if (!dane_usable(r)) continue;
    if (r->usage == 3) {
      if (cert_matches(r, c[0])) return 1;
      continue;
    }
    for (k = 0; k < nc; ++k)
      if (cert_matches(r, c[k]) && chain_verifies(c[k], c, nc, domain, host)) return 1;
  }
  return 0;
}

int dane_verify_pem(struct dane *d, const unsigned char *pem, size_t len,
                    const char *domain, const char *host)
{
  X509 *c[DANE_CERTMAX];
  size_t nc, i;
  int ok;
  if (d->state != DANE_ON) { d->why = "no TLSA records"; return DANE_FAIL; }
  if (!d->usable) { d->why = "TLSA records, none usable: TLS without authentication"; return DANE_UNAUTH; }
  nc = pem ? read_chain(pem, len, c) : 0;
  if (nc == 0) { d->why = "no certificate from the server"; return DANE_FAIL; }
  ok = match(d, c, nc, domain, host);
  for (i = 0; i < nc; ++i) X509_free(c[i]);
  d->why = ok ? "TLSA record matched" : "no TLSA record matched the certificate";
  return ok ? DANE_MATCH : DANE_FAIL;
}

int dane_verify(struct dane *d, struct tls *t, const char *domain, const char *host)
{
  size_t len = 0;
  const uint8_t *pem = tls_peer_cert_chain_pem(t, &len);
  return dane_verify_pem(d, pem, pem ? len : 0, domain, host);
}

/* ---- qmail-remote's hook (rtls_dane) ----------------------------------- */

struct hook {
  struct dane d;
  char domain[RDNS_NAMEMAX + 1];   /* the next-hop domain, "" for a route */
};

static int hook_why(stralloc *why, const char *a, const char *host, const char *b)
{
  if (!stralloc_copys(why, a) || !stralloc_cats(why, host) || !stralloc_cats(why, b)
      || !stralloc_0(why))
    why->len = 0;
  return RTLS_DANE_DEFER;
}

/* before: the lookups; RTLS_DANE_OK when TLS is required. */
static int before(struct hook *h, const char *host, unsigned short port, stralloc *why)
{
  const char *domain = 0;
  int named = rdns_mx_named(host, &domain);
  h->domain[0] = 0;
  if (named == 0) { h->d.state = DANE_NONE; return RTLS_DANE_NONE; }
  if (named == 1) strcpy(h->domain, domain);
  switch (dane_lookup(&h->d, 0, host, port)) {
  case DANE_ON: return RTLS_DANE_OK;
  case DANE_NONE: return RTLS_DANE_NONE;
  default: return hook_why(why, "DANE: ", host, ": TLSA lookup failed (#4.7.5)");
  }
}

/* after: the match on the chain of t. */
static int after(struct hook *h, const char *host, struct qtlsc *t, stralloc *why)
{
  switch (dane_verify(&h->d, t->conn, h->domain[0] ? h->domain : 0, host)) {
  case DANE_MATCH: t->verified = QTLSC_DANE; return RTLS_DANE_OK;
  case DANE_UNAUTH: return RTLS_DANE_OK;
  default: return hook_why(why, "DANE: ", host, ": no TLSA record matches the certificate (#4.7.5)");
  }
}

int dane_hook(int phase, void **p, const char *host, unsigned short port,
              struct qtlsc *t, stralloc *why)
{
  struct hook *h = *p;
  if (phase == RTLS_DANE_BEFORE) {
    if (!h && !(h = *p = calloc(1, sizeof *h)))
      return hook_why(why, "DANE: ", host, ": out of memory (#4.3.0)");
    return before(h, host, port, why);
  }
  if (!h || h->d.state != DANE_ON || !t || !t->conn)
    return hook_why(why, "DANE: ", host, ": no TLSA records to match (#4.7.5)");
  return after(h, host, t, why);
}

void dane_hook_free(void **p)
{
  free(*p);
  *p = 0;
}
