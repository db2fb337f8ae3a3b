/* tests/unit/pwcheck.c: TAP tests for hub/servers/pwcheck.c: new hashes are
 * yescrypt with a fresh salt each time; a hash accepts its password only;
 * no login, an empty, locked or invalid hash refuse every password; and
 * each of those costs about what a real check costs (the dummy hash): a
 * miss that returned at once would let a client tell the cases apart. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "tap.h"
#include "pwcheck.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* cost: seconds for the fastest of 5 checks of pass against stored */
static double cost(const char *pass, const char *stored)
{
  double best = 1e9, t;
  int i;
  for (i = 0; i < 5; ++i) {
    t = now();
    pw_verify(pass, stored);
    t = now() - t;
    if (t < best) best = t;
  }
  return best;
}

int main(void)
{
  stralloc h1 = {0}, h2 = {0}, locked = {0};
  double real, miss;
  char name[120];
  const char *refuse[] = { 0, "", "*", "!", "x", "$y$", "$1$" };
  size_t i;
  is_int(pw_hash("correct horse", &h1), 1, "hash made");
  is_int(pw_hash("correct horse", &h2), 1, "second hash made");
  ok(!strncmp(h1.s, "$y$", 3), "yescrypt ($y$)");
  ok(strcmp(h1.s, h2.s), "a new salt each time");
  is_int(pw_verify("correct horse", h1.s), 1, "its password matches");
  is_int(pw_verify("correct horse", h2.s), 1, "the other hash too");
  is_int(pw_verify("correct horsE", h1.s), 0, "a wrong password does not");
  is_int(pw_verify("", h1.s), 0, "nor an empty one");
  is_int(pw_verify("correct horse ", h1.s), 0, "nor a longer one");
  if (!stralloc_copys(&locked, "!") || !stralloc_cat(&locked, &h1)) return 1;
  is_int(pw_verify("correct horse", locked.s), 0, "a locked hash (!) refuses its password");
  for (i = 0; i < sizeof refuse / sizeof *refuse; ++i) {
    snprintf(name, sizeof name, "stored %s%s%s refuses", refuse[i] ? "'" : "",
             refuse[i] ? refuse[i] : "NULL (no login)", refuse[i] ? "'" : "");
    is_int(pw_verify("correct horse", refuse[i]), 0, name);
  }
  /* timing: the miss must do the work; a generous factor (the hash costs
   * ~20-100 ms; a miss that skipped it would take microseconds) */
  real = cost("wrong", h1.s);
  miss = cost("wrong", 0);
  printf("# real check %.1f ms, no login %.1f ms, locked %.1f ms\n", real * 1e3, miss * 1e3,
         cost("wrong", locked.s) * 1e3);
  ok(miss > real / 4, "no login costs a hash");
  ok(cost("wrong", locked.s) > real / 4, "a locked hash costs a hash");
  ok(cost("wrong", "*") > real / 4, "an invalid hash costs a hash");
  stralloc_free(&h1); stralloc_free(&h2); stralloc_free(&locked);
  return done_testing();
}
