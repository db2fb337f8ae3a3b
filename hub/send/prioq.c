/* prioq.c: binary min-heap of (time, id) (see prioq.h). */
#include <stdint.h>
#include <stdlib.h>
#include "prioq.h"

static int less(const struct prioq_elt *x, const struct prioq_elt *y)
{
  return x->t < y->t || (x->t == y->t && x->id < y->id);
}

/* grow: room for one more element, doubling; 0 on overflow or no memory. */
static int grow(struct prioq *q)
{
  size_t cap = q->cap ? q->cap : 16;
  struct prioq_elt *a;
  if (q->len < q->cap) return 1;
  if (q->cap) {
    if (q->cap > SIZE_MAX / 2 / sizeof *a) return 0;
    cap = q->cap * 2;
  }
  a = realloc(q->a, cap * sizeof *a);
  if (!a) return 0;
  q->a = a;
  q->cap = cap;
  return 1;
}

int prioq_insert(struct prioq *q, long long t, unsigned long long id)
{
  struct prioq_elt e = { t, id };
  size_t i;
  if (!grow(q)) return 0;
  for (i = q->len++; i > 0 && less(&e, &q->a[(i - 1) / 2]); i = (i - 1) / 2)
    q->a[i] = q->a[(i - 1) / 2];
  q->a[i] = e;
  return 1;
}

int prioq_min(const struct prioq *q, struct prioq_elt *e)
{
  if (!q->len) return 0;
  *e = q->a[0];
  return 1;
}

void prioq_delmin(struct prioq *q)
{
  struct prioq_elt last;
  size_t i = 0, c;
  if (!q->len) return;
  last = q->a[--q->len];
  while ((c = 2 * i + 1) < q->len) {  /* i < len / 2, so 2i+2 cannot overflow */
    if (c + 1 < q->len && less(&q->a[c + 1], &q->a[c])) ++c;
    if (!less(&q->a[c], &last)) break;
    q->a[i] = q->a[c];
    i = c;
  }
  if (q->len) q->a[i] = last;
}

size_t prioq_len(const struct prioq *q)
{
  return q->len;
}

void prioq_free(struct prioq *q)
{
  free(q->a);
  q->a = 0;
  q->len = q->cap = 0;
}
