/* rcptcheck.h: recipient checks at RCPT time for qmail-smtpd, qmail-qmtpd
 * and qmail-qmqpd (docs/rcptcheck.md): is a local recipient deliverable?
 *
 * On when control/rcptcheck holds 1 (new installs write it; a hub
 * upgraded in place has none: off, qmail's old behaviour); 0 or no file:
 * off, every recipient passes. When on, the server reads locals,
 * virtualdomains, percenthack, envnoathost and me as qmail-send does
 * (rewrite.h) and opens control/recipients.cdb (rcpttab.h, made by
 * qmail-rcptcdb, i.e. qmailctl cdb) once per connection. A recipient
 * qmail-send would deliver remotely (a relay client's foreign domain, a
 * domain in rcpthosts that is not local) is not checked. A local one is:
 *   RCPT_OK      the table says deliverable, or control/recipients lists it
 *   RCPT_NOUSER  nobody takes it, and the table is up to date for it
 *   RCPT_TEMP    cannot tell: the table is missing, unreadable, of another
 *                version, or older than a source that decides this
 *                address (users/cdb, /etc/passwd, control/recipients, the
 *                home whose .qmail files were looked at). Never "accept".
 * A stale table still accepts what it lists: only refusals need it fresh.
 * Each reason for RCPT_TEMP is logged once per connection on fd 2
 * ("warning: ... run qmailctl cdb"). */
#ifndef RCPTCHECK_H
#define RCPTCHECK_H

#include <stddef.h>

#define RCPT_OK 1
#define RCPT_NOUSER 0
#define RCPT_TEMP (-1)

/* rcptcheck_init: read control/rcptcheck and, when on, the rewriting
 * files and the table. 0 ok (a missing or bad table is not an error
 * here: its local recipients get RCPT_TEMP); -1 a control file is present
 * but unusable: *name is its name, errno the reason. */
int rcptcheck_init(const char **name);
/* rcptcheck_on: 1 when the check is on. */
int rcptcheck_on(void);
/* rcptcheck: the verdict for recipient addr[0..len), as it will be
 * queued (RELAYCLIENT's suffix included). */
int rcptcheck(const char *addr, size_t len);

#endif
