/* except: run a program and turn its success into a bounce.
 *   except program [ args ]
 * Program exit 0 -> 100, 100 -> 0, anything else passed on; a crash or a
 * program that cannot be run -> 111. */
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
  return st == 0 ? 100 : st == 100 ? 0 : st;
}
