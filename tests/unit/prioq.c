/* tests/unit/prioq.c: TAP tests for hub/send/prioq.c: empty queue (min fails,
 * delmin harmless), one element, a small known order, equal times (ordered
 * by id, none lost), negative and extreme times, 100,000 random inserts
 * coming out sorted, interleaved insert/delete, reuse after prioq_free. */
#include <limits.h>
#include <stdlib.h>
#include "tap.h"
#include "prioq.h"

static void test_small(void)
{
  struct prioq q = PRIOQ_INIT;
  struct prioq_elt e;
  ok(!prioq_min(&q, &e), "empty: no min");
  prioq_delmin(&q);
  is_int(prioq_len(&q), 0, "empty: delmin harmless");
  ok(prioq_insert(&q, 5, 1) && prioq_min(&q, &e) && e.t == 5 && e.id == 1, "one element");
  prioq_delmin(&q);
  ok(!prioq_min(&q, &e), "empty again");
  prioq_insert(&q, 30, 3); prioq_insert(&q, 10, 1); prioq_insert(&q, 20, 2);
  prioq_insert(&q, LLONG_MIN, 9); prioq_insert(&q, LLONG_MAX, 8); prioq_insert(&q, -4, 7);
  is_int(prioq_len(&q), 6, "six elements");
  prioq_min(&q, &e); ok(e.t == LLONG_MIN && e.id == 9, "LLONG_MIN first"); prioq_delmin(&q);
  prioq_min(&q, &e); ok(e.t == -4 && e.id == 7, "negative next"); prioq_delmin(&q);
  prioq_min(&q, &e); ok(e.t == 10, "10"); prioq_delmin(&q);
  prioq_min(&q, &e); ok(e.t == 20, "20"); prioq_delmin(&q);
  prioq_min(&q, &e); ok(e.t == 30, "30"); prioq_delmin(&q);
  prioq_min(&q, &e); ok(e.t == LLONG_MAX && e.id == 8, "LLONG_MAX last"); prioq_delmin(&q);
  ok(!prioq_min(&q, &e), "drained");
  prioq_free(&q);
  ok(q.a == 0 && q.cap == 0, "freed");
  ok(prioq_insert(&q, 1, 1) && prioq_len(&q) == 1, "reusable after free");
  prioq_free(&q);
}

static void test_equal(void)
{
  struct prioq q = PRIOQ_INIT;
  struct prioq_elt e;
  unsigned long long i, bad = 0, seen = 0;
  for (i = 0; i < 1000; ++i) prioq_insert(&q, 42, (i * 7919) % 1000);
  for (i = 0; prioq_min(&q, &e); ++i, prioq_delmin(&q)) {
    if (e.t != 42 || e.id != i) ++bad;
    ++seen;
  }
  is_int(seen, 1000, "equal times: all 1000 out");
  is_int(bad, 0, "equal times: ordered by id");
  prioq_free(&q);
}

static void test_random(void)
{
  struct prioq q = PRIOQ_INIT;
  struct prioq_elt e, prev = { LLONG_MIN, 0 };
  long long sum_in = 0, sum_out = 0, bad = 0, n = 0, i;
  srand(12345);
  for (i = 0; i < 100000; ++i) {
    long long t = (long long)(rand() % 50000) - 1000;  /* many duplicates */
    sum_in += t;
    if (!prioq_insert(&q, t, (unsigned long long)i)) ++bad;
  }
  is_int(bad, 0, "100000 inserts");
  is_int(prioq_len(&q), 100000, "100000 queued");
  for (; prioq_min(&q, &e); prioq_delmin(&q), ++n) {
    if (e.t < prev.t || (e.t == prev.t && e.id < prev.id)) ++bad;
    sum_out += e.t;
    prev = e;
  }
  is_int(n, 100000, "100000 out");
  is_int(bad, 0, "out in sorted order");
  is_int(sum_out, sum_in, "same times out as in");
  prioq_free(&q);
}

static void test_interleaved(void)
{
  struct prioq q = PRIOQ_INIT;
  struct prioq_elt e;
  long long now = 0, bad = 0, i;
  srand(777);
  for (i = 0; i < 20000; ++i) {
    prioq_insert(&q, now + rand() % 1000, (unsigned long long)i);
    if (i % 3 == 2) {
      prioq_min(&q, &e);
      if (e.t < now) ++bad;
      now = e.t;  /* time only moves forward, as in qmail-send */
      prioq_delmin(&q);
    }
  }
  is_int(bad, 0, "interleaved: mins never go back in time");
  is_int(prioq_len(&q), 20000 - 20000 / 3, "interleaved: count");
  prioq_free(&q);
}

int main(void)
{
  test_small();
  test_equal();
  test_random();
  test_interleaved();
  return done_testing();
}
