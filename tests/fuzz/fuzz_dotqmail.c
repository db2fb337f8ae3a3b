/* tests/fuzz/fuzz_dotqmail.c: libFuzzer harness for hub/local/dotqmail.c, what
 * qmail-local makes of a .qmail file and of an address extension. The
 * input is "dash\0ext\0sender\0" (any missing part is empty) followed by
 * the .qmail text; the first byte of the dash part also picks at which line
 * the split's callback stops. Checks, beyond "no crash, no leak, no
 * undefined behaviour":
 *  - dotqmail_split calls back once per line, in order, each line exactly
 *    the bytes between LFs (a last line without LF counts), and stops with
 *    the callback's value;
 *  - dotqmail_parse's argument lies inside its line: a comment has none, a
 *    program is everything after '|', a mailbox or maildir starts with '.'
 *    or '/' (a maildir ends in '/', a mailbox not), a forward is the line
 *    without a leading '&'; none but a program ends in a blank or CR, and
 *    none is empty;
 *  - dotqmail_candidate gives the exact name, then one "-default" name per
 *    '-' in ext from the right, then dash "default" (nothing but the exact
 *    name for an empty ext); each starts ".qmail" dash, is ext lowercased
 *    with '.' as ':' up to defpos, and holds no '.' after ".qmail" that
 *    was not in dash;
 *  - dotqmail_name and dotqmail_newsender follow their contracts.
 * Build: make fuzz-build (links hub/local/dotqmail.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stralloc.h"
#include "dotqmail.h"

struct walk {
  const char *text;
  size_t len, pos, lines, stop;
};

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void check_line(const char *line, size_t len, const struct dq_line *l)
{
  if (l->arg < line || l->arg + l->len > line + len) abort();
  switch (l->type) {
  case DQ_COMMENT:
    if (l->len) abort();
    break;
  case DQ_PROGRAM:
    if (line[0] != '|' || l->arg != line + 1 || l->len != len - 1 || !l->len) abort();
    break;
  case DQ_MBOX:
  case DQ_MAILDIR:
    if (l->arg != line || (line[0] != '.' && line[0] != '/') || !l->len) abort();
    if ((l->arg[l->len - 1] == '/') != (l->type == DQ_MAILDIR)) abort();
    if (blank(l->arg[l->len - 1])) abort();
    break;
  case DQ_FORWARD:
    if (!l->len || blank(l->arg[l->len - 1])) abort();
    if (line[0] && strchr("#|./", line[0])) abort();
    if (l->arg != line + (line[0] == '&')) abort();
    break;
  default:
    abort();
  }
  /* nothing but blanks was dropped from the end, for all but programs */
  if (l->type != DQ_PROGRAM && l->type != DQ_COMMENT) {
    const char *e;
    for (e = l->arg + l->len; e < line + len; ++e) if (!blank(*e)) abort();
  }
}

static int each(const struct dq_line *l, void *arg)
{
  struct walk *w = arg;
  const char *line = w->text + w->pos;
  const char *nl = memchr(line, '\n', w->len - w->pos);
  size_t len = nl ? (size_t)(nl - line) : w->len - w->pos;
  struct dq_line again;
  if (w->pos >= w->len) abort();               /* no call past the end */
  check_line(line, len, l);
  dotqmail_parse(line, len, &again);
  if (again.type != l->type || again.arg != l->arg || again.len != l->len) abort();
  w->pos += len + 1;
  if (++w->lines == w->stop) return 7;
  return 0;
}

static void check_split(const char *text, size_t len, size_t stop)
{
  struct walk w = { text, len, 0, 0, stop };
  size_t nlines = 0, i;
  int r = dotqmail_split(text, len, each, &w);
  for (i = 0; i < len; ++i) if (text[i] == '\n' || i == len - 1) ++nlines;
  if (stop && stop <= nlines) {
    if (r != 7 || w.lines != stop) abort();
  } else if (r != 0 || w.lines != nlines) {
    abort();
  }
}

/* ext_ok: name[from..] is ext[0..n) lowercased, '.' as ':'. */
static void check_ext(const char *name, const char *ext, size_t n)
{
  size_t i;
  for (i = 0; i < n; ++i) {
    char c = ext[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c == '.') c = ':';
    if (name[i] != c) abort();
  }
}

static void check_candidates(const char *dash, const char *ext)
{
  stralloc name = {0, 0, 0};
  size_t dl = strlen(dash), el = strlen(ext), want = 1, i, defpos, prev = el + 1;
  int r;
  if (el) for (want = 2, i = 0; i < el; ++i) want += ext[i] == '-';
  for (i = 0; (r = dotqmail_candidate(&name, dash, ext, i, &defpos)) == 1; ++i) {
    const char *dot;
    if (i >= want) abort();
    if (!name.len || name.s[name.len - 1] || strlen(name.s) != name.len - 1) abort();
    if (strncmp(name.s, ".qmail", 6) || memcmp(name.s + 6, dash, dl)) abort();
    if (defpos > el || (i > 0 && defpos >= prev)) abort();  /* shorter each time */
    if (i > 0) prev = defpos;
    check_ext(name.s + 6 + dl, ext, defpos);
    if (i == 0) {
      if (defpos != el || name.len != 6 + dl + el + 1) abort();
    } else {
      if (defpos && ext[defpos - 1] != '-') abort();
      if (name.len != 6 + dl + defpos + 8 || strcmp(name.s + 6 + dl + defpos, "default")) abort();
    }
    dot = memchr(name.s + 6 + dl, '.', name.len - 6 - dl);
    if (dot) abort();
  }
  if (r != 0 || i != want) abort();
  stralloc_free(&name);
}

static void check_newsender(const char *sender, const char *local, const char *domain)
{
  stralloc out = {0, 0, 0};
  int owner, bounce = !*sender || !strcmp(sender, "#@[]");
  for (owner = DQ_OWNER_NONE; owner <= DQ_OWNER_VERP; ++owner) {
    if (dotqmail_newsender(&out, sender, local, domain, owner)) abort();
    if (!out.len || out.s[out.len - 1] || strlen(out.s) != out.len - 1) abort();
    if (owner == DQ_OWNER_NONE || bounce) {
      if (strcmp(out.s, sender)) abort();
    } else {
      size_t ll = strlen(local);
      const char *mid = owner == DQ_OWNER_VERP ? "-owner-@" : "-owner@";
      if (strncmp(out.s, local, ll) || strncmp(out.s + ll, mid, strlen(mid))) abort();
      if (owner == DQ_OWNER_VERP && strcmp(out.s + out.len - 5, "-@[]")) abort();
    }
  }
  stralloc_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *copy = malloc(size + 3);
  const char *part[3], *text;
  stralloc name = {0, 0, 0};
  size_t pos = 0, k, len;
  if (!copy) abort();
  memcpy(copy, data, size);
  copy[size] = copy[size + 1] = copy[size + 2] = 0;
  for (k = 0; k < 3; ++k) {                    /* dash, ext, sender */
    part[k] = copy + pos;
    pos += strlen(copy + pos) + 1;
    if (pos > size) pos = size;
  }
  text = copy + pos;
  len = size - pos;
  check_split(text, len, part[0][0] ? (unsigned char)part[0][0] % 8 : 0);
  check_candidates(part[0], part[1]);
  if (dotqmail_name(&name, part[0], part[1], "-owner")) abort();
  if (strncmp(name.s, ".qmail", 6) || strcmp(name.s + name.len - 7, "-owner")) abort();
  check_newsender(part[2], part[1], part[0]);
  stralloc_free(&name);
  free(copy);
  return 0;
}
