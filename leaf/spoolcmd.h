/* spoolcmd.h: the spool commands of qmail-qmqpc and sendmail on a leaf
 * (`qmail-qmqpc -flush`, `sendmail -q`; `qmail-qmqpc -list`, `mailq`).
 * A user acts on the spool of that user; root on every user's, each in a
 * child process that runs as that user (so root never opens a file in a
 * directory a user controls). See docs/spool.md. */
#ifndef SPOOLCMD_H
#define SPOOLCMD_H

/* spoolcmd_flush: flush (lspool_flush, waiting for a flush already
 * running); vfd >= 0 says what happened to each message there. Returns
 * an exit code: 0, or 111 when a spool could not be flushed (said). */
int spoolcmd_flush(int vfd);

/* spoolcmd_list: what waits, on fd 1: per spool directory a line with the
 * count and bytes, then each message oldest first (name, when it was
 * kept, size, sender, recipients, why). Returns the number of messages
 * listed (as root: 1 when any), or -1 when a spool could not be read
 * (said on stderr). */
long spoolcmd_list(void);

#endif
