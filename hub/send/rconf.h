/* rconf.h: the remote channel's settings that qmail-send and qmail-rspawn
 * both need, read by this one piece of code (control/README.md):
 * control/concurrencyremote, control/sessionsperhost and $QMAILREMOTE.
 * Classic mode ($QMAILREMOTE set, or sessionsperhost 0, or an unusable
 * sessionsperhost, when qmail-rspawn defers every job): one qmail-remote
 * per job, so qmail-send has at most concurrencyremote jobs out. Session
 * mode (the default): qmail-rspawn keeps at most concurrencyremote
 * sessions (connections) and pipelines jobs on them, so qmail-send hands
 * out up to SLOTS_MAX jobs at once (the spawn protocol's slot is one
 * byte: hub/send/qspawn.h). */
#ifndef RCONF_H
#define RCONF_H

#define CONC_MAX 120                /* control/concurrency*: most at once */
#define CONC_REMOTE_DEFAULT 20      /* control/concurrencyremote */
#define SESSIONS_DEFAULT 4          /* control/sessionsperhost */
#define SESSIONS_MAX 256            /* sessionsperhost above this counts as this */
#define SLOTS_MAX 256               /* jobs out at once per channel */

/* conc_read: control/name, a concurrency (default def) into *v; 0 counts
 * as 1, more than CONC_MAX as CONC_MAX. -1 (errno set) when the file is
 * present but unusable. */
int conc_read(unsigned long *v, const char *name, unsigned long def);
/* rconf_sessions: control/sessionsperhost (default SESSIONS_DEFAULT, at
 * most SESSIONS_MAX) into *perhost; 1 session mode, 0 classic mode
 * ($QMAILREMOTE set or sessionsperhost 0), -1 (errno set) unusable */
int rconf_sessions(unsigned long *perhost);
/* rconf_slots: the remote channel's job slots for a concurrencyremote of
 * conc: SLOTS_MAX in session mode, else conc */
unsigned long rconf_slots(unsigned long conc);

#endif
