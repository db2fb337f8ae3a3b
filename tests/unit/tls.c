/* tests/unit/tls.c: TAP tests for common/q_tls.c. Certificates are made
 * at run time with openssl(1) in a temporary home ($QMAILHOME). Server
 * side here, a libtls client in a forked child over a socketpair:
 *   qtls_havecert: present, missing, unopenable (a symlink loop)
 *   qtls_config/qtls_server: a good chain+key file; missing, garbage, a
 *     certificate without its key, a key that does not match, a bad cipher
 *     list: each fails with a reason naming the file and never the key's
 *     bytes; tlsserverciphers applied
 *   qtls_accept: TLS 1.3 and 1.2 sessions, data both ways, qtls_describe,
 *     the end by close_notify and by a bare TCP close (read 0); a client
 *     restricted to TLS 1.1 refused; no TLS (cleartext SMTP) refused with
 *     EPROTO; a silent client and a client trickling its ClientHello a
 *     byte at a time both cut off at the handshake deadline (ETIMEDOUT);
 *     a client gone mid-handshake (eof); a read timeout after the
 *     handshake (ETIMEDOUT). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tls.h>
#include <unistd.h>
#include "tap.h"
#include "q_io.h"
#include "q_tls.h"

static char home[256], ctl[300];

static void sh(const char *cmd)
{
  if (system(cmd) != 0) { printf("Bail out! failed: %s\n", cmd); exit(2); }
}

static void put(const char *name, const char *from)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cat %s%s%s > %s/%s", *from == '/' ? "" : home, *from == '/' ? "" : "/",
           from, ctl, name);
  sh(cmd);
}

static void rm(const char *name)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", ctl, name);
  unlink(p);
}

static void mkcerts(void)
{
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd %s && for k in a b; do openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
           "-nodes -days 2 -subj /CN=hub.example.org -keyout $k.key -out $k.crt 2>/dev/null || exit 1; done && "
           "cat a.crt a.key > good.pem && cat a.crt b.key > mismatch.pem && cp a.crt certonly.pem && "
           "printf 'not a certificate\\n' > garbage.pem", home);
  sh(cmd);
}

/* load: qtls_config + qtls_server with the control files in place */
static int load(struct qtls *t, stralloc *why)
{
  struct tls_config *cfg;
  why->len = 0;
  if (qtls_config(&cfg, why) < 0) return -1;
  return qtls_server(t, cfg, why);
}

static int has(const stralloc *sa, const char *s)
{
  return sa->len && memmem(sa->s, sa->len, s, strlen(s)) != 0;
}

/* key_in: does why hold a line of the file's base64 body? */
static int key_in(const stralloc *why, const char *file)
{
  char p[512], line[256];
  FILE *f;
  int hit = 0;
  snprintf(p, sizeof p, "%s/%s", home, file);
  if (!(f = fopen(p, "r"))) return 1;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (line[0] != '-' && strlen(line) > 16 && has(why, line)) hit = 1;
  }
  fclose(f);
  return hit;
}

static void test_havecert(void)
{
  char p[512];
  rm("servercert.pem");
  is_int(qtls_havecert(), 0, "havecert: missing -> 0");
  put("servercert.pem", "/dev/null");
  is_int(qtls_havecert(), 1, "havecert: present -> 1");
  rm("servercert.pem");
  snprintf(p, sizeof p, "%s/servercert.pem", ctl);
  if (symlink("servercert.pem", p) < 0) exit(2);
  errno = 0;
  is_int(qtls_havecert(), -1, "havecert: a symlink loop -> -1");
  is_int(errno, ELOOP, "havecert: errno ELOOP");
  rm("servercert.pem");
}

static void test_config(void)
{
  struct qtls t;
  stralloc why = {0};
  rm("servercert.pem");
  is_int(load(&t, &why), -1, "config: missing certificate fails");
  ok(has(&why, "control/servercert.pem") && has(&why, "does not exist"), "config: why names the file and says missing");
  put("servercert.pem", "garbage.pem");
  is_int(load(&t, &why), -1, "config: garbage fails");
  ok(has(&why, "control/servercert.pem"), "config: why names the file (garbage)");
  put("servercert.pem", "certonly.pem");
  is_int(load(&t, &why), -1, "config: a certificate without its key fails");
  put("servercert.pem", "mismatch.pem");
  is_int(load(&t, &why), -1, "config: a key that does not match fails");
  ok(has(&why, "control/servercert.pem"), "config: why names the file (mismatch)");
  ok(!key_in(&why, "mismatch.pem") && !has(&why, "PRIVATE"), "config: why holds none of the key's bytes");
  put("servercert.pem", "good.pem");
  {
    char p[512];
    FILE *f;
    snprintf(p, sizeof p, "%s/tlsserverciphers", ctl);
    if (!(f = fopen(p, "w")) || fputs("NO-SUCH-CIPHER\n", f) < 0 || fclose(f) != 0) exit(2);
  }
  is_int(load(&t, &why), -1, "config: a bad cipher list fails");
  ok(has(&why, "control/tlsserverciphers"), "config: why names tlsserverciphers");
  rm("tlsserverciphers");
  is_int(load(&t, &why), 0, "config: chain and key in one file load");
  ok(t.srv != 0, "config: a server context");
  tls_free(t.srv);
  stralloc_free(&why);
}

