/* raddr.c: writing envelope addresses for the next hop (see raddr.h). */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include "q_limits.h"
#include "q_utf8.h"
#include "raddr.h"

int raddr_null(const char *a)
{
  return !*a || !strcmp(a, "#@[]");
}

static int is_alnum(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* atext: RFC 5322 sec 3.2.3, with RFC 6531 sec 3.3's UTF8-non-ascii
 * (the address was checked to be valid UTF-8 first, so any byte >= 128
 * is part of a whole character) */
static int is_atext(unsigned char c)
{
  return is_alnum(c) || c >= 128 || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* dot_string: s[0..len) is Atom *("." Atom). */
static int dot_string(const char *s, size_t len)
{
  size_t i, atom = 0;
  for (i = 0; i < len; ++i) {
    if (s[i] == '.') {
      if (!atom) return 0;
      atom = 0;
    } else if (is_atext((unsigned char)s[i])) ++atom;
    else return 0;
  }
  return atom > 0;
}

/* let_dig: a letter or digit; in a domain name (u) also a byte of a
 * UTF-8 character (an RFC 6531 U-label, sent as it is: no IDNA here). */
static int let_dig(unsigned char c, int u)
{
  return is_alnum(c) || (u && c >= 128);
}

/* ldh: s[0..len) is Ldh-str or a Let-dig: letters, digits, inner hyphens
 * (lead: a hyphen may start it, as in Standardized-tag; u: see let_dig). */
static int ldh(const char *s, size_t len, int lead, int u)
{
  size_t i;
  if (!len || !let_dig((unsigned char)s[len - 1], u)) return 0;
  if (!lead && !let_dig((unsigned char)s[0], u)) return 0;
  for (i = 0; i < len; ++i)
    if (!let_dig((unsigned char)s[i], u) && s[i] != '-') return 0;
  return 1;
}

static int domain_name(const char *d, size_t len)
{
  size_t i = 0;
  while (i <= len) {
    size_t k = i;
    while (k < len && d[k] != '.') ++k;
    if (k - i > RADDR_LABELMAX || !ldh(d + i, k - i, 0, 1)) return 0;
    i = k + 1;
  }
  return 1;
}

/* ipv4: Snum 3("." Snum), Snum 0..255 in 1 to 3 digits. */
static int ipv4(const char *s, size_t len)
{
  size_t i = 0, part;
  for (part = 0; part < 4; ++part) {
    unsigned v = 0, digits = 0;
    if (part && (i >= len || s[i++] != '.')) return 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3) {
      v = v * 10 + (unsigned)(s[i++] - '0');
      ++digits;
    }
    if (!digits || v > 255) return 0;
  }
  return i == len;
}

static int ipv6(const char *s, size_t len)
{
  char buf[64];
  unsigned char ip[16];
  if (len == 0 || len >= sizeof buf) return 0;
  memcpy(buf, s, len);
  buf[len] = 0;
  return inet_pton(AF_INET6, buf, ip) == 1;
}

/* general: Standardized-tag ":" 1*dcontent (RFC 5321 sec 4.1.3). */
static int general(const char *s, size_t len)
{
  const char *colon = memchr(s, ':', len);
  size_t t, i;
  if (!colon) return 0;
  t = (size_t)(colon - s);
  if (!ldh(s, t, 1, 0) || t + 1 >= len) return 0;
  for (i = t + 1; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') return 0;
  }
  return 1;
}

static int literal(const char *s, size_t len)
{
  if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) return ipv6(s + 5, len - 5);
  return ipv4(s, len) || general(s, len);
}

/* domain: RADDR_OK, RADDR_LONG or RADDR_DOMAIN for d[0..len). */
static int domain(const char *d, size_t len)
{
  if (len > RADDR_DOMAINMAX) return RADDR_LONG;
  if (len >= 2 && d[0] == '[' && d[len - 1] == ']')
    return literal(d + 1, len - 2) ? RADDR_OK : RADDR_DOMAIN;
  return domain_name(d, len) ? RADDR_OK : RADDR_DOMAIN;
}

/* local_len: the written length of local part s[0..len). */
static size_t local_len(const char *s, size_t len)
{
  size_t i, n = len + 2;
  if (dot_string(s, len)) return len;
  for (i = 0; i < len; ++i)
    if (s[i] == '"' || s[i] == '\\') ++n;
  return n;
}

/* check: the rules; *at gets the index of the last '@'. */
static int check(const char *a, size_t len, size_t max, size_t *at)
{
  const char *p;
  size_t i;
  int r;
  for (i = 0; i < len; ++i)
    if ((unsigned char)a[i] < 32 || a[i] == 127) return RADDR_CTRL;
  if (utf8_valid(a, len) != len) return RADDR_8BIT;
  p = len ? memrchr(a, '@', len) : 0;
  if (!p) return RADDR_NOAT;
  *at = (size_t)(p - a);
  r = domain(p + 1, len - *at - 1);
  if (r) return r;
  if (local_len(a, *at) > max || len - *at > max - local_len(a, *at)) return RADDR_LONG;
  return RADDR_OK;
}

int raddr_utf8(const char *a)
{
  return !utf8_ascii(a, strlen(a));
}

int raddr_check(const char *a, size_t len, size_t max)
{
  size_t at;
  return check(a, len, max, &at);
}

int raddr_smtp(const char *a, size_t len, size_t max, stralloc *out)
{
  size_t at, i, o;
  int r = check(a, len, max, &at);
  if (r) return r;
  if (!stralloc_readyplus(out, local_len(a, at) + len - at)) return RADDR_NOMEM;
  o = out->len;
  if (dot_string(a, at)) {
    memcpy(out->s + o, a, at);
    o += at;
  } else {
    out->s[o++] = '"';
    for (i = 0; i < at; ++i) {
      if (a[i] == '"' || a[i] == '\\') out->s[o++] = '\\';
      out->s[o++] = a[i];
    }
    out->s[o++] = '"';
  }
  memcpy(out->s + o, a + at, len - at);
  out->len = o + len - at;
  return RADDR_OK;
}

const char *raddr_why(int r)
{
  switch (r) {
  case RADDR_NOAT: return "it has no @";
  case RADDR_CTRL: return "it has control characters";
  case RADDR_8BIT: return "it has 8-bit characters that are not valid UTF-8";
  case RADDR_DOMAIN: return "its domain is not a valid domain name or address literal";
  case RADDR_LONG: return "it is too long";
  case RADDR_NOMEM: return "out of memory";
  default: return "it is fine";
  }
}

size_t raddr_max(void)
{
  return (size_t)limit_get(LIM_ADDR);
}

int raddr_job(struct rjob *j)
{
  size_t i, max = raddr_max();
  int r = raddr_null(j->sender) ? RADDR_OK : raddr_check(j->sender, strlen(j->sender), max);
  if (r) {
    rjob_all(j, 'h', 'D', "Sorry, I can't send with this envelope sender: ", raddr_why(r),
             ". (#5.1.7)", (const char *)0);
    return 1;
  }
  for (i = 0; i < j->nrcpt; ++i) {
    if (j->rkind[i]) continue;
    r = raddr_check(j->rcpt[i], strlen(j->rcpt[i]), max);
    if (r)
      rjob_rcpt(j, i, 'h', "Sorry, I can't send to this address: ", raddr_why(r), ". (#5.1.3)",
                (const char *)0);
  }
  if (rjob_count(j, 0)) return 0;
  rjob_msg(j, 'D', "Sorry, no recipient address can be sent. (#5.1.3)", (const char *)0);
  return 1;
}
