/* srvfork.c: the fork server of the network services (see srvfork.h).
 *
 * The listener is tcpserver's loop, kept short: SIGCHLD is blocked except
 * while we wait in accept or, at the concurrency cap, in sigsuspend, so
 * its handler (which reaps and logs) never runs in the middle of the
 * loop. The child does what tcpserver's child does before its exec, then
 * returns into the program's main. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cdb.h"
#include "srvfork.h"

#define RULES_DATA_MAX 65536    /* one tcprules entry's settings */
#define SERVE_BACKLOG 256
#define SERVE_CONCURRENCY 40

static const char *prog;
static unsigned long children, limit;

/* ---- log lines (async-signal-safe: the SIGCHLD handler writes them) ---- */

struct line { char s[512]; size_t n; };

static void add(struct line *l, const char *s)
{
  while (*s && l->n < sizeof l->s - 1) l->s[l->n++] = *s++;
}

static void addnum(struct line *l, unsigned long u)
{
  char b[24];
  size_t i = sizeof b;
  b[--i] = 0;
  do { b[--i] = (char)('0' + u % 10); u /= 10; } while (u);
  add(l, b + i);
}

static void begin(struct line *l, const char *what)
{
  l->n = 0;
  add(l, prog); add(l, ": "); add(l, what);
}

static void emit(struct line *l)
{
  l->s[l->n++] = '\n';   /* add leaves room for it */
  if (write(2, l->s, l->n) < 0) return;
}

static void status(void)
{
  struct line l;
  begin(&l, "status: "); addnum(&l, children); add(&l, "/"); addnum(&l, limit);
  emit(&l);
}

static void warn2(const char *what, const char *arg, int e)
{
  struct line l;
  begin(&l, what);
  if (arg) add(&l, arg);
  if (e) { add(&l, ": "); add(&l, strerror(e)); }
  emit(&l);
}

static void fatal(const char *what, const char *arg, int e) __attribute__((noreturn));
static void fatal(const char *what, const char *arg, int e)
{
  warn2(what, arg, e);
  _exit(111);
}

static void reap(int sig)
{
  int e = errno, st;
  pid_t pid;
  (void)sig;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    struct line l;
    begin(&l, "end "); addnum(&l, (unsigned long)pid);
    add(&l, " status "); addnum(&l, (unsigned long)(unsigned)st);
    emit(&l);
    if (children) --children;
    status();
  }
  errno = e;
}

/* ---- settings ---------------------------------------------------------- */

static unsigned long number(const char *name, unsigned long def, unsigned long min, unsigned long max)
{
  const char *s = getenv(name);
  char *end;
  unsigned long v;
  if (!s) return def;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (*s < '0' || *s > '9' || errno || *end || v < min || v > max)
    fatal("fatal: bad setting ", name, 0);
  return v;
}

static int listener(void)
{
  const char *ip = getenv("SERVE_IP");
  unsigned long port = number("SERVE_PORT", 0, 0, 65535);
  unsigned long backlog = number("SERVE_BACKLOG", SERVE_BACKLOG, 1, 65535);
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
  struct sockaddr *sa;
  socklen_t len;
  int s, one = 1;
  if (!getenv("SERVE_PORT")) fatal("fatal: no SERVE_PORT", 0, 0);
  if (!ip || !strcmp(ip, "0")) ip = "0.0.0.0";
  memset(&v4, 0, sizeof v4);
  memset(&v6, 0, sizeof v6);
  if (inet_pton(AF_INET, ip, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons((unsigned short)port);
    sa = (struct sockaddr *)&v4; len = sizeof v4;
  } else if (inet_pton(AF_INET6, ip, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons((unsigned short)port);
    sa = (struct sockaddr *)&v6; len = sizeof v6;
  } else fatal("fatal: bad SERVE_IP ", ip, 0);
  s = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s == -1) fatal("fatal: unable to make a socket", 0, errno);
  if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
      bind(s, sa, len) == -1)
    fatal("fatal: unable to bind ", ip, errno);
  if (listen(s, (int)backlog) == -1) fatal("fatal: unable to listen", 0, errno);
  return s;
}

