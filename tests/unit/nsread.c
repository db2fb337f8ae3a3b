/* tests/unit/nsread.c: TAP tests for hub/servers/nsread.c. The low-level readers
 * (header caps and enclosing budgets, streaming with every chunking from
 * one byte per read up, commas, truncation, addresses at and over the cap,
 * NUL and the other control bytes: CR, LF, ESC, DEL) and the QMQP and QMTP
 * request readers driven through a recording
 * queue stub: accepted requests, every refusal reason, drops (and that
 * the queue was aborted, never left open), CR decoding with the CRLF
 * split at every chunk boundary, T6, and packages back to back; the
 * refused callback: told once per reply that carries a refusal, with the
 * address; the recipient check (rcpt_known) per recipient in QMTP and per
 * message in QMQP. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "buffer.h"
#include "stralloc.h"
#include "q_netstring.h"
#include "nsread.h"

/* ---- input: a memory block read in chunks of a chosen size -------------- */

struct src {
  const char *s;
  size_t len, pos, chunk;
  int reads;
};

static ssize_t src_op(int fd, char *buf, size_t len, void *bp)
{
  struct src *src = ((buffer *)bp)->cookie;
  size_t n = src->len - src->pos;
  (void)fd;
  if (n > len) n = len;
  if (n > src->chunk) n = src->chunk;
  memcpy(buf, src->s + src->pos, n);
  src->pos += n;
  ++src->reads;
  return (ssize_t)n;
}

static char space[64];
static buffer b;
static struct src src;

static void from(const char *s, size_t len, size_t chunk)
{
  src.s = s;
  src.len = len;
  src.pos = 0;
  src.chunk = chunk;
  src.reads = 0;
  buffer_init(&b, (ssize_t (*)())src_op, -1, space, sizeof space);
  b.cookie = &src;
}
#define FROM(lit, chunk) from((lit), sizeof(lit) - 1, (chunk))

/* ---- the queue stub: a log of calls ------------------------------------------ */

static stralloc qlog;   /* "S" start, "P<bytes>" put..., "F<a>;" "T<a>;" "A" abort */
static stralloc body;   /* all put bytes */
static int open_msgs;

static void q_start(void *c) { (void)c; stralloc_cats(&qlog, "S"); ++open_msgs; }
static void q_put(void *c, const char *s, size_t l) { (void)c; stralloc_catb(&body, s, l); }
static void q_from(void *c, const char *s, size_t l)
{ (void)c; stralloc_cats(&qlog, "F"); stralloc_catb(&qlog, s, l); stralloc_cats(&qlog, ";"); }
static void q_to(void *c, const char *s, size_t l)
{ (void)c; stralloc_cats(&qlog, "T"); stralloc_catb(&qlog, s, l); stralloc_cats(&qlog, ";"); }
static void q_abort(void *c) { (void)c; stralloc_cats(&qlog, "A"); --open_msgs; }

static const struct nsr_queue queue = { 0, q_start, q_put, q_from, q_to, q_abort };

static int relay_ok(void *c, const char *a, size_t l)
{
  (void)c;
  if (l >= 4 && memcmp(a + l - 4, "@tmp", 4) == 0) return -1;
  return l >= 12 && memcmp(a + l - 12, "@example.org", 12) == 0;
}

static struct nsr_policy pol;

static void reset(void)
{
  qlog.len = 0;
  body.len = 0;
  open_msgs = 0;
  pol.msgcap = 1u << 20;
  pol.blockcap = 4096;
  pol.databytes = 0;
  pol.maxaddr = 20;
  pol.maxrcpts = 3;
  pol.maxhops = 3;
  pol.rcpt_ok = relay_ok;
  pol.rcpt_ctx = 0;
}

/* ---- low-level readers ---------------------------------------------------------- */

