/* tests/unit/control.c: TAP tests for common/q_control.c over a temporary
 * home ($QMAILHOME = a mkdtemp directory): control_readline (first line,
 * trailing blanks and CR stripped, missing, empty), control_rldef,
 * control_readulong (ok, garbage, overflow ERANGE, blanks, ULONG_MAX),
 * control_readnum (a minimum: EDOM below it), control_scanulong (the
 * same syntax for a string), control_strerror (the reasons logged),
 * control_readlist and list_readpath (comments, blank lines, trailing
 * spaces, CRLF, no final newline), the CONTROL_MAX cap (sparse files made
 * with ftruncate: exactly the cap is read, one byte more is EFBIG), a
 * directory in place of a file, and an unreadable file (checked as an
 * ordinary user: as nobody when the test runs as root, asnobody.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "asnobody.h"
#include "stralloc.h"
#include "q_control.h"

static char home[] = "/tmp/qctlXXXXXX";
static char ctl[sizeof home + 16];

static void path_of(char *buf, size_t n, const char *name)
{
  snprintf(buf, n, "%s/%s", ctl, name);
}

static void put(const char *name, const char *data, size_t len)
{
  char p[256];
  int fd;
  path_of(p, sizeof p, name);
  fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0) {
    perror("put");
    exit(2);
  }
}

static void puts_(const char *name, const char *data) { put(name, data, strlen(data)); }

/* sparse: a file of size bytes of NULs (one 'x' first) without writing them */
static void sparse(const char *name, off_t size)
{
  char p[256];
  int fd;
  path_of(p, sizeof p, name);
  fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, "x", 1) != 1 || ftruncate(fd, size) < 0 || close(fd) < 0) {
    perror("sparse");
    exit(2);
  }
}

static void test_path(void)
{
  stralloc sa = {0};
  char exp[256];
  snprintf(exp, sizeof exp, "%s/control/me", home);
  is_int(control_path(&sa, "me"), 1, "control_path returns 1");
  ok(sa.len == strlen(exp) + 1 && sa.s[sa.len - 1] == 0, "control_path NUL-terminated");
  is_str(sa.s, exp, "control_path is home/control/name");
  stralloc_free(&sa);
}

static void test_readline(void)
{
  stralloc sa = {0};
  puts_("one", "first line\nsecond line\n");
  is_int(control_readline(&sa, "one"), 1, "readline present");
  is_sa(sa, "first line", "readline first line only");
  puts_("blanks", "value \t \r\nnext\n");
  is_int(control_readline(&sa, "blanks"), 1, "readline trailing blanks");
  is_sa(sa, "value", "readline strips trailing spaces, tabs, CR");
  puts_("lead", "  lead\n");
  control_readline(&sa, "lead");
  is_sa(sa, "  lead", "readline keeps leading blanks");
  puts_("nonl", "no newline");
  is_int(control_readline(&sa, "nonl"), 1, "readline without final newline");
  is_sa(sa, "no newline", "readline without final newline: value");
  stralloc_copys(&sa, "stale");
  is_int(control_readline(&sa, "missing"), 0, "readline missing file -> 0");
  puts_("empty", "");
  is_int(control_readline(&sa, "empty"), 1, "readline empty file -> 1");
  is_int(sa.len, 0, "readline empty file: len 0");
  puts_("emptyline", "\nsecond\n");
  is_int(control_readline(&sa, "emptyline"), 1, "readline empty first line -> 1");
  is_int(sa.len, 0, "readline empty first line: len 0");
  puts_("onlyblank", " \t\r\n");
  is_int(control_readline(&sa, "onlyblank"), 1, "readline blank first line -> 1");
  is_int(sa.len, 0, "readline blank first line: len 0");
  put("nul", "a\0b\n", 4);
  control_readline(&sa, "nul");
  ok(sa.len == 3 && memcmp(sa.s, "a\0b", 3) == 0, "readline keeps a NUL byte");
  stralloc_free(&sa);
}

static void test_rldef(void)
{
  stralloc sa = {0};
  is_int(control_rldef(&sa, "missing", "dflt"), 1, "rldef missing -> 1");
  is_sa(sa, "dflt", "rldef missing -> default");
  ok(sa.s[sa.len] == 0, "rldef missing: NUL-terminated");
  is_int(control_rldef(&sa, "empty", "dflt"), 1, "rldef empty -> 1");
  is_sa(sa, "dflt", "rldef empty file -> default");
  control_rldef(&sa, "emptyline", "dflt");
  is_sa(sa, "dflt", "rldef empty first line -> default");
  is_int(control_rldef(&sa, "blanks", "dflt"), 1, "rldef present -> 1");
  is_sa(sa, "value", "rldef present -> value");
  ok(sa.s[sa.len] == 0, "rldef present: NUL-terminated");
  control_rldef(&sa, "missing", "");
  is_sa(sa, "", "rldef empty default");
  stralloc_free(&sa);
}

