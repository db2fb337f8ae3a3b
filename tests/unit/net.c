/* net.c: unit test of common/q_net.c: the qmqpservers line parser (every
 * accepted form and the refusals: bad ports, port 0, > 65535, unbalanced
 * brackets, empty host, IPv6 without brackets), resolving literals and
 * localhost, and net_connect on loopback (refused, winner after a refusal,
 * a blackholed first candidate overtaken after the stagger, timeout). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap.h"
#include "q_io.h"
#include "q_net.h"

static void good(const char *line, int proto, const char *host, int family,
                 unsigned port)
{
  struct net_server s;
  char name[300];
  int r = net_parse(line, strlen(line), &s);
  snprintf(name, sizeof name, "parse '%s'", line);
  ok(r == 0 && s.proto == proto && strcmp(s.host, host) == 0 &&
     s.family == family && s.port == port, name);
  if (r == 0 && (strcmp(s.host, host) || s.port != port || s.family != family))
    printf("#   got host '%s' family %d port %u proto %d\n", s.host, s.family, s.port, s.proto);
}

static void badline(const char *line)
{
  struct net_server s;
  char name[300];
  errno = 0;
  snprintf(name, sizeof name, "refuse '%s'", line);
  ok(net_parse(line, strlen(line), &s) < 0 && errno == EINVAL, name);
}

static void parse_good(void)
{
  good("192.0.2.7", NET_QMQP, "192.0.2.7", AF_INET, 628);
  good("192.0.2.7:6280", NET_QMQP, "192.0.2.7", AF_INET, 6280);
  good("qmqp:192.0.2.7", NET_QMQP, "192.0.2.7", AF_INET, 628);
  good("qmtp:192.0.2.7", NET_QMTP, "192.0.2.7", AF_INET, 209);
  good("QMTP:192.0.2.7:2090", NET_QMTP, "192.0.2.7", AF_INET, 2090);
  good("[::1]", NET_QMQP, "::1", AF_INET6, 628);
  good("[::1]:1", NET_QMQP, "::1", AF_INET6, 1);
  good("qmtp:[2001:db8::25]:65535", NET_QMTP, "2001:db8::25", AF_INET6, 65535);
  good("[192.0.2.9]:99", NET_QMQP, "192.0.2.9", AF_INET, 99);
  good("hub.example.org", NET_QMQP, "hub.example.org", 0, 628);
  good("localhost:2525", NET_QMQP, "localhost", 0, 2525);
  good("qmtp:mx-1.example_x.org", NET_QMTP, "mx-1.example_x.org", 0, 209);
  good("qmqp:qmtp:7", NET_QMQP, "qmtp", 0, 7);
  good("  \t10.0.0.1", NET_QMQP, "10.0.0.1", AF_INET, 628);
  good("1host", NET_QMQP, "1host", 0, 628);
}

static void parse_bad(void)
{
  const char *lines[] = {
    "", "   ", "qmtp:", "qmqp:", ":628", "qmtp::209", "[]", "[]:628",
    "192.0.2.7:", "192.0.2.7:0", "192.0.2.7:65536", "192.0.2.7:99999",
    "192.0.2.7:123456", "192.0.2.7:-1", "192.0.2.7:+5", "192.0.2.7:6a",
    "192.0.2.7:62 8", "192.0.2.7:628:1", "[::1", "::1]", "[::1]]", "[[::1]]",
    "[::1]x", "[::1]:", "[::1]:0", "[::1]:70000", "[not-an-ip]", "::1",
    "2001:db8::1", "fe80::1:628", "1.2.3", "1.2.3.4.5", "256.1.1.1",
    "host name", "host;rm", "-host", ".host", "host/x", "smtp:host",
    "qmtp:[::1]:", "[::1]:628x",
  };
  size_t i;
  for (i = 0; i < sizeof lines / sizeof lines[0]; ++i) badline(lines[i]);
}

static void parse_long(void)
{
  char buf[300];
  struct net_server s;
  memset(buf, 'a', 253);
  buf[253] = 0;
  ok(net_parse(buf, 253, &s) == 0 && strlen(s.host) == 253, "host name of 253 bytes");
  memset(buf, 'a', 254);
  ok(net_parse(buf, 254, &s) < 0, "host name of 254 bytes refused");
  ok(net_parse("10.0.0.1\0x", 10, &s) < 0, "NUL inside the line refused");
}

static void resolve(void)
{
  struct net_server s;
  struct net_addr a[8];
  size_t n = 0;
  char buf[NET_FMT];
  net_parse("[::1]:99", 8, &s);
  ok(net_resolve(&s, a, 8, &n) == 0 && n == 1 && a[0].family == AF_INET6 &&
     a[0].port == 99, "literal resolves to itself");
  net_fmt(buf, &a[0]);
  is_mem(buf, strlen(buf), "[::1]:99", "net_fmt IPv6");
  net_parse("localhost:5", 11, &s);
  ok(net_resolve(&s, a, 8, &n) == 0 && n >= 1, "localhost resolves (/etc/hosts)");
  net_fmt(buf, &a[0]);
  ok(strcmp(buf, "127.0.0.1:5") == 0 || strcmp(buf, "[::1]:5") == 0, "localhost is loopback");
}

/* listener: a loopback listening socket; *port gets its port. */
static int listener(int backlog, unsigned short *port)
{
  struct sockaddr_in sin;
  socklen_t sl = sizeof sin;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, backlog) < 0) return -1;
  getsockname(fd, (struct sockaddr *)&sin, &sl);
  *port = ntohs(sin.sin_port);
  return fd;
}

