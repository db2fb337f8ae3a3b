/* qmail-pw2u: turn a passwd file into users/assign lines
 * (qmail-users(5); the output format is users.h's).
 *   qmail-pw2u < passwd > HOME/users/assign
 * For each passwd line name:pw:uid:gid:gecos:home:shell it prints
 *   =name:name:uid:gid:home:::   and   +name-:name:uid:gid:home:-::
 * Skipped: uid 0, names with upper case, names in HOME/users/exclude, and,
 * when HOME/users/include exists, names not in it. HOME/users/mailnames
 * lines user:addr1:addr2... replace the address names of user;
 * HOME/users/subusers lines sub:user:pre: add =sub (ext pre) and +sub-
 * (ext pre-) for user's account; HOME/users/append is copied verbatim;
 * then the final ".". Output is written only when all input was good.
 * Caps: passwd lines USERS_LINE_MAX bytes, the input CONTROL_MAX bytes.
 * Exit: 0 done; 111 malformed passwd line (line number), unreadable file,
 * or subusers naming an unknown user. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "users.h"

struct pw { const char *f[7]; };

static stralloc in, out, incl, excl, mailnames, subusers, append, path;
static int haveinclude;

/* inlist: is name one of the NUL-terminated items of l? */
static int inlist(const stralloc *l, const char *name)
{
  size_t i = 0;
  while (i < l->len) {
    if (!strcmp(l->s + i, name)) return 1;
    i += strlen(l->s + i) + 1;
  }
  return 0;
}

/* line: l is name:rest; return rest if name matches. */
static const char *lookup(const stralloc *l, const char *name)
{
  size_t i = 0, n = strlen(name);
  while (i < l->len) {
    const char *s = l->s + i;
    if (!strncmp(s, name, n) && s[n] == ':') return s + n + 1;
    i += strlen(s) + 1;
  }
  return 0;
}

static void emit(char type, const char *addr, size_t alen, const struct pw *p,
                 const char *dash, const char *ext)
{
  if (!stralloc_catb(&out, &type, 1) || !stralloc_catb(&out, addr, alen) ||
      !stralloc_cats(&out, type == '+' ? "-:" : ":") || !stralloc_cats(&out, p->f[0]) ||
      !stralloc_cats(&out, ":") || !stralloc_cats(&out, p->f[2]) ||
      !stralloc_cats(&out, ":") || !stralloc_cats(&out, p->f[3]) ||
      !stralloc_cats(&out, ":") || !stralloc_cats(&out, p->f[5]) ||
      !stralloc_cats(&out, ":") || !stralloc_cats(&out, dash) ||
      !stralloc_cats(&out, ":") || !stralloc_cats(&out, ext) ||
      !stralloc_cats(&out, ":\n")) fatal_nomem();
}

static void user(const struct pw *p)
{
  const char *names = lookup(&mailnames, p->f[0]), *s;
  size_t n;
  if (!names) { emit('=', p->f[0], strlen(p->f[0]), p, "", ""); emit('+', p->f[0], strlen(p->f[0]), p, "-", ""); return; }
  for (s = names; *s; s += n + (s[n] == ':')) {
    n = strcspn(s, ":");
    if (!n) continue;
    emit('=', s, n, p, "", ""); emit('+', s, n, p, "-", "");
  }
}

static int split(char *s, struct pw *p)
{
  int n;
  for (n = 0; n < 7; ++n) {
    p->f[n] = s;
    s = strchr(s, ':');
    if (!s) return n == 6;
    *s++ = 0;
  }
  return 0;
}

static int numeric(const char *s)
{
  if (!*s || strlen(s) > 10) return 0;
  for (; *s; ++s) if (*s < '0' || *s > '9') return 0;
  return 1;
}

