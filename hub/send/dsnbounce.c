/* dsnbounce.c: DSN bounces, multipart/report (see dsnbounce.h). The
 * fields are read back from the QSBMF paragraphs of bounce/N, so the
 * queue keeps one format whatever the style. */
#include <errno.h>
#include <string.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_date.h"
#include "q_sa.h"
#include "dsnbounce.h"

#define SAID "Remote host said: "
#define SAID_LEN 18
#define LIFETIME_SAYS "this message has been in the queue too long"
#define CONNECTED "Connected to "
#define CONNECTED_LEN 13
#define IP_MAX 45

/* trim: s[0..*n) without blanks around */
static const char *trim(const char *s, size_t *n)
{
  while (*n && (*s == ' ' || *s == '\t')) { ++s; --*n; }
  while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t')) --*n;
  return s;
}

int dsn_style(int *style)
{
  stralloc sa = {0};
  const char *v;
  size_t n;
  int r = control_readline(&sa, "bouncestyle"), st = -1;
  if (r == 0) st = BOUNCE_QSBMF;
  if (r == 1) {
    n = sa.len;
    v = trim(sa.s, &n);
    if (n == 5 && memcmp(v, "qsbmf", 5) == 0) st = BOUNCE_QSBMF;
    if (n == 3 && memcmp(v, "dsn", 3) == 0) st = BOUNCE_DSN;
  }
  stralloc_free(&sa);
  if (r < 0) return -1;
  if (st < 0) { errno = EINVAL; return -1; }
  *style = st;
  return 0;
}

int dsn_boundary(stralloc *b, unsigned long long id, time_t now, unsigned n)
{
  return stralloc_copys(b, "=_qmail-dsn_") && sa_catnum(b, id) && stralloc_append(b, "_") &&
         sa_catnum(b, (unsigned long long)now) && stralloc_append(b, "_") &&
         sa_catnum(b, n) && stralloc_0(b) ? 0 : -1;
}

int dsn_boundary_ok(const stralloc *out, const char *b)
{
  size_t blen = strlen(b), pos = 0, count = 0;
  while (pos < out->len) {
    const char *p = memmem(out->s + pos, out->len - pos, b, blen);
    if (!p) break;
    ++count;
    pos = (size_t)(p - out->s) + 1;
  }
  return count == 4;  /* the parameter and the three part delimiters */
}

static int isdig(char c) { return c >= '0' && c <= '9'; }

/* scan_code: length of the enhanced code "5.x.y" (x, y 1-3 digits) at
 * s[0..n), 0 when there is none */
static size_t scan_code(const char *s, size_t n)
{
  size_t i = 2, k;
  if (n < 5 || s[0] != '5' || s[1] != '.') return 0;
  for (k = 0; i < n && isdig(s[i]) && k < 3; ++i, ++k) ;
  if (!k || i >= n || s[i] != '.') return 0;
  ++i;
  for (k = 0; i < n && isdig(s[i]) && k < 3; ++i, ++k) ;
  if (!k || (i < n && isdig(s[i]))) return 0;
  return i;
}

static void put_code(char *st, const char *s, size_t n)
{
  memcpy(st, s, n);
  st[n] = 0;
}

void dsn_status(const char *para, size_t len, char *st)
{
  size_t i, k;
  const char *p;
  if (memmem(para, len, LIFETIME_SAYS, sizeof LIFETIME_SAYS - 1)) { strcpy(st, "4.4.7"); return; }
  for (i = 0; i + 2 < len; ++i)
    if (para[i] == '(' && para[i + 1] == '#' && (k = scan_code(para + i + 2, len - i - 2)) &&
        i + 2 + k < len && para[i + 2 + k] == ')') {
      put_code(st, para + i + 2, k);
      return;
    }
  p = memmem(para, len, SAID, SAID_LEN);
  if (p) {
    i = (size_t)(p - para) + SAID_LEN;
    if (i + 4 < len && isdig(para[i]) && isdig(para[i + 1]) && isdig(para[i + 2]) &&
        (para[i + 3] == ' ' || para[i + 3] == '-') &&
        (k = scan_code(para + i + 4, len - i - 4)) &&
        (i + 4 + k == len || para[i + 4 + k] == ' ' || para[i + 4 + k] == '\n')) {
      put_code(st, para + i + 4, k);
      return;
    }
  }
  strcpy(st, "5.0.0");
}

