/* slog.c: qmail-send's log lines (contract in slog.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_sa.h"
#include "slog.h"

static stralloc lg;

void lg_s(const char *s) { if (!stralloc_cats(&lg, s)) fatal_nomem(); }
void lg_n(unsigned long long n) { if (!sa_catnum(&lg, n)) fatal_nomem(); }
void lg_safe(const char *s, size_t len) { if (!sa_catsafe(&lg, s, len)) fatal_nomem(); }

void lg_report(const char *s, size_t len)
{
  const char *nl;
  while ((nl = memchr(s, '\n', len))) {
    lg_safe(s, (size_t)(nl - s));
    lg_s("/");
    len -= (size_t)(nl - s) + 1;
    s = nl + 1;
  }
  lg_safe(s, len);
}

void lg_mid(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
    if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126) { lg_safe(s, len); return; }
  if (!stralloc_catb(&lg, s, len)) fatal_nomem();
}

void lg_flush(void)
{
  size_t off = 0;
  if (!stralloc_append(&lg, "\n")) fatal_nomem();
  while (off < lg.len) {
    ssize_t w = write(0, lg.s + off, lg.len - off);
    if (w < 0) { if (errno == EINTR) continue; break; }
    off += (size_t)w;
  }
  lg.len = 0;
}

void lg_line(const char *s) { lg_s(s); lg_flush(); }

void lg_sys(const char *s, const char *obj)
{
  const char *e = strerror(errno);
  lg_s(s); if (obj) lg_safe(obj, strlen(obj)); lg_s(": "); lg_s(e); lg_flush();
}
