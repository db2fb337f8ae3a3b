/* tests/fuzz/fuzz_header.c: libFuzzer harness for common/q_header.c and
 * common/q_getln.c. The first input byte picks a small field cap (1..256),
 * the rest is a header block. hdr_read runs until HDR_END, HDR_BODY or an
 * error, once over buffer_frombuf and once over a small buffer refilled a
 * few bytes at a time (the chunk size also comes from the input). Checks:
 *  - every field is 1..cap bytes, has a name (hdr_namelen > 0), hdr_value
 *    points just past a ':' inside the field, hdr_is matches its own name,
 *    and every '\n' but a final one is followed by SP or HT (folding);
 *  - fields are exact copies of the input, in order, with nothing skipped;
 *    HDR_END is at a blank line or the end; HDR_BODY's line is not a field;
 *  - both buffer kinds give the same sequence of results and fields;
 *  - getln over the same input gives lines of at most cap bytes that join
 *    back to the input exactly.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Dpure= -D_GNU_SOURCE
 *        -Icommon tests/fuzz/fuzz_header.c common/q_*.c -l:libowfat.a */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buffer.h"
#include "stralloc.h"
#include "q_getln.h"
#include "q_header.h"

const char auto_home[] = "/nonexistent";

/* a memory source handed out chunk bytes per read */
static const char *src;
static size_t srclen, srcpos, chunk;

static ssize_t chunk_op(int fd, char *buf, size_t len, void *b)
{
  size_t k = srclen - srcpos;
  (void)fd; (void)b;
  if (k > chunk) k = chunk;
  if (k > len) k = len;
  memcpy(buf, src + srcpos, k);
  srcpos += k;
  return (ssize_t)k;
}

static void check_field(const stralloc *f, size_t cap)
{
  size_t nl, v, i;
  char name[300];
  if (f->len == 0 || f->len > cap) abort();
  nl = hdr_namelen(f->s, f->len);
  if (nl == 0 || nl >= f->len) abort();
  v = hdr_value(f->s, f->len);
  if (v <= nl || v > f->len || f->s[v - 1] != ':') abort();
  if (nl < sizeof name) {
    memcpy(name, f->s, nl);
    name[nl] = 0;
    if (!memchr(name, 0, nl) && !hdr_is(f->s, f->len, name)) abort();
  }
  for (i = 0; i + 1 < f->len; ++i)
    if (f->s[i] == '\n' && f->s[i + 1] != ' ' && f->s[i + 1] != '\t') abort();
}

/* walk: hdr_read to the end; record results and fields into log */
static void walk(buffer *b, const char *in, size_t n, size_t cap, stralloc *log)
{
  stralloc f = {0, 0, 0};
  size_t off = 0;
  int r;
  for (;;) {
    char rc;
    r = hdr_read(b, &f, cap);
    rc = (char)('0' + r + 3);
    if (!stralloc_append(log, &rc)) abort();
    if (r == HDR_FIELD) {
      check_field(&f, cap);
      if (off + f.len > n || memcmp(in + off, f.s, f.len)) abort();
      off += f.len;
      if (!stralloc_cat(log, &f) || !stralloc_append(log, "")) abort();
      continue;
    }
    break;
  }
  if (r == HDR_END) {
    size_t rest = n - off;
    int blank = (rest >= 1 && in[off] == '\n') ||
                (rest >= 2 && in[off] == '\r' && in[off + 1] == '\n');
    if (rest && !blank) abort();
  } else if (r == HDR_BODY) {
    if (f.len == 0 || f.len > cap || off + f.len > n || memcmp(in + off, f.s, f.len)) abort();
    if (hdr_namelen(f.s, f.len)) abort();
  } else if (r != HDR_TOOLONG) abort();   /* memory input: no HDR_ERR */
  stralloc_free(&f);
}

static void lines(const char *in, size_t n, size_t cap)
{
  buffer b;
  stralloc l = {0, 0, 0};
  size_t off = 0;
  int r;
  buffer_frombuf(&b, in, n);
  for (;;) {
    r = getln(&b, &l, cap);
    if (l.len > cap || off + l.len > n || memcmp(in + off, l.s, l.len)) abort();
    off += l.len;
    if (r == GETLN_LINE) {
      if (l.s[l.len - 1] != '\n' || memchr(l.s, '\n', l.len - 1)) abort();
    } else if (r == GETLN_TOOLONG) {
      if (l.len != cap || memchr(l.s, '\n', l.len)) abort();
      if (cap == 0) break;
    } else if (r == GETLN_EOF) {
      if (memchr(l.s, '\n', l.len)) abort();
      if (l.len == 0) break;
    } else abort();
  }
  if (off != n) abort();
  stralloc_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
  const char *in;
  size_t cap;
  buffer b1, b2;
  char space[16];
  stralloc log1 = {0, 0, 0}, log2 = {0, 0, 0};
  if (n < 2) return 0;
  cap = (size_t)d[0] + 1;
  chunk = (size_t)(d[1] % 16) + 1;
  in = (const char *)d + 2;
  n -= 2;

  buffer_frombuf(&b1, in, n);
  walk(&b1, in, n, cap, &log1);

  src = in;
  srclen = n;
  srcpos = 0;
  buffer_init(&b2, (ssize_t (*)())chunk_op, 0, space, sizeof space);
  walk(&b2, in, n, cap, &log2);
  if (log1.len != log2.len || memcmp(log1.s, log2.s, log1.len)) abort();

  lines(in, n, cap);
  stralloc_free(&log1);
  stralloc_free(&log2);
  return 0;
}