/* drop: SERVE_UID and SERVE_GID, as tcpserver -u -g */
static void drop(void)
{
  int hu = getenv("SERVE_UID") != 0, hg = getenv("SERVE_GID") != 0;
  uid_t u;
  gid_t g;
  if (!hu && !hg) return;
  if (!hu || !hg) fatal("fatal: SERVE_UID and SERVE_GID go together", 0, 0);
  u = (uid_t)number("SERVE_UID", 0, 0, 0x7fffffffUL);
  g = (gid_t)number("SERVE_GID", 0, 0, 0x7fffffffUL);
  if (setgroups(1, &g) == -1 || setgid(g) == -1 || setuid(u) == -1)
    fatal("fatal: unable to drop to SERVE_UID and SERVE_GID", 0, errno);
  if (u != 0 && setuid(0) != -1) fatal("fatal: the ids did not drop", 0, 0);
}

/* ---- the child ----------------------------------------------------------- */

/* ipstr: the address as tcpserver shows it; an IPv4-mapped IPv6 address
 * as IPv4. Returns 6 for a real IPv6 address, else 4. */
static int ipstr(const struct sockaddr_storage *ss, char *ip, size_t iplen, unsigned long *port)
{
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    *port = ntohs(a->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      if (!inet_ntop(AF_INET, a->sin6_addr.s6_addr + 12, ip, (socklen_t)iplen)) return -1;
      return 4;
    }
    if (!inet_ntop(AF_INET6, &a->sin6_addr, ip, (socklen_t)iplen)) return -1;
    return 6;
  }
  *port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
  if (!inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, (socklen_t)iplen)) return -1;
  return 4;
}

static void set(const char *name, const char *value)
{
  if (setenv(name, value, 1) == -1) fatal("warning: dropping connection, out of memory", 0, 0);
}

static void setnum(const char *name, unsigned long u)
{
  struct line l;
  l.n = 0;
  addnum(&l, u);
  l.s[l.n] = 0;
  set(name, l.s);
}

/* apply: a tcprules entry: "D" denies, "+NAME=value" sets (tcpserver's
 * reading of it). 1 allowed, 2 denied. */
static int apply(char *d, size_t len)
{
  int deny = 0;
  char *z;
  while (len > 0 && (z = memchr(d, 0, len))) {   /* NUL-ended entries */
    size_t end = (size_t)(z - d);
    if (d[0] == 'D') deny = 1;
    if (d[0] == '+') {
      char *eq = strchr(d + 1, '=');
      if (eq) { *eq = 0; set(d + 1, eq + 1); }
    }
    d += end + 1;
    len -= end + 1;
  }
  return deny ? 2 : 1;
}

/* find: the entry of key: 0 none, 1 allowed, 2 denied, -1 error */
static int find(struct cdb *c, const char *key, size_t len)
{
  static char data[RULES_DATA_MAX];
  uint32 dl;
  int r = cdb_find(c, (const unsigned char *)key, len);
  if (r != 1) return r;
  dl = cdb_datalen(c);
  if (dl > sizeof data) { errno = EFBIG; return -1; }
  if (cdb_read(c, (unsigned char *)data, dl, cdb_datapos(c)) == -1) return -1;
  return apply(data, dl);
}

/* rules: tcpserver's order without -H and -R: the address, its prefixes
 * ending in '.' (IPv4) or ':' (IPv6, not the first), then "". 1 allowed
 * (no entry: allowed), 2 denied, -1 the file cannot be read. */
static int rules(const char *path, const char *ip)
{
  struct cdb c;
  size_t len = strlen(ip);
  int r, fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) return -1;
  memset(&c, 0, sizeof c);
  cdb_init(&c, fd);
  r = find(&c, ip, len);
  for (; r == 0 && len > 0; --len)
    if (ip[len - 1] == '.' || (ip[len - 1] == ':' && len > 1)) r = find(&c, ip, len);
  if (r == 0) r = find(&c, "", 0);
  cdb_free(&c);
  close(fd);
  return r == 0 ? 1 : r;
}

static void (*atchild[SRVFORK_ATCHILD])(void);
static size_t natchild;

int srvfork_atchild(void (*fn)(void))
{
  if (natchild == SRVFORK_ATCHILD) return -1;
  atchild[natchild++] = fn;
  return 0;
}

