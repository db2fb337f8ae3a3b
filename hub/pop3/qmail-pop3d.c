/* qmail-pop3d: the transaction state of a POP3 session (RFC 1939,
 * RFC 2449) on a Maildir, qmail's way: qmail-popup reads USER and PASS,
 * checkpassword switches to the user and chdirs to the home, then runs
 * "qmail-pop3d MAILDIR" (usually ./Maildir/) with the client on fd 0
 * and fd 1 (plain text: qmail-popup relays it when TLS is on).
 *
 * The first line written answers the client's PASS: "+OK \r\n" once the
 * Maildir is listed (pop3box.h: sizes counted as sent), or "-ERR ..." when it cannot be (then exit). qmail-pop3d always
 * exits 0 once it has run: whatever the client had to know it was told
 * (qmail-popup.8, docs/pop3.md).
 *
 * Commands: STAT, LIST [n], UIDL [n], RETR n, TOP n m, DELE n, NOOP,
 * RSET, LAST, CAPA, QUIT. Messages stream from their file through
 * pop3msg.h (CRLF, byte-stuffing) in bounded memory. DELE only marks:
 * at QUIT (the UPDATE state) the marked files are removed and the other
 * messages of new/ move to cur/; a session that ends any other way
 * changes nothing.
 *
 * Limits: a command line of at most POP3D_LINEMAX bytes with its CRLF
 * (RFC 2449 says 255); a longer one is answered -ERR and skipped (at most
 * POP3D_SKIPMAX bytes of it), and after POP3D_BADMAX bad lines (too
 * long, NUL) the session is dropped. control/timeoutpop3d seconds per
 * read or write (default 600, RFC 1939's ten minutes), timeoutsession
 * seconds for the whole session (q_limits.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "buffer.h"
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_getln.h"
#include "q_io.h"
#include "q_limits.h"
#include "q_sa.h"
#include "pop3box.h"
#include "pop3cmd.h"
#include "pop3msg.h"
#include "srvconf.h"

#define POP3D_LINEMAX 512
#define POP3D_SKIPMAX 65536
#define POP3D_BADMAX 3
#define POP3D_TIMEOUT 600

static struct io_limits lim;
static char inspace[4096];
static buffer in;
static char outspace[65536];
static buffer out;
static char fbuf[65536];
static struct pop3box box;
static size_t last;       /* LAST: highest message number read (RETR, TOP) */
static size_t nretr, ndele;
static unsigned long long octets;

/* ---- output ------------------------------------------------------------- */

/* leave: log why the session ended and exit 0 (the client was answered,
 * qmail-popup.8); with flushit, first send what is held, within the
 * usual limits (at least two seconds, the deadline may be what ended
 * the session). */
static void leave(const char *why, int flushit) __attribute__((noreturn));
static void leave(const char *why, int flushit)
{
  stralloc l = {0};
  if (flushit) {
    long long least = io_now_ms() + 2000;
    if (lim.deadline_ms && lim.deadline_ms < least) lim.deadline_ms = least;
    buffer_flush(&out);
  }
  if (why && stralloc_copys(&l, why) && stralloc_cats(&l, ": ") && sa_catnum(&l, nretr)
      && stralloc_cats(&l, " retrieved (") && sa_catnum(&l, octets)
      && stralloc_cats(&l, " octets), ") && sa_catnum(&l, ndele)
      && stralloc_cats(&l, " deleted") && stralloc_0(&l))
    err_print("info", 0, l.s, (const char *)0);
  _exit(0);
}
static void bye(const char *why) __attribute__((noreturn));
static void bye(const char *why) { leave(why, 1); }

static void gone(void) __attribute__((noreturn));
static void gone(void) { leave("client gone or too slow", 0); }

static void put(const char *s, size_t n) { if (buffer_put(&out, s, n) < 0) gone(); }
static void puts_(const char *s) { put(s, strlen(s)); }
static void putnum(unsigned long long n)
{
  char x[24];
  size_t i = sizeof x;
  do { x[--i] = (char)('0' + n % 10); n /= 10; } while (n);
  put(x + i, sizeof x - i);
}
static void ok(const char *s) { puts_("+OK "); puts_(s); puts_("\r\n"); }
static void err(const char *s) { puts_("-ERR "); puts_(s); puts_("\r\n"); }

/* early: the answer to PASS when the session cannot start. */
static void early(const char *reply, const char *what, int e) __attribute__((noreturn));
static void early(const char *reply, const char *what, int e)
{
  err_print("alert", e, what, (const char *)0);
  err(reply);
  lim.deadline_ms = 0;
  buffer_flush(&out);
  _exit(0);
}

/* refuse_controls: srvconf.h has logged the unusable setting */
static void refuse_controls(void) __attribute__((noreturn));
static void refuse_controls(void)
{
  err("[SYS/TEMP] unable to read controls");
  lim.deadline_ms = 0;
  buffer_flush(&out);
  _exit(0);
}

