/* retry.c: quadratic retry schedule and queue lifetime (see retry.h). */
#include <limits.h>
#include "retry.h"

unsigned long long retry_isqrt(unsigned long long n)
{
  /* bit by bit, from the highest even power of two: exact, no floats */
  unsigned long long r = 0, bit = 1ULL << 62;
  while (bit > n) bit >>= 2;
  while (bit) {
    if (n >= r + bit) {
      n -= r + bit;
      r = (r >> 1) + bit;
    } else
      r >>= 1;
    bit >>= 2;
  }
  return r;
}

/* age: now - birth, 0 when birth is in the future; exact in unsigned. */
static unsigned long long age(long long birth, long long now)
{
  if (now <= birth) return 0;
  return (unsigned long long)now - (unsigned long long)birth;
}

long long retry_next(long long birth, long long now, int chan)
{
  unsigned long long s = retry_isqrt(age(birth, now)) + (chan == RETRY_LOCAL ? 10 : 20);
  unsigned long long sq;
  long long base = birth > now ? now : birth;
  if (s > 3037000499ULL) return LLONG_MAX;  /* floor(sqrt(LLONG_MAX)) */
  sq = s * s;
  if (base > 0 && (unsigned long long)base > (unsigned long long)LLONG_MAX - sq)
    return LLONG_MAX;
  return base + (long long)sq;  /* sq < LLONG_MAX; a negative base cannot overflow */
}

int retry_expired(long long birth, long long now, long long lifetime)
{
  unsigned long long l = lifetime < 0 ? 0 : (unsigned long long)lifetime;
  return age(birth, now) > l;
}
