/* tests/unit/limits.c: TAP tests for common/q_limits.c: the compiled
 * defaults and control-file names of every cap (docs/limits.md), the
 * override by a control file in a temporary $QMAILHOME, the missing file
 * that keeps the default, the unusable files that call the failure hook
 * with the file's name and a reason (garbage, zero, empty, overflow,
 * trailing junk, a directory) and never give the default, the value
 * being read once per process, out-of-range ids, and the default hook
 * (exit 111 and one alert line naming the file). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "q_err.h"
#include "q_limits.h"

static const struct { enum limit_id id; const char *name; unsigned long def; } rows[] = {
  { LIM_SMTPLINE, "maxsmtpline", 2048 },
  { LIM_ADDR, "maxaddress", 1000 },
  { LIM_RCPTS, "maxrcpt", 1000 },
  { LIM_HEADER, "maxheader", 1024UL * 1024 },
  { LIM_HEADERLINE, "maxheaderfield", 256UL * 1024 },
  { LIM_HOPS, "maxhops", 100 },
  { LIM_NETSTRING, "maxnetstring", 1024UL * 1024 * 1024 },
  { LIM_QMTPPKGS, "maxqmtppackages", 10000 },
  { LIM_SESSION, "timeoutsession", 1800 },
  { LIM_INJECTRCPTS, "maxinjectrcpt", 100000 },
};
#define NROWS (sizeof rows / sizeof rows[0])

static char home[] = "/tmp/qlimXXXXXX";
static char ctl[sizeof home + 16];

static void put(const char *name, const char *data)
{
  char p[256];
  int fd;
  size_t len = strlen(data);
  snprintf(p, sizeof p, "%s/%s", ctl, name);
  fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0) {
    perror("put");
    exit(2);
  }
}

static void test_table(void)
{
  size_t i, j;
  char n[100];
  is_int(NROWS, LIM_COUNT, "every cap is in the test table");
  for (i = 0; i < NROWS; ++i) {
    snprintf(n, sizeof n, "limit_name %s", rows[i].name);
    is_str(limit_name(rows[i].id), rows[i].name, n);
    snprintf(n, sizeof n, "limit_default %s", rows[i].name);
    is_int(limit_default(rows[i].id), rows[i].def, n);
  }
  for (i = 0; i < NROWS; ++i)
    for (j = i + 1; j < NROWS; ++j)
      if (strcmp(limit_name(rows[i].id), limit_name(rows[j].id)) == 0)
        ok(0, "limit names are distinct");
  is_str(limit_name(LIM_COUNT), "", "limit_name out of range");
  is_int(limit_default(LIM_COUNT), 0, "limit_default out of range");
  is_int(limit_get(LIM_COUNT), 0, "limit_get out of range");
}

static jmp_buf jb;
static char failname[64], failwhy[64];

static void hook(const char *name, const char *why) __attribute__((noreturn));
static void hook(const char *name, const char *why)
{
  snprintf(failname, sizeof failname, "%s", name);
  snprintf(failwhy, sizeof failwhy, "%s", why);
  longjmp(jb, 1);
}

/* bad: limit_get(id) must call the hook with the cap's name and why */
static void bad(enum limit_id id, const char *why, const char *what)
{
  char n[120];
  volatile unsigned long v = 12345;
  failname[0] = failwhy[0] = 0;
  if (!setjmp(jb)) v = limit_get(id);
  snprintf(n, sizeof n, "%s: the hook is called, no value", what);
  ok(v == 12345, n);
  snprintf(n, sizeof n, "%s: the hook gets the file name", what);
  is_str(failname, limit_name(id), n);
  snprintf(n, sizeof n, "%s: the hook gets the reason", what);
  is_str(failwhy, why, n);
}

