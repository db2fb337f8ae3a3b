/* tests/unit/rroute.c: hub/remote/rroute.c, control/smtproutes and qmtproutes
 * lookup: exact domains, .suffix wildcards in qmail's order, the default
 * route, empty relay (MX), ports, address literals (IPv4, IPv6, IPv6:),
 * plain dotted quads, case, and malformed matching lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "tap.h"
#include "rroute.h"

static const char list[] =
  "example.com:relay.example.net:2525\0"
  ".sub.example.org:[192.0.2.7]\0"
  "x.sub.example.org:\0"
  "v6.test:[IPv6:2001:db8::25]:26\0"
  "v6b.test:[2001:db8::26]\0"
  "quad.test:192.0.2.9\0"
  "mxport.test::2526\0"
  "bad.test:relay:99999\0"
  "bad2.test:[1.2.3]\0"
  "bad3.test:re lay\0"
  ":default.example.net\0";

static struct rroute r;
static int find(const char *host)
{
  return rroute_find(list, sizeof list - 1, host, &r);
}

int main(void)
{
  char ip[64];
  struct rroute one;
  ok(find("example.com") == 1 && r.kind == RROUTE_NAME && !strcmp(r.name, "relay.example.net") && r.port == 2525,
     "exact domain, name and port");
  ok(find("EXAMPLE.COM") == 1 && r.port == 2525, "case ignored");
  ok(find("a.sub.example.org") == 1 && r.kind == RROUTE_LITERAL && r.family == AF_INET && r.port == 0,
     ".suffix wildcard, literal, default port");
  ok(find("x.sub.example.org") == 1 && r.kind == RROUTE_MX, "exact beats the wildcard; empty relay = MX");
  ok(find("v6.test") == 1 && r.family == AF_INET6 && r.port == 26 &&
     inet_ntop(AF_INET6, r.ip, ip, sizeof ip) && !strcmp(ip, "2001:db8::25"), "[IPv6:...] literal with port");
  ok(find("v6b.test") == 1 && r.family == AF_INET6, "[v6] literal");
  ok(find("quad.test") == 1 && r.kind == RROUTE_LITERAL && r.family == AF_INET, "plain dotted quad");
  ok(find("mxport.test") == 1 && r.kind == RROUTE_MX && r.port == 2526, "empty relay with a port");
  ok(find("other.test") == 1 && !strcmp(r.name, "default.example.net"), "default route");
  errno = 0;
  ok(find("bad.test") == -1 && errno == EINVAL, "port 99999: error");
  ok(find("bad2.test") == -1, "bad literal: error");
  ok(find("bad3.test") == -1, "blank in a relay name: error");
  ok(rroute_find("a.test:b\0", 9, "c.test", &r) == 0, "no route");
  ok(rroute_find("a.test:b\0", 9, "xa.test", &r) == 0, "no match on a partial label");
  ok(rroute_parse("[::1]:0", 7, &one) < 0, "port 0 refused");
  ok(rroute_parse("h:", 2, &one) == 0 && one.port == 0, "empty port = default");
  ok(rroute_literal("[1.2.3.4]", 9, &one.family, one.ip) == 0 && one.family == AF_INET, "literal v4");
  ok(rroute_literal("1.2.3.4", 7, &one.family, one.ip) < 0, "no brackets: not a literal");
  ok(rroute_name_ok("a-b.c_d", 7) && !rroute_name_ok("-a", 2) && !rroute_name_ok("a b", 3) &&
     !rroute_name_ok("", 0), "name check");
  return done_testing();
}
