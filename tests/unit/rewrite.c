/* tests/unit/rewrite.c: TAP tests for hub/send/rewrite.c: envnoathost (given,
 * defaulting to me, to "envnoathost" without me), percenthack (once,
 * repeated, unlisted domain, no '%'), locals (case-insensitive, defaulting
 * to me, refused without locals and me), virtualdomains in every form
 * (user@dom exact, dom, .suffix longest first, ':' catch-all, empty-prepend
 * exceptions at each level, case kept in the prepend, first line wins,
 * malformed line ignored, comments), the length cap, and rewrite_load over
 * a temporary $QMAILHOME. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "stralloc.h"
#include "rewrite.h"

static struct rewrite rw;

static void check(const char *in, int exp_kind, const char *exp, const char *name)
{
  stralloc out = {0};
  int r = rewrite(&rw, in, strlen(in), &out);
  is_int(r, exp_kind, name);
  is_sa(out, exp, name);
  stralloc_free(&out);
}

static void test_basic(void)
{
  ok(rewrite_load_text(&rw, "me.test\n", "me.test\nLocal.Test  \n# c.test\n",
                       0, "pct.test\n", "noat.test") == 0, "load basic");
  check("joe", REWRITE_REMOTE, "joe@noat.test", "envnoathost appended");
  check("joe@me.test", REWRITE_LOCAL, "joe@me.test", "local me");
  check("Joe@LOCAL.test", REWRITE_LOCAL, "Joe@LOCAL.test", "local case-insensitive, case kept");
  check("joe@c.test", REWRITE_REMOTE, "joe@c.test", "comment line is no local");
  check("joe@other.test", REWRITE_REMOTE, "joe@other.test", "remote");
  check("a@b@me.test", REWRITE_LOCAL, "a@b@me.test", "last @ splits");
  check("joe@me.test.", REWRITE_REMOTE, "joe@me.test.", "trailing dot is not local");
  check("u%h.test@pct.test", REWRITE_REMOTE, "u@h.test", "percenthack once");
  check("u%me.test@PCT.test", REWRITE_LOCAL, "u@me.test", "percenthack then local");
  check("u%x.test%pct.test@pct.test", REWRITE_REMOTE, "u@x.test", "percenthack repeated");
  check("a%b%c.test@pct.test", REWRITE_REMOTE, "a%b@c.test", "last % used");
  check("u%h.test@other.test", REWRITE_REMOTE, "u%h.test@other.test", "percent unlisted");
  check("plain@pct.test", REWRITE_REMOTE, "plain@pct.test", "percent domain, no %");
  check("", REWRITE_REMOTE, "@noat.test", "empty address");
  rewrite_free(&rw);
}

static void test_defaults(void)
{
  ok(rewrite_load_text(&rw, "me.test  \nignored\n", 0, 0, 0, 0) == 0, "load defaults");
  check("joe", REWRITE_LOCAL, "joe@me.test", "envnoathost defaults to me");
  check("joe@ME.TEST", REWRITE_LOCAL, "joe@ME.TEST", "locals defaults to me");
  check("joe@x.test", REWRITE_REMOTE, "joe@x.test", "defaults remote");
  rewrite_free(&rw);
  ok(rewrite_load_text(&rw, 0, "l.test\n", 0, 0, "") == 0, "load without me");
  check("joe", REWRITE_REMOTE, "joe@envnoathost", "no me: literal envnoathost");
  rewrite_free(&rw);
  errno = 0;
  ok(rewrite_load_text(&rw, 0, 0, 0, 0, 0) == -1 && errno == ENOENT, "no locals, no me: ENOENT");
  ok(rewrite_load_text(&rw, "\n", 0, 0, 0, 0) == -1, "empty me, no locals: refused");
  ok(rewrite_load_text(&rw, "me.test", "", 0, 0, 0) == 0, "empty locals file is present");
  check("joe@me.test", REWRITE_REMOTE, "joe@me.test", "empty locals: me not local");
  rewrite_free(&rw);
}

static const char vd[] =
  "# virtual domains\n"
  "Joe@V.test:joeuser\n"
  "exc@v.test:\n"
  "v.test:VUser\n"
  "v.test:second\n"
  "no-colon-line\n"
  ".sub.test:subuser\n"
  ".deep.sub.test:deepuser\n"
  ".exc.sub.test:\n"
  "   \n"
  ":catchall\n";

static void test_vdoms(void)
{
  ok(rewrite_load_text(&rw, "me.test", 0, vd, 0, 0) == 0, "load virtualdomains");
  check("joe@v.test", REWRITE_LOCAL, "joeuser-joe@v.test", "exact user@dom");
  check("JOE@v.TEST", REWRITE_LOCAL, "joeuser-JOE@v.TEST", "exact user@dom, any case");
  check("exc@v.test", REWRITE_REMOTE, "exc@v.test", "exact empty prepend: exception");
  check("ann@v.test", REWRITE_LOCAL, "VUser-ann@v.test", "dom, first line wins, case kept");
  check("ann@a.sub.test", REWRITE_LOCAL, "subuser-ann@a.sub.test", ".suffix");
  check("ann@x.y.sub.test", REWRITE_LOCAL, "subuser-ann@x.y.sub.test", ".suffix deeper");
  check("ann@a.deep.sub.test", REWRITE_LOCAL, "deepuser-ann@a.deep.sub.test", "longest suffix first");
  check("ann@a.exc.sub.test", REWRITE_REMOTE, "ann@a.exc.sub.test", "suffix exception");
  check("ann@sub.test", REWRITE_LOCAL, "catchall-ann@sub.test", ".suffix does not match the bare domain");
  check("ann@else.test", REWRITE_LOCAL, "catchall-ann@else.test", "catch-all");
  check("ann", REWRITE_LOCAL, "ann@me.test", "locals before virtualdomains");
  check("no-colon-line@x", REWRITE_LOCAL, "catchall-no-colon-line@x", "malformed line ignored");
  check("u@", REWRITE_LOCAL, "catchall-u@", "empty domain: catch-all");
  rewrite_free(&rw);
  ok(rewrite_load_text(&rw, "me.test", 0, ":\nv.test:v\n", "v.test", 0) == 0, "load catch-all exception");
  check("ann@x.test", REWRITE_REMOTE, "ann@x.test", "catch-all exception");
  check("ann@v.test", REWRITE_LOCAL, "v-ann@v.test", "dom still virtual");
  check("a%v.test@v.test", REWRITE_LOCAL, "v-a@v.test", "percenthack before virtualdomains");
  rewrite_free(&rw);
}

static void test_cap(void)
{
  static char big[REWRITE_ADDR_MAX + 2];
  stralloc out = {0};
  rewrite_load_text(&rw, "me.test", 0, 0, 0, 0);
  memset(big, 'a', sizeof big - 1);
  errno = 0;
  ok(rewrite(&rw, big, REWRITE_ADDR_MAX + 1, &out) == -1 && errno == ENAMETOOLONG, "over cap refused");
  ok(rewrite(&rw, big, REWRITE_ADDR_MAX, &out) == REWRITE_LOCAL &&
     out.len == REWRITE_ADDR_MAX + 8, "at cap accepted");
  ok(rewrite(&rw, "a\0b@x", 5, &out) == REWRITE_REMOTE && out.len == 5, "NUL byte carried as data");
  stralloc_free(&out);
  rewrite_free(&rw);
}

static void put(const char *dir, const char *name, const char *text)
{
  char p[256];
  FILE *f;
  snprintf(p, sizeof p, "%s/control/%s", dir, name);
  f = fopen(p, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) { perror(p); exit(2); }
}

static void test_load(void)
{
  char home[] = "/tmp/qrwXXXXXX", p[256];
  if (!mkdtemp(home)) { perror("mkdtemp"); exit(2); }
  snprintf(p, sizeof p, "%s/control", home);
  mkdir(p, 0755);
  setenv("QMAILHOME", home, 1);
  errno = 0;
  ok(rewrite_load(&rw) == -1 && errno == ENOENT, "load: no me, no locals");
  put(home, "me", "me.test\n");
  ok(rewrite_load(&rw) == 0, "load: me only");
  check("x", REWRITE_LOCAL, "x@me.test", "load: defaults to me");
  put(home, "locals", "l.test\n");
  put(home, "virtualdomains", "v.test:pre\n");
  put(home, "percenthack", "p.test\n");
  put(home, "envnoathost", "e.test\n");
  ok(rewrite_load(&rw) == 0, "load: all files");
  check("x", REWRITE_REMOTE, "x@e.test", "load: envnoathost");
  check("x@l.test", REWRITE_LOCAL, "x@l.test", "load: locals");
  check("x@me.test", REWRITE_REMOTE, "x@me.test", "load: me not in locals");
  check("x%v.test@p.test", REWRITE_LOCAL, "pre-x@v.test", "load: percenthack + vdom");
  rewrite_free(&rw);
  snprintf(p, sizeof p, "rm -rf '%s'", home);
  if (system(p) != 0) perror("rm");
}

int main(void)
{
  test_basic();
  test_defaults();
  test_vdoms();
  test_cap();
  test_load();
  return done_testing();
}
