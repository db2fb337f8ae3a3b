/* fwdfile.c: the aliases / .forward / :include: syntax and its
 * translation into .qmail lines; the contract is in fwdfile.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "fwdfile.h"

static int blank(char c) { return c == ' ' || c == '\t'; }

void fwd_reader_init(struct fwd_reader *r, const char *text, size_t len)
{
  r->text = text;
  r->len = len;
  r->pos = 0;
  r->line = 0;
  r->next = 1;
}

/* physical: the line at r->pos: its end (without '\n' and a CR before it)
 * in *end, and where the next one starts in *after. */
static void physical(const struct fwd_reader *r, size_t *end, size_t *after)
{
  const char *nl = memchr(r->text + r->pos, '\n', r->len - r->pos);
  size_t e = nl ? (size_t)(nl - r->text) : r->len;
  *after = nl ? e + 1 : e;
  if (e > r->pos && r->text[e - 1] == '\r') --e;
  *end = e;
}

int fwd_logical(struct fwd_reader *r, stralloc *sa, const char **why)
{
  int have = 0;
  sa->len = 0;
  while (r->pos < r->len) {
    size_t end, after, i;
    const char *p = r->text + r->pos;
    physical(r, &end, &after);
    for (i = r->pos; i < end && blank(r->text[i]); ++i) {}
    if (i == end || *p == '#') { /* blank or comment line: skipped */ }
    else if (memchr(p, '\0', end - r->pos)) { r->line = r->next; *why = "a NUL byte"; return -2; }
    else if (blank(*p)) {
      if (!have) { r->line = r->next; *why = "a continuation line with no line before it"; return -2; }
      if (!stralloc_append(sa, " ") || !stralloc_catb(sa, r->text + i, end - i)) return -1;
    } else if (have) return 1;
    else {
      have = 1;
      r->line = r->next;
      if (!stralloc_copyb(sa, p, end - r->pos)) return -1;
    }
    if (sa->len > FWD_LINE_MAX) { *why = "a line longer than 65536 bytes"; return -2; }
    r->pos = after;
    ++r->next;
  }
  return have;
}

/* ---- one entry ---- */

/* unquote: s[0..n) is "..." as a whole: out = its content, \x as x. */
static int unquote(const char *s, size_t n, stralloc *out)
{
  size_t i;
  out->len = 0;
  for (i = 1; i + 1 < n; ++i) {
    if (s[i] == '\\' && i + 2 < n) ++i;
    if (!stralloc_append(out, s + i)) return 0;
  }
  return 1;
}

/* wholequoted: s[0..n) is one quoted string, nothing after it. */
static int wholequoted(const char *s, size_t n)
{
  size_t i;
  if (n < 2 || s[0] != '"') return 0;
  for (i = 1; i < n; ++i) {
    if (s[i] == '\\') { ++i; continue; }
    if (s[i] == '"') return i == n - 1;
  }
  return 0;
}

static int add(stralloc *out, char kind, const char *s, size_t n)
{
  return stralloc_append(out, &kind) && stralloc_catb(out, s, n) && stralloc_0(out);
}

/* address: s[0..n) (with "<addr>" taken from inside the brackets) in
 * envelope form: quotes and their backslashes removed. 1, 0 (*why), -1. */
static int address(const char *s, size_t n, stralloc *out, const char **why)
{
  stralloc a = {0};
  const char *lt = memchr(s, '<', n), *at;
  size_t i;
  int inq = 0, r = 0;
  if (lt) {
    if (s[n - 1] != '>') { *why = "a '<' without a '>' at the end of the entry"; return 0; }
    n = (size_t)(s + n - 1 - (lt + 1));
    s = lt + 1;
  }
  for (i = 0; i < n; ++i) {
    char c = s[i];
    if (c == '"') { inq = !inq; continue; }
    if (inq && c == '\\' && i + 1 < n) c = s[++i];
    else if (!inq && (blank(c) || c == '<' || c == '>')) { *why = "a blank or bracket inside an address"; goto done; }
    if (!stralloc_append(&a, &c)) { r = -1; goto done; }
  }
  if (inq) { *why = "an unterminated quote"; goto done; }
  if (!a.len) { *why = "an empty address"; goto done; }
  at = memrchr(a.s, '@', a.len);
  if (at && (at == a.s || at == a.s + a.len - 1)) { *why = "an address with an empty local part or domain"; goto done; }
  r = add(out, '&', a.s, a.len) ? 1 : -1;
done:
  stralloc_free(&a);
  return r;
}

