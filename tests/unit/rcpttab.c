/* tests/unit/rcpttab.c: TAP tests for hub/servers/rcpttab.c, the recipient
 * table's matcher: users/cdb exact and wildcard records (case, longest
 * prefix, the empty prefix, the first record of a key), passwd users
 * (longest name, case kept, a longer name's ext is not a shorter name's),
 * the alias home last, qmail-local's .qmail-EXT / -default order (case,
 * '.' as ':', names it never opens), single-user mode, a home flagged
 * "every ext", a local part longer than qmail-getpw takes, the
 * administrator's list and its syntax, the version check, and rt_stamp. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "rcpttab.h"

static char path[] = "/tmp/rcpttab-unit-XXXXXX";
static struct rt_make mk;
static struct rt tab;
static int tabfd = -1;

enum { ALIAS, JOE0, JOE, LIST, BOB, BOBSMITH, ANN, ALL, DUP, NSETS };

static void home(unsigned long set, const char *h, int all, const char *files)
{
  const char *p;
  rt_make_home(&mk, set, h, "1:2:3:4.5", all);
  for (p = files; *p; p += strlen(p) + 1) rt_make_file(&mk, set, p);
}

/* build: a table like qmail-rcptcdb would write for this hub:
 *   alias: .qmail-postmaster -ml-default -owner:x -Upper -a.b -foodefault
 *   users/cdb: =joe (ext "", no home), +joe- (dash "-": -ext -lst-default),
 *              +list- (pre "l-": -l-a -l-b-default), =dup twice
 *   passwd: bob (-x -y-default), bob-smith (none), ann (-default) */
static int build(int single, const char *admin)
{
  const char *p;
  int fd = mkstemp(path), bad = 0;
  if (fd == -1) return -1;
  if (rt_make_start(&mk, fd, single) == -1) return -1;
  home(ALIAS, "/h/alias", 0, "postmaster\0ml-default\0owner:x\0Upper\0a.b\0foodefault\0");
  home(JOE0, "/h/joe", 0, "\0");
  home(JOE, "/h/joe", 0, "ext\0lst-default\0");
  home(LIST, "/h/list", 0, "l-a\0l-b-default\0");
  home(BOB, "/h/bob", 0, "x\0y-default\0");
  home(BOBSMITH, "/h/bs", 0, "\0");
  home(ANN, "/h/ann", 0, "default\0");
  home(ALL, "/h/all", 1, "\0");
  home(DUP, "/h/dup", 0, "\0");
  rt_make_alias(&mk, ALIAS);
  rt_make_assign(&mk, '=', "joe", 3, RT_NOSET, "");
  rt_make_assign(&mk, '+', "joe-", 4, JOE, "");
  rt_make_assign(&mk, '+', "list-", 5, LIST, "l-");
  rt_make_assign(&mk, '=', "dup", 3, JOE0, "");
  rt_make_assign(&mk, '=', "dup", 3, DUP, "zz");
  rt_make_assign(&mk, '=', "every", 5, ALL, "some-ext");
  rt_make_user(&mk, "bob", BOB);
  rt_make_user(&mk, "bob-smith", BOBSMITH);
  rt_make_user(&mk, "ann", ANN);
  for (p = admin; *p; p += strlen(p) + 1)
    if (rt_make_admin(&mk, p, strlen(p)) != 1) bad = 1;
  rt_make_stamp(&mk, "/etc/passwd", "x");
  if (rt_make_finish(&mk) == -1 || close(fd) == -1) return -1;
  tabfd = open(path, O_RDONLY);
  unlink(path);
  strcpy(path + strlen(path) - 6, "XXXXXX");
  if (tabfd == -1) return -1;
  return bad ? -2 : rt_open(&tab, tabfd);
}

static void done(void)
{
  rt_close(&tab);
  close(tabfd);
}

/* v: the verdict for local, "yes", or "no N" (N the deciding set, -1 none). */
static const char *v(const char *local)
{
  static char b[64];
  unsigned long set;
  int r = rt_local(&tab, local, strlen(local), &set);
  if (r == RT_YES) return "yes";
  if (r == -1) return "error";
  snprintf(b, sizeof b, "no %ld", set == -1UL ? -1L : (long)set);
  return b;
}

