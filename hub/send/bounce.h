/* bounce.h: composing QSBMF bounces (cr.yp.to/proto/qsbmf.txt;
 * docs/queue.md sec 7, qmail-header(5)). Pure except the two loaders.
 *
 * A bounce is, in this order:
 *   From: bouncefrom@bouncehost / To: / Subject: failure notice / Date:
 *   [/ Message-ID:], a blank line, the intro paragraph (it starts with
 *   "Hi. This is the", which is how QSBMF is recognised, and names
 *   bouncehost), one paragraph per failed recipient as bounce_rcpt() makes
 *   it (qmail-send appends these to bounce/N as results arrive), the break
 *   paragraph "--- Below this line is a copy of the message.\n\n" and
 *   "Return-Path: <sender>\n"; the caller then streams the original message
 *   (mess/S/N, Received line included), at most bounce_copylimit bytes.
 *
 * Kinds, decided by the original envelope sender:
 *   "#@[]"            -> BOUNCE_DISCARD (triple bounce: log and drop)
 *   "" (or a VERP sender that collapses to "")
 *                     -> BOUNCE_DOUBLE: envelope sender "#@[]", recipient and
 *                        To: doublebounceto@doublebouncehost
 *   anything else     -> BOUNCE_SINGLE: envelope sender "", recipient and To:
 *                        the sender, a VERP sender "p-@h-@[]" collapsed to
 *                        "p-@h".
 * Text from outside is neutralised: CR, LF and NUL in addresses become '_';
 * in a report, a blank (or all-blank) line becomes "/" so the paragraph
 * stays whole, CR before LF is dropped and other CR/NUL become '_'.
 * Caps: an address is cut at BOUNCE_ADDR_MAX bytes, a report line at
 * BOUNCE_LINE_MAX bytes (ending " [...]"), a report at BOUNCE_REPORT_LINES
 * lines (then one line "[rest of report cut]"). */
#ifndef BOUNCE_H
#define BOUNCE_H

#include <stddef.h>
#include <time.h>
#include "stralloc.h"

#define BOUNCE_DISCARD 0
#define BOUNCE_SINGLE 1
#define BOUNCE_DOUBLE 2

#define BOUNCE_ADDR_MAX 2048
#define BOUNCE_LINE_MAX 1000
#define BOUNCE_REPORT_LINES 100
/* control/bouncemaxbytes default: bytes of the original copied into a
 * bounce (0 in the file = no cap, qmail's behaviour). */
#define BOUNCE_COPY_DEFAULT 65536UL

/* Start zeroed; bounce_conf_free releases it. */
struct bounce_conf {
  stralloc from, host, dbto, dbhost;  /* not NUL-terminated */
  int dbdiscard;  /* doublebounceto exists with an empty first line: as in
                   * qmail, double bounces are dropped ("double bounce:
                   * discarding" in the log) instead of sent to postmaster */
};

/* bounce_conf_load: control/bouncefrom (MAILER-DAEMON), bouncehost (me),
 * doublebounceto (postmaster; an empty first line sets dbdiscard),
 * doublebouncehost (me); without me, the hosts default to "localhost".
 * 0 ok, -1 error (errno). */
int bounce_conf_load(struct bounce_conf *bc);
/* bounce_conf_set: the same from values (NULL = that default). */
int bounce_conf_set(struct bounce_conf *bc, const char *me, const char *from,
                    const char *host, const char *dbto, const char *dbhost);
void bounce_conf_free(struct bounce_conf *bc);
/* bounce_copylimit: *v = control/bouncemaxbytes, BOUNCE_COPY_DEFAULT when
 * the file is missing; 0 means copy everything. 0 ok, -1 when the file is
 * present but unreadable or not a number (errno; *v unchanged): never the
 * default then. */
int bounce_copylimit(unsigned long *v);

/* bounce_kind: BOUNCE_DISCARD, _SINGLE or _DOUBLE for this sender. */
int bounce_kind(const char *sender, size_t slen);
/* bounce_envelope: the bounce's envelope sender and recipient (replaced).
 * Returns the kind (both empty for DISCARD), -1 out of memory. */
int bounce_envelope(const struct bounce_conf *bc, const char *sender, size_t slen,
                    stralloc *env_from, stralloc *env_to);
/* bounce_rcpt: append one recipient paragraph "<addr>:\n" + report lines +
 * "\n" (report: '\n'-separated lines, a final '\n' optional). 0 ok, -1 no
 * memory. */
int bounce_rcpt(stralloc *out, const char *addr, size_t alen,
                const char *report, size_t rlen);
/* bounce_compose: out = header + intro + paragraphs[0..plen) (made by
 * bounce_rcpt) + break + Return-Path. msgid (without <>) may be NULL.
 * Returns the kind (out empty for DISCARD), -1 out of memory. */
int bounce_compose(stralloc *out, const struct bounce_conf *bc,
                   const char *sender, size_t slen, const char *paragraphs,
                   size_t plen, time_t now, const char *msgid);
/* bounce_header: append the header fields From:, To: (to), Subject:
 * (subject, a constant), Date: [, Message-ID:], each ended by '\n', no blank line. bounce_intro:
 * append the intro paragraph for kind (blank line after it). 0 ok, -1 no
 * memory. The DSN form (dsnbounce.h) shares both. */
int bounce_header(stralloc *out, const struct bounce_conf *bc, const stralloc *to,
                  const char *subject, time_t now, const char *msgid);
int bounce_intro(stralloc *out, const struct bounce_conf *bc, int kind);
/* bounce_cutnote: append the line telling the reader the copy stops after
 * limit bytes; midline != 0 when the copy did not end with '\n'. 0 ok,
 * -1 no memory. */
int bounce_cutnote(stralloc *out, unsigned long limit, int midline);

/* bounce_verp: the envelope sender for one delivery. A VERP sender
 * "prefix-@host-@[]" becomes "prefix-rbox=rhost@host" for recipient
 * "rbox@rhost" (rhost split at the last '@'; no '@': "prefix-rbox@host");
 * any other sender is copied. out replaced. 1 VERP, 0 not, -1 no memory. */
int bounce_verp(const char *sender, size_t slen, const char *rcpt, size_t rlen,
                stralloc *out);
/* bounce_unverp: "prefix-@host-@[]" -> "prefix-@host", others copied.
 * out replaced. 1 VERP, 0 not, -1 no memory. */
int bounce_unverp(const char *sender, size_t slen, stralloc *out);

#endif
