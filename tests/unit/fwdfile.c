/* tests/unit/fwdfile.c: the aliases / .forward syntax (hub/local/fwdfile.h):
 * every entry form, continuation and comment lines, the caps, the errors,
 * and the .qmail lines made from entries (includes through a fake reader). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "fwdfile.h"

/* shown: compiled entries with each NUL as '\n', for comparing. */
static void shown(stralloc *sa)
{
  size_t i;
  for (i = 0; i < sa->len; ++i) if (!sa->s[i]) sa->s[i] = '\n';
}

static void ents(const char *s, const char *want, const char *name)
{
  stralloc out = {0};
  size_t count = 0;
  const char *why = "";
  int r = fwd_entries(s, strlen(s), &out, &count, &why);
  is_int(r, 1, name);
  shown(&out);
  is_sa(out, want, name);
  stralloc_free(&out);
}

static void bad(const char *s, const char *want, const char *name)
{
  stralloc out = {0};
  size_t count = 0;
  const char *why = "";
  is_int(fwd_entries(s, strlen(s), &out, &count, &why), 0, name);
  is_str(why, want, name);
  stralloc_free(&out);
}

static void test_entries(void)
{
  ents("root", "&root\n", "bare local name");
  ents(" joe@example.org ,  ann", "&joe@example.org\n&ann\n", "list, blanks dropped");
  ents("|/usr/bin/procmail -a x", "|/usr/bin/procmail -a x\n", "program");
  ents("\"|/bin/cat > /tmp/x, y\"", "|/bin/cat > /tmp/x, y\n", "quoted program keeps its comma");
  ents("\"| tr \\\"a\\\" b\"", "|tr \"a\" b\n", "quoted program with escaped quotes");
  ents("/var/mail/joe", "//var/mail/joe\n", "mbox file");
  ents("/home/joe/Maildir/", "//home/joe/Maildir/\n", "maildir");
  ents(":include:/etc/mail/staff", ":/etc/mail/staff\n", ":include:");
  ents(":INCLUDE: /etc/mail/staff", ":/etc/mail/staff\n", ":include: any case, blank after");
  ents("\\joe, joe@elsewhere.example", "\\joe\n&joe@elsewhere.example\n", "\\user");
  ents("\"john doe\"@example.org", "&john doe@example.org\n", "quoted local part unquoted");
  ents("John <john@example.org>", "&john@example.org\n", "<addr>");
  ents("a,,b,", "&a\n&b\n", "empty entries skipped");
  {
    stralloc out = {0};
    size_t count = 0;
    const char *why = "";
    is_int(fwd_entries("", 0, &out, &count, &why), 1, "no entry: fine");
    ok(out.len == 0 && count == 0, "no entry: nothing compiled");
  }
  bad("\"abc", "an unterminated quote", "unterminated quote");
  bad("john doe@example.org", "a blank or bracket inside an address", "blank in address");
  bad("|  ", "an empty |command", "empty program");
  bad(":include:etc/x", "an :include: without an absolute path", "relative include");
  bad("\\joe@x", "a \\user that is not a plain local name", "\\user with a domain");
  bad("joe@", "an address with an empty local part or domain", "empty domain");
  bad("@x", "an address with an empty local part or domain", "empty local part");
  bad("\"\"", "an empty quoted entry", "empty quoted entry");
  bad("a\001b", "a control character", "control byte");
  bad("x <a@b", "a '<' without a '>' at the end of the entry", "unbalanced <");
}

