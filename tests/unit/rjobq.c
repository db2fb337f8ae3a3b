/* tests/unit/rjobq.c: hub/remote/rjobq.c, the job protocol of qmail-remote -S
 * (parsing: complete, incomplete at every cut, NUL tag, empty sender, bad
 * S/N, no or too many recipients, the RJOBQ_MAXJOB cap; tagged output),
 * and rqmtp_ns_feed, the incremental QMTP response reader of hub/remote/rqmtp.c
 * (fed whole, byte by byte, two in one chunk, malformed). */
#include <string.h>
#include <stdlib.h>
#include "tap.h"
#include "rjobq.h"
#include "rsess.h"

static const char job1[] = "\0" "12/345\0a@b.org\0x@y\0z@y\0\0";
#define JOB1LEN (sizeof job1 - 1)

static void parse_cases(void)
{
  struct rjobq_job jb;
  size_t cut;
  int allzero = 1;
  is_int(rjobq_parse(job1, JOB1LEN, &jb), 1, "a whole job");
  ok(jb.tag == 0 && jb.len == JOB1LEN && jb.nrcpt == 2 && !jb.bad, "NUL tag, length, 2 recipients");
  is_str(job1 + jb.idoff, "12/345", "S/N");
  is_str(job1 + jb.senderoff, "a@b.org", "sender");
  is_str(job1 + jb.rcptoff, "x@y", "first recipient");
  for (cut = 0; cut < JOB1LEN; ++cut) allzero &= rjobq_parse(job1, cut, &jb) == 0;
  ok(allzero, "every cut short of the end: incomplete");
  is_int(rjobq_parse("T1/2\0\0r@x\0\0" "T3/4", 16, &jb), 1, "empty sender, a second job after it");
  ok(jb.len == 11 && jb.tag == 'T' && jb.nrcpt == 1, "the first job's length");
  rjobq_parse("T1x2\0s\0r@x\0\0", 12, &jb);
  is_int(jb.bad, RJOBQ_BADID, "S/N not digits/digits: bad");
  rjobq_parse("T../etc/passwd\0s\0r@x\0\0", 23, &jb);
  is_int(jb.bad, RJOBQ_BADID, "a path: bad");
  rjobq_parse("T1/2\0s\0\0", 9, &jb);
  is_int(jb.bad, RJOBQ_NORCPT, "no recipient: bad");
}

static void caps(void)
{
  struct rjobq_job jb;
  size_t n = RJOBQ_MAXJOB + 10, i, pos;
  char *big = malloc(n);
  memset(big, 'x', n);
  memcpy(big, "T1/2\0s\0", 7);
  is_int(rjobq_parse(big, RJOBQ_MAXJOB, &jb), 0, "128 KB without an end: still incomplete");
  is_int(rjobq_parse(big, n, &jb), -1, "over 128 KB without an end: protocol error");
  pos = 7;
  for (i = 0; i < 101; ++i) { memcpy(big + pos, "r@x", 4); pos += 4; }
  big[pos++] = 0;
  is_int(rjobq_parse(big, pos, &jb), 1, "101 recipients parse");
  ok(jb.nrcpt == 101 && jb.bad == RJOBQ_MANYRCPT, "101 recipients: bad");
  free(big);
  ok(rjobq_idok("1/2") && rjobq_idok("0/123456789"), "idok");
  ok(!rjobq_idok("/2") && !rjobq_idok("1/") && !rjobq_idok("1/2/3") && !rjobq_idok("1/2x") && !rjobq_idok(""),
     "not idok");
}

static void output(void)
{
  struct rjob j;
  char *rc[] = { "a@x", "b@x" };
  stralloc out = {0};
  memset(&j, 0, sizeof j);
  rjob_init(&j, rc, 2);
  rjob_rcpt(&j, 0, 'r', "yes", (const char *)0);
  rjob_all(&j, 's', 'Z', "later\n", (const char *)0);
  ok(rjobq_output('\0', &j, &out), "output");
  ok(out.len == 24 && memcmp(out.s, "\0ryes\0\0slater?\0\0Zlater?\0", 24) == 0,
     "every record carries the tag");
  rjob_free(&j);
  stralloc_free(&out);
}

static void ns(void)
{
  struct rqmtp_ns n;
  const char two[] = "3:Kok,4:Dno!,";
  size_t used, i, got = 0;
  int r = 0;
  rqmtp_ns_start(&n);
  is_int(rqmtp_ns_feed(&n, two, sizeof two - 1, &used), 1, "first netstring");
  ok(used == 6 && n.len == 3 && memcmp(n.buf, "Kok", 3) == 0, "its body and length");
  is_int(rqmtp_ns_feed(&n, two + used, sizeof two - 1 - used, &used), 1, "second netstring");
  is_str(n.buf, "Dno!", "second body");
  rqmtp_ns_start(&n);
  for (i = 0; i < sizeof two - 1; ++i) {
    r = rqmtp_ns_feed(&n, two + i, 1, &used);
    if (r == 1) ++got;
    if (r < 0 || used != 1) break;
  }
  ok(got == 2 && i == sizeof two - 1, "byte by byte: two netstrings");
  rqmtp_ns_start(&n);
  is_int(rqmtp_ns_feed(&n, "3:abc;", 6, &used), -1, "no comma: bad");
  rqmtp_ns_start(&n);
  is_int(rqmtp_ns_feed(&n, "x:", 2, &used), -1, "no digits: bad");
  rqmtp_ns_start(&n);
  is_int(rqmtp_ns_feed(&n, "01:a,", 5, &used), -1, "leading zero: bad");
  rqmtp_ns_start(&n);
  is_int(rqmtp_ns_feed(&n, "99999:", 6, &used), -1, "over RCONN_NSMAX: bad");
  rqmtp_ns_start(&n);
  is_int(rqmtp_ns_feed(&n, "0:,", 3, &used), 1, "empty netstring");
}

int main(void)
{
  parse_cases();
  caps();
  output();
  ns();
  return done_testing();
}
