/* qmail-send: the hub's queue manager (docs/queue.md; hub/queue/QUEUE.md).
 * No arguments; started by qmail-start in HOME with these descriptors:
 *   0 log out, 1/2 jobs to / reports from qmail-lspawn,
 *   3/4 jobs to / reports from qmail-rspawn (optional: without them remote
 *   recipients are deferred, never lost),
 *   5/6 requests to / answers from qmail-clean (optional: without them
 *   qmail-send unlinks itself),
 *   7 a pipe whose EOF tells qmail-queued that qmail-send is gone
 *   (optional; only held, close-on-exec like the others).
 * This file is the start and the event loop; the work is in modules:
 *   preproc.c   todo/ -> info/local/remote in batches, one flush each
 *               (todo.c preprocesses one message; trigger.c reads the
 *               FIFO that names new messages; load.c schedules them)
 *   channel.c   the local and remote channels: retry schedule, jobs to
 *               qmail-lspawn / qmail-rspawn (qspawn.h wire format)
 *   report.c    delivery reports, checkpoints in the channel files
 *               (chanfile.h), failures collected in bounce/N
 *   finish.c    the end of a message: the bounce (bounce.h), unlinks
 *   stale.c     stale files, at start and every CLEAN_EVERY
 *   dfree.c     removed queue files stay open until their removal is
 *               durable (deferred free: one flush, at most a second late)
 *   sclean.c    requests to qmail-clean; sconf.c the settings; slog.c
 *               the log lines; msg.c the table of known messages.
 * Each loop round: signals, a preprocessing step, stale files when due,
 * messages to finish, deliveries to start; then one ppoll for the
 * trigger and the spawners' reports, until the next timer.
 * Signals: TERM = stop starting deliveries, wait for running ones (at most
 * TERM_WAIT s), exit 0; ALRM = retry everything now; HUP = reload the
 * rewriting rules, bounce settings, queuelifetime and holdremote.
 * A control file that is present but unreadable or invalid is never the
 * default: "alert: cannot use control/NAME: REASON" in the log, and at
 * start qmail-send exits 111; on HUP the old value stays; a bounce waits
 * while control/bouncemaxbytes is unusable. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "channel.h"
#include "dfree.h"
#include "finish.h"
#include "load.h"
#include "preproc.h"
#include "report.h"
#include "sclean.h"
#include "sconf.h"
#include "slog.h"
#include "stale.h"
#include "trigger.h"

#define TERM_WAIT 60             /* seconds to wait for deliveries on TERM */

static volatile sig_atomic_t got_term, got_alrm, got_hup;
static sigset_t waitmask;      /* the mask during ppoll: the signals open */
static long long next_clean;   /* stale-file cleanup: at start, then every CLEAN_EVERY */

static void on_sig(int s)
{
  if (s == SIGTERM) got_term = 1;
  else if (s == SIGALRM) got_alrm = 1;
  else if (s == SIGHUP) got_hup = 1;
}

/* signals: TERM, ALRM and HUP are blocked except while waiting in ppoll,
 * so the flags change only there; SIGPIPE is ignored */
static void signals(void)
{
  struct sigaction sa;
  sigset_t block;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, 0);
  sa.sa_handler = on_sig;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGALRM, &sa, 0);
  sigaction(SIGHUP, &sa, 0);
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGALRM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &waitmask);
  sigdelset(&waitmask, SIGTERM);
  sigdelset(&waitmask, SIGALRM);
  sigdelset(&waitmask, SIGHUP);
}

static int fd_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

static void cloexec(int fd) { fcntl(fd, F_SETFD, FD_CLOEXEC); }

