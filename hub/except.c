/* except: run a program and turn its success into a bounce.
 *   except program [ args ]
 * Program exit 0 -> 100, 100 -> 0, anything else passed on; a crash or a
 * program that cannot be run -> 111. */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include "q_err.h"

int main(int argc, char **argv)
{
  pid_t pid;
  int st;
  progname = "except";
  if (argc < 2) fatal(100, "usage: except program [ args ]");
  if ((pid = fork()) < 0) fatal_sys(111, "unable to fork");
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    fatal_sys(111, "unable to run ", argv[1]);
  }
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) fatal_sys(111, "unable to wait for child");
  if (!WIFEXITED(st)) fatal(111, "child crashed");
  st = WEXITSTATUS(st);
  return st == 0 ? 100 : st == 100 ? 0 : st;
}
