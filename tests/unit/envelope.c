/* tests/unit/envelope.c: TAP tests for hub/queue/envelope.c (the streaming
 * qmail-queue envelope check) and hub/queue/qname.c (queue file names):
 * good envelopes with 0, 1 and 3 recipients and a null sender, whole and
 * byte by byte; the byte count up to the final empty item when more
 * follows; every kind of format error (empty, lone NUL, T first, F twice,
 * other type bytes, EOF inside an item is "need more"); the address cap
 * at exactly max and max+1 bytes, in one chunk and split; a control
 * byte (CR, LF, ESC, DEL, TAB, \x01) in the sender or a recipient is
 * ENV_CTRL, whole and byte by byte, space and 8-bit bytes pass; names
 * "dir/S/N" for inode 0, 22, 23 and 2^64-1; an over-long dir name.
 * DSN items: d before F and after a T, whole and byte by byte; d twice, d
 * after F or after another d, d alone; a d item over ENV_DSN_MAX or with a
 * control or 8-bit byte; d items do not count as recipients. */
#include <string.h>
#include "tap.h"
#include "envelope.h"
#include "qconf.h"
#include "qname.h"

/* whole: feed s[0..len) at once. */
static long whole(const char *s, size_t len, unsigned long max)
{
  struct envscan e;
  envscan_init(&e, max);
  return envscan_feed(&e, s, len);
}

/* bytewise: feed one byte at a time; the offset of the end (1-based) or
 * the first error, 0 when it never ended. */
static long bytewise(const char *s, size_t len, unsigned long max)
{
  struct envscan e;
  size_t i;
  envscan_init(&e, max);
  for (i = 0; i < len; ++i) {
    long r = envscan_feed(&e, s + i, 1);
    if (r > 0) return (long)(i + 1);
    if (r < 0) return r;
  }
  return 0;
}

#define ENV(lit) lit, sizeof(lit) - 1

static void test_good(void)
{
  struct envscan e;
  is_int(whole(ENV("Fa@b\0\0"), 1000), 6, "sender only, no recipients");
  is_int(whole(ENV("F\0\0"), 1000), 3, "null sender, no recipients");
  is_int(whole(ENV("F\0Tx@y\0\0"), 1000), 8, "null sender, one recipient");
  is_int(whole(ENV("Fa@b\0Tc@d\0Te@f\0Tg\0\0"), 1000), 19, "three recipients");
  is_int(bytewise(ENV("Fa@b\0Tc@d\0Te@f\0Tg\0\0"), 1000), 19, "three recipients byte by byte");
  is_int(whole(ENV("Fa\0Tb\0\0garbage"), 1000), 7, "stops at the final empty item");
  is_int(whole(ENV("Fa\0T\0\0"), 1000), 6, "empty recipient item is passed on");
  envscan_init(&e, 1000);
  is_int(envscan_feed(&e, ENV("Fa\0Tb\0Tc")), 0, "partial: need more");
  is_int(envscan_rcpts(&e), 2, "two recipients begun");
  is_int(envscan_feed(&e, ENV("\0\0")), 2, "rest ends it");
  is_int(envscan_rcpts(&e), 2, "still two recipients");
}

static void test_bad(void)
{
  is_int(whole(ENV(""), 1000), 0, "nothing yet is need more");
  is_int(whole(ENV("\0"), 1000), ENV_BAD, "lone NUL");
  is_int(whole(ENV("Ta\0\0"), 1000), ENV_BAD, "T first");
  is_int(whole(ENV("Fa\0Fb\0\0"), 1000), ENV_BAD, "F twice");
  is_int(whole(ENV("Fa\0Xb\0\0"), 1000), ENV_BAD, "X item");
  is_int(whole(ENV("xa\0\0"), 1000), ENV_BAD, "lowercase type");
  is_int(whole(ENV("Fa\0\nTb\0\0"), 1000), ENV_BAD, "newline as type byte");
  is_int(bytewise(ENV("Fa\0Tb\0Q"), 1000), ENV_BAD, "bad type byte found byte by byte");
}

static void test_cap(void)
{
  char s[2100];
  size_t i;
  struct envscan e;
  s[0] = 'F';
  memset(s + 1, 'a', 1001);
  s[1001] = 0; s[1002] = 0;  /* F + 1000 bytes + NUL + NUL */
  is_int(whole(s, 1003, 1000), 1003, "1000-byte sender ok");
  s[1001] = 'a'; s[1002] = 0; s[1003] = 0;
  is_int(whole(s, 1004, 1000), ENV_LONG, "1001-byte sender too long");
  is_int(bytewise(s, 1004, 1000), ENV_LONG, "1001-byte sender byte by byte");
  memcpy(s, "Fx\0T", 4);
  memset(s + 4, 'b', 1001);
  s[1005] = 0; s[1006] = 0;
  is_int(whole(s, 1007, 1000), ENV_LONG, "1001-byte recipient too long");
  envscan_init(&e, 1000);
  for (i = 0; i < 1007; i += 100) {
    long r = envscan_feed(&e, s + i, i + 100 > 1007 ? 1007 - i : 100);
    if (r) { is_int(r, ENV_LONG, "1001-byte recipient in 100-byte chunks"); break; }
  }
  is_int(whole(ENV("Fabc\0\0"), 2), ENV_LONG, "cap 2: 3 bytes too long");
  is_int(whole(ENV("Fab\0\0"), 2), 5, "cap 2: 2 bytes ok");
}

