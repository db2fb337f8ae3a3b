/* tlsclients.c: control/tlsclients, client certificates that may relay
 * (see tlsclients.h). The ca: check uses OpenSSL's X509 functions, which
 * libtls (libretls) is built on and links anyway. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include "q_control.h"
#include "q_sa.h"
#include "tlsclients.h"

/* fail: why = "item N: " a b, NUL-terminated; -1 */
static int fail(stralloc *why, unsigned long n, const char *a, const char *b)
{
  why->len = 0;
  if (!stralloc_cats(why, "item ") || !sa_catnum(why, n) || !stralloc_cats(why, ": ") ||
      !stralloc_cats(why, a) || (b && !stralloc_cats(why, b)) || !stralloc_0(why))
    why->len = 0;
  return -1;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* add_fp: s, 64 hex digits with ':' allowed between them, appended to
 * tc->fps in lowercase. 1 ok, 0 bad syntax, -1 no memory. */
static int add_fp(struct tlsclients *tc, const char *s)
{
  static const char digits[] = "0123456789abcdef";
  char hex[64];
  size_t n = 0;
  for (; *s; ++s) {
    int v = hexval(*s);
    if (*s == ':' && n % 2 == 0 && n > 0) continue;
    if (v < 0 || n == sizeof hex) return 0;
    hex[n++] = digits[v];
  }
  if (n != sizeof hex) return 0;
  return stralloc_catb(&tc->fps, hex, sizeof hex) ? 1 : -1;
}

/* readpath: the file at path, at most CONTROL_MAX bytes. 0 ok, -1 errno */
static int readpath(stralloc *sa, const char *path)
{
  char buf[4096];
  ssize_t r;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), e;
  if (fd < 0) return -1;
  sa->len = 0;
  while ((r = read(fd, buf, sizeof buf)) > 0) {
    if (sa->len + (size_t)r > CONTROL_MAX) { errno = EFBIG; break; }
    if (!stralloc_catb(sa, buf, (size_t)r)) { errno = ENOMEM; break; }
  }
  e = errno;
  close(fd);
  errno = e;
  return r == 0 ? 0 : -1;
}

/* add_certs: every certificate in pem[0..len) into store; how many, or -1
 * (bad PEM or no memory) */
static long add_certs(X509_STORE *store, const char *pem, size_t len, unsigned long room)
{
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  X509 *x;
  long n = 0;
  unsigned long e;
  if (!b || len > CONTROL_MAX) { BIO_free(b); return -1; }
  ERR_clear_error();
  while ((x = PEM_read_bio_X509(b, 0, 0, 0))) {
    int ok = (unsigned long)n < room && X509_STORE_add_cert(store, x) == 1;
    X509_free(x);
    if (!ok) { n = -1; break; }
    ++n;
  }
  e = ERR_peek_last_error();
  if (n >= 0 && e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) n = -1;
  ERR_clear_error();
  BIO_free(b);
  return n;
}

/* add_ca: the certificates of file (relative to control/ or absolute) */
static int add_ca(struct tlsclients *tc, const char *file, unsigned long item, stralloc *why)
{
  stralloc path = {0}, pem = {0};
  long n;
  int r = -1;
  if (!*file) return fail(why, item, "ca: without a file name", 0);
  if (!tc->store) {
    tc->store = X509_STORE_new();
    if (!tc->store) return fail(why, item, "out of memory", 0);
    X509_STORE_set_flags(tc->store, X509_V_FLAG_PARTIAL_CHAIN);   /* any listed cert is an anchor */
  }
  if (*file == '/' ? !stralloc_copys(&path, file) || !stralloc_0(&path) : !control_path(&path, file))
    fail(why, item, "out of memory", 0);
  else if (readpath(&pem, path.s) < 0)
    fail(why, item, "cannot read ca: file: ", control_strerror(errno));
  else if ((n = add_certs(tc->store, pem.s, pem.len, TLSCLIENTS_MAXCERTS - tc->ncerts)) < 0)
    fail(why, item, "bad PEM, or too many certificates, in ca: file ", file);
  else if (n == 0)
    fail(why, item, "no certificate in ca: file ", file);
  else {
    tc->ncerts += (unsigned long)n;
    r = 0;
  }
  stralloc_free(&path);
  stralloc_free(&pem);
  return r;
}