static void readulong(const char *content, int exp_r, unsigned long exp_v, int exp_errno,
                      const char *name)
{
  unsigned long v = 12345;
  int r;
  char n[200];
  puts_("num", content);
  errno = 0;
  r = control_readulong(&v, "num");
  snprintf(n, sizeof n, "%s: return", name);
  is_int(r, exp_r, n);
  snprintf(n, sizeof n, "%s: value", name);
  is_int((long long)v, (long long)exp_v, n);
  if (exp_r < 0) {
    snprintf(n, sizeof n, "%s: errno", name);
    is_int(errno, exp_errno, n);
  }
}

static void test_readulong(void)
{
  unsigned long v = 777;
  char buf[64];
  is_int(control_readulong(&v, "missing"), 0, "readulong missing -> 0");
  is_int(v, 777, "readulong missing: value unchanged");
  readulong("42\n", 1, 42, 0, "readulong 42");
  readulong("0\n", 1, 0, 0, "readulong 0");
  readulong("  42 \t\r\n", 1, 42, 0, "readulong blanks around");
  readulong("\t7", 1, 7, 0, "readulong tab, no newline");
  readulong("42\ngarbage\n", 1, 42, 0, "readulong only first line counts");
  readulong("4x2\n", -1, 12345, EINVAL, "readulong garbage");
  readulong("4 2\n", -1, 12345, EINVAL, "readulong inner space");
  readulong("-1\n", -1, 12345, EINVAL, "readulong negative");
  readulong("+1\n", -1, 12345, EINVAL, "readulong plus sign");
  readulong("0x10\n", -1, 12345, EINVAL, "readulong hex");
  readulong("", -1, 12345, EINVAL, "readulong empty file");
  readulong("   \n", -1, 12345, EINVAL, "readulong blanks only");
  snprintf(buf, sizeof buf, "%lu\n", ULONG_MAX);
  readulong(buf, 1, ULONG_MAX, 0, "readulong ULONG_MAX");
  readulong("18446744073709551616\n", -1, 12345, ERANGE, "readulong ULONG_MAX+1 overflow");
  readulong("99999999999999999999999\n", -1, 12345, ERANGE, "readulong long overflow");
  readulong("99999999999999999999999x\n", -1, 12345, ERANGE, "readulong overflow before junk");
  readulong("12x\n", -1, 12345, EINVAL, "readulong trailing junk");
  readulong("\n5\n", -1, 12345, EINVAL, "readulong empty first line");
}

static void test_readnum(void)
{
  unsigned long v = 9;
  is_int(control_readnum(&v, "missing", 1), 0, "readnum missing -> 0");
  is_int(v, 9, "readnum missing: value unchanged");
  puts_("num", "0\n");
  errno = 0;
  is_int(control_readnum(&v, "num", 1), -1, "readnum below the minimum -> -1");
  is_int(errno, EDOM, "readnum below the minimum -> EDOM");
  is_int(v, 9, "readnum below the minimum: value unchanged");
  is_int(control_readnum(&v, "num", 0), 1, "readnum 0 with minimum 0 -> 1");
  is_int(v, 0, "readnum 0 with minimum 0: value");
  puts_("num", "7\n");
  is_int(control_readnum(&v, "num", 7), 1, "readnum at the minimum -> 1");
  is_int(v, 7, "readnum at the minimum: value");
  puts_("num", "junk\n");
  errno = 0;
  is_int(control_readnum(&v, "num", 0), -1, "readnum junk -> -1");
  is_int(errno, EINVAL, "readnum junk -> EINVAL");
}

static void test_scan(void)
{
  unsigned long v = 3;
  is_int(control_scanulong("42", 2, &v), 1, "scanulong 42");
  is_int(v, 42, "scanulong 42: value");
  is_int(control_scanulong(" 8 ", 3, &v), 1, "scanulong blanks around");
  is_int(v, 8, "scanulong blanks around: value");
  errno = 0;
  is_int(control_scanulong("", 0, &v), -1, "scanulong empty -> -1");
  is_int(errno, EINVAL, "scanulong empty -> EINVAL");
  errno = 0;
  is_int(control_scanulong("5k", 2, &v), -1, "scanulong 5k -> -1");
  is_int(errno, EINVAL, "scanulong 5k -> EINVAL");
  is_int(control_scanulong("42", 1, &v), 1, "scanulong stops at len");
  is_int(v, 4, "scanulong stops at len: value");
  is_str(control_strerror(EINVAL), "not a decimal number", "strerror EINVAL");
  is_str(control_strerror(ERANGE), "number too large", "strerror ERANGE");
  is_str(control_strerror(EDOM), "number too small", "strerror EDOM");
  is_str(control_strerror(EFBIG), "file bigger than 16 MB", "strerror EFBIG");
  is_str(control_strerror(EISDIR), strerror(EISDIR), "strerror EISDIR: the system's text");
}

/* items: the NUL-terminated items of sa joined with '|' */
static const char *items(const stralloc *sa)
{
  static char out[512];
  size_t i, o = 0;
  for (i = 0; i < sa->len && o + 1 < sizeof out; ++i)
    out[o++] = sa->s[i] ? sa->s[i] : '|';
  out[o] = 0;
  return out;
}

