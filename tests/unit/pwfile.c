/* tests/unit/pwfile.c: TAP tests for hub/servers/pwfile.c: users/passwd lines
 * (both forms, each kind of bad line, the caps), compiling (comments,
 * case, a duplicate login named by its later line, a missing final
 * newline), cdb lookups (case, not found, impossible logins, a malformed
 * record), the descriptor-3 request split and the constant-time compare. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cdb_make.h"
#include "tap.h"
#include "pwfile.h"

static char path[] = "/tmp/pwfile-unit-XXXXXX";
static int made;

static int compile(const char *text, unsigned long *line, const char **why)
{
  int fd = made ? open(path, O_RDWR | O_TRUNC) : mkstemp(path), r;
  if (fd == -1) return -1;
  made = 1;
  r = pw_compile(text, strlen(text), fd, line, why);
  close(fd);
  return r;
}

static int lookup(const char *login, size_t len, stralloc *out, struct pw_user *u)
{
  int fd = open(path, O_RDONLY), r;
  if (fd == -1) return -1;
  r = pw_lookup(fd, login, len, out, u);
  close(fd);
  return r;
}

static int parse(const char *s, struct pw_line *l)
{
  const char *why = 0;
  return pw_parse_line(s, strlen(s), l, &why);
}

static void test_lines(void)
{
  struct pw_line l;
  char big[PW_LINE_MAX + 2];
  const char *bad[] = {
    "nohash", ":$y$x", "joe:", "joe:$y$x:1000", "joe:$y$x:1000:100",
    "joe:$y$x:1000:100:/h:extra", "joe:$y$x:0:100:/h", "joe:$y$x:x:100:/h",
    "joe:$y$x:1000:1x:/h", "joe:$y$x:1000:100:rel/h", "joe:$y$x:1000:100:",
    "jo e:$y$x", "joe:$y x", "joe:$y$x\r", "jo\te:$y$x", "joe:$y$x:1000:100:/h\001",
    "joe:$y$x:99999999999:100:/h", "joe:$y$x::100:/h",
  };
  size_t i;
  is_int(parse("joe:$y$abc", &l), 1, "system form parses");
  ok(l.loginlen == 3 && l.hash == 4 && l.hashlen == 6 && !l.virtual && l.rest == 10, "system form offsets");
  is_int(parse("Joe@Example.org:$y$abc:5000:5001:/var/mail/ex/joe", &l), 1, "virtual form parses");
  ok(l.virtual && l.uid == 5000 && l.gid == 5001 && l.loginlen == 15 && l.rest == 22, "virtual ids");
  ok(l.homelen == 16 && l.home == 33, "virtual home offsets");
  is_int(parse("joe:$y$abc:1:0:/home/with space", &l), 1, "gid 0 and a space in home are allowed");
  is_int(parse("", &l), 0, "blank line");
  is_int(parse("# joe:x", &l), 0, "comment line");
  for (i = 0; i < sizeof bad / sizeof *bad; ++i) {
    char name[120];
    snprintf(name, sizeof name, "refused: '%s'", bad[i]);
    is_int(parse(bad[i], &l), -1, name);
  }
  memset(big, 'a', sizeof big);
  memcpy(big, "joe:", 4);
  big[PW_LINE_MAX] = 0;
  is_int(parse(big, &l), -1, "hash over PW_HASH_MAX refused");
  big[PW_LINE_MAX] = 'a'; big[PW_LINE_MAX + 1] = 0;
  is_int(parse(big, &l), -1, "line over PW_LINE_MAX refused");
  memset(big, 'a', PW_LOGIN_MAX);
  strcpy(big + PW_LOGIN_MAX, ":h");
  is_int(parse(big, &l), 1, "login of PW_LOGIN_MAX bytes");
  memset(big, 'a', PW_LOGIN_MAX + 1);
  strcpy(big + PW_LOGIN_MAX + 1, ":h");
  is_int(parse(big, &l), -1, "login over PW_LOGIN_MAX refused");
  memcpy(big, "j:", 2);
  memset(big + 2, 'h', PW_HASH_MAX);
  big[PW_HASH_MAX + 2] = 0;
  is_int(parse(big, &l), 1, "hash of PW_HASH_MAX bytes");
}

static void test_compile(void)
{
  stralloc out = {0};
  struct pw_user u;
  unsigned long line;
  const char *why = "";
  const char *text =
    "# users of this hub\n"
    "\n"
    "joe:$y$j9T$salt$hashjoe\n"
    "Ann@Example.ORG:$y$j9T$s$hashann:5000:5001:/var/mail/example.org/ann\n"
    "locked:!$y$j9T$s$h\n"
    "last:$y$last";
  is_int(compile(text, &line, &why), 1, "good file compiles (no final newline)");
  is_int(lookup("joe", 3, &out, &u), 1, "system login found");
  ok(!strcmp(u.hash, "$y$j9T$salt$hashjoe") && !u.virtual && !u.home, "system record: hash only");
  is_int(lookup("ann@example.org", 15, &out, &u), 1, "virtual login found");
  ok(u.virtual && u.uid == 5000 && u.gid == 5001, "virtual ids");
  is_str(u.home, "/var/mail/example.org/ann", "virtual home");
  is_str(u.hash, "$y$j9T$s$hashann", "virtual hash");
  is_int(lookup("JOE", 3, &out, &u), 1, "lookup ignores case");
  is_int(lookup("ANN@EXAMPLE.org", 15, &out, &u), 1, "key stored lower case");
  is_int(lookup("last", 4, &out, &u), 1, "last line without newline");
  is_int(lookup("jo", 2, &out, &u), 0, "prefix is not a login");
  is_int(lookup("joe ", 4, &out, &u), 0, "impossible login: not found");
  is_int(lookup("", 0, &out, &u), 0, "empty login: not found");
  is_int(lookup("# users of this hub", 19, &out, &u), 0, "comments are not logins");

  is_int(compile("a:h1\nb:h2\nA:h3\nb:h4\n", &line, &why), 0, "duplicate logins refused");
  is_int(line, 3, "the first repeated line is named (case folded)");
  is_str(why, "login given twice", "and the reason");
  is_int(compile("a:h1\nb:h2:0:1:/h\n", &line, &why), 0, "uid 0 refused");
  is_int(line, 2, "its line");
  is_int(compile("a:h1\n\nc\n", &line, &why), 0, "bad line refused");
  is_int(line, 3, "its line, counting blank ones");
  is_int(compile("", &line, &why), 1, "empty file compiles");
  is_int(lookup("a", 1, &out, &u), 0, "nothing in it");
  stralloc_free(&out);
}

/* a cdb whose record for "x" is data[0..len) */
static void raw_cdb(const char *data, size_t len)
{
  static struct cdb_make cm;
  int fd = open(path, O_RDWR | O_TRUNC);
  cdb_make_start(&cm, fd);
  cdb_make_add(&cm, (const unsigned char *)"x", 1, (const unsigned char *)data, len);
  cdb_make_finish(&cm);
  free(cm.split); cm.split = 0;
  while (cm.head) { struct cdb_hplist *n = cm.head->next; free(cm.head); cm.head = n; }
  close(fd);
}

