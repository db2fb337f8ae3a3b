/* srvconf.h: the settings every network server reads (qmail-smtpd,
 * qmail-qmtpd, qmail-qmqpd, qmail-popup, qmail-pop3d), read by this one
 * module so that their rules cannot drift apart (docs/limits.md).
 *
 * The rule of control/README.md: a missing file is the default; a file
 * that is present but unreadable, junk, 0, or over its ceiling is a
 * temporary failure, never a default and never silently clamped: one
 * line "alert: cannot use control/NAME: REASON" (or "cannot use
 * $DATABYTES: REASON") on fd 2, then the server's refusal hook (its
 * protocol's temporary failure: SMTP 421, a QMTP/QMQP Z netstring, POP3
 * -ERR), which does not return.
 *
 *   control/timeoutNAME  seconds per read or write: 1 to SRVCONF_TIMEOUT_MAX
 *   control/timeoutsession  seconds for the whole session (q_limits.h,
 *                        LIM_SESSION): 1 to SRVCONF_SESSION_MAX
 *   $DATABYTES, else control/databytes  message bytes (0: no cap) */
#ifndef SRVCONF_H
#define SRVCONF_H

#define SRVCONF_TIMEOUT_MAX 86400UL          /* one day */
#define SRVCONF_SESSION_MAX (86400UL * 365)  /* one year */

/* srvconf_onfail: the refusal after the alert line (noreturn). */
void srvconf_onfail(void (*refuse)(void));
/* srvconf_fail: the alert line for control/name (why) and the refusal;
 * also a q_limits failure hook (limit_onfail). */
void srvconf_fail(const char *name, const char *why) __attribute__((noreturn));
/* srvconf_timeout: control/name (default def seconds) in milliseconds. */
int srvconf_timeout(const char *name, unsigned long def);
/* srvconf_deadline: now plus timeoutsession, in io_now_ms's milliseconds. */
long long srvconf_deadline(void);
/* srvconf_databytes: $DATABYTES when set, else control/databytes, else 0. */
unsigned long srvconf_databytes(void);

#endif
