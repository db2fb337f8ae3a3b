/* netwhy.c: unit test of what common/q_net.c says about a problem:
 * net_parse_why's reasons (each refusal in words, the faulty part quoted
 * and cleaned, capped), net_line's walk over a list file with line numbers
 * (comments, blanks, CRLF, no final newline), net_strerror, and
 * net_connect_errs giving each failed candidate its own errno. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap.h"
#include "q_net.h"

static void why_is(const char *line, const char *want)
{
  struct net_server s;
  char why[NET_WHY], name[300];
  int r;
  snprintf(name, sizeof name, "why '%s'", line);
  errno = 0;
  r = net_parse_why(line, strlen(line), &s, why);
  ok(r < 0 && errno == EINVAL, name);
  is_mem(why, strlen(why), want, name);
}

static void reasons(void)
{
  struct net_server s;
  char why[NET_WHY], big[400];
  why_is("192.0.2.7:99999", "bad port \"99999\"");
  why_is("192.0.2.7:0", "bad port \"0\"");
  why_is("192.0.2.7:", "bad port \"\"");
  why_is("192.0.2.7:6a", "bad port \"6a\"");
  why_is("qmtp:", "no host");
  why_is("", "no host");
  why_is(":628", "no host");
  why_is("::1", "IPv6 address without brackets \"::1\"");
  why_is("2001:db8::1", "IPv6 address without brackets \"2001:db8::1\"");
  why_is("[::1", "no closing bracket \"[::1\"");
  why_is("::1]", "no opening bracket \"::1]\"");
  why_is("[zz]:5", "bad address in brackets \"[zz]\"");
  why_is("[::1]x", "junk after the address \"x\"");
  why_is("1.2.3", "bad IPv4 address \"1.2.3\"");
  why_is("host name", "bad host name \"host name\"");
  why_is("-host", "bad host name \"-host\"");
  why_is("bad\001host", "bad host name \"bad?host\"");
  ok(net_parse_why("a\0b", 3, &s, why) < 0 && !strcmp(why, "NUL byte in the line"),
     "a NUL byte is named");
  memset(big, 'a', 300);
  ok(net_parse_why(big, 300, &s, why) < 0 && !strcmp(why, "host name longer than 253 bytes"),
     "a long name: its length is named, not quoted");
  memset(big, ' ', 300);
  big[0] = 'h';
  ok(net_parse_why(big, 200, &s, why) < 0 && strlen(why) < NET_WHY &&
     strstr(why, "...\"") != 0, "a long faulty part is cut and marked");
  ok(net_parse_why("hub.example.org:2525", 20, &s, why) == 0 && why[0] == 0 &&
     s.port == 2525, "a good line: no reason");
  ok(net_parse_why("[::1]:70000", 11, &s, 0) < 0, "why may be NULL");
}

static void lines(void)
{
  static const char raw[] = "# hubs\n\n192.0.2.1  \r\n  \n#x\nqmtp:hub\t\nlast";
  size_t pos = 0, no = 0, len;
  const char *l;
  char got[200] = "";
  while (net_line(raw, sizeof raw - 1, &pos, &no, &l, &len)) {
    char one[64];
    snprintf(one, sizeof one, "%zu:%.*s|", no, (int)len, l);
    strcat(got, one);
  }
  is_mem(got, strlen(got), "3:192.0.2.1|6:qmtp:hub|7:last|",
         "net_line: kept lines with their numbers, trailing blanks and CR gone");
  pos = no = 0;
  ok(net_line("", 0, &pos, &no, &l, &len) == 0, "net_line: an empty file has no line");
}

static void texts(void)
{
  is_mem(net_strerror(ECONNREFUSED), strlen(net_strerror(ECONNREFUSED)),
         "connection refused", "net_strerror ECONNREFUSED");
  is_mem(net_strerror(ENOENT), strlen(net_strerror(ENOENT)), "no such host", "net_strerror ENOENT");
  is_mem(net_strerror(EAGAIN), strlen(net_strerror(EAGAIN)), "temporary DNS failure",
         "net_strerror EAGAIN");
  ok(net_strerror(EMFILE)[0] != 0, "net_strerror: others through strerror");
}

static unsigned short dead_port(void)
{
  struct sockaddr_in sin;
  socklen_t sl = sizeof sin;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&sin, sizeof sin);
  getsockname(fd, (struct sockaddr *)&sin, &sl);
  close(fd);
  return ntohs(sin.sin_port);
}

static void errs(void)
{
  struct net_addr c[2];
  unsigned char st[2] = { NET_UNTRIED, NET_UNTRIED };
  int e[2] = { -1, -1 }, err, fd;
  size_t w;
  memset(c, 0, sizeof c);
  c[0].family = c[1].family = AF_INET;
  c[0].ip[0] = c[1].ip[0] = 127;
  c[0].ip[3] = c[1].ip[3] = 1;
  c[0].port = dead_port();
  c[1].port = dead_port();
  fd = net_connect_errs(c, st, e, 2, 250, 1000, 0, &w, &err);
  ok(fd < 0 && e[0] == ECONNREFUSED && e[1] == ECONNREFUSED &&
     st[0] == NET_FAILED && st[1] == NET_FAILED, "net_connect_errs: each refusal recorded");
  e[0] = e[1] = -1;
  fd = net_connect_errs(c, st, e, 2, 250, 1000, 0, &w, &err);
  ok(fd < 0 && err == ENOENT && e[0] == -1 && e[1] == -1,
     "net_connect_errs: nothing tried, nothing recorded");
}

int main(void)
{
  reasons();
  lines();
  texts();
  errs();
  return done_testing();
}
