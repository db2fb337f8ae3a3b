/* q_io.c: timed I/O with per-call timeouts and total deadlines (see q_io.h). */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include "buffer.h"
#include "q_io.h"

long long io_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_ms: how long the next poll may block; -1 forever, 0 expired. */
static int wait_ms(const struct io_limits *lim)
{
  long long w = -1;
  if (!lim) return -1;
  if (lim->timeout_ms > 0) w = lim->timeout_ms;
  if (lim->deadline_ms > 0) {
    long long left = lim->deadline_ms - io_now_ms();
    if (left < 0) left = 0;
    if (w < 0 || left < w) w = left;
  }
  return w > 0x7fffffff ? 0x7fffffff : (int)w;
}

int io_wait(int fd, short events, const struct io_limits *lim)
{
  if (fd < 0) { errno = EBADF; return -1; }  /* poll would ignore it and wait */
  for (;;) {
    struct pollfd p;
    int ms = wait_ms(lim), r;
    if (ms == 0) { errno = ETIMEDOUT; return -1; }
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, ms);
    if (r > 0) return 1;
    if (r == 0) { errno = ETIMEDOUT; return -1; }
    if (errno != EINTR) return -1;
  }
}

ssize_t io_read(int fd, char *buf, size_t len, const struct io_limits *lim)
{
  for (;;) {
    ssize_t r;
    if (io_wait(fd, POLLIN, lim) < 0) return -1;
    r = read(fd, buf, len);
    if (r >= 0 || (errno != EINTR && errno != EAGAIN)) return r;
  }
}

ssize_t io_write(int fd, const char *buf, size_t len, const struct io_limits *lim)
{
  for (;;) {
    ssize_t r;
    if (io_wait(fd, POLLOUT, lim) < 0) return -1;
    r = write(fd, buf, len);
    if (r >= 0 || (errno != EINTR && errno != EAGAIN)) return r;
  }
}

ssize_t io_bread(int fd, char *buf, size_t len, void *b)
{
  return io_read(fd, buf, len, ((buffer *)b)->cookie);
}

ssize_t io_bwrite(int fd, const char *buf, size_t len, void *b)
{
  return io_write(fd, buf, len, ((buffer *)b)->cookie);
}

int io_writeall(int fd, const char *buf, size_t len, const struct io_limits *lim)
{
  while (len) {
    ssize_t w = io_write(fd, buf, len, lim);
    if (w <= 0) { if (w == 0) errno = EIO; return -1; }
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

ssize_t io_fullread(int fd, char *buf, size_t len)
{
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, buf + got, len - got);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}
