/* qqproto.c: the queue socket's streaming parser (see qqproto.h). */
#include "qqproto.h"

enum { S_LEN, S_DATA, S_COMMA, S_ENDCOMMA, S_ENV, S_DONE, S_ERR };

void qqp_init(struct qqp *p, unsigned long maxaddr)
{
  p->state = S_LEN;
  p->left = p->len = 0;
  p->digits = 0;
  p->envbytes = 0;
  envscan_init(&p->es, maxaddr);
}

static int fail(struct qqp *p, int ev)
{
  p->state = S_ERR;
  p->left = (size_t)-ev;  /* remembered for later calls */
  return ev;
}

/* length: one byte of "<len>:"; QQP_MORE, QQP_MSGEND pending (0 chunk) or
 * an error. */
static int length(struct qqp *p, char c)
{
  if (c == ':') {
    if (!p->digits) return fail(p, QQP_BADCHUNK);
    p->state = p->len ? S_DATA : S_ENDCOMMA;
    p->left = p->len;
    return QQP_MORE;
  }
  if (c < '0' || c > '9') return fail(p, QQP_BADCHUNK);
  if (p->digits && !p->len) return fail(p, QQP_BADCHUNK);  /* leading zero */
  p->len = p->len * 10 + (size_t)(c - '0');
  if (++p->digits > 9 || p->len > QQ_CHUNKMAX) return fail(p, QQP_BADCHUNK);
  return QQP_MORE;
}

/* envelope: check in[0..len) as envelope bytes */
static int envelope(struct qqp *p, const char *in, size_t len, size_t *used,
                    const char **data, size_t *dlen)
{
  long n = envscan_feed(&p->es, in, len);
  if (n == ENV_LONG || n == ENV_CTRL) return fail(p, QQP_LONGADDR);
  if (n < 0) return fail(p, QQP_BADENV);
  *data = in;
  *dlen = *used = n ? (size_t)n : len;
  p->envbytes += *dlen;
  if (p->envbytes > QQ_ENVMAX) return fail(p, QQP_BIGENV);
  if (!n) return QQP_ENV;
  p->state = S_DONE;
  return QQP_ENVEND;
}

int qqp_next(struct qqp *p, const char *in, size_t len, size_t *used,
             const char **data, size_t *dlen)
{
  size_t i = 0;
  *used = 0;
  *data = in;
  *dlen = 0;
  if (p->state == S_ERR) return -(int)p->left;
  if (p->state == S_DONE) return QQP_ENVEND;
  if (p->state == S_ENV) return len ? envelope(p, in, len, used, data, dlen) : QQP_MORE;
  while (i < len) {
    int r;
    switch (p->state) {
      case S_LEN:
        r = length(p, in[i++]);
        if (r < 0) { *used = i; return r; }
        break;
      case S_DATA: {
        size_t n = len - i < p->left ? len - i : p->left;
        p->left -= n;
        if (!p->left) p->state = S_COMMA;
        *data = in + i;
        *dlen = n;
        *used = i + n;
        return QQP_DATA;
      }
      case S_COMMA:
      case S_ENDCOMMA:
        if (in[i++] != ',') { *used = i; return fail(p, QQP_BADCHUNK); }
        if (p->state == S_ENDCOMMA) { p->state = S_ENV; *used = i; return QQP_MSGEND; }
        p->state = S_LEN;
        p->len = 0;
        p->digits = 0;
        break;
    }
  }
  *used = len;
  return QQP_MORE;
}

int qqp_code(int event)
{
  switch (event) {
    case QQP_BADCHUNK: return 81;
    case QQP_LONGADDR: return 11;
    default: return 91;
  }
}
