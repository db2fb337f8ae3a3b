/* q_net.c: qmqpservers line parsing, name resolution and a staggered
 * ("happy eyeballs", RFC 8305 without the family interleaving: the order
 * given is the preference order) non-blocking connect. See q_net.h for the
 * line syntax and the contracts. Caps: host names 253 bytes, ports 5
 * digits; net_connect holds at most one socket per candidate. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "q_io.h"
#include "q_net.h"

/* ---- parsing ---------------------------------------------------------- */

/* A refusal is told in words: what is wrong and the part of the line that
 * is wrong, quoted (at most QUOTE_MAX bytes of it, other bytes than
 * printable ASCII as '?'). why may be NULL. */
#define QUOTE_MAX 64

static int bad(char *why, const char *what, const char *s, size_t len)
{
  size_t n = 0, i;
  if (why) {
    n = (size_t)snprintf(why, NET_WHY, "%s", what);
    if (s && n + QUOTE_MAX + 8 < NET_WHY) {
      why[n++] = ' ';
      why[n++] = '"';
      for (i = 0; i < len && i < QUOTE_MAX; ++i)
        why[n++] = s[i] >= 32 && s[i] < 127 ? s[i] : '?';
      if (len > QUOTE_MAX) { memcpy(why + n, "...", 3); n += 3; }
      why[n++] = '"';
      why[n] = 0;
    }
  }
  errno = EINVAL;
  return -1;
}

/* parse_port: 1..65535, digits only, at most 5 of them. */
static int parse_port(const char *s, size_t len, unsigned short *port, char *why)
{
  unsigned long v = 0;
  size_t i;
  if (len == 0 || len > 5) return bad(why, "bad port", s, len);
  for (i = 0; i < len; ++i) {
    if (s[i] < '0' || s[i] > '9') return bad(why, "bad port", s, len);
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v == 0 || v > 65535) return bad(why, "bad port", s, len);
  *port = (unsigned short)v;
  return 0;
}

/* after_host: what may follow a host: nothing, or ":PORT". */
static int after_host(const char *s, size_t len, struct net_server *srv, char *why)
{
  if (len == 0) return 0;
  if (s[0] != ':') return bad(why, "junk after the address", s, len);
  return parse_port(s + 1, len - 1, &srv->port, why);
}

/* set_literal: host[0..len) as an IPv6 or IPv4 literal; 0 ok, -1 not one. */
static int set_literal(struct net_server *srv, const char *host, size_t len)
{
  char buf[64];
  if (len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, host, len);
  buf[len] = 0;
  if (inet_pton(AF_INET6, buf, srv->ip) == 1) srv->family = AF_INET6;
  else if (inet_pton(AF_INET, buf, srv->ip) == 1) srv->family = AF_INET;
  else return -1;
  memcpy(srv->host, buf, len + 1);
  return 0;
}

/* check_name: letters, digits, '-', '.', '_'; not starting with '-' or '.';
 * digits and dots only means it should have been a dotted quad. */
static int check_name(const char *s, size_t len, char *why)
{
  size_t i;
  int alpha = 0;
  if (len == 0) return bad(why, "no host", 0, 0);
  if (len > NET_HOSTMAX) return bad(why, "host name longer than 253 bytes", 0, 0);
  if (s[0] == '-' || s[0] == '.') return bad(why, "bad host name", s, len);
  for (i = 0; i < len; ++i) {
    char c = s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_')
      alpha = 1;
    else if (!((c >= '0' && c <= '9') || c == '.'))
      return bad(why, "bad host name", s, len);
  }
  return alpha ? 0 : bad(why, "bad IPv4 address", s, len);
}

/* parse_bracketed: "[literal]" then nothing or ":PORT". */
static int parse_bracketed(const char *s, size_t len, struct net_server *srv, char *why)
{
  const char *close = memchr(s, ']', len);
  size_t hl;
  if (!close) return bad(why, "no closing bracket", s, len);
  hl = (size_t)(close - s) - 1;
  if (memchr(s + 1, '[', hl) || set_literal(srv, s + 1, hl) < 0)
    return bad(why, "bad address in brackets", s, hl + 2);
  return after_host(close + 1, len - hl - 2, srv, why);
}

/* parse_plain: "host" or "host:PORT" with a dotted quad or a name. */
static int parse_plain(const char *s, size_t len, struct net_server *srv, char *why)
{
  const char *colon = memchr(s, ':', len);
  size_t hl = colon ? (size_t)(colon - s) : len;
  struct net_server v6;
  if (memchr(s, ']', len)) return bad(why, "no opening bracket", s, len);
  if (set_literal(&v6, s, len) == 0 && v6.family == AF_INET6)
    return bad(why, "IPv6 address without brackets", s, len);
  if (set_literal(srv, s, hl) == 0) {
    if (srv->family == AF_INET6) return bad(why, "IPv6 address without brackets", s, hl);
  } else {
    if (check_name(s, hl, why) < 0) return -1;
    memcpy(srv->host, s, hl);
    srv->host[hl] = 0;
    srv->family = 0;
  }
  return after_host(s + hl, len - hl, srv, why);
}

