/* users.c: users/assign compiler, users/cdb lookup and the password-file
 * rule of qmail-getpw (contracts in users.h; qmail-users(5)).
 * The assign syntax, one record per line, ended by a line ".":
 *   =local:user:uid:gid:home:dash:ext:     exact address
 *   +prefix:user:uid:gid:home:dash:pre:    every address starting with prefix
 * uid and gid are decimal; no field may contain ':' or NUL; the line has
 * exactly seven ':'-terminated fields after the type byte. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cdb.h"
#include "cdb_make.h"
#include "qconf.h"
#include "q_home.h"
#include "users.h"

static struct cdb_make cm;  /* ~12 KB: static, never on the stack */

static int is_decimal(const char *s, size_t len)
{
  size_t i;
  if (!len || len > 10) return 0;
  for (i = 0; i < len; ++i) if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

static void lower(char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; ++i) if (s[i] >= 'A' && s[i] <= 'Z') s[i] += 32;
}

/* parse_line: one record line (no newline) into key and data.
 * 1 ok, 0 bad syntax, -1 no memory. */
static int parse_line(const char *s, size_t len, stralloc *key, stralloc *data)
{
  size_t f[8], n = 0, i, start = 1;
  if (len < 2 || (s[0] != '=' && s[0] != '+') || memchr(s, '\0', len)) return 0;
  for (i = 1; i < len; ++i)
    if (s[i] == ':') { if (n == 7) return 0; f[n++] = i; }
  if (n != 7 || f[6] != len - 1) return 0;
  if (!is_decimal(s + f[1] + 1, f[2] - f[1] - 1) || !is_decimal(s + f[2] + 1, f[3] - f[2] - 1)) return 0;
  if (f[0] == 1 && s[0] == '=') return 0;       /* empty exact address */
  if (f[1] == f[0] + 1 || f[4] == f[3] + 1) return 0;  /* empty user or home */
  if (!stralloc_copyb(key, s, 1) || !stralloc_catb(key, s + 1, f[0] - 1)) return -1;
  lower(key->s + 1, key->len - 1);
  if (!stralloc_copys(data, "")) return -1;
  for (n = 1; n < 7; ++n) {
    start = f[n - 1] + 1;
    if (!stralloc_catb(data, s + start, f[n] - start) || !stralloc_0(data)) return -1;
  }
  return 1;
}

/* make_free: libowfat's cdb_make never frees its hash lists. */
static void make_free(void)
{
  while (cm.head) { struct cdb_hplist *n = cm.head->next; free(cm.head); cm.head = n; }
  free(cm.split);
  cm.split = 0;
}

int users_compile(const char *buf, size_t len, int out, unsigned long *line)
{
  stralloc key = {0}, data = {0};
  size_t pos = 0;
  int r = -1;
  *line = 0;
  if (cdb_make_start(&cm, out) == -1) return -1;
  for (;;) {
    const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : 0;
    size_t l;
    ++*line;
    if (!nl) { r = 0; goto done; }             /* no final "." line */
    l = (size_t)(nl - buf) - pos;
    if (l == 1 && buf[pos] == '.') break;
    if (l > USERS_LINE_MAX) { r = 0; goto done; }
    r = parse_line(buf + pos, l, &key, &data);
    if (r != 1) { if (r == -1) errno = ENOMEM; goto done; }
    if (cdb_make_add(&cm, (const unsigned char *)key.s, key.len,
                     (const unsigned char *)data.s, data.len) == -1) { r = -1; goto done; }
    pos += l + 1;
  }
  r = cdb_make_finish(&cm) == -1 ? -1 : 1;
done:
  make_free();
  stralloc_free(&key); stralloc_free(&data);
  return r;
}

int users_fields(const stralloc *sa, const char *f[6])
{
  size_t i, n = 0, start = 0;
  for (i = 0; i < sa->len; ++i)
    if (!sa->s[i]) { if (n == 6) return 0; f[n++] = sa->s + start; start = i + 1; }
  return n == 6 && start == sa->len;
}

/* cdb_get: data for key into out. 1 found, 0 not, -1 error. */
static int cdb_get(struct cdb *c, const stralloc *key, stralloc *out)
{
  int r = cdb_find(c, (const unsigned char *)key->s, key->len);
  uint32 dl;
  if (r <= 0) return r;
  dl = cdb_datalen(c);
  if (dl > 65536) { errno = EINVAL; return -1; }
  if (!stralloc_ready(out, dl ? dl : 1)) { errno = ENOMEM; return -1; }
  if (cdb_read(c, (unsigned char *)out->s, dl, cdb_datapos(c)) == -1) return -1;
  out->len = dl;
  return 1;
}

