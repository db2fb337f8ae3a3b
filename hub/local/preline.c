/* preline: feed a program the message with qmail-local's envelope lines in
 * front: UFLINE (From_ line), RPLINE (Return-Path), DTLINE (Delivered-To).
 *   preline [ -dfr ] program [ args ]
 * -d omits DTLINE, -f UFLINE, -r RPLINE. The program gets the lines and then
 * our stdin on a pipe; we exit with its exit code (111 if it crashed or could
 * not be run, 100 usage). Unset variables count as empty. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "q_err.h"
#include "q_io.h"

/* feed: the chosen lines, then stdin, into fd. A reader that stops early
 * (EPIPE) is its own business: its exit code decides. */
static void feed(int fd, int uf, int rp, int dt)
{
  const char *v[3];
  char buf[65536];
  ssize_t r;
  int i;
  v[0] = uf ? getenv("UFLINE") : 0;
  v[1] = rp ? getenv("RPLINE") : 0;
  v[2] = dt ? getenv("DTLINE") : 0;
  for (i = 0; i < 3; ++i)
    if (v[i] && io_writeall(fd, v[i], strlen(v[i]), 0) < 0) return;
  for (;;) {
    r = read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fatal_sys(111, "unable to read input");
    if (r == 0 || io_writeall(fd, buf, (size_t)r, 0) < 0) return;
  }
}

int main(int argc, char **argv)
{
  int uf = 1, rp = 1, dt = 1, opt, p[2], st;
  pid_t pid;
  progname = "preline";
  while ((opt = getopt(argc, argv, "+dfr")) != -1) {
    if (opt == 'd') dt = 0;
    else if (opt == 'f') uf = 0;
    else if (opt == 'r') rp = 0;
    else fatal(100, "usage: preline [ -dfr ] program [ args ]");
  }
  if (optind >= argc) fatal(100, "usage: preline [ -dfr ] program [ args ]");
  signal(SIGPIPE, SIG_IGN);
  if (pipe(p) < 0) fatal_sys(111, "unable to create pipe");
  if ((pid = fork()) < 0) fatal_sys(111, "unable to fork");
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);
    if (dup2(p[0], 0) < 0) _exit(111);
    close(p[0]);
    execvp(argv[optind], argv + optind);
    fatal_sys(111, "unable to run ", argv[optind]);
  }
  close(p[0]);
  feed(p[1], uf, rp, dt);
  close(p[1]);
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) fatal_sys(111, "unable to wait for child");
  if (!WIFEXITED(st)) fatal(111, "child crashed");
  return WEXITSTATUS(st);
}
