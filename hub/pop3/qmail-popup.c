/* qmail-popup: the POP3 server's first half, as qmail's: the greeting and
 * the AUTHORIZATION state (RFC 1939 USER, PASS, QUIT; RFC 2449 CAPA;
 * RFC 2595 STLS; RFC 5034 AUTH PLAIN), then the checkpassword program,
 * which runs the rest of its arguments (qmail-pop3d Maildir) as the user.
 *   qmail-popup hostname checkpassword subprogram [arg ...]
 * Run by tcpserver (as root, so that checkpassword can become the user);
 * fds 0 and 1 are the client. Man page: qmail-popup.8; docs/pop3.md.
 * As root it splits at once (popriv.h): a child with qmaild's ids does
 * all of the dialogue below, TLS included; the root parent never reads
 * the client and only runs the logins the child hands it.
 *
 * $POP3S set: implicit TLS (RFC 8314), the handshake before the greeting.
 * Inside TLS the session goes on through poprelay.c after the login.
 * USER, PASS and AUTH outside TLS only from a loopback client, unless
 * $AUTH_CLEARTEXT_LOOPBACK is 0 (then never).
 *
 * No APOP: qmail-checkpassword keeps yescrypt hashes, not the passwords
 * APOP's digest needs, so the greeting carries no timestamp and the
 * timestamp field on fd 3 is empty.
 *
 * Failed logins: control/authdelay ms (1000), doubled each time (at most
 * 30 s), and the control/authfailures'th (3) ends the connection: the
 * files and the rule of SMTP AUTH (smtpauth.h). Each is logged with the
 * client's address, never with the login or the password.
 *
 * Caps: a command line of POPUP_LINE bytes (longer: -ERR and drop),
 * POPUP_CMDS commands without a login (then -ERR and drop), credentials
 * of 512 bytes (checkpassword's), control/timeoutpop3d seconds per read
 * (600; qmail-pop3d's too), control/timeoutsession for the whole session (1800, q_limits.h).
 *
 * Exit codes: 0 QUIT, the client left, or the session ran; 100 dropped
 * (line too long, too many commands or failures); 111 temporary trouble
 * (timeout, I/O error, TLS impossible, a control file unusable). */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "buffer.h"
#include "case.h"
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_getln.h"
#include "q_io.h"
#include "q_limits.h"
#include "q_perip.h"
#include "q_tls.h"
#include "poprelay.h"
#include "refuselog.h"
#include "srvfork.h"
#include "ctlcache.h"
#include "smtpauth.h"
#include "srvconf.h"

#define POPUP_LINE 1024         /* a command line with its CRLF */
#define POPUP_CMDS 30           /* commands before a login */
#define POPUP_USER 256          /* a login name */
#define POPUP_TIMEOUT 600       /* default control/timeoutpop3d, seconds */
#define POPUP_USER_IDS "qmaild" /* as root, the ids of the half that talks to the client */

static char inbuf[POPRELAY_BUF], outbuf[4096];
static buffer in, out;
static struct io_limits in_lim, out_lim;
static struct qtls tls;
static int tlson, tlsready, certok = -1;

static const char *hostname;
static char **childargs;
static unsigned long maxfail = SMTPAUTH_FAILURES, basedelay = SMTPAUTH_DELAY, failures, ncmds;
static stralloc line, user;
static int seenuser;
static int ctl = -1;            /* split as root: to the privileged half (popriv.h) */

/* ---- I/O ---------------------------------------------------------- */

/* plain_read: outside TLS never read past the end of the line: what the
 * client sends after PASS belongs to qmail-pop3d, which gets the socket */
static ssize_t plain_read(int fd, char *buf, size_t len)
{
  ssize_t r;
  char *nl;
  if (io_wait(fd, POLLIN, &in_lim) < 0) return -1;
  r = recv(fd, buf, len, MSG_PEEK);
  if (r == -1 && errno == ENOTSOCK) return read(fd, buf, 1);   /* a pipe: a byte at a time */
  if (r <= 0) return r;
  nl = memchr(buf, '\n', (size_t)r);
  if (nl) r = nl - buf + 1;
  return read(fd, buf, (size_t)r);
}

/* read_op: the input buffer's op; what we owe the client goes out first */
static ssize_t read_op(int fd, char *buf, size_t len, void *b)
{
  (void)b;
  if (buffer_flush(&out) < 0) return -1;
  return tlson ? qtls_read(&tls, buf, len) : plain_read(fd, buf, len);
}

