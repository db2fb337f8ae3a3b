/* errhome.c: unit tests for q_err (diagnostic format on fd 2, exit codes)
 * and q_home (compiled home, $QMAILHOME override, home_path). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "q_err.h"
#include "q_home.h"

/* run fn in a child with fd 2 on a pipe; return its exit status and text */
static int capture(void (*fn)(void), char *out, size_t cap)
{
  int p[2], st;
  ssize_t n, got = 0;
  pid_t pid;
  if (pipe(p) < 0) return -1;
  pid = fork();
  if (pid == 0) { dup2(p[1], 2); close(p[0]); fn(); _exit(0); }
  close(p[1]);
  while ((n = read(p[0], out + got, cap - 1 - (size_t)got)) > 0) got += n;
  out[got] = 0;
  close(p[0]);
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void do_fatal(void) { progname = "prog"; fatal(111, "unable to open ", "x", " (#4.3.0)"); }
static void do_fatal_sys(void) { progname = "prog"; errno = ENOENT; fatal_sys(100, "unable to read y"); }
static void do_warn(void) { progname = "prog"; warn("just ", "saying"); errno = EACCES; warn_sys("w"); }
static void do_long(void)
{
  static char big[10000];
  memset(big, 'a', sizeof big - 1);
  progname = "prog";
  fatal(100, big);
}

int main(void)
{
  char out[8192];
  stralloc sa = {0};
  is_int(capture(do_fatal, out, sizeof out), 111, "fatal exits with its code");
  is_str(out, "prog: fatal: unable to open x (#4.3.0)\n", "fatal text");
  is_int(capture(do_fatal_sys, out, sizeof out), 100, "fatal_sys exits with its code");
  is_str(out, "prog: fatal: unable to read y: No such file or directory\n", "fatal_sys appends the reason");
  is_int(capture(do_warn, out, sizeof out), 0, "warn returns");
  is_str(out, "prog: warning: just saying\nprog: warning: w: Permission denied\n", "warn texts");
  capture(do_long, out, sizeof out);
  ok(strlen(out) == 4096 && out[4095] == '\n', "a long message is cut at 4 KB and still ends in a newline");

  unsetenv("QMAILHOME");
  is_str(home_dir(), auto_home, "no $QMAILHOME: the compiled home");
  setenv("QMAILHOME", "/tmp/somewhere", 1);
  is_str(home_dir(), "/tmp/somewhere", "$QMAILHOME overrides (not setuid)");
  setenv("QMAILHOME", "relative/path", 1);
  is_str(home_dir(), auto_home, "a relative $QMAILHOME is ignored");
  setenv("QMAILHOME", "", 1);
  is_str(home_dir(), auto_home, "an empty $QMAILHOME is ignored");
  setenv("QMAILHOME", "/h", 1);
  ok(home_path(&sa, "control/me"), "home_path");
  is_str(sa.s, "/h/control/me", "home_path joins with /");
  is_int(sa.len, 14, "home_path's length counts the NUL");
  stralloc_free(&sa);
  return done_testing();
}