/* read_op: flush held replies unless input is already waiting, so a
 * pipelining client gets them batched and none is held while we block. */
static ssize_t read_op(int fd, char *buf, size_t len, void *b)
{
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  if (poll(&p, 1, 0) <= 0 && buffer_flush(&out) < 0) return -1;
  return io_bread(fd, buf, len, b);
}

/* ---- setup -------------------------------------------------------------- */

static void config(void)
{
  srvconf_onfail(refuse_controls);   /* settings: srvconf.h */
  limit_onfail(srvconf_fail);
  lim.timeout_ms = srvconf_timeout("timeoutpop3d", POP3D_TIMEOUT);
  lim.deadline_ms = srvconf_deadline();
}

static void warn_entry(const char *what, const char *name, int e)
{
  stralloc l = {0};
  if (stralloc_copys(&l, "left out ") && sa_catsafe(&l, name, strlen(name))
      && stralloc_cats(&l, ": ") && stralloc_cats(&l, what) && stralloc_0(&l))
    err_print("warning", e, l.s, (const char *)0);
  stralloc_free(&l);
}

static void start(const char *maildir)
{
  if (!maildir || !*maildir) early("[SYS/PERM] this user has no $HOME/Maildir", "usage: qmail-pop3d MAILDIR", 0);
  if (chdir(maildir) < 0) early("[SYS/PERM] this user has no $HOME/Maildir", "unable to chdir to Maildir", errno);
  box.warn = warn_entry;
  if (pop3box_scan(&box, time(0)) < 0)
    early("[SYS/TEMP] unable to scan $HOME/Maildir", "unable to scan Maildir", errno);
}

/* ---- commands ----------------------------------------------------------- */

static size_t live(unsigned long long *total)
{
  size_t i, n = 0;
  *total = 0;
  for (i = 0; i < box.n; ++i)
    if (!box.m[i].deleted) { ++n; *total += box.m[i].size; }
  return n;
}

/* msg: argument a of c as a message that is not deleted: 1 with *i. */
static int msg(const struct pop3_cmd *c, size_t a, size_t *i)
{
  int r = pop3_msgnum(c->arg[a], c->arglen[a], box.n, i);
  if (r == 0) { err("not a message number"); return 0; }
  if (r < 0) { err("no such message"); return 0; }
  if (box.m[*i].deleted) { err("message deleted"); return 0; }
  return 1;
}

static void do_stat(void)
{
  unsigned long long total;
  size_t n = live(&total);
  puts_("+OK "); putnum(n); puts_(" "); putnum(total); puts_("\r\n");
}

static void line_size(size_t i) { putnum(i + 1); puts_(" "); putnum(box.m[i].size); puts_("\r\n"); }
static void line_uid(size_t i)
{
  static stralloc u;
  u.len = 0;
  if (!pop3_uid(&u, pop3box_file(&box, i))) bye("out of memory");
  putnum(i + 1); puts_(" "); put(u.s, u.len); puts_("\r\n");
}

/* listing: LIST or UIDL, one message or all. */
static void listing(const struct pop3_cmd *c, void (*one)(size_t))
{
  size_t i;
  if (c->nargs == 1) {
    if (msg(c, 0, &i)) { puts_("+OK "); one(i); }
    return;
  }
  if (c->verb == POP3_LIST) {
    unsigned long long total;
    size_t n = live(&total);
    puts_("+OK "); putnum(n); puts_(" messages ("); putnum(total); puts_(" octets)\r\n");
  } else ok("unique-id listing follows");
  for (i = 0; i < box.n; ++i)
    if (!box.m[i].deleted) one(i);
  puts_(".\r\n");
}

static int sink(void *ctx, const char *s, size_t n)
{
  (void)ctx;
  put(s, n);
  return 0;
}

/* send: RETR (top 0) or TOP n lines. */
static void send_msg(size_t i, int top, unsigned long long lines)
{
  struct pop3msg pm;
  int fd = pop3box_open(&box, i), r;
  if (fd < 0) {
    warn_entry(errno == ENOENT ? "it vanished" : "cannot open", pop3box_path(&box, i), errno == ENOENT ? 0 : errno);
    err(errno == ENOENT ? "[SYS/TEMP] message vanished" : "[SYS/TEMP] unable to read message");
    return;
  }
  if (top) ok("top of message follows");
  else { puts_("+OK "); putnum(box.m[i].size); puts_(" octets\r\n"); }
  pop3msg_init(&pm, sink, 0, top, lines);
  r = pop3msg_fd(&pm, fd, fbuf, sizeof fbuf);
  close(fd);
  if (r < 0) leave("unable to read a message: dropped mid-reply", 0);
  puts_(".\r\n");
  if (i + 1 > last) last = i + 1;
  if (!top) { ++nretr; octets += pop3msg_size(&pm); }
}

