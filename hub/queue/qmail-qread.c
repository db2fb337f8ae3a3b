/* qmail-qread: list the messages in the hub's queue (docs/queue.md sec 10;
 * layout and states in hub/queue/QUEUE.md). No arguments. For each preprocessed
 * message (info/S/N) one line
 *   DD Mon YYYY HH:MM:SS GMT  #N  BYTES  <sender>[  bouncing]
 * (date = info's mtime = when it was preprocessed; BYTES = size of mess/S/N,
 * "?" if it is missing), then one line per recipient, from local/S/N and
 * remote/S/N:
 *   "  local\taddr" / "  remote\taddr"    still to be delivered
 *   "D local\taddr" / "D remote\taddr"    done (delivered or bounced)
 * and at the end, when todo/ holds messages qmail-send has not yet
 * preprocessed, "messages not yet preprocessed: M" (their recipients are
 * not known to be local or remote yet).
 * Addresses and senders are printed with bytes outside printable ASCII as
 * \ooo. Memory does not grow with the queue: one directory and one channel
 * file (hub/send/chanfile.h, 64 KB buffer) are open at a time.
 * Must run as root or as the owner of info/ local/ remote/ (qmails in a
 * root install, the installing user in a single-user home).
 * Exit: 0 listed; 111 the queue cannot be read (a clear message on fd 2),
 * or a message file could not be read (warning, the listing goes on). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "chanfile.h"
#include "q_err.h"
#include "q_home.h"
#include "q_sa.h"
#include "qconf.h"
#include "qname.h"
#include "qscan.h"

static stralloc line;
static int trouble;

static void out_line(void)
{
  if (!stralloc_append(&line, "\n")) fatal_nomem();
  if (fwrite(line.s, 1, line.len, stdout) != line.len)
    fatal_sys(111, "unable to write output");
  line.len = 0;
}

static void cats(const char *s) { if (!stralloc_cats(&line, s)) fatal_nomem(); }
static void catsafe(const char *s, size_t n) { if (!sa_catsafe(&line, s, n)) fatal_nomem(); }
static void catnum(unsigned long long n) { if (!sa_catnum(&line, n)) fatal_nomem(); }

/* warn_file: a file of a message could not be read (not: it vanished). */
static void warn_file(const char *path)
{
  warn_sys("unable to read ", path);
  trouble = 1;
}

/* head: the message line. 0 ok, -1 the message is gone (finished meanwhile). */
static int head(unsigned long long id)
{
  char p[QNAME_MAX], date[64];
  struct chanfile cf;
  struct chanrec r;
  struct stat st;
  struct tm tm;
  time_t t;
  qname_file(p, QDIR_INFO, id);
  if (chanfile_open(&cf, p) == -1) { if (errno != ENOENT) warn_file(p); return -1; }
  if (fstat(cf.fd, &st) == -1) { warn_file(p); chanfile_close(&cf); return -1; }
  t = st.st_mtime;
  if (!gmtime_r(&t, &tm) || !strftime(date, sizeof date, "%d %b %Y %H:%M:%S GMT", &tm))
    strcpy(date, "?");
  line.len = 0;
  cats(date); cats("  #"); catnum(id); cats("  ");
  qname_file(p, QDIR_MESS, id);
  if (stat(p, &st) == 0) catnum((unsigned long long)st.st_size); else cats("?");
  cats("  <");
  if (chanfile_next(&cf, &r) == 1 && r.type == 'F') catsafe(r.addr, r.alen);
  else { cats("?"); errno = EPROTO; qname_file(p, QDIR_INFO, id); warn_file(p); }
  cats(">");
  chanfile_close(&cf);
  snprintf(p, sizeof p, "%s/%llu", QDIR_BOUNCE, id);
  if (stat(p, &st) == 0) cats("  bouncing");
  out_line();
  return 0;
}

/* rcpts: the recipient lines of one channel file. */
static void rcpts(unsigned long long id, const char *dir, const char *name)
{
  char p[QNAME_MAX];
  struct chanfile cf;
  struct chanrec r;
  int rc;
  qname_file(p, dir, id);
  if (chanfile_open(&cf, p) == -1) { if (errno != ENOENT) warn_file(p); return; }
  while ((rc = chanfile_next(&cf, &r)) == 1) {
    if (r.type != 'T' && r.type != 'D') { rc = -1; errno = EPROTO; break; }
    cats(r.type == 'D' ? "D " : "  "); cats(name); cats("\t");
    catsafe(r.addr, r.alen);
    out_line();
  }
  if (rc == -1) warn_file(p);
  chanfile_close(&cf);
}

static int one(unsigned long long id, void *ctx)
{
  (void)ctx;
  if (head(id) == -1) return 0;
  rcpts(id, QDIR_LOCAL, "local");
  rcpts(id, QDIR_REMOTE, "remote");
  return 0;
}

/* cannot: the queue is not readable: say why and who may read it. */
static void cannot(const char *what) __attribute__((noreturn));
static void cannot(const char *what)
{
  if (errno == EACCES || errno == EPERM)
    fatal_sys(111, "unable to read the queue (", what,
              "): run me as root or as the queue's owner (qmails)");
  fatal_sys(111, "unable to read the queue (", what, ")");
}

int main(int argc, char **argv)
{
  const char *bad = "";
  unsigned long todo = 0;
  (void)argv;
  progname = "qmail-qread";
  if (argc > 1) fatal(100, "usage: qmail-qread");
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to chdir to ", home_dir());
  if (chdir(QUEUE_DIR) == -1) cannot(QUEUE_DIR);
  if (qscan_walk(QDIR_INFO, one, 0, &bad) == -1) cannot(bad);
  if (qscan_count(QDIR_TODO, &todo, &bad) == -1) cannot(bad);
  if (todo) {
    line.len = 0;
    cats("messages not yet preprocessed: "); catnum(todo);
    out_line();
  }
  if (fflush(stdout) == EOF || ferror(stdout)) fatal_sys(111, "unable to write output");
  return trouble ? 111 : 0;
}