/* setup: descriptors, settings, the queue and its lock */
static void setup(void)
{
  int lockfd, c, remote;
  if (!fd_open(0) || !fd_open(1) || !fd_open(2))
    fatal(111, "descriptors 0, 1 and 2 must be open");
  for (c = 0; c <= 7; c++) if (fd_open(c)) cloexec(c);
  remote = fd_open(3) && fd_open(4);
  if (fd_open(5) && fd_open(6)) clean_init(5, 6);
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to chdir to ", home_dir());
  conf_load(1);
  chan_init(0, "local", QDIR_LOCAL, 1, 2, conc_get("concurrencylocal", 10));
  chan_init(1, "remote", QDIR_REMOTE, remote ? 3 : -1, remote ? 4 : -1,
            rconf_slots(conc_get("concurrencyremote", CONC_REMOTE_DEFAULT)));
  if (chdir(QUEUE_DIR) == -1) fatal_sys(111, "unable to chdir to ", QUEUE_DIR);
  lockfd = open(QFILE_SENDMUTEX, O_RDWR | O_CLOEXEC);
  if (lockfd == -1) fatal_sys(111, "unable to open ", QFILE_SENDMUTEX);
  if (flock(lockfd, LOCK_EX | LOCK_NB) == -1) fatal_sys(111, "unable to lock ", QFILE_SENDMUTEX);
}

/* work: one round of everything that is due; returns when next to wake,
 * and the time it ended in *t */
static long long work(long long *t)
{
  long long wake;
  int c;
  pre_step(*t);
  if (*t >= next_clean) { next_clean = *t + CLEAN_EVERY; clean_stale(); }
  finish_due();
  for (c = 0; c < NCHAN; c++) pump(c, 0);
  *t = now();
  dfree_due(*t);
  wake = dfree_wake(pre_wake(*t));
  if (next_clean < wake) wake = next_clean;
  for (c = 0; c < NCHAN; c++) wake = chan_wake(c, wake);
  return finish_wake(wake);
}

/* wait_events: ppoll on the trigger and the report pipes until wake (at
 * most an hour; a wake less than a second ahead waits a second), then
 * read what is ready. Signals arrive here. */
static void wait_events(long long t, long long wake)
{
  struct pollfd pf[1 + NCHAN];
  int np = 0, ti = -1, ri[NCHAN] = { -1, -1 }, r, c;
  long long tmo = wake - t;
  struct timespec ts;
  if (trig_fd() >= 0 && !got_term) { pf[np].fd = trig_fd(); pf[np].events = POLLIN; ti = np++; }
  for (c = 0; c < NCHAN; c++)
    if (ch[c].repfd >= 0) { pf[np].fd = ch[c].repfd; pf[np].events = POLLIN; ri[c] = np++; }
  if (tmo < 0) tmo = 0;
  if (tmo > 3600) tmo = 3600;
  ts.tv_sec = (time_t)tmo;
  ts.tv_nsec = 0;
  if (wake > t && tmo == 0) ts.tv_sec = 1;
  r = ppoll(pf, (nfds_t)np, &ts, &waitmask);
  if (r < 0) { if (errno == EINTR) return; fatal_sys(111, "poll failed"); }
  if (ti >= 0 && pf[ti].revents) trig_read();
  for (c = 0; c < NCHAN; c++)
    if (ri[c] >= 0 && pf[ri[c]].revents) read_reports(c);
}

int main(int argc, char **argv)
{
  long long term_deadline = 0;
  (void)argv;
  progname = "qmail-send";
  if (argc > 1) fatal(100, "usage: qmail-send");
  setup();
  signals();

  lg_line("status: qmail-send started");
  if (ch[1].jobfd < 0) lg_line("status: no qmail-rspawn: remote deliveries deferred");
  trig_open();
  scan_info();
  lg_s("status: "); lg_n(msg_count()); lg_s(" messages in the queue"); lg_flush();

  for (;;) {
    long long t = now(), wake;
    if (got_hup) { got_hup = 0; lg_line("status: reloading rewriting rules"); conf_load(0); }
    if (got_alrm) { got_alrm = 0; lg_line("status: retrying everything now"); retry_all(); want_scan = 1; }
    if (got_term && !term_deadline) {
      lg_line("status: exiting, waiting for running deliveries");
      chan_exiting = 1;
      term_deadline = t + TERM_WAIT;
    }
    if (got_term) {
      if ((ch[0].busy == 0 && ch[1].busy == 0) || t >= term_deadline) break;
      wake = term_deadline;
    } else {
      wake = work(&t);
    }
    wait_events(t, wake);
  }
  if (ch[0].busy || ch[1].busy) lg_line("status: giving up on running deliveries");
  dfree_end();
  lg_line("status: exiting");
  return 0;
}
