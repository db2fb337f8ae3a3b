/* smtpcmd.c: SMTP command-line parsing for qmail-smtpd (see smtpcmd.h).
 * Single pass over the argument, no recursion; the only allocation is the
 * address stralloc, which never grows beyond maxaddr bytes. */
#include <limits.h>
#include <string.h>
#include "case.h"
#include "q_addr.h"
#include "q_utf8.h"
#include "smtpcmd.h"

static int is_blank(char c) { return c == ' ' || c == '\t'; }

int smtpcmd_split(char *s, size_t len, struct smtp_line *l)
{
  size_t i = 0;
  if (len && s[len - 1] == '\n') --len;
  if (len && s[len - 1] == '\r') --len;
  if (memchr(s, 0, len)) return SMTPCMD_NUL;
  while (i < len && s[i] != ' ') ++i;
  l->verb = s;
  l->verblen = i;
  while (i < len && is_blank(s[i])) ++i;
  while (len > i && is_blank(s[len - 1])) --len;
  l->arg = s + i;
  l->arglen = len - i;
  return SMTPCMD_OK;
}

int smtpcmd_verbis(const struct smtp_line *l, const char *v)
{
  size_t n = strlen(v);
  return l->verblen == n && case_diffb(l->verb, n, v) == 0;
}

/* skip_route: past an RFC 5321 source route "@a,@b:" starting at *pos.
 * The route ends at the first ':'; a '>' or the end before it is an error. */
static int skip_route(const char *s, size_t len, size_t *pos)
{
  size_t i = *pos;
  if (i >= len || s[i] != '@') return SMTPCMD_OK;
  for (; i < len && s[i] != ':'; ++i)
    if (s[i] == '>' || s[i] == '<' || s[i] == '"' || s[i] == ' ') return SMTPCMD_SYNTAX;
  if (i == len) return SMTPCMD_SYNTAX;
  *pos = i + 1;
  return SMTPCMD_OK;
}

/* addr_byte: append one address byte, enforcing the cap and refusing
 * control characters (RFC 5321 allows none, quoted or not; the rule is
 * q_addr.h's addr_env_byte, shared with every other entrance). */
static int addr_byte(stralloc *out, char c, size_t maxaddr)
{
  if (!addr_env_byte((unsigned char)c)) return SMTPCMD_CTRL;
  if (out->len >= maxaddr) return SMTPCMD_TOOLONG;
  return stralloc_append(out, &c) ? SMTPCMD_OK : SMTPCMD_NOMEM;
}

/* addr_take: the address at *pos, unquoted, into out. In angle mode it ends
 * at an unquoted '>' (consumed), else at an unquoted space or the end.
 * Unquoted '<' or '>' inside, an unclosed quote or bracket: syntax error. */
static int addr_take(const char *s, size_t len, size_t *pos, int angle,
                     size_t maxaddr, stralloc *out)
{
  size_t i;
  int quoted = 0, r;
  for (i = *pos; i < len; ++i) {
    char c = s[i];
    if (c == '\\') {
      if (++i == len) return SMTPCMD_SYNTAX;
      c = s[i];
    } else if (c == '"') {
      quoted = !quoted;
      continue;
    } else if (!quoted && (c == ' ' || c == '>')) {
      break;
    } else if (!quoted && c == '<') {
      return SMTPCMD_SYNTAX;
    }
    if ((r = addr_byte(out, c, maxaddr)) != SMTPCMD_OK) return r;
  }
  if (quoted) return SMTPCMD_SYNTAX;
  if (angle) {
    if (i == len || s[i] != '>') return SMTPCMD_SYNTAX;
    ++i;
  } else if (i < len && s[i] == '>') {
    return SMTPCMD_SYNTAX;
  }
  *pos = i;
  return SMTPCMD_OK;
}

/* size_value: decimal digits into a saturating unsigned long long. */
static int size_value(const char *v, size_t n, unsigned long long *out)
{
  unsigned long long x = 0;
  size_t i;
  if (n == 0) return SMTPCMD_PARAMSYN;
  for (i = 0; i < n; ++i) {
    unsigned d = (unsigned char)v[i] - '0';
    if (d > 9) return SMTPCMD_PARAMSYN;
    if (x > (ULLONG_MAX - d) / 10) x = ULLONG_MAX;
    else x = x * 10 + d;
  }
  *out = x;
  return SMTPCMD_OK;
}