static void test_root(void)
{
  static char longl[1100];
  is_int(build(0, ""), 1, "root table opens");
  is_str(v("joe"), "yes", "users/cdb exact, empty ext");
  is_str(v("JoE"), "yes", "users/cdb keys ignore case");
  is_str(v("joe-"), "yes", "wildcard with nothing after it: empty ext");
  is_str(v("joe-ext"), "yes", ".qmail-ext");
  is_str(v("joe-EXT"), "yes", "ext in lower case, as qmail-local names it");
  is_str(v("joe-nope"), "no 2", "no .qmail-nope, no default: refused by joe's home");
  is_str(v("joe-lst-anything"), "yes", ".qmail-lst-default");
  is_str(v("joe-lst-a-b"), "yes", "-default covers every deeper ext");
  is_str(v("joe-lst"), "no 2", "lst alone is not lst-anything");
  is_str(v("list-a"), "yes", "wildcard pre + rest: .qmail-l-a");
  is_str(v("list-b-c"), "yes", "wildcard pre + rest: .qmail-l-b-default");
  is_str(v("list-c"), "no 3", "wildcard: no file for l-c");
  is_str(v("dup"), "yes", "the first record of a key wins");
  is_str(v("every"), "yes", "a home flagged every-ext");
  is_str(v("bob"), "yes", "passwd user");
  is_str(v("bob-x"), "yes", "passwd user's .qmail-x");
  is_str(v("bob-y-z"), "yes", "passwd user's .qmail-y-default");
  is_str(v("bob-z"), "no 4", "passwd user without that file");
  is_str(v("bob-smith"), "yes", "the longest user name");
  is_str(v("bob-smith-x"), "no 5", "bob-smith's ext x, not bob's smith-x");
  is_str(v("Bob"), "no 0", "passwd names keep their case (qmail-getpw): Bob goes to alias");
  is_str(v("ann-whatever-else"), "yes", "passwd user with .qmail-default");
  is_str(v("postmaster"), "yes", "alias .qmail-postmaster");
  is_str(v("PostMaster"), "yes", "alias ext in lower case");
  is_str(v("ml-x"), "yes", "alias .qmail-ml-default");
  is_str(v("owner.x"), "yes", "'.' in an ext is ':' in the name");
  is_str(v("owner:x"), "yes", "':' itself matches too");
  is_str(v("upper"), "no 0", ".qmail-Upper is a name qmail-local never opens");
  is_str(v("a.b"), "no 0", ".qmail-a.b is a name qmail-local never opens");
  is_str(v("foodefault"), "yes", "exact name ending in default");
  is_str(v("foox"), "no 0", "foodefault is no wildcard (no '-' before default)");
  is_str(v("nobody-here"), "no 0", "unknown: the alias home decides");
  is_str(v(""), "yes", "empty local part: the alias home's empty ext");
  memset(longl, 'a', 1001);
  is_str(v(longl), "no -1", "over 1000 bytes: qmail-getpw's permanent failure");
  done();
}

static void test_single(void)
{
  is_int(build(1, ""), 1, "single-user table opens");
  is_str(v("joe-ext"), "yes", "single: users/cdb still first");
  is_str(v("bob"), "no 0", "single: no passwd step, bob is the alias home's ext");
  is_str(v("postmaster"), "yes", "single: alias files");
  done();
}

