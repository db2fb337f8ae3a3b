/* condredirect: forward the message elsewhere when a program says so.
 *   condredirect newaddress program [ args ]
 * Runs program on the message (stdin, which must be seekable as qmail-local
 * gives it). Exit 0 -> the message, with $DTLINE in front, is queued for
 * newaddress with sender $NEWSENDER and we exit 99 (qmail-local: delivered,
 * stop here); 111 -> 111; anything else -> 0 (go on with the next line).
 * Queueing failures: 100 permanent, 111 temporary, text on stderr. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_qq.h"
#include "runwait.h"
#include "q_qqstatus.h"

static void forward(const char *to)
{
  struct qq q;
  struct qq_status st;
  stralloc fd6 = {0}, t = {0};
  const char *dt = getenv("DTLINE"), *ns = getenv("NEWSENDER");
  char buf[65536];
  ssize_t r;
  int code;
  if (!ns) fatal(111, "NEWSENDER not set (#4.3.0)");
  if (lseek(0, 0, SEEK_SET) < 0) fatal_sys(111, "unable to rewind input (#4.3.0)");
  qq_start(&q);
  if (dt) qq_puts(&q, dt);
  while ((r = read(0, buf, sizeof buf)) != 0) {
    if (r < 0) { if (errno == EINTR) continue; fatal_sys(111, "unable to read input"); }
    qq_put(&q, buf, (size_t)r);
  }
  qq_from(&q, ns, strlen(ns));
  qq_to(&q, to, strlen(to));
  code = qq_finish(&q, &fd6);
  if (code == 0) { stralloc_free(&fd6); return; }
  qq_status(code, fd6.s, fd6.len, &st);
  if (!stralloc_copyb(&t, st.text, st.textlen) || !stralloc_0(&t)) fatal_nomem();
  fatal(qq_permanent(code, fd6.s, fd6.len) ? 100 : 111, "unable to forward message: ", t.s);
}

int main(int argc, char **argv)
{
  int st;
  progname = "condredirect";
  if (argc < 3) fatal(100, "usage: condredirect newaddress program [ args ]");
  st = run_wait(argv + 2);
  if (st == 111) return 111;
  if (st != 0) return 0;
  forward(argv[1]);
  return 99;
}
