/* pwfile.c: users/passwd parsing, its cdb, the descriptor-3 request and a
 * constant-time comparison (contracts and formats in pwfile.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cdb.h"
#include "cdb_make.h"
#include "pwfile.h"

static struct cdb_make cm;  /* ~12 KB: static, never on the stack */

/* field_ok: every byte in [lo, '~'] and none ':'. */
static int field_ok(const char *s, size_t len, char lo)
{
  size_t i;
  for (i = 0; i < len; ++i)
    if (s[i] < lo || s[i] > '~' || s[i] == ':') return 0;
  return 1;
}

int pw_login_ok(const char *s, size_t len)
{
  return len && len <= PW_LOGIN_MAX && field_ok(s, len, '!');
}

void pw_lower(char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; ++i) if (s[i] >= 'A' && s[i] <= 'Z') s[i] += 32;
}

/* id_scan: s[0..len) as a decimal below 2^32 into *v. */
static int id_scan(const char *s, size_t len, unsigned long *v)
{
  size_t i;
  *v = 0;
  if (!len || len > 10) return 0;
  for (i = 0; i < len; ++i) {
    if (s[i] < '0' || s[i] > '9') return 0;
    *v = *v * 10 + (unsigned long)(s[i] - '0');
  }
  return *v <= 0xffffffffUL;
}

int pw_parse_line(const char *s, size_t len, struct pw_line *l, const char **why)
{
  size_t c[5], n = 0, i;
  if (!len || s[0] == '#') return 0;
  if (len > PW_LINE_MAX) { *why = "line too long"; return -1; }
  for (i = 0; i < len; ++i)
    if (s[i] == ':') { if (n == 5) break; c[n++] = i; }
  if (n != 1 && n != 4) { *why = "not login:hash or login:hash:uid:gid:home"; return -1; }
  memset(l, 0, sizeof *l);
  l->loginlen = c[0];
  l->hash = c[0] + 1;
  l->hashlen = (n == 1 ? len : c[1]) - l->hash;
  l->rest = l->hash + l->hashlen;
  if (!pw_login_ok(s, l->loginlen)) { *why = "bad login"; return -1; }
  if (!l->hashlen || l->hashlen > PW_HASH_MAX || !field_ok(s + l->hash, l->hashlen, '!')) {
    *why = "bad hash"; return -1;
  }
  if (n == 1) return 1;
  l->virtual = 1;
  if (!id_scan(s + c[1] + 1, c[2] - c[1] - 1, &l->uid) || !l->uid) { *why = "bad uid (0 is refused)"; return -1; }
  if (!id_scan(s + c[2] + 1, c[3] - c[2] - 1, &l->gid)) { *why = "bad gid"; return -1; }
  l->home = c[3] + 1;
  l->homelen = len - l->home;
  if (!l->homelen || s[l->home] != '/' || !field_ok(s + l->home, l->homelen, ' ')) {
    *why = "bad home (an absolute path)"; return -1;
  }
  return 1;
}

/* record: the cdb data for a parsed line of s. 1 ok, 0 no memory. */
static int record(const char *s, const struct pw_line *l, stralloc *data)
{
  char num[24];
  if (!stralloc_copyb(data, s + l->hash, l->hashlen) || !stralloc_0(data)) return 0;
  if (!l->virtual) return 1;
  snprintf(num, sizeof num, "%lu", l->uid);
  if (!stralloc_cats(data, num) || !stralloc_0(data)) return 0;
  snprintf(num, sizeof num, "%lu", l->gid);
  if (!stralloc_cats(data, num) || !stralloc_0(data)) return 0;
  return stralloc_catb(data, s + l->home, l->homelen) && stralloc_0(data);
}

/* The logins seen, for the duplicate check: offsets into one stralloc. */
struct seen { size_t off, len; unsigned long line; };
static const char *seen_base;

static int seen_cmp(const void *a, const void *b)
{
  const struct seen *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int r = memcmp(seen_base + x->off, seen_base + y->off, n);
  if (r) return r;
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

/* seen_add: append one entry, growing the array (overflow-checked). */
static int seen_add(struct seen **v, size_t *n, size_t *cap, struct seen e)
{
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    struct seen *nv;
    if (nc < *cap || nc > (size_t)-1 / sizeof **v) { errno = ENOMEM; return 0; }
    nv = realloc(*v, nc * sizeof **v);
    if (!nv) return 0;
    *v = nv; *cap = nc;
  }
  (*v)[(*n)++] = e;
  return 1;
}

/* duplicate: sort the logins; the later line of the first pair that is
 * equal, or 0. */
static unsigned long duplicate(struct seen *v, size_t n, const stralloc *keys)
{
  size_t i;
  unsigned long worst = 0;
  seen_base = keys->s;
  if (n < 2) return 0;
  qsort(v, n, sizeof *v, seen_cmp);
  for (i = 1; i < n; ++i)
    if (v[i].len == v[i - 1].len && !memcmp(keys->s + v[i].off, keys->s + v[i - 1].off, v[i].len))
      if (!worst || v[i].line < worst) worst = v[i].line;
  return worst;
}

