/* qmail-metrics: the hub's counters and queue gauges in Prometheus' text
 * format (qmail-metrics.8, docs/metrics.md).
 *   qmail-metrics [-n] [-o FILE | -H] [-s STATE] [-l LOGDIR]
 * Reads what the services logged since the last run (mtail.h, counted by
 * mcount.h; where it stopped is kept in STATE, default
 * HOME/log/qmail-metrics.state, so every counter only grows across runs
 * and log rotations), scans the queue as qmail-qstat does (messages, not
 * yet preprocessed, the oldest message's age from its mess/ file), and
 * prints the lot to stdout or, with -o, into FILE, written whole and
 * renamed into place (for node_exporter's textfile collector: FILE ends
 * in .prom). -H: answer one HTTP GET on fd 0 and 1 (mhttp.h) with the
 * same text, for a scrape endpoint run by tcpserver on loopback.
 * -n: read only, the state is not advanced. Runs one at a
 * time (STATE.lock). Exit 0; 100 usage; 111 a log, the state or the
 * output could not be used (message on fd 2). An unreadable queue is not
 * fatal: qmail_queue_up is 0 and the queue gauges are left out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "q_err.h"
#include "q_home.h"
#include "mcount.h"
#include "mhttp.h"
#include "mqueue.h"

static struct mcount mc;

/* queue: the queue's gauges; a queue that cannot be read is logged */
static void queue(struct mqueue *q)
{
  const char *bad = "";
  int r = mqueue_read(q, &bad);
  if (r == -2) fatal_sys(111, "unable to go back to the working directory");
  if (r == -1) warn_sys("unable to read the queue (", *bad ? bad : "queue", ")");
}

static void print_queue(FILE *f, const struct mqueue *q)
{
  long long age = 0;
  fprintf(f, "# HELP qmail_queue_up 1 if the queue could be read for this output, else 0.\n"
             "# TYPE qmail_queue_up gauge\nqmail_queue_up %d\n", q->up);
  if (!q->up) return;
  if (q->oldest) { age = (long long)(time(0) - q->oldest); if (age < 0) age = 0; }
  fprintf(f, "# HELP qmail_queue_messages Messages in the queue (mess/).\n"
             "# TYPE qmail_queue_messages gauge\nqmail_queue_messages %lu\n", q->mess);
  fprintf(f, "# HELP qmail_queue_unpreprocessed_messages Messages in the queue not yet preprocessed (todo/).\n"
             "# TYPE qmail_queue_unpreprocessed_messages gauge\nqmail_queue_unpreprocessed_messages %lu\n", q->todo);
  fprintf(f, "# HELP qmail_queue_oldest_message_age_seconds Age of the oldest message in the queue (0 when empty).\n"
             "# TYPE qmail_queue_oldest_message_age_seconds gauge\nqmail_queue_oldest_message_age_seconds %lld\n", age);
}

/* output: everything to f; 0 ok, -1 write error */
static int output(FILE *f, const struct mqueue *q)
{
  mc_print(&mc, f);
  print_queue(f, q);
  fprintf(f, "# HELP qmail_metrics_last_run_timestamp_seconds When this output was made.\n"
             "# TYPE qmail_metrics_last_run_timestamp_seconds gauge\n"
             "qmail_metrics_last_run_timestamp_seconds %lld\n", (long long)time(0));
  return fflush(f) == EOF || ferror(f) ? -1 : 0;
}

/* write_file: the output into path.tmp, renamed to path */
static void write_file(const char *path, const struct mqueue *q)
{
  char tmp[4096];
  FILE *f;
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) fatal(111, "output name too long");
  if (!(f = fopen(tmp, "w"))) fatal_sys(111, "unable to write ", tmp);
  if (output(f, q) == -1 || fsync(fileno(f)) == -1 || fchmod(fileno(f), 0644) == -1) {
    unlink(tmp); fatal_sys(111, "unable to write ", tmp);
  }
  if (fclose(f) == EOF) { unlink(tmp); fatal_sys(111, "unable to write ", tmp); }
  if (rename(tmp, path) == -1) { unlink(tmp); fatal_sys(111, "unable to rename ", tmp, " to ", path); }
}

/* lock: one run at a time over a state file */
static void lock(const char *state)
{
  char p[4096];
  int fd;
  if ((size_t)snprintf(p, sizeof p, "%s.lock", state) >= sizeof p) fatal(111, "state name too long");
  fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd == -1 && errno == EACCES) fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd == -1) fatal_sys(111, "unable to open ", p);
  if (flock(fd, LOCK_EX) == -1) fatal_sys(111, "unable to lock ", p);
}

int main(int argc, char **argv)
{
  static char defstate[4096], deflog[4096];
  const char *out = 0, *state = defstate, *logdir = deflog, *bad = "";
  struct mqueue q;
  unsigned long line;
  int opt, readonly = 0, http = 0;
  progname = "qmail-metrics";
  while ((opt = getopt(argc, argv, "nHo:s:l:")) != -1) {
    if (opt == 'n') readonly = 1;
    else if (opt == 'H') http = 1;
    else if (opt == 'o') out = optarg;
    else if (opt == 's') state = optarg;
    else if (opt == 'l') logdir = optarg;
    else fatal(100, "usage: qmail-metrics [-n] [-o FILE | -H] [-s STATE] [-l LOGDIR]");
  }
  if (optind != argc || (http && out)) fatal(100, "usage: qmail-metrics [-n] [-o FILE | -H] [-s STATE] [-l LOGDIR]");
  if (http) {
    int st = mhttp_read(0);
    if (st != 200) { mhttp_head(st); fflush(stdout); return 0; }
  }
  if ((size_t)snprintf(defstate, sizeof defstate, "%s/log/qmail-metrics.state", home_dir()) >= sizeof defstate ||
      (size_t)snprintf(deflog, sizeof deflog, "%s/log", home_dir()) >= sizeof deflog)
    fatal(111, "home name too long");
  lock(state);
  mc_init(&mc);
  if (mc_load(&mc, state, &line) == -1) {
    if (errno == EINVAL) {
      char n[24];
      snprintf(n, sizeof n, "%lu", line);
      fatal(111, "state file ", state, " is damaged at line ", n, ": remove it to count from the logs again");
    }
    fatal_sys(111, "unable to read ", state);
  }
  if (mc_read_logs(&mc, logdir, &bad) == -1) fatal_sys(111, "unable to read ", bad);
  queue(&q);
  if (!readonly && mc_save(&mc, state) == -1) fatal_sys(111, "unable to write ", state);
  if (http) mhttp_head(200);
  if (out) write_file(out, &q);
  else if (output(stdout, &q) == -1) fatal_sys(111, "unable to write output");
  return 0;
}
