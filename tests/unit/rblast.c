/* tests/unit/rblast.c: hub/remote/rblast.c, qmail-remote's message encoders.
 * SMTP DATA: LF -> CRLF, leading dots doubled, a last line without LF
 * completed, the final dot; QMTP's LF encoding: lines as they are. Both:
 * no lone CR (a CR before an LF is part of the line end, any other CR
 * becomes a space), wherever the input is split into chunks; the LF form's
 * length is the size less rblast_scan's crlfs; rblast_scan's LF count and
 * 8-bit flag. */
#include <string.h>
#include "tap.h"
#include "rblast.h"

/* encode: in through mode, split at cut, into out. */
static void encode(int mode, const char *in, size_t len, size_t cut, stralloc *out)
{
  struct rblast b;
  out->len = 0;
  rblast_start(&b, mode);
  rblast_put(&b, in, cut, out);
  rblast_put(&b, in + cut, len - cut, out);
  rblast_end(&b, out);
}

static void enc_mode(int mode, const char *in, const char *want, const char *name)
{
  size_t len = strlen(in), cut, same = 1;
  stralloc out = {0};
  for (cut = 0; cut <= len; ++cut) {
    encode(mode, in, len, cut, &out);
    if (out.len != strlen(want) || memcmp(out.s, want, out.len)) same = 0;
  }
  is_sa(out, want, name);
  ok(same, "every chunking gives the same bytes");
  stralloc_free(&out);
}

static void enc(const char *in, const char *want, const char *name)
{
  enc_mode(RBLAST_SMTP, in, want, name);
}

/* lone: 1 when s[0..len) has a CR or LF outside a CRLF pair. */
static int lone(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; ++i) {
    if (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n')) return 1;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return 1;
  }
  return 0;
}

/* every byte string of CR, LF, '.', 'x' up to length 7: SMTP output has no
 * lone CR or LF and no early end of data; the LF output has no CR and
 * the length rblast_scan predicts. */
static void exhaustive(void)
{
  static const char alpha[] = "\r\n.x";
  char in[8];
  stralloc out = {0};
  size_t len, bad_lone = 0, bad_dot = 0, bad_len = 0, bad_cr = 0, n = 0;
  for (len = 0; len <= 7; ++len) {
    size_t k, total = 1;
    for (k = 0; k < len; ++k) total *= 4;
    for (k = 0; k < total; ++k) {
      size_t v = k, i, cut;
      struct rblast_facts f = {0};
      for (i = 0; i < len; ++i) { in[i] = alpha[v % 4]; v /= 4; }
      for (cut = 0; cut <= len; ++cut) {
        const char *end;
        encode(RBLAST_SMTP, in, len, cut, &out);
        ++n;
        if (lone(out.s, out.len)) ++bad_lone;
        end = memmem(out.s, out.len, "\r\n.\r\n", 5);
        if (out.len >= 3 && memcmp(out.s, ".\r\n", 3) == 0 && out.len != 3) ++bad_dot;
        if (end && end + 5 != out.s + out.len) ++bad_dot;
        encode(RBLAST_LF, in, len, cut, &out);
        if (memchr(out.s, '\r', out.len)) ++bad_cr;
        rblast_scan(&f, in, cut);
        rblast_scan(&f, in + cut, len - cut);
        if (out.len != len - f.crlfs) ++bad_len;
        memset(&f, 0, sizeof f);
      }
    }
  }
  ok(n > 20000, "exhaustive: over 20000 inputs and splits tried");
  is_int(bad_lone, 0, "exhaustive: SMTP never has a lone CR or LF");
  is_int(bad_dot, 0, "exhaustive: SMTP's end of data only at the end");
  is_int(bad_cr, 0, "exhaustive: the LF form has no CR");
  is_int(bad_len, 0, "exhaustive: the LF form's length is size - crlfs");
  stralloc_free(&out);
}

int main(void)
{
  struct rblast_facts f = {0};
  enc("a\nb\n", "a\r\nb\r\n.\r\n", "LF -> CRLF, final dot");
  enc(".x\n..y\nz.\n", "..x\r\n...y\r\nz.\r\n.\r\n", "leading dots doubled, others kept");
  enc(".\n", "..\r\n.\r\n", "a lone dot line");
  enc("a\rb\n", "a b\r\n.\r\n", "bare CR becomes a space");
  enc("a\r\n", "a\r\n.\r\n", "CR before LF is part of the line end");
  enc("a\r\r\n", "a \r\n.\r\n", "CR CR LF: a space, then the line end");
  enc("a\n\r.\r\nb\n", "a\r\n .\r\nb\r\n.\r\n", "CR . CR LF: not a dot line");
  enc("\r\n.\r\n", "\r\n..\r\n.\r\n", "stored CRLF.CRLF: the dot is doubled");
  enc("a\r", "a \r\n.\r\n", "a CR at the very end becomes a space");
  enc("\r", " \r\n.\r\n", "a message of one CR");
  enc("last", "last\r\n.\r\n", "last line without LF completed");
  enc("", ".\r\n", "empty message");
  enc("\n.\n", "\r\n..\r\n.\r\n", "dot after an empty line");
  enc_mode(RBLAST_LF, ".x\na\rb\r\nc\r", ".x\na b\nc ", "LF form: dots kept, CR LF -> LF, bare CR -> space");
  enc_mode(RBLAST_LF, "no end", "no end", "LF form: nothing added at the end");
  exhaustive();
  rblast_scan(&f, "a\nb\xc3\n\n", 6);
  ok(f.lfs == 3 && f.eightbit == 1 && f.crlfs == 0, "scan: 3 LFs, 8-bit");
  memset(&f, 0, sizeof f);
  rblast_scan(&f, "plain\r", 6);
  rblast_scan(&f, "\nx\r\r\n\r", 6);
  ok(f.lfs == 2 && f.eightbit == 0 && f.crlfs == 2, "scan: CR LF across chunks counted, 7-bit");
  return done_testing();
}
