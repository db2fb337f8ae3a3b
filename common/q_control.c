/* q_control.c: reading control files (see q_control.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "q_control.h"
#include "q_home.h"

int control_path(stralloc *sa, const char *name)
{
  return stralloc_copys(sa, home_dir()) && stralloc_cats(sa, "/control/") &&
         stralloc_cats(sa, name) && stralloc_0(sa);
}

/* slurp: read all of fd into sa, at most CONTROL_MAX bytes. */
static int slurp(int fd, stralloc *sa)
{
  sa->len = 0;
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(sa, 8192)) { errno = ENOMEM; return -1; }
    r = read(fd, sa->s + sa->len, 8192);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) return 1;
    sa->len += (size_t)r;
    if (sa->len > CONTROL_MAX) { errno = EFBIG; return -1; }
  }
}

int control_readpath(stralloc *sa, const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC), r, e;
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  r = slurp(fd, sa);
  e = errno;
  close(fd);
  errno = e;
  return r;
}

static int (*source)(stralloc *sa, const char *name);

void control_source(int (*fn)(stralloc *sa, const char *name)) { source = fn; }

int control_readfile(stralloc *sa, const char *name)
{
  stralloc path = {0};
  int r;
  if (source && (r = source(sa, name)) != 2) return r;
  if (!control_path(&path, name)) { errno = ENOMEM; return -1; }
  r = control_readpath(sa, path.s);
  stralloc_free(&path);
  return r;
}

static void chomp_blanks(stralloc *sa)
{
  while (sa->len && (sa->s[sa->len - 1] == ' ' || sa->s[sa->len - 1] == '\t' ||
                     sa->s[sa->len - 1] == '\r'))
    --sa->len;
}

int control_readline(stralloc *sa, const char *name)
{
  size_t i;
  int r = control_readfile(sa, name);
  if (r <= 0) return r;
  for (i = 0; i < sa->len && sa->s[i] != '\n'; ++i) ;
  sa->len = i;
  chomp_blanks(sa);
  return 1;
}

int control_rldef(stralloc *sa, const char *name, const char *def)
{
  int r = control_readline(sa, name);
  if (r < 0) return -1;
  if (r == 0 || sa->len == 0)
    if (!stralloc_copys(sa, def)) { errno = ENOMEM; return -1; }
  if (!stralloc_0(sa)) { errno = ENOMEM; return -1; }
  --sa->len;
  return 1;
}

int control_scanulong(const char *s, size_t len, unsigned long *v)
{
  unsigned long x = 0;
  size_t i = 0, digits = 0;
  while (i < len && (s[i] == ' ' || s[i] == '\t')) ++i;
  for (; i < len && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
    unsigned long d = (unsigned long)(s[i] - '0');
    if (x > (~0UL - d) / 10) { errno = ERANGE; return -1; }
    x = x * 10 + d;
  }
  while (i < len && (s[i] == ' ' || s[i] == '\t')) ++i;
  if (!digits || i != len) { errno = EINVAL; return -1; }
  *v = x;
  return 1;
}

int control_readulong(unsigned long *v, const char *name)
{
  stralloc sa = {0};
  int r = control_readline(&sa, name), e;
  if (r > 0) r = control_scanulong(sa.s, sa.len, v);
  e = errno;
  stralloc_free(&sa);
  errno = e;
  return r;
}

int control_readnum(unsigned long *v, const char *name, unsigned long min)
{
  unsigned long x = 0;
  int r = control_readulong(&x, name);
  if (r <= 0) return r;
  if (x < min) { errno = EDOM; return -1; }
  *v = x;
  return 1;
}

const char *control_strerror(int e)
{
  switch (e) {
    case EINVAL: return "not a decimal number";
    case ERANGE: return "number too large";
    case EDOM: return "number too small";
    case EFBIG: return "file bigger than 16 MB";
    default: return strerror(e);
  }
}

/* keep_item: append line[0..len) to out as a list item unless it is blank or
 * a comment. */
static int keep_item(stralloc *out, const char *line, size_t len)
{
  while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
    --len;
  if (len == 0 || line[0] == '#') return 1;
  return stralloc_catb(out, line, len) && stralloc_append(out, "");
}

/* split_list: raw file text into NUL-terminated items. */
static int split_list(stralloc *sa, int r, stralloc *raw)
{
  size_t i, start = 0;
  if (r <= 0) { stralloc_free(raw); return r; }
  sa->len = 0;
  for (i = 0; i <= raw->len; ++i) {
    if (i < raw->len && raw->s[i] != '\n') continue;
    if (!keep_item(sa, raw->s + start, i - start)) { stralloc_free(raw); errno = ENOMEM; return -1; }
    start = i + 1;
  }
  stralloc_free(raw);
  return 1;
}

int control_readlist(stralloc *sa, const char *name)
{
  stralloc raw = {0};
  return split_list(sa, control_readfile(&raw, name), &raw);
}

int list_readpath(stralloc *sa, const char *path)
{
  stralloc raw = {0};
  return split_list(sa, control_readpath(&raw, path), &raw);
}

int control_me(stralloc *sa, const char *def)
{
  return control_rldef(sa, "me", def);
}
