/* srvconf.c: the servers' common settings (see srvconf.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "q_control.h"
#include "q_err.h"
#include "q_io.h"
#include "q_limits.h"
#include "srvconf.h"

static void (*refuse)(void);

void srvconf_onfail(void (*fn)(void)) { refuse = fn; }

static void __attribute__((noreturn)) refused(void)
{
  if (refuse) refuse();
  _exit(111);
}

void srvconf_fail(const char *name, const char *why)
{
  err_print("alert", 0, "cannot use control/", name, ": ", why, (const char *)0);
  refused();
}

int srvconf_timeout(const char *name, unsigned long def)
{
  unsigned long t = def;
  if (control_readnum(&t, name, 1) < 0) srvconf_fail(name, control_strerror(errno));
  if (t > SRVCONF_TIMEOUT_MAX) srvconf_fail(name, control_strerror(ERANGE));
  return (int)t * 1000;
}

long long srvconf_deadline(void)
{
  unsigned long s = limit_get(LIM_SESSION);   /* 1 or more, or the hook */
  if (s > SRVCONF_SESSION_MAX) srvconf_fail("timeoutsession", control_strerror(ERANGE));
  return io_now_ms() + (long long)s * 1000;
}

unsigned long srvconf_databytes(void)
{
  const char *x = getenv("DATABYTES");
  unsigned long db = 0;
  if (control_readulong(&db, "databytes") < 0) srvconf_fail("databytes", control_strerror(errno));
  if (x && control_scanulong(x, strlen(x), &db) < 0) {
    err_print("alert", 0, "cannot use $DATABYTES: ", control_strerror(errno), (const char *)0);
    refused();
  }
  return db;
}
