/* qmail-qstat: summarize the hub's queue (docs/queue.md sec 10; hub/queue/QUEUE.md).
 * No arguments. Prints, as qmail's script did:
 *   messages in queue: N                          (files in mess/S/)
 *   messages in queue but not yet preprocessed: M (files in todo/S/)
 * N counts every message with a message file, including ones still being
 * written or not yet preprocessed. Reads only directory listings, one at a
 * time: memory does not grow with the queue. Needs read access to mess/
 * and todo/ (root, qmailq, or a member of group qmail; the installing user
 * in a single-user home).
 * Exit: 0 printed; 111 the queue cannot be read (message on fd 2). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "qscan.h"

static void cannot(const char *what) __attribute__((noreturn));
static void cannot(const char *what)
{
  if (errno == EACCES || errno == EPERM)
    fatal_sys(111, "unable to read the queue (", what,
              "): run me as root or as a member of group qmail");
  fatal_sys(111, "unable to read the queue (", what, ")");
}

int main(int argc, char **argv)
{
  const char *bad = "";
  unsigned long mess, todo;
  (void)argv;
  progname = "qmail-qstat";
  if (argc > 1) fatal(100, "usage: qmail-qstat");
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to chdir to ", home_dir());
  if (chdir(QUEUE_DIR) == -1) cannot(QUEUE_DIR);
  if (qscan_count(QDIR_MESS, &mess, &bad) == -1) cannot(bad);
  if (qscan_count(QDIR_TODO, &todo, &bad) == -1) cannot(bad);
  if (printf("messages in queue: %lu\nmessages in queue but not yet preprocessed: %lu\n",
             mess, todo) < 0 || fflush(stdout) == EOF)
    fatal_sys(111, "unable to write output");
  return 0;
}