static void addr4(struct net_addr *a, unsigned short port)
{
  memset(a, 0, sizeof *a);
  a->family = AF_INET;
  a->ip[0] = 127;
  a->ip[3] = 1;
  a->port = port;
}

/* blackhole: a listener whose accept queue is full, so SYNs are dropped. */
static int blackhole(unsigned short *port, int *fill)
{
  struct sockaddr_in sin;
  int fd = listener(0, port), i;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(*port);
  for (i = 0; i < 2; ++i) {
    fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fill[i], (struct sockaddr *)&sin, sizeof sin);
  }
  usleep(100000);
  return fd;
}

static void connecting(void)
{
  unsigned short p_good, p_dead, p_hole;
  int l = listener(5, &p_good), d = listener(1, &p_dead), fill[2], h, fd, err;
  struct net_addr c[3];
  unsigned char st[3];
  size_t w = 99;
  long long t0;
  close(d);  /* p_dead: nothing listens there any more */
  addr4(&c[0], p_dead);
  memset(st, 0, sizeof st);
  fd = net_connect(c, st, 1, 250, 1000, 0, &w, &err);
  ok(fd < 0 && err == ECONNREFUSED && st[0] == NET_FAILED, "refused: -1, ECONNREFUSED");
  addr4(&c[1], p_good);
  memset(st, 0, sizeof st);
  fd = net_connect(c, st, 2, 250, 1000, 0, &w, &err);
  ok(fd >= 0 && w == 1 && st[0] == NET_FAILED && st[1] == NET_USED, "refused, then the second wins");
  if (fd >= 0) close(fd);
  h = blackhole(&p_hole, fill);
  addr4(&c[0], p_hole);
  memset(st, 0, sizeof st);
  t0 = io_now_ms();
  fd = net_connect(c, st, 2, 250, 5000, 0, &w, &err);
  ok(fd >= 0 && w == 1 && st[0] == NET_UNTRIED && io_now_ms() - t0 < 1500,
     "blackhole first: the second wins after the stagger, the first stays untried");
  if (fd >= 0) close(fd);
  memset(st, 0, sizeof st);
  t0 = io_now_ms();
  fd = net_connect(c, st, 1, 250, 300, 0, &w, &err);
  ok(fd < 0 && err == ETIMEDOUT && io_now_ms() - t0 < 1500, "blackhole only: ETIMEDOUT");
  memset(st, 0, sizeof st);
  fd = net_connect(c, st, 1, 250, 5000, io_now_ms() + 200, &w, &err);
  ok(fd < 0 && err == ETIMEDOUT, "deadline ends the race");
  st[0] = NET_FAILED;
  st[1] = NET_USED;
  fd = net_connect(c, st, 2, 250, 300, 0, &w, &err);
  ok(fd < 0 && err == ENOENT, "nothing untried: ENOENT");
  close(fill[0]);
  close(fill[1]);
  close(h);
  close(l);
}

int main(void)
{
  parse_good();
  parse_bad();
  parse_long();
  resolve();
  connecting();
  return done_testing();
}
