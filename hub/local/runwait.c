/* runwait.c: fork, execvp, wait (see runwait.h). */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include "q_err.h"
#include "runwait.h"

int run_wait(char **argv)
{
  pid_t pid;
  int st;
  if ((pid = fork()) < 0) fatal_sys(111, "unable to fork");
  if (pid == 0) {
    execvp(argv[0], argv);
    fatal_sys(111, "unable to run ", argv[0]);
  }
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) fatal_sys(111, "unable to wait for child");
  if (!WIFEXITED(st)) fatal(111, "child crashed");
  return WEXITSTATUS(st);
}
