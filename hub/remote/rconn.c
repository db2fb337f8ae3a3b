/* rconn.c: qmail-remote's connection I/O (see rconn.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "rconn.h"

void rconn_open(struct rconn *c, int fd, const struct net_addr *a,
                int timeout_ms, long long deadline_ms)
{
  memset(c, 0, sizeof *c);
  c->fd = fd;
  if (!inet_ntop(a->family, a->ip, c->ip, sizeof c->ip)) strcpy(c->ip, "?");
  c->lim.timeout_ms = timeout_ms;
  c->lim.deadline_ms = deadline_ms;
  c->port = a->port;
  c->addr = *a;
}

void rconn_close(struct rconn *c)
{
  if (c->tlsfree) c->tlsfree(c);
  c->tlsfree = 0;
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  stralloc_free(&c->out);
}

/* tls_writeall: all of buf through TLS. 0 ok, -1 error. */
static int tls_writeall(struct rconn *c, const char *buf, size_t len)
{
  while (len) {
    ssize_t w = c->tlswrite(c->tls, buf, len, &c->lim);
    if (w <= 0) return -1;
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

int rconn_reconnect(struct rconn *c)
{
  unsigned char st = NET_UNTRIED;
  size_t w;
  int err = 0, fd;
  if (c->tlsfree) c->tlsfree(c);
  c->tlsfree = 0;
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->out.len = 0;
  c->inpos = c->inlen = 0;
  c->gotany = c->eof = c->broken = 0;
  fd = net_connect(&c->addr, &st, 1, 0, c->lim.timeout_ms, c->lim.deadline_ms, &w, &err);
  if (fd < 0) { c->err = err; return -1; }
  c->fd = fd;
  return 0;
}

int rconn_flush(struct rconn *c)
{
  int r;
  if (c->out.len == 0) return 0;
  r = c->tls ? tls_writeall(c, c->out.s, c->out.len) : io_writeall(c->fd, c->out.s, c->out.len, &c->lim);
  if (r < 0) {
    c->err = errno;
    return -1;
  }
  c->out.len = 0;
  return 0;
}

/* fill: read more input. 1 ok, 0 EOF, -1 error (c->err). */
static int fill(struct rconn *c)
{
  ssize_t r;
  if (c->inpos < c->inlen) return 1;
  if (c->eof) return 0;
  r = c->tls ? c->tlsread(c->tls, c->in, sizeof c->in, &c->lim)
             : io_read(c->fd, c->in, sizeof c->in, &c->lim);
  if (r < 0) { c->err = errno; return -1; }
  if (r == 0) { c->eof = 1; c->err = 0; return 0; }
  c->inpos = 0;
  c->inlen = (size_t)r;
  c->gotany = 1;
  return 1;
}

int rconn_reply(struct rconn *c, struct rreply *r)
{
  void (*online)(void *, const char *, size_t) = r->online;
  void *ctx = r->ctx;
  if (rconn_flush(c) < 0) return -2;
  rreply_start(r);
  r->online = online;
  r->ctx = ctx;
  for (;;) {
    size_t used;
    int s;
    if (fill(c) <= 0) return -2;
    s = rreply_feed(r, c->in + c->inpos, c->inlen - c->inpos, &used);
    c->inpos += used;
    if (s != RREPLY_MORE) return s;
  }
}

/* getbyte: one input byte. 1 ok, 0 EOF, -1 error. */
static int getbyte(struct rconn *c, char *ch)
{
  int f = fill(c);
  if (f <= 0) return f;
  *ch = c->in[c->inpos++];
  return 1;
}

/* getn: n bytes into sa. 0 ok, -2 EOF/error, -1 no memory. */
static int getn(struct rconn *c, size_t n, stralloc *sa)
{
  while (n) {
    size_t k;
    int f = fill(c);
    if (f <= 0) return -2;
    k = c->inlen - c->inpos;
    if (k > n) k = n;
    if (!stralloc_catb(sa, c->in + c->inpos, k)) return -1;
    c->inpos += k;
    n -= k;
  }
  return 0;
}

int rconn_netstring(struct rconn *c, stralloc *sa)
{
  size_t len = 0, digits = 0;
  char ch;
  int g;
  if (rconn_flush(c) < 0) return -2;
  sa->len = 0;
  for (;;) {
    g = getbyte(c, &ch);
    if (g <= 0) return -2;
    if (ch == ':') break;
    if (ch < '0' || ch > '9' || (digits == 1 && len == 0)) return -1;
    len = len * 10 + (size_t)(ch - '0');
    if (++digits > 5 || len > RCONN_NSMAX) return -1;
  }
  if (digits == 0) return -1;
  g = getn(c, len, sa);
  if (g < 0) return g;
  g = getbyte(c, &ch);
  if (g <= 0) return -2;
  return ch == ',' ? 0 : -1;
}

size_t rconn_pending(const struct rconn *c)
{
  return c->inlen - c->inpos;
}

const char *rconn_why(const struct rconn *c)
{
  if (c->err == ETIMEDOUT) return "timed out";
  if (c->err == 0) return "connection closed";
  return strerror(c->err);
}
