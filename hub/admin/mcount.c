/* mcount.c: the hub's counters from its logs, and their state file
 * (contract in mcount.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mcount.h"

const char *const mc_svc[MC_NSVC] = {
  "qmail-send", "qmail-smtpd", "qmail-smtps", "qmail-submission", "qmail-qmtpd",
  "qmail-qmtps", "qmail-qmqpd", "qmail-pop3d", "qmail-pop3s"
};

/* ---- deliveries in flight: delivery number -> channel (open addressing) */
#define PEND_SLOTS 131072   /* a power of two, twice MC_PENDING */
struct pend { unsigned long long dno; char ch; };
static struct pend *pend;
static size_t npend;

static size_t slot_of(unsigned long long d) { return (size_t)((d * 0x9E3779B97F4A7C15ULL) >> 47) & (PEND_SLOTS - 1); }

static void pend_clear(void) { if (pend) memset(pend, 0, PEND_SLOTS * sizeof *pend); npend = 0; }

/* pend_put: remember delivery d on channel ch ('l'/'r'); 0, -1 full */
int mc_pend_put(unsigned long long d, char ch)
{
  size_t i;
  if (!d) return -1;
  if (!pend && !(pend = calloc(PEND_SLOTS, sizeof *pend))) return -1;
  for (i = slot_of(d); pend[i].dno; i = (i + 1) & (PEND_SLOTS - 1))
    if (pend[i].dno == d) { pend[i].ch = ch; return 0; }
  if (npend >= MC_PENDING) return -1;
  pend[i].dno = d; pend[i].ch = ch; npend++;
  return 0;
}

void mc_pend_each(void (*fn)(unsigned long long d, char ch, void *ctx), void *ctx)
{
  size_t i;
  if (pend) for (i = 0; i < PEND_SLOTS; i++) if (pend[i].dno) fn(pend[i].dno, pend[i].ch, ctx);
}

/* pend_take: the channel of delivery d, forgotten; 0 if unknown */
static char pend_take(unsigned long long d)
{
  size_t i, j;
  char ch;
  if (!pend || !d) return 0;
  for (i = slot_of(d); pend[i].dno != d; i = (i + 1) & (PEND_SLOTS - 1))
    if (!pend[i].dno) return 0;
  ch = pend[i].ch;
  /* backward-shift deletion keeps every later entry reachable */
  for (j = (i + 1) & (PEND_SLOTS - 1); pend[j].dno; j = (j + 1) & (PEND_SLOTS - 1)) {
    size_t h = slot_of(pend[j].dno);
    if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) { pend[i] = pend[j]; i = j; }
  }
  pend[i].dno = 0;
  npend--;
  return ch;
}

/* ---- counters */
unsigned long long *mc_series(struct mcount *m, const char *key)
{
  size_t i;
  for (i = 0; i < m->n; i++) if (!strcmp(m->c[i].key, key)) return &m->c[i].v;
  if (m->n == MC_SERIES || strlen(key) >= MC_KEY) return 0;
  strcpy(m->c[m->n].key, key);
  m->c[m->n].v = 0;
  return &m->c[m->n++].v;
}

static void inc(struct mcount *m, const char *key)
{
  unsigned long long *v = mc_series(m, key);
  if (v) ++*v;
}

static void event(struct mcount *m, enum mc_ev e, const char *stamp)
{
  if (m->ev) m->ev(e, mtail_secs(stamp), m->evctx);
}

unsigned long long mc_get(const struct mcount *m, const char *key)
{
  size_t i;
  for (i = 0; i < m->n; i++) if (!strcmp(m->c[i].key, key)) return m->c[i].v;
  return 0;
}

unsigned long long mc_sum(const struct mcount *m, const char *name)
{
  size_t i, l = strlen(name);
  unsigned long long s = 0;
  for (i = 0; i < m->n; i++)
    if (!strncmp(m->c[i].key, name, l) && (!m->c[i].key[l] || m->c[i].key[l] == '{')) s += m->c[i].v;
  return s;
}