/* wildcard: out holds a '+' answer for prefix length plen: ext = pre + rest. */
static int wildcard(stralloc *out, const char *rest, size_t restlen)
{
  const char *f[6];
  if (!users_fields(out, f)) { errno = EINVAL; return -1; }
  --out->len;                                   /* drop pre's NUL */
  if (!stralloc_catb(out, rest, restlen) || !stralloc_0(out)) { errno = ENOMEM; return -1; }
  return 1;
}

int users_cdb_lookup(int fd, const char *local, size_t len, stralloc *out)
{
  struct cdb c;
  stralloc key = {0};
  size_t plen;
  int r = -1;
  if (len > USERS_LOCAL_MAX) return 0;
  memset(&c, 0, sizeof c);   /* cdb_init begins with cdb_free(&c): no stray map */
  cdb_init(&c, fd);
  if (!stralloc_copys(&key, "=") || !stralloc_catb(&key, local, len)) { errno = ENOMEM; goto done; }
  lower(key.s + 1, len);
  r = cdb_get(&c, &key, out);
  if (r == 1) { const char *f[6]; if (!users_fields(out, f)) { errno = EINVAL; r = -1; } }
  if (r) goto done;
  key.s[0] = '+';
  for (plen = len + 1; plen-- > 0;) {
    key.len = 1 + plen;
    r = cdb_get(&c, &key, out);
    if (r == 1) r = wildcard(out, local + plen, len - plen);
    if (r) goto done;
  }
done:
  cdb_free(&c);
  stralloc_free(&key);
  return r;
}

/* answer: out = the 6 fields for pw with the given dash and ext. */
static int answer(stralloc *out, const struct passwd *pw, const char *home,
                  const char *dash, const char *ext, size_t extlen)
{
  char num[2][24];
  snprintf(num[0], sizeof num[0], "%lu", (unsigned long)pw->pw_uid);
  snprintf(num[1], sizeof num[1], "%lu", (unsigned long)pw->pw_gid);
  if (!stralloc_copys(out, pw->pw_name) || !stralloc_0(out) ||
      !stralloc_cats(out, num[0]) || !stralloc_0(out) ||
      !stralloc_cats(out, num[1]) || !stralloc_0(out) ||
      !stralloc_cats(out, home) || !stralloc_0(out) ||
      !stralloc_cats(out, dash) || !stralloc_0(out) ||
      !stralloc_catb(out, ext, extlen) || !stralloc_0(out)) return -1;
  return 1;
}

/* candidate: user name s[0..n): 1 usable (pw set), 0 not, -1 temporary. */
static int candidate(const char *s, size_t n, struct passwd **pw)
{
  char name[256];
  struct stat st;
  size_t i;
  if (!n || n >= sizeof name) return 0;
  for (i = 0; i < n; ++i)          /* passwd names: no upper case, no '/' */
    if ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '/' || s[i] == ':') return 0;
  memcpy(name, s, n); name[n] = 0;
  errno = 0;
  *pw = getpwnam(name);
  if (!*pw) return errno && errno != ENOENT && errno != ESRCH ? -1 : 0;
  if (!(*pw)->pw_uid || !(*pw)->pw_dir || (*pw)->pw_dir[0] != '/') return 0;
  if (stat((*pw)->pw_dir, &st) == -1) return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
  return st.st_uid == (*pw)->pw_uid;
}

int users_getpw(const char *local, size_t len, stralloc *out)
{
  struct passwd *pw;
  size_t i;
  int r;
  if (len > USERS_LOCAL_MAX || memchr(local, '\0', len)) return 0;
  for (i = len + 1; i-- > 0;) {
    if (i < len && local[i] != '-') continue;
    r = candidate(local, i, &pw);
    if (r == -1) return -1;
    if (r == 1)
      return answer(out, pw, pw->pw_dir, i < len ? "-" : "", local + (i < len ? i + 1 : len),
                    i < len ? len - i - 1 : 0) == 1 ? 1 : -1;
  }
  errno = 0;
  pw = getpwnam(QUSER_ALIAS);
  if (!pw) return errno && errno != ENOENT && errno != ESRCH ? -1 : 0;
  if (!pw->pw_uid) return 0;                     /* never deliver as root */
  /* the alias user's home is this qmail home's alias/, whatever passwd
   * says: one machine may hold several homes (and their tests) */
  {
    stralloc home = {0};
    int r;
    if (!home_path(&home, "alias")) return -1;
    r = answer(out, pw, home.s, "-", local, len);
    stralloc_free(&home);
    return r == 1 ? 1 : -1;
  }
}