static int skip(const struct pw *p)
{
  const char *s;
  if (!strcmp(p->f[2], "0") || !*p->f[0] || !*p->f[5]) return 1;
  for (s = p->f[0]; *s; ++s) if (*s >= 'A' && *s <= 'Z') return 1;
  if (inlist(&excl, p->f[0])) return 1;
  return haveinclude && !inlist(&incl, p->f[0]);
}

/* subuser: sub:user:pre: lines, resolved against the passwd entries. */
static void subs(struct pw *all, size_t n)
{
  size_t i = 0, k;
  while (i < subusers.len) {
    char *s = subusers.s + i, *u, *pre, *e;
    i += strlen(s) + 1;
    if (!(u = strchr(s, ':')) || !(pre = strchr(u + 1, ':'))) fatal(111, "bad line in users/subusers: ", s);
    *u++ = 0; *pre++ = 0;
    if ((e = strchr(pre, ':'))) *e = 0;
    for (k = 0; k < n && strcmp(all[k].f[0], u); ++k) {}
    if (k == n) fatal(111, "unknown user in users/subusers: ", u);
    emit('=', s, strlen(s), &all[k], "-", pre);
    {
      stralloc p2 = {0};
      if (!stralloc_copys(&p2, pre) || !stralloc_cats(&p2, "-") || !stralloc_0(&p2)) fatal_nomem();
      emit('+', s, strlen(s), &all[k], "-", p2.s);
      stralloc_free(&p2);
    }
  }
}

static void readlist(stralloc *sa, const char *name, int *present)
{
  int r;
  if (!home_path(&path, name)) fatal_nomem();
  r = list_readpath(sa, path.s);
  if (r == -1) fatal_sys(111, "unable to read ", path.s);
  if (present) *present = r == 1;
}

int main(void)
{
  static struct pw all[65536];
  char buf[8192], num[24];
  size_t n = 0, pos = 0, line = 0, done = 0;
  ssize_t r;
  progname = "qmail-pw2u";
  readlist(&incl, "users/include", &haveinclude);
  readlist(&excl, "users/exclude", 0);
  readlist(&mailnames, "users/mailnames", 0);
  readlist(&subusers, "users/subusers", 0);
  if (!home_path(&path, "users/append")) fatal_nomem();
  if (list_readpath(&append, path.s) == -1) fatal_sys(111, "unable to read ", path.s);
  while ((r = read(0, buf, sizeof buf)) != 0) {
    if (r == -1) { if (errno == EINTR) continue; fatal_sys(111, "unable to read input"); }
    if (in.len + (size_t)r > CONTROL_MAX) fatal(111, "unable to read input: too big");
    if (!stralloc_catb(&in, buf, (size_t)r)) fatal_nomem();
  }
  if (in.len && in.s[in.len - 1] != '\n' && !stralloc_append(&in, "\n")) fatal_nomem();
  while (pos < in.len) {
    char *s = in.s + pos, *nl = memchr(s, '\n', in.len - pos);
    *nl = 0; pos += (size_t)(nl - s) + 1; ++line;
    snprintf(num, sizeof num, "%lu", (unsigned long)line);
    if (strlen(s) > USERS_LINE_MAX || !split(s, &all[n]) || !numeric(all[n].f[2]) || !numeric(all[n].f[3]))
      fatal(111, "bad passwd line ", num, " (#4.3.0)");
    if (skip(&all[n])) continue;
    user(&all[n]);
    if (++n == sizeof all / sizeof all[0]) fatal(111, "too many users (#4.3.0)");
  }
  subs(all, n);
  for (pos = 0; pos < append.len; pos += strlen(append.s + pos) + 1)
    if (!stralloc_cats(&out, append.s + pos) || !stralloc_cats(&out, "\n")) fatal_nomem();
  if (!stralloc_cats(&out, ".\n")) fatal_nomem();
  while (done < out.len) {
    r = write(1, out.s + done, out.len - done);
    if (r <= 0) fatal_sys(111, "unable to write output");
    done += (size_t)r;
  }
  return 0;
}
