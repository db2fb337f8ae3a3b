/* tests/fuzz/fuzz_qmqp.c: libFuzzer harness for the QMQP request reader
 * (hub/servers/nsread.c nsr_qmqp) with a queue stub that discards. The first two
 * input bytes pick the read chunk size and small caps (databytes, maxaddr,
 * maxrcpts, maxhops) so every refusal path is reachable; the rest is the
 * request. Beyond "no crash, no leak" it checks the queue protocol:
 * start before anything else, one from before any to, nothing after an
 * abort, every address within maxaddr and free of NUL, no more than
 * databytes message bytes, and on return either an accepted request with
 * an open message holding a sender and >= 1 recipient, or nothing open.
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

struct stub { int open, from; unsigned long tos; unsigned long long bytes; const struct nsr_policy *p; };

static void st_start(void *c) { struct stub *s = c; if (s->open) abort(); s->open = 1; s->from = 0; s->tos = 0; s->bytes = 0; }
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char space[256];
  struct nsr_policy p;
  struct stub st = { 0, 0, 0, 0, &p };
  struct nsr_queue q = { &st, st_start, st_put, st_from, st_to, st_abort };
  struct feed f;
  buffer b;
  enum nsr_why why;
  int r;
  if (size < 2) return 0;
  memset(&p, 0, sizeof p);
  p.msgcap = 1u << 16;
  p.databytes = data[0] & 0x80 ? (data[0] & 0x3f) : 0;
  p.maxaddr = 1 + (data[1] & 0x1f);
  p.maxrcpts = 1 + ((data[1] >> 5) & 3);
  p.maxhops = 1 + (data[0] & 3);
  f.s = data + 2;
  f.len = size - 2;
  f.pos = 0;
  f.chunk = 1 + ((data[0] >> 2) & 0xf) * 17;
  buffer_init(&b, (ssize_t (*)())feed_op, -1, space, sizeof space);
  b.cookie = &f;
  r = nsr_qmqp(&b, &p, &q, &why);
  if (r == NSR_OK && why == NSR_ACCEPT) {
    if (!st.open || !st.from || st.tos == 0 || st.tos > p.maxrcpts) abort();
  } else if (st.open) abort();
  if (r == NSR_BADADDR || r > 0) abort();
  if (nsr_reply(why)[0] == 0) abort();
  return 0;
}
