/* rjob.h: one qmail-remote delivery: the envelope, the message, and the
 * reports it owes on fd 1 (docs/protocols.md, SMTP): for each recipient in order
 * r (accepted), h (permanent refusal) or s (temporary), then one message
 * report K (delivered to every r recipient), Z (temporary) or D
 * (permanent), each "<letter><text>\0".
 *
 * Texts are built from parts here and only here, so every report is
 * sanitized the same way: bytes outside printable ASCII (NUL, CR, LF, ESC,
 * 8-bit) become '?', and a text is cut at RJOB_TEXTMAX bytes ("..." marks
 * the cut). A recipient's first report stands: later calls for it are
 * ignored, and so is a second message report. */
#ifndef RJOB_H
#define RJOB_H

#include <stddef.h>
#include "stralloc.h"
#include "q_io.h"

#define RJOB_TEXTMAX 1000

struct rjob {
  const char *host;            /* the recipient domain (argv[1]) */
  const char *sender;
  const char *dsn;             /* DSN lines (hub/send/qspawn.h), or 0; */
                               /* checked before use (rdsn_ok) */
  int dsnuse;                  /* rsmtp: this transaction passes them on */
  char **rcpt;
  size_t nrcpt;
  char *rkind;                 /* per recipient: 0 not yet, 'r' 'h' 's' */
  stralloc *rtext;
  char mkind;                  /* 0 not yet, 'K' 'Z' 'D' */
  stralloc mtext;
  /* the message: a seekable file of msgsize bytes, LF line ends */
  int msgfd;
  unsigned long long msgsize;
  unsigned long long msglfs;   /* its LF count */
  unsigned long long msgcrlfs; /* its CRs directly before an LF (rblast.h) */
  int eightbit;                /* it has bytes >= 0x80 */
  /* settings */
  const char *helo;            /* control/helohost */
  int timeout_ms;              /* control/timeoutremote, per read/write */
  long long deadline_ms;       /* the whole delivery (io_now_ms clock) */
};

/* rjob_init: allocate the per-recipient reports. 0 ok, -1 no memory. */
int rjob_init(struct rjob *j, char **rcpt, size_t nrcpt);
/* rjob_free: release what rjob_init and the reports allocated. */
void rjob_free(struct rjob *j);
/* rjob_rcpt: report recipient i (kind 'r', 'h', 's'); the text is the
 * concatenation of the NULL-terminated list of strings. */
void rjob_rcpt(struct rjob *j, size_t i, char kind, const char *s0, ...);
/* rjob_msg: the message report (kind 'K', 'Z', 'D'). */
void rjob_msg(struct rjob *j, char kind, const char *s0, ...);
/* rjob_all: every recipient without a report gets rkind, the message
 * report mkind, both with the same text. */
void rjob_all(struct rjob *j, char rkind, char mkind, const char *s0, ...);
/* rjob_count: how many recipients have the report kind (0: none yet). */
size_t rjob_count(const struct rjob *j, char kind);
/* rjob_sanitize: append s[0..len) to out the way reports are (no cap). */
int rjob_sanitize(stralloc *out, const char *s, size_t len);
/* rjob_output: the whole report block into out (recipients without a
 * report get 's', a missing message report 'Z'). 1 ok, 0 no memory. */
int rjob_output(struct rjob *j, stralloc *out);

#endif
