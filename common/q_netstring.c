/* q_netstring.c: strict netstring reading and writing (see q_netstring.h). */
#include <errno.h>
#include "fmt.h"
#include "q_netstring.h"

#define MAXDIGITS 20

size_t ns_head(char *buf, size_t len)
{
  size_t n = fmt_ulonglong(buf, (unsigned long long)len);
  buf[n++] = ':';
  return n;
}

size_t ns_size(size_t len)
{
  char buf[NS_HEAD];
  return ns_head(buf, len) + len + 1;
}

int ns_cat(stralloc *out, const char *s, size_t len)
{
  char buf[NS_HEAD];
  return stralloc_catb(out, buf, ns_head(buf, len)) &&
         stralloc_catb(out, s, len) && stralloc_append(out, ",");
}

int ns_cats(stralloc *out, const char *s)
{
  size_t n = 0;
  while (s[n]) ++n;
  return ns_cat(out, s, n);
}

/* digit_step: fold one more digit into *v; NS_TOOBIG past cap, NS_BAD on a
 * leading zero (a second digit after an initial '0'). */
static int digit_step(size_t *v, size_t ndigits, char c, size_t cap)
{
  if (ndigits == 1 && *v == 0) return NS_BAD;
  if (ndigits >= MAXDIGITS) return NS_TOOBIG;
  if ((size_t)(c - '0') > cap || *v > (cap - (size_t)(c - '0')) / 10) return NS_TOOBIG;
  *v = *v * 10 + (size_t)(c - '0');
  return NS_OK;
}

int ns_parse(const char *in, size_t n, size_t cap,
             const char **data, size_t *dlen, size_t *used)
{
  size_t i = 0, v = 0;
  int r;
  while (i < n && in[i] >= '0' && in[i] <= '9') {
    r = digit_step(&v, i, in[i], cap);
    if (r != NS_OK) return r;
    ++i;
  }
  if (i == 0 || i >= n || in[i] != ':') return NS_BAD;
  ++i;
  if (n - i <= v || in[i + v] != ',') return NS_BAD;
  *data = in + i;
  *dlen = v;
  *used = i + v + 1;
  return NS_OK;
}

int ns_getlen(buffer *b, size_t cap, size_t *len)
{
  size_t nd = 0, v = 0;
  char c;
  int r;
  for (;;) {
    ssize_t got = buffer_getc(b, &c);
    if (got < 0) return NS_IOERR;
    if (got == 0) { if (nd == 0) return NS_EOF; errno = EPROTO; return NS_IOERR; }
    if (c == ':') break;
    if (c < '0' || c > '9') return NS_BAD;
    r = digit_step(&v, nd, c, cap);
    if (r != NS_OK) return r;
    ++nd;
  }
  if (nd == 0) return NS_BAD;
  *len = v;
  return NS_OK;
}

int ns_getcomma(buffer *b)
{
  char c;
  ssize_t got = buffer_getc(b, &c);
  if (got < 0) return NS_IOERR;
  if (got == 0) { errno = EPROTO; return NS_IOERR; }
  return c == ',' ? NS_OK : NS_BAD;
}

int ns_get(buffer *b, size_t cap, stralloc *out)
{
  size_t len;
  int r = ns_getlen(b, cap, &len);
  if (r != NS_OK) return r;
  if (len + 1 == 0 || !stralloc_ready(out, len + 1)) return NS_NOMEM;
  if (len) {
    ssize_t got = buffer_getn(b, out->s, len);
    if (got < 0) return NS_IOERR;
    if ((size_t)got != len) { errno = EPROTO; return NS_IOERR; }
  }
  out->len = len;
  return ns_getcomma(b);
}
