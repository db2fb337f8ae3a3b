/* tests/unit/cleanreq.c: TAP tests for hub/queue/cleanreq.c, the strict check
 * of qmail-clean's requests T<S/N> and M<S/N>. */
#include <string.h>
#include "tap.h"
#include "cleanreq.h"

static int p(const char *s) { return cleanreq_parse(s, strlen(s)); }

int main(void)
{
  static const char *bad[] = {
    "", "T", "T5", "T5/", "T/1", "X5/28", "t5/28", "T23/1", "T99/1", "T123/1",
    "T05/28", "T5/028", "T5/28x", "T5/2 8", "T5//28", "T5/28/", "T-1/2", "T5/-2",
    "T+5/28", "M../x", "Mmess/5/28", "T5/123456789012345678901", " T5/28", "T5/28\n",
    "TT5/28", "T5\\28", 0
  };
  int i;
  is_int(p("T5/28"), 'T', "T5/28 valid");
  is_int(p("M5/28"), 'M', "M5/28 valid");
  is_int(p("T0/0"), 'T', "T0/0 valid (lone zeros)");
  is_int(p("M22/18446744073709551615"), 'M', "largest split, 20-digit N");
  is_int(p("T10/12345678901234567890"), 'T', "two-digit split");
  for (i = 0; bad[i]; ++i) {
    char name[80], *c;
    snprintf(name, sizeof name, "rejected: '%s'", bad[i]);
    for (c = name; *c; ++c) if (*c == '\n') *c = '~';  /* one TAP line */
    is_int(p(bad[i]), 0, name);
  }
  is_int(cleanreq_parse("T5/28\0", 6), 0, "embedded NUL rejected");
  is_int(cleanreq_parse("T5/28", 4), 'T', "length honoured (T5/2)");
  is_int(cleanreq_parse("T5/28", 3), 0, "length honoured (T5/)");
  return done_testing();
}