static void test_admin(void)
{
  struct rt_make m2 = {0};
  int fd;
  is_int(build(0, "Extra@Example.ORG\0@catchall.example\0ml-*@lists.example\0*@star.example\0"), 1,
         "table with an administrator's list");
  ok(rt_admin(&tab, "extra@example.org", 17) == 1, "listed address, any case");
  ok(rt_admin(&tab, "EXTRA@EXAMPLE.ORG", 17) == 1, "listed address, upper case");
  ok(rt_admin(&tab, "other@example.org", 17) == 0, "another address of that domain");
  ok(rt_admin(&tab, "x@CatchAll.example", 18) == 1, "@domain: every address");
  ok(rt_admin(&tab, "ml-x@lists.example", 18) == 1, "prefix*@domain");
  ok(rt_admin(&tab, "ml-@lists.example", 17) == 1, "prefix*: nothing after the prefix");
  ok(rt_admin(&tab, "ml@lists.example", 16) == 0, "shorter than the prefix");
  ok(rt_admin(&tab, "xml-a@lists.example", 19) == 0, "the prefix must start the local part");
  ok(rt_admin(&tab, "ml-x@other.example", 18) == 0, "prefix in another domain");
  ok(rt_admin(&tab, "a@star.example", 14) == 1, "*@domain");
  ok(rt_admin(&tab, "postmaster", 10) == 0, "no '@': only an exact entry could match");
  done();
  fd = open("/dev/null", O_WRONLY);
  rt_make_start(&m2, fd, 0);
  ok(rt_make_admin(&m2, "nodomain", 8) == 0, "refused: no '@'");
  ok(rt_make_admin(&m2, "a@", 2) == 0, "refused: empty domain");
  ok(rt_make_admin(&m2, "a*b@x", 5) == 0, "refused: '*' inside the local part");
  ok(rt_make_admin(&m2, "**@x", 4) == 0, "refused: two '*'");
  ok(rt_make_admin(&m2, "a b@x", 5) == 0, "refused: a space");
  ok(rt_make_admin(&m2, "a@x\001", 4) == 0, "refused: a control character");
  ok(rt_make_admin(&m2, "a@b@x", 5) == 1, "the last '@' splits");
  ok(rt_make_assign(&m2, '+', "p-", 2, RT_NOSET, "") == -1, "no home: only for an exact entry...");
  ok(rt_make_assign(&m2, '=', "p", 1, RT_NOSET, "e") == -1, "...with an empty ext");
  rt_make_free(&m2);
  close(fd);
}

static void test_version(void)
{
  struct rt t2;
  int fd = mkstemp(path);
  struct cdb_make cm;
  cdb_make_start(&cm, fd);
  cdb_make_add(&cm, (const unsigned char *)"!v", 2, (const unsigned char *)"0", 1);
  cdb_make_finish(&cm);
  free(cm.split);
  while (cm.head) { struct cdb_hplist *n = cm.head->next; free(cm.head); cm.head = n; }
  memset(&t2, 0, sizeof t2);
  is_int(rt_open(&t2, fd), 0, "a table of another version is refused");
  rt_close(&t2);
  close(fd);
  unlink(path);
  strcpy(path + strlen(path) - 6, "XXXXXX");
  fd = open("/dev/null", O_RDONLY);
  memset(&t2, 0, sizeof t2);
  ok(rt_open(&t2, fd) != 1, "an empty file is no table");
  rt_close(&t2);
  close(fd);
}

static void test_stamp(void)
{
  stralloc a = {0}, b = {0};
  char f[] = "/tmp/rcpttab-stamp-XXXXXX";
  int fd = mkstemp(f);
  ok(rt_stamp(&a, f) == 0 && strcmp(a.s, "-"), "a file has a stamp");
  ok(rt_stamp(&b, f) == 0 && !strcmp(a.s, b.s), "unchanged: the same stamp");
  if (write(fd, "x", 1) != 1) {}
  ok(rt_stamp(&b, f) == 0 && strcmp(a.s, b.s), "written to: another stamp");
  unlink(f);
  ok(rt_stamp(&b, f) == 0 && !strcmp(b.s, "-"), "gone: '-'");
  close(fd);
  {
    char d[] = "/tmp/rcpttab-dir-XXXXXX", e[64];
    ok(mkdtemp(d) && rt_stamp(&a, d) == 0, "a directory has a stamp");
    snprintf(e, sizeof e, "%s/.qmail-new", d);
    fd = open(e, O_WRONLY | O_CREAT, 0644);
    ok(fd != -1 && rt_stamp(&b, d) == 0 && strcmp(a.s, b.s),
       "a name added to a directory (same size): another stamp");
    close(fd);
    unlink(e);
    rmdir(d);
  }
  stralloc_free(&a);
  stralloc_free(&b);
}

int main(void)
{
  test_root();
  test_single();
  test_admin();
  test_version();
  test_stamp();
  return done_testing();
}
