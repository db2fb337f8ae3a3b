/* sendmail: the sendmail-compatible front end (sendmail(8) as qmail's
 * wrapper does it, with the sendmail options MUAs and cron use).
 *
 *   sendmail [-t] [-f sender] [-F name] [-i] [-oi] [-v] ... [recipient ...]
 *   mailq | sendmail -bp      list the queue (a leaf has none: says so)
 *   sendmail -bs              SMTP on stdin/stdout via bin/qmail-smtpd
 *   newaliases | sendmail -bi explains that qmail has no aliases file
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
#include "q_err.h"
#include "q_home.h"
#include "inject.h"

#define USAGE "usage: sendmail [-t] [-f sender] [-F name] [-i] [recipient ...] (#5.3.5)"

static int flagt;
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
  case 'f': case 'r': set_sender(arg); break;
  case 'F': fullname = arg; break;
  case 'b':
    if (!*arg) fatal(100, USAGE);
    mode = *arg;
    break;
  default: break;  /* -i -oi -oem -v -B -N -O -R -V -q ... mean nothing here */
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

/* run: exec a program from the home's bin/ if it is there. */
static void run(const char *prog, char **argv)
{
  stralloc path = {0};
  if (!home_path(&path, "bin/") || !stralloc_cats(&path, prog) || !stralloc_0(&path)) fatal_nomem();
  --path.len;
  if (access(path.s, X_OK) != 0) return;
  execv(path.s, argv);
  fatal_sys(111, "unable to run ", path.s, " (#4.3.0)");
}

static void list_queue(void)
{
  char *argv[] = { "qmail-qread", 0 };
  run("qmail-qread", argv);
  static const char msg[] =
    "mailq: this host keeps no mail queue: every message goes to the hub\n"
    "named in control/qmqpservers at once, or the sender is told it failed.\n";
  (void)!write(1, msg, sizeof msg - 1);
  _exit(0);
}

static void smtp_session(void)
{
  char *argv[] = { "qmail-smtpd", 0 };
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
  fatal(100, "-bs needs qmail-smtpd, which this home does not have: it is a leaf (#5.3.5)");
}

static void aliases(void)
{
  fatal(100, "qmail has no aliases file: system aliases are ~alias/.qmail-NAME files "
        "on the hub and users forward with ~/.qmail files; see dot-qmail(5) (#5.3.5)");
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
  switch (mode) {
  case 'm': send(argc, argv, first);
  case 'p': list_queue(); break;
  case 's': smtp_session(); break;
  case 'i': aliases(); break;
  default: fatal(100, "unsupported mode -b", (char[]){ mode, 0 }, " (#5.3.5)");
  }
  return 0;
}
