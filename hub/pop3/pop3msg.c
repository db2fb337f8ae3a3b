/* pop3msg.c: a Maildir message as POP3 sends it (pop3msg.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "pop3msg.h"

void pop3msg_init(struct pop3msg *m, pop3_put put, void *ctx, int top,
                  unsigned long long lines)
{
  memset(m, 0, sizeof *m);
  m->bol = 1;
  m->header = top;
  m->top = top;
  m->lines = lines;
  m->put = put;
  m->ctx = ctx;
}

static int emit(struct pop3msg *m, const char *s, size_t n)
{
  m->out += n;
  return m->put ? m->put(m->ctx, s, n) : 0;
}

/* line_end: an LF was seen; crbefore: a CR is right before it. */
static int line_end(struct pop3msg *m, int crbefore)
{
  int empty = m->linelen == 0 || (m->linelen == 1 && crbefore);
  if (emit(m, crbefore ? "\n" : "\r\n", crbefore ? 1 : 2) < 0) return -1;
  m->bol = 1;
  m->cr = 0;
  m->linelen = 0;
  if (!m->top) return 0;
  if (m->header) { if (empty) { m->header = 0; if (!m->lines) m->done = 1; } return 0; }
  if (!--m->lines) m->done = 1;
  return 0;
}

int pop3msg_feed(struct pop3msg *m, const char *s, size_t n)
{
  while (n && !m->done) {
    const char *lf;
    size_t seg;
    int crbefore;
    if (m->bol && *s == '.') {
      if (emit(m, ".", 1) < 0) return -1;
      ++m->stuffed;
    }
    lf = memchr(s, '\n', n);
    if (!lf) {
      if (emit(m, s, n) < 0) return -1;
      m->cr = s[n - 1] == '\r';
      m->bol = 0;
      m->linelen += n;
      return 0;
    }
    seg = (size_t)(lf - s);
    if (seg && emit(m, s, seg) < 0) return -1;
    crbefore = seg ? s[seg - 1] == '\r' : m->cr;
    m->linelen += seg;
    if (line_end(m, crbefore) < 0) return -1;
    s += seg + 1;
    n -= seg + 1;
  }
  return 0;
}

int pop3msg_end(struct pop3msg *m)
{
  if (m->done || m->bol) return 0;
  if (emit(m, m->cr ? "\n" : "\r\n", m->cr ? 1 : 2) < 0) return -1;
  m->bol = 1;
  m->cr = 0;
  return 0;
}

unsigned long long pop3msg_size(const struct pop3msg *m)
{
  return m->out - m->stuffed;
}

int pop3msg_fd(struct pop3msg *m, int fd, char *buf, size_t cap)
{
  for (;;) {
    ssize_t r;
    if (m->done) return 0;
    r = read(fd, buf, cap);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return pop3msg_end(m) < 0 ? -2 : 0;
    if (pop3msg_feed(m, buf, (size_t)r) < 0) return -2;
  }
}
