/* tests/unit/io.c: TAP tests for common/q_io.c over pipes: io_read with
 * data, at EOF, on a bad fd, with a per-call timeout (nothing written:
 * ETIMEDOUT after about timeout_ms), with a deadline already past and one
 * shorter than the timeout; io_wait; io_writeall of 1 MB to a reader in a
 * child, to a full pipe (ETIMEDOUT), to a pipe with no reader (EPIPE);
 * io_fullread across short writes and EOF; io_bread/io_bwrite as libowfat
 * buffer ops with the limits in the buffer's cookie (and a NULL cookie). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "buffer.h"
#include "q_io.h"

#define BIG (1024 * 1024)

static void mkpipe(int p[2])
{
  if (pipe(p) < 0) { perror("pipe"); exit(2); }
}

static unsigned char pat(size_t i) { return (unsigned char)(i * 7 + i / 253); }

/* elapsed: is the time since t0 within [lo, hi] ms? */
static int within(long long t0, long long lo, long long hi)
{
  long long d = io_now_ms() - t0;
  if (d < lo || d > hi) printf("#   elapsed %lld ms, wanted %lld..%lld\n", d, lo, hi);
  return d >= lo && d <= hi;
}

static void test_read(void)
{
  int p[2];
  char buf[64];
  struct io_limits lim = { 0, 1000 };
  long long t0;
  ssize_t r;
  mkpipe(p);
  if (write(p[1], "hello", 5) != 5) exit(2);
  r = io_read(p[0], buf, sizeof buf, &lim);
  is_int(r, 5, "io_read with data");
  is_mem(buf, r > 0 ? (size_t)r : 0, "hello", "io_read data");
  if (write(p[1], "x", 1) != 1) exit(2);
  is_int(io_read(p[0], buf, sizeof buf, 0), 1, "io_read NULL limits");
  if (write(p[1], "y", 1) != 1) exit(2);
  is_int(io_wait(p[0], POLLIN, &lim), 1, "io_wait ready");
  is_int(io_read(p[0], buf, 1, &lim), 1, "io_read len 1");

  lim.timeout_ms = 100;
  t0 = io_now_ms();
  errno = 0;
  is_int(io_read(p[0], buf, sizeof buf, &lim), -1, "io_read timeout -> -1");
  is_int(errno, ETIMEDOUT, "io_read timeout -> ETIMEDOUT");
  ok(within(t0, 90, 1000), "io_read timeout took 0.1..1 s");

  lim.timeout_ms = 5000;
  lim.deadline_ms = io_now_ms() - 1;
  t0 = io_now_ms();
  errno = 0;
  is_int(io_read(p[0], buf, sizeof buf, &lim), -1, "deadline past -> -1");
  is_int(errno, ETIMEDOUT, "deadline past -> ETIMEDOUT");
  ok(within(t0, 0, 50), "deadline past: at once");

  lim.deadline_ms = io_now_ms() + 150;
  t0 = io_now_ms();
  errno = 0;
  is_int(io_read(p[0], buf, sizeof buf, &lim), -1, "deadline before timeout -> -1");
  is_int(errno, ETIMEDOUT, "deadline before timeout -> ETIMEDOUT");
  ok(within(t0, 140, 1500), "deadline before timeout: ends at the deadline");

  lim.timeout_ms = 0;
  lim.deadline_ms = io_now_ms() + 100;
  t0 = io_now_ms();
  errno = 0;
  is_int(io_read(p[0], buf, sizeof buf, &lim), -1, "deadline only -> -1");
  is_int(errno, ETIMEDOUT, "deadline only -> ETIMEDOUT");
  ok(within(t0, 90, 1000), "deadline only: ends at the deadline");

  lim.deadline_ms = 0;
  lim.timeout_ms = 1000;
  close(p[1]);
  is_int(io_read(p[0], buf, sizeof buf, &lim), 0, "io_read at EOF -> 0");
  close(p[0]);
  errno = 0;
  is_int(io_read(p[0], buf, sizeof buf, &lim), -1, "io_read closed fd -> -1");
  is_int(errno, EBADF, "io_read closed fd -> EBADF");
}

