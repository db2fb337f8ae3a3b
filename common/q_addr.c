/* q_addr.c: RFC 5322 sec 3.4 address-list parser and rewriter, and the
 * envelope address byte rule (see q_addr.h).
 *
 * Two linear passes, no recursion:
 *  1. tokenize the whole field into an array: atoms (atext, plus any byte
 *     >= 0x80), quoted strings, domain literals, comments (nesting counted,
 *     capped at COMMENT_DEPTH_MAX), whitespace runs, and the specials
 *     < > @ , ; : . as one-byte tokens;
 *  2. cut the token array into list elements at ',' ';' ':' outside angle
 *     brackets and handle each element as a group start, an empty element
 *     or a mailbox. Tokens are contiguous, so copying a token range copies
 *     the original bytes unchanged; only addr-spec tokens are rebuilt.
 * Each token is looked at a bounded number of times, so 3000 addresses in
 * one field cost about as much as 3000 fields of one address. */
#include <string.h>
#include "byte.h"
#include "stralloc.h"
#include "q_addr.h"

#define COMMENT_DEPTH_MAX 100

/* token types: a special is its own byte value, the rest are above 255 */
enum { T_ATOM = 256, T_QSTR, T_DLIT, T_COMMENT, T_WS };

struct tok {
  int type;
  size_t pos, len;   /* bytes in[pos..pos+len) */
};

struct parse {
  const char *in;
  const struct tok *t;
  size_t nt;
  const struct addr_qualify *q;
  stralloc *out;
  int (*cb)(void *ctx, const char *addr, size_t len);
  void *ctx;
  const char *err;
  stralloc hdr, env;   /* header and envelope forms of the current address */
  size_t hhost, ehost; /* offset of the host in hdr and env, when hasat */
  int hasat;
};

static const char oom[] = "out of memory";
static const char bad[] = "bad address";

/* ---- qualification ---------------------------------------------------- */

static int cat_dot(stralloc *sa, const char *domain)
{
  return stralloc_append(sa, ".") && stralloc_cats(sa, domain);
}

/* qualify_host: apply the '+' rule or else the dot rule to the host that
   occupies sa->s[h..len). Literals and empty hosts are left alone. The '+'
   marks where plusdomain goes: "x+" -> x.plusdomain, but "+" and "x.+"
   -> plusdomain and x.plusdomain, never an empty label. */
static int qualify_host(stralloc *sa, size_t h, const struct addr_qualify *q)
{
  size_t hl = sa->len - h;
  const char *host = sa->s + h;
  if (!hl || host[0] == '[') return 1;
  if (host[hl - 1] == '+' && q->plusdomain) {
    --sa->len;
    if (hl == 1 || host[hl - 2] == '.') return stralloc_cats(sa, q->plusdomain);
    return cat_dot(sa, q->plusdomain);
  }
  if (!q->defaultdomain || byte_chr(host, hl, '.') < hl) return 1;
  return cat_dot(sa, q->defaultdomain);
}

int addr_qualify(stralloc *addr, const struct addr_qualify *q)
{
  size_t at;
  if (!q || !addr->len) return 1;
  at = byte_rchr(addr->s, addr->len, '@');
  if (at == addr->len) {   /* no '@' */
    if (!q->defaulthost) return 1;
    if (!stralloc_append(addr, "@") || !stralloc_cats(addr, q->defaulthost)) return 0;
  }
  return qualify_host(addr, at + 1, q);
}

/* ---- envelope addresses ----------------------------------------------- */

int addr_env_check(const char *a, size_t len, size_t maxaddr)
{
  size_t i;
  if (len > maxaddr) return ADDR_ENV_TOOLONG;
  for (i = 0; i < len; ++i)
    if (!addr_env_byte((unsigned char)a[i])) return ADDR_ENV_CTRL;
  return ADDR_ENV_OK;
}

/* ---- pass 1: tokens --------------------------------------------------- */

