/* pop3msg.h: a Maildir message as POP3 sends it (RFC 1939 sections 3,
 * 7 and 11), one chunk of the file at a time, in bounded memory.
 *
 * The file holds the message with LF line ends (as qmail-local writes
 * it), perhaps with CRLF ones. On the wire every line ends in CRLF: an
 * LF gets a CR unless a CR is already before it; a line starting with
 * "." gets a second "." (byte-stuffing); a last line without LF gets
 * CRLF (only LF when it ends in a CR); a CR elsewhere is sent as it is.
 *
 * The size announced by STAT and LIST is what the client holds after
 * undoing the stuffing: the output without the stuffed dots (and
 * without the ".\r\n" that ends a multi-line reply, which is not ours).
 * Counting and sending run through the same code, so LIST always equals
 * the octets of RETR.
 *
 * TOP n m: the header, the empty line that ends it, then at most m body
 * lines (the whole message when it has fewer; all of it when it has no
 * empty line). */
#ifndef POP3MSG_H
#define POP3MSG_H

#include <stddef.h>

/* pop3_put: where the converted bytes go: 0 ok, -1 error (stops). */
typedef int (*pop3_put)(void *ctx, const char *s, size_t n);

struct pop3msg {
  int bol;                  /* at the start of a line */
  int cr;                   /* the last byte sent was a CR */
  int header;               /* TOP: still in the header */
  int top;                  /* TOP: count body lines */
  int done;                 /* TOP: everything asked for is out */
  size_t linelen;           /* bytes of the current line so far */
  unsigned long long lines; /* TOP: body lines still to send */
  unsigned long long out;   /* bytes sent, stuffing included */
  unsigned long long stuffed; /* stuffed dots among them */
  pop3_put put;             /* 0: count only */
  void *ctx;
};

/* pop3msg_init: a whole message (top 0) or TOP with lines body lines. */
void pop3msg_init(struct pop3msg *m, pop3_put put, void *ctx, int top,
                  unsigned long long lines);
/* pop3msg_feed: the next n bytes of the file: 0 ok, -1 put failed. */
int pop3msg_feed(struct pop3msg *m, const char *s, size_t n);
/* pop3msg_end: after the last byte, the line end a last line lacks. */
int pop3msg_end(struct pop3msg *m);
/* pop3msg_size: the octets announced for what was fed (after _end). */
unsigned long long pop3msg_size(const struct pop3msg *m);
/* pop3msg_fd: feed a whole file from fd (read to EOF, then _end) through
 * buf[0..cap): 0 ok, -1 read error (errno), -2 put failed. */
int pop3msg_fd(struct pop3msg *m, int fd, char *buf, size_t cap);

#endif
