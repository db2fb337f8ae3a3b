/* bounce.c: QSBMF bounce text (see bounce.h). The intro wording is ours;
 * only its first words "Hi. This is the" are fixed by QSBMF. */
#include <errno.h>
#include <string.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_date.h"
#include "q_sa.h"
#include "bounce.h"

#define VERP_TAIL "-@[]"
#define VERP_TAIL_LEN 4

/* cat_clean: append s[0..len) with CR, LF and NUL as '_', cut at max. */
static int cat_clean(stralloc *out, const char *s, size_t len, size_t max)
{
  size_t i, n = len > max ? max : len;
  if (!stralloc_readyplus(out, n)) return 0;
  for (i = 0; i < n; ++i) {
    char c = s[i];
    out->s[out->len++] = (c == '\r' || c == '\n' || c == '\0') ? '_' : c;
  }
  return 1;
}

static int set_default(stralloc *sa, const char *v, const char *def)
{
  return stralloc_copys(sa, v && *v ? v : def);
}

int bounce_conf_set(struct bounce_conf *bc, const char *me, const char *from,
                    const char *host, const char *dbto, const char *dbhost)
{
  const char *m = me && *me ? me : "localhost";
  if (set_default(&bc->from, from, "MAILER-DAEMON") && set_default(&bc->host, host, m) &&
      set_default(&bc->dbto, dbto, "postmaster") && set_default(&bc->dbhost, dbhost, m))
    return 0;
  errno = ENOMEM;
  return -1;
}

void bounce_conf_free(struct bounce_conf *bc)
{
  stralloc_free(&bc->from);
  stralloc_free(&bc->host);
  stralloc_free(&bc->dbto);
  stralloc_free(&bc->dbhost);
}

int bounce_conf_load(struct bounce_conf *bc)
{
  stralloc me = {0}, v[4] = {{0}};
  static const char *const name[4] = { "bouncefrom", "bouncehost", "doublebounceto",
                                       "doublebouncehost" };
  const char *def[4] = { "MAILER-DAEMON", 0, "postmaster", 0 };
  int i, r = control_me(&me, "localhost");
  for (i = 0; i < 4 && r >= 0; ++i) r = control_rldef(&v[i], name[i], def[i] ? def[i] : me.s);
  if (r >= 0) r = bounce_conf_set(bc, me.s, v[0].s, v[1].s, v[2].s, v[3].s);
  if (r >= 0) {  /* "echo > doublebounceto": qmail's way to drop double bounces */
    r = control_readline(&v[0], "doublebounceto");
    bc->dbdiscard = r == 1 && v[0].len == 0;
  }
  { int e = errno;
    stralloc_free(&me);
    for (i = 0; i < 4; ++i) stralloc_free(&v[i]);
    errno = e; }
  return r < 0 ? -1 : 0;
}

int bounce_copylimit(unsigned long *v)
{
  unsigned long x = BOUNCE_COPY_DEFAULT;
  if (control_readulong(&x, "bouncemaxbytes") < 0) return -1;
  *v = x;
  return 0;
}

static int is_verp(const char *s, size_t len)
{
  return len >= VERP_TAIL_LEN && memcmp(s + len - VERP_TAIL_LEN, VERP_TAIL, VERP_TAIL_LEN) == 0;
}

int bounce_unverp(const char *sender, size_t slen, stralloc *out)
{
  int v = is_verp(sender, slen);
  if (!stralloc_copyb(out, sender, v ? slen - VERP_TAIL_LEN : slen)) return -1;
  return v;
}

/* last_at: index of the last '@' in s[0..len), or len. */
static size_t last_at(const char *s, size_t len)
{
  size_t i = len;
  while (i > 0) if (s[--i] == '@') return i;
  return len;
}

int bounce_verp(const char *sender, size_t slen, const char *rcpt, size_t rlen,
                stralloc *out)
{
  size_t sat, rat;
  if (!is_verp(sender, slen)) return stralloc_copyb(out, sender, slen) ? 0 : -1;
  slen -= VERP_TAIL_LEN;
  sat = last_at(sender, slen);
  rat = last_at(rcpt, rlen);
  if (!stralloc_copyb(out, sender, sat) || !stralloc_catb(out, rcpt, rat)) return -1;
  if (rat < rlen)
    if (!stralloc_append(out, "=") || !stralloc_catb(out, rcpt + rat + 1, rlen - rat - 1))
      return -1;
  return stralloc_catb(out, sender + sat, slen - sat) ? 1 : -1;
}

int bounce_kind(const char *sender, size_t slen)
{
  if (slen == 4 && memcmp(sender, "#@[]", 4) == 0) return BOUNCE_DISCARD;
  if (slen == 0 || (slen == VERP_TAIL_LEN && is_verp(sender, slen))) return BOUNCE_DOUBLE;
  return BOUNCE_SINGLE;
}

/* cat_dbaddr: doublebounceto@doublebouncehost. */
static int cat_dbaddr(stralloc *out, const struct bounce_conf *bc)
{
  return stralloc_cat(out, &bc->dbto) && stralloc_append(out, "@") &&
         stralloc_cat(out, &bc->dbhost);
}

