/* dsnbounce.h: bounces in the DSN form (RFC 3464 delivery status
 * notifications inside an RFC 6522 multipart/report), chosen by
 * control/bouncestyle "dsn"; "qsbmf" (or no file) keeps bounce.h's QSBMF
 * text. Pure except dsn_style.
 *
 * A DSN bounce is, in this order: bounce_header's fields, MIME-Version,
 * Content-Type: multipart/report; report-type=delivery-status; boundary,
 * then three parts:
 *   1. text/plain: bounce_intro and the same recipient paragraphs as the
 *      QSBMF bounce (bounce/N), then a note when only the header of the
 *      message is returned because of bouncemaxbytes;
 *   2. message/delivery-status: Original-Envelope-Id (the ENVID, decoded,
 *      when the message had one), Reporting-MTA: dns; bouncehost,
 *      Arrival-Date, and per paragraph [Original-Recipient,]
 *      Final-Recipient, Action: failed, Status, and when the paragraph
 *      names them Remote-MTA and Diagnostic-Code (dsn_fields);
 *   3. message/rfc822 (the whole message) or text/rfc822-headers (its
 *      header only), starting with "Return-Path: <sender>\n"; the caller
 *      streams the message (mess/S/N) and ends with dsn_end.
 * A success notice (NOTIFY=SUCCESS) has the same form: Subject: delivery
 * notice, its own intro, one paragraph with the delivery's report, Action:
 * delivered (local) or relayed (remote), Status: 2.0.0.
 * The boundary is "=_qmail-dsn_ID_TIME_N"; the caller checks that it
 * occurs nowhere in the text (dsn_boundary_ok) or in the copied message
 * and takes the next N if it does. Every field value comes from a
 * paragraph already neutralised by bounce_rcpt (no CR, LF, NUL, blank
 * line); dsn_fields also turns other control bytes into '_' and folds the
 * diagnostic at blanks so that no line passes DSN_FOLD + a word. */
#ifndef DSNBOUNCE_H
#define DSNBOUNCE_H

#include <stddef.h>
#include <time.h>
#include "stralloc.h"
#include "bounce.h"
#include "dsnparam.h"

#define BOUNCE_QSBMF 0
#define BOUNCE_DSN 1
#define DSN_FOLD 76     /* diagnostic lines are folded after this column */
#define DSN_WORD_MAX 900  /* a longer unbroken word is cut (" [...]") */

/* dsn_style: *style = BOUNCE_QSBMF or BOUNCE_DSN from control/bouncestyle
 * (first line "qsbmf" or "dsn", blanks around allowed; a missing file is
 * qsbmf). 0 ok, -1 unreadable or anything else (EINVAL; *style
 * unchanged): never a silent default. */
int dsn_style(int *style);

#define DSN_FAILED 0     /* a bounce: Action: failed */
#define DSN_DELIVERED 1  /* NOTIFY=SUCCESS after a local delivery */
#define DSN_RELAYED 2    /* NOTIFY=SUCCESS after a remote one */

struct dsn_msg {
  time_t arrival;        /* Arrival-Date: the message's birth */
  int hdrs_only;         /* part 3 is text/rfc822-headers */
  unsigned long cut;     /* hdrs_only because the message passes this many
                          * bytes (bouncemaxbytes): a note says so; 0 none */
  const char *boundary;  /* from dsn_boundary */
  int action;            /* DSN_FAILED, DSN_DELIVERED, DSN_RELAYED */
  const char *items;     /* info/S/N's DSN items after F (todo.h), or 0 */
  size_t ilen;
};

/* dsn_items_mail: the message's RET and ENVID from items (d zeroed when
 * there are none or they are malformed). dsn_items_rcpt: the NOTIFY and
 * ORCPT of channel address a[0..alen): 1 found, 0 not (d zeroed). */
void dsn_items_mail(const char *items, size_t ilen, struct dsn_mail *d);
int dsn_items_rcpt(const char *items, size_t ilen, const char *a, size_t alen,
                   struct dsn_rcpt *d);

/* dsn_boundary: b = "=_qmail-dsn_ID_TIME_N", NUL-terminated. 0 ok, -1 no memory. */
int dsn_boundary(stralloc *b, unsigned long long id, time_t now, unsigned n);
/* dsn_boundary_ok: 1 when out (made by dsn_compose with boundary b)
 * holds b only where dsn_compose put it, else 0. */
int dsn_boundary_ok(const stralloc *out, const char *b);
/* dsn_status: the Status of one failure paragraph (NUL-terminated into st, at
 * least 12 bytes): 4.4.7 when the paragraph says the queue lifetime
 * passed, else the first "(#5.x.y)" in it, else the enhanced code of the
 * remote reply ("Remote host said: 550 5.x.y ..."), else 5.0.0. */
void dsn_status(const char *para, size_t len, char *st);
/* dsn_fields: append the per-recipient block for one paragraph
 * ("<addr>:\n" + lines, without the blank line after it), starting with a
 * blank line: Original-Recipient when d's items give the address an
 * ORCPT, then Final-Recipient, Action and Status as d->action says
 * (2.0.0 for a success). 0 ok, -1 no memory, 1 not a paragraph (nothing
 * appended). */
int dsn_fields(stralloc *out, const char *para, size_t len, const struct dsn_msg *d);
/* dsn_compose: out = the bounce up to the returned message's first byte
 * (replaced). Returns the kind as bounce_compose (out empty for DISCARD),
 * -1 out of memory. */
int dsn_compose(stralloc *out, const struct bounce_conf *bc, const char *sender,
                size_t slen, const char *paragraphs, size_t plen, time_t now,
                const struct dsn_msg *d);
/* dsn_end: append the closing delimiter "\n--B--\n" (its leading line
 * end belongs to the delimiter, so a copy that did not end with '\n' stays
 * as it was). 0 ok, -1 no memory. */
int dsn_end(stralloc *out, const char *boundary);

#endif
