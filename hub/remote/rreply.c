/* rreply.c: SMTP reply parser for qmail-remote (see rreply.h). Caps:
 * RREPLY_TEXTMAX bytes of kept text, RREPLY_READMAX bytes per reply. */
#include <string.h>
#include "rreply.h"

void rreply_start(struct rreply *r)
{
  memset(r, 0, sizeof *r);
}

int rreply_class(int code)
{
  if (code >= 200 && code < 300) return 2;
  if (code >= 300 && code < 400) return 3;
  if (code >= 500 && code < 600) return 5;
  return 4;
}

/* put: append one byte of text, sanitized, within the cap. */
static void put(struct rreply *r, unsigned char c)
{
  if (r->textlen >= RREPLY_TEXTMAX) {
    if (!r->cut) {
      memcpy(r->text + r->textlen, "...", 3);
      r->textlen += 3;
      r->cut = 1;
    }
    return;
  }
  r->text[r->textlen++] = (c < 32 || c > 126) ? '?' : (char)c;
}

static void puts_(struct rreply *r, const char *s)
{
  while (*s) put(r, (unsigned char)*s++);
}

/* line_end: an LF ends the current line. 1 reply done, 0 more lines,
 * -1 the line was too short to be a reply line. */
static int line_end(struct rreply *r)
{
  if (r->col < 3) return -1;
  r->pendcr = 0;  /* a CR right before LF is the line end, not text */
  r->code = r->linecode;
  if (r->online && !r->cut)
    r->online(r->ctx, r->text + r->linestart, r->textlen - r->linestart);
  if (r->col == 3 || r->last) return 1;
  r->col = 0;
  r->linecode = 0;
  return 0;
}

/* head_byte: bytes 0..3 of a line: three digits and a separator. */
static int head_byte(struct rreply *r, unsigned char c)
{
  if (r->col < 3) {
    if (c < '0' || c > '9') return -1;
    if (r->col == 0 && r->textlen) puts_(r, " / ");
    if (r->col == 0) r->linestart = r->textlen;
    r->linecode = r->linecode * 10 + (c - '0');
    put(r, c);
  } else if (c == ' ') {
    r->last = 1;
    put(r, c);
  } else if (c == '-') {
    put(r, c);
  } else if (c == '\r') {
    r->pendcr = 1;
    r->last = 1;
    return 0;  /* col stays 3: "DDD\r\n" */
  } else {
    return -1;
  }
  ++r->col;
  return 0;
}

/* text_byte: a byte of text after the head. */
static void text_byte(struct rreply *r, unsigned char c)
{
  if (r->pendcr) { put(r, '\r'); r->pendcr = 0; }
  if (c == '\r') { r->pendcr = 1; return; }
  put(r, c);
}

static int one_byte(struct rreply *r, unsigned char c)
{
  if (c == '\n') return line_end(r);
  if (r->col < 4 && !(r->col == 3 && r->pendcr)) return head_byte(r, c) < 0 ? -1 : 0;
  if (r->col == 3) { put(r, '\r'); r->pendcr = 0; r->col = 4; }  /* "DDD\rx" */
  text_byte(r, c);
  return 0;
}

int rreply_feed(struct rreply *r, const char *in, size_t len, size_t *used)
{
  size_t i;
  for (i = 0; i < len; ++i) {
    int s;
    if (++r->total > RREPLY_READMAX) { *used = i + 1; r->code = 0; return RREPLY_BAD; }
    s = one_byte(r, (unsigned char)in[i]);
    if (s < 0) { *used = i + 1; r->code = 0; return RREPLY_BAD; }
    if (s > 0) {
      *used = i + 1;
      r->text[r->textlen] = 0;
      return RREPLY_DONE;
    }
  }
  *used = len;
  return RREPLY_MORE;
}
