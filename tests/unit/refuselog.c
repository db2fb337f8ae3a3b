/* tests/unit/refuselog.c: TAP tests for hub/servers/refuselog.c, the refusal log
 * line of the three servers: the exact line for an SMTP and a QMTP
 * refusal, escaping of every byte outside printable ASCII (a client's CR,
 * LF, ESC, NUL, DEL and 8-bit bytes) and of '"' and '\', the caps on the
 * reason and the input ("..." after the cut), no input field for NULL,
 * "unknown" without an address, the parsing of SMTP replies and
 * QMTP/QMQP texts into code and enhanced code (through fd 2 redirected to
 * a file), one write per line, and the line cap per process. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "q_err.h"
#include "refuselog.h"

static char line[REFUSELOG_LINE];
static size_t len;

static void fmt(const char *ip, const char *stage, const char *code, const char *enh,
                const char *reason, const char *in, size_t inlen)
{
  struct refusal r;
  r.stage = stage;
  r.code = code;
  r.enh = enh;
  r.reason = reason;
  r.reasonlen = reason ? strlen(reason) : 0;
  r.input = in;
  r.inputlen = inlen;
  len = refuselog_format(line, "qmail-smtpd", ip, &r);
}

/* clean: no byte outside printable ASCII but the final newline */
static int clean(const char *s, size_t n)
{
  size_t i;
  if (!n || s[n - 1] != '\n') return 0;
  for (i = 0; i + 1 < n; ++i)
    if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126) return 0;
  return 1;
}

static void test_format(void)
{
  static const char hostile[] = "\x1b[2J\r\nqmail-smtpd: refused: 1.2.3.4 rcpt\0\x7f\xff\"\\";
  char big[1001];
  fmt("192.0.2.9", "rcpt", "553", "5.7.1", "relaying denied", "TO:<x@evil.test>", 16);
  is_mem(line, len, "qmail-smtpd: refused: 192.0.2.9 rcpt 553 5.7.1 "
         "reason=\"relaying denied\" input=\"TO:<x@evil.test>\"\n", "the SMTP line");
  fmt(0, "recipient", "D", 0, "bad address", 0, 0);
  is_mem(line, len, "qmail-smtpd: refused: unknown recipient D - reason=\"bad address\"\n",
         "no IP: unknown; no enhanced code: -; no input field");
  fmt("", "command", "502", "5.5.1", "unimplemented", hostile, sizeof hostile - 1);
  is_mem(line, len, "qmail-smtpd: refused: unknown command 502 5.5.1 reason=\"unimplemented\" "
         "input=\"\\x1b[2J\\x0d\\x0aqmail-smtpd: refused: 1.2.3.4 rcpt\\x00\\x7f\\xff\\\"\\\\\"\n",
         "hostile input: every control byte, quote and backslash escaped");
  ok(clean(line, len), "hostile input: one line, no control byte");
  memset(big, 'a', 1000);
  big[1000] = 0;
  fmt("192.0.2.9", "rcpt", "501", "5.1.3", "too long", big, 1000);
  ok(len < REFUSELOG_LINE && clean(line, len), "1000-byte input: one clean line");
  ok(len > 6 && memcmp(line + len - 6, "a\"...\n", 6) == 0,
     "1000-byte input cut, marked with ... after the quote");
  ok(strstr(line, "input=\"") && strlen(strstr(line, "input=\"")) == 7 + REFUSELOG_CAP + 5,
     "input cut at REFUSELOG_CAP bytes");
  memset(big, '\x1b', 1000);
  fmt("1.2.3.4\r\nforged", "rcpt", "501", "5.1.3", big, big, 1000);
  ok(len < REFUSELOG_LINE && clean(line, len), "worst case (all escapes in reason, input, IP) fits");
  ok(strstr(line, "1.2.3.4\\x0d\\x0aforged rcpt") != 0, "a hostile IP is escaped too");
}

