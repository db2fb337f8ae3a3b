/* dsnparam.c: RFC 3461 parameters and xtext (see dsnparam.h). */
#include <string.h>
#include "case.h"
#include "stralloc.h"
#include "dsnparam.h"

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* xtext_byte: the decoded byte at s[*i] (moving *i past it), -1 if bad */
static int xtext_byte(const char *s, size_t n, size_t *i)
{
  unsigned char c = (unsigned char)s[*i];
  int h, l;
  if (c == '+') {
    if (*i + 2 >= n) return -1;
    h = hexval(s[*i + 1]);
    l = hexval(s[*i + 2]);
    if (h < 0 || l < 0) return -1;
    *i += 3;
    c = (unsigned char)(h * 16 + l);
    return c >= 32 && c <= 126 ? c : -1;
  }
  ++*i;
  return c >= 33 && c <= 126 && c != '=' ? c : -1;
}

int dsn_xtext_ok(const char *s, size_t n)
{
  size_t i = 0;
  if (!n) return 0;
  while (i < n) if (xtext_byte(s, n, &i) < 0) return 0;
  return 1;
}

int dsn_xtext_decode(stralloc *out, const char *s, size_t n)
{
  size_t i = 0;
  if (!dsn_xtext_ok(s, n)) return DSNP_SYNTAX;
  if (!stralloc_readyplus(out, n)) return -2;
  while (i < n) {
    char c = (char)xtext_byte(s, n, &i);
    out->s[out->len++] = c;
  }
  return 0;
}

int dsn_xtext_encode(stralloc *out, const char *s, size_t n)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    char e[3] = { '+', hex[c >> 4], hex[c & 15] };
    if (c >= 33 && c <= 126 && c != '+' && c != '=') {
      if (!stralloc_append(out, (char *)&c)) return -2;
    } else if (!stralloc_catb(out, e, 3)) {
      return -2;
    }
  }
  return 0;
}

static int is(const char *v, size_t n, const char *w)
{
  return strlen(w) == n && !case_diffb(v, n, w);
}

int dsn_ret(struct dsn_mail *d, const char *v, size_t n)
{
  if (d->ret) return DSNP_SYNTAX;
  if (is(v, n, "FULL")) d->ret = DSN_RET_FULL;
  else if (is(v, n, "HDRS")) d->ret = DSN_RET_HDRS;
  else return DSNP_SYNTAX;
  return DSNP_OK;
}

int dsn_envid(struct dsn_mail *d, const char *v, size_t n)
{
  if (d->has_envid || n > DSN_ENVID_MAX || !dsn_xtext_ok(v, n)) return DSNP_SYNTAX;
  d->has_envid = 1;
  d->envid = v;
  d->envidlen = n;
  return DSNP_OK;
}

int dsn_notify(struct dsn_rcpt *d, const char *v, size_t n)
{
  int f = 0;
  size_t i = 0;
  if (d->notify || !n) return DSNP_SYNTAX;
  if (is(v, n, "NEVER")) { d->notify = DSN_NOTIFY_NEVER; return DSNP_OK; }
  while (i <= n) {
    size_t k = i;
    int w;
    while (k < n && v[k] != ',') ++k;
    if (is(v + i, k - i, "SUCCESS")) w = DSN_NOTIFY_SUCCESS;
    else if (is(v + i, k - i, "FAILURE")) w = DSN_NOTIFY_FAILURE;
    else if (is(v + i, k - i, "DELAY")) w = DSN_NOTIFY_DELAY;
    else return DSNP_SYNTAX;
    if (f & w) return DSNP_SYNTAX;
    f |= w;
    i = k + 1;
  }
  d->notify = f;
  return DSNP_OK;
}

int dsn_orcpt(struct dsn_rcpt *d, const char *v, size_t n)
{
  size_t k = 0;
  if (d->orcpt || n > DSN_ORCPT_MAX) return DSNP_SYNTAX;
  while (k < n && ((v[k] >= 'a' && v[k] <= 'z') || (v[k] >= 'A' && v[k] <= 'Z') ||
                   (v[k] >= '0' && v[k] <= '9') || v[k] == '-'))
    ++k;
  if (!k || k == n || v[k] != ';' || !dsn_xtext_ok(v + k + 1, n - k - 1)) return DSNP_SYNTAX;
  d->orcpt = v;
  d->orcptlen = n;
  return DSNP_OK;
}

int dsn_mail_item(stralloc *out, const struct dsn_mail *d)
{
  if (d->ret && !stralloc_cats(out, d->ret == DSN_RET_HDRS ? "RET=HDRS" : "RET=FULL")) return -2;
  if (d->has_envid && ((d->ret && !stralloc_append(out, " ")) || !stralloc_cats(out, "ENVID=") ||
                       !stralloc_catb(out, d->envid, d->envidlen)))
    return -2;
  return 0;
}

int dsn_rcpt_item(stralloc *out, const struct dsn_rcpt *d)
{
  static const struct { int f; const char *w; } words[] = {
    { DSN_NOTIFY_SUCCESS, "SUCCESS" }, { DSN_NOTIFY_FAILURE, "FAILURE" },
    { DSN_NOTIFY_DELAY, "DELAY" } };
  size_t i;
  const char *sep = "NOTIFY=";
  if (d->notify == DSN_NOTIFY_NEVER && !stralloc_cats(out, "NOTIFY=NEVER")) return -2;
  for (i = 0; i < 3; ++i)
    if (d->notify & words[i].f) {
      if (!stralloc_cats(out, sep) || !stralloc_cats(out, words[i].w)) return -2;
      sep = ",";
    }
  if (d->orcpt && ((d->notify && !stralloc_append(out, " ")) || !stralloc_cats(out, "ORCPT=") ||
                   !stralloc_catb(out, d->orcpt, d->orcptlen)))
    return -2;
  return 0;
}

/* each_word: call fn on every blank-separated KEY=value word of s */
static int each_word(const char *s, size_t n, void *d,
                     int (*fn)(void *d, const char *k, size_t kl, const char *v, size_t vl))
{
  size_t i = 0;
  while (i < n) {
    size_t w = i, e;
    const char *eq;
    while (i < n && s[i] != ' ') ++i;
    e = i;
    while (i < n && s[i] == ' ') ++i;
    if (e == w) return DSNP_SYNTAX;
    eq = memchr(s + w, '=', e - w);
    if (!eq || fn(d, s + w, (size_t)(eq - s - w), eq + 1, (size_t)(s + e - eq - 1)) != DSNP_OK)
      return DSNP_SYNTAX;
  }
  return DSNP_OK;
}

static int mail_word(void *p, const char *k, size_t kl, const char *v, size_t vl)
{
  if (is(k, kl, "RET")) return dsn_ret(p, v, vl);
  if (is(k, kl, "ENVID")) return dsn_envid(p, v, vl);
  return DSNP_SYNTAX;
}

static int rcpt_word(void *p, const char *k, size_t kl, const char *v, size_t vl)
{
  if (is(k, kl, "NOTIFY")) return dsn_notify(p, v, vl);
  if (is(k, kl, "ORCPT")) return dsn_orcpt(p, v, vl);
  return DSNP_SYNTAX;
}

int dsn_mail_parse(struct dsn_mail *d, const char *s, size_t n)
{
  memset(d, 0, sizeof *d);
  return each_word(s, n, d, mail_word);
}

int dsn_rcpt_parse(struct dsn_rcpt *d, const char *s, size_t n)
{
  memset(d, 0, sizeof *d);
  return each_word(s, n, d, rcpt_word);
}