static void test_writeall(void)
{
  int p[2], st = -1;
  char *big = malloc(BIG);
  struct io_limits lim = { 0, 5000 };
  size_t i;
  pid_t pid;
  long long t0;
  if (!big) exit(2);
  for (i = 0; i < BIG; ++i) big[i] = (char)pat(i);

  mkpipe(p);
  pid = fork();
  if (pid == 0) {
    char *in = malloc(BIG + 1);
    ssize_t n;
    close(p[1]);
    n = in ? io_fullread(p[0], in, BIG + 1) : -1;
    if (n != BIG) _exit(1);
    for (i = 0; i < BIG; ++i) if ((unsigned char)in[i] != pat(i)) _exit(2);
    _exit(0);
  }
  close(p[0]);
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  is_int(io_writeall(p[1], big, BIG, &lim), 0, "io_writeall 1 MB to a reader");
  is_int(io_writeall(p[1], big, 0, &lim), 0, "io_writeall 0 bytes");
  close(p[1]);
  waitpid(pid, &st, 0);
  ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader got all 1 MB intact");

  mkpipe(p);
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  lim.timeout_ms = 100;
  t0 = io_now_ms();
  errno = 0;
  is_int(io_writeall(p[1], big, BIG, &lim), -1, "io_writeall to a full pipe -> -1");
  is_int(errno, ETIMEDOUT, "io_writeall to a full pipe -> ETIMEDOUT");
  ok(within(t0, 90, 1000), "io_writeall timeout took 0.1..1 s");
  close(p[0]);
  errno = 0;
  is_int(io_writeall(p[1], big, 10, &lim), -1, "io_writeall with no reader -> -1");
  is_int(errno, EPIPE, "io_writeall with no reader -> EPIPE");
  close(p[1]);
  free(big);
}

static void test_fullread(void)
{
  int p[2], st;
  char buf[100];
  pid_t pid;
  mkpipe(p);
  pid = fork();
  if (pid == 0) {
    int k;
    close(p[0]);
    for (k = 0; k < 10; ++k) {
      char c[7];
      memset(c, 'a' + k, sizeof c);
      if (write(p[1], c, sizeof c) != (ssize_t)sizeof c) _exit(1);
      usleep(2000);
    }
    _exit(0);
  }
  close(p[1]);
  is_int(io_fullread(p[0], buf, 20), 20, "io_fullread across short writes");
  ok(memcmp(buf, "aaaaaaabbbbbbbcccccc", 20) == 0, "io_fullread data in order");
  is_int(io_fullread(p[0], buf, sizeof buf), 50, "io_fullread stops at EOF");
  is_int(io_fullread(p[0], buf, sizeof buf), 0, "io_fullread at EOF -> 0");
  is_int(io_fullread(p[0], buf, 0), 0, "io_fullread len 0");
  close(p[0]);
  waitpid(pid, &st, 0);
  is_int(io_fullread(p[0], buf, sizeof buf), -1, "io_fullread bad fd -> -1");
}

static void test_buffer_ops(void)
{
  int p[2];
  char space[16], out[64];
  buffer b, w;
  struct io_limits lim = { 0, 100 };
  long long t0;
  ssize_t r;
  mkpipe(p);
  buffer_init(&b, (ssize_t (*)())io_bread, p[0], space, sizeof space);
  b.cookie = &lim;
  /* buffer_feed, not buffer_get: libowfat's buffer_get with len above the
   * buffer size keeps calling the op to fill len and returns -1 on a later
   * timeout, losing what it already copied. */
  if (write(p[1], "0123456789abcdefXYZ", 19) != 19) exit(2);
  r = 0;
  while (r < 19) {
    ssize_t a = buffer_feed(&b);
    if (a <= 0) break;
    memcpy(out + r, buffer_peek(&b), (size_t)a);
    buffer_seek(&b, (size_t)a);
    r += a;
  }
  is_mem(out, (size_t)r, "0123456789abcdefXYZ", "io_bread: all bytes through a 16-byte buffer");
  t0 = io_now_ms();
  errno = 0;
  is_int(buffer_feed(&b), -1, "io_bread: cookie timeout -> -1");
  is_int(errno, ETIMEDOUT, "io_bread: ETIMEDOUT");
  ok(within(t0, 90, 1000), "io_bread: timeout from the cookie's limits");

  lim.deadline_ms = io_now_ms() - 1;
  lim.timeout_ms = 10000;
  if (write(p[1], "late", 4) != 4) exit(2);
  errno = 0;
  is_int(buffer_feed(&b), -1, "io_bread: past deadline in cookie -> -1");
  is_int(errno, ETIMEDOUT, "io_bread: past deadline -> ETIMEDOUT");

  b.cookie = 0;
  close(p[1]);
  is_int(buffer_get(&b, out, 4), 4, "io_bread: NULL cookie reads");
  is_mem(out, 4, "late", "io_bread: NULL cookie data");
  is_int(buffer_get(&b, out, 4), 0, "io_bread: NULL cookie EOF");
  close(p[0]);

  mkpipe(p);
  lim.deadline_ms = 0;
  lim.timeout_ms = 1000;
  buffer_init(&w, (ssize_t (*)())io_bwrite, p[1], space, sizeof space);
  w.cookie = &lim;
  is_int(buffer_puts(&w, "through io_bwrite, longer than the buffer"), 0, "io_bwrite: put");
  is_int(buffer_flush(&w), 0, "io_bwrite: flush");
  close(p[1]);
  r = io_fullread(p[0], out, sizeof out);
  is_mem(out, r > 0 ? (size_t)r : 0, "through io_bwrite, longer than the buffer", "io_bwrite: bytes");
  close(p[0]);
}

int main(void)
{
  signal(SIGPIPE, SIG_IGN);
  test_read();
  test_writeall();
  test_fullread();
  test_buffer_ops();
  return done_testing();
}
