/* tests/fuzz/fuzz_fwdfile.c: libFuzzer harness for hub/local/fwdfile.c,
 * the /etc/aliases, ~/.forward and :include: syntax (hostile input: a
 * user's .forward, an include file). The input is read three ways:
 *  - as an aliases file: every logical line through fwd_alias;
 *  - as a .forward: fwd_list, then fwd_qmail with an include reader that
 *    answers every :include: with the input itself (so includes nest until
 *    the depth cap);
 * Checks: a compiled entry starts with one of the five kind bytes, holds
 * no byte below 32 but TAB and no DEL, is at most FWD_ENTRY_MAX bytes and
 * ends in NUL; an alias name is lowercase, has no '@' and no control
 * byte; every .qmail line made starts with '&', '|' or '/', or is the
 * default delivery, holds no NUL and ends in '\n'; at most FWD_ENTRIES_MAX
 * entries come out; a refusal always has a reason.
 * Build: make fuzz-build (clang, -fsanitize=fuzzer,address,undefined). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stralloc.h"
#include "fwdfile.h"

static const char *in;
static size_t inlen;

static int readinc(const char *path, stralloc *text, const char **why, void *arg)
{
  (void)path; (void)arg;
  if (!stralloc_copyb(text, in, inlen)) { *why = "no memory"; return 0; }
  return 1;
}

static void check_entries(const stralloc *e)
{
  size_t i, n;
  for (i = 0; i < e->len; i += n + 1) {
    const char *s = e->s + i;
    size_t k;
    if (!memchr(s, 0, e->len - i)) abort();
    n = strlen(s);
    if (!strchr("&|/:\\", s[0]) || n < 2 || n - 1 > FWD_ENTRY_MAX) abort();
    for (k = 1; k < n; ++k)
      if (((unsigned char)s[k] < 32 && s[k] != '\t') || s[k] == 127) abort();
  }
}

static void check_name(const stralloc *name)
{
  size_t i;
  if (!name->len || name->s[name->len - 1]) abort();
  for (i = 0; i + 1 < name->len; ++i) {
    unsigned char c = (unsigned char)name->s[i];
    if (c < 32 || c == 127 || c == '@' || (c >= 'A' && c <= 'Z')) abort();
  }
}

static void check_qmail(const stralloc *q)
{
  size_t i = 0, lines = 0;
  if (memchr(q->s, 0, q->len)) abort();
  if (q->len && q->s[q->len - 1] != '\n') abort();
  while (i < q->len) {
    const char *nl = memchr(q->s + i, '\n', q->len - i);
    if (!nl) abort();
    if (!(q->s[i] == '&' || q->s[i] == '|' || q->s[i] == '/' ||
          ((size_t)(nl - q->s) - i == 10 && !memcmp(q->s + i, "./Maildir/", 10)))) abort();
    ++lines;
    i = (size_t)(nl - q->s) + 1;
  }
  if (lines > FWD_ENTRIES_MAX) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
  struct fwd_reader r;
  stralloc l = {0}, name = {0}, e = {0}, q = {0};
  const char *why = 0;
  unsigned long line = 0;
  size_t count = 0;
  int x;
  in = (const char *)data;
  inlen = len;
  fwd_reader_init(&r, in, inlen);
  while ((x = fwd_logical(&r, &l, &why)) == 1) {
    why = 0;
    x = fwd_alias(l.s, l.len, &name, &e, &why);
    if (x == 1) { check_name(&name); check_entries(&e); }
    else if (x == 0 && !why) abort();
  }
  if (x == -2 && !why) abort();
  e.len = 0;
  why = 0;
  x = fwd_list(in, inlen, &e, &line, &why);
  if (x == 0 && !why) abort();
  if (x == 1) {
    struct fwd_expand xp = { .domain = "example.org", .self = "joe", .self2 = "joe",
                             .deflt = "./Maildir/\n", .readinc = readinc };
    check_entries(&e);
    why = 0;
    x = fwd_qmail(e.s, e.len, &xp, &q, &count, 0, &why);
    if (x == 1) check_qmail(&q);
    else if (x == 0 && !why) abort();
  }
  stralloc_free(&l); stralloc_free(&name); stralloc_free(&e); stralloc_free(&q);
  return 0;
}
