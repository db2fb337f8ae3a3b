/* tests/unit/msgid.c: TAP tests for hub/queue/msgid.c: the queue id's format
 * (nine-digit nanoseconds, zero and 2^64-1 parts, the same inode at two
 * times gives two ids) and qid_check on good and bad forms; the Message-ID
 * scanner on a plain header, any case of the name, blanks before the
 * colon, folds, CRLF, tabs, the first field winning, a Message-ID in the
 * body or in a continuation line not taken, control and 8-bit bytes and
 * backslashes escaped, the cap at MID_MAX never cutting an escape, a
 * value cut at end of input, and every case again fed byte by byte. */
#include <string.h>
#include "tap.h"
#include "msgid.h"

static void test_qid(void)
{
  char s[QID_MAX], t[QID_MAX];
  size_t n;
  n = qid_fmt(s, 1733561234ULL, 123456789UL, 4711ULL);
  is_mem(s, n, "1733561234.123456789.4711", "sec.nsec.ino");
  is_int(s[n], 0, "NUL-terminated");
  n = qid_fmt(s, 1733561234ULL, 5UL, 0ULL);
  is_mem(s, n, "1733561234.000000005.0", "nanoseconds padded to nine digits, inode 0");
  n = qid_fmt(s, 18446744073709551615ULL, 999999999UL, 18446744073709551615ULL);
  is_mem(s, n, "18446744073709551615.999999999.18446744073709551615", "largest parts");
  ok(n < QID_MAX, "fits QID_MAX");
  ok(qid_check(s, n), "largest id checks");
  n = qid_fmt(s, 0ULL, 1000000001UL, 7ULL);
  is_mem(s, n, "0.000000001.7", "nanoseconds modulo 10^9");
  qid_fmt(s, 1733561234ULL, 100UL, 4711ULL);
  qid_fmt(t, 1733561234ULL, 101UL, 4711ULL);
  ok(strcmp(s, t) != 0, "one inode at two times: two ids");
  ok(qid_check(s, strlen(s)), "a made id checks");
  ok(qid_check("1.123456789.2", 13), "short parts ok");
  ok(!qid_check("", 0), "empty");
  ok(!qid_check("1.12345678.2", 12), "eight-digit nanoseconds");
  ok(!qid_check("1.1234567890.2", 14), "ten-digit nanoseconds");
  ok(!qid_check("1.123456789.", 12), "no inode");
  ok(!qid_check(".123456789.2", 12), "no seconds");
  ok(!qid_check("1.123456789.2x", 14), "trailing junk");
  ok(!qid_check("1.123456789", 11), "two parts");
  ok(!qid_check("1.123456789.2.3", 15), "four parts");
  ok(!qid_check("1 123456789.2", 13), "blank");
  ok(!qid_check("123456789012345678901.123456789.2", 33), "21-digit seconds");
}

/* scan: the Message-ID of msg, fed whole (bytewise 0) or byte by byte. */
static const char *scan(const char *msg, size_t len, int bytewise)
{
  static struct midscan m;
  static char out[MID_MAX + 1];
  const char *v;
  size_t i, n;
  midscan_init(&m);
  if (bytewise) for (i = 0; i < len; ++i) midscan_feed(&m, msg + i, 1);
  else midscan_feed(&m, msg, len);
  n = midscan_value(&m, &v);
  memcpy(out, v, n);
  out[n] = 0;
  return out;
}

#define MSG(lit) lit, sizeof(lit) - 1
#define BOTH(lit, exp, name) do { \
  is_str(scan(MSG(lit), 0), exp, name); \
  is_str(scan(MSG(lit), 1), exp, name " (byte by byte)"); } while (0)

