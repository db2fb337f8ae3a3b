/* qmail-newmrh: compile HOME/control/morercpthosts into
 * HOME/control/morercpthosts.cdb, the big list of domains the servers
 * accept mail for besides control/rcpthosts (hub/servers/rcpthosts.h:
 * a host is accepted when it, or a ".suffix" of it, is a key).
 *   qmail-newmrh
 * The list is read as every control list (q_control.h): one entry a line,
 * blank lines and '#' lines ignored, trailing white space stripped, at most
 * CONTROL_MAX bytes. Entries are lowercased; one longer than MRH_MAX bytes
 * or holding a byte outside printable ASCII, a space or an '@' is refused
 * (it could never match). A missing list is an error: no empty table is
 * made by mistake.
 * Atomic (common/q_cdbmake.h): written to morercpthosts.cdb.tmp, fsynced,
 * closed, renamed over morercpthosts.cdb, the control/ directory fsynced;
 * on any error nothing is replaced. The servers open the table once per
 * connection, so a new one is in force for the next connection.
 * Exit: 0 done (one line on stdout counts the entries); 100 usage;
 * 111 any failure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "case.h"
#include "stralloc.h"
#include "q_cdbmake.h"
#include "q_control.h"
#include "q_err.h"

#define MRH_MAX 255  /* bytes in one entry (a domain name) */

static struct cdbmake cm;              /* ~12 KB: static */
static stralloc list, cdb;             /* static: live until exit */

/* entry_ok: may s (len bytes) be a key? */
static int entry_ok(const char *s, size_t len)
{
  size_t i;
  if (!len || len > MRH_MAX) return 0;
  for (i = 0; i < len; ++i)
    if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127 || s[i] == '@') return 0;
  return 1;
}

int main(int argc, char **argv)
{
  unsigned long n = 0;
  char num[24];
  const char *what;
  size_t i;
  int r;
  (void)argv;
  progname = "qmail-newmrh";
  if (argc != 1) fatal(100, "usage: qmail-newmrh");
  if (!control_path(&cdb, "morercpthosts.cdb")) fatal_nomem();
  r = control_readlist(&list, "morercpthosts");
  if (r == 0) fatal(111, "unable to read control/morercpthosts: file does not exist");
  if (r < 0) fatal(111, "unable to read control/morercpthosts: ", control_strerror(errno));
  for (i = 0; i < list.len; i += strlen(list.s + i) + 1) {
    ++n;
    if (!entry_ok(list.s + i, strlen(list.s + i))) {
      snprintf(num, sizeof num, "%lu", n);
      fatal(111, "unable to use control/morercpthosts: entry ", num,
            " is not a domain (too long, or a space, '@' or control byte)");
    }
  }
  if (cdbmake_start(&cm, cdb.s, 0644) == -1) fatal_sys(111, "unable to create ", cm.tmp.s);
  for (i = 0; i < list.len; i += strlen(list.s + i) + 1) {
    size_t len = strlen(list.s + i);
    case_lowerb(list.s + i, len);
    if (cdbmake_add(&cm, list.s + i, len, "", 0) == -1) {
      cdbmake_abort(&cm);
      fatal_sys(111, "unable to write ", cm.tmp.s);
    }
  }
  if (cdbmake_finish(&cm, &what) == -1) fatal_sys(111, "unable to ", what, " ", cm.tmp.s);
  printf("%lu domains in control/morercpthosts.cdb\n", n);
  return fflush(stdout) == EOF ? 111 : 0;
}
