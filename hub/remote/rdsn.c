/* rdsn.c: DSN parameters for the next hop (see rdsn.h). */
#include <string.h>
#include "dsnparam.h"
#include "rdsn.h"

/* line: line k of lines into *s, *n. 1 found, 0 there are fewer. */
static int line(const char *lines, size_t k, const char **s, size_t *n)
{
  const char *p = lines, *nl;
  for (;;) {
    nl = strchr(p, '\n');
    if (!k--) break;
    if (!nl) return 0;
    p = nl + 1;
  }
  *s = p;
  *n = nl ? (size_t)(nl - p) : strlen(p);
  return 1;
}

int rdsn_ok(const char *lines, size_t nrcpt)
{
  struct dsn_mail dm;
  struct dsn_rcpt dr;
  const char *s, *t;
  size_t n, i;
  if (!line(lines, 0, &s, &n) || n > RDSN_LINE_MAX || dsn_mail_parse(&dm, s, n) != DSNP_OK)
    return 0;
  for (i = 1; i <= nrcpt; ++i)
    if (!line(lines, i, &s, &n) || n > RDSN_LINE_MAX || dsn_rcpt_parse(&dr, s, n) != DSNP_OK)
      return 0;
  return !line(lines, nrcpt + 1, &t, &n);
}

int rdsn_mail(stralloc *out, const char *lines)
{
  struct dsn_mail d;
  const char *s;
  size_t n;
  if (!line(lines, 0, &s, &n) || dsn_mail_parse(&d, s, n) != DSNP_OK) return 1;
  if (!d.ret && !d.has_envid) return 1;
  return stralloc_cats(out, " ") && dsn_mail_item(out, &d) == 0;
}

int rdsn_rcpt(stralloc *out, const char *lines, size_t i, int *notify)
{
  struct dsn_rcpt d;
  const char *s;
  size_t n;
  *notify = 0;
  if (!line(lines, i + 1, &s, &n) || dsn_rcpt_parse(&d, s, n) != DSNP_OK) return 1;
  if (!d.notify && !d.orcpt) return 1;
  *notify = d.notify;
  return stralloc_cats(out, " ") && dsn_rcpt_item(out, &d) == 0;
}