void mc_init(struct mcount *m)
{
  memset(m, 0, sizeof *m);
  pend_clear();
  mc_defaults(m);
}

/* num: a decimal number at *s (advanced); -1 none or too long */
static int num(const char **s, unsigned long long *v)
{
  const char *p = *s;
  *v = 0;
  while (*p >= '0' && *p <= '9' && p - *s < 19) *v = *v * 10 + (unsigned long long)(*p++ - '0');
  if (p == *s || (*p >= '0' && *p <= '9')) return -1;
  *s = p;
  return 0;
}

static int skip(const char **s, const char *lit)
{
  size_t l = strlen(lit);
  if (strncmp(*s, lit, l)) return -1;
  *s += l;
  return 0;
}

/* ---- qmail-send's lines */
static void send_status(struct mcount *m, const char *s)
{
  unsigned long long v[4];
  if (num(&s, &v[0]) || skip(&s, "/") || num(&s, &v[1]) || skip(&s, " remote ") ||
      num(&s, &v[2]) || skip(&s, "/") || num(&s, &v[3]))
    return;
  m->status[0] = (unsigned long)v[0]; m->status[1] = (unsigned long)v[1];
  m->status[2] = (unsigned long)v[2]; m->status[3] = (unsigned long)v[3];
  m->status_known = 1;
}

static void send_start(struct mcount *m, const char *s)
{
  unsigned long long d, id;
  char ch;
  if (num(&s, &d) || skip(&s, ": msg ") || num(&s, &id) || skip(&s, " to ")) return;
  if (!skip(&s, "local ")) ch = 'l';
  else if (!skip(&s, "remote ")) ch = 'r';
  else return;
  inc(m, ch == 'l' ? "qmail_deliveries_started_total{channel=\"local\"}"
                   : "qmail_deliveries_started_total{channel=\"remote\"}");
  if (mc_pend_put(d, ch) == -1) m->unmatched++;   /* its result will not match */
}

static void send_result(struct mcount *m, const char *s, const char *stamp)
{
  static const struct { const char *word, *fam; enum mc_ev ev; } kinds[] = {
    { "success: ", "qmail_delivered_total", EV_DELIVERED },
    { "deferral: ", "qmail_deferred_total", EV_DEFERRED },
    { "failure: ", "qmail_bounced_total", EV_BOUNCED },
  };
  char key[MC_KEY];
  unsigned long long d;
  size_t k;
  char ch;
  if (num(&s, &d) || skip(&s, ": ")) return;
  for (k = 0; k < 3; k++) if (!strncmp(s, kinds[k].word, strlen(kinds[k].word))) break;
  if (k == 3) return;
  ch = pend_take(d);
  if (!ch) { m->unmatched++; return; }
  snprintf(key, sizeof key, "%s{channel=\"%s\"}", kinds[k].fam, ch == 'l' ? "local" : "remote");
  inc(m, key);
  event(m, kinds[k].ev, stamp);
}

static int ends(const char *s, size_t len, const char *tail)
{
  size_t l = strlen(tail);
  return len >= l && !memcmp(s + len - l, tail, l);
}

static void send_line(struct mcount *m, const char *stamp, const char *s, size_t len)
{
  if (!strncmp(s, "new msg ", 8)) { inc(m, "qmail_messages_queued_total"); event(m, EV_QUEUED, stamp); }
  else if (!strncmp(s, "end msg ", 8)) inc(m, "qmail_messages_completed_total");
  else if (!strncmp(s, "starting delivery ", 18)) send_start(m, s + 18);
  else if (!strncmp(s, "delivery ", 9)) send_result(m, s + 9, stamp);
  else if (!strncmp(s, "status: local ", 14)) send_status(m, s + 14);
  else if (!strcmp(s, "status: qmail-send started")) pend_clear();  /* numbers restart */
  else if (!strncmp(s, "bounce msg ", 11)) {
    if (ends(s, len, ">: double bounce injected"))
      inc(m, "qmail_bounce_messages_total{kind=\"double\"}");
    else if (ends(s, len, ">: injected"))
      inc(m, "qmail_bounce_messages_total{kind=\"single\"}");
  } else if (!strncmp(s, "double bounce: discarding", 25) || !strncmp(s, "triple bounce: discarding", 25))
    inc(m, "qmail_bounce_discarded_total");
}

