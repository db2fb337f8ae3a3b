/* tests/unit/rjob.c: hub/remote/rjob.c, qmail-remote's reports: the output
 * format (r/h/s per recipient, one K/Z/D, NUL-terminated), sanitizing,
 * the RJOB_TEXTMAX cap, first report wins, rjob_all and the defaults for
 * missing reports. */
#include <string.h>
#include "tap.h"
#include "rjob.h"

int main(void)
{
  struct rjob j;
  char *rc[] = { "a@x", "b@x", "c@x" };
  char longtext[3000];
  stralloc out = {0};
  memset(&j, 0, sizeof j);
  ok(rjob_init(&j, rc, 3) == 0, "init");
  rjob_rcpt(&j, 0, 'r', "ok ", "there", (const char *)0);
  rjob_rcpt(&j, 0, 'h', "ignored", (const char *)0);
  rjob_rcpt(&j, 1, 'h', "bad\r\n\x1b\xff", (const char *)0);
  rjob_all(&j, 's', 'Z', "later", (const char *)0);
  rjob_msg(&j, 'K', "ignored", (const char *)0);
  ok(rjob_output(&j, &out), "output");
  ok(out.len == 33 && memcmp(out.s, "rok there\0hbad????\0slater\0Zlater\0", 33) == 0, "format, sanitized, first report wins");
  is_int(rjob_count(&j, 'r'), 1, "count r");
  rjob_free(&j);
  memset(&j, 0, sizeof j);
  rjob_init(&j, rc, 1);
  memset(longtext, 'x', sizeof longtext - 1);
  longtext[sizeof longtext - 1] = 0;
  rjob_rcpt(&j, 0, 'r', longtext, (const char *)0);
  ok(j.rtext[0].len == RJOB_TEXTMAX + 3, "text capped at RJOB_TEXTMAX plus ...");
  out.len = 0;
  rjob_output(&j, &out);
  ok(out.len > 2 && out.s[out.len - 1] == 0 && out.s[RJOB_TEXTMAX + 5] == 'Z', "missing message report: Z");
  rjob_free(&j);
  memset(&j, 0, sizeof j);
  rjob_init(&j, rc, 2);
  out.len = 0;
  rjob_output(&j, &out);
  ok(out.s[0] == 's', "missing recipient report: s");
  rjob_free(&j);
  stralloc_free(&out);
  return done_testing();
}
