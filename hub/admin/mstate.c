/* mstate.c: the counters' state file and their Prometheus text form
 * (contract in mcount.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "mcount.h"

static const struct fam { const char *name, *type, *help; } fams[] = {
  { "qmail_messages_queued_total", "counter", "Messages qmail-send took into the queue (new msg), from any source." },
  { "qmail_messages_completed_total", "counter", "Messages that left the queue with every recipient done (end msg)." },
  { "qmail_deliveries_started_total", "counter", "Delivery attempts started, one per recipient, by channel." },
  { "qmail_delivered_total", "counter", "Delivery attempts that succeeded, by channel." },
  { "qmail_deferred_total", "counter", "Delivery attempts that failed temporarily (retried later), by channel." },
  { "qmail_bounced_total", "counter", "Delivery attempts that failed permanently (the recipient goes into a bounce), by channel." },
  { "qmail_bounce_messages_total", "counter", "Bounce messages injected, single or double." },
  { "qmail_bounce_discarded_total", "counter", "Double and triple bounces discarded." },
  { "qmail_sessions_total", "counter", "Connections accepted, by service." },
  { "qmail_refused_total", "counter", "Refusals sent by the servers (4xx, 5xx, QMTP/QMQP Z and D, drops), by service and reason." },
  { "qmail_metrics_log_lines_skipped_total", "counter", "Log lines longer than the cap, not read." },
  { "qmail_metrics_unmatched_results_total", "counter", "Delivery results whose start was not seen (older than the logs kept)." },
};
#define NFAMS (sizeof fams / sizeof fams[0])

static const char *const svcnames[] = { "smtpd", "smtps", "submission", "qmtpd", "qmtps", "qmqpd", "pop3d", "pop3s" };

void mc_defaults(struct mcount *m)
{
  static const char *const chfams[] = { "qmail_deliveries_started_total", "qmail_delivered_total",
                                        "qmail_deferred_total", "qmail_bounced_total" };
  char key[MC_KEY];
  size_t i;
  mc_series(m, "qmail_messages_queued_total");
  mc_series(m, "qmail_messages_completed_total");
  for (i = 0; i < 4; i++) {
    snprintf(key, sizeof key, "%s{channel=\"local\"}", chfams[i]); mc_series(m, key);
    snprintf(key, sizeof key, "%s{channel=\"remote\"}", chfams[i]); mc_series(m, key);
  }
  mc_series(m, "qmail_bounce_messages_total{kind=\"single\"}");
  mc_series(m, "qmail_bounce_messages_total{kind=\"double\"}");
  mc_series(m, "qmail_bounce_discarded_total");
  for (i = 0; i < sizeof svcnames / sizeof svcnames[0]; i++) {
    snprintf(key, sizeof key, "qmail_sessions_total{service=\"%s\"}", svcnames[i]);
    mc_series(m, key);
  }
}

static int keyok(const char *k)
{
  return *k && strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_{}=\",") == strlen(k);
}

static int stampok(const char *s)
{
  return strlen(s) == MTAIL_STAMP && s[0] == '@' && strspn(s + 1, "0123456789abcdef") == MTAIL_STAMP - 1;
}

/* load_line: one line of the state file; 0 ok, -1 damaged */
static int load_line(struct mcount *m, const char *b)
{
  char key[MC_KEY + 1], stamp[64], ch;
  unsigned long long a, c;
  unsigned long s[4];
  int i, n = 0;
  unsigned long long *v;
  if (sscanf(b, "p %d %llu %llu %63s%n", &i, &a, &c, stamp, &n) == 4 && !b[n]) {
    if (i < 0 || i >= MC_NSVC || (strcmp(stamp, "-") && !stampok(stamp))) return -1;
    m->pos[i].ino = a; m->pos[i].off = c;
    strcpy(m->pos[i].stamp, strcmp(stamp, "-") ? stamp : "");
  } else if (sscanf(b, "c %128s %llu%n", key, &a, &n) == 2 && !b[n]) {
    if (!keyok(key) || !(v = mc_series(m, key))) return -1;
    *v = a;
  } else if (sscanf(b, "d %llu %c%n", &a, &ch, &n) == 2 && !b[n]) {
    if ((ch != 'l' && ch != 'r') || mc_pend_put(a, ch) == -1) return -1;
  } else if (sscanf(b, "s %lu %lu %lu %lu%n", &s[0], &s[1], &s[2], &s[3], &n) == 4 && !b[n]) {
    memcpy(m->status, s, sizeof s);
    m->status_known = 1;
  } else if (sscanf(b, "x %llu %llu%n", &a, &c, &n) == 2 && !b[n]) {
    m->skipped = a; m->unmatched = c;
  } else return -1;
  return 0;
}