static int fail(struct parse *p, const char *e)
{
  p->err = e;
  return 0;
}

static int is_ws(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char specials[] = "()<>[]:;@\\,.\"";

static int is_atext(unsigned char c)
{
  if (c >= 0x80) return 1;
  if (c <= ' ' || c == 0x7f) return 0;
  return !memchr(specials, c, sizeof specials - 1);
}

/* scan_quoted: s[0] is '"'; length through the unescaped closing quote,
   0 if there is none */
static size_t scan_quoted(const char *s, size_t n)
{
  size_t i;
  for (i = 1; i < n; ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return 0;
}

/* scan_literal: s[0] is '['; length through the ']', 0 on error. Stricter
   than RFC 5322 on purpose: printable ASCII and folding whitespace only, no
   escapes and no '@' (every envelope consumer splits at the last '@'). */
static size_t scan_literal(const char *s, size_t n, const char **err)
{
  size_t i;
  for (i = 1; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c == ']') return i + 1;
    if (is_ws(c)) continue;
    if (c < 33 || c > 126 || c == '[' || c == '\\' || c == '@') {
      *err = "bad domain literal";
      return 0;
    }
  }
  *err = "unterminated domain literal";
  return 0;
}

/* scan_comment: s[0] is '('; length through the matching ')', 0 on error */
static size_t scan_comment(const char *s, size_t n, const char **err)
{
  size_t i, depth = 0;
  for (i = 0; i < n; ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '(' && ++depth > COMMENT_DEPTH_MAX) break;
    else if (s[i] == ')' && --depth == 0) return i + 1;
  }
  *err = depth > COMMENT_DEPTH_MAX ? "comments nested too deeply" : "unterminated comment";
  return 0;
}

static size_t scan_run(const char *s, size_t n, int (*in_class)(unsigned char))
{
  size_t i = 1;
  while (i < n && in_class((unsigned char)s[i])) ++i;
  return i;
}

/* tok_len: classify the token at s[0..n) (n > 0); its length, 0 on error */
static size_t tok_len(const char *s, size_t n, int *type, const char **err)
{
  unsigned char c = (unsigned char)s[0];
  size_t l;
  *type = c;
  if (is_ws(c)) { *type = T_WS; return scan_run(s, n, is_ws); }
  if (is_atext(c)) { *type = T_ATOM; return scan_run(s, n, is_atext); }
  switch (c) {
  case '"':
    *type = T_QSTR;
    if (!(l = scan_quoted(s, n))) *err = "unterminated quoted string";
    return l;
  case '[': *type = T_DLIT; return scan_literal(s, n, err);
  case '(': *type = T_COMMENT; return scan_comment(s, n, err);
  case ')': *err = "unbalanced )"; return 0;
  case '<': case '>': case '@': case ',': case ';': case ':': case '.': return 1;
  }
  *err = bad;   /* ] \ or a control byte outside quotes */
  return 0;
}

static int tokenize(struct parse *p, size_t len, stralloc *ts)
{
  size_t pos = 0;
  while (pos < len) {
    struct tok t;
    memset(&t, 0, sizeof t);
    t.pos = pos;
    t.len = tok_len(p->in + pos, len - pos, &t.type, &p->err);
    if (!t.len) return 0;
    if (!stralloc_catb(ts, (const char *)&t, sizeof t)) return fail(p, oom);
    pos += t.len;
  }
  p->t = (const struct tok *)ts->s;
  p->nt = ts->len / sizeof(struct tok);
  return 1;
}

/* ---- token-range helpers ---------------------------------------------- */

static int is_cfws(const struct tok *t)
{
  return t->type == T_WS || t->type == T_COMMENT;
}

static int is_word(const struct tok *t)
{
  return t->type == T_ATOM || t->type == T_QSTR;
}

