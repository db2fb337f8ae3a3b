/* q_tlsc.c: client-side TLS over libtls with timed I/O (see q_tlsc.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <tls.h>
#include "q_tlsc.h"

/* why_set: why = a ": " b, NUL-terminated; -1 for the caller to return. */
static int why_set(stralloc *why, const char *a, const char *b)
{
  why->len = 0;
  if (!stralloc_cats(why, a) || (b && (!stralloc_cats(why, ": ") || !stralloc_cats(why, b))) ||
      !stralloc_0(why))
    why->len = 0;
  return -1;
}

const char *qtlsc_systemca(void)
{
  static const char *const known[] = {
    "/etc/ssl/certs/ca-certificates.crt",     /* Debian, Ubuntu, Alpine */
    "/etc/pki/tls/certs/ca-bundle.crt",       /* Fedora, RHEL */
    "/etc/ssl/cert.pem",                      /* BSDs, LibreSSL */
  };
  size_t i;
  for (i = 0; i < sizeof known / sizeof known[0]; ++i)
    if (access(known[i], R_OK) == 0) return known[i];
  return tls_default_ca_cert_file();
}

/* configure: a client config from o; 0 ok, -1 (why, errno EINVAL/ENOMEM). */
static int configure(struct tls_config **out, const struct qtlsc_opts *o, stralloc *why)
{
  struct tls_config *c;
  const char *e = 0, *what = 0;
  *out = 0;
  if (tls_init() < 0 || !(c = tls_config_new())) { errno = ENOMEM; return why_set(why, "out of memory", 0); }
  if (tls_config_set_protocols(c, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0) what = "protocols";
  else if (tls_config_set_ciphers(c, o->ciphers ? o->ciphers : "secure") < 0) what = "cipher list";
  else if (o->certfile && tls_config_set_keypair_file(c, o->certfile, o->certfile) < 0) what = o->certfile;
  else if (o->verify && !o->servername) { what = "verification"; e = "no name to verify"; }
  else if (o->verify && tls_config_set_ca_file(c, o->cafile ? o->cafile : qtlsc_systemca()) < 0)
    what = o->cafile ? o->cafile : qtlsc_systemca();
  if (what) {
    why_set(why, what, e ? e : tls_config_error(c));
    tls_config_clear_keys(c);
    tls_config_free(c);
    errno = EINVAL;
    return -1;
  }
  if (!o->verify) {
    tls_config_insecure_noverifycert(c);
    tls_config_insecure_noverifyname(c);
    tls_config_insecure_noverifytime(c);
  }
  *out = c;
  return 0;
}

/* the transport: io_read/io_write within the limits of the call */
/* nowait: the limits of qtlsc_read_nowait's calls: read only what is there */
static const struct io_limits nowait = { 0, 0 };

static ssize_t cb_read(struct tls *ctx, void *buf, size_t len, void *arg)
{
  struct qtlsc *t = arg;
  struct pollfd p = { t->rfd, POLLIN, 0 };
  ssize_t r;
  if (t->lim == &nowait && poll(&p, 1, 0) == 0) return TLS_WANT_POLLIN;
  r = t->lim == &nowait ? read(t->rfd, buf, len) : io_read(t->rfd, buf, len, t->lim);
  (void)ctx;
  if (r < 0) t->err = errno;
  if (r == 0) t->eof = 1;
  return r;
}

static ssize_t cb_write(struct tls *ctx, const void *buf, size_t len, void *arg)
{
  struct qtlsc *t = arg;
  ssize_t r = io_write(t->wfd, buf, len, t->lim);
  (void)ctx;
  if (r < 0) t->err = errno;
  return r;
}

static const char *conn_error(struct qtlsc *t)
{
  const char *e = t->conn ? tls_error(t->conn) : 0;
  return e ? e : "unknown error";
}

/* failed: errno and why after a failed handshake */
static int failed(struct qtlsc *t, stralloc *why)
{
  if (t->err == ETIMEDOUT) { why_set(why, "TLS handshake", "timed out"); errno = ETIMEDOUT; }
  else if (t->eof || t->err == EPIPE || t->err == ECONNRESET) {
    t->eof = 1;
    why_set(why, "TLS handshake", "the server closed the connection");
    errno = 0;
  }
  else if (t->err) { why_set(why, "TLS handshake", strerror(t->err)); errno = t->err; }
  else { why_set(why, "TLS", conn_error(t)); errno = EPROTO; }
  return -1;
}

/* pin_ok: the peer certificate's hash is pin (case ignored) */
static int pin_ok(struct qtlsc *t, const char *pin)
{
  const char *h = tls_peer_cert_hash(t->conn);
  return h && *h && strcasecmp(h, pin) == 0;
}

int qtlsc_connect(struct qtlsc *t, int rfd, int wfd, const struct qtlsc_opts *o,
                  const struct io_limits *lim, stralloc *why)
{
  struct tls_config *cfg;
  struct io_limits hs = *lim;
  int r;
  memset(t, 0, sizeof *t);
  t->rfd = rfd;
  t->wfd = wfd;
  if (configure(&cfg, o, why) < 0) return -1;
  t->conn = tls_client();
  r = t->conn ? tls_configure(t->conn, cfg) : -1;
  if (!t->conn || r < 0) { tls_config_clear_keys(cfg); tls_config_free(cfg); }
  if (!t->conn) { errno = ENOMEM; return why_set(why, "out of memory", 0); }
  if (r < 0) { errno = EINVAL; return why_set(why, "TLS", conn_error(t)); }
  if (lim->timeout_ms > 0) {
    long long end = io_now_ms() + lim->timeout_ms;
    if (hs.deadline_ms <= 0 || end < hs.deadline_ms) hs.deadline_ms = end;
  }
  t->lim = &hs;
  /* the client's key is read from cfg here (tls_connect_*), so it is
   * cleared only afterwards */
  r = tls_connect_cbs(t->conn, cb_read, cb_write, t, o->servername);
  tls_config_clear_keys(cfg);
  tls_config_free(cfg);
  if (r < 0) {
    t->lim = 0;
    errno = EINVAL;
    return why_set(why, "TLS", conn_error(t));
  }
  do r = tls_handshake(t->conn);
  while (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT);
  t->lim = 0;
  if (r < 0) return failed(t, why);
  t->verified = o->verify;
  if (o->pin && *o->pin) {
    if (!pin_ok(t, o->pin)) {
      errno = EPROTO;
      return why_set(why, "TLS", "the server's certificate does not match the pinned fingerprint");
    }
    t->pinned = 1;
  }
  return 0;
}

ssize_t qtlsc_read(struct qtlsc *t, char *buf, size_t len, const struct io_limits *lim)
{
  ssize_t r;
  t->err = 0;
  t->lim = lim;
  do r = tls_read(t->conn, buf, len);
  while (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT);
  t->lim = 0;
  if (r >= 0) return r;
  if (t->eof && !t->err) return 0;   /* a TCP close without close_notify */
  errno = t->err ? t->err : EPROTO;
  return -1;
}

ssize_t qtlsc_read_nowait(struct qtlsc *t, char *buf, size_t len)
{
  ssize_t r;
  t->err = 0;
  t->lim = &nowait;
  r = tls_read(t->conn, buf, len);
  t->lim = 0;
  if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) { errno = EAGAIN; return -1; }
  if (r >= 0) return r;
  if (t->eof && !t->err) return 0;
  errno = t->err ? t->err : EPROTO;
  return -1;
}