static void test_caps(void)
{
  stralloc s = {0}, out = {0};
  size_t i, count = 0;
  const char *why = "";
  for (i = 0; i < FWD_ENTRIES_MAX; ++i) stralloc_cats(&s, "a,");
  is_int(fwd_entries(s.s, s.len, &out, &count, &why), 1, "1000 entries: fine");
  count = 0;
  stralloc_cats(&s, "b");
  is_int(fwd_entries(s.s, s.len, &out, &count, &why), 0, "1001 entries: refused");
  is_str(why, "more than 1000 entries", "1001 entries: why");
  s.len = 0;
  for (i = 0; i < FWD_ENTRY_MAX; ++i) stralloc_cats(&s, "x");
  count = 0;
  is_int(fwd_entries(s.s, s.len, &out, &count, &why), 1, "entry of 1000 bytes: fine");
  stralloc_cats(&s, "x");
  count = 0;
  is_int(fwd_entries(s.s, s.len, &out, &count, &why), 0, "entry of 1001 bytes: refused");
  stralloc_free(&s);
  stralloc_free(&out);
}

static void test_logical(void)
{
  const char t[] = "# comment\n\na: b,\n  c,\n\tdd\r\n# mid\n  e\nf: g\n";
  struct fwd_reader r;
  stralloc l = {0};
  const char *why = "";
  fwd_reader_init(&r, t, sizeof t - 1);
  is_int(fwd_logical(&r, &l, &why), 1, "first logical line");
  is_sa(l, "a: b, c, dd e", "continuations joined, CR, comments and blank lines dropped");
  is_int((int)r.line, 3, "its line number");
  is_int(fwd_logical(&r, &l, &why), 1, "second logical line");
  is_sa(l, "f: g", "second line text");
  is_int((int)r.line, 8, "second line number");
  is_int(fwd_logical(&r, &l, &why), 0, "end");
  fwd_reader_init(&r, " x\n", 3);
  is_int(fwd_logical(&r, &l, &why), -2, "continuation first: error");
  is_str(why, "a continuation line with no line before it", "continuation first: why");
  {
    stralloc big = {0};
    size_t i;
    stralloc_cats(&big, "a: b\n");
    for (i = 0; i < FWD_LINE_MAX / 7; ++i) stralloc_cats(&big, " cccccc\n");
    fwd_reader_init(&r, big.s, big.len);
    is_int(fwd_logical(&r, &l, &why), -2, "logical line over the cap: error");
    is_str(why, "a line longer than 65536 bytes", "over the cap: why");
    stralloc_free(&big);
  }
  fwd_reader_init(&r, "a: b\0c\n", 7);
  is_int(fwd_logical(&r, &l, &why), -2, "NUL byte: error");
  stralloc_free(&l);
}

static void alias(const char *s, int want, const char *wname, const char *went, const char *name)
{
  stralloc n = {0}, e = {0};
  const char *why = "";
  int r = fwd_alias(s, strlen(s), &n, &e, &why);
  is_int(r, want, name);
  if (r == 1) {
    is_str(n.s, wname, name);
    shown(&e);
    is_sa(e, went, name);
  } else is_str(why, went, name);
  stralloc_free(&n);
  stralloc_free(&e);
}

static void test_alias(void)
{
  alias("Postmaster: root", 1, "postmaster", "&root\n", "name lowercased");
  alias("mailer-daemon : postmaster", 1, "mailer-daemon", "&postmaster\n", "blank before ':'");
  alias("\"odd name\": x", 1, "odd name", "&x\n", "quoted name");
  alias("staff: :include:/etc/mail/staff, boss@example.org", 1, "staff",
        ":/etc/mail/staff\n&boss@example.org\n", "include and address");
  alias("nocolon", 0, 0, "no ':' after the alias name", "no colon");
  alias("a b: c", 0, 0, "a blank in the alias name (quote it)", "blank in name");
  alias(": c", 0, 0, "an empty alias name", "empty name");
  alias("a@b: c", 0, 0, "an '@' or a control character in the alias name", "@ in name");
  alias("empty:  ", 0, 0, "an alias with no entry", "no entry");
  alias("loop: x, LOOP", 0, 0, "an alias that names itself (a loop)", "names itself");
  alias("loop: \\loop", 0, 0, "an alias that names itself (a loop)", "names itself as \\user");
  {
    stralloc l = {0}, n = {0}, e = {0};
    const char *why = "";
    size_t i;
    for (i = 0; i < FWD_NAME_MAX; ++i) stralloc_cats(&l, "n");
    stralloc_cats(&l, ": x");
    is_int(fwd_alias(l.s, l.len, &n, &e, &why), 1, "a name of 1000 bytes: fine");
    l.len = 0;
    for (i = 0; i <= FWD_NAME_MAX; ++i) stralloc_cats(&l, "n");
    stralloc_cats(&l, ": x");
    is_int(fwd_alias(l.s, l.len, &n, &e, &why), 0, "a name of 1001 bytes: refused");
    is_str(why, "an alias name longer than 1000 bytes", "long name: why");
    stralloc_free(&l); stralloc_free(&n); stralloc_free(&e);
  }
}