/* emit: copy the original bytes of tokens [a,b) to the output */
static int emit(struct parse *p, size_t a, size_t b)
{
  size_t from, to;
  if (a >= b) return 1;
  from = p->t[a].pos;
  to = p->t[b - 1].pos + p->t[b - 1].len;
  return stralloc_catb(p->out, p->in + from, to - from) || fail(p, oom);
}

/* find: first token of the given type in [a,b), or b */
static size_t find(const struct parse *p, size_t a, size_t b, int type)
{
  while (a < b && p->t[a].type != type) ++a;
  return a;
}

static size_t skip_cfws(const struct parse *p, size_t a, size_t b)
{
  while (a < b && is_cfws(&p->t[a])) ++a;
  return a;
}

static size_t rskip_cfws(const struct parse *p, size_t a, size_t b)
{
  while (b > a && is_cfws(&p->t[b - 1])) --b;
  return b;
}

/* is_phrase: [a,b) holds only words, dots (obs-phrase), comments and
   whitespace; with need_word, at least one word */
static int is_phrase(const struct parse *p, size_t a, size_t b, int need_word)
{
  int words = 0;
  for (; a < b; ++a) {
    const struct tok *t = &p->t[a];
    if (is_word(t)) ++words;
    else if (!is_cfws(t) && t->type != '.') return 0;
  }
  return words || !need_word;
}

/* ---- building one address --------------------------------------------- */

static int cat_tok(struct parse *p, stralloc *sa, const struct tok *t)
{
  return stralloc_catb(sa, p->in + t->pos, t->len) || fail(p, oom);
}

/* cat_unquoted: envelope form of a quoted string: the bytes between the
   quotes with escapes resolved and CR, LF (folding) dropped */
static int cat_unquoted(struct parse *p, const struct tok *t)
{
  const char *s = p->in + t->pos;
  size_t i;
  for (i = 1; i + 1 < t->len; ++i) {
    if (s[i] == '\\') ++i;
    if (s[i] == '\r' || s[i] == '\n') continue;
    if (!stralloc_append(&p->env, s + i)) return fail(p, oom);
  }
  return 1;
}

/* local_part: words joined by dots ("Bob Smith" is an error) into hdr and
   env; *at = index of the '@' or e */
static int local_part(struct parse *p, size_t s, size_t e, size_t *at)
{
  int prevword = 0;
  size_t i;
  for (i = s; i < e; ++i) {
    const struct tok *t = &p->t[i];
    if (is_cfws(t)) continue;
    if (t->type == '@') break;
    if (t->type != '.' && (!is_word(t) || prevword)) return fail(p, bad);
    prevword = t->type != '.';
    if (!cat_tok(p, &p->hdr, t)) return 0;
    if (t->type == T_QSTR ? !cat_unquoted(p, t) : !cat_tok(p, &p->env, t)) return 0;
  }
  if (!p->env.len) return fail(p, bad);   /* no local part, or only "" */
  *at = i;
  return 1;
}

/* cat_literal: envelope form of a domain literal: the token without its
   folding whitespace */
static int cat_literal(struct parse *p, const struct tok *t)
{
  const char *s = p->in + t->pos;
  size_t i;
  for (i = 0; i < t->len; ++i)
    if (!is_ws((unsigned char)s[i]) && !stralloc_append(&p->env, s + i)) return fail(p, oom);
  return 1;
}

static int cat_label(struct parse *p, const struct tok *t, int build)
{
  if (!build) return 1;
  if (!cat_tok(p, &p->hdr, t)) return 0;
  return t->type == T_DLIT ? cat_literal(p, t) : cat_tok(p, &p->env, t);
}

/* domain: dot-atoms or one literal from token i on, comments and whitespace
   allowed around the dots; *next = the first token after it. With build,
   append it to hdr and env. */
