/* tests/unit/retry.c: TAP tests for hub/send/retry.c: retry_isqrt exact at
 * squares, around them and at ULLONG_MAX; the on-time schedules (local
 * 0, 100, 400, 900 ... = (10k)^2, remote 0, 400, 1600, 3600 ... = (20k)^2);
 * 39 remote tries within 604800 s; late attempts; a birth in the future
 * (clock set back: next try is now + skip^2); huge and negative values
 * saturate; retry_expired at the boundary. */
#include <limits.h>
#include "tap.h"
#include "retry.h"

static void test_isqrt(void)
{
  unsigned long long i, bad = 0;
  for (i = 0; i < 100000; ++i) {
    unsigned long long r = retry_isqrt(i);
    if (r * r > i || (r + 1) * (r + 1) <= i) ++bad;
  }
  is_int(bad, 0, "isqrt exact for 0..99999");
  is_int(retry_isqrt(0), 0, "isqrt 0");
  is_int(retry_isqrt(99), 9, "isqrt 99");
  is_int(retry_isqrt(100), 10, "isqrt 100");
  is_int(retry_isqrt(4294967295ULL * 4294967295ULL), 4294967295LL, "isqrt (2^32-1)^2");
  is_int(retry_isqrt(4294967295ULL * 4294967295ULL - 1), 4294967294LL, "isqrt (2^32-1)^2 - 1");
  is_int(retry_isqrt(ULLONG_MAX), 4294967295LL, "isqrt ULLONG_MAX");
  is_int(retry_isqrt(1ULL << 62), 1LL << 31, "isqrt 2^62");
}

/* on_time: the tries of a channel when each runs exactly when scheduled. */
static void on_time(int chan, long long step, const char *name)
{
  long long birth = 1700000000, t = birth, k, bad = 0;
  for (k = 0; k < 50; ++k) {
    if (t - birth != step * step * k * k) ++bad;
    t = retry_next(birth, t, chan);
  }
  is_int(bad, 0, name);
}

static void test_schedule(void)
{
  long long b = 1000, t = b, n = 0;
  is_int(retry_next(b, b, RETRY_LOCAL), b + 100, "local first retry at 100 s");
  is_int(retry_next(b, b + 100, RETRY_LOCAL), b + 400, "local 400 s");
  is_int(retry_next(b, b + 400, RETRY_LOCAL), b + 900, "local 900 s");
  is_int(retry_next(b, b, RETRY_REMOTE), b + 400, "remote 400 s");
  is_int(retry_next(b, b + 400, RETRY_REMOTE), b + 1600, "remote 1600 s");
  is_int(retry_next(b, b + 1600, RETRY_REMOTE), b + 3600, "remote 3600 s");
  is_int(retry_next(b, b, 7), b + 400, "unknown channel counts as remote");
  on_time(RETRY_LOCAL, 10, "local on time: (10k)^2 for k < 50");
  on_time(RETRY_REMOTE, 20, "remote on time: (20k)^2 for k < 50");
  while (!retry_expired(b, t, 604800)) { ++n; t = retry_next(b, t, RETRY_REMOTE); }
  is_int(n, 39, "39 remote tries within 604800 s");
  is_int(retry_next(b, b + 150, RETRY_LOCAL), b + 484, "late try: isqrt(150)=12 -> 22^2");
  is_int(retry_next(b, b + 99, RETRY_LOCAL), b + 361, "just early: isqrt(99)=9 -> 19^2");
}

static void test_edges(void)
{
  is_int(retry_next(5000, 1000, RETRY_LOCAL), 1100, "future birth: now + 100");
  is_int(retry_next(5000, 1000, RETRY_REMOTE), 1400, "future birth: now + 400");
  is_int(retry_next(LLONG_MAX, 0, RETRY_REMOTE), 400, "birth LLONG_MAX, now 0");
  is_int(retry_next(LLONG_MIN, LLONG_MAX, RETRY_REMOTE), LLONG_MAX, "max age saturates");
  is_int(retry_next(LLONG_MAX - 50, LLONG_MAX, RETRY_LOCAL), LLONG_MAX, "near LLONG_MAX saturates");
  is_int(retry_next(LLONG_MAX - 200, LLONG_MAX - 200, RETRY_LOCAL), LLONG_MAX - 100, "near LLONG_MAX fits");
  is_int(retry_next(LLONG_MIN, LLONG_MIN, RETRY_LOCAL), LLONG_MIN + 100, "LLONG_MIN birth");
  is_int(retry_next(-1000, -1000, RETRY_LOCAL), -900, "negative times");
  is_int(retry_next(0, 1LL << 62, RETRY_LOCAL), (1LL << 62) + 2 * 10 * (1LL << 31) + 100,
         "age 2^62: (2^31+10)^2");
}

static void test_expired(void)
{
  is_int(retry_expired(1000, 1000 + 604800, 604800), 0, "age == lifetime: not expired");
  is_int(retry_expired(1000, 1000 + 604801, 604800), 1, "age > lifetime: expired");
  is_int(retry_expired(5000, 1000, 0), 0, "future birth: not expired");
  is_int(retry_expired(1000, 1001, -5), 1, "negative lifetime counts as 0");
  is_int(retry_expired(1000, 1000, 0), 0, "lifetime 0, age 0");
  is_int(retry_expired(LLONG_MIN, LLONG_MAX, LLONG_MAX), 1, "huge age, huge lifetime");
  is_int(retry_expired(0, LLONG_MAX, LLONG_MAX), 0, "age LLONG_MAX, lifetime LLONG_MAX");
}

int main(void)
{
  test_isqrt();
  test_schedule();
  test_edges();
  test_expired();
  return done_testing();
}
