/* tests/fuzz/fuzz_smtpdata.c: libFuzzer harness for hub/servers/smtpdata.c, the
 * DATA state machine of qmail-smtpd (end of message, dot-unstuffing, the
 * bare-LF smuggling defence, the size, header and hop caps). The first
 * byte picks the chunk size the bytes arrive in, the second the caps; the
 * rest is what the client sends after "354". Checks, beyond "no crash, no
 * leak, no undefined behaviour", against a line-by-line model written
 * here:
 *  - the scan ends exactly where the model does: after the first CRLF "."
 *    CRLF (the bytes after it are not consumed: they are the next
 *    command), or on the first LF without a CR before it; else it takes
 *    everything and wants more;
 *  - with no cap passed, the stored bytes are exactly the model's: CRLF
 *    made LF, one leading dot removed, a lone CR kept, a CR at the very
 *    end held back;
 *  - a cap is passed (toobig, hdrbig or loop) exactly when the model's
 *    message passes one; then the stored bytes are a prefix of the model's
 *    and never more than databytes;
 *  - the same input in one chunk gives the same end, state and bytes.
 * Build: make fuzz-build (links hub/servers/smtpdata.c and hub/servers/hops.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stralloc.h"
#include "hops.h"
#include "smtpdata.h"

enum { M_MORE, M_END, M_BARELF };

static void cat(stralloc *sa, const char *s, size_t n)
{
  if (!stralloc_catb(sa, s, n)) abort();
}

/* model: the message in p[0..n) by lines; *used the bytes it takes. */
static int model(const char *p, size_t n, stralloc *o, size_t *used)
{
  size_t pos = 0;
  for (;;) {
    const char *nl = memchr(p + pos, '\n', n - pos);
    size_t end = nl ? (size_t)(nl - p) : n, a = pos, b = end;
    if (a < b && p[a] == '.') ++a;
    if (!nl) {                                  /* unfinished line */
      if (a < b && p[b - 1] == '\r') --b;
      cat(o, p + a, b - a);
      *used = n;
      return M_MORE;
    }
    *used = end + 1;
    if (end == pos || p[end - 1] != '\r') {     /* LF without CR */
      cat(o, p + a, b - a);
      return M_BARELF;
    }
    if (end - pos == 2 && p[pos] == '.') return M_END;
    cat(o, p + a, b - 1 - a);
    cat(o, "\n", 1);
    pos = end + 1;
  }
}

/* model_refused: does message o pass a cap? */
static int model_refused(const stralloc *o, const struct smtpdata *caps)
{
  unsigned long long hb = 0, fb = 0;
  struct hops h;
  size_t i;
  int bol = 1;
  if (caps->databytes && o->len > caps->databytes) return 1;
  for (i = 0; i < o->len; ++i) {
    char c = o->s[i];
    if (bol && c == '\n') break;
    if (bol && c != ' ' && c != '\t') fb = 0;
    bol = c == '\n';
    if (++hb > caps->maxheader || ++fb > caps->maxfield) return 1;
  }
  hops_init(&h);
  hops_feed(&h, o->s, o->len);
  return h.count >= caps->maxhops;
}

static void put(void *ctx, const char *s, size_t n)
{
  if (n == 0) abort();
  cat(ctx, s, n);
}

/* run: scan p[0..n) in chunks of at most chunk bytes; returns bytes used. */
static size_t run(struct smtpdata *d, const char *p, size_t n, size_t chunk)
{
  size_t pos = 0;
  while (pos < n) {
    size_t k = n - pos < chunk ? n - pos : chunk;
    size_t u = smtpdata_scan(d, p + pos, k);
    if (u > k) abort();
    pos += u;
    if (d->state == SMTPDATA_END || d->state == SMTPDATA_BARELF) break;
    if (u != k) abort();                        /* only an end stops short */
  }
  return pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  stralloc o = {0, 0, 0}, got = {0, 0, 0}, got1 = {0, 0, 0};
  struct smtpdata d, d1;
  const char *p = (const char *)data + 2;
  size_t n, used, u, u1, chunk;
  unsigned long databytes;
  int m, refused;
  if (size < 2) return 0;
  n = size - 2;
  chunk = 1 + (data[0] & 0x3f) * (data[0] & 0x40 ? 64 : 1);
  databytes = data[1] & 0x80 ? 1 + (data[1] & 0x7f) * 3 : 0;
  smtpdata_start(&d, databytes, 8 + (data[1] & 7) * 40, 4 + ((data[1] >> 3) & 3) * 20,
                 1 + ((data[1] >> 5) & 3), put, &got);
  smtpdata_start(&d1, d.databytes, d.maxheader, d.maxfield, d.maxhops, put, &got1);

  m = model(p, n, &o, &used);
  u = run(&d, p, n, chunk);
  u1 = run(&d1, p, n, n ? n : 1);
  if (u != used || u1 != used) abort();
  if ((m == M_END) != (d.state == SMTPDATA_END)) abort();
  if ((m == M_BARELF) != (d.state == SMTPDATA_BARELF)) abort();
  if (d1.state != d.state) abort();

  refused = d.toobig || d.hdrbig || d.loop;
  if (refused != model_refused(&o, &d)) abort();
  if (refused != (d1.toobig || d1.hdrbig || d1.loop)) abort();
  if (!refused) {
    if (got.len != o.len || (o.len && memcmp(got.s, o.s, o.len))) abort();
    if (got1.len != o.len || (o.len && memcmp(got1.s, o.s, o.len))) abort();
    if (d.bytes != o.len) abort();
  } else {
    if (got.len > o.len || (got.len && memcmp(got.s, o.s, got.len))) abort();
    if (got1.len > o.len || (got1.len && memcmp(got1.s, o.s, got1.len))) abort();
    if (databytes && (got.len > databytes || got1.len > databytes)) abort();
  }
  stralloc_free(&o);
  stralloc_free(&got);
  stralloc_free(&got1);
  return 0;
}