ssize_t qtlsc_write(struct qtlsc *t, const char *buf, size_t len, const struct io_limits *lim)
{
  ssize_t r;
  t->err = 0;
  t->lim = lim;
  do r = tls_write(t->conn, buf, len);
  while (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT);
  t->lim = 0;
  if (r >= 0) return r;
  errno = t->err ? t->err : EPROTO;
  return -1;
}

void qtlsc_free(struct qtlsc *t, const struct io_limits *lim)
{
  struct io_limits two = { 0, 2000 };
  if (!t->conn) return;
  if (!t->eof && !t->err) {
    two.deadline_ms = io_now_ms() + 2000;
    t->lim = lim ? lim : &two;
    tls_close(t->conn);
    t->lim = 0;
  }
  tls_free(t->conn);
  t->conn = 0;
}

/* safe: s with only letters, digits and "._-" kept ('?' else), 64 at most */
static const char *safe(const char *s, char *buf)
{
  size_t i;
  if (!s) s = "unknown";
  for (i = 0; s[i] && i < QTLSC_NAMEMAX - 1; ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      c = '?';
    buf[i] = c;
  }
  buf[i] = 0;
  return buf;
}

const char *qtlsc_version(struct qtlsc *t, char *buf) { return safe(tls_conn_version(t->conn), buf); }
const char *qtlsc_cipher(struct qtlsc *t, char *buf) { return safe(tls_conn_cipher(t->conn), buf); }

int qtlsc_describe(struct qtlsc *t, stralloc *sa)
{
  char v[QTLSC_NAMEMAX], c[QTLSC_NAMEMAX], n[24];
  int bits = tls_conn_cipher_strength(t->conn);
  size_t k = sizeof n - 1;
  unsigned u = bits > 0 ? (unsigned)bits : 0;
  n[k] = 0;
  do n[--k] = (char)('0' + u % 10); while ((u /= 10) && k);
  return stralloc_cats(sa, qtlsc_version(t, v)) && stralloc_cats(sa, " cipher ") &&
         stralloc_cats(sa, qtlsc_cipher(t, c)) && stralloc_cats(sa, " bits ") &&
         stralloc_cats(sa, n + k) && stralloc_cats(sa, " verify ") &&
         stralloc_cats(sa, t->verified == QTLSC_DANE ? "dane" : t->verified ? "ok" :
                                 t->pinned ? "pin" : "none");
}