/* localname: a bare local name for \user: no '@', blank or quote. */
static int localname(const char *s, size_t n)
{
  size_t i;
  if (!n) return 0;
  for (i = 0; i < n; ++i)
    if (s[i] == '@' || s[i] == '"' || blank(s[i])) return 0;
  return 1;
}

/* entry: one entry s[0..n), blanks around it already dropped. */
static int entry(const char *s, size_t n, stralloc *out, const char **why)
{
  stralloc t = {0};
  size_t i;
  int r = 0;
  if (wholequoted(s, n)) {
    if (!unquote(s, n, &t)) return -1;
    s = t.s;
    n = t.len;
    while (n && blank(*s)) { ++s; --n; }
    while (n && blank(s[n - 1])) --n;
    if (!n) { *why = "an empty quoted entry"; goto done; }
  }
  if (n > FWD_ENTRY_MAX) { *why = "an entry longer than 1000 bytes"; goto done; }
  for (i = 0; i < n; ++i)
    if ((unsigned char)s[i] < 32 && s[i] != '\t') { *why = "a control character"; goto done; }
    else if (s[i] == 127) { *why = "a control character"; goto done; }
  if (*s == '|') {
    for (i = 1; i < n && blank(s[i]); ++i) {}
    if (i == n) { *why = "an empty |command"; goto done; }
    r = add(out, '|', s + i, n - i) ? 1 : -1;
  } else if (*s == '/') {
    r = add(out, '/', s, n) ? 1 : -1;
  } else if (n >= 9 && !strncasecmp(s, ":include:", 9)) {
    for (i = 9; i < n && blank(s[i]); ++i) {}
    if (i == n || s[i] != '/') { *why = "an :include: without an absolute path"; goto done; }
    r = add(out, ':', s + i, n - i) ? 1 : -1;
  } else if (*s == '\\') {
    if (!localname(s + 1, n - 1)) { *why = "a \\user that is not a plain local name"; goto done; }
    r = add(out, '\\', s + 1, n - 1) ? 1 : -1;
  } else r = address(s, n, out, why);
done:
  stralloc_free(&t);
  return r;
}

int fwd_entries(const char *s, size_t len, stralloc *out, size_t *count, const char **why)
{
  size_t i = 0, start = 0, a, b;
  int inq = 0, r;
  for (i = 0; i <= len; ++i) {
    if (i < len) {
      if (inq && s[i] == '\\') { ++i; continue; }
      if (s[i] == '"') inq = !inq;
      if (inq || s[i] != ',') continue;
    }
    if (inq) { *why = "an unterminated quote"; return 0; }
    for (a = start; a < i && blank(s[a]); ++a) {}
    for (b = i; b > a && blank(s[b - 1]); --b) {}
    start = i + 1;
    if (a == b) continue;  /* an empty entry (",," or a last ','): nothing */
    if (++*count > FWD_ENTRIES_MAX) { *why = "more than 1000 entries"; return 0; }
    if ((r = entry(s + a, b - a, out, why)) != 1) return r;
  }
  return 1;
}

/* ---- aliases lines and whole lists ---- */

/* names: compiled entry e (kind and text) is name itself. */
static int names(const char *e, const char *name)
{
  return (*e == '&' || *e == '\\') && !strcasecmp(e + 1, name);
}

int fwd_alias(const char *s, size_t len, stralloc *name, stralloc *entries, const char **why)
{
  size_t i = 0, n, count = 0, k;
  int r;
  if (len && s[0] == '"') {
    for (i = 1; i < len && s[i] != '"'; ++i) {}
    if (i == len) { *why = "an unterminated quote in the alias name"; return 0; }
    if (!stralloc_copyb(name, s + 1, i - 1)) return -1;
    for (++i; i < len && blank(s[i]); ++i) {}
    if (i == len || s[i] != ':') { *why = "no ':' after the alias name"; return 0; }
  } else {
    for (i = 0; i < len && s[i] != ':'; ++i) {}
    if (i == len) { *why = "no ':' after the alias name"; return 0; }
    for (n = i; n && blank(s[n - 1]); --n) {}
    if (!stralloc_copyb(name, s, n)) return -1;
    for (k = 0; k < n; ++k)
      if (blank(s[k])) { *why = "a blank in the alias name (quote it)"; return 0; }
  }
  if (!name->len) { *why = "an empty alias name"; return 0; }
  if (name->len > FWD_NAME_MAX) { *why = "an alias name longer than 1000 bytes"; return 0; }
  for (k = 0; k < name->len; ++k) {
    unsigned char c = (unsigned char)name->s[k];
    if (c < 32 || c == 127 || c == '@') { *why = "an '@' or a control character in the alias name"; return 0; }
    if (c >= 'A' && c <= 'Z') name->s[k] = (char)(c + 32);
  }
  if (!stralloc_0(name)) return -1;
  entries->len = 0;
  if ((r = fwd_entries(s + i + 1, len - i - 1, entries, &count, why)) != 1) return r;
  if (!count) { *why = "an alias with no entry"; return 0; }
  for (k = 0; k < entries->len; k += strlen(entries->s + k) + 1)
    if (names(entries->s + k, name->s)) { *why = "an alias that names itself (a loop)"; return 0; }
  return 1;
}

