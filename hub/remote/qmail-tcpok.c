/* qmail-tcpok: clear qmail-remote's table of recently failed addresses
 * (HOME/queue/lock/tcpto, hub/remote/tcpto.h), so that every host is tried again
 * at the next delivery. Run it as the table's owner (qmailr) or root.
 * Exit 0; 111 when the table cannot be opened, locked or written. */
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "tcpto.h"

int main(void)
{
  stralloc path = {0};
  progname = "qmail-tcpok";
  if (!home_path(&path, QUEUE_DIR "/" QFILE_TCPTO)) fatal_nomem();
  if (tcpto_clear(path.s) < 0) fatal_sys(111, "unable to clear ", path.s);
  stralloc_free(&path);
  return 0;
}