static void test_scan(void)
{
  BOTH("Subject: x\nMessage-ID: <a@b>\n\nbody\n", "<a@b>", "plain");
  BOTH("message-id:<a@b>\n\n", "<a@b>", "lower case, no blank");
  BOTH("MESSAGE-ID  :  <a@b>  \n\n", "<a@b>", "blanks before the colon and at both ends");
  BOTH("Message-ID:\n <a@b>\n\n", "<a@b>", "folded before the value");
  BOTH("Message-ID: <a@\n\tb>\n\n", "<a@ b>", "folded inside: the tab is a space");
  BOTH("Message-ID: <a@b>\r\nX: y\r\n\r\n", "<a@b>", "CRLF");
  BOTH("Message-ID:\r\n <a@b>\r\n\r\n", "<a@b>", "CRLF fold");
  BOTH("Message-ID: <first@b>\nMessage-ID: <second@b>\n\n", "<first@b>", "the first field wins");
  BOTH("Subject: x\n\nMessage-ID: <body@b>\n", "", "in the body: none");
  BOTH("Subject: x\r\n\r\nMessage-ID: <body@b>\n", "", "in the body after CRLF: none");
  BOTH("Subject: x\n Message-ID: <c@b>\n\n", "", "a continuation line is not a field");
  BOTH("Message-IDs: <a@b>\n\n", "", "a longer name");
  BOTH("Message-I: <a@b>\n\n", "", "a shorter name");
  BOTH("X-Message-ID: <a@b>\n\n", "", "another name ending in it");
  BOTH("Message-ID <a@b>\n\n", "", "no colon");
  BOTH("Message-ID:\n\n", "", "empty value");
  BOTH("Message-ID: \n \n\n", "", "blank value, folded");
  BOTH("Subject: x\n", "", "no field, header to the end");
  BOTH("Message-ID: <a@b", "<a@b", "input ends in the value");
  BOTH("Message-ID: <a\001b\033[2J\177@c>\n\n", "<a\\001b\\033[2J\\177@c>", "control bytes escaped");
  BOTH("Message-ID: <a\\b\r@c>\n\n", "<a\\\\b\\015@c>", "backslash doubled, bare CR escaped");
  BOTH("Message-ID: <\303\251@c>\n\n", "<\\303\\251@c>", "8-bit bytes escaped");
  BOTH("Message-ID: <a\0b@c>\n\n", "<a\\000b@c>", "NUL escaped");
  BOTH("Subject: a\0\nMessage-ID: <a@b>\n\n", "<a@b>", "NUL in an earlier field");
}

static void test_cap(void)
{
  char msg[1000], want[MID_MAX + 1];
  size_t n = 0, i;
  const char *v;
  n += (size_t)sprintf(msg, "Message-ID: <");
  for (i = 0; i < 400; ++i) msg[n++] = 'x';
  n += (size_t)sprintf(msg + n, ">\n\n");
  memset(want, 'x', MID_MAX);
  want[0] = '<';
  want[MID_MAX] = 0;
  v = scan(msg, n, 0);
  is_int(strlen(v), MID_MAX, "a long Message-ID is cut at MID_MAX");
  is_str(v, want, "its first MID_MAX bytes");
  is_str(scan(msg, n, 1), want, "the same byte by byte");
  /* an escape that would cross the cap is left out, whole */
  n = (size_t)sprintf(msg, "Message-ID: <");
  for (i = 0; i < MID_MAX - 3; ++i) msg[n++] = 'y';
  msg[n++] = '\001';
  msg[n++] = 'z';
  msg[n++] = '\n';
  v = scan(msg, n, 0);
  is_int(strlen(v), MID_MAX - 2, "an escape that does not fit is dropped, and what follows");
  ok(v[strlen(v) - 1] == 'y', "no half escape at the end");
  /* blanks before the cap are trimmed */
  n = (size_t)sprintf(msg, "Message-ID: <a>");
  for (i = 0; i < 300; ++i) msg[n++] = ' ';
  msg[n++] = 'q';
  msg[n++] = '\n';
  is_str(scan(msg, n, 0), "<a>", "blanks up to the cap are trimmed");
}

int main(void)
{
  test_qid();
  test_scan();
  test_cap();
  return done_testing();
}