/* take_prefix: consume "qmtp:", "qmqp:" or "qmtps:" (any case) and set
 * the protocol. */
static size_t take_prefix(const char *s, size_t len, struct net_server *srv)
{
  srv->proto = NET_QMQP;
  srv->port = NET_PORT_QMQP;
  if (len >= 6 && strncasecmp(s, "qmtps:", 6) == 0) {
    srv->proto = NET_QMTPS;
    srv->port = NET_PORT_QMTPS;
    return 6;
  }
  if (len < 5 || s[4] != ':') return 0;
  if (strncasecmp(s, "qmtp", 4) == 0) {
    srv->proto = NET_QMTP;
    srv->port = NET_PORT_QMTP;
    return 5;
  }
  return strncasecmp(s, "qmqp", 4) == 0 ? 5 : 0;
}

int net_parse_why(const char *line, size_t len, struct net_server *srv, char *why)
{
  size_t skip;
  memset(srv, 0, sizeof *srv);
  if (why) why[0] = 0;
  while (len && (*line == ' ' || *line == '\t')) { ++line; --len; }
  if (memchr(line, 0, len)) return bad(why, "NUL byte in the line", 0, 0);
  skip = take_prefix(line, len, srv);
  line += skip;
  len -= skip;
  if (len == 0) return bad(why, "no host", 0, 0);
  if (line[0] == '[') return parse_bracketed(line, len, srv, why);
  return parse_plain(line, len, srv, why);
}

int net_parse(const char *line, size_t len, struct net_server *srv)
{
  return net_parse_why(line, len, srv, 0);
}

int net_line(const char *raw, size_t len, size_t *pos, size_t *lineno,
             const char **line, size_t *linelen)
{
  while (*pos < len) {
    const char *s = raw + *pos, *nl = memchr(s, '\n', len - *pos);
    size_t l = nl ? (size_t)(nl - s) : len - *pos;
    *pos += l + (nl ? 1 : 0);
    ++*lineno;
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r')) --l;
    if (l == 0 || s[0] == '#') continue;
    *line = s;
    *linelen = l;
    return 1;
  }
  return 0;
}

/* ---- resolving -------------------------------------------------------- */

