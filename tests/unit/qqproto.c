/* tests/unit/qqproto.c: TAP tests for the queue socket's wire protocol:
 * hub/queue/qqproto.c (the daemon's streaming parser) and common/q_qq.c's
 * qq_reply_parse (the client's reading of the verdict). A message in
 * chunks, then "0:,", then an envelope gives the same bytes and events
 * whole, byte by byte and in every two-piece split; an empty message;
 * the chunk cap at exactly QQ_CHUNKMAX and one above; framing errors
 * (leading zero, no digits, a letter, no comma, a comma missing after
 * the end chunk) are QQP_BADCHUNK (81); envelope errors are 91 (format,
 * over QQ_ENVMAX) and 11 (an address over the cap, a control byte);
 * after an error or the end every call repeats it; bytes after the
 * envelope are not taken. Replies: "1:0,", "2:53,", "3:82 text" forms,
 * and malformed ones (no netstring, leading zero, code over 255, no
 * space before the text, trailing bytes, text over the cap). */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "q_qq.h"
#include "qqproto.h"

#define S(lit) lit, sizeof(lit) - 1

struct got {
  char msg[256], env[256];
  size_t msglen, envlen;
  int ended, envended, err;
};

/* run: feed in[0..len) in pieces of at most step bytes (0: a split at
 * cut, two pieces); collect the events */
static void run(const char *in, size_t len, size_t step, size_t cut, unsigned long max, struct got *g)
{
  struct qqp p;
  size_t off = 0;
  memset(g, 0, sizeof *g);
  qqp_init(&p, max);
  while (off < len && !g->err && !g->envended) {
    size_t n = step ? (len - off < step ? len - off : step) : (off < cut ? cut - off : len - off);
    const char *b = in + off;
    off += n;
    while (n && !g->err && !g->envended) {
      const char *d;
      size_t used, dl;
      int ev = qqp_next(&p, b, n, &used, &d, &dl);
      b += used;
      n -= used;
      if (ev < 0) g->err = ev;
      else if (ev == QQP_DATA) { memcpy(g->msg + g->msglen, d, dl); g->msglen += dl; }
      else if (ev == QQP_MSGEND) g->ended = 1;
      else if (ev == QQP_ENV || ev == QQP_ENVEND) {
        memcpy(g->env + g->envlen, d, dl);
        g->envlen += dl;
        if (ev == QQP_ENVEND) g->envended = 1;
      }
    }
  }
}

static int same(const struct got *g, const char *msg, size_t ml, const char *env, size_t el)
{
  return !g->err && g->ended && g->envended && g->msglen == ml && !memcmp(g->msg, msg, ml) &&
         g->envlen == el && !memcmp(g->env, env, el);
}

static void test_good(void)
{
  static const char in[] = "5:Hello,3: wo,3:rld,0:,Fa@b\0Tc@d\0\0";
  struct got g;
  size_t i;
  int all = 1;
  run(S(in), sizeof in, 0, 1000, &g);
  ok(same(&g, S("Hello world"), S("Fa@b\0Tc@d\0\0")), "whole: message and envelope");
  run(S(in), 1, 0, 1000, &g);
  ok(same(&g, S("Hello world"), S("Fa@b\0Tc@d\0\0")), "byte by byte");
  for (i = 1; i < sizeof in - 1; ++i) {
    run(S(in), 0, i, 1000, &g);
    if (!same(&g, S("Hello world"), S("Fa@b\0Tc@d\0\0"))) all = 0;
  }
  ok(all, "every two-piece split");
  run(S("0:,F\0\0"), 100, 0, 1000, &g);
  ok(same(&g, "", 0, S("F\0\0")), "empty message, null sender, no recipients");
  run(S("1:x,0:,Fa\0\0garbage"), 100, 0, 1000, &g);
  ok(same(&g, S("x"), S("Fa\0\0")), "bytes after the envelope are not taken");
}

