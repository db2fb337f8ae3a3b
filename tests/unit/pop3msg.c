/* tests/unit/pop3msg.c: a Maildir message as POP3 sends it (hub/pop3/pop3msg.h).
 * Checks: LF becomes CRLF, a CRLF stays one, a bare CR stays, a "." at
 * the start of a line is doubled (only there), a last line without LF
 * gets one, an empty file sends nothing; the announced size is the output
 * without the stuffed dots, for every case; any cut of the file into
 * chunks gives the same bytes; TOP n m: header, empty line, m body lines,
 * with CRLF headers, without a body, with m over the body's length. */
#include <string.h>
#include "tap.h"
#include "stralloc.h"
#include "pop3msg.h"

static int cat(void *ctx, const char *s, size_t n)
{
  return stralloc_catb((stralloc *)ctx, s, n) ? 0 : -1;
}

static int fail_put(void *ctx, const char *s, size_t n)
{
  (void)ctx; (void)s; (void)n;
  return -1;
}

/* conv: in through pop3msg in chunks of step bytes (0: one chunk). */
static unsigned long long conv(stralloc *o, const char *in, size_t step, int top, unsigned long long lines)
{
  struct pop3msg m;
  size_t len = strlen(in), i;
  if (!stralloc_ready(o, 1)) return 0;
  o->len = 0;
  pop3msg_init(&m, cat, o, top, lines);
  if (!step) step = len ? len : 1;
  for (i = 0; i < len; i += step)
    pop3msg_feed(&m, in + i, len - i < step ? len - i : step);
  pop3msg_end(&m);
  return pop3msg_size(&m);
}

/* unstuffed: what a client holds: a leading ".." of a line back to "." */
static size_t unstuffed(const stralloc *o)
{
  size_t i, n = o->len;
  for (i = 0; i + 1 < o->len; ++i)
    if (o->s[i] == '.' && o->s[i + 1] == '.' && (i == 0 || o->s[i - 1] == '\n')) --n;
  return n;
}

static void check(const char *in, const char *exp, const char *name)
{
  stralloc o = {0};
  size_t step;
  unsigned long long size = conv(&o, in, 0, 0, 0);
  is_sa(o, exp, name);
  is_int(size, unstuffed(&o), name);
  for (step = 1; step <= 3; ++step) {
    conv(&o, in, step, 0, 0);
    if (!is_sa(o, exp, "same bytes when fed in small chunks")) break;
  }
  stralloc_free(&o);
}

static void check_top(const char *in, unsigned long long lines, const char *exp, const char *name)
{
  stralloc o = {0};
  conv(&o, in, 0, 1, lines);
  is_sa(o, exp, name);
  conv(&o, in, 1, 1, lines);
  is_sa(o, exp, "TOP fed byte by byte");
  stralloc_free(&o);
}

int main(void)
{
  struct pop3msg m;
  check("A: b\n\nhello\n", "A: b\r\n\r\nhello\r\n", "LF to CRLF");
  check("A: b\r\n\r\nhello\r\n", "A: b\r\n\r\nhello\r\n", "CRLF stays one");
  check("a\rb\n", "a\rb\r\n", "bare CR kept");
  check("a\r\rb\r\r\n", "a\r\rb\r\r\n", "CRs before a CRLF kept");
  check(".x\n..y\n.\nz.\n", "..x\r\n...y\r\n..\r\nz.\r\n", "dots stuffed at line starts only");
  check("a\n.", "a\r\n..\r\n", "a last lone dot without LF");
  check("last", "last\r\n", "missing final newline added");
  check("last\r", "last\r\n", "a final bare CR gets only LF");
  check("", "", "empty file: nothing");
  check("\n\n", "\r\n\r\n", "empty lines");
  check("a\n\r\n.\r\n", "a\r\n\r\n..\r\n", "lone dot line with CRLF stuffed");

  check_top("A: b\nC: d\n\nl1\nl2\nl3\n", 0, "A: b\r\nC: d\r\n\r\n", "TOP 0: header and empty line");
  check_top("A: b\nC: d\n\nl1\nl2\nl3\n", 2, "A: b\r\nC: d\r\n\r\nl1\r\nl2\r\n", "TOP 2");
  check_top("A: b\n\nl1\nl2", 99, "A: b\r\n\r\nl1\r\nl2\r\n", "TOP beyond the end: all, final CRLF added");
  check_top("A: b\r\n\r\n.l1\r\nl2\r\n", 1, "A: b\r\n\r\n..l1\r\n", "TOP with CRLF header, stuffed body line");
  check_top("A: b\nC: d\n", 0, "A: b\r\nC: d\r\n", "TOP of a message without body");
  check_top("A: b\n \n\nx\n", 0, "A: b\r\n \r\n\r\n", "a line of one space does not end the header");
  check_top("A: b\r\r\nx\n\ny\n", 0, "A: b\r\r\nx\r\n\r\n", "a line of CR CR does not end the header");

  pop3msg_init(&m, fail_put, 0, 0, 0);
  is_int(pop3msg_feed(&m, "abc\n", 4), -1, "a failing sink stops the feed");
  pop3msg_init(&m, 0, 0, 0, 0);
  pop3msg_feed(&m, ".a\nb", 4);
  pop3msg_end(&m);
  is_int(pop3msg_size(&m), 7, "counting without a sink: \".a\\r\\nb\\r\\n\"");
  return done_testing();
}
