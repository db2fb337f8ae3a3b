/* qmail-inject: preprocess a message and hand it to the queue.
 * All of the work is in inject.c, shared with sendmail. */
#include "inject.h"
#include "q_err.h"

int main(int argc, char **argv)
{
  progname = "qmail-inject";
  inject_main(argc, argv);
}