int bounce_envelope(const struct bounce_conf *bc, const char *sender, size_t slen,
                    stralloc *env_from, stralloc *env_to)
{
  int kind = bounce_kind(sender, slen);
  env_from->len = env_to->len = 0;
  if (kind == BOUNCE_SINGLE)
    return bounce_unverp(sender, slen, env_to) < 0 ? -1 : kind;
  if (kind == BOUNCE_DOUBLE)
    if (!stralloc_copys(env_from, "#@[]") || !cat_dbaddr(env_to, bc)) return -1;
  return kind;
}

/* cat_line: one report line, neutralised and capped. */
static int cat_line(stralloc *out, const char *s, size_t len)
{
  size_t i;
  int blank = 1;
  if (len && s[len - 1] == '\r') --len;  /* CRLF line end; other CRs become '_' */
  for (i = 0; i < len; ++i) blank &= s[i] == ' ' || s[i] == '\t';
  if (blank) return stralloc_cats(out, "/\n");
  if (!cat_clean(out, s, len, BOUNCE_LINE_MAX)) return 0;
  if (len > BOUNCE_LINE_MAX && !stralloc_cats(out, " [...]")) return 0;
  return stralloc_append(out, "\n");
}

int bounce_rcpt(stralloc *out, const char *addr, size_t alen,
                const char *report, size_t rlen)
{
  size_t start = 0, lines = 0;
  if (!stralloc_append(out, "<") || !cat_clean(out, addr, alen, BOUNCE_ADDR_MAX) ||
      !stralloc_cats(out, ">:\n"))
    return -1;
  while (start < rlen) {
    const char *nl = memchr(report + start, '\n', rlen - start);
    size_t end = nl ? (size_t)(nl - report) : rlen;
    if (lines++ == BOUNCE_REPORT_LINES) {
      if (!stralloc_cats(out, "[rest of report cut]\n")) return -1;
      break;
    }
    if (!cat_line(out, report + start, end - start)) return -1;
    start = end + 1;
  }
  return stralloc_append(out, "\n") ? 0 : -1;
}

int bounce_header(stralloc *out, const struct bounce_conf *bc, const stralloc *to,
                  const char *subject, time_t now, const char *msgid)
{
  char date[DATE822_MAX];
  date_fmt822(date, now, 0);
  if (!stralloc_cats(out, "From: ") || !cat_clean(out, bc->from.s, bc->from.len, BOUNCE_ADDR_MAX) ||
      !stralloc_append(out, "@") || !cat_clean(out, bc->host.s, bc->host.len, BOUNCE_ADDR_MAX) ||
      !stralloc_cats(out, "\nTo: ") || !cat_clean(out, to->s, to->len, BOUNCE_ADDR_MAX) ||
      !stralloc_cats(out, "\nSubject: ") || !stralloc_cats(out, subject) ||
      !stralloc_cats(out, "\nDate: ") || !stralloc_cats(out, date) ||
      !stralloc_cats(out, "\n"))
    return -1;
  if (msgid && (!stralloc_cats(out, "Message-ID: <") ||
                !cat_clean(out, msgid, strlen(msgid), BOUNCE_ADDR_MAX) || !stralloc_cats(out, ">\n")))
    return -1;
  return 0;
}

int bounce_intro(stralloc *out, const struct bounce_conf *bc, int kind)
{
  if (!stralloc_cats(out, "Hi. This is the qmail-send program at ") ||
      !cat_clean(out, bc->host.s, bc->host.len, BOUNCE_ADDR_MAX) || !stralloc_cats(out, ".\n"))
    return -1;
  return stralloc_cats(out, kind == BOUNCE_DOUBLE ?
    "A failure notice sent from here could not be delivered either:\n"
    "the bounce itself bounced. Here is what happened at each address.\n\n" :
    "Your message could not be delivered to the addresses listed below.\n"
    "The failure is permanent, so no further attempts will be made. Sorry.\n\n") ? 0 : -1;
}

/* cat_head: the header block and the intro paragraph. */
static int cat_head(stralloc *out, const struct bounce_conf *bc, int kind,
                    const stralloc *to, time_t now, const char *msgid)
{
  return bounce_header(out, bc, to, "failure notice", now, msgid) == 0 && stralloc_cats(out, "\n") &&
         bounce_intro(out, bc, kind) == 0;
}

int bounce_compose(stralloc *out, const struct bounce_conf *bc,
                   const char *sender, size_t slen, const char *paragraphs,
                   size_t plen, time_t now, const char *msgid)
{
  stralloc from = {0}, to = {0};
  int kind = bounce_envelope(bc, sender, slen, &from, &to), ok = kind >= 0;
  out->len = 0;
  if (kind > 0)
    ok = cat_head(out, bc, kind, &to, now, msgid) &&
         (!plen || stralloc_catb(out, paragraphs, plen)) &&
         stralloc_cats(out, "--- Below this line is a copy of the message.\n\nReturn-Path: <") &&
         cat_clean(out, sender, slen, BOUNCE_ADDR_MAX) && stralloc_cats(out, ">\n");
  stralloc_free(&from);
  stralloc_free(&to);
  if (!ok) { errno = ENOMEM; return -1; }
  return kind;
}

int bounce_cutnote(stralloc *out, unsigned long limit, int midline)
{
  if (midline && !stralloc_append(out, "\n")) return -1;
  if (!stralloc_cats(out, "[The rest of the message was cut: a bounce carries only its first ") ||
      !sa_catnum(out, limit) || !stralloc_cats(out, " bytes.]\n"))
    return -1;
  return 0;
}