static void test_cap(void)
{
  size_t n = QQ_CHUNKMAX + 32;
  char *b = malloc(n + 32);
  struct got g;
  struct qqp p;
  const char *d;
  size_t used, dl, off;
  int ev;
  /* exactly QQ_CHUNKMAX: one DATA event of it all */
  off = (size_t)sprintf(b, "%lu:", (unsigned long)QQ_CHUNKMAX);
  memset(b + off, 'a', QQ_CHUNKMAX);
  qqp_init(&p, 1000);
  ev = qqp_next(&p, b, off + QQ_CHUNKMAX, &used, &d, &dl);
  ok(ev == QQP_DATA && dl == QQ_CHUNKMAX && used == off + QQ_CHUNKMAX && d == b + off,
     "a chunk of QQ_CHUNKMAX bytes is taken in one event");
  off = (size_t)sprintf(b, "%lu:", (unsigned long)QQ_CHUNKMAX + 1);
  run(b, off, 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADCHUNK, "QQ_CHUNKMAX + 1 is refused at its head");
  run(S("99999999999:"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADCHUNK, "a length of 11 digits");
  free(b);
}

static void test_badchunk(void)
{
  struct got g;
  run(S("05:Hello,0:,F\0\0"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADCHUNK, "leading zero");
  run(S(":x,"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADCHUNK, "no digits");
  run(S("5x"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADCHUNK, "a letter in the length");
  run(S("1:ab"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADCHUNK, "no comma after the data");
  run(S("0:F\0\0"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADCHUNK, "no comma after the end chunk");
  run(S("Fa@b\0\0"), 1, 0, 1000, &g);
  is_int(g.err, QQP_BADCHUNK, "an envelope without the message");
  is_int(qqp_code(QQP_BADCHUNK), 81, "framing is 81");
}

static void test_badenv(void)
{
  struct got g;
  struct qqp p;
  const char *d;
  size_t used, dl;
  char big[1100];
  run(S("0:,Ta\0\0"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADENV, "T first");
  is_int(qqp_code(g.err), 91, "envelope format is 91");
  run(S("0:,\0"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_BADENV, "a lone NUL");
  run(S("0:,Fa\0Tb\rc\0\0"), 0, 1000, 1000, &g);
  is_int(g.err, QQP_LONGADDR, "CR in a recipient");
  is_int(qqp_code(g.err), 11, "that is 11");
  big[0] = 'F';
  memset(big + 1, 'a', 11);
  big[12] = 0; big[13] = 0;
  run(big, 14, 0, 1000, 10, &g);
  ok(g.err == QQP_BADCHUNK, "(no message: framing first)");
  {
    char in[32] = "0:,";
    memcpy(in + 3, big, 14);
    run(in, 17, 0, 1000, 10, &g);
    is_int(g.err, QQP_LONGADDR, "an 11-byte sender over a cap of 10");
    run(in, 17, 0, 1000, 11, &g);
    ok(!g.err && g.envended, "the same under a cap of 11");
  }
  /* over QQ_ENVMAX: fed in pieces of recipients */
  qqp_init(&p, 1000);
  ok(qqp_next(&p, S("0:,"), &used, &d, &dl) == QQP_MSGEND, "end chunk");
  qqp_next(&p, S("Fa\0"), &used, &d, &dl);
  big[0] = 'T';
  memset(big + 1, 'x', 998);
  big[999] = 0;
  {
    unsigned long long sent = 3;
    int ev = QQP_ENV;
    while (ev == QQP_ENV && sent <= QQ_ENVMAX + 1000) {
      ev = qqp_next(&p, big, 1000, &used, &d, &dl);
      sent += 1000;
    }
    is_int(ev, QQP_BIGENV, "an envelope over QQ_ENVMAX");
    ok(sent > QQ_ENVMAX && sent <= QQ_ENVMAX + 1000, "refused right past the cap");
    is_int(qqp_code(ev), 91, "that is 91");
    is_int(qqp_next(&p, S("\0"), &used, &d, &dl), QQP_BIGENV, "an error repeats");
  }
}

static void test_reply(void)
{
  int code = -1;
  const char *t;
  size_t tl;
  ok(qq_reply_parse(S("1:0,"), &code, &t, &tl) && code == 0 && tl == 0, "1:0,");
  ok(qq_reply_parse(S("2:53,"), &code, &t, &tl) && code == 53, "2:53,");
  ok(qq_reply_parse(S("9:82 Dnope.,"), &code, &t, &tl) && code == 82 && tl == 6 &&
     !memcmp(t, "Dnope.", 6), "82 with text");
  ok(!qq_reply_parse(S(""), &code, &t, &tl), "nothing (the daemon died)");
  ok(!qq_reply_parse(S("1:0"), &code, &t, &tl), "no comma");
  ok(!qq_reply_parse(S("2:05,"), &code, &t, &tl), "leading zero");
  ok(!qq_reply_parse(S("3:256,"), &code, &t, &tl), "over 255");
  ok(!qq_reply_parse(S("4:1000,"), &code, &t, &tl), "four digits");
  ok(!qq_reply_parse(S("3:0xy,"), &code, &t, &tl), "no space before text");
  ok(!qq_reply_parse(S("1:0,1:0,"), &code, &t, &tl), "trailing bytes");
  ok(!qq_reply_parse(S("0:,"), &code, &t, &tl), "empty reply");
  {
    char b[1100];
    size_t n = (size_t)sprintf(b, "%d:82 ", QQ_TEXTMAX + 4);
    memset(b + n, 'x', QQ_TEXTMAX + 1);
    b[n + QQ_TEXTMAX + 1] = ',';
    ok(!qq_reply_parse(b, n + QQ_TEXTMAX + 2, &code, &t, &tl), "text over QQ_TEXTMAX");
    n = (size_t)sprintf(b, "%d:82 ", QQ_TEXTMAX + 3);
    memset(b + n, 'x', QQ_TEXTMAX);
    b[n + QQ_TEXTMAX] = ',';
    ok(qq_reply_parse(b, n + QQ_TEXTMAX + 1, &code, &t, &tl) && tl == QQ_TEXTMAX, "text of QQ_TEXTMAX");
  }
}

int main(void)
{
  test_good();
  test_cap();
  test_badchunk();
  test_badenv();
  test_reply();
  return done_testing();
}
