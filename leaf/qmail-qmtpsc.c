/* qmail-qmtpsc: the TLS end of the leaf's QMTPS connections (qmtps: lines
 * of control/qmqpservers; man page qmail-qmtpsc.8, docs/qmtps.md).
 *
 *     qmail-qmtpsc HOST TIMEOUT_MS DEADLINE_MS   (run by q_qmqpc.c only)
 *
 * fd 3 is a TCP connection to a hub that q_qmqpc.c made; fd 0 is a socket
 * to q_qmqpc.c. The TLS handshake on fd 3 (q_tlsc.h) ends within
 * TIMEOUT_MS; the hub's certificate is checked against control/qmtpsca.pem
 * (chain and name: HOST) and/or control/qmtpspins (its SHA-256 fingerprint
 * must be one of the "sha256:HEX" lines); with neither file nothing is
 * sent (fail closed). control/qmtpscert.pem, when present, is the client
 * certificate, its chain and its key. One status line then goes to fd 0:
 * "K<TLS version, cipher, verification>\n" or "Z<why>\n" (printable ASCII,
 * at most 300 bytes); after a K the bytes are relayed both ways (plaintext
 * on fd 0, TLS on fd 3) until either side ends, an error, or DEADLINE_MS
 * from the start. Memory: two buffers of RELAYBUF bytes.
 *
 * The leaf's in-process QMQP/QMTP client (sendmail, qmail-inject, forward,
 * qmail-qmqpc) does not link libtls: this program is run only for a qmtps:
 * line, so a plain send pays nothing for TLS (docs/qmtps.md). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "q_control.h"
#include "q_err.h"
#include "q_io.h"
#include "q_tlsc.h"
#include <tls.h>

#define RELAYBUF 16384
#define STATUSMAX 300
#define PINSMAX 64              /* lines of control/qmtpspins */
#define PINLEN 64               /* hex digits of a SHA-256 */

static char pins[PINSMAX][PINLEN + 1];
static size_t npins;
static struct io_limits lim;    /* per call: TIMEOUT_MS, and the deadline */

/* status: the line to fd 0 ("K..." or "Z..."), cleaned and capped. */
static void status(char k, const char *a, const char *b)
{
  char line[STATUSMAX + 2];
  size_t n = 0;
  const char *s;
  line[n++] = k;
  for (s = a; s && *s && n < STATUSMAX; ++s) line[n++] = (*s >= 32 && *s < 127) ? *s : '?';
  for (s = b; s && *s && n < STATUSMAX; ++s) line[n++] = (*s >= 32 && *s < 127) ? *s : '?';
  line[n++] = '\n';
  (void)io_writeall(0, line, n, &lim);
}

static void fail(const char *a, const char *b) __attribute__((noreturn));
static void fail(const char *a, const char *b)
{
  status('Z', a, b);
  _exit(0);
}

/* optional: control/name's path when the file exists, else NULL; present
 * but unreadable fails closed. */
static const char *optional(stralloc *sa, const char *name)
{
  if (!control_path(sa, name)) fail("out of memory", 0);
  if (access(sa->s, R_OK) == 0) return sa->s;
  if (errno == ENOENT) return 0;
  fail("cannot read control/", name);
}

/* pin_line: "sha256:HEX" (either case, ':' between pairs allowed) into out
 * (lower-case hex). 0 ok, -1 not a pin. */
static int pin_line(const char *s, size_t len, char *out)
{
  size_t i, n = 0;
  if (len < 7 || strncasecmp(s, "sha256:", 7) != 0) return -1;
  for (i = 7; i < len; ++i) {
    char c = s[i];
    if (c == ':' && n && n % 2 == 0) continue;
    if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) || n >= PINLEN) return -1;
    out[n++] = c;
  }
  out[n] = 0;
  return n == PINLEN ? 0 : -1;
}

