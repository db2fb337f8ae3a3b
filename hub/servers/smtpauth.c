/* smtpauth.c: AUTH PLAIN and LOGIN for qmail-smtpd over a checkpassword
 * program (see smtpauth.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "case.h"
#include "q_control.h"
#include "q_err.h"
#include "authguard.h"
#include "smtpauth.h"

static char **checkpw;          /* the command, NULL-terminated; 0: AUTH off */
static char *defargs[3];
static unsigned long maxfail = SMTPAUTH_FAILURES, basedelay = SMTPAUTH_DELAY;
static unsigned long checkms = SMTPAUTH_CHECKTIME * 1000UL;
static unsigned long guardmax = SMTPAUTH_GUARD, guardtime = SMTPAUTH_GUARDTIME;
static const char *guardtable;  /* $AUTHGUARDTABLE; 0: no guard */
static stralloc senders;
static int have_senders;
static unsigned long failures;
static stralloc user;           /* the login, NUL-terminated, once authenticated */
static int authed;

/* ---- pieces ---------------------------------------------------------- */

static int b64val(unsigned char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int smtpauth_b64(stralloc *out, const char *s, size_t n)
{
  size_t i, pad = 0;
  out->len = 0;
  if (n % 4) return 0;
  if (n && s[n - 1] == '=') ++pad;
  if (pad && n > 1 && s[n - 2] == '=') ++pad;
  if (!stralloc_ready(out, n / 4 * 3 + 1)) return -1;
  for (i = 0; i < n; i += 4) {
    unsigned long v = 0;
    size_t j, last = i + 4 == n ? pad : 0;
    for (j = 0; j < 4; ++j) {
      int d = j >= 4 - last ? 0 : b64val((unsigned char)s[i + j]);
      if (d < 0) return 0;
      v = v << 6 | (unsigned long)d;
    }
    if ((last == 1 && (v & 0xff)) || (last == 2 && (v & 0xffff))) return 0;   /* unused bits */
    out->s[out->len++] = (char)(v >> 16);
    if (last < 2) out->s[out->len++] = (char)(v >> 8 & 0xff);
    if (last < 1) out->s[out->len++] = (char)(v & 0xff);
  }
  return 1;
}

int smtpauth_plain(const char *m, size_t n, size_t *u, size_t *ulen, size_t *p, size_t *plen)
{
  const char *z1 = memchr(m, 0, n), *z2;
  if (!z1) return 0;
  z2 = memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - m));
  if (!z2 || memchr(z2 + 1, 0, n - (size_t)(z2 + 1 - m))) return 0;
  *u = (size_t)(z1 + 1 - m);
  *ulen = (size_t)(z2 - z1 - 1);
  *p = (size_t)(z2 + 1 - m);
  *plen = n - *p;
  if (*ulen == 0) return 0;
  if (z1 != m && ((size_t)(z1 - m) != *ulen || memcmp(m, m + *u, *ulen))) return 0;
  return 1;
}

int smtpauth_loopback(const char *ip)
{
  if (!ip) return 0;
  if (!strcmp(ip, "::1")) return 1;
  if (!strncasecmp(ip, "::ffff:", 7)) ip += 7;
  return !strncmp(ip, "127.", 4);
}

/* addr_is: does entry e (an address, or "@domain") give addr? */
static int addr_is(const char *e, size_t elen, const char *a, size_t len)
{
  size_t at = len;
  if (elen == len && case_diffb(e, len, a) == 0) return 1;
  while (at > 0 && a[at - 1] != '@') --at;
  return e[0] == '@' && at > 0 && elen == len - at + 1 && case_diffb(e + 1, elen - 1, a + at) == 0;
}

int smtpauth_sender(const stralloc *list, const char *login, const char *addr, size_t len)
{
  size_t i, ll = strlen(login);
  if (len == 0) return 1;
  for (i = 0; i < list->len; i += strlen(list->s + i) + 1) {
    const char *l = list->s + i, *e;
    if (strncmp(l, login, ll) || l[ll] != ':') continue;
    for (e = l + ll + 1; *e; ) {
      size_t n;
      while (*e == ' ' || *e == '\t') ++e;
      n = strcspn(e, " \t");
      if (n && addr_is(e, n, addr, len)) return 1;
      e += n;
    }
  }
  return 0;
}