int fwd_list(const char *text, size_t len, stralloc *out, unsigned long *line, const char **why)
{
  struct fwd_reader rd;
  stralloc l = {0};
  size_t count = 0;
  int r;
  fwd_reader_init(&rd, text, len);
  for (;;) {
    r = fwd_logical(&rd, &l, why);
    if (r == 0) { r = 1; break; }  /* the end */
    if (r == -2) { r = 0; break; }
    if (r == -1) break;
    if ((r = fwd_entries(l.s, l.len, out, &count, why)) != 1) break;
  }
  *line = rd.line;
  stralloc_free(&l);
  return r;
}

/* ---- .qmail lines ---- */

static stralloc msg;  /* the text of a composed *why */

/* include: the .qmail lines of the :include: file path. */
static int include(const char *path, struct fwd_expand *x, stralloc *out,
                   size_t *count, int depth, const char **why)
{
  stralloc text = {0}, e = {0};
  unsigned long line = 0;
  char num[24];
  int r;
  if (depth >= FWD_DEPTH_MAX) { *why = ":include: files nested more than 5 deep"; return 0; }
  if (!x->readinc || (r = x->readinc(path, &text, why, x->arg)) != 1) {
    if (!x->readinc) *why = "no :include: here";
    stralloc_free(&text);
    return 0;
  }
  r = fwd_list(text.s, text.len, &e, &line, why);
  if (r == 0) {
    int n = snprintf(num, sizeof num, "%lu", line);
    if (n < 0 || !stralloc_copys(&msg, path) || !stralloc_cats(&msg, " line ") ||
        !stralloc_cats(&msg, num) || !stralloc_cats(&msg, ": ") ||
        !stralloc_cats(&msg, *why) || !stralloc_0(&msg)) r = -1;
    else *why = msg.s;
  }
  if (r == 1) r = fwd_qmail(e.s, e.len, x, out, count, depth + 1, why);
  stralloc_free(&text);
  stralloc_free(&e);
  return r;
}

/* local: a bare name or \name: the default delivery when it is the
 * .forward's own user, else name@domain. */
static int local(const char *name, struct fwd_expand *x, stralloc *out)
{
  if ((x->self && !strcasecmp(name, x->self)) || (x->self2 && !strcasecmp(name, x->self2))) {
    if (x->usedself) return 1;
    x->usedself = 1;
    return stralloc_cats(out, x->deflt);
  }
  return stralloc_cats(out, "&") && stralloc_cats(out, name) && stralloc_cats(out, "@") &&
         stralloc_cats(out, x->domain) && stralloc_cats(out, "\n");
}

int fwd_qmail(const char *e, size_t len, struct fwd_expand *x, stralloc *out,
              size_t *count, int depth, const char **why)
{
  size_t i;
  int r;
  for (i = 0; i < len; i += strlen(e + i) + 1) {
    const char *t = e + i + 1;
    if (++*count > FWD_ENTRIES_MAX) { *why = "more than 1000 entries"; return 0; }
    if (e[i] == ':') {
      if ((r = include(t, x, out, count, depth, why)) != 1) return r;
      continue;
    }
    if (e[i] == '\\' || (e[i] == '&' && !strchr(t, '@'))) r = local(t, x, out);
    else r = (e[i] == '/' || stralloc_append(out, e + i)) &&  /* a path has its '/' */
             stralloc_cats(out, t) && stralloc_cats(out, "\n");
    if (!r) return -1;
  }
  return 1;
}
