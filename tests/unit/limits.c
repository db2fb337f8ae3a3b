/* tests/unit/limits.c: TAP tests for common/q_limits.c: the compiled
 * defaults and control-file names of every cap (DESIGN.md sec 6), the
 * override by a control file in a temporary $QMAILHOME, files that keep the
 * default (missing, garbage, zero, empty, overflow), the value being read
 * once per process, and out-of-range ids. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
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
  { LIM_SESSION, "timeoutsession", 3600 },
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

static void test_files(void)
{
  char buf[64];
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

  is_int(limit_get(LIM_SMTPLINE), 4096, "override by control file");
  is_int(limit_get(LIM_ADDR), 1000, "garbage keeps the default");
  is_int(limit_get(LIM_RCPTS), 1000, "zero keeps the default");
  is_int(limit_get(LIM_HEADER), 1024 * 1024, "missing file keeps the default");
  is_int(limit_get(LIM_HOPS), 50, "blanks around the number");
  is_int(limit_get(LIM_NETSTRING), 1024L * 1024 * 1024, "overflow keeps the default");
  is_int(limit_get(LIM_SESSION), 3600, "empty file keeps the default");
  is_int(limit_get(LIM_QMTPPKGS), 10000, "trailing garbage keeps the default");
  ok(limit_get(LIM_HEADERLINE) == ULONG_MAX, "ULONG_MAX accepted");
  is_int(limit_get(LIM_INJECTRCPTS), 1, "1 without newline");

  put("maxsmtpline", "100\n");
  put("maxaddress", "77\n");
  is_int(limit_get(LIM_SMTPLINE), 4096, "read once per process (override kept)");
  is_int(limit_get(LIM_ADDR), 1000, "read once per process (default kept)");
  is_int(limit_default(LIM_SMTPLINE), 2048, "default unchanged by the override");
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
  cleanup();
  return done_testing();
}