static int domain(struct parse *p, size_t i, size_t end, size_t *next, int build)
{
  int want = 1, any = 0, lit = 0;
  for (; i < end; ++i) {
    const struct tok *t = &p->t[i];
    if (is_cfws(t)) continue;
    if (want && (t->type == T_ATOM || (!any && t->type == T_DLIT))) {
      lit = t->type == T_DLIT;
      want = 0;
      any = 1;
    } else if (!want && !lit && t->type == '.') {
      want = 1;
    } else break;
    if (!cat_label(p, t, build)) return 0;
  }
  if (!any) return fail(p, i < end ? bad : "address with empty domain");
  if (want) return fail(p, bad);   /* trailing dot */
  *next = i;
  return 1;
}

static int qualify_both(struct parse *p)
{
  const struct addr_qualify *q = p->q;
  if (!q) return 1;
  if (!p->hasat) {
    if (!q->defaulthost) return 1;
    p->hhost = p->hdr.len + 1;
    p->ehost = p->env.len + 1;
    if (!stralloc_append(&p->hdr, "@") || !stralloc_cats(&p->hdr, q->defaulthost)
        || !stralloc_append(&p->env, "@") || !stralloc_cats(&p->env, q->defaulthost))
      return fail(p, oom);
  }
  if (!qualify_host(&p->hdr, p->hhost, q) || !qualify_host(&p->env, p->ehost, q))
    return fail(p, oom);
  return 1;
}

/* inner_comments: keep comments that sat inside the addr-spec after it */
static int inner_comments(struct parse *p, size_t s, size_t e)
{
  for (; s < e; ++s)
    if (p->t[s].type == T_COMMENT)
      if (!stralloc_append(p->out, " ") || !cat_tok(p, p->out, &p->t[s])) return fail(p, oom);
  return 1;
}

static int deliver(struct parse *p, const char *a, size_t l)
{
  if (p->cb && !p->cb(p->ctx, a, l)) return fail(p, oom);
  return 1;
}

/* addr_spec: tokens [s,e), first and last not comment/whitespace */
static int addr_spec(struct parse *p, size_t s, size_t e)
{
  size_t at, next;
  stralloc_zero(&p->hdr);
  stralloc_zero(&p->env);
  p->hasat = 0;
  if (!local_part(p, s, e, &at)) return 0;
  if (at < e) {
    p->hasat = 1;
    if (!stralloc_append(&p->hdr, "@") || !stralloc_append(&p->env, "@")) return fail(p, oom);
    p->hhost = p->hdr.len;
    p->ehost = p->env.len;
    if (!domain(p, at + 1, e, &next, 1)) return 0;
    if (next != e) return fail(p, bad);
  }
  if (!qualify_both(p)) return 0;
  if (!stralloc_cat(p->out, &p->hdr)) return fail(p, oom);
  if (!inner_comments(p, s, e)) return 0;
  return deliver(p, p->env.s, p->env.len);
}

/* spec_in: [a,b) holds optional cfws, an addr-spec, optional cfws */
static int spec_in(struct parse *p, size_t a, size_t b)
{
  size_t s = skip_cfws(p, a, b), e = rskip_cfws(p, s, b);
  if (s == e) return fail(p, bad);
  return emit(p, a, s) && addr_spec(p, s, e) && emit(p, e, b);
}

/* ---- mailboxes and the list ------------------------------------------- */

/* route_ok: [a,c) is "@dom,@dom" (obs-route without its ':') */
static int route_ok(struct parse *p, size_t a, size_t c)
{
  int doms = 0;
  size_t i = skip_cfws(p, a, c);
  while (i < c) {
    const struct tok *t = &p->t[i];
    if (is_cfws(t) || t->type == ',') { ++i; continue; }
    if (t->type != '@' || !domain(p, i + 1, c, &i, 0)) return fail(p, bad);
    if (i < c && p->t[i].type != ',') return fail(p, bad);
    ++doms;
  }
  return doms || fail(p, bad);
}

/* angle_inner: the tokens (k,m) between '<' and '>' */
static int angle_inner(struct parse *p, size_t k, size_t m)
{
  size_t c;
  if (skip_cfws(p, k + 1, m) == m)   /* "<>" */
    return emit(p, k + 1, m) && deliver(p, "", 0);
  c = find(p, k + 1, m, ':');
  if (c == m) return spec_in(p, k + 1, m);
  return route_ok(p, k + 1, c) && emit(p, k + 1, c + 1) && spec_in(p, c + 1, m);
}

