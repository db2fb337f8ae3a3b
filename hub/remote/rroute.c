/* rroute.c: control/smtproutes and control/qmtproutes lookup for
 * qmail-remote (see rroute.h). No allocation; caps in rroute.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "rroute.h"

static int bad(void)
{
  errno = EINVAL;
  return -1;
}

int rroute_literal(const char *s, size_t len, int *family, unsigned char *ip)
{
  char buf[64];
  if (len < 3 || s[0] != '[' || s[len - 1] != ']') return -1;
  s++;
  len -= 2;
  if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
    s += 5;
    len -= 5;
  }
  if (len == 0 || len >= sizeof buf || memchr(s, 0, len)) return -1;
  memcpy(buf, s, len);
  buf[len] = 0;
  memset(ip, 0, 16);
  if (inet_pton(AF_INET, buf, ip) == 1) { *family = AF_INET; return 0; }
  if (inet_pton(AF_INET6, buf, ip) == 1) { *family = AF_INET6; return 0; }
  return -1;
}

int rroute_name_ok(const char *s, size_t len)
{
  size_t i;
  if (len == 0 || len > RROUTE_HOSTMAX || s[0] == '-' || s[0] == '.') return 0;
  for (i = 0; i < len; ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
      return 0;
  }
  return 1;
}

/* parse_port: "" (default) or 1..65535. */
static int parse_port(const char *s, size_t len, unsigned short *port)
{
  unsigned long v = 0;
  size_t i;
  *port = 0;
  if (len == 0) return 0;
  if (len > 5) return bad();
  for (i = 0; i < len; ++i) {
    if (s[i] < '0' || s[i] > '9') return bad();
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v == 0 || v > 65535) return bad();
  *port = (unsigned short)v;
  return 0;
}

/* parse_opts: "smtps", "auth", "auth-notls", "qmtps", comma-separated. */
static int parse_opts(const char *s, size_t len, struct rroute *r)
{
  while (len) {
    const char *comma = memchr(s, ',', len);
    size_t wl = comma ? (size_t)(comma - s) : len;
    if (wl == 5 && strncasecmp(s, "smtps", 5) == 0) r->smtps = 1;
    else if (wl == 4 && strncasecmp(s, "auth", 4) == 0) r->auth = 1;
    else if (wl == 10 && strncasecmp(s, "auth-notls", 10) == 0) r->auth = r->authnotls = 1;
    else if (wl == 5 && strncasecmp(s, "qmtps", 5) == 0) r->qmtps = 1;
    else return bad();
    if (!comma) break;
    s += wl + 1;
    len -= wl + 1;
    if (!len) return bad();
  }
  return 0;
}

/* port_opts: "port[:options]" */
static int port_opts(const char *s, size_t len, struct rroute *r)
{
  const char *colon = memchr(s, ':', len);
  size_t pl = colon ? (size_t)(colon - s) : len;
  if (parse_port(s, pl, &r->port) < 0) return -1;
  if (colon && parse_opts(colon + 1, len - pl - 1, r) < 0) return -1;
  if (r->smtps && !r->port) r->port = RROUTE_PORT_SMTPS;
  if (r->qmtps && !r->port) r->port = RROUTE_PORT_QMTPS;
  return 0;
}

int rroute_parse(const char *s, size_t len, struct rroute *r)
{
  size_t hl;
  memset(r, 0, sizeof *r);
  if (len && s[0] == '[') {
    const char *close = memchr(s, ']', len);
    if (!close) return bad();
    hl = (size_t)(close - s) + 1;
    if (rroute_literal(s, hl, &r->family, r->ip) < 0 || hl > RROUTE_HOSTMAX) return bad();
    r->kind = RROUTE_LITERAL;
    memcpy(r->name, s, hl);   /* as written: the key of its credentials (rtls.h) */
  } else {
    const char *colon = memchr(s, ':', len);
    hl = colon ? (size_t)(colon - s) : len;
    if (hl == 0) {
      r->kind = RROUTE_MX;
    } else {
      if (!rroute_name_ok(s, hl)) return bad();
      memcpy(r->name, s, hl);
      r->name[hl] = 0;
      r->kind = RROUTE_NAME;
      if (inet_pton(AF_INET, r->name, r->ip) == 1) {  /* qmail's plain 1.2.3.4 */
        r->kind = RROUTE_LITERAL;
        r->family = AF_INET;
      }
    }
  }
  if (hl == len) return 0;
  if (s[hl] != ':') return bad();
  return port_opts(s + hl + 1, len - hl - 1, r);
}

/* lookup: the line whose domain is exactly d[0..dl), or NULL; *rest and
 * *restlen get what follows its first ':'. */
static const char *lookup(const char *list, size_t len, const char *d, size_t dl,
                          const char **rest, size_t *restlen)
{
  size_t pos = 0;
  while (pos < len) {
    const char *line = list + pos;
    size_t ll = strnlen(line, len - pos);
    const char *colon = memchr(line, ':', ll);
    pos += ll + 1;
    if (!colon || (size_t)(colon - line) != dl) continue;
    if (dl && strncasecmp(line, d, dl) != 0) continue;
    *rest = colon + 1;
    *restlen = ll - dl - 1;
    return line;
  }
  return 0;
}

int rroute_match(const char *list, size_t len, const char *host, int with_default,
                 const char **rest, size_t *restlen)
{
  size_t hl = strlen(host), i;
  for (i = 0; i <= hl; ++i) {
    if (i != 0 && i != hl && host[i] != '.') continue;
    if (i == hl && hl && !with_default) break;
    if (lookup(list, len, host + i, hl - i, rest, restlen)) return 1;
  }
  return 0;
}

int rroute_find(const char *list, size_t len, const char *host, struct rroute *r)
{
  const char *rest;
  size_t restlen;
  if (!rroute_match(list, len, host, 1, &rest, &restlen)) return 0;
  return rroute_parse(rest, restlen, r) < 0 ? -1 : 1;
}
