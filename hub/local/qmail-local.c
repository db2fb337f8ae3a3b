/* qmail-local: deliver one message to one local address, following the
 * address's .qmail file (qmail-local(8), dot-qmail(5)); the delivery
 * itself is hub/local/local.c, which qmail-lspawn also runs in-process.
 *   qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery
 * Exit: 0 delivered, 100 permanent, 111 temporary (text on stderr). */
#include "local.h"

int main(int argc, char **argv)
{
  return local_main(argc, argv);
}
