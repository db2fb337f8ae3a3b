/* q_io.h: timed descriptor I/O for network peers and pipes.
 * Every network read and write has two limits: a per-call timeout and a
 * total deadline (absolute, in ms of CLOCK_MONOTONIC; 0 = none). Whichever
 * comes first ends the call with errno ETIMEDOUT. io_bread/io_bwrite are
 * ops for libowfat's buffer: it calls op(fd, buf, len, buffer *) (checked:
 * the 4th argument is the buffer itself), so they take the limits from
 * the buffer's cookie, which must point at a struct io_limits. */
#ifndef Q_IO_H
#define Q_IO_H

#include <stddef.h>
#include <sys/types.h>

struct io_limits {
  long long deadline_ms;  /* absolute CLOCK_MONOTONIC ms; 0: none */
  int timeout_ms;         /* per call; <= 0: none */
};

/* io_now_ms: CLOCK_MONOTONIC in milliseconds. */
long long io_now_ms(void);
/* io_wait: poll fd for events within the limits: 1 ready, -1 error/timeout. */
int io_wait(int fd, short events, const struct io_limits *lim);
/* io_read: like read(2) within the limits. */
ssize_t io_read(int fd, char *buf, size_t len, const struct io_limits *lim);
/* io_write: like write(2) within the limits; may write less than len. */
ssize_t io_write(int fd, const char *buf, size_t len, const struct io_limits *lim);
/* io_bread, io_bwrite: buffer ops; b->cookie is a struct io_limits * (or NULL). */
ssize_t io_bread(int fd, char *buf, size_t len, void *b);
ssize_t io_bwrite(int fd, const char *buf, size_t len, void *b);
/* io_writeall: write all of buf within the limits: 0 ok, -1 error. */
int io_writeall(int fd, const char *buf, size_t len, const struct io_limits *lim);
/* io_fullread: read until len bytes or EOF (plain blocking, EINTR retried);
 * returns bytes read or -1. */
ssize_t io_fullread(int fd, char *buf, size_t len);

#endif