static ssize_t write_op(int fd, const char *buf, size_t len, void *b)
{
  return tlson ? qtls_write(&tls, buf, len) : io_bwrite(fd, buf, len, b);
}

static void put(const char *s) { buffer_puts(&out, s); }
static void reply(const char *s) { put(s); put("\r\n"); }

/* ---- leaving ------------------------------------------------------ */

static void __attribute__((noreturn)) leave(int code)
{
  out_lim.deadline_ms = io_now_ms() + 5000;   /* the last words, even late */
  out_lim.timeout_ms = 5000;
  buffer_flush(&out);
  if (tlson) qtls_close(&tls);
  _exit(code);
}

/* logrefusal: one refuselog line: stage, what we said ("-ERR" or "-"
 * for a drop without a reply), the text; never the client's argument */
static void logrefusal(const char *stage, const char *code, const char *text)
{
  struct refusal r;
  r.stage = stage;
  r.code = code;
  r.enh = 0;
  r.reason = text;
  r.reasonlen = strlen(text);
  r.input = 0;
  r.inputlen = 0;
  refuselog(&r);
}

/* refuse: -ERR text, logged */
static void refuse(const char *stage, const char *text)
{
  logrefusal(stage, "-ERR", text);
  put("-ERR ");
  reply(text);
}

static void __attribute__((noreturn)) drop(const char *stage, const char *text)
{
  refuse(stage, text);
  leave(100);
}

static void __attribute__((noreturn)) die_nomem(void)
{
  reply("-ERR out of memory");
  leave(111);
}

/* die_io: the client left (0), stalled or failed (111) */
static void __attribute__((noreturn)) die_io(int eof)
{
  if (!eof && errno == ETIMEDOUT) {
    logrefusal("command", "-ERR", "timeout");
    reply("-ERR timeout");
  }
  leave(eof ? 0 : 111);
}

static void __attribute__((noreturn)) die_control(const char *name)
{
  err_print("alert", 0, "cannot use control/", name, ": ", control_strerror(errno), (const char *)0);
  reply("-ERR unable to read controls");
  leave(111);
}

static void __attribute__((noreturn)) refuse_controls(void)
{
  reply("-ERR unable to read controls");
  leave(111);
}

/* ---- TLS ---------------------------------------------------------- */

static int implicit(void)
{
  const char *s = getenv("POP3S");
  return s && *s;
}

/* havecert: may STLS be offered (checked once, an unreadable file logged) */
static int havecert(void)
{
  if (certok < 0) {
    int r = qtls_havecert();
    certok = r > 0;
    if (r < 0)
      err_print("warning", 0, "STLS not offered: cannot read control/" QTLS_CERT ": ",
                control_strerror(errno), (const char *)0);
  }
  return certok;
}

static int prepare(void)
{
  stralloc why = {0};
  struct tls_config *cfg;
  if (tlsready) return 0;
  if (qtls_preloaded(&tls)) { tlsready = 1; return 0; }   /* the listener's */
  if (qtls_config(&cfg, &why) < 0 || qtls_server(&tls, cfg, &why) < 0) {
    err_print("alert", 0, "TLS not available: ", why.len ? why.s : "out of memory", (const char *)0);
    stralloc_free(&why);
    return -1;
  }
  stralloc_free(&why);
  tlsready = 1;
  return 0;
}

/* the control files a session reads, kept by the listener (ctlcache.h) */
static const char *const ctlfiles[] = {
  "timeoutsession", "timeoutpop3d", "authfailures", "authdelay", 0
};

/* preload: the listener's TLS context, shared by its sessions (q_tls.h),
 * and its copy of the control files */
static void preload(void)
{
  qtls_preload(0);
  ctlcache_load(ctlfiles);
}

/* handshake: on fds 0 and 1; a failure is logged and ends the session */
static void handshake(void)
{
  stralloc why = {0};
  if (buffer_flush(&out) < 0) die_io(0);
  if (qtls_accept(&tls, 0, 1, &in_lim, &out_lim, &why) < 0) {
    int e = errno;
    logrefusal(implicit() ? "pop3s" : "stls", "-", why.len ? why.s : "TLS handshake failed");
    leave(e == ETIMEDOUT ? 111 : tls.eof ? 0 : 100);
  }
  stralloc_free(&why);
  tlson = 1;
}

/* discard: the cleartext the client sent after STLS, before our answer
 * (RFC 2595 sec 4, CVE-2011-0411): read and dropped, never executed */
