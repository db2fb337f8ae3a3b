/* rconf.c: the remote channel's shared settings (contract in rconf.h). */
#include <stdlib.h>
#include "q_control.h"
#include "rconf.h"

int conc_read(unsigned long *v, const char *name, unsigned long def)
{
  *v = def;
  if (control_readulong(v, name) < 0) return -1;
  if (*v < 1) *v = 1;
  if (*v > CONC_MAX) *v = CONC_MAX;
  return 0;
}

int rconf_sessions(unsigned long *perhost)
{
  const char *alt = getenv("QMAILREMOTE");
  *perhost = SESSIONS_DEFAULT;
  if (control_readulong(perhost, "sessionsperhost") < 0) return -1;
  if (*perhost > SESSIONS_MAX) *perhost = SESSIONS_MAX;
  return !(alt && *alt) && *perhost > 0;
}

unsigned long rconf_slots(unsigned long conc)
{
  unsigned long perhost;
  return rconf_sessions(&perhost) == 1 ? SLOTS_MAX : conc;
}