/* ---- a client in a child ---------------------------------------------- */

enum { C_OK, C_TLS11, C_CLEAR, C_SILENT, C_TRICKLE, C_HALF, C_IDLE, C_TCPCLOSE };

static struct tls *client(int fd, unsigned proto)
{
  struct tls_config *c = tls_config_new();
  struct tls *ctx = tls_client();
  if (!c || !ctx) _exit(10);
  tls_config_insecure_noverifycert(c);
  tls_config_insecure_noverifyname(c);
  /* TLS 1.1 needs OpenSSL's security level 0 on our side, so that the
   * server's refusal is what stops it */
  if (proto == TLS_PROTOCOL_TLSv1_1 && tls_config_set_ciphers(c, "ALL:@SECLEVEL=0") < 0) _exit(11);
  if (tls_config_set_protocols(c, proto) < 0 || tls_configure(ctx, c) < 0) _exit(11);
  if (tls_connect_fds(ctx, fd, fd, "hub.example.org") < 0) _exit(12);
  return ctx;
}

/* a ClientHello's first bytes: a handshake record header and more */
static const char hello[] = "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03";

static void run_client(int fd, int kind, unsigned proto)
{
  struct tls *ctx;
  char buf[64];
  ssize_t n;
  size_t i;
  switch (kind) {
  case C_CLEAR:
    if (write(fd, "EHLO x\r\n", 8) != 8) _exit(1);
    sleep(2);
    _exit(0);
  case C_SILENT:
    sleep(3);
    _exit(0);
  case C_TRICKLE:
    for (i = 0; i < sizeof hello - 1; ++i) {
      if (write(fd, hello + i, 1) != 1) _exit(0);
      usleep(100000);
    }
    sleep(2);
    _exit(0);
  case C_HALF:
    if (write(fd, hello, 6) != 6) _exit(1);
    _exit(0);
  }
  ctx = client(fd, proto);
  if (tls_handshake(ctx) < 0) _exit(kind == C_TLS11 ? 0 : 13);
  if (kind == C_TLS11) _exit(14);
  if (kind == C_IDLE) { sleep(2); _exit(0); }
  if (tls_write(ctx, "hello\r\n", 7) != 7) _exit(15);
  do n = tls_read(ctx, buf, sizeof buf);   /* TLS 1.3: session tickets first */
  while (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT);
  if (n != 5 || memcmp(buf, "bye\r\n", 5) != 0) _exit(16);
  if (kind == C_TCPCLOSE) _exit(0);
  tls_close(ctx);
  _exit(0);
}

static pid_t start(int sv[2], int kind, unsigned proto)
{
  pid_t pid;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) exit(2);
  pid = fork();
  if (pid < 0) exit(2);
  if (pid == 0) { close(sv[0]); run_client(sv[1], kind, proto); }
  close(sv[1]);
  return pid;
}

