/* tests/unit/rdsn.c: DSN step 4's parsing: hub/remote/rdsn.c (the DSN
 * lines of a job checked again and turned into MAIL and RCPT parameters:
 * good lines, a line too many or too few, bad words, the line cap),
 * rjobq_idok with DSN lines after the S/N, and qmail-send's job reader
 * (hub/send/qspawn.c spawn_feed) splitting them off the id. */
#include <string.h>
#include "tap.h"
#include "rdsn.h"
#include "rjobq.h"
#include "qspawn.h"
#include "dsnparam.h"

static void lines_ok(void)
{
  static char big[RDSN_LINE_MAX + 40];
  ok(rdsn_ok("RET=HDRS ENVID=abc\nNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y", 1), "MAIL and one RCPT line");
  ok(rdsn_ok("\n\nNOTIFY=NEVER", 2), "empty lines are fine");
  ok(rdsn_ok("", 0), "no recipient: one empty MAIL line");
  ok(!rdsn_ok("RET=HDRS", 1), "a line too few");
  ok(!rdsn_ok("RET=HDRS\n\n", 1), "a line too many");
  ok(!rdsn_ok("RET=BOTH\n", 1), "a bad RET");
  ok(!rdsn_ok("\nNOTIFY=SOMETIMES", 1), "a bad NOTIFY");
  ok(!rdsn_ok("\nORCPT=rfc822;a b", 1), "ORCPT that is not xtext");
  ok(!rdsn_ok("\nNOTIFY=SUCCESS\r", 1), "a CR");
  ok(!rdsn_ok("\nFOO=1", 1), "an unknown word");
  ok(!rdsn_ok("NOTIFY=SUCCESS\n", 1), "a RCPT word on the MAIL line");
  memcpy(big, "\nORCPT=rfc822;", 14);
  memset(big + 14, 'a', RDSN_LINE_MAX);
  ok(!rdsn_ok(big, 1), "a line over RDSN_LINE_MAX");
}

static void params(void)
{
  const char *l = "RET=HDRS ENVID=a+2Bb\nnotify=success,failure orcpt=rfc822;x+40y\n\nNOTIFY=NEVER";
  stralloc out = {0};
  int n = -1;
  ok(rdsn_ok(l, 3), "three recipients");
  ok(rdsn_mail(&out, l), "rdsn_mail");
  is_int((int)out.len, 21, "MAIL parameters' length");
  ok(out.len == 21 && !memcmp(out.s, " RET=HDRS ENVID=a+2Bb", 21), "MAIL: RET and ENVID as received");
  out.len = 0;
  ok(rdsn_rcpt(&out, l, 0, &n) && n == (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE), "recipient 0: its NOTIFY");
  ok(out.len == 42 && !memcmp(out.s, " NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y", 42),
     "recipient 0: NOTIFY and ORCPT (keywords upper case, xtext as received)");
  out.len = 0;
  ok(rdsn_rcpt(&out, l, 1, &n) && n == 0 && out.len == 0, "recipient 1: nothing");
  ok(rdsn_rcpt(&out, l, 2, &n) && n == DSN_NOTIFY_NEVER && out.len == 13 &&
     !memcmp(out.s, " NOTIFY=NEVER", 13), "recipient 2: NOTIFY=NEVER");
  out.len = 0;
  ok(rdsn_mail(&out, "\nNOTIFY=NEVER") && out.len == 0, "an empty MAIL line: nothing");
  stralloc_free(&out);
}

static struct spawn_job got;
static int ngot;
static char gotid[64], gotdsn[200];
static void onjob(const struct spawn_job *j, const char *raw, size_t rawlen, void *arg)
{
  (void)raw; (void)rawlen; (void)arg;
  got = *j;
  ++ngot;
  strcpy(gotid, j->id);
  strcpy(gotdsn, j->dsn ? j->dsn : "(none)");
}

static void reader(void)
{
  static const char job[] = "\003" "7/123\nRET=HDRS\nNOTIFY=SUCCESS\0s@x\0r@y\0\0";
  static const char old[] = "\004" "7/124\0s@x\0r@y\0\0";
  struct spawn_reader r;
  memset(&r, 0, sizeof r);
  r.maxrcpt = 100;
  r.onjob = onjob;
  spawn_feed(&r, job, sizeof job - 1);
  is_int(ngot, 1, "a job with DSN lines is read");
  is_str(gotid, "7/123", "its id without the lines");
  is_str(gotdsn, "RET=HDRS\nNOTIFY=SUCCESS", "its DSN lines");
  ok(got.nrcpt == 1 && !strcmp(got.rcpts[0], "r@y") && !strcmp(got.sender, "s@x"), "sender and recipient");
  spawn_feed(&r, old, sizeof old - 1);
  is_int(ngot, 2, "a job without them");
  ok(!strcmp(gotid, "7/124") && !strcmp(gotdsn, "(none)"), "no DSN lines");
  ok(rjobq_idok("1/2\nRET=HDRS") && !rjobq_idok("1/2x\n") && !rjobq_idok("\n1/2"),
     "rjobq_idok: the S/N before the DSN lines");
}

int main(void)
{
  lines_ok();
  params();
  reader();
  return done_testing();
}
