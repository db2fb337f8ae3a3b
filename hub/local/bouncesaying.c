/* bouncesaying: bounce the message with a given text, always or when a
 * program says so.
 *   bouncesaying error [ program [ args ] ]
 * Without a program: print error, exit 100. With one: run it; exit 0 ->
 * print error and exit 100; 111 -> 111; anything else -> 0 (deliver on).
 * A crash or a program that cannot be run -> 111. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "q_err.h"
#include "runwait.h"

static void bounce(const char *text) __attribute__((noreturn));
static void bounce(const char *text)
{
  if (write(1, text, strlen(text)) < 0 || write(1, "\n", 1) < 0) {}
  _exit(100);
}

int main(int argc, char **argv)
{
  int st;
  progname = "bouncesaying";
  if (argc < 2) fatal(100, "usage: bouncesaying error [ program [ args ] ]");
  if (argc == 2) bounce(argv[1]);
  st = run_wait(argv + 2);
  if (st == 0) bounce(argv[1]);
  return st == 111 ? 111 : 0;
}
