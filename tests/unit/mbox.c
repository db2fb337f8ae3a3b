/* tests/unit/mbox.c: mboxrd quoting and From_ lines (common/q_mbox.h).
 * Checks: ^>*From  lines get one more '>', look-alikes stay as they are,
 * a last line without newline is completed, byte-by-byte feeding gives the
 * same result as one call, From_ line shape, the fd streaming path. */
#include <stdlib.h>
#include <unistd.h>
#include "tap.h"
#include "q_mbox.h"

/* quoted: the body part (no From_ line) of an entry for msg. */
static void quoted(stralloc *out, const char *msg)
{
  struct mbox_quote q;
  out->len = 0;
  mbox_quote_init(&q);
  if (!mbox_quote_feed(&q, out, msg, strlen(msg)) || !mbox_quote_end(&q, out)) exit(2);
}

/* quoted_bytewise: same, fed one byte per call. */
static void quoted_bytewise(stralloc *out, const char *msg)
{
  struct mbox_quote q;
  size_t i;
  out->len = 0;
  mbox_quote_init(&q);
  for (i = 0; msg[i]; ++i)
    if (!mbox_quote_feed(&q, out, msg + i, 1)) exit(2);
  if (!mbox_quote_end(&q, out)) exit(2);
}

static void test_quoting(void)
{
  stralloc sa = {0};
  quoted(&sa, "From me\n");
  is_sa(sa, ">From me\n\n", "From  is quoted");
  quoted(&sa, ">From me\n");
  is_sa(sa, ">>From me\n\n", ">From  gets a second >");
  quoted(&sa, ">>From me\n");
  is_sa(sa, ">>>From me\n\n", ">>From  gets a third >");
  quoted(&sa, "From: a@b\nFromage\nFrom\n>From:\n");
  is_sa(sa, "From: a@b\nFromage\nFrom\n>From:\n\n", "From:, Fromage, From, >From: untouched");
  quoted(&sa, "x From y\n >From z\n");
  is_sa(sa, "x From y\n >From z\n\n", "From  not at line start untouched");
  quoted(&sa, "a\nFrom b");
  is_sa(sa, "a\n>From b\n\n", "last line without newline quoted and completed");
  quoted(&sa, "a\n>>Fro");
  is_sa(sa, "a\n>>Fro\n\n", "held partial prefix at end released");
  quoted(&sa, "");
  is_sa(sa, "\n", "empty message is just the blank line");
  quoted(&sa, "\n\nFrom x\n\n");
  is_sa(sa, "\n\n>From x\n\n\n", "empty lines around a From  line");
  stralloc_free(&sa);
}

static void test_bytewise(void)
{
  static const char *const msgs[] = {
    "From a\n>From b\n>>>From c\nFromage\nFrom", ">\n>>\n>F\n>Fr\nFrom  \n", "x\r\nFrom \r\n",
  };
  stralloc a = {0}, b = {0};
  size_t i;
  int same = 1;
  for (i = 0; i < sizeof msgs / sizeof msgs[0]; ++i) {
    quoted(&a, msgs[i]);
    quoted_bytewise(&b, msgs[i]);
    if (a.len != b.len || memcmp(a.s, b.s, a.len)) same = 0;
  }
  ok(same, "byte-by-byte feeding equals one feed");
  quoted_bytewise(&b, ">\n>>\n>F\n>Fr\nFrom  \n");
  is_sa(b, ">\n>>\n>F\n>Fr\n>From  \n\n", "short prefixes across calls");
  stralloc_free(&a);
  stralloc_free(&b);
}

static void test_fromline(void)
{
  stralloc sa = {0};
  ok(mbox_fromline(&sa, "a@b.example", 11, 0), "fromline ok");
  is_sa(sa, "From a@b.example Thu Jan  1 00:00:00 1970\n", "From_ line, asctime date, UTC");
  sa.len = 0;
  ok(mbox_fromline(&sa, "", 0, 1763900000), "fromline empty sender ok");
  is_sa(sa, "From MAILER-DAEMON Sun Nov 23 12:13:20 2025\n", "empty sender is MAILER-DAEMON");
  sa.len = 0;
  ok(mbox_fromline(&sa, "a b\tc\n", 6, 0), "fromline odd sender ok");
  is_sa(sa, "From a_b_c_ Thu Jan  1 00:00:00 1970\n", "blanks and controls become _");
  sa.len = 0;
  ok(mbox_message(&sa, "s@x", 3, 0, "Subject: x\n\nFrom here\n", 22), "mbox_message ok");
  is_sa(sa, "From s@x Thu Jan  1 00:00:00 1970\nSubject: x\n\n>From here\n\n",
        "whole entry");
  stralloc_free(&sa);
}

/* test_copyfd: stream a file through mbox_copyfd into another file. */
static void test_copyfd(void)
{
  char in[] = "/tmp/mboxtestinXXXXXX", outn[] = "/tmp/mboxtestoutXXXXXX";
  static const char msg[] = "Return-Path: <a@b>\n\nFrom x\nbye";
  char got[256];
  int fi = mkstemp(in), fo = mkstemp(outn);
  ssize_t n;
  ok(fi >= 0 && fo >= 0, "temp files");
  if (fi < 0 || fo < 0) return;
  ok(write(fi, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1), "write input");
  lseek(fi, 0, SEEK_SET);
  is_int(mbox_copyfd(fo, fi, "a@b", 3, 86400), 0, "mbox_copyfd ok");
  n = pread(fo, got, sizeof got, 0);
  is_mem(got, n > 0 ? (size_t)n : 0,
         "From a@b Fri Jan  2 00:00:00 1970\nReturn-Path: <a@b>\n\n>From x\nbye\n\n",
         "streamed entry");
  is_int(mbox_copyfd(fo, -1, "", 0, 0), MBOX_EREAD, "read error reported");
  is_int(mbox_copyfd(-1, fi, "", 0, 0), MBOX_EWRITE, "write error reported");
  unlink(in);
  unlink(outn);
  close(fi);
  close(fo);
}

int main(void)
{
  test_quoting();
  test_bytewise();
  test_fromline();
  test_copyfd();
  return done_testing();
}