static void discard(void)
{
  char junk[4096];
  struct pollfd p;
  size_t total = 0;
  in.p = in.n = 0;
  p.fd = 0;
  p.events = POLLIN;
  while (total < 1024 * 1024 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
    ssize_t r = read(0, junk, sizeof junk);
    if (r <= 0) break;
    total += (size_t)r;
  }
}

/* ---- the login ---------------------------------------------------- */

/* login_ok: may credentials be given now: inside TLS, or from loopback
 * unless $AUTH_CLEARTEXT_LOOPBACK is 0 */
static int login_ok(void)
{
  const char *c = getenv("AUTH_CLEARTEXT_LOOPBACK");
  if (tlson) return 1;
  if (c && !strcmp(c, "0")) return 0;
  return smtpauth_loopback(getenv("TCPREMOTEIP"));
}

static void sleep_ms(unsigned long ms)
{
  struct timespec ts;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) ;
}

/* failed_after: the delay (less spent ms already waited), the log line,
 * the drop after the last allowed one */
static void failed_after(const char *stage, unsigned long spent)
{
  unsigned long d;
  ++failures;
  d = smtpauth_delay(basedelay, failures);
  if (d > spent) sleep_ms(d - spent);
  if (failures >= maxfail) drop(stage, "authorization failed, too many failures: closing");
  refuse(stage, "authorization failed");
}

static void failed(const char *stage) { failed_after(stage, 0); }

/* logged_in: "info: login ok: IP login="NAME"", the name escaped */
static void logged_in(void)
{
  static const char hex[] = "0123456789abcdef";
  stralloc esc = {0};
  const char *ip = getenv("TCPREMOTEIP");
  size_t i;
  for (i = 0; i < user.len && i < 200; ++i) {
    unsigned char c = (unsigned char)user.s[i];
    char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
    if (!(c > 32 && c < 127 && c != '"' && c != '\\' ? stralloc_append(&esc, &user.s[i]) : stralloc_catb(&esc, x, 4)))
      return;
  }
  if (!stralloc_0(&esc)) return;
  err_print("info", 0, "login ok: ", ip && *ip ? ip : "unknown", " login=\"", esc.s, "\"",
            tlson ? " TLS" : "", (const char *)0);
  stralloc_free(&esc);
}

static void wipe(stralloc *sa)
{
  if (sa->s) explicit_bzero(sa->s, sa->a);
  sa->len = 0;
}

/* attempt: user (the login) and pass (plen bytes) to checkpassword. On a
 * good one the child's session runs and we exit; else the answer. */
static void attempt(const char *stage, const char *pass, size_t plen)
{
  stralloc cred = {0};
  long long t0;
  int r;
  seenuser = 0;
  if (user.len + plen + 3 > SMTPAUTH_MAXCRED || memchr(pass, 0, plen) || memchr(user.s, 0, user.len)) {
    failed(stage);
    return;
  }
  if (!stralloc_copy(&cred, &user) || !stralloc_0(&cred) || !stralloc_catb(&cred, pass, plen) ||
      !stralloc_0(&cred) || !stralloc_0(&cred))   /* no APOP: an empty timestamp */
    die_nomem();
  if (buffer_flush(&out) < 0) die_io(0);
  t0 = io_now_ms();
  if (tlson) r = poprun_tls(childargs, cred.s, cred.len, &tls, &in, &in_lim, logged_in);
  else if (ctl >= 0) r = popriv_ask(ctl, cred.s, cred.len, -1);   /* the socket is the child's */
  else r = poprun_plain(childargs, cred.s, cred.len, in_lim.deadline_ms);
  wipe(&cred);
  stralloc_free(&cred);
  if (r == POPRUN_OK) {
    if (!tlson) logged_in();
    _exit(0);   /* the session was the child's; TLS is closed */
  }
  if (in_lim.deadline_ms > 0 && io_now_ms() >= in_lim.deadline_ms) {   /* the child was killed */
    logrefusal(stage, "-", "session deadline");
    leave(111);
  }
  if (r == POPRUN_REFUSED) failed_after(stage, (unsigned long)(io_now_ms() - t0));   /* split: the parent has waited too */
  else refuse(stage, "temporary failure, try again later");
}

/* ---- commands ----------------------------------------------------- */

static void pop_quit(char *arg, size_t len)
{
  (void)arg; (void)len;
  reply("+OK bye");
  leave(0);
}

