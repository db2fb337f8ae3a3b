/* mhttp.c: the request of qmail-metrics -H (contract in mhttp.h). */
#include <stdio.h>
#include <string.h>
#include "q_io.h"
#include "mhttp.h"

/* head_end: the request head ends (an empty line) within b[0..n) */
static int head_end(const char *b, size_t n)
{
  return (n >= 4 && memmem(b, n, "\r\n\r\n", 4)) || (n >= 2 && memmem(b, n, "\n\n", 2));
}

/* check: the request line of the head in b */
static int check(const char *b)
{
  const char *sp = strchr(b, ' '), *path, *end;
  size_t plen;
  if (!sp) return 400;
  if ((size_t)(sp - b) != 3 || memcmp(b, "GET", 3)) return 405;
  path = sp + 1;
  end = strchr(path, ' ');
  if (!end || (strncmp(end + 1, "HTTP/1.0", 8) && strncmp(end + 1, "HTTP/1.1", 8))) return 400;
  plen = (size_t)(end - path);
  if ((plen == 1 && path[0] == '/') || (plen == 8 && !memcmp(path, "/metrics", 8))) return 200;
  return 404;
}

int mhttp_read(int fd)
{
  static char b[MHTTP_HEAD + 1];
  struct io_limits lim;
  size_t n = 0;
  lim.deadline_ms = io_now_ms() + MHTTP_TIMEOUT * 1000;
  lim.timeout_ms = MHTTP_TIMEOUT * 1000;
  while (!head_end(b, n)) {
    ssize_t r;
    if (n == MHTTP_HEAD) return 400;
    r = io_read(fd, b + n, MHTTP_HEAD - n, &lim);
    if (r <= 0) return 400;
    n += (size_t)r;
  }
  b[n] = 0;
  if (memchr(b, 0, n)) return 400;
  return check(b);
}

void mhttp_head(int status)
{
  const char *why = status == 200 ? "OK" : status == 404 ? "Not Found" :
                    status == 405 ? "Method Not Allowed" : "Bad Request";
  printf("HTTP/1.0 %d %s\r\nContent-Type: %s\r\nConnection: close\r\n\r\n", status, why,
         status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
  if (status != 200) printf("%d %s\n", status, why);
}
