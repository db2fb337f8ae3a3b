/* qmail-newaliases: compile the aliases file (/etc/aliases, or the path
 * control/aliases names; aliasdb.h) into its cdb, which qmail-local reads
 * for the alias user's addresses (docs/aliases.md, the syntax fwdfile.h).
 *   qmail-newaliases
 * Every line is checked before anything is written: a syntax error, an
 * alias that names itself or a name given twice stops the program with
 * the file name, the line number and the reason, and the old cdb stays.
 * Atomic (q_cdbmake.h): the new cdb replaces the old one whole.
 * Caps: the file at most CONTROL_MAX bytes; the line and entry caps of
 * fwdfile.h. Exit: 0 done (one line on stdout counts the aliases);
 * 100 usage; 111 any failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_cdbmake.h"
#include "q_control.h"
#include "q_err.h"
#include "aliasdb.h"
#include "fwdfile.h"

struct alias { size_t name, ent, entlen; unsigned long line; };

static struct cdbmake cm;               /* ~12 KB: static */
static stralloc src, cdb, text, names, ents, one, logical;  /* static: live until exit */
static struct alias *al;
static size_t nal, alcap;

/* readall: the whole file at path into sa, or exit 111 saying why */
static void readall(const char *path, stralloc *sa)
{
  int r = control_readpath(sa, path);
  if (r == 0) errno = ENOENT;
  if (r == -1 && errno == EFBIG) fatal(111, "unable to read ", path, ": file too big (#4.3.0)");
  if (r != 1) fatal_sys(111, "unable to read ", path);
}

static void bad(unsigned long line, const char *why) __attribute__((noreturn));
static void bad(unsigned long line, const char *why)
{
  char num[24];
  snprintf(num, sizeof num, "%lu", line);
  fatal(111, "unable to use ", src.s, ": line ", num, ": ", why, "; ", cdb.s, " not changed");
}

static void keep(unsigned long line)
{
  if (nal == alcap) {
    size_t n = alcap ? alcap * 2 : 256;
    struct alias *p;
    if (n < alcap || n > ((size_t)-1) / sizeof *al) fatal_nomem();
    if (!(p = realloc(al, n * sizeof *al))) fatal_nomem();
    al = p;
    alcap = n;
  }
  al[nal].name = names.len;
  al[nal].ent = ents.len;
  al[nal].entlen = one.len;
  al[nal].line = line;
  ++nal;
}

static int byname(const void *a, const void *b)
{
  const struct alias *x = a, *y = b;
  int c = strcmp(names.s + x->name, names.s + y->name);
  return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* parse: every alias into names/ents/al; stops at the first error. */
static void parse(void)
{
  struct fwd_reader r;
  stralloc name = {0};
  const char *why;
  int x;
  fwd_reader_init(&r, text.s, text.len);
  while ((x = fwd_logical(&r, &logical, &why)) == 1) {
    x = fwd_alias(logical.s, logical.len, &name, &one, &why);
    if (x < 0) fatal_nomem();
    if (x == 0) bad(r.line, why);
    if (one.len > ALIASES_DATA_MAX) bad(r.line, "an alias whose entries pass 1 MB");
    keep(r.line);
    if (!stralloc_cat(&names, &name) || !stralloc_cat(&ents, &one)) fatal_nomem();
  }
  if (x == -1) fatal_nomem();
  if (x == -2) bad(r.line, why);
  stralloc_free(&name);
}

static void duplicates(void)
{
  size_t i;
  char num[24];
  qsort(al, nal, sizeof *al, byname);
  for (i = 1; i < nal; ++i)
    if (!strcmp(names.s + al[i].name, names.s + al[i - 1].name)) {
      snprintf(num, sizeof num, "%lu", al[i - 1].line);
      if (!stralloc_copys(&one, "alias ") || !stralloc_cats(&one, names.s + al[i].name) ||
          !stralloc_cats(&one, " given again (first on line ") || !stralloc_cats(&one, num) ||
          !stralloc_cats(&one, ")") || !stralloc_0(&one)) fatal_nomem();
      bad(al[i].line, one.s);
    }
}

int main(int argc, char **argv)
{
  const char *why = 0;
  size_t i;
  int r;
  (void)argv;
  progname = "qmail-newaliases";
  if (argc != 1) fatal(100, "usage: qmail-newaliases");
  r = aliasdb_paths(&src, &cdb, &why);
  if (r < 0) fatal_sys(111, "unable to read control/aliases");
  if (r == 0) fatal(111, "unable to use control/aliases: ", why);
  readall(src.s, &text);
  parse();
  duplicates();
  if (cdbmake_start(&cm, cdb.s, 0644) == -1) fatal_sys(111, "unable to create ", cm.tmp.s);
  for (i = 0; i < nal; ++i) {
    const char *n = names.s + al[i].name;
    if (cdbmake_add(&cm, n, strlen(n), ents.s + al[i].ent, al[i].entlen) == -1) {
      cdbmake_abort(&cm);
      fatal_sys(111, "unable to write ", cm.tmp.s);
    }
  }
  if (cdbmake_finish(&cm, &why) == -1) fatal_sys(111, "unable to ", why, " ", cm.tmp.s);
  printf("%lu aliases in %s\n", (unsigned long)nal, cdb.s);
  return fflush(stdout) == EOF ? 111 : 0;
}
