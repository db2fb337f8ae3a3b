/* tests/unit/users.c: TAP tests for hub/local/users.c: users/assign parsing
 * (good file, each kind of bad line with its line number, missing "."),
 * cdb lookups (exact before wildcard, longest prefix, empty prefix, case,
 * first line wins, not found), users_fields, users_getpw's alias
 * fallback shape, and a lookup that must not unmap what it did not map. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tap.h"
#include "users.h"

static char path[] = "/tmp/users-unit-XXXXXX";

static int compile(const char *text, unsigned long *line)
{
  int fd = mkstemp(path), r;
  if (fd == -1) return -1;
  r = users_compile(text, strlen(text), fd, line);
  close(fd);
  return r;
}

static int lookup(const char *local, stralloc *out)
{
  int fd = open(path, O_RDONLY), r;
  if (fd == -1) return -1;
  r = users_cdb_lookup(fd, local, strlen(local), out);
  close(fd);
  return r;
}

/* joined: the 6 fields with ',' for NUL, into a static buffer. */
static const char *joined(const stralloc *sa)
{
  static char b[512];
  size_t i, n = sa->len < sizeof b - 1 ? sa->len : sizeof b - 1;
  for (i = 0; i < n; ++i) b[i] = sa->s[i] ? sa->s[i] : ',';
  b[n] = 0;
  return b;
}

static void test_good(void)
{
  stralloc out = {0};
  unsigned long line;
  const char *f[6];
  const char *text =
    "=joe:joe:1001:100:/home/joe:::\n"
    "=Mixed:mx:1:2:/h/mx:-:e:\n"
    "+joe-:joe:1001:100:/home/joe:-::\n"
    "+joe-list-:lst:1002:100:/home/lst:-:l-:\n"
    "+:alias:7790:2108:/var/qmail/alias:-::\n"
    "=joe:second:9:9:/x:::\n"
    ".\n";
  is_int(compile(text, &line), 1, "good file compiles");
  is_int(lookup("joe", &out), 1, "exact found");
  is_str(joined(&out), "joe,1001,100,/home/joe,,,", "exact answer (first line wins)");
  ok(users_fields(&out, f) && !strcmp(f[3], "/home/joe") && !strcmp(f[5], ""), "fields split");
  is_int(lookup("JOE", &out), 1, "case-insensitive");
  is_int(lookup("mixed", &out), 1, "upper-case key lowercased");
  is_str(joined(&out), "mx,1,2,/h/mx,-,e,", "mixed answer");
  is_int(lookup("joe-foo", &out), 1, "wildcard found");
  is_str(joined(&out), "joe,1001,100,/home/joe,-,foo,", "wildcard ext = pre + rest");
  is_int(lookup("joe-list-x-y", &out), 1, "longest prefix");
  is_str(joined(&out), "lst,1002,100,/home/lst,-,l-x-y,", "longest prefix answer");
  is_int(lookup("nobody-here", &out), 1, "empty prefix catches all");
  is_str(joined(&out), "alias,7790,2108,/var/qmail/alias,-,nobody-here,", "catch-all ext = local");
  unlink(path);
  strcpy(path, "/tmp/users-unit-XXXXXX");
  is_int(compile("=a:a:1:1:/a:::\n.\n", &line), 1, "small file");
  is_int(lookup("b", &out), 0, "not found");
  is_int(lookup("a-b", &out), 0, "exact does not match longer");
  is_int(lookup("", &out), 0, "empty local not found");
  unlink(path);
  strcpy(path, "/tmp/users-unit-XXXXXX");
  stralloc_free(&out);
}

static void bad(const char *text, unsigned long want, const char *name)
{
  unsigned long line = 0;
  int r = compile(text, &line);
  ok(r == 0 && line == want, name);
  if (r != 0 || line != want) printf("#   r=%d line=%lu\n", r, line);
  unlink(path);
  strcpy(path, "/tmp/users-unit-XXXXXX");
}

