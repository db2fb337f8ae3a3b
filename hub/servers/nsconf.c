/* nsconf.c: the netstring servers' refusal of an unusable setting (see
 * nsconf.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_io.h"
#include "q_limits.h"
#include "q_netstring.h"
#include "nsconf.h"
#include "srvconf.h"

/* refuse: one Z netstring to the client, then drain its input a moment so
 * that closing does not reset the connection before it reads the reply */
static void refuse(void) __attribute__((noreturn));
static void refuse(void)
{
  stralloc z = {0};
  struct io_limits l;
  char buf[4096];
  size_t total = 0;
  ssize_t r;
  l.deadline_ms = io_now_ms() + NSCONF_LINGER_MS;
  l.timeout_ms = NSCONF_LINGER_MS;
  if (ns_cats(&z, "Zunable to read controls (#4.3.0)")) io_writeall(1, z.s, z.len, &l);
  shutdown(1, SHUT_WR);
  while (total < 1024 * 1024 && (r = io_read(0, buf, sizeof buf, &l)) > 0) total += (size_t)r;
  _exit(111);
}

void nsconf_init(void)
{
  srvconf_onfail(refuse);
  limit_onfail(srvconf_fail);
}

void nsconf_fail(const char *name, const char *why)
{
  srvconf_onfail(refuse);
  srvconf_fail(name, why);
}
