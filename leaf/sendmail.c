/* sendmail: the sendmail-compatible front end (sendmail(8) as qmail's
 * wrapper does it, with the sendmail options MUAs and cron use).
 *
 *   sendmail [-t] [-f sender] [-F name] [-i] [-oi] [-v] ... [recipient ...]
 *   mailq | sendmail -bp      list the queue: bin/qmail-qread on a hub; a
 *                             leaf lists what waits in its spool and says
 *                             where mail goes
 *   sendmail -q               a leaf sends what waits in its spool (qmail-qmqpc
 *                             -flush; -q30m and the like are the same)
 *   sendmail -bs              SMTP on stdin/stdout: bin/qmail-smtpd on a
 *                             hub; on a leaf our own (stdsmtp.c)
 *   newaliases | sendmail -bi on a hub, bin/qmail-newaliases (compile
 *                             /etc/aliases); a leaf explains that it has
 *                             no aliases file (its mail goes to the hub)
 *
 * A home is a hub for -bp when it has bin/qmail-qread, for -bs when it has
 * bin/qmail-smtpd (a leaf home has neither).
 * -v says on stderr each hub tried and its answer (q_qmqpc.h), or, on a
 * hub home, what its queue answered.
 *
 * Sending runs qmail-inject's code in this process (no extra exec):
 * -t reads recipients from the header *and* takes the arguments (the
 * union, as Postfix and sendmail 8 with -t do: qmail-inject -H); without
 * -t only the arguments count (qmail-inject -a). -f also sets QMAILUSER
 * and QMAILHOST so the From field matches; -F sets the personal name.
 * Options sendmail has that mean nothing here are accepted and ignored,
 * taking their argument when they have one. Exit codes as qmail-inject. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "q_net.h"
#include "q_qmqpc.h"
#include "q_sa.h"
#include "inject.h"
#include "spoolcmd.h"
#include "stdsmtp.h"

#define USAGE "usage: sendmail [-t] [-v] [-f sender] [-F name] [-i] [recipient ...] (#5.3.5)"

static int flagt, flagv, flagq;
static const char *sender, *fullname;
static char mode = 'm';  /* -bm deliver, -bp list, -bs smtp, -bi aliases */

/* options that take an argument, attached or as the next word */
static const char withargs[] = "BCFLNORVXfhpr";
/* options whose value is the rest of the word (-bs, -oi, -q30m, -Am) */
static const char restofword[] = "boqAe";

static void set_sender(const char *f)
{
  const char *at = strrchr(f, '@');
  sender = f;
  unsetenv("QMAILNAME");
  unsetenv("MAILNAME");
  unsetenv("NAME");
  if (at && at != f) {
    stralloc u = {0};
    if (!stralloc_copyb(&u, f, (size_t)(at - f)) || !stralloc_0(&u)) fatal_nomem();
    setenv("QMAILUSER", u.s, 1);
    setenv("QMAILHOST", at + 1, 1);
    stralloc_free(&u);
  } else if (*f && !at)
    setenv("QMAILUSER", f, 1);
}

/* option: act on option letter c with its argument (or NULL). */
static void option(char c, const char *arg)
{
  switch (c) {
  case 't': flagt = 1; break;
  case 'v': flagv = 1; break;
  case 'f': case 'r': set_sender(arg); break;
  case 'F': fullname = arg; break;
  case 'q': flagq = 1; break;
  case 'b':
    if (!*arg) fatal(100, USAGE);
    mode = *arg;
    break;
  default: break;  /* -i -oi -oem -B -N -O -R -V ... mean nothing here */
  }
}

/* parse: handle the options, return the index of the first recipient.
 * Flags may be bundled (-ti); a letter that takes an argument ends the
 * word and takes the rest of it, or the next word. */
static int parse(int argc, char **argv)
{
  int i;
  for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; ++i) {
    const char *p;
    if (strcmp(argv[i], "--") == 0) return i + 1;
    for (p = argv[i] + 1; *p; ++p) {
      if (strchr(restofword, *p)) { option(*p, p + 1); break; }
      if (strchr(withargs, *p)) {
        const char *arg = p[1] ? p + 1 : 0;
        if (!arg && i + 1 >= argc) fatal(100, USAGE);
        option(*p, arg ? arg : argv[++i]);
        break;
      }
      option(*p, 0);
    }
  }
  return i;
}

/* bin_path: path = HOME/bin/prog, NUL-terminated; 1 when it exists. */
static int bin_path(stralloc *path, const char *prog)
{
  if (!home_path(path, "bin/")) fatal_nomem();
  --path->len;  /* home_path ends it with a NUL */
  if (!stralloc_cats(path, prog) || !stralloc_0(path)) fatal_nomem();
  return access(path->s, F_OK) == 0;
}

/* run: exec HOME/bin/prog (it exists). */
__attribute__((noreturn)) static void run(const char *prog, char **argv)
{
  stralloc path = {0};
  bin_path(&path, prog);
  execv(path.s, argv);
  fatal_sys(111, "unable to run ", path.s, " (#4.3.0)");
}

static int has(const char *prog)
{
  stralloc path = {0};
  int r = bin_path(&path, prog);
  stralloc_free(&path);
  return r;
}

