/* sconf.c: reading qmail-send's settings (contract in sconf.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "slog.h"
#include "sconf.h"

struct rewrite rw;
struct bounce_conf bc;
unsigned long lifetime = LIFETIME_DEFAULT;
int holdremote;

/* conf_bad: control/name is present but unusable (errno says why): never
 * the default. At start qmail-send refuses to run (exit 111: qmail-start
 * exits too and the supervisor tries again); on a reload the value in
 * force is kept. */
static void conf_bad(const char *name, int first)
{
  const char *why = control_strerror(errno);
  lg_s("alert: cannot use control/"); lg_s(name); lg_s(": "); lg_s(why); lg_flush();
  if (first) { lg_line("alert: cannot start: unable to read controls"); _exit(111); }
}

unsigned long conc_get(const char *name, unsigned long def)
{
  unsigned long v;
  if (conc_read(&v, name, def) < 0) conf_bad(name, 1);
  return v;
}

/* conf_hold: control/holdremote present = hold remote deliveries (a hub on
 * an intermittent link; qmailctl hold / flush): messages wait, nothing is
 * tried, so their retry schedule does not advance either */
static void conf_hold(void)
{
  stralloc p = {0};
  int was = holdremote;
  if (!control_path(&p, "holdremote")) fatal_nomem();
  holdremote = access(p.s, F_OK) == 0;
  stralloc_free(&p);
  if (holdremote != was) lg_line(holdremote ? "status: remote deliveries held" : "status: remote deliveries released");
}

/* me_local: warn when mail to postmaster@me would leave this host (me in
 * neither locals nor virtualdomains): the site's own mail would be sent
 * to its MX, which may be this host, and bounce (issue 10, item 11) */
static void me_local(void)
{
  stralloc me = {0}, a = {0}, out = {0};
  if (control_readline(&me, "me") == 1 && me.len > 0 &&
      stralloc_copys(&a, "postmaster@") && stralloc_cat(&a, &me) &&
      rewrite(&rw, a.s, a.len, &out) == REWRITE_REMOTE) {
    lg_s("warning: me ("); lg_safe(me.s, me.len);
    lg_s(") is not local: add it to control/locals, or this host's own mail leaves it");
    lg_flush();
  }
  stralloc_free(&me); stralloc_free(&a); stralloc_free(&out);
}

/* conf_rewrite: the rewriting rules */
static void conf_rewrite(int first)
{
  struct rewrite nrw;
  memset(&nrw, 0, sizeof nrw);
  if (rewrite_load(&nrw) == -1) {  /* the log, not fd 2: that is a pipe from qmail-lspawn */
    if (first) { lg_sys("alert: cannot start: unable to read control/locals or control/me", 0); _exit(111); }
    lg_sys("warning: unable to reload rewriting rules, keeping the old ones", 0);
    return;
  }
  rewrite_free(&rw);
  rw = nrw;
  me_local();
}

/* conf_bounce: the bounce settings */
static void conf_bounce(int first)
{
  struct bounce_conf nbc;
  memset(&nbc, 0, sizeof nbc);
  if (bounce_conf_load(&nbc) == -1) {
    if (first) { lg_sys("alert: cannot start: unable to read the bounce control files", 0); _exit(111); }
    lg_sys("warning: unable to reload bounce settings", 0);
    return;
  }
  bounce_conf_free(&bc);
  bc = nbc;
}

void conf_load(int first)
{
  unsigned long lt = LIFETIME_DEFAULT;
  unsigned long bmb;
  conf_rewrite(first);
  conf_bounce(first);
  if (control_readulong(&lt, "queuelifetime") < 0) {
    conf_bad("queuelifetime", first);
    lg_line("warning: keeping the old queuelifetime");
  } else lifetime = lt;
  /* read again for each bounce; checked here so that junk is seen at once */
  if (bounce_copylimit(&bmb) < 0) conf_bad("bouncemaxbytes", first);
  conf_hold();
}