static int body_value(const char *v, size_t n, enum smtp_body *out)
{
  if (n == 4 && case_diffb(v, 4, "7bit") == 0) *out = SMTP_BODY_7BIT;
  else if (n == 8 && case_diffb(v, 8, "8bitmime") == 0) *out = SMTP_BODY_8BITMIME;
  else return SMTPCMD_PARAMSYN;
  return SMTPCMD_OK;
}

/* xtext_value: RFC 3461 xtext (printable ASCII but '+' and '=', and
 * "+HH" in upper-case hex), or "<>", as MAIL's AUTH= takes. */
static int xtext_value(const char *v, size_t n)
{
  size_t i;
  if (n == 0) return SMTPCMD_PARAMSYN;
  if (n == 2 && v[0] == '<' && v[1] == '>') return SMTPCMD_OK;
  for (i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)v[i];
    if (c == '+') {
      size_t j;
      if (i + 2 >= n) return SMTPCMD_PARAMSYN;
      for (j = i + 1; j <= i + 2; ++j)
        if (!((v[j] >= '0' && v[j] <= '9') || (v[j] >= 'A' && v[j] <= 'F'))) return SMTPCMD_PARAMSYN;
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return SMTPCMD_PARAMSYN;
    }
  }
  return SMTPCMD_OK;
}

/* The parameters, one function each: t[0..n) is the value after '=',
 * or NULL for a keyword given without one. */
static int p_size(const char *t, size_t n, struct smtp_path *p)
{
  if (!t) return SMTPCMD_PARAM;
  p->has_size = 1;
  return size_value(t, n, &p->size);
}

static int p_body(const char *t, size_t n, struct smtp_path *p)
{
  return t ? body_value(t, n, &p->body) : SMTPCMD_PARAM;
}

static int p_auth(const char *t, size_t n, struct smtp_path *p)
{
  (void)p;
  return t ? xtext_value(t, n) : SMTPCMD_PARAM;
}

static int p_utf8(const char *t, size_t n, struct smtp_path *p)
{
  (void)n;
  if (t) return SMTPCMD_PARAMSYN;   /* RFC 6531 sec 3.4: no value */
  p->smtputf8 = 1;
  return SMTPCMD_OK;
}

static int dsn_r(int r) { return r == DSNP_OK ? SMTPCMD_OK : SMTPCMD_PARAMSYN; }

static int p_ret(const char *t, size_t n, struct smtp_path *p)
{
  return t ? dsn_r(dsn_ret(&p->dsnm, t, n)) : SMTPCMD_PARAMSYN;
}

static int p_envid(const char *t, size_t n, struct smtp_path *p)
{
  return t ? dsn_r(dsn_envid(&p->dsnm, t, n)) : SMTPCMD_PARAMSYN;
}

static int p_notify(const char *t, size_t n, struct smtp_path *p)
{
  return t ? dsn_r(dsn_notify(&p->dsnr, t, n)) : SMTPCMD_PARAMSYN;
}

static int p_orcpt(const char *t, size_t n, struct smtp_path *p)
{
  return t ? dsn_r(dsn_orcpt(&p->dsnr, t, n)) : SMTPCMD_PARAMSYN;
}

static const struct param {
  const char *key;
  unsigned mask;   /* SMTPCMD_P_* */
  int (*fn)(const char *t, size_t n, struct smtp_path *p);
} paramtab[] = {
  { "size", SMTPCMD_P_SIZE, p_size },
  { "body", SMTPCMD_P_BODY, p_body },
  { "auth", SMTPCMD_P_AUTH, p_auth },
  { "smtputf8", SMTPCMD_P_UTF8, p_utf8 },
  { "ret", SMTPCMD_P_DSNMAIL, p_ret },
  { "envid", SMTPCMD_P_DSNMAIL, p_envid },
  { "notify", SMTPCMD_P_DSNRCPT, p_notify },
  { "orcpt", SMTPCMD_P_DSNRCPT, p_orcpt },
  { 0, 0, 0 }
};

