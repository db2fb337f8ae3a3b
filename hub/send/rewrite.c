/* rewrite.c: recipient rewriting for qmail-send (see rewrite.h).
 * Lists are kept as sorted arrays of lowercase keys and looked up by binary
 * search, so a recipient costs O(log n) per lookup whatever the list size. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "case.h"
#include "stralloc.h"
#include "q_control.h"
#include "rewrite.h"

/* One input for the loader: NUL-terminated items (lists) or a line. */
struct src { const char *s; size_t len; int present; };

static unsigned char lower(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* key_cmp: stored lowercase key k against query q (any case). */
static int key_cmp(const char *k, size_t klen, const char *q, size_t qlen)
{
  size_t i, n = klen < qlen ? klen : qlen;
  for (i = 0; i < n; ++i) {
    unsigned char a = (unsigned char)k[i], b = lower((unsigned char)q[i]);
    if (a != b) return a < b ? -1 : 1;
  }
  return klen < qlen ? -1 : klen > qlen ? 1 : 0;
}

static int entry_cmp(const void *x, const void *y, void *arg)
{
  const struct rw_entry *a = x, *b = y;
  const char *d = arg;
  int c = key_cmp(d + a->key, a->klen, d + b->key, b->klen);
  if (c) return c;
  return a->line < b->line ? -1 : a->line > b->line;
}

static void set_free(struct rw_set *s)
{
  stralloc_free(&s->data);
  free(s->e);
  s->e = 0;
  s->n = 0;
}

/* set_add: one item; with values it is "key:value" (no ':' = ignored). */
static void set_add(struct rw_set *s, size_t off, size_t len, int withval)
{
  struct rw_entry *e = &s->e[s->n];
  const char *colon = withval ? memchr(s->data.s + off, ':', len) : 0;
  if (withval && !colon) return;
  e->key = off;
  e->klen = colon ? (size_t)(colon - (s->data.s + off)) : len;
  e->val = off + e->klen + (colon ? 1 : 0);
  e->vlen = len - (e->val - off);
  e->line = s->n;
  case_lowerb(s->data.s + e->key, e->klen);
  ++s->n;
}

/* set_build: the set from NUL-terminated items src[0..len). */
static int set_build(struct rw_set *s, const char *src, size_t len, int withval)
{
  size_t i, count = 0, start = 0;
  set_free(s);
  for (i = 0; i < len; ++i) count += src[i] == '\0';
  if (count > SIZE_MAX / sizeof *s->e) { errno = ENOMEM; return -1; }
  if (!stralloc_copyb(&s->data, src, len)) { errno = ENOMEM; return -1; }
  s->e = malloc((count ? count : 1) * sizeof *s->e);
  if (!s->e) { errno = ENOMEM; return -1; }
  for (i = 0; i < len; ++i)
    if (src[i] == '\0') { set_add(s, start, i - start, withval); start = i + 1; }
  qsort_r(s->e, s->n, sizeof *s->e, entry_cmp, s->data.s);
  return 0;
}

/* set_find: the first-listed entry whose key equals q, or NULL. */
static const struct rw_entry *set_find(const struct rw_set *s, const char *q, size_t qlen)
{
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct rw_entry *e = &s->e[mid];
    if (key_cmp(s->data.s + e->key, e->klen, q, qlen) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo < s->n && key_cmp(s->data.s + s->e[lo].key, s->e[lo].klen, q, qlen) == 0)
    return &s->e[lo];
  return 0;
}

void rewrite_free(struct rewrite *rw)
{
  set_free(&rw->locals);
  set_free(&rw->vdoms);
  set_free(&rw->percent);
  stralloc_free(&rw->envnoathost);
}

/* load_core: locals default to me (required), envnoathost to me or the
 * literal "envnoathost" as in qmail. */
static int load_core(struct rewrite *rw, struct src me, struct src loc,
                     struct src vd, struct src pc, struct src env)
{
  int r = 0;
  struct src e = env.present && env.len ? env : me;
  if (!loc.present && (!me.present || !me.len)) { errno = ENOENT; return -1; }
  if (!loc.present) {  /* locals = me; me's NUL terminates the one item */
    loc.s = me.s;
    loc.len = me.len + 1;
  }
  if (set_build(&rw->locals, loc.s, loc.len, 0) < 0 ||
      set_build(&rw->vdoms, vd.present ? vd.s : "", vd.present ? vd.len : 0, 1) < 0 ||
      set_build(&rw->percent, pc.present ? pc.s : "", pc.present ? pc.len : 0, 0) < 0)
    r = -1;
  else if (!(e.present && e.len ? stralloc_copyb(&rw->envnoathost, e.s, e.len)
                                : stralloc_copys(&rw->envnoathost, "envnoathost"))) {
    errno = ENOMEM;
    r = -1;
  }
  if (r < 0) { int er = errno; rewrite_free(rw); errno = er; }
  return r;
}

/* split_text: list file text into NUL-terminated items, with the same
 * rules as control_readlist (blank and '#' lines dropped, trailing blanks
 * and CR stripped). */
static int split_text(stralloc *out, const char *t)
{
  out->len = 0;
  while (t && *t) {
    size_t n = strcspn(t, "\n"), len = n;
    while (len && (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\r')) --len;
    if (len && t[0] != '#')
      if (!stralloc_catb(out, t, len) || !stralloc_append(out, "")) return 0;
    t += n + (t[n] == '\n');
  }
  return stralloc_readyplus(out, 1);
}

/* first_line: length of the first line of t, trailing blanks stripped. */
static size_t first_line(const char *t)
{
  size_t len = strcspn(t, "\n");
  while (len && (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\r')) --len;
  return len;
}

static struct src src_line(const char *t)
{
  struct src s = { t, t ? first_line(t) : 0, t != 0 };
  return s;
}

static struct src src_sa(const stralloc *sa, int present)
{
  struct src s = { sa->s ? sa->s : "", sa->len, present };
  return s;
}

int rewrite_load_text(struct rewrite *rw, const char *me, const char *locals,
                      const char *vdoms, const char *percent, const char *envnoathost)
{
  stralloc l = {0}, v = {0}, p = {0}, m = {0};
  struct src sm = src_line(me);
  int r = -1;
  if (split_text(&l, locals) && split_text(&v, vdoms) && split_text(&p, percent) &&
      stralloc_copyb(&m, me ? me : "", sm.len) && stralloc_0(&m)) {
    sm.s = m.s;
    r = load_core(rw, sm, src_sa(&l, locals != 0), src_sa(&v, vdoms != 0),
                  src_sa(&p, percent != 0), src_line(envnoathost));
  } else
    errno = ENOMEM;
  stralloc_free(&l); stralloc_free(&v); stralloc_free(&p); stralloc_free(&m);
  return r;
}

/* read_me: control/me, NUL-terminated in sa; 1 present, 0 missing/empty. */
static int read_me(stralloc *sa)
{
  int r = control_readline(sa, "me");
  if (r <= 0) return r;
  if (!stralloc_0(sa)) { errno = ENOMEM; return -1; }
  --sa->len;
  return sa->len > 0;
}

int rewrite_load(struct rewrite *rw)
{
  stralloc m = {0}, l = {0}, v = {0}, p = {0}, e = {0};
  int rm, rl = -1, rv = -1, rp = -1, re = -1, r = -1;
  rm = read_me(&m);
  if (rm >= 0) rl = control_readlist(&l, "locals");
  if (rl >= 0) rv = control_readlist(&v, "virtualdomains");
  if (rv >= 0) rp = control_readlist(&p, "percenthack");
  if (rp >= 0) re = control_readline(&e, "envnoathost");
  if (re >= 0)
    r = load_core(rw, src_sa(&m, rm > 0), src_sa(&l, rl > 0), src_sa(&v, rv > 0),
                  src_sa(&p, rp > 0), src_sa(&e, re > 0));
  { int er = errno;
    stralloc_free(&m); stralloc_free(&l); stralloc_free(&v);
    stralloc_free(&p); stralloc_free(&e);
    errno = er; }
  return r;
}

/* last_at: index of the last '@' in s[0..len), or len. */
static size_t last_at(const char *s, size_t len)
{
  size_t i = len;
  while (i > 0) if (s[--i] == '@') return i;
  return len;
}

/* percenthack: "u%h@dom" -> "u@h" while dom is listed. */
static void percenthack(const struct rewrite *rw, stralloc *a)
{
  for (;;) {
    size_t at = last_at(a->s, a->len), pct = at;
    if (at == a->len || !set_find(&rw->percent, a->s + at + 1, a->len - at - 1)) return;
    while (pct > 0 && a->s[pct - 1] != '%') --pct;
    if (pct == 0) return;
    a->s[pct - 1] = '@';
    a->len = at;
  }
}

/* vdom_find: the virtualdomains entry for address a with domain at dom. */
static const struct rw_entry *vdom_find(const struct rewrite *rw, const stralloc *a, size_t dom)
{
  const struct rw_entry *e = set_find(&rw->vdoms, a->s, a->len);
  size_t i;
  for (i = dom; !e && i < a->len; ++i)
    if (i == dom || a->s[i] == '.') e = set_find(&rw->vdoms, a->s + i, a->len - i);
  return e ? e : set_find(&rw->vdoms, "", 0);
}

/* prepend: a = val + "-" + a. */
static int prepend(stralloc *a, const char *val, size_t vlen)
{
  if (vlen > SIZE_MAX - 1 - a->len || !stralloc_readyplus(a, vlen + 1)) {
    errno = ENOMEM;
    return -1;
  }
  memmove(a->s + vlen + 1, a->s, a->len);
  memcpy(a->s, val, vlen);
  a->s[vlen] = '-';
  a->len += vlen + 1;
  return REWRITE_LOCAL;
}

int rewrite(const struct rewrite *rw, const char *addr, size_t len, stralloc *out)
{
  const struct rw_entry *e;
  size_t at;
  if (len > REWRITE_ADDR_MAX) { errno = ENAMETOOLONG; return -1; }
  if (!stralloc_copyb(out, addr, len)) { errno = ENOMEM; return -1; }
  if (last_at(addr, len) == len)
    if (!stralloc_append(out, "@") || !stralloc_cat(out, &rw->envnoathost)) {
      errno = ENOMEM;
      return -1;
    }
  percenthack(rw, out);
  at = last_at(out->s, out->len);
  if (set_find(&rw->locals, out->s + at + 1, out->len - at - 1)) return REWRITE_LOCAL;
  e = vdom_find(rw, out, at + 1);
  if (!e || e->vlen == 0) return REWRITE_REMOTE;
  return prepend(out, rw->vdoms.data.s + e->val, e->vlen);
}
