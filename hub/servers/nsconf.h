/* nsconf.h: the settings the netstring servers (qmail-qmqpd, qmail-qmtpd)
 * read at start, and what they do when one is unusable.
 *
 * The rule of control/README.md: a missing file means the default; a file
 * that is present but unreadable or invalid (junk, an empty line, a number
 * too large or too small) is a temporary failure, never the default. The
 * server then logs "alert: cannot use control/NAME: REASON" on fd 2,
 * answers one netstring "Zunable to read controls (#4.3.0)" (the client
 * reads it as a temporary failure, of the request or, for QMTP, of the
 * first recipient, the rest failing with the lost connection), stops
 * writing, drains the client's input for at most NSCONF_LINGER_MS, and
 * exits 111. */
#ifndef NSCONF_H
#define NSCONF_H

#define NSCONF_LINGER_MS 1000
#define NSCONF_TIMEOUT_MAX 86400

/* nsconf_fail: the failure above for control/name (why: the reason); also
 * the q_limits failure hook of these servers. */
void nsconf_fail(const char *name, const char *why) __attribute__((noreturn));
/* nsconf_timeout: control/name in seconds (def when missing, at least 1,
 * at most NSCONF_TIMEOUT_MAX) as milliseconds. */
int nsconf_timeout(const char *name, unsigned long def);
/* nsconf_databytes: $DATABYTES when set, else control/databytes, else 0
 * (no cap): the largest message in bytes as stored. */
unsigned long nsconf_databytes(void);

#endif
