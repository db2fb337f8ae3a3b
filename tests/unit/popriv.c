/* tests/unit/popriv.c: TAP tests for hub/pop3/popriv.c, the privileged half
 * of qmail-popup as root: a well-formed message runs checkpassword (here
 * a shell that counts its runs and refuses) and is answered in one byte;
 * every malformed one (a short or long message, an unknown kind, a
 * padding byte set, credentials not "login\0password\0\0", a length over
 * 512, a descriptor where none belongs, none or a non-socket where one
 * does) ends popriv_serve with -1 and checkpassword never runs; nor does
 * it after control/authfailures refusals. An empty message is the end.
 * The parent waits the failure delay itself. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap.h"
#include "popriv.h"
#include "q_io.h"

static char counter[64];
static char script[128];
static char *argv_[] = { "/bin/sh", "-c", script, 0 };

/* runs: how many times checkpassword ran (bytes in the counter) */
static long runs(void)
{
  FILE *f = fopen(counter, "r");
  long n = 0;
  if (!f) return 0;
  while (fgetc(f) != EOF) ++n;
  fclose(f);
  return n;
}

/* put: the raw bytes (len of them) with fd (or -1) */
static void put(int s, const void *buf, size_t len, int fd)
{
  if (popriv_sendfd(s, buf, len, fd) != (ssize_t)len) { perror("sendmsg"); exit(1); }
}

static void msg(struct popriv_msg *m, int kind, const char *cred, size_t n)
{
  memset(m, 0, sizeof *m);
  m->kind = (unsigned char)kind;
  m->len = (unsigned short)n;
  memcpy(m->cred, cred, n);
}

/* serve: the messages already queued on a fresh pair, then end of file:
 * popriv_serve's result; *answers gets the bytes it answered */
struct one { const void *buf; size_t len; int fd; };
static unsigned long basedelay;
static int serve(const struct one *q, size_t nq, unsigned long maxfail, char *answers, size_t *nans)
{
  int sv[2], r;
  size_t i;
  ssize_t k;
  unlink(counter);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1) { perror("socketpair"); exit(1); }
  for (i = 0; i < nq; ++i) put(sv[1], q[i].buf, q[i].len, q[i].fd);
  shutdown(sv[1], SHUT_WR);
  r = popriv_serve(sv[0], argv_, 0, maxfail, basedelay);
  close(sv[0]);
  *nans = 0;
  while ((k = read(sv[1], answers + *nans, 1)) == 1) ++*nans;
  close(sv[1]);
  return r;
}

static const char good[] = "alice\0secret\0";   /* and the final NUL: 14 bytes */

static void bad(const char *name, const void *buf, size_t len, int fd)
{
  struct one q = { buf, len, fd };
  char ans[8];
  size_t n;
  is_int(serve(&q, 1, 3, ans, &n), -1, name);
  is_int(runs(), 0, "  and checkpassword did not run");
  is_int((long)n, 0, "  nor was anything answered");
}

int main(void)
{
  struct popriv_msg m;
  struct one q[3];
  char ans[8], big[sizeof m + 1];
  size_t n;
  int sp[2], pp[2];
  char dir[] = "/tmp/popriv.XXXXXX";
  signal(SIGPIPE, SIG_IGN);   /* as in qmail-popup: checkpassword may exit before reading fd 3 */
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  snprintf(counter, sizeof counter, "%s/runs", dir);
  snprintf(script, sizeof script, "printf x >> %s; exit 1", counter);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 || pipe(pp) == -1) return 1;

  msg(&m, POPRIV_PLAIN, good, 14);
  q[0].buf = &m; q[0].len = sizeof m; q[0].fd = -1;
  is_int(serve(q, 1, 3, ans, &n), 0, "a well-formed plain message, then the end: 0");
  is_int(runs(), 1, "  checkpassword ran once");
  ok(n == 1 && ans[0] == POPRUN_REFUSED, "  the answer: one byte, refused");

  msg(&m, POPRIV_TLS, good, 14);
  q[0].fd = sp[1];
  is_int(serve(q, 1, 3, ans, &n), 0, "a well-formed TLS message with a socket: 0");
  is_int(runs(), 1, "  checkpassword ran");

  q[1] = q[0]; q[1].fd = -1; q[0].fd = -1;
  msg(&m, POPRIV_PLAIN, good, 14);
  q[1].buf = "x";
  q[1].len = 1;
  is_int(serve(q, 2, 3, ans, &n), -1, "a good message, then a 1-byte one: -1");
  is_int(runs(), 1, "  checkpassword ran for the first only");
  is_int((long)n, 1, "  and only the first was answered");

  q[1] = q[0];
  q[2] = q[0];
  is_int(serve(q, 3, 2, ans, &n), -1, "authfailures 2: a third attempt ends it");
  is_int(runs(), 2, "  checkpassword ran twice");

  q[0].buf = ""; q[0].len = 0; q[0].fd = -1;   /* on SOCK_SEQPACKET: as the end of file */
  is_int(serve(q, 1, 3, ans, &n), 0, "an empty message ends it as the end does");
  is_int(runs(), 0, "  and checkpassword did not run");
  basedelay = 200;   /* the parent's own delay: 200 then 400 ms, whatever the child does */
  {
    long long t0 = io_now_ms(), ms;
    q[0].buf = &m; q[0].len = sizeof m; q[0].fd = -1;
    msg(&m, POPRIV_PLAIN, good, 14);
    q[1] = q[0];
    is_int(serve(q, 2, 3, ans, &n), 0, "two refused attempts sent at once");
    ms = io_now_ms() - t0;
    ok(ms >= 600, "  the parent delays them itself: 200 + 400 ms");
    ok(n == 2, "  both answered");
  }
  basedelay = 0;
  bad("a short message", &m, sizeof m - 1, -1);
  memcpy(big, &m, sizeof m);
  big[sizeof m] = 0;
  bad("a long message", big, sizeof big, -1);
  msg(&m, 'X', good, 14);
  bad("an unknown kind", &m, sizeof m, -1);
  msg(&m, POPRIV_PLAIN, good, 14);
  m.pad = 1;
  bad("the padding byte set", &m, sizeof m, -1);
  msg(&m, POPRIV_PLAIN, "alice\0secret\0x", 14);
  bad("no empty timestamp at the end", &m, sizeof m, -1);
  msg(&m, POPRIV_PLAIN, "al\0ice\0secret\0", 15);
  bad("a fourth NUL", &m, sizeof m, -1);
  msg(&m, POPRIV_PLAIN, good, 14);
  m.len = 2;
  bad("a length under 3", &m, sizeof m, -1);
  msg(&m, POPRIV_PLAIN, good, 14);
  m.len = POPRIV_CRED + 1;
  bad("a length over 512", &m, sizeof m, -1);
  msg(&m, POPRIV_PLAIN, good, 14);
  bad("a descriptor with a plain message", &m, sizeof m, sp[1]);
  msg(&m, POPRIV_TLS, good, 14);
  bad("a TLS message without one", &m, sizeof m, -1);
  bad("a TLS message with a pipe", &m, sizeof m, pp[0]);

  unlink(counter);
  rmdir(dir);
  return done_testing();
}