static void test_head(void)
{
  size_t len = 99, left;
  FROM("5:", 64);
  is_int(nsr_head(&b, 10, &len, 0), NS_OK, "head 5: ok");
  is_int(len, 5, "head value");
  FROM("05:", 64);
  is_int(nsr_head(&b, 10, &len, 0), NS_BAD, "head leading zero");
  FROM("-1:", 64);
  is_int(nsr_head(&b, 10, &len, 0), NS_BAD, "head -1");
  FROM("5x", 64);
  is_int(nsr_head(&b, 10, &len, 0), NS_BAD, "head missing colon");
  FROM("11:", 64);
  is_int(nsr_head(&b, 10, &len, 0), NS_TOOBIG, "head over cap");
  FROM("", 64);
  is_int(nsr_head(&b, 10, &len, 0), NS_EOF, "head clean EOF");
  FROM("12", 64);
  is_int(nsr_head(&b, 100, &len, 0), NS_IOERR, "head EOF inside digits");
  left = 0;
  FROM("", 64);
  is_int(nsr_head(&b, 10, &len, &left), NS_IOERR, "head EOF inside an enclosing netstring");
  left = 10;
  FROM("7:", 64);
  is_int(nsr_head(&b, 100, &len, &left), NS_OK, "7: fits a budget of 10 (2+7+1)");
  is_int(left, 0, "budget used up");
  left = 10;
  FROM("8:", 64);
  is_int(nsr_head(&b, 100, &len, &left), NS_BAD, "8: does not fit a budget of 10");
  left = 10;
  FROM("99:", 64);
  is_int(nsr_head(&b, 100, &len, &left), NS_BAD, "length over the budget is malformed");
}

static size_t seen;
static int chunks;
static void count_sink(void *c, const char *s, size_t l) { (void)c; (void)s; seen += l; ++chunks; }

static void test_stream(void)
{
  static const char in[] = "hello world,3:abc,";
  size_t chunk;
  for (chunk = 1; chunk <= 13; chunk += 4) {
    from(in, sizeof in - 1, chunk);
    seen = 0; chunks = 0;
    is_int(nsr_stream(&b, 11, count_sink, 0), NS_OK, "stream 11 bytes");
    ok(seen == 11 && chunks >= (int)(11 / (chunk < 11 ? chunk : 11)), "all bytes, in chunks");
    is_int(buffer_getc(&b, space + 63), 1, "stream stays in step");
  }
  FROM("abc;", 64);
  is_int(nsr_stream(&b, 3, 0, 0), NS_BAD, "stream: missing comma");
  FROM("ab", 64);
  errno = 0;
  is_int(nsr_stream(&b, 3, 0, 0), NS_IOERR, "stream: truncated");
  is_int(errno, EPROTO, "truncated: EPROTO");
  FROM("abc", 64);
  is_int(nsr_skip(&b, 3), NS_IOERR, "skip: EOF instead of the comma");
}

static void test_addr(void)
{
  stralloc sa = {0};
  size_t left;
  char big[2100];
  FROM("3:a@b,", 64);
  is_int(nsr_addr(&b, 20, &sa, 0), NSR_OK, "addr ok");
  is_sa(sa, "a@b", "addr content");
  FROM("0:,", 64);
  is_int(nsr_addr(&b, 20, &sa, 0), NSR_OK, "empty addr ok");
  is_int(sa.len, 0, "empty addr is empty");
  FROM("3:a\0b,", 2);
  is_int(nsr_addr(&b, 20, &sa, 0), NSR_BADADDR, "NUL in addr refused");
  FROM("5:a\r\n@b,", 2);
  is_int(nsr_addr(&b, 20, &sa, 0), NSR_BADADDR, "CR LF in addr refused");
  is_sa(sa, "a\r\n@b", "refused addr kept for the log");
  FROM("4:a\x1b@b,", 64);
  is_int(nsr_addr(&b, 20, &sa, 0), NSR_BADADDR, "ESC in addr refused");
  FROM("4:a\x7f@b,", 64);
  is_int(nsr_addr(&b, 20, &sa, 0), NSR_BADADDR, "DEL in addr refused");
  FROM("6:\"a b\"@,", 64);
  is_int(nsr_addr(&b, 20, &sa, 0), NSR_OK, "space in addr ok");
  FROM("4:\xe9\xff@b,", 64);
  is_int(nsr_addr(&b, 20, &sa, 0), NSR_OK, "8-bit bytes in addr ok");
  /* exactly the cap, then one over: skipped, stream stays in step */
  memcpy(big, "20:", 3);
  memset(big + 3, 'x', 20);
  memcpy(big + 23, ",21:", 4);
  memset(big + 27, 'y', 21);
  memcpy(big + 48, ",1:z,", 5);
  left = 53;
  from(big, 53, 7);
  is_int(nsr_addr(&b, 20, &sa, &left), NSR_OK, "addr of maxaddr bytes ok");
  is_int(sa.len, 20, "all 20 bytes");
  is_int(nsr_addr(&b, 20, &sa, &left), NSR_BADADDR, "addr of maxaddr+1 bytes refused");
  is_int(sa.len, 0, "refused addr not stored");
  is_int(nsr_addr(&b, 20, &sa, &left), NSR_OK, "next addr still readable");
  is_sa(sa, "z", "next addr content");
  is_int(left, 0, "budget used exactly");
  FROM("21:", 64);
  is_int(nsr_addr(&b, 20, &sa, 0), NS_TOOBIG, "without a budget the cap is maxaddr");
  stralloc_free(&sa);
}