/* cat_safe: s[0..n) with control bytes as '_' */
static int cat_safe(stralloc *out, const char *s, size_t n)
{
  size_t i;
  if (!stralloc_readyplus(out, n)) return 0;
  for (i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    out->s[out->len++] = (c < 0x20 || c == 0x7f) ? '_' : (char)c;
  }
  return 1;
}

/* cat_fold: s[0..n) as a field value starting at column col, folded at
 * blanks after DSN_FOLD columns, a word over DSN_WORD_MAX cut */
static int cat_fold(stralloc *out, size_t col, const char *s, size_t n)
{
  size_t i = 0, first = 1;
  while (i < n) {
    size_t w = i, wl;
    while (i < n && s[i] != ' ') ++i;
    wl = i - w;
    if (wl) {
      size_t take = wl > DSN_WORD_MAX ? DSN_WORD_MAX : wl;
      if (!first && !stralloc_cats(out, col + 1 + take > DSN_FOLD ? "\n " : " ")) return 0;
      if (!first) col = col + 1 + take > DSN_FOLD ? 1 : col + 1;
      if (!cat_safe(out, s + w, take)) return 0;
      if (take < wl && !stralloc_cats(out, " [...]")) return 0;
      col += take;
      first = 0;
    }
    while (i < n && s[i] == ' ') ++i;
  }
  return 1;
}

/* ip_ok: an address as qmail-remote names it: hex digits, '.' and ':',
 * at least one of the two */
static int ip_ok(const char *s, size_t n)
{
  size_t i;
  if (!n || n > IP_MAX || (!memchr(s, '.', n) && !memchr(s, ':', n))) return 0;
  for (i = 0; i < n; ++i)
    if (!isdig(s[i]) && !strchr("abcdefABCDEF.:", s[i])) return 0;
  return 1;
}

/* cat_remote: Remote-MTA and Diagnostic-Code from the paragraph's lines
 * s[0..n) (s[0] is the '\n' after "<addr>:"): the address after
 * "Connected to ", or starting the first line when the remote host said
 * something; the reply after "Remote host said: " when it starts with a
 * code */
static int cat_remote(stralloc *out, const char *s, size_t n)
{
  const char *p = memmem(s, n, "\n" CONNECTED, CONNECTED_LEN + 1), *e;
  const char *said = memmem(s, n, SAID, SAID_LEN);
  if (p) p += CONNECTED_LEN + 1;
  else if (said && n > 1) p = s + 1;  /* "IP does not like recipient. Remote host said: ..." */
  if (p) {
    e = p;
    while (e < s + n && *e != ' ' && *e != '\n') ++e;
    if (ip_ok(p, (size_t)(e - p)) && e < s + n && *e == ' ' &&
        (!stralloc_cats(out, memchr(p, ':', (size_t)(e - p)) ? "Remote-MTA: dns; [IPv6:" : "Remote-MTA: dns; [") ||
         !stralloc_catb(out, p, (size_t)(e - p)) || !stralloc_cats(out, "]\n")))
      return 0;
  }
  if (!said) return 1;
  p = said + SAID_LEN;
  e = memchr(p, '\n', (size_t)(s + n - p));
  if (!e) e = s + n;
  if (e - p < 3 || !isdig(p[0]) || !isdig(p[1]) || !isdig(p[2])) return 1;
  return stralloc_cats(out, "Diagnostic-Code: smtp; ") && cat_fold(out, 23, p, (size_t)(e - p)) &&
         stralloc_cats(out, "\n");
}

/* item_next: the next NUL-terminated item of items at *pos, or 0 */
static const char *item_next(const char *items, size_t ilen, size_t *pos, size_t *len)
{
  const char *s, *e;
  if (*pos >= ilen) return 0;
  s = items + *pos;
  e = memchr(s, 0, ilen - *pos);
  if (!e) return 0;
  *len = (size_t)(e - s);
  *pos += *len + 1;
  return s;
}