int tlsclients_parse(struct tlsclients *tc, const char *items, size_t len, stralloc *why)
{
  size_t i = 0;
  unsigned long n = 0;
  while (i < len) {
    const char *s = items + i;
    size_t l = strlen(s);
    i += l + 1;
    ++n;
    if (l > 7 && !strncasecmp(s, "sha256:", 7)) {
      int r = add_fp(tc, s + 7);
      if (r < 0) return fail(why, n, "out of memory", 0);
      if (r == 0) return fail(why, n, "sha256: wants 64 hex digits (pairs may be separated by ':')", 0);
    } else if (l >= 3 && !strncasecmp(s, "ca:", 3)) {
      if (add_ca(tc, s + 3, n, why) < 0) return -1;
    } else {
      return fail(why, n, "neither sha256:HEX nor ca:FILE", 0);
    }
  }
  return 0;
}

int tlsclients_load(struct tlsclients *tc, stralloc *why)
{
  stralloc items = {0};
  int r = control_readlist(&items, TLSCLIENTS_FILE);
  if (r < 0) {
    why->len = 0;
    if (!stralloc_copys(why, control_strerror(errno)) || !stralloc_0(why)) why->len = 0;
  } else if (r > 0 && tlsclients_parse(tc, items.s, items.len, why) < 0) {
    r = -1;
  }
  stralloc_free(&items);
  return r;
}

int tlsclients_fp(const struct tlsclients *tc, const char *hash)
{
  size_t i;
  if (!hash || strncasecmp(hash, "SHA256:", 7) || strlen(hash + 7) != 64) return 0;
  for (i = 0; i + 64 <= tc->fps.len; i += 64)
    if (!strncasecmp(tc->fps.s + i, hash + 7, 64)) return 1;
  return 0;
}

/* verify: leaf against tc->store with the rest of the chain as untrusted
 * intermediates, for a TLS client. 1 ok, 0 not, -1 no memory */
static int verify(const struct tlsclients *tc, X509 *leaf, STACK_OF(X509) *rest)
{
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  int r = -1;
  if (ctx && X509_STORE_CTX_init(ctx, tc->store, leaf, rest) == 1) {
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    r = X509_verify_cert(ctx) == 1;
  }
  X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  return r;
}

int tlsclients_ca(const struct tlsclients *tc, const char *pem, size_t len)
{
  BIO *b;
  X509 *leaf, *x;
  STACK_OF(X509) *rest;
  int r = -1, nomem = 0;
  if (!tc->store || !pem || !len || len > CONTROL_MAX) return 0;
  b = BIO_new_mem_buf(pem, (int)len);
  rest = sk_X509_new_null();
  if (!b || !rest) { BIO_free(b); sk_X509_free(rest); return -1; }
  leaf = PEM_read_bio_X509(b, 0, 0, 0);
  if (!leaf) r = 0;
  while (leaf && !nomem && (x = PEM_read_bio_X509(b, 0, 0, 0)))
    if (!sk_X509_push(rest, x)) { X509_free(x); nomem = 1; }
  if (leaf && !nomem) r = verify(tc, leaf, rest);
  X509_free(leaf);
  sk_X509_pop_free(rest, X509_free);
  BIO_free(b);
  ERR_clear_error();
  return r;
}

void tlsclients_free(struct tlsclients *tc)
{
  stralloc_free(&tc->fps);
  X509_STORE_free(tc->store);
  tc->store = 0;
  tc->ncerts = 0;
}
