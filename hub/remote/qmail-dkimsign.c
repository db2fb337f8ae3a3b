/* qmail-dkimsign: sign a message with a domain's DKIM keys (dkimsign.h;
 * man page qmail-dkimsign.8).
 *
 *   qmail-dkimsign [-t SECONDS] SENDER-OR-DOMAIN < message > signed
 *
 * The keys are control/dkim/DOMAIN/SELECTOR.key; one DKIM-Signature field per
 * key is written before the message, which follows unchanged. A message
 * that is not a regular file is first copied to an unlinked file in
 * $TMPDIR (or /tmp): the body is hashed before the header can be written.
 * Exit 0 signed; 100 written unsigned (no key for the domain, no From
 * field, a header over 256 KB; said on fd 2); 111 nothing usable written
 * (a key that cannot be used, a read or write error, no memory). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "dkimsign.h"
#include "q_err.h"
#include "q_io.h"

static char buf[65536];

static void usage(void)
{
  fatal(100, "usage: qmail-dkimsign [-t seconds] sender-or-domain");
}

/* spool: a non-regular fd 0 into an unlinked file; the fd to read from. */
static int input(void)
{
  struct stat st;
  const char *dir = getenv("TMPDIR");
  int fd;
  if (fstat(0, &st) == 0 && S_ISREG(st.st_mode) && lseek(0, 0, SEEK_CUR) >= 0) return 0;
  fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) fatal_sys(111, "unable to make a temporary file");
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fatal_sys(111, "unable to read the message");
    if (n == 0) break;
    if (io_writeall(fd, buf, (size_t)n, 0) < 0) fatal_sys(111, "unable to write the temporary file");
  }
  if (lseek(fd, 0, SEEK_SET) < 0) fatal_sys(111, "unable to read the temporary file");
  return fd;
}

/* copy: the message from fd (at off) to fd 1. */
static void copy(int fd, off_t off)
{
  if (lseek(fd, off, SEEK_SET) < 0) fatal_sys(111, "unable to read the message");
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fatal_sys(111, "unable to read the message");
    if (n == 0) return;
    if (io_writeall(1, buf, (size_t)n, 0) < 0) fatal_sys(111, "unable to write the output");
  }
}

/* hash: feed the whole message to d; the line end style of its first line. */
static const char *hash(int fd, struct dkimsign *d)
{
  const char *eol = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fatal_sys(111, "unable to read the message");
    if (n == 0) break;
    if (!eol) {
      char *lf = memchr(buf, '\n', (size_t)n);
      if (lf) eol = lf > buf && lf[-1] == '\r' ? "\r\n" : "\n";
    }
    dkimsign_put(d, buf, (size_t)n);
  }
  return eol ? eol : "\n";
}

static long long when(const char *s)
{
  char *end;
  long long t;
  errno = 0;
  t = strtoll(s, &end, 10);
  if (errno || !*s || *end || t < 0) usage();
  return t;
}

int main(int argc, char **argv)
{
  static struct dkim_keys ks;
  static struct dkimsign d;
  static stralloc out, a;   /* static: still reachable at exit */
  char dom[DKIM_DOMMAX + 1];
  const char *why = 0, *eol, *arg;
  long long now = (long long)time(0);
  off_t start;
  int fd, r;
  progname = "qmail-dkimsign";
  if (argc == 4 && strcmp(argv[1], "-t") == 0) { now = when(argv[2]); arg = argv[3]; }
  else if (argc == 2) arg = argv[1];
  else usage();
  if (!strchr(arg, '@')) {          /* a domain: take it as an address's */
    if (!stralloc_copys(&a, "@") || !stralloc_cats(&a, arg) || !stralloc_0(&a)) fatal_nomem();
    arg = a.s;
  }
  if (!dkim_domain(arg, dom)) fatal(100, "no domain to sign for in ", arg);
  fd = input();
  start = lseek(fd, 0, SEEK_CUR);
  r = dkim_loadkeys(&ks, dom);
  if (r < 0) fatal(111, "cannot use ", ks.file.s, ": ", ks.why);
  if (r == 0) why = "no key in control/dkim/ for this domain";
  if (!dkimsign_start(&d)) fatal_nomem();
  eol = hash(fd, &d);
  if (r > 0) r = dkimsign_finish(&d, &ks, now, eol, &out, &why);
  if (r < 0) fatal(111, "unable to sign: ", why);
  if (r > 0 && io_writeall(1, out.s, out.len, 0) < 0) fatal_sys(111, "unable to write the output");
  copy(fd, start);
  if (r == 0) {
    warn("not signed: ", why);
    return 100;
  }
  return 0;
}