static int reap(pid_t pid)
{
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static long long t0;
static long long took(void) { return io_now_ms() - t0; }

/* session: a server for one client kind; returns qtls_accept's result */
static int session(int kind, unsigned proto, int timeout_ms, struct qtls *t, stralloc *why,
                   int sv[2], pid_t *pid)
{
  static struct io_limits rl, wl;
  rl.deadline_ms = wl.deadline_ms = io_now_ms() + 60000;
  rl.timeout_ms = wl.timeout_ms = timeout_ms;
  if (load(t, why) < 0) { printf("Bail out! %s\n", why->s); exit(2); }
  *pid = start(sv, kind, proto);
  t0 = io_now_ms();
  errno = 0;
  return qtls_accept(t, sv[0], sv[0], &rl, &wl, why);
}

static void test_ok(unsigned proto, const char *version)
{
  struct qtls t;
  stralloc why = {0}, d = {0};
  char buf[64], name[128];
  int sv[2];
  pid_t pid;
  ssize_t n;
  int r = session(C_OK, proto, 5000, &t, &why, sv, &pid);
  snprintf(name, sizeof name, "%s: handshake", version);
  is_int(r, 0, name);
  n = qtls_read(&t, buf, sizeof buf);
  snprintf(name, sizeof name, "%s: the client's bytes read", version);
  is_mem(buf, n > 0 ? (size_t)n : 0, "hello\r\n", name);
  snprintf(name, sizeof name, "%s: a write", version);
  is_int(qtls_write(&t, "bye\r\n", 5), 5, name);
  snprintf(name, sizeof name, "%s: close_notify -> read 0", version);
  is_int(qtls_read(&t, buf, sizeof buf), 0, name);
  if (!qtls_describe(&t, &d) || !stralloc_0(&d)) exit(2);
  snprintf(name, sizeof name, "%s: describe '%s'", version, d.s);
  ok(strncmp(d.s, version, strlen(version)) == 0 && strstr(d.s, " cipher ") && strstr(d.s, " bits "), name);
  snprintf(name, sizeof name, "%s: client exit 0", version);
  is_int(reap(pid), 0, name);
  close(sv[0]);
  tls_free(t.conn);
  tls_free(t.srv);
  stralloc_free(&why);
  stralloc_free(&d);
}

static void test_tcpclose(void)
{
  struct qtls t;
  stralloc why = {0};
  char buf[64];
  int sv[2];
  pid_t pid;
  is_int(session(C_TCPCLOSE, TLS_PROTOCOL_TLSv1_3, 5000, &t, &why, sv, &pid), 0, "tcp close: handshake");
  ok(qtls_read(&t, buf, sizeof buf) == 7, "tcp close: data");
  qtls_write(&t, "bye\r\n", 5);
  errno = 0;
  is_int(qtls_read(&t, buf, sizeof buf), 0, "tcp close without close_notify -> read 0");
  is_int(reap(pid), 0, "tcp close: client exit 0");
  close(sv[0]);
  tls_free(t.conn);
  tls_free(t.srv);
  stralloc_free(&why);
}

/* refused: a handshake that must fail with err within [lo, hi] ms */
static void refused(int kind, unsigned proto, int timeout_ms, int err, long long lo, long long hi,
                    const char *what, const char *reason)
{
  struct qtls t;
  stralloc why = {0};
  char name[160];
  int sv[2], e;
  pid_t pid;
  int r = session(kind, proto, timeout_ms, &t, &why, sv, &pid);
  long long ms = took();
  e = errno;
  snprintf(name, sizeof name, "%s: handshake fails", what);
  is_int(r, -1, name);
  snprintf(name, sizeof name, "%s: errno %d", what, err);
  is_int(e, err, name);
  snprintf(name, sizeof name, "%s: after %lld ms (%lld..%lld)", what, ms, lo, hi);
  ok(ms >= lo && ms <= hi, name);
  snprintf(name, sizeof name, "%s: why '%s'", what, why.len ? why.s : "");
  ok(has(&why, reason), name);
  close(sv[0]);
  kill(pid, SIGKILL);
  reap(pid);
  if (t.conn) tls_free(t.conn);
  tls_free(t.srv);
  stralloc_free(&why);
}

static void test_readtimeout(void)
{
  struct qtls t;
  stralloc why = {0};
  char buf[64];
  int sv[2];
  pid_t pid;
  ssize_t r;
  is_int(session(C_IDLE, TLS_PROTOCOL_TLSv1_3, 300, &t, &why, sv, &pid), 0, "idle: handshake");
  t0 = io_now_ms();
  errno = 0;
  r = qtls_read(&t, buf, sizeof buf);
  is_int(r, -1, "idle client: read -> -1");
  is_int(errno, ETIMEDOUT, "idle client: ETIMEDOUT");
  ok(took() >= 250 && took() < 1500, "idle client: after the read timeout");
  close(sv[0]);
  kill(pid, SIGKILL);
  reap(pid);
  tls_free(t.conn);
  tls_free(t.srv);
  stralloc_free(&why);
}

int main(void)
{
  char *d;
  signal(SIGPIPE, SIG_IGN);
  snprintf(home, sizeof home, "/tmp/qtls.XXXXXX");
  if (!(d = mkdtemp(home))) return 2;
  snprintf(ctl, sizeof ctl, "%s/control", home);
  if (mkdir(ctl, 0700) < 0) return 2;
  setenv("QMAILHOME", home, 1);
  mkcerts();
  test_havecert();
  test_config();
  put("servercert.pem", "good.pem");
  test_ok(TLS_PROTOCOL_TLSv1_3, "TLSv1.3");
  test_ok(TLS_PROTOCOL_TLSv1_2, "TLSv1.2");
  test_tcpclose();
  refused(C_TLS11, TLS_PROTOCOL_TLSv1_1, 5000, EPROTO, 0, 4000, "a TLS 1.1 client",
          "unsupported protocol");
  refused(C_CLEAR, 0, 5000, EPROTO, 0, 4000, "cleartext instead of a ClientHello",
          "TLS: handshake failed: ");
  refused(C_SILENT, 0, 400, ETIMEDOUT, 350, 2000, "a silent client", "TLS handshake: timeout");
  refused(C_TRICKLE, 0, 400, ETIMEDOUT, 350, 1000, "a ClientHello a byte per 0.1 s",
          "TLS handshake: timeout");
  refused(C_HALF, 0, 5000, 0, 0, 4000, "a client gone mid-handshake",
          "TLS handshake: the client closed the connection");
  test_readtimeout();
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    sh(cmd);
  }
  return done_testing();
}