unsigned long smtpauth_delay(unsigned long base, unsigned long k)
{
  unsigned long d = base > SMTPAUTH_MAXDELAY ? SMTPAUTH_MAXDELAY : base;
  while (--k > 0 && d < SMTPAUTH_MAXDELAY) d *= 2;
  return d > SMTPAUTH_MAXDELAY ? SMTPAUTH_MAXDELAY : d;
}

/* ---- settings -------------------------------------------------------- */

int smtpauth_init(char **args, int timeout_ms, const char **name)
{
  const char *e = getenv("CHECKPASSWORD");
  int r;
  if (timeout_ms > 0) checkms = (unsigned long)timeout_ms;
  if (args && args[0]) {
    checkpw = args;
    if (!args[1]) { defargs[0] = args[0]; defargs[1] = (char *)"/bin/true"; checkpw = defargs; }
  } else if (e && *e) {
    defargs[0] = (char *)e;
    defargs[1] = (char *)"/bin/true";
    checkpw = defargs;
  }
  *name = "authfailures";
  if (control_readnum(&maxfail, "authfailures", 1) < 0) return -1;
  *name = "authdelay";
  if (control_readulong(&basedelay, "authdelay") < 0) return -1;
  *name = "authguard";
  if (control_readulong(&guardmax, "authguard") < 0) return -1;
  *name = "authguardtime";
  if (control_readnum(&guardtime, "authguardtime", 1) < 0) return -1;
  guardtable = getenv("AUTHGUARDTABLE");
  if (guardtable && !*guardtable) guardtable = 0;
  *name = "authsenders";
  r = control_readlist(&senders, "authsenders");
  if (r < 0) return -1;
  have_senders = r > 0;
  return 0;
}

int smtpauth_enabled(void) { return checkpw != 0; }

/* cleartext_ok: AUTH outside TLS: from loopback, unless turned off */
static int cleartext_ok(void)
{
  const char *c = getenv("AUTH_CLEARTEXT_LOOPBACK");
  if (c && !strcmp(c, "0")) return 0;
  return smtpauth_loopback(getenv("TCPREMOTEIP"));
}

int smtpauth_offer(int tls)
{
  return checkpw && !authed && (tls || cleartext_ok());
}

const char *smtpauth_user(void) { return authed ? user.s : 0; }

void smtpauth_reset(void)
{
  authed = 0;
  user.len = 0;
}

/* ---- checking -------------------------------------------------------- */

static void wipe(stralloc *sa)
{
  if (sa->s) explicit_bzero(sa->s, sa->a);
  sa->len = 0;
}

static void sleep_ms(unsigned long ms);

/* reap: wait for the checkpassword program, at most checkms; then kill it.
 * 0 and *st, or -1. */
static int reap(pid_t pid, int *st)
{
  unsigned long waited = 0, step = 1;
  for (;;) {
    pid_t r = waitpid(pid, st, WNOHANG);
    if (r == pid) return 0;
    if (r == -1 && errno != EINTR) return -1;
    if (waited >= checkms) {
      kill(pid, SIGKILL);
      while (waitpid(pid, st, 0) == -1 && errno == EINTR) ;
      err_print("warning", 0, "AUTH: ", checkpw[0], " took too long: killed", (const char *)0);
      return -1;
    }
    sleep_ms(step);
    waited += step;
    if (step < 32) step *= 2;
  }
}

/* run_checkpw: the checkpassword program with buf (n bytes) on its fd 3.
 * 0 accepted, 1 refused, -1 temporary trouble. */