/* param_one: one "KEY[=VALUE]" token, by the table above. */
static int param_one(const char *t, size_t n, unsigned params, struct smtp_path *p)
{
  const struct param *e;
  size_t k = 0;
  while (k < n && t[k] != '=') ++k;
  for (e = paramtab; e->key; ++e) {
    if (!(params & e->mask) || strlen(e->key) != k || case_diffb(t, k, e->key)) continue;
    return k == n ? e->fn(0, 0, p) : e->fn(t + k + 1, n - k - 1, p);
  }
  return SMTPCMD_PARAM;
}

/* params_parse: the text after the path: empty, or blanks and tokens. */
static int params_parse(const char *s, size_t len, unsigned params, struct smtp_path *p)
{
  size_t i = 0;
  if (len && !is_blank(s[0])) return SMTPCMD_SYNTAX;   /* "<a@b>x" */
  while (i < len) {
    size_t start;
    int r;
    while (i < len && is_blank(s[i])) ++i;
    if (i == len) break;
    start = i;
    while (i < len && !is_blank(s[i])) ++i;
    if ((r = param_one(s + start, i - start, params, p)) != SMTPCMD_OK) return r;
  }
  return SMTPCMD_OK;
}

int smtpcmd_path(const char *arg, size_t len, const char *kw, unsigned params,
                 size_t maxaddr, struct smtp_path *p)
{
  size_t kwlen = strlen(kw), i;
  int angle, r;
  p->addr.len = 0;
  p->has_size = 0;
  p->size = 0;
  p->body = SMTP_BODY_NONE;
  p->smtputf8 = 0;
  memset(&p->dsnm, 0, sizeof p->dsnm);
  memset(&p->dsnr, 0, sizeof p->dsnr);
  if (memchr(arg, 0, len)) return SMTPCMD_NUL;
  if (len <= kwlen || case_diffb(arg, kwlen, kw) || arg[kwlen] != ':') return SMTPCMD_SYNTAX;
  i = kwlen + 1;
  while (i < len && arg[i] == ' ') ++i;
  if (i == len) return SMTPCMD_SYNTAX;
  angle = arg[i] == '<';
  i += (size_t)angle;
  if ((r = skip_route(arg, len, &i)) != SMTPCMD_OK) return r;
  if ((r = addr_take(arg, len, &i, angle, maxaddr, &p->addr)) != SMTPCMD_OK) return r;
  if (!angle && p->addr.len == 0) return SMTPCMD_SYNTAX;
  return params_parse(arg + i, len - i, params, p);
}

int smtpcmd_utf8(const char *a, size_t len, int utf8)
{
  if (utf8_ascii(a, len)) return SMTPCMD_OK;
  if (!utf8) return SMTPCMD_NEEDUTF8;
  return utf8_valid(a, len) == len ? SMTPCMD_OK : SMTPCMD_BADUTF8;
}

const char *smtpcmd_reply(int result)
{
  switch (result) {
  case SMTPCMD_OK: return "";
  case SMTPCMD_NUL: return "501 5.5.4 sorry, NUL bytes are not allowed in commands";
  case SMTPCMD_CTRL: return "501 5.5.4 sorry, control characters are not allowed in addresses";
  case SMTPCMD_TOOLONG: return "501 5.1.3 sorry, that address is too long";
  case SMTPCMD_PARAMSYN: return "501 5.5.4 syntax error in a parameter value";
  case SMTPCMD_PARAM: return "555 5.5.4 parameter not recognized or not implemented";
  case SMTPCMD_NOMEM: return "421 4.3.0 out of memory";
  case SMTPCMD_NEEDUTF8:
    return "553 5.6.7 sorry, a non-ASCII address needs SMTPUTF8 (RFC 6531)";
  case SMTPCMD_BADUTF8: return "553 5.6.7 sorry, that address is not valid UTF-8";
  default: return "501 5.5.4 syntax error, use FROM:<address> or TO:<address>";
  }
}