static void do_top(const struct pop3_cmd *c)
{
  unsigned long long lines;
  size_t i;
  if (c->nargs != 2) { err("usage: TOP n lines"); return; }
  if (!msg(c, 0, &i)) return;
  if (!pop3_number(c->arg[1], c->arglen[1], &lines)) { err("not a line count"); return; }
  send_msg(i, 1, lines);
}

static void do_quit(void) __attribute__((noreturn));
static void do_quit(void)
{
  size_t i, failed = 0;
  for (i = 0; i < box.n; ++i) {
    if (!box.m[i].deleted) { pop3box_tocur(&box, i); continue; }  /* failing: stays in new/ */
    if (unlink(pop3box_path(&box, i)) == 0 || errno == ENOENT) { ++ndele; continue; }
    warn_entry("not removed", pop3box_path(&box, i), errno);
    ++failed;
  }
  if (failed) err("[SYS/TEMP] some deleted messages were not removed");
  else ok("");
  bye("quit");
}

static void do_capa(void)
{
  ok("capability list follows");
  puts_("TOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\nPIPELINING\r\n.\r\n");
}

/* arity: the argument counts each verb takes. */
static int arity(const struct pop3_cmd *c)
{
  switch (c->verb) {
    case POP3_LIST: case POP3_UIDL: return c->nargs <= 1;
    case POP3_RETR: case POP3_DELE: return c->nargs == 1;
    case POP3_TOP: return c->nargs == 2;
    default: return c->nargs == 0;
  }
}

static void command(const struct pop3_cmd *c)
{
  size_t i;
  if (c->verb == POP3_UNKNOWN) { err("unknown command"); return; }
  if (c->verb == POP3_AUTHSTATE) { err("already logged in"); return; }
  if (!arity(c)) { err("syntax error"); return; }
  switch (c->verb) {
    case POP3_STAT: do_stat(); break;
    case POP3_LIST: listing(c, line_size); break;
    case POP3_UIDL: listing(c, line_uid); break;
    case POP3_RETR: if (msg(c, 0, &i)) send_msg(i, 0, 0); break;
    case POP3_TOP: do_top(c); break;
    case POP3_DELE: if (msg(c, 0, &i)) { box.m[i].deleted = 1; ok("deleted"); } break;
    case POP3_NOOP: ok(""); break;
    case POP3_RSET:
      for (i = 0; i < box.n; ++i) box.m[i].deleted = 0;
      last = 0;
      ok("");
      break;
    case POP3_LAST: puts_("+OK "); putnum(last); puts_("\r\n"); break;
    case POP3_CAPA: do_capa(); break;
    case POP3_QUIT: do_quit();
    default: err("unknown command"); break;
  }
}

/* ---- the loop ------------------------------------------------------------ */

/* bad: one more bad line; the session ends after POP3D_BADMAX. */
static void bad(size_t *nbad, const char *reply)
{
  if (++*nbad < POP3D_BADMAX) { err(reply); return; }
  err("too many bad command lines");
  bye("dropped: bad command lines");
}

/* skip_rest: after a line over the cap, read to its LF (at most
 * POP3D_SKIPMAX bytes). */
static void skip_rest(stralloc *line)
{
  size_t skipped = line->len;
  for (;;) {
    int r = getln(&in, line, POP3D_LINEMAX);
    if (r == GETLN_LINE) return;
    if (r != GETLN_TOOLONG) bye("client gone without QUIT");
    skipped += line->len;
    if (skipped > POP3D_SKIPMAX) {
      err("closing: line far too long");
      bye("dropped: endless command line");
    }
  }
}

int main(int argc, char **argv)
{
  stralloc line = {0};
  struct pop3_cmd c;
  size_t nbad = 0;
  progname = "qmail-pop3d";
  signal(SIGPIPE, SIG_IGN);
  buffer_init(&out, (ssize_t (*)())io_bwrite, 1, outspace, sizeof outspace);
  out.cookie = &lim;
  lim.timeout_ms = 10000;  /* until config() has read the real one */
  config();
  start(argc > 1 ? argv[1] : 0);
  buffer_init(&in, (ssize_t (*)())read_op, 0, inspace, sizeof inspace);
  in.cookie = &lim;
  ok("");
  for (;;) {
    int r = getln(&in, &line, POP3D_LINEMAX);
    if (r == GETLN_TOOLONG) { bad(&nbad, "line too long"); skip_rest(&line); continue; }
    if (r == GETLN_NOMEM) bye("out of memory");
    if (r == GETLN_ERR) bye(errno == ETIMEDOUT ? "timeout" : "read error");
    if (r == GETLN_EOF) bye("client gone without QUIT");
    --line.len;
    if (line.len && line.s[line.len - 1] == '\r') --line.len;
    switch (pop3_parse(line.s, line.len, &c)) {
      case POP3_OK: command(&c); break;
      case POP3_NUL: bad(&nbad, "NUL in command"); break;
      case POP3_TOOMANY: err("syntax error"); break;
      default: err("empty command"); break;
    }
  }
}