static void test_ctrl(void)
{
  static const char ctrl[] = "\r\n\x1b\x7f\t\x01\x1f";
  size_t i;
  int n = 0, nb = 0;
  for (i = 0; i < sizeof ctrl - 1; ++i) {
    char s[] = "Fa?b@c\0Tx@y\0\0";
    char r[] = "Fa@b\0Tx?y@z\0\0";
    s[2] = ctrl[i];
    r[7] = ctrl[i];
    n += whole(s, sizeof s - 1, 1000) == ENV_CTRL;
    n += whole(r, sizeof r - 1, 1000) == ENV_CTRL;
    nb += bytewise(s, sizeof s - 1, 1000) == ENV_CTRL;
    nb += bytewise(r, sizeof r - 1, 1000) == ENV_CTRL;
  }
  is_int(n, 14, "CR, LF, ESC, DEL, TAB, 0x01, 0x1f in sender or recipient: ENV_CTRL");
  is_int(nb, 14, "the same byte by byte");
  is_int(whole(ENV("F\"a b\"@c\0T\xe9@\xff\0\0"), 1000), 15, "space and 8-bit bytes pass");
  is_int(whole(ENV("Fa\0\0\r\n"), 1000), 4, "bytes after the final item are not looked at");
}

static void test_dsn(void)
{
  struct envscan e;
  char big[ENV_DSN_MAX + 8];
  is_int(whole(ENV("dRET=HDRS\0Fa@b\0Tc@d\0dNOTIFY=NEVER\0Te@f\0\0"), 1000), 40,
         "d before F and after a T");
  is_int(bytewise(ENV("dRET=HDRS\0Fa@b\0Tc@d\0dNOTIFY=NEVER\0Te@f\0\0"), 1000), 40,
         "the same byte by byte");
  envscan_init(&e, 1000);
  envscan_feed(&e, ENV("dENVID=x\0Fa\0Tb\0dORCPT=rfc822;b\0Tc\0dNOTIFY=SUCCESS\0\0"));
  is_int(envscan_rcpts(&e), 2, "d items are no recipients");
  is_int(whole(ENV("Fa\0Tb\0dNOTIFY=NEVER\0\0"), 1000), 21, "d after the last T");
  is_int(whole(ENV("Fa\0dRET=FULL\0Tb\0\0"), 1000), ENV_BAD, "d after F");
  is_int(whole(ENV("dRET=FULL\0dENVID=x\0Fa\0\0"), 1000), ENV_BAD, "two d before F");
  is_int(whole(ENV("Fa\0Tb\0dNOTIFY=NEVER\0dORCPT=a;b\0\0"), 1000), ENV_BAD, "two d after a T");
  is_int(whole(ENV("dRET=FULL\0\0"), 1000), ENV_BAD, "d and no F");
  is_int(whole(ENV("dRET=FULL\0Ta\0\0"), 1000), ENV_BAD, "d then T");
  is_int(whole(ENV("Fa\0Tb\0dNOTIFY=\nNEVER\0\0"), 1000), ENV_CTRL, "LF in a d item");
  is_int(whole(ENV("Fa\0Tb\0dORCPT=a;\xc3\xa9\0\0"), 1000), ENV_CTRL, "8-bit byte in a d item");
  is_int(whole(ENV("Fa\0Tb\0dORCPT=a;b c\0\0"), 1000), 20, "blank in a d item passes (qmail-send checks words)");
  big[0] = 'd';
  memset(big + 1, 'x', ENV_DSN_MAX);
  big[ENV_DSN_MAX + 1] = 0;
  envscan_init(&e, 10);
  is_int(envscan_feed(&e, big, ENV_DSN_MAX + 2), 0, "d item of ENV_DSN_MAX bytes (over the address cap)");
  envscan_init(&e, 10);
  big[ENV_DSN_MAX + 1] = 'x';
  is_int(envscan_feed(&e, big, ENV_DSN_MAX + 2), ENV_LONG, "d item over ENV_DSN_MAX");
}

static void test_qname(void)
{
  char b[QNAME_MAX];
  size_t n;
  n = qname_file(b, "mess", 0);
  is_mem(b, n, "mess/0/0", "inode 0");
  n = qname_file(b, "todo", 22);
  is_mem(b, n, "todo/22/22", "inode 22");
  n = qname_file(b, "intd", 23);
  is_mem(b, n, "intd/0/23", "inode 23");
  n = qname_file(b, "remote", 18446744073709551615ULL);
  is_mem(b, n, "remote/5/18446744073709551615", "inode 2^64-1 (split 5)");
  n = qname_dir(b, "todo", 10955286);
  is_mem(b, n, "todo/18", "dir of 10955286");
  is_int(qname_split(10955286), 18, "split of 10955286");
  is_int(qname_file(b, "a-directory-name-too-long", 1), 0, "too long a dir");
  is_int(b[0], 0, "buf empty then");
  is_int(QUEUE_SPLIT, 23, "split 23");
}

int main(void)
{
  test_good();
  test_bad();
  test_cap();
  test_ctrl();
  test_dsn();
  test_qname();
  return done_testing();
}
