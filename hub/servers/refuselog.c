/* refuselog.c: one escaped log line per refusal (see refuselog.h). Builds
 * the line in a stack buffer, no allocation: it also runs when memory is
 * what ran out. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "q_err.h"
#include "refuselog.h"

static const char hex[] = "0123456789abcdef";

struct line {
  char *s;
  size_t len;
};

/* put: raw bytes; the callers' caps keep them far inside REFUSELOG_LINE. */
static void put(struct line *l, const char *s, size_t n)
{
  if (n > REFUSELOG_LINE - 1 - l->len) n = REFUSELOG_LINE - 1 - l->len;
  memcpy(l->s + l->len, s, n);
  l->len += n;
}

static void puts0(struct line *l, const char *s) { put(l, s, strlen(s)); }

/* esc: s[0..n) escaped, at most cap source bytes; 1 if it was cut. */
static int esc(struct line *l, const char *s, size_t n, size_t cap)
{
  size_t i;
  for (i = 0; i < n && i < cap; ++i) {
    unsigned char c = (unsigned char)s[i];
    char e[4] = { '\\', c, 0, 0 };
    if (c == '"' || c == '\\') put(l, e, 2);
    else if (c >= 32 && c < 127) put(l, e + 1, 1);
    else {
      e[1] = 'x';
      e[2] = hex[c >> 4];
      e[3] = hex[c & 15];
      put(l, e, 4);
    }
  }
  return n > cap;
}

/* field: ` name="escaped"` and "..." when cut. */
static void field(struct line *l, const char *name, const char *s, size_t n)
{
  puts0(l, " ");
  puts0(l, name);
  puts0(l, "=\"");
  if (esc(l, s, n, REFUSELOG_CAP)) puts0(l, "\"...");
  else puts0(l, "\"");
}

/* word: a token of ours (stage, code); "-" when empty. */
static void word(struct line *l, const char *s)
{
  puts0(l, " ");
  if (s && *s) esc(l, s, strlen(s), 32);
  else puts0(l, "-");
}

size_t refuselog_format(char *out, const char *prog, const char *ip, const struct refusal *r)
{
  struct line l;
  l.s = out;
  l.len = 0;
  esc(&l, prog, strlen(prog), 32);
  puts0(&l, ": refused: ");
  if (ip && *ip) esc(&l, ip, strlen(ip), REFUSELOG_IPCAP);
  else puts0(&l, "unknown");
  word(&l, r->stage);
  word(&l, r->code);
  word(&l, r->enh);
  field(&l, "reason", r->reason ? r->reason : "", r->reason ? r->reasonlen : 0);
  if (r->input) field(&l, "input", r->input, r->inputlen);
  out[l.len++] = '\n';
  return l.len;
}

static unsigned long logged;

void refuselog(const struct refusal *r)
{
  char out[REFUSELOG_LINE];
  const char *ip = getenv("TCPREMOTEIP");
  size_t n;
  if (logged > REFUSELOG_MAX) return;
  if (logged++ == REFUSELOG_MAX) {
    warn("too many refusals on this connection: the rest are not logged");
    return;
  }
  n = refuselog_format(out, progname, ip, r);
  (void)!write(2, out, n);
}

static int isdigit_(char c) { return c >= '0' && c <= '9'; }

/* enh_len: length of an enhanced code "d.d{1,3}.d{1,3}" at s, 0 if none. */
static size_t enh_len(const char *s, size_t n)
{
  size_t i = 0, part;
  int dots = 0;
  for (;;) {
    for (part = 0; i < n && isdigit_(s[i]) && part < 3; ++i) ++part;
    if (!part) return 0;
    if (dots == 2) return i;
    if (i == n || s[i] != '.') return 0;
    ++i;
    ++dots;
  }
}

/* tail_enh: a trailing " (#x.y.z)" of t[0..*len): its code into enh
 * (16 bytes) and *len cut before it; 0 when there is none. */
static int tail_enh(const char *t, size_t *len, char *enh)
{
  size_t n = *len, i, e;
  if (n < 5 || t[n - 1] != ')') return 0;
  for (i = n - 1; i > 0 && t[i - 1] != '#'; --i) ;
  if (i < 3 || t[i - 2] != '(' || t[i - 3] != ' ') return 0;
  e = enh_len(t + i, n - 1 - i);
  if (!e || e != n - 1 - i || e >= 16) return 0;
  memcpy(enh, t + i, e);
  enh[e] = 0;
  *len = i - 3;
  return 1;
}

void refuselog_smtp(const char *stage, const char *reply, const char *input, size_t inputlen)
{
  struct refusal r;
  char code[4], enh[16], tail[16];
  size_t n = strlen(reply), e;
  memset(&r, 0, sizeof r);
  r.stage = stage;
  r.input = input;
  r.inputlen = inputlen;
  if (n >= 3 && isdigit_(reply[0]) && isdigit_(reply[1]) && isdigit_(reply[2])) {
    memcpy(code, reply, 3);
    code[3] = 0;
    r.code = code;
    reply += 3;
    n -= 3;
    if (n && (*reply == ' ' || *reply == '-')) { ++reply; --n; }
  }
  e = enh_len(reply, n);
  if (e && e < sizeof enh && (e == n || reply[e] == ' ')) {
    memcpy(enh, reply, e);
    enh[e] = 0;
    r.enh = enh;
    reply += e;
    n -= e;
    if (n) { ++reply; --n; }
  }
  if (tail_enh(reply, &n, tail) && !r.enh) r.enh = tail;   /* "(#x.y.z)" said twice */
  r.reason = reply;
  r.reasonlen = n;
  refuselog(&r);
}

void refuselog_ns(const char *stage, const char *text, size_t len,
                  const char *input, size_t inputlen)
{
  struct refusal r;
  char code[2] = { 0, 0 }, enh[16];
  memset(&r, 0, sizeof r);
  r.stage = stage;
  r.input = input;
  r.inputlen = inputlen;
  if (len) {
    code[0] = text[0];
    r.code = code;
    ++text;
    --len;
  }
  if (tail_enh(text, &len, enh)) r.enh = enh;
  r.reason = text;
  r.reasonlen = len;
  refuselog(&r);
}
