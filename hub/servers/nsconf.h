/* nsconf.h: the refusal of the netstring servers (qmail-qmqpd,
 * qmail-qmtpd) when a setting is unusable; the settings themselves are
 * read by srvconf.h, as for every server.
 *
 * The rule of control/README.md: a missing file means the default; a file
 * that is present but unreadable or invalid (junk, an empty line, a number
 * too large or too small) is a temporary failure, never the default. The
 * server then logs "alert: cannot use control/NAME: REASON" on fd 2
 * (srvconf.h), answers one netstring "Zunable to read controls (#4.3.0)"
 * (the client reads it as a temporary failure, of the request or, for
 * QMTP, of the first recipient, the rest failing with the lost
 * connection), stops writing, drains the client's input for at most
 * NSCONF_LINGER_MS, and exits 111. */
#ifndef NSCONF_H
#define NSCONF_H

#define NSCONF_LINGER_MS 1000

/* nsconf_init: srvconf's refusal and the q_limits hook for these servers */
void nsconf_init(void);
/* nsconf_fail: the failure above for control/name (why: the reason). */
void nsconf_fail(const char *name, const char *why) __attribute__((noreturn));

#endif
