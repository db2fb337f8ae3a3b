/* q_utf8.c: UTF-8 validation (see q_utf8.h). */
#include "q_utf8.h"

/* seq: the length of the valid sequence at s[i..len), 0 when none. The
 * second byte's range depends on the first (RFC 3629 sec 4), the rest
 * are plain continuation bytes. */
static size_t seq(const unsigned char *s, size_t i, size_t len)
{
  unsigned char c = s[i], lo = 0x80, hi = 0xbf;
  size_t n, k;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) n = 3;
  else if (c >= 0xf0 && c <= 0xf4) n = 4;
  else return 0;   /* 80..BF alone, C0/C1 overlong, F5..FF past U+10FFFF */
  if (c == 0xe0) lo = 0xa0;        /* overlong 3-byte */
  else if (c == 0xed) hi = 0x9f;   /* surrogates */
  else if (c == 0xf0) lo = 0x90;   /* overlong 4-byte */
  else if (c == 0xf4) hi = 0x8f;   /* past U+10FFFF */
  if (len - i < n) return 0;
  if (s[i + 1] < lo || s[i + 1] > hi) return 0;
  for (k = 2; k < n; ++k)
    if (s[i + k] < 0x80 || s[i + k] > 0xbf) return 0;
  return n;
}

size_t utf8_valid(const char *s, size_t len)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    size_t n = seq(u, i, len);
    if (!n) return i;
    i += n;
  }
  return len;
}

int utf8_ascii(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; ++i)
    if ((unsigned char)s[i] >= 0x80) return 0;
  return 1;
}