/* add_addr: append ai's address to out unless it is already there. */
static void add_addr(const struct addrinfo *ai, unsigned short port,
                     struct net_addr *out, size_t max, size_t *n)
{
  struct net_addr a;
  size_t i;
  memset(&a, 0, sizeof a);
  a.family = ai->ai_family;
  a.port = port;
  if (ai->ai_family == AF_INET)
    memcpy(a.ip, &((const struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
  else if (ai->ai_family == AF_INET6)
    memcpy(a.ip, &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
  else
    return;
  for (i = 0; i < *n; ++i)
    if (memcmp(&out[i], &a, sizeof a) == 0) return;
  if (*n < max) out[(*n)++] = a;
}

static int gai_errno(int r)
{
  switch (r) {
  case EAI_NONAME: case EAI_NODATA: case EAI_FAMILY: case EAI_ADDRFAMILY: return ENOENT;
  case EAI_AGAIN: return EAGAIN;
  case EAI_MEMORY: return ENOMEM;
  case EAI_SYSTEM: return errno;
  default: return EIO;
  }
}

int net_resolve(const struct net_server *srv, struct net_addr *out, size_t max,
                size_t *n)
{
  struct addrinfo hints, *res = 0, *ai;
  int r;
  *n = 0;
  if (max == 0) { errno = ENOENT; return -1; }
  if (srv->family) {
    memset(out, 0, sizeof *out);
    out->family = srv->family;
    memcpy(out->ip, srv->ip, 16);
    out->port = srv->port;
    *n = 1;
    return 0;
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  r = getaddrinfo(srv->host, 0, &hints, &res);
  if (r) { errno = gai_errno(r); return -1; }
  for (ai = res; ai; ai = ai->ai_next) add_addr(ai, srv->port, out, max, n);
  freeaddrinfo(res);
  if (*n == 0) { errno = ENOENT; return -1; }
  return 0;
}

const char *net_strerror(int e)
{
  switch (e) {
  case ENOENT: return "no such host";
  case EAGAIN: return "temporary DNS failure";
  case ECONNREFUSED: return "connection refused";
  case ETIMEDOUT: return "timed out";
  case ENETUNREACH: return "network unreachable";
  case EHOSTUNREACH: return "host unreachable";
  case ECONNRESET: return "connection reset";
  case EPIPE: return "connection closed";
  case EADDRNOTAVAIL: return "address not available";
  default: return strerror(e);
  }
}

void net_fmt(char *buf, const struct net_addr *a)
{
  char ip[INET6_ADDRSTRLEN];
  if (!inet_ntop(a->family, a->ip, ip, sizeof ip)) strcpy(ip, "?");
  if (a->family == AF_INET6) snprintf(buf, NET_FMT, "[%s]:%u", ip, a->port);
  else snprintf(buf, NET_FMT, "%s:%u", ip, a->port);
}

/* ---- connecting ------------------------------------------------------- */

struct race {
  const struct net_addr *cand;
  unsigned char *state;
  size_t n, next;         /* next candidate index to look at */
  struct pollfd *pf;      /* pending attempts ... */
  size_t *idx;            /* ... their candidate index ... */
  long long *started;     /* ... and start time */
  size_t np;
  long long last_start;
  int *err;
  int *errs;              /* per candidate, may be NULL */
};

static socklen_t to_sockaddr(const struct net_addr *a, struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof *ss);
  if (a->family == AF_INET6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a->port);
    memcpy(&s6->sin6_addr, a->ip, 16);
    return sizeof *s6;
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(a->port);
    memcpy(&s4->sin_addr, a->ip, 4);
    return sizeof *s4;
  }
}

/* the local addresses set by net_source (family 0: none) */
static struct net_addr src4, src6;

void net_source(const struct net_addr *a)
{
  if (!a) {
    memset(&src4, 0, sizeof src4);
    memset(&src6, 0, sizeof src6);
  } else if (a->family == AF_INET6) {
    src6 = *a;
    src6.port = 0;
  } else if (a->family == AF_INET) {
    src4 = *a;
    src4.port = 0;
  }
}

/* bind_source: bind fd to the net_source address of that family, if any. */
static int bind_source(int fd, int family)
{
  const struct net_addr *s = family == AF_INET6 ? &src6 : &src4;
  struct sockaddr_storage ss;
  socklen_t sl;
  if (s->family != family) return 0;
  sl = to_sockaddr(s, &ss);
  return bind(fd, (struct sockaddr *)&ss, sl);
}

/* start_one: open a socket and begin connecting. 1 connected at once,
 * 0 in progress, -1 failed (errno). */
static int start_one(const struct net_addr *a, int *fd)
{
  struct sockaddr_storage ss;
  socklen_t sl = to_sockaddr(a, &ss);
  int e;
  *fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (*fd < 0) return -1;
  if (bind_source(*fd, a->family) == 0) {
    if (connect(*fd, (struct sockaddr *)&ss, sl) == 0) return 1;
    if (errno == EINPROGRESS || errno == EINTR) return 0;
  }
  e = errno;
  close(*fd);
  *fd = -1;
  errno = e;
  return -1;
}

/* forget: remove pending attempt k from the table (without closing it). */
static void forget(struct race *r, size_t k)
{
  --r->np;
  r->pf[k] = r->pf[r->np];
  r->idx[k] = r->idx[r->np];
  r->started[k] = r->started[r->np];
}

/* drop: close pending attempt k; its candidate gets state st. A failure
 * lets the next candidate start at once. */
static void drop(struct race *r, size_t k, unsigned char st, int e, long long now)
{
  close(r->pf[k].fd);
  r->state[r->idx[k]] = st;
  if (st == NET_FAILED) {
    *r->err = e;
    if (r->errs) r->errs[r->idx[k]] = e;
    r->last_start = now - (1LL << 40);
  }
  forget(r, k);
}

static int more_untried(struct race *r)
{
  while (r->next < r->n && r->state[r->next] != NET_UNTRIED) ++r->next;
  return r->next < r->n;
}

/* launch: start the next untried candidate. Returns its fd when it
 * connected at once (*win its index), -1 when it is pending or nothing was
 * left, -2 when it failed at once. */
static int launch(struct race *r, long long now, size_t *win)
{
  int fd, s;
  if (!more_untried(r)) return -1;
  s = start_one(&r->cand[r->next], &fd);
  r->last_start = now;
  if (s > 0) { *win = r->next; return fd; }
  if (s < 0) {
    *r->err = errno;
    if (r->errs) r->errs[r->next] = errno;
    r->state[r->next++] = NET_FAILED;
    r->last_start = now - (1LL << 40);
    return -2;
  }
  r->pf[r->np].fd = fd;
  r->pf[r->np].events = POLLOUT;
  r->pf[r->np].revents = 0;
  r->idx[r->np] = r->next++;
  r->started[r->np++] = now;
  return -1;
}

/* expire: fail the attempts older than timeout_ms. */
static void expire(struct race *r, long long now, int timeout_ms)
{
  size_t k = 0;
  while (k < r->np) {
    if (now - r->started[k] >= timeout_ms) drop(r, k, NET_FAILED, ETIMEDOUT, now);
    else ++k;
  }
}

/* wait_ms: how long poll may sleep before something is due. */
static int wait_ms(struct race *r, long long now, int stagger_ms, int timeout_ms,
                   long long deadline_ms)
{
  long long w = 1LL << 40;
  size_t k;
  if (more_untried(r)) w = r->last_start + stagger_ms - now;
  for (k = 0; k < r->np; ++k)
    if (r->started[k] + timeout_ms - now < w) w = r->started[k] + timeout_ms - now;
  if (deadline_ms > 0 && deadline_ms - now < w) w = deadline_ms - now;
  if (w < 0) w = 0;
  return w > 0x7fffffff ? 0x7fffffff : (int)w;
}

/* check_ready: look at the attempts poll reported. Returns a winner fd (its
 * candidate index in *win) or -1. */
static int check_ready(struct race *r, long long now, size_t *win)
{
  size_t k = 0;
  while (k < r->np) {
    int e = 0, fd = r->pf[k].fd;
    socklen_t el = sizeof e;
    if (!r->pf[k].revents) { ++k; continue; }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0) e = errno;
    if (e == 0) {
      *win = r->idx[k];
      forget(r, k);
      return fd;
    }
    drop(r, k, NET_FAILED, e, now);
  }
  return -1;
}

/* close_all: end every pending attempt, leaving its candidate in state st. */
static void close_all(struct race *r, unsigned char st, int e)
{
  long long now = io_now_ms();
  while (r->np) drop(r, r->np - 1, st, e, now);
}

/* race_step: one round of the loop; returns a winner fd, -1 to go on,
 * -2 when nothing is left. */
static int race_step(struct race *r, int stagger_ms, int timeout_ms,
                     long long deadline_ms, size_t *win)
{
  long long now = io_now_ms();
  int fd, p;
  if (deadline_ms > 0 && now >= deadline_ms) {
    close_all(r, NET_FAILED, ETIMEDOUT);
    *r->err = ETIMEDOUT;
    return -2;
  }
  expire(r, now, timeout_ms);
  if (r->np && now - r->last_start >= stagger_ms) {
    /* an earlier attempt that is through by now beats starting a new one
     * (this process may have been off the CPU for the whole stagger) */
    p = poll(r->pf, r->np, 0);
    if (p > 0 && (fd = check_ready(r, now, win)) >= 0) return fd;
  }
  if (r->np == 0 || now - r->last_start >= stagger_ms) {
    fd = launch(r, now, win);
    if (fd >= 0) return fd;
    if (fd == -2) return -1;   /* failed at once: the next may start now */
  }
  if (r->np == 0) return more_untried(r) ? -1 : -2;
  p = poll(r->pf, r->np, wait_ms(r, now, stagger_ms, timeout_ms, deadline_ms));
  if (p < 0 && errno != EINTR) { close_all(r, NET_FAILED, errno); return -2; }
  return p > 0 ? check_ready(r, io_now_ms(), win) : -1;
}

static int race_alloc(struct race *r, size_t n)
{
  if (n > SIZE_MAX / sizeof(struct pollfd)) return -1;
  r->pf = malloc(n * sizeof *r->pf);
  r->idx = malloc(n * sizeof *r->idx);
  r->started = malloc(n * sizeof *r->started);
  if (r->pf && r->idx && r->started) return 0;
  free(r->pf);
  free(r->idx);
  free(r->started);
  return -1;
}

int net_connect(const struct net_addr *cand, unsigned char *state, size_t n,
                int stagger_ms, int timeout_ms, long long deadline_ms,
                size_t *winner, int *err)
{
  return net_connect_errs(cand, state, 0, n, stagger_ms, timeout_ms, deadline_ms,
                          winner, err);
}

int net_connect_errs(const struct net_addr *cand, unsigned char *state, int *errs,
                     size_t n, int stagger_ms, int timeout_ms, long long deadline_ms,
                     size_t *winner, int *err)
{
  struct race r;
  int fd = -1;
  *err = ENOENT;
  if (n == 0) return -1;
  memset(&r, 0, sizeof r);
  r.cand = cand;
  r.state = state;
  r.n = n;
  r.err = err;
  r.errs = errs;
  r.last_start = io_now_ms() - (1LL << 40);
  if (timeout_ms <= 0) timeout_ms = 0x7fffffff;
  if (race_alloc(&r, n) < 0) { *err = ENOMEM; return -1; }
  do fd = race_step(&r, stagger_ms, timeout_ms, deadline_ms, winner);
  while (fd == -1);
  if (fd >= 0) {
    close_all(&r, NET_UNTRIED, 0);
    state[*winner] = NET_USED;
  }
  free(r.pf);
  free(r.idx);
  free(r.started);
  return fd >= 0 ? fd : -1;
}
