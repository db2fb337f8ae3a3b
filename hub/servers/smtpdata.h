/* smtpdata.h: qmail-smtpd's DATA reader as a state machine over bytes,
 * with no I/O, so the fuzzer and unit tests drive it directly.
 *
 * The client's bytes after "354" go through smtpdata_scan in chunks of any
 * size. CRLF becomes LF, a leading dot is removed, and only CRLF "." CRLF
 * ends the message. A LF not preceded by CR anywhere (so "\n.\n",
 * "\r\n.\n" and "\n.\r\n" too) stops the scan in SMTPDATA_BARELF: the
 * caller refuses the message and drops the session, because accepting it
 * is what makes SMTP smuggling possible. A lone CR is message content.
 *
 * The message as stored (LF line ends) goes to put(ctx, bytes, len) until
 * a cap is passed: then toobig (more than databytes, 0 = no cap), hdrbig
 * (header block over maxheader or one field, folding included, over
 * maxfield) or loop (maxhops Received:/Delivered-To: lines, hops.h) is set,
 * nothing more is put and the rest is only read up to the end. */
#ifndef SMTPDATA_H
#define SMTPDATA_H

#include <stddef.h>
#include "hops.h"

enum { SMTPDATA_BOL, SMTPDATA_MID, SMTPDATA_CR, SMTPDATA_DOT, SMTPDATA_DOTCR,
       SMTPDATA_END, SMTPDATA_BARELF };

struct smtpdata {
  int state;                      /* SMTPDATA_*; END and BARELF are final */
  unsigned long long bytes;       /* message bytes as stored (LF form) */
  unsigned long long hdrbytes;    /* header block so far */
  unsigned long long fieldbytes;  /* current header field incl. folding */
  int inheader, hdrbol;
  int toobig, hdrbig, loop;       /* refused: drain, queue nothing */
  struct hops hops;
  unsigned long databytes, maxheader, maxfield, maxhops;
  void (*put)(void *ctx, const char *s, size_t n);
  void *ctx;
};

/* smtpdata_start: a new message with these caps; stored bytes go to put. */
void smtpdata_start(struct smtpdata *d, unsigned long databytes, unsigned long maxheader,
                    unsigned long maxfield, unsigned long maxhops,
                    void (*put)(void *ctx, const char *s, size_t n), void *ctx);
/* smtpdata_scan: consume p[0..n) up to the end of the message (or a bare
 * LF); returns the bytes consumed. The bytes after the final CRLF.CRLF
 * are not consumed: they are the client's next command. */
size_t smtpdata_scan(struct smtpdata *d, const char *p, size_t n);

#endif