static void test_bad(void)
{
  bad("=a:a:1:1:/a:::\n", 2, "missing . line");
  bad("", 1, "empty file");
  bad("=a:a:1:1:/a:::\n.", 2, ". without newline");
  bad("=a:a:1:1:/a:::\nxa:a:1:1:/a:::\n.\n", 2, "bad type byte");
  bad("=a:a:1:1:/a::\n.\n", 1, "six fields");
  bad("=a:a:1:1:/a::::\n.\n", 1, "eight fields");
  bad("=a:a:1:1:/a:::junk\n.\n", 1, "trailing junk");
  bad("=a:a:x:1:/a:::\n.\n", 1, "uid not a number");
  bad("=a:a:1::/a:::\n.\n", 1, "empty gid");
  bad("=:a:1:1:/a:::\n.\n", 1, "empty exact address");
  bad("=a::1:1:/a:::\n.\n", 1, "empty user");
  bad("=a:a:1:1::::\n.\n", 1, "empty home");
  bad("\n.\n", 1, "empty line");
  bad("=a:a:1:1:/a:::\n\n.\n", 2, "empty line 2");
  bad("=a:a:99999999999:1:/a:::\n.\n", 1, "uid too long");
}

static void test_fields(void)
{
  stralloc sa = {0};
  const char *f[6];
  stralloc_copyb(&sa, "a\0b\0c\0d\0e\0f\0", 12);
  ok(users_fields(&sa, f) && !strcmp(f[5], "f"), "6 fields");
  sa.len = 11;
  ok(!users_fields(&sa, f), "unterminated");
  stralloc_copyb(&sa, "a\0b\0c\0d\0e\0f\0g\0", 14);
  ok(!users_fields(&sa, f), "7 fields");
  stralloc_free(&sa);
}

static void test_getpw(void)
{
  stralloc out = {0};
  const char *f[6];
  int r = users_getpw("no-such-user-xyzzy", 18, &out);
  ok(r == 0 || (r == 1 && users_fields(&out, f) && !strcmp(f[0], "alias") &&
                !strcmp(f[4], "-") && !strcmp(f[5], "no-such-user-xyzzy")),
     "unknown user: alias with ext = local, or none");
  r = users_getpw("root", 4, &out);
  ok(r == 0 || (r == 1 && users_fields(&out, f) && strcmp(f[1], "0") && !strcmp(f[5], "root")),
     "root is never chosen");
  stralloc_free(&out);
}

/* spray: fill a large stack area with v, where the next call's locals go. */
static uintptr_t __attribute__((noinline)) spray(uintptr_t v)
{
  volatile uintptr_t a[4096];
  size_t i;
  for (i = 0; i < 4096; ++i) a[i] = v;
  return a[v % 4096];
}

/* test_stale_map: libowfat's cdb_init starts with cdb_free, so a struct
 * cdb left uninitialised on the stack had whatever pointer was there
 * unmapped (found by tests/fuzz/fuzz_users.c). The stack is sprayed with
 * the address of a page of ours whose low 32 bits are 4096, so it reads
 * as a map and its size; the page must survive the lookup. */
static void test_stale_map(void)
{
  stralloc out = {0};
  unsigned long line, k;
  char *page = MAP_FAILED;
  int fd;
  for (k = 0x100; sizeof(uintptr_t) >= 8 && k < 0x7000 && page == MAP_FAILED; k += 0x100) {
    void *want = (void *)(uintptr_t)(((uint64_t)k << 32) | 4096);
    page = mmap(want, 4096, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page != MAP_FAILED && page != want) { munmap(page, 4096); page = MAP_FAILED; }
  }
  if (page == MAP_FAILED) { ok(1, "# SKIP no page at a suitable address"); return; }
  is_int(compile("=a:u:1:1:/h:::\n.\n", &line), 1, "one-line file compiles");
  fd = open(path, O_RDONLY);
  (void)spray((uintptr_t)page);
  is_int(users_cdb_lookup(fd, "a", 1, &out), 1, "lookup after a stack full of stale pointers");
  close(fd);
  ok(msync(page, 4096, MS_ASYNC) == 0, "the lookup unmapped nothing it did not map");
  munmap(page, 4096);
  unlink(path);
  strcpy(path, "/tmp/users-unit-XXXXXX");
  stralloc_free(&out);
}

int main(void)
{
  test_good();
  test_bad();
  test_fields();
  test_getpw();
  test_stale_map();
  return done_testing();
}
