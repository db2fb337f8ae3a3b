/* dsnparam.h: the DSN parameters of SMTP (RFC 3461): MAIL's RET= and
 * ENVID=, RCPT's NOTIFY= and ORCPT=, their xtext (RFC 3461 sec 4), and the
 * form in which the queue keeps them (hub/queue/QUEUE.md, "DSN items").
 * Pure: no files, no environment, no allocation but the caller's stralloc.
 *
 * Syntax accepted (keywords and the words of RET and NOTIFY in any case):
 *   RET=FULL | RET=HDRS
 *   ENVID=xtext              at most DSN_ENVID_MAX bytes as sent
 *   NOTIFY=NEVER | NOTIFY=w[,w...]  w one of SUCCESS, FAILURE, DELAY, each
 *                            at most once
 *   ORCPT=type;xtext         type 1*(ALPHA / DIGIT / "-"), the whole value
 *                            at most DSN_ORCPT_MAX bytes as sent
 * xtext: bytes 33..126 except '+' and '=', and "+HH" (upper-case hex); the
 * decoded text must be printable ASCII (32..126): no control byte can reach
 * a header field of a report. A parameter given twice is an error.
 *
 * The values are kept as sent (xtext), so that qmail-remote passes them on
 * unchanged; dsn_xtext_decode gives the text for a report. */
#ifndef DSNPARAM_H
#define DSNPARAM_H

#include <stddef.h>
#include "stralloc.h"

#define DSN_ENVID_MAX 100
#define DSN_ORCPT_MAX 500

#define DSN_RET_FULL 1
#define DSN_RET_HDRS 2

#define DSN_NOTIFY_NEVER 1
#define DSN_NOTIFY_SUCCESS 2
#define DSN_NOTIFY_FAILURE 4
#define DSN_NOTIFY_DELAY 8

#define DSNP_OK 0
#define DSNP_SYNTAX (-1)  /* 501 5.5.4: bad value, too long, or given twice */

/* MAIL's parameters; start zeroed (ret 0: not given). envid points into
 * the caller's line. */
struct dsn_mail {
  int ret;
  const char *envid;
  size_t envidlen;
  int has_envid;
};

/* RCPT's parameters; start zeroed (notify 0: not given). */
struct dsn_rcpt {
  int notify;
  const char *orcpt;   /* "type;xtext" as sent */
  size_t orcptlen;
};

/* dsn_xtext_ok: 1 if s[0..n) is xtext whose decoded text is printable
 * ASCII, else 0. An empty text is 0. */
int dsn_xtext_ok(const char *s, size_t n);
/* dsn_xtext_decode: append the decoded s[0..n) (checked as dsn_xtext_ok)
 * to out. 0 ok, DSNP_SYNTAX bad xtext (out unchanged), -2 no memory. */
int dsn_xtext_decode(stralloc *out, const char *s, size_t n);
/* dsn_xtext_encode: append s[0..n) as xtext ('+', '=', bytes outside
 * 33..126 as "+HH"). 0 ok, -2 no memory. */
int dsn_xtext_encode(stralloc *out, const char *s, size_t n);

/* dsn_ret, dsn_envid: MAIL's RET= and ENVID= values v[0..n). */
int dsn_ret(struct dsn_mail *d, const char *v, size_t n);
int dsn_envid(struct dsn_mail *d, const char *v, size_t n);
/* dsn_notify, dsn_orcpt: RCPT's NOTIFY= and ORCPT= values v[0..n). */
int dsn_notify(struct dsn_rcpt *d, const char *v, size_t n);
int dsn_orcpt(struct dsn_rcpt *d, const char *v, size_t n);

/* dsn_mail_item: append the queue's form of d, "RET=HDRS ENVID=x" (only
 * what was given; nothing when nothing was). dsn_rcpt_item: the same for
 * "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x". 0 ok, -2 no memory. */
int dsn_mail_item(stralloc *out, const struct dsn_mail *d);
int dsn_rcpt_item(stralloc *out, const struct dsn_rcpt *d);
/* dsn_mail_parse, dsn_rcpt_parse: read an item back (blank-separated
 * KEY=value words as above; d reset first, pointers into s). DSNP_OK or
 * DSNP_SYNTAX (an unknown word too). */
int dsn_mail_parse(struct dsn_mail *d, const char *s, size_t n);
int dsn_rcpt_parse(struct dsn_rcpt *d, const char *s, size_t n);

/* DSN_PASSED: how qmail-remote's r record and qmail-rspawn's K report
 * for a recipient begin when its NOTIFY went on to a next hop that offers
 * DSN (the hop now owes the notices; qmail-send sends no "relayed" one). */
#define DSN_PASSED "DSN passed on; "

#endif
