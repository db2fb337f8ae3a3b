/* raddr.h: envelope addresses on their way out of qmail-remote.
 *
 * The queue holds an address raw: its domain is what follows the last
 * '@', its local part everything before (blanks, quotes, '>', '@' and
 * all). qmail-send routes on that domain, so the next hop must see the
 * same one: over SMTP the local part is written as an RFC 5321 Dot-string
 * when it is one, else as a Quoted-string ('"' and '\' escaped with a
 * backslash), so nothing in it can end the path or add parameters.
 * UTF-8 (RFC 6531 sec 3.3): a character beyond ASCII counts as atext (a
 * Dot-string may hold it) and as qtext, and as a letter in a domain
 * label (a U-label, sent as it is: no IDNA conversion to an A-label);
 * the caps stay in bytes. Whether the next hop may see it at all is the
 * SMTP session's business (rsmtp.c: SMTPUTF8, #5.6.7); QMTP carries it.
 *
 * An address that cannot be written safely is refused (raddr_check,
 * raddr_smtp), whatever the protocol:
 *   - no '@'                                        RADDR_NOAT
 *   - a control byte (0-31, 127: NUL, CR, LF, TAB)  RADDR_CTRL
 *   - bytes >= 128 that are not valid UTF-8
 *     (q_utf8.h: overlong, surrogate, cut, ...)    RADDR_8BIT
 *   - a domain that is neither a domain name (labels of letters, digits
 *     and inner hyphens, at most 63 bytes each, no empty label, no final
 *     dot) nor an address literal ([1.2.3.4], [IPv6:...], [tag:text])
 *                                                   RADDR_DOMAIN
 *   - a domain over 255 bytes, or a Mailbox form over max bytes
 *                                                   RADDR_LONG
 * The null sender ("" and qmail's double-bounce sender "#@[]") is the
 * caller's business: raddr_null says which it is. */
#ifndef RADDR_H
#define RADDR_H

#include <stddef.h>
#include "stralloc.h"
#include "rjob.h"

#define RADDR_DOMAINMAX 255
#define RADDR_LABELMAX 63

enum raddr_result {
  RADDR_OK = 0,
  RADDR_NOAT = -1,
  RADDR_CTRL = -2,
  RADDR_8BIT = -3,
  RADDR_DOMAIN = -4,
  RADDR_LONG = -5,
  RADDR_NOMEM = -6
};

/* raddr_null: a is the null sender ("" or "#@[]"): written "<>" over
 * SMTP, "" over QMTP. */
int raddr_null(const char *a);
/* raddr_smtp: append the RFC 5321 Mailbox form of a[0..len) (no angle
 * brackets) to out. RADDR_OK, or an error with out unchanged. */
int raddr_smtp(const char *a, size_t len, size_t max, stralloc *out);
/* raddr_check: RADDR_OK when raddr_smtp would write a. */
int raddr_check(const char *a, size_t len, size_t max);
/* raddr_utf8: 1 when the NUL-terminated address a has a byte >= 128
 * (it needs SMTPUTF8 over SMTP). */
int raddr_utf8(const char *a);
/* raddr_why: a short English text for an error ("has control characters"). */
const char *raddr_why(int r);
/* raddr_max: the cap on a written address: control/maxaddress (LIM_ADDR). */
size_t raddr_max(void);

/* raddr_job: check j's envelope before anything is sent. A recipient that
 * cannot be written gets h (#5.1.3); a sender that cannot be written
 * fails the whole job (every recipient h, message D, #5.1.7); no
 * recipient left: D. Returns 1 when the job is fully reported (nothing to
 * send), else 0. */
int raddr_job(struct rjob *j);

#endif
