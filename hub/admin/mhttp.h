/* mhttp.h: the one HTTP request qmail-metrics -H answers, on fd 0 (run by
 * tcpserver or another inetd-style listener on loopback, one process per
 * connection): "GET /metrics" or "GET /" over HTTP/1.0 or 1.1, the rest
 * of the head read and ignored. Caps: the head at MHTTP_HEAD bytes, the
 * whole read at MHTTP_TIMEOUT seconds. No body, no keep-alive. */
#ifndef MHTTP_H
#define MHTTP_H

#define MHTTP_HEAD 8192
#define MHTTP_TIMEOUT 10

/* mhttp_read: read and check the request on fd. 200 answer it; else the
 * HTTP status to send instead (400 malformed or too long or too slow,
 * 404 another path, 405 another method) */
int mhttp_read(int fd);
/* mhttp_head: the status line and headers of the answer, on stdout's
 * stdio stream (with status 200 the body follows) */
void mhttp_head(int status);

#endif
