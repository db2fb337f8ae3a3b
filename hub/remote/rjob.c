/* rjob.c: qmail-remote's reports (see rjob.h). Caps: RJOB_TEXTMAX bytes
 * of text per report. On out of memory a text is left short, never unsafe. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "rjob.h"

int rjob_init(struct rjob *j, char **rcpt, size_t nrcpt)
{
  j->rcpt = rcpt;
  j->nrcpt = nrcpt;
  j->rkind = calloc(nrcpt ? nrcpt : 1, 1);
  j->rtext = calloc(nrcpt ? nrcpt : 1, sizeof *j->rtext);
  j->mkind = 0;
  memset(&j->mtext, 0, sizeof j->mtext);
  return j->rkind && j->rtext ? 0 : -1;
}

void rjob_free(struct rjob *j)
{
  size_t i;
  for (i = 0; j->rtext && i < j->nrcpt; ++i) stralloc_free(&j->rtext[i]);
  free(j->rtext);
  free(j->rkind);
  stralloc_free(&j->mtext);
  j->rtext = 0;
  j->rkind = 0;
}

int rjob_sanitize(stralloc *out, const char *s, size_t len)
{
  size_t i;
  if (!stralloc_readyplus(out, len)) return 0;
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    out->s[out->len++] = (c < 32 || c > 126) ? '?' : (char)c;
  }
  return 1;
}

/* vtext: sa = the sanitized, capped concatenation of the strings. */
static void vtext(stralloc *sa, const char *s0, va_list ap)
{
  const char *s;
  sa->len = 0;
  for (s = s0; s; s = va_arg(ap, const char *)) {
    size_t len = strlen(s);
    if (sa->len + len > RJOB_TEXTMAX) {
      if (sa->len < RJOB_TEXTMAX) rjob_sanitize(sa, s, RJOB_TEXTMAX - sa->len);
      stralloc_cats(sa, "...");
      return;
    }
    rjob_sanitize(sa, s, len);
  }
}

void rjob_rcpt(struct rjob *j, size_t i, char kind, const char *s0, ...)
{
  va_list ap;
  if (i >= j->nrcpt || j->rkind[i]) return;
  j->rkind[i] = kind;
  va_start(ap, s0);
  vtext(&j->rtext[i], s0, ap);
  va_end(ap);
}

void rjob_msg(struct rjob *j, char kind, const char *s0, ...)
{
  va_list ap;
  if (j->mkind) return;
  j->mkind = kind;
  va_start(ap, s0);
  vtext(&j->mtext, s0, ap);
  va_end(ap);
}

void rjob_all(struct rjob *j, char rkind, char mkind, const char *s0, ...)
{
  stralloc t = {0};
  va_list ap;
  size_t i;
  va_start(ap, s0);
  vtext(&t, s0, ap);
  va_end(ap);
  if (!stralloc_0(&t)) { stralloc_copys(&t, "out of memory (#4.3.0)"); stralloc_0(&t); }
  for (i = 0; i < j->nrcpt; ++i) rjob_rcpt(j, i, rkind, t.s ? t.s : "", (const char *)0);
  rjob_msg(j, mkind, t.s ? t.s : "", (const char *)0);
  stralloc_free(&t);
}

size_t rjob_count(const struct rjob *j, char kind)
{
  size_t i, n = 0;
  for (i = 0; i < j->nrcpt; ++i) n += j->rkind[i] == kind;
  return n;
}

int rjob_output(struct rjob *j, stralloc *out)
{
  size_t i;
  for (i = 0; i < j->nrcpt; ++i) {
    char k = j->rkind[i] ? j->rkind[i] : 's';
    if (!stralloc_append(out, &k)) return 0;
    if (!j->rkind[i] && !stralloc_cats(out, "internal error: no report (#4.3.0)")) return 0;
    if (!stralloc_catb(out, j->rtext[i].s, j->rtext[i].len) || !stralloc_0(out)) return 0;
  }
  if (!j->mkind)
    return stralloc_cats(out, "Zinternal error: no message report (#4.3.0)") && stralloc_0(out);
  return stralloc_append(out, &j->mkind) &&
         stralloc_catb(out, j->mtext.s, j->mtext.len) && stralloc_0(out);
}
