/* asnobody.h: run N TAP checks in a forked child that is an ordinary user.
 * Root reads and writes files whatever their mode, so a check that a mode
 * 000 file cannot be read (or a mode 0500 directory written) must run as
 * someone else: when we are root the child first becomes nobody (uid and
 * gid 65534, no supplementary groups); otherwise it keeps our ids. Its
 * "ok" lines continue this process's numbering; it must print exactly N
 * of them. If it cannot switch, it prints N skip lines with the reason.
 * The files the checks use must be reachable by nobody (the caller chmods
 * or chowns them). Header-only, like tap.h, which it needs. */
#ifndef ASNOBODY_H
#define ASNOBODY_H

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY_ID 65534

/* become_nobody: 0, or -1 with errno when root could not switch */
static inline int become_nobody(void)
{
  if (geteuid() != 0) return 0;
  if (setgroups(0, 0) < 0 || setgid(NOBODY_ID) < 0 || setuid(NOBODY_ID) < 0) return -1;
  if (getuid() != NOBODY_ID || geteuid() != NOBODY_ID) { errno = EPERM; return -1; }
  return 0;
}

static inline void tap_as_nobody(void (*checks)(void), int n)
{
  int start = tap_n, failed = tap_failed, i, st;
  pid_t pid;
  fflush(stdout);
  pid = fork();
  if (pid < 0) {
    for (i = 0; i < n; ++i) tap_ok(0, "fork for the checks as an ordinary user", __FILE__, __LINE__);
    return;
  }
  if (pid == 0) {
    if (become_nobody() < 0) {
      const char *why = strerror(errno);
      for (i = 0; i < n; ++i) printf("ok %d # skip cannot become nobody: %s\n", ++tap_n, why);
      fflush(stdout);
      _exit(0);
    }
    checks();
    if (tap_n != start + n) printf("# the child ran %d checks, not %d\n", tap_n - start, n);
    fflush(stdout);
    _exit(tap_failed != failed || tap_n != start + n);
  }
  tap_n = start + n;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    printf("# the checks run as an ordinary user failed or did not finish\n");
    ++tap_failed;
  }
}

#endif
