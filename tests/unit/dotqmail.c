/* tests/unit/dotqmail.c: .qmail line types and the .qmail-ext lookup order
 * (hub/local/dotqmail.h). */
#include <stdlib.h>
#include "tap.h"
#include "dotqmail.h"

static void line(const char *s, enum dq_type t, const char *arg, const char *name)
{
  struct dq_line l;
  dotqmail_parse(s, strlen(s), &l);
  is_int(l.type, t, name);
  if (t != DQ_COMMENT) is_mem(l.arg, l.len, arg, name);
}

static void test_lines(void)
{
  line("# hi", DQ_COMMENT, "", "comment");
  line("", DQ_COMMENT, "", "blank");
  line("   ", DQ_COMMENT, "", "only blanks");
  line("|echo a b ", DQ_PROGRAM, "echo a b ", "program keeps its text");
  line("&joe@example.org", DQ_FORWARD, "joe@example.org", "&forward");
  line("joe@example.org  ", DQ_FORWARD, "joe@example.org", "bare forward, blanks dropped");
  line("&", DQ_COMMENT, "", "empty forward ignored");
  line("|", DQ_COMMENT, "", "empty program ignored");
  line("./Mailbox", DQ_MBOX, "./Mailbox", "./ mbox");
  line("/var/mail/joe\r", DQ_MBOX, "/var/mail/joe", "/ mbox, CR dropped");
  line("./Maildir/", DQ_MAILDIR, "./Maildir/", "maildir");
  line("/home/j/Maildir/", DQ_MAILDIR, "/home/j/Maildir/", "absolute maildir");
}

static int counter(const struct dq_line *l, void *arg)
{
  if (l->type != DQ_COMMENT) ++*(int *)arg;
  return 0;
}

static void test_split(void)
{
  int n = 0;
  const char t[] = "# c\n./Maildir/\n&a@b\n|x";
  dotqmail_split(t, sizeof t - 1, counter, &n);
  is_int(n, 3, "split: three instructions, last without newline");
}

static void cand(const char *dash, const char *ext, const char *want)
{
  stralloc name = {0}, all = {0};
  size_t i, d;
  for (i = 0; dotqmail_candidate(&name, dash, ext, i, &d) == 1; ++i) {
    if (i) stralloc_cats(&all, " ");
    stralloc_catb(&all, name.s, name.len - 1);
    stralloc_cats(&all, "=");
    stralloc_cats(&all, ext + d);
  }
  is_sa(all, want, want);
  stralloc_free(&name); stralloc_free(&all);
}

static void test_lookup(void)
{
  cand("", "", ".qmail=");
  cand("-", "foo", ".qmail-foo= .qmail-default=foo");
  cand("-", "foo-bar", ".qmail-foo-bar= .qmail-foo-default=bar .qmail-default=foo-bar");
  cand("-", "A.b-C", ".qmail-a:b-c= .qmail-a:b-default=C .qmail-default=A.b-C");
  cand("-", "a-b-c", ".qmail-a-b-c= .qmail-a-b-default=c .qmail-a-default=b-c .qmail-default=a-b-c");
}

static void owner(const char *sender, int kind, const char *want, const char *name)
{
  stralloc out = {0};
  is_int(dotqmail_newsender(&out, sender, "joe-list", "example.org", kind), 0, name);
  is_str(out.s, want, name);
  stralloc_free(&out);
}

static void test_owner(void)
{
  stralloc n = {0};
  dotqmail_name(&n, "-", "Big.List", "-owner-default");
  is_str(n.s, ".qmail-big:list-owner-default", "owner file name: lowercase, dots as colons");
  dotqmail_name(&n, "", "", "-owner");
  is_str(n.s, ".qmail-owner", "owner file name of the bare user");
  stralloc_free(&n);
  owner("a@b.org", DQ_OWNER_NONE, "a@b.org", "no -owner: sender kept");
  owner("a@b.org", DQ_OWNER_PLAIN, "joe-list-owner@example.org", "-owner: owner address");
  owner("a@b.org", DQ_OWNER_VERP, "joe-list-owner-@example.org-@[]", "-owner-default: VERP");
  owner("", DQ_OWNER_VERP, "", "null sender never replaced");
  owner("#@[]", DQ_OWNER_PLAIN, "#@[]", "double-bounce sender never replaced");
}

int main(void)
{
  test_owner();
  test_lines();
  test_split();
  test_lookup();
  return done_testing();
}
