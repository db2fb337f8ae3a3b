/* msgid.c: the queue id and the logged Message-ID (see msgid.h). */
#include <string.h>
#include "msgid.h"

size_t qid_fmt(char *s, unsigned long long sec, unsigned long nsec, unsigned long long n)
{
  char t[24];
  size_t len = 0, i;
  unsigned long long v = sec;
  i = sizeof t;
  do t[--i] = (char)('0' + v % 10); while (v /= 10);
  while (i < sizeof t) s[len++] = t[i++];
  s[len++] = '.';
  nsec %= 1000000000UL;
  for (i = 9; i-- > 0; nsec /= 10) s[len + i] = (char)('0' + nsec % 10);
  len += 9;
  s[len++] = '.';
  v = n;
  i = sizeof t;
  do t[--i] = (char)('0' + v % 10); while (v /= 10);
  while (i < sizeof t) s[len++] = t[i++];
  s[len] = 0;
  return len;
}

/* digits: the number of decimal digits at s[0..len). */
static size_t digits(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9') ++i;
  return i;
}

int qid_check(const char *s, size_t len)
{
  size_t a, b, c;
  if (len >= QID_MAX) return 0;
  a = digits(s, len);
  if (a == 0 || a > 20 || a == len || s[a] != '.') return 0;
  b = digits(s + a + 1, len - a - 1);
  if (b != 9 || a + 10 == len || s[a + 10] != '.') return 0;
  c = digits(s + a + 11, len - a - 11);
  return c > 0 && c <= 20 && a + 11 + c == len;
}

/* The scanner's states. */
enum {
  S_BOL,     /* at the start of a header line */
  S_BOLCR,   /* a CR at the start of a line: an empty line if LF follows */
  S_NAME,    /* matching "message-id" (k bytes so far) */
  S_COLON,   /* the name matched, blanks before the colon */
  S_SKIP,    /* the rest of an uninteresting line */
  S_VALUE,   /* the value */
  S_VALNL,   /* a newline in the value: a fold if a blank follows */
  S_DONE     /* the header ended, or the first Message-ID field did */
};

static const char name[] = "message-id";

void midscan_init(struct midscan *m)
{
  m->state = S_BOL;
  m->k = 0;
  m->cr = m->full = m->found = 0;
  m->len = m->keep = 0;
}

static unsigned char lower(unsigned char c)
{
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* emit: one byte of the value, escaped, unless the value is full. */
static void emit(struct midscan *m, unsigned char c)
{
  char e[4];
  size_t n = 1, i;
  if (c == '\t') c = ' ';
  if (m->full || (m->len == 0 && c == ' ')) return;
  e[0] = (char)c;
  if (c == '\\') {
    e[1] = '\\';
    n = 2;
  } else if (c < 32 || c > 126) {
    e[0] = '\\';
    e[1] = (char)('0' + (c >> 6));
    e[2] = (char)('0' + ((c >> 3) & 7));
    e[3] = (char)('0' + (c & 7));
    n = 4;
  }
  if (m->len + n > MID_MAX) { m->full = 1; return; }
  for (i = 0; i < n; ++i) m->out[m->len++] = e[i];
  if (c != ' ') m->keep = m->len;
}

/* value: one byte in S_VALUE. */
static void value(struct midscan *m, unsigned char c)
{
  if (m->cr) {
    m->cr = 0;
    if (c == '\n') { m->state = S_VALNL; return; }
    emit(m, '\r');
  }
  if (c == '\r') m->cr = 1;
  else if (c == '\n') m->state = S_VALNL;
  else emit(m, c);
}

/* bol: the first byte of a header line. */
static void bol(struct midscan *m, unsigned char c)
{
  if (c == '\n') m->state = S_DONE;
  else if (c == '\r') m->state = S_BOLCR;
  else if (lower(c) == (unsigned char)name[0]) { m->state = S_NAME; m->k = 1; }
  else m->state = S_SKIP;
}

/* step: one byte in any state but S_VALUE and S_DONE. */
static void step(struct midscan *m, unsigned char c)
{
  switch (m->state) {
  case S_BOL: bol(m, c); return;
  case S_BOLCR: m->state = c == '\n' ? S_DONE : S_SKIP; return;
  case S_VALNL:
    if (c == ' ' || c == '\t') { m->state = S_VALUE; emit(m, c); }
    else m->state = S_DONE;  /* the first Message-ID field wins */
    return;
  case S_NAME:
    if (m->k < sizeof name - 1) {
      if (lower(c) == (unsigned char)name[m->k]) { ++m->k; return; }
      break;
    }
    if (c == ' ' || c == '\t') { m->state = S_COLON; return; }
    /* fall through */
  case S_COLON:
    if (c == ':') { m->state = S_VALUE; m->found = 1; return; }
    if (c == ' ' || c == '\t') return;
    break;
  }
  m->state = c == '\n' ? S_BOL : S_SKIP;  /* S_SKIP, or a name that did not match */
}

void midscan_feed(struct midscan *m, const char *buf, size_t len)
{
  size_t i;
  for (i = 0; i < len && m->state != S_DONE; ++i) {
    unsigned char c = (unsigned char)buf[i];
    if (m->state == S_SKIP) {  /* most of a header: to its line's end at once */
      const char *nl = memchr(buf + i, '\n', len - i);
      if (!nl) return;
      i = (size_t)(nl - buf);
      m->state = S_BOL;
    } else if (m->state == S_VALUE) value(m, c);
    else step(m, c);
  }
}

size_t midscan_value(const struct midscan *m, const char **s)
{
  *s = m->out;
  return m->found ? m->keep : 0;
}