/* mailbox: element [a,b) with no ',' ';' ':' outside angles; angles balanced */
static int mailbox(struct parse *p, size_t a, size_t b)
{
  size_t k = find(p, a, b, '<'), m;
  if (k == b) {
    if (skip_cfws(p, a, b) == b) return emit(p, a, b);   /* empty element */
    return spec_in(p, a, b);
  }
  m = find(p, k, b, '>');
  if (!is_phrase(p, a, k, 0) || skip_cfws(p, m + 1, b) != b) return fail(p, bad);
  return emit(p, a, k + 1) && angle_inner(p, k, m) && emit(p, m, b);
}

/* element_end: the index of the ',' ';' or ':' outside angle brackets that
   ends the element starting at i, or nt */
static int element_end(struct parse *p, size_t i, size_t *end)
{
  int inangle = 0;
  for (; i < p->nt; ++i) {
    int ty = p->t[i].type;
    if (ty == '<') {
      if (inangle) return fail(p, "nested <");
      inangle = 1;
    } else if (ty == '>') {
      if (!inangle) return fail(p, "unbalanced >");
      inangle = 0;
    } else if (!inangle && (ty == ',' || ty == ';' || ty == ':')) break;
  }
  if (inangle) return fail(p, "unbalanced <");
  *end = i;
  return 1;
}

struct liststate {
  int ingroup;    /* between "name:" and ";" */
  int aftergroup; /* after ";": only comments and whitespace until ',' */
};

static int group_start(struct parse *p, size_t a, size_t b, struct liststate *ls)
{
  if (ls->ingroup) return fail(p, "nested group");
  if (ls->aftergroup || !is_phrase(p, a, b, 1)) return fail(p, bad);
  ls->ingroup = 1;
  return emit(p, a, b);
}

/* element: handle [a,b) whose delimiter (or 0 at the end) is d */
static int element(struct parse *p, size_t a, size_t b, int d, struct liststate *ls)
{
  if (d == ':') return group_start(p, a, b, ls);
  if (ls->aftergroup && skip_cfws(p, a, b) != b) return fail(p, bad);
  ls->aftergroup = 0;
  if (!mailbox(p, a, b)) return 0;
  if (d == ';') {
    if (!ls->ingroup) return fail(p, "; outside group");
    ls->ingroup = 0;
    ls->aftergroup = 1;
  }
  return 1;
}

static int parse_list(struct parse *p)
{
  struct liststate ls = { 0, 0 };
  size_t i = 0, j;
  for (;;) {
    if (!element_end(p, i, &j)) return 0;
    if (!element(p, i, j, j < p->nt ? p->t[j].type : 0, &ls)) return 0;
    if (j >= p->nt) return 1;   /* a group left open at the end is accepted */
    if (!emit(p, j, j + 1)) return 0;
    i = j + 1;
  }
}

int addrlist_rewrite(const char *in, size_t len, const struct addr_qualify *q,
                     stralloc *out, int (*cb)(void *ctx, const char *addr, size_t len),
                     void *ctx, const char **err)
{
  struct parse p;
  stralloc toks = {0, 0, 0};
  size_t outlen = out->len;
  int ok;
  memset(&p, 0, sizeof p);
  p.in = in; p.q = q; p.out = out; p.cb = cb; p.ctx = ctx;
  if (len && memchr(in, 0, len)) ok = fail(&p, "NUL in address");
  else ok = tokenize(&p, len, &toks) && parse_list(&p);
  stralloc_free(&toks);
  stralloc_free(&p.hdr);
  stralloc_free(&p.env);
  if (ok) return 0;
  out->len = outlen;
  if (err) *err = p.err;
  return -1;
}
