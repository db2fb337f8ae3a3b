/* q_tls.c: server-side TLS over libtls with timed I/O (see q_tls.h).
 * Each session is a fresh process, so the library's set-up is paid on
 * every STARTTLS: lib_init and set_ciphers leave out the parts of it that
 * a server here does not need (docs/tls.md, "Cost"). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <tls.h>
#include "q_control.h"
#include "q_sa.h"
#include "q_tls.h"

static struct tls *pre_srv;       /* the context the children share (qtls_preload) */

int qtls_havecert(void)
{
  stralloc path = {0};
  int fd;
  if (pre_srv) return 1;   /* built from it just before the fork */
  if (!control_path(&path, QTLS_CERT)) { errno = ENOMEM; return -1; }
  fd = open(path.s, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  stralloc_free(&path);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  close(fd);
  return 1;
}

/* why_set: why = a ": " b, NUL-terminated; -1 for the caller to return. */
static int why_set(stralloc *why, const char *a, const char *b)
{
  why->len = 0;
  if (!stralloc_cats(why, a) || (b && (!stralloc_cats(why, ": ") || !stralloc_cats(why, b))) ||
      !stralloc_0(why))
    why->len = 0;
  return -1;
}

/* wipe: zero and free a buffer that held key bytes */
static void wipe(stralloc *sa)
{
  if (sa->s) explicit_bzero(sa->s, sa->a);
  stralloc_free(sa);
}

/* set_keypair: control/servercert.pem as chain and key (libtls picks the
 * certificates and the key out of the one PEM file). */
static int set_keypair(struct tls_config *cfg, stralloc *why)
{
  stralloc pem = {0};
  int r = control_readfile(&pem, QTLS_CERT), e = errno;
  if (r <= 0) {
    wipe(&pem);
    return why_set(why, "cannot read control/" QTLS_CERT, r == 0 ? "file does not exist" : control_strerror(e));
  }
  r = tls_config_set_keypair_mem(cfg, (const unsigned char *)pem.s, pem.len,
                                 (const unsigned char *)pem.s, pem.len);
  wipe(&pem);
  if (r < 0) return why_set(why, "control/" QTLS_CERT, tls_config_error(cfg));
  return 0;
}

/* set_ciphers: control/tlsserverciphers, else "secure", which
 * tls_config_new has set already: setting it again would cost a throw-away
 * SSL_CTX (libtls checks a list by building one), about 5% of a session */
static int set_ciphers(struct tls_config *cfg, stralloc *why)
{
  stralloc c = {0};
  int r = control_readline(&c, QTLS_CIPHERS);
  if (r < 0) {
    stralloc_free(&c);
    return why_set(why, "cannot read control/" QTLS_CIPHERS, control_strerror(errno));
  }
  if (r == 0 || c.len == 0) { stralloc_free(&c); return 0; }
  if (!stralloc_0(&c)) { stralloc_free(&c); return why_set(why, "out of memory", 0); }
  r = tls_config_set_ciphers(cfg, c.s);
  stralloc_free(&c);
  if (r < 0) return why_set(why, "control/" QTLS_CIPHERS, tls_config_error(cfg));
  return 0;
}

/* lib_init: OpenSSL as tls_init sets it up (libretls asks for no
 * openssl.cnf: OPENSSL_INIT_NO_LOAD_CONFIG), less the table of legacy
 * cipher names (EVP_get_cipherbyname): libssl fetches its ciphers from the
 * provider by name and does not use it; only encrypted PEM keys would
 * (never here: the key has no password). That table is about 6% of a
 * session's instructions. Digests keep theirs: certificate verification
 * and libssl's signature algorithms look digests up through it. */
static int lib_init(void)
{
  uint64_t opts = OPENSSL_INIT_NO_LOAD_CONFIG;
#ifdef OPENSSL_INIT_NO_ADD_ALL_CIPHERS
  opts |= OPENSSL_INIT_NO_ADD_ALL_CIPHERS;
#endif
  if (!OPENSSL_init_ssl(opts, 0)) return -1;
  return tls_init();
}

int qtls_config(struct tls_config **cfg, stralloc *why)
{
  struct tls_config *c;
  *cfg = 0;
  if (lib_init() < 0) return why_set(why, "cannot initialise libtls", 0);
  c = tls_config_new();
  if (!c) return why_set(why, "out of memory", 0);
  if (tls_config_set_protocols(c, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0) {
    why_set(why, "cannot set protocols", tls_config_error(c));
    tls_config_free(c);
    return -1;
  }
  if (set_keypair(c, why) < 0 || set_ciphers(c, why) < 0) {
    tls_config_clear_keys(c);
    tls_config_free(c);
    return -1;
  }
  tls_config_prefer_ciphers_server(c);
  *cfg = c;
  return 0;
}

int qtls_server(struct qtls *t, struct tls_config *cfg, stralloc *why)
{
  int r = -1;
  memset(t, 0, sizeof *t);
  t->rfd = t->wfd = -1;
  t->srv = tls_server();
  if (!t->srv) why_set(why, "out of memory", 0);
  else if (tls_configure(t->srv, cfg) < 0) why_set(why, "control/" QTLS_CERT, tls_error(t->srv));
  else r = 0;
  tls_config_clear_keys(cfg);
  tls_config_free(cfg);
  if (r < 0 && t->srv) { tls_free(t->srv); t->srv = 0; }
  return r;
}

/* ---- preload (a listener's, hub/servers/srvfork.h) ---- */

static struct stat pre_cert, pre_ciph;
static int pre_tried;

/* same: a and b are the same version of a file (or both missing) */
static int same(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* look: stat control/name into st; a missing or unreadable one is all 0 */
static void look(const char *name, struct stat *st)
{
  stralloc path = {0};
  memset(st, 0, sizeof *st);
  if (control_path(&path, name) && stat(path.s, st) == -1) memset(st, 0, sizeof *st);
  stralloc_free(&path);
}

void qtls_preload(void (*adjust)(struct tls_config *))
{
  struct stat c, k;
  struct tls_config *cfg;
  struct qtls t;
  stralloc why = {0};
  look(QTLS_CERT, &c);
  look(QTLS_CIPHERS, &k);
  if (pre_tried && same(&c, &pre_cert) && same(&k, &pre_ciph)) return;
  pre_tried = 1;
  pre_cert = c;
  pre_ciph = k;
  if (pre_srv) { tls_free(pre_srv); pre_srv = 0; }
  if (lib_init() < 0 || !c.st_ino) return;   /* no certificate: nothing to share */
  if (qtls_config(&cfg, &why) < 0) { stralloc_free(&why); return; }
  if (adjust) adjust(cfg);
  if (qtls_server(&t, cfg, &why) == 0) pre_srv = t.srv;
  stralloc_free(&why);
}

int qtls_preloaded(struct qtls *t)
{
  if (!pre_srv) return 0;
  memset(t, 0, sizeof *t);
  t->rfd = t->wfd = -1;
  t->srv = pre_srv;
  return 1;
}

/* the transport: io_read/io_write within the limits in force */
static ssize_t cb_read(struct tls *ctx, void *buf, size_t len, void *arg)
{
  struct qtls *t = arg;
  ssize_t r = io_read(t->rfd, buf, len, t->rlim);
  (void)ctx;
  if (r < 0) t->err = errno;
  if (r == 0) t->eof = 1;
  return r;
}

static ssize_t cb_write(struct tls *ctx, const void *buf, size_t len, void *arg)
{
  struct qtls *t = arg;
  ssize_t r = io_write(t->wfd, buf, len, t->wlim);
  (void)ctx;
  if (r < 0) t->err = errno;
  return r;
}

/* failed: errno and why after a failed library call */
static int failed(struct qtls *t, stralloc *why, const char *what)
{
  if (t->err == ETIMEDOUT) { why_set(why, what, "timeout"); errno = ETIMEDOUT; }
  else if (t->eof) { why_set(why, what, "the client closed the connection"); errno = 0; }
  else if (t->err) { why_set(why, what, strerror(t->err)); errno = t->err; }
  else { why_set(why, "TLS", qtls_error(t)); errno = EPROTO; }   /* "handshake failed: ..." */
  return -1;
}

int qtls_accept(struct qtls *t, int rfd, int wfd, const struct io_limits *rlim,
                const struct io_limits *wlim, stralloc *why)
{
  int r;
  t->rfd = rfd;
  t->wfd = wfd;
  t->err = t->eof = 0;
  t->hs = *rlim;
  if (rlim->timeout_ms > 0) {
    long long end = io_now_ms() + rlim->timeout_ms;
    if (t->hs.deadline_ms <= 0 || end < t->hs.deadline_ms) t->hs.deadline_ms = end;
  }
  t->rlim = t->wlim = &t->hs;
  if (tls_accept_cbs(t->srv, &t->conn, cb_read, cb_write, t) < 0) {
    t->conn = 0;
    return why_set(why, "TLS", tls_error(t->srv));
  }
  do r = tls_handshake(t->conn);
  while (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT);
  t->rlim = rlim;
  t->wlim = wlim;
  if (r < 0) return failed(t, why, "TLS handshake");
  return 0;
}

ssize_t qtls_read(struct qtls *t, char *buf, size_t len)
{
  ssize_t r;
  t->err = 0;
  do r = tls_read(t->conn, buf, len);
  while (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT);
  if (r >= 0) return r;
  if (t->eof) return 0;   /* a TCP close without close_notify (a write after it may have failed) */
  errno = t->err ? t->err : EPROTO;
  return -1;
}

ssize_t qtls_write(struct qtls *t, const char *buf, size_t len)
{
  ssize_t r;
  t->err = 0;
  do r = tls_write(t->conn, buf, len);
  while (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT);
  if (r >= 0) return r;
  errno = t->err ? t->err : EPROTO;
  return -1;
}

void qtls_close(struct qtls *t)
{
  if (t->conn && !t->eof) tls_close(t->conn);
}

/* safe_cats: s with only letters, digits and "._-" kept ('?' else), 64 at most */
static int safe_cats(stralloc *sa, const char *s)
{
  size_t i;
  if (!s) s = "unknown";
  for (i = 0; s[i] && i < 64; ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      c = '?';
    if (!stralloc_append(sa, &c)) return 0;
  }
  return 1;
}

int qtls_describe(struct qtls *t, stralloc *sa)
{
  int bits = tls_conn_cipher_strength(t->conn);
  return safe_cats(sa, tls_conn_version(t->conn)) && stralloc_cats(sa, " cipher ") &&
         safe_cats(sa, tls_conn_cipher(t->conn)) && stralloc_cats(sa, " bits ") &&
         sa_catnum(sa, bits > 0 ? (unsigned long long)bits : 0);
}

const char *qtls_error(struct qtls *t)
{
  const char *e = 0;
  if (t->conn) e = tls_error(t->conn);
  if (!e && t->srv) e = tls_error(t->srv);
  return e ? e : "unknown error";
}