static int run_checkpw(const char *buf, size_t n)
{
  int p[2], st;
  pid_t pid;
  size_t done = 0;
  if (pipe(p) == -1) return -1;
  pid = fork();
  if (pid == -1) { close(p[0]); close(p[1]); return -1; }
  if (pid == 0) {
    int nul = open("/dev/null", O_RDWR);
    close(p[1]);
    if (p[0] != 3) { if (dup2(p[0], 3) == -1) _exit(111); close(p[0]); }
    if (nul == -1 || dup2(nul, 0) == -1 || dup2(nul, 1) == -1) _exit(111);   /* not the client */
    if (nul > 3) close(nul);
    execv(checkpw[0], checkpw);
    err_print("alert", errno, "unable to run ", checkpw[0], (const char *)0);
    _exit(111);
  }
  close(p[0]);
  while (done < n) {
    ssize_t w = write(p[1], buf + done, n - done);
    if (w == -1 && errno == EINTR) continue;
    if (w <= 0) break;   /* it need not read it all */
    done += (size_t)w;
  }
  close(p[1]);
  if (reap(pid, &st) < 0 || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st) == 0 ? 0 : WEXITSTATUS(st) == 1 ? 1 : -1;
}

/* check: login and password (no NUL in either). 0, 1, -1 as run_checkpw;
 * credentials too long for checkpassword are refused without running it. */
static int check(const char *l, size_t ll, const char *pw, size_t pl, stralloc *buf)
{
  int r;
  if (ll + pl + 3 > SMTPAUTH_MAXCRED || memchr(l, 0, ll) || memchr(pw, 0, pl)) return 1;
  if (!stralloc_copyb(buf, l, ll) || !stralloc_0(buf) || !stralloc_catb(buf, pw, pl) ||
      !stralloc_0(buf) || !stralloc_0(buf))
    return -2;
  r = run_checkpw(buf->s, buf->len);
  return r;
}

static void sleep_ms(unsigned long ms)
{
  struct timespec ts;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) ;
}

/* guard: is the client over control/authguard refused attempts in
 * control/authguardtime seconds, counted across connections (add: count
 * one more first)? Then AUTH ends the connection without asking
 * checkpassword. A table that cannot be used fails closed (454). 1 when
 * answered. */
static int guard(const struct smtpauth_io *io, int add)
{
  long n;
  if (!guardtable || guardmax == 0) return 0;
  n = authguard_count(guardtable, getenv("TCPREMOTEIP"), guardtime, time(0), add);
  if (n < 0) {
    err_print("warning", errno, "AUTH: cannot use the guard table ", guardtable, (const char *)0);
    if (add) return 0;   /* the failure is answered anyway */
    io->reply("454 4.7.0 temporary authentication failure");
    return 1;
  }
  if (add || (unsigned long)n < guardmax) return 0;
  io->drop("421 4.7.0 too many failed authentication attempts from your address, try again later");
  return 1;
}

/* failed: a refused attempt costs a delay; the last one ends the session */
static void failed(const struct smtpauth_io *io, const char *msg)
{
  ++failures;
  guard(io, 1);
  sleep_ms(smtpauth_delay(basedelay, failures));
  if (failures >= maxfail) {
    io->reply(msg);
    io->drop("421 4.7.0 too many failed authentication attempts, closing connection");
  }
  io->reply(msg);
}

/* succeeded: remember and log the login (escaped: it came from the
 * client, although checkpassword knew it) */
static void succeeded(const struct smtpauth_io *io, const char *l, size_t ll)
{
  static const char hex[] = "0123456789abcdef";
  stralloc esc = {0, 0, 0};
  const char *ip = getenv("TCPREMOTEIP");
  size_t i;
  if (!stralloc_copyb(&user, l, ll) || !stralloc_0(&user)) io->nomem();
  for (i = 0; i < ll && i < 200; ++i) {
    unsigned char c = (unsigned char)l[i];
    char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
    if (c > 32 && c < 127 && c != '"' && c != '\\') { if (!stralloc_append(&esc, (char *)&l[i])) io->nomem(); }
    else if (!stralloc_catb(&esc, x, 4)) io->nomem();
  }
  if (!stralloc_0(&esc)) io->nomem();
  err_print("info", 0, "AUTH ok: ", ip && *ip ? ip : "unknown", " login=\"", esc.s, "\"", (const char *)0);
  stralloc_free(&esc);
  authed = 1;
  io->reply("235 2.7.0 authentication successful");
}