void dsn_items_mail(const char *items, size_t ilen, struct dsn_mail *d)
{
  size_t pos = 0, len;
  const char *s = item_next(items, ilen, &pos, &len);
  memset(d, 0, sizeof *d);
  if (s && len && s[0] == 'd' && dsn_mail_parse(d, s + 1, len - 1) != DSNP_OK)
    memset(d, 0, sizeof *d);
}

int dsn_items_rcpt(const char *items, size_t ilen, const char *a, size_t alen,
                   struct dsn_rcpt *d)
{
  size_t pos = 0, len;
  const char *s;
  memset(d, 0, sizeof *d);
  while ((s = item_next(items, ilen, &pos, &len)))
    if (len == alen + 1 && s[0] == 'R' && !memcmp(s + 1, a, alen)) {
      s = item_next(items, ilen, &pos, &len);
      if (s && len && s[0] == 'd' && dsn_rcpt_parse(d, s + 1, len - 1) == DSNP_OK) return 1;
      memset(d, 0, sizeof *d);
      return 0;
    }
  return 0;
}

/* cat_orcpt: "Original-Recipient: type;decoded\n" for an ORCPT */
static int cat_orcpt(stralloc *out, const struct dsn_rcpt *r)
{
  const char *semi = memchr(r->orcpt, ';', r->orcptlen);
  size_t tl = (size_t)(semi - r->orcpt);
  return stralloc_cats(out, "Original-Recipient: ") && stralloc_catb(out, r->orcpt, tl + 1) &&
         dsn_xtext_decode(out, semi + 1, r->orcptlen - tl - 1) == 0 && stralloc_cats(out, "\n");
}

static const char *const action_word[3] = { "failed", "delivered", "relayed" };

int dsn_fields(stralloc *out, const char *para, size_t len, const struct dsn_msg *d)
{
  const char *nl = memchr(para, '\n', len);
  size_t alen, i;
  char st[12];
  int utf8 = 0;
  struct dsn_rcpt r;
  if (!nl || nl - para < 3 || para[0] != '<' || nl[-1] != ':' || nl[-2] != '>') return 1;
  alen = (size_t)(nl - para) - 3;
  for (i = 0; i < alen; ++i) utf8 |= (unsigned char)para[1 + i] >= 0x80;
  if (d->action == DSN_FAILED) dsn_status(para, len, st);
  else strcpy(st, "2.0.0");
  if (!stralloc_cats(out, "\n")) return -1;
  if (d->items && dsn_items_rcpt(d->items, d->ilen, para + 1, alen, &r) && r.orcpt &&
      !cat_orcpt(out, &r))
    return -1;
  if (!stralloc_cats(out, utf8 ? "Final-Recipient: utf-8; " : "Final-Recipient: rfc822; ") ||
      !cat_safe(out, para + 1, alen) || !stralloc_cats(out, "\nAction: ") ||
      !stralloc_cats(out, action_word[d->action]) || !stralloc_cats(out, "\nStatus: ") ||
      !stralloc_cats(out, st) || !stralloc_cats(out, "\n") ||
      !cat_remote(out, nl, len - (size_t)(nl - para)))
    return -1;
  return 0;
}

/* cat_status: the message/delivery-status content */
static int cat_status(stralloc *out, const struct bounce_conf *bc, const char *paras,
                      size_t plen, const struct dsn_msg *d)
{
  char date[DATE822_MAX];
  size_t start = 0;
  struct dsn_mail dm;
  date_fmt822(date, d->arrival, 0);
  dsn_items_mail(d->items, d->items ? d->ilen : 0, &dm);
  if (dm.has_envid && (!stralloc_cats(out, "Original-Envelope-Id: ") ||
                       dsn_xtext_decode(out, dm.envid, dm.envidlen) != 0 ||
                       !stralloc_cats(out, "\n")))
    return 0;
  if (!stralloc_cats(out, "Reporting-MTA: dns; ") || !cat_safe(out, bc->host.s, bc->host.len) ||
      !stralloc_cats(out, "\nArrival-Date: ") || !stralloc_cats(out, date) ||
      !stralloc_cats(out, "\n"))
    return 0;
  while (start < plen) {
    const char *e = memmem(paras + start, plen - start, "\n\n", 2);
    size_t end = e ? (size_t)(e - paras) + 1 : plen;
    if (dsn_fields(out, paras + start, end - start, d) == -1) return 0;
    start = e ? end + 1 : plen;
  }
  return 1;
}