/* ---- the refused callback: "<why>:<addr>;" per call ------------------------- */

static stralloc told;

static void rec(void *c, enum nsr_why why, const char *a, size_t l)
{
  char w = (char)('0' + why);
  (void)c;
  stralloc_append(&told, &w);
  stralloc_cats(&told, ":");
  if (a) stralloc_catb(&told, a, l);
  stralloc_cats(&told, ";");
}

/* ---- QMQP ---------------------------------------------------------------------- */

static int qmqp(const char *in, size_t len, size_t chunk, enum nsr_why *why)
{
  from(in, len, chunk);
  return nsr_qmqp(&b, &pol, &queue, why);
}
#define QMQP(lit, chunk, why) qmqp((lit), sizeof(lit) - 1, (chunk), (why))

static void test_qmqp(void)
{
  enum nsr_why why;
  size_t chunk;
  for (chunk = 1; chunk <= 64; chunk *= 4) {
    reset();
    is_int(QMQP("27:6:hello\n,3:a@b,3:c@d,3:e@f,,", chunk, &why), NSR_OK, "qmqp ok");
    is_int(why, NSR_ACCEPT, "qmqp accepted");
    is_sa(qlog, "SFa@b;Tc@d;Te@f;", "qmqp queue calls");
    is_sa(body, "hello\n", "qmqp message");
    is_int(open_msgs, 1, "qmqp: left open for the commit");
  }
  reset();
  is_int(QMQP("22:6:hello\n,3:a@b,3:c@d,,", 64, &why), NS_BAD, "P5 outer too short: malformed");
  is_int(open_msgs, 0, "P5 short: aborted");
  reset();
  is_int(QMQP("30:6:hello\n,3:a@b,3:c@d,", 64, &why), NS_IOERR, "P5 outer longer than content, EOF");
  is_sa(qlog, "SFa@b;Tc@d;A", "P5 long: aborted after the recipients");
  reset();
  is_int(QMQP("21:6:hello\n,3:a@b,3:c@d;", 64, &why), NS_BAD, "P4 bad final comma");
  is_int(open_msgs, 0, "P4: aborted");
  reset();
  is_int(QMQP("020:6:hello\n,3:a@b,3:c@d,,", 64, &why), NS_BAD, "P6 leading zero");
  is_int(qlog.len, 0, "P6: queue never started");
  reset();
  is_int(QMQP("9999999999999:", 64, &why), NS_TOOBIG, "P3 huge length");
  reset();
  is_int(QMQP("-1:", 64, &why), NS_BAD, "P10 -1:");
  reset();
  is_int(QMQP("15:6:hello\n,3:a@b,,", 64, &why), NSR_OK, "P8 no recipients read");
  is_int(why, NSR_NORCPT, "P8 refused");
  is_int(open_msgs, 0, "P8 aborted");
  reset();
  is_int(QMQP("21:6:hello\n,3:a@b,3:c\0d,,", 64, &why), NSR_OK, "P7 NUL read");
  is_int(why, NSR_ADDR, "P7 NUL refused");
  is_int(open_msgs, 0, "P7 aborted");
  reset();
  is_int(QMQP("40:6:hello\n,3:a@b,21:aaaaaaaaaaaaaaaaaaaaa,,", 64, &why), NSR_OK, "P7 long read");
  is_int(why, NSR_ADDR, "P7 long refused");
  reset();
  is_int(QMQP("40:6:hello\n,21:aaaaaaaaaaaaaaaaaaaaa,3:a@b,,", 64, &why), NSR_OK, "long sender read");
  is_int(why, NSR_SENDER, "long sender refused");
  is_int(open_msgs, 0, "long sender aborted");
  reset();
  is_int(QMQP("39:6:hello\n,3:a@b,3:c@d,3:e@f,3:g@h,3:i@j,,", 64, &why), NSR_OK, "4 rcpts read");
  is_int(why, NSR_TOOMANY, "over maxrcpts refused");
  reset();
  pol.databytes = 5;
  is_int(QMQP("21:6:hello\n,3:a@b,3:c@d,,", 64, &why), NSR_OK, "databytes read to the end");
  is_int(why, NSR_TOOBIG, "databytes refused");
  is_int(qlog.len, 0, "databytes: queue never started");
  reset();
  pol.databytes = 6;
  is_int(QMQP("21:6:hello\n,3:a@b,3:c@d,,", 64, &why), NSR_OK, "databytes exactly");
  is_int(why, NSR_ACCEPT, "message of databytes accepted");
  reset();
  is_int(QMQP("62:46:Received: x\nReceived: y\nDelivered-To: z\n\nbody\n,3:a@b,3:c@d,,", 5, &why),
         NSR_OK, "hops read to the end");
  is_int(why, NSR_HOPS, "3 hops with maxhops 3 refused");
  is_int(open_msgs, 0, "hops aborted");
  reset();
  pol.maxhops = 4;
  is_int(QMQP("62:46:Received: x\nReceived: y\nDelivered-To: z\n\nbody\n,3:a@b,3:c@d,,", 5, &why),
         NSR_OK, "3 hops with maxhops 4");
  is_int(why, NSR_ACCEPT, "3 hops with maxhops 4 accepted");
}