/* load_pins: control/qmtpspins; 1 read, 0 missing. A bad line fails. */
static int load_pins(void)
{
  stralloc sa = {0};
  size_t pos = 0, no = 0;
  int r = control_readlist(&sa, "qmtpspins");
  if (r < 0) fail("cannot read control/qmtpspins: ", control_strerror(errno));
  if (r == 0) return 0;
  while (pos < sa.len) {
    const char *line = sa.s + pos;
    size_t ll = strlen(line);
    pos += ll + 1;
    ++no;
    if (npins >= PINSMAX) fail("control/qmtpspins: too many lines", 0);
    if (pin_line(line, ll, pins[npins++]) < 0) {
      char num[24];
      int k = sizeof num - 1;
      num[k] = 0;
      do num[--k] = (char)('0' + no % 10); while ((no /= 10) && k);
      fail("control/qmtpspins: item is not sha256:HEX (64 hex digits): item ", num + k);
    }
  }
  stralloc_free(&sa);
  if (npins == 0) fail("control/qmtpspins lists no fingerprint", 0);
  return 1;
}

/* pinned: the hub's certificate hash ("SHA256:hex") is one of the pins */
static int pinned(struct qtlsc *t)
{
  const char *h = tls_peer_cert_hash(t->conn);
  size_t i;
  if (!h || strncasecmp(h, "SHA256:", 7) != 0) return 0;
  for (i = 0; i < npins; ++i)
    if (strcasecmp(h + 7, pins[i]) == 0) return 1;
  return 0;
}

/* writeall: all of buf[0..n) into TLS. 0 ok, -1 failed. */
static int tls_writeall(struct qtlsc *t, const char *buf, size_t n)
{
  while (n) {
    ssize_t w = qtlsc_write(t, buf, n, &lim);
    if (w <= 0) return -1;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* relay: until either side ends or fails, or the deadline. */
static void relay(struct qtlsc *t)
{
  static char buf[RELAYBUF];
  for (;;) {
    struct pollfd p[2];
    ssize_t n;
    int ms;
    while ((n = qtlsc_read_nowait(t, buf, sizeof buf)) > 0)
      if (io_writeall(0, buf, (size_t)n, &lim) < 0) return;
    if (n == 0 || errno != EAGAIN) return;
    ms = (int)(lim.deadline_ms - io_now_ms());
    if (ms <= 0) return;
    p[0].fd = 0; p[0].events = POLLIN; p[0].revents = 0;
    p[1].fd = 3; p[1].events = POLLIN; p[1].revents = 0;
    if (poll(p, 2, ms) < 0 && errno != EINTR) return;
    if (p[0].revents) {
      n = read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || tls_writeall(t, buf, (size_t)n) < 0) return;
    }
  }
}

static long number(const char *s)
{
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v <= 0) fatal(100, "usage: qmail-qmtpsc HOST TIMEOUT_MS DEADLINE_MS");
  return v;
}

int main(int argc, char **argv)
{
  stralloc capath = {0}, certpath = {0}, why = {0}, info = {0};
  struct qtlsc t;
  struct qtlsc_opts o;
  int havepins;
  progname = "qmail-qmtpsc";
  signal(SIGPIPE, SIG_IGN);
  if (argc != 4) fatal(100, "usage: qmail-qmtpsc HOST TIMEOUT_MS DEADLINE_MS");
  lim.timeout_ms = (int)number(argv[2]);
  lim.deadline_ms = io_now_ms() + number(argv[3]);
  memset(&o, 0, sizeof o);
  o.servername = argv[1];
  o.cafile = optional(&capath, "qmtpsca.pem");
  o.certfile = optional(&certpath, "qmtpscert.pem");
  o.verify = o.cafile != 0;
  havepins = load_pins();
  if (!o.cafile && !havepins)
    fail("no way to check the hub's certificate: neither control/qmtpsca.pem nor "
         "control/qmtpspins exists", 0);
  if (qtlsc_connect(&t, 3, 3, &o, &lim, &why) < 0) fail(why.len ? why.s : "TLS failed", 0);
  if (havepins && !pinned(&t)) {
    qtlsc_free(&t, &lim);
    fail("TLS: the hub's certificate matches no fingerprint in control/qmtpspins", 0);
  }
  t.pinned = havepins;
  if (!qtlsc_describe(&t, &info) || !stralloc_0(&info)) fail("out of memory", 0);
  status('K', info.s, 0);
  stralloc_free(&info);
  stralloc_free(&why);
  relay(&t);
  qtlsc_free(&t, 0);
  stralloc_free(&capath);
  stralloc_free(&certpath);
  return 0;
}