static void pop_capa(char *arg, size_t len)
{
  (void)arg; (void)len;
  reply("+OK capability list follows");
  if (login_ok()) { reply("USER"); reply("SASL PLAIN"); }
  if (!tlson && havecert()) reply("STLS");
  reply("TOP");
  reply("UIDL");
  reply(".");
}

static void pop_stls(char *arg, size_t len)
{
  (void)arg;
  if (len) { put("-ERR "); reply("STLS takes no argument"); return; }
  if (tlson) { put("-ERR "); reply("TLS is already active"); return; }
  if (prepare() < 0) { refuse("stls", "TLS not available due to temporary reason"); return; }
  discard();
  reply("+OK begin TLS negotiation");
  handshake();
  seenuser = 0;   /* what the client said in the clear is forgotten */
  user.len = 0;
}

static void pop_user(char *arg, size_t len)
{
  if (!login_ok()) { refuse("user", "login only after STLS: use STLS first (RFC 2595)"); return; }
  if (!len) { put("-ERR "); reply("USER needs a name"); return; }
  if (len > POPUP_USER) { refuse("user", "name too long"); return; }
  if (!stralloc_copyb(&user, arg, len)) die_nomem();
  seenuser = 1;
  reply("+OK ");
}

static void pop_pass(char *arg, size_t len)
{
  if (!login_ok()) { refuse("pass", "login only after STLS: use STLS first (RFC 2595)"); return; }
  if (!seenuser) { put("-ERR "); reply("USER first"); return; }
  attempt("pass", arg, len);
}

/* auth_response: the PLAIN response after "+ " (RFC 5034): 1 and m, or
 * 0 answered */
static int auth_response(stralloc *m)
{
  int r = getln(&in, &line, POPUP_LINE);
  size_t n;
  if (r == GETLN_TOOLONG) drop("auth", "line too long");
  if (r == GETLN_NOMEM) die_nomem();
  if (r == GETLN_ERR) die_io(0);
  if (r == GETLN_EOF) die_io(1);
  n = line.len;
  while (n && (line.s[n - 1] == '\n' || line.s[n - 1] == '\r')) --n;
  if (n == 1 && line.s[0] == '*') { put("-ERR "); reply("authentication cancelled"); return 0; }
  if (n == 1 && line.s[0] == '=') { m->len = 0; return 1; }
  r = smtpauth_b64(m, line.s, n);
  wipe(&line);
  if (r < 0) die_nomem();
  if (r == 0) failed("auth");
  return r > 0;
}

static void pop_auth(char *arg, size_t len)
{
  stralloc m = {0};
  size_t w = 0, i, u, ul, p, pl;
  int ok;
  while (w < len && arg[w] != ' ') ++w;
  i = w;
  while (i < len && arg[i] == ' ') ++i;
  if (!login_ok()) { refuse("auth", "login only after STLS: use STLS first (RFC 2595)"); return; }
  if (w != 5 || case_diffb(arg, 5, "PLAIN")) { put("-ERR "); reply("unrecognized authentication type"); return; }
  if (i < len) {
    int r = smtpauth_b64(&m, arg + i, len - i);
    if (r < 0) die_nomem();
    ok = r > 0;
    if (!ok) failed("auth");
  } else {
    reply("+ ");
    ok = auth_response(&m);
  }
  if (ok) {
    if (smtpauth_plain(m.s, m.len, &u, &ul, &p, &pl) && ul <= POPUP_USER) {
      if (!stralloc_copyb(&user, m.s + u, ul)) die_nomem();
      attempt("auth", m.s + p, pl);
    } else {
      failed("auth");
    }
  }
  wipe(&m);
  stralloc_free(&m);
}

static void pop_apop(char *arg, size_t len)
{
  (void)arg; (void)len;
  put("-ERR ");
  reply("APOP is not supported: only password hashes are stored");
}

static void pop_other(char *arg, size_t len)
{
  (void)arg; (void)len;
  put("-ERR ");
  reply("authorization first");
}

static const struct verb {
  const char *name;
  void (*fn)(char *arg, size_t len);
} verbs[] = {
  { "quit", pop_quit }, { "capa", pop_capa }, { "stls", pop_stls }, { "user", pop_user },
  { "pass", pop_pass }, { "auth", pop_auth }, { "apop", pop_apop }, { 0, pop_other },
};

/* command: one line (CR LF or LF cut off); the verb ends at the first
 * space, the rest is the argument (a password may hold spaces) */
