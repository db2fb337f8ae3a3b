/* tests/fuzz/fuzz_rreply.c: libFuzzer harness for hub/remote/rreply.c, the SMTP
 * reply parser of qmail-remote. The first input byte picks the chunk size
 * the server's bytes arrive in; the rest is what the server sends: replies
 * back to back, as a pipelining server answers. Each reply (at most 100)
 * is parsed with rreply_feed until the input ends or a protocol error. Checks, beyond
 * "no crash, no leak, no undefined behaviour", against a model written
 * here that splits the input at LF:
 *  - a line must be three digits then nothing, ' ', '-' or CR; a line of
 *    another shape is RREPLY_BAD; the reply ends at its first line that is
 *    not "DDD-..."; the code is that line's three digits;
 *  - the text is every line (one CR before the LF dropped, bytes outside
 *    printable ASCII as '?') joined by " / ", cut at RREPLY_TEXTMAX with
 *    "..." after it; it is NUL-terminated and printable;
 *  - the online callback sees each line's text while nothing was cut;
 *  - rreply_class is 2..5; the chunking never changes the outcome.
 * Build: make fuzz-build (links hub/remote/rreply.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stralloc.h"
#include "rreply.h"

static void cat(stralloc *sa, const char *s, size_t n)
{
  if (!stralloc_catb(sa, s, n)) abort();
}

static void cat_clean(stralloc *sa, const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    char k = c < 32 || c > 126 ? '?' : (char)c;
    cat(sa, &k, 1);
  }
}

static int digit(char c) { return c >= '0' && c <= '9'; }

/* model: the reply at p[0..n): RREPLY_DONE (code, full text, each line's
 * text with a NUL after it, *used), RREPLY_BAD or RREPLY_MORE. */
static int model(const char *p, size_t n, int *code, stralloc *text, stralloc *lines,
                 size_t *used)
{
  size_t pos = 0;
  text->len = lines->len = 0;
  for (;;) {
    const char *nl = memchr(p + pos, '\n', n - pos);
    size_t end = nl ? (size_t)(nl - p) : n, len = end - pos, i;
    for (i = 0; i < 3 && i < len; ++i)
      if (!digit(p[pos + i])) { *used = pos + i + 1; return RREPLY_BAD; }
    if (len > 3 && p[pos + 3] != ' ' && p[pos + 3] != '-' && p[pos + 3] != '\r') {
      *used = pos + 4;
      return RREPLY_BAD;
    }
    if (!nl) return RREPLY_MORE;
    if (len < 3) { *used = end + 1; return RREPLY_BAD; }
    if (text->len) cat(text, " / ", 3);
    if (p[end - 1] == '\r') --len;
    cat_clean(text, p + pos, len);
    cat_clean(lines, p + pos, len);
    cat(lines, "", 1);
    *code = (p[pos] - '0') * 100 + (p[pos + 1] - '0') * 10 + (p[pos + 2] - '0');
    *used = end + 1;
    if (end - pos == 3 || p[pos + 3] != '-') return RREPLY_DONE;
    pos = end + 1;
  }
}

struct seen { stralloc lines; };

static void online(void *ctx, const char *line, size_t len)
{
  struct seen *s = ctx;
  cat(&s->lines, line, len);
  cat(&s->lines, "", 1);
}

/* parse: feed p[0..n) in chunks; the outcome and the bytes used. */
static int parse(struct rreply *r, struct seen *s, const char *p, size_t n, size_t chunk,
                 size_t *used)
{
  size_t pos = 0;
  rreply_start(r);
  r->online = online;
  r->ctx = s;
  while (pos < n) {
    size_t k = n - pos < chunk ? n - pos : chunk, u = 0;
    int st = rreply_feed(r, p + pos, k, &u);
    if (u > k || (st == RREPLY_MORE && u != k) || (st != RREPLY_MORE && u == 0)) abort();
    pos += u;
    if (st != RREPLY_MORE) { *used = pos; return st; }
  }
  *used = n;
  return RREPLY_MORE;
}

static void check_text(const struct rreply *r, const stralloc *want)
{
  size_t i, keep = want->len > RREPLY_TEXTMAX ? RREPLY_TEXTMAX : want->len;
  if (r->text[r->textlen] || strlen(r->text) != r->textlen) abort();
  for (i = 0; i < r->textlen; ++i)
    if (r->text[i] < 32 || r->text[i] > 126) abort();
  if (memcmp(r->text, want->s, keep)) abort();
  if (want->len > RREPLY_TEXTMAX) {
    if (r->textlen != RREPLY_TEXTMAX + 3 || memcmp(r->text + keep, "...", 3)) abort();
  } else if (r->textlen != want->len) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct rreply r, r1;
  struct seen s = {{0, 0, 0}}, s1 = {{0, 0, 0}};
  stralloc text = {0, 0, 0}, lines = {0, 0, 0};
  const char *p = (const char *)data + 1;
  size_t n, chunk, k;
  if (size < 1) return 0;
  n = size - 1;
  chunk = 1 + (data[0] & 0x7f) * (data[0] & 0x80 ? 50 : 1);
  for (k = 0; n && k < 100; ++k) {   /* replies: each start clears 4 KB */
    size_t used = 0, u = 0, u1 = 0;
    int code = 0;
    int m = model(p, n, &code, &text, &lines, &used);
    int st;
    s.lines.len = s1.lines.len = 0;
    st = parse(&r, &s, p, n, chunk, &u);
    if (parse(&r1, &s1, p, n, n, &u1) != st || u1 != u) abort();
    if (st != m) abort();
    if (rreply_class(r.code) < 2 || rreply_class(r.code) > 5) abort();
    if (st == RREPLY_MORE) break;
    if (u != used) abort();
    if (st == RREPLY_BAD) { if (r.code) abort(); break; }
    if (r.code != code || r1.code != code) abort();
    check_text(&r, &text);
    if (strcmp(r.text, r1.text)) abort();
    if (!r.cut && (s.lines.len != lines.len || memcmp(s.lines.s, lines.s, lines.len))) abort();
    if (s1.lines.len != s.lines.len || (s.lines.len && memcmp(s1.lines.s, s.lines.s, s.lines.len)))
      abort();
    p += u;
    n -= u;
  }
  stralloc_free(&text);
  stralloc_free(&lines);
  stralloc_free(&s.lines);
  stralloc_free(&s1.lines);
  return 0;
}
