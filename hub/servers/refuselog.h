/* refuselog.h: the one log line qmail-smtpd, qmail-qmtpd and qmail-qmqpd
 * write to fd 2 (the service's log) for each refusal they send:
 *
 *   PROG: refused: IP STAGE CODE ENH reason="TEXT"[ input="BYTES"]
 *
 *   IP     $TCPREMOTEIP, "unknown" when unset or empty
 *   STAGE  where it happened: SMTP connect, helo, ehlo, mail, rcpt, data,
 *          auth, command (an unknown or unparsable command), or the verb in
 *          lower case; QMTP/QMQP envelope, sender, recipient, message
 *   CODE   what was sent: the SMTP reply code (553), D or Z for QMTP and
 *          QMQP, "-" when the connection was dropped without a reply
 *   ENH    the enhanced status code (5.7.1; from "(#5.7.1)" in QMTP/QMQP
 *          texts), "-" when there is none
 *   TEXT   the reply text sent, without the code, the enhanced code and a
 *          trailing "(#x.y.z)"
 *   BYTES  what the client sent that was refused (a MAIL/RCPT argument, a
 *          HELO name, an unknown verb, a QMTP/QMQP address); never the
 *          argument of AUTH or of an unknown command, which may be a secret
 *
 * TEXT and BYTES (and IP) are escaped: printable ASCII stays, '"' and '\'
 * become \" and \\, every other byte \xHH; so a line holds no control
 * byte and a client cannot end it or forge another. Each is cut at
 * REFUSELOG_CAP bytes of its source, the cut marked by "..." after the
 * closing quote. A line is under 3 KB and goes out in one write(2)
 * (below PIPE_BUF: lines of concurrent servers never mix). At most
 * REFUSELOG_MAX lines per process; then one warning line says the rest
 * of the connection's refusals are not logged. */
#ifndef REFUSELOG_H
#define REFUSELOG_H

#include <stddef.h>

#define REFUSELOG_CAP 200     /* bytes of TEXT or BYTES shown */
#define REFUSELOG_IPCAP 64
#define REFUSELOG_MAX 1000    /* lines per process */
#define REFUSELOG_LINE 3072   /* room for the longest line (< PIPE_BUF) */

struct refusal {
  const char *stage;
  const char *code;           /* "553", "D", "Z", "-" */
  const char *enh;            /* "5.7.1", or NULL for "-" */
  const char *reason;         /* the text; reasonlen bytes */
  size_t reasonlen;
  const char *input;          /* client bytes; NULL: no input field */
  size_t inputlen;
};

/* refuselog_format: the line (with its "\n") for progname, ip (NULL:
 * "unknown") and r into out (REFUSELOG_LINE bytes); its length. */
size_t refuselog_format(char *out, const char *prog, const char *ip, const struct refusal *r);
/* refuselog: write r's line to fd 2 (one write), within REFUSELOG_MAX. */
void refuselog(const struct refusal *r);
/* refuselog_smtp: log an SMTP reply line "553 5.7.1 text" (no CRLF). */
void refuselog_smtp(const char *stage, const char *reply, const char *input, size_t inputlen);
/* refuselog_ns: log a QMTP/QMQP reply text "Dtext (#5.1.3)" of len bytes. */
void refuselog_ns(const char *stage, const char *text, size_t len,
                  const char *input, size_t inputlen);

#endif