/* ---- QMTP ---------------------------------------------------------------------- */

static struct nsr_pkg pkg;

static int qmtp(const char *in, size_t len, size_t chunk)
{
  from(in, len, chunk);
  return nsr_qmtp(&b, &pol, &queue, &pkg);
}
#define QMTP(lit, chunk) qmtp((lit), sizeof(lit) - 1, (chunk))

static int why_is(const char *exp)
{
  size_t i;
  if (pkg.why.len != strlen(exp)) return 0;
  for (i = 0; i < pkg.why.len; ++i)
    if (pkg.why.s[i] != exp[i] - '0') return 0;
  return 1;
}

static void test_qmtp_decode(void)
{
  static const char in[] = "10:\rA\r\nB\rC\nD\r,3:a@b,17:13:x@example.org,,";
  size_t chunk;
  for (chunk = 1; chunk <= 20; ++chunk) {
    reset();
    if (QMTP(in, chunk) != NSR_OK || !why_is("0") || pkg.accepted != 1) {
      ok(0, "CR package at some chunk size");
      return;
    }
    if (body.len != 8 || memcmp(body.s, "A\nB\rC\nD\r", 8) != 0) {
      ok(0, "CR decoding at some chunk size");
      printf("#   chunk %zu: got '%.*s'\n", chunk, (int)body.len, body.s);
      return;
    }
  }
  ok(1, "CR form: CRLF->LF, lone CR and bare LF (T6) kept, at every chunk size");
}

