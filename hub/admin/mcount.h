/* mcount.h: the hub's counters, built from its services' logs (mtail.h)
 * and kept across runs in a state file, for qmail-metrics and qmail-top.
 *
 * From qmail-send's log (qmail-log(5)):
 *   new msg                 qmail_messages_queued_total
 *   end msg                 qmail_messages_completed_total
 *   starting delivery ... to local|remote
 *                           qmail_deliveries_started_total{channel}
 *   delivery D: success / deferral / failure
 *                           qmail_delivered_total, qmail_deferred_total,
 *                           qmail_bounced_total {channel} (the channel
 *                           of delivery D, remembered from its start)
 *   bounce msg ...: injected / double bounce injected
 *                           qmail_bounce_messages_total{kind="single|double"}
 *   double / triple bounce: discarding
 *                           qmail_bounce_discarded_total
 *   status: local L/LC remote R/RC
 *                           qmail_deliveries_running{channel},
 *                           qmail_concurrency_limit{channel} (gauges)
 * From the servers' logs (srvfork.h, tcpserver -v; refuselog.h):
 *   PROG: ok PID ...        qmail_sessions_total{service}
 *   PROG: refused: IP STAGE CODE ENH ...
 *                           qmail_refused_total{service,reason}
 * service is the log directory's name without "qmail-" (smtpd, smtps,
 * submission, qmtpd, qmtps, qmqpd, pop3d, pop3s); reason one of a closed
 * set made from STAGE, CODE and ENH (mcount.c, reason()). No label ever
 * holds text from a log line: no address, no host, no client byte.
 *
 * The state file (text, written whole and renamed into place):
 *   qmail-metrics 1
 *   p SERVICE INODE OFFSET STAMP|-      where each log was read up to
 *   c SERIES VALUE                      a counter
 *   d DELIVERY CHANNEL                  a delivery started, not answered
 *   s L LC R RC                         the last status line
 *   x SKIPPED UNMATCHED                 lines too long; results without a start
 * At most MC_SERIES counters and MC_PENDING deliveries in flight (a start
 * beyond it is not remembered: its result counts as unmatched). */
#ifndef MCOUNT_H
#define MCOUNT_H

#include "mtail.h"

#define MC_SERIES 512
#define MC_KEY 128
#define MC_PENDING 65536
#define MC_NSVC 9

extern const char *const mc_svc[MC_NSVC];   /* log directory names; [0] qmail-send */

/* events, for qmail-top's rates */
enum mc_ev { EV_QUEUED, EV_DELIVERED, EV_DEFERRED, EV_BOUNCED, EV_REFUSED, EV_SESSION, EV_N };

struct mcount {
  struct { char key[MC_KEY]; unsigned long long v; } c[MC_SERIES];
  size_t n;
  struct mpos pos[MC_NSVC];
  unsigned long status[4];     /* local running, limit, remote running, limit */
  int status_known;
  unsigned long long skipped, unmatched;
  void (*ev)(enum mc_ev e, long long secs, void *ctx);   /* may be NULL */
  void *evctx;
};

/* mc_init: all zero, no deliveries in flight; the series of the closed
 * label sets (channel, service, kind) made at 0 (mc_defaults) */
void mc_init(struct mcount *m);
void mc_defaults(struct mcount *m);
/* mc_load: the state file (missing: a fresh start). 0 ok, -1 unreadable
 * (errno) or damaged (errno EINVAL, *line its line number) */
int mc_load(struct mcount *m, const char *path, unsigned long *line);
/* mc_save: write the state file (path.tmp, then rename). 0 ok, -1 */
int mc_save(const struct mcount *m, const char *path);
/* mc_read_logs: the new lines of logdir/SERVICE for every service.
 * 0 ok, -1 a log could not be read (errno, *bad its name) */
int mc_read_logs(struct mcount *m, const char *logdir, const char **bad);
/* mc_get: the value of series key (0 if never counted) */
unsigned long long mc_get(const struct mcount *m, const char *key);
/* mc_sum: the sum of every series of family name (name or name{...}) */
unsigned long long mc_sum(const struct mcount *m, const char *name);
/* mc_series: the counter of series key, made at 0 if new; NULL when
 * MC_SERIES are in use or the key is too long */
unsigned long long *mc_series(struct mcount *m, const char *key);
/* mc_pend_put: delivery d ('l' local, 'r' remote) is in flight; -1 full */
int mc_pend_put(unsigned long long d, char ch);
/* mc_pend_each: fn for each delivery in flight */
void mc_pend_each(void (*fn)(unsigned long long d, char ch, void *ctx), void *ctx);
/* mc_print: the counters and status gauges in Prometheus' text format
 * (HELP, TYPE, then the series) to fd, through stdio's f */
#include <stdio.h>
int mc_print(const struct mcount *m, FILE *f);

#endif
