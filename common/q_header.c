/* q_header.c: reading and naming header fields (see q_header.h). */
#include "case.h"
#include "q_getln.h"
#include "q_header.h"

size_t hdr_namelen(const char *s, size_t len)
{
  size_t i = 0, n;
  while (i < len && s[i] > 32 && s[i] < 127 && s[i] != ':') ++i;
  n = i;
  while (i < len && (s[i] == ' ' || s[i] == '\t')) ++i;
  if (n == 0 || i >= len || s[i] != ':') return 0;
  return n;
}

size_t hdr_value(const char *field, size_t len)
{
  size_t i = hdr_namelen(field, len);
  if (!i) return 0;
  while (field[i] != ':') ++i;
  return i + 1;
}

int hdr_is(const char *field, size_t len, const char *name)
{
  size_t n = hdr_namelen(field, len), i;
  for (i = 0; name[i]; ++i) ;
  return n && n == i && case_diffb(field, n, name) == 0;
}

static int is_blank_line(const stralloc *sa)
{
  return (sa->len == 1 && sa->s[0] == '\n') ||
         (sa->len == 2 && sa->s[0] == '\r' && sa->s[1] == '\n');
}

/* continuation: append folded lines that follow (they start with SP/HT). */
static int continuation(buffer *b, stralloc *field, size_t fieldcap)
{
  stralloc line = {0};
  char c;
  int r = HDR_FIELD;
  while (getln_peek(b, &c) == 1 && (c == ' ' || c == '\t')) {
    int g = getln(b, &line, fieldcap - field->len + 1);
    if (g == GETLN_ERR) { r = HDR_ERR; break; }
    if (g == GETLN_NOMEM || !stralloc_cat(field, &line)) { r = HDR_NOMEM; break; }
    if (g == GETLN_TOOLONG || field->len > fieldcap) { r = HDR_TOOLONG; break; }
  }
  stralloc_free(&line);
  return r;
}

int hdr_read(buffer *b, stralloc *field, size_t fieldcap)
{
  int g = getln(b, field, fieldcap);
  if (g == GETLN_ERR) return HDR_ERR;
  if (g == GETLN_NOMEM) return HDR_NOMEM;
  if (g == GETLN_TOOLONG) return HDR_TOOLONG;
  if (field->len == 0 || is_blank_line(field)) return HDR_END;
  if (!hdr_namelen(field->s, field->len)) return HDR_BODY;
  if (g == GETLN_EOF) return HDR_FIELD;
  return continuation(b, field, fieldcap);
}