static void test_qmtp(void)
{
  reset();
  is_int(QMTP("7:\nhello\n,3:a@b,17:13:x@example.org,,", 3), NSR_OK, "T1 LF package");
  ok(why_is("0") && pkg.accepted == 1, "T1 one accepted");
  is_sa(body, "hello\n", "T1 message stored as is");
  is_sa(qlog, "SFa@b;Tx@example.org;", "T1 queue calls");
  test_qmtp_decode();
  reset();
  is_int(QMTP("7:Xhello\n,3:a@b,17:13:x@example.org,,", 64), NS_BAD, "T3 bad encoding byte");
  is_int(qlog.len, 0, "T3 queue never started");
  reset();
  is_int(QMTP("0:,3:a@b,0:,", 64), NS_BAD, "empty message netstring");
  reset();
  is_int(QMTP("", 64), NS_EOF, "EOF between packages");
  reset();
  is_int(QMTP("7:\nhel", 64), NS_IOERR, "T4 truncated");
  is_int(open_msgs, 0, "T4 aborted");
  reset();
  is_int(QMTP("7:\nhello\n,3:a@b,17:13:x@example.org,", 64), NS_IOERR, "missing block comma: EOF");
  is_int(open_msgs, 0, "missing block comma: aborted");
  reset();
  is_int(QMTP("7:\nhello\n,3:a@b,17:14:x@example.org,,", 64), NS_BAD, "rcpt overruns its block");
  is_int(open_msgs, 0, "overrun: aborted");
  reset();
  is_int(QMTP("7:\nhello\n,3:a@b,"
              "62:13:x@example.org,10:x@evil.org,13:x@example.org,3:a\0b,5:x@tmp,,", 64),
         NSR_OK, "T2 mixed package");
  ok(why_is("08049") && pkg.accepted == 2, "accept, relay D, accept, bad address D, rcpthosts Z");
  is_sa(qlog, "SFa@b;Tx@example.org;Tx@example.org;", "only the accepted reach the queue");
  reset();
  is_int(QMTP("7:\nhello\n,3:a@b,0:,", 64), NSR_OK, "no recipients");
  ok(pkg.why.len == 0 && open_msgs == 0, "no recipients: no replies, aborted");
  reset();
  is_int(QMTP("7:\nhello\n,21:aaaaaaaaaaaaaaaaaaaaa,34:13:x@example.org,13:y@example.org,,", 64),
         NSR_OK, "long sender");
  ok(why_is("33") && open_msgs == 0, "long sender: every recipient D 5.1.7, aborted");
  reset();
  pol.databytes = 5;
  is_int(QMTP("7:\nhello\n,3:a@b,17:13:x@example.org,,", 64), NSR_OK, "databytes");
  ok(why_is("1") && open_msgs == 0, "databytes: D 5.3.4, aborted");
  reset();
  pol.databytes = 6;
  is_int(QMTP("8:\rhello\r\n,3:a@b,17:13:x@example.org,,", 64), NSR_OK, "CR form under databytes");
  ok(why_is("0"), "databytes counts bytes as stored (CRLF = 1)");
  reset();
  is_int(QMTP("52:\nReceived: 1\nReceived: 2\nReceived: 3\nReceived: 4\n\nx\n,3:a@b,17:13:x@example.org,,", 64),
         NSR_OK, "hops");
  ok(why_is("2") && open_msgs == 0, "hops: D 5.4.6, aborted");
  reset();
  is_int(QMTP("7:\nhello\n,3:a@b,68:13:a@example.org,13:b@example.org,13:c@example.org,13:d@example.org,,", 64),
         NSR_OK, "over maxrcpts");
  ok(why_is("0007") && pkg.accepted == 3, "4th recipient: Z 4.5.3");
  reset();
  pol.blockcap = 16;
  is_int(QMTP("7:\nhello\n,3:a@b,17:13:x@example.org,,", 64), NS_TOOBIG, "block over blockcap");
  reset();
  {
    static const char two[] = "7:\nhello\n,3:a@b,17:13:x@example.org,,"
                              "6:\rbye\r\n,0:,34:13:x@example.org,13:x@example.org,,";
    is_int(QMTP(two, 4), NSR_OK, "T5 first package");
    ok(why_is("0"), "T5 first: one reply");
    q_abort(0);  /* stands for the commit */
    body.len = 0; qlog.len = 0;
    is_int(nsr_qmtp(&b, &pol, &queue, &pkg), NSR_OK, "T5 second package");
    ok(why_is("00") && pkg.accepted == 2, "T5 second: duplicates answered twice");
    is_sa(qlog, "SF;Tx@example.org;Tx@example.org;", "T5 second: null sender, both recipients");
    is_sa(body, "bye\n", "T5 second message");
    is_int(nsr_qmtp(&b, &pol, &queue, &pkg), NS_EOF, "T5 then clean EOF");
  }
}

/* known: the recipient check stub: "u..." no such address, "t..."
 * cannot tell, anything else deliverable. */
static int known(void *c, const char *a, size_t l)
{
  (void)c;
  return l && a[0] == 'u' ? 0 : l && a[0] == 't' ? -1 : 1;
}

/* test_known: rcpt_known, per recipient in QMTP (after rcpthosts), per
 * message in QMQP (refused only when no recipient is deliverable). */
