/* rjobq.c: qmail-remote's session job protocol (see rjobq.h). */
#include <string.h>
#include "rjobq.h"

int rjobq_idok(const char *id)
{
  size_t i = 0, a, b;
  for (a = 0; id[i] >= '0' && id[i] <= '9'; ++i) ++a;
  if (!a || id[i++] != '/') return 0;
  for (b = 0; id[i] >= '0' && id[i] <= '9'; ++i) ++b;
  return b && (id[i] == 0 || id[i] == '\n') && i <= RJOBQ_IDMAX;
}

const char *rjobq_why(int bad)
{
  if (bad == RJOBQ_BADID) return "the message name is not S/N";
  if (bad == RJOBQ_NORCPT) return "no recipient";
  if (bad == RJOBQ_MANYRCPT) return "too many recipients";
  return "ok";
}

/* item: the end (offset after the NUL) of the item at pos, or 0. */
static size_t item(const char *buf, size_t len, size_t pos)
{
  const char *z;
  if (pos >= len) return 0;
  z = memchr(buf + pos, 0, len - pos);
  return z ? (size_t)(z - buf) + 1 : 0;
}

int rjobq_parse(const char *buf, size_t len, struct rjobq_job *jb)
{
  size_t pos, end;
  int more = len > RJOBQ_MAXJOB ? -1 : 0;
  memset(jb, 0, sizeof *jb);
  if (len < 1) return 0;
  jb->tag = buf[0];
  jb->idoff = 1;
  if (!(end = item(buf, len, 1))) return more;
  jb->senderoff = end;
  if (!(pos = item(buf, len, end))) return more;
  jb->rcptoff = pos;
  for (;;) {
    if (!(end = item(buf, len, pos))) return more;
    if (end == pos + 1) break;   /* the empty item */
    ++jb->nrcpt;
    pos = end;
  }
  jb->len = end;
  if (jb->len > RJOBQ_MAXJOB) return -1;
  if (!rjobq_idok(buf + jb->idoff)) jb->bad = RJOBQ_BADID;
  else if (jb->nrcpt == 0) jb->bad = RJOBQ_NORCPT;
  else if (jb->nrcpt > RJOBQ_MAXRCPT) jb->bad = RJOBQ_MANYRCPT;
  return 1;
}

int rjobq_output(char tag, struct rjob *j, stralloc *out)
{
  stralloc t = {0};
  size_t pos = 0;
  int ok = rjob_output(j, &t);
  while (ok && pos < t.len) {
    size_t n = strlen(t.s + pos) + 1;
    ok = stralloc_append(out, &tag) && stralloc_catb(out, t.s + pos, n);
    pos += n;
  }
  stralloc_free(&t);
  return ok;
}
