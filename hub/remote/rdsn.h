/* rdsn.h: qmail-remote's side of DSN (RFC 3461): the DSN lines a job
 * carries (hub/send/qspawn.h: one line for MAIL, then one per recipient,
 * each in the queue's item form of hub/servers/dsnparam.h) checked again
 * and turned into MAIL and RCPT parameters for a next hop that offers
 * DSN. The lines are read with dsnparam's parsers: a job whose lines are
 * malformed, too long or not one per recipient is sent without them. */
#ifndef RDSN_H
#define RDSN_H

#include <stddef.h>
#include "stralloc.h"

#define RDSN_LINE_MAX 1000   /* bytes of one line: more is malformed */

/* rdsn_ok: 1 when lines has exactly nrcpt + 1 lines ('\n' between them),
 * each at most RDSN_LINE_MAX bytes, the first a MAIL item and the others
 * RCPT items that dsnparam accepts; else 0. */
int rdsn_ok(const char *lines, size_t nrcpt);
/* rdsn_mail: append " RET=... ENVID=..." for the first line (nothing
 * when it is empty). rdsn_rcpt: append " NOTIFY=... ORCPT=..." for
 * recipient i (line i + 1); *notify gets its NOTIFY flags (0: none).
 * Both for lines that passed rdsn_ok. 1 ok, 0 no memory. */
int rdsn_mail(stralloc *out, const char *lines);
int rdsn_rcpt(stralloc *out, const char *lines, size_t i, int *notify);

#endif