static void child(int s, int fd, const struct sockaddr_storage *peer, const char *rulefile)
{
  struct sockaddr_storage me;
  socklen_t len = sizeof me;
  char lip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];
  unsigned long lport, rport;
  int v, r, one = 1;
  struct line l;
  sigset_t none;
  size_t i;
  for (i = 0; i < natchild; ++i) atchild[i]();
  close(s);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, 0);
  if (getsockname(fd, (struct sockaddr *)&me, &len) == -1 || ipstr(&me, lip, sizeof lip, &lport) < 0)
    fatal("warning: dropping connection, unable to get the local address", 0, errno);
  if ((v = ipstr(peer, rip, sizeof rip, &rport)) < 0)
    fatal("warning: dropping connection, unable to read the remote address", 0, errno);
  set("PROTO", v == 6 ? "TCP6" : "TCP");
  set("TCPLOCALHOST", "0");
  set("TCPLOCALIP", lip);
  setnum("TCPLOCALPORT", lport);
  set("TCPREMOTEIP", rip);
  setnum("TCPREMOTEPORT", rport);
  unsetenv("TCPREMOTEHOST");
  unsetenv("TCPREMOTEINFO");
  if (v == 6) {   /* ucspi-tcp-ipv6 */
    set("TCP6LOCALHOST", "0"); set("TCP6LOCALIP", lip); setnum("TCP6LOCALPORT", lport);
    set("TCP6REMOTEIP", rip); setnum("TCP6REMOTEPORT", rport);
  }
  r = rules(rulefile, rip);
  if (r == -1) fatal("warning: dropping connection, unable to read ", rulefile, errno);
  begin(&l, r == 2 ? "deny " : "ok ");
  addnum(&l, (unsigned long)getpid());
  add(&l, " 0:"); add(&l, lip); add(&l, ":"); addnum(&l, lport);
  add(&l, " :"); add(&l, rip); add(&l, "::"); addnum(&l, rport);
  emit(&l);
  if (r == 2) _exit(100);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* -D */
  if ((fd != 0 && dup2(fd, 0) == -1) || (fd != 1 && dup2(fd, 1) == -1))
    fatal("warning: dropping connection, unable to move the socket", 0, errno);
  if (fd > 1) close(fd);
  unsetenv("SERVE"); unsetenv("SERVE_IP"); unsetenv("SERVE_PORT"); unsetenv("SERVE_RULES");
  unsetenv("SERVE_BACKLOG"); unsetenv("SERVE_UID"); unsetenv("SERVE_GID");
}

/* ---- the listener ----------------------------------------------------------- */

/* stdfds: 0, 1 and 2 open, so that neither the listener nor a connection
 * lands on one of them */
static void stdfds(void)
{
  int fd;
  while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2) {}
  if (fd > 2) close(fd);
}

void srvfork(const char *name, void (*hook)(void))
{
  const char *serve = getenv("SERVE"), *rulefile = getenv("SERVE_RULES");
  struct sigaction sa;
  sigset_t chld, waitmask;
  int s;
  if (!serve || !*serve) return;   /* classic mode */
  prog = name;
  if (strcmp(serve, "1")) fatal("fatal: bad setting SERVE (1 or unset)", 0, 0);
  if (!rulefile || !*rulefile) fatal("fatal: no SERVE_RULES (the tcprules cdb)", 0, 0);
  limit = number("CONCURRENCY", SERVE_CONCURRENCY, 1, 65536);
  stdfds();
  s = listener();
  drop();
  if (hook) hook();
  signal(SIGPIPE, SIG_IGN);   /* a log reader gone must not end us */
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &waitmask);
  sigdelset(&waitmask, SIGCHLD);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = reap;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, 0);
  status();
  for (;;) {
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    pid_t pid;
    int fd;
    while (children >= limit) sigsuspend(&waitmask);
    sigprocmask(SIG_UNBLOCK, &chld, 0);
    fd = accept(s, (struct sockaddr *)&peer, &len);
    sigprocmask(SIG_BLOCK, &chld, 0);
    if (fd == -1) {
      if (errno != EINTR && errno != ECONNABORTED) {
        struct timespec ts = { 0, 100000000 };   /* EMFILE and such: no spin */
        warn2("warning: unable to accept", 0, errno);
        nanosleep(&ts, 0);
      }
      continue;
    }
    if (hook) hook();
    ++children;
    status();
    pid = fork();
    if (pid == 0) { child(s, fd, &peer, rulefile); return; }
    if (pid == -1) {
      warn2("warning: unable to fork", 0, errno);
      --children;
      status();
    } else {
      char ip[INET6_ADDRSTRLEN];
      unsigned long port;
      struct line l;
      begin(&l, "pid "); addnum(&l, (unsigned long)pid); add(&l, " from ");
      add(&l, ipstr(&peer, ip, sizeof ip, &port) < 0 ? "unknown" : ip);
      emit(&l);
    }
    close(fd);
  }
}
