/* tap.h: a tiny Test Anything Protocol emitter for the C unit tests.
 * Each test binary prints "1..N" at the end (done_testing) and one
 * "ok N - name" / "not ok N - name" line per check; prove reads them.
 * Header-only on purpose: every unit test is one file plus libcommon.a. */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static inline int tap_ok(int cond, const char *name, const char *file, int line)
{
  ++tap_n;
  printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
  if (!cond) {
    printf("#   failed at %s line %d\n", file, line);
    ++tap_failed;
  }
  fflush(stdout);
  return cond;
}

/* is_mem: compare a byte range with an expected C string, report both on failure */
static inline int tap_is_mem(const char *got, size_t gotlen, const char *exp,
                             const char *name, const char *file, int line)
{
  size_t explen = strlen(exp);
  int cond = got && gotlen == explen && memcmp(got, exp, explen) == 0;
  tap_ok(cond, name, file, line);
  if (!cond)
    printf("#        got: '%.*s'\n#   expected: '%s'\n",
           got ? (int)gotlen : 6, got ? got : "(null)", exp);
  return cond;
}

#define ok(c, name) tap_ok(!!(c), (name), __FILE__, __LINE__)
#define is_int(a, b, name) \
  do { long long a_ = (a), b_ = (b); \
       if (!tap_ok(a_ == b_, (name), __FILE__, __LINE__)) \
         printf("#        got: %lld\n#   expected: %lld\n", a_, b_); } while (0)
#define is_mem(p, l, exp, name) tap_is_mem((p), (l), (exp), (name), __FILE__, __LINE__)
static inline size_t tap_len(const char *s) { return s ? strlen(s) : 0; }
#define is_str(s, exp, name) tap_is_mem((s), tap_len(s), (exp), (name), __FILE__, __LINE__)
#define is_sa(sa, exp, name) tap_is_mem((sa).s, (sa).len, (exp), (name), __FILE__, __LINE__)

static inline int done_testing(void)
{
  printf("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#endif
