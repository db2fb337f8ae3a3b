/* tests/fuzz/fuzz_qmtp.c: libFuzzer harness for the QMTP package reader
 * (hub/servers/nsread.c nsr_qmtp), packages read back to back from one input as a
 * pipelining client sends them, with a queue stub that discards. The first
 * two bytes pick the read chunk size and small caps; a recipient is
 * refused for relaying when it ends in 'r' and temporarily when it ends in
 * 't'. Checks: the queue protocol (as in fuzz_qmqp.c), one outcome per
 * recipient, accepted == number of recipients given to the queue ==
 * number of NSR_ACCEPT outcomes, nothing left open after a refusal or a
 * drop, at most blockcap / 3 outcomes, and message bytes as stored never
 * more than databytes.
 * Build: make fuzz (links hub/servers/nsread.c and hub/servers/hops.c from its archive). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buffer.h"
#include "stralloc.h"
#include "nsread.h"

struct feed { const uint8_t *s; size_t len, pos, chunk; };

static ssize_t feed_op(int fd, char *buf, size_t len, void *bp)
{
  struct feed *f = ((buffer *)bp)->cookie;
  size_t n = f->len - f->pos;
  (void)fd;
  if (n > len) n = len;
  if (n > f->chunk) n = f->chunk;
  memcpy(buf, f->s + f->pos, n);
  f->pos += n;
  return (ssize_t)n;
}

struct stub {
  int open, from;
  unsigned long tos;
  unsigned long long bytes;
  const struct nsr_policy *p;
};

static void st_start(void *c)
{
  struct stub *s = c;
  if (s->open) abort();
  s->open = 1; s->from = 0; s->tos = 0; s->bytes = 0;
}
static void st_put(void *c, const char *b, size_t l)
{
  struct stub *s = c;
  (void)b;
  if (!s->open || s->from || l == 0) abort();
  s->bytes += l;
  if (s->p->databytes && s->bytes > s->p->databytes) abort();
}
static void check_addr(struct stub *s, const char *a, size_t l)
{
  if (!s->open || l > s->p->maxaddr || memchr(a, 0, l)) abort();
}
static void st_from(void *c, const char *a, size_t l)
{ struct stub *s = c; check_addr(s, a, l); if (s->from) abort(); s->from = 1; }
static void st_to(void *c, const char *a, size_t l)
{ struct stub *s = c; check_addr(s, a, l); if (!s->from) abort(); ++s->tos; }
static void st_abort(void *c) { struct stub *s = c; if (!s->open) abort(); s->open = 0; }

static int rcpt_ok(void *c, const char *a, size_t l)
{
  (void)c;
  if (l && a[l - 1] == 'r') return 0;
  if (l && a[l - 1] == 't') return -1;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char space[256];
  struct nsr_policy p;
  struct stub st;
  struct nsr_queue q = { &st, st_start, st_put, st_from, st_to, st_abort };
  struct nsr_pkg pkg = { {0, 0, 0}, 0 };
  struct feed f;
  buffer b;
  int n;
  if (size < 2) return 0;
  memset(&p, 0, sizeof p);
  memset(&st, 0, sizeof st);
  st.p = &p;
  p.msgcap = 1u << 16;
  p.blockcap = 64 + (data[1] & 0x7f);
  p.databytes = data[0] & 0x80 ? (data[0] & 0x3f) : 0;
  p.maxaddr = 1 + (data[1] & 0x1f);
  p.maxrcpts = 1 + ((data[1] >> 5) & 3);
  p.maxhops = 1 + (data[0] & 3);
  p.rcpt_ok = rcpt_ok;
  f.s = data + 2;
  f.len = size - 2;
  f.pos = 0;
  f.chunk = 1 + ((data[0] >> 2) & 0xf) * 17;
  buffer_init(&b, (ssize_t (*)())feed_op, -1, space, sizeof space);
  b.cookie = &f;
  for (n = 0; n < 64; ++n) {
    unsigned long acc = 0;
    size_t i;
    int r = nsr_qmtp(&b, &p, &q, &pkg);
    if (r > 0) abort();
    if (r != NSR_OK) { if (st.open) abort(); break; }
    if (pkg.why.len > p.blockcap / 3) abort();
    for (i = 0; i < pkg.why.len; ++i) {
      if ((unsigned char)pkg.why.s[i] >= NSR_WHYCOUNT) abort();
      if (pkg.why.s[i] == NSR_ACCEPT) ++acc;
    }
    if (acc != pkg.accepted) abort();
    if (pkg.accepted) {
      if (!st.open || !st.from || st.tos != pkg.accepted || pkg.accepted > p.maxrcpts) abort();
      st.open = 0;  /* the commit */
    } else if (st.open) abort();
  }
  stralloc_free(&pkg.why);
  return 0;
}
