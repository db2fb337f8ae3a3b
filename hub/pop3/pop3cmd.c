/* pop3cmd.c: POP3 command lines and unique ids (pop3cmd.h). */
#include <string.h>
#include <strings.h>
#include "pop3cmd.h"

static const struct { const char *name; enum pop3_verb verb; } verbs[] = {
  { "stat", POP3_STAT }, { "list", POP3_LIST }, { "retr", POP3_RETR },
  { "dele", POP3_DELE }, { "noop", POP3_NOOP }, { "rset", POP3_RSET },
  { "quit", POP3_QUIT }, { "top", POP3_TOP }, { "uidl", POP3_UIDL },
  { "last", POP3_LAST }, { "capa", POP3_CAPA }, { "user", POP3_AUTHSTATE },
  { "pass", POP3_AUTHSTATE }, { "apop", POP3_AUTHSTATE },
  { "auth", POP3_AUTHSTATE }, { "stls", POP3_AUTHSTATE },
};

static enum pop3_verb lookup(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < sizeof verbs / sizeof verbs[0]; ++i)
    if (strlen(verbs[i].name) == len && !strncasecmp(verbs[i].name, s, len)) return verbs[i].verb;
  return POP3_UNKNOWN;
}

/* word: the next space-separated word of s[*pos..len): 1 found. */
static int word(const char *s, size_t len, size_t *pos, const char **w, size_t *wl)
{
  size_t i = *pos, j;
  while (i < len && s[i] == ' ') ++i;
  if (i == len) { *pos = i; return 0; }
  for (j = i; j < len && s[j] != ' '; ++j) ;
  *w = s + i;
  *wl = j - i;
  *pos = j;
  return 1;
}

enum pop3_parse pop3_parse(const char *line, size_t len, struct pop3_cmd *c)
{
  size_t pos = 0, wl;
  const char *w;
  memset(c, 0, sizeof *c);
  if (memchr(line, 0, len)) return POP3_NUL;
  if (!word(line, len, &pos, &w, &wl)) return POP3_EMPTY;
  c->verb = lookup(w, wl);
  while (word(line, len, &pos, &w, &wl)) {
    if (c->nargs == POP3_MAXARGS) return POP3_TOOMANY;
    c->arg[c->nargs] = w;
    c->arglen[c->nargs++] = wl;
  }
  return POP3_OK;
}

int pop3_number(const char *s, size_t len, unsigned long long *v)
{
  unsigned long long n = 0;
  size_t i;
  if (!len) return 0;
  for (i = 0; i < len; ++i) {
    unsigned d = (unsigned char)s[i] - '0';
    if (d > 9) return 0;
    if (n > (~0ULL - d) / 10) return 0;
    n = n * 10 + d;
  }
  *v = n;
  return 1;
}

int pop3_msgnum(const char *s, size_t len, size_t count, size_t *i)
{
  unsigned long long n;
  size_t j;
  if (!len) return 0;
  for (j = 0; j < len; ++j)
    if ((unsigned)((unsigned char)s[j] - '0') > 9) return 0;
  if (!pop3_number(s, len, &n) || n == 0 || n > count) return -1;
  *i = (size_t)(n - 1);
  return 1;
}

/* fnv: FNV-1a over s[0..len) from basis h. */
static unsigned long long fnv(const char *s, size_t len, unsigned long long h)
{
  size_t i;
  for (i = 0; i < len; ++i) { h ^= (unsigned char)s[i]; h *= 0x100000001b3ULL; }
  return h;
}

static int cathex(stralloc *sa, unsigned long long h)
{
  char x[16];
  int i;
  for (i = 15; i >= 0; --i) { x[i] = "0123456789abcdef"[h & 15]; h >>= 4; }
  return stralloc_catb(sa, x, sizeof x);
}

int pop3_uid(stralloc *sa, const char *name)
{
  const char *colon = strchr(name, ':');
  size_t len = colon ? (size_t)(colon - name) : strlen(name), i;
  int plain = len >= 1 && len <= POP3_UIDMAX;
  for (i = 0; plain && i < len; ++i)
    if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e) plain = 0;
  if (plain) return stralloc_catb(sa, name, len);
  return stralloc_append(sa, "~") && cathex(sa, fnv(name, len, 0xcbf29ce484222325ULL))
         && cathex(sa, fnv(name, len, 0x84222325cbf29ce4ULL));
}