static void test_readlist(void)
{
  stralloc sa = {0};
  char p[256];
  puts_("list", "# comment\nalpha\n\n  \nbeta  \t\ngamma\r\n#another\ndelta");
  is_int(control_readlist(&sa, "list"), 1, "readlist present");
  is_str(items(&sa), "alpha|beta|gamma|delta|", "readlist items, no comments/blanks");
  ok(sa.len && sa.s[sa.len - 1] == 0, "readlist last item NUL-terminated");
  puts_("list2", "one\ntwo\n");
  control_readlist(&sa, "list2");
  is_str(items(&sa), "one|two|", "readlist replaces previous content");
  puts_("listempty", "");
  stralloc_copys(&sa, "stale");
  is_int(control_readlist(&sa, "listempty"), 1, "readlist empty file -> 1");
  is_int(sa.len, 0, "readlist empty file: no items");
  puts_("listcomments", "#a\n# b\n\n");
  control_readlist(&sa, "listcomments");
  is_int(sa.len, 0, "readlist only comments: no items");
  is_int(control_readlist(&sa, "missing"), 0, "readlist missing -> 0");

  path_of(p, sizeof p, "list");
  is_int(list_readpath(&sa, p), 1, "list_readpath present");
  is_str(items(&sa), "alpha|beta|gamma|delta|", "list_readpath items");
  path_of(p, sizeof p, "nosuchfile");
  is_int(list_readpath(&sa, p), 0, "list_readpath missing -> 0");
  is_int(list_readpath(&sa, "/nonexistent-dir/x"), 0, "list_readpath missing dir -> 0");
  stralloc_free(&sa);
}

/* unreadable: run as an ordinary user (asnobody.h; root reads mode 000
 * files): the mode 000 "secret" fails with EACCES, while "one" beside it
 * is read, so the failure is the file's mode and not the path */
static void unreadable(void)
{
  stralloc sa = {0};
  unsigned long v = 5;
  is_int(control_readline(&sa, "one"), 1, "as an ordinary user: a readable file beside it is read");
  errno = 0;
  is_int(control_readline(&sa, "secret"), -1, "unreadable -> -1");
  is_int(errno, EACCES, "unreadable -> EACCES");
  errno = 0;
  is_int(control_readulong(&v, "secret"), -1, "readulong unreadable -> -1");
  is_int(errno, EACCES, "readulong unreadable -> EACCES");
  stralloc_free(&sa);
}

static void test_limits(void)
{
  stralloc sa = {0};
  char p[256];
  sparse("atcap", (off_t)CONTROL_MAX);
  is_int(control_readfile(&sa, "atcap"), 1, "file of exactly CONTROL_MAX bytes is read");
  is_int(sa.len, CONTROL_MAX, "file of exactly CONTROL_MAX bytes: length");
  sparse("big", (off_t)CONTROL_MAX + 1);
  errno = 0;
  is_int(control_readfile(&sa, "big"), -1, "file over CONTROL_MAX -> -1");
  is_int(errno, EFBIG, "file over CONTROL_MAX -> EFBIG");
  errno = 0;
  is_int(control_readline(&sa, "big"), -1, "readline over CONTROL_MAX -> -1");
  is_int(errno, EFBIG, "readline over CONTROL_MAX -> EFBIG");
  errno = 0;
  is_int(control_readlist(&sa, "big"), -1, "readlist over CONTROL_MAX -> -1");
  is_int(errno, EFBIG, "readlist over CONTROL_MAX -> EFBIG");

  path_of(p, sizeof p, "adir");
  mkdir(p, 0755);
  errno = 0;
  is_int(control_readline(&sa, "adir"), -1, "a directory -> -1");
  is_int(errno, EISDIR, "a directory -> EISDIR");

  puts_("secret", "hidden\n");
  path_of(p, sizeof p, "secret");
  chmod(p, 0);
  tap_as_nobody(unreadable, 5);
  stralloc_free(&sa);
}

static void cleanup(void)
{
  static const char *names[] = { "one", "blanks", "lead", "nonl", "empty", "emptyline",
    "onlyblank", "nul", "num", "list", "list2", "listempty", "listcomments", "atcap",
    "big", "secret", 0 };
  char p[256];
  int i;
  for (i = 0; names[i]; ++i) { path_of(p, sizeof p, names[i]); unlink(p); }
  path_of(p, sizeof p, "adir");
  rmdir(p);
  rmdir(ctl);
  rmdir(home);
}

int main(void)
{
  if (!mkdtemp(home) || chmod(home, 0755) < 0) { perror("mkdtemp"); return 2; }
  snprintf(ctl, sizeof ctl, "%s/control", home);
  if (mkdir(ctl, 0755) < 0 || chmod(ctl, 0755) < 0 || setenv("QMAILHOME", home, 1) < 0) { perror("setup"); return 2; }
  test_path();
  test_readline();
  test_rldef();
  test_readulong();
  test_readnum();
  test_scan();
  test_readlist();
  test_limits();
  cleanup();
  return done_testing();
}
