/* srvfork.c: a server for tests/sys/srvfork.t, built with the unit tests.
 *
 *   srvfork serve    srvfork() (hub/servers/srvfork.h), then one command
 *                    line from the client on fd 0:
 *     env    the environment, "NAME=VALUE" lines sorted, then "fds N..."
 *            (open descriptors), "nodelay N", "same01 N" (fd 0 and 1 the
 *            same socket), "blocked N" (signals blocked), "chld N"
 *            (SIGCHLD's disposition: 0 default)
 *     crash  abort()
 *     hold   wait until the client closes
 * Run under tcpserver (no $SERVE) it answers the same way, so the two
 * can be compared. Without arguments it is a unit test with nothing to do
 * alone (skip). */
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "srvfork.h"

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void dump(void)
{
  size_t n = 0, i;
  char **e;
  struct stat a, b;
  DIR *d;
  struct dirent *de;
  sigset_t cur;
  struct sigaction sa;
  int one = 0, blocked = 0, s;
  socklen_t len = sizeof one;
  for (e = environ; *e; ++e) ++n;
  e = malloc((n + 1) * sizeof *e);
  if (!e) exit(111);
  memcpy(e, environ, n * sizeof *e);
  qsort(e, n, sizeof *e, cmp);
  for (i = 0; i < n; ++i) printf("%s\n", e[i]);
  printf("fds");
  if ((d = opendir("/proc/self/fd"))) {
    while ((de = readdir(d)))
      if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d)) printf(" %s", de->d_name);
    closedir(d);
  }
  printf("\n");
  getsockopt(0, IPPROTO_TCP, TCP_NODELAY, &one, &len);
  printf("nodelay %d\n", one != 0);
  printf("same01 %d\n", fstat(0, &a) == 0 && fstat(1, &b) == 0 && a.st_ino == b.st_ino);
  sigprocmask(SIG_SETMASK, 0, &cur);
  for (s = 1; s < 32; ++s) if (sigismember(&cur, s)) blocked++;
  printf("blocked %d\n", blocked);
  sigaction(SIGCHLD, 0, &sa);
  printf("chld %d\n", sa.sa_handler != SIG_DFL);
  fflush(stdout);
}

int main(int argc, char **argv)
{
  char line[64];
  ssize_t r;
  size_t got = 0;
  (void)argv;
  if (argc < 2) { printf("1..0 # skip a helper of tests/sys/srvfork.t\n"); return 0; }
  srvfork("srvfork", 0);
  while (got < sizeof line - 1 && (r = read(0, line + got, 1)) == 1 && line[got] != '\n') ++got;
  line[got] = 0;
  if (!strcmp(line, "env")) dump();
  else if (!strcmp(line, "crash")) abort();
  else if (!strcmp(line, "hold")) { char c; while (read(0, &c, 1) > 0) {} }
  return 0;
}
