/* predate.c: run a program with a local-time Date: field in front of its input.
 *
 *   predate child [arg ...]
 *
 * Starts child (fork + execvp, no shell) with a pipe on its stdin, writes
 * "Date: <RFC 5322 date-time in the local zone>\n" into the pipe, then copies
 * our stdin to it, and waits for the child. Used by datemail so that MUAs
 * that omit Date: get one in the sender's own zone (qmail-inject would add
 * a UTC one).
 *
 * Exit codes: the child's exit code; 100 usage; 111 our own failure (pipe,
 * fork, reading stdin, writing the pipe) or the child killed by a signal or
 * not runnable. When we cannot read all of stdin, or the pipe breaks for a
 * reason other than the child leaving early, the child is killed before its
 * input ends, so it never sees a truncated message as a complete one.
 * Caps: none; data streams through a 64 KB buffer. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "q_date.h"
#include "q_err.h"

#define CHUNK 65536

static pid_t child = -1;

/* die_child: our own failure while the child runs: make sure it never sees
 * a clean end of input, reap it, exit 111. */
static void die_child(const char *what)
{
  int e = errno;
  if (child > 0) {
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) ;
  }
  errno = e;
  fatal(111, "unable to ", what, ": ", strerror(e), " (#4.3.0)");
}

/* start: fork the child with the read end of a pipe as its stdin; returns
 * the write end. */
static int start(char **argv)
{
  int p[2];
  if (pipe(p) < 0) fatal(111, "unable to create pipe: ", strerror(errno), " (#4.3.0)");
  child = fork();
  if (child < 0) fatal(111, "unable to fork: ", strerror(errno), " (#4.3.0)");
  if (child == 0) {
    signal(SIGPIPE, SIG_DFL);   /* ignoring it is our business, not the child's */
    close(p[1]);
    if (p[0] != 0) {
      if (dup2(p[0], 0) < 0) fatal(111, "unable to set up stdin: ", strerror(errno), " (#4.3.0)");
      close(p[0]);
    }
    execvp(argv[0], argv);
    fatal(111, "unable to run ", argv[0], ": ", strerror(errno), " (#4.3.0)");
  }
  close(p[0]);
  return p[1];
}

/* put: write all of buf to fd. 0 ok, 1 the child stopped reading (EPIPE),
 * -1 other error. */
static int put(int fd, const char *buf, size_t len)
{
  while (len) {
    ssize_t w = write(fd, buf, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EPIPE) return 1;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      return -1;
    }
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

/* feed: the Date: line, then our stdin. Returns 1 if the child stopped
 * reading early (its exit code then tells what happened), else 0. */
static int feed(int fd)
{
  char buf[CHUNK];
  char date[DATE822_MAX];
  size_t dl = date_fmt822(date, time(NULL), 1);
  int r = put(fd, "Date: ", 6);
  if (r == 0) r = put(fd, date, dl);
  if (r == 0) r = put(fd, "\n", 1);
  while (r == 0) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_child("read input");
    if (n == 0) break;
    r = put(fd, buf, (size_t)n);
  }
  if (r < 0) die_child("write to child");
  return r;
}

/* reap: wait for the child and turn its status into our exit code. */
static int reap(void)
{
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) fatal(111, "unable to wait for child: ", strerror(errno), " (#4.3.0)");
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  fatal(111, "child was killed by a signal (#4.3.0)");
}

int main(int argc, char **argv)
{
  int fd;
  progname = "predate";
  if (argc < 2) fatal(100, "usage: predate child [arg ...] (#5.3.5)");
  /* a child that quits early must show up as EPIPE, not kill us */
  signal(SIGPIPE, SIG_IGN);
  fd = start(argv + 1);
  feed(fd);
  if (close(fd) < 0 && errno != EPIPE) die_child("write to child");
  return reap();
}
