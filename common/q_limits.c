/* q_limits.c: caps table with control-file overrides (see q_limits.h). */
#include "q_control.h"
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
  [LIM_SESSION] = { "timeoutsession", 3600 },
  [LIM_INJECTRCPTS] = { "maxinjectrcpt", 100000 },
};

static unsigned long cache[LIM_COUNT];
static char loaded[LIM_COUNT];

unsigned long limit_get(enum limit_id id)
{
  if (id >= LIM_COUNT) return 0;
  if (!loaded[id]) {
    unsigned long v = table[id].def;
    if (control_readulong(&v, table[id].name) != 1 || v == 0) v = table[id].def;
    cache[id] = v;
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