static void test_files(void)
{
  char buf[64], p[256];
  unsigned long v;
  put("maxsmtpline", "4096\n");
  put("maxaddress", "garbage\n");
  put("maxrcpt", "0\n");
  /* maxheader: no file */
  put("maxhops", "  50 \t\r\n");
  put("maxnetstring", "99999999999999999999999\n");
  put("timeoutsession", "");
  put("maxqmtppackages", "12x\n");
  snprintf(buf, sizeof buf, "%lu\n", ULONG_MAX);
  put("maxheaderfield", buf);
  put("maxinjectrcpt", "1");

  limit_onfail(hook);
  is_int(limit_get(LIM_SMTPLINE), 4096, "override by control file");
  bad(LIM_ADDR, "not a decimal number", "garbage");
  bad(LIM_RCPTS, "number too small", "zero");
  is_int(limit_get(LIM_HEADER), 1024 * 1024, "missing file keeps the default");
  is_int(limit_get(LIM_HOPS), 50, "blanks around the number");
  bad(LIM_NETSTRING, "number too large", "overflow");
  bad(LIM_SESSION, "not a decimal number", "empty file");
  bad(LIM_QMTPPKGS, "not a decimal number", "trailing garbage");
  ok(limit_get(LIM_HEADERLINE) == ULONG_MAX, "ULONG_MAX accepted");
  is_int(limit_get(LIM_INJECTRCPTS), 1, "1 without newline");
  is_int(limit_read(LIM_RCPTS, &v), -1, "limit_read: zero -> -1");
  is_int(errno, EDOM, "limit_read: zero -> EDOM");
  is_int(limit_read(LIM_COUNT, &v), -1, "limit_read out of range -> -1");

  put("maxsmtpline", "100\n");
  put("maxaddress", "77\n");
  is_int(limit_get(LIM_SMTPLINE), 4096, "read once per process (override kept)");
  is_int(limit_get(LIM_ADDR), 77, "a file fixed after a failure is read");
  is_int(limit_get(LIM_HEADER), 1024 * 1024, "read once per process (default kept)");
  put("maxheader", "5\n");
  is_int(limit_get(LIM_HEADER), 1024 * 1024, "a file made later is not read");
  is_int(limit_default(LIM_SMTPLINE), 2048, "default unchanged by the override");

  snprintf(p, sizeof p, "%s/maxhops", ctl);
  unlink(p);
  if (mkdir(p, 0755) < 0) { perror("mkdir"); exit(2); }
  is_int(limit_read(LIM_HOPS, &v), -1, "a directory -> -1");
  is_int(errno, EISDIR, "a directory -> EISDIR");
  rmdir(p);
}

/* test_default_hook: in a child, the default hook exits 111 with one
 * alert line naming the file on fd 2 */
static void test_default_hook(void)
{
  int fds[2], st = 0;
  char out[256];
  ssize_t n;
  pid_t pid;
  put("maxrcpt", "12x\n");
  if (pipe(fds) < 0) { perror("pipe"); exit(2); }
  pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    progname = "limtest";
    limit_onfail(0);
    limit_get(LIM_RCPTS);
    _exit(0);
  }
  close(fds[1]);
  n = read(fds[0], out, sizeof out - 1);
  out[n > 0 ? n : 0] = 0;
  close(fds[0]);
  waitpid(pid, &st, 0);
  ok(WIFEXITED(st) && WEXITSTATUS(st) == 111, "default hook: exit 111");
  is_str(out, "limtest: alert: cannot use control/maxrcpt: not a decimal number\n",
         "default hook: one alert line naming the file");
}

static void cleanup(void)
{
  size_t i;
  char p[256];
  for (i = 0; i < NROWS; ++i) {
    snprintf(p, sizeof p, "%s/%s", ctl, rows[i].name);
    unlink(p);
  }
  rmdir(ctl);
  rmdir(home);
}

int main(void)
{
  if (!mkdtemp(home)) { perror("mkdtemp"); return 2; }
  snprintf(ctl, sizeof ctl, "%s/control", home);
  if (mkdir(ctl, 0755) < 0 || setenv("QMAILHOME", home, 1) < 0) { perror("setup"); return 2; }
  test_table();
  test_files();
  test_default_hook();
  cleanup();
  return done_testing();
}