static void command(char *s, size_t len)
{
  const struct verb *v;
  size_t w = 0;
  if (memchr(s, 0, len)) { refuse("command", "NUL in command"); return; }
  while (w < len && s[w] != ' ') ++w;
  for (v = verbs; v->name; ++v)
    if (strlen(v->name) == w && !case_diffb(s, w, v->name)) break;
  if (v->fn == pop_stls && (implicit() || (!tlson && !havecert()))) v = &verbs[sizeof verbs / sizeof *verbs - 1];
  v->fn(s + (w < len ? w + 1 : w), w < len ? len - w - 1 : 0);
}

static void session(void)
{
  for (;;) {
    int r = getln(&in, &line, POPUP_LINE);
    size_t n;
    if (r == GETLN_TOOLONG) drop("command", "line too long");
    if (r == GETLN_NOMEM) die_nomem();
    if (r == GETLN_ERR) die_io(0);
    if (r == GETLN_EOF) die_io(1);
    if (++ncmds > POPUP_CMDS) drop("command", "too many commands without a login");
    n = line.len;
    if (n && line.s[n - 1] == '\n') --n;
    if (n && line.s[n - 1] == '\r') --n;
    command(line.s, n);
    wipe(&line);   /* it may have held a password */
  }
}

/* ---- start -------------------------------------------------------- */

static void read_controls(void)
{
  srvconf_onfail(refuse_controls);   /* settings: srvconf.h */
  limit_onfail(srvconf_fail);
  in_lim.deadline_ms = out_lim.deadline_ms = srvconf_deadline();
  in_lim.timeout_ms = out_lim.timeout_ms = srvconf_timeout("timeoutpop3d", POPUP_TIMEOUT);
  if (control_readnum(&maxfail, "authfailures", 1) < 0) die_control("authfailures");
  if (control_readulong(&basedelay, "authdelay") < 0) die_control("authdelay");
}

/* parent: the privileged half: logins only, never a byte of the
 * client's; its exit code is the child's */
static void __attribute__((noreturn)) parent(int fd, pid_t child)
{
  int st;
  if (popriv_serve(fd, childargs, in_lim.deadline_ms, maxfail, basedelay) < 0) kill(child, SIGKILL);
  close(fd);
  while (waitpid(child, &st, 0) == -1)
    if (errno != EINTR) _exit(111);
  _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 111);
}

/* split: as root, fork; the parent stays root for the logins, the child
 * takes qmaild's ids before it reads a byte from the client */
static void split(void)
{
  struct passwd *pw;
  int sv[2];
  pid_t pid;
  if (getuid() != 0) return;   /* a normal user's home: one process */
  pw = getpwnam(POPUP_USER_IDS);
  if (!pw) {
    err_print("alert", 0, "no user " POPUP_USER_IDS " for the dialogue", (const char *)0);
    reply("-ERR temporary failure, try again later");
    leave(111);
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1 || (pid = fork()) == -1) {
    err_print("alert", errno, "unable to split", (const char *)0);
    reply("-ERR temporary failure, try again later");
    leave(111);
  }
  if (pid) { close(sv[1]); parent(sv[0], pid); }
  close(sv[0]);
  if (popriv_drop(pw->pw_uid, pw->pw_gid) < 0) {
    err_print("alert", errno, "unable to take the ids of " POPUP_USER_IDS, (const char *)0);
    _exit(111);
  }
  ctl = sv[1];
  poprun_split(ctl);
}

int main(int argc, char **argv)
{
  progname = "qmail-popup";
  srvfork(progname, preload);   /* $SERVE: listen as root, return per connection (srvfork.h) */
  signal(SIGPIPE, SIG_IGN);
  buffer_init(&in, (ssize_t (*)())read_op, 0, inbuf, sizeof inbuf);
  buffer_init(&out, (ssize_t (*)())write_op, 1, outbuf, sizeof outbuf);
  out.cookie = &out_lim;
  out_lim.timeout_ms = 60000;
  if (argc < 4 || !*argv[1]) {
    err_print("fatal", 0, "usage: qmail-popup hostname checkpassword subprogram [arg ...]", (const char *)0);
    reply("-ERR this server is not configured");
    leave(100);
  }
  hostname = argv[1];
  childargs = argv + 2;
  perip_gate(progname, implicit() ? 0 : "-ERR too many connections from your address\r\n");
  read_controls();
  split();
  if (implicit()) {   /* POP3S (RFC 8314): TLS before the greeting */
    if (prepare() < 0) leave(111);
    handshake();
  }
  put("+OK ");
  put(hostname);
  reply(" POP3 ready");
  session();
  return 0;
}