static int has8bit(const char *s, size_t n)
{
  while (n--) if ((unsigned char)*s++ >= 0x80) return 1;
  return 0;
}

/* cat_delim: "\n--B\nContent-Type: type\n" */
static int cat_delim(stralloc *out, const char *b, const char *type)
{
  return stralloc_cats(out, "\n--") && stralloc_cats(out, b) &&
         stralloc_cats(out, "\nContent-Type: ") && stralloc_cats(out, type) &&
         stralloc_cats(out, "\n");
}

/* cat_success: the intro of a success notice */
static int cat_success(stralloc *out, const struct bounce_conf *bc, const struct dsn_msg *d)
{
  return stralloc_cats(out, "Hi. This is the qmail-send program at ") &&
         cat_safe(out, bc->host.s, bc->host.len > BOUNCE_ADDR_MAX ? BOUNCE_ADDR_MAX : bc->host.len) &&
         stralloc_cats(out, d->action == DSN_DELIVERED ?
           ".\nYour message was delivered to the address listed below, as you asked.\n\n" :
           ".\nYour message was relayed to the address listed below, as you asked. The host\n"
           "it went to was not asked for notices, so this is the last one.\n\n");
}

/* cat_text: part 1, the words for people */
static int cat_text(stralloc *out, const struct bounce_conf *bc, int kind,
                    const char *paras, size_t plen, const struct dsn_msg *d)
{
  int eight = has8bit(paras, plen);
  if (!cat_delim(out, d->boundary, eight ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii") ||
      (eight && !stralloc_cats(out, "Content-Transfer-Encoding: 8bit\n")) ||
      !stralloc_cats(out, "\n") ||
      (d->action == DSN_FAILED ? bounce_intro(out, bc, kind) == -1 : !cat_success(out, bc, d)) ||
      (plen && !stralloc_catb(out, paras, plen)))
    return 0;
  if (d->hdrs_only && d->cut)
    return stralloc_cats(out, "The message is longer than ") && sa_catnum(out, d->cut) &&
           stralloc_cats(out, " bytes, so only its header is returned.\n");
  if (d->hdrs_only) return stralloc_cats(out, "Only the header of the message is returned.\n");
  return 1;
}

int dsn_compose(stralloc *out, const struct bounce_conf *bc, const char *sender,
                size_t slen, const char *paragraphs, size_t plen, time_t now,
                const struct dsn_msg *d)
{
  stralloc from = {0}, to = {0};
  int kind = bounce_envelope(bc, sender, slen, &from, &to), ok = kind >= 0;
  out->len = 0;
  if (kind > 0)
    ok = bounce_header(out, bc, &to, d->action == DSN_FAILED ? "failure notice" : "delivery notice",
                       now, 0) == 0 &&
         stralloc_cats(out, "MIME-Version: 1.0\n"
                            "Content-Type: multipart/report; report-type=delivery-status;\n"
                            " boundary=\"") &&
         stralloc_cats(out, d->boundary) &&
         stralloc_cats(out, "\"\n\nThis is a delivery status notification in MIME format.\n") &&
         cat_text(out, bc, kind, paragraphs, plen, d) &&
         cat_delim(out, d->boundary, "message/delivery-status") && stralloc_cats(out, "\n") &&
         cat_status(out, bc, paragraphs, plen, d) &&
         cat_delim(out, d->boundary, d->hdrs_only ? "text/rfc822-headers" : "message/rfc822") &&
         stralloc_cats(out, "\nReturn-Path: <") &&
         cat_safe(out, sender, slen > BOUNCE_ADDR_MAX ? BOUNCE_ADDR_MAX : slen) &&
         stralloc_cats(out, ">\n");
  stralloc_free(&from);
  stralloc_free(&to);
  if (!ok) { errno = ENOMEM; return -1; }
  return kind;
}

int dsn_end(stralloc *out, const char *boundary)
{
  return stralloc_cats(out, "\n--") && stralloc_cats(out, boundary) &&
         stralloc_cats(out, "--\n") ? 0 : -1;
}
