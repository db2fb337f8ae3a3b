/* smtpdata.c: the DATA state machine of qmail-smtpd (see smtpdata.h). */
#include <string.h>
#include "smtpdata.h"

void smtpdata_start(struct smtpdata *d, unsigned long databytes, unsigned long maxheader,
                    unsigned long maxfield, unsigned long maxhops,
                    void (*put)(void *ctx, const char *s, size_t n), void *ctx)
{
  memset(d, 0, sizeof *d);
  d->state = SMTPDATA_BOL;
  d->inheader = d->hdrbol = 1;
  hops_init(&d->hops);
  d->databytes = databytes;
  d->maxheader = maxheader;
  d->maxfield = maxfield;
  d->maxhops = maxhops;
  d->put = put;
  d->ctx = ctx;
}

/* header_feed: header size caps and hop counting, on stored bytes. */
static void header_feed(struct smtpdata *d, const char *s, size_t n)
{
  size_t i;
  hops_feed(&d->hops, s, n);
  if (d->hops.count >= d->maxhops) d->loop = 1;
  for (i = 0; i < n && d->inheader; ++i) {
    if (d->hdrbol) {
      if (s[i] == '\n') { d->inheader = 0; break; }  /* empty line: body follows */
      if (s[i] != ' ' && s[i] != '\t') d->fieldbytes = 0;  /* a new field */
      d->hdrbol = 0;
    }
    d->hdrbol = s[i] == '\n';
    ++d->hdrbytes;
    ++d->fieldbytes;
    if (d->hdrbytes > d->maxheader || d->fieldbytes > d->maxfield) {
      d->hdrbig = 1;
      d->inheader = 0;
    }
  }
}

/* out: bytes of the message as stored; once refused, only drained. */
static void out(struct smtpdata *d, const char *s, size_t n)
{
  if (d->toobig || d->hdrbig || d->loop) return;
  d->bytes += n;
  if (d->databytes && d->bytes > d->databytes) { d->toobig = 1; return; }
  if (d->inheader) header_feed(d, s, n);
  if (!d->hdrbig && !d->loop) d->put(d->ctx, s, n);
}

/* step: one byte that is not plain line content. */
static int step(struct smtpdata *d, char c)
{
  switch (d->state) {
  case SMTPDATA_BOL:
    if (c == '.') return SMTPDATA_DOT;
    break;
  case SMTPDATA_DOT:             /* the leading dot is dropped in any case */
    if (c == '\r') return SMTPDATA_DOTCR;
    break;
  case SMTPDATA_DOTCR:
  case SMTPDATA_CR:
    if (c == '\n') {
      if (d->state == SMTPDATA_DOTCR) return SMTPDATA_END;
      out(d, "\n", 1);
      return SMTPDATA_BOL;
    }
    out(d, "\r", 1);             /* a lone CR is content */
    if (c == '\r') return SMTPDATA_CR;
    break;
  }
  if (c == '\r') return SMTPDATA_CR;
  if (c == '\n') return SMTPDATA_BARELF;
  out(d, &c, 1);
  return SMTPDATA_MID;
}

size_t smtpdata_scan(struct smtpdata *d, const char *p, size_t n)
{
  size_t i = 0;
  while (i < n && d->state != SMTPDATA_END && d->state != SMTPDATA_BARELF) {
    if (d->state == SMTPDATA_MID) {
      size_t j = i;
      while (j < n && p[j] != '\r' && p[j] != '\n') ++j;
      if (j > i) out(d, p + i, j - i);
      i = j;
      if (i == n) break;
    }
    d->state = step(d, p[i++]);
  }
  return i;
}