/* ---- the servers' lines */

/* reason: a closed-set name for a refusal (refuselog.h's STAGE CODE ENH) */
static const char *reason(const char *stage, const char *code, const char *enh)
{
  static const struct { const char *enh, *stage, *name; } map[] = {
    { "5.7.1", "rcpt", "relay" }, { "5.7.1", "recipient", "relay" },
    { "5.7.1", "mail", "sender_denied" }, { "5.7.1", "sender", "sender_denied" },
    { "4.7.0", "starttls", "tls" }, { "4.7.0", "auth", "auth" }, { "4.7.0", "connect", "auth" },
    { "5.7.0", 0, "auth" }, { "5.7.8", 0, "auth" }, { "5.7.11", 0, "auth" },
    { "5.1.1", 0, "no_mailbox" }, { "5.1.3", 0, "bad_address" }, { "5.1.7", 0, "bad_address" },
    { "5.3.4", 0, "too_big" }, { "5.4.6", 0, "loop" }, { "4.5.3", 0, "too_many_recipients" },
    { "4.5.2", 0, "bare_lf" }, { "4.4.2", 0, "timeout" },
  };
  size_t i;
  if (!strcmp(code, "-")) return "dropped";
  for (i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(enh, map[i].enh) && (!map[i].stage || !strcmp(stage, map[i].stage))) return map[i].name;
  if (!strncmp(enh, "5.5.", 4)) return "protocol";
  if (!strncmp(enh, "5.7.", 4)) return "denied";
  if (code[0] == '4' || code[0] == 'Z' || enh[0] == '4') return "temporary";
  return "other";
}

/* word: the next space-ended word of s into w (at most n-1 bytes); -1 none */
static int word(const char **s, char *w, size_t n)
{
  size_t i = 0;
  while (**s && **s != ' ') { if (i + 1 >= n) return -1; w[i++] = *(*s)++; }
  w[i] = 0;
  if (**s != ' ' || !i) return -1;
  ++*s;
  return 0;
}

static void server_line(struct mcount *m, int svc, const char *stamp, const char *s)
{
  char key[MC_KEY], ip[80], stage[32], code[8], enh[16];
  const char *p = strstr(s, ": ");
  const char *name = mc_svc[svc] + 6;   /* without "qmail-" */
  if (!p || p - s > 32) return;
  p += 2;
  if (!strncmp(p, "ok ", 3)) {
    snprintf(key, sizeof key, "qmail_sessions_total{service=\"%s\"}", name);
    inc(m, key);
    event(m, EV_SESSION, stamp);
  } else if (!strncmp(p, "refused: ", 9)) {
    p += 9;
    if (word(&p, ip, sizeof ip) || word(&p, stage, sizeof stage) || word(&p, code, sizeof code) ||
        word(&p, enh, sizeof enh))
      return;
    snprintf(key, sizeof key, "qmail_refused_total{service=\"%s\",reason=\"%s\"}", name,
             reason(stage, code, enh));
    inc(m, key);
    event(m, EV_REFUSED, stamp);
  }
}

struct linectx { struct mcount *m; int svc; };

static void on_line(const char *stamp, const char *text, size_t len, void *ctx)
{
  struct linectx *c = ctx;
  if (c->svc == 0) send_line(c->m, stamp, text, len);
  else server_line(c->m, c->svc, stamp, text);
}

int mc_read_logs(struct mcount *m, const char *logdir, const char **bad)
{
  char dir[4096];
  struct linectx c;
  int i;
  c.m = m;
  for (i = 0; i < MC_NSVC; i++) {
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", logdir, mc_svc[i]) >= sizeof dir) {
      errno = ENAMETOOLONG; *bad = logdir; return -1;
    }
    c.svc = i;
    if (mtail_read(dir, &m->pos[i], on_line, &c, &m->skipped, bad) == -1) return -1;
  }
  return 0;
}
