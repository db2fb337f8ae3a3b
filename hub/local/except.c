/* except: run a program and turn its success into a bounce.
 *   except program [ args ]
 * Program exit 0 -> 100 (bounce), 111 -> 111 (try again later), any other
 * code -> 0 (success), as qmail's except: "|except grep -q spam" bounces
 * what matches and accepts the rest (grep's 1 must not become a deferral).
 * A crash or a program that cannot be run -> 111. */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include "q_err.h"
#include "runwait.h"

int main(int argc, char **argv)
{
  int st;
  progname = "except";
  if (argc < 2) fatal(100, "usage: except program [ args ]");
  st = run_wait(argv + 1);
  return st == 0 ? 100 : st == 111 ? 111 : 0;
}
