/* tests/unit/mtail.c: TAP tests for hub/admin/mtail.c and mcount.c: a
 * log read in pieces (a partial last line waits), a multilog rotation
 * (the inode found in @....s), a lost inode (lines not later than the
 * saved stamp skipped), an over-long line skipped and counted, a missing
 * directory, tai64n seconds; mcount over crafted logs: channels, refusal
 * reasons, 60000 deliveries answered out of order (the in-flight table's
 * deletion), a restart forgetting the deliveries in flight, the state
 * file saved and loaded back, and a damaged one refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "mtail.h"
#include "mcount.h"

static char dir[200];
static char got[8192];
static int nlines;

static void collect(const char *stamp, const char *text, size_t len, void *ctx)
{
  (void)ctx; (void)stamp;
  nlines++;
  strncat(got, text, len);
  strcat(got, "|");
}

static void put(const char *name, const char *mode, const char *s)
{
  char p[512];
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", dir, name);
  f = fopen(p, mode);
  if (!f) { perror(p); exit(1); }
  fputs(s, f);
  fclose(f);
}

static int readit(struct mpos *pos, unsigned long long *skipped)
{
  const char *bad = "";
  got[0] = 0; nlines = 0;
  return mtail_read(dir, pos, collect, 0, skipped, &bad);
}

#define S(n) "@40000000600000000000000" #n " "

static void test_tail(void)
{
  struct mpos pos;
  unsigned long long skipped = 0;
  char p[512], big[MTAIL_LINE + 100];
  memset(&pos, 0, sizeof pos);
  put("current", "w", S(1) "one\n" S(2) "two\n" S(3) "thr");
  is_int(readit(&pos, &skipped), 0, "read ok");
  is_str(got, "one|two|", "two complete lines, the partial one waits");
  is_int(pos.off, 60, "the offset after the second line");
  is_str(pos.stamp, "@400000006000000000000002", "the stamp of the last line read");
  put("current", "a", "ee\n" S(4) "four\n");
  readit(&pos, &skipped);
  is_str(got, "three|four|", "the rest, then the next line");
  readit(&pos, &skipped);
  is_int(nlines, 0, "nothing new: nothing read");
  /* multilog: current gets a last line, is renamed, a new current starts */
  put("current", "a", S(5) "five\n");
  snprintf(p, sizeof p, "%s/current", dir);
  {
    char q[512];
    snprintf(q, sizeof q, "%s/@400000006000000000000005.s", dir);
    if (rename(p, q)) perror("rename");
  }
  put("current", "w", S(6) "six\n");
  readit(&pos, &skipped);
  is_str(got, "five|six|", "rotation: the end of the rotated file, then the new current");
  /* the inode is lost: everything is read again, only later stamps count */
  {
    char q[512];
    snprintf(q, sizeof q, "%s/@400000006000000000000005.s", dir);
    unlink(q);
  }
  unlink(p);
  put("@400000006000000000000007.s", "w", S(5) "five\n" S(6) "six\n" S(7) "seven\n");
  put("current", "w", S(8) "eight\n");
  pos.ino = 1;  /* an inode that is not there */
  readit(&pos, &skipped);
  is_str(got, "seven|eight|", "lost inode: lines up to the saved stamp are skipped");
  memset(big, 'x', sizeof big - 2);
  big[sizeof big - 2] = '\n'; big[sizeof big - 1] = 0;
  put("current", "a", big);
  put("current", "a", S(9) "nine\n");
  readit(&pos, &skipped);
  is_str(got, "nine|", "an over-long line is skipped whole");
  is_int(skipped, 1, "and counted");
  {
    struct mpos p2;
    const char *bad = "";
    memset(&p2, 0, sizeof p2);
    nlines = 0;
    is_int(mtail_read("/nonexistent/dir/x", &p2, collect, 0, &skipped, &bad), 0, "a missing directory is no error");
    is_int(nlines, 0, "and has no lines");
  }
  is_int(mtail_secs("@400000000000000a00000000"), 0, "tai64n 2^62+10 is the epoch");
  is_int(mtail_secs("@400000006b173b4b1750410c"), 0x6b173b4bLL - 10, "a stamp's seconds");
  is_int(mtail_secs("not a stamp"), 0, "no stamp: 0");
}

static struct mcount mc;
#define DNO(i) ((unsigned long long)(i) * 2654435761ULL % 1000000000000ULL + 1)