/* the fake include reader: "/inc/a" and "/inc/b" exist, "/inc/self"
 * includes itself, anything else cannot be read */
static int readinc(const char *path, stralloc *text, const char **why, void *arg)
{
  ++*(int *)arg;
  if (!strcmp(path, "/inc/a")) return stralloc_copys(text, "# list\nann, :include:/inc/b,\n  |prog\n");
  if (!strcmp(path, "/inc/b")) return stralloc_copys(text, "bob@example.net\n");
  if (!strcmp(path, "/inc/bad")) return stralloc_copys(text, "ok\n\"bad\n");
  if (!strcmp(path, "/inc/self")) return stralloc_copys(text, ":include:/inc/self\n");
  *why = "unable to read it";
  return 0;
}

static int expand(const char *list, const char *self, stralloc *out, const char **why, int *reads)
{
  stralloc e = {0};
  unsigned long line = 0;
  size_t count = 0;
  struct fwd_expand x = { .domain = "example.org", .self = self, .self2 = "joe-box",
                          .deflt = "./Maildir/\n", .readinc = readinc, .arg = reads };
  int r = fwd_list(list, strlen(list), &e, &line, why);
  out->len = 0;
  if (r == 1) r = fwd_qmail(e.s, e.len, &x, out, &count, 0, why);
  stralloc_free(&e);
  return r;
}

static void test_qmail(void)
{
  stralloc out = {0};
  const char *why = "";
  int reads = 0;
  is_int(expand("a, b@x.org, |cmd, /f, /d/, \\c", 0, &out, &why, &reads), 1, "aliases: expanded");
  is_sa(out, "&a@example.org\n&b@x.org\n|cmd\n/f\n/d/\n&c@example.org\n", "aliases: .qmail lines");
  is_int(expand("\\joe, joe@away.example", "joe", &out, &why, &reads), 1, ".forward: expanded");
  is_sa(out, "./Maildir/\n&joe@away.example\n", ".forward: \\self is the default delivery");
  is_int(expand("JOE, \\joe-box", "joe", &out, &why, &reads), 1, ".forward: self twice");
  is_sa(out, "./Maildir/\n", ".forward: the default delivery once (user name or local part)");
  is_int(expand(":include:/inc/a", 0, &out, &why, &reads), 1, "nested include");
  is_sa(out, "&ann@example.org\n&bob@example.net\n|prog\n", "nested include: lines");
  is_int(reads, 2, "two files read");
  is_int(expand(":include:/inc/self", 0, &out, &why, &reads), 0, "include loop stopped");
  is_str(why, ":include: files nested more than 5 deep", "include loop: why");
  is_int(expand(":include:/inc/none", 0, &out, &why, &reads), 0, "unreadable include");
  is_str(why, "unable to read it", "unreadable include: why");
  is_int(expand(":include:/inc/bad", 0, &out, &why, &reads), 0, "include with a bad line");
  is_str(why, "/inc/bad line 2: an unterminated quote", "bad include: path and line");
  is_int(expand("ok\n\"x\n", 0, &out, &why, &reads), 0, "list with a bad line");
  stralloc_free(&out);
}

int main(void)
{
  test_entries();
  test_caps();
  test_logical();
  test_alias();
  test_qmail();
  return done_testing();
}
