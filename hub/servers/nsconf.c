/* nsconf.c: settings of the netstring servers and their refusal (see
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
#include "q_netstring.h"
#include "nsconf.h"

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

void nsconf_fail(const char *name, const char *why)
{
  err_print("alert", 0, "cannot use control/", name, ": ", why, (const char *)0);
  refuse();
}

static void fail_errno(const char *name) __attribute__((noreturn));
static void fail_errno(const char *name) { nsconf_fail(name, control_strerror(errno)); }

int nsconf_timeout(const char *name, unsigned long def)
{
  unsigned long t = def;
  if (control_readnum(&t, name, 1) < 0) fail_errno(name);
  if (t > NSCONF_TIMEOUT_MAX) t = NSCONF_TIMEOUT_MAX;
  return (int)t * 1000;
}

unsigned long nsconf_databytes(void)
{
  const char *x = getenv("DATABYTES");
  unsigned long db = 0;
  if (control_readulong(&db, "databytes") < 0) fail_errno("databytes");
  if (x && control_scanulong(x, strlen(x), &db) < 0) {
    err_print("alert", 0, "cannot use $DATABYTES: ", control_strerror(errno), (const char *)0);
    refuse();
  }
  return db;
}