static void test_known(void)
{
  enum nsr_why why;
  reset();
  pol.rcpt_known = known;
  is_int(QMTP("7:\nhello\n,3:a@b,"
              "65:13:x@example.org,13:u@example.org,13:t@example.org,10:u@evil.org,,", 64),
         NSR_OK, "QMTP: known, unknown, unchecked, foreign");
  ok(why_is("0:;8") && pkg.accepted == 1, "K, D 5.1.1, Z 4.3.0; rcpthosts decides first");
  is_sa(qlog, "SFa@b;Tx@example.org;", "QMTP: only the known one is queued");
  reset();
  pol.rcpt_known = known;
  is_int(QMTP("7:\nhello\n,3:a@b,17:13:u@example.org,,", 64), NSR_OK, "QMTP: one unknown");
  ok(why_is(":") && open_msgs == 0, "QMTP: D 5.1.1 and the queue aborted");
  reset();
  pol.rcpt_known = known;
  is_int(QMQP("27:6:hello\n,3:a@b,3:u@d,3:x@f,,", 64, &why), NSR_OK, "QMQP mixed");
  is_int(why, NSR_ACCEPT, "QMQP: one good recipient: the message is accepted");
  is_sa(qlog, "SFa@b;Tu@d;Tx@f;", "QMQP mixed: queued whole, the hub bounces the unknown one");
  reset();
  pol.rcpt_known = known;
  is_int(QMQP("27:6:hello\n,3:a@b,3:u@d,3:u@f,,", 64, &why), NSR_OK, "QMQP all unknown");
  is_int(why, NSR_NOUSER, "QMQP: no recipient known: D 5.1.1");
  is_int(open_msgs, 0, "QMQP all unknown: aborted");
  reset();
  pol.rcpt_known = known;
  is_int(QMQP("27:6:hello\n,3:a@b,3:u@d,3:t@f,,", 64, &why), NSR_OK, "QMQP unknown and unchecked");
  is_int(why, NSR_NOCHECK, "QMQP: one could not be checked: Z, not D");
  is_int(open_msgs, 0, "QMQP unchecked: aborted");
  reset();
  pol.rcpt_known = known;
  pol.databytes = 2;
  is_int(QMQP("27:6:hello\n,3:a@b,3:u@d,3:u@f,,", 64, &why), NSR_OK, "QMQP too big and unknown");
  is_int(why, NSR_TOOBIG, "QMQP: an earlier refusal wins");
  reset();
  pol.rcpt_known = 0;
}

static void test_replies(void)
{
  int w, good = 1;
  for (w = 1; w < NSR_WHYCOUNT; ++w) {
    const char *t = nsr_reply((enum nsr_why)w);
    if ((t[0] != 'D' && t[0] != 'Z') || t[1] == ' ' || !strstr(t, "(#")) good = 0;
  }
  ok(good, "every refusal is D or Z text with a (#x.y.z) code");
  is_str(nsr_reply(NSR_RELAY) + strlen(nsr_reply(NSR_RELAY)) - 8, "(#5.7.1)", "relay code");
}

/* test_told: one notification per reply carrying a refusal, in order. */
static void test_told(void)
{
  enum nsr_why why;
  reset();
  pol.refused = rec;
  is_int(QMQP("29:6:hello\n,3:a@b,4:c\x1b@d,4:e\r@f,,", 64, &why), NSR_OK, "qmqp ESC read");
  is_int(why, NSR_ADDR, "qmqp ESC recipient refuses the message");
  is_sa(told, "4:c\x1b@d;", "qmqp: told once, the first bad recipient");
  told.len = 0;
  reset();
  is_int(QMQP("22:6:hello\n,4:a\n@b,3:c@d,,", 64, &why), NSR_OK, "qmqp LF sender read");
  is_int(why, NSR_SENDER, "qmqp LF sender refused");
  is_sa(told, "3:a\n@b;", "qmqp: told the sender");
  told.len = 0;
  reset();
  pol.databytes = 5;
  is_int(QMQP("21:6:hello\n,3:a@b,3:c@d,,", 64, &why), NSR_OK, "qmqp databytes read");
  is_sa(told, "1:;", "qmqp: too big told once, no address");
  told.len = 0;
  reset();
  is_int(QMTP("7:\nhello\n,3:a@b,"
              "63:13:x@example.org,10:x@evil.org,4:x\x7f@y,5:x@tmp,13:x@example.org,,", 64),
         NSR_OK, "qmtp mixed package");
  ok(why_is("08490") && pkg.accepted == 2, "qmtp: accept, relay, DEL, rcpthosts Z, accept");
  is_sa(told, "8:x@evil.org;4:x\x7f@y;9:x@tmp;", "qmtp: told per refused recipient");
  told.len = 0;
  reset();
  is_int(QMTP("7:\nhello\n,4:a\0@b,34:13:x@example.org,13:y@example.org,,", 64),
         NSR_OK, "qmtp NUL sender");
  ok(why_is("33"), "qmtp: both recipients get the sender's D");
  ok(told.len == 7 && memcmp(told.s, "3:a\0@b;", 7) == 0, "qmtp: told once, for the sender, NUL and all");
  pol.refused = 0;
  stralloc_free(&told);
}

int main(void)
{
  test_head();
  test_stream();
  test_addr();
  test_qmqp();
  test_qmtp();
  test_known();
  test_replies();
  test_told();
  stralloc_free(&qlog);
  stralloc_free(&body);
  stralloc_free(&pkg.why);
  return done_testing();
}
