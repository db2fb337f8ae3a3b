/* q_limits.c: caps table with control-file overrides (see q_limits.h). */
#include <errno.h>
#include <unistd.h>
#include "q_control.h"
#include "q_err.h"
#include "q_limits.h"

static const struct { const char *name; unsigned long def; } table[LIM_COUNT] = {
  [LIM_SMTPLINE] = { "maxsmtpline", 2048 },
  [LIM_ADDR] = { "maxaddress", 1000 },
  [LIM_RCPTS] = { "maxrcpt", 1000 },
  [LIM_HEADER] = { "maxheader", 1024UL * 1024 },
  [LIM_HEADERLINE] = { "maxheaderfield", 256UL * 1024 },
  [LIM_HOPS] = { "maxhops", 100 },
  [LIM_NETSTRING] = { "maxnetstring", 1024UL * 1024 * 1024 },
  [LIM_QMTPPKGS] = { "maxqmtppackages", 10000 },
  [LIM_SESSION] = { "timeoutsession", 1800 },
  [LIM_INJECTRCPTS] = { "maxinjectrcpt", 100000 },
};

static unsigned long cache[LIM_COUNT];
static char loaded[LIM_COUNT];

static void fail_default(const char *name, const char *why) __attribute__((noreturn));
static void fail_default(const char *name, const char *why)
{
  err_print("alert", 0, "cannot use control/", name, ": ", why, (const char *)0);
  _exit(111);
}

static limit_fail onfail = fail_default;

void limit_onfail(limit_fail fn)
{
  onfail = fn ? fn : fail_default;
}

int limit_read(enum limit_id id, unsigned long *v)
{
  if (id >= LIM_COUNT) { errno = EINVAL; return -1; }
  *v = table[id].def;
  return control_readnum(v, table[id].name, 1) < 0 ? -1 : 1;
}

unsigned long limit_get(enum limit_id id)
{
  if (id >= LIM_COUNT) return 0;
  if (!loaded[id]) {
    if (limit_read(id, &cache[id]) < 0) onfail(table[id].name, control_strerror(errno));
    loaded[id] = 1;
  }
  return cache[id];
}

const char *limit_name(enum limit_id id)
{
  return id < LIM_COUNT ? table[id].name : "";
}

unsigned long limit_default(enum limit_id id)
{
  return id < LIM_COUNT ? table[id].def : 0;
}