/* captured: run f with fd 2 on a file; what it wrote */
static size_t capture(void (*f)(void), char *out, size_t size)
{
  char name[] = "/tmp/refuselog.XXXXXX";
  int fd = mkstemp(name), save = dup(2);
  ssize_t n;
  unlink(name);
  dup2(fd, 2);
  f();
  dup2(save, 2);
  close(save);
  lseek(fd, 0, SEEK_SET);
  n = read(fd, out, size - 1);
  close(fd);
  out[n < 0 ? 0 : n] = 0;
  return n < 0 ? 0 : (size_t)n;
}

static void log_smtp(void)
{
  refuselog_smtp("rcpt", "553 5.7.1 sorry, that domain isn't in my list", "TO:<a\r\n@b>", 10);
  refuselog_smtp("data", "451 4.4.2 timeout", 0, 0);
  refuselog_smtp("helo", "501 syntax", "", 0);
  refuselog_smtp("data", "554 5.3.0 rejected (#5.3.0)", 0, 0);
  refuselog_smtp("data", "451 qq trouble (#4.3.0)", 0, 0);
}

static void log_ns(void)
{
  static const char d[] = "Drecipient address too long or containing a control character (#5.1.3)";
  static const char z[] = "Zqq trouble (#4.3.0)";
  static const char custom[] = "Dno thanks";
  refuselog_ns("recipient", d, sizeof d - 1, "x\x1b@y", 4);
  refuselog_ns("message", z, sizeof z - 1, 0, 0);
  refuselog_ns("message", custom, sizeof custom - 1, 0, 0);
}

static void test_parse(void)
{
  char out[8192];
  setenv("TCPREMOTEIP", "192.0.2.7", 1);
  progname = "qmail-smtpd";
  capture(log_smtp, out, sizeof out);
  is_str(out, "qmail-smtpd: refused: 192.0.2.7 rcpt 553 5.7.1 reason=\"sorry, that domain isn't in my list\" "
         "input=\"TO:<a\\x0d\\x0a@b>\"\n"
         "qmail-smtpd: refused: 192.0.2.7 data 451 4.4.2 reason=\"timeout\"\n"
         "qmail-smtpd: refused: 192.0.2.7 helo 501 - reason=\"syntax\" input=\"\"\n"
         "qmail-smtpd: refused: 192.0.2.7 data 554 5.3.0 reason=\"rejected\"\n"
         "qmail-smtpd: refused: 192.0.2.7 data 451 4.3.0 reason=\"qq trouble\"\n",
         "SMTP replies: code, enhanced code, text (a trailing (#x.y.z) taken off), escaped input");
  progname = "qmail-qmtpd";
  capture(log_ns, out, sizeof out);
  is_str(out, "qmail-qmtpd: refused: 192.0.2.7 recipient D 5.1.3 "
         "reason=\"recipient address too long or containing a control character\" input=\"x\\x1b@y\"\n"
         "qmail-qmtpd: refused: 192.0.2.7 message Z 4.3.0 reason=\"qq trouble\"\n"
         "qmail-qmtpd: refused: 192.0.2.7 message D - reason=\"no thanks\"\n",
         "QMTP texts: D/Z, (#x.y.z) taken off as the enhanced code");
}

static void flood(void)
{
  int i;
  for (i = 0; i < REFUSELOG_MAX + 50; ++i) refuselog_smtp("rcpt", "452 4.5.3 too many recipients", 0, 0);
}

static void test_cap(void)
{
  static char out[REFUSELOG_MAX * 128];
  size_t n = capture(flood, out, sizeof out), i, lines = 0;
  for (i = 0; i < n; ++i) lines += out[i] == '\n';
  /* test_parse wrote 8 of this process's lines already */
  is_int(lines, REFUSELOG_MAX - 8 + 1, "at most REFUSELOG_MAX lines, then one warning");
  ok(strstr(out, "qmail-qmtpd: warning: too many refusals") != 0, "the warning says so");
}

int main(void)
{
  test_format();
  test_parse();
  test_cap();
  return done_testing();
}
