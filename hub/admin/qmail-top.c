/* qmail-top: a live one-screen view of the hub for an administrator
 * (qmail-top.8; qmailctl top).
 *   qmail-top [-n COUNT] [-d SECONDS] [-l LOGDIR]
 * Every SECONDS (2): the queue (messages, not yet preprocessed, the
 * oldest one's age), local and remote deliveries running against their
 * concurrency (qmail-send's last status line), and per-minute rates of
 * messages accepted into the queue, deliveries done, deferred and
 * bounced, refusals and sessions: the events of the last 60 seconds by
 * their log time stamps. The logs are read as qmail-metrics reads them
 * (mtail.h, mcount.h), from their start, in memory: qmail-metrics' state
 * file is not touched. On a terminal the screen is redrawn and q (or
 * SIGINT) ends it; with -n, or when stdout is not a terminal, COUNT
 * frames (default 1 then) are printed as plain text, one after another.
 * Exit 0; 100 usage; 111 a log could not be read. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "q_err.h"
#include "q_home.h"
#include "q_io.h"
#include "mcount.h"
#include "mqueue.h"

static struct mcount mc;
static struct { long long sec[60]; unsigned long n[60]; } rate[EV_N];
static struct termios saved;
static int raw;
static volatile sig_atomic_t stop;

static void on_event(enum mc_ev e, long long secs, void *ctx)
{
  size_t i = (size_t)(secs % 60);
  (void)ctx;
  if (secs <= 0) return;
  if (rate[e].sec[i] != secs) { rate[e].sec[i] = secs; rate[e].n[i] = 0; }
  rate[e].n[i]++;
}

/* per_minute: events of kind e stamped within the last 60 seconds */
static unsigned long per_minute(enum mc_ev e, long long now)
{
  unsigned long s = 0;
  size_t i;
  for (i = 0; i < 60; i++)
    if (rate[e].sec[i] > now - 60 && rate[e].sec[i] <= now) s += rate[e].n[i];
  return s;
}

/* queue: the queue's gauges (q->up 0 when it cannot be read) */
static void queue(struct mqueue *q)
{
  const char *bad;
  if (mqueue_read(q, &bad) == -2) fatal_sys(111, "unable to go back to the working directory");
}

static void age(char *b, size_t n, long long s)
{
  if (s < 120) snprintf(b, n, "%llds", s);
  else if (s < 7200) snprintf(b, n, "%lldm", s / 60);
  else if (s < 172800) snprintf(b, n, "%lldh %lldm", s / 3600, s / 60 % 60);
  else snprintf(b, n, "%lldd %lldh", s / 86400, s / 3600 % 24);
}

static void frame(int clear)
{
  struct mqueue q;
  char a[32] = "-", ts[32];
  time_t now = time(0);
  struct tm tm;
  queue(&q);
  if (q.up && q.oldest) age(a, sizeof a, now > q.oldest ? (long long)(now - q.oldest) : 0);
  if (!gmtime_r(&now, &tm) || !strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S UTC", &tm)) strcpy(ts, "?");
  if (clear) printf("\033[H\033[2J");
  printf("qmail-top  %s%s\n\n", ts, clear ? "  (q quits)" : "");
  if (q.up) printf("queue:      %lu messages, %lu not yet preprocessed, oldest %s\n", q.mess, q.todo, a);
  else printf("queue:      unreadable (run me as root or as a member of group qmail)\n");
  if (mc.status_known)
    printf("running:    local %lu/%lu  remote %lu/%lu\n", mc.status[0], mc.status[1], mc.status[2], mc.status[3]);
  else printf("running:    local -  remote -  (no status line logged yet)\n");
  printf("per minute: accepted %lu  delivered %lu  deferred %lu  bounced %lu  refused %lu  sessions %lu\n",
         per_minute(EV_QUEUED, now), per_minute(EV_DELIVERED, now), per_minute(EV_DEFERRED, now),
         per_minute(EV_BOUNCED, now), per_minute(EV_REFUSED, now), per_minute(EV_SESSION, now));
  printf("in the logs: accepted %llu  delivered %llu  deferred %llu  bounced %llu  refused %llu  sessions %llu\n",
         mc_sum(&mc, "qmail_messages_queued_total"), mc_sum(&mc, "qmail_delivered_total"),
         mc_sum(&mc, "qmail_deferred_total"), mc_sum(&mc, "qmail_bounced_total"),
         mc_sum(&mc, "qmail_refused_total"), mc_sum(&mc, "qmail_sessions_total"));
  if (!clear) printf("\n");
  fflush(stdout);
}

static void restore(void) { if (raw) tcsetattr(0, TCSANOW, &saved); raw = 0; }
static void on_int(int s) { (void)s; stop = 1; }

/* wait_key: up to ms, or until q (a terminal) or SIGINT: 1 quit */
static int wait_key(int ms, int term)
{
  struct pollfd p = { 0, POLLIN, 0 };
  long long end = io_now_ms() + ms;
  char c;
  while (!stop) {
    int left = (int)(end - io_now_ms());
    if (left <= 0) return 0;
    if (!term) { struct timespec t = { left / 1000, (left % 1000) * 1000000L }; nanosleep(&t, 0); continue; }
    if (poll(&p, 1, left) == 1 && read(0, &c, 1) == 1 && (c == 'q' || c == 'Q')) return 1;
  }
  return 1;
}

int main(int argc, char **argv)
{
  static char deflog[4096];
  const char *logdir = deflog, *bad = "";
  long count = -1, delay = 2;
  int opt, term;
  progname = "qmail-top";
  while ((opt = getopt(argc, argv, "n:d:l:")) != -1) {
    char *e;
    if (opt == 'n' && (count = strtol(optarg, &e, 10)) > 0 && !*e && count < 1000000) continue;
    if (opt == 'd' && (delay = strtol(optarg, &e, 10)) > 0 && !*e && delay <= 3600) continue;
    if (opt == 'l') { logdir = optarg; continue; }
    fatal(100, "usage: qmail-top [-n COUNT] [-d SECONDS] [-l LOGDIR]");
  }
  if (optind != argc) fatal(100, "usage: qmail-top [-n COUNT] [-d SECONDS] [-l LOGDIR]");
  if ((size_t)snprintf(deflog, sizeof deflog, "%s/log", home_dir()) >= sizeof deflog) fatal(111, "home name too long");
  if (logdir[0] != '/') fatal(100, "qmail-top: LOGDIR must be an absolute path");
  term = count < 0 && isatty(1) && isatty(0);
  if (count < 0 && !term) count = 1;
  mc_init(&mc);
  mc.ev = on_event;
  signal(SIGINT, on_int);
  signal(SIGTERM, on_int);
  if (term && tcgetattr(0, &saved) == 0) {
    struct termios t = saved;
    t.c_lflag &= (tcflag_t)~(ICANON | ECHO);
    if (tcsetattr(0, TCSANOW, &t) == 0) { raw = 1; atexit(restore); }
  }
  for (;;) {
    if (mc_read_logs(&mc, logdir, &bad) == -1) { restore(); fatal_sys(111, "unable to read ", bad); }
    frame(term);
    if (count > 0 && --count == 0) break;
    if (wait_key((int)delay * 1000, term)) break;
  }
  restore();
  return 0;
}