/* verdict: check and answer */
static void verdict(const struct smtpauth_io *io, const char *l, size_t ll, const char *pw, size_t pl)
{
  stralloc buf = {0, 0, 0};
  int r = check(l, ll, pw, pl, &buf);
  wipe(&buf);
  stralloc_free(&buf);
  if (r == -2) io->nomem();
  if (r == 0) succeeded(io, l, ll);
  else if (r == 1) failed(io, "535 5.7.8 authentication credentials invalid");
  else io->reply("454 4.7.0 temporary authentication failure");
}

/* response: a base64 line from the client (after a 334 prompt, or the
 * initial response) decoded into out. 1 ok; 0 answered (cancelled or
 * invalid). "=" is the empty response (RFC 4954 sec 4). */
static int response(const struct smtpauth_io *io, const char *s, size_t n, stralloc *out)
{
  int r;
  if (n == 1 && s[0] == '*') { io->reply("501 5.0.0 authentication cancelled"); return 0; }
  if (n == 1 && s[0] == '=') { out->len = 0; return 1; }
  r = smtpauth_b64(out, s, n);
  if (r < 0) io->nomem();
  if (r == 0) failed(io, "501 5.5.2 cannot decode the response (base64)");
  return r > 0;
}

/* prompt: "334 TEXT" and the client's answer, decoded */
static int prompt(const struct smtpauth_io *io, const char *text, stralloc *line, stralloc *out)
{
  io->reply(text);
  io->getline(line);
  return response(io, line->s, line->len, out);
}

static void auth_plain(const struct smtpauth_io *io, const char *ir, size_t irlen)
{
  stralloc line = {0, 0, 0}, m = {0, 0, 0};
  size_t u, ul, p, pl;
  int ok = irlen ? response(io, ir, irlen, &m) : prompt(io, "334 ", &line, &m);
  if (ok) {
    if (smtpauth_plain(m.s, m.len, &u, &ul, &p, &pl)) verdict(io, m.s + u, ul, m.s + p, pl);
    else failed(io, "535 5.7.8 authentication credentials invalid");
  }
  wipe(&line); wipe(&m);
  stralloc_free(&line); stralloc_free(&m);
}

static void auth_login(const struct smtpauth_io *io, const char *ir, size_t irlen)
{
  stralloc line = {0, 0, 0}, l = {0, 0, 0}, pw = {0, 0, 0};
  int ok = irlen ? response(io, ir, irlen, &l) : prompt(io, "334 VXNlcm5hbWU6", &line, &l);
  if (ok && prompt(io, "334 UGFzc3dvcmQ6", &line, &pw)) {
    if (l.len) verdict(io, l.s, l.len, pw.s, pw.len);
    else failed(io, "535 5.7.8 authentication credentials invalid");
  }
  wipe(&line); wipe(&l); wipe(&pw);
  stralloc_free(&line); stralloc_free(&l); stralloc_free(&pw);
}

void smtpauth_cmd(const struct smtpauth_io *io, const char *arg, size_t len, int tls)
{
  size_t m = 0, i;
  if (authed) { io->reply("503 5.5.1 already authenticated"); return; }
  if (!tls && !cleartext_ok()) {
    io->reply("538 5.7.11 encryption required for requested authentication mechanism");
    return;
  }
  while (m < len && arg[m] != ' ') ++m;
  i = m;
  while (i < len && arg[i] == ' ') ++i;
  if (m == 0) { io->reply("501 5.5.4 syntax: AUTH mechanism [initial-response]"); return; }
  if (guard(io, 0)) return;
  if (m == 5 && case_diffb(arg, 5, "PLAIN") == 0) auth_plain(io, arg + i, len - i);
  else if (m == 5 && case_diffb(arg, 5, "LOGIN") == 0) auth_login(io, arg + i, len - i);
  else io->reply("504 5.5.4 unrecognized authentication type");
}

int smtpauth_mail(const struct smtpauth_io *io, const char *addr, size_t len)
{
  const char *s = getenv("SUBMISSION");
  if (s && *s && !authed) { io->reply("530 5.7.0 authentication required"); return 0; }
  if (authed && have_senders && !smtpauth_sender(&senders, user.s, addr, len)) {
    io->reply("553 5.7.1 sorry, that sender is not yours (control/authsenders)");
    return 0;
  }
  return 1;
}
