/* q_sa.c: stralloc helpers (see q_sa.h). */
#include <string.h>
#include "fmt.h"
#include "q_sa.h"

int sa_catnum(stralloc *sa, unsigned long long n)
{
  char buf[FMT_ULONG];
  return stralloc_catb(sa, buf, fmt_ulonglong(buf, n));
}

int sa_catsafe(stralloc *sa, const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    char o[4];
    if (c >= 32 && c < 127 && c != '\\') {
      if (!stralloc_append(sa, (const char *)&s[i])) return 0;
      continue;
    }
    if (c == '\\') { if (!stralloc_cats(sa, "\\\\")) return 0; continue; }
    o[0] = '\\';
    o[1] = (char)('0' + (c >> 6));
    o[2] = (char)('0' + ((c >> 3) & 7));
    o[3] = (char)('0' + (c & 7));
    if (!stralloc_catb(sa, o, 4)) return 0;
  }
  return 1;
}

int sa_has_any(const char *s, size_t len, const char *set, size_t setlen)
{
  size_t i;
  if (!len) return 0;  /* s may be NULL (an empty stralloc): memchr must not see it */
  for (i = 0; i < setlen; ++i)
    if (memchr(s, set[i], len)) return 1;
  return 0;
}