int mc_load(struct mcount *m, const char *path, unsigned long *line)
{
  char b[512];
  FILE *f = fopen(path, "r");
  size_t l;
  *line = 0;
  if (!f) return errno == ENOENT ? 0 : -1;
  while (fgets(b, sizeof b, f)) {
    ++*line;
    l = strlen(b);
    if (!l || b[l - 1] != '\n') break;
    b[l - 1] = 0;
    if (*line == 1 ? strcmp(b, "qmail-metrics 1") != 0 : load_line(m, b) == -1) break;
    l = 0;
  }
  if (ferror(f)) { int e = errno; fclose(f); errno = e; return -1; }
  fclose(f);
  if (*line == 0 || l) { errno = EINVAL; if (!*line) *line = 1; return -1; }
  *line = 0;
  return 0;
}

struct pctx { FILE *f; };
static void save_pend(unsigned long long d, char ch, void *ctx)
{
  fprintf(((struct pctx *)ctx)->f, "d %llu %c\n", d, ch);
}

int mc_save(const struct mcount *m, const char *path)
{
  char tmp[4096];
  struct pctx c;
  FILE *f;
  size_t i;
  int e;
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) { errno = ENAMETOOLONG; return -1; }
  if (!(f = fopen(tmp, "w"))) return -1;
  fprintf(f, "qmail-metrics 1\n");
  for (i = 0; i < MC_NSVC; i++)
    fprintf(f, "p %zu %llu %llu %s\n", i, m->pos[i].ino, m->pos[i].off,
            m->pos[i].stamp[0] ? m->pos[i].stamp : "-");
  for (i = 0; i < m->n; i++) fprintf(f, "c %s %llu\n", m->c[i].key, m->c[i].v);
  c.f = f;
  mc_pend_each(save_pend, &c);
  if (m->status_known)
    fprintf(f, "s %lu %lu %lu %lu\n", m->status[0], m->status[1], m->status[2], m->status[3]);
  fprintf(f, "x %llu %llu\n", m->skipped, m->unmatched);
  if (fflush(f) == EOF || fsync(fileno(f)) == -1) { e = errno; fclose(f); unlink(tmp); errno = e; return -1; }
  if (fclose(f) == EOF) { e = errno; unlink(tmp); errno = e; return -1; }
  if (rename(tmp, path) == -1) { e = errno; unlink(tmp); errno = e; return -1; }
  return 0;
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
  fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int mc_print(const struct mcount *m, FILE *f)
{
  size_t i, k, l;
  for (k = 0; k < NFAMS; k++) {
    l = strlen(fams[k].name);
    head(f, fams[k].name, fams[k].type, fams[k].help);
    if (!strcmp(fams[k].name, "qmail_metrics_log_lines_skipped_total")) { fprintf(f, "%s %llu\n", fams[k].name, m->skipped); continue; }
    if (!strcmp(fams[k].name, "qmail_metrics_unmatched_results_total")) { fprintf(f, "%s %llu\n", fams[k].name, m->unmatched); continue; }
    for (i = 0; i < m->n; i++)
      if (!strncmp(m->c[i].key, fams[k].name, l) && (!m->c[i].key[l] || m->c[i].key[l] == '{'))
        fprintf(f, "%s %llu\n", m->c[i].key, m->c[i].v);
  }
  if (m->status_known) {
    head(f, "qmail_deliveries_running", "gauge", "Deliveries (local) and jobs (remote) running, from qmail-send's last status line.");
    fprintf(f, "qmail_deliveries_running{channel=\"local\"} %lu\nqmail_deliveries_running{channel=\"remote\"} %lu\n",
            m->status[0], m->status[2]);
    head(f, "qmail_concurrency_limit", "gauge", "Most deliveries (local) and job slots (remote) at once, from qmail-send's last status line.");
    fprintf(f, "qmail_concurrency_limit{channel=\"local\"} %lu\nqmail_concurrency_limit{channel=\"remote\"} %lu\n",
            m->status[1], m->status[3]);
  }
  return ferror(f) ? -1 : 0;
}
