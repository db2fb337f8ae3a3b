/* tests/unit/perip.c: TAP tests for common/q_perip.c: slots held by live
 * processes count against their address, a dead process frees its slot,
 * other addresses are not affected, a full table refuses, bad arguments
 * and a missing table are errors. Holders are child processes that take a
 * slot and wait for a byte on a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "q_perip.h"

static char table[] = "/tmp/qperipXXXXXX";

struct holder { pid_t pid; int go; };

/* hold: a child that takes a slot for ip and keeps it until killed;
 * returns its result (1, 0, -1) through a pipe */
static int hold(struct holder *h, const char *ip, unsigned long max, unsigned long slots)
{
  int p[2];
  char c;
  if (pipe(p) == -1) return -2;
  h->pid = fork();
  if (h->pid == 0) {
    char r;
    close(p[0]);
    r = (char)('1' + perip_take(table, ip, max, slots));   /* '0' '1' '2' */
    if (write(p[1], &r, 1) != 1) _exit(1);
    if (r != '2') _exit(0);
    pause();
    _exit(0);
  }
  close(p[1]);
  if (read(p[0], &c, 1) != 1) c = '?';
  close(p[0]);
  if (c != '2') { waitpid(h->pid, 0, 0); h->pid = 0; }
  return c - '1';
}

static void release(struct holder *h)
{
  if (h->pid > 0) { kill(h->pid, SIGKILL); waitpid(h->pid, 0, 0); }
  h->pid = 0;
}

int main(void)
{
  struct holder h[8], spare = { 0, 0 };
  int fd = mkstemp(table), i;
  ok(fd >= 0, "table made");
  close(fd);
  memset(h, 0, sizeof h);

  for (i = 0; i < 3; i++) is_int(hold(&h[i], "127.0.0.2", 3, 8), 1, "slot taken while under the limit");
  is_int(hold(&h[3], "127.0.0.2", 3, 8), 0, "fourth connection from one address refused");
  is_int(hold(&h[3], "127.0.0.1", 3, 8), 1, "another address still admitted");
  release(&h[0]);
  is_int(hold(&h[0], "127.0.0.2", 3, 8), 1, "a dead holder's slot is free again");
  is_int(hold(&h[4], "::1", 10, 8), 1, "IPv6 address");
  for (i = 5; i < 8; i++) is_int(hold(&h[i], "10.0.0.1", 10, 8), 1, "fill the table");
  is_int(hold(&spare, "10.0.0.9", 10, 8), 0, "a full table refuses");
  release(&spare);
  for (i = 0; i < 8; i++) release(&h[i]);
  is_int(hold(&h[0], "10.0.0.9", 10, 8), 1, "every slot free after all holders died");
  release(&h[0]);
  is_int(hold(&h[0], "127.0.0.2", 0, 8), 0, "a limit of 0 refuses every connection");

  errno = 0;
  is_int(perip_take(table, "", 3, 8), -1, "empty address is an error");
  is_int(perip_take(table, "1.2.3.4", 3, 0), -1, "zero slots is an error");
  is_int(perip_take("/nonexistent/perip", "1.2.3.4", 3, 8), -1, "missing table is an error");
  ok(errno == ENOENT, "errno from open");
  unlink(table);
  return done_testing();
}