static void test_malformed(void)
{
  stralloc out = {0};
  struct pw_user u;
  raw_cdb("h", 1);
  is_int(lookup("x", 1, &out, &u), -1, "record without its NUL: error");
  raw_cdb("h\0" "1\0", 4);
  is_int(lookup("x", 1, &out, &u), -1, "record with 2 fields: error");
  raw_cdb("h\0" "0\0" "1\0/h\0", 9);
  is_int(lookup("x", 1, &out, &u), -1, "record with uid 0: error");
  raw_cdb("h\0" "1\0" "1\0rel\0", 11);
  is_int(lookup("x", 1, &out, &u), -1, "record with a relative home: error");
  raw_cdb("\0", 1);
  is_int(lookup("x", 1, &out, &u), -1, "record with an empty hash: error");
  raw_cdb("h\0" "7\0" "8\0/h\0", 9);
  is_int(lookup("x", 1, &out, &u), 1, "a good raw record");
  {
    int fd = open("/", O_RDONLY);
    is_int(pw_lookup(fd, "x", 1, &out, &u), -1, "a directory instead of a cdb: error");
    close(fd);
  }
  stralloc_free(&out);
}

static void test_request(void)
{
  const char *l, *p;
  size_t ll, pl;
  ok(pw_request("joe\0pw\0" "123\0", 11, &l, &ll, &p, &pl) && ll == 3 && pl == 2 &&
     !strcmp(l, "joe") && !strcmp(p, "pw"), "login, password, timestamp");
  ok(pw_request("joe\0pw\0", 7, &l, &ll, &p, &pl) && pl == 2, "no timestamp (SMTP AUTH)");
  ok(pw_request("joe\0pw\0ts\0more\0", 15, &l, &ll, &p, &pl) && pl == 2, "more data ignored");
  ok(pw_request("\0\0", 2, &l, &ll, &p, &pl) && !ll && !pl, "empty fields split (the caller refuses them)");
  ok(!pw_request("joe\0pw", 6, &l, &ll, &p, &pl), "password without NUL: malformed");
  ok(!pw_request("joe", 3, &l, &ll, &p, &pl), "login without NUL: malformed");
  ok(!pw_request("", 0, &l, &ll, &p, &pl), "empty request: malformed");
}

static void test_eq(void)
{
  ok(pw_eq("abc", 3, "abc", 3), "equal");
  ok(!pw_eq("abc", 3, "abd", 3), "last byte differs");
  ok(!pw_eq("xbc", 3, "abc", 3), "first byte differs");
  ok(!pw_eq("abc", 3, "abcd", 4), "longer b");
  ok(!pw_eq("abcd", 4, "abc", 3), "shorter b");
  ok(!pw_eq("abcabc", 6, "abc", 3), "a repeating b is not b");
  ok(!pw_eq("", 0, "", 0), "empty never matches");
  ok(!pw_eq("", 0, "a", 1), "empty a");
}

int main(void)
{
  test_lines();
  test_compile();
  test_malformed();
  test_request();
  test_eq();
  unlink(path);
  return done_testing();
}
