/* forward: send the message on stdin on to the given addresses.
 * Meant for .qmail files: the envelope sender is $NEWSENDER, as set by
 * qmail-local, so bounces go where the delivery instructions say.
 *   forward address ...
 * The message goes to the queue unchanged (q_qq: qmail-queue, $QMAILQUEUE,
 * or straight to the hub on a leaf). Addresses are taken as given, one per
 * argument; one with CR, LF or over control/maxaddress bytes is refused.
 * Exit codes: 0 queued; 100 usage or permanent refusal; 111 temporary. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "q_err.h"
#include "q_limits.h"
#include "q_qq.h"
#include "q_qqstatus.h"

static void check(const char *what, const char *a)
{
  if (strpbrk(a, "\r\n")) fatal(100, what, " contains a line break (#5.1.3)");
  if (strlen(a) > limit_get(LIM_ADDR)) fatal(100, what, " is too long (#5.1.3)");
}

static void copy_stdin(struct qq *q)
{
  char buf[16384];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) fatal_sys(111, "unable to read message (#4.3.0)");
    if (n == 0) return;
    qq_put(q, buf, (size_t)n);
  }
}

int main(int argc, char **argv)
{
  static struct qq q;
  const char *sender = getenv("NEWSENDER");
  stralloc fd6 = {0}, text = {0};
  struct qq_status st;
  int i, code;
  progname = "forward";
  if (argc < 2) fatal(100, "usage: forward address ... (#5.3.5)");
  if (!sender) fatal(100, "NEWSENDER not set: forward is meant to run from .qmail (#5.3.5)");
  check("sender", sender);
  for (i = 1; i < argc; ++i) check("address", argv[i]);
  qq_start(&q);
  copy_stdin(&q);
  qq_from(&q, sender, strlen(sender));
  for (i = 1; i < argc; ++i) qq_to(&q, argv[i], strlen(argv[i]));
  code = qq_finish(&q, &fd6);
  qq_status(code, fd6.s, fd6.len, &st);
  if (st.kind == 'K') return 0;
  if (!stralloc_copyb(&text, st.text, st.textlen) || !stralloc_0(&text)) fatal_nomem();
  fatal(st.kind == 'D' ? 100 : 111, text.s);
}