static void test_count(void)
{
  char line[1400], state[1024];
  FILE *f;
  unsigned long ln;
  int i;
  const char *bad = "";
  char d2[400];
  snprintf(d2, sizeof d2, "%s/logs", dir);
  snprintf(line, sizeof line, "mkdir -p %s/qmail-send %s/qmail-smtpd %s/qmail-qmtpd", d2, d2, d2);
  if (system(line)) exit(1);
  snprintf(state, sizeof state, "%s/qmail-send/current", d2);
  f = fopen(state, "w");
  fprintf(f, "new msg 5 id x mid <a@b>\nstarting delivery 1: msg 5 to local a@b\n"
             "starting delivery 2: msg 5 to remote c@d\ndelivery 2: deferral: x\n"
             "delivery 1: success: did 1+0+0/\nbounce msg 5 to <a@b>: injected\n"
             "delivery 99: success: never started\nstatus: local 0/10 remote 3/20\n");
  /* scattered delivery numbers, so that the table has collisions */
  for (i = 1; i <= 60000; i++) fprintf(f, "starting delivery %llu: msg 6 to %s x@y\n", DNO(i), i % 3 ? "remote" : "local");
  for (i = 0; i < 60000; i++) fprintf(f, "delivery %llu: failure: no\n", DNO(1 + (i * 7919) % 60000));
  fprintf(f, "starting delivery 999999999999999: msg 7 to local x@y\nstatus: qmail-send started\n"
             "delivery 999999999999999: success: after the restart\n");
  fclose(f);
  snprintf(state, sizeof state, "%s/qmail-smtpd/current", d2);
  f = fopen(state, "w");
  fprintf(f, "qmail-smtpd: ok 1 0:1.2.3.4:25 :5.6.7.8::9\n"
             "qmail-smtpd: refused: 5.6.7.8 rcpt 553 5.7.1 reason=\"relay\" input=\"x@y\"\n"
             "qmail-smtpd: refused: 5.6.7.8 mail 553 5.7.1 reason=\"badmailfrom\" input=\"x@y\"\n"
             "qmail-smtpd: refused: 5.6.7.8 data 552 5.3.4 reason=\"big\"\n"
             "qmail-smtpd: refused: 5.6.7.8 command 500 5.5.2 reason=\"line too long\"\n"
             "qmail-smtpd: refused: 5.6.7.8 rcpt 451 4.3.0 reason=\"later\"\n"
             "qmail-smtpd: refused: 5.6.7.8 connect - - reason=\"dropped\"\n"
             "qmail-smtpd: refused: x@evil\"} 1\n");
  fclose(f);
  snprintf(state, sizeof state, "%s/qmail-qmtpd/current", d2);
  f = fopen(state, "w");
  fprintf(f, "tcpserver: ok 1 0:1.2.3.4:209 :5.6.7.8::9\n"
             "qmail-qmtpd: refused: 5.6.7.8 recipient D 5.1.1 reason=\"no mailbox\"\n");
  fclose(f);
  mc_init(&mc);
  is_int(mc_read_logs(&mc, d2, &bad), 0, "mc_read_logs ok");
  is_int(mc_get(&mc, "qmail_messages_queued_total"), 1, "new msg counted");
  is_int(mc_get(&mc, "qmail_delivered_total{channel=\"local\"}"), 1, "a local success");
  is_int(mc_get(&mc, "qmail_deferred_total{channel=\"remote\"}"), 1, "a remote deferral");
  is_int(mc_get(&mc, "qmail_bounced_total{channel=\"remote\"}") + mc_get(&mc, "qmail_bounced_total{channel=\"local\"}"),
         60000, "60000 failures answered out of order, each matched");
  is_int(mc_get(&mc, "qmail_bounced_total{channel=\"local\"}"), 20000, "the local ones among them");
  is_int(mc.unmatched, 2, "unmatched: one never started, one forgotten at a restart");
  is_int(mc_get(&mc, "qmail_bounce_messages_total{kind=\"single\"}"), 1, "a bounce injected");
  is_int(mc.status_known && mc.status[2] == 3 && mc.status[3] == 20, 1, "the status line");
  is_int(mc_get(&mc, "qmail_sessions_total{service=\"smtpd\"}"), 1, "an smtpd session");
  is_int(mc_get(&mc, "qmail_sessions_total{service=\"qmtpd\"}"), 1, "a qmtpd session under tcpserver");
  is_int(mc_get(&mc, "qmail_refused_total{service=\"smtpd\",reason=\"relay\"}"), 1, "relay");
  is_int(mc_get(&mc, "qmail_refused_total{service=\"smtpd\",reason=\"sender_denied\"}"), 1, "sender_denied");
  is_int(mc_get(&mc, "qmail_refused_total{service=\"smtpd\",reason=\"too_big\"}"), 1, "too_big");
  is_int(mc_get(&mc, "qmail_refused_total{service=\"smtpd\",reason=\"protocol\"}"), 1, "protocol");
  is_int(mc_get(&mc, "qmail_refused_total{service=\"smtpd\",reason=\"temporary\"}"), 1, "temporary");
  is_int(mc_get(&mc, "qmail_refused_total{service=\"smtpd\",reason=\"dropped\"}"), 1, "dropped");
  is_int(mc_get(&mc, "qmail_refused_total{service=\"qmtpd\",reason=\"no_mailbox\"}"), 1, "qmtpd no_mailbox");
  is_int(mc_sum(&mc, "qmail_refused_total"), 7, "a malformed refusal line is not counted");
  snprintf(state, sizeof state, "%s/state", dir);
  /* one delivery in flight across the save */
  snprintf(line, sizeof line, "%s/qmail-send/current", d2);
  f = fopen(line, "a"); fprintf(f, "starting delivery 7: msg 8 to remote z@z\n"); fclose(f);
  mc_read_logs(&mc, d2, &bad);
  is_int(mc_save(&mc, state), 0, "state saved");
  mc_init(&mc);
  is_int(mc_load(&mc, state, &ln), 0, "state loaded");
  is_int(mc_get(&mc, "qmail_bounced_total{channel=\"local\"}"), 20000, "a counter came back");
  is_int(mc.unmatched, 2, "unmatched came back");
  f = fopen(line, "a"); fprintf(f, "delivery 7: success: ok\n"); fclose(f);
  mc_read_logs(&mc, d2, &bad);
  is_int(mc_get(&mc, "qmail_delivered_total{channel=\"remote\"}"), 1, "a delivery in flight at the save matched after the load");
  is_int(mc_get(&mc, "qmail_messages_queued_total"), 1, "nothing read twice");
  f = fopen(state, "a"); fprintf(f, "c qmail_x{a=\"b\"} 1 2\n"); fclose(f);
  mc_init(&mc);
  is_int(mc_load(&mc, state, &ln), -1, "a damaged state is refused");
  ok(ln > 1, "with its line number");
}

int main(void)
{
  const char *t = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/mtail.XXXXXX", t && *t ? t : "/tmp");
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  test_tail();
  test_count();
  {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) return 1;
  }
  return done_testing();
}
