/* tests/unit/rreply.c: hub/remote/rreply.c, the SMTP reply parser of qmail-remote:
 * single and multi-line replies fed whole and byte by byte, bare "DDD",
 * LF without CR, short lines (BAD-INPUT C1), odd codes and classes (C4),
 * control bytes (C3), the text cap and the read cap (C2), the per-line
 * hook, and the bytes after a reply left for the next one. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "rreply.h"

static struct rreply r;

/* feed: the whole input at once (chunk 0) or in chunks; returns the status. */
static int feed(const char *in, size_t len, size_t chunk, size_t *usedall)
{
  size_t pos = 0;
  int s = RREPLY_MORE;
  rreply_start(&r);
  while (pos < len && s == RREPLY_MORE) {
    size_t n = chunk && len - pos > chunk ? chunk : len - pos, used;
    s = rreply_feed(&r, in + pos, n, &used);
    pos += used;
  }
  if (usedall) *usedall = pos;
  return s;
}

static void goodn(const char *in, size_t len, int code, const char *text, const char *name)
{
  size_t c;
  for (c = 0; c <= 3; ++c) {
    char nm[200];
    int s = feed(in, len, c, 0);
    snprintf(nm, sizeof nm, "%s (chunk %zu)", name, c);
    ok(s == RREPLY_DONE && r.code == code, nm);
    if (c == 0) is_str(r.text, text, name);
  }
}

static void good(const char *in, int code, const char *text, const char *name)
{
  goodn(in, strlen(in), code, text, name);
}

static void bad(const char *in, size_t len, const char *name)
{
  int s = feed(in, len, 1, 0);
  ok(s == RREPLY_BAD && r.code == 0, name);
}

static int lines;
static void online(void *ctx, const char *line, size_t len)
{
  (void)ctx;
  if (len >= 14 && memcmp(line, "250-PIPELINING", 14) == 0) ++lines;
  ++lines;
}

int main(void)
{
  size_t used;
  static char big[RREPLY_READMAX + 200];
  size_t i;
  good("220 mx.example ESMTP\r\n", 220, "220 mx.example ESMTP", "one line");
  good("250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 250, "250-mx / 250-PIPELINING / 250 8BITMIME", "multi-line");
  good("250\r\n", 250, "250", "bare code");
  good("354 go\n", 354, "354 go", "LF without CR");
  good("250-\r\n250 ok\r\n", 250, "250- / 250 ok", "C1: empty continuation line 250-");
  goodn("550 a\x00" "b\x1b[1mc\rd\xff\r\n", 18, 550, "550 a?b?[1mc?d?", "C3: NUL ESC CR 8-bit sanitized");
  good("451-x\r\n552 y\r\n", 552, "451-x / 552 y", "code of the last line counts");
  bad("2\r\n", 3, "C1: '2' line is a protocol error");
  bad("220-\r\n2\r\n", 9, "C1: 220- then 2");
  bad("25\r\n", 4, "C1: two digits");
  bad("abc x\r\n", 7, "C4: letters as a code");
  bad("2a0 x\r\n", 7, "C4: a letter inside the code");
  bad("250x\r\n", 6, "bad separator after the code");
  bad("\r\n", 2, "empty line");
  good("999 what\r\n", 999, "999 what", "C4: 999 parses");
  is_int(rreply_class(999), 4, "C4: 999 is temporary");
  is_int(rreply_class(0), 4, "C4: 000/protocol error is temporary");
  is_int(rreply_class(199), 4, "C4: 1xx is temporary");
  is_int(rreply_class(250), 2, "2xx");
  is_int(rreply_class(354), 3, "3xx");
  is_int(rreply_class(421), 4, "4xx");
  is_int(rreply_class(554), 5, "5xx");
  ok(feed("250 a\r\n220 next\r\n", 17, 0, &used) == RREPLY_DONE && used == 7, "stops after the reply: the next one stays");
  ok(feed("250-a\r\n", 7, 0, &used) == RREPLY_MORE && used == 7, "incomplete reply: MORE");
  /* C2: a big reply under the read cap: text capped */
  for (i = 0; i + 100 <= 500000; i += 100) { memcpy(big + i, "250-", 4); memset(big + i + 4, 'x', 94); memcpy(big + i + 98, "\r\n", 2); }
  memcpy(big + i, "250 end\r\n", 9);
  ok(feed(big, i + 9, 0, 0) == RREPLY_DONE && r.code == 250, "C2: 500 KB reply parses");
  ok(r.textlen <= RREPLY_TEXTMAX + 3 && r.cut && memcmp(r.text + r.textlen - 3, "...", 3) == 0, "C2: text capped with ...");
  for (i = 0; i + 100 <= sizeof big; i += 100) { memcpy(big + i, "250-", 4); memset(big + i + 4, 'y', 94); memcpy(big + i + 98, "\r\n", 2); }
  ok(feed(big, i, 0, 0) == RREPLY_BAD, "C2: endless 250- lines: BAD at the read cap");
  rreply_start(&r);
  r.online = online;
  lines = 0;
  ok(rreply_feed(&r, "250-mx\r\n250-PIPELINING\r\n250 SIZE 10\r\n", 37, &used) == RREPLY_DONE && lines == 4,
     "per-line hook sees each line");
  return done_testing();
}
