/* rtls.c: qmail-remote's TLS policy lookup, AUTH credentials and the DANE
 * hook (see rtls.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include "q_control.h"
#include "rconn.h"
#include "rdns.h"
#include "rroute.h"
#include "rtls.h"
#include "dane.h"

static const char *const names[] = { "none", "may", "encrypt", "verify", "dane" };

const char *rtls_policy_name(int policy)
{
  return policy >= 0 && policy <= RTLS_DANE ? names[policy] : "?";
}

int rtls_policy_parse(const char *s, size_t len)
{
  int i;
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) --len;
  while (len && (*s == ' ' || *s == '\t')) { ++s; --len; }
  for (i = 0; i <= RTLS_DANE; ++i)
    if (strlen(names[i]) == len && strncasecmp(s, names[i], len) == 0) return i;
  return -1;
}

int rtls_lookup(const char *list, size_t len, const char *domain, const char *relay,
                int *policy)
{
  const char *rest;
  size_t rl;
  int p;
  *policy = RTLS_MAY;
  if (!rroute_match(list, len, domain, 0, &rest, &rl) &&
      !(relay && *relay && rroute_match(list, len, relay, 0, &rest, &rl)) &&
      !rroute_match(list, len, "", 1, &rest, &rl))
    return 0;
  p = rtls_policy_parse(rest, rl);
  if (p < 0) { errno = EINVAL; return -1; }
  *policy = p;
  return 0;
}

/* ---- credentials ---------------------------------------------------------- */

/* why3: why = a b c (b, c may be NULL), NUL-terminated; -1 */
static int why3(stralloc *why, const char *a, const char *b, const char *c)
{
  why->len = 0;
  if (!stralloc_cats(why, a) || (b && !stralloc_cats(why, b)) || (c && !stralloc_cats(why, c)) ||
      !stralloc_0(why))
    why->len = 0;
  return -1;
}
static int why_set(stralloc *why, const char *a, const char *b) { return why3(why, a, b, 0); }

/* readsecret: control/remoteauth into sa after the ownership and mode
 * checks on the open file. 0 ok, -1 with why. */
static int readsecret(stralloc *sa, stralloc *why)
{
  stralloc path = {0};
  struct stat st;
  char buf[4096];
  int fd;
  if (!control_path(&path, RTLS_AUTH)) return why_set(why, "out of memory", 0);
  fd = open(path.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  stralloc_free(&path);
  if (fd < 0)
    return why_set(why, "cannot read control/" RTLS_AUTH ": ",
                   errno == ENOENT ? "file does not exist" : strerror(errno));
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & 077)) {
    close(fd);
    return why_set(why, "control/" RTLS_AUTH " must be a file owned by qmail-remote's user"
                   " with mode 0600 or 0400", 0);
  }
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || sa->len + (size_t)n > 65536 || !stralloc_catb(sa, buf, (size_t)(n < 0 ? 0 : n))) {
      close(fd);
      explicit_bzero(buf, sizeof buf);
      return why_set(why, "cannot read control/" RTLS_AUTH ": ",
                     n < 0 ? strerror(errno) : "too big or out of memory");
    }
    if (n == 0) break;
  }
  close(fd);
  explicit_bzero(buf, sizeof buf);
  return 0;
}

/* credline: line[0..ll) is "relay:user:password" for relay? 1 yes (d
 * filled), 0 another relay, -1 bad line for relay. */
static int credline(const char *line, size_t ll, const char *relay, struct rtls_dest *d)
{
  size_t rl = strlen(relay);
  const char *u, *c2;
  if (ll <= rl || line[rl] != ':' || strncasecmp(line, relay, rl) != 0) return 0;
  u = line + rl + 1;
  c2 = memchr(u, ':', ll - rl - 1);
  if (!c2 || c2 == u || (size_t)(c2 - u) > RTLS_USERMAX) return -1;
  if ((size_t)(line + ll - c2 - 1) > RTLS_PASSMAX || c2 + 1 == line + ll) return -1;
  memcpy(d->user, u, (size_t)(c2 - u));
  d->user[c2 - u] = 0;
  memcpy(d->pass, c2 + 1, (size_t)(line + ll - c2 - 1));
  d->pass[line + ll - c2 - 1] = 0;
  return 1;
}

int rtls_creds(const char *relay, struct rtls_dest *d, stralloc *why)
{
  stralloc f = {0};
  size_t pos = 0;
  int r = 0;
  if (readsecret(&f, why) < 0) { if (f.s) explicit_bzero(f.s, f.a); stralloc_free(&f); return -1; }
  while (pos < f.len && r == 0) {
    char *line = f.s + pos, *nl = memchr(line, '\n', f.len - pos);
    size_t ll = nl ? (size_t)(nl - line) : f.len - pos;
    pos += ll + 1;
    if (ll && line[ll - 1] == '\r') --ll;
    if (ll == 0 || line[0] == '#') continue;
    r = credline(line, ll, relay, d);
  }
  if (f.s) explicit_bzero(f.s, f.a);
  stralloc_free(&f);
  if (r == 1) return 0;
  explicit_bzero(d->pass, sizeof d->pass);
  if (r < 0) return why3(why, "the line for ", relay, " in control/" RTLS_AUTH " is not relay:user:password");
  return why3(why, "no credentials for ", relay, " in control/" RTLS_AUTH);
}

