/* rcpttab.c: the recipient table's writer and matcher (format and rules
 * in rcpttab.h). The matcher does no I/O but cdb reads on a table the
 * caller opened; rt_stamp is the one stat. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "rcpttab.h"
#include "users.h"

#define DATA_MAX 65536   /* longest record data read back */

static char lc(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* cat_lower: append s[0..n) in lower case. 1 ok, 0 no memory. */
static int cat_lower(stralloc *sa, const char *s, size_t n)
{
  size_t i;
  if (!stralloc_readyplus(sa, n)) return 0;
  for (i = 0; i < n; ++i) sa->s[sa->len++] = lc(s[i]);
  return 1;
}

/* cat_ext: append ext[0..n) as qmail-local names it: lower case, '.' as ':'. */
static int cat_ext(stralloc *sa, const char *s, size_t n)
{
  size_t i;
  if (!stralloc_readyplus(sa, n)) return 0;
  for (i = 0; i < n; ++i) sa->s[sa->len++] = s[i] == '.' ? ':' : lc(s[i]);
  return 1;
}

static int cat_num(stralloc *sa, unsigned long n)
{
  char b[24];
  snprintf(b, sizeof b, "%lu", n);
  return stralloc_cats(sa, b);
}

/* setkey: key = type, set, ':' (for "x"/"d"), before the name. */
static int setkey(stralloc *key, char type, unsigned long set)
{
  return stralloc_copyb(key, &type, 1) && cat_num(key, set) && stralloc_append(key, ":");
}

/* ---- writing -------------------------------------------------------- */

static int add(struct rt_make *m)
{
  return cdb_make_add(&m->cm, (const unsigned char *)m->key.s, m->key.len,
                      (const unsigned char *)m->data.s, m->data.len);
}

static int nomem(void) { errno = ENOMEM; return -1; }

int rt_make_start(struct rt_make *m, int fd, int single)
{
  memset(m->alens, 0, sizeof m->alens);
  memset(m->rlens, 0, sizeof m->rlens);
  m->key.len = m->data.len = m->stamps.len = 0;
  if (cdb_make_start(&m->cm, fd) == -1) return -1;
  if (!stralloc_copys(&m->key, "!v") || !stralloc_copys(&m->data, RT_VERSION)) return nomem();
  if (add(m) == -1) return -1;
  if (!stralloc_copys(&m->key, "!m") || !stralloc_copys(&m->data, single ? "single" : "root"))
    return nomem();
  return add(m);
}

int rt_make_stamp(struct rt_make *m, const char *path, const char *stamp)
{
  if (!stralloc_cats(&m->stamps, path) || !stralloc_0(&m->stamps) ||
      !stralloc_cats(&m->stamps, stamp) || !stralloc_0(&m->stamps)) return nomem();
  return 0;
}

int rt_make_home(struct rt_make *m, unsigned long set, const char *home,
                 const char *stamp, int all)
{
  if (!stralloc_copys(&m->key, "h") || !cat_num(&m->key, set)) return nomem();
  if (!stralloc_copys(&m->data, home) || !stralloc_0(&m->data) ||
      !stralloc_cats(&m->data, stamp) || !stralloc_0(&m->data) ||
      !stralloc_cats(&m->data, all ? "*" : "")) return nomem();
  return add(m);
}

/* openable: could qmail-local ever open ".qmail" dash rest? It asks
 * only for lower case names without '.' or '/'. */
static int openable(const char *rest)
{
  for (; *rest; ++rest)
    if ((*rest >= 'A' && *rest <= 'Z') || *rest == '.' || *rest == '/') return 0;
  return 1;
}

int rt_make_file(struct rt_make *m, unsigned long set, const char *rest)
{
  size_t n = strlen(rest);
  if (!n || !openable(rest)) return 0;
  if (!setkey(&m->key, 'x', set) || !stralloc_catb(&m->key, rest, n)) return nomem();
  m->data.len = 0;
  if (add(m) == -1) return -1;
  if (n < 7 || strcmp(rest + n - 7, "default")) return 0;
  if (n > 7 && rest[n - 8] != '-') return 0;
  if (!setkey(&m->key, 'd', set) || !stralloc_catb(&m->key, rest, n - 7)) return nomem();
  return add(m);
}

int rt_make_assign(struct rt_make *m, char type, const char *key, size_t klen,
                   unsigned long set, const char *ext)
{
  if (klen > RT_PREFIX_MAX) return 0;   /* users/cdb never matches it */
  if (type == '+') m->alens[klen] = 1;
  if (!stralloc_copyb(&m->key, &type, 1) || !stralloc_catb(&m->key, key, klen)) return nomem();
  if (set == RT_NOSET && (type != '=' || *ext)) { errno = EINVAL; return -1; }
  if (!stralloc_copys(&m->data, set == RT_NOSET ? "-" : "") ||
      (set != RT_NOSET && !cat_num(&m->data, set)) || !stralloc_0(&m->data) ||
      !stralloc_cats(&m->data, ext)) return nomem();
  return add(m);
}

int rt_make_user(struct rt_make *m, const char *name, unsigned long set)
{
  if (!stralloc_copys(&m->key, "u") || !stralloc_cats(&m->key, name)) return nomem();
  if (!stralloc_copys(&m->data, "") || !cat_num(&m->data, set)) return nomem();
  return add(m);
}

int rt_make_alias(struct rt_make *m, unsigned long set)
{
  if (!stralloc_copys(&m->key, "A") || !stralloc_copys(&m->data, "") || !cat_num(&m->data, set))
    return nomem();
  return add(m);
}

/* admin_ok: a byte allowed in an administrator's entry. */
static int admin_ok(char c) { return (unsigned char)c > ' ' && c != 127; }

int rt_make_admin(struct rt_make *m, const char *line, size_t len)
{
  size_t at = len, i;
  int star;
  while (at > 0 && line[at - 1] != '@') --at;
  if (at == 0 || at == len) return 0;          /* no '@', or no domain */
  for (i = 0; i < len; ++i) if (!admin_ok(line[i])) return 0;
  --at;                                        /* at: the '@' */
  star = at > 0 && line[at - 1] == '*';
  if (star && at - 1 > RT_PREFIX_MAX) return 0;
  if (memchr(line, '*', at) && !star) return 0;
  if (star && memchr(line, '*', at - 1)) return 0;
  if (at == 0) {
    if (!stralloc_copys(&m->key, "r@") || !cat_lower(&m->key, line + 1, len - 1)) return nomem();
  } else if (star) {
    m->rlens[at - 1] = 1;
    if (!stralloc_copys(&m->key, "r+") || !cat_lower(&m->key, line, at - 1) ||
        !cat_lower(&m->key, line + at, len - at)) return nomem();
  } else if (!stralloc_copys(&m->key, "r=") || !cat_lower(&m->key, line, len)) return nomem();
  m->data.len = 0;
  return add(m) == -1 ? -1 : 1;
}

/* lens: key = a lengths record from the flags. */
static int lens(struct rt_make *m, const char *key, const unsigned char *f)
{
  size_t i;
  if (!stralloc_copys(&m->key, key) || !stralloc_copys(&m->data, "")) return nomem();
  for (i = 0; i <= RT_PREFIX_MAX; ++i)
    if (f[i] && (!cat_num(&m->data, i) || !stralloc_append(&m->data, " "))) return nomem();
  return add(m);
}

int rt_make_finish(struct rt_make *m)
{
  int r = -1;
  if (lens(m, "!a", m->alens) == -1 || lens(m, "!r", m->rlens) == -1) goto done;
  if (!stralloc_copys(&m->key, "!s") || !stralloc_copy(&m->data, &m->stamps)) { nomem(); goto done; }
  if (add(m) == -1) goto done;
  r = cdb_make_finish(&m->cm);
done:
  rt_make_free(m);
  return r;
}

void rt_make_free(struct rt_make *m)
{
  while (m->cm.head) { struct cdb_hplist *n = m->cm.head->next; free(m->cm.head); m->cm.head = n; }
  free(m->cm.split);
  m->cm.split = 0;
  stralloc_free(&m->key);
  stralloc_free(&m->data);
  stralloc_free(&m->stamps);
}

int rt_stamp(stralloc *out, const char *path)
{
  struct stat st;
  char b[128];
  if (stat(path, &st) == -1) {
    if (errno != ENOENT && errno != ENOTDIR) return -1;
    return stralloc_copys(out, "-") && stralloc_0(out) ? 0 : nomem();
  }
  snprintf(b, sizeof b, "%llu:%llu:%llu:%lld.%09ld", (unsigned long long)st.st_dev,
           (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
           (long long)st.st_ctim.tv_sec, (long)st.st_ctim.tv_nsec);
  return stralloc_copys(out, b) && stralloc_0(out) ? 0 : nomem();
}

/* ---- reading -------------------------------------------------------- */

/* get: t->val = the data of t->key. 1 found, 0 not, -1 error. */
static int get(struct rt *t)
{
  int r = cdb_find(&t->c, (const unsigned char *)t->key.s, t->key.len);
  uint32 dl;
  if (r <= 0) return r;
  dl = cdb_datalen(&t->c);
  if (dl > DATA_MAX) { errno = EINVAL; return -1; }
  if (!stralloc_ready(&t->val, dl + 1)) return nomem();
  if (cdb_read(&t->c, (unsigned char *)t->val.s, dl, cdb_datapos(&t->c)) == -1) return -1;
  t->val.len = dl;
  t->val.s[dl] = 0;   /* one byte past: the data may be read as a string */
  return 1;
}

static int getkey(struct rt *t, const char *key)
{
  if (!stralloc_copys(&t->key, key)) return nomem();
  return get(t);
}

/* scan_set: a decimal set number at the start of s ("-": RT_NOSET). */
static unsigned long scan_set(const char *s) { return *s == '-' ? RT_NOSET : strtoul(s, 0, 10); }

/* read_lens: flags f from the lengths record at key. 0 ok, -1 error. */
static int read_lens(struct rt *t, const char *key, unsigned char *f)
{
  char *p, *e;
  int r = getkey(t, key);
  memset(f, 0, RT_PREFIX_MAX + 1);
  if (r <= 0) return r == 0 ? (errno = EINVAL, -1) : -1;
  for (p = t->val.s; *p; p = e + 1) {
    unsigned long n = strtoul(p, &e, 10);
    if (e == p || *e != ' ' || n > RT_PREFIX_MAX) { errno = EINVAL; return -1; }
    f[n] = 1;
  }
  return 0;
}

int rt_open(struct rt *t, int fd)
{
  int r;
  memset(&t->c, 0, sizeof t->c);   /* cdb_init frees first: no stray map */
  cdb_init(&t->c, fd);
  r = getkey(t, "!v");
  if (r <= 0) return r;
  if (strcmp(t->val.s, RT_VERSION)) return 0;
  if ((r = getkey(t, "!m")) <= 0) return r;
  t->single = !strcmp(t->val.s, "single");
  if (read_lens(t, "!a", t->alens) == -1 || read_lens(t, "!r", t->rlens) == -1) return -1;
  if ((r = getkey(t, "A")) <= 0) return r;
  t->alias = scan_set(t->val.s);
  return 1;
}

void rt_close(struct rt *t)
{
  cdb_free(&t->c);
  stralloc_free(&t->key);
  stralloc_free(&t->val);
}

int rt_sources(struct rt *t, stralloc *out)
{
  int r = getkey(t, "!s");
  if (r <= 0) return r;
  return stralloc_copy(out, &t->val) ? 1 : nomem();
}

int rt_home(struct rt *t, unsigned long set, stralloc *path, stralloc *stamp)
{
  size_t n;
  int r;
  if (!stralloc_copys(&t->key, "h") || !cat_num(&t->key, set)) return nomem();
  if ((r = get(t)) <= 0) return r;
  n = strlen(t->val.s);
  if (n + 1 >= t->val.len) { errno = EINVAL; return -1; }
  if (!stralloc_copyb(path, t->val.s, n) || !stralloc_0(path) ||
      !stralloc_copys(stamp, t->val.s + n + 1) || !stralloc_0(stamp)) return nomem();
  return 1;
}

/* home_all: does set's home take every ext ("h" record flag "*")?
 * 1 yes, 0 no, -1 error. */
static int home_all(struct rt *t, unsigned long set)
{
  const char *p, *e;
  int r;
  if (!stralloc_copys(&t->key, "h") || !cat_num(&t->key, set)) return nomem();
  if ((r = get(t)) <= 0) return r == 0 ? (errno = EINVAL, -1) : -1;
  p = t->val.s;
  e = t->val.s + t->val.len;
  p += strlen(p) + 1;                    /* past the path */
  if (p >= e) { errno = EINVAL; return -1; }
  p += strlen(p) + 1;                    /* past the stamp */
  return p < e && *p == '*';
}

/* ext_ok: in set, does ext[0..n) (as given) have instructions? */
static int ext_ok(struct rt *t, unsigned long set, const char *ext, size_t n, unsigned long *why)
{
  size_t base, k;
  int r;
  *why = set;
  if (n == 0) return RT_YES;
  if ((r = home_all(t, set)) != 0) return r < 0 ? -1 : RT_YES;
  if (!setkey(&t->key, 'x', set)) return nomem();
  base = t->key.len;
  if (!cat_ext(&t->key, ext, n)) return nomem();
  if ((r = get(t)) != 0) return r < 0 ? -1 : RT_YES;
  t->key.s[0] = 'd';
  for (k = n + 1; k-- > 0;) {          /* after each '-' from the right, then 0 */
    if (k > 0 && ext[k - 1] != '-') continue;
    t->key.len = base + k;
    if ((r = get(t)) != 0) return r < 0 ? -1 : RT_YES;
  }
  return RT_NO;
}

/* split_rec: a "set\0ext" record: *set and the ext (a string in val). */
static const char *split_rec(struct rt *t, unsigned long *set)
{
  size_t n = strlen(t->val.s);
  *set = scan_set(t->val.s);
  return n < t->val.len ? t->val.s + n + 1 : "";
}

/* by_assign: step 1. 1 found (*verdict), 0 not, -1 error. */
static int by_assign(struct rt *t, const char *l, size_t len, int *verdict, unsigned long *why)
{
  stralloc ext = {0};
  unsigned long set;
  size_t k;
  int r;
  if (!stralloc_copys(&t->key, "=") || !cat_lower(&t->key, l, len)) return nomem();
  r = get(t);
  for (k = len + 1; r == 0 && k-- > 0;) {
    if (k > RT_PREFIX_MAX || !t->alens[k]) continue;
    t->key.s[0] = '+';
    t->key.len = 1 + k;
    r = get(t);
  }
  if (r <= 0) return r;
  if (!stralloc_copys(&ext, split_rec(t, &set))) return nomem();
  if (t->key.s[0] == '+' && !stralloc_catb(&ext, l + t->key.len - 1, len - (t->key.len - 1)))
    { stralloc_free(&ext); return nomem(); }
  *verdict = ext_ok(t, set, ext.s, ext.len, why);
  stralloc_free(&ext);
  return *verdict < 0 ? -1 : 1;
}

/* by_passwd: step 2, qmail-getpw's longest user name (case as given). */
static int by_passwd(struct rt *t, const char *l, size_t len, int *verdict, unsigned long *why)
{
  size_t i;
  int r;
  for (i = len + 1; i-- > 1;) {
    if (i < len && l[i] != '-') continue;
    if (!stralloc_copys(&t->key, "u") || !stralloc_catb(&t->key, l, i)) return nomem();
    if ((r = get(t)) < 0) return -1;
    if (r == 0) continue;
    *verdict = i == len ? RT_YES : ext_ok(t, scan_set(t->val.s), l + i + 1, len - i - 1, why);
    return *verdict < 0 ? -1 : 1;
  }
  return 0;
}

int rt_local(struct rt *t, const char *l, size_t len, unsigned long *why)
{
  int r, v = RT_NO;
  *why = -1UL;
  if (len <= USERS_LOCAL_MAX) {
    if ((r = by_assign(t, l, len, &v, why)) != 0) return r < 0 ? -1 : v;
    if (!t->single) {
      if ((r = by_passwd(t, l, len, &v, why)) != 0) return r < 0 ? -1 : v;
    }
  } else if (!t->single) {
    return RT_NO;   /* qmail-getpw: address too long, a permanent failure */
  }
  return ext_ok(t, t->alias, l, len, why);
}

int rt_admin(struct rt *t, const char *a, size_t len)
{
  size_t at = len, k;
  int r;
  while (at > 0 && a[at - 1] != '@') --at;
  if (!stralloc_copys(&t->key, "r=") || !cat_lower(&t->key, a, len)) return nomem();
  if ((r = get(t)) != 0 || at == 0) return r;
  if (!stralloc_copys(&t->key, "r@") || !cat_lower(&t->key, a + at, len - at)) return nomem();
  if ((r = get(t)) != 0) return r;
  for (k = at; k-- > 0;) {   /* prefixes of the local part a[0..at-1) */
    if (k > RT_PREFIX_MAX || !t->rlens[k] || k > at - 1) continue;
    if (!stralloc_copys(&t->key, "r+") || !cat_lower(&t->key, a, k) ||
        !cat_lower(&t->key, a + at - 1, len - at + 1)) return nomem();
    if ((r = get(t)) != 0) return r;
  }
  return 0;
}