/* make_free: libowfat's cdb_make never frees its hash lists. */
static void make_free(void)
{
  while (cm.head) { struct cdb_hplist *n = cm.head->next; free(cm.head); cm.head = n; }
  free(cm.split);
  cm.split = 0;
}

int pw_compile(const char *buf, size_t len, int out, unsigned long *line, const char **why)
{
  stralloc keys = {0}, data = {0};
  struct seen *v = 0;
  size_t n = 0, cap = 0, pos = 0;
  struct pw_line l;
  int r = -1;
  *line = 0;
  if (cdb_make_start(&cm, out) == -1) return -1;
  while (pos < len) {
    const char *nl = memchr(buf + pos, '\n', len - pos);
    size_t ll = nl ? (size_t)(nl - buf) - pos : len - pos;
    const char *s = buf + pos, *key;
    ++*line;
    pos += ll + 1;
    r = pw_parse_line(s, ll, &l, why);
    if (r == 0) continue;
    if (r == -1) { r = 0; goto done; }
    r = -1;
    if (!stralloc_catb(&keys, s, l.loginlen) || !record(s, &l, &data)) { errno = ENOMEM; goto done; }
    pw_lower(keys.s + keys.len - l.loginlen, l.loginlen);
    key = keys.s + keys.len - l.loginlen;
    if (!seen_add(&v, &n, &cap, (struct seen){ keys.len - l.loginlen, l.loginlen, *line })) goto done;
    if (cdb_make_add(&cm, (const unsigned char *)key, l.loginlen,
                     (const unsigned char *)data.s, data.len) == -1) goto done;
  }
  if ((*line = duplicate(v, n, &keys))) { *why = "login given twice"; r = 0; goto done; }
  r = cdb_make_finish(&cm) == -1 ? -1 : 1;
done:
  make_free();
  free(v);
  stralloc_free(&keys); stralloc_free(&data);
  return r;
}

/* split: the data's NUL-terminated fields into u. 1 ok, 0 malformed. */
static int split(const stralloc *sa, struct pw_user *u)
{
  const char *f[4];
  size_t i, n = 0, start = 0;
  for (i = 0; i < sa->len; ++i)
    if (!sa->s[i]) { if (n == 4) return 0; f[n++] = sa->s + start; start = i + 1; }
  if (start != sa->len || (n != 1 && n != 4) || !*f[0]) return 0;
  memset(u, 0, sizeof *u);
  u->hash = f[0];
  if (n == 1) return 1;
  u->virtual = 1;
  if (!id_scan(f[1], strlen(f[1]), &u->uid) || !u->uid) return 0;
  if (!id_scan(f[2], strlen(f[2]), &u->gid)) return 0;
  u->home = f[3];
  return *u->home == '/';
}

int pw_lookup(int fd, const char *login, size_t len, stralloc *out, struct pw_user *u)
{
  char key[PW_LOGIN_MAX];
  struct cdb c;
  uint32 dl;
  int r;
  if (!pw_login_ok(login, len)) return 0;
  memcpy(key, login, len);
  pw_lower(key, len);
  memset(&c, 0, sizeof c);   /* cdb_init begins with cdb_free(&c) */
  cdb_init(&c, fd);
  r = cdb_find(&c, (const unsigned char *)key, len);
  if (r == 1) {
    dl = cdb_datalen(&c);
    if (dl > PW_LINE_MAX + 64) { errno = EINVAL; r = -1; }
    else if (!stralloc_ready(out, dl ? dl : 1)) { errno = ENOMEM; r = -1; }
    else if (cdb_read(&c, (unsigned char *)out->s, dl, cdb_datapos(&c)) == -1) r = -1;
    else { out->len = dl; if (!split(out, u)) { errno = EINVAL; r = -1; } }
  }
  cdb_free(&c);
  return r;
}

int pw_request(const char *buf, size_t len, const char **login, size_t *loginlen,
               const char **pass, size_t *passlen)
{
  const char *z1 = memchr(buf, '\0', len), *z2;
  if (!z1) return 0;
  z2 = memchr(z1 + 1, '\0', len - (size_t)(z1 + 1 - buf));
  if (!z2) return 0;
  *login = buf; *loginlen = (size_t)(z1 - buf);
  *pass = z1 + 1; *passlen = (size_t)(z2 - z1 - 1);
  return 1;
}

int pw_eq(const char *a, size_t alen, const char *b, size_t blen)
{
  volatile unsigned char d = alen != blen;
  size_t i;
  if (!blen) return 0;
  for (i = 0; i < alen; ++i) d |= (unsigned char)(a[i] ^ b[i % blen]);
  return d == 0;
}