/* ---- the TLS step ---------------------------------------------------------- */

/* release: rconn's tlsfree: the TLS connection and the DANE state */
static void release(struct rconn *c)
{
  if (c->tls) {
    if (c->fd >= 0) qtlsc_free(c->tls, 0);
    free(c->tls);
    c->tls = 0;
  }
  rtls_dane_free(&c->dane);
}

/* dane_applies: does the DANE step run for host under d's policy? Always
 * under dane; under may (RFC 7672 sec 2.2, RFC 7435) when host came from
 * an authenticated MX answer (or is the domain, authenticated without MX
 * records). rdns_mx_named says 1 only when the resolver is trusted for
 * the AD bit (control/dnsservers or trust-ad): without one, no TLSA
 * lookup at all. */
static int dane_applies(const struct rtls_dest *d, const char *host)
{
  const char *domain;
  if (d->policy == RTLS_DANE) return 1;
  return d->policy == RTLS_MAY && host[0] && rdns_mx_named(host, &domain) == 1;
}

int rtls_need(struct rconn *c, stralloc *why)
{
  const struct rtls_dest *d = c->td;
  int r;
  if (!d) return 0;
  c->dane.on = 0;
  if (dane_applies(d, c->name)) {
    struct qtlsc_opts o;
    memset(&o, 0, sizeof o);
    c->tlsfree = release;
    r = rtls_dane(RTLS_DANE_BEFORE, &c->dane, c->name, c->port, &o, 0, why);
    if (r == RTLS_DANE_DEFER) return -1;
    c->dane.on = r == RTLS_DANE_OK;
  }
  /* authenticated TLSA records (RFC 7672 sec 2.2): TLS required and the
   * AFTER match, under may too (no plain text after a failed handshake) */
  c->tlsneed = c->dane.on || d->smtps || (d->policy >= RTLS_ENCRYPT && d->policy != RTLS_DANE);
  return c->tlsneed;
}

int rtls_start(struct rconn *c, stralloc *why)
{
  const struct rtls_dest *d = c->td;
  struct qtlsc_opts o;
  int dane = c->dane.on;
  if (rconn_pending(c))
    return why_set(why, "the server sent more after its answer to STARTTLS", 0);
  memset(&o, 0, sizeof o);
  o.servername = c->name[0] ? c->name : 0;
  o.verify = d && d->policy == RTLS_VERIFY;
  if (d) { o.cafile = d->cafile; o.certfile = d->certfile; o.ciphers = d->ciphers; }
  if (o.verify && !o.servername)
    return why_set(why, "no host name to verify the certificate against (an address literal)", 0);
  c->tls = calloc(1, sizeof *c->tls);
  if (!c->tls) return why_set(why, "out of memory", 0);
  c->tlsfree = release;
  c->tlsread = qtlsc_read;
  c->tlswrite = qtlsc_write;
  if (qtlsc_connect(c->tls, c->fd, c->fd, &o, &c->lim, why) < 0 ||
      (dane && rtls_dane(RTLS_DANE_AFTER, &c->dane, c->name, c->port, &o, c->tls, why) != RTLS_DANE_OK)) {
    qtlsc_free(c->tls, 0);
    free(c->tls);
    c->tls = 0;
    c->broken = 1;
    return -1;
  }
  {
    stralloc info = {0};
    size_t n;
    if (!qtlsc_describe(c->tls, &info)) info.len = 0;
    n = info.len < sizeof c->tlsinfo - 1 ? info.len : sizeof c->tlsinfo - 1;
    if (n) memcpy(c->tlsinfo, info.s, n);
    c->tlsinfo[n] = 0;
    stralloc_free(&info);
  }
  return 0;
}

int rtls_b64(stralloc *out, const char *s, size_t n)
{
  static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;
  for (i = 0; i < n; i += 3) {
    unsigned v = (unsigned)(unsigned char)s[i] << 16;
    char q[4];
    if (i + 1 < n) v |= (unsigned)(unsigned char)s[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char)s[i + 2];
    q[0] = al[v >> 18 & 63];
    q[1] = al[v >> 12 & 63];
    q[2] = i + 1 < n ? al[v >> 6 & 63] : '=';
    q[3] = i + 2 < n ? al[v & 63] : '=';
    if (!stralloc_catb(out, q, 4)) return 0;
  }
  return 1;
}

void rtls_scrub(char *text, const char *const *secrets)
{
  for (; *secrets; ++secrets) {
    size_t sl = strlen(*secrets);
    char *p = text;
    if (sl == 0) continue;
    while ((p = strstr(p, *secrets))) {
      memset(p, '*', sl);
      p += sl;
    }
  }
}

/* ---- DANE ---------------------------------------------------------------------
 * THE DANE HOOK: hub/remote/dane.c does the work (dane_hook; see rtls.h for what
 * each phase must do and docs/dane.md). The handshake options stay as they
 * are: no CA check, the TLSA match decides. */
int rtls_dane(int phase, struct rtls_dane_state *st, const char *host, unsigned short port,
              struct qtlsc_opts *o, struct qtlsc *t, stralloc *why)
{
  (void)o;
  return dane_hook(phase, &st->p, host, port, t, why);
}

void rtls_dane_free(struct rtls_dane_state *st)
{
  dane_hook_free(&st->p);
  st->on = 0;
}
