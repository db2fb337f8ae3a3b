/* dotqmail.c: .qmail line classification and .qmail-ext lookup order;
 * the contract is in dotqmail.h. */
#include <string.h>
#include "dotqmail.h"

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

void dotqmail_parse(const char *line, size_t len, struct dq_line *out)
{
  out->type = DQ_COMMENT;
  out->arg = line;
  out->len = 0;
  if (!len || line[0] == '#') return;
  if (line[0] == '|') {
    out->type = DQ_PROGRAM;
    out->arg = line + 1;
    out->len = len - 1;
  } else {
    while (len && blank(line[len - 1])) --len;
    if (!len) return;
    out->arg = line;
    out->len = len;
    if (line[0] == '/' || line[0] == '.')
      out->type = line[len - 1] == '/' ? DQ_MAILDIR : DQ_MBOX;
    else {
      out->type = DQ_FORWARD;
      if (line[0] == '&') { ++out->arg; --out->len; }
    }
  }
  if (!out->len) out->type = DQ_COMMENT;
}

int dotqmail_split(const char *text, size_t len,
                   int (*fn)(const struct dq_line *, void *), void *arg)
{
  struct dq_line l;
  size_t i = 0;
  int r;
  while (i < len) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - text) : len;
    dotqmail_parse(text + i, end - i, &l);
    if ((r = fn(&l, arg))) return r;
    i = end + 1;
  }
  return 0;
}

/* catext: append ext[0..n) lowercased, '.' as ':'. */
static int catext(stralloc *sa, const char *ext, size_t n)
{
  size_t i;
  for (i = 0; i < n; ++i) {
    char c = ext[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c == '.') c = ':';
    if (!stralloc_append(sa, &c)) return 0;
  }
  return 1;
}

/* nthcut: the prefix length kept by the i-th default name (i >= 1):
 * positions just after each '-' in ext from the right, then 0.
 * Returns 1 and *keep, or 0 when there is none. */
static int nthcut(const char *ext, size_t len, size_t i, size_t *keep)
{
  size_t k = len;
  while (k > 0) {
    if (ext[k - 1] == '-' && --i == 0) { *keep = k; return 1; }
    --k;
  }
  if (--i == 0) { *keep = 0; return 1; }
  return 0;
}

int dotqmail_candidate(stralloc *name, const char *dash, const char *ext,
                       size_t i, size_t *defpos)
{
  size_t len = strlen(ext), keep = len;
  if (i > 0 && (!len || !nthcut(ext, len, i, &keep))) return 0;
  if (!stralloc_copys(name, ".qmail") || !stralloc_cats(name, dash) ||
      !catext(name, ext, keep))
    return -1;
  if (i > 0 && !stralloc_cats(name, "default")) return -1;
  if (!stralloc_0(name)) return -1;
  *defpos = keep;
  return 1;
}

int dotqmail_name(stralloc *name, const char *dash, const char *ext, const char *suffix)
{
  if (!stralloc_copys(name, ".qmail") || !stralloc_cats(name, dash) ||
      !catext(name, ext, strlen(ext)) || !stralloc_cats(name, suffix) || !stralloc_0(name))
    return -1;
  return 0;
}

int dotqmail_newsender(stralloc *out, const char *sender, const char *local,
                       const char *domain, int owner)
{
  int bounce = !*sender || !strcmp(sender, "#@[]");
  if (owner == DQ_OWNER_NONE || bounce)
    return stralloc_copys(out, sender) && stralloc_0(out) ? 0 : -1;
  if (!stralloc_copys(out, local) || !stralloc_cats(out, owner == DQ_OWNER_VERP ? "-owner-@" : "-owner@") ||
      !stralloc_cats(out, domain) || (owner == DQ_OWNER_VERP && !stralloc_cats(out, "-@[]")) ||
      !stralloc_0(out))
    return -1;
  return 0;
}
