/* tests/fuzz/fuzz_users.c: libFuzzer harness for hub/local/users.c, the
 * users/assign compiler (qmail-newu) and the users/cdb lookup
 * (qmail-lspawn). The input is the assign text, then after a NUL byte
 * local parts to look up, NUL-separated. The cdb is written to a memfd.
 * Checks, beyond "no crash, no leak, no undefined behaviour", against a
 * model written here:
 *  - users_compile accepts exactly the texts the model accepts (lines
 *    "=local:user:uid:gid:home:dash:ext:" or "+prefix:..." up to a line
 *    "."; decimal uid and gid of 1..10 digits; no empty user or home, no
 *    empty exact local, no NUL, at most USERS_LINE_MAX bytes) and reports
 *    the same bad line;
 *  - every lookup (the given local parts, each exact local, each prefix
 *    with "Xy" after it) answers as the model: the first exact line for
 *    the lowercased local, else the first line of the longest matching
 *    wildcard prefix with ext = pre + the rest as given; the answer is six
 *    NUL-terminated fields (users_fields agrees).
 * Build: make fuzz-build (links hub/local/users.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "stralloc.h"
#include "users.h"

#define MAXREC 64

struct rec {
  char type;
  const char *key;   /* as written; compared ignoring ASCII case */
  size_t keylen;
  const char *f[6];  /* user uid gid home dash ext/pre */
  size_t fl[6];
};

static struct rec recs[MAXREC];
static size_t nrec;

static char low(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static int same(const char *a, const char *b, size_t n)
{
  size_t i;
  for (i = 0; i < n; ++i) if (low(a[i]) != low(b[i])) return 0;
  return 1;
}

static int digits(const char *s, size_t n)
{
  size_t i;
  if (n < 1 || n > 10) return 0;
  for (i = 0; i < n; ++i) if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* model_line: one record line s[0..n) into r; 1 good, 0 bad. */
static int model_line(const char *s, size_t n, struct rec *r)
{
  const char *p = s + 1, *end = s + n, *c;
  size_t k;
  if (n < 2 || (s[0] != '=' && s[0] != '+') || memchr(s, 0, n)) return 0;
  r->type = s[0];
  r->key = p;
  if (!(c = memchr(p, ':', (size_t)(end - p)))) return 0;
  r->keylen = (size_t)(c - p);
  p = c + 1;
  for (k = 0; k < 6; ++k) {
    if (!(c = memchr(p, ':', (size_t)(end - p)))) return 0;
    r->f[k] = p;
    r->fl[k] = (size_t)(c - p);
    p = c + 1;
  }
  if (p != end) return 0;                       /* more fields, or text after */
  if (!digits(r->f[1], r->fl[1]) || !digits(r->f[2], r->fl[2])) return 0;
  if (!r->fl[0] || !r->fl[3]) return 0;
  if (r->type == '=' && !r->keylen) return 0;
  return 1;
}

/* model_compile: 1 ok, 0 bad (*line set). */
static int model_compile(const char *t, size_t len, unsigned long *line)
{
  size_t pos = 0;
  nrec = 0;
  for (*line = 1;; ++*line) {
    const char *nl = memchr(t + pos, '\n', len - pos);
    size_t n;
    struct rec r;
    if (!nl) return 0;
    n = (size_t)(nl - t) - pos;
    if (n == 1 && t[pos] == '.') return 1;
    if (n > USERS_LINE_MAX || !model_line(t + pos, n, &r)) return 0;
    if (nrec < MAXREC) recs[nrec++] = r;
    else return -1;                            /* too many for the model */
    pos += n + 1;
  }
}

/* model_lookup: the answer for local[0..n) into out; 1 found, 0 not. */
static int model_lookup(const char *local, size_t n, stralloc *out)
{
  const struct rec *hit = 0;
  size_t i, plen = 0, k;
  if (n > USERS_LOCAL_MAX) return 0;
  for (i = 0; i < nrec && !hit; ++i)
    if (recs[i].type == '=' && recs[i].keylen == n && same(recs[i].key, local, n)) hit = &recs[i];
  for (plen = n + 1; !hit && plen-- > 0;)
    for (i = 0; i < nrec && !hit; ++i)
      if (recs[i].type == '+' && recs[i].keylen == plen && same(recs[i].key, local, plen))
        hit = &recs[i];
  if (!hit) return 0;
  out->len = 0;
  for (k = 0; k < 6; ++k) {
    if (!stralloc_catb(out, hit->f[k], hit->fl[k])) abort();
    if (k == 5 && hit->type == '+' && !stralloc_catb(out, local + plen, n - plen)) abort();
    if (!stralloc_0(out)) abort();
  }
  return 1;
}

static void lookup(int fd, const char *local, size_t n)
{
  stralloc got = {0, 0, 0}, want = {0, 0, 0};
  const char *f[6];
  int r = users_cdb_lookup(fd, local, n, &got), m = model_lookup(local, n, &want);
  if (r != m) abort();
  if (r == 1) {
    if (got.len != want.len || memcmp(got.s, want.s, got.len)) abort();
    if (!users_fields(&got, f)) abort();
  }
  stralloc_free(&got);
  stralloc_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *t = (const char *)data, *z = memchr(data, 0, size);
  size_t tlen = z ? (size_t)(z - t) : size, i;
  static int fd = -1;                          /* one memfd for the process */
  unsigned long line = 0, mline = 0;
  int r, m;
  char buf[USERS_LOCAL_MAX + 8];
  m = model_compile(t, tlen, &mline);
  if (m < 0) return 0;
  if (fd < 0 && (fd = memfd_create("users.cdb", 0)) < 0) abort();
  if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET)) abort();
  r = users_compile(t, tlen, fd, &line);
  if (r != m || (r == 0 && line != mline)) abort();
  if (r == 1) {
    for (i = 0; i < nrec; ++i) {
      size_t kl = recs[i].keylen > USERS_LOCAL_MAX ? USERS_LOCAL_MAX : recs[i].keylen;
      memcpy(buf, recs[i].key, kl);
      lookup(fd, buf, kl);
      memcpy(buf + kl, "Xy", 2);
      lookup(fd, buf, kl + 2);
    }
    for (i = tlen + 1; i < size;) {            /* the given local parts */
      const char *l = t + i, *e = memchr(l, 0, size - i);
      size_t n = e ? (size_t)(e - l) : size - i;
      lookup(fd, l, n);
      i += n + 1;
    }
  }
  return 0;
}
