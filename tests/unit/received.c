/* tests/unit/received.c: TAP tests for hub/servers/received.c, the Received line
 * of qmail-smtpd, qmail-qmtpd and qmail-qmqpd: the plain line, and that
 * a HELO, host, ident, IP or local name holding CR, LF, ESC, DEL, TAB,
 * 8-bit bytes or spaces comes out as '?' (the line stays two lines, no
 * control byte but the two newlines), each part cut at 255 bytes. */
#include <string.h>
#include "tap.h"
#include "stralloc.h"
#include "received.h"

/* clean: only printable ASCII, exactly two LFs (the fold and the end) */
static int clean(const stralloc *sa)
{
  size_t i, lf = 0;
  for (i = 0; i < sa->len; ++i) {
    unsigned char c = (unsigned char)sa->s[i];
    if (c == '\n') ++lf;
    else if (c < 32 || c > 126) return 0;
  }
  return lf == 2 && sa->len && sa->s[sa->len - 1] == '\n';
}

static void test_plain(void)
{
  stralloc sa = {0, 0, 0};
  struct received_info ri = { "ESMTP", "hub.example.org", "192.0.2.9", "client.example.net", 0, "helo.example" };
  ok(received_line(&sa, &ri, 0), "plain line built");
  is_sa(sa, "Received: from helo.example (client.example.net [192.0.2.9])\n"
            "  by hub.example.org with ESMTP; Thu, 1 Jan 1970 00:00:00 +0000\n", "plain line");
  stralloc_free(&sa);
}

static void test_hostile(void)
{
  stralloc sa = {0, 0, 0};
  char longhelo[600];
  struct received_info ri = { "SMTP", "me\r\nX-Forged: 1", "1.2.3.4\n", "h\x1b[31m\x7f", "id\tent\xff",
                              "evil\r\nReceived: from forged\r\n" };
  ok(received_line(&sa, &ri, 0), "hostile line built");
  is_sa(sa, "Received: from evil??Received:?from?forged?? (h?[31m? [1.2.3.4?] ident=id?ent?)\n"
            "  by me??X-Forged:?1 with SMTP; Thu, 1 Jan 1970 00:00:00 +0000\n",
        "every control byte, space and 8-bit byte is '?'");
  ok(clean(&sa), "no raw control byte, still two lines");
  memset(longhelo, 'h', sizeof longhelo - 1);
  longhelo[sizeof longhelo - 1] = 0;
  ri.helo = longhelo;
  sa.len = 0;
  ok(received_line(&sa, &ri, 0) && clean(&sa), "600-byte HELO: clean line");
  ok(strstr(sa.s, "from hhh") && !memchr(sa.s + 15, ' ', 255) && sa.s[15 + 255] == ' ',
     "600-byte HELO cut at 255 bytes");
  stralloc_free(&sa);
}

int main(void)
{
  test_plain();
  test_hostile();
  return done_testing();
}
