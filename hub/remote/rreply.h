/* rreply.h: qmail-remote's parser of SMTP replies (RFC 5321 sec 4.2),
 * fed byte by byte so that no line length, split point or odd byte can
 * make it index out of bounds (docs/bad-input.md C1-C4).
 *
 * A reply is one or more lines "DDD-text" ... "DDD text" (or a bare "DDD"),
 * each ended by LF with an optional CR before it. Every line must start
 * with three digits followed by '-', ' ', or the line end; anything else
 * ("2\r\n", "abc", a line of letters) is a protocol error. The code of the
 * reply is the last line's. The kept text is every line joined by " / ",
 * sanitized (bytes outside printable ASCII become '?'), at most
 * RREPLY_TEXTMAX bytes (the rest is read and dropped, "..." marks the cut);
 * a reply of more than RREPLY_READMAX bytes in total is a protocol error
 * (the caller gives up on the connection: a temporary failure).
 * Codes outside 200..599 are left to the caller, which treats them as
 * temporary (rreply_class). No allocation: the text lives in the struct. */
#ifndef RREPLY_H
#define RREPLY_H

#include <stddef.h>

#define RREPLY_TEXTMAX 4000
#define RREPLY_READMAX (1024UL * 1024)

struct rreply {
  int code;                         /* the reply code once complete */
  size_t textlen;
  char text[RREPLY_TEXTMAX + 4];    /* sanitized; NUL-terminated */
  /* parser state */
  size_t total;     /* bytes of this reply read so far */
  int col;          /* bytes of the current line seen (saturating) */
  int linecode;     /* the current line's code so far */
  int last;         /* the current line is the final one */
  int cut;          /* text was cut */
  int pendcr;       /* a CR was seen and not yet placed */
  size_t linestart; /* offset in text of the current line */
  /* optional: called at the end of each complete line with the line's kept
   * text (code and separator included; not called for cut lines) */
  void (*online)(void *ctx, const char *line, size_t len);
  void *ctx;
};

enum rreply_status { RREPLY_MORE = 0, RREPLY_DONE = 1, RREPLY_BAD = -1 };

/* rreply_start: reset r for a new reply (online and ctx are cleared). */
void rreply_start(struct rreply *r);
/* rreply_feed: consume bytes from in[0..len) until the reply is complete;
 * *used gets the number consumed (the rest belongs to the next reply).
 * RREPLY_DONE with r->code and r->text set; RREPLY_MORE when all of in was
 * consumed and more is needed; RREPLY_BAD on a protocol error or a reply
 * over RREPLY_READMAX (r->code is then 0). */
int rreply_feed(struct rreply *r, const char *in, size_t len, size_t *used);
/* rreply_class: 2 (2xx), 3 (3xx), 5 (5xx) or 4 for everything else: 4xx,
 * a protocol error (code 0), 000-199 and 600-999 are temporary. */
int rreply_class(int code);

#endif
