/* sconf.h: qmail-send's settings (qmail-send(8), control/README.md):
 * the rewriting rules (locals, virtualdomains, percenthack, envnoathost),
 * the bounce settings, queuelifetime, holdremote, and the two
 * concurrencies. Read at start and again on HUP (conf_load). A control
 * file that is present but unusable is never the default: "alert: cannot
 * use control/NAME: REASON" in the log; at start qmail-send then exits 111,
 * on a reload the value in force stays. */
#ifndef SCONF_H
#define SCONF_H

#include "bounce.h"
#include "rewrite.h"
#include "rconf.h"  /* CONC_MAX, conc_read */

#define LIFETIME_DEFAULT 604800UL   /* control/queuelifetime: 7 days */

extern struct rewrite rw;
extern struct bounce_conf bc;
extern unsigned long lifetime;  /* control/queuelifetime */
extern int holdremote;          /* control/holdremote exists: start no remote job */

/* conf_load: read the settings above (not the concurrencies); first: at
 * start (exit 111 when one is unusable), else a reload (HUP) */
void conf_load(int first);
/* conc_get: control/name, a concurrency (default def); 0 counts as 1,
 * more than CONC_MAX as CONC_MAX; unusable: exit 111 */
unsigned long conc_get(const char *name, unsigned long def);

#endif