/* cat_hubs: ", "-separated qmqpservers lines (the first 10) onto sa;
 * the number of lines (0 also when the file is missing or unreadable). */
static size_t cat_hubs(stralloc *sa)
{
  stralloc raw = {0};
  size_t pos = 0, no = 0, len, n = 0;
  const char *line;
  if (control_readfile(&raw, "qmqpservers") <= 0) { stralloc_free(&raw); return 0; }
  while (net_line(raw.s, raw.len, &pos, &no, &line, &len)) {
    if (n && !stralloc_cats(sa, ", ")) fatal_nomem();
    if (++n > 10) { if (!stralloc_cats(sa, "...")) fatal_nomem(); break; }
    if (!sa_catsafe(sa, line, len)) fatal_nomem();
  }
  stralloc_free(&raw);
  return n;
}

/* spool_off: control/spool says "none". */
static int spool_off(void)
{
  stralloc v = {0};
  int off = control_readline(&v, "spool") > 0 && v.len == 4 && !memcmp(v.s, "none", 4);
  stralloc_free(&v);
  return off;
}

/* list_queue: a hub lists its queue with bin/qmail-qread. A leaf has no
 * queue: it lists what waits in its spool and says where mail goes (exit
 * 0; 111 when the spool cannot be read). */
static void list_queue(void)
{
  char *argv[] = { "qmail-qread", 0 };
  stralloc m = {0};
  long n = 0;
  int off;
  if (has("qmail-qread")) run("qmail-qread", argv);
  off = spool_off();
  if (!off && (n = spoolcmd_list()) < 0) _exit(111);
  if (!stralloc_copys(&m, "mailq: this host has no queue: ")) fatal_nomem();
  if (!stralloc_cats(&m, "mail goes at once to a hub (control/qmqpservers: ")) fatal_nomem();
  if (!cat_hubs(&m)) {
    m.len = 0;
    if (!stralloc_cats(&m, "mailq: this host has no queue, and control/qmqpservers names"
                           " no hub: no mail can be sent until it does")) fatal_nomem();
  } else if (!stralloc_cats(&m, off ? "), or the sender is told at once that it failed"
                                    : n ? "); what no hub took waits in the spool, above"
                                        : "); what no hub takes waits in the spool, where nothing waits now"))
    fatal_nomem();
  if (!stralloc_cats(&m, ".\n")) fatal_nomem();
  if (write(1, m.s, m.len) != (ssize_t)m.len) fatal_sys(111, "unable to write output (#4.3.0)");
  _exit(0);
}

/* smtp_session: a hub runs its qmail-smtpd on stdin and stdout; a leaf,
 * which has none, speaks SMTP itself and hands each message to the hub. */
static void smtp_session(void)
{
  char *argv[] = { "qmail-smtpd", 0 };
  if (!has("qmail-smtpd")) stdsmtp_main();
  if (!getenv("PROTO")) {
    setenv("RELAYCLIENT", "", 1);
    setenv("DATABYTES", "0", 1);
    setenv("PROTO", "TCP", 1);
    setenv("TCPREMOTEIP", "127.0.0.1", 1);
    setenv("TCPREMOTEHOST", "localhost", 1);
    setenv("TCPREMOTEINFO", "sendmail-bs", 1);
    setenv("TCPLOCALHOST", "localhost", 1);
  }
  run("qmail-smtpd", argv);
}

static void aliases(void)
{
  char *argv[] = { "qmail-newaliases", 0 };
  if (has("qmail-newaliases")) run("qmail-newaliases", argv);
  fatal(100, "a leaf has no aliases file: its mail goes to the hub, where newaliases "
        "compiles /etc/aliases (#5.3.5)");
}

/* send: build qmail-inject's arguments and run its code here. */
__attribute__((noreturn)) static void send(int argc, char **argv, int first)
{
  char **a = calloc((size_t)(argc - first) + 6, sizeof *a);
  int n = 0, i;
  if (!a) fatal_nomem();
  a[n++] = "qmail-inject";
  a[n++] = flagt ? "-H" : "-a";
  if (sender) { a[n++] = "-f"; a[n++] = (char *)sender; }
  a[n++] = "--";
  for (i = first; i < argc; ++i) a[n++] = argv[i];
  a[n] = 0;
  if (fullname) { unsetenv("QMAILNAME"); setenv("MAILNAME", fullname, 1); }
  progname = "sendmail";
  inject_main(n, a);
}

int main(int argc, char **argv)
{
  const char *base = strrchr(argv[0], '/');
  int first;
  base = base ? base + 1 : argv[0];
  progname = "sendmail";
  if (strcmp(base, "mailq") == 0) mode = 'p';
  if (strcmp(base, "newaliases") == 0) mode = 'i';
  first = parse(argc, argv);
  if (flagv) { qmqpc_verbose(2); inject_verbose = 1; }
  if (flagq && mode == 'm') _exit(spoolcmd_flush(flagv ? 2 : -1));
  switch (mode) {
  case 'm': send(argc, argv, first);
  case 'p': list_queue(); break;
  case 's': smtp_session(); break;
  case 'i': aliases(); break;
  default: fatal(100, "unsupported mode -b", (char[]){ mode, 0 }, " (#5.3.5)");
  }
  return 0;
}
